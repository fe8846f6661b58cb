#!/usr/bin/env bash
# tests/install/install_test.sh [BUILD]  —  `make test-install` (part of `make test`)
#
# A newcomer's install, checked from outside the source tree:
#   1. `make install PREFIX=<staging prefix under /tmp>`, then each language's
#      example (examples/c, go, java, csharp; python when a Python package is
#      installed) copied to a directory outside the tree, built against the
#      installed files only and run, with no LD_LIBRARY_PATH: the C program
#      through `pkg-config --cflags --libs firkin` (its rpath), Go through the
#      installed module, Java with only the installed jar on the class path
#      (and again with -Djava.library.path=PREFIX/lib as docs/bindings.md
#      shows), C# with MONO_PATH=PREFIX/lib/mono/firkin;
#   2. what was installed: no test binary or build output under share/, the
#      JNI and C# glue next to libfirkin.so.0 with RUNPATH $ORIGIN;
#   3. `make install PREFIX=/usr/local DESTDIR=<stage>`: the system layout
#      (PREFIX/lib, which /etc/ld.so.conf lists; no rpath in firkin.pc; the
#      C# dllmap names the final path, not the staging one);
#   4. `make install` on a machine with SWIG but no Mono (a PATH without mcs):
#      it completes, installs the rest and says that C# was skipped.
# Ends with "N passed, N failed"; exit status 0 only if nothing failed.
# The build's prefix and libdir are put back as they were at the end.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$root" && mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
stage=$(mktemp -d /tmp/firkin-install-test-XXXXXX)
# option NAME: the build's current value of a meson option.
option() {
  python3 -c 'import json, sys
print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == sys.argv[2]))' \
    "$build/meson-info/intro-buildoptions.json" "$1" 2>/dev/null
}
old_prefix=$(option prefix) old_libdir=$(option libdir)
restore() {
  [ -n "$old_prefix" ] && meson configure "$build" --prefix="$old_prefix" --libdir="$old_libdir" >/dev/null 2>&1
  rm -rf "$stage"
}
trap restore EXIT
prefix=$stage/prefix
work=$stage/work
mkdir -p "$work"
unset LD_LIBRARY_PATH
pass=0 fail=0 skip=0

ok() { echo "ok   $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1"; fail=$((fail + 1)); }
skipped() { echo "skip $1"; skip=$((skip + 1)); }
# run NAME CMD...: runs CMD in $work, logs its output; passes if it exits 0.
run() {
  local name=$1 log
  shift
  log=$stage/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '_').log
  if (cd "$work" && "$@") >"$log" 2>&1; then ok "$name"; else ko "$name"; sed 's/^/     | /' "$log" | tail -n 25; fi
}
have() { command -v "$1" >/dev/null 2>&1; }

# Pre-flight: the build's install plan must move to the staging prefix before
# anything is installed (an install plan left at /usr/local would write there).
# plan_under DIR: every path meson would install lies under DIR.
plan_under() {
  python3 - "$build/meson-info/intro-installed.json" "$1" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
bad = [d for d in plan.values() if not d.startswith(sys.argv[2] + "/")]
if not plan or bad:
    print("install plan outside", sys.argv[2], bad[:3])
    sys.exit(1)
PY
}
# preflight PREFIX: move the plan there (as make install does) and check it.
preflight() {
  if ! { meson configure "$build" --prefix="$1" --libdir=lib && ninja -C "$build" -j2; } >"$stage/preflight.log" 2>&1 ||
     ! plan_under "$1"; then
    cat "$stage/preflight.log"
    echo "install_test: the build's install plan did not move to $1; not installing"
    echo "$pass passed, $((fail + 1)) failed"
    exit 1
  fi
}
preflight "$prefix"
sys_lib_before=$(ls /usr/local/lib/libfirkin.so.0 /usr/local/lib/*/libfirkin.so.0 2>/dev/null)

# ---------------------------------------------------------------- install ----
echo "== make install PREFIX=$prefix"
run "make install PREFIX=<staging>" make -C "$root" --no-print-directory install BUILD="$build" PREFIX="$prefix"
run "the install plan was the staging prefix" plan_under "$prefix"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig

# ---------------------------------------------------------------- C ----------
mkdir -p "$work/c" && cp "$root/examples/c/example.c" "$work/c/"
run "C: pkg-config finds firkin in PREFIX/lib" sh -c 'pkg-config --libs firkin | grep -q -- "-L'"$prefix"'/lib "'
run "C: builds with pkg-config --cflags --libs firkin" \
  sh -c 'cd c && cc -std=c99 -Wall -Werror example.c $(pkg-config --cflags --libs firkin) -o example'
run "C: runs without LD_LIBRARY_PATH" sh -c 'cd c && ./example "$PWD/db" | grep -q "users has"'

# ---------------------------------------------------------------- Go ---------
if [ -f "$prefix/share/firkin/bindings/go/go.mod" ] && have go && have swig; then
  mkdir -p "$work/go" && cp "$root/examples/go/main.go" "$work/go/"
  cat >"$work/go/go.mod" <<EOF
module example.com/quickstart

go 1.19

require firkin.dev/firkin v0.0.0

replace firkin.dev/firkin => $prefix/share/firkin/bindings/go
EOF
  # Offline; the cache is content-addressed, so the build's own cache only saves time.
  goenv="GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=1 GOPATH=$stage/gopath GOCACHE=${GOCACHE:-$build/bindings/go/cache}"
  run "Go: builds against the installed module" sh -c "cd go && env $goenv go build -o quickstart ."
  run "Go: runs without LD_LIBRARY_PATH" sh -c 'cd go && ./quickstart "$PWD/db" | grep -q "users at the snapshot"'
else
  skipped "Go (module not installed, or no go/swig)"
fi

# ---------------------------------------------------------------- Java -------
jar=$prefix/share/java/firkin.jar
if [ -f "$jar" ]; then
  mkdir -p "$work/java" && cp "$root/examples/java/Quickstart.java" "$work/java/"
  run "Java: compiles against PREFIX/share/java/firkin.jar" sh -c "cd java && javac -cp '$jar' Quickstart.java"
  run "Java: runs with only the jar on the class path" \
    sh -c "cd java && java -cp '$jar:.' Quickstart \"\$PWD/db1\" | grep -q 'users at the snapshot'"
  run "Java: runs with -Djava.library.path=PREFIX/lib" \
    sh -c "cd java && java -Djava.library.path='$prefix/lib' -cp '$jar:.' Quickstart \"\$PWD/db2\" | grep -q 'users at the snapshot'"
else
  skipped "Java (not installed: no JDK or no swig)"
fi

# ---------------------------------------------------------------- C# ---------
dll=$prefix/lib/mono/firkin/Firkin.dll
if [ -f "$dll" ]; then
  mkdir -p "$work/csharp" && cp "$root/examples/csharp/Quickstart.cs" "$work/csharp/"
  run "C#: compiles against PREFIX/lib/mono/firkin/Firkin.dll" \
    sh -c "cd csharp && mcs -nologo -r:'$dll' -out:Quickstart.exe Quickstart.cs"
  run "C#: runs with MONO_PATH=PREFIX/lib/mono/firkin" \
    sh -c "cd csharp && MONO_PATH='$prefix/lib/mono/firkin' mono Quickstart.exe \"\$PWD/db\" | grep -q 'users at the snapshot'"
else
  skipped "C# (not installed: no Mono or no swig)"
fi

# ---------------------------------------------------------------- Python -----
# The Python package (bindings/python) installs itself when present.
pymod=$(find "$prefix" \( -path '*/firkin/__init__.py' -o -name firkin.py \) 2>/dev/null | head -n 1)
if [ -n "$pymod" ] && [ -f "$root/examples/python/quickstart.py" ]; then
  pydir=$(dirname "$pymod")
  case $pymod in */firkin/__init__.py) pydir=$(dirname "$pydir") ;; esac
  mkdir -p "$work/python" && cp "$root/examples/python/quickstart.py" "$work/python/"
  run "Python: the installed package runs the quickstart" \
    sh -c "cd python && PYTHONDONTWRITEBYTECODE=1 PYTHONPATH='$pydir' python3 quickstart.py \"\$PWD/db\""
else
  skipped "Python (no installed Python package under PREFIX)"
fi

# ---------------------------------------------------------------- layout -----
run "the library is in PREFIX/lib" test -e "$prefix/lib/libfirkin.so.0"
run "no test binary or build output under PREFIX/share" sh -c '
  bad=$(find "'"$prefix"'/share" -type f \( -name "*.test" -o -name "*.o" -o -name "*.so" -o -perm -u+x \))
  for f in $(find "'"$prefix"'/share" -type f); do
    [ "$(head -c 4 "$f" | od -An -c | tr -d " ")" = "177ELF" ] && bad="$bad $f"
  done
  [ -z "$bad" ] || { echo "unexpected: $bad"; exit 1; }'
for glue in libfirkin_jni.so libfirkin_csharp.so; do
  if [ -f "$prefix/lib/$glue" ]; then
    run "$glue: RUNPATH \$ORIGIN, next to libfirkin.so.0" sh -c \
      "readelf -d '$prefix/lib/$glue' | grep -q 'R.*PATH.*\\\$ORIGIN' && test -e '$prefix/lib/libfirkin.so.0'"
  fi
done

# ---------------------------------------------------------------- /usr/local via DESTDIR
dest=$stage/dest
echo "== make install PREFIX=/usr/local DESTDIR=$dest"
run "make install PREFIX=/usr/local DESTDIR=<stage>" \
  make -C "$root" --no-print-directory install BUILD="$build" PREFIX=/usr/local DESTDIR="$dest"
run "/usr/local: library in /usr/local/lib, a directory ld.so.conf lists" sh -c "
  test -e '$dest/usr/local/lib/libfirkin.so.0' &&
  cat /etc/ld.so.conf /etc/ld.so.conf.d/*.conf 2>/dev/null | grep -qxF /usr/local/lib"
run "/usr/local: firkin.pc has no rpath" sh -c "
  grep -q '^libdir=\${prefix}/lib\$' '$dest/usr/local/lib/pkgconfig/firkin.pc' &&
  ! grep -q rpath '$dest/usr/local/lib/pkgconfig/firkin.pc'"
if [ -f "$dest/usr/local/lib/mono/firkin/Firkin.dll.config" ]; then
  run "/usr/local: the C# dllmap names /usr/local/lib, not the staging directory" \
    grep -q 'target="/usr/local/lib/libfirkin_csharp.so"' "$dest/usr/local/lib/mono/firkin/Firkin.dll.config"
fi

# ---------------------------------------------------------------- no Mono ----
if have mcs && have swig; then
  nomono=$stage/nomono
  mkdir -p "$stage/bin"
  for d in /usr/local/bin /usr/bin /bin; do
    for f in "$d"/*; do
      n=${f##*/}
      [ -e "$stage/bin/$n" ] || [ "$n" = mcs ] || ln -s "$f" "$stage/bin/$n" 2>/dev/null
    done
  done
  echo "== make install without Mono (PATH without mcs), PREFIX=$nomono"
  preflight "$nomono"
  log=$stage/nomono.log
  if (PATH=$stage/bin make -C "$root" --no-print-directory install BUILD="$build" PREFIX="$nomono") >"$log" 2>&1 &&
     grep -q "skipped:.*C#" "$log" && [ -e "$nomono/lib/libfirkin.so.0" ] &&
     [ ! -e "$nomono/lib/mono/firkin/Firkin.dll" ] && [ -f "$nomono/share/firkin/bindings/go/go.mod" ]; then
    ok "make install without Mono completes and says C# was skipped"
  else
    ko "make install without Mono completes and says C# was skipped"
    tail -n 25 "$log" | sed 's/^/     | /'
  fi
else
  skipped "install without Mono (needs mcs and swig here to take mcs away)"
fi

# Item 15 of issue 9: a Go test binary once landed in bindings/go and was
# committed and installed. Whatever built above (and the binding suites
# before it) must leave no output in the source tree, not even an ignored one.
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  run "no build output in the bindings' and examples' source directories" sh -c "
    out=\$(git -C '$root' status --porcelain --ignored -- bindings/go bindings/java bindings/csharp bindings/swig \
          examples/c examples/go examples/java examples/csharp | grep '^!!');
    [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
fi
run "nothing was installed to /usr/local" \
  sh -c "[ \"\$(ls /usr/local/lib/libfirkin.so.0 /usr/local/lib/*/libfirkin.so.0 2>/dev/null)\" = '$sys_lib_before' ]"

echo "($skip skipped)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
