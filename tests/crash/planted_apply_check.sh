#!/usr/bin/env bash
# planted_apply_check.sh — every deliberate bug (tests/crash/planted/*.patch,
# run by `make test-planted`, which is not part of `make test`) must still
# apply to the current sources: a patch whose context has drifted plants
# nothing, and the table of suites that catch each bug silently rots. A dry
# run only; the tree is not changed. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
passed=0 failed=0
if ! command -v patch >/dev/null; then
  echo "patch(1) is missing: cannot check the planted bugs"
  echo "0 passed, 1 failed"
  exit 1
fi
for p in tests/crash/planted/*.patch; do
  # --fuzz=0: a hunk whose context drifted may land in the wrong place.
  if patch -p1 --dry-run --forward --fuzz=0 --silent -f <"$p" >/dev/null 2>&1; then
    echo "ok   $(basename "$p" .patch)"
    passed=$((passed + 1))
  else
    echo "FAIL $(basename "$p" .patch): does not apply to the current sources (regenerate it)"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
