#!/usr/bin/env bash
# Installs Node.js 20 (from NodeSource) and pm2 on a Debian/Ubuntu machine, as root.
#
# Idempotent: a suitable Node (>= BAZAR_NODE_MIN) is left alone, and so is a pm2 of the version the project's
# package-lock.json pins (the same one install-app.sh would find in the app's node_modules, so `pm2 logs` and the
# daemon never disagree). Only when something is missing does it need the internet.
#
# Environment:
#   BAZAR_SRC       the project tree (default: the folder above this script); its package-lock.json pins pm2
#   BAZAR_NODE_MIN  lowest acceptable Node version (default 20.18.1, as package.json's engines)
#   BAZAR_NODE_MAJOR  the NodeSource line to install when Node is missing or too old (default 20)
set -euo pipefail

SRC="${BAZAR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
NODE_MIN="${BAZAR_NODE_MIN:-20.18.1}"
NODE_MAJOR="${BAZAR_NODE_MAJOR:-20}"

log() { printf 'install-node: %s\n' "$*"; }
die() { printf 'install-node: error: %s\n' "$*" >&2; exit 1; }

# version_ge A B: A >= B for dotted versions.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

node_version() {
  local v
  command -v node >/dev/null 2>&1 || return 1
  v="$(node --version 2>/dev/null)" || return 1
  printf '%s\n' "${v#v}"
}

# The installed pm2's version, read from its package.json: `pm2 --version` would spawn a daemon.
pm2_version() {
  local bin
  bin="$(command -v pm2 2>/dev/null)" || return 1
  bin="$(readlink -f "$bin")"
  node -p "require('$(dirname "$bin")/../package.json').version" 2>/dev/null
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 needs root (run with sudo)"
}

install_node() {
  need_root "installing Node.js"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # build-essential and python3: npm ci compiles better-sqlite3 when no prebuilt binary fits.
  apt-get install -y -q ca-certificates curl gnupg build-essential python3
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key |
    gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  printf 'deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_%s.x nodistro main\n' \
    "$NODE_MAJOR" >/etc/apt/sources.list.d/nodesource.list
  apt-get update -q
  apt-get install -y -q nodejs
}

current="$(node_version || true)"
if [ -n "$current" ] && version_ge "$current" "$NODE_MIN"; then
  log "Node $current is present (>= $NODE_MIN); skipping the Node install"
else
  log "Node ${current:-(none)} is missing or older than $NODE_MIN; installing Node $NODE_MAJOR from NodeSource"
  install_node
  current="$(node_version)" || die "node is still not on PATH after installing"
  version_ge "$current" "$NODE_MIN" || die "installed Node $current, still older than $NODE_MIN"
  log "installed Node $current"
fi

wanted="$(node -p "(require('$SRC/package-lock.json').packages['node_modules/pm2'] || {}).version || ''" 2>/dev/null || true)"
[ -n "$wanted" ] || die "cannot read pm2's version from $SRC/package-lock.json (set BAZAR_SRC to the project tree)"
have="$(pm2_version || true)"
if [ "$have" = "$wanted" ]; then
  log "pm2 $have is present; skipping the pm2 install"
else
  need_root "installing pm2 globally"
  log "pm2 ${have:-(none)} found, the project pins $wanted; installing pm2@$wanted"
  npm install --global --no-audit --no-fund "pm2@$wanted"
fi
