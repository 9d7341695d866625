/**
 * `npm run test:guests`: the Vagrant deployment on booted systemd guests instead of VMs. One Debian 12 root
 * filesystem (built once, cached), one overlay per guest of provision/hosts.json's `single` topology (the replicated
 * one has its own test, replicated-guests.test.ts), each booted by systemd-nspawn in its own network namespace with its hosts.json address; the host sits at
 * the network's host address, as a laptop does on a host-only network. Each guest is provisioned the way the
 * Vagrantfile does it: the project read-only at /vagrant, a `vagrant` user, the real install-node.sh,
 * install-firewall.sh and install-app.sh as root, the token in the app provisioner's environment. The guests have
 * no route out, so Node 24 is in the root filesystem beforehand (install-node.sh's "Node already present" path) and
 * npm installs from a cache prepared on the host (`npm ci --offline`, better-sqlite3 compiled in every guest: this is
 * the test that proves the real npm ci path on each guest).
 *
 * Needs root, mmdebstrap, systemd-container (systemd-nspawn), iproute2 and overlayfs: skipped with a loud message
 * otherwise, failed when CI=true. Prints its timings (root filesystem, npm cache, boot, provisioning, reboot).
 */
import { expect } from 'chai';
import { projectRoot } from '../../common/paths';
import { waitForValue } from '../helpers/wait';
import { runDir } from './cache';
import { expectE2ePassed, GuestLab, topologyModule, type ProbeResult, type Provisioned, type TopologyGuest } from './guest-lab';
import { SCRIPT_LOG_DIR } from './rootfs';
import { guestImages, guestsOrSkip, LAB_PREFIX, POLL_MS, seconds } from './setup';

const ROOT = projectRoot(__dirname);

describe('guests: the Vagrant deployment on booted systemd guests, provisioned by provision/*.sh', function () {
  this.timeout(20 * 60_000);
  const topology = topologyModule.loadTopology({ name: 'single' });
  const provisioned = new Map<string, Provisioned>();
  let lab: GuestLab | undefined;

  const one = (role: TopologyGuest['role']) => lab!.guestsOf(role)[0];
  const pm2List = async (g: TopologyGuest) => {
    const out = await lab!.guest(g.name).mustExec(['pm2', 'jlist'], { user: 'vagrant' });
    return JSON.parse(out.slice(out.indexOf('['))) as Array<{ name: string; pid: number; pm2_env: { status: string; restart_time: number } }>;
  };
  const expectOk = (r: ProbeResult) => expect(r.status, JSON.stringify(r)).to.equal(200);

  /** Every book at the catalog (from the host, an admin client) and every order (from a frontend guest). */
  async function snapshot() {
    const books = await lab!.probe('host', [1, 2, 3, 4].map((n) => ({ url: `${lab!.url(one('catalog'))}/query_by_item_number/${n}` })));
    const [orders] = await lab!.probe(one('frontend').name, [{ url: `${lab!.url(one('order'))}/orders?limit=1000`, token: lab!.token }]);
    [...books, orders].forEach(expectOk);
    return { books: books.map((b) => b.json), orders: orders.json.orders as Array<{ order_id: string }> };
  }

  before(async function () {
    await guestsOrSkip(this, 'the systemd guest test');
    const images = await guestImages(ROOT);
    lab = new GuestLab(topology, `${LAB_PREFIX}${process.pid}`, runDir(images.cache), images.rootfs, images.npmCache, ROOT);
    console.log(`      ${await lab.create()}`);
    let t = Date.now();
    for (const booted of await lab.bootAll()) {
      if (booted.failed) console.warn(`      ${booted.name} booted ${booted.state}; failed units:\n${booted.failed}`);
    }
    console.log(`      boot: ${topology.guests.length} guests in ${seconds(Date.now() - t)}`);
    // All guests at once: `vagrant up` goes one after the other, but each guest's scripts wait only for its own
    // service, and compiling better-sqlite3 three times in a row would take twice as long on 2 cores.
    t = Date.now();
    await Promise.all(topology.guests.map(async (g) => {
      const started = Date.now();
      provisioned.set(g.name, await lab!.provision(g));
      console.log(`      provision ${g.name}: ${seconds(Date.now() - started)}`);
    }));
    console.log(`      provision: all ${topology.guests.length} guests in ${seconds(Date.now() - t)}`);
  });

  after(async function () {
    this.timeout(120_000);
    if (lab) for (const note of await lab.destroy()) console.warn(`      teardown: ${note}`);
  });

  it('when provisioned, then Node 24 was already there, pm2 came from the offline cache, npm ci compiled better-sqlite3 and built dist/ once', async () => {
    for (const g of topology.guests) {
      const { node, app } = provisioned.get(g.name) as Required<Provisioned>;
      expect(node.stdout).to.match(/Node 24\.\d+\.\d+ is present \(>= 24\.0\.0\); skipping the Node install/);
      expect(node.stdout).to.match(/glibc 2\.36/);
      expect(node.stdout).to.include('build tools are present (make, g++, python3)');
      expect(node.stdout).to.match(/installing pm2@\d+\.\d+\.\d+/);
      expect(app.stdout).to.include("dist/ was built by npm ci's prepare step");
      expect(app.stdout).not.to.include('building dist/');
      const guest = lab!.guest(g.name);
      // node-gyp's configure step leaves config.gypi: the module was compiled here, not downloaded.
      await guest.mustExec(['test', '-f', '/opt/bazar/node_modules/better-sqlite3/build/config.gypi']);
      const scripts = (await guest.mustExec(['ls', SCRIPT_LOG_DIR])).split('\n').filter(Boolean);
      expect(scripts.filter((s) => s.startsWith('bazar.prepare.')), scripts.join(' ')).to.have.length(1);
      expect(scripts.some((s) => s.startsWith('better-sqlite3.install.')), scripts.join(' ')).to.equal(true);
    }
  });

  it('when provisioned, then each service runs as vagrant under pm2-vagrant.service (active and enabled) and binds only its address', async () => {
    for (const g of topology.guests) {
      const guest = lab!.guest(g.name);
      expect((await guest.exec(['systemctl', 'is-active', 'pm2-vagrant.service'])).stdout.trim()).to.equal('active');
      expect((await guest.exec(['systemctl', 'is-enabled', 'pm2-vagrant.service'])).stdout.trim()).to.equal('enabled');
      expect((await guest.exec(['systemctl', 'is-active', 'bazar-firewall.service'])).stdout.trim()).to.equal('active');
      const list = await pm2List(g);
      expect(list.map((p) => [p.name, p.pm2_env.status])).to.deep.equal([[g.role, 'online']]);
      const pid = String(list[0].pid);
      expect((await guest.mustExec(['stat', '-c', '%U', `/proc/${pid}`])).trim()).to.equal('vagrant');
      expect(await guest.mustExec(['cat', `/proc/${pid}/cgroup`])).to.include('pm2-vagrant.service');
      const listening = (await guest.mustExec(['ss', '-Hltn'])).split('\n').map((l) => l.trim().split(/\s+/)[3]).filter(Boolean);
      expect(listening.filter((addr) => addr.endsWith(`:${g.port}`)), listening.join(' ')).to.deep.equal([`${g.ip}:${g.port}`]);
    }
  });

  it('when provisioned, then the token is in the service only through its file: not in the env file, pm2 dump, process environment or any npm script', async () => {
    const token = lab!.token;
    for (const g of topology.guests) {
      const guest = lab!.guest(g.name);
      expect((await guest.mustExec(['stat', '-c', '%a %U:%G', '/etc/bazar/token'])).trim()).to.equal('640 root:vagrant');
      expect((await guest.mustExec(['cat', '/etc/bazar/token'])).trim()).to.equal(token);
      const envFile = await guest.mustExec(['cat', `/etc/bazar/${g.role}.env`]);
      expect(envFile).to.include('BAZAR_TOKEN_FILE=/etc/bazar/token\n').and.not.include(token);
      expect(envFile).to.include(`HOST=${g.ip}\n`);
      const [service] = await pm2List(g);
      const environ = (await guest.mustExec(['cat', `/proc/${service.pid}/environ`])).split('\0');
      expect(environ).to.include('BAZAR_TOKEN_FILE=/etc/bazar/token');
      expect(environ.join('\n')).not.to.include(token);
      expect(await guest.mustExec(['cat', '/home/vagrant/.pm2/dump.pm2'])).not.to.include(token);
      // grep exits 1 when nothing matches: no npm lifecycle script saw it, no install wrote it into the share.
      for (const dir of [SCRIPT_LOG_DIR, '/vagrant']) {
        const found = await guest.exec(['grep', '-rlF', '--exclude-dir=node_modules', '--exclude-dir=.git', token, dir], { timeoutMs: 120_000 });
        expect(found.code, `${dir}: ${found.stdout}`).to.equal(1);
      }
    }
  });

  it('when each guest is asked on every role port, then it serves only its own role', async () => {
    // From a frontend guest: the one client every role's firewall lets in.
    const ports = Object.entries(topology.roles).map(([role, r]) => ({ role, port: r.port }));
    for (const g of topology.guests) {
      const results = await lab!.probe(one('frontend').name, ports.map((p) => ({ url: `http://${g.ip}:${p.port}/openapi.json`, timeoutMs: 3000 })));
      ports.forEach((p, i) => {
        if (p.role === g.role) expect(results[i].json?.info?.title, JSON.stringify(results[i])).to.equal(`Bazar ${g.role} service`);
        else expect(results[i].error, `${g.name}:${p.port} ${JSON.stringify(results[i])}`).to.equal('ECONNREFUSED');
      });
    }
  });

  it("when the host, a stranger and every guest knock on each service port, then only the role's clients get in", async () => {
    const sources = [{ name: 'host', ip: topology.hostIp }, { name: 'stranger', ip: lab!.strangerIp }, ...topology.guests];
    for (const target of topology.guests) {
      const allowed = topologyModule.allowedSources(topology, target.role);
      for (const source of sources.filter((s) => s.name !== target.name)) {
        const [result] = await lab!.probe(source.name, [{ url: `${lab!.url(target)}/healthz`, timeoutMs: 3000 }]);
        const mayEnter = allowed === undefined || allowed.includes(source.ip);
        if (mayEnter) expect(result.status, `${source.name} -> ${target.name}: ${JSON.stringify(result)}`).to.equal(200);
        else expect(result.error, `${source.name} -> ${target.name}: ${JSON.stringify(result)}`).to.equal('ECONNREFUSED');
      }
    }
    // The point of the rules, spelled out for `single`: nobody but the frontend reaches the order server.
    const [stranger] = await lab!.probe('stranger', [{ url: `${lab!.url(one('catalog'))}/healthz`, timeoutMs: 3000 }]);
    expect(stranger.error).to.equal('ECONNREFUSED');
  });

  it('when the e2e suite runs from the host against the guests, then search, lookup, buy, out-of-stock and restock with the token pass', async () => {
    const started = Date.now();
    const { code, report } = await lab!.runE2e(ROOT, one('frontend'), one('catalog'));
    console.log(`      e2e from the host: ${report.stats.passes} passing in ${seconds(Date.now() - started)}`);
    expectE2ePassed(code, report);
  });

  it('when the order guest is cut off, then search and lookup still work, buy answers 503 within 2 s, and buy works once it is back', async () => {
    const frontend = lab!.url(one('frontend'));
    await lab!.net.setLink(one('order').name, false);
    let cut: ProbeResult[];
    try {
      cut = await lab!.probe('host', [{ url: `${frontend}/search/distributed-systems` }, { url: `${frontend}/lookup/2` }, { method: 'POST', url: `${frontend}/buy/2` }]);
    } finally {
      await lab!.net.setLink(one('order').name, true);
    }
    const [search, lookup, buy] = cut;
    expectOk(search);
    expectOk(lookup);
    expect(buy.status, JSON.stringify(buy)).to.equal(503);
    expect(buy.json.error.code).to.equal('upstream_unavailable');
    expect(buy.ms).to.be.below(2000);
    const again = await waitForValue('a buy after the link is back', async () => {
      const [res] = await lab!.probe('host', [{ method: 'POST', url: `${frontend}/buy/2` }]);
      return res.status === 201 ? res : undefined;
    }, 15_000, POLL_MS);
    expect(again.json).to.include({ item_number: 2, status: 'confirmed' });
  });

  it('when the catalog process is SIGKILLed, then pm2 under systemd starts it again with stock and orders unchanged', async () => {
    const g = one('catalog');
    const before = await snapshot();
    const [old] = await pm2List(g);
    await lab!.guest(g.name).mustExec(['bash', '-c', 'kill -9 "$1"', 'kill', String(old.pid)]);
    const started = Date.now();
    const restarted = await waitForValue('pm2 to restart the catalog', async () => {
      const [p] = await pm2List(g);
      return p && p.pid && p.pid !== old.pid && p.pm2_env.status === 'online' ? p : undefined;
    }, 30_000, POLL_MS);
    await waitForValue('the restarted catalog to answer', async () => {
      const [ready] = await lab!.probe('host', [{ url: `${lab!.url(g)}/readyz`, timeoutMs: 1000 }]);
      return ready.status === 200 ? true : undefined;
    }, 30_000, POLL_MS);
    console.log(`      catalog back after SIGKILL in ${seconds(Date.now() - started)}`);
    expect(restarted.pm2_env.restart_time).to.equal(old.pm2_env.restart_time + 1);
    expect(await lab!.guest(g.name).mustExec(['cat', `/proc/${restarted.pid}/cgroup`])).to.include('pm2-vagrant.service');
    expect(await snapshot()).to.deep.equal(before);
  });

  it('when the catalog guest is provisioned again (vagrant provision), then the code is replaced, the data kept, and the unit stays active', async () => {
    const g = one('catalog');
    const guest = lab!.guest(g.name);
    const before = await snapshot();
    await guest.mustExec(['touch', '/opt/bazar/left-by-the-old-install']);
    const [old] = await pm2List(g);
    const t = Date.now();
    const again = await lab!.provision(g);
    console.log(`      provision ${g.name} again: ${seconds(Date.now() - t)}`);
    expect(again.node.stdout).to.match(/pm2 \d+\.\d+\.\d+ is present; skipping the pm2 install/);
    expect(again.app!.stdout).to.include('stopped the running catalog');
    expect((await guest.exec(['test', '-e', '/opt/bazar/left-by-the-old-install'])).code).to.equal(1);
    expect((await guest.exec(['systemctl', 'is-active', 'pm2-vagrant.service'])).stdout.trim()).to.equal('active');
    const list = await pm2List(g);
    expect(list.map((p) => [p.name, p.pm2_env.status])).to.deep.equal([[g.role, 'online']]);
    expect(list[0].pid).not.to.equal(old.pid);
    expect(await snapshot()).to.deep.equal(before);
  });

  it('when every guest is shut down and booted again, then the store serves again with its data and an order made before is listed', async () => {
    const [bought] = await lab!.probe('host', [{ method: 'POST', url: `${lab!.url(one('frontend'))}/buy/3` }]);
    expect(bought.status, JSON.stringify(bought)).to.equal(201);
    const before = await snapshot();
    expect(before.orders.map((o) => o.order_id)).to.include(bought.json.order_id);

    let t = Date.now();
    await lab!.shutdownAll();
    const down = Date.now() - t;
    t = Date.now();
    await lab!.bootAll();
    // Nothing is provisioned again: only what systemd starts at boot can answer.
    await waitForValue('every service after the reboot', async () => {
      const results = await lab!.probe(one('frontend').name, topology.guests.map((g) => ({ url: `${lab!.url(g)}/readyz`, timeoutMs: 1000 })));
      return results.every((r) => r.status === 200) ? true : undefined;
    }, 60_000, POLL_MS);
    console.log(`      reboot: shutdown ${seconds(down)}, boot until every service is ready ${seconds(Date.now() - t)}`);

    for (const g of topology.guests) {
      expect((await lab!.guest(g.name).exec(['systemctl', 'is-active', 'pm2-vagrant.service'])).stdout.trim()).to.equal('active');
      expect((await pm2List(g)).map((p) => [p.name, p.pm2_env.status])).to.deep.equal([[g.role, 'online']]);
    }
    const after = await snapshot();
    expect(after.books).to.deep.equal(before.books);
    expect(after.orders.map((o) => o.order_id)).to.include(bought.json.order_id);
    const [stranger] = await lab!.probe('stranger', [{ url: `${lab!.url(one('order'))}/healthz`, timeoutMs: 3000 }]);
    expect(stranger.error, 'the firewall is back after the reboot').to.equal('ECONNREFUSED');
    const [buy] = await lab!.probe('host', [{ method: 'POST', url: `${lab!.url(one('frontend'))}/buy/4` }]);
    expect(buy.status, JSON.stringify(buy)).to.equal(201);
  });
});
