import { MAX_AMOUNT } from '../common/schemas';

/**
 * "12.50" → 1250, exactly: the digits are split at the point and never go through a binary float, so "0.29"
 * is 29, not 28.999…. Accepts an optional leading "$" and at most two decimals; returns undefined otherwise.
 */
export function dollarsToCents(raw: string): number | undefined {
  const match = /^\$?(\d{1,8})(?:\.(\d{1,2}))?$/.exec(raw.trim());
  if (!match) return undefined;
  const cents = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return cents <= MAX_AMOUNT ? cents : undefined;
}

export function formatCents(cents: number | null | undefined): string {
  if (cents === null || cents === undefined) return '-';
  return `$${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}
