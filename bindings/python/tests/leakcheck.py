#!/usr/bin/env python3
"""Loops of gets, iterators and handle open/close through the firkin package; resident
anonymous memory (RssAnon: Python and native heaps; the library's mapped log
files are page cache, not leaks) must stay flat. Ends with "N passed, N failed"."""
import gc
import os
import shutil
import sys
import time
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import firkin  # noqa: E402

LIMIT_KB = 16 * 1024


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return -1


def main():
    d = tempfile.mkdtemp(prefix="firkin-py-leak-")
    val = b"v" * 4096
    passed = failed = 0
    with firkin.DB(os.path.join(d, "db")) as db:
        for i in range(200):
            db.put(b"k%d" % i, val)

        def gets():
            for i in range(5000):
                db.get(b"k%d" % (i % 200))
                if i % 10 == 0:
                    db.multi_get([b"k1", b"nope"])

        def iterators():
            for _ in range(100):
                with db.iterate() as it:
                    assert sum(1 for _ in it) == 200

        def handles():
            for i in range(100):
                with db.namespace("leak") as ns:
                    ns.put(b"k", val)
                with db.snapshot() as s:
                    s.get(b"k0")
                with firkin.Batch() as b:
                    db.write(b.put(b"b", val))
                with firkin.Options(sync_mode="none"):
                    pass
                if i % 10 == 0:
                    with firkin.DB(os.path.join(d, "second")) as d2:
                        d2.put(b"x", val)

        tns = db.namespace("ttl")
        for _ in range(8):
            tns.put(b"h", val)
        tns.put(b"t", val, ttl=3600)

        def ttl_history():
            for i in range(1000):
                assert tns.ttl(b"t") is not None
                if i % 10 == 0:
                    assert len(tns.history(b"h")) > 0
                    with db.snapshot(at=time.time()):
                        pass

        for name, f in (("gets (get, multi_get)", gets), ("iterators (open, walk 200, close)", iterators),
                        ("handles (namespace, snapshot, batch, options, a second database)", handles),
                        ("ttl and history (ttl, history of 8 x 4 KiB versions, snapshot(at=))",
                         ttl_history)):
            for _ in range(2):
                f()
            gc.collect()
            before = rss_kb()
            for _ in range(10):
                f()
            gc.collect()
            after = rss_kb()
            ok = after - before <= LIMIT_KB
            print("%-70s RssAnon %7d KiB -> %7d KiB (%+d KiB) %s" % (name, before, after, after - before,
                                                              "flat" if ok else "GROWS"))
            passed, failed = passed + ok, failed + (not ok)
        tns.close()
    shutil.rmtree(d, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
