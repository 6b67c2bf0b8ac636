#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rnatd's store side, on the host (no module here: every restore fails, as
# on a gateway whose module is not loaded, and rnatd must say so and keep
# trying): two agents publish /rnat/v1-gateways/REGION/NAME under their
# leases; `rnatctl fleet status` (text and -j) shows them with their error
# and lag; rnatd killed -9 disappears when its lease expires, the other
# stays; SIGTERM revokes at once (exit 0); an unreachable store is retried
# with a backoff and rnatd still stops cleanly; usage errors exit 2.
#
# Usage: tests/fleet/rnatd.sh    (prints ok/not ok lines; exit 1 if any fails)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fleet/etcd.sh
. tests/fleet/lib.sh
fleet_init ""

region() { "$RNATCTL" -store "$ETCD_URL" -region h "$@"; }
gateways() { region fleet status | awk '{ printf "%s ", $2 }'; }
# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
	local i n=$(($2 * 10))
	shift 2
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

if etcd_start 1; then
	pass "etcd member up ($ETCD_URL)"
else
	fail "etcd member up"
	exit 1
fi

"$RNATD" >/dev/null 2>&1
[ $? = 2 ] && pass "rnatd without --store/--region: exit 2" ||
	fail "rnatd without --store/--region: exit 2"
"$RNATD" -store "$ETCD_URL" -region h -gateway 'a/b' >/dev/null 2>&1
[ $? = 2 ] && pass "rnatd refuses a bad gateway name" ||
	fail "rnatd refuses a bad gateway name"
"$RNATCTL" fleet status >/dev/null 2>&1
[ $? = 2 ] && pass "fleet status without --store: exit 2" ||
	fail "fleet status without --store: exit 2"
out=$(region fleet status 2>&1)
[ -z "$out" ] && pass "fleet status of a region without agents prints nothing" ||
	fail "fleet status of a region without agents prints nothing: $out"

region pool add P 10.153.0.0/16 >/dev/null
region vpn add 1 pool P dev gv1 name acme >/dev/null
region map add vpn 1 real 10.1.0.1 >/dev/null

"$RNATD" -store "$ETCD_URL" -region h -gateway h1 -ttl 3 -R 2>"$work/h1.log" &
pids+=($!)
h1=$!
"$RNATD" -store "$ETCD_URL" -region h -gateway h2 -ttl 3 -R 2>"$work/h2.log" &
pids+=($!)
h2=$!
has_both() { [ "$(gateways)" = "h1 h2 " ]; }
if wait_for "both agents" 10 has_both; then
	pass "fleet status lists both agents"
else
	fail "fleet status lists both agents: $(region fleet status 2>&1)"
fi
keys() { ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" get --prefix --keys-only "$1" | grep .; }
got="$(keys /rnat/v1-gateways/h/ | paste -sd' ') / $(keys /rnat/v1/h/ | grep -c -v '/\(pools\|vpns\|vpn-names\|blocks\|vpn-blocks\|maps\|nat\)/\|/changed$')"
[ "$got" = "/rnat/v1-gateways/h/h1 /rnat/v1-gateways/h/h2 / 0" ] &&
	pass "the agents' keys are beside the region's, not under the prefix gateways watch" ||
	fail "the agents' keys are beside the region's, not under the prefix gateways watch: $got"
s=$(region fleet status | grep '^gateway h1 ')
echo "# $s"
if [[ $s =~ ^gateway\ h1\ revision\ 0\ lag\ [1-9][0-9]*\ time\ 20[0-9-]+T[0-9:]+Z\ error\ \"restore\ of\ revision\ [0-9]+\ failed:\ rnat\ module\ not\ loaded ]]; then
	pass "fleet status: h1 applied nothing, lags, says why"
else
	fail "fleet status: h1 applied nothing, lags, says why"
fi
if region -j fleet status | python3 -c '
import json, sys
g = json.load(sys.stdin)
assert [x["gateway"] for x in g] == ["h1", "h2"], g
for x in g:
    assert set(x) == {"gateway", "revision", "lag", "time", "error"}, x
    assert x["revision"] == 0 and x["lag"] > 0 and "not loaded" in x["error"], x
'; then
	pass "-j fleet status"
else
	fail "-j fleet status"
fi
# The lag follows the region's changes.
lag() { region -j fleet status | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["lag"])'; }
l0=$(lag)
region map add vpn 1 real 10.1.0.2 >/dev/null
l1=$(lag)
[ "$l1" -gt "$l0" ] && pass "a change makes the lag grow ($l0 -> $l1)" ||
	fail "a change makes the lag grow ($l0 -> $l1)"
sleep 3
if grep -q '^retry: in 1 s' "$work/h1.log" &&
	grep -q '^retry: in 2 s' "$work/h1.log"; then
	pass "rnatd retries with a backoff and keeps running"
else
	fail "rnatd retries with a backoff and keeps running"
	sed 's/^/#   /' "$work/h1.log"
fi

# kill -9: its key goes with its lease (3 s); the other stays.
kill -9 "$h1"
wait "$h1" 2>/dev/null
t0=$(date +%s%N)
only_h2() { [ "$(gateways)" = "h2 " ]; }
if wait_for "h1 gone" 10 only_h2; then
	pass "rnatd killed -9: gone from fleet status when its lease expired ($((($(date +%s%N) - t0) / 1000000)) ms, TTL 3 s); h2 kept"
else
	fail "rnatd killed -9: gone from fleet status when its lease expired: $(gateways)"
fi

# SIGTERM: revoked at once, exit 0.
kill -TERM "$h2"
wait "$h2"
rc=$?
[ "$rc" = 0 ] && pass "rnatd exits 0 on SIGTERM" || fail "rnatd exits 0 on SIGTERM ($rc)"
out=$(region fleet status 2>&1)
[ -z "$out" ] && pass "SIGTERM revoked the lease: fleet status is empty" ||
	fail "SIGTERM revoked the lease: fleet status is empty: $out"
grep -q '^stop: lease .* revoked' "$work/h2.log" && pass "rnatd logs its stop" ||
	fail "rnatd logs its stop"

# An unreachable store: retried, and SIGTERM still stops it.
port=$(free_ports 1)
"$RNATD" -store "http://127.0.0.1:$port" -region h -gateway h3 -R 2>"$work/h3.log" &
h3=$!
pids+=($h3)
sleep 2.5
kill -TERM "$h3"
wait "$h3"
rc=$?
if [ "$rc" = 0 ] && grep -q "^store: .*cannot reach the store" "$work/h3.log"; then
	pass "an unreachable store: rnatd says so, retries, stops on SIGTERM"
else
	fail "an unreachable store: rnatd says so, retries, stops on SIGTERM ($rc)"
	sed 's/^/#   /' "$work/h3.log"
fi
echo "# rnatd h1's log:"
sed 's/^/#   /' "$work/h1.log"
exit "$failed"
