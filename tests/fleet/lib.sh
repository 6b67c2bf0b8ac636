# shellcheck shell=bash
# What the fleet tests share: their setup (fleet_init) and checks. Sourced
# after tests/fleet/etcd.sh, from the repository's top.

RNATCTL=${RNATCTL:-$PWD/tools/rnatctl}
RNATD=${RNATD:-$PWD/tools/rnatd}

# fleet_init PREFIX: pass NAME and fail NAME print "ok - PREFIXNAME" and
# "not ok - PREFIXNAME" (fail sets failed=1); $work is a scratch directory;
# on exit the processes in pids are killed (stopped etcd members woken
# first), etcd is stopped and $work removed.
fleet_init() {
	fleet_prefix=$1
	failed=0
	work=$(mktemp -d)
	pids=()
	trap fleet_cleanup EXIT
}
pass() { echo "ok - $fleet_prefix$*"; }
fail() { echo "not ok - $fleet_prefix$*"; failed=1; }
fleet_cleanup() {
	local p
	for p in "${ETCD_PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	etcd_stop
	rm -rf "$work"
}

# same NAME EXPECTED COMMAND...: COMMAND's stdout and stderr are EXPECTED.
same() {
	local name=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1)
	if [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name"
		diff <(echo "$want") <(echo "$got") | sed 's/^/#   /'
	fi
}

# refused NAME MESSAGE COMMAND...: exit status 1 (REFUSED_STATUS if set)
# and exactly "Error: MESSAGE".
refused() {
	local name=$1 want="Error: $2" got rc
	shift 2
	got=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "${REFUSED_STATUS:-1}" ] && [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name (exit $rc)"
		printf '#   want: %s\n#   got:  %s\n' "$want" "$got"
	fi
}

# file_has FILE TEXT SECONDS: FILE gets a line with TEXT within SECONDS.
file_has() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qsF -- "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}
