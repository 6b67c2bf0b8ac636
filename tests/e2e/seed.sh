#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The seed's example, end to end, inside the test VM:
#
#   core (10.200.0.1) --- gw --- vpn1 (10.1.0.0)
#                            \--- vpn2 (10.1.0.0)
#
# Both customer hosts use 10.1.0.0. rnat on gw maps each to its own NAT IP
# from pool AWS_USA_EAST_1; core reaches them by NAT IP only and sees their
# connections come from their NAT IPs. The VPN links are veth pairs; rnatctl
# routes each VPN's NAT blocks to its device.
#
# Usage: tests/e2e/seed.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: seed.sh MODULE.ko}

trap seed_cleanup EXIT

expect "insmod rnat" insmod "$MODULE"
seed_topology

rnat() { "$RNATCTL" -n gw "$@"; }

expect "pool add AWS_USA_EAST_1" rnat pool add AWS_USA_EAST_1 \
	10.153.0.0/16 10.157.0.0/16 10.162.0.0/16 10.155.0.0/16
expect "pool add AWS_CAN_CENTRAL" rnat pool add AWS_CAN_CENTRAL 10.160.0.0/16
expect "vpn add 1" rnat vpn add 1 pool AWS_USA_EAST_1 dev gv1 name vpn1
expect "vpn add 2" rnat vpn add 2 pool AWS_USA_EAST_1 dev gv2 name vpn2

NAT1=$(rnat map add vpn 1 real 10.1.0.0 | nat_of)
NAT2=$(rnat map add vpn 2 real 10.1.0.0 | nat_of)
expect_eq "vpn1's 10.1.0.0 gets the pool's first address" 10.153.0.0 "$NAT1"
expect_eq "vpn2's 10.1.0.0 gets the next one" 10.153.0.1 "$NAT2"
expect "map show lists both" bash -c \
	"[ \$($RNATCTL -n gw map show | grep -c 'real 10.1.0.0') = 2 ]"
expect "lookup answers which VPN a NAT IP is" bash -c \
	"$RNATCTL -n gw lookup $NAT2 | grep -q 'vpn 2'"

# Steering: rnatctl keeps a route per VPN NAT block (protocol rnat = 82) and
# an unreachable route per pool prefix.
routes() { n gw ip -o route show proto 82 | sed 's/  */ /g; s/ $//'; }
expect_eq "a route per VPN block, unreachable per pool prefix" \
	"$NAT1 dev gv1 scope link
$NAT2 dev gv2 scope link
unreachable 10.153.0.0/16 metric 2147483647
unreachable 10.155.0.0/16 metric 2147483647
unreachable 10.157.0.0/16 metric 2147483647
unreachable 10.160.0.0/16 metric 2147483647
unreachable 10.162.0.0/16 metric 2147483647" "$(routes | sort)"
seed_wait_servers

for v in 1 2; do
	nat_var=NAT$v
	nat=${!nat_var}
	expect "core pings vpn$v by its NAT IP, reply from $nat" bash -c \
		"ip netns exec core ping -c 2 -W 2 $nat | grep -q 'from $nat'"
	expect_eq "TCP core -> $nat reaches vpn$v, sees core" \
		"vpn$v 10.200.0.1" \
		"$(n core timeout 10 socat -t 5 -T 5 - TCP:"$nat":7 </dev/null)"
	expect_eq "UDP core -> $nat reaches vpn$v, reply from $nat" \
		"vpn$v 10.200.0.1" \
		"$(echo hi | n core timeout 10 socat -t 5 -T 5 - UDP:"$nat":7)"
	expect_eq "TCP vpn$v -> core arrives from $nat" "$nat" \
		"$(n "vpn$v" timeout 10 socat -t 5 -T 5 - TCP:10.200.0.1:8 </dev/null)"
done

# VPN 1 takes two more NAT IPs: its blocks grow to 10.153.0.2/32 and
# 10.153.0.4/31, so 10.153.0.5 is routed into gv1 but not mapped.
expect "vpn 1 maps 10.1.0.1 and 10.1.0.2" rnat -b - <<'EOF'
map add vpn 1 real 10.1.0.1
map add vpn 1 real 10.1.0.2
EOF
expect_eq "vpn 1's blocks" "blocks 10.153.0.0/32 10.153.0.2/32 10.153.0.4/31" \
	"$(rnat vpn show 1 | grep -o 'blocks.*')"
expect_eq "the new blocks are routed to gv1" "10.153.0.4/31 dev gv1 scope link" \
	"$(routes | grep 10.153.0.4)"
before1=$(rx_packets vpn1 eth0)
before2=$(rx_packets vpn2 eth0)
expect_eq "ping to unmapped 10.153.0.5 in vpn 1's block: host unreachable" \
	"From 10.200.0.254 icmp_seq=1 Destination Host Unreachable" \
	"$(n core ping -c 1 -W 2 10.153.0.5 | grep -o 'From.*')"
expect_eq "ping to 10.157.0.9, in the pool but in no block: host unreachable" \
	"From 10.200.0.254 icmp_seq=1 Destination Host Unreachable" \
	"$(n core ping -c 1 -W 2 10.157.0.9 | grep -o 'From.*')"
expect_eq "unmapped traffic reached neither VPN" "0 0" \
	"$(($(rx_packets vpn1 eth0) - before1)) $(($(rx_packets vpn2 eth0) - before2))"
stat() { rnat stats | tr ' ' '\n' | sed -n "/^$1\$/{n;p}"; }
expect_eq "the ping into vpn 1's block was counted as dropped unmapped" 1 \
	"$(stat drop_out_unmapped)"
expect_eq "translated packets were counted both ways" yes \
	"$([ "$(stat in_translated)" -gt 0 ] && [ "$(stat out_translated)" -gt 0 ] && echo yes)"

# Per-mapping counters (rnatctl -s): a known exchange, counted exactly on
# its own mapping and on no other.
mstats() {
	rnat -j -s lookup "$1" | python3 -c '
import json, sys
s = json.load(sys.stdin)["stats"]
print(*[s[d][k] for d in ("in", "out") for k in ("packets", "bytes", "refused")],
      "used" if s["idle_ms"] is not None and s["idle_ms"] < 600000 else "idle")'
}
delta() { python3 -c 'import sys; a, b = sys.argv[1].split(), sys.argv[2].split(); print(*[int(y) - int(x) if x.isdigit() else y for x, y in zip(a, b)])' "$1" "$2"; }
m1=$(mstats "$NAT1")
m2=$(mstats "$NAT2")
n core ping -c 3 -W 2 "$NAT1" >/dev/null
expect_eq "3 pings of 84 bytes: counted on vpn1's mapping both ways" \
	"3 252 0 3 252 0 used" "$(delta "$m1" "$(mstats "$NAT1")")"
m1=$(mstats "$NAT1")
expect_fail "UDP core -> $NAT1 port 9 is refused (ECONNREFUSED)" \
	n core timeout 5 socat -t 2 - UDP:"$NAT1":9 <<<x
expect_eq "the port unreachable from vpn1 is counted as refused, in" \
	"1 $((20 + 8 + 20 + 8 + 2)) 1 1 30 0 used" "$(delta "$m1" "$(mstats "$NAT1")")"
expect_eq "vpn2's mapping counted none of it" "0 0 0 0 0 0 used" \
	"$(delta "$m2" "$(mstats "$NAT2")")"
expect "rnatctl -s map show prints counters under each mapping" bash -c \
	"$RNATCTL -n gw -s map show vpn 1 | grep -q '^    in  packets [0-9]* bytes [0-9]* icmp unreach 0 refused 1'"

# Deleting a VPN takes its mappings and stops its traffic.
expect "vpn del 2" rnat vpn del 2
expect_fail "vpn2 unreachable after its VPN is gone" \
	n core ping -c 1 -W 1 "$NAT2"
expect "vpn1 still reachable" n core ping -c 1 -W 2 "$NAT1"
expect_eq "vpn 2's route went with it" "" "$(routes | grep gv2)"

# VPN 1's device goes away: the VPN keeps its mappings without a device,
# and takes a new one with "vpn set".
n gw ip link del gv1
expect_eq "vpn 1 lost its device, kept its 3 mappings" \
	"vpn 1 name vpn1 pool AWS_USA_EAST_1 mappings 3" \
	"$(rnat vpn show 1 | sed 's/ blocks.*//')"
ip link add gv1b netns gw type veth peer name eth1 netns vpn1
n gw ip addr add 169.254.0.1/32 dev gv1b
n gw ip link set gv1b up
n vpn1 ip addr add 10.1.0.0/32 dev eth1
n vpn1 ip link set eth1 up
n vpn1 ip route add default via 169.254.0.1 dev eth1 onlink
expect "vpn set 1 dev gv1b name acme" rnat vpn set 1 dev gv1b name acme
expect_eq "its blocks are routed to the new device" "3 3" \
	"$(routes | grep -c 'dev gv1b') $(rnat vpn show 1 | grep -o ' 10\.[^ ]*' | wc -l)"
expect "core reaches vpn1 again through gv1b" n core ping -c 1 -W 2 "$NAT1"
n gw ip link add dum0 type dummy
expect "vpn add 3 on dum0" rnat -R vpn add 3 pool AWS_CAN_CENTRAL dev dum0
expect_fail "vpn set to a device of another VPN fails" rnat vpn set 1 dev dum0 name x
expect_eq "and changes nothing" "vpn 1 name acme" "$(rnat vpn show 1 | cut -d' ' -f1-4)"

seed_cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
