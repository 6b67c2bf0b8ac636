#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The fleet end to end (issue 11): a 3-member etcd cluster (in this
# namespace, client URLs on 0.0.0.0), 3 gateway namespaces gw1..gw3, each
# module kept at the region by its own rnatd (gateway g1..g3) which runs
# INSIDE its gateway namespace and reaches etcd over a veth (10.99.N.0/24),
# so that a gateway can be cut off from etcd by taking its link down.
# 4 rnatctl clients allocate MAPPINGS mappings over VPNS VPNs at once, each
# deleting every tenth one it made a few lines later. During the run:
#
#   - etcd member m0 (the first of every endpoint list) is killed -9;
#   - rnatd g1 is killed -9 and started again while changes continue;
#   - gw3 is cut off from etcd: a UDP datagram sent through it to a NAT IP
#     must arrive translated at the customer namespace behind it (cust3, the
#     real address), and its module's save stays what it was; then its link
#     comes back;
#   - rnatd g2 is stopped (SIGSTOP), etcd compacted at its current revision
#     (gw3 still cut), rnatd g2 continued: it must catch up (resync figures
#     printed);
#   - every gateway's `rnatctl map show` is polled: per gateway, a mapping
#     once seen and then gone must never come back, and its NAT IP never
#     changes (a change applied out of order, or a deleted mapping
#     resurrected by a resync, fails this).
#
# At the end: the store's invariants (check-store.py: no NAT IP given twice,
# the expected count), every gateway's save equal to the region's
# `--gateway gN save`, every gateway's routes what `route sync` makes of
# its module, no deleted mapping in the region or any module, every
# gateway at lag 0 in `fleet status`. Prints `# fleet-gw:` figures:
# allocation rate, fault times, each gateway's convergence time after the
# last client change.
#
# Usage: tests/e2e/fleet-gateways.sh MODULE.ko [MAPPINGS [VPNS]]
#        (make check: 400 20; make check-long: 10000 200)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/fleet/etcd.sh

MODULE=${1:?usage: fleet-gateways.sh MODULE.ko [MAPPINGS [VPNS]]}
MAPPINGS=${2:-2000}
VPNS=${3:-40}
CLIENTS=4
GWS="1 2 3"
RNATD=${RNATD:-$PWD/tools/rnatd}
REGION="fg"
work=$(mktemp -d)
declare -A RPID=()
POLL_PID=
CLIENT_PIDS=()
cleanup() {
	local g p
	for p in "${ETCD_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; done
	for p in "${CLIENT_PIDS[@]}" $POLL_PID; do kill -9 "$p" 2>/dev/null; done
	for g in "${!RPID[@]}"; do
		kill -9 "${RPID[$g]}" 2>/dev/null
		wait "${RPID[$g]}" 2>/dev/null
	done
	etcd_stop
	for g in $GWS; do ns_del "gw$g"; done
	ns_del core3
	ns_del cust3
	rm -rf "$work"
}
trap cleanup EXIT

ms() { echo $(($(date +%s%N) / 1000000)); }
T0=$(ms)
region() { "$RNATCTL" -store "$ETCD_URLS" -region "$REGION" "$@"; }
kern() {
	local g=$1
	shift
	"$RNATCTL" -R -n "gw$g" "$@" 2>&1
}
# live: the endpoints of the members still running (m0 is killed mid-run).
live() { echo "${ETCD_URLS#*,}"; }
# (etcdctl dials for 2 s by default: too short in a loaded TCG guest)
etcdctl3() {
	ETCDCTL_API=3 etcdctl --dial-timeout=20s --command-timeout=60s \
		--endpoints "$(live)" "$@"
}
start_rnatd() {
	local g=$1
	ip netns exec "gw$g" "$RNATD" -store "${ETCD_URLS//127.0.0.1/10.99.$g.1}" \
		-region "$REGION" -gateway "g$g" -n "gw$g" >>"$work/g$g.log" 2>&1 &
	RPID[$g]=$!
}
count() { grep -c "$1" "$2"; }
# progress: lines the clients have printed so far (one per map add).
progress() {
	local f n=0 a
	for f in "$work"/o*; do
		mapfile -t a <"$f"
		n=$((n + ${#a[@]}))
	done
	echo "$n"
}
# at FRACTION_PERCENT: waits until the clients have made that share of
# their changes (or have all finished).
clients_running() {
	local p
	for p in "${CLIENT_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && return 0
	done
	return 1
}
at() {
	while clients_running && [ "$(progress)" -lt $((PRINTED * $1 / 100)) ]; do
		nap 0.5
	done
	clients_running || echo "# fleet-gw: the clients had finished before the $1% mark"
	echo "# fleet-gw: at $(progress) of $PRINTED mappings made, $((($(ms) - T0) / 1000)) s: $2"
}

expect "insmod rnat" insmod "$MODULE"

# Gateways: VPN devices gv1..gvVPNS (dummies; gw3's gv1 is a veth to
# cust3), and a veth to this namespace for etcd.
for g in $GWS; do
	ip netns add "gw$g"
	n "gw$g" ip link set lo up
	for v in $(seq 1 "$VPNS"); do
		[ "$g" = 3 ] && [ "$v" = 1 ] && continue
		echo "link add gv$v type dummy"
		echo "link set gv$v up"
	done >"$work/links$g"
	ip -n "gw$g" -b "$work/links$g"
	ip link add "e$g" type veth peer name eg netns "gw$g"
	ip addr add "10.99.$g.1/24" dev "e$g"
	ip link set "e$g" up
	n "gw$g" ip addr add "10.99.$g.2/24" dev eg
	n "gw$g" ip link set eg up
done
# core3 -> gw3 -> gv1 -> cust3 (10.250.0.1, VPN 1's customer).
ip netns add core3
ip netns add cust3
ip link add c3 netns core3 type veth peer name gc netns gw3
n core3 ip link set lo up
n core3 ip addr add 10.200.3.1/24 dev c3
n core3 ip link set c3 up
n core3 ip route add 10.64.0.0/12 via 10.200.3.254
n gw3 ip addr add 10.200.3.254/24 dev gc
n gw3 ip link set gc up
n gw3 sysctl -qw net.ipv4.ip_forward=1
ip link add gv1 netns gw3 type veth peer name eth0 netns cust3
n gw3 ip addr add 169.254.0.1/32 dev gv1
n gw3 ip link set gv1 up
n cust3 ip link set lo up
n cust3 ip addr add 10.250.0.1/32 dev eth0
n cust3 ip link set eth0 up
n cust3 ip route add default via 169.254.0.1 dev eth0 onlink
n cust3 socat -u UDP-RECV:7,bind=10.250.0.1 OPEN:"$work/udp",creat,append &
wait_listen cust3 udp 7 || fail "cust3's UDP listener"

ETCD_LISTEN=0.0.0.0 etcd_up 3
for g in $GWS; do
	if ip netns exec "gw$g" env ETCDCTL_API=3 etcdctl \
		--endpoints "${ETCD_URLS//127.0.0.1/10.99.$g.1}" endpoint health >/dev/null 2>&1; then
		pass "gw$g reaches the 3 members over its veth"
	else
		fail "gw$g reaches the 3 members over its veth"
	fi
done

region pool add LOAD 10.64.0.0/12
for v in $(seq 1 "$VPNS"); do echo "vpn add $v pool LOAD dev gv$v"; done >"$work/vpns"
expect "region: $VPNS VPNs" region -b "$work/vpns"
nat=$(region map add vpn 1 real 10.250.0.1 | nat_of)
echo "# fleet-gw: cust3 (VPN 1, real 10.250.0.1) is NAT $nat"
for g in $GWS; do start_rnatd "$g"; done

# The clients' batches: client c maps 10.c.x.y in VPNs taken in turn, and
# deletes every tenth mapping it made five lines later.
per=$((MAPPINGS / CLIENTS))
for c in $(seq 1 $CLIENTS); do
	for i in $(seq 0 $((per - 1))); do
		echo "map add vpn $(((i * CLIENTS + c) % VPNS + 1)) real 10.$c.$((i / 200)).$((i % 200 + 1))"
		if [ $((i % 10)) = 9 ]; then
			j=$((i - 5))
			echo "map del vpn $(((j * CLIENTS + c) % VPNS + 1)) real 10.$c.$((j / 200)).$((j % 200 + 1))"
		fi
	done >"$work/c$c"
done
TOTAL_LINES=$(cat "$work"/c* | wc -l)
PRINTED=$((per * CLIENTS))     # what the clients print: a line per map add

# same_within SECONDS G: waits (wall clock: a process costs a second or
# more in a loaded TCG guest) until gwG's module saves what the region says
# gateway gG carries; shows the difference and rnatd's last lines if not.
same_within() {
	local end=$((EPOCHSECONDS + $1)) g=$2 want got
	want=$(region -gateway "g$g" save)
	while :; do
		got=$(kern "$g" save)
		[ "$got" = "$want" ] && return 0
		[ "$EPOCHSECONDS" -lt "$end" ] || break
		nap 0.25
		# the region may have changed meanwhile
		want=$(region -gateway "g$g" save)
	done
	echo "# gw$g's module saves $(echo "$got" | wc -l) lines, the region $(echo "$want" | wc -l):"
	diff <(echo "$want") <(echo "$got") | grep '^[<>]' | sort -k1,1r | head -10 | sed 's/^/#   /'
	tail -n 8 "$work/g$g.log" | sed 's/^/#   rnatd: /'
	return 1
}

# Every gateway at the start, before the clients.
echo "# fleet-gw: set up in $((($(ms) - T0) / 1000)) s; rnatd started"
for g in $GWS; do
	if same_within 120 "$g"; then
		pass "gw$g has the region before the clients ($(kern "$g" save | wc -l) lines), $((($(ms) - T0) / 1000)) s"
	else
		fail "gw$g has the region before the clients"
	fi
done

# client C: runs client C's batch; a line that fails (a member killed
# under a change: "the change may or may not have been made"; an election)
# is written to errC as "LINE MESSAGE" and the batch goes on from the next
# line (at most 20 times). The errors are judged at the end.
client() {
	local c=$1 from=1 total err line k
	total=$(wc -l <"$work/c$c")
	for ((k = 0; k < 20; k++)); do
		tail -n +"$from" "$work/c$c" >"$work/c$c.rest"
		region -b "$work/c$c.rest" >>"$work/o$c" 2>"$work/e$c" && return 0
		err=$(grep -m1 '^Error in line [0-9]*: ' "$work/e$c")
		line=${err#Error in line }
		line=${line%%:*}
		if ! [[ "$line" =~ ^[0-9]+$ ]]; then
			echo "0 $(tr '\n' ' ' <"$work/e$c")" >>"$work/err$c"
			return 1
		fi
		echo "$((from + line - 1)) ${err#Error in line *: }" >>"$work/err$c"
		from=$((from + line))
		[ "$from" -le "$total" ] || return 0
	done
	return 1
}

# The poller: every gateway's map show, in turn, until told to stop.
poll() {
	local k=0 g
	while [ ! -e "$work/stop-poll" ]; do
		for g in $GWS; do
			# (a failed dump is no snapshot; kept compressed: at
			# 10^4 mappings they would fill the guest's memory)
			kern "$g" map show >"$work/snap.tmp" &&
				gzip -1 <"$work/snap.tmp" >"$work/snap.$g.$(printf %05d $k).gz"
		done
		k=$((k + 1))
		nap 1
	done
}
poll &
POLL_PID=$!

tstart=$(ms)
for c in $(seq 1 $CLIENTS); do
	: >"$work/o$c"
	: >"$work/err$c"
	client "$c" &
	CLIENT_PIDS+=($!)
done

at 15 "kill -9 etcd member m0"
kill -9 "${ETCD_PIDS[0]}"

at 25 "kill -9 rnatd g1, start it again"
kill -9 "${RPID[1]}"
wait "${RPID[1]}" 2>/dev/null
nap 1
start_rnatd 1

at 35 "cut gw3 off from etcd"
tcut=$(ms)
ip -n gw3 link set eg down
nap 3
before3=$(kern 3 save)
n core3 bash -c "echo fleet-gw-cut >/dev/udp/$nat/7"
for ((i = 0; i < 100; i++)); do
	grep -qx fleet-gw-cut "$work/udp" 2>/dev/null && break
	nap 0.1
done
if grep -qx fleet-gw-cut "$work/udp" 2>/dev/null; then
	pass "gw3 cut off: a UDP datagram to NAT $nat arrives at cust3 (10.250.0.1)"
else
	fail "gw3 cut off: a UDP datagram to NAT $nat arrives at cust3 (10.250.0.1)"
	kern 3 -s lookup "$nat" | sed 's/^/#   /'
fi

echo "# fleet-gw: SIGSTOP rnatd g2, compact etcd, SIGCONT (gw3 still cut)"
kill -STOP "${RPID[2]}"
nap 4
for ((i = 0; i < 3; i++)); do
	rev=$(etcdctl3 get /rnat -w json --limit 1 | grep -o '"revision":[0-9]*' | head -n1 | cut -d: -f2)
	[ -n "$rev" ] && etcdctl3 compact "$rev" >/dev/null && break
	rev=
done
if [ -n "$rev" ]; then
	pass "etcd compacted at revision $rev (m1, m2), rnatd g2 stopped"
else
	fail "etcd compacted at revision ${rev:-?} (m1, m2), rnatd g2 stopped"
fi
r2=$(count '^resync:' "$work/g2.log")
r3=$(count '^resync:' "$work/g3.log")
nap 2
kill -CONT "${RPID[2]}"
nap 6
expect_eq "gw3 cut off: its module's save is what it was ($(echo "$before3" | wc -l) lines)" \
	"$before3" "$(kern 3 save)"
ip -n gw3 link set eg up
echo "# fleet-gw: gw3 cut off for $((($(ms) - tcut) / 1000)) s, $(count '^store:\|^watch:' "$work/g3.log") store/watch lines in rnatd g3's log"

rc=0
for p in "${CLIENT_PIDS[@]}"; do wait "$p" || rc=1; done
tend=$(ms)
CLIENT_PIDS=()
secs=$(((tend - tstart) / 1000))
echo "# fleet-gw: $((per * CLIENTS)) mappings ($((per / 10 * CLIENTS)) deleted) over $VPNS VPNs by $CLIENTS clients in $secs s: $(awk -v n=$((per * CLIENTS)) -v t=$((tend - tstart + 1)) 'BEGIN { printf "%.1f", n * 1000 / t }') allocations/s"
if [ "$rc" = 0 ]; then
	pass "$CLIENTS clients went through their $TOTAL_LINES changes (failed lines: $(cat "$work"/err* | wc -l))"
else
	fail "$CLIENTS clients went through their $TOTAL_LINES changes"
fi
cat "$work"/err* | cut -d' ' -f2- | sort | uniq -c | sed 's/^/# fleet-gw: client error: /'

# The clients' errors judged, and the region's mappings against what the
# clients were told: a failed line may only be one the store could not
# answer (the change may or may not have been made), or the del of such an
# add; a map add that succeeded and was not deleted must be there, one
# whose del succeeded must not, and nothing else but 10.250.0.1. Writes
# $work/deleted (the mappings certainly deleted: "VPN REAL").
region map show >"$work/final.region"
out=$(python3 - "$work" "$CLIENTS" <<'PY'
import sys
work, clients = sys.argv[1], int(sys.argv[2])
must, mustnot, maybe, bad = set(), set(), set(), []
for c in range(1, clients + 1):
    lines = open(f"{work}/c{c}").read().splitlines()
    errs = {}
    for e in open(f"{work}/err{c}").read().splitlines():
        n, _, msg = e.partition(" ")
        errs[int(n)] = msg
    add_failed = set()
    for i, l in enumerate(lines, 1):
        w = l.split()
        m = (w[3], w[5])
        if i in errs:
            msg = errs[i]
            if "store" in msg or (w[1] == "del" and m in add_failed and msg.startswith("no mapping for")):
                maybe.add(m)
                if w[1] == "add":
                    add_failed.add(m)
            else:
                bad.append(f"client {c} line {i} ({l}): {msg}")
            must.discard(m)
        elif w[1] == "add":
            must.add(m)
        else:
            must.discard(m)
            maybe.discard(m)
            mustnot.add(m)
have = set()
for l in open(f"{work}/final.region"):
    w = l.split()
    if len(w) >= 4 and w[0] == "vpn":
        have.add((w[1], w[3]))
have.discard(("1", "10.250.0.1"))
for m in sorted(must - have)[:5]:
    bad.append(f"vpn {m[0]} real {m[1]} made and not deleted, missing")
for m in sorted(have & mustnot)[:5]:
    bad.append(f"vpn {m[0]} real {m[1]} deleted, still there")
for m in sorted(have - must - maybe - mustnot)[:5]:
    bad.append(f"vpn {m[0]} real {m[1]} never made, there")
with open(f"{work}/deleted", "w") as f:
    for m in sorted(mustnot):
        f.write(f"{m[0]} {m[1]}\n")
print(f"{len(have)} mappings: {len(must)} certain, {len(mustnot)} deleted, {len(maybe)} uncertain ({len(maybe & have)} of them there)")
for b in bad[:10]:
    print(b)
sys.exit(1 if bad else 0)
PY
)
rc=$?
if [ "$rc" = 0 ]; then
	pass "the region holds what the clients were told (${out%%$'\n'*})"
else
	fail "the region holds what the clients were told"
	echo "$out" | sed 's/^/#   /'
fi
mapfile -t dels <"$work/deleted"

# Convergence after the last client change.
for g in $GWS; do
	if same_within 300 "$g"; then
		pass "gw$g's save is the region's gateway g$g save ($(kern "$g" save | wc -l) lines)"
		echo "# fleet-gw: gw$g converged $(($(ms) - tend)) ms after the last client change"
	else
		fail "gw$g's save is the region's gateway g$g save ($(($(ms) - tend)) ms after the last client change)"
	fi
done
touch "$work/stop-poll"
wait "$POLL_PID" 2>/dev/null
POLL_PID=

# Each gateway's routes are what a full sync makes of its module: rnatd
# syncs only the VPNs whose blocks a response made or freed.
for g in $GWS; do
	ip -n "gw$g" route show proto 82 | sort >"$work/routes.$g"
	kern "$g" route sync >/dev/null
	ip -n "gw$g" route show proto 82 | sort >"$work/routes-synced.$g"
	n=$(grep -vc '^unreachable' "$work/routes.$g")
	if [ "$n" -gt 0 ] && cmp -s "$work/routes.$g" "$work/routes-synced.$g"; then
		pass "gw$g's routes ($n blocks) are what route sync makes"
	else
		fail "gw$g's routes ($n blocks) are what route sync makes"
		diff "$work/routes.$g" "$work/routes-synced.$g" | head -n 20 | sed 's/^/#   /'
	fi
done

echo "# fleet-gw: rnatd g2: $r2 -> $(count '^resync:' "$work/g2.log") resyncs over the compaction; g3: $r3 -> $(count '^resync:' "$work/g3.log"); 'watch compacted' in g2: $(count 'compacted' "$work/g2.log"), g3: $(count 'compacted' "$work/g3.log")"

WANT=$(grep -c '^vpn ' "$work/final.region")
if python3 tests/fleet/check-store.py "$(live)" "$REGION" "$WANT" >"$work/check" 2>&1; then
	pass "no NAT IP given twice, $WANT mappings; maps/, nat/ and blocks agree"
else
	fail "no NAT IP given twice, $WANT mappings; maps/, nat/ and blocks agree"
fi
sed 's/^/#   /' "$work/check"

# No deleted mapping in the region or any module.
for src in region $GWS; do
	[ "$src" = region ] || kern "$src" map show >"$work/final.$src"
	back=$(awk 'NR == FNR { del[$1 " " $2] = 1; next }
		$1 == "vpn" && del[$2 " " $4] { print }' "$work/deleted" "$work/final.$src")
	expect_eq "${src/#[0-9]/gw$src}: none of the ${#dels[@]} deleted mappings is there" "" "$back"
done

# Per gateway, over the polled snapshots: a mapping seen, then gone, never
# comes back; its NAT IP never changes.
for g in $GWS; do
	out=$(python3 - "$work" "$g" <<'EOF'
import glob, gzip, sys
work, g = sys.argv[1], sys.argv[2]
snaps = sorted(glob.glob(f"{work}/snap.{g}.*.gz"))
state, nats, bad = {}, {}, []
for k, f in enumerate(snaps):
    now = {}
    for line in gzip.open(f, "rt"):
        w = line.split()
        if len(w) >= 6 and w[0] == "vpn" and w[4] == "nat":
            now[(w[1], w[3])] = w[5]
    for m, nat in now.items():
        if state.get(m) == "gone":
            bad.append(f"vpn {m[0]} real {m[1]} back in snapshot {k}")
        if nats.setdefault(m, nat) != nat:
            bad.append(f"vpn {m[0]} real {m[1]}: NAT {nats[m]} then {nat}")
        state[m] = "seen"
    for m in state:
        if m not in now:
            state[m] = "gone"
print(f"{len(snaps)} snapshots, {len(state)} mappings seen")
for b in bad[:10]:
    print(b)
sys.exit(1 if bad else 0)
EOF
)
	rc=$?
	[ "$rc" = 0 ] && pass "gw$g: no mapping came back after it was gone, no NAT IP changed (${out%%$'\n'*})" ||
		{ fail "gw$g: no mapping came back after it was gone, no NAT IP changed"; echo "$out" | sed 's/^/#   /'; }
done

# fleet status: every gateway at lag 0.
end=$((EPOCHSECONDS + 60))
while [ "$EPOCHSECONDS" -lt "$end" ]; do
	st=$(region fleet status 2>&1)
	[ "$(echo "$st" | grep -c '^gateway g[123] revision [0-9]* lag 0 ')" = 3 ] && break
	nap 0.2
done
[ "$(echo "$st" | grep -c '^gateway g[123] revision [0-9]* lag 0 ')" = 3 ] &&
	pass "fleet status: g1, g2, g3 at lag 0" ||
	{ fail "fleet status: g1, g2, g3 at lag 0"; echo "$st" | sed 's/^/#   /'; }

# The watch applied map by map (new blocks included), not by resyncs: the
# mappings applied per second of rnatd's own work ("maps:" and "apply:"
# lines: N added, M deleted in T ms).
for g in $GWS; do
	read -r revs maps ms_ < <(awk '/^(maps|apply): revision [0-9]+ applied/ {
		for (i = 1; i <= NF; i++) {
			if ($i == "added,") a += $(i - 1)
			if ($i == "deleted") d += $(i - 1)
			if ($i == "ms") t += $(i - 1)
		}
		n++
	} END { printf "%d %d %.0f\n", n, a + d, t }' "$work/g$g.log")
	resyncs=$(count '^resync: revision' "$work/g$g.log")
	echo "# fleet-gw: rnatd g$g: $maps mapping changes applied from the watch in $revs revisions, ${ms_} ms of its own work ($((maps * 1000 / (ms_ + 1))) a second); $resyncs resyncs"
	[ "$maps" -gt 0 ] && [ "$revs" -gt "$resyncs" ] &&
		pass "gw$g: rnatd applied the watch revision by revision ($revs), not by resyncs ($resyncs)" ||
		fail "gw$g: rnatd applied the watch revision by revision ($revs), not by resyncs ($resyncs)"
done
for g in $GWS; do
	echo "# fleet-gw: rnatd g$g: $(count '^apply:' "$work/g$g.log") apply, $(count '^resync:' "$work/g$g.log") resync, $(count '^skip:' "$work/g$g.log") skip lines; last lines:"
	grep -v '^apply:\|^skip:\|^maps:' "$work/g$g.log" | tail -n 12 | sed 's/^/#   /'
done
echo "# fleet-gw: whole run $((($(ms) - T0) / 1000)) s"

cleanup
trap - EXIT
unload_rnat
exit "$E2E_FAILED"
