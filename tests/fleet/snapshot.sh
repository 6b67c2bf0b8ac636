#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Writes an etcd snapshot (etcdctl snapshot save) of region s holding VPNS
# VPNs x PER mappings (tests/fleet/populate.py) to OUT: for
# tests/e2e/fleet-scale.sh, whose TCG guest starts its etcd from it
# (ETCD_RESTORE) instead of populating 10^5 mappings itself (python and
# etcd run some 20-50 times slower there). Prints the populate line.
#
# Usage: tests/fleet/snapshot.sh VPNS PER OUT

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fleet/etcd.sh
[ $# = 3 ] || { echo "usage: tests/fleet/snapshot.sh VPNS PER OUT" >&2; exit 2; }
trap etcd_stop EXIT
etcd_start 1 || exit 1
python3 tests/fleet/populate.py "$ETCD_URL" s "$1" "$2" || exit 1
mkdir -p "$(dirname "$3")"
if ! ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" snapshot save "$3.tmp" >"$3.log" 2>&1; then
	cat "$3.log" >&2
	exit 1
fi
mv "$3.tmp" "$3"
