#!/usr/bin/env bash
# Locks one Bazar guest down, as root: lets its service port in only from the hosts that have business there, as
# provision/hosts.json says ("clients" of each role: the catalog from the order and frontend guests and the host, the
# order server from the frontend guest only, the frontend from anyone on the private network). Everything else that
# reaches the port is refused with a TCP reset.
#
#   sudo provision/install-firewall.sh <guest>       (in the `single` topology a guest is named after its role)
#
# The rules live in their own nftables table (`inet bazar`), written to /etc/bazar/firewall.nft and loaded by
# bazar-firewall.service before the network comes up and at every boot; other tables (ufw's, Docker's) are left
# alone, and SSH is not touched. Running it again replaces the table atomically. Needs node (for hosts.json) and
# nft (installs Debian's/Ubuntu's nftables package when missing; that needs the internet).
#
# Environment: BAZAR_SRC, BAZAR_HOSTS_FILE, BAZAR_TOPOLOGY, BAZAR_NETWORK (as for install-app.sh),
#   BAZAR_ENV_DIR [/etc/bazar], BAZAR_BOOT (systemd: install the boot unit; none: only load the rules now) [systemd]
set -euo pipefail

GUEST="${1:-}"
log() { printf 'install-firewall[%s]: %s\n' "${GUEST:-?}" "$*"; }
die() { printf 'install-firewall[%s]: error: %s\n' "${GUEST:-?}" "$*" >&2; exit 1; }

[ -n "$GUEST" ] || die "usage: $0 <guest>"
[ "$(id -u)" -eq 0 ] || die "needs root (run with sudo)"
SRC="$(cd "${BAZAR_SRC:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd -P)"
ENV_DIR="${BAZAR_ENV_DIR:-/etc/bazar}"
BOOT="${BAZAR_BOOT:-systemd}"
RULES="$ENV_DIR/firewall.nft"
UNIT=/etc/systemd/system/bazar-firewall.service

command -v node >/dev/null 2>&1 || die "node is not on PATH; run provision/install-node.sh first"
if ! command -v nft >/dev/null 2>&1; then
  log "nft is missing; installing nftables"
  command -v apt-get >/dev/null 2>&1 || die "no nft and no apt-get: install nftables yourself, then run this again"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nftables
fi
NFT="$(command -v nft)"

install -d -m 0755 "$ENV_DIR"
tmp="$(mktemp "$ENV_DIR/.firewall.nft.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
node "$SRC/provision/topology.js" nft "$GUEST" >"$tmp" || die "cannot make the rules from hosts.json"
"$NFT" -c -f "$tmp" || die "nft rejects the generated rules (kept in $tmp)"
chmod 0644 "$tmp"
mv -f "$tmp" "$RULES"
trap - EXIT

case "$BOOT" in
  systemd)
    [ -d /run/systemd/system ] || die "systemd is not running here; use BAZAR_BOOT=none"
    # Ordered like Debian's nftables.service: loaded before any network is up, so the port is never open unfiltered.
    cat >"$UNIT" <<EOF
[Unit]
Description=Bazar firewall: who may reach this guest's service port ($RULES)
Wants=network-pre.target
Before=network-pre.target shutdown.target
Conflicts=shutdown.target
DefaultDependencies=no

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=$NFT -f $RULES
ExecReload=$NFT -f $RULES
ExecStop=$NFT delete table inet bazar

[Install]
WantedBy=multi-user.target
EOF
    systemctl daemon-reload
    systemctl enable bazar-firewall.service >/dev/null 2>&1
    systemctl restart bazar-firewall.service
    systemctl is-active --quiet bazar-firewall.service || die "bazar-firewall.service is not active (systemctl status bazar-firewall)"
    log "rules loaded from $RULES by bazar-firewall.service (enabled at boot)"
    ;;
  none)
    "$NFT" -f "$RULES"
    log "rules loaded from $RULES (BAZAR_BOOT=none: not loaded at boot)"
    ;;
  *) die "BAZAR_BOOT must be systemd or none, got '$BOOT'" ;;
esac
"$NFT" list table inet bazar | sed -n 's/^[[:space:]]*\(tcp dport .*\)$/\1/p' | while IFS= read -r rule; do log "$rule"; done
