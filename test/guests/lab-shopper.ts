/**
 * Shoppers inside the lab, run in a namespace of it (`ip netns exec <ns> node -r ts-node/register/transpile-only
 * lab-shopper.ts '<json>'`), since the test's own namespace has no route there. Each worker buys as a careful client
 * does (test/helpers/shopper.ts: a key per buy, retried with it on no answer or 503), then looks a book up, again and
 * again until its standard input ends; then the buys under way finish and the histories and lookups are printed as
 * one JSON object.
 */
import { Shopper, type BuyHistory } from '../helpers/shopper';

export interface LabShopperOptions {
  /** The frontend's origin. */
  url: string;
  items: number[];
  /** Idempotency keys are `<keyPrefix>-<n>`. */
  keyPrefix: string;
  workers: number;
  /** Pause between one worker's rounds. */
  pauseMs: number;
}

export interface Lookup {
  at: number;
  status: number;
  ms: number;
}

export interface LabShopperReport {
  histories: BuyHistory[];
  lookups: Lookup[];
}

async function main(options: LabShopperOptions): Promise<LabShopperReport> {
  // Generous retries: a buy that meets a database failover is retried with its key until writes are back.
  const shopper = new Shopper({ urls: [options.url], timeoutMs: 5000, maxRetries: 40, maxBackoffMs: 1000 });
  let stopping = false;
  process.stdin.on('end', () => (stopping = true));
  process.stdin.resume();
  const histories: BuyHistory[] = [];
  const lookups: Lookup[] = [];
  let n = 0;
  const worker = async () => {
    while (!stopping) {
      const item = options.items[n % options.items.length];
      histories.push(await shopper.buy(item, `${options.keyPrefix}-${n++}`));
      const started = Date.now();
      const answer = await shopper.send('GET', `/lookup/${options.items[n % options.items.length]}`);
      lookups.push({ at: started, status: answer.status, ms: Date.now() - started });
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: options.workers }, worker));
  await shopper.close();
  return { histories, lookups };
}

main(JSON.parse(process.argv[2]) as LabShopperOptions).then(
  (report) => process.stdout.write(JSON.stringify(report)),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
