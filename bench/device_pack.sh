#!/usr/bin/env bash
# bench/device_pack.sh [BUILD] [DEST] — packs the built benchmark for a
# machine with no package access (issue 8, item 5: the 16-core matrix).
# Builds nothing. Copies into DEST (default .device/, git-ignored):
#
#   firkin_bench                 BUILD/bench/firkin_bench
#   lib/                         libfirkin.so*, every library `ldd firkin_bench`
#                                lists (the peers' included), ld-linux-x86-64.so.2
#   scaling.sh                   the matrix (bench/scaling.sh)
#   ab.sh, lib_old/              bench/ab.sh, and with OLD_LIB=DIR set, the
#                                libfirkin.so* of DIR (a baseline build): an
#                                old-against-new run there is then
#                                `./ab.sh --old lib_old --new lib --bin ./firkin_bench
#                                 --loader "lib/ld-linux-x86-64.so.2 --library-path lib" ...`
#   peers.txt                    the peers' Debian versions, read here
#   run_matrix.sh                runs the whole thread-scaling matrix through
#                                the copied loader, within 9 minutes, results
#                                under $OUT (or DEST/results)
#
# On the other machine: `cd DEST && ./run_matrix.sh` (options are passed on
# to scaling.sh, e.g. --threads 1,2,4,8,16 --reps 3). Bring the CSV back and
# render it: bench/scaling_report.py CSV MACHINE --update docs/benchmarks.md.
# The device runner brings back at most 8 files from $OUT (2026-11-26: a
# run's perf reports were left out): run_matrix.sh leaves the CSV, the
# machine description and the log there and packs anything else a wrapper
# script adds into one tarball (results.tgz) before it exits.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${1:-$ROOT/build}
DEST=${2:-$ROOT/.device}
BIN=$BUILD/bench/firkin_bench
[ -x "$BIN" ] || { echo "device_pack.sh: $BIN not found; build first (ninja -C $BUILD)" >&2; exit 2; }

rm -rf "$DEST"
mkdir -p "$DEST/lib"
cp "$BIN" "$DEST/firkin_bench"
for f in "$BUILD"/capi/libfirkin.so*; do [ -d "$f" ] || cp -P "$f" "$DEST/lib/"; done
# Debug sections out (the device runner carries at most 64 MiB with the
# tree; firkin_bench's were 4.4 of its 4.9 MB); symbols stay, for perf.
for f in "$DEST/firkin_bench" "$DEST"/lib/libfirkin.so.*.*; do
  [ -f "$f" ] && ! [ -L "$f" ] && strip --strip-debug "$f"
done
# Every resolved library (path after "=>"), and the loader (the absolute path
# on its own line). A library ldd cannot find is an error: the pack would not run.
if ldd "$BIN" | grep -q 'not found'; then
  echo "device_pack.sh: ldd cannot resolve every library of $BIN:" >&2
  ldd "$BIN" | grep 'not found' >&2
  exit 1
fi
ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u |
  while read -r lib; do cp -L "$lib" "$DEST/lib/"; done
[ -f "$DEST/lib/ld-linux-x86-64.so.2" ] ||
  cp -L /lib64/ld-linux-x86-64.so.2 "$DEST/lib/ld-linux-x86-64.so.2"
cp "$HERE/scaling.sh" "$DEST/scaling.sh"
cp "$HERE/ab.sh" "$DEST/ab.sh"
if [ -n "${OLD_LIB:-}" ]; then
  ls "$OLD_LIB"/libfirkin.so* >/dev/null 2>&1 || { echo "device_pack.sh: no libfirkin.so* in OLD_LIB=$OLD_LIB" >&2; exit 2; }
  mkdir -p "$DEST/lib_old"
  for f in "$OLD_LIB"/libfirkin.so*; do [ -d "$f" ] || cp -P "$f" "$DEST/lib_old/"; done
  for f in "$DEST"/lib_old/libfirkin.so.*.*; do [ -f "$f" ] && ! [ -L "$f" ] && strip --strip-debug "$f"; done
fi
for p in librocksdb-dev libleveldb-dev liblmdb-dev libtkrzw-dev libkyotocabinet-dev libsqlite3-dev; do
  echo "$p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo missing)"
done >"$DEST/peers.txt"
git -C "$ROOT" rev-parse --short HEAD >"$DEST/firkin_rev.txt" 2>/dev/null || echo '?' >"$DEST/firkin_rev.txt"

cat >"$DEST/run_matrix.sh" <<'EOF'
#!/usr/bin/env bash
# run_matrix.sh [scaling.sh options] — the thread-scaling matrix of issue 8
# (16-core configuration: 500 K records x 1000 B, 0.3 s per run,
# threads 1 2 4 8 16, YCSB A B C F and durable puts, every store, 3 reps),
# run through the loader packed beside it, so it needs nothing installed.
# Stays within 9 minutes: no measurement starts after 480 s (repetitions are
# the outer loop, so a cut run has every cell at the earlier repetitions).
# Results: $OUT (the device runner's output folder) or ./results.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE/results}
export BENCH_FIRKIN_REV=$(cat "$HERE/firkin_rev.txt" 2>/dev/null || echo '?')
mkdir -p "$OUT"
"$HERE/scaling.sh" \
  --bin "$HERE/lib/ld-linux-x86-64.so.2 --library-path $HERE/lib $HERE/firkin_bench" \
  --big --duration 0.3 --threads 1,2,4,8,16 --reps 3 --budget 480 --out "$OUT" --tag matrix "$@"
rc=$?
# At most 8 files come back: the scaling-latest copies go, anything else
# beside matrix.* is packed into results.tgz.
rm -f "$OUT"/scaling-latest.*
( cd "$OUT" && extra=$(ls | grep -v -e '^matrix\.' -e '^results\.tgz$') &&
  [ -n "$extra" ] && tar czf results.tgz $extra && rm -rf $extra )
exit $rc
EOF
chmod +x "$DEST/run_matrix.sh" "$DEST/scaling.sh" "$DEST/ab.sh" "$DEST/firkin_bench"
echo "device_pack.sh: $(du -sh "$DEST" | cut -f1) in $DEST ($(ls "$DEST/lib" | wc -l) libraries); run: cd $DEST && ./run_matrix.sh"
