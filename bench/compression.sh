#!/bin/bash
# Compression benchmark (docs/benchmarks.md, "Compression"): Firkin none/lz4/zstd vs
# RocksDB with the same algorithm on text-like 1000-byte values (space and
# throughput), and readrandom on the plain path against BEFORE_LIB.
# Usage (from the repository root): BEFORE_LIB=dir [N=100000] bench/compression.sh
B=${BENCH:-build/bench/firkin_bench}
OUT=bench/results/$(date -u +%Y%m%dT%H%MZ)-compression.csv
D=${DATA:-/tmp/firkin-compression-bench}
N=${N:-100000}
mkdir -p bench/results
$B --header > $OUT
run() { "$@" 2>>"$OUT.log" | tail -1 >> $OUT; }
for rep in 1 2 3; do
  # plain path: 100 B random values, library before (crypt branch, no codec) / after
  for lib in before after; do
    if [ $lib = before ]; then L=${BEFORE_LIB:?directory of the libfirkin.so to compare against}; else L=$(dirname $B)/../capi; fi
    LD_LIBRARY_PATH=$L run $B --store=firkin --workload=fillrandom --dir=$D/plain-$lib --num=$N --seed=$rep
    LD_LIBRARY_PATH=$L run $B --store=firkin --workload=readrandom --dir=$D/plain-$lib --num=$N --duration=2 --warmup=0.5 --seed=$rep
    sed -i "\$s/\$/;lib=$lib/" $OUT
  done
  # compression: 1000 B text values
  for algo in none lz4 zstd; do
    FIRKIN_BENCH_OPTIONS=compression=$algo run $B --store=firkin --workload=fillrandom --dir=$D/f-$algo --num=$N --value_size=1000 --values=text --seed=$rep
    sed -i "\$s/\$/;compression=$algo/" $OUT
    FIRKIN_BENCH_OPTIONS=compression=$algo run $B --store=firkin --workload=readrandom --dir=$D/f-$algo --num=$N --value_size=1000 --values=text --duration=2 --warmup=0.5 --seed=$rep
    sed -i "\$s/\$/;compression=$algo/" $OUT
    FIRKIN_BENCH_ROCKSDB_COMPRESSION=$algo run $B --store=rocksdb --workload=fillrandom --dir=$D/r-$algo --num=$N --value_size=1000 --values=text --seed=$rep
    FIRKIN_BENCH_ROCKSDB_COMPRESSION=$algo run $B --store=rocksdb --workload=readrandom --dir=$D/r-$algo --num=$N --value_size=1000 --values=text --duration=2 --warmup=0.5 --seed=$rep
  done
done
rm -rf $D
echo "$OUT"
