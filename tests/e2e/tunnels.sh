#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rnat over real tunnels, inside the test VM: gw reaches customer vpn1 over
# WireGuard (wg1) and customer vpn2 over IPsec (ESP tunnel mode through the
# xfrm interface xfrm2); both customers use 10.1.0.0. Topology and helpers:
# tests/e2e/tunnels-lib.sh.
#
# Checked with real traffic through both tunnels at once: ping, TCP and UDP
# from core to each NAT IP, connections from each customer to core, port
# unreachable (ECONNREFUSED naming the NAT IP), net unreachable from the
# customer's router (which has no mapping) naming the NAT IP it was about,
# path MTU discovery through both tunnels; then the tunnels' own counters
# (WireGuard handshake and transfer, /proc/net/xfrm_stat all zero). Last,
# what the operator must configure, shown by breaking it: WireGuard
# AllowedIPs in NAT space; the xfrm fwd policy absent, or its selector or
# the inbound SA's in real space; no in policy; an xfrm interface MTU above
# the ESP path's.
#
# Usage: tests/e2e/tunnels.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/tunnels-lib.sh

MODULE=${1:?usage: tunnels.sh MODULE.ko}

trap tun_cleanup EXIT

expect "insmod rnat" insmod "$MODULE"
tun_topology

rnat() { "$RNATCTL" -n gw "$@"; }
stat() { rnat stats | tr ' ' '\n' | sed -n "/^$1\$/{n;p}"; }

expect "pool add P" rnat pool add P 10.153.0.0/16
expect "vpn add 1 dev wg1" rnat vpn add 1 pool P dev wg1 name wireguard
expect "vpn add 2 dev xfrm2" rnat vpn add 2 pool P dev xfrm2 name ipsec
NAT1=$(rnat map add vpn 1 real 10.1.0.0 | nat_of)
NAT2=$(rnat map add vpn 2 real 10.1.0.0 | nat_of)
NAT5=$(rnat map add vpn 1 real 10.1.5.5 | nat_of)
expect_eq "three distinct NAT IPs" 3 \
	"$(printf '%s\n' "$NAT1" "$NAT2" "$NAT5" | sort -u | grep -c .)"
# Steering: each NAT IP is routed into its VPN's tunnel.
ip -n gw route replace "$NAT1/32" dev wg1
ip -n gw route replace "$NAT5/32" dev wg1
ip -n gw route replace "$NAT2/32" dev xfrm2
tun_wait_servers

# The first packet through wg1 waits for the handshake.
expect "WireGuard handshake: core pings vpn1 through wg1" \
	n core ping -c 1 -W 10 "$NAT1"
expect "IPsec: core pings vpn2 through xfrm2" n core ping -c 1 -W 5 "$NAT2"

for v in 1 2; do
	nat_var=NAT$v
	nat=${!nat_var}
	host=vpn$v
	[ $v = 1 ] && host=host1
	expect "core pings vpn$v by its NAT IP, reply from $nat" bash -c \
		"ip netns exec core ping -c 2 -W 2 $nat | grep -q 'from $nat'"
	expect_eq "TCP vpn$v (10.1.0.0) -> core arrives from $nat" "$nat" \
		"$(n "$host" timeout 10 socat -t 5 -T 5 - TCP:10.200.0.1:8 </dev/null)"
done

# Both tunnels at the same time, same customer address, same ports: TCP
# and UDP to each NAT IP's echo server, UDP to a closed port behind each,
# and UDP to NAT5 (10.1.5.5 behind vpn1's router, which has no route to
# it). The router 10.1.0.254 has no mapping: its net unreachable still
# reaches core, attributed to NAT5 (the mapping it is about), outer source
# included.
drops=$(stat drop_in_unmapped)
tmp=$(mktemp -d)
pids=()
for v in 1 2; do
	nat_var=NAT$v
	n core timeout 10 socat -t 5 -T 5 - TCP:"${!nat_var}":7 </dev/null >"$tmp/$v" &
	pids+=($!)
done
udp_probe core "$NAT1:7" "$NAT2:7" "$NAT1:9" "$NAT2:9" "$NAT5:7" >"$tmp/u" &
pids+=($!)
wait "${pids[@]}"
mapfile -t U <"$tmp/u"
for v in 1 2; do
	nat_var=NAT$v
	nat=${!nat_var}
	expect_eq "TCP core -> $nat reaches vpn$v, sees core" \
		"vpn$v 10.200.0.1" "$(cat "$tmp/$v")"
	expect_eq "UDP core -> $nat reaches vpn$v, reply from $nat" \
		"reply vpn$v 10.200.0.1" "${U[v - 1]}"
	expect_eq "UDP to a closed port behind $nat: ECONNREFUSED from $nat about $nat" \
		"ECONNREFUSED icmp 3/3 from $nat about $nat info 0" "${U[v + 1]}"
done
expect_eq "net unreachable from vpn1's unmapped router reaches core, from $NAT5 about $NAT5" \
	"ENETUNREACH icmp 3/0 from $NAT5 about $NAT5 info 0" "${U[4]}"
expect_eq "the router's ICMP error was translated, not dropped as unmapped" \
	"$drops" "$(stat drop_in_unmapped)"
rm -rf "$tmp"

# Path MTU discovery: the tunnels' MTU (wg1 1420 by default, xfrm2 set to
# 1400) is enforced when gw forwards the packet, before rnat's rewrite, so
# the "fragmentation needed" names the NAT IP and core's socket gets it.
# Both customers advertise an MSS of 1460: TCP has to discover the path MTU.
for v in 1 2; do
	nat_var=NAT$v
	expect_eq "200 kB TCP core -> vpn$v through the tunnel (PMTU discovery)" \
		200000 "$(head -c 200000 /dev/zero |
			n core timeout 60 socat -t 30 -T 30 - TCP:"${!nat_var}":9 | tr -d ' ')"
done
mapfile -t U <<<"$(udp_probe core "$NAT1:7:1450:df" "$NAT2:7:1450:df")"
expect_eq "DF datagram too big for wg1: core learns MTU 1420 for $NAT1" \
	"EMSGSIZE icmp 3/4 from 10.200.0.254 about $NAT1 info 1420" "${U[0]}"
expect_eq "DF datagram too big for xfrm2: core learns MTU 1400 for $NAT2" \
	"EMSGSIZE icmp 3/4 from 10.200.0.254 about $NAT2 info 1400" "${U[1]}"

# The tunnels' own view.
expect_eq "wg1 on gw: one handshake, bytes both ways" "yes" \
	"$(n gw wg show wg1 dump | awk 'NR == 2 && $5 > 0 && $6 > 0 && $7 > 0 { print "yes" }')"
expect_eq "wg1 on vpn1: one handshake, bytes both ways" "yes" \
	"$(n vpn1 wg show wg1 dump | awk 'NR == 2 && $5 > 0 && $6 > 0 && $7 > 0 { print "yes" }')"
expect_eq "xfrm2 on gw carried packets both ways" "yes" \
	"$([ "$(dev_stat gw xfrm2 rx_packets)" -gt 0 ] &&
		[ "$(dev_stat gw xfrm2 tx_packets)" -gt 0 ] && echo yes)"
for ns in gw vpn2; do
	st=$(xfrm_stat "$ns")
	if [ "$st" = absent ]; then
		echo "# SKIP /proc/net/xfrm_stat on $ns: the kernel lacks CONFIG_XFRM_STATISTICS"
	else
		expect_eq "/proc/net/xfrm_stat on $ns: all zero" "" "$st"
	fi
done
expect_eq "no packet dropped by rnat" "0 0 0 0" \
	"$(stat drop_in_unmapped) $(stat drop_out_unmapped) $(stat drop_malformed) $(stat drop_nomem)"

# What an operator must configure, shown by getting it wrong.
#
# WireGuard AllowedIPs in NAT space: gw's wg1 looks the peer up by the
# destination rnat has already rewritten (real), and checks the source
# before rnat rewrites it (real too), so both directions fail.
PEER1=$(n gw wg show wg1 peers)
n gw wg set wg1 peer "$PEER1" allowed-ips "$NAT1/32"
txe=$(dev_stat gw wg1 tx_errors)
rxe=$(dev_stat gw wg1 rx_frame_errors)
expect_fail "AllowedIPs = NAT IP: core -> $NAT1 does not get through" \
	n core ping -c 1 -W 2 "$NAT1"
expect_eq "... wg1 found no peer for the real destination (tx_errors)" yes \
	"$([ "$(dev_stat gw wg1 tx_errors)" -gt "$txe" ] && echo yes)"
expect_fail "AllowedIPs = NAT IP: vpn1 -> core does not get through" \
	n host1 ping -c 1 -W 2 10.200.0.1
expect_eq "... wg1 refused the real source (rx_frame_errors)" yes \
	"$([ "$(dev_stat gw wg1 rx_frame_errors)" -gt "$rxe" ] && echo yes)"
n gw wg set wg1 peer "$PEER1" allowed-ips 10.1.0.0/16
expect "AllowedIPs = real addresses again: core -> $NAT1 works" \
	n core ping -c 1 -W 5 "$NAT1"

# xfrm on gw. gw_pol add|del DIR [SELECTOR...]: a policy of if_id 2 (the
# selector defaults to everything); gw_sa_in [SELECTOR...]: replaces the
# inbound SA with one with that selector (none by default).
gw_pol() {
	local action=$1 dir=$2
	shift 2
	[ $# -gt 0 ] || set -- src 0.0.0.0/0 dst 0.0.0.0/0
	if [ "$action" = add ]; then
		xfrm_pol_cmd "$dir" 198.51.100.1 198.51.100.2 "$@"
	else
		echo "xfrm policy del dir $dir $* if_id 2"
	fi | ip -n gw -b -
}
gw_sa_in() {
	{
		echo "xfrm state del src 198.51.100.2 dst 198.51.100.1 proto esp spi 0x2002"
		xfrm_sa_cmds 198.51.100.1 198.51.100.2 0x1002 0x2002 \
			"$TUN_KEY_OUT" "$TUN_KEY_IN" "$@" | tail -n 1
	} | ip -n gw -b -
}
x_counter() { xfrm_counter gw "$1"; }
# counted NAME BEFORE: an assertion that XfrmNAME grew (with the counters).
counted() {
	[ -n "$2" ] && expect_eq "... counted as $1" yes \
		"$([ "$(x_counter "$1")" -gt "$2" ] && echo yes)"
}

# Decrypted packets that gw forwards are checked against a fwd policy of
# if_id 2; without one the tunnel-mode SA makes them drop.
nopols=$(x_counter XfrmInNoPols)
gw_pol del fwd
expect_fail "no fwd policy on gw: vpn2 -> core is dropped" \
	n vpn2 ping -c 1 -W 2 10.200.0.1
counted XfrmInNoPols "$nopols"
# That check runs after rnat rewrote the source: a selector naming the
# customer's real network no longer matches; one in NAT space does.
nopols=$(x_counter XfrmInNoPols)
gw_pol add fwd src 10.1.0.0/16 dst 10.200.0.0/24
expect_fail "fwd selector src 10.1.0.0/16 (real): vpn2 -> core is dropped" \
	n vpn2 ping -c 1 -W 2 10.200.0.1
counted XfrmInNoPols "$nopols"
gw_pol del fwd src 10.1.0.0/16 dst 10.200.0.0/24
gw_pol add fwd src "$NAT2/32" dst 10.200.0.0/24
expect "fwd selector src $NAT2/32 (NAT space): vpn2 -> core works" \
	n vpn2 ping -c 1 -W 5 10.200.0.1
gw_pol del fwd src "$NAT2/32" dst 10.200.0.0/24
gw_pol add fwd
# The inbound SA's own selector is checked at the same point, so it is in
# NAT space too (IKE daemons may install the traffic selectors there).
mismatch=$(x_counter XfrmInStateMismatch)
gw_sa_in sel src 10.1.0.0/16 dst 10.200.0.0/24
expect_fail "inbound SA selector src 10.1.0.0/16 (real): vpn2 -> core is dropped" \
	n vpn2 ping -c 1 -W 2 10.200.0.1
counted XfrmInStateMismatch "$mismatch"
gw_sa_in sel src "$NAT2/32" dst 10.200.0.0/24
expect "inbound SA selector src $NAT2/32 (NAT space): vpn2 -> core works" \
	n vpn2 ping -c 1 -W 5 10.200.0.1
gw_sa_in
# The out policy is looked up when xfrm2 transmits, after rnat rewrote the
# destination: its selector is in real space.
gw_pol del out
carrier=$(dev_stat gw xfrm2 tx_carrier_errors)
gw_pol add out src 10.200.0.0/24 dst "$NAT2/32"
expect_fail "out selector dst $NAT2/32 (NAT space): core -> $NAT2 is dropped" \
	n core ping -c 1 -W 2 "$NAT2"
expect_eq "... xfrm2 found no policy (tx_carrier_errors)" yes \
	"$([ "$(dev_stat gw xfrm2 tx_carrier_errors)" -gt "$carrier" ] && echo yes)"
gw_pol del out src 10.200.0.0/24 dst "$NAT2/32"
gw_pol add out src 10.200.0.0/24 dst 10.1.0.0/16
expect "out selector dst 10.1.0.0/16 (real): core -> $NAT2 works" \
	n core ping -c 1 -W 5 "$NAT2"
# The in policy only guards packets for gw itself.
expect "in policy on gw: vpn2 pings gw's 10.200.0.254" \
	n vpn2 ping -c 1 -W 5 10.200.0.254
gw_pol del in
expect_fail "no in policy on gw: vpn2 -> gw's own address is dropped" \
	n vpn2 ping -c 1 -W 2 10.200.0.254
expect "no in policy on gw: forwarded traffic still works" \
	n vpn2 ping -c 1 -W 5 10.200.0.1

# An xfrm interface whose MTU exceeds the ESP path's: the packet passes
# gw's forwarding check, rnat rewrites it, and xfrm2 itself answers
# "fragmentation needed" quoting the real destination: core's socket
# cannot match it, and learns nothing (a PMTU black hole).
ip -n gw link set xfrm2 mtu 1500
capture_start core c0 icmp
expect_eq "xfrm2 at MTU 1500: a 1480-byte DF datagram to $NAT2 vanishes" \
	nothing "$(udp_probe core "$NAT2:7:1480:df")"
expect_eq "... because gw's xfrm2 answered about the real address" \
	"IP 10.200.0.254 > 10.200.0.1: ICMP 10.1.0.0 unreachable - need to frag (mtu 1446), length 556" \
	"$(capture_wait)"
ip -n gw link set xfrm2 mtu 1400

tun_cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
