#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rnatctl metrics and vpn show -s, end to end, inside the test VM, on the
# seed's topology (tests/e2e/lib.sh): known traffic (pings, a UDP datagram
# to a closed port, a ping into a VPN's block that nothing maps) and the
# exact series it must give, per VPN by default and per mapping for what
# each filter selects; promtool check metrics on the output; the systemd
# unit's command (ops/systemd/rnat-metrics.service) writing the textfile,
# and Debian's prometheus-node-exporter serving it (textfile collector
# only, in namespace core) to a curl scrape.
#
# Usage: tests/e2e/metrics.sh MODULE.ko    (prints ok/not ok lines)

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: metrics.sh MODULE.ko}
TMPDIR=$(mktemp -d)
cleanup() { seed_cleanup; rm -rf "$TMPDIR"; }
trap cleanup EXIT

expect "insmod rnat" insmod "$MODULE"
seed_topology

rnat() { "$RNATCTL" -n gw "$@"; }
P=AWS_USA_EAST_1
expect "the README's example" rnat -b - <<EOF
pool add $P 10.153.0.0/16 10.157.0.0/16 10.162.0.0/16 10.155.0.0/16
pool add AWS_CAN_CENTRAL 10.160.0.0/16
vpn add 1 pool $P dev gv1 name acme
vpn add 2 pool $P dev gv2 name globex
map add vpn 1 real 10.1.0.0
map add vpn 2 real 10.1.0.0 nat 10.162.0.1
map add vpn 1 real 10.1.0.1
map add vpn 1 real 10.1.0.2
EOF
NAT1=10.153.0.0 NAT2=10.162.0.1
seed_wait_servers

# The traffic: 5 pings to acme's 10.1.0.0 and 3 to globex's (84 bytes each
# way), one UDP datagram "x\n" (30 bytes) to acme's closed port 9, refused
# by a port unreachable (20 + 8 + 20 + 8 + 2 = 58 bytes, counted in), and a
# ping to 10.153.0.3, in acme's block 10.153.0.0/30 but unmapped (dropped).
expect "core pings acme 5 times" n core ping -c 5 -i 0.2 -W 2 "$NAT1"
expect "core pings globex 3 times" n core ping -c 3 -i 0.2 -W 2 "$NAT2"
expect_fail "UDP to acme's port 9 is refused" \
	n core timeout 5 socat -t 2 - UDP:"$NAT1":9 <<<x
expect_fail "a ping to unmapped 10.153.0.3 is not answered" \
	n core ping -c 1 -W 1 10.153.0.3

# has FILE LINE...: every LINE is a line of FILE.
has() {
	local file=$1 line missing=
	shift
	for line; do
		grep -qxF -- "$line" "$file" || missing+="$line"$'\n'
	done
	[[ -z $missing ]] || { printf 'missing: %s\n' "${missing%$'\n'}"; return 1; }
}
series() { grep -v '^#' <<<"$1" | grep "^$2[{ ]" | sort; }

metrics=$(rnat metrics)
expect_eq "rnatctl metrics exits 0" 0 $?
echo "$metrics" >"$TMPDIR/default.prom"
A='vpn="1",name="acme",pool="AWS_USA_EAST_1"'
G='vpn="2",name="globex",pool="AWS_USA_EAST_1"'
expect "per VPN: packets and bytes each way, exactly the traffic sent" has "$TMPDIR/default.prom" \
	"rnat_vpn_packets_total{$A,direction=\"in\"} 6" \
	"rnat_vpn_packets_total{$A,direction=\"out\"} 6" \
	"rnat_vpn_bytes_total{$A,direction=\"in\"} $((5 * 84 + 58))" \
	"rnat_vpn_bytes_total{$A,direction=\"out\"} $((5 * 84 + 30))" \
	"rnat_vpn_packets_total{$G,direction=\"in\"} 3" \
	"rnat_vpn_packets_total{$G,direction=\"out\"} 3" \
	"rnat_vpn_bytes_total{$G,direction=\"in\"} 252" \
	"rnat_vpn_bytes_total{$G,direction=\"out\"} 252"
expect_eq "per VPN: ICMP errors by kind each way, the refusal counted in" \
	"rnat_vpn_icmp_errors_total{$A,direction=\"in\",kind=\"refused\"} 1" \
	"$(series "$metrics" rnat_vpn_icmp_errors_total | grep -v '} 0$')"
expect_eq "8 ICMP series per VPN" 16 \
	"$(series "$metrics" rnat_vpn_icmp_errors_total | wc -l)"
expect "per VPN: mappings, NAT blocks, their addresses, device" has "$TMPDIR/default.prom" \
	"rnat_vpn_mappings{$A} 3" "rnat_vpn_mappings{$G} 1" \
	"rnat_vpn_blocks{$A} 1" "rnat_vpn_blocks{$G} 1" \
	"rnat_vpn_block_addresses{$A} 4" "rnat_vpn_block_addresses{$G} 1" \
	"rnat_vpn_device_present{$A} 1" "rnat_vpn_device_present{$G} 1"
now=$(date +%s)
last=$(series "$metrics" rnat_vpn_last_used_timestamp_seconds |
	awk -v now="$now" '{ print ($2 > now - 120 && $2 <= now + 1) ? "recent" : $2 }' | sort -u)
expect_eq "per VPN: last used, a Unix time within the last 2 minutes" recent "$last"
expect "global: translated each way, drops by reason" has "$TMPDIR/default.prom" \
	'rnat_translated_packets_total{direction="in"} 9' \
	'rnat_translated_packets_total{direction="out"} 9' \
	'rnat_dropped_packets_total{reason="out_unmapped"} 1' \
	'rnat_dropped_packets_total{reason="in_unmapped"} 0' \
	'rnat_dropped_packets_total{reason="fenced"} 0' \
	'rnat_icmp_errors_uncounted_total 0'
expect "pools: size, used, in VPN blocks" has "$TMPDIR/default.prom" \
	"rnat_pool_addresses{pool=\"$P\"} 262144" \
	"rnat_pool_used_addresses{pool=\"$P\"} 4" \
	"rnat_pool_reserved_addresses{pool=\"$P\"} 5" \
	'rnat_pool_addresses{pool="AWS_CAN_CENTRAL"} 65536' \
	'rnat_pool_used_addresses{pool="AWS_CAN_CENTRAL"} 0'
expect_eq "no per-mapping series without a filter" \
	"rnat_metrics_mappings_selected 0|" \
	"$(series "$metrics" rnat_metrics_mappings_selected)|$(series "$metrics" rnat_mapping_)"
expect "promtool check metrics accepts the default output" \
	promtool check metrics <<<"$metrics"

# Per mapping: each filter selects, all of them given must match.
nats() { series "$(rnat metrics "$@")" rnat_mapping_packets_total |
	grep 'direction="in"' | grep -o 'nat="[^"]*"' | cut -d'"' -f2 | sort | paste -sd' '; }
expect_eq "metrics vpn acme: its 3 mappings" "10.153.0.0 10.153.0.1 10.153.0.2" "$(nats vpn acme)"
expect_eq "metrics vpn 2: globex's mapping" "$NAT2" "$(nats vpn 2)"
expect_eq "metrics errors: the mapping with an ICMP error" "$NAT1" "$(nats errors)"
expect_eq "metrics active 600: the mappings used in 10 minutes" "$NAT1 $NAT2" "$(nats active 600)"
expect_eq "metrics vpn 2 errors: both must match" "" "$(nats vpn 2 errors)"
expect_eq "metrics pool AWS_CAN_CENTRAL: none" "" "$(nats pool AWS_CAN_CENTRAL)"
expect_eq "metrics all: every mapping" "$NAT1 10.153.0.1 10.153.0.2 $NAT2" "$(nats all)"
M1='vpn="1",name="acme",pool="AWS_USA_EAST_1",real="10.1.0.0",nat="10.153.0.0"'
M2='vpn="2",name="globex",pool="AWS_USA_EAST_1",real="10.1.0.0",nat="10.162.0.1"'
permap=$(rnat metrics active 600)
echo "$permap" >"$TMPDIR/active.prom"
expect "per mapping: packets, bytes, the refusal, labelled vpn name pool real nat" has "$TMPDIR/active.prom" \
	"rnat_mapping_packets_total{$M1,direction=\"in\"} 6" \
	"rnat_mapping_packets_total{$M1,direction=\"out\"} 6" \
	"rnat_mapping_bytes_total{$M1,direction=\"in\"} 478" \
	"rnat_mapping_bytes_total{$M1,direction=\"out\"} 450" \
	"rnat_mapping_icmp_errors_total{$M1,direction=\"in\",kind=\"refused\"} 1" \
	"rnat_mapping_icmp_errors_total{$M1,direction=\"out\",kind=\"refused\"} 0" \
	"rnat_mapping_packets_total{$M2,direction=\"out\"} 3" \
	"rnat_mapping_bytes_total{$M2,direction=\"in\"} 252" \
	"rnat_metrics_mappings_selected 2"
expect_eq "per mapping: 13 series each (packets, bytes, 8 ICMP, last used)" 26 \
	"$(grep -v '^#' <<<"$permap" | grep -c '^rnat_mapping_')"
expect "promtool check metrics accepts per-mapping output" \
	promtool check metrics <<<"$(rnat metrics all)"
expect_fail "metrics vpn nosuch fails" rnat metrics vpn nosuch
expect_eq "and says why, exit 1" "Error: metrics: no VPN \"nosuch\" 1" \
	"$(rnat metrics vpn nosuch 2>&1 >/dev/null) $(rnat metrics vpn nosuch >/dev/null 2>&1; echo $?)"
expect_eq "metrics pool nosuch: exit 1" 1 "$(rnat metrics pool nosuch >/dev/null 2>&1; echo $?)"
expect_eq "metrics active x: usage error, exit 2" 2 "$(rnat metrics active x >/dev/null 2>&1; echo $?)"
expect_eq "metrics active (no value): exit 2" 2 "$(rnat metrics active >/dev/null 2>&1; echo $?)"
expect_eq "metrics bogus: exit 2" 2 "$(rnat metrics bogus >/dev/null 2>&1; echo $?)"
expect_eq "-j metrics: exit 2" 2 "$(rnat -j metrics >/dev/null 2>&1; echo $?)"

# vpn show -s: the same totals as a status under each VPN.
expect_eq "rnatctl -s vpn show 1: traffic, errors, last used" \
	"vpn 1 name acme pool AWS_USA_EAST_1 dev gv1 mappings 3 blocks 10.153.0.0/30
    in  packets 6 bytes 478 icmp unreach 0 refused 1 frag-needed 0 time-exceeded 0
    out packets 6 bytes 450 icmp unreach 0 refused 0 frag-needed 0 time-exceeded 0
    idle" "$(rnat -s vpn show 1 | sed 's/^    idle .*/    idle/')"
expect_eq "rnatctl -s vpn show: a status under each VPN" "2 2" \
	"$(rnat -s vpn show | grep -c '^vpn ') $(rnat -s vpn show | grep -c '^    in  packets')"
expect_eq "rnatctl -j -s vpn show 2: stats in the object" "3 3 252" \
	"$(rnat -j -s vpn show 2 | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats"]; print(s["in"]["packets"], s["out"]["packets"], s["in"]["bytes"])')"

# The systemd unit's command, as written (its variables set the same way),
# into a textfile directory of our own.
unit=ops/systemd/rnat-metrics.service
textdir=$TMPDIR/textfile
mkdir -p "$textdir"
RNAT_METRICS_ARGS=$(sed -n 's/^Environment="RNAT_METRICS_ARGS=\(.*\)"$/\1/p' "$unit")
RNAT_METRICS_FILE=$textdir/rnat.prom
cmd=$(sed -n 's/^ExecStart=//p' "$unit")
cmd=${cmd//\$\{RNAT_METRICS_FILE\}/$RNAT_METRICS_FILE}
cmd=${cmd//\$RNAT_METRICS_ARGS/$RNAT_METRICS_ARGS}
cmd=${cmd/\/usr\/sbin\/rnatctl/$RNATCTL -n gw}
echo "# the unit runs: $cmd"
expect "the unit's command writes the textfile" $cmd
expect_eq "it is readable by node_exporter's user (0644), no temporary file left" \
	"644 rnat.prom" "$(stat -c %a "$RNAT_METRICS_FILE") $(ls "$textdir")"
expect "promtool check metrics accepts the file" promtool check metrics <"$RNAT_METRICS_FILE"
expect_fail "output into a missing directory fails" rnat metrics output "$TMPDIR/none/rnat.prom"

# Debian's node_exporter serving it: textfile collector only, in core.
port=9187
n core prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$textdir" >"$TMPDIR/ne.log" 2>&1 &
wait_listen core tcp "$port"
scrape=$(n core curl -sf "http://127.0.0.1:$port/metrics")
expect_eq "node_exporter serves the scrape" 0 $?
echo "$scrape" >"$TMPDIR/scrape.prom"
expect "node_exporter serves rnat's series with their values" has "$TMPDIR/scrape.prom" \
	"rnat_vpn_packets_total{direction=\"in\",name=\"acme\",pool=\"AWS_USA_EAST_1\",vpn=\"1\"} 6" \
	"rnat_vpn_icmp_errors_total{direction=\"in\",kind=\"refused\",name=\"acme\",pool=\"AWS_USA_EAST_1\",vpn=\"1\"} 1" \
	"rnat_mapping_packets_total{direction=\"out\",name=\"acme\",nat=\"10.153.0.0\",pool=\"AWS_USA_EAST_1\",real=\"10.1.0.0\",vpn=\"1\"} 6" \
	"rnat_pool_used_addresses{pool=\"$P\"} 4" \
	'rnat_dropped_packets_total{reason="out_unmapped"} 1'
expect_eq "and no textfile scrape error" "node_textfile_scrape_error 0" \
	"$(grep '^node_textfile_scrape_error' <<<"$scrape")"
echo "# node_exporter's mtime series: $(grep '^node_textfile_mtime_seconds' <<<"$scrape")"
expect "promtool check metrics accepts node_exporter's rnat series" \
	promtool check metrics <<<"$(grep -E '^(# (HELP|TYPE) )?rnat_' <<<"$scrape")"

# A VPN's totals never go back (Prometheus would take a drop for a reset):
# what a mapping counted stays in its VPN's totals when the mapping is
# deleted or flushed, the kernel's departed counters of the VPN.
expect "map del: acme's busy mapping goes" rnat map del vpn 1 real 10.1.0.0
rnat metrics >"$TMPDIR/departed.prom"
expect "per VPN: a deleted mapping's traffic stays in its VPN's totals" \
	has "$TMPDIR/departed.prom" \
	"rnat_vpn_packets_total{$A,direction=\"in\"} 6" \
	"rnat_vpn_bytes_total{$A,direction=\"out\"} $((5 * 84 + 30))" \
	"rnat_vpn_icmp_errors_total{$A,direction=\"in\",kind=\"refused\"} 1" \
	"rnat_vpn_mappings{$A} 2"
expect "map add: 10.1.0.0 back on $NAT1" rnat map add vpn 1 real 10.1.0.0 nat "$NAT1"
expect "core pings acme twice more" n core ping -c 2 -i 0.2 -W 2 "$NAT1"
expect "map flush: acme's mappings all go" rnat map flush vpn 1
rnat metrics >"$TMPDIR/flushed.prom"
expect "per VPN: after a flush, the totals of every mapping acme had" \
	has "$TMPDIR/flushed.prom" \
	"rnat_vpn_packets_total{$A,direction=\"in\"} 8" \
	"rnat_vpn_packets_total{$A,direction=\"out\"} 8" \
	"rnat_vpn_bytes_total{$A,direction=\"in\"} $((7 * 84 + 58))" \
	"rnat_vpn_bytes_total{$A,direction=\"out\"} $((7 * 84 + 30))" \
	"rnat_vpn_mappings{$A} 0" \
	"rnat_vpn_packets_total{$G,direction=\"in\"} 3"
expect_eq "rnatctl -s vpn show 1: the same totals" "8 8" \
	"$(rnat -s vpn show 1 | awk '$1 == "in" || $1 == "out" { printf "%s%s", sep, $3; sep = " " }')"

cleanup
trap - EXIT
expect "rmmod rnat" unload_rnat
exit "$E2E_FAILED"
