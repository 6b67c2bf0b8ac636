#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Several etcd members (--store URL1,URL2,URL3), on the host (no module):
# a 3-member cluster; rnatctl and an `rnatd --dry-run` given all three.
# One member stopped (SIGSTOP: it accepts connections, never answers):
# reads (and a change's first read) go to the next member after the
# request timeout, and rnatd's requests time out, move to the next member
# and its watch follows. One member
# killed -9: rnatctl goes to the next at once, rnatd's watch follows.
# A change whose answer is lost is not sent again.
#
# Usage: tests/fleet/failover.sh    (ok/not ok lines; exit 1 if any fails)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fleet/etcd.sh
. tests/fleet/lib.sh
fleet_init "failover: "

etcd_up 3
IFS=, read -ra url <<<"$ETCD_URLS"
R() { "$RNATCTL" -store "$ETCD_URLS" -region f "$@"; }
# Rs URLS ARGS...: with the members given.
Rs() { local u=$1; shift; "$RNATCTL" -store "$u" -region f "$@"; }
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
# has_line TEXT SECONDS: rnatd's output gets a line with TEXT.
has_line() { file_has "$work/gw.out" "$@"; }

R pool add P 10.153.0.0/16
R vpn add 1 pool P dev gv1 blocks 10.153.0.0/24
R map add vpn 1 real 10.1.0.1 >/dev/null
"$RNATD" -store "$ETCD_URLS" -region f -gateway gw -ttl 6 -R -dry-run \
	>"$work/gw.out" 2>"$work/gw.log" &
pids+=($!)
if has_line "map add vpn 1 real 10.1.0.1 nat 10.153.0.0" 10; then
	pass "rnatd started on the first member"
else
	fail "rnatd started on the first member"
fi
restores() { grep -c '^restore ' "$work/gw.out"; }

# A member that does not answer: m0 stopped.
kill -STOP "${ETCD_PIDS[0]}"
t0=$(date +%s%N)
same "a read goes to the next member when m0 does not answer" \
	"vpn 1 name vpn1 pool P dev gv1 mappings 1 blocks 10.153.0.0/24" R vpn show
t=$(ms "$t0")
echo "# a read with m0 stopped: $t ms (request timeout 10 s)"
[ "$t" -ge 9500 ] && [ "$t" -lt 20000 ] &&
	pass "... after the request timeout (10 s), not 60 ($t ms)" ||
	fail "... after the request timeout (10 s), not 60 ($t ms)"
# A change reads first: that read found m0 silent, so the change went to
# m1 (a change sent to a member that then does not answer is not sent
# again: it fails, saying it may or may not have been made).
t0=$(date +%s%N)
same "a change with m0 stopped goes to m1" \
	"vpn 1 real 10.1.0.9 nat 10.153.0.1 pool P" R map add vpn 1 real 10.1.0.9
t=$(ms "$t0")
echo "# a change with m0 stopped: $t ms"
same "a change given m1 and m2 works meanwhile" \
	"vpn 1 real 10.1.0.2 nat 10.153.0.2 pool P" \
	Rs "${url[1]},${url[2]}" map add vpn 1 real 10.1.0.2
if has_line "map add vpn 1 real 10.1.0.2 nat 10.153.0.2" 20; then
	pass "rnatd's requests timed out, moved on, its watch followed"
else
	fail "rnatd's requests timed out, moved on, its watch followed"
fi
# m1, or m2 if m1 did not answer either while m0, the leader perhaps,
# was being replaced.
grep -qE "^watch: resumed from revision [0-9]+ at (${url[1]}|${url[2]}) " "$work/gw.log" &&
	pass "rnatd logs the member its watch moved to" ||
	fail "rnatd logs the member its watch moved to"
kill -CONT "${ETCD_PIDS[0]}"

# A member killed: m0.
kill -9 "${ETCD_PIDS[0]}"
wait "${ETCD_PIDS[0]}" 2>/dev/null
t0=$(date +%s%N)
same "m0 killed: a change goes to the next member" \
	"vpn 1 real 10.1.0.3 nat 10.153.0.3 pool P" R map add vpn 1 real 10.1.0.3
t=$(ms "$t0")
echo "# a change with m0 killed: $t ms"
[ "$t" -lt 3000 ] && pass "... at once: a refused connection is not waited for ($t ms)" ||
	fail "... at once: a refused connection is not waited for ($t ms)"
if has_line "map add vpn 1 real 10.1.0.3 nat 10.153.0.3" 20; then
	pass "rnatd applies it"
else
	fail "rnatd applies it"
fi
# rnatd's watch is on m1 or m2; a change made through m2 reaches it.
same "a change through m2" "vpn 1 real 10.1.0.4 nat 10.153.0.4 pool P" \
	Rs "${url[2]}" map add vpn 1 real 10.1.0.4
has_line "map add vpn 1 real 10.1.0.4 nat 10.153.0.4" 20 &&
	pass "rnatd applies a change made through another member" ||
	fail "rnatd applies a change made through another member"
# (rnatd puts its status at most once a second)
for ((i = 0; i < 50; i++)); do
	R fleet status | grep -q '^gateway gw revision [0-9]* lag 0 ' && break
	sleep 0.2
done
same "fleet status through the members left" "gateway gw lag 0" \
	sh -c "'$RNATCTL' -store '$ETCD_URLS' -region f fleet status | awk '{ print \$1, \$2, \$5, \$6 }'"

# A change made whose answer is lost: its member went away between
# committing it and answering (dropproxy.py in front of m2, on the
# connection the change's reads used). rnatctl says it may or may not
# have been made and sends it to no other member: sent again, it would
# fail as already made, or an automatic one would take a second NAT IP.
exec {proxy}< <(exec python3 tests/fleet/dropproxy.py "${url[2]#http://}")
pids+=($!)
read -r -u "$proxy" port
out=$(Rs "http://127.0.0.1:$port,${url[1]}" map add vpn 1 real 10.1.0.77 2>&1)
case $out in
*"did not answer"*"the change may or may not have been made"*)
	pass "a change whose answer was lost: may or may not have been made" ;;
*)
	fail "a change whose answer was lost: may or may not have been made"
	echo "#   rnatctl said: $out" ;;
esac
same "... it was made, once" "vpn 1 real 10.1.0.77 nat 10.153.0.5 pool P" \
	Rs "${url[1]}" map show vpn 1 real 10.1.0.77/32

if [ "$failed" != 0 ]; then
	echo "# rnatd:"; sed 's/^/#   /' "$work/gw.log" "$work/gw.out"
fi
exit "$failed"
