# shellcheck shell=bash disable=SC2034,SC2154  # datapath.sh's variables
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own NAT mechanisms as contenders for tests/bench/datapath.sh
# (sourced by it, after its topology, measure() and timed()), measured in
# the same boot, on the same flows, with the same sink check as rnat, and
# before rnat is loaded (none of its hooks registered):
#
#   nft-stateless N  gw has table ip stateless: map m (N NAT IP -> real
#              address entries) and map r (the reverse), a filter chain at
#              prerouting priority -400 that sets `notrack` and rewrites
#              `ip daddr set ip daddr map @m` (core -> VPN) and, for packets
#              from the VPN's device (`iifname`), `ip saddr set ip saddr map
#              @r` (VPN -> core): the kernel selftest nft_nat.sh's
#              test_stateless_nat_ip, with one key instead of its
#              iifname . saddr . daddr concatenation. Routing then sees the
#              real address: gw has a route to it into gv.
#   ct-est N   conntrack NAT, established flows: table ip ctnat with the same
#              two maps, `dnat to ip daddr map @m` in a nat prerouting chain
#              and `iifname "gv" snat to ip saddr map @r` in a nat
#              postrouting chain. pktgen's flow has one 5-tuple, so after its
#              first packet every packet finds its conntrack entry (the nat
#              chains only see a flow's first packet).
#   ct-new N   the same table, every packet a new flow: pktgen counts the
#              UDP source port up over 1024..65535 (in sequence, not
#              UDPSRC_RND: at random, 3% of 4,000 packets would repeat a
#              port), and the conntrack table is flushed (`conntrack -F`)
#              before every run; after each run it must hold one entry per
#              packet. nf_conntrack_max is raised to 262,144 and the buckets
#              to 65,536 (net.netfilter.nf_conntrack_{max,buckets}), and
#              gw's UDP timeouts to a day: under -icount with sleep=off guest
#              time leaps ahead whenever the guest waits for the host (the
#              9p root file system), and the 30 s of an unreplied UDP flow
#              went by between two runs (seen: 0 entries after a run).
#
# The measured flow's entry (NAT IP -> 10.1.0.0) is the N/2-th of the N;
# the others map NAT IPs 10.64.0.0 and up to real addresses 10.1.0.1 and
# up. Each table is deleted after its case: with the nat table gone,
# conntrack's hooks leave gw again.

# nat_maps N: prints the two maps' definitions for N entries and sets NFT_NAT
# to the measured flow's NAT IP.
nat_maps() {
	local n=$1
	NFT_NAT=$(awk -v i="$((n / 2))" 'BEGIN {
		a = 10 * 2^24 + 64 * 2^16 + i
		printf "%d.%d.%d.%d\n", a / 2^24, a / 2^16 % 256, a / 2^8 % 256, a % 256 }')
	awk -v n="$n" '
	function ip(a) { return sprintf("%d.%d.%d.%d", a / 2^24, a / 2^16 % 256, a / 2^8 % 256, a % 256) }
	BEGIN {
		nat0 = 10 * 2^24 + 64 * 2^16; real0 = 10 * 2^24 + 2^16
		for (i = 0; i < n; i++) {	# the (N/2)-th maps to real0
			nat[i] = ip(nat0 + i)
			real[i] = ip(real0 + (i - int(n / 2) + n) % n)
		}
		print "\tmap m {\n\t\ttype ipv4_addr : ipv4_addr\n\t\telements = {"
		for (i = 0; i < n; i++)
			print "\t\t\t" nat[i] " : " real[i] ","
		print "\t\t}\n\t}\n\tmap r {\n\t\ttype ipv4_addr : ipv4_addr\n\t\telements = {"
		for (i = 0; i < n; i++)
			print "\t\t\t" real[i] " : " nat[i] ","
		print "\t\t}\n\t}"
	}'
}

# ct_count: gw's conntrack entries.
ct_count() { n gw cat /proc/sys/net/netfilter/nf_conntrack_count; }
# ct_flush: empties gw's conntrack table and lets the grace period pass, so
# that freeing the entries falls outside the next run.
ct_flush() {
	n gw conntrack -F >/dev/null 2>&1 || fail "conntrack -F in gw"
	sleep 0.2
}
# ct_check WANT: after a run, gw has WANT conntrack entries (ct-est: 1,
# ct-new: one per packet); if not, shows conntrack's statistics and the
# kernel's last words.
ct_check() {
	local c
	c=$(ct_count)
	[ "$c" = "$1" ] && return 0
	fail "$CT_CASE: $c conntrack entries in gw after a run of $PKTS packets, not $1"
	{
		n gw conntrack -S
		dmesg | tail -n 5
	} 2>&1 | sed 's/^/#   /'
}
ct_est_check() { ct_check 1; }
ct_new_check() { ct_check "$PKTS"; }

# pg_sport MIN MAX: both senders' UDP source ports (in sequence).
pg_sport() {
	printf 'udp_src_min %s\nudp_src_max %s\n' "$1" "$2" | pg core c0
	printf 'udp_src_min %s\nudp_src_max %s\n' "$1" "$2" | pg vpn eth0
}

# nft_load NAME FILE N [mem]: loads FILE into gw, timed (LOADS); with mem, at
# the largest N, also the kernel memory it took (MEM), per map entry pair.
# (Only for the stateless table: the first nat table also brings gw's
# conntrack to life. At 10^3 the figure is noise.)
MEM=""
nft_load() {
	local name=$1 file=$2 n=$3 m0 m1
	[ "${4:-}" = mem ] || n=no
	if [ "$n" = "$NFT_MAX" ]; then
		sleep 1
		m0=$(meminfo)
	fi
	timed "$name (nft -f)" n gw nft -f "$file" || { fail "$name: nft -f"; return 1; }
	if [ "$n" = "$NFT_MAX" ]; then
		sleep 1	# RCU callbacks, deferred frees
		m1=$(meminfo)
		MEM+=$(mem_row "$name" "$m0" "$m1" "$n")
	fi
}

contender_stateless() {
	local n=$1 cs="nft-stateless $1"
	{
		echo "table ip stateless {"
		nat_maps "$n"
		cat <<-EOF
		chain pre {
			type filter hook prerouting priority -400; policy accept;
			notrack
			ip daddr set ip daddr map @m
			iifname "gv" ip saddr set ip saddr map @r
		}
		}
		EOF
	} >"$work/stateless.nft"
	nat_maps "$n" >/dev/null	# NFT_NAT, in this shell
	nft_load "nft: $n map entries each way, stateless" "$work/stateless.nft" "$n" mem || return
	rm -f "$work/stateless.nft"
	measure "$cs" eg "$NFT_NAT"
	measure "$cs" in "$NFT_NAT"
	n gw nft delete table ip stateless || fail "$cs: nft delete table"
}

contender_conntrack() {
	local n=$1
	{
		echo "table ip ctnat {"
		nat_maps "$n"
		cat <<-EOF
		chain pre {
			type nat hook prerouting priority dstnat; policy accept;
			dnat to ip daddr map @m
		}
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			iifname "gv" snat to ip saddr map @r
		}
		}
		EOF
	} >"$work/ctnat.nft"
	nat_maps "$n" >/dev/null
	nft_load "nft: $n map entries each way, conntrack NAT" "$work/ctnat.nft" "$n" || return
	rm -f "$work/ctnat.nft"
	ct_flush
	AFTER_RUN=ct_est_check CT_CASE="ct-est $n"
	measure "ct-est $n" eg "$NFT_NAT"
	ct_flush
	measure "ct-est $n" in "$NFT_NAT"
	pg_sport 1024 65535
	BEFORE_RUN=ct_flush AFTER_RUN=ct_new_check CT_CASE="ct-new $n"
	measure "ct-new $n" eg "$NFT_NAT"
	measure "ct-new $n" in "$NFT_NAT"
	BEFORE_RUN="" AFTER_RUN=""
	pg_sport 9 9
	ct_flush
	n gw nft delete table ip ctnat || fail "ct $n: nft delete table"
}

# contenders SIZES: every contender at each size (gw's route to the real
# address into gv in place: plain forwarding's), conntrack's limits raised
# first.
contenders() {
	local n
	[ -n "$1" ] || return 0
	sysctl -qw net.netfilter.nf_conntrack_max=262144 2>/dev/null ||
		{ modprobe nf_conntrack && sysctl -qw net.netfilter.nf_conntrack_max=262144; } ||
		fail "nf_conntrack_max"
	sysctl -qw net.netfilter.nf_conntrack_buckets=65536 || fail "nf_conntrack_buckets"
	n gw sysctl -qw net.netfilter.nf_conntrack_udp_timeout=86400 \
		net.netfilter.nf_conntrack_udp_timeout_stream=86400 || fail "gw: UDP conntrack timeouts"
	for n in $1; do
		CHECK_RNAT=0
		contender_stateless "$n"
		contender_conntrack "$n"
		CHECK_RNAT=1
	done
}
