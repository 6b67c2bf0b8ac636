# shellcheck shell=bash
# Helpers for tests/e2e/tunnels.sh: a topology where the VPNs are real
# tunnels (WireGuard and route-based IPsec), and probes that read ICMP errors
# the way an application sees them.
#
#   core 10.200.0.1 --c0--gc-- gw --u1 192.0.2.1 ..wg1.. 192.0.2.2 u0-- vpn1 --lan-- host1
#                               |                          (router 10.1.0.254)  (10.1.0.0)
#                               \--u2 198.51.100.1 ..xfrm2 (ESP).. 198.51.100.2 u0-- vpn2
#                                                                             (10.1.0.0)
#
# vpn1 is a customer router (WireGuard endpoint, 10.1.0.254, no rnat mapping)
# with the host 10.1.0.0 behind it and no route for the rest of 10.1.0.0/16.
# vpn2 is a customer host that is its own IPsec endpoint (10.1.0.0 on its
# xfrm interface). gw has no address on wg1 or xfrm2 and rp_filter=1.

TUN_NS="core gw vpn1 host1 vpn2"

# Test keys: 16 bytes of AES key + 4 bytes of salt each (rfc4106).
TUN_KEY_OUT=0x0102030405060708090a0b0c0d0e0f1011121314
TUN_KEY_IN=0x2122232425262728292a2b2c2d2e2f3031323334
TUN_AEAD='rfc4106(gcm(aes))'

# xfrm_sa_cmds LOCAL REMOTE SPI_OUT SPI_IN KEY_OUT KEY_IN [SELECTOR...]:
# `ip -b` lines for one side's two tunnel-mode SAs, both with if_id and
# reqid $XFRM_ID (2 by default); the selector (none by default, or any
# other option such as output-mark) goes on the inbound one.
xfrm_sa_cmds() {
	local l=$1 r=$2 spi_out=$3 spi_in=$4 key_out=$5 key_in=$6
	local id=${XFRM_ID:-2}
	shift 6
	echo "xfrm state add src $l dst $r proto esp spi $spi_out reqid $id" \
		"mode tunnel if_id $id aead $TUN_AEAD $key_out 128"
	echo "xfrm state add src $r dst $l proto esp spi $spi_in reqid $id" \
		"mode tunnel if_id $id aead $TUN_AEAD $key_in 128 $*"
}

# xfrm_pol_cmd DIR LOCAL REMOTE [SELECTOR...]: the `ip -b` line for a
# policy of if_id $XFRM_ID (2 by default) whose template is the tunnel
# LOCAL -> REMOTE (out) or REMOTE -> LOCAL (in, fwd). The selector
# defaults to everything.
xfrm_pol_cmd() {
	local dir=$1 l=$2 r=$3 id=${XFRM_ID:-2}
	shift 3
	[ $# -gt 0 ] || set -- src 0.0.0.0/0 dst 0.0.0.0/0
	[ "$dir" = out ] || { local t=$l; l=$r; r=$t; }
	echo "xfrm policy add dir $dir $* if_id $id" \
		"tmpl src $l dst $r proto esp reqid $id mode tunnel"
}

# server NS NAME: TCP and UDP echo servers on port 7 answering
# "NAME <peer address>", and a TCP sink on port 9 answering with the number
# of bytes it received.
tun_servers() {
	n "$1" socat -t 5 TCP-LISTEN:7,fork,reuseaddr \
		SYSTEM:"echo $2 \$SOCAT_PEERADDR" &
	n "$1" socat -t 5 UDP-RECVFROM:7,fork \
		SYSTEM:"echo $2 \$SOCAT_PEERADDR" &
	n "$1" socat -t 5 TCP-LISTEN:9,fork,reuseaddr SYSTEM:"wc -c" &
}

tun_topology() {
	local ns keys
	for ns in $TUN_NS; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	# Links between namespaces, then each namespace's own configuration.
	ip link add c0 netns core type veth peer name gc netns gw
	ip link add u1 netns gw type veth peer name u0 netns vpn1
	ip link add u2 netns gw type veth peer name u0 netns vpn2
	ip link add lan netns vpn1 type veth peer name eth0 netns host1

	# IPv4 only everywhere: IPv6 router solicitations would blur counts.
	for ns in core vpn2 host1; do
		n "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	# No ICMP rate limit on gw: the PMTU checks need one "fragmentation
	# needed" each, right after TCP transfers that took several.
	n gw sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 \
		net.ipv4.icmp_ratelimit=0
	n vpn1 sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=1

	ip -n core -b - <<-EOF
		addr add 10.200.0.1/24 dev c0
		link set c0 up
		route add 10.0.0.0/8 via 10.200.0.254
	EOF

	# gw: no address on wg1 or xfrm2. xfrm2's MTU is at most the ESP
	# path's (1446 here), or xfrm2 itself answers "fragmentation needed",
	# after rnat's rewrite (in real space).
	ip -n gw -b - <<-EOF
		addr add 10.200.0.254/24 dev gc
		link set gc up
		addr add 192.0.2.1/24 dev u1
		link set u1 up
		addr add 198.51.100.1/24 dev u2
		link set u2 up
		link add wg1 type wireguard
		link add xfrm2 type xfrm dev u2 if_id 2
		link set xfrm2 mtu 1400 up
		$(xfrm_sa_cmds 198.51.100.1 198.51.100.2 0x1002 0x2002 "$TUN_KEY_OUT" "$TUN_KEY_IN")
		$(xfrm_pol_cmd out 198.51.100.1 198.51.100.2)
		$(xfrm_pol_cmd in 198.51.100.1 198.51.100.2)
		$(xfrm_pol_cmd fwd 198.51.100.1 198.51.100.2)
	EOF

	# vpn1: the customer's router, WireGuard endpoint, 10.1.0.254 on wg1
	# and on its LAN, where host1 (10.1.0.0) is; no route to 10.1.5.5.
	ip -n vpn1 -b - <<-EOF
		addr add 192.0.2.2/24 dev u0
		link set u0 up
		link add wg1 type wireguard
		addr add 10.1.0.254/32 dev wg1
		addr add 10.1.0.254/32 dev lan
		link set lan up
		route add 10.1.0.0/32 dev lan
	EOF
	ip -n host1 -b - <<-EOF
		addr add 10.1.0.0/32 dev eth0
		link set eth0 up
		route add default via 10.1.0.254 dev eth0 onlink
	EOF

	keys=$(mktemp -d)
	(umask 077 && wg genkey >"$keys/gw" && wg genkey >"$keys/vpn1")
	# gw's peer: the customer's REAL addresses (rnat rewrites the
	# destination before wg1 looks its peer up, and wg1 checks the source
	# before rnat rewrites it).
	n gw wg set wg1 listen-port 51820 private-key "$keys/gw" \
		peer "$(wg pubkey <"$keys/vpn1")" endpoint 192.0.2.2:51820 \
		allowed-ips 10.1.0.0/16
	n vpn1 wg set wg1 listen-port 51820 private-key "$keys/vpn1" \
		peer "$(wg pubkey <"$keys/gw")" endpoint 192.0.2.1:51820 \
		allowed-ips 10.200.0.0/24
	rm -rf "$keys"
	ip -n gw link set wg1 up
	ip -n vpn1 link set wg1 up
	ip -n vpn1 route add 10.200.0.0/24 dev wg1 src 10.1.0.254

	# vpn2: the customer host is its own IPsec endpoint, route-based too.
	ip -n vpn2 -b - <<-EOF
		addr add 198.51.100.2/24 dev u0
		link set u0 up
		link add xfrm2 type xfrm dev u0 if_id 2
		addr add 10.1.0.0/32 dev xfrm2
		link set xfrm2 up
		route add 10.200.0.0/24 dev xfrm2
		$(xfrm_sa_cmds 198.51.100.2 198.51.100.1 0x2002 0x1002 "$TUN_KEY_IN" "$TUN_KEY_OUT")
		$(xfrm_pol_cmd out 198.51.100.2 198.51.100.1)
		$(xfrm_pol_cmd in 198.51.100.2 198.51.100.1)
	EOF

	tun_servers host1 vpn1
	tun_servers vpn2 vpn2
	n core socat -t 5 TCP-LISTEN:8,fork,reuseaddr SYSTEM:"echo \$SOCAT_PEERADDR" &
}

tun_wait_servers() {
	local ns p
	for ns in host1 vpn2; do
		for p in tcp/7 udp/7 tcp/9; do
			wait_listen "$ns" "${p%/*}" "${p#*/}" || return 1
		done
	done
	wait_listen core tcp 8
}

tun_cleanup() {
	local ns
	for ns in $TUN_NS; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	wait 2>/dev/null
}

# udp_probe NS DST:PORT[:SIZE[:df]]...: sends one UDP datagram per argument
# (SIZE bytes of IP packet, 32 by default; DF set with "df" whatever path
# MTU NS already knows), all at once, each from its own connected socket
# with IP_RECVERR, and prints one line per argument, in order, saying what
# came back within 5 s:
#   "reply TEXT", "nothing", or the ICMP error as the socket reports it,
#   "ERRNO icmp TYPE/CODE from OFFENDER about EMBEDDED_DST info INFO"
# where OFFENDER is the error's outer source and EMBEDDED_DST the
# destination in the header it quotes (a socket only gets the errors whose
# quoted header matches its own addresses and ports). One process for all:
# python takes seconds to start under TCG.
udp_probe() {
	local ns=$1
	shift
	n "$ns" python3 -I -S - "$@" <<'PY'
import errno, select, socket, struct, sys, time

IP_RECVERR, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE = 11, 10, 3
socks = []
for spec in sys.argv[1:]:
    f = spec.split(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
    if len(f) > 3 and f[3] == "df":
        s.setsockopt(socket.SOL_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
    s.connect((f[0], int(f[1])))
    s.send(b"x" * ((int(f[2]) if len(f) > 2 else 32) - 28))
    socks.append(s)
out = ["nothing"] * len(socks)
p = select.poll()
byfd = {}
for i, s in enumerate(socks):
    p.register(s, select.POLLIN | select.POLLERR)
    byfd[s.fileno()] = i
deadline = time.monotonic() + 5
while byfd and time.monotonic() < deadline:
    for fd, ev in p.poll(max(1, int((deadline - time.monotonic()) * 1000))):
        i = byfd.pop(fd)
        p.unregister(fd)
        s = socks[i]
        if not ev & select.POLLERR:
            out[i] = "reply " + s.recv(65536).decode().strip()
            continue
        data, anc, flags, addr = s.recvmsg(65536, 512, socket.MSG_ERRQUEUE)
        for level, typ, d in anc:
            if level == socket.SOL_IP and typ == IP_RECVERR:
                e, origin, t, c, _, info, _ = struct.unpack("=IBBBBII", d[:16])
                out[i] = "%s icmp %d/%d from %s about %s info %d" % (
                    errno.errorcode.get(e, e), t, c,
                    socket.inet_ntoa(d[20:24]), addr[0], info)
print("\n".join(out))
PY
}

# xfrm_stat NS: /proc/net/xfrm_stat's non-zero counters in NS ("" when all
# are zero), or "absent" without CONFIG_XFRM_STATISTICS.
xfrm_stat() {
	if ! n "$1" test -e /proc/net/xfrm_stat; then
		echo absent
		return
	fi
	# shellcheck disable=SC2016
	n "$1" awk '$2 != 0 { printf "%s%s=%s", sep, $1, $2; sep = " " }' /proc/net/xfrm_stat
}

# xfrm_counter NS NAME: one counter of /proc/net/xfrm_stat (empty if absent).
xfrm_counter() {
	# shellcheck disable=SC2016
	n "$1" awk -v k="$2" '$1 == k { print $2 }' /proc/net/xfrm_stat 2>/dev/null
}

# capture_start NS DEV FILTER: captures one matching packet into $CAPTURE
# (tcpdump's line, without its time stamp); capture_wait waits for it
# and prints it (nothing if none came within 30 s).
capture_start() {
	CAPTURE=$(mktemp)
	n "$1" timeout 30 tcpdump -l -n -c 1 -i "$2" "$3" >"$CAPTURE" 2>"$CAPTURE.err" &
	CAPTURE_PID=$!
	local _
	for _ in $(seq 50); do
		grep -q listening "$CAPTURE.err" && return 0
		sleep 0.1
	done
}
capture_wait() {
	# Not `wait`: callers run this in a $(...) subshell, whose child
	# tcpdump is not (and may linger unreaped once done).
	local _
	for _ in $(seq 310); do
		[ -s "$CAPTURE" ] && break
		kill -0 "$CAPTURE_PID" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^[0-9:.]* //' "$CAPTURE"
	rm -f "$CAPTURE" "$CAPTURE.err"
}

dev_stat() { n "$1" cat "/sys/class/net/$2/statistics/$3"; }
