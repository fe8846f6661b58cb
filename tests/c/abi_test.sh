#!/usr/bin/env bash
# abi_test.sh LIBFIRKIN ABI_VERSION_EXE
# Checks the shared library's ABI surface: only firkin_* symbols exported,
# SONAME libfirkin.so.0, and (via abi_version) header/library versions agree.
# Ends with "N passed, N failed".
set -u
lib=${1:?usage: abi_test.sh LIBFIRKIN ABI_VERSION_EXE}
ver=${2:?usage: abi_test.sh LIBFIRKIN ABI_VERSION_EXE}
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

# 2. Every function declared in the public headers is exported.
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
missing=""
for f in $(grep -ho 'firkin_[a-z0-9_]*(' "$srcdir/capi/firkin.h" "$srcdir/capi/firkin_testing.h" |
           tr -d '(' | sort -u); do
  printf '%s\n' "$syms" | grep -q " $f\(@.*\)\?$" || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "every function of firkin.h and firkin_testing.h is exported"
else bad "declared but not exported:$missing"; fi

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
