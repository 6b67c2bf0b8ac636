#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Teardown under traffic (the reliability issue's scenario 2): CYCLES times
# (50 unless told) each, with UDP flowing both ways through a gateway
# namespace and rnatctl requests running in a loop from other processes:
#
#   A. rmmod while VPNs exist: refused every time (the hooks of a namespace
#      with VPNs hold a reference to the module), traffic still translated;
#   D. a VPN's device deleted and re-created under its name (a tunnel
#      restarted): fenced until `vpn set ID dev NAME`, then translated again;
#   B. with no VPN and no fenced device left: rmmod completes while requests
#      (reads, restores making and removing a VPN, a failing map add) run,
#      then insmod again; a request racing the unload fails cleanly;
#   C. the gateway namespace, holding VPNs and a few hundred mappings,
#      deleted (ip netns del) and built again; afterwards the module unloads,
#      so no namespace's teardown kept a reference.
#
# Topology: the VPN devices are ipip tunnels living in the gateway namespace
# `gw` with their underlay in the root namespace (as a WireGuard device moved
# into a namespace), so the customer and core ends survive the gateway:
#
#   core t0 (10.200.0.1) ==ipip over veth== root ~~ gc  \
#   vpn1 t1 (10.1.0.0)   ==ipip over veth== root ~~ gv1  } gw
#   vpn2 t2 (10.1.0.0)   ==ipip over veth== root ~~ gv2 /
#
# nft counters in core, vpn1 and vpn2 count what must never happen (a
# datagram with a real source reaching core, one with a NAT destination
# reaching a customer) and what must (translated ones). The kernel must log
# no splat (tests/vm/run fails the run), no device stuck unregistering and,
# on a kernel with kmemleak, no leak of rnat's (tests/vm/run's scan); the hung-task detector is set to 60 s
# where the kernel has one. Figures (cycles, refusals, requests by error,
# packets, times) are printed as "# " lines.
#
# Usage: tests/e2e/teardown.sh MODULE.ko [CYCLES]  (prints ok/not ok lines)
# MODULE is loaded CYCLES + 3 times: build it without KUnit.

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: teardown.sh MODULE.ko [CYCLES]}
CYCLES=${2:-50}
MAPS=200	# per VPN, besides the one the traffic uses
work=$(mktemp -d)
pids=()
cleanup_all() {
	touch "$work/stop"
	kill "${pids[@]}" 2>/dev/null
	for ns in gw core vpn1 vpn2 root; do
		ip netns del "$ns" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup_all EXIT
T0=$SECONDS
since() { echo "$((SECONDS - $1)) s"; }

nap 0	# its fifo, before subshells share it
if [[ -w /proc/sys/kernel/hung_task_timeout_secs ]]; then
	echo 60 >/proc/sys/kernel/hung_task_timeout_secs
	echo "# hung-task detector on: 60 s"
else
	echo "# this kernel has no hung-task detector"
fi
echo "# $CYCLES cycles each; module $MODULE"

# --- topology -------------------------------------------------------------

# The gateway forwards; namespaces copy IPv4 settings from the root one.
echo 1 >/proc/sys/net/ipv4/ip_forward
ip -b - <<'EOF'
netns attach root 1
netns add core
netns add vpn1
netns add vpn2
link add r0 type veth peer name u0 netns core
link add r1 type veth peer name u1 netns vpn1
link add r2 type veth peer name u2 netns vpn2
addr add 192.168.0.1/24 dev r0
addr add 192.168.1.1/24 dev r1
addr add 192.168.2.1/24 dev r2
link set r0 up
link set r1 up
link set r2 up
EOF
ip -n core -b - <<'EOF'
link set lo up
addr add 192.168.0.2/24 dev u0
link set u0 up
link add t0 type ipip local 192.168.0.2 remote 192.168.0.1
addr add 10.200.0.1/32 dev t0
link set t0 up
route add 10.0.0.0/8 dev t0
EOF
for v in 1 2; do
	ip -n "vpn$v" -b - <<EOF
link set lo up
addr add 192.168.$v.2/24 dev u$v
link set u$v up
link add t$v type ipip local 192.168.$v.2 remote 192.168.$v.1
addr add 10.1.0.0/32 dev t$v
link set t$v up
route add default dev t$v
EOF
done

# (Anonymous counters: the test kernel has no NFT_OBJREF for named ones.)
n core nft -f - <<'EOF'
table ip watch {
	chain pre {
		type filter hook prerouting priority -500;
		ip saddr 10.1.0.0/16 counter comment "leak"
		udp dport 9 ip saddr 10.153.0.0/16 counter comment "translated"
	}
}
EOF
for v in 1 2; do
	n "vpn$v" nft -f - <<'EOF'
table ip watch {
	chain pre {
		type filter hook prerouting priority -500;
		ip daddr 10.153.0.0/16 counter comment "leak"
		udp dport 9 ip daddr 10.1.0.0 counter comment "translated"
	}
}
EOF
done
# (counter NS NAME: lib.sh's.)

# The gateway's state: VPN 1 and 2 on gv1 and gv2, each with the mapping the
# traffic uses and $MAPS more.
NAT1=10.153.0.1 NAT2=10.153.0.2
{
	echo "pool add P 10.153.0.0/16"
	echo "vpn add 1 pool P dev gv1"
	echo "vpn add 2 pool P dev gv2"
	echo "map add vpn 1 real 10.1.0.0 nat $NAT1"
	echo "map add vpn 2 real 10.1.0.0 nat $NAT2"
	for ((j = 0; j < MAPS; j++)); do
		echo "map add vpn 1 real 10.1.$((1 + j / 250)).$((j % 250))"
		echo "map add vpn 2 real 10.1.$((1 + j / 250)).$((j % 250))"
	done
} >"$work/gw.conf"

# gw_up PARITY: makes the namespace gw (deleting the previous one), its
# tunnels (created in the root namespace, where their underlay is, and moved
# in, down) and rnat's state, then brings the tunnels up. A tunnel's key is its endpoints: while a deleted gw
# is still being torn down, its tunnels hold theirs, so odd and even cycles
# use different keys (local address given or not); a cycle whose key is
# still taken retries.
GW_RETRIES=0
gw_up() {
	local local_addr i out dev=(gc gv1 gv2)
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		{
			[[ -e /run/netns/gw ]] && echo "netns del gw"
			echo "netns add gw"
			for i in 0 1 2; do
				local_addr=
				(($1 % 2)) && local_addr="local 192.168.$i.1"
				echo "link add ${dev[i]} type ipip $local_addr remote 192.168.$i.2"
				echo "link set ${dev[i]} netns gw"
			done
		} >"$work/gw-root"
		out=$(ip -b "$work/gw-root" 2>&1) && break
		[[ $out == *"File exists"* ]] || { echo "# $out"; return 1; }
		GW_RETRIES=$((GW_RETRIES + 1))
		nap 0.5
	done
	# rnat's state before the devices come up, or the gateway forwards
	# the customers' packets untranslated meanwhile (as at boot). rnatctl
	# warns that it cannot route the blocks of devices that are down: the
	# traffic's NAT IPs are routed by hand (as rnatctl routes blocks).
	out=$("$RNATCTL" -n gw -b "$work/gw.conf" 2>&1 >/dev/null) || {
		echo "# $out"
		return 1
	}
	ip -n gw -b - <<EOF
link set lo up
link set gc up
link set gv1 up
link set gv2 up
route add 10.200.0.0/24 dev gc
route add $NAT1/32 dev gv1 proto 82 scope link
route add $NAT2/32 dev gv2 proto 82 scope link
EOF
}

# --- traffic ----------------------------------------------------------------

# Senders: a datagram every 10 ms or so (bash's /dev/udp, no process each).
mkfifo "$work/never"
send() {
	ip netns exec "$1" bash -c 'exec 3<>"$1"; while :; do
		echo x 2>/dev/null >"/dev/udp/$2/9"; read -r -t 0.01 -u 3; done' \
		sender "$work/never" "$2" 2>/dev/null &
	pids+=($!)
}
send core "$NAT1"
core_pid=$!
send core "$NAT2"
send vpn1 10.200.0.1
vpn1_pid=$!
send vpn2 10.200.0.1
vpn2_sender=$!
# A process in vpn2 that stays when its sender stops, to read its counters.
ip netns exec vpn2 bash -c 'exec 3<>"$1"; read -r -u 3' holder "$work/never" &
vpn2_pid=$!
pids+=($!)

# rx PID DEV: packets DEV received, in the namespace of process PID.
rx() { rx_packets_at "$1" "$2" || echo 0; }
# grown NAME PID DEV...: waits (10 s at most) until every DEV (in the
# namespace of PID) received packets; fails NAME if one did not.
grown() {
	local name=$1 pid=$2 i d ok
	shift 2
	local -A before
	for d; do before[$d]=$(rx "$pid" "$d"); done
	for ((i = 0; i < 100; i++)); do
		ok=1
		for d; do (($(rx "$pid" "$d") > before[$d])) || ok=; done
		[[ -n $ok ]] && return 0
		nap 0.1
	done
	fail "$name: traffic stopped ($*)"
	return 1
}
# udp_in PID: datagrams that arrived for no socket (the senders' port 9)
# in the namespace of process PID, from its /proc/net/snmp (Udp NoPorts).
udp_in() {
	local line i
	local -a h=() v
	while read -r line; do
		[[ $line == Udp:* ]] || continue
		if ((${#h[@]} == 0)); then
			read -ra h <<<"$line"
			continue
		fi
		read -ra v <<<"$line"
		for ((i = 1; i < ${#h[@]}; i++)); do
			[[ ${h[i]} == NoPorts ]] && { echo "${v[i]}"; return 0; }
		done
	done <"/proc/$1/net/snmp"
	echo 0
}
# udp_grown NAME PID...: waits (10 s at most) until datagrams arrived in the
# namespace of every PID; fails NAME if not.
udp_grown() {
	local name=$1 p i ok
	shift
	local -A before
	for p; do before[$p]=$(udp_in "$p"); done
	for ((i = 0; i < 100; i++)); do
		ok=1
		for p; do (($(udp_in "$p") > before[$p])) || ok=; done
		[[ -n $ok ]] && return 0
		nap 0.1
	done
	fail "$name: datagrams stopped arriving"
	return 1
}
# flowing NAME: packets arrive both ways, at core and at each customer.
flowing() {
	grown "$1" "$core_pid" t0 && grown "$1" "$vpn1_pid" t1 &&
		grown "$1" "$vpn2_pid" t2
}
# no_leak NAME: nothing crossed untranslated; prints the counters.
declare -A TRANSLATED
no_leak() {
	local c=() ns
	for ns in core vpn1 vpn2; do
		c+=("$(counter "$ns" leak)")
		TRANSLATED[$ns]=$(counter "$ns" translated)
	done
	expect_eq "$1: nothing crossed untranslated (leak counters core, vpn1, vpn2)" \
		"0 0 0" "${c[*]}"
	echo "# translated datagrams so far: core ${TRANSLATED[core]}, vpn1 ${TRANSLATED[vpn1]}, vpn2 ${TRANSLATED[vpn2]}"
}

# --- netlink loops ------------------------------------------------------------

# nl_loop NAME COMMANDS: runs the rnatctl commands of the file COMMANDS (a
# line each: the number of requests it sends, then rnatctl's arguments) in
# turn, again and again until $work/stop exists. Each run logs "EXIT SENT
# ERROR": SENT is the number of requests it made (all if it succeeded, else
# up to the line that failed), ERROR the first line of its errors.
nl_loop() {
	local name=$1 err rc sent requests args
	local -a cmds
	mapfile -t cmds <"$2"
	(
		while [[ ! -e $work/stop ]]; do
			for args in "${cmds[@]}"; do
				read -ra args <<<"$args"
				requests=${args[0]}
				err=$("$RNATCTL" "${args[@]:1}" 2>&1 >/dev/null)
				rc=$?
				err=${err%%$'\n'*}
				sent=$requests
				[[ $err =~ ^Error\ in\ line\ ([0-9]+): ]] && sent=${BASH_REMATCH[1]}
				[[ $err == *"network namespace"* ]] && sent=0
				echo "$rc $sent $err"
				# A steady trickle: the guest's CPUs are few and slow.
				nap 0.3
			done
		done >>"$work/nl-$name.log"
	) &
	pids+=($!)
	NL_PIDS+=($!)
}
NL_PIDS=()
nl_stop() {
	touch "$work/stop"
	wait "${NL_PIDS[@]}"
	NL_PIDS=()
	rm -f "$work/stop"
}

# What may fail, and why: the failing map add of every read batch; the
# namespace or the module gone (family unknown when resolved, or gone
# between resolution and request); a VPN made while the module is going;
# rnatctl routing a block to a device deleted meanwhile (No such device);
# the namespace's name opened while "ip netns del" unmounts it (the file
# left is no namespace: setns() says EINVAL, seen on the debug kernel).
NL_OK_ERRORS='no VPN 99|rnat module not loaded|No such file or directory'
NL_OK_ERRORS+='|Protocol not supported|No such device|cannot open network namespace'
NL_OK_ERRORS+='|cannot enter network namespace "[a-z0-9]+": Invalid argument'
NL_OK_ERRORS+='|cannot register netfilter hooks'
# nl_report NAME...: the loops' figures; fails on an unexpected error or
# exit status (a crash).
nl_report() {
	local name rc sent err runs=0 reqs=0 bad=0 key line
	local -A by
	for name; do
		while read -r rc sent err; do
			runs=$((runs + 1))
			reqs=$((reqs + sent))
			[[ $rc == 0 ]] && continue
			key=$err
			[[ $key =~ ^Error(\ in\ line\ [0-9]+)?:\ (.*) ]] &&
				key=${BASH_REMATCH[2]}
			key=${key//[0-9]/N}
			by[$key]=$((${by[$key]:-0} + 1))
			if [[ $rc != 1 || ! $err =~ $NL_OK_ERRORS ]]; then
				bad=$((bad + 1))
				[[ $bad -le 5 ]] && echo "#   exit $rc: $err"
			fi
		done <"$work/nl-$name.log"
	done
	echo "# netlink ($*): $runs rnatctl runs, $reqs requests sent, failures by error:"
	for key in "${!by[@]}"; do
		echo "#   ${by[$key]} x $key"
	done
	expect_eq "netlink ($*): every failure is a clean one" 0 "$bad"
}

# Read batches: dumps (map show spans several messages), a lookup and a map
# add that fails (no VPN 99).
{
	for i in 1 2 3; do
		printf '%s\n' stats "map show" "vpn show" "pool show"
	done
	echo "map add vpn 99 real 10.9.9.9"
} >"$work/reads"
echo "13 -n gw -b $work/reads" >"$work/gw-reads"
echo "13 -b $work/reads" >"$work/root-reads"
# Churn in the gateway: a mapping added and deleted.
for i in 1 2 3 4 5; do
	printf '%s\n' "map add vpn 2 real 10.2.0.1" "map del vpn 2 real 10.2.0.1"
done >"$work/churn"
echo "10 -n gw -b $work/churn" >"$work/gw-churn"
# Restores in the root namespace, in turn: one making a VPN (its hooks hold
# the module) and one removing it. (Requests: begin, lines, commit.)
{
	echo "pool add Q 10.99.0.0/16"
	echo "vpn add 7 pool Q"
	for j in $(seq 20); do echo "map add vpn 7 real 10.7.0.$j"; done
} >"$work/full"
: >"$work/empty"
printf '%s\n' "24 restore $work/full" "2 restore $work/empty" >"$work/restores"

expect "insmod rnat" insmod "$MODULE"
expect "gateway namespace with VPNs 1 and 2, $((2 * MAPS + 2)) mappings" gw_up 0
flowing "start"
no_leak "start"
# A process in gw, to read its devices' counters.
ip netns exec gw bash -c 'exec 3<>"$1"; read -r -u 3' holder "$work/never" &
gw_pid=$!
pids+=($!)

# --- A: rmmod refused while VPNs exist ----------------------------------------

echo "# A: rmmod while VPNs exist, $CYCLES times"
t=$SECONDS
nl_loop A-reads "$work/gw-reads"
nl_loop A-churn "$work/gw-churn"
echo "# module references: $(</sys/module/rnat/refcnt)"
declare -A refusals
refused=0 stopped=0
for ((i = 1; i <= CYCLES; i++)); do
	# busybox's rmmod asks the kernel (delete_module(2)) whatever the
	# reference count; kmod's refuses by itself when it reads one.
	if out=$(busybox rmmod rnat 2>&1); then
		fail "rmmod $i: the module unloaded while VPNs exist"
		break
	fi
	refused=$((refused + 1))
	out=${out##*: }
	refusals[$out]=$((${refusals[$out]:-0} + 1))
	[[ -e /sys/module/rnat ]] || { fail "rmmod $i: module gone"; break; }
	flowing "rmmod $i" || { stopped=$((stopped + 1)); break; }
done
expect_eq "A: rmmod refused $CYCLES times out of $CYCLES" "$CYCLES" "$refused"
for out in "${!refusals[@]}"; do echo "#   ${refusals[$out]} x $out"; done
expect_eq "A: traffic flowed both ways after every refused rmmod" 0 "$stopped"
out=$(rmmod rnat 2>&1)
expect_eq "A: kmod's rmmod says it is in use" "in use" "$([[ $out == *"in use"* ]] && echo in use || echo "$out")"
nl_stop
nl_report A-reads A-churn
no_leak "A"
echo "# A took $(since "$t")"

# --- D: a VPN's device deleted and re-created under traffic -------------------

echo "# D: VPN 1's device deleted and re-created, $CYCLES times"
t=$SECONDS
# Only vpn1 sends to core now: what core receives came through gv1.
kill "$vpn2_sender"
wait "$vpn2_sender" 2>/dev/null
fenced0=$(rnat_stat gw drop_fenced)
nl_loop D-reads "$work/gw-reads"
nl_loop D-churn "$work/gw-churn"
window_rx=0 crossed=0 unfenced=0 resumed=0
for ((i = 1; i <= CYCLES; i++)); do
	ip -n gw -b - <<'EOF' || { fail "D $i: re-creating gv1"; break; }
link del gv1
link add gv1 link-netns root type ipip local 192.168.1.1 remote 192.168.1.2
link set gv1 up
EOF
	# Fenced from its registration: what vpn1 sends arrives and is
	# dropped, none of it reaches core (which hears from gw's ICMP
	# host unreachable meanwhile: core -> NAT1 has no route).
	c=$(udp_in "$core_pid")
	nap 0.2
	w=$(rx "$gw_pid" gv1)
	[[ $(udp_in "$core_pid") == "$c" ]] || crossed=$((crossed + 1))
	((w > 0)) || unfenced=$((unfenced + 1))
	window_rx=$((window_rx + w))
	"$RNATCTL" -n gw vpn set 1 dev gv1 >/dev/null || { fail "D $i: vpn set 1 dev gv1"; break; }
	udp_grown "D $i" "$core_pid" "$vpn1_pid" && resumed=$((resumed + 1))
done
expect_eq "D: while fenced, nothing from vpn1 reached core ($CYCLES cycles)" 0 "$crossed"
expect_eq "D: every re-created gv1 received vpn1's packets while fenced" 0 "$unfenced"
expect_eq "D: translation resumed after every vpn set" "$CYCLES" "$resumed"
fenced=$(($(rnat_stat gw drop_fenced) - fenced0))
echo "# D: $window_rx packets arrived on fenced devices; drop_fenced grew by $fenced"
expect "D: the fenced packets were dropped and counted" [ "$fenced" -ge "$window_rx" ]
nl_stop
nl_report D-reads D-churn
no_leak "D"
echo "# D took $(since "$t")"

# --- B: rmmod completes under netlink requests -------------------------------

echo "# B: rmmod and insmod with requests in flight, $CYCLES times"
t=$SECONDS
kill "$gw_pid"
wait "$gw_pid" 2>/dev/null
ip netns del gw
expect "B: rmmod once the gateway namespace is gone" unload_rnat
nl_loop B-reads "$work/root-reads"
nl_loop B-restores "$work/restores"
declare -A brefusals
unloaded=0 brefused=0
for ((i = 1; i <= CYCLES; i++)); do
	insmod "$MODULE" || { fail "B $i: insmod"; break; }
	nap 0.3
	for ((k = 0; k < 100; k++)); do
		out=$(busybox rmmod rnat 2>&1) && break
		brefused=$((brefused + 1))
		out=${out##*: }
		brefusals[$out]=$((${brefusals[$out]:-0} + 1))
		nap 0.05
	done
	[[ -e /sys/module/rnat ]] && { fail "B $i: rmmod refused 100 times"; break; }
	unloaded=$((unloaded + 1))
done
expect_eq "B: rmmod completed $CYCLES times out of $CYCLES" "$CYCLES" "$unloaded"
echo "# B: $brefused rmmods refused before they completed:"
for out in "${!brefusals[@]}"; do echo "#   ${brefusals[$out]} x $out"; done
nl_stop
nl_report B-reads B-restores
echo "# B took $(since "$t")"

# --- C: the gateway namespace deleted under traffic ----------------------------

echo "# C: the gateway namespace deleted and built again, $CYCLES times"
t=$SECONDS
expect "insmod rnat" insmod "$MODULE"
send vpn2 10.200.0.1
nl_loop C-reads "$work/gw-reads"
nl_loop C-restores "$work/restores"
built=0
for ((i = 1; i <= CYCLES; i++)); do
	gw_up "$i" || { fail "C $i: building the gateway namespace"; break; }
	flowing "C $i" || break
	built=$((built + 1))
done
ip netns del gw
expect_eq "C: gateway built, carrying traffic, and deleted $CYCLES times" "$CYCLES" "$built"
echo "# C: $GW_RETRIES times a tunnel's key was still held by the namespace deleted before"
nl_stop
nl_report C-reads C-restores
no_leak "C"
expect "C: restore an empty state in the root namespace" "$RNATCTL" restore "$work/empty"
expect "C: rmmod once the namespaces are gone (no reference leaked)" unload_rnat
echo "# C took $(since "$t")"

# --- the kernel's view ---------------------------------------------------------

log=$(dmesg)
expect_eq "no device was stuck unregistering" "" \
	"$(grep -m1 'waiting for .* to become free' <<<"$log")"
# Leaks: tests/vm/run's guest scans with kmemleak after this script (twice,
# 6 s apart) and fails the run on any object of rnat's. Scanning here as
# well doubled that: on the debug kernel, after the cycles, on a host with
# five VMs, its own two scans had not ended after 17 minutes (2026-12-03).
echo "# teardown.sh took $(since "$T0") in the guest"
exit "$E2E_FAILED"
