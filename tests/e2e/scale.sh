#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Steering at scale: 1,000 VPNs on one gateway, every customer host at
# 10.1.0.0. Each VPN is a GRE tunnel (key N) over one underlay link (gw:
# greN, customer side: greN); a sample of them has a customer host in a
# namespace of its own behind its tunnel, answering "vpnN" on TCP port 7.
# rnatctl routes each VPN's blocks into its tunnel; core must reach exactly
# the right customer through each NAT IP.
#
#   core --c0--gc-- gw ==gt (underlay, 1000 GRE keys)== ct-- cust
#                                             greN moved to cN
#
# Usage: tests/e2e/scale.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: scale.sh MODULE.ko}
VPNS=1000
SAMPLE="1 2 499 500 501 999 1000"
work=$(mktemp -d)

cleanup() {
	local ns
	for ns in core gw cust $(printf 'c%s ' $SAMPLE); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

rnat() { "$RNATCTL" -n gw "$@"; }
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

expect "insmod rnat" insmod "$MODULE"
for ns in core gw cust; do
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
ip link add gt netns gw type veth peer name ct netns cust
n gw ip addr add 192.0.2.1/24 dev gt
n gw ip link set gt up
n cust ip addr add 192.0.2.2/24 dev ct
n cust ip link set ct up

# The tunnels, on both sides, in one batch each.
for i in $(seq "$VPNS"); do
	echo "link add gre$i type gre local 192.0.2.1 remote 192.0.2.2 key $i"
	echo "link set gre$i up"
done >"$work/gw.ip"
for i in $(seq "$VPNS"); do
	echo "link add gre$i type gre local 192.0.2.2 remote 192.0.2.1 key $i"
done >"$work/cust.ip"
expect "gw: $VPNS GRE tunnels" n gw ip -batch "$work/gw.ip"
expect "customer side: $VPNS GRE tunnels" n cust ip -batch "$work/cust.ip"
for k in $SAMPLE; do
	ip netns add "c$k"
	n "c$k" ip link set lo up
	n cust ip link set "gre$k" netns "c$k"
	n "c$k" ip addr add 10.1.0.0/32 dev "gre$k"
	n "c$k" ip link set "gre$k" up
	n "c$k" ip route add default dev "gre$k"
	n "c$k" socat -t 5 TCP-LISTEN:7,fork,reuseaddr SYSTEM:"echo vpn$k \$SOCAT_PEERADDR" &
done

{
	echo "pool add AWS_USA_EAST_1 10.153.0.0/16 10.157.0.0/16 10.162.0.0/16 10.155.0.0/16"
	for i in $(seq "$VPNS"); do
		echo "vpn add $i pool AWS_USA_EAST_1 dev gre$i"
	done
	for i in $(seq "$VPNS"); do
		echo "map add vpn $i real 10.1.0.0"
	done
	# VPN 500 has more hosts: its blocks grow.
	for h in $(seq 1 20); do
		echo "map add vpn 500 real 10.1.1.$h"
	done
} >"$work/rnat.batch"
t=$(date +%s%N)
expect "one batch: 1 pool, $VPNS VPNs, $((VPNS + 20)) mappings, their routes" \
	rnat -b "$work/rnat.batch"
echo "# configured $VPNS VPNs with their routes in $(ms "$t") ms (wall clock, TCG guest)"

expect_eq "$VPNS VPNs" "$VPNS" "$(rnat vpn show | wc -l)"
blocks=$(rnat -j vpn show | grep -o '"10\.[0-9.]*/[0-9]*"' | wc -l)
routes=$(n gw ip route show proto 82 | grep -c ' dev gre')
expect_eq "one route per VPN block ($blocks blocks), not per NAT IP" "$blocks" "$routes"
# Its first block is where the 1,000 first NAT IPs left it; then 1, 2, 4, 8
# and 16 addresses, each the lowest free aligned range.
expect_eq "VPN 500's 21 NAT IPs take 6 blocks, growing" \
	"blocks 10.153.1.243/32 10.153.3.232/32 10.153.3.234/31 10.153.3.236/30 10.153.3.240/29 10.153.4.0/28" \
	"$(rnat vpn show 500 | grep -o 'blocks.*')"

for k in $SAMPLE; do
	wait_listen "c$k" tcp 7 || fail "vpn$k's server is up"
done
for k in $SAMPLE; do
	nat=$(rnat lookup 10.1.0.0 vpn "$k" | awk '{ print $NF }')
	expect_eq "core -> $nat (VPN $k) reaches vpn$k's host, which sees core" \
		"vpn$k 10.200.0.1" \
		"$(n core timeout 10 socat -t 5 -T 5 - TCP:"$nat":7 </dev/null)"
done
nat=$(rnat lookup 10.1.1.20 vpn 500 | awk '{ print $NF }')
expect "a route of VPN 500's newest block leads into gre500" bash -c \
	"ip netns exec gw ip route get $nat | grep -q 'dev gre500 '"

t=$(date +%s%N)
expect "vpn del of all $VPNS VPNs" bash -c \
	"seq $VPNS | sed 's/^/vpn del /' | $RNATCTL -n gw -b -"
echo "# deleted $VPNS VPNs and their routes in $(ms "$t") ms"
expect_eq "no rnat routes left but the pool's 4 unreachable ones" "4 0" \
	"$(n gw ip route show proto 82 | grep -c '^unreachable') $(n gw ip route show proto 82 | grep -vc '^unreachable')"

cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
