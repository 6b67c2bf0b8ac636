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

deps:
	tests/lib/deps $$(cat tests/packages)

check:
	tests/check

# make check, and every end-to-end script on the debug kernel (KASAN,
# kmemleak, UBSAN), not only make check's subset; 50 teardown cycles,
# 100,000 fuzzed netlink messages, random fuzz seeds, churn on Debian 6.1.
# Hours on 2 cores: not timed yet on a quiet machine.
check-long:
	tests/check --long

demo:
	tests/demo

# Instructions per forwarded packet under QEMU -icount (not a test: prints
# figures; BENCH_STRICT=0 reports without judging against the targets).
bench: rnatctl
	tests/lib/deps $$(cat tests/packages)
	tests/lib/build-module $(KDIR) build/debian-6.1
	tests/vm/run --kernel debian-6.1 --icount --mem 2048 --timeout 1800 -- \
		tests/bench/datapath.sh build/debian-6.1/kmod/rnat.ko

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

.PHONY: all module rnatctl deps check check-long demo bench bench-control bench-metrics clean
