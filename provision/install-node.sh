#!/usr/bin/env bash
# Prepares a Debian or Ubuntu machine to build and run Bazar, as root: Node.js 24 LTS (from NodeSource), the C/C++
# build tools a native module needs, and the pm2 version the project pins, installed globally.
#
# Checks the OS first: Node.js 18 and later need glibc 2.28 or newer, so an older system (e.g. Ubuntu 18.04) stops
# here with one sentence instead of an apt error half-way. Idempotent: what is already there (a Node >= BAZAR_NODE_MIN
# with npm, make + g++ + python3, the pinned pm2) is left alone, and only what is missing needs the internet.
#
#   sudo provision/install-node.sh               Node, build tools and pm2: a machine that runs a service
#   sudo provision/install-node.sh --node-only   Node alone: a database guest, whose scripts only read hosts.json
#
# Environment:
#   BAZAR_SRC         the project tree (default: the folder above this script); its package-lock.json pins pm2
#   BAZAR_NODE_MIN    lowest acceptable Node version (default 24.0.0: Node 20 reached end of life on 2026-04-30)
#   BAZAR_NODE_MAJOR  the NodeSource line to install when Node is missing or too old (default 24)
set -euo pipefail

SRC="${BAZAR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
NODE_MIN="${BAZAR_NODE_MIN:-24.0.0}"
NODE_MAJOR="${BAZAR_NODE_MAJOR:-24}"
GLIBC_MIN=2.28

log() { printf 'install-node: %s\n' "$*"; }
die() { printf 'install-node: error: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
  '') NODE_ONLY=0 ;;
  --node-only) NODE_ONLY=1 ;;
  *) die "usage: $0 [--node-only]" ;;
esac

# version_ge A B: A >= B for dotted versions.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

os_name() {
  # shellcheck disable=SC1091 # the OS's own file
  (. /etc/os-release 2>/dev/null && printf '%s\n' "${PRETTY_NAME:-$ID}") || uname -sr
}

glibc_version() {
  local v
  v="$(getconf GNU_LIBC_VERSION 2>/dev/null)" && { printf '%s\n' "${v##* }"; return; }
  ldd --version 2>/dev/null | head -n 1 | grep -oE '[0-9]+\.[0-9]+$'
}

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

apt_install() {
  need_root "installing $*"
  command -v apt-get >/dev/null 2>&1 || die "$(os_name) has no apt-get; install $* yourself, then run this again"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "$@"
}

install_node() {
  apt_install ca-certificates curl gnupg
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key |
    gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  printf 'deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_%s.x nodistro main\n' \
    "$NODE_MAJOR" >/etc/apt/sources.list.d/nodesource.list
  apt_install nodejs
}

# --- the OS first ---------------------------------------------------------------------------------------------------
glibc="$(glibc_version || true)"
[ -n "$glibc" ] || die "$(os_name) has no GNU C library (glibc) that this script can find; Node.js's Linux builds need glibc $GLIBC_MIN or newer"
version_ge "$glibc" "$GLIBC_MIN" ||
  die "$(os_name) has glibc $glibc, but Node.js 18 and later need glibc $GLIBC_MIN or newer: use Ubuntu 20.04 or later (the Vagrantfile's box is Ubuntu 24.04) or Debian 10 or later."
log "$(os_name), glibc $glibc"

# --- Node -----------------------------------------------------------------------------------------------------------
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
command -v npm >/dev/null 2>&1 || die "Node $current is present but npm is not on PATH (install npm for it, or remove this Node so NodeSource's comes with npm)"

if [ "$NODE_ONLY" = 1 ]; then
  log "--node-only: no build tools, no pm2"
  exit 0
fi

# --- build tools: npm ci compiles better-sqlite3 whenever no prebuilt binary fits (another Node, CPU or libc, or no
# way to download one), whoever installed Node -----------------------------------------------------------------------
missing=()
for tool in make g++ python3; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -eq 0 ]; then
  log "build tools are present (make, g++, python3); skipping their install"
else
  log "build tools missing (${missing[*]}); installing build-essential and python3"
  apt_install build-essential python3
fi

# --- pm2 ------------------------------------------------------------------------------------------------------------
wanted="$(node -p "(require('$SRC/package-lock.json').packages['node_modules/pm2'] || {}).version || ''" 2>/dev/null || true)"
[ -n "$wanted" ] || die "cannot read pm2's version from $SRC/package-lock.json (set BAZAR_SRC to the project tree)"
have="$(pm2_version || true)"
if [ "$have" = "$wanted" ]; then
  log "pm2 $have is present; skipping the pm2 install"
else
  need_root "installing pm2 globally"
  log "pm2 ${have:-(none)} found, the project pins $wanted; installing pm2@$wanted"
  npm install --global --no-audit --no-fund --loglevel=error "pm2@$wanted"
fi
