# rnat: the module, rnatctl, and the two commands that matter:
#   make demo    boots a VM and shows the seed's example working
#   make check   builds for every supported kernel and runs every test
# Both install what they need (Debian 12). See README.md.

# Debian's 6.1 headers (package linux-headers-amd64) unless told otherwise.
KDIR ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-6.1.*-amd64)))

all: module rnatctl

module:
	@test -n "$(KDIR)" || { echo "no kernel headers: run 'make deps' or set KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

rnatctl:
	$(MAKE) -C tools

# make install [DESTDIR=...] [PREFIX=/usr] [KDIR=/lib/modules/$(uname -r)/build]:
# the module for KDIR's kernel (into extra/; DKMS puts it in updates/dkms
# instead: use one or the other), rnatctl, its man page and bash completion,
# the systemd units of ops/systemd/ and the example configuration.
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/lib/rnat
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= /lib/systemd/system
SYSCONFDIR ?= /etc
# The release the kernel reports (uname -r): Debian's headers keep the
# upstream version in include/config/kernel.release.
KVER ?= $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODDIR ?= /lib/modules/$(KVER)/extra
UNITS := $(notdir $(wildcard ops/systemd/*))

install: install-module install-tools

install-module: module
	@test -n "$(KVER)" || { echo "no kernel release in $(KDIR)" >&2; exit 1; }
	install -D -m 0644 kmod/rnat.ko $(DESTDIR)$(MODDIR)/rnat.ko
	$(if $(DESTDIR),,depmod -a $(KVER))

# The units and rnat-devices name rnatctl and rnat-devices by their paths.
PATHS := sed -e 's|/usr/sbin/rnatctl|$(SBINDIR)/rnatctl|g' -e 's|/usr/sbin/rnatd|$(SBINDIR)/rnatd|g' -e 's|/usr/lib/rnat/|$(LIBEXECDIR)/|g'
install-tools: rnatctl
	install -D -m 0755 tools/rnatctl $(DESTDIR)$(SBINDIR)/rnatctl
	install -D -m 0755 tools/rnatd $(DESTDIR)$(SBINDIR)/rnatd
	install -d $(DESTDIR)$(LIBEXECDIR)
	$(PATHS) ops/lib/rnat-devices >$(DESTDIR)$(LIBEXECDIR)/rnat-devices
	chmod 0755 $(DESTDIR)$(LIBEXECDIR)/rnat-devices
	install -D -m 0644 tools/rnatctl.8 $(DESTDIR)$(MANDIR)/man8/rnatctl.8
	install -D -m 0644 tools/rnatd.8 $(DESTDIR)$(MANDIR)/man8/rnatd.8
	install -D -m 0644 ops/bash-completion/rnatctl $(DESTDIR)$(BASHCOMPDIR)/rnatctl
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
		$(PATHS) ops/systemd/$$u \
			>$(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -D -m 0644 ops/rnat.conf.example $(DESTDIR)$(SYSCONFDIR)/rnat/rnat.conf.example
	install -D -m 0644 ops/rnatd.conf.example $(DESTDIR)$(SYSCONFDIR)/rnat/rnatd.conf.example

# The module's source as DKMS builds it (what package rnat-dkms ships):
# $(DESTDIR)/usr/src/rnat-VERSION, VERSION dkms.conf's.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_SRC := $(filter-out %.mod.c,$(wildcard kmod/*.[ch] kmod/tests/*.c)) kmod/Kbuild uapi/linux/rnat.h Kbuild dkms.conf
dkms-source:
	for f in $(DKMS_SRC); do \
		install -D -m 0644 $$f $(DESTDIR)/usr/src/rnat-$(VERSION)/$$f || exit 1; \
	done

# Debian packages rnat-dkms and rnatctl (debian/), built in build/deb/ out
# of a copy of the tree (git's files, uncommitted changes included), so the
# build leaves nothing here: build/deb/*.deb, *.changes.
deb:
	rm -rf build/deb
	mkdir -p build/deb/rnat-$(VERSION)
	git ls-files -co --exclude-standard | grep -v '^build/' | \
		tar -cf - --ignore-failed-read -T - | tar -xf - -C build/deb/rnat-$(VERSION)
	cd build/deb/rnat-$(VERSION) && dpkg-buildpackage -us -uc -b

# Removes what install installed; an operator's /etc/rnat/rnat.conf stays.
uninstall:
	rm -f $(DESTDIR)$(MODDIR)/rnat.ko $(DESTDIR)$(SBINDIR)/rnatctl \
		$(DESTDIR)$(SBINDIR)/rnatd $(DESTDIR)$(LIBEXECDIR)/rnat-devices \
		$(DESTDIR)$(MANDIR)/man8/rnatctl.8 $(DESTDIR)$(MANDIR)/man8/rnatd.8 \
		$(DESTDIR)$(BASHCOMPDIR)/rnatctl \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) \
		$(DESTDIR)$(SYSCONFDIR)/rnat/rnat.conf.example \
		$(DESTDIR)$(SYSCONFDIR)/rnat/rnatd.conf.example
	rmdir $(DESTDIR)$(SYSCONFDIR)/rnat $(DESTDIR)$(MODDIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null || true
	$(if $(DESTDIR),,$(if $(KVER),depmod -a $(KVER)))

deps:
	tests/lib/deps $$(cat tests/packages)

check:
	tests/check

# make check, and the debug kernel (KASAN, kmemleak, UBSAN) built with
# KUnit and every end-to-end script on it; fault injection (faults.sh) on
# the test kernel; 50 teardown cycles, 100,000 fuzzed netlink messages,
# random fuzz seeds, churn on Debian 6.1, the fleet at 10,000 mappings,
# rnatd end to end on Debian 6.1 (tests/e2e/rnatd.sh), the Debian packages
# booted and rebooted under systemd (tests/ops/reboot).
# Hours on 2 cores: not timed yet on a quiet machine.
check-long:
	tests/check --long

demo:
	tests/demo

# Instructions per forwarded packet under QEMU -icount, rnat beside the
# kernel's NAT (not a test: prints figures; BENCH_STRICT=0 reports without
# judging against the targets). The output stays in build/bench/datapath.log,
# its figures in build/bench/datapath.json and .png. A quick subset:
# `make bench BENCH_ENV="BENCH_VPNS=10 BENCH_MAPS=1000 BENCH_NFT=1000 BENCH_TRIALS=3"`.
BENCH_ENV ?=
bench: rnatctl
	tests/lib/deps $$(cat tests/packages)
	tests/lib/build-module $(KDIR) build/debian-6.1
	mkdir -p build/bench
	{ tests/vm/run --kernel debian-6.1 --icount --mem 2048 --timeout 3600 -- \
		env $(BENCH_ENV) tests/bench/datapath.sh build/debian-6.1/kmod/rnat.ko; \
		echo $$? >build/bench/datapath.rc; } | tee build/bench/datapath.log
	sed -n 's/^#json //p' build/bench/datapath.log >build/bench/datapath.json
	[ ! -s build/bench/datapath.json ] || tests/bench/plot build/bench/datapath.json build/bench/datapath.png
	exit $$(cat build/bench/datapath.rc)

# Instructions and kernel memory to restore, dump and list 10^6 mappings
# under QEMU -icount (not a test: prints figures; `make bench-control
# BENCH_MAPPINGS=10000` for a quick run).
BENCH_MAPPINGS ?= 1000000
BENCH_VPNS ?= 1000
bench-control: rnatctl
	tests/lib/deps $$(cat tests/packages)
	tests/lib/build-module $(KDIR) build/debian-6.1
	tests/vm/run --kernel debian-6.1 --icount --mem 4096 --timeout 5400 -- \
		env BENCH_MAPPINGS=$(BENCH_MAPPINGS) BENCH_VPNS=$(BENCH_VPNS) \
		tests/bench/control.sh build/debian-6.1/kmod/rnat.ko

# What one command costs, routes included, in an empty gateway and in one
# with 5,000 VPNs and 10^6 mappings, under QEMU -icount (not a test: prints
# figures; BENCH_BEFORE=/path/to/rnatctl measures another build too, e.g.
# main's; `make bench-command BENCH_MAPPINGS=100000` for a quicker run,
# BENCH_COMMAND_VPNS for another VPN count).
bench-command: rnatctl
	tests/lib/deps $$(cat tests/packages)
	tests/lib/build-module $(KDIR) build/debian-6.1
	tests/vm/run --kernel debian-6.1 --icount --mem 4096 --timeout 3600 -- \
		env BENCH_MAPPINGS=$(BENCH_MAPPINGS) BENCH_VPNS=$(or $(BENCH_COMMAND_VPNS),5000) \
		BENCH_BEFORE=$(BENCH_BEFORE) tests/bench/command.sh build/debian-6.1/kmod/rnat.ko

# What a scrape costs: rnatctl metrics at 10^5 mappings (default and
# filtered) under QEMU -icount (not a test: prints figures; `make
# bench-metrics BENCH_METRICS_MAPPINGS=1000000` for 10^6).
bench-metrics: rnatctl
	tests/lib/deps $$(cat tests/packages)
	tests/lib/build-module $(KDIR) build/debian-6.1
	tests/vm/run --kernel debian-6.1 --icount --mem 4096 --timeout 5400 -- \
		env BENCH_MAPPINGS=$(or $(BENCH_METRICS_MAPPINGS),100000) BENCH_VPNS=$(BENCH_VPNS) \
		tests/bench/metrics.sh build/debian-6.1/kmod/rnat.ko

clean:
	$(if $(KDIR),$(MAKE) -C $(KDIR) M=$(CURDIR) clean)
	$(MAKE) -C tools clean
	rm -rf build

.PHONY: all module rnatctl install install-module install-tools uninstall dkms-source deb deps check check-long demo bench bench-control bench-command bench-metrics clean
