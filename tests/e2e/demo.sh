#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo `make demo` runs in a VM: the seed's example, told as an operator
# would type it. Two customer VPNs both use 10.1.0.0; rnat gives each its own
# NAT IP, and the core talks to them, and hears from them, by NAT IP only.
#
# Usage: tests/e2e/demo.sh MODULE.ko

set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: demo.sh MODULE.ko}

# say TEXT: a heading; run NS COMMAND...: shows and runs a command.
say() { printf '\n\033[1m## %s\033[0m\n' "$*"; }
run() {
	local ns=$1
	shift
	printf '\033[36m%s# %s\033[0m\n' "$ns" "$*"
	n "$ns" "$@" 2>&1 | sed 's/^/  /'
}
export PATH="$(dirname "$RNATCTL"):$PATH"

trap seed_cleanup EXIT
say "Kernel $(uname -r): loading rnat"
insmod "$MODULE" || exit 1
seed_topology
seed_wait_servers

say "Two customer hosts, both at 10.1.0.0, behind VPN devices gv1 and gv2"
run vpn1 ip -br addr show eth0
run vpn2 ip -br addr show eth0

say "Pools of NAT IPs per region"
run gw rnatctl pool add AWS_USA_EAST_1 10.153.0.0/16 10.157.0.0/16 10.162.0.0/16 10.155.0.0/16
run gw rnatctl pool add AWS_CAN_CENTRAL 10.160.0.0/16
run gw rnatctl vpn add 1 pool AWS_USA_EAST_1 dev gv1 name acme
run gw rnatctl vpn add 2 pool AWS_USA_EAST_1 dev gv2 name globex

say "Each (VPN, 10.1.0.0) gets its own NAT IP"
run gw rnatctl map add vpn 1 real 10.1.0.0
run gw rnatctl map add vpn 2 real 10.1.0.0
NAT1=$(n gw rnatctl lookup 10.1.0.0 vpn 1 | awk '{ print $NF }')
NAT2=$(n gw rnatctl lookup 10.1.0.0 vpn 2 | awk '{ print $NF }')
run gw rnatctl pool show
run gw rnatctl map show

say "rnatctl routes each VPN's NAT blocks to its device"
run gw rnatctl vpn show
run gw ip route show proto 82

say "Core to customer: ping, TCP and UDP to each NAT IP"
run core ping -c 1 -W 2 "$NAT1"
run core ping -c 1 -W 2 "$NAT2"
run core sh -c "socat -t 5 -T 5 - TCP:$NAT1:7 </dev/null"
run core sh -c "echo hi | socat -t 5 -T 5 - UDP:$NAT2:7"

say "Customer to core: the core sees each VPN's NAT IP"
run vpn1 sh -c "socat -t 5 -T 5 - TCP:10.200.0.1:8 </dev/null"
run vpn2 sh -c "socat -t 5 -T 5 - TCP:10.200.0.1:8 </dev/null"

say "Which connection is $NAT2?"
run gw rnatctl lookup "$NAT2"
run gw rnatctl -j lookup "$NAT2"

say "A refused connection in a log, read with rnatctl annotate"
run core sh -c "echo x | socat -t 2 - UDP:$NAT1:9"
run gw sh -c "echo 'connect ECONNREFUSED $NAT1:9' | rnatctl annotate"

say "What each mapping carried (-s): packets, bytes, ICMP errors, idle time"
run gw rnatctl -s lookup "$NAT1"

say "A pool address nobody holds is unreachable"
run core ping -c 1 -W 2 10.153.0.9
