#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two VPNs on one device, told apart by fwmarks, inside the test VM: gw
# terminates two customers' IPsec tunnels on ONE xfrm interface (xfrmS,
# if_id 9); both customers use 10.1.0.0.
#
#   core 10.200.0.1 --c0--gc-- gw --u3 203.0.113.1 ..ESP.. 203.0.113.2 u0-- vpn3 (10.1.0.0)
#                               |  \_ xfrmS (if_id 9) _/
#                               \--u4 203.0.113.17 ..ESP.. 203.0.113.18 u0-- vpn4 (10.1.0.0)
#
# Ingress: each customer's inbound SA sets a mark on decryption
# (output-mark 0x30 or 0x40 under 0xf0), which rnat's VPN mark matches.
# Egress: rnat sets the VPN's out-mark after translation, and xfrmS's policy
# lookup (mark 0x30 or 0x40 under 0xf0, same selector) picks the customer's
# SA. The fwd policies check the ingress marks too.
#
# Checked with real traffic: each NAT IP reaches its own customer and each
# customer reaches core as its own NAT IP; the counters land on the right
# mappings; without the out-mark the packet finds no policy (so the mark is
# what steers); a packet with a mark no VPN has is dropped; the rules (one VPN per mark, one mask, a shared
# device needs marks) refuse bad changes and leave the state as it was;
# save -> restore keeps the marks.
#
# Usage: tests/e2e/marks.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/tunnels-lib.sh

MODULE=${1:?usage: marks.sh MODULE.ko}
TUN_NS="core gw vpn3 vpn4"
trap tun_cleanup EXIT

expect "insmod rnat" insmod "$MODULE"

for ns in $TUN_NS; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	n "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
done
n gw sysctl -qw net.ipv4.ip_forward=1
ip link add c0 netns core type veth peer name gc netns gw
ip link add u3 netns gw type veth peer name u0 netns vpn3
ip link add u4 netns gw type veth peer name u0 netns vpn4
ip -n core -b - <<-EOF
	addr add 10.200.0.1/24 dev c0
	link set c0 up
	route add 10.0.0.0/8 via 10.200.0.254
EOF

# gw: one xfrm interface for both customers; SAs and policies per customer,
# the same selectors, told apart by marks.
XFRM_ID=9
export XFRM_ID
ip -n gw -b - <<-EOF
	addr add 10.200.0.254/24 dev gc
	link set gc up
	addr add 203.0.113.1/28 dev u3
	link set u3 up
	addr add 203.0.113.17/28 dev u4
	link set u4 up
	link add xfrmS type xfrm dev u3 if_id 9
	link set xfrmS mtu 1400 up
	$(xfrm_sa_cmds 203.0.113.1 203.0.113.2 0x1003 0x3001 "$TUN_KEY_OUT" "$TUN_KEY_IN" output-mark 0x30 mask 0xf0)
	$(xfrm_sa_cmds 203.0.113.17 203.0.113.18 0x1004 0x4001 "$TUN_KEY_OUT" "$TUN_KEY_IN" output-mark 0x40 mask 0xf0)
	$(for d in out fwd; do
		xfrm_pol_cmd $d 203.0.113.1 203.0.113.2 src 0.0.0.0/0 dst 0.0.0.0/0 mark 0x30 mask 0xf0
		xfrm_pol_cmd $d 203.0.113.17 203.0.113.18 src 0.0.0.0/0 dst 0.0.0.0/0 mark 0x40 mask 0xf0
	done)
EOF

# Each customer host is its own IPsec endpoint on an xfrm interface of its own.
for v in 3 4; do
	local_ip=203.0.113.2 gw_ip=203.0.113.1
	[ $v = 4 ] && { local_ip=203.0.113.18; gw_ip=203.0.113.17; }
	ip -n vpn$v -b - <<-EOF
		addr add $local_ip/28 dev u0
		link set u0 up
		link add xfrm$v type xfrm dev u0 if_id 9
		addr add 10.1.0.0/32 dev xfrm$v
		link set xfrm$v up
		route add 10.200.0.0/24 dev xfrm$v
		$(xfrm_sa_cmds $local_ip $gw_ip 0x${v}001 0x100$v "$TUN_KEY_IN" "$TUN_KEY_OUT")
		$(xfrm_pol_cmd out $local_ip $gw_ip)
		$(xfrm_pol_cmd in $local_ip $gw_ip)
	EOF
	tun_servers vpn$v vpn$v
done
n core socat -t 5 TCP-LISTEN:8,fork,reuseaddr SYSTEM:"echo \$SOCAT_PEERADDR" &

rnat() { "$RNATCTL" -n gw "$@"; }
stat() { rnat stats | tr ' ' '\n' | sed -n "/^$1\$/{n;p}"; }

expect "pool add P" rnat pool add P 10.153.0.0/16
expect "vpn add 3 dev xfrmS mark 0x30/0xf0 out-mark 0x30/0xf0" \
	rnat vpn add 3 pool P dev xfrmS mark 0x30/0xf0 out-mark 0x30/0xf0 name ipsec3
expect "vpn add 4 on the same device with mark 0x40/0xf0" \
	rnat vpn add 4 pool P dev xfrmS mark 0x40/0xf0 out-mark 0x40/0xf0 name ipsec4
expect_eq "vpn show prints the marks as vpn add takes them" \
	"vpn 3 name ipsec3 pool P dev xfrmS mark 0x30/0xf0 out-mark 0x30/0xf0 mappings 0" \
	"$(rnat vpn show 3)"
expect_eq "vpn show -j: the marks as numbers" \
	'{"value": 64, "mask": 240} {"value": 64, "mask": 240}' \
	"$(rnat -j vpn show 4 | python3 -c 'import json, sys
v = json.load(sys.stdin)[0]
print(json.dumps(v["mark"]), json.dumps(v["out-mark"]))')"
NAT3=$(rnat map add vpn 3 real 10.1.0.0 | nat_of)
NAT4=$(rnat map add vpn 4 real 10.1.0.0 | nat_of)
expect_eq "two NAT IPs for the two 10.1.0.0" 2 \
	"$(printf '%s\n' "$NAT3" "$NAT4" | sort -u | grep -c '^10\.153\.')"
expect "route sync: both VPNs' blocks routed to the shared device" rnat route sync
expect_eq "gw routes both NAT IPs into xfrmS" "xfrmS xfrmS" \
	"$(ip -n gw -o route get "$NAT3" | grep -o 'dev [^ ]*' | cut -d' ' -f2) $(ip -n gw -o route get "$NAT4" | grep -o 'dev [^ ]*' | cut -d' ' -f2)"
for ns in vpn3 vpn4; do
	for p in tcp/7 udp/7; do
		wait_listen "$ns" "${p%/*}" "${p#*/}"
	done
done
wait_listen core tcp 8

# Core to customer: the out-mark picks the SA; customer to core: the SA's
# mark picks the VPN.
for v in 3 4; do
	nat_var=NAT$v
	nat=${!nat_var}
	expect_eq "TCP core -> $nat reaches vpn$v through the shared xfrmS" \
		"vpn$v 10.200.0.1" \
		"$(n core timeout 10 socat -t 5 -T 5 - TCP:"$nat":7 </dev/null)"
	expect_eq "TCP vpn$v (10.1.0.0) -> core arrives from $nat" "$nat" \
		"$(n vpn$v timeout 10 socat -t 5 -T 5 - TCP:10.200.0.1:8 </dev/null)"
done
mapfile -t U <<<"$(udp_probe core "$NAT3:7" "$NAT4:7")"
expect_eq "UDP core -> $NAT3: vpn3 answers" "reply vpn3 10.200.0.1" "${U[0]}"
expect_eq "UDP core -> $NAT4: vpn4 answers" "reply vpn4 10.200.0.1" "${U[1]}"
expect_eq "each mapping counted its own traffic both ways" "yes yes" \
	"$(for v in 3 4; do rnat -s map show vpn $v | awk '
		$1 == "in" { i = $3 } $1 == "out" { o = $3 }
		END { print (i >= 2 && o >= 2) ? "yes" : "no" }'; done | xargs)"
expect_eq "no packet dropped by rnat" "0 0 0" \
	"$(stat drop_in_unmapped) $(stat drop_out_unmapped) $(stat drop_malformed)"

# The out-mark is what steers: without it xfrmS finds no policy for the
# real destination and drops the packet.
expect "vpn set 4 out-mark none" rnat vpn set 4 out-mark none
expect_fail "without its out-mark, core cannot reach vpn4" \
	n core ping -c 1 -W 2 "$NAT4"
expect "vpn set 4 out-mark 0x40/0xf0 again" rnat vpn set 4 out-mark 0x40/0xf0
expect "with it, core reaches vpn4 again" n core ping -c 1 -W 5 "$NAT4"

# A packet on the shared device whose mark (under the VPN mask) no VPN of
# the device has is a stale or spoofed one: the SA of a VPN that is gone or
# changed (here: vpn4's SA marks 0x40 while VPN 4 wants 0x50). It is
# dropped, never forwarded with its real source.
expect "vpn set 4 mark 0x50/0xf0 (what vpn4's SA does not set)" \
	rnat vpn set 4 mark 0x50/0xf0
translated=$(stat in_translated)
fenced=$(stat drop_fenced)
capture_start core c0 "icmp[icmptype] == icmp-echo"
n vpn4 ping -c 1 -W 1 10.200.0.1 >/dev/null 2>&1
expect_eq "it does not reach core" "" "$(capture_wait | sed 's/, id .*//')"
expect_eq "rnat dropped it as fenced, translated nothing" \
	"$translated $((fenced + 1))" "$(stat in_translated) $(stat drop_fenced)"
expect "vpn set 4 mark 0x40/0xf0 again" rnat vpn set 4 mark 0x40/0xf0
expect_eq "TCP vpn4 -> core is translated again" "$NAT4" \
	"$(n vpn4 timeout 10 socat -t 5 -T 5 - TCP:10.200.0.1:8 </dev/null)"

# The rules, each refused with the kernel's reason and nothing changed.
n gw ip link add d9 type dummy
before=$(rnat save)
bad() {
	local want=$1 err rc
	shift
	err=$(rnat "$@" 2>&1 >/dev/null)
	rc=$?
	expect_eq "refused: $* ($want)" "1 yes" \
		"$rc $(grep -qF -- "$want" <<<"$err" && echo yes || echo "no: $err")"
}
bad "mark 0x40/0xf0 already belongs to VPN 4" vpn set 3 mark 0x40/0xf0
bad "shared by VPNs with marks" vpn add 5 pool P dev xfrmS
bad "told apart under mask 0xf0, not 0xff" vpn add 5 pool P dev xfrmS mark 0x50/0xff
bad "would match unmarked packets" vpn add 5 pool P dev xfrmS mark 0/0xf0
bad "shared by VPNs with marks" vpn set 3 mark none
expect "vpn add 5 dev d9 (a device of its own, no mark)" \
	rnat vpn add 5 pool P dev d9
bad "already belongs to VPN 5, which has no mark" vpn set 3 dev d9
bad "already belongs to VPN 5, which has no mark" vpn add 6 pool P dev d9 mark 0x60/0xf0
expect "vpn del 5" rnat vpn del 5
expect_eq "state unchanged by the refused changes" "$before" "$(rnat save)"

# save -> restore keeps the marks, and traffic flows as before.
expect_eq "save prints the marks" \
	"vpn add 3 pool P dev xfrmS mark 0x30/0xf0 out-mark 0x30/0xf0 name ipsec3" \
	"$(rnat save | grep '^vpn add 3 ' | sed 's/ blocks.*//')"
rnat save >/tmp/marks.save
expect "restore the saved state" rnat restore /tmp/marks.save
expect_eq "restored state is identical" "$before" "$(rnat save)"
expect_eq "TCP core -> $NAT3 after restore" "vpn3 10.200.0.1" \
	"$(n core timeout 10 socat -t 5 -T 5 - TCP:"$NAT3":7 </dev/null)"

# The device goes: both VPNs lose it, keep their marks and mappings.
n gw ip link del xfrmS
expect_eq "both VPNs without a device, marks and mappings kept" \
	"vpn 3 name ipsec3 pool P mark 0x30/0xf0 out-mark 0x30/0xf0 mappings 1|vpn 4 name ipsec4 pool P mark 0x40/0xf0 out-mark 0x40/0xf0 mappings 1" \
	"$(rnat vpn show | sed 's/ blocks.*//' | paste -sd'|')"
rm -f /tmp/marks.save

[ "$E2E_FAILED" = 0 ]
