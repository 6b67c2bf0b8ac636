#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packet fuzzing through the gateway (tests/e2e/pktfuzz.py does the packets):
#
#   core (10.200.0.1) --c0--gc-- gw --gv1--eth0-- vpn1 (10.1.0.0/16 local)
#                                   \--gv2--eth0-- vpn2 (MTU 1280)
#
# VPN 1 maps 10.1.0.0-3 and the prefix 10.1.1.0/28, VPN 2 10.1.0.0-1, all
# from pool 10.153.0.0/16. gw runs conntrack (so fragments are reassembled
# between the hooks). The fuzzer injects mutated and truncated packets from
# vpn1 and core (COUNT each way, 5,000 unless told; SEED, the time unless
# told, printed first), GSO/CHECKSUM_PARTIAL
# TCP with virtio-net headers from vpn1, UDP_SEGMENT datagrams and a TCP bulk
# transfer from gw itself, and judges every packet arriving in vpn1, vpn2
# and core. nft counters count, losslessly, what must never arrive: a NAT
# destination in a VPN, a real source in core. Prints rnat's counters: what
# it translated and dropped, by reason. A kernel splat fails the VM run.
#
# Usage: tests/e2e/pktfuzz.sh MODULE.ko [COUNT [SEED]]  (ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: pktfuzz.sh MODULE.ko [COUNT [SEED]]}
COUNT=${2:-5000}
SEED=${3:-$(date +%s)}

cleanup() {
	local ns
	for ns in core gw vpn1 vpn2; do
		ip netns del "$ns" 2>/dev/null
	done
}
trap cleanup EXIT
rnat() { "$RNATCTL" -n gw "$@"; }
# (Anonymous counters: the test kernel has no NFT_OBJREF for named ones.)
counter() { n "$1" nft list chain ip watch pre | grep -o 'packets [0-9]*' | cut -d' ' -f2; }

expect "insmod rnat" insmod "$MODULE"
for ns in core gw vpn1 vpn2; do
	ip netns add "$ns"
	n "$ns" ip link set lo up
	n "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
done
ip link add c0 netns core type veth peer name gc netns gw
n core ip addr add 10.200.0.1/24 dev c0
n core ip link set c0 up
n core ip route add 10.0.0.0/8 via 10.200.0.254
n gw ip addr add 10.200.0.254/24 dev gc
n gw ip link set gc up
n gw sysctl -qw net.ipv4.ip_forward=1
for v in 1 2; do
	ip link add "gv$v" netns gw type veth peer name eth0 netns "vpn$v"
	n gw ip addr add 169.254.0.1/32 dev "gv$v"
	n gw ip link set "gv$v" up
	n "vpn$v" ip addr add 10.1.0.0/32 dev eth0
	# Every customer address is the host's: it answers ARP for all.
	n "vpn$v" ip route add local 10.1.0.0/16 dev lo
	n "vpn$v" ip link set eth0 up
	n "vpn$v" ip route add default via 169.254.0.1 dev eth0 onlink
done
n gw ip link set gv2 mtu 1280
n vpn2 ip link set eth0 mtu 1280
# conntrack and defrag in gw, counting what it finds invalid.
n gw nft -f - <<'EOF'
table ip conn {
	chain invalid {
		type filter hook forward priority 0;
		ct state invalid counter
	}
}
EOF
for ns in vpn1 vpn2 core; do
	if [ "$ns" = core ]; then rule='ip saddr 10.1.0.0/16'; else rule='ip daddr 10.153.0.0/16'; fi
	n "$ns" nft -f - <<EOF
table ip watch {
	chain pre {
		type filter hook prerouting priority -500;
		$rule counter
	}
}
EOF
done

expect "pool, VPNs 1 and 2, their mappings" rnat -b - <<'EOF'
pool add P 10.153.0.0/16
vpn add 1 pool P dev gv1
vpn add 2 pool P dev gv2
map add vpn 1 real 10.1.0.0
map add vpn 1 real 10.1.0.1
map add vpn 1 real 10.1.0.2
map add vpn 1 real 10.1.0.3
map add vpn 1 real 10.1.1.0/28
map add vpn 2 real 10.1.0.0
map add vpn 2 real 10.1.0.1
EOF
# "vpn 1 real 10.1.1.0/28 nat 10.153.0.16/28 pool P" -> 1:10.1.1.0/28:10.153.0.16
mapfile -t maps < <(rnat map show | awk '{ r = $4; if (r !~ /\//) r = r "/32";
	sub(/\/.*/, "", $6); print $2 ":" r ":" $6 }')
echo "# mappings: ${maps[*]}"

start=$SECONDS
/usr/bin/python3 tests/e2e/pktfuzz.py "$SEED" "$COUNT" "${maps[@]}"
rc=$?
echo "# pktfuzz.py ran $((SECONDS - start)) s (exit $rc)"
echo "# rnat: $(rnat stats)"
echo "# gw conntrack invalid: $(n gw nft list chain ip conn invalid | grep -o 'packets [0-9]*')"
expect_eq "pktfuzz: nft saw no NAT destination in vpn1 or vpn2, no real source in core" \
	"0 0 0" "$(counter vpn1) $(counter vpn2) $(counter core)"
expect "pktfuzz: rnat counted malformed packets (drop_malformed > 0)" \
	[ "$(rnat_stat gw drop_malformed)" -gt 0 ]
expect "pktfuzz: rnat translated both ways" \
	[ "$(rnat_stat gw in_translated)" -gt 0 -a "$(rnat_stat gw out_translated)" -gt 0 ]
[ "$rc" = 0 ] || fail "pktfuzz: seed $SEED (reproduce: pktfuzz.sh MODULE $COUNT $SEED)"

vpns() { rnat -b - <<'EOF'
vpn del 1
vpn del 2
EOF
}
vpns >/dev/null
cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
