#!/usr/bin/env bash
# soak.sh — the crash suites in a loop, each run with a fresh random seed,
# for as long as asked: what found the rare crash-safety bugs that single
# runs miss (docs/testing.md, "Soak"; the "Fixed:" entries of 2026-11-27:
# a read that waited forever on a damaged record, met once by CI and not
# in 49 runs by hand; a hole after a power loss, twice in about 60
# powerloss runs; a recycled file under its old name, once in 23).
#
#   tests/crash/soak.sh                          # 10 minutes, every suite
#   tests/crash/soak.sh --minutes 120            # longer
#   tests/crash/soak.sh --suites "powerloss mutilate" --build build-asan
#   tests/crash/soak.sh --out /tmp/soak          # where logs go (default: a new temp dir)
#
# The programs and the test library are copied first (into OUT/bin), so a
# rebuild during the soak does not change what runs. Each run is niced (19)
# and limited to --run-limit seconds (default 900). A run that does not end
# with "0 failed" keeps its whole output in OUT/fail-SUITE-N.log; the seed
# it printed first replays it (`--seed N`). Every run is listed in
# OUT/runs. Do not stop (SIGSTOP) a soak: the suites' children run under
# alarm(30), which keeps counting, and a stopped run reports a hang.
#
# Ends with "N passed, N failed" (N counts runs); exit status 1 if any failed.
set -u
cd "$(dirname "$0")/../.."
MINUTES=10 SUITES="kill powerloss fault mutilate model_fuzz recycle" BUILD=build OUT="" LIMIT=900
die() { echo "soak.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) MINUTES=$2; shift ;;
    --suites) SUITES=$2; shift ;;
    --build) BUILD=$2; shift ;;
    --out) OUT=$2; shift ;;
    --run-limit) LIMIT=$2; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//; /^set -u/d'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
[[ $MINUTES =~ ^[0-9]+$ ]] || die "--minutes takes a whole number"
[ -n "$OUT" ] || OUT=$(mktemp -d "${TMPDIR:-/tmp}/firkin-soak-XXXXXX")
mkdir -p "$OUT/bin/lib" "$OUT/tmp" || die "cannot make $OUT"
for s in $SUITES; do
  [ -x "$BUILD/tests/crash/${s}_test" ] || die "no $BUILD/tests/crash/${s}_test (build first)"
  cp "$BUILD/tests/crash/${s}_test" "$OUT/bin/"
done
cp -L "$BUILD"/tests/support/libfirkin_testing.so* "$OUT/bin/lib/" 2>/dev/null
ls "$OUT"/bin/lib/libfirkin_testing.so* >/dev/null 2>&1 || die "no $BUILD/tests/support/libfirkin_testing.so"
echo "soak: $SUITES for $MINUTES min from $BUILD ($(git rev-parse --short HEAD 2>/dev/null)); logs in $OUT"
end=$((SECONDS + MINUTES * 60))
passed=0 failed=0 round=0
: >"$OUT/runs"
while [ $SECONDS -lt $end ]; do
  round=$((round + 1))
  for s in $SUITES; do
    [ $SECONDS -lt $end ] || break
    log="$OUT/run.log"
    TMPDIR="$OUT/tmp" LD_LIBRARY_PATH="$OUT/bin/lib" \
      nice -n 19 timeout "$LIMIT" "$OUT/bin/${s}_test" >"$log" 2>&1
    rc=$?
    seed=$(sed -n 's/^seed \([0-9]*\).*/\1/p' "$log" | head -1)
    if [ $rc -eq 0 ] && tail -1 "$log" | grep -q " 0 failed$"; then
      passed=$((passed + 1))
      echo "$s $round seed ${seed:-fixed} ok" >>"$OUT/runs"
    else
      failed=$((failed + 1))
      cp "$log" "$OUT/fail-$s-$round.log"
      echo "$s $round seed ${seed:-fixed} FAIL rc=$rc" | tee -a "$OUT/runs"
      grep -m3 '^FAIL: ' "$log" | sed 's/^/  /'
    fi
    rm -rf "${OUT:?}"/tmp/*
  done
done
rm -f "$OUT/run.log"
echo "soak: $round rounds; runs in $OUT/runs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
