#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# save and restore at 100,000 mappings: a restore that fails at its last line
# changes nothing; after a module reload, restore reproduces the saved state
# exactly (save prints the same text again, NAT blocks included).
#
# Usage: tests/e2e/restore.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: restore.sh MODULE.ko}
NS=rs
VPNS=100
PER_VPN=1000
work=$(mktemp -d)
rnat() { "$RNATCTL" -n "$NS" "$@"; }
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$work"' EXIT

# The namespace and the VPNs' devices (dummies, up, so routes can follow).
namespace() {
	ip netns add "$NS"
	for i in $(seq "$VPNS"); do
		echo "link add d$i type dummy"
		echo "link set d$i up"
	done | n "$NS" ip -batch -
}

expect "insmod rnat" insmod "$MODULE"
namespace
{
	echo "pool add EAST 10.153.0.0/16 10.157.0.0/16"
	for i in $(seq "$VPNS"); do
		echo "vpn add $i pool EAST dev d$i"
	done
	# Interleaved, so that blocks grow and fragment as in real life.
	for j in $(seq 0 $((PER_VPN - 1))); do
		for i in $(seq "$VPNS"); do
			echo "map add vpn $i real 10.$((j / 256)).$((j % 256)).$((i % 250))"
		done
	done
} >"$work/build"
t=$(date +%s%N)
expect "build $((VPNS * PER_VPN)) mappings in $VPNS VPNs (one batch)" \
	bash -c "$RNATCTL -n $NS -b $work/build >/dev/null"
echo "# built in $(ms "$t") ms (wall clock, TCG guest)"

t=$(date +%s%N)
rnat save >"$work/saved"
echo "# saved in $(ms "$t") ms"
expect_eq "save lists every mapping" "$((VPNS * PER_VPN))" "$(grep -c '^map add' "$work/saved")"
expect_eq "and every VPN with its blocks" "$VPNS" "$(grep -c '^vpn add .* blocks ' "$work/saved")"

# A restore whose last line fails leaves the live state as it was.
{ cat "$work/saved"; echo "map add vpn 1 real 10.250.0.0 nat 10.99.0.0"; } >"$work/bad"
out=$(rnat restore "$work/bad" 2>&1)
rc=$?
expect_eq "restore with a bad last line fails, naming the line" \
	"1 Error in line $(($(wc -l <"$work/saved") + 1))" "$rc ${out%%:*}"
expect_eq "... and changes nothing" "" "$(rnat save | diff - "$work/saved")"
expect "a second restore may start after the failed one" rnat restore "$work/saved"
expect_eq "restoring the same state keeps it" "" "$(rnat save | diff - "$work/saved")"

# Module reload: everything is gone, restore brings it back exactly.
ip netns del "$NS"
expect "rmmod rnat" unload_rnat
expect "insmod rnat again" insmod "$MODULE"
namespace
t=$(date +%s%N)
expect "restore $((VPNS * PER_VPN)) mappings after the reload" rnat restore "$work/saved"
echo "# restored in $(ms "$t") ms (wall clock, TCG guest)"
expect_eq "save after the reload prints the same state" "" \
	"$(rnat save | diff - "$work/saved" | head -n 5)"
expect_eq "every VPN's blocks are routed again" \
	"$(grep -o ' blocks .*' "$work/saved" | tr ', ' '\n\n' | grep -c /)" \
	"$(n "$NS" ip route show proto 82 | grep -c ' dev d')"

ip netns del "$NS"
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
