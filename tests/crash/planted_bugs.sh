#!/usr/bin/env bash
# planted_bugs.sh — crash-safety suite 6: build Firkin with each deliberate
# bug and show which crash suites catch it (docs/testing.md). The product
# sources hold no planted bug: tests/crash/planted/<name>.patch is applied
# to a scratch copy of the working tree (build-bug-src-<name>/: every
# tracked and untracked, not ignored file), which is then built and run.
#
# The bug list is found, not written here: every planted/*.patch.
#
#   tests/crash/planted_bugs.sh                 # every bug, plus the baseline
#   tests/crash/planted_bugs.sh skip_dir_sync   # some bugs (baseline always)
#   tests/crash/planted_bugs.sh --list          # the bugs and their mechanism
#   JOBS=2 SUITES="powerloss fault" tests/crash/planted_bugs.sh
#
# Each variant gets its own build dir build-bug-<name> (the baseline is
# build-bug-none, built from the real tree). A suite CATCHES a bug when a test group that passes in
# the baseline fails with the bug; groups already failing in the baseline
# (known engine bugs) are reported but do not count. Exit status 0 only if
# every bug is caught by at least one suite. Takes about 15 minutes on two
# cores (about 1.5 min to build and 1 min to run the suites per variant).
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
JOBS=${JOBS:-2}
PLANTED=$ROOT/tests/crash/planted
# mechanism BUG: prints patch or unknown.
mechanism() {
  if [ -f "$PLANTED/$1.patch" ]; then echo patch; else echo unknown; fi
}
ALL_BUGS=$(ls "$PLANTED"/*.patch 2>/dev/null | sed 's|.*/||; s|\.patch$||' | sort -u | tr '\n' ' ')
if [ "${1:-}" = --list ]; then
  for b in $ALL_BUGS; do echo "$b $(mechanism "$b")"; done
  exit 0
fi
BUGS=${*:-$ALL_BUGS}
for b in $BUGS; do
  [ "$(mechanism "$b")" != unknown ] || { echo "planted_bugs.sh: unknown bug '$b' (known: $ALL_BUGS)" >&2; exit 2; }
done
SUITES=${SUITES:-"kill powerloss fault mutilate model_fuzz recycle"}
OUT=${OUT:-$ROOT/build-bug-results}
mkdir -p "$OUT"
SEED=${FIRKIN_CRASH_SEED:-12345}
export FIRKIN_CRASH_SEED=$SEED

# scratch_tree BUG: (re)creates build-bug-src-BUG as a copy of the working
# tree with planted/BUG.patch applied. tar keeps modification times, so a
# rebuild recompiles only what the patch touches.
scratch_tree() {
  local bug=$1 src=$ROOT/build-bug-src-$1
  rm -rf "$src" && mkdir -p "$src" || return 1
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    (cd "$ROOT" && tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$src" ||
    { echo "copying the tree to $src failed"; return 1; }
  (cd "$src" && patch -p1 --forward --no-backup-if-mismatch <"$PLANTED/$bug.patch") \
    >"$OUT/$bug.patch.log" 2>&1 ||
    { echo "planted/$bug.patch does not apply (see $OUT/$bug.patch.log)"; return 1; }
}

build() { # $1 = bug name or none
  local bug=$1 dir=build-bug-$1 opt="" srcdir=$ROOT
  if [ "$bug" != none ]; then
    case $(mechanism "$bug") in
      patch) scratch_tree "$bug" || return 1; srcdir=$ROOT/build-bug-src-$bug ;;
    esac
  fi
  # A build dir set up for another source tree (or mechanism) starts over.
  if [ -f "$dir/build.ninja" ] && ! grep -qF "$srcdir/meson.build" "$dir/build.ninja"; then
    rm -rf "$dir"
  fi
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$srcdir" $opt -Dbench=false -Dexamples=false -Djava=disabled -Dcsharp=disabled \
      >"$OUT/$bug.setup.log" 2>&1 || { echo "setup of $dir failed (see $OUT/$bug.setup.log)"; return 1; }
  fi
  local targets=""
  for s in $SUITES; do targets="$targets tests/crash/${s}_test"; done
  ninja -C "$dir" -j"$JOBS" $targets >"$OUT/$bug.build.log" 2>&1 ||
    { echo "build of $dir failed (see $OUT/$bug.build.log)"; return 1; }
}

run() { # $1 = bug; writes $OUT/<bug>.<suite>.log
  local bug=$1
  for s in $SUITES; do
    local t0=$(date +%s)
    timeout 600 "build-bug-$bug/tests/crash/${s}_test" >"$OUT/$bug.$s.log" 2>&1
    local rc=$? t1=$(date +%s)
    echo "$rc $((t1 - t0))" >"$OUT/$bug.$s.rc"
  done
}

failed_groups() { grep -E '^FAIL ' "$1" 2>/dev/null | sed -E 's/ \([0-9]+ failures\)$//' | sort -u; }

T0=$(date +%s)
declare -A caught
for bug in none $BUGS; do
  echo "== $bug: build ($([ "$bug" = none ] && echo baseline || mechanism "$bug"))"
  build "$bug" || { caught[$bug]="BUILD FAILED"; continue; }
  echo "== $bug: run ($SUITES)"
  run "$bug"
done

echo
echo "== baseline (no planted bug)"
for s in $SUITES; do
  read -r rc secs <"$OUT/none.$s.rc" 2>/dev/null || { rc=?; secs=?; }
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/none.$s.log" | tail -1)
  echo "  $s: rc=$rc ${secs}s  $line"
  failed_groups "$OUT/none.$s.log" | sed 's/^/      already failing (known engine bug): /'
done

echo
printf '%-24s' "bug \\ suite"
for s in $SUITES; do printf '%-12s' "$s"; done
echo
status=0
for bug in $BUGS; do
  printf '%-24s' "$bug"
  any=0
  for s in $SUITES; do
    if [ ! -f "$OUT/$bug.$s.log" ]; then printf '%-12s' "-"; continue; fi
    new=$(comm -13 <(failed_groups "$OUT/none.$s.log") <(failed_groups "$OUT/$bug.$s.log"))
    read -r rc _ <"$OUT/$bug.$s.rc" 2>/dev/null || rc=0
    if [ -n "$new" ]; then printf '%-12s' "CAUGHT"; any=1
    # Killed by a signal (or the timeout) with no failing group: the suite
    # did not judge the data, so this is not a catch; shown, never hidden.
    elif [ "$rc" -ge 124 ] 2>/dev/null; then printf '%-12s' "DIED($rc)"
    else printf '%-12s' "pass"; fi
  done
  echo
  if [ $any = 0 ]; then status=1; fi
done
echo
for bug in $BUGS; do
  echo "== $bug: newly failing groups"
  for s in $SUITES; do
    [ -f "$OUT/$bug.$s.log" ] || continue
    comm -13 <(failed_groups "$OUT/none.$s.log") <(failed_groups "$OUT/$bug.$s.log") |
      sed "s/^/   [$s] /"
    grep -m2 '^FAIL:' "$OUT/$bug.$s.log" | cut -c1-220 | sed "s/^/       e.g. /"
  done
done
echo
echo "planted bugs: $(($(date +%s) - T0)) s in all; logs in $OUT"
[ $status = 0 ] && echo "every planted bug was caught" || echo "SOME PLANTED BUG WAS NOT CAUGHT"
exit $status
