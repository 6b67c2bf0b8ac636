#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rnatd resumes a dropped watch, on the host (no module): one etcd member
# reached through two TCP proxies (socat), `rnatd --dry-run --store
# PROXY1,PROXY2`. The proxy carrying its watch is stopped, changes are
# made, the proxy is killed (the watch drops with them undelivered):
# rnatd resumes from its last applied revision + 1 on the other proxy and
# applies them as mappings, no resync. Then the same with a compaction of
# every revision before the changes' end: the resumed watch is refused as
# compacted, and rnatd resyncs.
#
# Usage: tests/fleet/resume.sh    (ok/not ok lines; exit 1 if any fails)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fleet/etcd.sh
. tests/fleet/lib.sh
fleet_init "resume: "

etcd_up 1
R() { "$RNATCTL" -store "$ETCD_URL" -region r "$@"; }
read -r p1 p2 <<<"$(free_ports 2)"
# proxy PORT: a proxy to etcd in its own process group (its forks too).
proxy() {
	setsid socat "TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr,fork" \
		"TCP:${ETCD_URL#http://}" 2>/dev/null &
	pids+=($!)
	eval "proxy_$1=$!"
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
}
# group SIGNAL PORT: to the proxy and its connections.
group() {
	local v="proxy_$2"
	kill "-$1" -- "-${!v}" 2>/dev/null
	[ "$1" = KILL ] && wait "${!v}" 2>/dev/null
}
restores() { grep -c '^restore ' "$work/gw.out"; }
has_line() { file_has "$work/gw.out" "$@"; }
applied() { R fleet status | grep -q "^gateway gw revision [0-9]* lag 0 "; }
wait_applied() {
	local i
	for ((i = 0; i < 100; i++)); do applied && return 0; sleep 0.1; done
	return 1
}

proxy "$p1"
proxy "$p2"
R pool add P 10.153.0.0/16
R vpn add 1 pool P dev gv1 blocks 10.153.0.0/24
R map add vpn 1 real 10.1.0.1 >/dev/null
rnatd_pid=
"$RNATD" -store "http://127.0.0.1:$p1,http://127.0.0.1:$p2" -region r \
	-gateway gw -ttl 10 -R -dry-run >"$work/gw.out" 2>"$work/gw.log" &
rnatd_pid=$!
pids+=($rnatd_pid)
wait_applied && pass "rnatd up through proxy 1" || fail "rnatd up through proxy 1"

# Proxy 1 (and rnatd, so that its lease keepalive does not move it first)
# stopped; two changes; proxy 1 killed; rnatd goes on.
kill -STOP "$rnatd_pid"
group STOP "$p1"
R map add vpn 1 real 10.1.0.2 >/dev/null
R map del vpn 1 real 10.1.0.1 >/dev/null
group KILL "$p1"
kill -CONT "$rnatd_pid"
if has_line "map del vpn 1 real 10.1.0.1" 15; then
	pass "the changes made while the watch was down are applied"
else
	fail "the changes made while the watch was down are applied"
fi
grep -q "^watch: .*; resuming" "$work/gw.log" &&
	grep -q "^watch: resumed from revision [0-9]* at http://127.0.0.1:$p2 (watch ended)" "$work/gw.log" &&
	pass "rnatd logs the drop and the resumption on proxy 2" ||
	fail "rnatd logs the drop and the resumption on proxy 2"
[ "$(restores)" = 1 ] && grep -q '^[0-9]* map add vpn 1 real 10.1.0.2 nat 10.153.0.1$' "$work/gw.out" &&
	pass "resumed, not resynced: one restore, then the mappings" ||
	fail "resumed, not resynced: $(restores) restores"
wait_applied && pass "fleet status: lag 0" || fail "fleet status: lag 0"

# The same through proxy 2, with every revision compacted away meanwhile.
proxy "$p1"
kill -STOP "$rnatd_pid"
group STOP "$p2"
R map add vpn 1 real 10.1.0.3 >/dev/null
rev=$(ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" -w json get x |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" compact "$rev" >/dev/null
group KILL "$p2"
kill -CONT "$rnatd_pid"
if has_line "map add vpn 1 real 10.1.0.3 nat 10.153.0.0" 15; then
	pass "after a compaction: the change reached rnatd"
else
	fail "after a compaction: the change reached rnatd"
fi
grep -q "^watch: revision .* was compacted away" "$work/gw.log" &&
	grep -q "^resync: revision [0-9]* applied (watch compacted)" "$work/gw.log" &&
	pass "the resumed watch was compacted away: rnatd resynced, and says so" ||
	fail "the resumed watch was compacted away: rnatd resynced, and says so"
[ "$(restores)" = 2 ] && pass "one resync for it" || fail "one resync for it ($(restores) restores)"
wait_applied && pass "fleet status: lag 0" || fail "fleet status: lag 0"
if [ "$failed" != 0 ]; then
	echo "# rnatd:"; sed 's/^/#   /' "$work/gw.log" "$work/gw.out"
fi
exit "$failed"
