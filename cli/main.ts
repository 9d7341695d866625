/**
 * `bazar`: the store from a terminal. Reads and buys go through the frontend (--url / BAZAR_URL); admin commands
 * (orders, restock, update) and topics go to the catalog and order services with BAZAR_TOKEN.
 * Exit codes: 0 done, 1 refused (out of stock, not found, bad token), 2 usage, 3 a service is unavailable.
 */
import { parseArgs } from 'node:util';
import * as commands from './commands';
import { makeStyle } from './format';
import { CliError, EXIT, type Target } from './http';
import { MAX_PAGE_LIMIT } from '../common/paging';
import { MAX_AMOUNT } from '../common/schemas';
import { dollarsToCents } from './money';

const HELP = `Usage: bazar <command> [arguments] [options]

Commands:
  search <topic> [--limit N] [--all]   books on a topic, with price and stock: a page (20), or --all of them
  lookup <n>                           one book by item number
  buy <n>                              buy one copy of book n
  topics                               every topic the store has
  orders [--limit N] [--all]           orders, newest first: a page (100), or --all of them (admin)
  restock [--stock 5]                  set every book's stock (admin)
  update <n> [--stock N] [--price D]   change a book's stock and/or price in dollars, e.g. 12.50 (admin)

Options:
  --url URL            the store's frontend  (env BAZAR_URL, default http://127.0.0.1:3000)
  --catalog-url URL    the catalog service   (env BAZAR_CATALOG_URL, default http://127.0.0.1:3001)
  --order-url URL      the order service     (env BAZAR_ORDER_URL, default http://127.0.0.1:3002)
  --json               print the service's JSON answer instead of a table
  --limit N            how many per page, 1 to 1000 (--all walks every page, N at a time)
  --all                every page, following the listing's cursor to its end
  -h, --help           this help

Admin commands send the token in BAZAR_TOKEN.
Exit codes: 0 done, 1 refused (out of stock, not found, bad token), 2 usage error, 3 service unavailable.
`;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  colour: boolean;
}

const OPTIONS = {
  url: { type: 'string' },
  'catalog-url': { type: 'string' },
  'order-url': { type: 'string' },
  json: { type: 'boolean' },
  stock: { type: 'string' },
  price: { type: 'string' },
  limit: { type: 'string' },
  all: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Options each command takes besides the global ones. */
const COMMAND_OPTIONS: Record<string, { args: string[]; options: string[] }> = {
  search: { args: ['topic'], options: ['limit', 'all'] },
  lookup: { args: ['n'], options: [] },
  buy: { args: ['n'], options: [] },
  topics: { args: [], options: [] },
  orders: { args: [], options: ['limit', 'all'] },
  restock: { args: [], options: ['stock'] },
  update: { args: ['n'], options: ['stock', 'price'] },
};

const usage = (message: string) => new CliError(EXIT.usage, `${message} (see 'bazar --help')`);

function origin(raw: string, setting: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usage(`${setting} must be a URL like http://127.0.0.1:3000, got '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`${setting} must be an http:// URL, got '${raw}'`);
  return url.origin;
}

function itemNumber(raw: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(raw)) throw usage(`the item number must be a positive integer, got '${raw}'`);
  return Number(raw);
}

/** --limit: a page size the services accept. */
function pageSize(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE_LIMIT) {
    throw usage(`--limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}, got '${raw}'`);
  }
  return Number(raw);
}

function count(raw: string | undefined, name: string, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(raw) || Number(raw) > max) throw usage(`--${name} must be a whole number from 0 to ${max}, got '${raw}'`);
  return Number(raw);
}

type Env = Record<string, string | undefined>;

function targets(values: Record<string, unknown>, env: Env): commands.Targets {
  const token = env.BAZAR_TOKEN?.trim() || undefined;
  const pick = (option: string, variable: string, fallback: string): Target => {
    const setting = `--${option} or ${variable}`;
    const raw = (values[option] as string | undefined) ?? (env[variable]?.trim() || fallback);
    return { service: '', origin: origin(raw, setting), setting, token };
  };
  return {
    frontend: { ...pick('url', 'BAZAR_URL', 'http://127.0.0.1:3000'), service: 'store frontend', token: undefined },
    catalog: { ...pick('catalog-url', 'BAZAR_CATALOG_URL', 'http://127.0.0.1:3001'), service: 'catalog service' },
    order: { ...pick('order-url', 'BAZAR_ORDER_URL', 'http://127.0.0.1:3002'), service: 'order service' },
  };
}

async function dispatch(argv: string[], env: Env, io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage((err as Error).message.split('\n')[0].replace(/\.$/, ''));
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || command === 'help' || command === undefined) {
    (command === undefined && !values.help ? io.stderr : io.stdout)(HELP);
    return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
  }
  const spec = COMMAND_OPTIONS[command];
  if (!spec) throw usage(`unknown command '${command}'`);
  if (args.length !== spec.args.length) {
    throw usage(`'bazar ${command}' takes ${spec.args.length ? spec.args.map((a) => `<${a}>`).join(' ') : 'no arguments'}, got ${args.length}`);
  }
  for (const option of ['stock', 'price', 'limit', 'all'] as const) {
    if (values[option] !== undefined && !spec.options.includes(option)) throw usage(`'bazar ${command}' takes no --${option}`);
  }
  const t = targets(values, env);
  const style = makeStyle(io.colour && !values.json);
  let out: commands.Output;
  switch (command) {
    case 'search':
      if (args[0].trim() === '') throw usage('the topic must not be empty');
      out = await commands.search(t, args[0], { limit: pageSize(values.limit), all: values.all === true }, style);
      break;
    case 'lookup':
      out = await commands.lookup(t, itemNumber(args[0]), style);
      break;
    case 'buy':
      out = await commands.buy(t, itemNumber(args[0]), style);
      break;
    case 'topics':
      out = await commands.topics(t, style);
      break;
    case 'orders':
      out = await commands.orders(t, { limit: pageSize(values.limit), all: values.all === true }, style);
      break;
    case 'restock':
      out = await commands.restock(t, count(values.stock, 'stock', MAX_AMOUNT), style);
      break;
    default: {
      const n = itemNumber(args[0]);
      const stock = count(values.stock, 'stock', MAX_AMOUNT);
      let price_cents: number | undefined;
      if (values.price !== undefined) {
        price_cents = dollarsToCents(values.price);
        if (price_cents === undefined) {
          throw usage(`--price must be dollars with at most two decimals, like 12.50, got '${values.price}'`);
        }
      }
      if (stock === undefined && price_cents === undefined) throw usage("'bazar update' needs --stock, --price or both");
      out = await commands.update(t, n, { ...(stock === undefined ? {} : { stock }), ...(price_cents === undefined ? {} : { price_cents }) }, style);
    }
  }
  io.stdout(values.json ? `${JSON.stringify(out.json, null, 2)}\n` : out.text);
  return EXIT.ok;
}

/** Runs one command line; never throws: failures become one line on stderr and an exit code. */
export async function main(argv: string[], env: Env, io: Io): Promise<number> {
  try {
    return await dispatch(argv, env, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr(`bazar: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`bazar: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return 70;
  }
}

/** The process entry (bin/bazar.js): the only place the CLI touches process.argv, env and the exit code. */
export function run(): void {
  const colour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  void main(process.argv.slice(2), process.env, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    colour,
  }).then((code) => {
    // exitCode rather than exit(): a piped stdout is flushed first.
    process.exitCode = code;
  });
}

if (require.main === module) run();
