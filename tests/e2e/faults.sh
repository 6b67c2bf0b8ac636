#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fault injection (the reliability issue's scenario 4), on the test and
# debug kernels (tests/kernel/config.fragment: FAILSLAB, FAIL_PAGE_ALLOC,
# FAULT_INJECTION_DEBUG_FS): the kernel allocations made for one rnatctl
# command fail on purpose, and every command that fails must say so and
# leave the state as it was, byte for byte (save), while UDP through VPN 1
# keeps being translated (nft counters, as in failclosed.sh). Leaks are
# tests/vm/run's (kmemleak after the command), splats too.
#
#  1. Each allocation in turn. For each kind of command (map add automatic,
#     explicit and of a prefix, map replace, map del, map flush, vpn add
#     with blocks, vpn set dev, mark, name, vpn del, pool add and del, a
#     restore of ~300 lines, ...) a fresh rnatctl batch in namespace gw
#     opens its socket (a first line), then sleeps reading its next line;
#     /proc/PID/fail-nth is set to N and the command line given: the Nth
#     slab or page allocation (any GFP; counted from there, user page
#     tables and all) fails. N = 1, 2, ... until the command succeeds with
#     no failure injected (read back from fail-nth while the batch waits
#     for another line). A run that fails must exit non-zero with an
#     "Error" message and leave save unchanged; one that succeeds (the
#     injected failure absorbed, or none) must give the state the command
#     gives without faults (the same command in namespace ref). The
#     restore's points are sampled (all of the first 40, ~60 spread over
#     the rest, then each until it succeeds).
#  2. Every Nth allocation: ~2,000 mixed commands (VPNs made, filled,
#     changed, flushed and deleted) in a batch whose rnatctl has
#     make-it-fail set (failslab and fail_page_alloc with task-filter,
#     probability 100 and an interval). A failed line must say so, and
#     leave save equal to namespace ref, which runs the lines that passed;
#     the batch goes on from that line (retried). At the end gw's save is
#     ref's, and restored into a fresh namespace it saves the same.
#
# Figures are printed as '# faults: ...' lines.
#
# Usage: tests/e2e/faults.sh MODULE.ko [EVERY_NTH_ROUNDS [STRIDE]]
#   (EVERY_NTH_ROUNDS: rounds of 11 commands in part 2, 180 unless told;
#   STRIDE: part 1 tries every STRIDE-th allocation only, 1, 1 + STRIDE,
#   ... until the command succeeds, and the restore's sample is divided
#   by it: the debug kernel's subset, where every run costs ten times more)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: faults.sh MODULE.ko [EVERY_NTH_ROUNDS [STRIDE]]}
ROUNDS=${2:-180}
STRIDE=${3:-1}
DBG=/sys/kernel/debug
work=$(mktemp -d)
SAVER_PIDS=()
faults_off() {
	local f
	for f in failslab fail_page_alloc; do
		[ -d "$DBG/$f" ] || continue
		echo 0 >"$DBG/$f/probability"
		echo N >"$DBG/$f/task-filter"
	done
}
finish() {
	faults_off
	[ ${#SAVER_PIDS[@]} = 0 ] || kill "${SAVER_PIDS[@]}" 2>/dev/null
	ip netns del ref 2>/dev/null
	ip netns del fresh 2>/dev/null
	seed_cleanup
	rm -rf "$work"
}
trap finish EXIT

if [ ! -d "$DBG/failslab" ] || [ ! -d "$DBG/fail_page_alloc" ] ||
	[ ! -e /proc/self/fail-nth ]; then
	fail "fault injection: this kernel has no failslab, fail_page_alloc or fail-nth (tests/kernel/config.fragment has them: run it with tests/vm/run --kernel test or debug)"
	exit 1
fi

# tests/vm/run then takes warn_alloc()'s reports for what they are.
echo "rnat-vm: allocation failures injected from here on" >/dev/kmsg
# Faults for any allocation (sleeping ones too), none by chance, quiet:
# fail-nth and make-it-fail choose the task. fail_page_alloc leaves out
# __GFP_HIGHMEM ones (user pages: a fault would only be retried).
for f in failslab fail_page_alloc; do
	echo N >"$DBG/$f/ignore-gfp-wait"
	echo 0 >"$DBG/$f/probability"
	echo 1 >"$DBG/$f/interval"
	echo -1 >"$DBG/$f/times"
	echo 0 >"$DBG/$f/space"
	echo 0 >"$DBG/$f/verbose"
	echo N >"$DBG/$f/task-filter"
done
echo N >"$DBG/failslab/cache-filter"
echo 0 >"$DBG/fail_page_alloc/min-order"

rnat() { "$RNATCTL" -n gw "$@"; }
counter() {
	local out re="counter packets ([0-9]+) bytes [0-9]+ comment \"$2\""
	out=$(n "$1" nft list chain ip watch pre)
	[[ $out =~ $re ]] && echo "${BASH_REMATCH[1]}"
}
no_leak() {
	expect_eq "$1: nothing crossed untranslated (core, vpn1)" "0 0" \
		"$(counter core leak) $(counter vpn1 leak)"
}
flowing() {
	local c v i
	c=$(counter core translated) v=$(counter vpn1 translated)
	for i in $(seq 10); do
		nap 0.5
		[ "$(counter core translated)" -gt "$c" ] &&
			[ "$(counter vpn1 translated)" -gt "$v" ] && break
	done
	expect_eq "$1: traffic flows both ways, translated" "yes yes" \
		"$([ "$(counter core translated)" -gt "$c" ] && echo yes) $([ "$(counter vpn1 translated)" -gt "$v" ] && echo yes)"
}

expect "insmod rnat" insmod "$MODULE"
seed_topology
DEVS="d2 d3 d4 d5"
for d in $DEVS; do
	n gw ip link add "$d" type dummy
	n gw ip link set "$d" up
done
ip netns add ref
ip netns add fresh
for ns in ref fresh; do
	for d in gv1 gv2 $DEVS; do
		n "$ns" ip link add "$d" type dummy
		n "$ns" ip link set "$d" up
	done
done
expect "the starting state" rnat -b - <<'EOF'
pool add P 10.153.0.0/16
pool add Q 10.160.0.0/16 10.161.0.0/24
vpn add 1 pool P dev gv1
map add vpn 1 real 10.1.0.0 nat 10.153.0.1
vpn add 2 pool Q dev d2 name two
map add vpn 2 real 10.2.0.1
map add vpn 2 real 10.2.0.2
map add vpn 2 real 10.2.1.0/29
vpn add 3 pool Q dev d3 mark 0x10/0xf0 out-mark 0x10/0xf0
map add vpn 3 real 10.3.0.1
EOF
NAT1=10.153.0.1
rnat save >"$work/start"
expect "the starting state in namespace ref" \
	"$RNATCTL" -R -n ref restore "$work/start"

n core nft -f - <<'EOF'
table ip watch {
	chain pre {
		type filter hook prerouting priority -500;
		udp dport 9 ip saddr 10.1.0.0/16 counter comment "leak"
		udp dport 9 ip saddr 10.153.0.1 counter comment "translated"
	}
}
EOF
n vpn1 nft -f - <<'EOF'
table ip watch {
	chain pre {
		type filter hook prerouting priority -500;
		udp dport 9 ip daddr 10.153.0.0/16 counter comment "leak"
		udp dport 9 ip daddr 10.1.0.0 counter comment "translated"
	}
}
EOF
mkfifo "$work/never"
send() {
	n "$1" bash -c 'exec 3<>"$1"; while :; do
		echo x 2>/dev/null >"/dev/udp/$2/9"; read -r -t 0.005 -u 3; done' \
		sender "$work/never" "$2" 2>/dev/null &
}
send vpn1 10.200.0.1
send core "$NAT1"
# A listener, so that the events' allocations are made (and fail) too;
# it ends when an event is lost, and is started again.
n gw bash -c 'while :; do "$1" monitor >/dev/null 2>&1; done' monitor "$RNATCTL" &
flowing "start"

# Savers: long-lived rnatctl batches (stdout a line at a time) in gw and
# ref, so that a comparison of states costs no process. "pool show P"
# (a line "P ...") brackets each save.
mkfifo "$work/gw.in" "$work/gw.out" "$work/ref.in" "$work/ref.out"
declare -A SIN SOUT
for ns in gw ref; do
	stdbuf -oL "$RNATCTL" -R -n "$ns" -b - <"$work/$ns.in" >"$work/$ns.out" 2>&1 &
	SAVER_PIDS+=($!)
	exec {fd}>"$work/$ns.in"
	SIN[$ns]=$fd
	exec {fd}<"$work/$ns.out"
	SOUT[$ns]=$fd
done
# query NS [LINE...]: runs the LINEs (ref only) then sets SAVE to NS's
# save; 1 if the saver is gone or silent (1 min).
query() {
	local ns=$1 line seen=0
	shift
	[ $# = 0 ] || printf '%s\n' "$@" >&"${SIN[$ns]}"
	printf 'pool show P\nsave\npool show P\n' >&"${SIN[$ns]}"
	SAVE=
	while IFS= read -r -t 60 line <&"${SOUT[$ns]}"; do
		if [[ $line == "P "* ]]; then
			((seen++)) && return 0
			continue
		fi
		((seen)) && SAVE+=$line$'\n'
	done
	echo "# the $ns saver is gone: ${SAVE:-(nothing)}${line:+, last: $line}"
	return 1
}
# show_diff WANT GOT: what differs, as '#' lines.
show_diff() {
	printf '%s' "$1" >"$work/want"
	printf '%s' "$2" >"$work/got"
	diff -u "$work/want" "$work/got" | head -n 20 | sed 's/^/#   /'
}
query gw && query ref || { fail "the savers answer"; exit 1; }
expect_eq "gw and ref start from the same state" "$SAVE" "$(cat "$work/start")"$'\n'

# The batches whose allocations fail read from $FIFO.
FIFO=$work/fifo
mkfifo "$FIFO"
# wait_read PID [V0]: waits (60 s at most) until PID sleeps in read(0, ...)
# having switched out more than V0 times; 1 if it ended.
wait_read() {
	local sc st v l i
	for ((i = 0; i < 3000; i++)); do
		read -ra st 2>/dev/null <"/proc/$1/stat" || return 1
		[ "${st[2]}" != Z ] || return 1
		if read -r sc 2>/dev/null <"/proc/$1/syscall" &&
			[[ $sc == "0 0x0 "* ]]; then
			v=
			while read -r l; do
				[[ $l == voluntary_ctxt_switches:* ]] && v=${l##*:}
			done 2>/dev/null <"/proc/$1/status"
			VOL=${v// /}
			VOL=${VOL//$'\t'/}
			[ -z "${2:-}" ] || [ "$VOL" -gt "$2" ] && return 0
		fi
		nap 0.02
	done
	return 1
}
# run_cmd MODE VALUE CMD...: rnatctl -b in gw: a first line opens its
# socket; once it waits for the next, MODE (fail-nth or make-it-fail) is
# set to VALUE, then the CMD lines follow. Sets RC, ERRMSG (its stderr)
# and LEFT: fail-nth left once the lines were done and it waits for more
# (-1 if it ended first: a line failed).
run_cmd() {
	local mode=$1 value=$2 pid w wpid=
	shift 2
	# stderr goes to a page already allocated: an injected failure
	# cannot take the message away.
	printf '#\n' >"$work/err"
	exec {w}<>"$FIFO"
	printf 'pool show P\n' >&"$w"
	"$RNATCTL" -R -n gw -b - <"$FIFO" >/dev/null 2>>"$work/err" {w}>&- &
	pid=$!
	LEFT=-1
	if wait_read "$pid"; then
		echo "$value" >"/proc/$pid/$mode"
		if [ "$mode" = fail-nth ]; then
			local v0=$VOL
			printf '%s\n' "$@" >&"$w"
			if wait_read "$pid" "$v0"; then
				read -r LEFT <"/proc/$pid/fail-nth"
				echo 0 >"/proc/$pid/fail-nth"
			fi
		else
			# Many lines: written aside (a pipe holds 64 KiB), the
			# writer killed if the batch stops first.
			{ printf '%s\n' "$@" >&"$w"; } &
			wpid=$!
		fi
	fi
	exec {w}>&-
	wait "$pid"
	RC=$?
	if [ -n "$wpid" ]; then
		kill "$wpid" 2>/dev/null
		wait "$wpid" 2>/dev/null
	fi
	ERRMSG=$(<"$work/err")
	ERRMSG=${ERRMSG#\#}
	ERRMSG=${ERRMSG#$'\n'}
}
# set_state TEXT: gw's state becomes TEXT (a save) again.
set_state() {
	printf '%s' "$1" >"$work/set"
	"$RNATCTL" -R -n gw restore "$work/set" >/dev/null &&
		query gw && [ "$SAVE" = "$1" ]
}

T_CMDS=0 T_RUNS=0 T_INJ=0 T_ERR=0 T_ABS=0 T_CMP=0 T_ACK=0 T_BAD=0
# faultloop CMD [SAMPLE]: part 1 for one command (see the top). With
# SAMPLE, not every point: all of the first 40, SAMPLE spread over the
# rest, then each until the command succeeds.
faultloop() {
	local cmd=$1 sample=${2:-} before after k n step=1 runs=0 inj=0 err=0 abs=0 ack=0 bad=0 done=
	query gw || { fail "fail-nth $cmd: gw's saver"; return; }
	before=$SAVE
	if ! query ref "$cmd" || [ "$SAVE" = "$before" ]; then
		fail "fail-nth $cmd: the command changes the state in ref without faults"
		exit 1
	fi
	after=$SAVE
	# How many allocations does it make? (fail-nth far beyond.)
	run_cmd fail-nth 1000000 "$cmd"
	k=$((1000000 - LEFT))
	if [ "$RC" != 0 ] || [ "$LEFT" -le 0 ] || ! query gw || [ "$SAVE" != "$after" ]; then
		fail "fail-nth $cmd: without a failure it gives ref's state"
		echo "#   exit $RC, left $LEFT: $ERRMSG"
		show_diff "$after" "$SAVE"
		exit 1
	fi
	T_CMP=$((T_CMP + 1))
	set_state "$before" || { fail "fail-nth $cmd: state put back"; exit 1; }
	[ -z "$sample" ] || [ "$k" -le $((40 + sample)) ] || step=$(((k - 40) / sample))
	n=1
	while [ -z "$done" ]; do
		run_cmd fail-nth "$n" "$cmd"
		runs=$((runs + 1))
		query gw || { fail "fail-nth $cmd: gw's saver"; return; }
		T_CMP=$((T_CMP + 1))
		if [ "$RC" != 0 ]; then
			inj=$((inj + 1)) err=$((err + 1))
			if [[ $ERRMSG != Error* ]]; then
				bad=$((bad + 1))
				fail "fail-nth $cmd: N=$n fails with a message (exit $RC)"
				echo "#   stderr: '$ERRMSG'"
			fi
			if [ "$SAVE" != "$before" ]; then
				if [[ $ERRMSG == *"No buffer space"* ]] && [ "$SAVE" = "$after" ]; then
					# netlink_ack() could not allocate the ACK of
					# a change made: generic netlink's, not rnat's.
					ack=$((ack + 1))
				else
					bad=$((bad + 1))
					fail "fail-nth $cmd: N=$n failed and left the state as before ($ERRMSG)"
					show_diff "$before" "$SAVE"
				fi
				set_state "$before" || { fail "fail-nth $cmd: state put back"; return; }
			fi
		else
			if [ "$SAVE" != "$after" ]; then
				bad=$((bad + 1))
				fail "fail-nth $cmd: N=$n succeeded (fail-nth left $LEFT) and gave ref's state"
				show_diff "$after" "$SAVE"
			fi
			if [ "$LEFT" = 0 ]; then
				# Injected and absorbed (an event lost, say).
				inj=$((inj + 1)) abs=$((abs + 1))
				set_state "$before" || { fail "fail-nth $cmd: state put back"; return; }
			else
				done=1
			fi
		fi
		if [ -z "$done" ] && [ "$n" -gt $((k + 100)) ]; then
			fail "fail-nth $cmd: succeeds by N=$((k + 100))"
			break
		fi
		if [ "$STRIDE" -gt 1 ]; then
			n=$((n + (step > STRIDE ? step : STRIDE)))
		elif [ "$n" -ge 40 ] && [ "$n" -lt $((k - 20)) ]; then
			n=$((n + step))
		else
			n=$((n + 1))
		fi
	done
	[ "$bad" != 0 ] || pass "fail-nth $cmd: $runs runs ($k allocations), $err failed cleanly, $abs absorbed, $ack ACKs lost after the change"
	echo "# faults: fail-nth '$cmd': allocations $k, runs $runs, injected $inj, errors $err, absorbed $abs, ACKs lost $ack, bad $bad"
	T_CMDS=$((T_CMDS + 1)) T_RUNS=$((T_RUNS + runs)) T_INJ=$((T_INJ + inj))
	T_ERR=$((T_ERR + err)) T_ABS=$((T_ABS + abs)) T_ACK=$((T_ACK + ack)) T_BAD=$((T_BAD + bad))
	no_leak "fail-nth $cmd"
}

# Part 1.
start_part1=$SECONDS
faultloop "map add vpn 2 real 10.2.0.3"
faultloop "map add vpn 2 real 10.2.0.4 nat 10.161.0.9"
faultloop "map add vpn 2 real 10.2.2.0/28"
faultloop "map replace vpn 2 real 10.2.0.3 nat 10.161.0.10"
faultloop "map replace vpn 2 real 10.2.0.5 nat 10.161.0.9"
faultloop "map del vpn 2 real 10.2.0.1"
faultloop "map add vpn 1 real 10.1.0.7"
faultloop "map flush vpn 2"
faultloop "vpn add 4 pool Q dev d4 blocks 10.160.8.0/24,10.160.9.0/25"
faultloop "map add vpn 4 real 10.4.0.1"
faultloop "vpn set 4 dev d5"
faultloop "vpn set 4 mark 0x20/0xf0"
faultloop "vpn set 4 name four"
faultloop "vpn set 4 dev d4 mark none name vpn4x"
faultloop "vpn del 3"
faultloop "pool add R 10.170.0.0/16 10.171.0.0/24"
faultloop "pool del R"
# A restore: the state so far and VPN 5 with 280 mappings.
query gw
{
	printf '%s' "$SAVE"
	echo "vpn add 5 pool Q dev d3 name five"
	for i in $(seq 0 279); do
		echo "map add vpn 5 real 10.5.$((i / 100)).$((i % 100 + 1))"
	done
} >"$work/restore"
faultloop "restore $work/restore" $((60 / STRIDE))
faultloop "vpn del 5"
echo "# faults: part 1 took $((SECONDS - start_part1)) s"
flowing "after part 1"

# Part 2: every Nth allocation of the batches' rnatctl fails.
start_part2=$SECONDS
lines=()
for ((r = 0; r < ROUNDS; r++)); do
	v=$((100 + r)) a=10.50.$((r % 250)) b=10.51.$((r % 250))
	lines+=("vpn add $v pool Q name r$r"
		"map add vpn $v real $a.1"
		"map add vpn $v real $a.2"
		"map add vpn $v real $b.0/29"
		"map replace vpn $v real $a.1"
		"map replace vpn $v real $a.3"
		"map del vpn $v real $a.2"
		"vpn set $v name s$r"
		"map flush vpn $v"
		"map add vpn $v real $a.4")
	# Three VPNs in four go again.
	if ((r % 4)); then
		lines+=("vpn del $v")
	else
		lines+=("map add vpn $v real $a.5")
	fi
done
SLAB_EVERY=${RNAT_FAULTS_SLAB_EVERY:-211}
PAGE_EVERY=${RNAT_FAULTS_PAGE_EVERY:-7}
BIG=1000000000
echo "$SLAB_EVERY" >"$DBG/failslab/interval"
echo "$PAGE_EVERY" >"$DBG/fail_page_alloc/interval"
for f in failslab fail_page_alloc; do
	echo "$BIG" >"$DBG/$f/times"
	echo Y >"$DBG/$f/task-filter"
	echo 100 >"$DBG/$f/probability"
done
next=0 batches=0 lerr=0 bad2=0 cmp2=0 msgbad=0 ack2=0 again=0 last=-1
while [ "$next" -lt "${#lines[@]}" ]; do
	batches=$((batches + 1))
	run_cmd make-it-fail 1 "${lines[@]:next}"
	[ "$RC" != 0 ] || break
	lerr=$((lerr + 1))
	re='Error in line ([0-9]+):'
	if [[ $ERRMSG =~ $re ]] && [ "${BASH_REMATCH[1]}" -ge 2 ]; then
		failed=$((next + BASH_REMATCH[1] - 2))
	else
		# Before the first line (the process's start, its socket):
		# nothing ran, or a line failed without saying which.
		[[ $ERRMSG == *Error* ]] || [ "$RC" -ge 128 ] || {
			msgbad=$((msgbad + 1))
			echo "# a batch failed without a message (exit $RC): '$ERRMSG'"
		}
		failed=$next
	fi
	if ! query ref "${lines[@]:next:failed-next}"; then
		fail "every Nth: ref runs the lines gw passed (up to ${lines[$failed]})"
		bad2=$((bad2 + 1))
		break
	fi
	want=$SAVE
	query gw || { fail "every Nth: gw's saver"; bad2=$((bad2 + 1)); break; }
	cmp2=$((cmp2 + 1))
	if [ "$SAVE" != "$want" ] && [[ $ERRMSG == *"No buffer space"* ]] &&
		query ref "${lines[$failed]}" && want=$SAVE && query gw &&
		[ "$SAVE" = "$want" ]; then
		# The change was made, its ACK lost (see part 1).
		ack2=$((ack2 + 1))
		failed=$((failed + 1))
	elif [ "$SAVE" != "$want" ]; then
		fail "every Nth: '${lines[$failed]}' failed and left the state as before ($ERRMSG)"
		show_diff "$want" "$SAVE"
		bad2=$((bad2 + 1))
		break
	fi
	# A line that keeps failing is not failing by injection.
	if [ "$failed" = "$last" ]; then
		again=$((again + 1))
		if [ "$again" -ge 10 ]; then
			fail "every Nth: '${lines[$failed]}' fails 10 times in a row ($ERRMSG)"
			bad2=$((bad2 + 1))
			break
		fi
	else
		again=0 last=$failed
	fi
	next=$failed
done
faults_off
slab_inj=$((BIG - $(cat "$DBG/failslab/times")))
page_inj=$((BIG - $(cat "$DBG/fail_page_alloc/times")))
if [ "$bad2" = 0 ]; then
	query ref "${lines[@]:next}" && want=$SAVE && query gw
	cmp2=$((cmp2 + 1))
	expect_eq "every Nth: gw ends with ref's state" "$want" "$SAVE"
	[ "$msgbad" = 0 ] && pass "every Nth: ${#lines[@]} lines, $batches batches, $lerr failed cleanly" ||
		fail "every Nth: $msgbad failed batches said nothing"
fi
echo "# faults: every Nth (failslab every $SLAB_EVERY, fail_page_alloc every $PAGE_EVERY): ${#lines[@]} lines in $batches batches, $lerr errors, $ack2 ACKs lost after the change, $slab_inj slab and $page_inj page failures injected, $cmp2 state comparisons, $((SECONDS - start_part2)) s"
no_leak "every Nth"
flowing "after every Nth"

# The final state replays: saved, restored into a fresh namespace.
rnat save >"$work/final"
expect "the final state restores into a fresh namespace" \
	"$RNATCTL" -R -n fresh restore "$work/final"
expect_eq "and saves the same there" "$(cat "$work/final")" "$("$RNATCTL" -n fresh save)"
T_CMP=$((T_CMP + 1))

echo "# faults: part 1: $T_CMDS commands, $T_RUNS runs (injection points tried), $T_INJ failures injected, $T_ERR errors returned, $T_ABS absorbed, $T_ACK ACKs lost after a change, $T_CMP state comparisons, $T_BAD bad (allocation stride $STRIDE)"
[ "$T_BAD" = 0 ] || fail "part 1: $T_BAD runs broke a rule (above)"

# Everything deleted, the module unloaded: kmemleak (tests/vm/run) then
# finds what a failed path leaked.
kill "${SAVER_PIDS[@]}" 2>/dev/null
SAVER_PIDS=()
ip netns pids gw | xargs -r kill 2>/dev/null
for ns in gw ref fresh; do
	"$RNATCTL" -R -n "$ns" restore /dev/null >/dev/null 2>&1
done
ip netns del ref
ip netns del fresh
seed_cleanup
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
