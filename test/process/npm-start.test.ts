import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../../support/ports';
import { refused, runForeground, type Foreground } from '../helpers/foreground';
import { tempDir } from '../helpers/stack';

type Started = Foreground & { url: string };

/** Runs `npm start`'s script (scripts/start.js) on free ports and waits for it to print the store's URL. */
async function npmStart(env: Record<string, string>): Promise<Started> {
  const run = await runForeground('scripts/start.js', env, /the store is open at (http:\/\/\S+)/);
  return { ...run, url: run.match[1] };
}

describe('npm start: all three services under pm2-runtime', function () {
  this.timeout(90_000);

  it('when started, then the store works; Ctrl-C stops all three; started again, the data is still there', async () => {
    const tmp = tempDir('bazar-start-');
    const [frontend, catalog, order] = await freePorts(3);
    const env = {
      BAZAR_DATA_DIR: tmp.dir,
      FRONTEND_PORT: String(frontend),
      CATALOG_PORT: String(catalog),
      ORDER_PORT: String(order),
    };
    let run: Started | undefined;
    try {
      // As in a terminal (which a test cannot be): pretty lines, and of the requests only warnings and errors.
      run = await npmStart({ ...env, LOG_FORMAT: 'pretty' });
      expect(run.url).to.equal(`http://127.0.0.1:${frontend}/`);
      const buy = await fetch(`${run.url}buy/2`, { method: 'POST' });
      expect(buy.status).to.equal(201);
      // A token was generated for the children: the catalog refuses writes without it.
      const write = await fetch(`http://127.0.0.1:${catalog}/restock`, { method: 'POST' });
      expect(write.status).to.equal(401);

      run.child.kill('SIGINT');
      expect(await run.exited).to.equal(0);
      for (const port of [frontend, catalog, order]) expect(await refused(`http://127.0.0.1:${port}/healthz`)).to.equal(true);
      expect(existsSync(join(tmp.dir, 'catalog.db'))).to.equal(true);
      expect(existsSync(join(tmp.dir, 'orders.db'))).to.equal(true);
      expect(run.output.some((line) => /^\[[\d:.]+\] INFO: frontend: Server listening at /.test(line)), run.output.join('\n')).to.equal(true);
      expect(run.output.filter((line) => line.startsWith('{'))).to.deep.equal([]);
      expect(run.output.filter((line) => line.includes('request completed'))).to.deep.equal([]);
      // pm2's own log file keeps every line, as JSON.
      const logs = join(tmp.dir, 'pm2', 'logs');
      const frontendLog = readdirSync(logs).find((name) => /^frontend-out(-\d+)?\.log$/.test(name));
      const pm2Log = readFileSync(join(logs, frontendLog!), 'utf8').trim().split('\n');
      expect(pm2Log.some((line) => JSON.parse(line).msg === 'request completed')).to.equal(true);

      // Piped and not asked for pretty: the JSON lines themselves.
      run = await npmStart(env);
      const book = (await (await fetch(`${run.url}lookup/2`)).json()) as { stock: number };
      expect(book.stock).to.equal(4);
      run.child.kill('SIGINT');
      expect(await run.exited).to.equal(0);
      const json = run.output.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { service: string; msg: string });
      expect(json.some((r) => r.service === 'frontend' && r.msg === 'request completed')).to.equal(true);
    } finally {
      if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
      tmp.remove();
    }
  });
});
