#!/usr/bin/env node
// The one reading of provision/hosts.json: which guests a topology has, their addresses, ports and roles, who may
// reach whom, and what each guest is told about the others (the services' URLs, the databases' multi-host URLs, the
// pg_auto_failover monitor). install-app.sh, install-postgres-ha.sh and install-firewall.sh call it inside each
// guest, the guest tests import it, and the Vagrantfile (Ruby, on a laptop that may have no Node) repeats only its
// two small steps: pick the topology and move the addresses to BAZAR_NETWORK. It boots the guests in the file's
// order, which this module checks is the provisioning order (below).
//
//   node provision/topology.js env <guest>     KEY=value lines for install-app.sh or install-postgres-ha.sh
//   node provision/topology.js nft <guest>     the guest's nftables ruleset
//   node provision/topology.js guests          one line per guest, in provisioning order: name role ip port
//
// Environment: BAZAR_HOSTS_FILE (default: hosts.json beside this file), BAZAR_TOPOLOGY (default: single),
// BAZAR_NETWORK (another /24 for every address, e.g. the host-only network VMware Fusion already has).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** The services; every topology has at least one guest of each. */
const APP_ROLES = ['catalog', 'order', 'frontend'];
/** PostgreSQL with pg_auto_failover (install-postgres-ha.sh): one monitor and the nodes, or none of either. */
const DB_ROLES = ['pg-monitor', 'pg-node'];
/**
 * Provisioning order by role: each guest finds what it calls already running. The monitor before the nodes (they
 * register with it), the nodes before the services (a catalog or order server with DATABASE_URL needs its database
 * at start; the first node listed becomes the first primary), the catalog before the order server and the frontend.
 */
const ROLES = [...DB_ROLES, ...APP_ROLES];
/** The login install-postgres-ha.sh creates for the services; its password is a secret kept apart (a file). */
const DB_USER = 'bazar';
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
    if (r.database !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(r.database)) {
      throw new Error(`${file}: roles.${role}.database must be a plain lower-case name, got '${r.database}'`);
    }
    roles[role] = { port: r.port, clients: [...r.clients], ...(r.database ? { database: r.database } : {}) };
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
  const count = (role) => guests.filter((g) => g.role === role).length;
  for (const role of APP_ROLES) {
    if (count(role) === 0) throw new Error(`${file}: topology '${name}' has no ${role} guest`);
  }
  if (count('pg-node') > 0 || count('pg-monitor') > 0) {
    if (count('pg-monitor') !== 1 || count('pg-node') === 0) {
      throw new Error(`${file}: topology '${name}' needs one pg-monitor and at least one pg-node, or neither`);
    }
    if (roles['pg-monitor'].port !== roles['pg-node'].port) {
      throw new Error(`${file}: roles pg-monitor and pg-node must have one port (a node reaches the monitor on its own port)`);
    }
    for (const role of ['catalog', 'order']) {
      if (!roles[role].database) throw new Error(`${file}: roles.${role} needs a "database" when a topology has pg-node guests`);
    }
  }
  // Vagrant boots and provisions machines in the order they are defined, which is the file's.
  guests.forEach((g, i) => {
    const before = guests[i - 1];
    if (before && ROLES.indexOf(before.role) > ROLES.indexOf(g.role)) {
      throw new Error(`${file}: topology '${name}' lists ${g.name} (${g.role}) after ${before.name} (${before.role}); ` +
        `guests are provisioned in the file's order, which must be ${ROLES.join(', ')}`);
    }
  });
  return { name, file, network: `${intToIp(to.base)}/${to.bits}`, hostIp, roles, guests };
}

function guestNamed(topology, guestName) {
  const guest = topology.guests.find((g) => g.name === guestName);
  if (!guest) {
    throw new Error(`topology '${topology.name}' has no guest '${guestName}' (it has: ${topology.guests.map((g) => g.name).join(', ')})`);
  }
  return guest;
}

const guestsOf = (topology, role) => topology.guests.filter((g) => g.role === role);

/** What other services set as a role's URL: one origin per guest of the role, comma-separated (its replicas). */
function urlOf(topology, role) {
  return guestsOf(topology, role).map((g) => `http://${g.ip}:${g.port}`).join(',');
}

/**
 * A service's PostgreSQL URL (catalog, order), or undefined when the topology has no database guests (SQLite then):
 * every node, so the service finds whichever is primary (target_session_attrs=read-write) and follows a failover.
 * No password: it is a secret, kept in a file the service reads (DATABASE_PASSWORD_FILE), never in a URL that env
 * files and pm2's saved dump would hold.
 */
function databaseUrlOf(topology, role) {
  const nodes = guestsOf(topology, 'pg-node');
  const database = topology.roles[role].database;
  if (nodes.length === 0 || !database) return undefined;
  return `postgres://${DB_USER}@${nodes.map((n) => `${n.ip}:${n.port}`).join(',')}/${database}?target_session_attrs=read-write`;
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
 * rules anything else (ufw, Docker) keeps; only the role's port is filtered, so SSH and the NAT interface work.
 */
function nftRuleset(topology, guestName) {
  const guest = guestNamed(topology, guestName);
  // A guest's own connections to itself arrive on lo, accepted below (a node is one of the nodes' clients).
  const allowed = allowedSources(topology, guest.role)?.filter((ip) => ip !== guest.ip);
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

/**
 * What one guest's provisioning script needs to know, as KEY=value lines a shell can read: for a service,
 * install-app.sh's (its address, ports, the other services' URLs, its DATABASE_URL); for a database guest,
 * install-postgres-ha.sh's BAZAR_PG_* settings and the databases the services own.
 */
function guestEnv(topology, guestName) {
  const guest = guestNamed(topology, guestName);
  const common = { BAZAR_GUEST_ROLE: guest.role, BAZAR_GUEST_IP: guest.ip, PORT: guest.port };
  if (DB_ROLES.includes(guest.role)) {
    const [monitor] = guestsOf(topology, 'pg-monitor');
    const pg = { ...common, BAZAR_PG_HOST: guest.ip, BAZAR_PG_PORT: guest.port, BAZAR_PG_NAME: guest.name };
    if (guest.role === 'pg-monitor') return pg;
    return {
      ...pg,
      // A node reaches the monitor on its own port: both roles have one port (checked when loading).
      BAZAR_PG_MONITOR: monitor.ip,
      // Where the services log in from (scram-sha-256); the firewall narrows it to the catalog and order guests.
      BAZAR_PG_NETWORK: topology.network,
      BAZAR_DATABASES: ['catalog', 'order'].map((role) => topology.roles[role].database).join(' '),
    };
  }
  return {
    ...common,
    CATALOG_PORT: topology.roles.catalog.port,
    ORDER_PORT: topology.roles.order.port,
    FRONTEND_PORT: topology.roles.frontend.port,
    CATALOG_URL: urlOf(topology, 'catalog'),
    ORDER_URL: urlOf(topology, 'order'),
    DATABASE_URL: databaseUrlOf(topology, guest.role) ?? '',
  };
}

function fromEnvironment(env) {
  return loadTopology({
    file: env.BAZAR_HOSTS_FILE || DEFAULT_FILE,
    name: env.BAZAR_TOPOLOGY || 'single',
    network: env.BAZAR_NETWORK || undefined,
  });
}

module.exports = {
  ROLES, APP_ROLES, DB_ROLES, DB_USER, loadTopology, fromEnvironment, guestNamed, urlOf, databaseUrlOf, allowedSources,
  nftRuleset, guestEnv,
};

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
