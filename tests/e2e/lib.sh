# shellcheck shell=bash
# Helpers for the end-to-end scripts that run inside the test VM: result
# lines (`ok - NAME` / `not ok - NAME`), namespaces and waiting for servers.

RNATCTL=${RNATCTL:-$PWD/tools/rnatctl}
E2E_FAILED=0

pass() { echo "ok - ${RNAT_VM_KERNEL:+[$RNAT_VM_KERNEL] }$*"; }
fail() { echo "not ok - ${RNAT_VM_KERNEL:+[$RNAT_VM_KERNEL] }$*"; E2E_FAILED=1; }

# cli_setup MODULE DEV...: for the CLI scripts: loads MODULE, makes the
# namespace $NS with dummy devices DEV... up, a scratch $TMPDIR, rnat()
# (rnatctl in $NS) and state() (pools, VPNs and mappings, to compare before
# and after a command); cleanup removes the namespace and $TMPDIR, on exit
# too.
rnat() { "$RNATCTL" -n "$NS" "$@"; }
state() { rnat pool show; rnat vpn show; rnat map show; }
# (A namespace lives on while a process is in it, and rnat then keeps the
# module: ns_del kills what runs there first, monitors left behind too.)
ns_del() {
	ip netns pids "$1" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns del "$1" 2>/dev/null
}
cleanup() { ns_del "$NS"; rm -rf "$TMPDIR"; }
cli_setup() {
	local module=$1 d
	shift
	TMPDIR=$(mktemp -d)
	trap cleanup EXIT
	expect "insmod rnat" insmod "$module"
	ip netns add "$NS"
	for d in "$@"; do
		n "$NS" ip link add "$d" type dummy
		n "$NS" ip link set "$d" up
	done
}

# unload_rnat: rmmod rnat, once deleted namespaces are gone: the module
# refuses to unload while a namespace has VPNs or fenced devices, and a
# deleted namespace is cleaned up in the background (grace periods: seconds
# in a loaded TCG guest; 60 s at most).
unload_rnat() {
	local i
	for i in $(seq 300); do
		rmmod rnat 2>/dev/null && return 0
		nap 0.2
	done
	rmmod rnat
}

# expect NAME COMMAND...: passes when COMMAND succeeds; shows its output if not.
expect() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name"
		printf '#   %s\n' "$ $*" "${out//$'\n'/$'\n#   '}"
	fi
}

# expect_fail NAME COMMAND...: passes when COMMAND fails.
expect_fail() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		fail "$name"
		echo "#   unexpectedly succeeded: $*"
	else
		pass "$name"
	fi
}

# expect_eq NAME WANT GOT
expect_eq() {
	if [[ "$2" == "$3" ]]; then
		pass "$1"
	else
		fail "$1"
		echo "#   want: '$2'"
		echo "#   got:  '$3'"
	fi
}

n() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# wait_listen NS PROTO PORT: waits until something listens there.
wait_listen() {
	local i flag=-ltn
	[[ $2 == udp ]] && flag=-lun
	for i in $(seq 50); do
		n "$1" ss -H "$flag" "sport = :$3" | grep -q . && return 0
		sleep 0.1
	done
	echo "# nothing listens on $1 $2/$3" >&2
	return 1
}

rx_packets() { n "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }

# The seed's topology, without rnat configuration:
#
#   core (10.200.0.1) --c0--gc-- gw --gv1--eth0-- vpn1 (10.1.0.0)
#                                   \--gv2--eth0-- vpn2 (10.1.0.0)
#
# core sends everything in 10.0.0.0/8 to gw. Each customer host runs a TCP
# and a UDP server on port 7 answering "vpnN <peer address>"; core runs a
# TCP server on port 8 answering with the peer address it sees.
seed_topology() {
	local ns v
	for ns in core gw vpn1 vpn2; do
		ip netns add "$ns"
		n "$ns" ip link set lo up
		# IPv4 only: IPv6 router solicitations would blur packet counts.
		n "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	ip link add c0 netns core type veth peer name gc netns gw
	n core ip addr add 10.200.0.1/24 dev c0
	n core ip link set c0 up
	n core ip route add 10.0.0.0/8 via 10.200.0.254
	n gw ip addr add 10.200.0.254/24 dev gc
	n gw ip link set gc up
	n gw sysctl -qw net.ipv4.ip_forward=1
	for v in 1 2; do
		ip link add "gv$v" netns gw type veth peer name eth0 netns "vpn$v"
		n gw ip addr add 169.254.0.1/32 dev "gv$v"
		n gw ip link set "gv$v" up
		n "vpn$v" ip addr add 10.1.0.0/32 dev eth0
		n "vpn$v" ip link set eth0 up
		n "vpn$v" ip route add default via 169.254.0.1 dev eth0 onlink
		n "vpn$v" socat -t 5 TCP-LISTEN:7,fork,reuseaddr \
			SYSTEM:"echo vpn$v \$SOCAT_PEERADDR" &
		n "vpn$v" socat -t 5 UDP-RECVFROM:7,fork \
			SYSTEM:"echo vpn$v \$SOCAT_PEERADDR" &
	done
	n core socat -t 5 TCP-LISTEN:8,fork,reuseaddr SYSTEM:"echo \$SOCAT_PEERADDR" &
}

seed_wait_servers() {
	wait_listen vpn1 tcp 7 && wait_listen vpn1 udp 7 &&
		wait_listen vpn2 tcp 7 && wait_listen vpn2 udp 7 &&
		wait_listen core tcp 8
}

seed_cleanup() {
	local ns
	for ns in core gw vpn1 vpn2; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	wait 2>/dev/null
}

# Reads rnatctl's mapping line ("vpn 1 real 10.1.0.0 nat N ...") and prints N.
nat_of() { awk '{ for (i = 1; i < NF; i++) if ($i == "nat") print $(i + 1) }'; }

# In the VM every new process costs about a second (TCG, 9p): the helpers
# below do their waiting and matching in bash itself.

# nap SECONDS: sleep without starting a process.
nap() {
	if [[ -z ${NAP_FD:-} ]]; then
		local fifo
		fifo=$(mktemp -u /tmp/rnat-nap.XXXXXX)
		mkfifo "$fifo" && exec {NAP_FD}<>"$fifo" && rm -f "$fifo"
	fi
	read -rt "$1" -u "$NAP_FD"
}

# rnat_stat NS NAME: one of rnatctl's namespace counters (drop_in_unmapped...).
rnat_stat() {
	local -a w
	local i
	read -ra w <<<"$("$RNATCTL" -n "$1" stats)"
	for ((i = 0; i + 1 < ${#w[@]}; i++)); do
		[[ ${w[i]} == "$2" ]] && { echo "${w[i + 1]}"; return 0; }
	done
	return 1
}

# Packet captures: tcpdump -vv decoding the first 4 kB of each packet into
# $CAP_DIR/NAME.txt for as long as the namespace lives. Tests mark where they
# start and read what came after, one line per packet (tcpdump's
# continuation lines joined with " | ").
CAP_DIR=${CAP_DIR:-/tmp/rnat-cap}
declare -A CAP_MARK

# cap_start NAME NS DEV [FILTER...]
cap_start() {
	local name=$1 ns=$2 dev=$3
	shift 3
	mkdir -p "$CAP_DIR"
	# Immediate mode gives a ring of snaplen-sized frames: 4 kB snaps and
	# 8 MB keep 2,000 packets while tcpdump, slow in the VM, catches up.
	n "$ns" tcpdump -Z root -l -n -vv --immediate-mode -s 4096 -B 8192 -i "$dev" "$@" \
		>"$CAP_DIR/$name.txt" 2>"$CAP_DIR/$name.log" &
	CAP_MARK[$name]=0
}

# cap_ready NAME...: waits (10 s at most) until every capture listens.
cap_ready() {
	local name i
	for name; do
		for ((i = 0; i < 100; i++)); do
			[[ $(<"$CAP_DIR/$name.log") == *"listening on"* ]] && continue 2
			nap 0.1
		done
		echo "# capture $name did not start: $(<"$CAP_DIR/$name.log")" >&2
		return 1
	done
}

# cap_mark NAME...: later cap_text NAME shows only packets from now on.
cap_mark() {
	local name lines
	for name; do
		mapfile -t lines <"$CAP_DIR/$name.txt"
		CAP_MARK[$name]=${#lines[@]}
	done
}

# cap_text NAME: the packets since cap_mark NAME, one a line.
cap_text() {
	local line pkt='' lines
	mapfile -t -s "${CAP_MARK[$1]}" lines <"$CAP_DIR/$1.txt"
	for line in "${lines[@]}"; do
		if [[ $line == [[:space:]]* ]]; then
			pkt+=" |${line}"
		else
			[[ -n $pkt ]] && printf '%s\n' "$pkt"
			pkt=$line
		fi
	done
	[[ -n $pkt ]] && printf '%s\n' "$pkt"
}

# cap_wait NAME REGEX [SECONDS]: waits until a packet since cap_mark NAME
# matches REGEX (5 s unless told), then prints cap_text NAME.
cap_wait() {
	local text i
	for ((i = 0; i < ${3:-5} * 10; i++)); do
		text=$(cap_text "$1")
		[[ $text =~ $2 ]] && break
		nap 0.1
	done
	printf '%s\n' "$text"
}

# wait_port PID PROTO PORT: waits (5 s at most) until something listens on
# PORT (tcp or udp) in the network namespace of process PID, reading
# /proc/PID/net/PROTO.
wait_port() {
	local re i table
	printf -v re ':%04X [0-9A-F]{8}:[0-9A-F]{4} (0A|07) ' "$3"
	for ((i = 0; i < 50; i++)); do
		table=$(<"/proc/$1/net/$2") && [[ $table =~ $re ]] && return 0
		nap 0.1
	done
	echo "# nothing listens on $2/$3 where process $1 lives" >&2
	return 1
}

# packets_at PID DEV: "RX TX", DEV's received and sent packets in the
# network namespace of process PID (from /proc/PID/net/dev, without a new
# process).
packets_at() {
	local line f
	while read -r line; do
		[[ $line == "$2:"* ]] || continue
		read -ra f <<<"${line#*:}"
		echo "${f[1]} ${f[9]}"
		return 0
	done <"/proc/$1/net/dev"
	return 1
}

# rx_packets_at PID DEV: DEV's received packets, as packets_at.
rx_packets_at() {
	local p
	p=$(packets_at "$1" "$2") || return 1
	echo "${p%% *}"
}

# counter NS NAME: the packets counted by the rule with comment NAME in
# chain `pre` of NS's table ip watch (one process: nft).
counter() {
	local out re="counter packets ([0-9]+) bytes [0-9]+ comment \"$2\""
	out=$(n "$1" nft list chain ip watch pre)
	[[ $out =~ $re ]] && echo "${BASH_REMATCH[1]}"
}
