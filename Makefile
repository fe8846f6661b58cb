# Firkin — a thin wrapper over meson (meson.build is the one source of truth),
# plus `deps`, which apt-installs whatever is missing on Debian 12.
#
#   make run        install deps, build, run the C example on ./firkin-data
#   make test       install deps, build everything, run every test suite
#   make install PREFIX=/usr/local DESTDIR=...   (library in PREFIX/lib; see
#                   docs/bindings.md "Installing"; make test-install checks it)
#   make bench / make bench-full
#   make clean

PREFIX   ?= /usr/local
# The library goes to PREFIX/lib (not meson's multiarch default), next to the
# JNI and C# glue, which find it through their RUNPATH $ORIGIN.
LIBDIR   ?= lib
BUILD    ?= build
ASAN     ?= build-asan
TSAN     ?= build-tsan
JOBS     ?= 2
DBDIR    ?= firkin-data
MESON_SETUP_ARGS ?=

# Debian packages the build and the tests need (gdb: a test that hangs
# prints every thread's stack before the harness kills it).
DEB_PACKAGES := g++ gcc pkg-config meson ninja-build libxxhash-dev libgtest-dev \
                python3 binutils gdb \
                liblz4-dev libzstd-dev \
                libssl-dev libargon2-dev
# Debian packages the bindings need (issue: bindings).
DEB_BINDINGS := swig golang-go mono-devel junit5 nunit-console libnunit-cil-dev \
                openjdk-17-jdk-headless python3-pytest python3-setuptools python3-wheel python3-pip \
                python3-dev
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

.PHONY: all deps deps-bindings deps-bench setup build run test test-c test-asan test-tsan test-soak \
        test-lane-1 test-lane-2 \
        test-bindings test-planted install test-install bench bench-peers bench-full clean

all: build

deps:
	$(call apt_install_missing,$(DEB_PACKAGES))

deps-bindings:
	$(call apt_install_missing,$(DEB_BINDINGS))

deps-bench:
	$(call apt_install_missing,$(DEB_BENCH))

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX) --libdir=$(LIBDIR) $(MESON_SETUP_ARGS)

setup: deps $(BUILD)/build.ninja

build: setup
	ninja -C $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/examples/firkin_example $(DBDIR)

-include bindings/bindings.mk

# Two lanes at once, each running JOBS processes: most suites wait (on
# sleeps, syncs, forked children, a stress run's seconds) about as much as
# they compute, so one lane alone left a core idle, and make test took 40
# minutes on two cores. Lane 1: the build, the C suites, the bindings and
# the install test; lane 2: the ASan build, then the ASan suites with the
# TSan build beside them (the suites wait on time about half of theirs;
# the TSan build's minute had come after them, the last step of make
# test, which took 911 s on 2026-11-30 with it there), then the TSan
# suites (every ninja of a build directory in one lane).
# docs/testing.md, "Test time".
# Each step prints the seconds since make test began (T0), so a slow CI run
# shows which lane and step took the time.
ifndef T0
T0    := $(shell date +%s)
endif
STAMP  = @echo "== make test +$$(( $$(date +%s) - $(T0) ))s: $(1)"
test: deps deps-bindings
	@rm -f $(BUILD)/test-summary.txt
	@$(MAKE) --no-print-directory -j2 T0=$(T0) test-lane-1 test-lane-2
	@tests/summarize.sh $(BUILD) $(ASAN) $(TSAN)
	$(call STAMP,done)

test-lane-1:
	$(call STAMP,lane 1: build)
	@$(MAKE) --no-print-directory build
	$(call STAMP,lane 1: C suites)
	@$(MAKE) --no-print-directory test-c
	$(call STAMP,lane 1: bindings)
	@$(MAKE) --no-print-directory test-bindings
	$(call STAMP,lane 1: install)
	@$(MAKE) --no-print-directory test-install
	$(call STAMP,lane 1: done)
test-lane-2:
	$(call STAMP,lane 2: ASan build)
	@$(MAKE) --no-print-directory asan-build
	$(call STAMP,lane 2: ASan suites and the TSan build)
	@$(MAKE) --no-print-directory -j2 --output-sync=target asan-run tsan-build
	$(call STAMP,lane 2: TSan)
	@$(MAKE) --no-print-directory test-tsan
	$(call STAMP,lane 2: done)

# The C suites (unit, conformance, crash, CLI, ...; tests/meson.build).
test-c: build
	meson test -C $(BUILD) --num-processes $(JOBS) --print-errorlogs --no-rebuild

# The sanitizer builds compile at -O1 with small functions inlined and line
# tables only (-g1): what a report needs (function, file and line), at
# about 40% of the compile time of -O2 -g (6.9 s against 17.9 s of CPU for
# core/db/write_path.cc under ASan), and the optimization level the
# sanitizers' manuals suggest. (Without the inlining, small helpers each
# became a call, and ASan's interceptors with them: verify_test drop_race
# took 80 s against 22 s at -O2.) docs/testing.md, "Test time". (A build
# directory made before keeps its flags: rm -rf it to take these.)
SAN_OPT   = -O1 -finline-small-functions -g1
SAN_FLAGS = -Dbuildtype=plain "-Dc_args=$(SAN_OPT)" "-Dcpp_args=$(SAN_OPT)"

# The C test suites and the CLI suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
# (gcc 12 gives false -Wstringop/-Wformat-overflow warnings with the
# sanitizers, so warnings are not errors in this one build; the main
# build keeps -Werror.)
test-asan: asan-build
	@$(MAKE) --no-print-directory asan-run
asan-build:
	@[ -f $(ASAN)/build.ninja ] || meson setup $(ASAN) -Db_sanitize=address,undefined \
	  -Db_lundef=false $(SAN_FLAGS) -Dbench=false -Djava=disabled -Dcsharp=disabled \
	  -Dwerror=false
	ninja -C $(ASAN) -j$(JOBS)
asan-run:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN) --suite c --suite cli --num-processes $(JOBS) --print-errorlogs --no-rebuild

# ThreadSanitizer: the multi-writer stress test (tests/c/stress_test.c) and
# the concurrent groups of the other suites, each a target of its own
# (tsan-*), run $(JOBS) at a time: most wait on time (a stress run's
# seconds, a test's sleeps) more than they compute. A data race fails it.
# (Each command through bindings/tools/suite.sh: its output logged under
# $(TSAN)/logs and its "N passed, N failed" added to the summary.)
TSAN_RUN    = bindings/tools/suite.sh tsan-$(1) lines $(TSAN)/test-summary.txt $(TSAN)/logs -- \
              env TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
TSAN_TESTS := tsan-stress tsan-stress-more tsan-inplace tsan-txn tsan-ttl tsan-readers \
              tsan-invariants tsan-compact tsan-ordered tsan-units tsan-verify tsan-backup \
              tsan-ns-churn
.PHONY: tsan-build asan-build asan-run $(TSAN_TESTS)

test-tsan: tsan-build
	@rm -f $(TSAN)/test-summary.txt $(TSAN)/meson-logs/testlog.txt  # (counted by summarize.sh)
	@$(MAKE) --no-print-directory -j$(JOBS) --output-sync=target $(TSAN_TESTS)

tsan-build:
	@[ -f $(TSAN)/build.ninja ] || meson setup $(TSAN) -Db_sanitize=thread \
	  -Db_lundef=false $(SAN_FLAGS) -Dbench=false -Djava=disabled -Dcsharp=disabled \
	  -Dexamples=false -Dwerror=false
	ninja -C $(TSAN) -j$(JOBS) tests/stress_test tests/txn_test tests/ordered_test \
	  tests/invariants_test tests/unit/parking_test tests/unit/segment_test tests/compact_test \
	  tests/inplace_test tests/unit/fences_test tests/unit/realtime_clock_test tests/verify_test \
	  tests/ttl_test tests/backup_test tests/ns_churn_test tests/readers_test \
	  tests/unit/epoch_test tests/unit/writeback_identity_test tests/unit/compact_hold_test \
	  tests/collide_test tests/unit/hash_index_test

# Many writers, CAS, batches, snapshots and background compaction on one
# handle, checked against a model; encrypted; in place; group commit.
tsan-stress:
	$(call TSAN_RUN,stress) $(TSAN)/tests/stress_test --threads 32 --seconds 4
	$(call TSAN_RUN,stress_encrypted) $(TSAN)/tests/stress_test --threads 16 --seconds 3 --encrypted
	$(call TSAN_RUN,stress_in_place) $(TSAN)/tests/stress_test --threads 16 --seconds 3 --fixed-length 160
tsan-stress-more:
	@# Large segments: write-behind hands pages over while the threads read
	@# them (tests/meson.build, stress_write_behind); group commit under load.
	$(call TSAN_RUN,stress_write_behind) $(TSAN)/tests/stress_test --threads 16 --seconds 8 --segment-kb 4096 --no-in-place
	$(call TSAN_RUN,stress_group_commit) $(TSAN)/tests/stress_test --threads 16 --seconds 3 --durable-every 1
tsan-inplace:
	@# In-place updates (tests/c/inplace_test.c) without the fork-based kill group:
	@# readers copying records while writers overwrite them (a seqlock), and
	@# overwrites that return while an earlier append is in flight (ahead; its
	@# child forks from a parent with no other thread).
	$(call TSAN_RUN,inplace) $(TSAN)/tests/inplace_test basic model off conditions first nospace torn ahead bad
tsan-txn:
	@# Transactions (tests/c/txn_test.c) without the fork-based crash group:
	@# concurrent commits, the isolation checker, the bank.
	$(call TSAN_RUN,txn) $(TSAN)/tests/txn_test api conflict bad atomic elle skew phantom bank
tsan-ttl:
	@# Abandoned transactions expired while their threads use them; conditions
	@# racing expiry; counts beside batches, updates in place and compaction dropping expired keys,
	@# on a read-only handle during its refresh, and beside puts of keys that expire as they are
	@# written (tests/c/ttl_test.c).
	$(call TSAN_RUN,ttl) $(TSAN)/tests/ttl_test txnexpire txnexpire_race cas_race count_batch count_batch_walk \
	  count_batch_namespaces count_inplace count_inplace_walk count_reclaim count_refresh \
	  count_expired_put
tsan-readers:
	@# A read-only handle refreshed by one thread while others read it, beside a writer
	@# process or handle (tests/c/readers_test.c).
	$(call TSAN_RUN,readers) \
	  FIRKIN_CASES="threads iter_race reader_counts feed_refresh refresh_floors latest_removal count_chain failed_ns_threads" \
	  $(TSAN)/tests/readers_test
tsan-invariants:
	@# Snapshots and iterators against many writers and compaction (groups h, m);
	@# compaction passes under steady writers (group n); background compaction
	@# beside a segment a failed roll left active (group o).
	$(call TSAN_RUN,invariants) $(TSAN)/tests/invariants_test h m n o
tsan-compact:
	@# Backpressure: writers waiting for compaction, and let go by it.
	$(call TSAN_RUN,compact) $(TSAN)/tests/compact_test
	@# Keys that share an index tag under writers, updates in place, readers,
	@# index growth, compaction and namespace drops (tests/c/collide_test.c);
	@# the index's own concurrent tests (tests/unit/hash_index_test.cc).
	$(call TSAN_RUN,collide) $(TSAN)/tests/collide_test
	$(call TSAN_RUN,hash_index) $(TSAN)/tests/unit/hash_index_test --gtest_filter='*Concurrent*'
tsan-ordered:
	@# Ordered namespaces (tests/c/ordered_test.c) without the fork-based crash group.
	$(call TSAN_RUN,ordered) $(TSAN)/tests/ordered_test api model big edges snapshot concurrent compact moved \
	  reopen readonly
tsan-units:
	@# The publication watermark's waits (spin, yield, sleep and wake-up) with
	@# many more writers than cores.
	$(call TSAN_RUN,parking) $(TSAN)/tests/unit/parking_test
	@# The reservation word: disjoint ranges, one closer, a roll's close.
	$(call TSAN_RUN,segment) $(TSAN)/tests/unit/segment_test
	@# The writer gate and striped counters without locked instructions
	@# (asymmetric fences, cells owned per thread), with thread churn.
	$(call TSAN_RUN,fences) $(TSAN)/tests/unit/fences_test
	@# The commit-time clock's window (a seqlock over three words) read by many threads.
	$(call TSAN_RUN,realtime_clock) $(TSAN)/tests/unit/realtime_clock_test
	@# Epoch reclamation: guards against retires and reclaims (nothing retired
	@# after a reclaim's scan runs), slot reuse, a use-after-free stress, and
	@# fork children that drain while parent threads run or retire deleters.
	$(call TSAN_RUN,epoch) $(TSAN)/tests/unit/epoch_test
	@# The writeback thread beside a new segment at a freed one's address.
	$(call TSAN_RUN,writeback_identity) $(TSAN)/tests/unit/writeback_identity_test
	@# Compaction's holds against the release of the snapshot that made them,
	@# released by another thread at each point of a full compaction.
	$(call TSAN_RUN,compact_hold) $(TSAN)/tests/unit/compact_hold_test
tsan-verify:
	@# Verify beside writers, namespace drops (the retire mutex to the end of
	@# the purge) and compaction; snapshot reads beside drops.
	$(call TSAN_RUN,verify) $(TSAN)/tests/verify_test online drop_get
tsan-backup:
	@# Online backups beside writers and compaction, whose seal of the active
	@# segment the backup's copy of it used to race.
	$(call TSAN_RUN,backup) $(TSAN)/tests/backup_test online
tsan-ns-churn:
	@# A reader's refresh forgetting namespaces while its threads list, open,
	@# read, count and run change cursors; the writer's background compaction
	@# forgetting namespaces beside churn (tests/c/ns_churn_test.c).
	$(call TSAN_RUN,ns_churn) $(TSAN)/tests/ns_churn_test reader_threads background

# Builds each deliberate bug (tests/crash/planted/*.patch) and shows that the
# crash suites catch it (10-20 minutes; not part of make test).
test-planted: deps
	tests/crash/planted_bugs.sh

# The crash suites in a loop with fresh random seeds (tests/crash/soak.sh;
# docs/testing.md, "Soak"): SOAK_MINUTES=120 make test-soak for a long one.
SOAK_MINUTES ?= 10
test-soak: build
	tests/crash/soak.sh --minutes $(SOAK_MINUTES) --build $(BUILD)

# The library, header and firkin.pc, then every binding this machine can
# build (install-bindings skips, and says so, what it cannot: no SWIG, no
# JDK, no Mono). Into a directory the loader searches through its cache
# (/usr/local/lib, /usr/lib: listed in /etc/ld.so.conf*), ldconfig runs
# after (not with DESTDIR: a package's postinst does that); any other
# PREFIX gets an rpath in firkin.pc instead (capi/meson.build).
install: build
	meson configure $(BUILD) --prefix=$(PREFIX) --libdir=$(LIBDIR)
	@# ninja regenerates the install plan for the new prefix: `meson install
	@# --no-rebuild` right after `meson configure` installs to the old one.
	ninja -C $(BUILD) -j$(JOBS)
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild
	@if [ -f bindings/bindings.mk ]; then \
	  $(MAKE) --no-print-directory install-bindings PREFIX=$(PREFIX) LIBDIR=$(LIBDIR) DESTDIR=$(DESTDIR); fi
	@if [ -f bindings/bindings.mk ]; then \
	  $(MAKE) --no-print-directory install-python PREFIX=$(PREFIX) LIBDIR=$(LIBDIR) DESTDIR=$(DESTDIR) || \
	  echo "install: the Python package was skipped (needs python3-pip; see docs/bindings.md)"; fi
	@libdir="$(PREFIX)/$(LIBDIR)"; \
	if [ -z "$(DESTDIR)" ] && cat /etc/ld.so.conf /etc/ld.so.conf.d/*.conf 2>/dev/null | grep -qxF "$$libdir"; then \
	  echo "install: ldconfig ($$libdir is in the loader's search path)"; \
	  $(SUDO) ldconfig || echo "install: ldconfig failed: run it as root, or libfirkin.so.0 is not found at run time"; \
	fi

# Installs into a staging prefix under /tmp and builds and runs each
# language's example from outside the tree (tests/install/install_test.sh).
test-install: build
	@bindings/tools/suite.sh install lines $(BUILD)/test-summary.txt $(BUILD)/bindings/logs -- \
	  tests/install/install_test.sh $(BUILD)

# meson caches a failed header check: a build directory configured before
# `make deps-bench` keeps every peer out of firkin_bench even once its
# package is installed. If a peer is missing, configure once from scratch.
BENCH_PEERS := rocksdb leveldb lmdb tkrzw kyoto sqlite
bench-peers: deps-bench build
	@missing=$$(list=$$($(BUILD)/bench/firkin_bench --list 2>/dev/null); \
	  for p in $(BENCH_PEERS); do echo "$$list" | grep -qx $$p || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "bench: not built in: $$missing; configuring $(BUILD) from scratch (meson cached the checks)"; \
	  meson setup --wipe $(BUILD) && ninja -C $(BUILD) -j$(JOBS); \
	fi

bench: bench-peers
	bench/run.sh quick $(BUILD)

bench-full: bench-peers
	bench/run.sh full $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN) $(TSAN) $(DBDIR)

# Overridden by bindings/bindings.mk when the bindings are present.
test-bindings::
	@true
