#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a scrape costs: `rnatctl metrics` at M mappings (10^5 unless
# BENCH_MAPPINGS says), default and with per-mapping filters, its guest
# instructions and its output's size. Meant for a guest under QEMU -icount
# shift=0 (one instruction = one nanosecond of guest time, one CPU), as
# `make bench-metrics` runs it:
#
#   tests/vm/run --kernel debian-6.1 --icount --mem 4096 -- \
#           tests/bench/metrics.sh build/debian-6.1/kmod/rnat.ko
#
# One namespace with V dummy devices and V VPNs in one pool, M / V /32
# mappings each, loaded with `rnatctl restore`; then ACTIVE NAT IPs of
# VPN 1 get a ping each (routed into its dummy device: translated, counted,
# dropped there), so that "active" selects them (86400 s: idle times are
# guest time, which leaps forward while an -icount guest idles). A figure is the guest time
# the command took less the time the CPU idled (/proc/stat, 10 ms ticks):
# the whole guest's instructions while it ran (kernel dump included). It
# prints figures; it is not a test (its checks only say the runs were
# sound). "all" (every mapping's series) is measured up to 10^5 mappings.

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/bench/lib.sh

MODULE=${1:?usage: metrics.sh MODULE.ko}
M=${BENCH_MAPPINGS:-100000}
V=${BENCH_VPNS:-1000}
ACTIVE=${BENCH_ACTIVE:-10}
NS=bm
POOL=10.64.0.0/10
work=$(mktemp -d)
cleanup() { ns_del "$NS"; rm -rf "$work"; }
trap cleanup EXIT

# rnatctl from tmpfs (tests/bench/lib.sh).
rnatctl_tmpfs "$work"
rnat() { "${RNATCTL_TMPFS[@]}" -n "$NS" "$@"; }

ROWS=""
# timed NAME ARGS...: rnatctl metrics ARGS, its instructions and output.
timed() {
	local name=$1 t0 t1 i0 i1 rc bytes lines sel
	shift
	i0=$(idle_ticks) t0=$(now)
	rnat metrics "$@" >"$work/out"
	rc=$?
	t1=$(now) i1=$(idle_ticks)
	[ "$rc" = 0 ] || { fail "metrics $*: exit $rc"; return 1; }
	pass "metrics $*"
	bytes=$(stat -c %s "$work/out")
	lines=$(grep -vc '^#' "$work/out")
	sel=$(sed -n 's/^rnat_metrics_mappings_selected //p' "$work/out")
	ROWS+=$(awk -v n="$name" -v t="$((t1 - t0))" -v i="$((i1 - i0))" \
		-v b="$bytes" -v l="$lines" -v s="$sel" 'BEGIN {
		printf "#   %-22s %8.3f G %9s %12d %10d",
			n, t / 1e6 - i / 100, s, b, l
	}')$'\n'
}

expect "insmod rnat" insmod "$MODULE" || exit 1
ip netns add "$NS"
per=$((M / V))
M=$((V * per))
bench_state "$NS" "$V" "$per" "$POOL" "$work/batch"
expect "build: $M mappings in $V VPNs" rnat restore "$work/batch"
rm -f "$work/batch"
for nat in $(rnat map show vpn 1 | nat_of | head -n "$ACTIVE"); do
	n "$NS" ping -c 1 -W 0.01 "$nat" >/dev/null 2>&1
done
rnat stats >/dev/null	# rnatctl's pages in memory

timed "default (per VPN)"
timed "vpn 1 ($per mappings)" vpn 1
timed "active 86400 ($ACTIVE used)" active 86400
timed "errors (none)" errors
# Every mapping's 13 series: 1.6 kB of text a mapping (1.6 GB at 10^6).
[ "$M" -gt 100000 ] || timed "all" all
expect_eq "active 86400 selected the $ACTIVE pinged mappings" "$ACTIVE" \
	"$(rnat metrics active 86400 | sed -n 's/^rnat_metrics_mappings_selected //p')"

echo "# rnatctl metrics at $M mappings in $V VPNs (guest instructions, -icount):"
echo "#   filter                 instructions  mappings  output bytes  series"
printf '%s' "$ROWS"
cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
