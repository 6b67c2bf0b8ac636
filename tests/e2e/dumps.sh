#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Dumps, events and save at their limits: a VPN with more blocks than a
# message holds (between two others) is listed, saved, routed, announced
# and restored whole; save under concurrent changes is one state that
# existed or fails saying so (also while a VPN of several messages comes
# and goes), and -j prints valid JSON or nothing; what save and monitor
# print replays (vpn set inside a restore, a removed mark and a departed
# device as "none"); a batch line with a NUL byte fails.
#
# Usage: tests/e2e/dumps.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: dumps.sh MODULE.ko}
NS=dumps
BIG=1700
cli_setup "$MODULE" d1 d2 d3 d4
json_ok() { python3 -c 'import json, sys; json.load(sys.stdin)'; }

# The big VPN's blocks: every other address from 10.153.16.0 (no two merge).
blocks=$(for ((k = 0; k < BIG; k++)); do
	echo "10.153.$((16 + k / 128)).$((2 * (k % 128)))/32"
done | paste -sd,)

rnat monitor >"$TMPDIR/mon" 2>"$TMPDIR/mon.err" &
mon=$!
nap 2	# the monitor has joined the group
expect "a pool and VPN 1" rnat -b - <<<"pool add P 10.153.0.0/16
vpn add 1 pool P dev d1
map add vpn 1 real 10.1.0.1"
expect "VPN 2 with $BIG blocks" rnat vpn add 2 pool P dev d2 blocks "$blocks"
expect "VPN 3 after it" rnat -b - <<<"vpn add 3 pool P dev d3
map add vpn 3 real 10.1.0.1"

out=$(rnat vpn show)
expect_eq "vpn show lists all three VPNs" "1 2 3" "$(awk '{ print $2 }' <<<"$out" | paste -sd' ')"
expect_eq "... vpn 2 with all its blocks" "$BIG" \
	"$(grep '^vpn 2 ' <<<"$out" | grep -o '/32' | wc -l)"
expect_eq "vpn show 2 shows them all" "$BIG" "$(rnat vpn show 2 | grep -o '/32' | wc -l)"
expect_eq "vpn show -j: one JSON document, vpn 2 with every block" "3 $BIG" \
	"$(rnat -j vpn show | python3 -c 'import json, sys; v = json.load(sys.stdin); print(len(v), len(v[1]["blocks"]))')"
rnat save >"$TMPDIR/saved"
expect_eq "save exits 0 with the three VPNs" "0 3" "$? $(grep -c '^vpn add' "$TMPDIR/saved")"
expect_eq "save lists vpn 2's blocks, all of them, on its line" "$BIG" \
	"$(grep '^vpn add 2 ' "$TMPDIR/saved" | grep -o '/32' | wc -l)"
expect_eq "... and vpn 3's mapping" "1" "$(grep -c '^map add vpn 3 ' "$TMPDIR/saved")"
routes=$(n "$NS" ip route show proto 82)
expect_eq "route sync routes every block of every VPN" "1 $BIG 1" \
	"$(grep -c 'dev d1' <<<"$routes") $(grep -c 'dev d2' <<<"$routes") $(grep -c 'dev d3' <<<"$routes")"
expect_eq "monitor shows vpn 2's creation with all its blocks" "$BIG" \
	"$(grep '^vpn add 2 ' "$TMPDIR/mon" | grep -o '/32' | wc -l)"
expect_eq "... and what came after it" "1" "$(grep -c '^vpn add 3 ' "$TMPDIR/mon")"
expect "restore of that save" rnat restore "$TMPDIR/saved"
expect_eq "... gives the same save" "" "$(rnat save | diff - "$TMPDIR/saved" | head -n 3)"

# What monitor prints replays: a removed mark, a departed device.
expect "vpn 4 with marks" rnat vpn add 4 pool P dev d4 mark 0x10/0xf0 out-mark 0x20/0xf0
expect "its mark removed" rnat vpn set 4 mark none
n "$NS" ip link del d4
nap 1
expect_eq "monitor: the removed mark as mark none" \
	"vpn set 4 dev d4 mark none out-mark 0x20/0xf0 name vpn4" \
	"$(grep '^vpn set 4 ' "$TMPDIR/mon" | head -n 1)"
last=$(grep '^vpn set 4 ' "$TMPDIR/mon" | tail -n 1)
expect_eq "monitor: the departed device as dev none" \
	"vpn set 4 dev none mark none out-mark 0x20/0xf0 name vpn4" "$last"
n "$NS" ip link add d5 type dummy
expect "vpn 4 on a new device with a mark" rnat vpn set 4 dev d5 mark 0x30/0xf0
expect "replaying monitor's line" rnat -b - <<<"$last"
expect_eq "... leaves vpn 4 with no device and no mark" \
	"vpn 4 name vpn4 pool P out-mark 0x20/0xf0 mappings 0" "$(rnat vpn show 4)"
expect "vpn set dev none" rnat vpn set 4 dev none
kill "$mon"
wait "$mon" 2>/dev/null

# A batch line with a NUL byte is an error naming the line.
out=$(printf 'pool show\npool sh\0ow\n' | rnat -b - 2>&1 >/dev/null)
expect_eq "a NUL byte in a batch line fails, naming the line" \
	"1 Error in line 2: the line has a NUL byte" "$? $out"

# save while another rnatctl changes the state: VPN 9 comes and goes with
# mappings, among 2,000 mappings of VPN 1 (dumps of many messages). The
# churn passes through VPN 9 absent, with no mapping, with 10.9.0.1 and
# with both: a save is one of those states or fails saying why.
for ((j = 0; j < 2000; j++)); do
	echo "map add vpn 1 real 10.2.$((j / 250)).$((j % 250))"
done | rnat -b - >/dev/null
printf 'vpn add 9 pool P\nmap add vpn 9 real 10.9.0.1\nmap add vpn 9 real 10.9.0.2\nvpn del 9\n' \
	>"$TMPDIR/churn"
# churn_start FILE: a batch that runs FILE's lines again and again until
# it is killed (the loop feeding it ends then: cat fails on the closed
# pipe); $churn is the batch, the process to stop.
churn_start() {
	while cat "$1"; do :; done 2>/dev/null |
		"$RNATCTL" -n "$NS" -R -b - >/dev/null 2>&1 &
	churn=$!
}

# save_check SAVE: is SAVE a state the churn passes through? Every
# mapping's VPN is in it, its NAT in one of that VPN's blocks, and VPN 9
# has no mapping, 10.9.0.1, or both. If not, says why in "#" lines, with
# VPN 9's lines.
save_check() {
	awk 'function ip(s, a) { split(s, a, "[./]"); return ((a[1] * 256 + a[2]) * 256 + a[3]) * 256 + a[4] }
	function size(s, a) { return 2 ^ (32 - (split(s, a, "/") > 1 ? a[2] : 32)) }
	function say(m) { if (said++ < 10) print "#     " substr(m, 1, 200); bad = 1 }
	/^vpn add / {
		v[$3] = 1
		for (i = 4; i < NF; i++)
			if ($i == "blocks")
				for (k = split($(i + 1), b, ","); k; k--) {
					n = ++nb[$3]
					lo[$3, n] = ip(b[k])
					hi[$3, n] = lo[$3, n] + size(b[k])
				}
		if ($3 == 9)
			l9 = $0
	}
	/^map add / {
		for (i = 5; i < NF; i++)
			if ($i == "nat")
				nat = $(i + 1)
		if ($4 == 9) {
			n9++
			r9[$6] = 1
			m9 = m9 "\n#       " $0
		}
		if (!($4 in v)) {
			say("VPN " $4 " is not in the save: " $0)
			next
		}
		for (k = 1; k <= nb[$4]; k++)
			if (ip(nat) >= lo[$4, k] && ip(nat) + size(nat) <= hi[$4, k])
				next
		say("its NAT is in none of the blocks of VPN " $4 ": " $0)
	}
	END {
		if (n9 && !(("10.9.0.1" in r9) && (n9 == 1 || (n9 == 2 && ("10.9.0.2" in r9)))))
			say("VPN 9 has " n9 " mappings, not none, 10.9.0.1, or both")
		if (bad)
			print "#     VPN 9 in it:\n#       " (l9 == "" ? "(none)" : substr(l9, 1, 200)) m9
		exit bad
	}' "$1"
}

# The checker itself: it takes each state the churn passes through and
# refuses a save torn between them. (It once refused VPN 9 with only
# 10.9.0.1, a state that exists between the churn's two map adds.)
s9="vpn add 9 pool P blocks 10.153.99.4/31
map add vpn 9 real 10.9.0.1 nat 10.153.99.4"
printf 'vpn add 1 pool P\n' >"$TMPDIR/c0"
printf 'vpn add 1 pool P\nvpn add 9 pool P\n' >"$TMPDIR/c1"
printf 'vpn add 9 pool P blocks 10.153.99.4/32\nmap add vpn 9 real 10.9.0.1 nat 10.153.99.4\n' >"$TMPDIR/c2"
printf '%s\nmap add vpn 9 real 10.9.0.2 nat 10.153.99.5\n' "$s9" >"$TMPDIR/c3"
printf 'map add vpn 9 real 10.9.0.1 nat 10.153.99.4\n' >"$TMPDIR/t1"
printf 'vpn add 9 pool P\nmap add vpn 9 real 10.9.0.1 nat 10.153.99.4\n' >"$TMPDIR/t2"
printf 'vpn add 9 pool P blocks 10.153.99.4/31\nmap add vpn 9 real 10.9.0.2 nat 10.153.99.4\n' >"$TMPDIR/t3"
printf '%s\nmap add vpn 9 real 10.9.0.2 nat 10.153.99.6\n' "$s9" >"$TMPDIR/t4"
got=
for f in c0 c1 c2 c3 t1 t2 t3 t4; do
	save_check "$TMPDIR/$f" >/dev/null && got+="$f " || got+="-$f "
done
expect_eq "save_check takes every state of the churn, refuses torn saves" \
	"c0 c1 c2 c3 -t1 -t2 -t3 -t4 " "$got"

# And saves of those states themselves: after each line of the churn.
mapfile -t -n 4 lines <"$TMPDIR/churn"
for ((j = 0; j < 4; j++)); do
	rnat -b - <<<"${lines[j]}" >/dev/null
	rnat save >"$TMPDIR/s"
	rc=$?
	out=$(save_check "$TMPDIR/s")
	expect_eq "save after \"${lines[j]}\": exits 0, passes save_check" \
		"0 0" "$rc $?${out:+$'\n'$out}"
done

# save_try NAME I: one "rnat save" and one "rnat -j save" while the churn
# runs or is stopped; counts them in saved, refused and bad, and prints
# what was wrong with a bad one.
save_try() {
	local i=$2 rc out
	rnat save >"$TMPDIR/s$i" 2>"$TMPDIR/e$i"
	rc=$?
	if [[ $rc == 0 ]]; then
		saved=$((saved + 1))
		out=$(save_check "$TMPDIR/s$i") || {
			bad=$((bad + 1))
			echo "# $1 save $i is no state of the churn:"
			echo "$out"
		}
	elif [[ -s $TMPDIR/s$i ]] || ! grep -q 'changed during each' "$TMPDIR/e$i"; then
		bad=$((bad + 1))
		echo "# $1 save $i failed (exit $rc) with $(wc -c <"$TMPDIR/s$i") bytes out:"
		head -c 300 "$TMPDIR/e$i" | sed 's/^/#     /'
	else
		refused=$((refused + 1))
	fi
	out=$(rnat -j save 2>"$TMPDIR/je$i")
	[[ -z $out ]] || json_ok <<<"$out" || {
		bad=$((bad + 1))
		echo "# $1 save -j $i printed invalid JSON ($(wc -c <<<"$out") bytes), beginning:"
		head -c 300 <<<"$out" | sed 's/^/#     /'
		echo
	}
}

churn_start "$TMPDIR/churn"
nap 1
bad=0 saved=0 refused=0
for i in $(seq 6); do
	save_try "under churn:" "$i"
done
alive=no
kill -0 "$churn" 2>/dev/null && alive=yes
echo "# under churn: $saved saves, $refused refused as changing, churn still running: $alive"
expect_eq "6 saves under churn: each one state that existed, or nothing and why" 0 "$bad"

# With the churn stopped anywhere (as a loaded machine may stall it), save
# succeeds and is the state it stopped in.
bad=0 saved=0 refused=0
for i in $(seq 4); do
	nap "0.0$((RANDOM % 10))"
	kill -STOP "$churn" 2>/dev/null || break
	for ((j = 0; j < 500; j++)); do
		read -r _ _ st _ <"/proc/$churn/stat" 2>/dev/null || break
		[[ $st == [TZX] ]] && break
		nap 0.01
	done
	save_try "churn stopped:" "$i"
	kill -CONT "$churn"
done
kill "$churn" 2>/dev/null
wait "$churn" 2>/dev/null
expect_eq "4 saves with the churn stopped: each the state it stopped in" \
	"4 saves, 0 bad" "$saved saves, $bad bad"

# A VPN whose blocks fill several messages, deleted and added again while
# saves run: a save cut inside its blocks reads again. (It once failed with
# "malformed VPN block list (a part is missing)" from the kernel.)
printf 'vpn del 2\nvpn add 2 pool P dev d2 blocks %s\n' "$blocks" >"$TMPDIR/churn2"
churn_start "$TMPDIR/churn2"
nap 1
bad=0 saved=0 refused=0
# The saves at the lowest priority: the churn runs between their reads.
for i in $(seq 20); do
	nice -n 19 "$RNATCTL" -n "$NS" save >"$TMPDIR/b$i" 2>"$TMPDIR/be$i"
	rc=$?
	n2=$(grep '^vpn add 2 ' "$TMPDIR/b$i" | grep -o '/32' | wc -l)
	if [[ $rc == 0 ]] && [[ $n2 == 0 || $n2 == "$BIG" ]]; then
		saved=$((saved + 1))
	elif [[ $rc != 0 && ! -s $TMPDIR/b$i ]] &&
		grep -q 'changed during each' "$TMPDIR/be$i"; then
		refused=$((refused + 1))
	else
		bad=$((bad + 1))
		echo "# save $i: exit $rc, vpn 2 with $n2 blocks, error:"
		head -c 300 "$TMPDIR/be$i" | sed 's/^/#     /'
	fi
done
alive=no
kill -0 "$churn" 2>/dev/null && alive=yes
kill "$churn" 2>/dev/null
wait "$churn" 2>/dev/null
echo "# VPN 2 deleted and added: $saved saves, $refused refused as changing, churn still running: $alive"
expect_eq "20 saves while VPN 2 (blocks in several messages) comes and goes: whole or refused" \
	0 "$bad"

# vpn set inside a restore, for a VPN the same restore creates.
printf 'pool add Q 10.160.0.0/16\nvpn add 7 pool Q\nvpn set 7 dev d3 name seven\n' >"$TMPDIR/r"
expect "restore: vpn set of a VPN the restore creates" rnat restore "$TMPDIR/r"
expect_eq "... took effect" "vpn 7 name seven pool Q dev d3 mappings 0" "$(rnat vpn show)"

cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
