#!/usr/bin/env bash
# abi_test.sh LIBFIRKIN ABI_VERSION_EXE [LIBFIRKIN_TESTING]
# Checks the shared library's ABI surface: only firkin_* symbols exported,
# none of them test machinery (the fault env lives in the test-only
# libfirkin_testing.so), SONAME libfirkin.so.0, and (via abi_version)
# header/library versions agree. With LIBFIRKIN_TESTING, also checks that the
# test library exports the hooks of tests/support/firkin_testing.h.
# Ends with "N passed, N failed".
set -u
usage="usage: abi_test.sh LIBFIRKIN ABI_VERSION_EXE [LIBFIRKIN_TESTING]"
lib=${1:?$usage}
ver=${2:?$usage}
testlib=${3:-}
passed=0; failed=0
ok()   { echo "ok: $1"; passed=$((passed + 1)); }
bad()  { echo "FAIL: $1"; failed=$((failed + 1)); }

# 1. nm -D --defined-only lists only firkin_* (plus the version node).
if syms=$(nm -D --defined-only "$lib" 2>&1); then
  others=$(printf '%s\n' "$syms" | awk 'NF >= 3 {print $3} NF == 2 {print $2}' |
           sed 's/@.*//' | grep -v '^firkin_' | grep -v '^FIRKIN_[0-9A-Z_]*$' || true)
  count=$(printf '%s\n' "$syms" | awk 'NF >= 2' | grep -c ' firkin_' || true)
  if [ -n "$others" ]; then
    bad "exported symbols other than firkin_*:"; printf '    %s\n' $others | head -50
  elif [ "$count" -lt 50 ]; then
    bad "only $count firkin_* symbols exported (expected every API function)"
  else
    ok "nm -D shows only firkin_* symbols ($count of them)"
  fi
else
  bad "nm -D failed: $syms"
fi

# 2. Every function declared in the public header is exported.
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
missing=""
for f in $(grep -ho 'firkin_[a-z0-9_]*(' "$srcdir/capi/firkin.h" | tr -d '(' | sort -u); do
  printf '%s\n' "$syms" | grep -q " $f\(@.*\)\?$" || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "every function of firkin.h is exported"
else bad "declared but not exported:$missing"; fi

# 2b. No test machinery in the product: nothing of firkin_testing.h, no fault
#     env, no FaultEnv code (hidden or not), and every export is declared in
#     firkin.h (an exported firkin_* call that users cannot see is test or
#     internal machinery).
testing_h="$srcdir/tests/support/firkin_testing.h"
leaked=""
for f in $(grep -ho 'firkin_[a-z0-9_]*(' "$testing_h" | tr -d '(' | sort -u); do
  printf '%s\n' "$syms" | grep -q " $f\(@.*\)\?$" && leaked="$leaked $f"
done
leaked="$leaked $(printf '%s\n' "$syms" | awk 'NF >= 2 {print $NF}' | sed 's/@.*//' |
                  grep -iE 'fault|testing|planted' | tr '\n' ' ')"
declared=$(grep -ho 'firkin_[a-z0-9_]*(' "$srcdir/capi/firkin.h" | tr -d '(' | sort -u)
undeclared=$(printf '%s\n' "$syms" | awk 'NF >= 2 {print $NF}' | sed 's/@.*//' | grep '^firkin_' |
             sort -u | comm -23 - <(printf '%s\n' "$declared") | tr '\n' ' ')
leaked=$(printf '%s\n' $leaked | sort -u | tr '\n' ' ')
if strings -a "$lib" | grep -q 'FaultEnv'; then leaked="$leaked(FaultEnv code or strings)"; fi
leaked=$(echo $leaked)
undeclared=$(echo $undeclared)
if [ -n "$leaked" ]; then bad "the product library exports test machinery: $leaked"
elif [ -n "$undeclared" ]; then bad "exported but not declared in firkin.h: $undeclared"
else ok "no test machinery exported: every export is declared in firkin.h"; fi

# 2c. The test-only library exports the hooks (and the product's calls).
if [ -n "$testlib" ]; then
  tsyms=$(nm -D --defined-only "$testlib" 2>&1)
  tmissing=""
  for f in $(grep -ho 'firkin_[a-z0-9_]*(' "$srcdir/capi/firkin.h" "$testing_h" | tr -d '(' | sort -u); do
    printf '%s\n' "$tsyms" | grep -q " $f\(@.*\)\?$" || tmissing="$tmissing $f"
  done
  tothers=$(printf '%s\n' "$tsyms" | awk 'NF >= 2 {print $NF}' | sed 's/@.*//' |
            grep -v '^firkin_' | grep -v '^FIRKIN_[0-9A-Z_]*$' || true)
  if [ -n "$tmissing" ]; then bad "libfirkin_testing does not export:$tmissing"
  elif [ -n "$tothers" ]; then bad "libfirkin_testing exports non-firkin symbols: $(echo $tothers | head -c 300)"
  elif ! printf '%s\n' "$tsyms" | grep -q ' firkin_fault_env_crash@@FIRKIN_TESTING_0$'; then
    bad "libfirkin_testing: the hooks are not under the version node FIRKIN_TESTING_0"
  else ok "libfirkin_testing exports firkin.h and firkin_testing.h (hooks under FIRKIN_TESTING_0)"; fi
fi

# 3. SONAME
soname=$(readelf -d "$lib" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" = "libfirkin.so.0" ]; then ok "SONAME is libfirkin.so.0"
else bad "SONAME is '$soname', expected libfirkin.so.0"; fi

# 4. No undefined C++ runtime leaking into the interface: the library must not
#    export typeinfo/vtables (covered by 1) and must link (ldd resolves).
if ldd "$lib" >/dev/null 2>&1 && ! ldd "$lib" | grep -q 'not found'; then ok "ldd resolves every dependency"
else bad "ldd reports unresolved dependencies"; fi

# 5. Header and library versions agree (a C program).
out=$("$ver" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q '^[0-9]* passed, 0 failed$'; then
  ok "abi_version: header and library versions agree"
else bad "abi_version failed (rc $rc)"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
