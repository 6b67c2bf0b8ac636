#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rnatctl annotate follows changes: one annotate runs on a pipe while NAT
# IPs are deleted, handed to another VPN, replaced, flushed, their VPN
# renamed or deleted, the whole state restored, and more changes made than
# its socket holds; each line fed after a change names the current owner or
# none.
#
# Usage: tests/e2e/annotate.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: annotate.sh MODULE.ko}
NS=annot
cli_setup "$MODULE" d1 d2
expect "setup" rnat -b - <<'BATCH'
pool add EAST 10.153.0.0/16
vpn add 1 pool EAST dev d1 name acme
vpn add 2 pool EAST dev d2 name globex
map add vpn 1 real 10.1.0.1 nat 10.153.0.5
map add vpn 2 real 10.2.0.0/24 nat 10.153.1.0
BATCH

mkfifo "$TMPDIR/in"
rnat annotate <"$TMPDIR/in" >"$TMPDIR/out" 2>"$TMPDIR/err" &
annotate=$!
exec 3>"$TMPDIR/in"
lines=0

# line NAME TEXT WANT: feeds TEXT and expects WANT back, in time.
line() {
	local i got
	echo "$2" >&3
	lines=$((lines + 1))
	for i in $(seq 300); do
		(($(wc -l <"$TMPDIR/out") >= lines)) && break
		sleep 0.05
	done
	got=$(sed -n "${lines}p" "$TMPDIR/out")
	expect_eq "$1" "$3" "$got"
}

line "as read at start" "a 10.153.0.5 b 10.153.1.7" \
	"a 10.153.0.5 [acme 10.1.0.1] b 10.153.1.7 [globex 10.2.0.7]"
rnat map del nat 10.153.0.5
line "a deleted NAT IP is no longer annotated" "c 10.153.0.5" "c 10.153.0.5"
rnat map add vpn 2 real 10.2.9.9 nat 10.153.0.5 >/dev/null
line "a NAT IP re-added to another VPN names that VPN" "d 10.153.0.5" \
	"d 10.153.0.5 [globex 10.2.9.9]"
rnat vpn set 2 name initech
line "a renamed VPN's new name" "e 10.153.0.5" "e 10.153.0.5 [initech 10.2.9.9]"
rnat map replace vpn 2 real 10.2.8.8 nat 10.153.0.5 >/dev/null
line "map replace: the NAT IP's new real address" "f 10.153.0.5" \
	"f 10.153.0.5 [initech 10.2.8.8]"
rnat map flush vpn 2 >/dev/null
line "map flush: the VPN's NAT IPs are unmapped" "g 10.153.0.5 10.153.1.1" \
	"g 10.153.0.5 10.153.1.1"
rnat map add vpn 1 real 10.1.1.0/24 nat 10.153.1.0 >/dev/null
line "the freed block mapped in VPN 1" "h 10.153.1.1" "h 10.153.1.1 [acme 10.1.1.1]"
rnat vpn del 1 >/dev/null
line "vpn del: its prefix mapping is unmapped" "i 10.153.1.1" "i 10.153.1.1"
rnat vpn add 1 pool EAST dev d1 name hooli
rnat map add vpn 1 real 10.7.0.7 nat 10.153.1.1 >/dev/null
line "a VPN of the same id, added again, with its new name" "j 10.153.1.1" \
	"j 10.153.1.1 [hooli 10.7.0.7]"
cat >"$TMPDIR/state" <<'STATE'
pool add EAST 10.153.0.0/16
vpn add 3 pool EAST dev d1 name umbrella
map add vpn 3 real 10.3.0.3 nat 10.153.1.1
STATE
expect "restore another state" rnat restore "$TMPDIR/state"
line "restore: the restored state's owners" "k 10.153.1.1 10.153.0.5" \
	"k 10.153.1.1 [umbrella 10.3.0.3] 10.153.0.5"
# Many changes in a burst, then a line: every one of them is applied.
for i in $(seq 0 199); do
	echo "map add vpn 3 real 10.4.0.$i nat 10.153.2.$i"
done >"$TMPDIR/burst"
for i in $(seq 0 2 199); do
	echo "map del nat 10.153.2.$i"
done >>"$TMPDIR/burst"
expect "200 mappings added, 100 deleted (one batch)" rnat -b "$TMPDIR/burst"
line "after a burst of changes, each NAT IP as the last change left it" \
	"l 10.153.2.0 10.153.2.1 10.153.2.198 10.153.2.199" \
	"l 10.153.2.0 10.153.2.1 [umbrella 10.4.0.1] 10.153.2.198 10.153.2.199 [umbrella 10.4.0.199]"
# More changes than the events socket holds while annotate is stopped: the
# overflow makes it read everything again.
for i in $(seq 0 5999); do
	echo "map add vpn 3 real 10.5.$((i / 256)).$((i % 256)) nat 10.153.$((16 + i / 256)).$((i % 256))"
done >"$TMPDIR/flood"
kill -STOP "$annotate"
expect "6000 mappings added while annotate is stopped" rnat -b "$TMPDIR/flood"
kill -CONT "$annotate"
line "after more changes than its socket held, every one is known" \
	"m 10.153.16.0 10.153.39.111 10.153.39.112" \
	"m 10.153.16.0 [umbrella 10.5.0.0] 10.153.39.111 [umbrella 10.5.23.111] 10.153.39.112"

exec 3>&-
wait "$annotate"
expect_eq "annotate ends at the end of its input, status 0, nothing on stderr" "0|" \
	"$?|$(cat "$TMPDIR/err")"
exit "$E2E_FAILED"
