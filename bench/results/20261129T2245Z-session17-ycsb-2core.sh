#!/bin/bash
# 2-core YCSB targets: Firkin against Kyoto, Tkrzw, LMDB, 1-s phases, rounds interleaved (session 17).
B=/work/main/build/bench/firkin_bench; D=/tmp/y17; rm -rf $D; mkdir -p $D
export LD_LIBRARY_PATH=/work/main/build/capi
for s in firkin kyoto tkrzw lmdb; do $B --store=$s --workload=ycsbload --dir=$D/$s --records=50000 > /dev/null 2>&1 || echo "load $s failed"; done
for r in 1 2 3 4 5; do
 for w in ycsba ycsbb ycsbc ycsbf; do
  for t in 1 2; do
   for s in firkin kyoto tkrzw lmdb; do
     echo "$r $( $B --store=$s --workload=$w --threads=$t --dir=$D/$s --records=50000 --duration=1 --warmup=0.2 2>&1 | tail -1)"
   done
  done
 done
done
