#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The netlink fuzzer (tests/fuzz/netlink.py) against the live module in a
# namespace of its own with four dummy devices, as root and as nobody; then
# the module still answers, and unloads once the namespace (and with it all
# rnat state) is gone. A splat fails the VM run (tests/vm/run).
#
# Usage: tests/e2e/fuzz.sh MODULE.ko    (prints ok/not ok lines)
#   FUZZ_COUNT  messages to send (default 100000)
#   FUZZ_SEED   the fuzzer's seed (default: a random one, printed)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: fuzz.sh MODULE.ko}
NS=fuzz
cli_setup "$MODULE" d0 d1 d2 d3

n "$NS" python3 tests/fuzz/netlink.py --count "${FUZZ_COUNT:-100000}" \
	${FUZZ_SEED:+--seed "$FUZZ_SEED"} --rnatctl "$RNATCTL" || E2E_FAILED=1
expect "the module answers after the fuzzing" rnat stats
expect "rnatctl save works after the fuzzing" rnat save

cleanup
trap - EXIT
expect "rmmod rnat once the namespace is gone" rmmod rnat
exit "$E2E_FAILED"
