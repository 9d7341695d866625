#!/usr/bin/env bash
# Installs one role of Bazar's highly available PostgreSQL (pg_auto_failover) on this Debian or Ubuntu machine and
# starts it under systemd, as root:
#
#   sudo BAZAR_PG_HOST=<this host's IP> provision/install-postgres-ha.sh monitor
#   sudo BAZAR_PG_HOST=<this host's IP> BAZAR_PG_MONITOR=<monitor's IP> BAZAR_DB_PASSWORD_FILE=<file> \
#        provision/install-postgres-ha.sh node
#
# Or, on a guest of a provision/hosts.json topology (the Vagrantfile's way), BAZAR_GUEST=<guest> takes the address,
# the monitor's, the node's name, the services' network and their databases from the hosts file
# (provision/topology.js, which needs node: install-node.sh --node-only); a BAZAR_PG_* setting still wins.
#
# Order matters: the monitor first, then the node meant to be the primary, then the other one. The first node to
# register with the monitor becomes the primary; the second copies it (pg_basebackup) and becomes its synchronous
# standby. Both nodes are installed alike, since which one is primary changes with every failover. docs/ha.md
# explains the topology, the timeouts and what is promised.
#
# Steps: install the distribution's PostgreSQL and its pg_auto_failover package (postgresql-15-auto-failover on
# Debian 12, postgresql-16-auto-failover on Ubuntu 24.04; without the default cluster), `pg_autoctl create` the role in
# BAZAR_PG_DATA, apply the timeouts in provision/pg-auto-failover/ (the same ones the HA test runs with), install
# the systemd unit pg_autoctl prints (`pg_autoctl show systemd`), start it and wait for the role's state. On the
# node that is primary, create the `bazar` login (the password) and the services' databases, then CHECKPOINT, so the
# other node's copy, which waits for a spread checkpoint here, finds almost nothing to write. A second run keeps an
# existing data folder and only makes sure the settings are in place and the service runs.
#
# The password is read once, then removed from this script's environment, so neither apt nor PostgreSQL's tools see
# it; it reaches psql on its standard input, never on a command line.
#
# Security: pg_autoctl's own connections (monitor, replication, health checks) use `trust` limited to the database
# hosts' addresses (--auth trust, as pg_autoctl writes pg_hba.conf) and TLS with self-signed certificates; the
# services log in as `bazar` with a password (scram-sha-256) from BAZAR_PG_NETWORK. Fit for a private lab network;
# see pg_auto_failover's security documentation before exposing it further.
#
# Environment (defaults in brackets):
#   BAZAR_PG_HOST      this host's address as the other hosts reach it (required)
#   BAZAR_PG_MONITOR   the monitor's address (node only; required)
#   BAZAR_PG_PORT      the PostgreSQL port here and on the monitor [5432]
#   BAZAR_PG_NETWORK   the network the services connect from, as a CIDR [the /24 of BAZAR_PG_HOST]
#   BAZAR_PG_NAME      this node's name in `pg_autoctl show state` [the short host name]
#   BAZAR_PG_DATA      the data folder [/var/lib/postgresql/bazar-ha]
#   BAZAR_DB_PASSWORD_FILE  a file holding the `bazar` login's password, the same on both nodes and for the
#                      services (node only; required, or BAZAR_DB_PASSWORD, the password itself)
#   BAZAR_GUEST        this machine's guest in provision/hosts.json (BAZAR_HOSTS_FILE, BAZAR_TOPOLOGY,
#                      BAZAR_NETWORK as for install-app.sh); unset: only the settings above
#   BAZAR_DATABASES    the databases the services own [catalog orders]
#   BAZAR_SRC          the project tree [the folder above this script]
#   BAZAR_PG_VERSION   the PostgreSQL major version [the one already set up with pg_auto_failover here, else the
#                      one the distribution's `postgresql` package depends on]
set -euo pipefail
export LC_ALL=C DEBIAN_FRONTEND=noninteractive

log() { printf 'install-postgres-ha[%s]: %s\n' "${ROLE:-?}" "$*"; }
die() { printf 'install-postgres-ha[%s]: error: %s\n' "${ROLE:-?}" "$*" >&2; exit 1; }

# The secret first, out of the environment before anything else runs.
PASSWORD="${BAZAR_DB_PASSWORD:-}"
PASSWORD_SOURCE="${BAZAR_DB_PASSWORD_FILE:-}"
unset BAZAR_DB_PASSWORD BAZAR_DB_PASSWORD_FILE

ROLE="${1:-}"
case "$ROLE" in
  monitor | node) ;;
  *) die "usage: $0 <monitor|node>" ;;
esac

SRC="$(cd "${BAZAR_SRC:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd -P)"
SETTINGS="$SRC/provision/pg-auto-failover"

# A guest of the hosts file: its settings from provision/topology.js, under any given explicitly.
if [ -n "${BAZAR_GUEST:-}" ]; then
  command -v node >/dev/null 2>&1 || die "BAZAR_GUEST needs node to read the hosts file (provision/install-node.sh --node-only)"
  guest_env="$(BAZAR_HOSTS_FILE="${BAZAR_HOSTS_FILE:-$SRC/provision/hosts.json}" node "$SRC/provision/topology.js" env "$BAZAR_GUEST")" ||
    die "cannot read guest '$BAZAR_GUEST' from the hosts file"
  while IFS='=' read -r key value; do
    case "$key" in
      BAZAR_GUEST_ROLE) [ "$value" = "pg-$ROLE" ] || die "guest '$BAZAR_GUEST' is a $value in the hosts file, not a pg-$ROLE" ;;
      BAZAR_PG_HOST | BAZAR_PG_PORT | BAZAR_PG_NAME | BAZAR_PG_MONITOR | BAZAR_PG_NETWORK | BAZAR_DATABASES)
        [ -n "${!key:-}" ] || printf -v "$key" '%s' "$value" ;;
    esac
  done <<<"$guest_env"
fi
HOST="${BAZAR_PG_HOST:-}"
MONITOR="${BAZAR_PG_MONITOR:-}"
PORT="${BAZAR_PG_PORT:-5432}"
NETWORK="${BAZAR_PG_NETWORK:-${HOST%.*}.0/24}"
NAME="${BAZAR_PG_NAME:-$(hostname -s)}"
DATA="${BAZAR_PG_DATA:-/var/lib/postgresql/bazar-ha}"
read -r -a DATABASES <<<"${BAZAR_DATABASES:-catalog orders}"
UNIT=/etc/systemd/system/pgautofailover.service

# --- checks first, so a bad setting changes nothing ---------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "run as root (sudo)"
[ -d /run/systemd/system ] || die "systemd is not running here; the role runs as a systemd service"
[[ "$HOST" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "BAZAR_PG_HOST must be this host's IPv4 address, got '$HOST'"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "BAZAR_PG_PORT must be a number, got '$PORT'"
[[ "$NETWORK" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$ ]] || die "BAZAR_PG_NETWORK must be a CIDR, got '$NETWORK'"
case "$DATA" in /?*) ;; *) die "BAZAR_PG_DATA must be an absolute path, got '$DATA'" ;; esac
for file in monitor.conf node.conf keeper.cfg; do
  [ -r "$SETTINGS/$file" ] || die "missing $SETTINGS/$file (set BAZAR_SRC to the project tree)"
done
if [ "$ROLE" = node ]; then
  [[ "$MONITOR" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "BAZAR_PG_MONITOR must be the monitor's IPv4 address, got '$MONITOR'"
  if [ -z "$PASSWORD" ] && [ -n "$PASSWORD_SOURCE" ]; then
    PASSWORD="$(tr -d '[:space:]' <"$PASSWORD_SOURCE")" || die "cannot read BAZAR_DB_PASSWORD_FILE $PASSWORD_SOURCE"
  fi
  # Goes into SQL and a URL: keep it to characters that need no quoting in either.
  [[ "$PASSWORD" =~ ^[A-Za-z0-9._~-]{16,128}$ ]] ||
    die "the database password (BAZAR_DB_PASSWORD_FILE) must be 16-128 characters of A-Z a-z 0-9 . _ ~ - (try: openssl rand -hex 24)"
  for db in "${DATABASES[@]}"; do
    [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "BAZAR_DATABASES: '$db' is not a plain lower-case name"
  done
fi

# --- packages ------------------------------------------------------------------------------------------------------
# pg_auto_failover's extension is built for one major version: the one installed with it, or the distribution's.
installed_version() {
  local lib
  for lib in /usr/lib/postgresql/*/lib/pgautofailover.so; do
    if [ -e "$lib" ]; then basename "$(dirname "$(dirname "$lib")")"; fi
  done | sort -n | tail -n 1
}
VERSION="${BAZAR_PG_VERSION:-$(installed_version)}"
if [ -z "$VERSION" ]; then
  apt-get update -q
  VERSION="$(apt-cache depends postgresql | awk '/^ *Depends: postgresql-[0-9]+$/ && !found { found = 1; sub(/.*-/, ""); print }')"
fi
[[ "$VERSION" =~ ^[0-9]+$ ]] || die "cannot tell which PostgreSQL to use; set BAZAR_PG_VERSION (got '$VERSION')"
PG_BIN="/usr/lib/postgresql/$VERSION/bin"

as_postgres() { runuser -u postgres -- env PATH="$PG_BIN:/usr/bin:/bin" "$@"; }
psql_local() { as_postgres psql -X -q -A -t -v ON_ERROR_STOP=1 -p "$PORT" "$@"; }

if ! command -v pg_autoctl >/dev/null 2>&1 || [ ! -e "/usr/lib/postgresql/$VERSION/lib/pgautofailover.so" ]; then
  # Debian and Ubuntu would otherwise create and start a default cluster on 5432 ("<version> main") beside ours.
  install -d /etc/postgresql-common
  if grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
    sed -i 's/^create_main_cluster.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
  else
    echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
  fi
  log "installing postgresql-$VERSION-auto-failover"
  apt-get update -q
  apt-get install -y -q "postgresql-$VERSION-auto-failover"
fi

# --- the role's data folder ----------------------------------------------------------------------------------------
monitor_uri="postgres://autoctl_node@$MONITOR:$PORT/pg_auto_failover?sslmode=require"
common=(--pgdata "$DATA" --pgport "$PORT" --hostname "$HOST" --listen '*' --auth trust --ssl-self-signed
  --pgctl "$PG_BIN/pg_ctl")
if [ -f "$DATA/postgresql.conf" ]; then
  log "$DATA exists; keeping it"
else
  install -d -o postgres -g postgres -m 0700 "$DATA"
  if [ "$ROLE" = monitor ]; then
    log "creating the monitor in $DATA"
    as_postgres pg_autoctl create monitor "${common[@]}"
  else
    # The second node copies the primary with pg_basebackup, which pg_autoctl runs without --checkpoint=fast: the
    # copy starts after a spread checkpoint there, up to 4.5 minutes (measured: 3 min 19 s on a quiet primary).
    log "creating node $NAME in $DATA, registered with the monitor at $MONITOR:$PORT"
    log "(a second node waits for a checkpoint on the primary: 'sudo -u postgres psql -c CHECKPOINT' there hurries it)"
    as_postgres pg_autoctl create postgres "${common[@]}" --name "$NAME" --dbname postgres --monitor "$monitor_uri"
  fi
fi

# Our settings come last in postgresql.conf, after pg_autoctl's own include, so they win.
install -o postgres -g postgres -m 0644 "$SETTINGS/$([ "$ROLE" = monitor ] && echo monitor.conf || echo node.conf)" "$DATA/bazar-ha.conf"
grep -qx "include 'bazar-ha.conf'" "$DATA/postgresql.conf" || echo "include 'bazar-ha.conf'" >>"$DATA/postgresql.conf"
if [ "$ROLE" = node ]; then
  grep -v '^#' "$SETTINGS/keeper.cfg" | while read -r key value; do
    [ -z "$key" ] || as_postgres pg_autoctl config set --pgdata "$DATA" "$key" "$value" >/dev/null
  done
  rule="host all bazar $NETWORK scram-sha-256"
  grep -qxF "$rule" "$DATA/pg_hba.conf" || echo "$rule" >>"$DATA/pg_hba.conf"
fi

# --- the service ---------------------------------------------------------------------------------------------------
as_postgres pg_autoctl -q show systemd --pgdata "$DATA" >"$UNIT.tmp"
mv -f "$UNIT.tmp" "$UNIT"
systemctl daemon-reload
if systemctl is-active --quiet pgautofailover.service; then
  # Never a restart: stopping the primary's PostgreSQL would be a failover. The keeper re-reads its timeouts,
  # PostgreSQL its settings and pg_hba.conf.
  systemctl reload pgautofailover.service
  psql_local -d "$([ "$ROLE" = monitor ] && echo pg_auto_failover || echo postgres)" -c 'SELECT pg_reload_conf()' >/dev/null
  log "the service was running; reloaded its settings"
else
  systemctl enable --now pgautofailover.service >/dev/null 2>&1
fi

# This node's reported state, as the monitor has it (the "Reported State" column of `pg_autoctl show state`).
reported_state() {
  as_postgres pg_autoctl show state --pgdata "$DATA" 2>/dev/null |
    awk -F'|' -v name="$NAME" '{ gsub(/ /, "", $1); gsub(/ /, "", $6) } $1 == name { print $6 }'
}

wait_until() {
  local what="$1" limit="$2" i
  shift 2
  for ((i = 0; i < limit; i++)); do
    if "$@"; then return 0; fi
    sleep 1
  done
  journalctl -u pgautofailover.service -n 40 --no-pager >&2 || true
  die "$what did not happen within $limit s (the service's log is above)"
}

monitor_answers() { psql_local -d pg_auto_failover -c 'SELECT 1' >/dev/null 2>&1; }
if [ "$ROLE" = monitor ]; then
  wait_until "the monitor answering" 60 monitor_answers
  log "monitor is up: provision the nodes with BAZAR_PG_MONITOR=$HOST"
  exit 0
fi

# The monitor's state can be the one `create` left; PostgreSQL answering here shows the service is up as well.
is_settled() {
  case "$(reported_state)" in single | wait_primary | primary | secondary) ;; *) return 1 ;; esac
  psql_local -d postgres -c 'SELECT 1' >/dev/null 2>&1
}
wait_until "node $NAME joining as primary or secondary" 600 is_settled
in_recovery="$(psql_local -d postgres -c 'SELECT pg_is_in_recovery()')"
log "node $NAME is $(reported_state)"
if [ "$in_recovery" = f ]; then
  # The primary: the services' login and databases (the standby receives them by replication).
  # The password in psql's input (checked above: no quote can be in it), not on its command line.
  psql_local -d postgres <<SQL
\\set pw '$PASSWORD'
SELECT format('CREATE ROLE bazar LOGIN PASSWORD %L', :'pw') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bazar') \\gexec
SELECT format('ALTER ROLE bazar PASSWORD %L', :'pw') \\gexec
SQL
  for db in "${DATABASES[@]}"; do
    if [ -z "$(psql_local -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      psql_local -d postgres -c "CREATE DATABASE $db OWNER bazar"
      log "created database $db"
    fi
  done
  # The other node copies this one with pg_basebackup, which asks for a spread checkpoint (up to 4.5 minutes when
  # many pages are dirty, as after CREATE DATABASE): written now, that checkpoint finds little left to do.
  psql_local -d postgres -c CHECKPOINT
fi
log "done: the services use postgres://bazar:<password>@<node 1>:$PORT,<node 2>:$PORT/<database>?target_session_attrs=read-write"
