#!/usr/bin/env bash
# build_fuzz.sh — builds the libFuzzer target of crash suite 5
# (tests/crash/fuzz_target.c) in build-fuzz with clang, ASan and UBSan, and
# with `run` runs it for FUZZ_SECONDS (default 60) on build-fuzz/corpus.
# Never part of the default build: tests/crash/meson.build only builds
# firkin_fuzz when the C compiler is clang and accepts -fsanitize=fuzzer.
#   tests/crash/build_fuzz.sh            # build
#   tests/crash/build_fuzz.sh run        # build and fuzz
# A crash leaves crash-<sha1> in the current directory; replay it with
#   build/tests/crash/model_fuzz_test --bytes crash-<sha1>
set -eu
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { echo "clang is not installed (apt-get install clang)"; exit 1; }
if [ ! -f build-fuzz/build.ninja ]; then
  # The library links with -Wl,--no-undefined, which clang's static ASan
  # runtime does not satisfy in a shared object; so only the fuzz target is
  # instrumented (fuzzer + ASan + UBSan, see meson.build).
  CC=clang CXX=clang++ meson setup build-fuzz -Dbuildtype=debugoptimized -Dwerror=false -Dbench=false -Dexamples=false \
    -Djava=disabled -Dcsharp=disabled
fi
ninja -C build-fuzz -j"${JOBS:-2}" tests/crash/firkin_fuzz
if [ "${1:-}" = run ]; then
  mkdir -p build-fuzz/corpus
  build-fuzz/tests/crash/firkin_fuzz \
    -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 build-fuzz/corpus
fi
