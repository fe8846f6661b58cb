#!/usr/bin/env bash
# layering_check.sh — the dependency rule of the core, checked on every
# build (DESIGN §1; docs/write_path.md): includes go one way only,
#
#   capi -> db -> {compact, recovery} -> keyspace -> log -> {index, env} -> util
#
# compact and recovery never include each other or db; nothing below db
# includes db; nothing in core/ includes capi/ or tests/. One check per
# source file; ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
declare -A allowed=(
  [util]=""
  [crypto]="util"
  [env]="util"
  [index]="util"
  [log]="env index util crypto"
  [keyspace]="log env index util crypto"
  [compact]="keyspace log env index util crypto"
  [recovery]="keyspace log env index util crypto"
  [db]="compact recovery keyspace log env index util crypto"
)
passed=0 failed=0
for f in $(find core -name '*.h' -o -name '*.cc' | sort); do
  layer=$(echo "$f" | cut -d/ -f2)
  ok=1
  if [ -z "${allowed[$layer]+x}" ]; then
    echo "FAIL $f: folder core/$layer is not in the layer table"
    ok=0
  else
    while read -r inc; do
      [ -n "$inc" ] || continue
      case "$inc" in
        capi/*|tests/*) echo "FAIL $f includes $inc (core never includes the C API or tests)"; ok=0 ;;
        core/*)
          dep=$(echo "$inc" | cut -d/ -f2)
          if [ "$dep" != "$layer" ] && ! [[ " ${allowed[$layer]} " == *" $dep "* ]]; then
            echo "FAIL $f includes $inc (core/$layer may include: ${allowed[$layer]:-nothing})"
            ok=0
          fi ;;
      esac
    done < <(grep -hoE '^#include "[^"]+"' "$f" | sed 's/#include "//; s/"$//')
  fi
  if [ $ok = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
# capi/ may include core/db and below, never tests/.
for f in capi/*.cc capi/*.h; do
  if grep -qE '^#include "tests/' "$f"; then
    echo "FAIL $f includes test code"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
