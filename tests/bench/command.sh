#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What one rnatctl command costs, routes included, in an empty gateway and
# in a full one: the guest instructions of `vpn add`, `map add` (the VPN's
# first mapping: a new block, so a new route), `map del` (its last: the
# block and its route go) and `vpn del`. Meant for a guest under QEMU
# -icount shift=0 (one instruction = one nanosecond of guest time):
#
#   tests/vm/run --kernel debian-6.1 --icount --mem 4096 --timeout 3600 -- \
#           tests/bench/command.sh build/debian-6.1/kmod/rnat.ko
#
# Two namespaces: "empty" has the pool and one spare device; "full" has the
# same plus V dummy devices with a VPN each and M /32 mappings among them
# (loaded with `rnatctl -R restore`), every block routed (`route sync`).
# In each, the four commands run R times in a row on one more VPN on the
# spare device; a figure is the guest time from before the fork of rnatctl
# to its exit (rnatctl's start, its netlink requests, the kernel's work for
# them), the least of the R runs (an idle CPU would make guest time jump
# ahead by a timer tick, about 4 M instructions: the least is the run that
# did not idle, if any did not) and their median.
# icount counts instructions only: cache and TLB misses are not counted.
#
# Environment: BENCH_VPNS (5000), BENCH_MAPPINGS (1000000), BENCH_RUNS (7),
# BENCH_BEFORE: another rnatctl binary measured the same way (e.g. one
# built from main, to compare). tests/vm/run clears the environment: set
# them with env(1) in the guest's command, or as make variables (`make
# bench-command BENCH_BEFORE=/path/to/rnatctl`). Prints ok/not ok lines,
# then the table; it is a benchmark, not a test: nothing is judged.

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/bench/lib.sh

MODULE=${1:?usage: command.sh MODULE.ko}
V=${BENCH_VPNS:-5000}
M=${BENCH_MAPPINGS:-1000000}
R=${BENCH_RUNS:-7}
BEFORE=${BENCH_BEFORE:-}
POOL=10.64.0.0/10
X=$((V + 1))	# the VPN the commands make and delete
work=$(mktemp -d)

cleanup() {
	ip netns del empty 2>/dev/null
	ip netns del full 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

expect "insmod rnat" insmod "$MODULE" || exit 1
# The binaries measured, each copied to tmpfs with its libraries.
bins=(after)
rnatctl_tmpfs "$work/after"
declare -A BIN
BIN[after]="${RNATCTL_TMPFS[*]}"
if [ -n "$BEFORE" ]; then
	RNATCTL=$BEFORE rnatctl_tmpfs "$work/before"
	BIN[before]="${RNATCTL_TMPFS[*]}"
	bins+=(before)
fi
rnat_in() { local ns=$1; shift; "$RNATCTL" -n "$ns" "$@"; }

# --- the two gateways ---------------------------------------------------------

for ns in empty full; do
	ip netns add "$ns"
	n "$ns" ip link add dx up type dummy
done
expect "empty: the pool" rnat_in empty pool add BENCH "$POOL"
per=$((M / V))
bench_state full "$V" "$per" "$POOL" "$work/batch"
M=$((V * per))
expect "full: $V VPNs, $M mappings (rnatctl -R restore of a batch)" \
	rnat_in full -R restore "$work/batch"
rm -f "$work/batch"
expect "full: route sync" rnat_in full route sync
routes=$(n full ip route show proto 82 | wc -l)
expect_eq "full: a route per block (and the pool's)" \
	"$(($(rnat_in full save | grep -o ' blocks .*' | tr ', ' '\n\n' | grep -c /) + 1))" \
	"$routes"

# --- the figures -------------------------------------------------------------

# one BIN NS WORDS...: adds the guest time in ns of one run to
# RUNS[BIN,NS,COMMAND] (rnatctl's output dropped), or fails.
declare -A RUNS
one() {
	local bin=$1 ns=$2 t0 t1 rc
	shift 2
	t0=$(now)
	${BIN[$bin]} -n "$ns" "$@" >/dev/null 2>"$work/err"
	rc=$?
	t1=$(now)
	if [ "$rc" != 0 ] || grep -q . "$work/err"; then
		fail "$bin in $ns: $*: exit $rc $(cat "$work/err")"
		return 1
	fi
	RUNS[$bin,$ns,$1 $2]+=" $(((t1 - t0) * 1000))"
}

cmds=("vpn add" "map add" "map del" "vpn del")
for bin in "${bins[@]}"; do
	for ns in empty full; do
		for r in $(seq "$R"); do
			one "$bin" "$ns" vpn add "$X" pool BENCH dev dx
			one "$bin" "$ns" map add vpn "$X" real 10.0.0.1
			[ "$(n "$ns" ip route show proto 82 dev dx | grep -c .)" = 1 ] ||
				fail "$bin, $ns, run $r: map add did not route the block"
			one "$bin" "$ns" map del vpn "$X" real 10.0.0.1
			one "$bin" "$ns" vpn del "$X"
		done
		expect_eq "$bin, $ns: $R runs of each command, no route is left to dx" "" \
			"$(n "$ns" ip route show proto 82 dev dx)"
	done
done

# least and median of the runs, in M instructions
stat() {
	tr ' ' '\n' | grep . | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.2f %.2f", v[1] / 1e6, v[int((NR + 1) / 2)] / 1e6 }'
}
[ "$E2E_FAILED" = 0 ] || { echo "# a check failed: no figures"; exit 1; }
echo "# One rnatctl command on $(uname -r) (${RNAT_VM_KERNEL:-?} kernel), under QEMU -icount:"
echo "# guest instructions from the fork of rnatctl to its exit, least (median) of $R runs,"
echo "# in M; cache misses not counted. empty: a pool, no VPN; full: $V VPNs with"
echo "# $M mappings, $routes routes of protocol 82."
printf '#   %-7s %-8s %16s %16s %8s\n' rnatctl command empty full "full/empty"
for bin in "${bins[@]}"; do
	for c in "${cmds[@]}"; do
		read -r e em <<<"$(stat <<<"${RUNS[$bin,empty,$c]}")"
		read -r f fm <<<"$(stat <<<"${RUNS[$bin,full,$c]}")"
		printf '#   %-7s %-8s %7s (%6s) %7s (%6s) %8s\n' "$bin" "$c" \
			"$e" "$em" "$f" "$fm" "$(awk -v a="$e" -v b="$f" 'BEGIN { printf "%+.0f %%", (b / a - 1) * 100 }')"
	done
done

cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
