#!/bin/bash
# Encryption benchmark (docs/benchmarks.md, "Encryption"): the same store
# plain and encrypted (a raw key: FIRKIN_BENCH_KEY; every record sealed with
# AES-256-GCM), side by side in one run, alternating, 3 repetitions.
# Usage (from the repository root): [BENCH=path/to/firkin_bench] [N=200000] bench/encryption.sh
B=${BENCH:-build/bench/firkin_bench}
OUT=bench/results/$(date -u +%Y%m%dT%H%MZ)-encryption.csv
D=${DATA:-/tmp/firkin-encryption-bench}
N=${N:-200000}
R=${RECORDS:-100000}
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
mkdir -p bench/results
$B --header > $OUT
run() { "$@" 2>>"$OUT.log" | tail -1 >> $OUT; sed -i "\$s/\$/;encryption=$mode/" $OUT; }
for rep in 1 2 3; do
  for mode in none key; do
    if [ $mode = key ]; then export FIRKIN_BENCH_KEY=$KEY; else unset FIRKIN_BENCH_KEY; fi
    rm -rf $D/$mode $D/y-$mode
    run $B --store=firkin --workload=fillrandom --dir=$D/$mode --num=$N --seed=$rep
    run $B --store=firkin --workload=readrandom --dir=$D/$mode --num=$N --duration=2 --warmup=0.5 --seed=$rep
    run $B --store=firkin --workload=overwrite --dir=$D/$mode --num=$N --duration=2 --warmup=0.5 --seed=$rep
    run $B --store=firkin --workload=open --dir=$D/$mode --num=$N --seed=$rep
    run $B --store=firkin --workload=ycsbload --dir=$D/y-$mode --records=$R --seed=$rep
    run $B --store=firkin --workload=ycsbc --dir=$D/y-$mode --records=$R --threads=2 --duration=2 --warmup=0.5 --seed=$rep
    run $B --store=firkin --workload=ycsba --dir=$D/y-$mode --records=$R --threads=2 --duration=2 --warmup=0.5 --seed=$rep
  done
done
unset FIRKIN_BENCH_KEY
rm -rf $D
echo "$OUT"
