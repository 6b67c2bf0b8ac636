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
# connections come from their NAT IPs. The VPN links are veth pairs; gw
# routes each NAT IP to its VPN's device.
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

# Steering: each NAT IP is routed to its VPN's device.
n gw ip route add "$NAT1/32" dev gv1
n gw ip route add "$NAT2/32" dev gv2
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

# A NAT IP with no mapping, even when routed into a VPN, reaches no VPN.
n gw ip route add 10.153.0.5/32 dev gv1
before1=$(rx_packets vpn1 eth0)
before2=$(rx_packets vpn2 eth0)
expect_fail "ping to unmapped 10.153.0.5 gets no answer" \
	n core ping -c 3 -i 0.2 -W 1 10.153.0.5
expect_eq "unmapped traffic reached neither VPN" "0 0" \
	"$(($(rx_packets vpn1 eth0) - before1)) $(($(rx_packets vpn2 eth0) - before2))"
stat() { rnat stats | tr ' ' '\n' | sed -n "/^$1\$/{n;p}"; }
expect_eq "the 3 pings were counted as dropped unmapped" yes \
	"$([ "$(stat drop_out_unmapped)" -ge 3 ] && echo yes)"
expect_eq "translated packets were counted both ways" yes \
	"$([ "$(stat in_translated)" -gt 0 ] && [ "$(stat out_translated)" -gt 0 ] && echo yes)"

# Deleting a VPN takes its mappings and stops its traffic.
expect "vpn del 2" rnat vpn del 2
expect_fail "vpn2 unreachable after its VPN is gone" \
	n core ping -c 1 -W 1 "$NAT2"
expect "vpn1 still reachable" n core ping -c 1 -W 2 "$NAT1"

seed_cleanup
trap - EXIT
expect "rmmod rnat" rmmod rnat
exit "$E2E_FAILED"
