/** The report's users type topics into URLs: "distributed-systems", "Distributed_Systems" and "distributed systems" are one topic. */
export function normalizeTopic(raw: string): string {
  return raw.replace(/[-_]/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase();
}
