# SPDX-License-Identifier: GPL-2.0
#
# What the benchmarks share, on top of tests/e2e/lib.sh (source both).

# rnatctl_tmpfs DIR: copies rnatctl and its libraries to DIR (a tmpfs in
# the guest) and sets RNATCTL_TMPFS to the command that runs that copy:
# run from the host's 9p root, every page it faults in would wait for the
# host, and guest time would jump ahead while it waits.
rnatctl_tmpfs() {
	local lib ldso=
	mkdir -p "$1/lib"
	cp "$RNATCTL" "$1/rnatctl"
	for lib in $(ldd "$RNATCTL" | grep -o '/[^ ]*'); do
		cp "$lib" "$1/lib/"
		case $lib in */ld-linux*) ldso=$1/lib/$(basename "$lib") ;; esac
	done
	RNATCTL_TMPFS=("$ldso" --library-path "$1/lib" "$1/rnatctl")
}

# Guest time in microseconds, without a fork: instructions / 1000 under
# -icount shift=0, but it also jumps ahead to the next timer whenever the
# CPU idles (waiting for the host's 9p file system, say).
now() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
# Idle and iowait time in USER_HZ ticks, to tell whether a span idled.
idle_ticks() { local f; read -ra f </proc/stat; echo $((f[4] + f[5])); }

# bench_state NS V PER POOL FILE: V dummy devices d1..dV in NS, and in FILE
# a batch that makes pool BENCH (POOL) and on each device a VPN (vpn-N)
# with PER mappings (real 10.x.y.z).
bench_state() {
	seq "$2" | awk '{ print "link add d" $1 " up type dummy" }' |
		n "$1" ip -batch - || fail "$2 dummy devices"
	{
		echo "pool add BENCH $4"
		seq "$2" | awk '{ print "vpn add " $1 " pool BENCH dev d" $1 " name vpn-" $1 }'
		awk -v v="$2" -v p="$3" 'BEGIN {
			for (i = 1; i <= v; i++)
				for (h = 0; h < p; h++)
					printf "map add vpn %d real 10.%d.%d.%d\n", i,
						1 + int(h / 65536), int(h / 256) % 256, h % 256
		}'
	} >"$5"
}

# meminfo [KEY...]: their values in kB ($MEMKEYS without one).
meminfo() {
	local k
	[ $# -gt 0 ] || read -ra k <<<"$MEMKEYS"
	[ $# -gt 0 ] || set -- "${k[@]}"
	for k; do
		awk -v k="$k:" '$1 == k { printf "%s ", $2 }' /proc/meminfo
	done
}
MEMKEYS="Slab Percpu VmallocUsed MemFree MemAvailable"

# mem_row NAME BEFORE AFTER N: one line (ending in a literal \n, for printf
# %b) with the per-entry deltas of meminfo $MEMKEYS from BEFORE to AFTER:
# growth of Slab, Percpu and VmallocUsed, drops of MemFree and MemAvailable.
mem_row() {
	awk -v name="$1" -v a="$2" -v b="$3" -v keys="$MEMKEYS" -v m="$4" 'BEGIN {
		split(a, x, " "); split(b, y, " "); n = split(keys, k, " ")
		printf "#   %-46s", name
		for (i = 1; i <= n; i++) {
			drop = k[i] ~ /^Mem/
			d = drop ? x[i] - y[i] : y[i] - x[i]
			printf " %8.1f", d * 1024 / m
		}
		printf "\\n"
	}'
}
