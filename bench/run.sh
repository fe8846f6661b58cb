#!/usr/bin/env bash
# bench/run.sh quick|full|scaling [builddir] [--threads 1,2,4,8,16] [--big]
#
# --threads LIST: the thread counts of YCSB A/B/C/F and of the durable puts
# (fillsync), 1,2 by default; each at 3 repetitions at least (medians).
# scaling: only that thread-scaling matrix (bench/scaling.sh; --big for the
# 16-core configuration), rendered into the "Scaling with threads" section of
# docs/benchmarks.md by bench/scaling_report.py, the rest of the page kept.
#
# Runs firkin_bench once per (store, workload, repetition), each in a fresh
# process, writes bench/results/<stamp>-<mode>.csv (+ latest.csv and
# machine.txt), then bench/report.py turns it into docs/benchmarks.md and
# bench/plots/*.png. Nothing here asserts anything about speed; a store that
# fails a measurement is reported and the run goes on.
#
# Environment overrides: BENCH_STORES="firkin rocksdb ..." (subset, in order),
# BENCH_DATA=<dir for the databases> (default <builddir>/bench-data, must be
# on the filesystem you want to measure), BENCH_NUM, BENCH_DUR, BENCH_REPS,
# BENCH_NO_REPORT=1.
set -u
MODE=${1:-quick}
[ $# -gt 0 ] && shift
BUILD=build
case "${1:-}" in ""|--*) ;; *) BUILD=$1; shift ;; esac
THREADS=1,2
BIG=""
while [ $# -gt 0 ]; do
  case $1 in
    --threads) THREADS=${2:?--threads needs a list, e.g. 1,2,4}; shift ;;
    --big) BIG=--big ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN="$BUILD/bench/firkin_bench"
if [ ! -x "$BIN" ]; then
  echo "run.sh: $BIN not found; build first (make build, or ninja -C $BUILD)" >&2
  exit 2
fi
THREAD_LIST=$(echo "$THREADS" | tr ',' ' ')
for t in $THREAD_LIST; do
  [[ $t =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: bad thread count '$t' in --threads $THREADS" >&2; exit 2; }
done
if [ "$MODE" = scaling ]; then
  # BENCH_SCALING_ARGS: more scaling.sh options (e.g. "--reps 5 --records 1000").
  eval "extra=(${BENCH_SCALING_ARGS:-})"
  "$HERE/scaling.sh" --bin "$BIN" --threads "$THREADS" $BIG --out "$HERE/results" "${extra[@]}" || exit 1
  [ -n "${BENCH_NO_REPORT:-}" ] && exit 0
  exec python3 "$HERE/scaling_report.py" "$HERE/results/scaling-latest.csv" \
    "$HERE/results/scaling-latest.machine.txt" --update "$ROOT/docs/benchmarks.md"
fi

case "$MODE" in
  quick)
    # Sized for a 2-core machine: the whole matrix in under 5 minutes.
    NUM=${BENCH_NUM:-200000}      # keys for the 16 B / 100 B workloads
    FILLDUR=0.5                   # cap on repeated fills (s); the first fill is complete
    CLDUR=2                       # overwrite phase of the compaction-latency runs (s)
    DUR=${BENCH_DUR:-0.25}        # measured phase of timed workloads (s)
    WARM=0.2                      # warm-up read pass cap (s)
    YREC=50000                    # YCSB records (1000 B values)
    YDUR=${BENCH_DUR:-0.2}
    MEMNUM=1000000                # memory test keys (8 B / 8 B) ...
    MEMDUR=2                      # ... capped at this many seconds of loading
    SPNUM=25000 ROUNDS=3          # space amplification
    REPS_MAIN=${BENCH_REPS:-3}    # budget workloads
    REPS_MINOR=1                  # the others
    TMO=120
    ;;
  full)
    NUM=${BENCH_NUM:-10000000}
    FILLDUR=0
    CLDUR=20
    DUR=${BENCH_DUR:-5}
    WARM=10
    YREC=1000000
    YDUR=${BENCH_DUR:-5}
    MEMNUM=10000000
    MEMDUR=0
    SPNUM=1000000 ROUNDS=5
    REPS_MAIN=${BENCH_REPS:-3}
    REPS_MINOR=${BENCH_REPS:-3}
    TMO=3600
    ;;
  *) echo "usage: $0 quick|full|scaling [builddir] [--threads LIST] [--big]" >&2; exit 2 ;;
esac

DATA=${BENCH_DATA:-$BUILD/bench-data}
RESULTS="$HERE/results"
mkdir -p "$RESULTS" "$DATA"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
CSV="$RESULTS/$STAMP-$MODE.csv"
MACHINE="$RESULTS/$STAMP-$MODE.machine.txt"
LOG="$RESULTS/$STAMP-$MODE.log"

ALL_STORES=$("$BIN" --list)
STORES=${BENCH_STORES:-$ALL_STORES}
for want in firkin rocksdb leveldb lmdb tkrzw kyoto sqlite; do
  echo "$ALL_STORES" | grep -qx "$want" || echo "run.sh: $want is not built in (missing package?), skipped" | tee -a "$LOG" >&2
done

# ---- the machine
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "mode: $MODE"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "cores: $(nproc) online ($(grep -c ^processor /proc/cpuinfo) in /proc/cpuinfo)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -sr)"
  echo "filesystem: $(findmnt -n -o SOURCE,FSTYPE,OPTIONS -T "$DATA" 2>/dev/null | head -1)"
  echo "disk: $(df -h --output=size,avail "$DATA" | tail -1 | awk '{print $1" total, "$2" free"}')"
  echo "compiler: $(c++ --version 2>/dev/null | head -1)"
  echo "firkin: ${BENCH_FIRKIN_REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (uncommitted changes in the tree)')}"
  for p in librocksdb-dev libleveldb-dev liblmdb-dev libtkrzw-dev libkyotocabinet-dev libsqlite3-dev; do
    echo "peer: $p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo missing)"
  done
  echo "loadavg_start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "threads: $THREAD_LIST"
  echo "params: num=$NUM dur=$DUR warmup=$WARM ycsb_records=$YREC ycsb_dur=$YDUR mem_num=$MEMNUM mem_cap_s=$MEMDUR spaceamp_num=$SPNUM rounds=$ROUNDS reps=$REPS_MAIN/$REPS_MINOR"
} > "$MACHINE"

echo "mode,rep,$("$BIN" --header)" > "$CSV"
T0=$(date +%s)

# m REP STORE WORKLOAD ARGS... : one measurement in a fresh process.
m() {
  local rep=$1 store=$2 wl=$3
  shift 3
  local out rc t0
  t0=$(date +%s.%N)
  out=$(timeout "$TMO" "$BIN" --store="$store" --workload="$wl" "$@" 2>>"$LOG")
  rc=$?
  echo "elapsed $store $wl rep $rep: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}') s" >> "$LOG"
  # 137 = killed on purpose by --end=kill (the CSV line was printed first).
  if [ -n "$out" ]; then
    echo "$out" | sed "s/^/$MODE,$rep,/" >> "$CSV"
    echo "$out" | awk -F, -v r="$rep" '{printf "  %-8s %-16s t=%s %-8s rep %s  %12s ops/s  p50 %s us  p99.9 %s us\n", $1, $2, $3, $4, r, $9, $10, $12}'
  fi
  if [ $rc -ne 0 ] && [ $rc -ne 137 ]; then
    echo "  $store $wl: FAILED (exit $rc, see $LOG)" >&2
    echo "FAILED: $store $wl $* (exit $rc)" >> "$LOG"
  fi
}

# The matrix runs phase by phase, and inside each phase repetition by
# repetition across all stores (not store by store), so that background load
# on a shared machine spreads over every store of a workload alike.
# each N FIRST FN ARGS...: for rep in FIRST..N, for each store: FN rep store ARGS...
each() {
  local n=$1 first=$2 fn=$3 r s
  shift 3
  for r in $(seq "$first" "$n"); do
    for s in $STORES; do "$fn" "$r" "$s" "$@"; done
  done
}
persistent() { [ "$1" != ceiling ]; }
d() { echo "$DATA/$1"; }

w_fillseq() { m $1 $2 fillseq --dir="$(d $2)/seq" --num=$NUM --duration=$FILLDUR; rm -rf "$(d $2)/seq"; }
w_golden() { m 1 $2 fillrandom --dir="$(d $2)/main" --num=$NUM; }  # complete: the database the next phases use
w_fillcap() { m $1 $2 fillrandom --dir="$(d $2)/fr" --num=$NUM --duration=$FILLDUR; rm -rf "$(d $2)/fr"; }
w_read() { m $1 $2 $3 --dir="$(d $2)/main" --num=$NUM --duration=$DUR --warmup=$WARM; }
w_overwrite() { m $1 $2 overwrite --dir="$(d $2)/main" --num=$NUM --duration=$DUR; }
# Stores with transactions (Session::txn): the others are skipped.
TXN_STORES="firkin rocksdb lmdb sqlite"
w_txn() {
  echo " $TXN_STORES " | grep -q " $2 " || return 0
  m $1 $2 txnshort --threads=$3 --dir="$(d $2)/main" --num=$NUM --duration=$DUR --warmup=$WARM
}
w_txnhot() {
  echo " $TXN_STORES " | grep -q " $2 " || return 0
  m $1 $2 txnhot --threads=$3 --dir="$(d $2)/main" --num=$NUM --duration=$DUR --warmup=$WARM
}
w_delete() {
  if persistent $2; then rm -rf "$(d $2)/del"; cp -a "$(d $2)/main" "$(d $2)/del"; fi
  m $1 $2 deleterandom --dir="$(d $2)/del" --num=$NUM --duration=$DUR
  rm -rf "$(d $2)/del"
}
w_fillsync() { persistent $2 || return 0; m $1 $2 fillsync --threads=$3 --dir="$(d $2)/sync" --num=$NUM --duration=$DUR; rm -rf "$(d $2)/sync"; }
w_yload() { m 1 $2 ycsbload --dir="$(d $2)/ycsb" --records=$YREC; }
w_ycsb() {
  [ "$3" = d ] && ! persistent $2 && return 0
  m $1 $2 ycsb$3 --threads=$4 --dir="$(d $2)/ycsb" --records=$YREC --duration=$YDUR --warmup=$WARM
}
w_memory() { persistent $2 || return 0; m $1 $2 memory --dir="$(d $2)/$3" --num=$MEMNUM --duration=$MEMDUR --end=$4; }
w_memory_kill() { w_memory 2 $2 memk kill; }
w_open_clean() { persistent $2 || return 0; m $1 $2 open_clean --dir="$(d $2)/mem" --num=$MEMNUM; }
w_open_kill() {
  persistent $2 || return 0
  rm -rf "$(d $2)/memk2"; cp -a "$(d $2)/memk" "$(d $2)/memk2"
  m $1 $2 open_kill --dir="$(d $2)/memk2" --num=$MEMNUM
  rm -rf "$(d $2)/memk2"
}
w_space() { persistent $2 || return 0; m $1 $2 spaceamp --dir="$(d $2)/space" --num=$SPNUM --rounds=$ROUNDS; rm -rf "$(d $2)/space"; }
w_rm() { rm -rf "$(d $2)/$3"; }

rm -rf "$DATA"; mkdir -p "$DATA"
echo "== 16 B keys / 100 B values, $NUM keys"
each $REPS_MINOR 1 w_fillseq
each 1 1 w_golden
each $REPS_MAIN 2 w_fillcap
each $REPS_MAIN 1 w_read readrandom
each $REPS_MINOR 1 w_read readmissing
each $REPS_MINOR 1 w_read readwhilewriting
each $REPS_MAIN 1 w_overwrite
for t in $THREAD_LIST; do each $REPS_MAIN 1 w_txn $t; done
for t in $THREAD_LIST; do each $REPS_MAIN 1 w_txnhot $t; done
each $REPS_MINOR 1 w_delete
each 1 1 w_rm main
echo "== durable puts, threads $THREAD_LIST"
for t in $THREAD_LIST; do each $REPS_MAIN 1 w_fillsync $t; done
echo "== YCSB, $YREC records of 1000 B, threads $THREAD_LIST"
each 1 1 w_yload
for y in c b a f; do
  for t in $THREAD_LIST; do each $REPS_MAIN 1 w_ycsb $y $t; done
done
each $REPS_MINOR 1 w_ycsb d 1
each $REPS_MINOR 1 w_ycsb d 2
each 1 1 w_rm ycsb
echo "== memory, open, space"
each 1 1 w_memory mem close
each $REPS_MAIN 1 w_open_clean
each 1 1 w_rm mem
each 1 1 w_memory_kill               # memory repetition 2: the same load, ended by SIGKILL
each $REPS_MAIN 1 w_open_kill
each 1 1 w_rm memk
each 1 1 w_space

# Firkin only: p99.9 put latency with background compaction running vs off
# (DESIGN §10). Overwrites on 4 MiB segments, so that segments fill, go dead
# and get compacted during the measured phase. Recorded as the workloads
# overwrite_compact / overwrite_nocompact.
w_compact_latency() {
  local rep=$1 variant=$2 opts="segment_size=4M" dir out
  [ "$variant" = nocompact ] && opts="auto_compact=false,$opts"
  dir="$(d firkin)/cl-$variant"
  rm -rf "$dir"
  FIRKIN_BENCH_OPTIONS=$opts timeout "$TMO" "$BIN" --store=firkin --workload=fillrandom \
    --dir="$dir" --num=$NUM >/dev/null 2>>"$LOG"
  out=$(FIRKIN_BENCH_OPTIONS=$opts timeout "$TMO" "$BIN" --store=firkin --workload=overwrite \
    --dir="$dir" --num=$NUM --duration=$CLDUR 2>>"$LOG")
  if [ -n "$out" ]; then
    echo "$out" | awk -F, -v OFS=, -v w="overwrite_$variant" '{$2 = w; print}' | sed "s/^/$MODE,$rep,/" >> "$CSV"
    echo "  firkin   overwrite_$variant rep $rep: $(echo "$out" | awk -F, '{printf "%s ops/s  p99.9 %s us", $9, $12}')"
  fi
  rm -rf "$dir"
}
if printf '%s\n' $STORES | grep -qx firkin; then
  echo "== firkin: put latency with and without compaction"
  for r in $(seq 1 "$REPS_MAIN"); do
    w_compact_latency "$r" nocompact
    w_compact_latency "$r" compact
  done
fi
rm -rf "$DATA"

echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$MACHINE"
echo "elapsed_s: $(( $(date +%s) - T0 ))" >> "$MACHINE"
cp "$CSV" "$RESULTS/latest.csv"
cp "$MACHINE" "$RESULTS/latest.machine.txt"
echo "run.sh: $(( $(date +%s) - T0 )) s; results in $CSV"
if [ -z "${BENCH_NO_REPORT:-}" ]; then
  # Committed runs from other machines (bench/results/device-*.csv with
  # their .machine.txt, e.g. the 16-core matrix) stay in the scaling section.
  extra=()
  for c in "$RESULTS"/device-*.csv; do
    [ -f "$c" ] && [ -f "${c%.csv}.machine.txt" ] && extra+=(--scaling "$c" "${c%.csv}.machine.txt")
  done
  python3 "$HERE/report.py" "$CSV" "$MACHINE" --out "$ROOT/docs/benchmarks.md" --plots "$HERE/plots" --notes "$HERE/notes.md" \
    "${extra[@]}" || echo "run.sh: report generation failed" >&2
fi
