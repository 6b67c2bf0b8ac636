#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A region in etcd against the kernel: the same commands (pools, VPNs,
# automatic and explicit NAT IPs growing, merging and freeing blocks,
# prefix mappings, refusals, exhaustion, deletions, flushes) run one by one
# against the module (in a namespace) and against a region (rnatctl
# --store, an etcd member started here): every command's output, error
# message and exit status must be the same, and so must both `save`s. Then
# the region's save restores into another namespace's module, whose save
# is the region's, byte for byte.
#
# Usage: tests/e2e/fleet.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/fleet/etcd.sh

MODULE=${1:?usage: fleet.sh MODULE.ko}
NS=fk
NS2=fr
work=$(mktemp -d)
cleanup() { etcd_stop; ns_del "$NS"; ns_del "$NS2"; rm -rf "$work"; }
trap cleanup EXIT

kern() { "$RNATCTL" -R -n "$NS" "$@"; }
region() { "$RNATCTL" -store "$ETCD_URL" -region vm "$@"; }

expect "insmod rnat" insmod "$MODULE"
for ns in "$NS" "$NS2"; do
	ip netns add "$ns"
	for d in gv1 gv2 gv3 gv4; do
		n "$ns" ip link add "$d" type dummy
		n "$ns" ip link set "$d" up
	done
done
if etcd_start 1; then
	pass "etcd member up ($ETCD_URL)"
else
	fail "etcd member up"
	exit 1
fi

# The commands: one per line, each run against both.
{
	echo "pool add EAST 10.153.0.0/16 10.157.0.0/24 10.162.0.0/16"
	echo "pool add WEST 10.160.0.0/16"
	echo "pool add TINY 10.170.0.0/29"
	echo "pool add X 10.160.128.0/17"
	echo "vpn add 1 pool EAST dev gv1 name acme"
	echo "vpn add 2 pool EAST dev gv2 name globex"
	echo "vpn add 3 pool EAST dev gv3"
	echo "vpn add 4 pool TINY dev gv4 mark 0x30/0xf0 out-mark 0x30/0xf0"
	echo "vpn add 5 pool WEST name west blocks 10.160.0.8/29,10.160.0.16/29"
	echo "vpn add 1 pool EAST"
	echo "vpn add 6 pool NOPE"
	echo "vpn add 6 pool EAST name acme"
	# Interleaved automatic NAT IPs: blocks grow and take turns.
	for i in $(seq 1 40); do
		echo "map add vpn $((i % 3 + 1)) real 10.1.0.$i"
	done
	echo "map add vpn 1 real 10.1.0.1"
	echo "map add vpn 2 real 10.2.0.1 nat 10.153.0.0"
	echo "map add vpn 2 real 10.2.0.2 nat 10.153.0.200"
	echo "map add vpn 2 real 10.2.0.3 nat 10.162.0.1"
	echo "map add vpn 1 real 10.2.0.3 nat 10.162.0.1"
	echo "map add vpn 1 real 10.2.0.4 nat 10.162.0.0"
	echo "map add vpn 3 real 10.2.0.5 nat 10.160.0.1"
	echo "map add vpn 3 real 10.3.0.0/30"
	echo "map add vpn 3 real 10.3.0.0/24"
	echo "map add vpn 3 real 10.3.0.2"
	echo "map add vpn 3 real 10.3.1.0/28 nat 10.162.5.0"
	echo "map add vpn 5 real 10.5.0.1"
	echo "map add vpn 5 real 10.5.0.2 nat 10.160.0.20"
	echo "map add vpn 5 real 10.5.0.3 nat 10.160.0.4"
	echo "map add vpn 9 real 10.9.0.1"
	for i in 1 2 3 4 5 6 7 8 9; do
		echo "map add vpn 4 real 10.4.0.$i"
	done
	# Holes: freed NAT IPs and blocks are taken again, lowest first.
	for i in 3 6 9 12 15 18 21 24; do
		echo "map del vpn $((i % 3 + 1)) real 10.1.0.$i"
	done
	echo "map del nat 10.162.0.1"
	echo "map del nat 10.162.5.0/28"
	echo "map del vpn 3 real 10.9.9.9"
	echo "map del nat 10.162.9.9"
	for i in $(seq 41 60); do
		echo "map add vpn $((i % 3 + 1)) real 10.1.0.$i"
	done
	echo "map add vpn 2 real 10.2.1.1 nat 10.153.0.201"
	echo "lookup 10.153.0.0"
	echo "lookup 10.1.0.41 vpn 3"
	echo "lookup 10.3.0.1 vpn 3"
	echo "lookup 10.153.99.99"
	echo "pool del EAST"
	echo "pool del X"
	echo "vpn set 3 name third dev gv3"
	echo "vpn set 3 name acme"
	echo "map flush vpn 2"
	echo "vpn del 4"
	echo "map add vpn 1 real 10.1.1.1"
	echo "pool show"
	echo "vpn show"
	echo "map show"
	echo "map show vpn 1"
	echo "map show pool EAST nat 10.153.0.0/24"
	echo "map show real 10.3.0.0/16"
} >"$work/commands"

# rnatctl starts slowly in a TCG guest with libcurl (some thirty shared
# objects), so the commands run in batches (-b) that each end with a
# refused command: the kernel's answers, found first in a scratch
# namespace, cut the list. A batch's output, its "Error in line N" and its
# exit status must be the same from the module and from the region.
: >"$work/batch"
batches=0 total=0 differ=0
run_batch() {
	local k r
	[ -s "$work/batch" ] || return 0
	batches=$((batches + 1))
	k=$(kern -b "$work/batch" 2>&1; echo "exit $?")
	r=$(region -b "$work/batch" 2>&1; echo "exit $?")
	if [ "$k" != "$r" ]; then
		differ=$((differ + 1))
		if [ "$differ" -le 5 ]; then
			echo "# batch $batches differs:"
			sed 's/^/#   | /' "$work/batch"
			diff <(echo "$k") <(echo "$r") | sed 's/^/#   /'
		fi
	fi
	: >"$work/batch"
}
while read -r line; do
	total=$((total + 1))
	echo "$line" >>"$work/batch"
	# shellcheck disable=SC2086
	"$RNATCTL" -R -n "$NS2" $line >/dev/null 2>&1 || run_batch
done <"$work/commands"
run_batch
echo "# fleet: $total commands in $batches batches, $differ batches answered differently"
expect_eq "the region answers $total commands as the kernel does (outputs, errors, exit status)" 0 "$differ"
for c in "lookup 10.153.0.1" "pool show" "map show"; do
	# shellcheck disable=SC2086
	expect_eq "-j $c: the region's is the kernel's" "$(kern -j $c 2>&1)" "$(region -j $c 2>&1)"
done
expect_eq "-j vpn show: the region's is the kernel's but for ifindex" \
	"$(kern -j vpn show | sed 's/,"ifindex":[0-9]*//g')" "$(region -j vpn show)"
# The scratch namespace is emptied for the restore below.
"$RNATCTL" -R -n "$NS2" restore /dev/null

kern save >"$work/kernel.save"
region save >"$work/region.save"
if cmp -s "$work/kernel.save" "$work/region.save"; then
	pass "the region's save is the kernel's ($(wc -l <"$work/region.save") lines)"
else
	fail "the region's save is the kernel's"
	diff "$work/kernel.save" "$work/region.save" | head -20 | sed 's/^/#   /'
fi
expect_eq "the region's -j save is the kernel's but for ifindex" \
	"$(kern -j save | sed 's/,"ifindex":[0-9]*//g')" "$(region -j save)"

expect "the region's save restores into the module" \
	"$RNATCTL" -n "$NS2" restore "$work/region.save"
"$RNATCTL" -n "$NS2" save >"$work/restored.save"
if cmp -s "$work/region.save" "$work/restored.save"; then
	pass "save after restoring the region's save is the region's save"
else
	fail "save after restoring the region's save is the region's save"
	diff "$work/region.save" "$work/restored.save" | head -20 | sed 's/^/#   /'
fi

cleanup
trap - EXIT
unload_rnat
exit "$E2E_FAILED"
