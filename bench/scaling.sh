#!/usr/bin/env bash
# bench/scaling.sh — the thread-scaling matrix (issue 8, item 5): YCSB A, B,
# C, F (zipfian θ = 0.99, scrambled keys, 1000-byte values) and durable puts
# (fillsync: every store in its `always` setting) at each thread count of a
# list, against every store built into firkin_bench, one shared store handle
# per process with a session per thread, each measurement in a fresh process,
# REPS repetitions (report: medians). Writes a CSV in firkin_bench's format
# (with the leading mode,rep columns of run.sh) and a machine description.
# Asserts nothing about speed. Self-contained (bash + coreutils), so that
# bench/device_pack.sh can carry it to a machine without the source tree.
#
#   bench/scaling.sh [options]
#     --bin "CMD..."     how to run firkin_bench (default build/bench/firkin_bench);
#                        words, e.g. "lib/ld-linux-x86-64.so.2 --library-path lib ./firkin_bench"
#     --threads 1,2,4    thread counts (default 1,2)
#     --big              the 16-core configuration of issue 8: 500 K records
#                        (default: 50 K records,
#                        sized so the whole default matrix takes ~5 min on 2 cores)
#     --records N --ops N --duration S --warmup S   override the sizes
#                        (runs are bounded by --duration; the operation
#                        cap, 500 M, only stops a runaway: at 2 M, as
#                        until 2026-11-28, runs at 16 threads ended after
#                        40-150 ms, and YCSB C read 50 M ops/s in one of
#                        40 ms)
#     --reps N           repetitions (default 3)
#     --stores "a b"     subset of `firkin_bench --list` (default: all but ceiling)
#     --workloads "ycsba ycsbb ycsbc ycsbf fillsync"   subset (default: all five)
#     --budget S         start no new measurement after S seconds (0 = none);
#                        repetitions are the outer loop, so a cut run still has
#                        every cell at the earlier repetitions
#     --out DIR          results directory (default bench/results)
#     --data DIR         where the databases live (default $BENCH_DATA or
#                        $TMPDIR/firkin-scaling-data; removed at the end)
#     --tag NAME         file name stem (default <UTC stamp>-scaling)
#     --dry-run          print the plan (and the time estimate), run nothing
# Output: DIR/NAME.csv, DIR/NAME.machine.txt, DIR/NAME.log; DIR/scaling-latest.*
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BIN_WORDS=""
THREADS=1,2
BIG=0
RECORDS="" OPS="" DUR="" WARM=""
REPS=3
STORES=""
WORKLOADS="ycsba ycsbb ycsbc ycsbf fillsync"
BUDGET=0
OUTDIR=""
DATA=${BENCH_DATA:-${TMPDIR:-/tmp}/firkin-scaling-data}
TAG=""
DRY=0
die() { echo "scaling.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --bin) BIN_WORDS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --big) BIG=1 ;;
    --records) RECORDS=$2; shift ;;
    --ops) OPS=$2; shift ;;
    --duration) DUR=$2; shift ;;
    --warmup) WARM=$2; shift ;;
    --reps) REPS=$2; shift ;;
    --stores) STORES=$2; shift ;;
    --workloads) WORKLOADS=$2; shift ;;
    --budget) BUDGET=$2; shift ;;
    --out) OUTDIR=$2; shift ;;
    --data) DATA=$2; shift ;;
    --tag) TAG=$2; shift ;;
    --dry-run) DRY=1 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//; /^set -u/d'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
if [ $BIG = 1 ]; then
  RECORDS=${RECORDS:-500000} OPS=${OPS:-500000000} DUR=${DUR:-0.5} WARM=${WARM:-0.1}
else
  RECORDS=${RECORDS:-50000} OPS=${OPS:-500000000} DUR=${DUR:-0.5} WARM=${WARM:-0.2}
fi
[ -n "$BIN_WORDS" ] || BIN_WORDS="$(cd "$HERE/.." && pwd)/build/bench/firkin_bench"
read -ra BIN <<<"$BIN_WORDS"
"${BIN[@]}" --list >/dev/null 2>&1 || die "cannot run firkin_bench as: ${BIN[*]} (build it, or pass --bin)"
THREAD_LIST=$(echo "$THREADS" | tr ',' ' ')
for t in $THREAD_LIST; do
  [[ $t =~ ^[1-9][0-9]*$ ]] || die "bad thread count '$t' in --threads $THREADS"
done
[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "bad --reps $REPS"
for w in $WORKLOADS; do
  case $w in ycsba|ycsbb|ycsbc|ycsbf|fillsync) ;; *) die "unknown workload $w" ;; esac
done
BUILT=$("${BIN[@]}" --list | grep -vx ceiling)
STORES=${STORES:-$BUILT}
for s in $STORES; do echo "$BUILT" | grep -qx "$s" || die "store $s is not built in (have: $(echo $BUILT))"; done
OUTDIR=${OUTDIR:-$HERE/results}
TAG=${TAG:-$(date -u +%Y%m%dT%H%M%SZ)-scaling}
MODE=scaling$([ $BIG = 1 ] && echo -big)

n_ycsb=$(echo "$WORKLOADS" | tr ' ' '\n' | grep -c '^ycsb')
n_runs=$(( $(echo $STORES | wc -w) * $(echo $THREAD_LIST | wc -w) * $(echo $WORKLOADS | wc -w) * REPS ))
est=$(awk -v n=$n_runs -v d=$DUR -v w=$WARM -v s="$(echo $STORES | wc -w)" -v r=$RECORDS \
      'BEGIN{printf "%d", n * (d + w + 0.3) + s * r / 20000}')
echo "scaling.sh: $MODE, stores: $(echo $STORES), threads: $THREAD_LIST, workloads: $(echo $WORKLOADS)"
echo "scaling.sh: $RECORDS records, <= $OPS ops or ${DUR} s per run, $REPS reps: $n_runs runs, about ${est} s$([ "$BUDGET" != 0 ] && echo ", budget $BUDGET s")"
[ $DRY = 1 ] && exit 0

mkdir -p "$OUTDIR" || die "cannot create $OUTDIR"
CSV=$OUTDIR/$TAG.csv MACHINE=$OUTDIR/$TAG.machine.txt LOG=$OUTDIR/$TAG.log
rm -rf "$DATA"; mkdir -p "$DATA" || die "cannot create $DATA"

# ---- the machine (what report.py's scaling section states)
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "mode: $MODE"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "cores: $(nproc) online ($(grep -c ^processor /proc/cpuinfo) in /proc/cpuinfo)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -sr)"
  echo "filesystem: $(stat -f -c %T "$DATA" 2>/dev/null) ($(df -h --output=source,size,avail "$DATA" 2>/dev/null | tail -1 | tr -s ' '))"
  echo "firkin: ${BENCH_FIRKIN_REV:-$(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo '?')}"
  # Peer versions: from dpkg here, or from the pack's peers.txt on a bare machine.
  if [ -f "$HERE/peers.txt" ]; then sed 's/^/peer: /' "$HERE/peers.txt"
  else
    for p in librocksdb-dev libleveldb-dev liblmdb-dev libtkrzw-dev libkyotocabinet-dev libsqlite3-dev; do
      echo "peer: $p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')"
    done
  fi
  echo "threads: $THREAD_LIST"
  echo "params: records=$RECORDS ops=$OPS duration=$DUR warmup=$WARM reps=$REPS stores=$(echo $STORES | tr ' ' '/')"
  echo "loadavg_start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$MACHINE"
echo "mode,rep,$("${BIN[@]}" --header)" >"$CSV"
T0=$(date +%s)

# m REP STORE WORKLOAD ARGS...: one measurement in a fresh process.
m() {
  local rep=$1 store=$2 wl=$3 out rc
  shift 3
  out=$(timeout 120 "${BIN[@]}" --store="$store" --workload="$wl" "$@" 2>>"$LOG")
  rc=$?
  if [ -n "$out" ]; then
    echo "$out" | sed "s/^/$MODE,$rep,/" >>"$CSV"
    echo "$out" | awk -F, -v r="$rep" '{printf "  %-8s %-9s t=%-3s rep %s %12s ops/s\n", $1, $2, $3, r, $9}'
  fi
  [ $rc -eq 0 ] || { echo "  $store $wl: FAILED (exit $rc, see $LOG)" >&2; echo "FAILED: $store $wl $* (exit $rc)" >>"$LOG"; }
}

echo "== load: $RECORDS records of 1000 B per store"
for s in $STORES; do
  [ "$n_ycsb" -gt 0 ] && m 1 "$s" ycsbload --dir="$DATA/$s/ycsb" --records="$RECORDS"
done
over=0
for rep in $(seq 1 "$REPS"); do
  echo "== repetition $rep of $REPS ($(( $(date +%s) - T0 )) s so far)"
  for t in $THREAD_LIST; do
    for w in $WORKLOADS; do
      for s in $STORES; do
        if [ "$BUDGET" != 0 ] && [ $(( $(date +%s) - T0 )) -ge "$BUDGET" ]; then over=1; break 4; fi
        if [ "$w" = fillsync ]; then
          m "$rep" "$s" fillsync --threads="$t" --dir="$DATA/$s/sync" --num="$RECORDS" \
            --ops="$OPS" --duration="$DUR"
          rm -rf "$DATA/$s/sync"
        else
          m "$rep" "$s" "$w" --threads="$t" --dir="$DATA/$s/ycsb" --records="$RECORDS" \
            --ops="$OPS" --duration="$DUR" --warmup="$WARM"
        fi
      done
    done
  done
done
[ $over = 1 ] && echo "scaling.sh: budget of $BUDGET s reached; later measurements skipped" | tee -a "$LOG"
rm -rf "$DATA"
{
  echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "elapsed_s: $(( $(date +%s) - T0 ))"
  [ $over = 1 ] && echo "budget_cut: yes (some cells have fewer than $REPS repetitions)"
} >>"$MACHINE"
cp "$CSV" "$OUTDIR/scaling-latest.csv"
cp "$MACHINE" "$OUTDIR/scaling-latest.machine.txt"
echo "scaling.sh: $(( $(date +%s) - T0 )) s; results in $CSV"
