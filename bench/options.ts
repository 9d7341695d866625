import { join, resolve } from 'node:path';

export interface Options {
  durationS: number;
  warmupS: number;
  connections: number;
  out: string;
  only?: string[];
  profile: boolean;
  /** Skip the PostgreSQL scenarios (they also skip, with a note, when the PostgreSQL binaries are missing). */
  postgres: boolean;
  /** The rates the capacity model sizes the tiers for. */
  model: { lookups: number; buys: number; hitRatio: number };
}

export const USAGE = `npm run bench [-- options]
  --quick                  3 s per scenario, 1 s warm-up
  --duration <s>           seconds per scenario (default 10)
  --warmup <s>             warm-up seconds before each (default 2)
  --connections <n>        concurrent connections (default 64)
  --only <a,b>             these scenarios (and the baseline)
  --no-postgres            skip the PostgreSQL scenarios
  --model lookups=<n>,buys=<n>,hit=<0..1>
                           the rates the capacity model sizes the tiers for (default lookups=20000,buys=2000,hit=0.95)
  --profile                node --cpu-prof profiles of every server under <out>/profiles
  --out <dir>              where the JSON and SVG go (default bench/results)
npm run bench -- --scale [options]  how cost grows with the catalog and the ledger (options: bench/scale.ts)`;

export function parseArgs(argv: string[], root: string): Options {
  const options: Options = {
    durationS: 10,
    warmupS: 2,
    connections: 64,
    out: join(root, 'bench', 'results'),
    profile: false,
    postgres: true,
    model: { lookups: 20_000, buys: 2_000, hitRatio: 0.95 },
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    };
    if (arg === '--quick') (options.durationS = 3), (options.warmupS = 1);
    else if (arg === '--duration') options.durationS = Number(next());
    else if (arg === '--warmup') options.warmupS = Number(next());
    else if (arg === '--connections') options.connections = Number(next());
    else if (arg === '--out') options.out = resolve(next());
    else if (arg === '--only') options.only = next().split(',');
    else if (arg === '--profile') options.profile = true;
    else if (arg === '--no-postgres') options.postgres = false;
    else if (arg === '--model') options.model = parseModel(next());
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  if (!(options.durationS > 0) || !(options.connections > 0) || !(options.warmupS >= 0)) throw new Error('duration and connections must be positive');
  return options;
}

function parseModel(raw: string): Options['model'] {
  const fields = new Map(raw.split(',').map((part) => part.split('=') as [string, string]));
  const lookups = Number(fields.get('lookups') ?? NaN);
  const buys = Number(fields.get('buys') ?? NaN);
  const hitRatio = Number(fields.get('hit') ?? 0.95);
  if (!(lookups >= 0 && buys >= 0 && hitRatio >= 0 && hitRatio <= 1)) throw new Error(`--model wants lookups=<n>,buys=<n>,hit=<0..1>, got ${raw}`);
  return { lookups, buys, hitRatio };
}
