# shellcheck shell=bash
# Checks shared by the fleet tests; the caller defines pass NAME and
# fail NAME (its ok/not ok lines).

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
