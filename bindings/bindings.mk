# bindings/bindings.mk — the Go, Java, C# and Python bindings.
# Included by the top-level Makefile; every path is relative to the
# repository root. Outputs go under $(BUILD)/bindings (never committed).
#
#   make bindings            build the jar, the C# assembly, the JNI and P/Invoke
#                            libraries, and the Go package
#   make test-bindings       build and run every binding suite (conformance
#                            cases, idiomatic tests, leak checks, examples);
#                            each ends with "N passed, N failed", appended to
#                            $(BUILD)/test-summary.txt
#   make test-go | test-java | test-csharp | test-python    one language
#   make bench-bindings      per-call overhead against C (docs/bindings.md)
#   make install-bindings PREFIX=/usr/local DESTDIR=...
#   make install-python PREFIX=/usr/local DESTDIR=...   the Python package (pip, offline)
#
# Needs libfirkin from meson: $(BUILD)/capi/libfirkin.so.

FK_ROOT     := $(CURDIR)
FK_BUILD    := $(abspath $(BUILD))
FK_LIBDIR   := $(FK_BUILD)/capi
FK_LIB      := $(FK_LIBDIR)/libfirkin.so
FK_OUT      := $(FK_BUILD)/bindings
FK_LOGS     := $(FK_OUT)/logs
FK_SUMMARY  := $(FK_BUILD)/test-summary.txt
FK_CASES    := $(FK_ROOT)/tests/conformance
FK_SUITE    := $(FK_ROOT)/bindings/tools/suite.sh
FK_SWIG     := swig -Werror -Wall
FK_SWIG_IN  := $(wildcard bindings/swig/*.i bindings/swig/*.swg) capi/firkin.h capi/firkin_export.h
FK_CC       ?= gcc
FK_CFLAGS   := -O2 -fPIC -Wall -Wextra -Werror -Icapi
# The wrapper libraries find libfirkin next to themselves once installed
# ($ORIGIN); in the tree the tests set LD_LIBRARY_PATH.
FK_WRAP_LDFLAGS := -shared -L$(FK_LIBDIR) -lfirkin -Wl,-rpath,'$$ORIGIN' -Wl,--no-undefined
FK_ENV      := LD_LIBRARY_PATH=$(FK_LIBDIR)$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}

FK_JAVA_HOME ?= $(shell dirname $$(dirname $$(readlink -f $$(command -v javac) 2>/dev/null)) 2>/dev/null)
FK_JUNIT     := /usr/share/java/junit-platform-console-standalone.jar
FK_JUNIT_CP  := /usr/share/java/junit-jupiter-api.jar:/usr/share/java/apiguardian-api.jar:/usr/share/java/opentest4j.jar:/usr/share/java/junit-platform-commons.jar
FK_NUNIT_FW  := /usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll
FK_MCS       := mcs -nologo -langversion:7.2 -warnaserror+ -optimize+ -nowarn:1591
PYTHON       ?= python3

# Go: offline, no toolchain download, caches under the build directory. The
# interface hash in CGO_CPPFLAGS makes `go` rebuild the SWIG package when
# firkin.i or firkin.h change (it does not track files outside the package).
FK_IFACE_HASH = $(shell cat $(FK_SWIG_IN) | sha1sum | cut -c1-16)
FK_GOENV = GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=1 \
           GOCACHE=$(FK_OUT)/go/cache GOPATH=$(FK_OUT)/go/path GOTMPDIR= \
           PKG_CONFIG_PATH=$(FK_BUILD)/meson-uninstalled$${PKG_CONFIG_PATH:+:$$PKG_CONFIG_PATH} \
           CGO_CPPFLAGS="-DFKB_IFACE_HASH=$(FK_IFACE_HASH)" $(FK_ENV)

.PHONY: bindings bindings-go bindings-java bindings-csharp test-go test-java test-csharp \
        test-python install-python bench-bindings install-bindings install-java install-csharp \
        install-go fk-check-lib fk-python-ext

fk-check-lib:
	@[ -e $(FK_LIB) ] || { echo "bindings: $(FK_LIB) is missing; build the library first (make build)"; exit 1; }

bindings: bindings-go bindings-java bindings-csharp

# ---------------------------------------------------------------- Go --------
bindings-go: fk-check-lib
	@mkdir -p $(FK_OUT)/go
	cd bindings/go && $(FK_GOENV) go build ./... && $(FK_GOENV) go vet . && \
	  $(FK_GOENV) go vet -unsafeptr=false -cgocall=false ./internal/fkraw
	@# SWIG warnings are errors: go build runs SWIG without -Werror, so check here.
	@mkdir -p $(FK_OUT)/go/swigcheck
	$(FK_SWIG) -go -cgo -intgosize 64 -module fkraw -Ibindings/swig -Icapi \
	  -outdir $(FK_OUT)/go/swigcheck -o $(FK_OUT)/go/swigcheck/fkraw_wrap.c bindings/go/internal/fkraw/fkraw.swig

test-go: bindings-go
	@$(FK_SUITE) go-conformance lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  sh -c 'cd bindings/go && $(FK_GOENV) FIRKIN_CONFORMANCE_DIR=$(FK_CASES) go test -count=1 -v -run "^TestConformance$$" .'; r1=$$?; \
	$(FK_SUITE) go-idiomatic gotest $(FK_SUMMARY) $(FK_LOGS) -- \
	  sh -c 'cd bindings/go && $(FK_GOENV) go test -count=1 -v .'; r2=$$?; \
	$(FK_SUITE) go-race gotest $(FK_SUMMARY) $(FK_LOGS) -- \
	  sh -c 'cd bindings/go && $(FK_GOENV) go test -count=1 -race -v -run "Concurrent|PerGoroutine|Close" .'; r3=$$?; \
	$(FK_SUITE) go-leak lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  sh -c 'cd bindings/go && $(FK_GOENV) go run ./internal/leakcheck'; r4=$$?; \
	$(FK_SUITE) go-example lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  sh -c 'rm -rf $(FK_OUT)/go/example-db && cd examples/go && $(FK_GOENV) go run . $(FK_OUT)/go/example-db && echo "1 passed, 0 failed"'; r5=$$?; \
	[ $$r1$$r2$$r3$$r4$$r5 = 00000 ]

# ---------------------------------------------------------------- Java ------
FK_JOUT := $(FK_OUT)/java
FK_JAR  := $(FK_JOUT)/firkin.jar
FK_JNI  := $(FK_JOUT)/libfirkin_jni.so
FK_JSRC := $(wildcard bindings/java/src/org/firkin/*.java)
FK_JTST := $(wildcard bindings/java/test/org/firkin/*.java)

$(FK_JOUT)/gen.stamp: $(FK_SWIG_IN) bindings/java/firkin_java.i
	@rm -rf $(FK_JOUT)/gen && mkdir -p $(FK_JOUT)/gen/org/firkin
	$(FK_SWIG) -java -package org.firkin -Ibindings/swig -Icapi -outdir $(FK_JOUT)/gen/org/firkin \
	  -o $(FK_JOUT)/firkin_java_wrap.c bindings/java/firkin_java.i
	@touch $@

$(FK_JNI): $(FK_JOUT)/gen.stamp | fk-check-lib
	$(FK_CC) $(FK_CFLAGS) -fno-strict-aliasing -I$(FK_JAVA_HOME)/include -I$(FK_JAVA_HOME)/include/linux \
	  $(FK_JOUT)/firkin_java_wrap.c -o $@ $(FK_WRAP_LDFLAGS)

$(FK_JAR): $(FK_JOUT)/gen.stamp $(FK_JSRC)
	@rm -rf $(FK_JOUT)/classes && mkdir -p $(FK_JOUT)/classes
	javac -Xlint:all -Werror --release 17 -d $(FK_JOUT)/classes $(FK_JOUT)/gen/org/firkin/*.java $(FK_JSRC)
	jar --create --file $@ -C $(FK_JOUT)/classes .

$(FK_JOUT)/test.stamp: $(FK_JAR) $(FK_JTST) examples/java/Quickstart.java
	@rm -rf $(FK_JOUT)/test-classes && mkdir -p $(FK_JOUT)/test-classes
	javac -Xlint:all,-processing -Werror --release 17 -d $(FK_JOUT)/test-classes -cp $(FK_JAR):$(FK_JUNIT_CP) $(FK_JTST)
	javac -Xlint:all -Werror --release 17 -d $(FK_JOUT)/example-classes -cp $(FK_JAR) examples/java/Quickstart.java
	@touch $@

bindings-java: $(FK_JAR) $(FK_JNI)

FK_JAVA_RUN = env $(FK_ENV) java -Xcheck:jni -Djava.library.path=$(FK_JOUT)

test-java: bindings-java $(FK_JOUT)/test.stamp
	@$(FK_SUITE) java-conformance lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  $(FK_JAVA_RUN) -cp $(FK_JAR):$(FK_JOUT)/test-classes org.firkin.ConformanceRunner $(FK_CASES); r1=$$?; \
	$(FK_SUITE) java-junit junit $(FK_SUMMARY) $(FK_LOGS) -- \
	  $(FK_JAVA_RUN) -jar $(FK_JUNIT) --class-path $(FK_JAR):$(FK_JOUT)/test-classes \
	  --select-package org.firkin --details=tree --disable-banner --disable-ansi-colors; r2=$$?; \
	$(FK_SUITE) java-leak lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  $(FK_JAVA_RUN) -Xms256m -Xmx256m -XX:+AlwaysPreTouch -cp $(FK_JAR):$(FK_JOUT)/test-classes org.firkin.LeakCheck; r3=$$?; \
	$(FK_SUITE) java-example lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  sh -c 'rm -rf $(FK_JOUT)/example-db && $(FK_JAVA_RUN) -cp $(FK_JAR):$(FK_JOUT)/example-classes Quickstart $(FK_JOUT)/example-db && echo "1 passed, 0 failed"'; r4=$$?; \
	[ $$r1$$r2$$r3$$r4 = 0000 ]

# ---------------------------------------------------------------- C# --------
FK_COUT := $(FK_OUT)/csharp
FK_DLL  := $(FK_COUT)/Firkin.dll
FK_CSSO := $(FK_COUT)/libfirkin_csharp.so
FK_CSRC := $(wildcard bindings/csharp/src/*.cs)
FK_CTST := $(wildcard bindings/csharp/test/*.cs)

$(FK_COUT)/gen.stamp: $(FK_SWIG_IN) bindings/csharp/firkin_csharp.i
	@rm -rf $(FK_COUT)/gen && mkdir -p $(FK_COUT)/gen
	$(FK_SWIG) -csharp -namespace Firkin -dllimport firkin_csharp -Ibindings/swig -Icapi \
	  -outdir $(FK_COUT)/gen -o $(FK_COUT)/firkin_csharp_wrap.c bindings/csharp/firkin_csharp.i
	@touch $@

$(FK_CSSO): $(FK_COUT)/gen.stamp | fk-check-lib
	$(FK_CC) $(FK_CFLAGS) $(FK_COUT)/firkin_csharp_wrap.c -o $@ $(FK_WRAP_LDFLAGS)

$(FK_DLL): $(FK_COUT)/gen.stamp $(FK_CSRC) bindings/csharp/Firkin.dll.config
	$(FK_MCS) -unsafe -target:library -doc:$(FK_COUT)/Firkin.xml -out:$@ $(FK_COUT)/gen/*.cs $(FK_CSRC)
	cp bindings/csharp/Firkin.dll.config $(FK_COUT)/Firkin.dll.config

$(FK_COUT)/test.stamp: $(FK_DLL) $(FK_CTST) examples/csharp/Quickstart.cs
	$(FK_MCS) -target:library -out:$(FK_COUT)/Firkin.Tests.dll -r:$(FK_DLL) -r:$(FK_NUNIT_FW) bindings/csharp/test/FirkinTests.cs bindings/csharp/test/BackupTests.cs \
	  bindings/csharp/test/TransactionTests.cs bindings/csharp/test/TtlTests.cs \
	  bindings/csharp/test/CryptTests.cs bindings/csharp/test/OrderedTests.cs bindings/csharp/test/RangesTests.cs \
	  bindings/csharp/test/ReviewTests.cs bindings/csharp/test/LifetimeTests.cs bindings/csharp/test/TempDirFixture.cs
	$(FK_MCS) -target:exe -out:$(FK_COUT)/FirkinConformance.exe -r:$(FK_DLL) bindings/csharp/test/Conformance.cs
	$(FK_MCS) -target:exe -out:$(FK_COUT)/FirkinLeakCheck.exe -r:$(FK_DLL) bindings/csharp/test/LeakCheck.cs
	$(FK_MCS) -target:exe -out:$(FK_COUT)/FirkinBench.exe -r:$(FK_DLL) bindings/csharp/test/Bench.cs
	$(FK_MCS) -target:exe -out:$(FK_COUT)/Quickstart.exe -r:$(FK_DLL) examples/csharp/Quickstart.cs
	cp $(FK_NUNIT_FW) $(FK_COUT)/
	@touch $@

bindings-csharp: $(FK_DLL) $(FK_CSSO)

test-csharp: bindings-csharp $(FK_COUT)/test.stamp
	@$(FK_SUITE) csharp-conformance lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  sh -c 'cd $(FK_COUT) && $(FK_ENV) mono --debug FirkinConformance.exe $(FK_CASES)'; r1=$$?; \
	$(FK_SUITE) csharp-nunit nunit $(FK_SUMMARY) $(FK_LOGS) -- \
	  sh -c 'cd $(FK_COUT) && $(FK_ENV) nunit-console -nologo -noshadow -nodots Firkin.Tests.dll'; r2=$$?; \
	$(FK_SUITE) csharp-leak lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  sh -c 'cd $(FK_COUT) && $(FK_ENV) mono FirkinLeakCheck.exe'; r3=$$?; \
	$(FK_SUITE) csharp-example lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  sh -c 'rm -rf $(FK_COUT)/example-db && cd $(FK_COUT) && $(FK_ENV) mono Quickstart.exe $(FK_COUT)/example-db && echo "1 passed, 0 failed"'; r4=$$?; \
	[ $$r1$$r2$$r3$$r4 = 0000 ]

# ---------------------------------------------------------------- Python ----
# The package is bindings/python (pytest from Debian's python3-pytest; the
# default python3 may lack it, e.g. a pyenv one, so fall back to Debian's).
FK_PYDIR  := $(FK_ROOT)/bindings/python
# The optional C accelerator for gets (bindings/python/_firkin_speedups.c) is
# built for the tests into FK_PYEXT when Python's headers are installed
# (python3-dev); FIRKIN_EXPECT_SPEEDUPS then makes the suite check that it is
# in use. Without them only the ctypes path is tested (and said so).
FK_PYEXT  := $(FK_OUT)/python-ext
FK_PYINC   = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
FK_PYSUF   = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
FK_PYSO    = $(FK_PYEXT)/_firkin_speedups$(FK_PYSUF)
FK_PYENV = FIRKIN_LIB=$(FK_LIBDIR)/libfirkin.so PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$(FK_PYDIR):$(FK_PYEXT) \
           FIRKIN_EXPECT_SPEEDUPS=$$([ -e $(FK_PYSO) ] && echo 1 || echo 0)
FK_PYTEST = $(shell $(PYTHON) -c 'import pytest' 2>/dev/null && echo $(PYTHON) || echo /usr/bin/python3) \
            -m pytest -p no:cacheprovider -v $(FK_PYDIR)/tests

# The interpreter that has setuptools, wheel and pip (Debian's when the default lacks them).
FK_PYPIP = $(shell $(PYTHON) -c 'import setuptools, wheel, pip' 2>/dev/null && echo $(PYTHON) || echo /usr/bin/python3)
FK_PYSITE = $(PREFIX)/lib/$(shell $(FK_PYPIP) -c 'import sys; print("python%d.%d" % sys.version_info[:2])')/dist-packages

# Installs the package with pip, offline, into PREFIX/lib/pythonX.Y/dist-packages
# (on Debian's sys.path for /usr/local), built from a copy so the tree stays clean.
install-python:
	@rm -rf $(FK_OUT)/python-src && mkdir -p $(FK_OUT) && cp -R bindings/python $(FK_OUT)/python-src
	rm -rf $(FK_OUT)/python-src/build $(FK_OUT)/python-src/*.egg-info
	@# The installed package knows where the library was installed (a custom
	@# PREFIX is not on the loader's path); FIRKIN_LIB still overrides it.
	printf '# Written by make install-python.\nLIBDIR = "%s"\n' "$(PREFIX)/$(or $(LIBDIR),lib)" \
	  > $(FK_OUT)/python-src/firkin/_libdir.py
	$(FK_PYPIP) -m pip install --no-index --no-build-isolation --no-deps --no-cache-dir \
	  --disable-pip-version-check --upgrade --target $(DESTDIR)$(FK_PYSITE) $(FK_OUT)/python-src

fk-python-ext:
	@mkdir -p $(FK_PYEXT); rm -f $(FK_PYEXT)/_firkin_speedups*; \
	if [ -f "$(FK_PYINC)/Python.h" ]; then \
	  $(FK_CC) -O2 -Wall -Wextra -Werror -shared -fPIC -I$(FK_PYINC) \
	    bindings/python/_firkin_speedups.c -o $(FK_PYSO) || exit 1; \
	else echo "test-python: no Python headers (python3-dev): the ctypes path only"; fi

test-python: fk-check-lib fk-python-ext
	@$(FK_SUITE) python-conformance lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  env $(FK_PYENV) $(PYTHON) bindings/python/tests/conformance.py $(FK_CASES); r1=$$?; \
	$(FK_SUITE) python-conformance-ctypes lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  env $(FK_PYENV) FIRKIN_PY_SPEEDUPS=0 FIRKIN_EXPECT_SPEEDUPS=0 $(PYTHON) bindings/python/tests/conformance.py $(FK_CASES); r5=$$?; \
	$(FK_SUITE) python-pytest lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  env $(FK_PYENV) $(FK_PYTEST); r2=$$?; \
	$(FK_SUITE) python-leak lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  env $(FK_PYENV) $(PYTHON) bindings/python/tests/leakcheck.py; r3=$$?; \
	$(FK_SUITE) python-example lines $(FK_SUMMARY) $(FK_LOGS) -- \
	  sh -c 'rm -rf $(FK_OUT)/python-example-db && env $(FK_PYENV) $(PYTHON) examples/python/quickstart.py $(FK_OUT)/python-example-db && echo "1 passed, 0 failed"'; r4=$$?; \
	[ $$r1$$r2$$r3$$r4$$r5 = 00000 ]

# ---------------------------------------------------------------- all -------
test-bindings:: fk-check-lib
	@fail=""; \
	for l in go java csharp python; do \
	  $(MAKE) --no-print-directory test-$$l || fail="$$fail $$l"; \
	done; \
	if [ -n "$$fail" ]; then echo "binding suites failed:$$fail"; exit 1; fi

# ---------------------------------------------------------------- bench -----
# Per-call cost against C: get of a 100-byte value and put, 1M calls each;
# then a get at 1 and 2 threads on one database and the gate alone (Go:
# GetParallel, Gate*Parallel at -cpu 1,2; Java and C#: their "parallel round"
# lines; wall-clock ns per call, so perfect scaling halves it at 2 threads).
bench-bindings: bindings $(FK_JOUT)/test.stamp $(FK_COUT)/test.stamp
	@mkdir -p $(FK_OUT)/bench
	$(FK_CC) -O2 -Icapi bindings/bench/c_baseline.c -o $(FK_OUT)/bench/c_baseline -L$(FK_LIBDIR) -lfirkin
	@echo "== C ==";      $(FK_ENV) $(FK_OUT)/bench/c_baseline $(FK_OUT)/bench/db-c
	@echo "== Go ==";     cd bindings/go && $(FK_GOENV) go test -run XXX -bench . -benchtime 1000000x .
	@echo "== Go, parallel (as Java's and C#'s parallel rounds) =="; cd bindings/go && $(FK_GOENV) go test -run XXX -bench 'GetParallel|Gate.*Parallel' -cpu 1,2 .
	@echo "== Java ==";   $(FK_ENV) java -Djava.library.path=$(FK_JOUT) -cp $(FK_JAR):$(FK_JOUT)/test-classes org.firkin.Bench $(FK_OUT)/bench/db-java
	@echo "== C# ==";     cd $(FK_COUT) && $(FK_ENV) mono -O=all FirkinBench.exe $(FK_OUT)/bench/db-cs
	@$(MAKE) --no-print-directory fk-python-ext
	@echo "== Python (with _firkin_speedups if built) =="; env $(FK_PYENV) $(PYTHON) bindings/python/tests/bench.py $(FK_OUT)/bench/db-py
	@echo "== Python, ctypes only =="; env $(FK_PYENV) FIRKIN_PY_SPEEDUPS=0 $(PYTHON) bindings/python/tests/bench.py $(FK_OUT)/bench/db-py2

# ---------------------------------------------------------------- install ---
# Installs every binding this machine can build and skips, saying why, the
# others (no SWIG, no JDK, no Mono): `make install` never stops half-way.
#   PREFIX/LIBDIR:           libfirkin_jni.so, libfirkin_csharp.so (RUNPATH $ORIGIN:
#                            libfirkin.so.0 is installed in the same directory)
#   PREFIX/share/java:       firkin.jar (+ org/firkin/install.properties naming the
#                            installed libfirkin_jni.so, so no -Djava.library.path is needed)
#   PREFIX/lib/mono/firkin:  Firkin.dll, Firkin.xml, Firkin.dll.config (dllmap ->
#                            PREFIX/LIBDIR/libfirkin_csharp.so)
#   PREFIX/share/firkin/bindings/{go,swig}: the Go module (firkin.dev/firkin) and its
#                            SWIG interface: sources only, listed file by file (no test
#                            binary or other build output can slip in)
LIBDIR ?= lib
FK_ILIB   = $(DESTDIR)$(PREFIX)/$(LIBDIR)
FK_ISHARE = $(DESTDIR)$(PREFIX)/share/firkin/bindings
FK_GO_SRC = $(filter-out %_test.go,$(wildcard bindings/go/*.go)) bindings/go/go.mod
FK_GO_RAW = $(wildcard bindings/go/internal/fkraw/*.go bindings/go/internal/fkraw/*.swig)
FK_SWIG_FILES = $(wildcard bindings/swig/*.i bindings/swig/*.swg)
FK_HAVE   = command -v $(1) >/dev/null 2>&1

install-bindings: fk-check-lib
	@skipped=""; \
	if $(call FK_HAVE,swig) && $(call FK_HAVE,javac) && $(call FK_HAVE,jar) && [ -f "$(FK_JAVA_HOME)/include/jni.h" ]; then \
	  $(MAKE) --no-print-directory install-java || exit 1; \
	else skipped="$$skipped Java(needs swig, a JDK: make deps-bindings)"; fi; \
	if $(call FK_HAVE,swig) && $(call FK_HAVE,mcs); then \
	  $(MAKE) --no-print-directory install-csharp || exit 1; \
	else skipped="$$skipped C#(needs swig, mcs: mono-devel)"; fi; \
	$(MAKE) --no-print-directory install-go || exit 1; \
	if ! $(call FK_HAVE,swig) || ! $(call FK_HAVE,go); then \
	  echo "install-bindings: Go module installed as source; building it needs swig and go"; fi; \
	if [ -n "$$skipped" ]; then echo "install-bindings: skipped:$$skipped"; fi

install-java: bindings-java
	install -d $(FK_ILIB) $(DESTDIR)$(PREFIX)/share/java
	install -m 0755 $(FK_JNI) $(FK_ILIB)/
	@rm -rf $(FK_JOUT)/install && mkdir -p $(FK_JOUT)/install/org/firkin
	printf 'jni.path=%s\n' "$(PREFIX)/$(LIBDIR)/libfirkin_jni.so" > $(FK_JOUT)/install/org/firkin/install.properties
	cp $(FK_JAR) $(FK_JOUT)/install/firkin.jar
	jar --update --file $(FK_JOUT)/install/firkin.jar -C $(FK_JOUT)/install org/firkin/install.properties
	install -m 0644 $(FK_JOUT)/install/firkin.jar $(DESTDIR)$(PREFIX)/share/java/firkin.jar

install-csharp: bindings-csharp
	install -d $(FK_ILIB) $(DESTDIR)$(PREFIX)/lib/mono/firkin
	install -m 0755 $(FK_CSSO) $(FK_ILIB)/
	install -m 0644 $(FK_DLL) $(FK_COUT)/Firkin.xml $(DESTDIR)$(PREFIX)/lib/mono/firkin/
	sed 's|target="libfirkin_csharp.so"|target="$(PREFIX)/$(LIBDIR)/libfirkin_csharp.so"|' bindings/csharp/Firkin.dll.config \
	  > $(DESTDIR)$(PREFIX)/lib/mono/firkin/Firkin.dll.config

install-go:
	rm -rf $(FK_ISHARE)/go $(FK_ISHARE)/swig
	install -d $(FK_ISHARE)/go/internal/fkraw $(FK_ISHARE)/swig
	install -m 0644 $(FK_GO_SRC) $(FK_ISHARE)/go/
	install -m 0644 $(FK_GO_RAW) $(FK_ISHARE)/go/internal/fkraw/
	install -m 0644 $(FK_SWIG_FILES) $(FK_ISHARE)/swig/
