/**
 * The Vagrant deployment without VMs: three hosts with exactly the Vagrantfile's IPs (provision/hosts.json), each a
 * network namespace provisioned by the real provision/install-node.sh and provision/install-app.sh with its own
 * PM2_HOME, plus a client namespace playing the Vagrant host (the first address of the network). The test's own
 * process stays in the root namespace, which has no route into the lab, so every request to the lab is made from
 * the client namespace (http-probe.js, and the e2e suite run there).
 *
 * Needs root and iproute2: skipped with a loud message otherwise, but failed when CI=true.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../common/paths';
import { tempDir } from '../helpers/stack';
import { NetnsLab, labUnavailableReason, mustRun, removeStaleLabs, run, type CommandResult } from './netns-lab';

type Role = 'catalog' | 'order' | 'frontend';
interface HostSettings {
  ip: string;
  port: number;
  memory_mb: number;
  cpus: number;
}

const ROOT = projectRoot(__dirname);
const SETTINGS = JSON.parse(readFileSync(join(ROOT, 'provision', 'hosts.json'), 'utf8')) as {
  network: string;
  hosts: Record<Role, HostSettings>;
};
const ROLES: Role[] = ['catalog', 'order', 'frontend'];
const HOSTS = SETTINGS.hosts;
/** Where the Vagrant host sits on a host-only network: the first address. */
const CLIENT_IP = SETTINGS.network.replace(/\.\d+\/\d+$/, '.1');
const url = (role: Role) => `http://${HOSTS[role].ip}:${HOSTS[role].port}`;
const PM2 = join(ROOT, 'node_modules', '.bin', 'pm2');
const PROBE = join(__dirname, 'http-probe.js');
const MOCHA = join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');

interface ProbeRequest {
  method?: 'GET' | 'POST' | 'PUT';
  url: string;
  token?: string;
  timeoutMs?: number;
}
interface ProbeResult {
  status?: number;
  error?: string;
  ms: number;
  json?: any;
}
interface Pm2Process {
  name: string;
  pid: number;
  pm2_env: { status: string; restart_time: number };
}

/** Namespaces are named `bazardeploy<test PID>-<host>`; the PID tells a live run's from a stale one's. */
const LAB_PREFIX = 'bazardeploy';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('deploy: three hosts in network namespaces, provisioned by provision/*.sh and run by pm2', function () {
  this.timeout(180_000);
  const token = randomBytes(32).toString('hex');
  let lab: NetnsLab | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  let isolation = '';
  const provisionOutput: Partial<Record<Role, { node: CommandResult; app: CommandResult }>> = {};

  const dirs = (role: Role) => {
    const base = join(tmp!.dir, role);
    return {
      app: join(base, 'opt', 'bazar'),
      data: join(base, 'var', 'lib', 'bazar'),
      env: join(base, 'etc', 'bazar'),
      pm2: join(base, 'pm2'),
    };
  };

  const hostEnv = (role: Role): NodeJS.ProcessEnv => ({
    // pm2 from the project's node_modules plays the globally installed one of a real guest.
    PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: process.env.HOME ?? '/root',
    PM2_HOME: dirs(role).pm2,
  });

  function provision(role: Role): Promise<CommandResult> {
    const d = dirs(role);
    return run('ip', lab!.exec(role, 'bash', join(ROOT, 'provision', 'install-app.sh'), role), {
      env: {
        ...hostEnv(role),
        BAZAR_SRC: ROOT,
        BAZAR_APP_DIR: d.app,
        BAZAR_DATA_DIR: d.data,
        BAZAR_ENV_DIR: d.env,
        BAZAR_USER: userInfo().username,
        BAZAR_BOOT: 'none',
        BAZAR_REUSE_NODE_MODULES: '1',
        BAZAR_TOKEN: token,
      },
      timeoutMs: 120_000,
    });
  }

  async function pm2List(role: Role): Promise<Pm2Process[]> {
    const out = await mustRun('ip', lab!.exec(role, PM2, 'jlist'), { env: hostEnv(role), timeoutMs: 20_000 });
    return JSON.parse(out.slice(out.indexOf('['))) as Pm2Process[];
  }

  async function probe(requests: ProbeRequest[]): Promise<ProbeResult[]> {
    const out = await mustRun('ip', lab!.exec('client', process.execPath, PROBE, JSON.stringify(requests)), {
      timeoutMs: 60_000,
    });
    return JSON.parse(out) as ProbeResult[];
  }

  /** Every book's stock and price at the catalog, and every order at the order server. */
  async function snapshot() {
    const results = await probe([
      ...[1, 2, 3, 4].map((n) => ({ url: `${url('catalog')}/query_by_item_number/${n}` })),
      { url: `${url('order')}/orders?limit=1000`, token },
    ]);
    for (const r of results) expect(r.status, JSON.stringify(r)).to.equal(200);
    return { books: results.slice(0, 4).map((r) => r.json), orders: results[4].json.orders };
  }

  async function waitFor<T>(what: string, ms: number, attempt: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await attempt();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await sleep(250);
    }
  }

  before(async function () {
    const reason = await labUnavailableReason();
    if (reason) {
      if (process.env.CI === 'true') throw new Error(`the three-host deployment test cannot run: ${reason}; CI must run it`);
      console.warn(`\n  !!!!!!!!\n  !!! SKIPPED: the three-host deployment test: ${reason}.\n  !!! Run it as root (CI=true makes this a failure).\n  !!!!!!!!\n`);
      this.skip();
    }
    for (const note of await removeStaleLabs(LAB_PREFIX)) console.warn(`      ${note}`);
    tmp = tempDir('bazar-deploy-');
    lab = new NetnsLab(`${LAB_PREFIX}${process.pid}`, SETTINGS.network, [
      ...ROLES.map((role) => ({ name: role, ip: HOSTS[role].ip })),
      { name: 'client', ip: CLIENT_IP },
    ]);
    await lab.create();
    // Before any packet: proven isolated, or nothing runs.
    isolation = await lab.verifyIsolation();

    // As `vagrant up` does it: catalog, order, frontend; on each, install-node.sh then install-app.sh.
    for (const role of ROLES) {
      const started = Date.now();
      const node = await run('ip', lab.exec(role, 'bash', join(ROOT, 'provision', 'install-node.sh')), {
        env: { ...hostEnv(role), BAZAR_SRC: ROOT },
        timeoutMs: 30_000,
      });
      const app = await provision(role);
      provisionOutput[role] = { node, app };
      if (node.code !== 0 || app.code !== 0) {
        throw new Error(`provisioning ${role} failed:\n${node.stdout}${node.stderr}\n${app.stdout}${app.stderr}`);
      }
      console.log(`      provisioned ${role} in ${Date.now() - started} ms`);
    }
  });

  after(async function () {
    this.timeout(60_000);
    if (!lab) return;
    for (const role of ROLES) {
      const pidFile = join(dirs(role).pm2, 'pm2.pid');
      if (existsSync(pidFile)) await run('ip', lab.exec(role, PM2, 'kill'), { env: hostEnv(role), timeoutMs: 20_000 });
    }
    for (const note of await lab.destroy()) console.warn(`      teardown: ${note}`);
    tmp?.remove();
  });

  it('when the lab is built, then no namespace has a default route and the root namespace has no route into the network', async () => {
    expect(isolation).to.include('without a default route');
    expect(await lab!.verifyIsolation()).to.equal(isolation);
    for (const role of ROLES) {
      const addr = await mustRun('ip', ['-n', lab!.ns(role), '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      expect(addr).to.include(`inet ${HOSTS[role].ip}/`);
    }
  });

  it('when each host is provisioned, then install-node skips and only that host role runs under pm2, in that host', async () => {
    for (const role of ROLES) {
      const { node } = provisionOutput[role]!;
      expect(node.stdout).to.match(/skipping the Node install/);
      expect(node.stdout).to.match(/skipping the pm2 install/);

      const list = await pm2List(role);
      expect(list.map((p) => [p.name, p.pm2_env.status])).to.deep.equal([[role, 'online']]);
      expect(await lab!.namespaceOf(list[0].pid)).to.equal(lab!.ns(role));
      // What `pm2 resurrect` would start at boot: this role alone.
      const dump = JSON.parse(readFileSync(join(dirs(role).pm2, 'dump.pm2'), 'utf8')) as Array<{ name: string }>;
      expect(dump.map((p) => p.name)).to.deep.equal([role]);

      const envFile = join(dirs(role).env, `${role}.env`);
      expect(statSync(envFile).mode & 0o777).to.equal(0o640);
      const env = readFileSync(envFile, 'utf8');
      expect(env).to.include(`CATALOG_URL=${url('catalog')}\n`);
      expect(env).to.include(`ORDER_URL=${url('order')}\n`);
      expect(env).to.include(`BAZAR_TOKEN=${token}\n`);
      expect(env).to.include('HOST=0.0.0.0\n');
    }
    expect(existsSync(join(dirs('catalog').data, 'catalog.db'))).to.equal(true);
    expect(existsSync(join(dirs('order').data, 'orders.db'))).to.equal(true);
    expect(existsSync(join(dirs('frontend').app, 'dist', 'frontend-server', 'server.js'))).to.equal(true);
  });

  it('when the e2e suite runs from the client against the frontend host, then search, lookup, buy, out-of-stock and restock pass', async () => {
    const started = Date.now();
    const result = await run(
      'ip',
      lab!.exec('client', process.execPath, MOCHA, '--no-config', '--require', 'ts-node/register/transpile-only',
        '--extension', 'ts', '--timeout', '20000', '--reporter', 'json', 'test/e2e/store.e2e.test.ts'),
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          BAZAR_URL: url('frontend'),
          BAZAR_CATALOG_URL: url('catalog'),
          BAZAR_TOKEN: token,
        },
        timeoutMs: 120_000,
      },
    );
    const report = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as {
      stats: { passes: number; failures: number; pending: number };
      tests: Array<{ title: string }>;
      failures: Array<{ title: string; err: { message: string } }>;
    };
    console.log(`      e2e from the client namespace: ${report.stats.passes} passing in ${Date.now() - started} ms`);
    expect(report.failures.map((f) => `${f.title}: ${f.err.message}`)).to.deep.equal([]);
    expect(result.code).to.equal(0);
    expect(report.stats.pending).to.equal(0);
    const titles = report.tests.map((t) => t.title).join('\n');
    for (const topic of [/searching a topic/, /looking up a book/, /buying a book/, /past its stock/, /restock/]) {
      expect(titles).to.match(topic);
    }
  });

  it('when the catalog server is SIGKILLed, then pm2 brings it back on its host with stock and orders unchanged', async () => {
    // A buy right before the kill: its write must survive too.
    const [bought] = await probe([{ method: 'POST', url: `${url('frontend')}/buy/1` }]);
    expect(bought.status, JSON.stringify(bought)).to.equal(201);
    const before = await snapshot();
    const [old] = await pm2List('catalog');

    process.kill(old.pid, 'SIGKILL');
    const started = Date.now();
    const restarted = await waitFor('pm2 to restart the catalog', 20_000, async () => {
      const [p] = await pm2List('catalog');
      return p && p.pid && p.pid !== old.pid && p.pm2_env.status === 'online' ? p : undefined;
    });
    await waitFor('the restarted catalog to answer', 20_000, async () => {
      const [ready] = await probe([{ url: `${url('catalog')}/readyz`, timeoutMs: 1000 }]);
      return ready.status === 200 ? true : undefined;
    });
    console.log(`      catalog back after SIGKILL in ${Date.now() - started} ms (PID ${old.pid} -> ${restarted.pid})`);

    expect(restarted.pm2_env.restart_time).to.equal(old.pm2_env.restart_time + 1);
    expect(await lab!.namespaceOf(restarted.pid)).to.equal(lab!.ns('catalog'));
    const after = await snapshot();
    expect(after).to.deep.equal(before);
    const [purchase] = await probe([{ url: `${url('catalog')}/purchases/${bought.json.order_id}`, token }]);
    expect(purchase.status).to.equal(200);
    expect(purchase.json).to.include({ item_number: 1, outcome: 'purchased' });
  });

  it('when the catalog host is provisioned again, then the code is replaced and the database is kept', async () => {
    const before = await snapshot();
    const marker = join(dirs('catalog').app, 'left-by-the-old-install');
    writeFileSync(marker, 'x');

    const again = await provision('catalog');
    expect(again.code, `${again.stdout}\n${again.stderr}`).to.equal(0);
    expect(again.stdout).to.include('stopped the running catalog');

    expect(existsSync(marker)).to.equal(false);
    expect((await pm2List('catalog')).map((p) => [p.name, p.pm2_env.status])).to.deep.equal([['catalog', 'online']]);
    expect(await snapshot()).to.deep.equal(before);
  });

  it('when the order host is cut off, then search and lookup still work, buy answers 503 within 2 s, and buy works again once it is back', async () => {
    await lab!.setLink('order', false);
    let cut: ProbeResult[];
    try {
      cut = await probe([
        { url: `${url('frontend')}/search/distributed-systems` },
        { url: `${url('frontend')}/lookup/2` },
        { method: 'POST', url: `${url('frontend')}/buy/2` },
      ]);
    } finally {
      await lab!.setLink('order', true);
    }
    const [search, lookup, buy] = cut;
    expect(search.status, JSON.stringify(search)).to.equal(200);
    expect(search.json.items.map((b: { id: number }) => b.id)).to.deep.equal([1, 2]);
    expect(lookup.status, JSON.stringify(lookup)).to.equal(200);
    expect(lookup.json.id).to.equal(2);
    console.log(`      buy with the order host cut off: ${buy.status} in ${buy.ms} ms`);
    expect(buy.status, JSON.stringify(buy)).to.equal(503);
    expect(buy.json.error.code).to.equal('upstream_unavailable');
    expect(buy.ms).to.be.below(2000);

    const again = await waitFor('a buy to succeed after the link is back', 15_000, async () => {
      const [res] = await probe([{ method: 'POST', url: `${url('frontend')}/buy/2` }]);
      return res.status === 201 ? res : undefined;
    });
    expect(again.json).to.include({ item_number: 2, status: 'confirmed' });
  });
});
