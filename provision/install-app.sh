#!/usr/bin/env bash
# Installs one Bazar role on this machine and starts it under pm2: restarted when it crashes, started again at boot.
#
#   sudo BAZAR_TOKEN_FILE=<file with the shared secret> provision/install-app.sh <catalog|order|frontend>
#
# Steps: copy the project (without node_modules, dist, data) to BAZAR_APP_DIR; `npm ci`, whose `prepare` step builds
# dist/ (TypeScript compiles once); write the token to BAZAR_ENV_DIR/token and the role's env file (its address and
# port, the other guests' URLs, the token file's path: not the token); register pm2 with systemd
# (`pm2 startup systemd`) and start that unit, so the pm2 daemon runs under systemd and `systemctl status` tells the
# truth; `pm2 start ecosystem.config.js --only <role>`; wait until it answers /healthz; `pm2 save`, which is what the
# unit resurrects at boot. Running it again re-installs the code; the database in BAZAR_DATA_DIR is never touched.
# Needs Node >= 20.18.1 and pm2 on PATH (install-node.sh).
#
# The token is read once, then removed from this script's environment, so neither `npm ci` (and every package's
# install script) nor pm2's saved dump ever sees it; the service reads it from the file. The same for the database
# password, when the hosts file gives this guest a DATABASE_URL (a catalog or order guest of a topology with
# database guests): written to BAZAR_ENV_DIR/db-password, named by DATABASE_PASSWORD_FILE in the env file.
#
# Environment (defaults in brackets):
#   BAZAR_TOKEN_FILE   a file holding the secret all services share (16-256 of A-Z a-z 0-9 . _ ~ + / = -); or
#   BAZAR_TOKEN        the secret itself; required unless an earlier run left BAZAR_ENV_DIR/token
#   BAZAR_SRC          the project tree to install [the folder above this script]
#   BAZAR_HOSTS_FILE   guests, addresses, ports [$BAZAR_SRC/provision/hosts.json]; BAZAR_TOPOLOGY [single] picks
#                      the topology in it, BAZAR_NETWORK moves every address to another /24
#   BAZAR_GUEST        this machine's guest in the topology [the role]
#   BAZAR_BIND         the address the service binds [the guest's address from the hosts file]
#   BAZAR_CATALOG_URL, BAZAR_ORDER_URL   override the URLs derived from the hosts file
#   BAZAR_DB_PASSWORD_FILE  a file holding the database password (or BAZAR_DB_PASSWORD, the password); needed when
#                      the hosts file gives this guest a DATABASE_URL, unless an earlier run left BAZAR_ENV_DIR/db-password
#   BAZAR_APP_FROM     an install this script made elsewhere (another guest's BAZAR_APP_DIR, copied here) whose
#                      node_modules and dist/ are taken instead of running npm ci: same package-lock.json, its
#                      native module loads on this Node, dist/ rebuilt if the sources are newer. Builds once for
#                      many replicas (the replicated guest test does this); unset: npm ci, the normal path
#   BAZAR_APP_DIR      where the code goes; replaced on every run [/opt/bazar]
#   BAZAR_DATA_DIR     where the databases live; kept across runs [/var/lib/bazar]
#   BAZAR_ENV_DIR      where <role>.env and token are written [/etc/bazar]
#   BAZAR_USER         who runs pm2 and the service [$SUDO_USER, else the current user]
#   PM2_HOME           that user's pm2 folder [~BAZAR_USER/.pm2]; another value needs BAZAR_BOOT=none
#   BAZAR_BOOT         systemd: pm2 runs under its systemd unit; none: leave boot alone (tests) [systemd]
#   LOG_LEVEL          written to the env file [info]
set -euo pipefail
export LC_ALL=C NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

log() { printf 'install-app[%s]: %s\n' "${ROLE:-?}" "$*"; }
die() { printf 'install-app[%s]: error: %s\n' "${ROLE:-?}" "$*" >&2; exit 1; }

# The secret first, out of the environment before anything else runs.
TOKEN="${BAZAR_TOKEN:-}"
TOKEN_SOURCE="${BAZAR_TOKEN_FILE:-}"
DB_PASSWORD="${BAZAR_DB_PASSWORD:-}"
DB_PASSWORD_SOURCE="${BAZAR_DB_PASSWORD_FILE:-}"
unset BAZAR_TOKEN BAZAR_TOKEN_FILE BAZAR_DB_PASSWORD BAZAR_DB_PASSWORD_FILE

ROLE="${1:-}"
case "$ROLE" in
  catalog | order | frontend) ;;
  *) die "usage: $0 <catalog|order|frontend>" ;;
esac

SRC="$(cd "${BAZAR_SRC:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd -P)"
GUEST="${BAZAR_GUEST:-$ROLE}"
APP_DIR="${BAZAR_APP_DIR:-/opt/bazar}"
DATA_DIR="${BAZAR_DATA_DIR:-/var/lib/bazar}"
ENV_DIR="${BAZAR_ENV_DIR:-/etc/bazar}"
RUN_USER="${BAZAR_USER:-${SUDO_USER:-$(id -un)}}"
BOOT="${BAZAR_BOOT:-systemd}"
ENV_FILE="$ENV_DIR/$ROLE.env"
TOKEN_FILE="$ENV_DIR/token"
DB_PASSWORD_FILE="$ENV_DIR/db-password"
APP_FROM="${BAZAR_APP_FROM:-}"

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

# The hosts file -> this guest's role, address and port, the other roles' ports and URLs (provision/topology.js).
guest_env="$(BAZAR_HOSTS_FILE="${BAZAR_HOSTS_FILE:-$SRC/provision/hosts.json}" node "$SRC/provision/topology.js" env "$GUEST")" ||
  die "cannot read this guest from the hosts file"
DATABASE_URL=''
while IFS='=' read -r key value; do
  case "$key" in
    BAZAR_GUEST_ROLE) GUEST_ROLE="$value" ;;
    BAZAR_GUEST_IP) GUEST_IP="$value" ;;
    PORT) PORT="$value" ;;
    CATALOG_PORT) CATALOG_PORT="$value" ;;
    ORDER_PORT) ORDER_PORT="$value" ;;
    FRONTEND_PORT) FRONTEND_PORT="$value" ;;
    CATALOG_URL) CATALOG_URL="$value" ;;
    ORDER_URL) ORDER_URL="$value" ;;
    DATABASE_URL) DATABASE_URL="$value" ;;
  esac
done <<<"$guest_env"
[ "$GUEST_ROLE" = "$ROLE" ] || die "guest '$GUEST' is a $GUEST_ROLE in the hosts file, not a $ROLE (set BAZAR_GUEST)"
CATALOG_URL="${BAZAR_CATALOG_URL:-$CATALOG_URL}"
ORDER_URL="${BAZAR_ORDER_URL:-$ORDER_URL}"
BIND="${BAZAR_BIND:-$GUEST_IP}"
# Binding an address this machine does not have fails at every start; say so now, with the fix.
# shellcheck disable=SC2016 # JavaScript, not shell
if [ "$BIND" != 0.0.0.0 ] && ! node -e '
  const ip = process.argv[1];
  process.exit(Object.values(require("node:os").networkInterfaces()).flat().some((i) => i.address === ip) ? 0 : 1);
' "$BIND"; then
  die "this machine has no address $BIND to bind (guest '$GUEST' in the hosts file); fix provision/hosts.json or set BAZAR_BIND"
fi

# A secret as given (already out of the environment), else from the file given, else the one an earlier run kept
# here (provisioning again without it): into the variable named $1.
take_secret() {
  local var="$1" source="$2" kept="$3" given_as="$4" what="$5" value="${!1}"
  if [ -z "$value" ] && [ -n "$source" ]; then
    value="$(tr -d '[:space:]' <"$source")" || die "cannot read $given_as $source"
  fi
  if [ -z "$value" ] && [ -r "$kept" ]; then
    value="$(tr -d '[:space:]' <"$kept")"
    [ -z "$value" ] || log "keeping the $what in $kept"
  fi
  printf -v "$var" '%s' "$value"
}

take_secret TOKEN "$TOKEN_SOURCE" "$TOKEN_FILE" BAZAR_TOKEN_FILE token
[ -n "$TOKEN" ] || die "no token: set BAZAR_TOKEN_FILE to a file holding it (the same on every host; try: openssl rand -hex 32 > token)"
[[ "$TOKEN" =~ ^[A-Za-z0-9._~+/=-]{16,256}$ ]] ||
  die "the token must be 16-256 characters of A-Z a-z 0-9 . _ ~ + / = - (try: openssl rand -hex 32)"

# PostgreSQL (the hosts file has database guests): the URL names the user, the password goes in a file of its own.
if [ -n "$DATABASE_URL" ]; then
  take_secret DB_PASSWORD "$DB_PASSWORD_SOURCE" "$DB_PASSWORD_FILE" BAZAR_DB_PASSWORD_FILE 'database password'
  [ -n "$DB_PASSWORD" ] || die "no database password: set BAZAR_DB_PASSWORD_FILE to the file install-postgres-ha.sh was given"
  [[ "$DB_PASSWORD" =~ ^[A-Za-z0-9._~-]{16,128}$ ]] ||
    die "the database password must be 16-128 characters of A-Z a-z 0-9 . _ ~ - (try: openssl rand -hex 24)"
fi

if [ -n "$APP_FROM" ]; then
  APP_FROM="$(cd "$APP_FROM" && pwd -P)" || die "BAZAR_APP_FROM ($APP_FROM) is not a folder"
  if [ ! -d "$APP_FROM/node_modules" ] || [ ! -f "$APP_FROM/dist/.built" ]; then
    die "BAZAR_APP_FROM ($APP_FROM) is not an install this script made (no node_modules or dist/)"
  fi
  cmp -s "$APP_FROM/package-lock.json" "$SRC/package-lock.json" ||
    die "BAZAR_APP_FROM ($APP_FROM) was installed from another package-lock.json than $SRC's; unset it to run npm ci"
fi

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

# --- install -------------------------------------------------------------------------------------------------------
log "installing $SRC into $APP_DIR (data in $DATA_DIR, pm2 as $RUN_USER, binds $BIND:$PORT)"
if pm2_daemon_running; then
  if as_user "$PM2" delete "$ROLE" >/dev/null 2>&1; then log "stopped the running $ROLE"; fi
fi

rm -rf "${APP_DIR:?}"
install -d -m 0755 "$APP_DIR"
tar -C "$SRC" -cf - \
  --exclude=./node_modules --exclude=./dist --exclude=./data --exclude=./.git --exclude=./.vagrant \
  --exclude=./.cache --exclude=./.pm2 --exclude=./logs --exclude=./test-artifacts --exclude=./bench/results \
  --exclude='*.db' --exclude='*.db-wal' --exclude='*.db-shm' --exclude='*.log' --exclude=./.env \
  . | tar -C "$APP_DIR" --no-same-owner -xf -

if [ -n "$APP_FROM" ]; then
  log "taking node_modules and dist/ from $APP_FROM instead of npm ci"
  cp -a "$APP_FROM/node_modules" "$APP_FROM/dist" "$APP_DIR/"
  # The native module must load on this machine's Node (same ABI, CPU and libc as where it was built).
  # shellcheck disable=SC2016 # JavaScript, not shell
  (cd "$APP_DIR" && node -e 'new (require("better-sqlite3"))(":memory:").close()') ||
    die "better-sqlite3 from BAZAR_APP_FROM does not load on this Node ($(node --version)); unset BAZAR_APP_FROM to run npm ci"
  # Rebuilds only when a source here is newer than that build (build-if-needed compares their times).
  (cd "$APP_DIR" && node scripts/build-if-needed.js)
else
  log "npm ci (its prepare step builds dist/; compiles better-sqlite3 when no prebuilt binary fits, which takes minutes)"
  (cd "$APP_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  if [ -f "$APP_DIR/dist/.built" ]; then
    log "dist/ was built by npm ci's prepare step"
  else
    log "building dist/"
    (cd "$APP_DIR" && npm run --silent build)
  fi
fi

install -d -m 0750 "$DATA_DIR"
install -d -m 0755 "$ENV_DIR"
if [ "$(id -u)" -eq 0 ]; then chown "$RUN_USER:$RUN_GROUP" "$DATA_DIR"; fi

# write_private FILE: stdin to FILE, readable by root and BAZAR_USER's group only, replaced atomically.
write_private() {
  local tmp
  tmp="$(mktemp "$(dirname "$1")/.$(basename "$1").XXXXXX")"
  cat >"$tmp"
  chmod 0640 "$tmp"
  if [ "$(id -u)" -eq 0 ]; then chown "root:$RUN_GROUP" "$tmp"; fi
  mv -f "$tmp" "$1"
}
printf '%s\n' "$TOKEN" | write_private "$TOKEN_FILE"
database_settings=''
if [ -n "$DATABASE_URL" ]; then
  printf '%s\n' "$DB_PASSWORD" | write_private "$DB_PASSWORD_FILE"
  # ecosystem.config.js hands CATALOG_DATABASE_URL or ORDER_DATABASE_URL to the role as its DATABASE_URL.
  database_settings="$(printf '%s_DATABASE_URL=%s\nDATABASE_PASSWORD_FILE=%s' "${ROLE^^}" "$DATABASE_URL" "$DB_PASSWORD_FILE")"
fi
write_private "$ENV_FILE" <<EOF
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
BAZAR_TOKEN_FILE=$TOKEN_FILE
$database_settings
EOF

# --- start ---------------------------------------------------------------------------------------------------------
UNIT="pm2-$RUN_USER.service"
if [ "$BOOT" = systemd ]; then
  "$PM2" startup systemd -u "$RUN_USER" --hp "$USER_HOME" >/dev/null
  # The address it binds and the firewall must be there before pm2 starts the service at boot.
  install -d -m 0755 "/etc/systemd/system/$UNIT.d"
  cat >"/etc/systemd/system/$UNIT.d/bazar.conf" <<EOF
[Unit]
Wants=network-online.target
After=network-online.target bazar-firewall.service
EOF
  systemctl daemon-reload
  if ! systemctl is-active --quiet "$UNIT"; then
    # A daemon started by hand (or by an older provisioning) would hold PM2_HOME; the unit's own takes over.
    if pm2_daemon_running; then as_user "$PM2" kill >/dev/null 2>&1 || true; fi
    systemctl start "$UNIT" || die "$UNIT did not start (systemctl status $UNIT)"
  fi
fi

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
log "$ROLE is up on $BIND:$PORT"

# The saved list is what the unit's `pm2 resurrect` starts at boot, with the environment the role has now.
as_user "$PM2" save --force >/dev/null
if [ "$BOOT" = systemd ]; then
  systemctl is-active --quiet "$UNIT" || die "$UNIT is not active after starting $ROLE"
  log "$UNIT is active and enabled: pm2 (and $ROLE) start again at boot"
else
  log "BAZAR_BOOT=none: no boot service registered"
fi
log "done: logs with 'pm2 logs $ROLE' as $RUN_USER"
