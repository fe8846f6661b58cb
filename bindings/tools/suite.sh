#!/usr/bin/env bash
# suite.sh NAME KIND SUMMARY_FILE LOG_DIR -- COMMAND...
#
# Runs one binding test suite, shows and logs its output, and ends with the
# line "N passed, N failed" (also appended to SUMMARY_FILE for
# tests/summarize.sh). KIND says how to count when the tool does not print
# that line itself:
#   lines  - the command prints "N passed, N failed" (its last such line counts)
#   gotest - `go test -v`: top-level "--- PASS:" / "--- FAIL:" lines
#   junit  - JUnit console launcher: "[ N tests successful ]" / "[ N tests failed ]";
#            any -Xcheck:jni warning counts as one more failure
#   nunit  - NUnit 2.6 console: "Tests run: N, Errors: E, Failures: F"
# A command that exits non-zero with nothing counted as failed counts as one
# failure, and so does a "lines" suite that prints no such line or a suite
# that counts nothing at all. Exit status: 0 only if nothing failed.
set -u
name=$1 kind=$2 summary=$3 logdir=$4
shift 4
[ "$1" = "--" ] && shift
mkdir -p "$logdir" "$(dirname "$summary")"
log="$logdir/$name.log"
echo "== binding suite: $name =="
set -o pipefail
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
p=0 f=0
case $kind in
  lines)
    line=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -n "$line" ]; then p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
    else echo "suite.sh: $name printed no 'N passed, N failed' line"; f=1; fi ;;
  gotest)
    p=$(grep -Ec '^--- PASS:' "$log"); f=$(grep -Ec '^--- FAIL:' "$log") ;;
  junit)
    p=$(grep -Eo '\[ +[0-9]+ tests successful +\]' "$log" | grep -Eo '[0-9]+' | tail -n 1)
    f=$(grep -Eo '\[ +[0-9]+ tests failed +\]' "$log" | grep -Eo '[0-9]+' | tail -n 1)
    p=${p:-0} f=${f:-0}
    if grep -Eq 'WARNING in native method|FATAL ERROR in native method' "$log"; then
      echo "suite.sh: -Xcheck:jni reported a problem (see above)"
      f=$((f + 1))
    fi ;;
  nunit)
    line=$(grep -Eo 'Tests run: [0-9]+, Errors: [0-9]+, Failures: [0-9]+' "$log" | tail -n 1)
    if [ -n "$line" ]; then
      set -- $(echo "$line" | grep -Eo '[0-9]+')
      p=$(($1 - $2 - $3)); f=$(($2 + $3))
    fi ;;
  *) echo "suite.sh: unknown kind $kind"; f=1 ;;
esac
if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
  echo "suite.sh: $name ran no test"
  f=1
fi
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
  echo "suite.sh: $name exited with status $rc"
  f=1
fi
echo "$p passed, $f failed"
{ echo "# binding suite $name"; echo "$p passed, $f failed"; } >> "$summary"
[ "$f" -eq 0 ]
