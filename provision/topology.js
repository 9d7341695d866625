#!/usr/bin/env node
// The one reading of provision/hosts.json: which guests a topology has, their addresses, ports and roles, and who
// may reach whom. install-app.sh and install-firewall.sh call it inside each guest, the guest test imports it, and
// the Vagrantfile (Ruby, on a laptop that may have no Node) repeats only its two small steps: pick the topology and
// move the addresses to BAZAR_NETWORK.
//
//   node provision/topology.js env <guest>     KEY=value lines for install-app.sh
//   node provision/topology.js nft <guest>     the guest's nftables ruleset
//   node provision/topology.js guests          one line per guest: name role ip port
//
// Environment: BAZAR_HOSTS_FILE (default: hosts.json beside this file), BAZAR_TOPOLOGY (default: single),
// BAZAR_NETWORK (another /24 for every address, e.g. the host-only network VMware Fusion already has).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROLES = ['catalog', 'order', 'frontend'];
const DEFAULT_FILE = path.join(__dirname, 'hosts.json');

function ipToInt(ip, what) {
  const parts = String(ip).split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`${what} must be an IPv4 address, got '${ip}'`);
  }
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

const intToIp = (n) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

function parseNetwork(cidr, what) {
  const [address, bits] = String(cidr).split('/');
  const length = Number(bits);
  if (!Number.isInteger(length) || length < 8 || length > 30) throw new Error(`${what} must look like 192.168.121.0/24, got '${cidr}'`);
  const size = 2 ** (32 - length);
  return { base: ipToInt(address, what) - (ipToInt(address, what) % size), bits: length, size };
}

/** Reads the file and resolves one topology: its guests in provisioning order, each with its role's port. */
function loadTopology({ file = DEFAULT_FILE, name = 'single', network } = {}) {
  const settings = JSON.parse(fs.readFileSync(file, 'utf8'));
  const spec = settings.topologies && settings.topologies[name];
  if (!spec) {
    throw new Error(`${file} has no topology '${name}' (it has: ${Object.keys(settings.topologies || {}).join(', ')})`);
  }
  const from = parseNetwork(settings.network, `${file}: "network"`);
  const to = network ? parseNetwork(network, 'BAZAR_NETWORK') : from;
  if (to.bits !== from.bits) throw new Error(`BAZAR_NETWORK must be a /${from.bits} like ${settings.network}, got '${network}'`);
  // Keeps each address's host part and swaps the network part: .134 stays .134 in the new network.
  const place = (ip, what) => {
    const n = ipToInt(ip, what);
    const offset = n - from.base;
    if (offset <= 0 || offset >= from.size - 1) throw new Error(`${what} (${ip}) must be a host address in ${settings.network}`);
    return intToIp(to.base + offset);
  };

  const roles = {};
  for (const role of ROLES) {
    const r = settings.roles && settings.roles[role];
    if (!r || !Number.isInteger(r.port) || r.port < 1 || r.port > 65535 || !Array.isArray(r.clients)) {
      throw new Error(`${file}: roles.${role} needs an integer "port" and a "clients" list`);
    }
    for (const client of r.clients) {
      if (![...ROLES, 'host', 'anyone'].includes(client)) throw new Error(`${file}: roles.${role}.clients has unknown '${client}'`);
    }
    roles[role] = { port: r.port, clients: [...r.clients] };
  }

  const guests = Object.entries(spec).map(([guestName, g]) => {
    if (!/^[a-z][a-z0-9-]{0,14}$/.test(guestName)) throw new Error(`${file}: guest name '${guestName}' must be a short lower-case name`);
    if (!ROLES.includes(g.role)) throw new Error(`${file}: guest ${guestName} has unknown role '${g.role}'`);
    return {
      name: guestName,
      role: g.role,
      ip: place(g.ip, `${name}.${guestName}.ip`),
      port: roles[g.role].port,
      memory_mb: g.memory_mb,
      cpus: g.cpus,
    };
  });
  const hostIp = place(settings.host_ip, '"host_ip"');
  const taken = [hostIp, ...guests.map((g) => g.ip)];
  if (new Set(taken).size !== taken.length) throw new Error(`${file}: topology '${name}' uses an address twice`);
  for (const role of ROLES) {
    if (!guests.some((g) => g.role === role)) throw new Error(`${file}: topology '${name}' has no ${role} guest`);
  }
  return { name, file, network: `${intToIp(to.base)}/${to.bits}`, hostIp, roles, guests };
}

function guestNamed(topology, guestName) {
  const guest = topology.guests.find((g) => g.name === guestName);
  if (!guest) {
    throw new Error(`topology '${topology.name}' has no guest '${guestName}' (it has: ${topology.guests.map((g) => g.name).join(', ')})`);
  }
  return guest;
}

/** The URL other services use for a role: its first guest (one per role in `single`). */
function urlOf(topology, role) {
  const guest = topology.guests.find((g) => g.role === role);
  return `http://${guest.ip}:${guest.port}`;
}

/** Addresses allowed to reach a role's port, or undefined when anyone may. */
function allowedSources(topology, role) {
  const { clients } = topology.roles[role];
  if (clients.includes('anyone')) return undefined;
  const ips = clients.flatMap((client) =>
    client === 'host' ? [topology.hostIp] : topology.guests.filter((g) => g.role === client).map((g) => g.ip),
  );
  return [...new Set(ips)];
}

/**
 * The guest's firewall as one nftables file. Its own table, replaced atomically on every load, so it never touches
 * rules anything else (ufw, Docker) keeps; only the service port is filtered, so SSH and the NAT interface work.
 */
function nftRuleset(topology, guestName) {
  const guest = guestNamed(topology, guestName);
  const allowed = allowedSources(topology, guest.role);
  const rules = allowed
    ? [
        `    tcp dport ${guest.port} ip saddr { ${allowed.join(', ')} } accept`,
        `    tcp dport ${guest.port} reject with tcp reset`,
      ]
    : [`    # ${guest.role} port ${guest.port}: open to anyone on the private network`];
  return [
    `# Bazar's firewall for guest ${guest.name} (${guest.role}), topology ${topology.name}: written by`,
    '# provision/install-firewall.sh from provision/hosts.json; loaded at boot by bazar-firewall.service.',
    'table inet bazar',
    'delete table inet bazar',
    'table inet bazar {',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    iifname "lo" accept',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** What install-app.sh needs to know about one guest, as KEY=value lines a shell can read. */
function guestEnv(topology, guestName) {
  const guest = guestNamed(topology, guestName);
  return {
    BAZAR_GUEST_ROLE: guest.role,
    BAZAR_GUEST_IP: guest.ip,
    PORT: guest.port,
    CATALOG_PORT: topology.roles.catalog.port,
    ORDER_PORT: topology.roles.order.port,
    FRONTEND_PORT: topology.roles.frontend.port,
    CATALOG_URL: urlOf(topology, 'catalog'),
    ORDER_URL: urlOf(topology, 'order'),
  };
}

function fromEnvironment(env) {
  return loadTopology({
    file: env.BAZAR_HOSTS_FILE || DEFAULT_FILE,
    name: env.BAZAR_TOPOLOGY || 'single',
    network: env.BAZAR_NETWORK || undefined,
  });
}

module.exports = { ROLES, loadTopology, fromEnvironment, guestNamed, urlOf, allowedSources, nftRuleset, guestEnv };

if (require.main === module) {
  const [command, guestName] = process.argv.slice(2);
  try {
    const topology = fromEnvironment(process.env);
    if (command === 'env') {
      for (const [key, value] of Object.entries(guestEnv(topology, guestName))) process.stdout.write(`${key}=${value}\n`);
    } else if (command === 'nft') {
      process.stdout.write(nftRuleset(topology, guestName));
    } else if (command === 'guests') {
      for (const g of topology.guests) process.stdout.write(`${g.name} ${g.role} ${g.ip} ${g.port}\n`);
    } else {
      throw new Error('usage: topology.js env <guest> | nft <guest> | guests');
    }
  } catch (err) {
    process.stderr.write(`topology: ${err.message}\n`);
    process.exit(1);
  }
}
