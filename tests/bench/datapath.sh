#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rnat's packet cost, in guest instructions per packet, with pktgen through
# a gateway namespace. Meant for a guest under QEMU -icount shift=0 (one
# instruction = one nanosecond of guest time, one CPU):
#
#   tests/vm/run --kernel debian-6.1 --icount --mem 2048 -- \
#           tests/bench/datapath.sh build/debian-6.1/kmod/rnat.ko
#
#   core (10.200.0.1) --c0--gc-- gw --gv--eth0-- vpn (10.1.0.0)
#                                   |--gb--eth1--/
#                                   \-- d1..dN (dummy devices, VPNs too)
#
# pktgen sends UDP from one namespace into gw, which forwards it to the other,
# where an nftables prerouting chain counts and drops it. A figure is pktgen's
# elapsed guest time divided by the packets it sent, so it covers the whole
# path: pktgen building the packet, gw's receive, rnat, routing and
# forwarding, and the sink's receive up to its drop. With one CPU the veth
# receive path runs to completion for each packet before pktgen sends the
# next. Every packet must arrive at the sink with exactly the addresses the
# case expects (translated), or the case fails: a figure for dropped or
# untranslated packets would be worthless.
#
# Cases, each the median of BENCH_TRIALS runs of BENCH_PKTS packets after a
# warm-up run, every case measured in the same boot:
#   plain      gw forwards without rnat (no VPN in gw: rnat's hooks are not
#              registered), core -> 10.1.0.0 and 10.1.0.0 -> core
#   vpns N     N VPNs, each one mapping (real 10.1.0.0) and its block route
#              (rnatctl keeps them); VPN N/2 is gv, the others are dummy
#              devices. Egress: core -> VPN N/2's NAT IP, routed by its block
#              route into gv, translated to 10.1.0.0. Ingress: 10.1.0.0 from
#              gv, translated to that NAT IP, forwarded to core.
#   bypass N   the same gateway, but the flow crosses gb, a device no VPN
#              ever had (both hooks run and miss): core -> 10.1.0.0 routed
#              into gb, 10.1.0.0 from gb to core, untranslated.
#   maps M     M mappings over 1,000 VPNs (M/1,000 each, real 10.1.0.0 and
#              up), loaded with one `rnatctl -R -b` batch; only the measured
#              flow's route (VPN 500's NAT IP for 10.1.0.0, dev gv) is added
#              by hand, so the case differs from the others in nothing but
#              the number of mappings in rnat's tables.
# and the guest time rnatctl -b needs to load the batches. Then the kernel's
# own NAT mechanisms, in the same boot before rnat is loaded
# (tests/bench/contenders.sh): nft-stateless N (nft maps rewriting the
# addresses, no conntrack), ct-est N and ct-new N (conntrack NAT from nft
# maps, established and new flows), N map entries each way. The table adds
# rnat's delta over nft-stateless's at the same N (maps M against
# nft-stateless M), and the kernel memory per entry of rnat's mappings and
# of the nft maps at the largest N (/proc/meminfo deltas across the load,
# as tests/bench/control.sh).
#
# All figures go to stdout once more as JSON, each line prefixed "#json "
# (the guest cannot write the host's files): `make bench` keeps them as
# build/bench/datapath.json and plots them (tests/bench/plot).
#
# Environment: BENCH_PKTS (4000), BENCH_TRIALS (5), BENCH_VPNS ("10 1000
# 5000"), BENCH_MAPS ("1000 100000"; add 1000000 with --mem 4096 for the
# design's 10^6 target; it takes several minutes), BENCH_NFT (the
# contenders' sizes, "1000 100000"; "none" leaves a group out, for any of
# the three), BENCH_STRICT (default 1
# on debian-6.1: the design's targets, +400 instructions per packet each way
# and flat lookup cost, become ok/not ok lines; 0 on debian kernels with
# debug options such as our test kernel, whose lockdep inflates every
# figure). Prints ok/not ok lines, then the table; exits non-zero if a
# check failed.

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/bench/lib.sh
. tests/bench/contenders.sh

MODULE=${1:?usage: datapath.sh MODULE.ko}
PKTS=${BENCH_PKTS:-4000}
TRIALS=${BENCH_TRIALS:-5}
VPN_SIZES=${BENCH_VPNS:-10 1000 5000}
MAP_SIZES=${BENCH_MAPS:-1000 100000}
NFT_SIZES=${BENCH_NFT:-1000 100000}
# "none" leaves a group of cases out.
[ "$VPN_SIZES" = none ] && VPN_SIZES=""
[ "$MAP_SIZES" = none ] && MAP_SIZES=""
[ "$NFT_SIZES" = none ] && NFT_SIZES=""
MAP_MAX=${MAP_SIZES##* }
NFT_MAX=${NFT_SIZES##* }
MAP_VPNS=1000
TARGET_ADD=400	# design §7: instructions per packet over plain forwarding
TARGET_FLAT=40	# "flat": the largest N may cost at most this much more
case ${RNAT_VM_KERNEL:-} in
test) STRICT=${BENCH_STRICT:-0} ;;
*) STRICT=${BENCH_STRICT:-1} ;;
esac
POOL=10.64.0.0/10	# 4 M addresses: room for 10^6 mappings in blocks
REAL=10.1.0.0
CORE=10.200.0.1
work=$(mktemp -d)
table=$work/table

cleanup() {
	local ns
	for ns in core gw vpn; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

rnat() { "$RNATCTL" -n gw "$@"; }
# rnatctl from tmpfs for the timed loads (tests/bench/lib.sh).
rnatctl_tmpfs "$work"
rnat_tmpfs() { "${RNATCTL_TMPFS[@]}" -n gw "$@"; }

# --- topology --------------------------------------------------------------

grep -q '^pktgen ' /proc/modules || [ -d /proc/net/pktgen ] || modprobe pktgen
for ns in core gw vpn; do
	ip netns add "$ns"
	n "$ns" ip link set lo up
	# IPv4 only: no router solicitations or MLD reports among the packets.
	n "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip link add c0 netns core type veth peer name gc netns gw
ip link add gv netns gw type veth peer name eth0 netns vpn
ip link add gb netns gw type veth peer name eth1 netns vpn
n core ip addr add "$CORE/24" dev c0
n gw ip addr add 10.200.0.254/24 dev gc
n gw ip addr add 169.254.0.1/32 dev gv
n gw ip addr add 169.254.0.2/32 dev gb
n vpn ip addr add "$REAL/32" dev eth0
for l in "core c0" "gw gc" "gw gv" "gw gb" "vpn eth0" "vpn eth1"; do
	set -- $l
	n "$1" ip link set "$2" up
done
n gw sysctl -qw net.ipv4.ip_forward=1
mac() { n "$1" cat "/sys/class/net/$2/address"; }
# Static neighbours: no ARP among the measured packets.
n gw ip neigh replace "$CORE" lladdr "$(mac core c0)" dev gc nud permanent
n gw ip neigh replace "$REAL" lladdr "$(mac vpn eth0)" dev gv nud permanent
n gw ip neigh replace "$REAL" lladdr "$(mac vpn eth1)" dev gb nud permanent
# pktgen computes the UDP checksum itself, as a packet from a real link
# carries a full one (no CHECKSUM_PARTIAL shortcut through the veths).
for l in "core c0" "vpn eth0" "vpn eth1"; do
	set -- $l
	n "$1" ethtool -K "$2" tx off >/dev/null 2>&1 ||
		echo "# ethtool -K $2 tx off failed: CHECKSUM_PARTIAL packets"
done

# pg NS FILE: writes each line of stdin to /proc/net/pktgen/FILE in NS.
pg() {
	n "$1" bash -c 'while IFS= read -r l; do
		echo "$l" >"$0" || { echo "pktgen: $l: $(grep -h Result "$0")" >&2; exit 1; }
	done' "/proc/net/pktgen/$2"
}
# pg_setup NS DEV GWDEV: pktgen in NS sends on DEV (one device per
# namespace: a run sends on all of a thread's devices) to GWDEV's MAC.
pg_setup() {
	pg "$1" kpktgend_0 <<-EOF || fail "pktgen set up in $1"
	rem_device_all
	add_device $2
	EOF
	pg "$1" "$2" <<-EOF || fail "pktgen configured in $1"
	count $PKTS
	clone_skb 0
	pkt_size 64
	delay 0
	dst_mac $(mac gw "$3")
	udp_src_min 9
	udp_src_max 9
	udp_dst_min 9
	udp_dst_max 9
	flag UDPCSUM
	EOF
}
pg_setup core c0 gc
pg_setup vpn eth0 gv
VDEV=eth0	# the customer side's device: eth0 (gv), eth1 (gb) for bypass

# sink NS SRC DST: NS counts UDP SRC -> DST port 9 as "good", any other IPv4
# packet as "other", and drops both before routing.
sink() {
	n "$1" nft -f - <<-EOF
	flush ruleset
	table ip sink {
		counter good {}
		counter other {}
		chain pre {
			type filter hook prerouting priority -500; policy accept;
			ip saddr $2 ip daddr $3 udp dport 9 counter name good drop
			counter name other drop
		}
	}
	EOF
}
counter() { n "$1" nft list counter ip sink "$2" | awk '$1 == "packets" { print $2 }'; }
stat_of() { rnat stats 2>/dev/null | tr ' ' '\n' | awk -v k="$1" 'p { print; exit } $0 == k { p = 1 }'; }

# run NS DEV: one pktgen run; prints elapsed guest ns per packet, or fails.
run() {
	local out usec pkts errs
	n "$1" bash -c 'echo start >/proc/net/pktgen/pgctrl' || return 1
	out=$(n "$1" cat "/proc/net/pktgen/$2")
	usec=$(sed -n 's/.*OK: \([0-9]*\)(c.*usec, \([0-9]*\) (.*/\1/p' <<<"$out")
	pkts=$(sed -n 's/.*OK: \([0-9]*\)(c.*usec, \([0-9]*\) (.*/\2/p' <<<"$out")
	errs=$(sed -n 's/.*errors: \([0-9]*\)$/\1/p' <<<"$out" | tail -n 1)
	if [ "${pkts:-0}" != "$PKTS" ] || [ "${errs:-1}" != 0 ]; then
		echo "# pktgen: $out" >&2
		return 1
	fi
	awk -v u="$usec" -v p="$pkts" 'BEGIN { printf "%.1f\n", u * 1000 / p }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure CASE DIR ADDR: ADDR is the customer host's address as core sees it
# (REAL without rnat, its NAT IP with). DIR eg: core sends to ADDR, vpn must
# receive CORE -> REAL; DIR in: vpn sends REAL -> CORE, core must receive
# ADDR -> CORE. Sets FIG[CASE.DIR] to the median instructions per packet.
# With CHECK_RNAT=1 (the default; 0 for the contenders) rnat's counters must
# show every packet translated; BEFORE_RUN and AFTER_RUN name commands run
# before and after each run (AFTER_RUN after each successful one).
declare -A FIG
CHECK_RNAT=1 BEFORE_RUN="" AFTER_RUN=""
measure() {
	local cs=$1 dir=$2 addr=$3 from dev sink_ns sdev want_s want_d
	local i v r runs=$((TRIALS + 1)) retries extra sent vals="" rx0 rx1 good other t0 t1
	if [ "$dir" = eg ]; then
		from=core dev=c0 sink_ns=vpn sdev=$VDEV
		want_s=$CORE want_d=$REAL
		printf 'dst %s\nsrc_min %s\nsrc_max %s\n' "$addr" "$CORE" "$CORE" | pg core c0
	else
		from=vpn dev=$VDEV sink_ns=core sdev=c0
		want_s=$addr want_d=$CORE
		printf 'dst %s\nsrc_min %s\nsrc_max %s\n' "$CORE" "$REAL" "$REAL" | pg vpn "$VDEV"
	fi
	sink "$sink_ns" "$want_s" "$want_d"
	rx0=$(rx_packets "$sink_ns" "$sdev")
	t0=$(stat_of "${dir/eg/out}_translated")
	# The first run warms up. A run where veth dropped packets (pktgen
	# errors: the receive softirq fell behind, ksoftirqd took over) is
	# not the steady path: it is run again, at most 3 times per case.
	# What such a run delivered (not always pktgen's PKTS: some of its
	# errors are packets lost) is counted apart: every packet that
	# arrives must still be translated right.
	i=0 retries=0 extra=0
	while [ "$i" -lt "$runs" ]; do
		[ -z "$BEFORE_RUN" ] || $BEFORE_RUN
		r=$(rx_packets "$sink_ns" "$sdev")
		if v=$(run "$from" "$dev"); then
			[ -z "$AFTER_RUN" ] || $AFTER_RUN
			[ "$i" -gt 0 ] && vals+="$v"$'\n'
			i=$((i + 1))
		elif [ "$retries" -lt 3 ] && [ "$(n "$from" cat "/proc/net/pktgen/$dev" |
				sed -n 's/.*pkts-sofar: \([0-9]*\).*/\1/p')" = "$PKTS" ]; then
			retries=$((retries + 1))
			extra=$((extra + $(rx_packets "$sink_ns" "$sdev") - r))
			echo "# $cs $dir: a run with pktgen errors, run again"
		else
			fail "$cs $dir: pktgen run $i sent $PKTS packets"
			FIG[$cs.$dir]=-
			return 1
		fi
	done
	sent=$((runs * PKTS + extra))
	rx1=$(rx_packets "$sink_ns" "$sdev")
	t1=$(stat_of "${dir/eg/out}_translated")
	good=$(counter "$sink_ns" good) other=$(counter "$sink_ns" other)
	FIG[$cs.$dir]=$(median <<<"${vals%$'\n'}")
	expect_eq "$cs $dir: all $sent packets reached $sink_ns as $want_s -> $want_d" \
		"$sent 0 $sent" "$good $other $((rx1 - rx0))"
	if [ "$addr" != "$REAL" ] && [ "$CHECK_RNAT" = 1 ]; then
		expect_eq "$cs $dir: rnat translated each of them" \
			"$sent" "$((${t1:-0} - ${t0:-0}))"
	fi
	echo "# $cs $dir: ${FIG[$cs.$dir]} instructions/packet (runs: $(tr '\n' ' ' <<<"$vals"))"
}

# timed NAME COMMAND...: runs COMMAND, records guest time in LOADS.
LOADS=""
timed() {
	local name=$1 t0 t1 i0 i1 rc
	shift
	i0=$(idle_ticks) t0=$(now)
	"$@"
	rc=$?
	t1=$(now) i1=$(idle_ticks)
	LOADS+=$(awk -v n="$name" -v t="$((t1 - t0))" -v i="$((i1 - i0))" \
		'BEGIN { printf "#   %-54s %7.3f G %7.3f s\\n", n, t / 1e6 - i / 100, t / 1e6 }')
	return $rc
}

dummies() {	# dummies N: d1..dN exist and are up
	local have=${DUMMIES:-0}
	[ "$1" -le "$have" ] && return 0
	seq $((have + 1)) "$1" | awk '{ print "link add d" $1 " up type dummy" }' >"$work/dummies.ip"
	n gw ip -batch "$work/dummies.ip" || fail "gw: dummy devices d$((have + 1))..d$1"
	DUMMIES=$1
}

: >"$work/empty"
# No state, no routes of protocol 82. Not a reload: the module stays while
# devices that carried VPNs are fenced (they are until a VPN takes them
# again, as the next case's do).
fresh_rnat() {
	rnat -R restore "$work/empty" || fail "restore of an empty state"
	n gw ip route flush proto 82 2>/dev/null
}

# --- plain forwarding ------------------------------------------------------

n gw ip route add "$REAL/32" dev gv
# After boot the first runs cost 100-350 instructions more: warm up.
for i in 1 2; do
	run core c0 >/dev/null
	run vpn eth0 >/dev/null
done
measure plain eg "$REAL"
measure plain in "$REAL"
# The kernel's NAT mechanisms, before rnat is loaded (contenders.sh).
contenders "$NFT_SIZES"
insmod "$MODULE" || { fail "insmod rnat"; exit 1; }
# rnat loaded, no VPN: hooks unregistered, plain forwarding again.
measure "no vpn" eg "$REAL"
measure "no vpn" in "$REAL"
n gw ip route del "$REAL/32" dev gv

# --- N VPNs, one mapping and one block route each --------------------------

BYPASS=()
for N in $VPN_SIZES; do
	M=$(((N + 1) / 2))
	dummies "$N"
	{
		echo "pool add BENCH $POOL"
		seq "$N" | awk -v m="$M" '{ print "vpn add " $1 " pool BENCH dev " ($1 == m ? "gv" : "d" $1) }'
		seq "$N" | awk -v r="$REAL" '{ print "map add vpn " $1 " real " r }'
	} >"$work/vpns.batch"
	rnat_tmpfs stats >/dev/null
	timed "$N VPNs, $N mappings, their routes (rnatctl -b)" \
		rnat_tmpfs -b "$work/vpns.batch" >/dev/null || fail "$N VPNs: rnatctl -b"
	nat=$(rnat lookup "$REAL" vpn "$M" | awk '{ print $NF }')
	expect_eq "$N VPNs: one route per block plus the pool's unreachable route" \
		"$((N + 1))" "$(n gw ip route show proto 82 | wc -l)"
	expect_eq "$N VPNs: VPN $M's NAT IP $nat has its block route into gv" \
		"$nat dev gv" "$(n gw ip route show proto 82 match "$nat/32" | grep -o "^$nat dev gv")"
	expect "$N VPNs: gw routes $nat into gv" \
		bash -c "ip netns exec gw ip route get $nat | grep -q ' dev gv '"
	measure "vpns $N" eg "$nat"
	measure "vpns $N" in "$nat"
	# The same gateway, the flow through gb, which never carried a VPN:
	# what traffic that crosses no VPN's device pays (both hooks run and
	# miss). For the smallest and largest N.
	if [ "$N" = "${VPN_SIZES%% *}" ] || [ "$N" = "${VPN_SIZES##* }" ]; then
		pg_setup vpn eth1 gb
		VDEV=eth1
		n gw ip route add "$REAL/32" dev gb
		measure "bypass $N" eg "$REAL"
		measure "bypass $N" in "$REAL"
		n gw ip route del "$REAL/32" dev gb
		pg_setup vpn eth0 gv
		VDEV=eth0
		BYPASS+=("bypass $N")
	fi
	fresh_rnat
done

# --- M mappings over 1,000 VPNs, -R, one route by hand ---------------------

[ -n "$MAP_SIZES" ] && dummies "$MAP_VPNS"
for M in $MAP_SIZES; do
	per=$((M / MAP_VPNS))
	{
		echo "pool add BENCH $POOL"
		seq "$MAP_VPNS" | awk '{ print "vpn add " $1 " pool BENCH dev " ($1 == 500 ? "gv" : "d" $1) }'
		# VPN by VPN, hosts 10.1.0.0 and up.
		awk -v v="$MAP_VPNS" -v p="$per" 'BEGIN {
			for (i = 1; i <= v; i++)
				for (h = 0; h < p; h++)
					printf "map add vpn %d real 10.1.%d.%d\n", i, h / 256, h % 256
		}'
	} >"$work/maps.batch"
	if [ "$M" = "$MAP_MAX" ]; then
		sleep 1
		m0=$(meminfo)
	fi
	timed "$M mappings, $MAP_VPNS VPNs, no routes (rnatctl -R -b)" \
		rnat_tmpfs -R -b "$work/maps.batch" >/dev/null || fail "$M mappings: rnatctl -R -b"
	if [ "$M" = "$MAP_MAX" ]; then
		sleep 1	# rhashtable resizes, RCU callbacks
		m1=$(meminfo)
		MEM+=$(mem_row "rnat: $M mappings ($MAP_VPNS VPNs)" "$m0" "$m1" "$M")
	fi
	rm -f "$work/maps.batch"
	expect_eq "$M mappings loaded" "used $M" \
		"$(rnat pool show | grep -o 'used [0-9]*')"
	nat=$(rnat lookup "$REAL" vpn 500 | awk '{ print $NF }')
	expect_eq "-R added no routes" "" "$(n gw ip route show proto 82)"
	n gw ip route add "$nat/32" dev gv
	measure "maps $M" eg "$nat"
	measure "maps $M" in "$nat"
	fresh_rnat
done

# --- the table -------------------------------------------------------------

delta() {	# delta CASE DIR: instructions over plain forwarding
	awk -v a="${FIG[$1.$2]:--}" -v b="${FIG[plain.$2]:--}" \
		'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%+.1f\n", a - b }'
}
row() {
	printf '#   %-22s %10s %9s %10s %9s\n' "$1" "${FIG[$1.eg]:--}" "$(delta "$1" eg)" \
		"${FIG[$1.in]:--}" "$(delta "$1" in)"
}
check_target() {	# check_target CASE DIR
	local d
	d=$(delta "$1" "$2")
	[ "$STRICT" = 1 ] && [ "$d" != - ] || return 0
	if awk -v d="$d" -v t="$TARGET_ADD" 'BEGIN { exit !(d <= t) }'; then
		pass "target: $1 $2 adds $d instructions/packet (at most +$TARGET_ADD)"
	else
		fail "target: $1 $2 adds $d instructions/packet (at most +$TARGET_ADD)"
	fi
}
check_flat() {	# check_flat LABEL DIR CASE...: the last costs at most TARGET_FLAT more than the first
	local label=$1 dir=$2 first=$3 last d
	shift 2
	for last; do :; done
	[ "$STRICT" = 1 ] && [ "${FIG[$first.$dir]:--}" != - ] && [ "${FIG[$last.$dir]:--}" != - ] || return 0
	d=$(awk -v a="${FIG[$last.$dir]}" -v b="${FIG[$first.$dir]}" 'BEGIN { printf "%+.1f\n", a - b }')
	if awk -v d="$d" -v t="$TARGET_FLAT" 'BEGIN { exit !(d <= t) }'; then
		pass "target: $label $dir flat: $last costs $d over $first (at most +$TARGET_FLAT)"
	else
		fail "target: $label $dir flat: $last costs $d over $first (at most +$TARGET_FLAT)"
	fi
}
vcases="" mcases="" ncases=""
for N in $VPN_SIZES; do vcases+="vpns $N|"; done
for M in $MAP_SIZES; do mcases+="maps $M|"; done
for N in $NFT_SIZES; do ncases+="nft-stateless $N|ct-est $N|ct-new $N|"; done
IFS='|' read -ra vc <<<"${vcases%|}"
IFS='|' read -ra mc <<<"${mcases%|}"
IFS='|' read -ra nc <<<"${ncases%|}"
# ratio A B DIR: A's delta over B's.
ratio() {
	awk -v a="$(delta "$1" "$3")" -v b="$(delta "$2" "$3")" \
		'BEGIN { if (a == "-" || b == "-" || b + 0 <= 0) print "-"; else printf "%.2f\n", a / b }'
}
for c in "${vc[@]}" "${mc[@]}"; do
	check_target "$c" eg
	check_target "$c" in
done
for dir in eg in; do
	[ ${#vc[@]} -gt 1 ] && check_flat "VPN count" "$dir" "${vc[@]}"
	[ ${#mc[@]} -gt 1 ] && check_flat "mapping count" "$dir" "${mc[@]}"
done

{
	echo "# rnat datapath on $(uname -r) (${RNAT_VM_KERNEL:-?} kernel), pktgen UDP 64 bytes,"
	echo "# median of $TRIALS runs of $PKTS packets after a warm-up run."
	echo "# Guest instructions per packet under QEMU -icount (1 ns = 1 instruction): the"
	echo "# whole path pktgen -> gw -> sink. icount counts instructions only: cache and"
	echo "# TLB misses, memory latency and pipeline effects do not show."
	[ "${RNAT_VM_KERNEL:-}" = test ] &&
		echo "# The test kernel has lockdep, PROVE_RCU and other debug options: every figure is inflated."
	echo "#"
	printf '#   %-22s %10s %9s %10s %9s\n' "" "core->VPN" "" "VPN->core" ""
	printf '#   %-22s %10s %9s %10s %9s\n' case "instr/pkt" delta "instr/pkt" delta
	row plain
	for c in "${vc[@]}" "${mc[@]}" "${BYPASS[@]}"; do row "$c"; done
	row "no vpn"
	[ ${#nc[@]} -eq 0 ] || echo "#   the kernel's NAT, before rnat was loaded:"
	for c in "${nc[@]}"; do row "$c"; done
	echo "#"
	echo "#   plain: no rnat hooks; vpns N: N VPNs, one mapping and one block route each;"
	echo "#   maps M: M mappings over $MAP_VPNS VPNs, -R, one route by hand; bypass N: N VPNs,"
	echo "#   the packet crosses no VPN's device (both hooks miss); no vpn: rnat loaded, no VPN"
	echo "#   configured. Targets: at most +$TARGET_ADD each way, flat in N and M."
	if [ ${#nc[@]} -gt 0 ]; then
		echo "#   nft-stateless N: nft maps of N entries each way rewrite the addresses in"
		echo "#   prerouting (priority -400, notrack); ct-est N / ct-new N: conntrack NAT"
		echo "#   (dnat to ip daddr map, snat to ip saddr map), one flow / a new flow per"
		echo "#   packet (conntrack table flushed before each run)."
		echo "#"
		echo "#   rnat's delta over nft-stateless's at the same N (maps M against nft-stateless M):"
		for M in $MAP_SIZES; do
			[ -n "${FIG[nft-stateless $M.eg]:-}" ] || continue
			printf '#   %-22s %10s %9s %10s %9s\n' "N = $M" "" \
				"$(ratio "maps $M" "nft-stateless $M" eg)" "" \
				"$(ratio "maps $M" "nft-stateless $M" in)"
		done
	fi
	echo "#"
	if [ -n "$MEM" ]; then
		echo "# Kernel memory per entry (bytes; /proc/meminfo across the load, a mapping or"
		echo "# a pair of map elements, one each way):"
		printf '#   %-46s %8s %8s %8s %8s %8s\n' "" Slab Percpu Vmalloc "MemFree" "MemAvail"
		printf '#   %-46s %8s %8s %8s %8s %8s\n' "" "" "" "" drop drop
		printf '%b' "$MEM"
		echo "#"
	fi
	echo "# Loading: busy guest time in G instructions (guest time less the idle time in"
	echo "# /proc/stat, 10 ms ticks), then guest time (s), which also counts waits."
	printf '%b' "$LOADS"
} | tee "$table"

# --- JSON --------------------------------------------------------------------

# json_fig CASE: its figures, one JSON object a direction, each a line.
json_fig() {
	local dir kind n
	kind=${1% *} n=${1##* }
	[ "$kind" = "$1" ] && n=null
	[ "$1" = "no vpn" ] && kind="no vpn" n=null
	for dir in eg in; do
		[ "${FIG[$1.$dir]:--}" != - ] || continue
		printf '    {"case": "%s", "n": %s, "dir": "%s", "instr": %s, "delta": %s},\n' \
			"$kind" "$n" "$([ "$dir" = eg ] && echo "core->vpn" || echo "vpn->core")" "${FIG[$1.$dir]}" "$(delta "$1" "$dir" | tr -d +)"
	done
}
{
	echo "{"
	printf '  "date": "%s", "kernel": "%s", "flavour": "%s",\n' \
		"$(date -u +%Y-%m-%d)" "$(uname -r)" "${RNAT_VM_KERNEL:-?}"
	printf '  "machine": "QEMU TCG -icount shift=0, %s vCPU", "cpu": "%s",\n' \
		"$(nproc)" "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	printf '  "pkts": %s, "trials": %s, "map_vpns": %s,\n' "$PKTS" "$TRIALS" "$MAP_VPNS"
	echo '  "figures": ['
	for c in plain "no vpn" "${vc[@]}" "${mc[@]}" "${BYPASS[@]}" "${nc[@]}"; do json_fig "$c"; done |
		sed '$ s/,$//'
	echo "  ],"
	echo '  "memory_per_entry": ['
	printf '%b' "$MEM" | awk -v keys="$MEMKEYS" '{
		n = split(keys, k, " "); name = substr($0, 5, 46); sub(/ +$/, "", name)
		printf "%s    {\"what\": \"%s\"", sep, name
		for (i = 1; i <= n; i++)
			printf ", \"%s%s\": %s", k[i], k[i] ~ /^Mem/ ? "_drop" : "", $(NF - n + i)
		printf "}"
		sep = ",\n"
	} END { if (NR) printf "\n" }'
	echo "  ]"
	echo "}"
} | sed 's/^/#json /'

cleanup
trap - EXIT
# The namespace, and with it the fenced devices, goes asynchronously.
unload_rnat || fail "rmmod rnat"
exit "$E2E_FAILED"
