#!/usr/bin/env bash
# bench/ab.sh — two builds of libfirkin against each other (and, optionally,
# a peer), interleaved in rounds, each measurement in a fresh process: the
# way every before/after figure in docs/benchmarks.md is taken on a machine
# whose speed drifts between runs. Asserts nothing about speed. Needs only
# bash and coreutils, so bench/device_pack.sh carries it to a machine
# without the source tree.
#
#   bench/ab.sh --old LIBDIR [options]
#     --old DIR        the baseline's libfirkin.so* (required), e.g. from
#                      `git worktree add /tmp/oldwt REV` and a build there
#     --new DIR        the candidate's (default build/capi)
#     --peer STORE     a peer run in the same rounds (e.g. kyoto, rocksdb)
#     --workloads "W"  firkin_bench workloads (default: ycsba); YCSB ones
#                      run on a database each variant loads once first
#     --threads "T"    thread counts (default: 1 2)
#     --rounds N       rounds (default 3); the variants alternate in each,
#                      in turned order every other round
#     --records N      YCSB records (default 50000); --duration S (default
#                      2), --warmup S (default 0.2), --num N for fill
#                      workloads (default 500000)
#     --bin "CMD"      firkin_bench (default build/bench/firkin_bench)
#     --loader "LD"    run through a copied loader, e.g.
#                      "lib/ld-linux-x86-64.so.2 --library-path lib": the
#                      variant's DIR is put before the library path given
#     --data DIR       where the databases live (default $TMPDIR/firkin-ab)
#     --out FILE       the rows (default: stdout only)
# Rows: round,variant,store,workload,threads,ops_per_s,p50_us,p99_us; then
# the medians of each cell with new/old and new/peer.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OLD="" NEW=$ROOT/build/capi PEER="" WORKLOADS=ycsba THREADS="1 2" ROUNDS=3
RECORDS=50000 DUR=2 WARM=0.2 NUM=500000 BIN=$ROOT/build/bench/firkin_bench LOADER=""
DATA=${TMPDIR:-/tmp}/firkin-ab OUTFILE=""
die() { echo "ab.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --old) OLD=$2; shift ;;
    --new) NEW=$2; shift ;;
    --peer) PEER=$2; shift ;;
    --workloads) WORKLOADS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --records) RECORDS=$2; shift ;;
    --duration) DUR=$2; shift ;;
    --warmup) WARM=$2; shift ;;
    --num) NUM=$2; shift ;;
    --bin) BIN=$2; shift ;;
    --loader) LOADER=$2; shift ;;
    --data) DATA=$2; shift ;;
    --out) OUTFILE=$2; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//; /^set -u/d'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
[ -n "$OLD" ] || die "--old DIR is required"
for d in "$OLD" "$NEW"; do
  ls "$d"/libfirkin.so* >/dev/null 2>&1 || die "no libfirkin.so* in $d"
done
VARIANTS="new old${PEER:+ $PEER}"

# run VARIANT WORKLOAD THREADS DIR: one firkin_bench process; prints its result line.
run() {
  local v=$1 w=$2 t=$3 dir=$4 store=firkin lib=$NEW
  [ "$v" = old ] && lib=$OLD
  [ "$v" != new ] && [ "$v" != old ] && store=$v
  local args=(--store=$store --workload=$w --dir=$dir --threads=$t)
  case $w in
    ycsbload) args+=(--records=$RECORDS) ;;
    ycsb*) args+=(--records=$RECORDS --duration=$DUR --warmup=$WARM --ops=1000000000) ;;
    *) args+=(--num=$NUM --duration=$DUR --ops=1000000000) ;;
  esac
  if [ -n "$LOADER" ]; then
    # "LD --library-path P": the variant's directory goes first.
    read -ra L <<<"$LOADER"
    [ "${L[1]:-}" = --library-path ] || die "--loader must be 'LD --library-path DIR'"
    "${L[0]}" --library-path "$lib:${L[2]}" $BIN "${args[@]}" 2>&1
  else
    LD_LIBRARY_PATH=$lib $BIN "${args[@]}" 2>&1
  fi | grep -E "^$store +$w "
}

rm -rf "$DATA"
mkdir -p "$DATA"
ROWS=$DATA/rows.csv
echo "round,variant,store,workload,threads,ops_per_s,p50_us,p99_us" >"$ROWS"
for w in $WORKLOADS; do
  case $w in ycsbload) ;; ycsb*)
    for v in $VARIANTS; do run "$v" ycsbload 1 "$DATA/$v-ycsb" >/dev/null || die "load failed ($v)"; done ;;
  esac
done
for r in $(seq "$ROUNDS"); do
  for w in $WORKLOADS; do
    for t in $THREADS; do
      # The order turns every round: a variant run second each time meets
      # the first one's writeback (and page-cache churn) in every round.
      order=$VARIANTS
      [ $((r % 2)) -eq 0 ] && order=$(echo "$VARIANTS" | tr ' ' '\n' | tac | tr '\n' ' ')
      for v in $order; do
        case $w in
          ycsbload) dir=$DATA/$v-fresh; rm -rf "$dir" ;;
          ycsb*) dir=$DATA/$v-ycsb ;;
          *) dir=$DATA/$v-fresh; rm -rf "$dir" ;;
        esac
        line=$(run "$v" "$w" "$t" "$dir")
        # "store workload t=T sync=S OPS ops/s p50 X us p99 Y us ..."
        read -r st _ _ _ ops _ _ p50 _ _ p99 _ <<<"$line"
        [ -n "$line" ] || { ops=0 p50=0 p99=0 st=?; }
        row="$r,$v,$st,$w,$t,$ops,$p50,$p99"
        echo "$row" | tee -a "$ROWS"
      done
    done
  done
done
[ -n "$OUTFILE" ] && cp "$ROWS" "$OUTFILE"
# Medians per (workload, threads, variant), and the ratios.
echo "== medians (ops/s)"
for w in $WORKLOADS; do
  for t in $THREADS; do
    line="$w t=$t"
    declare -A med=()
    for v in $VARIANTS; do
      m=$(awk -F, -v w="$w" -v t="$t" -v v="$v" '$4 == w && $5 == t && $2 == v {print $6}' "$ROWS" |
          sort -n | awk '{a[NR] = $1} END {if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}')
      med[$v]=$m
      line="$line  $v $m"
    done
    line="$line  new/old $(awk -v a="${med[new]}" -v b="${med[old]}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
    [ -n "$PEER" ] && line="$line  new/$PEER $(awk -v a="${med[new]}" -v b="${med[$PEER]}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
    echo "$line"
    unset med
  done
done
rm -rf "$DATA"/*-ycsb "$DATA"/*-fresh
