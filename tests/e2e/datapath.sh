#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The datapath end to end, inside the test VM, on the seed's topology:
#
#   core (10.200.0.1) --c0--gc-- gw --gv1--eth0-- vpn1 (10.1.0.0)
#                                   \--gv2--eth0-- vpn2 (10.1.0.0)
#
# What the gateway must show (design.md §2), each checked on real packets at
# the host that receives them: ICMP errors from customer hosts and from the
# gateway carry the right addresses (ECONNREFUSED, TTL exceeded, PMTU
# discovery); fragments, offloads, UDP checksum 0 and IP options survive
# translation; the gateway's own traffic reaches NAT IPs; spoofed and
# misrouted packets are dropped and counted; prefix mappings; and, under a
# stateful nft firewall with conntrack, identical 5-tuples from two VPNs
# coexist and conntrack holds only NAT IPs.
#
# A process costs about a second in the VM, so each namespace runs one
# python3 agent for the whole test (UDP echo server on port 9001, UDP and
# TCP clients and sinks, on request), and one tcpdump per link decodes
# everything but the bulk transfers into a text file the checks read.
#
# Usage: tests/e2e/datapath.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: datapath.sh MODULE.ko}
T=/tmp/rnat-datapath
CORE=10.200.0.1
MB2=2000000

rnat() { "$RNATCTL" -n gw "$@"; }
section() { echo "# $* (at ${SECONDS}s)"; }

# ---------------------------------------------------------------------------
# The agent: reads one command a line, answers one line.
#   udp HOST PORT SIZE [nocheck=1] [bind=A] [wait=S] [show=1]
#       -> sent LEN SHA reply PEER LEN SHA [text ...] | ... refused | ... timeout
#   listen PORT (a TCP sink in the background) / result PORT -> got PEER LEN SHA
#   send HOST PORT SIZE [bind=A]          -> sent LEN SHA (once the sink closed)
#   tcp HOST PORT [bind=A] [sport=P] [hold=S] -> answer TEXT (what the server said)
#   lastecho                               -> PEER LEN SHA of the last echo, or none
# SHA: the first 16 hex digits of SHA-256.
AGENT='
import hashlib, os, socket, sys, threading, time

def sha(b):
    return hashlib.sha256(b).hexdigest()[:16]

last_echo = "none"
bound = threading.Event()

def echo():
    global last_echo
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 9001))
    bound.set()
    while True:
        data, peer = s.recvfrom(65535)
        last_echo = f"{peer[0]} {len(data)} {sha(data)}"
        s.sendto(data, peer)

def sock(kind, o):
    s = socket.socket(socket.AF_INET, kind)
    if "nocheck" in o:
        s.setsockopt(socket.SOL_SOCKET, 11, 1)  # SO_NO_CHECK
    if "bind" in o or "sport" in o:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((o.get("bind", "0.0.0.0"), int(o.get("sport", 0))))
    return s

def recv_all(c):
    chunks = []
    while True:
        b = c.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)

def udp(host, port, size, **o):
    s = sock(socket.SOCK_DGRAM, o)
    s.settimeout(float(o.get("wait", 3)))
    data = os.urandom(int(size))
    s.connect((host, int(port)))
    s.send(data)
    head = f"sent {len(data)} {sha(data)}"
    try:
        r, peer = s.recvfrom(65535)
    except ConnectionRefusedError:
        return head + " refused"
    except socket.timeout:
        return head + " timeout"
    text = " text " + r.decode(errors="replace").strip() if "show" in o else ""
    return f"{head} reply {peer[0]} {len(r)} {sha(r)}{text}"

sinks = {}

def listen(port):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("0.0.0.0", int(port)))
    l.listen(4)
    l.settimeout(40)
    res = {}
    def run():
        try:
            c, peer = l.accept()
            c.settimeout(30)
            data = recv_all(c)
            c.close()
            res["r"] = f"got {peer[0]} {len(data)} {sha(data)}"
        except Exception as e:
            res["r"] = f"error {e!r}"
        l.close()
    t = threading.Thread(target=run)
    t.start()
    sinks[port] = (t, res)
    return f"listening {port}"

def result(port):
    t, res = sinks.pop(port)
    t.join(45)
    return res.get("r", "error: no result")

def send(host, port, size, **o):
    s = sock(socket.SOCK_STREAM, o)
    s.settimeout(30)
    data = os.urandom(int(size))
    s.connect((host, int(port)))
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    recv_all(s)
    s.close()
    return f"sent {len(data)} {sha(data)}"

def tcp(host, port, **o):
    s = sock(socket.SOCK_STREAM, o)
    s.settimeout(5)
    s.connect((host, int(port)))
    data = recv_all(s)
    time.sleep(float(o.get("hold", 0)))
    s.close()
    return "answer " + data.decode(errors="replace").strip()

def lastecho():
    global last_echo
    r, last_echo = last_echo, "none"
    return r

threading.Thread(target=echo, daemon=True).start()
bound.wait(10)
print("ready", flush=True)
for line in sys.stdin:
    cmd, *args = line.split()
    try:
        r = globals()[cmd](*[a for a in args if "=" not in a],
                           **dict(a.split("=", 1) for a in args if "=" in a))
    except Exception as e:
        r = f"error {e!r}"
    print(r, flush=True)
'
declare -A AIN AOUT APID

# agent_start NS...: one agent per namespace, talking over two fifos.
agent_start() {
	local ns fin fout
	local -a fifos=()
	for ns; do fifos+=("$T/$ns.in" "$T/$ns.out"); done
	mkfifo "${fifos[@]}" || return 1
	for ns; do
		exec {fin}<>"$T/$ns.in" {fout}<>"$T/$ns.out"
		AIN[$ns]=$fin AOUT[$ns]=$fout
		# Not through n(): $! must be the agent itself, in the namespace.
		ip netns exec "$ns" python3 -c "$AGENT" <"$T/$ns.in" >"$T/$ns.out" 2>"$T/$ns.err" &
		APID[$ns]=$!
	done
	for ns; do
		read -rt 60 -u "${AOUT[$ns]}" || { fail "agent in $ns starts"; return 1; }
	done
}
# tell NS COMMAND: starts COMMAND; hear NS: prints its answer.
tell() { printf '%s\n' "$2" >&"${AIN[$1]}"; }
hear() {
	local r
	read -rt 60 -u "${AOUT[$1]}" r || r="error: the agent in $1 did not answer"
	printf '%s\n' "$r"
}
ask() { tell "$1" "$2" && hear "$1"; }

# xfer NAME FROM_NS TO_NS ADDR SEES [SIZE [PORT]]: SIZE random bytes over TCP
# from FROM_NS to ADDR:PORT, sunk in TO_NS: every byte arrives from SEES.
xfer() {
	local name=$1 from=$2 to=$3 addr=$4 sees=$5 size=${6:-$MB2} port=${7:-9100} sent got
	ask "$to" "listen $port" >/dev/null
	sent=$(ask "$from" "send $addr $port $size")
	got=$(ask "$to" "result $port")
	expect_eq "$name" "got $sees ${sent#sent }" "$got"
}

# udp_echo NAME FROM_NS ADDR ECHO_NS SEES BACK SIZE [OPTS]: a SIZE-byte
# datagram from FROM_NS to ADDR:9001, echoed by ECHO_NS's agent, which must
# see it come from SEES; the echo must come back from BACK, byte for byte.
udp_echo() {
	local name=$1 from=$2 addr=$3 echo_ns=$4 sees=$5 back=$6 size=$7 r e sum
	shift 7
	ask "$echo_ns" lastecho >/dev/null
	r=$(ask "$from" "udp $addr 9001 $size $*")
	e=$(ask "$echo_ns" lastecho)
	read -r _ _ sum _ <<<"$r"
	expect_eq "$name" "echo got $sees $size $sum, client got $back $size $sum" \
		"echo got $e, client got ${r#sent * * reply }"
}

# has NAME REGEX TEXT / hasnt NAME REGEX TEXT (bash extended regex)
has() {
	if [[ $3 =~ $2 ]]; then
		pass "$1"
	else
		fail "$1"
		echo "#   no match for /$2/ in:"
		printf '#   %s\n' "${3//$'\n'/$'\n#   '}" | head -n 12
	fi
}
hasnt() {
	if ! [[ $3 =~ $2 ]]; then
		pass "$1"
	else
		fail "$1"
		echo "#   unexpected /$2/: ${BASH_REMATCH[0]}"
	fi
}
# count REGEX TEXT: how many lines of TEXT match.
count() {
	local line c=0
	while IFS= read -r line; do [[ $line =~ $1 ]] && ((c++)); done <<<"$2"
	echo "$c"
}
stat_delta() { echo $(($(rnat_stat gw "$1") - $2)); }
nat_field() { [[ $1 =~ nat\ ([0-9./]+) ]] && echo "${BASH_REMATCH[1]}"; }

# ---------------------------------------------------------------------------
rm -rf "$T" "$CAP_DIR"
mkdir -p "$T"
trap seed_cleanup EXIT

expect "insmod rnat" insmod "$MODULE"
seed_topology
expect "setup: pool, VPNs 1 and 2" rnat -b - <<'BATCH'
pool add AWS_USA_EAST_1 10.153.0.0/16 10.157.0.0/16 10.162.0.0/16 10.155.0.0/16
vpn add 1 pool AWS_USA_EAST_1 dev gv1 name vpn1
vpn add 2 pool AWS_USA_EAST_1 dev gv2 name vpn2
BATCH
NAT1=$(nat_field "$(rnat map add vpn 1 real 10.1.0.0)")
NAT2=$(nat_field "$(rnat map add vpn 2 real 10.1.0.0)")
expect_eq "two NAT IPs for the two 10.1.0.0" "10.153.0.0 10.153.0.1" "$NAT1 $NAT2"
# Steering, until rnatctl routes NAT blocks itself: `replace` stays right then.
ip -n gw route replace "$NAT1/32" dev gv1
ip -n gw route replace "$NAT2/32" dev gv2

# The bulk transfers (port 9100) are left out of the captures; tcpdump -vv
# is slow in the VM, so the checksums it verifies (port 9101) are few.
cap_start core core c0 not tcp port 9100
cap_start vpn1 vpn1 eth0 not tcp port 9100
cap_start vpn2 vpn2 eth0 not tcp port 9100
cap_start gv1 gw gv1 not tcp portrange 9100-9101
agent_start core gw vpn1 vpn2
cap_ready core vpn1 vpn2 gv1 || fail "captures start"
for v in 1 2; do
	{ wait_port "${APID[vpn$v]}" tcp 7 && wait_port "${APID[vpn$v]}" udp 7; } ||
		fail "vpn$v's servers start"
done
wait_port "${APID[core]}" tcp 8 || fail "core's server starts"
echo "# set up (at ${SECONDS}s)"

# ---------------------------------------------------------------------------
section "1. ECONNREFUSED: port unreachable from a customer host names its NAT IP"
cap_mark core vpn1
has "UDP core -> $NAT1:9 (closed) fails with ECONNREFUSED" ' refused$' \
	"$(ask core "udp $NAT1 9 1")"
pkts=$(cap_wait core "ICMP $NAT1 udp port 9 unreachable")
has "core's ICMP comes from $NAT1, about $NAT1 port 9" \
	"$NAT1 > $CORE: ICMP $NAT1 udp port 9 unreachable" "$pkts"
has "the datagram embedded is core -> $NAT1:9" "unreachable.*$CORE\.[0-9]+ > $NAT1\.9: " "$pkts"
hasnt "10.1.0.0 appears nowhere in core's capture, ICMP checksum right" \
	'10\.1\.0\.0|wrong icmp cksum' "$pkts"

has "UDP vpn1 -> core:9 (closed) fails with ECONNREFUSED" ' refused$' \
	"$(ask vpn1 "udp $CORE 9 1")"
pkts=$(cap_wait vpn1 "ICMP $CORE udp port 9 unreachable")
has "vpn1's ICMP is addressed to 10.1.0.0" \
	"$CORE > 10\.1\.0\.0: ICMP $CORE udp port 9 unreachable" "$pkts"
has "the datagram embedded for vpn1 is 10.1.0.0 -> core:9" \
	"unreachable.*10\.1\.0\.0\.[0-9]+ > $CORE\.9: " "$pkts"
hasnt "no NAT IP reaches vpn1, ICMP checksum right" '10\.153\.|wrong icmp cksum' "$pkts"

# ---------------------------------------------------------------------------
section "2. ICMP the gateway generates: TTL exceeded"
cap_mark vpn1 core
has "vpn1's ping with TTL 1 hears 'Time to live exceeded' from gw" \
	'From 169\.254\.0\.1 .*Time to live exceeded' "$(n vpn1 ping -c 1 -W 2 -t 1 "$CORE")"
pkts=$(cap_wait vpn1 'time exceeded')
has "the time exceeded reaching vpn1 is addressed to 10.1.0.0" \
	'169\.254\.0\.1 > 10\.1\.0\.0: ICMP time exceeded in-transit' "$pkts"
has "  ... and embeds vpn1's real packet 10.1.0.0 -> core" \
	"time exceeded.*10\.1\.0\.0 > $CORE: ICMP echo request" "$pkts"
hasnt "  ... no NAT IP reaches vpn1, ICMP checksum right" '10\.153\.|wrong icmp cksum' "$pkts"

n core ping -c 1 -W 2 -t 1 "$NAT1" >/dev/null
pkts=$(cap_wait core 'time exceeded')
has "core's ping to $NAT1 with TTL 1 expires at gw: time exceeded embeds $NAT1" \
	"10\.200\.0\.254 > $CORE: ICMP time exceeded in-transit.*$CORE > $NAT1: ICMP echo request" \
	"$pkts"

# ---------------------------------------------------------------------------
section "3. fragments (4000-byte UDP, fragmented by the sender), no conntrack"
FRAG='(offset [1-9][0-9]*|flags \[\+\])'
cap_mark core
udp_echo "core -> $NAT1 4000 B: vpn1 gets core's bytes, core gets them back from $NAT1" \
	core "$NAT1" vpn1 "$CORE" "$NAT1" 4000
nap 0.5
pkts=$(cap_text core)
expect_eq "core saw 3 fragments to $NAT1 and 3 from $NAT1" "3 3" \
	"$(count "$FRAG.* $CORE(\.[0-9]+)? > $NAT1(\.[0-9]+)?: " "$pkts") $(count "$FRAG.* $NAT1(\.[0-9]+)? > $CORE(\.[0-9]+)?: " "$pkts")"
udp_echo "vpn2 -> core 4000 B: core gets them from $NAT2, vpn2 gets them back" \
	vpn2 "$CORE" core "$NAT2" "$CORE" 4000

# ---------------------------------------------------------------------------
section "4. offloads, UDP checksum 0, IP options"
xfer "TCP 2 MB core -> $NAT1 (TSO/GSO on)" core vpn1 "$NAT1" "$CORE"
xfer "TCP 2 MB vpn1 -> core (TSO/GSO on)" vpn1 core "$CORE" "$NAT1"

# With transmit checksum offload off the sender computes full checksums, and
# the receiver (and tcpdump) verify the translated ones.
n core ethtool -K c0 tx off >/dev/null
n vpn1 ethtool -K eth0 tx off >/dev/null
# tcp_csums WHO REGEX TEXT: tcpdump at WHO found the TCP checksums of all
# packets matching REGEX right, and of 10 or more carrying data.
tcp_csums() {
	local good bad data
	good=$(count "$2.*\(correct\)" "$3")
	bad=$(count "$2.*incorrect" "$3")
	data=$(count "$2.*\(correct\).* length [1-9]" "$3")
	expect_eq "$1 verified $good translated TCP checksums ($data with data), none wrong" \
		"0 yes" "$bad $( ((data >= 10)) && echo yes)"
	((bad == 0 && data >= 10)) || grep -E -- "$2" <<<"$3" | cut -c 1-250 | sed 's/^/#   /'
}
cap_mark vpn1 core
xfer "TCP 20 kB core -> $NAT1, software checksums" core vpn1 "$NAT1" "$CORE" 20000 9101
xfer "TCP 20 kB vpn1 -> core, software checksums" vpn1 core "$CORE" "$NAT1" 20000 9101
udp_echo "UDP core -> $NAT1 and back, software checksums" core "$NAT1" vpn1 "$CORE" "$NAT1" 100
# The echo came last: once tcpdump printed it, it printed the rest.
pkts=$(cap_wait vpn1 '10\.1\.0\.0\.9001 > ' 15)
tcp_csums "vpn1" "> 10\.1\.0\.0\.9101: " "$pkts"
has "vpn1 verified the translated UDP checksum" "$CORE\.[0-9]+ > 10\.1\.0\.0\.9001: \[udp sum ok\]" "$pkts"
pkts=$(cap_wait core "$NAT1\.9001 > " 15)
tcp_csums "core" "> $CORE\.9101: " "$pkts"
has "core verified the translated UDP checksum" "$NAT1\.9001 > $CORE\.[0-9]+: \[udp sum ok\]" "$pkts"

# GRO on gw's receiving side: segments merge there, leave as GSO packets.
n gw ethtool -K gc gro on >/dev/null
n gw ethtool -K gv1 gro on >/dev/null
xfer "TCP 2 MB core -> $NAT1, software checksums, GRO on at gw" core vpn1 "$NAT1" "$CORE"
xfer "TCP 2 MB vpn1 -> core, software checksums, GRO on at gw" vpn1 core "$CORE" "$NAT1"
n gw ethtool -K gc gro off >/dev/null
n gw ethtool -K gv1 gro off >/dev/null
n core ethtool -K c0 tx on >/dev/null
n vpn1 ethtool -K eth0 tx on >/dev/null

# SO_NO_CHECK: a UDP checksum of 0 means "none" and must stay 0.
cap_mark vpn1 core
udp_echo "UDP checksum 0 core -> $NAT1 arrives" core "$NAT1" vpn1 "$CORE" "$NAT1" 100 nocheck=1
udp_echo "UDP checksum 0 vpn1 -> core arrives" vpn1 "$CORE" core "$NAT1" "$CORE" 100 nocheck=1
has "vpn1 sees checksum 0 ([no cksum]) after translation" \
	"$CORE\.[0-9]+ > 10\.1\.0\.0\.9001: \[no cksum\]" "$(cap_wait vpn1 'no cksum')"
has "core sees checksum 0 ([no cksum]) after translation" \
	"$NAT1\.[0-9]+ > $CORE\.9001: \[no cksum\]" "$(cap_wait core 'no cksum')"

got=$(n core ping -c 2 -W 2 -R "$NAT1")
has "ping -R (record route option) core -> $NAT1 gets replies from $NAT1" \
	"bytes from $NAT1: " "$got"
has "  ... carrying the recorded route" 'RR:' "$got"

# ---------------------------------------------------------------------------
section "2. PMTU discovery through a 1400-byte link, both ways"
# pmtu_both V [NOTE]: 2 MB core -> vpnV's NAT IP with gw's link to vpnV at
# MTU 1400, then vpnV -> core with gw's link to core at 1400: each sender
# learns the PMTU from gw's "need to frag", in NAT space on core's side and
# translated to vpnV's real address on vpnV's side.
pmtu_both() {
	local v=$1 note=${2:-} nat_var=NAT$1 nat pkts
	nat=${!nat_var}
	# A PMTU a host has learnt lowers the MSS it offers too: forget them.
	ip -n core route flush cache
	ip -n "vpn$v" route flush cache
	ip -n gw link set "gv$v" mtu 1400
	cap_mark core
	xfer "TCP 2 MB core -> $nat through gv$v at MTU 1400$note" core "vpn$v" "$nat" "$CORE"
	has "  ... core learnt MTU 1400 for $nat from gw" \
		"ICMP $nat unreachable - need to frag \(mtu 1400\)" "$(cap_wait core 'need to frag')"
	ip -n gw link set "gv$v" mtu 1500
	ip -n gw link set gc mtu 1400
	ip -n core route flush cache
	ip -n "vpn$v" route flush cache
	cap_mark "vpn$v"
	xfer "TCP 2 MB vpn$v -> core through gc at MTU 1400$note" "vpn$v" core "$CORE" "$nat"
	pkts=$(cap_wait "vpn$v" 'need to frag')
	has "  ... vpn$v got 'need to frag (mtu 1400)' addressed to 10.1.0.0" \
		"169\.254\.0\.1 > 10\.1\.0\.0: ICMP $CORE unreachable - need to frag \(mtu 1400\)" "$pkts"
	has "  ... embedding its own segment 10.1.0.0 -> core" \
		"need to frag.*10\.1\.0\.0\.[0-9]+ > $CORE\.9100: Flags" "$pkts"
	hasnt "  ... with no NAT IP, ICMP checksum right" '10\.153\.|wrong icmp cksum' "$pkts"
	ip -n gw link set gc mtu 1500
}
pmtu_both 1

# ---------------------------------------------------------------------------
section "7. traffic the gateway itself sends to NAT IPs"
has "gw pings $NAT1, reply from $NAT1" "bytes from $NAT1" "$(n gw ping -c 1 -W 2 "$NAT1")"
cap_mark gv1
expect_eq "TCP gw -> $NAT1:7: vpn1 sees gw's 169.254.0.1" "answer vpn1 169.254.0.1" \
	"$(ask gw "tcp $NAT1 7")"
pkts=$(cap_wait gv1 'Flags \[S\.\]')
has "  ... on gv1 gw's SYN goes to 10.1.0.0" \
	'169\.254\.0\.1\.[0-9]+ > 10\.1\.0\.0\.7: Flags \[S\]' "$pkts"
has "  ... and vpn1 answers 169.254.0.1 from 10.1.0.0" \
	'10\.1\.0\.0\.7 > 169\.254\.0\.1\.[0-9]+: Flags \[S\.\]' "$pkts"
# A connected UDP socket takes only replies from the address it sent to.
has "UDP gw -> $NAT2:7: gw's socket hears vpn2 answer from $NAT2" \
	"reply $NAT2 .* text vpn2 169\.254\.0\.1$" "$(ask gw "udp $NAT2 7 3 show=1")"

# ---------------------------------------------------------------------------
section "8. anti-spoofing"
ip -n vpn1 addr add 10.1.0.9/32 dev eth0
ip -n vpn1 addr add "$NAT2/32" dev eth0
for src in 10.1.0.9 "$NAT2"; do
	drops=$(rnat_stat gw drop_in_unmapped)
	rx=$(rx_packets_at "${APID[core]}" c0)
	expect_fail "vpn1 pinging core from $src (not mapped in VPN 1) gets no reply" \
		n vpn1 ping -c 3 -i 0.2 -W 1 -I "$src" "$CORE"
	expect_eq "  ... core received nothing" 0 $(($(rx_packets_at "${APID[core]}" c0) - rx))
	expect_eq "  ... gw counted 3 drop_in_unmapped" 3 "$(stat_delta drop_in_unmapped "$drops")"
done
ip -n vpn1 addr del 10.1.0.9/32 dev eth0
ip -n vpn1 addr del "$NAT2/32" dev eth0

ip -n gw route replace "$NAT2/32" dev gv1
drops=$(rnat_stat gw drop_out_unmapped)
rx=$(rx_packets_at "${APID[vpn1]}" eth0)
expect_fail "core -> $NAT2 routed into gv1 (the wrong VPN) gets no reply" \
	n core ping -c 3 -i 0.2 -W 1 "$NAT2"
expect_eq "  ... nothing left through gv1 (vpn1's rx_packets unchanged)" 0 \
	$(($(rx_packets_at "${APID[vpn1]}" eth0) - rx))
expect_eq "  ... gw counted 3 drop_out_unmapped" 3 "$(stat_delta drop_out_unmapped "$drops")"
ip -n gw route replace "$NAT2/32" dev gv2

# ---------------------------------------------------------------------------
section "6. a stateful nft firewall (conntrack + defrag) on gw"
# New connections: anything from core; from the VPNs only TCP to core:8 and
# to the transfers' sink. The first rules count packets whose conntrack
# entry holds a real address.
expect "nft: stateful forward firewall on gw" n gw nft -f - <<'NFT'
table inet fw {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct original ip saddr 10.1.0.0/24 counter comment "real"
		ct original ip daddr 10.1.0.0/24 counter comment "real"
		ct reply ip saddr 10.1.0.0/24 counter comment "real"
		ct reply ip daddr 10.1.0.0/24 counter comment "real"
		ct original ip saddr 10.153.0.0/16 counter comment "nat"
		ct original ip daddr 10.153.0.0/16 counter comment "nat"
		ct state established,related accept
		iifname "gc" ct state new accept
		iifname "gv*" ip daddr 10.200.0.1 tcp dport { 8, 9100 } ct state new accept
	}
}
NFT
for v in 1 2; do
	nat_var=NAT$v
	expect_eq "TCP core -> ${!nat_var}:7 through the firewall" "answer vpn$v $CORE" \
		"$(ask core "tcp ${!nat_var} 7")"
done
has "UDP core -> $NAT1:9 (closed): ECONNREFUSED, the ICMP passes as related" \
	' refused$' "$(ask core "udp $NAT1 9 1")"
has "UDP vpn1 -> core:9: a new flow the firewall drops (timeout)" \
	' timeout$' "$(ask vpn1 "udp $CORE 9 1 wait=2")"

# Identical 5-tuples: both 10.1.0.0:5555 -> core:8, open at the same time.
tell vpn1 "tcp $CORE 8 sport=5555 hold=3"
tell vpn2 "tcp $CORE 8 sport=5555 hold=3"
nap 1.5
conns=$(n gw conntrack -L 2>/dev/null)
[[ -z $conns && -r /proc/net/nf_conntrack ]] && conns=$(n gw cat /proc/net/nf_conntrack)
expect_eq "vpn1 and vpn2, both 10.1.0.0:5555 -> core:8: core sees $NAT1 and $NAT2" \
	"answer $NAT1, answer $NAT2" "$(hear vpn1), $(hear vpn2)"
if [[ -n $conns ]]; then
	for nat in "$NAT1" "$NAT2"; do
		has "conntrack holds $nat:5555 <-> core:8 while both are open" \
			"src=$nat dst=$CORE sport=5555 dport=8 .*src=$CORE dst=$nat sport=8 dport=5555" \
			"$conns"
	done
	hasnt "conntrack holds no real address (10.1.0.x)" '=10\.1\.0\.' "$conns"
elif [[ ${RNAT_VM_KERNEL:-} == test ]]; then
	echo "# skipped: listing conntrack's table: this test kernel has neither CONFIG_NF_CT_NETLINK nor CONFIG_NF_CONNTRACK_PROCFS (debian-6.1 lists it)"
else
	fail "conntrack's table can be listed (conntrack -L or /proc/net/nf_conntrack)"
fi

section "3. fragments under conntrack (gw reassembles and refragments)"
udp_echo "core -> $NAT1 4000 B under conntrack, echoed back byte for byte" \
	core "$NAT1" vpn1 "$CORE" "$NAT1" 4000
udp_echo "core -> $NAT2 4000 B under conntrack, echoed back byte for byte" \
	core "$NAT2" vpn2 "$CORE" "$NAT2" 4000

section "2. PMTU discovery under conntrack"
pmtu_both 2 ", firewall on"

expect_eq "TCP gw -> $NAT1:7 under conntrack" "answer vpn1 169.254.0.1" \
	"$(ask gw "tcp $NAT1 7")"

# ---------------------------------------------------------------------------
section "9. prefix mappings: a /24 next to a /32; overlapping real prefixes refused"
PFX=$(nat_field "$(rnat map add vpn 1 real 10.1.1.0/24)")
PFX=${PFX%/*}
NAT5=${PFX%.*}.5
NAT7=10.157.0.7
expect "map 10.1.0.7/32 in VPN 1 to $NAT7" rnat map add vpn 1 real 10.1.0.7 nat "$NAT7"
# A real prefix inside (or around) another of the same VPN would give one
# address two NAT IPs: refused, and nothing changes.
before=$(rnat save)
for pfx in 10.1.1.7 10.1.0.0/24; do
	out=$(rnat map add vpn 1 real "$pfx" 2>&1)
	expect_eq "map add vpn 1 real $pfx: refused (exit 1)" 1 "$?"
	has "  ... the error names the overlap" "overlaps 10\.1\.[01]\.[07]/(24|32), mapped in VPN 1" "$out"
done
expect_eq "  ... state unchanged (save)" "$before" "$(rnat save)"
ip -n gw route replace "$PFX/24" dev gv1
ip -n gw route replace "$NAT7/32" dev gv1
ip -n vpn1 addr add 10.1.1.5/32 dev eth0
ip -n vpn1 addr add 10.1.0.7/32 dev eth0
has "lookup $NAT5: VPN 1's 10.1.1.5" 'vpn 1.* real 10\.1\.1\.5' "$(rnat lookup "$NAT5")"
cap_mark vpn1
has "core pings $NAT5 (base + 5), reply from $NAT5" "bytes from $NAT5" \
	"$(n core ping -c 1 -W 2 "$NAT5")"
has "core pings $NAT7 (the /32), reply from $NAT7" "bytes from $NAT7" \
	"$(n core ping -c 1 -W 2 "$NAT7")"
pkts=$(cap_wait vpn1 '> 10\.1\.0\.7: ICMP echo request')
has "  ... vpn1 got the ping to $NAT5 as 10.1.1.5" "$CORE > 10\.1\.1\.5: ICMP echo request" "$pkts"
has "  ... vpn1 got the ping to $NAT7 as 10.1.0.7" "$CORE > 10\.1\.0\.7: ICMP echo request" "$pkts"
for addr in 10.1.1.5:"$NAT5" 10.1.0.7:"$NAT7" 10.1.0.0:"$NAT1"; do
	expect_eq "TCP vpn1 from ${addr%%:*} -> core: core sees ${addr#*:}" "answer ${addr#*:}" \
		"$(ask vpn1 "tcp $CORE 8 bind=${addr%%:*}")"
done

# ---------------------------------------------------------------------------
rules=$(n gw nft list chain inet fw forward)
# sum_counter COMMENT: packets counted by the rules with that comment.
sum_counter() {
	local line s=0
	while IFS= read -r line; do
		[[ $line =~ counter\ packets\ ([0-9]+).*comment\ \"$1\" ]] &&
			s=$((s + BASH_REMATCH[1]))
	done <<<"$rules"
	echo "$s"
}
expect_eq "firewall: no conntrack entry held a real address (packets counted)" 0 \
	"$(sum_counter real)"
has "firewall: the rules looking for NAT IPs did count ($(sum_counter nat) packets)" \
	'^[1-9]' "$(sum_counter nat)"

seed_cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
