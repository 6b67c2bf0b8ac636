#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepares tests/e2e/fleet-scale.sh's run in a TCG guest, where python
# and etcd run some 20-75 times slower than here: in DIR,
#   region.db  an etcd snapshot (etcdctl snapshot save) of region s holding
#              VPNS VPNs x PER mappings (tests/fleet/populate.py): the
#              guest's etcd starts from it (ETCD_RESTORE) instead of
#              populating 10^5 mappings itself;
#   gw1.save   what `rnatctl --gateway gw1 save` prints of it;
#   rnatctl, rnatd  built from tools/ with a 120 s request timeout
#              (STORE_TIMEOUT_MS) instead of 10 s: in the guest on a loaded
#              host, one 5,000-key page of a 10^5 snapshot read took more
#              than 10 s (2026-12-03).
#
# Usage: tests/fleet/snapshot.sh VPNS PER DIR

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/fleet/etcd.sh
[ $# = 3 ] || { echo "usage: tests/fleet/snapshot.sh VPNS PER DIR" >&2; exit 2; }
mkdir -p "$3" || exit 1
dir=$(realpath "$3")
# tools/Makefile's LIB_SRCS
libs=()
for f in nl parse output pool vpn map stats routes routes_vpn events annotate \
	metrics store region cmd fleet; do
	libs+=("$f.c")
done
# shellcheck disable=SC2046 # pkg-config's words
build() {
	(cd tools && cc -O2 -g -std=gnu11 -Wall -Wextra -Werror -I../uapi \
		$(pkg-config --cflags libcurl json-c) -DSTORE_TIMEOUT_MS=120000L \
		-o "$dir/$1" "$1.c" "${libs[@]}" -lmnl $(pkg-config --libs json-c) -ldl)
}
build rnatd || exit 1
build rnatctl || exit 1
trap etcd_stop EXIT
etcd_start 1 || exit 1
python3 tests/fleet/populate.py "$ETCD_URL" s "$1" "$2" || exit 1
tools/rnatctl -store "$ETCD_URL" -region s -gateway gw1 save >"$dir/gw1.save" || exit 1
if ! ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" snapshot save "$dir/region.db.tmp" \
	>"$dir/snapshot.log" 2>&1; then
	cat "$dir/snapshot.log" >&2
	exit 1
fi
mv "$dir/region.db.tmp" "$dir/region.db"
