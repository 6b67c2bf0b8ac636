#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Churn under traffic (reliability scenario 1) and isolation (scenario 7).
#
#   core (10.200.0.1) --c0--gc-- gw --gVa--eth0-- cV   for V = 1..4,
#                                   \--gVb--eth1--/    VPN V on gVa or gVb
#
# Every customer host cV has the real addresses 10.1.0.1 and 10.1.0.2 (the
# same in every VPN) and 10.1.V.1, 10.1.V.2 (its own) on lo, so it answers
# ARP for them on both links; its default route follows its VPN's device.
# NAT IPs come from 32 addresses of pool P (10.153.0.2 ... 10.153.0.64,
# even ones only, so that blocks never merge and a NAT IP freed by one VPN
# can go to another).
#
# For CHURN_SECONDS (60) tests/e2e/churn.py:
#   - floods UDP from core to all 32 NAT IPs ("to=NAT seq=N") and from every
#     customer, from each of its real addresses, to core ("vpn=V real=R"),
#     and from addresses it does not own (another VPN's real address,
#     NAT IPs) with IP_TRANSPARENT ("spoof vpn=V src=S"), both CPUs busy;
#   - churns the gateway: mappings replaced by a free NAT IP or by another
#     real's, deleted and re-added, flushed, VPNs deleted and re-created,
#     moved to their other device, whole states restored with NAT IPs
#     shuffled across VPNs; every (NAT, VPN, real) it may create goes to
#     the history before the command runs;
#   - records in each receiver what arrived where (IP_PKTINFO).
# Then every received datagram must fit the history: one to NAT N arrives
# only in a VPN that N belonged to, at a real address N was mapped to in
# it; one from VPN V real R reaches core only from a NAT IP that mapped R
# in V; a spoofed one never. Enough must get through both ways in every
# VPN (a dead sender cannot pass), and the driver's commands all succeed.
# Meanwhile tests/e2e/nlcheck.py checks every byte of the events and of
# dumps taken during the churn (no uninitialised bytes), events reach no
# other namespace, and map-new events name only triples of the history.
#
# Isolation: an unprivileged user, and root of a user namespace of its own,
# cannot change the gateway's state (but may read it: GET is open to all);
# another network namespace neither sees nor changes it.
#
# Knobs: CHURN_SECONDS (60; or the second argument, as tests/vm/run passes
# no environment into the guest), CHURN_GAP (seconds between senders'
# rounds, 0.002), CHURN_SEED (random; printed). Takes about 4.5 min in a
# TCG guest on a loaded 2-core host (KUnit at insmod included).
# Usage: tests/e2e/churn.sh MODULE.ko [SECONDS]

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: churn.sh MODULE.ko [SECONDS]}
SECONDS_CHURN=${2:-${CHURN_SECONDS:-60}}
GAP=${CHURN_GAP:-0.002}
SEED=${CHURN_SEED:-$RANDOM}
VPNS="1 2 3 4"
NSS="core gw c1 c2 c3 c4"
PY=(python3 "$PWD/tests/e2e/churn.py")
export RNATCTL RNAT_VM_KERNEL

work=$(mktemp -d /tmp/churn.XXXXXX)
cleanup_all() {
	local ns
	touch "$work/stop-tx" "$work/stop-rx" "$work/stop-nl" 2>/dev/null
	for ns in $NSS; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup_all EXIT
rnat() { "$RNATCTL" -n gw "$@"; }

echo "# seed $SEED, $SECONDS_CHURN s of churn, senders' gap $GAP s"
expect "insmod rnat" insmod "$MODULE"

# --- topology -------------------------------------------------------------
{
	for ns in $NSS; do echo "netns add $ns"; done
	echo "link add c0 netns core type veth peer name gc netns gw"
	for v in $VPNS; do
		echo "link add g${v}a netns gw type veth peer name eth0 netns c$v"
		echo "link add g${v}b netns gw type veth peer name eth1 netns c$v"
	done
} | ip -b - || fail "topology: links"
for ns in $NSS; do
	n "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
done
n gw sysctl -qw net.ipv4.ip_forward=1
ip -n core -b - <<'EOF' || fail "topology: core"
link set lo up
addr add 10.200.0.1/24 dev c0
link set c0 up
route add 10.0.0.0/8 via 10.200.0.254
EOF
{
	echo "link set lo up"
	echo "addr add 10.200.0.254/24 dev gc"
	echo "link set gc up"
	for v in $VPNS; do
		for d in a b; do
			echo "addr add 169.254.0.1/32 dev g$v$d"
			echo "link set g$v$d up"
		done
	done
} | ip -n gw -b - || fail "topology: gw"
declare -A REALS SPOOFS
NATS=()
for i in $(seq 2 2 64); do NATS+=("10.153.0.$i"); done
for v in $VPNS; do
	REALS[$v]="10.1.0.1,10.1.0.2,10.1.$v.1,10.1.$v.2"
	s=
	for w in $VPNS; do [ "$w" = "$v" ] || s+="10.1.$w.1,"; done
	SPOOFS[$v]="${s}10.153.0.2,10.153.0.22,10.153.0.42,10.153.0.62"
	{
		echo "link set lo up"
		for r in ${REALS[$v]//,/ }; do echo "addr add $r/32 dev lo"; done
		echo "link set eth0 up"
		echo "link set eth1 up"
		echo "route add default via 169.254.0.1 dev eth0 onlink"
	} | ip -n "c$v" -b - || fail "topology: c$v"
done

# The driver's model: VPN V's two devices, its reals, the NAT IPs.
{
	printf '{"pool": "P 10.153.0.0/24", "vpns": {'
	sep=
	for v in $VPNS; do printf '%s"%s": ["g%sa", "g%sb"]' "$sep" "$v" "$v" "$v"; sep=', '; done
	printf '}, "reals": {'
	sep=
	for v in $VPNS; do
		r=${REALS[$v]}
		printf '%s"%s": ["%s"]' "$sep" "$v" "${r//,/\", \"}"
		sep=', '
	done
	printf '}, "spoofs": {'
	sep=
	for v in $VPNS; do printf '%s"%s": "%s"' "$sep" "$v" "${SPOOFS[$v]}"; sep=', '; done
	printf '}, "nats": ['
	sep=
	for a in "${NATS[@]}"; do printf '%s"%s"' "$sep" "$a"; sep=', '; done
	printf ']}\n'
} >"$work/state.json"

# --- churn under traffic ----------------------------------------------------
# One python3 process (each costs seconds in the guest) forks the receivers,
# senders, event listeners and dumper into their namespaces, drives the
# churn and checks; it prints its own ok/not ok lines.
"${PY[@]}" run "$work" "$SECONDS_CHURN" "$GAP" "$SEED" "$work/state.json" ||
	E2E_FAILED=1
stats=$(rnat stats)
echo "# rnatctl stats (drops by reason): $stats"
stat_of() { local w=" $stats "; w=${w#* "$1" }; echo "${w%% *}"; }
for stat in in_translated out_translated drop_in_unmapped drop_out_unmapped drop_fenced; do
	expect "the churn's $stat was counted (> 0)" [ "$(stat_of $stat)" -gt 0 ]
done
expect_eq "nothing dropped as malformed or for lack of memory" "0 0" \
	"$(stat_of drop_malformed) $(stat_of drop_nomem)"

# --- isolation ------------------------------------------------------------
rnat save >"$work/before"
nobody() { n gw setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
userns() { n gw unshare --user --map-root-user "$@"; }
read -r nat1 v1 _ <"$work/final" ||
	{ fail "a mapping to try isolation on"; nat1=10.153.0.2 v1=1; }
changes=(
	"vpn del $v1"
	"map add vpn $v1 real 10.1.9.9"
	"map flush vpn $v1"
	"restore $work/before"
)
whos=(nobody)
# A user namespace of one's own: refused in our guests, which run chrooted
# (create_user_ns() refuses a chrooted caller), so tried only where it works.
if userns true 2>/dev/null; then
	whos+=(userns)
else
	echo "# skipped: root of a user namespace of its own (unshare refused here)"
fi
for who in "${whos[@]}"; do
	for c in "${changes[@]}"; do
		# shellcheck disable=SC2086 # $c is words
		out=$($who "$RNATCTL" -R $c 2>&1)
		expect_eq "$who cannot: $c" "1 yes" \
			"$? $([[ $out == *"Operation not permitted"* ]] && echo yes || echo "no: $out")"
	done
done
expect_eq "the unprivileged attempts changed nothing" "$(cat "$work/before")" "$(rnat save)"
expect "an unprivileged user may read the state (GET is open)" \
	nobody "$RNATCTL" lookup "$nat1"
for c in "vpn del $v1" "map del nat $nat1" "map flush vpn $v1"; do
	# shellcheck disable=SC2086 # $c is words
	expect_fail "another namespace (core) cannot: $c" "$RNATCTL" -n core -R $c
done
expect_eq "another namespace (core) sees nothing of gw's" "||" \
	"$("$RNATCTL" -n core map show)|$("$RNATCTL" -n core vpn show)|$("$RNATCTL" -n core lookup "$nat1" 2>/dev/null)"
expect_eq "gw's state is unchanged" "$(cat "$work/before")" "$(rnat save)"
if [[ " ${whos[*]} " == *" userns "* ]]; then
	out=$(n core setpriv --reuid=65534 --regid=65534 --clear-groups \
		unshare --user --map-root-user --net sh -c "
		$RNATCTL -R pool add Q 10.153.0.0/24 && $RNATCTL -R map show && $RNATCTL -R pool show" 2>&1)
	expect_eq "an unprivileged user's own namespace has its own state only" \
		"Q 10.153.0.0/24 used 0 of 256 in blocks 0" "$out"
fi

# --- teardown ---------------------------------------------------------------
cleanup_all
trap 'rm -rf "$work"' EXIT
expect "rmmod once the namespaces are gone" unload_rnat
[ "$E2E_FAILED" = 0 ]
