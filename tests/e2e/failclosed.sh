#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fail closed: at no moment does a VPN's traffic cross the gateway
# untranslated, whatever the control plane does meanwhile. On the seed's
# topology (tests/e2e/lib.sh) vpn1 sends UDP to core and core sends UDP to
# vpn1's NAT IP, without pause, through every transition:
#
#   - VPN 1 deleted and re-created (it used to leak its real source then),
#   - its mappings flushed,
#   - a restore without VPN 1, then with it again,
#   - its device deleted and re-created under the same name, another
#     device renamed to a departed VPN device's name, a failed vpn add,
#   - IPv6 from its device,
#   - rmmod with VPNs, with fenced devices, and once the devices are gone.
#
# nft counters in core and vpn1 count what must never happen: a datagram
# reaching core from a real (customer) address, one reaching vpn1 with a NAT
# destination. Others count what must happen once the VPN is back, so a
# silent sender cannot pass the test.
#
# Usage: tests/e2e/failclosed.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: failclosed.sh MODULE.ko}
work=$(mktemp -d)
trap 'seed_cleanup; rm -rf "$work"' EXIT

rnat() { "$RNATCTL" -n gw "$@"; }
stat() { rnat stats | tr ' ' '\n' | sed -n "/^$1\$/{n;p}"; }
# counter NS NAME: packets counted by the rule commented NAME (bash only:
# every process costs about a second in the VM).
counter() {
	local out re="counter packets ([0-9]+) bytes [0-9]+ comment \"$2\""
	out=$(n "$1" nft list chain ip watch pre)
	[[ $out =~ $re ]] && echo "${BASH_REMATCH[1]}"
}

expect "insmod rnat" insmod "$MODULE"
seed_topology
expect "pool, VPNs 1 and 2, their mappings" rnat -b - <<'EOF'
pool add P 10.153.0.0/16
vpn add 1 pool P dev gv1
vpn add 2 pool P dev gv2
map add vpn 1 real 10.1.0.0 nat 10.153.0.1
map add vpn 2 real 10.1.0.0 nat 10.153.0.2
EOF
NAT1=10.153.0.1

# watch NS LEAK TRANSLATED: counts UDP to port 9 matching LEAK (must never
# arrive) and TRANSLATED (must, once the VPN is there).
watch() {
	n "$1" nft -f - <<EOF
table ip watch {
	chain pre {
		type filter hook prerouting priority -500;
		udp dport 9 $2 counter comment "leak"
		udp dport 9 $3 counter comment "translated"
	}
}
EOF
}
watch core "ip saddr 10.1.0.0/16" "ip saddr $NAT1"
watch vpn1 "ip daddr 10.153.0.0/16" "ip daddr 10.1.0.0"

# Senders: a datagram every 2 ms or so (bash's /dev/udp, no process each).
mkfifo "$work/never"
send() {
	n "$1" bash -c 'exec 3<>"$1"; while :; do
		echo x 2>/dev/null >"/dev/udp/$2/9"; read -r -t 0.002 -u 3; done' \
		sender "$work/never" "$2" 2>/dev/null &
}
send vpn1 10.200.0.1
send core "$NAT1"

# no_leak NAME: neither counter of what must never happen has moved.
no_leak() {
	expect_eq "$1: nothing crossed untranslated (core, vpn1)" "0 0" \
		"$(counter core leak) $(counter vpn1 leak)"
}
# flowing NAME: both directions are translated again.
# (Every process costs seconds in a loaded guest: few counter reads.)
flowing() {
	local c v c2 v2 i
	c=$(counter core translated) v=$(counter vpn1 translated)
	for i in 1 2 3; do
		nap 2
		c2=$(counter core translated) v2=$(counter vpn1 translated)
		[ "$c2" -gt "$c" ] && [ "$v2" -gt "$v" ] && break
	done
	expect_eq "$1: traffic flows both ways, translated" "yes yes" \
		"$([ "$c2" -gt "$c" ] && echo yes) $([ "$v2" -gt "$v" ] && echo yes)"
}

flowing "start"
no_leak "start"

# Deleted and re-created, five times: the device stays fenced between.
fenced=$(stat drop_fenced)
for i in 1 2 3 4 5; do
	rnat vpn del 1 >/dev/null
	nap 0.3
	rnat vpn add 1 pool P dev gv1
	rnat map add vpn 1 real 10.1.0.0 nat "$NAT1" >/dev/null
done
expect "the deletions' gaps were fenced (drop_fenced grew)" \
	[ "$(stat drop_fenced)" -gt "$fenced" ]
no_leak "vpn del + vpn add, 5 times"
flowing "vpn re-created"

expect "map flush vpn 1" rnat map flush vpn 1
nap 1
no_leak "mappings flushed"
rnat map add vpn 1 real 10.1.0.0 nat "$NAT1" >/dev/null
flowing "mapping re-added"

rnat save >"$work/all"
grep -v -e '^vpn add 1 ' -e '^map add vpn 1 ' "$work/all" >"$work/without1"
fenced=$(stat drop_fenced)
expect "restore without VPN 1" rnat restore "$work/without1"
nap 1
expect "its device is fenced (drop_fenced grew)" \
	[ "$(stat drop_fenced)" -gt "$fenced" ]
no_leak "restore without VPN 1"
expect "restore with VPN 1" rnat restore "$work/all"
flowing "restored"

# The device goes and comes back under its name (a tunnel restarted): the
# new one is fenced from its registration on, until the VPN takes it.
n gw ip link del gv1
ip link add gv1 netns gw type veth peer name eth0 netns vpn1
n gw ip addr add 169.254.0.1/32 dev gv1
n gw ip link set gv1 up
n vpn1 ip addr add 10.1.0.0/32 dev eth0
n vpn1 ip link set eth0 up
n vpn1 ip route add default via 169.254.0.1 dev eth0 onlink
n gw ip route add "$NAT1/32" dev gv1
fenced=$(stat drop_fenced)
nap 2
expect "the re-created gv1 is fenced (drop_fenced grew)" \
	[ "$(stat drop_fenced)" -gt "$fenced" ]
no_leak "device re-created"
n gw ip route del "$NAT1/32" dev gv1
expect "vpn set 1 dev gv1" rnat vpn set 1 dev gv1
flowing "VPN on its new device"

# probe DEV NET: gw sends a ping out of DEV (a dummy, to NET/24); prints
# how many packets drop_fenced gained.
probe() {
	local before
	n gw ip route replace "$2.0/24" dev "$1"
	before=$(stat drop_fenced)
	n gw ping -c 1 -W 1 "$2.1" >/dev/null 2>&1
	echo $(($(stat drop_fenced) - before))
}
# A device renamed (while down) to a departed VPN device's name is fenced
# as one registered under it.
n gw ip link add t1 type dummy
n gw ip link set t1 up
rnat vpn add 3 pool P dev t1
rnat vpn del 3 >/dev/null
n gw ip link del t1
n gw ip link add t1x type dummy
n gw ip link set t1x up
expect_eq "a new device t1x is not fenced" 0 "$(probe t1x 10.99.0)"
n gw ip link set t1x down
n gw ip link set t1x name t1
n gw ip link set t1 up
expect "t1x renamed to departed VPN device t1: fenced" \
	[ "$(probe t1 10.99.0)" -ge 1 ]
n gw ip link del t1
# A vpn add that fails (its block is VPN 1's) leaves no fence behind.
n gw ip link add t2 type dummy
n gw ip link set t2 up
expect_fail "vpn add 4 on t2 with VPN 1's block is refused" \
	rnat vpn add 4 pool P dev t2 blocks 10.153.0.0/24
expect_eq "  ... and t2 is not fenced" 0 "$(probe t2 10.98.0)"
n gw ip link del t2
no_leak "renames and a failed vpn add"

# IPv6 on a VPN's device is dropped, never forwarded.
for ns in core gw vpn1; do
	n "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
done
n gw sysctl -qw net.ipv6.conf.all.forwarding=1
n core ip addr add fd00:c::1/64 dev c0 nodad
n core ip route add fd00::/16 via fd00:c::2
n gw ip addr add fd00:c::2/64 dev gc nodad
n gw ip addr add fd00:1::2/64 dev gv1 nodad
n vpn1 ip addr add fd00:1::1/64 dev eth0 nodad
n vpn1 ip route add fd00::/16 via fd00:1::2
fenced=$(stat drop_fenced)
expect_fail "vpn1 cannot ping core over IPv6" \
	n vpn1 ping -6 -c 1 -W 2 fd00:c::1
expect_fail "core cannot ping vpn1 over IPv6" \
	n core ping -6 -c 1 -W 2 fd00:1::1
expect "the IPv6 packets were counted as fenced" \
	[ "$(stat drop_fenced)" -ge $((fenced + 2)) ]

# Unloading: refused while a VPN or a fenced device exists.
expect_fail "rmmod is refused while VPNs exist" rmmod rnat
expect "vpn del 1, vpn del 2" rnat -b - <<'EOF'
vpn del 1
vpn del 2
EOF
nap 1
expect_fail "rmmod is refused while their devices are fenced" rmmod rnat
no_leak "VPNs deleted"
n gw ip link del gv1
n gw ip link del gv2
seed_cleanup
trap 'rm -rf "$work"' EXIT
expect "rmmod once the devices are gone" unload_rnat
