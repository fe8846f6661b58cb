# Firkin — a thin wrapper over meson (meson.build is the one source of truth),
# plus `deps`, which apt-installs whatever is missing on Debian 12.
#
#   make run        install deps, build, run the C example on ./firkin-data
#   make test       install deps, build everything, run every test suite
#   make install PREFIX=/usr/local DESTDIR=...
#   make bench / make bench-full
#   make clean

PREFIX   ?= /usr/local
BUILD    ?= build
ASAN     ?= build-asan
JOBS     ?= 2
DBDIR    ?= firkin-data
MESON_SETUP_ARGS ?=

# Debian packages the build and the tests need.
DEB_PACKAGES := g++ gcc pkg-config meson ninja-build libxxhash-dev libgtest-dev \
                python3 binutils
# Debian packages the bindings need (issue: bindings).
DEB_BINDINGS := swig golang-go mono-devel junit5 nunit-console libnunit-cil-dev \
                openjdk-17-jdk-headless python3-pytest python3-setuptools python3-wheel python3-pip
# Peers for the benchmark (a missing one is skipped, never a failure).
DEB_BENCH    := librocksdb-dev libleveldb-dev liblmdb-dev libtkrzw-dev \
                libkyotocabinet-dev libsqlite3-dev gnuplot-nox

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

define apt_install_missing
	@missing=$$(for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing $$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

.PHONY: all deps deps-bindings deps-bench setup build run test test-c test-asan \
        test-bindings test-planted install bench bench-full clean

all: build

deps:
	$(call apt_install_missing,$(DEB_PACKAGES))

deps-bindings:
	$(call apt_install_missing,$(DEB_BINDINGS))

deps-bench:
	$(call apt_install_missing,$(DEB_BENCH))

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX) $(MESON_SETUP_ARGS)

setup: deps $(BUILD)/build.ninja

build: setup
	ninja -C $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/examples/firkin_example $(DBDIR)

-include bindings/bindings.mk

test: deps deps-bindings build
	@rm -f $(BUILD)/test-summary.txt
	meson test -C $(BUILD) --num-processes $(JOBS) --print-errorlogs --no-rebuild
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-bindings
	@tests/summarize.sh $(BUILD) $(ASAN)

# The C test suites and the CLI suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
# (gcc 12 gives false -Wstringop/-Wformat-overflow warnings with the
# sanitizers at -O2, so warnings are not errors in this one build; the main
# build keeps -Werror.)
test-asan:
	@[ -f $(ASAN)/build.ninja ] || meson setup $(ASAN) -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dbuildtype=debugoptimized -Dbench=false -Djava=disabled -Dcsharp=disabled \
	  -Dwerror=false
	ninja -C $(ASAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN) --suite c --suite cli --num-processes $(JOBS) --print-errorlogs --no-rebuild

# Builds each deliberate bug (meson option planted_bug) and shows that the
# crash suites catch it (10-20 minutes; not part of make test).
test-planted: deps
	tests/crash/planted_bugs.sh

install: build
	meson configure $(BUILD) --prefix=$(PREFIX)
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild
	@if [ -f bindings/bindings.mk ] && command -v swig >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory install-bindings PREFIX=$(PREFIX) DESTDIR=$(DESTDIR); fi

bench: deps-bench build
	bench/run.sh quick $(BUILD)

bench-full: deps-bench build
	bench/run.sh full $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN) $(DBDIR)

# Overridden by bindings/bindings.mk when the bindings are present.
test-bindings::
	@true
