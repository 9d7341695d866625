import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { prettyFactory } from 'pino-pretty';

/**
 * What `npm start` shows a person at a terminal. The services always write JSON lines (pm2's log files and every
 * deployment keep them whole); only this view of them is made readable, and quiet.
 */
export interface LogView {
  colour: boolean;
  /**
   * Lines logged while serving a request (they carry a reqId) are shown from this pino level up: 40 (warn) unless
   * LOG_LEVEL asked for more. Start-up, shutdown and other service lines are always shown.
   */
  requestLevel: number;
}

type Env = Record<string, string | undefined>;

const WARN = 40;
const ERROR = 50;

/**
 * LOG_FORMAT=pretty or json chooses; otherwise a terminal gets the pretty view and a pipe or file the JSON itself
 * (undefined: pass the lines through untouched). Setting LOG_LEVEL shows every request line at that level.
 */
export function chooseLogView(env: Env, isTTY: boolean): LogView | undefined {
  const format = env.LOG_FORMAT?.trim().toLowerCase() || (isTTY ? 'pretty' : 'json');
  if (format !== 'pretty' && format !== 'json') throw new Error(`LOG_FORMAT must be pretty or json, got '${env.LOG_FORMAT}'`);
  if (format === 'json') return undefined;
  return { colour: isTTY && !env.NO_COLOR, requestLevel: env.LOG_LEVEL?.trim() ? 0 : WARN };
}

/** One line as the view shows it (with its newline), or undefined when the view hides it. */
export function viewLine(line: string, view: LogView, pretty: (record: object) => string): string | undefined {
  let record: { level?: unknown; reqId?: unknown; err?: unknown } | undefined;
  try {
    record = line.startsWith('{') ? (JSON.parse(line) as typeof record) : undefined;
  } catch {
    record = undefined;
  }
  // pm2's own lines, a stack trace printed by Node: shown as they are.
  if (record === undefined || typeof record.level !== 'number') return `${line}\n`;
  if (record.reqId !== undefined && record.level < view.requestLevel) return undefined;
  // A warning's error (a refused connection while another service starts) says enough in its message; an error keeps
  // its stack.
  const err = record.err as { message?: unknown } | undefined;
  if (record.level < ERROR && typeof err?.message === 'string') record.err = err.message;
  return pretty(record);
}

/** Copies `input` to `output` line by line through the view: one short line per record, the service named first. */
export function pipeLogView(input: Readable, output: Writable, view: LogView): void {
  const pretty = prettyFactory({
    colorize: view.colour,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    messageFormat: '{service}: {msg}',
    singleLine: true,
  });
  createInterface({ input, crlfDelay: Infinity }).on('line', (line) => {
    const shown = viewLine(line, view, pretty);
    if (shown !== undefined) output.write(shown);
  });
}
