#!/usr/bin/env bash
# Prints every suite's "N passed, N failed" line from the meson test logs of
# the given build directories (and the lines the binding suites append to
# <build>/test-summary.txt), then the total. Exits non-zero if any failed.
set -u
total_p=0; total_f=0
for b in "$@"; do
  for log in "$b/meson-logs/testlog.txt" "$b/test-summary.txt"; do
  [ -f "$log" ] || continue
  while read -r p f; do
    total_p=$((total_p + p)); total_f=$((total_f + f))
  done < <(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$log" | awk '{print $1, $3}')
  done
done
echo "== all suites =="
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
