#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Dumps, events and save at their limits: a VPN with more blocks than a
# message holds (between two others) is listed, saved, routed, announced
# and restored whole; save under concurrent changes is one state that
# existed or fails saying so, and -j prints valid JSON or nothing; what
# save and monitor print replays (vpn set inside a restore, a removed mark
# and a departed device as "none"); a batch line with a NUL byte fails.
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
# mappings, among 2,000 mappings of VPN 1 (dumps of many messages).
for ((j = 0; j < 2000; j++)); do
	echo "map add vpn 1 real 10.2.$((j / 250)).$((j % 250))"
done | rnat -b - >/dev/null
for ((j = 0; j < 8000; j++)); do
	printf 'vpn add 9 pool P\nmap add vpn 9 real 10.9.0.1\nmap add vpn 9 real 10.9.0.2\nvpn del 9\n'
done >"$TMPDIR/churn"
rnat -R -b "$TMPDIR/churn" >/dev/null 2>&1 &
churn=$!
nap 1
bad=0 saved=0 refused=0
for i in $(seq 6); do
	rnat save >"$TMPDIR/s$i" 2>"$TMPDIR/e$i"
	rc=$?
	if [[ $rc == 0 ]]; then
		saved=$((saved + 1))
		# Every mapping's VPN is in the same save, and vpn 9 has 0 or 2.
		awk '/^vpn add/ { v[$3] = 1 } /^map add/ { if (!($4 in v)) bad = 1; if ($4 == 9) n++ }
		     END { exit bad || (n != 0 && n != 2) }' "$TMPDIR/s$i" || bad=$((bad + 1))
	elif [[ -s $TMPDIR/s$i ]] || ! grep -q 'changed during each' "$TMPDIR/e$i"; then
		bad=$((bad + 1))
	else
		refused=$((refused + 1))
	fi
	out=$(rnat -j save 2>/dev/null)
	[[ -z $out ]] || json_ok <<<"$out" || bad=$((bad + 1))
done
alive=no
kill -0 "$churn" 2>/dev/null && alive=yes
kill "$churn" 2>/dev/null
wait "$churn" 2>/dev/null
echo "# under churn: $saved saves, $refused refused as changing, churn still running: $alive"
expect_eq "6 saves under churn: each one state that existed, or nothing and why" 0 "$bad"

# vpn set inside a restore, for a VPN the same restore creates.
printf 'pool add Q 10.160.0.0/16\nvpn add 7 pool Q\nvpn set 7 dev d3 name seven\n' >"$TMPDIR/r"
expect "restore: vpn set of a VPN the restore creates" rnat restore "$TMPDIR/r"
expect_eq "... took effect" "vpn 7 name seven pool Q dev d3 mappings 0" "$(rnat vpn show)"

cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
