#!/usr/bin/env bash
# Installs one Bazar role on this machine and starts it under pm2: restarted when it crashes, started again at boot.
#
#   sudo BAZAR_TOKEN=<shared secret> provision/install-app.sh <catalog|order|frontend>
#
# Steps: copy the project (without node_modules, dist, data) to BAZAR_APP_DIR, `npm ci`, `npm run build`, write the
# role's env file (its port, the other hosts' URLs from hosts.json, the shared token), start the role with
# `pm2 start ecosystem.config.js --only <role>`, wait until it answers /healthz, `pm2 save`, and register pm2 with
# systemd (`pm2 startup systemd`) so `pm2 resurrect` brings the role back at boot. Running it again re-installs the
# code; the database in BAZAR_DATA_DIR is never touched. Needs Node >= 20.18.1 and pm2 on PATH (install-node.sh).
#
# Environment (defaults in brackets):
#   BAZAR_TOKEN        the secret all three services share (16-256 of A-Z a-z 0-9 . _ ~ + / = -); required unless
#                      BAZAR_TOKEN_FILE names a file holding it or an earlier run's env file has one
#   BAZAR_SRC          the project tree to install [the folder above this script]
#   BAZAR_HOSTS_FILE   IPs and ports of the three hosts [$BAZAR_SRC/provision/hosts.json]
#   BAZAR_CATALOG_URL, BAZAR_ORDER_URL   override the URLs derived from the hosts file
#   BAZAR_APP_DIR      where the code goes; replaced on every run [/opt/bazar]
#   BAZAR_DATA_DIR     where the databases live; kept across runs [/var/lib/bazar]
#   BAZAR_ENV_DIR      where <role>.env is written [/etc/bazar]
#   BAZAR_USER         who runs pm2 and the service [$SUDO_USER, else the current user]
#   PM2_HOME           that user's pm2 folder [~BAZAR_USER/.pm2]; another value needs BAZAR_BOOT=none
#   BAZAR_BIND         the address the service binds [0.0.0.0]
#   BAZAR_BOOT         systemd: register `pm2 startup systemd`; none: leave boot alone (tests) [systemd]
#   BAZAR_REUSE_NODE_MODULES  1: instead of `npm ci`, hard-link (or copy) $BAZAR_SRC/node_modules when it was
#                      installed from the same package-lock.json and its native modules load with this Node.
#                      Saves minutes of compiling better-sqlite3 when one machine installs several roles (the CI
#                      test does); never use it with a node_modules from another OS, e.g. the /vagrant share [0]
#   LOG_LEVEL          written to the env file [info]
set -euo pipefail
export LC_ALL=C NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

log() { printf 'install-app[%s]: %s\n' "${ROLE:-?}" "$*"; }
die() { printf 'install-app[%s]: error: %s\n' "${ROLE:-?}" "$*" >&2; exit 1; }

ROLE="${1:-}"
case "$ROLE" in
  catalog | order | frontend) ;;
  *) die "usage: $0 <catalog|order|frontend>" ;;
esac

SRC="$(cd "${BAZAR_SRC:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd -P)"
HOSTS_FILE="${BAZAR_HOSTS_FILE:-$SRC/provision/hosts.json}"
APP_DIR="${BAZAR_APP_DIR:-/opt/bazar}"
DATA_DIR="${BAZAR_DATA_DIR:-/var/lib/bazar}"
ENV_DIR="${BAZAR_ENV_DIR:-/etc/bazar}"
RUN_USER="${BAZAR_USER:-${SUDO_USER:-$(id -un)}}"
BIND="${BAZAR_BIND:-0.0.0.0}"
BOOT="${BAZAR_BOOT:-systemd}"
REUSE="${BAZAR_REUSE_NODE_MODULES:-0}"
ENV_FILE="$ENV_DIR/$ROLE.env"

# --- checks first, so a bad setting changes nothing ---------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "node is not on PATH; run provision/install-node.sh first"
PM2="$(command -v pm2 2>/dev/null)" || die "pm2 is not on PATH; run provision/install-node.sh first"
id "$RUN_USER" >/dev/null 2>&1 || die "BAZAR_USER '$RUN_USER' does not exist"
RUN_GROUP="$(id -gn "$RUN_USER")"
USER_HOME="$(getent passwd "$RUN_USER" | cut -d: -f6)"
PM2_HOME="${PM2_HOME:-$USER_HOME/.pm2}"
[ "$(id -un)" = "$RUN_USER" ] || [ "$(id -u)" -eq 0 ] || die "running as BAZAR_USER '$RUN_USER' needs root"

for dir in "$APP_DIR" "$DATA_DIR" "$ENV_DIR" "$PM2_HOME"; do
  case "$dir" in
    /?*) ;;
    *) die "'$dir' must be an absolute path other than /" ;;
  esac
done
APP_DIR="${APP_DIR%/}"
DATA_DIR="${DATA_DIR%/}"
case "$SRC/" in "$APP_DIR"/*) die "BAZAR_APP_DIR ($APP_DIR) must not contain the source tree ($SRC): it is replaced" ;; esac
# It is about to be deleted: only an earlier Bazar install (or nothing) may be there.
if [ -n "$(ls -A "$APP_DIR" 2>/dev/null)" ] && ! grep -qs '"name": "bazar"' "$APP_DIR/package.json"; then
  die "BAZAR_APP_DIR ($APP_DIR) holds something other than Bazar; refusing to replace it"
fi
case "$DATA_DIR/" in "$APP_DIR"/*) die "BAZAR_DATA_DIR ($DATA_DIR) must live outside BAZAR_APP_DIR ($APP_DIR)" ;; esac
case "$BOOT" in
  none) ;;
  systemd)
    [ "$(id -u)" -eq 0 ] || die "BAZAR_BOOT=systemd needs root"
    [ -d /run/systemd/system ] || die "systemd is not running here; use BAZAR_BOOT=none"
    # pm2's systemd unit always uses ~user/.pm2.
    [ "$PM2_HOME" = "$USER_HOME/.pm2" ] || die "PM2_HOME other than $USER_HOME/.pm2 needs BAZAR_BOOT=none"
    ;;
  *) die "BAZAR_BOOT must be systemd or none, got '$BOOT'" ;;
esac

# Hosts file -> this role's port, all three ports, the catalog's and the order server's URLs.
# shellcheck disable=SC2016 # JavaScript, not shell
hosts_line="$(node -e '
  const [file, role] = process.argv.slice(1);
  const { hosts } = JSON.parse(require("node:fs").readFileSync(file, "utf8"));
  for (const r of ["catalog", "order", "frontend"]) {
    const h = hosts && hosts[r];
    if (!h || !/^\d+\.\d+\.\d+\.\d+$/.test(h.ip) || !Number.isInteger(h.port)) {
      console.error(`${file}: hosts.${r} needs an "ip" (IPv4) and an integer "port"`);
      process.exit(1);
    }
  }
  const url = (r) => `http://${hosts[r].ip}:${hosts[r].port}`;
  console.log([hosts[role].port, hosts.catalog.port, hosts.order.port, hosts.frontend.port, url("catalog"), url("order")].join(" "));
' "$HOSTS_FILE" "$ROLE")" || die "cannot read $HOSTS_FILE"
read -r PORT CATALOG_PORT ORDER_PORT FRONTEND_PORT CATALOG_URL ORDER_URL <<<"$hosts_line"
CATALOG_URL="${BAZAR_CATALOG_URL:-$CATALOG_URL}"
ORDER_URL="${BAZAR_ORDER_URL:-$ORDER_URL}"

TOKEN="${BAZAR_TOKEN:-}"
if [ -z "$TOKEN" ] && [ -n "${BAZAR_TOKEN_FILE:-}" ]; then
  TOKEN="$(tr -d '[:space:]' <"$BAZAR_TOKEN_FILE")" || die "cannot read BAZAR_TOKEN_FILE $BAZAR_TOKEN_FILE"
fi
if [ -z "$TOKEN" ] && [ -r "$ENV_FILE" ]; then
  TOKEN="$(sed -n 's/^BAZAR_TOKEN=//p' "$ENV_FILE" | tail -n 1)"
  [ -z "$TOKEN" ] || log "keeping the token from $ENV_FILE"
fi
[ -n "$TOKEN" ] || die "BAZAR_TOKEN is not set (the same value on all three hosts; try: openssl rand -hex 32)"
# Stricter than the services' own check: the value goes into a file that shells source.
[[ "$TOKEN" =~ ^[A-Za-z0-9._~+/=-]{16,256}$ ]] ||
  die "BAZAR_TOKEN must be 16-256 characters of A-Z a-z 0-9 . _ ~ + / = - (try: openssl rand -hex 32)"

# Runs a command as BAZAR_USER with a clean environment: only what pm2 and the service need.
as_user() {
  local clean=(env -i "PATH=$PATH" "HOME=$USER_HOME" "USER=$RUN_USER" "PM2_HOME=$PM2_HOME" "LANG=C.UTF-8")
  if [ "$(id -un)" = "$RUN_USER" ]; then
    "${clean[@]}" "$@"
  else
    runuser -u "$RUN_USER" -- "${clean[@]}" "$@"
  fi
}

pm2_daemon_running() {
  local pid
  pid="$(cat "$PM2_HOME/pm2.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# True when $SRC/node_modules was installed from exactly $SRC/package-lock.json (npm's hidden lockfile agrees).
node_modules_match_lock() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const [lockFile, hiddenFile] = process.argv.slice(1);
    const lock = require(lockFile).packages, hidden = require(hiddenFile).packages;
    const bad = Object.entries(lock).filter(([p, meta]) => p !== "" && !(hidden[p] ? hidden[p].version === meta.version : meta.optional));
    const extra = Object.keys(hidden).filter((p) => !(p in lock));
    if (bad.length || extra.length) { console.error(`differs: ${bad.concat(extra).slice(0, 5).join(", ")}`); process.exit(1); }
  ' "$SRC/package-lock.json" "$SRC/node_modules/.package-lock.json"
}

reuse_node_modules() {
  local from
  if [ ! -f "$SRC/node_modules/.package-lock.json" ]; then
    log "no npm-installed node_modules in $SRC to reuse"
    return 1
  fi
  node_modules_match_lock || { log "$SRC/node_modules does not match package-lock.json"; return 1; }
  from="$(readlink -f "$SRC/node_modules")"
  cp -al "$from" "$APP_DIR/node_modules" 2>/dev/null || { rm -rf "$APP_DIR/node_modules"; cp -a "$from" "$APP_DIR/node_modules"; }
  if ! (cd "$APP_DIR" && node -e 'new (require("better-sqlite3"))(":memory:").close()') >/dev/null 2>&1; then
    log "the reused better-sqlite3 does not load with Node $(node --version)"
    rm -rf "$APP_DIR/node_modules"
    return 1
  fi
  log "reused $from (same package-lock.json, same Node ABI)"
}

# --- install -------------------------------------------------------------------------------------------------------
log "installing $SRC into $APP_DIR (data in $DATA_DIR, pm2 as $RUN_USER with PM2_HOME=$PM2_HOME)"
if pm2_daemon_running; then
  if as_user "$PM2" delete "$ROLE" >/dev/null 2>&1; then log "stopped the running $ROLE"; fi
fi

rm -rf "${APP_DIR:?}"
install -d -m 0755 "$APP_DIR"
tar -C "$SRC" -cf - \
  --exclude=./node_modules --exclude=./dist --exclude=./data --exclude=./.git --exclude=./.vagrant \
  --exclude=./.pm2 --exclude=./logs --exclude=./test-artifacts --exclude=./bench/results \
  --exclude='*.db' --exclude='*.db-wal' --exclude='*.db-shm' --exclude='*.log' --exclude=./.env \
  . | tar -C "$APP_DIR" --no-same-owner -xf -

if [ "$REUSE" = 1 ] && reuse_node_modules; then
  :
else
  log "npm ci (compiles better-sqlite3 when no prebuilt binary fits; can take minutes)"
  (cd "$APP_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
log "building"
(cd "$APP_DIR" && npm run --silent build)

install -d -m 0750 "$DATA_DIR"
install -d -m 0755 "$ENV_DIR"
if [ "$(id -u)" -eq 0 ]; then chown "$RUN_USER:$RUN_GROUP" "$DATA_DIR"; fi

tmp="$(mktemp "$ENV_DIR/.$ROLE.env.XXXXXX")"
cat >"$tmp" <<EOF
# Bazar $ROLE on this host, written by provision/install-app.sh (a re-provision rewrites it).
# pm2 reads it through ecosystem.config.js: set -a; . $ENV_FILE; set +a; pm2 start ecosystem.config.js --only $ROLE
BAZAR_ROLE=$ROLE
HOST=$BIND
FRONTEND_PORT=$FRONTEND_PORT
CATALOG_PORT=$CATALOG_PORT
ORDER_PORT=$ORDER_PORT
CATALOG_URL=$CATALOG_URL
ORDER_URL=$ORDER_URL
BAZAR_DATA_DIR=$DATA_DIR
LOG_LEVEL=${LOG_LEVEL:-info}
BAZAR_TOKEN=$TOKEN
EOF
chmod 0640 "$tmp"
if [ "$(id -u)" -eq 0 ]; then chown "root:$RUN_GROUP" "$tmp"; fi
mv -f "$tmp" "$ENV_FILE"

# --- start ---------------------------------------------------------------------------------------------------------
log "starting $ROLE under pm2"
# shellcheck disable=SC2016 # expanded by the inner shell, which gets the values as arguments
as_user bash -c 'set -a; . "$1"; set +a; exec "$2" start "$3" --only "$4"' _ \
  "$ENV_FILE" "$PM2" "$APP_DIR/ecosystem.config.js" "$ROLE" >/dev/null

probe_host="$BIND"
[ "$probe_host" != 0.0.0.0 ] || probe_host=127.0.0.1
if ! node -e '
  const [url, ms] = [process.argv[1], Number(process.argv[2])];
  const deadline = Date.now() + ms;
  (async () => {
    for (;;) {
      try { const res = await fetch(url); await res.arrayBuffer(); if (res.ok) return; } catch {}
      if (Date.now() > deadline) process.exit(1);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
' "http://$probe_host:$PORT/healthz" 30000; then
  as_user "$PM2" logs "$ROLE" --lines 40 --nostream >&2 || true
  die "$ROLE did not answer http://$probe_host:$PORT/healthz within 30 s (its pm2 logs are above)"
fi
log "$ROLE is up on port $PORT"

# The saved list is what `pm2 resurrect` starts at boot, with the environment the role has now.
as_user "$PM2" save --force >/dev/null
if [ "$BOOT" = systemd ]; then
  "$PM2" startup systemd -u "$RUN_USER" --hp "$USER_HOME" >/dev/null
  log "pm2-$RUN_USER.service starts pm2 (and $ROLE) at boot"
else
  log "BAZAR_BOOT=none: no boot service registered"
fi
log "done: logs with 'pm2 logs $ROLE' as $RUN_USER"
