#!/bin/bash
# README's "Install on a gateway", as far as a guest without systemd allows
# (tests/vm/run's guest: busybox init, the host's root file system read-only):
# overlays on /etc, /usr/sbin, /usr/share, /usr/lib (a tmpfs for the
# kernel's module tree) make them writable in tmpfs, then, as the README says:
# make install-tools (and the module where make install-module puts it,
# depmod), the example configuration copied to /etc/rnat/rnat.conf, and
# rnat.service's own command lines, read from the installed unit files and
# run as systemd would (ExecStart lines in order, "$$" as "$"):
#   - start refuses an invalid file naming its line, the state untouched;
#   - start restores the example; save gives it back; the block routes;
#   - reload applies a changed file whole; a reload failing at its last
#     line names it and changes nothing;
#   - rnat-save.service's stop writes the running state to rnat.conf;
#   - a VPN whose device does not exist at start is restored without it,
#     and rnat-routes.service's command gives it the device when it comes
#     up (fenced until then); it re-adds a VPN's routes when its device
#     comes back up;
#   - bash completion's live values (tests/ops/completion live).
#   tests/e2e/install.sh MODULE.ko
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

MODULE=${1:?usage: install.sh MODULE.ko}
repo=$PWD
kver=$(uname -r)
o=/tmp/install-overlays
units=/lib/systemd/system
conf=/etc/rnat/rnat.conf
RNATCTL=/usr/sbin/rnatctl	# the installed one, from here on

# overlay DIR: DIR writable, its changes in tmpfs.
overlay() {
	local name=${1//\//_}
	mkdir -p "$o/$name/up" "$o/$name/work"
	mount -t overlay overlay -o "lowerdir=$1,upperdir=$o/$name/up,workdir=$o/$name/work" "$1"
}
# unit_run UNIT KEY: runs UNIT's KEY= command lines (ExecStart, ExecReload,
# ExecStop) in order, as systemd would, stopping at the first that fails.
unit_run() {
	local line
	while IFS= read -r line; do
		eval "${line//\$\$/\$}" || return
	done < <(sed -n "s/^$2=//p" "$units/$1")
}
# kill_tree PID: PID and its descendants.
kill_tree() {
	local c
	for c in $(pgrep -P "$1"); do kill_tree "$c"; done
	kill "$1" 2>/dev/null
}
# example: the example configuration without its comments, as save prints.
example() { grep -v '^#' ops/rnat.conf.example; }

# What the test needs from the kernel's module tree, loaded before it is
# hidden below: overlay, and dummy for the example's VPN devices.
modprobe overlay
for d in gv1 gv2; do
	ip link add "$d" type dummy && ip link set "$d" up
done
# The module tree: a tmpfs with the kernel's list of built-in modules and
# nothing else (depmod -a over Debian's 396 MB tree through 9p takes about 9
# minutes in a TCG guest; rnat.ko depends on no other module).
mods=/usr/lib/modules/$kver
mkdir -p "$o/mods"
cp "$mods"/modules.builtin* "$mods/modules.order" "$o/mods/"
for d in /etc /usr/sbin /usr/share /usr/lib; do
	expect "overlay on $d" overlay "$d"
done
mkdir -p "$mods"
mount -t tmpfs tmpfs "$mods"
cp "$o"/mods/* "$mods/"

# Install (README: make install, make install-module's steps for the
# module: it is built here for the guest's kernel already).
expect "make install-tools" make -s install-tools
t0=$(date +%s)
expect "the module in /lib/modules/$kver/extra, depmod" \
	sh -c "install -D -m 0644 $MODULE /lib/modules/$kver/extra/rnat.ko && depmod -a $kver"
expect "rnatctl, man page, completion, units, example installed" \
	ls /usr/sbin/rnatctl /usr/share/man/man8/rnatctl.8 \
	/usr/share/bash-completion/completions/rnatctl /usr/lib/rnat/rnat-devices "$units/rnat.service" \
	"$units/rnat-routes.service" "$units/rnat-save.service" /etc/rnat/rnat.conf.example
echo "# install: the module installed and depmod in $(($(date +%s) - t0)) s"

# An invalid file: start refuses it, naming the line, and changes nothing.
{ example; echo "map add vpn 1 real 10.1.0.0 nat 10.153.0.9"; } >"$conf"
out=$(unit_run rnat.service ExecStart 2>&1)
rc=$?
expect_eq "start with an invalid file fails naming its line (7)" "1 yes" \
	"$rc $([[ $out == *"line 7"* ]] && echo yes)"
echo "$out" | sed 's/^/#   /'
expect "... after modprobe loaded rnat" grep -q '^rnat ' /proc/modules
expect_eq "... and nothing is restored" "" "$(rnatctl save)"
expect_eq "restore --check names the line too, exit 1" "1 yes" \
	"$(out=$(rnatctl restore --check "$conf" 2>&1); echo "$? $([[ $out == *"line 7"* ]] && echo yes)")"

# The example, as the README says: copy it, check it, start.
cp /etc/rnat/rnat.conf.example "$conf"
expect "restore --check accepts the example" rnatctl restore --check "$conf"
expect_eq "... and changes nothing" "" "$(rnatctl save)"
expect "start (ExecStart lines of rnat.service)" unit_run rnat.service ExecStart
expect_eq "save gives the example back" "$(example)" "$(rnatctl save)"
expect_eq "block routes to gv1 and gv2" \
	"10.153.0.0 dev gv1 scope link
10.162.0.1 dev gv2 scope link" \
	"$(ip route show proto 82 | grep -v unreachable | sed 's/ *$//')"

# Reload: a changed file applies whole (vpn 2 gone, a mapping added).
{ example | grep -v -e 'vpn 2' -e 'vpn add 2 '; echo "map add vpn 1 real 10.1.0.1"; } >"$conf"
expect "reload (ExecReload) with vpn 2 left out and a mapping added" unit_run rnat.service ExecReload
expect_eq "... the state is the new file's (vpn 1's new NAT IP in a merged block)" \
	"$(grep '^pool' "$conf")
vpn add 1 pool AWS_USA_EAST_1 dev gv1 name acme blocks 10.153.0.0/31
map add vpn 1 real 10.1.0.0 nat 10.153.0.0
map add vpn 1 real 10.1.0.1 nat 10.153.0.1" "$(rnatctl save)"
before=$(rnatctl save)
{ example; echo "map add vpn 9 real 10.1.0.0"; } >"$conf"
out=$(unit_run rnat.service ExecReload 2>&1)
expect_eq "a reload failing at its last line (7) fails naming it" "1 yes" \
	"$? $([[ $out == *"line 7"* ]] && echo yes)"
echo "$out" | sed 's/^/#   /'
expect_eq "... and changes nothing" "$before" "$(rnatctl save)"

# rnat-save.service's stop: the running state into rnat.conf, whole.
expect "rnat-save.service stop (ExecStop)" unit_run rnat-save.service ExecStop
expect_eq "... rnat.conf is the running state" "$before" "$(cat "$conf")"
expect_eq "... and no temporary file is left" "" \
	"$(ls /etc/rnat | grep -v -e '^rnat.conf' -e '^rnatd.conf.example$')"
# A VPN whose device does not exist yet (gv3, its tunnel not up): start
# restores it without a device (rnat-devices stood a dummy in for it), and
# the device, once created, is fenced until rnat-routes' command gives it to
# the VPN when it comes up, with its route.
{ example; echo "vpn add 3 pool AWS_CAN_CENTRAL dev gv3 name umbrella"
	echo "map add vpn 3 real 10.1.0.0 nat 10.160.0.1"; } >"$conf"
expect "start with vpn 3 on gv3, which does not exist" unit_run rnat.service ExecStart
expect_eq "... vpn 3 is restored without a device, its stand-in gone" \
	"vpn 3 name umbrella pool AWS_CAN_CENTRAL mappings 1 blocks 10.160.0.1/32 no gv3" \
	"$(rnatctl vpn show 3) $(ip link show gv3 >/dev/null 2>&1 || echo no gv3)"
expect_eq "... vpns 1 and 2 have their devices and routes" "gv1 gv2" \
	"$(ip route show proto 82 | awk '$2 == "dev" { print $3 }' | xargs)"
# (its shell reports the pipeline killed at the end: stderr kept aside)
unit_run rnat-routes.service ExecStartPre
unit_run rnat-routes.service ExecStart 2>"$o/routes.err" &
watcher=$!
nap 2
ip link add gv3 type dummy
nap 1
expect_eq "gv3 created, down: not vpn 3's yet (the module fences it: failclosed.sh)" \
	"vpn 3 name umbrella pool AWS_CAN_CENTRAL mappings 1 blocks 10.160.0.1/32" \
	"$(rnatctl vpn show 3)"
ip link set gv3 up
for i in $(seq 50); do
	[ -n "$(ip route show proto 82 dev gv3)" ] && break
	nap 0.2
done
expect_eq "gv3 up: rnat-routes' command gave it to vpn 3, with its route" \
	"vpn 3 name umbrella pool AWS_CAN_CENTRAL dev gv3 mappings 1 blocks 10.160.0.1/32 10.160.0.1 scope link" \
	"$(rnatctl vpn show 3) $(ip route show proto 82 dev gv3 | sed 's/ *$//')"
# A VPN device that comes back up gets its routes back.
ip link set gv1 down
expect_eq "gv1 down: its route is gone" "" "$(ip route show proto 82 dev gv1 2>/dev/null)"
ip link set gv1 up
for i in $(seq 50); do
	[ -n "$(ip route show proto 82 dev gv1)" ] && break
	nap 0.2
done
expect_eq "gv1 up: rnat-routes' command put its route back" "10.153.0.0 scope link" \
	"$(ip route show proto 82 dev gv1 | sed 's/ *$//')"
{ kill_tree "$watcher"; wait "$watcher"; } 2>/dev/null
grep -v Terminated "$o/routes.err" | sed 's/^/#   rnat-routes: /'
ip link del gv3
cp /etc/rnat/rnat.conf.example "$conf"
expect "reload the example" unit_run rnat.service ExecReload

# Completion's live values, against this state (pools, VPNs 1 and 2 on gv1
# and gv2) and an empty namespace gwns.
ip netns add gwns
t0=$(date +%s)
tests/ops/completion live || E2E_FAILED=1
ip netns del gwns
echo "# install: completion's live cases in $(($(date +%s) - t0)) s"

exit $E2E_FAILED
