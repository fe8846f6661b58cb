"""pytest: the optional C accelerator for gets and puts (_firkin_speedups)
gives exactly what the ctypes path gives: present, absent and empty values,
values larger than its buffer, keys that are not bytes, snapshots,
namespaces, dropped namespaces, closed handles and handles of another
database; puts of every such kind, failed puts raising the same error. When
the test runner built it (FIRKIN_EXPECT_SPEEDUPS=1), it must be in use."""
import os

import pytest

import firkin
from firkin import _native, db as dbmod


def test_in_use_when_built():
    expect = os.environ.get("FIRKIN_EXPECT_SPEEDUPS")
    if expect == "1":
        assert _native.fast_get is not None, "_firkin_speedups was built but is not in use"
    elif expect == "0" or os.environ.get("FIRKIN_PY_SPEEDUPS") == "0":
        assert _native.fast_get is None
    else:
        pytest.skip("FIRKIN_EXPECT_SPEEDUPS not set (not run by make test-python)")


def both(fn):
    """fn() with the accelerator (if any) and with ctypes alone: (fast, ctypes); each
    is ("ok", value) or ("raises", exception type). fn must be idempotent."""
    def run():
        try:
            return ("ok", fn())
        except Exception as e:  # noqa: BLE001 - the type is what is compared
            return ("raises", type(e))
    fast = run()
    saved = dbmod.fast_get, dbmod.fast_put
    dbmod.fast_get = dbmod.fast_put = None
    try:
        slow = run()
    finally:
        dbmod.fast_get, dbmod.fast_put = saved
    return fast, slow


def test_same_results_as_ctypes(path, tmp_path):
    big = os.urandom(10000)  # larger than the accelerator's 4 KiB buffer
    edge = os.urandom(4096)  # exactly its size
    with firkin.DB(path) as db, db.create_namespace("n") as ns:
        db.put(b"k", b"v")
        db.put(b"empty", b"")
        db.put(b"big", big)
        db.put(b"edge", edge)
        ns.put(b"k", b"in-ns")
        with db.snapshot() as snap:
            db.put(b"k", b"v2")
            db.delete(b"empty")
            cases = [
                lambda: db.get(b"k"),
                lambda: db.get(b"empty"),
                lambda: db.get(b"absent"),
                lambda: db.get(b"absent", b"dflt"),
                lambda: db.get(b"big"),
                lambda: db.get(b"edge"),
                lambda: db.get(bytearray(b"k")),
                lambda: db.get(memoryview(b"xkx")[1:2]),
                lambda: db.get(b""),
                lambda: db.get("k"),  # str: TypeError
                lambda: db.get(12),  # not bytes-like: TypeError
                lambda: db.get(b"x" * 70000),  # an oversized key
                lambda: snap.get(b"k"),
                lambda: snap.get(b"empty"),
                lambda: snap.at(ns).get(b"k"),
                lambda: ns.get(b"k"),
                lambda: ns.get(b"absent"),
                lambda: db[b"k"],
                lambda: db[b"absent"],
            ]
            for i, case in enumerate(cases):
                fast, slow = both(case)
                assert fast == slow, "case %d: accelerator %r, ctypes %r" % (i, fast, slow)
            assert both(lambda: db.get(b"big")) == (("ok", big), ("ok", big))
            assert both(lambda: snap.get(b"k")) == (("ok", b"v"), ("ok", b"v"))
            with firkin.DB(str(tmp_path / "other")) as other, other.snapshot() as foreign:
                # A snapshot of another database: the C API refuses it.
                fast, slow = both(lambda: foreign.at(ns).get(b"k"))
                assert fast == slow and fast[0] == "raises", (fast, slow)
        # Freed and closed views raise: they must not reach C as NULL, which
        # would read the latest state or the default namespace instead.
        fast, slow = both(lambda: snap.get(b"k"))
        assert fast == slow == ("raises", firkin.ClosedError), (fast, slow)
        ns2 = db.namespace("n")
        ns2.close()
        fast, slow = both(lambda: ns2.get(b"k"))
        assert fast == slow == ("raises", firkin.ClosedError), (fast, slow)
        with db.snapshot() as snap2:
            fast, slow = both(lambda: snap2.at(ns2).get(b"k"))  # closed namespace
            assert fast == slow == ("raises", firkin.ClosedError), (fast, slow)
            view = snap2.at(ns)
            assert both(lambda: view.get(b"k")) == (("ok", b"in-ns"), ("ok", b"in-ns"))
        fast, slow = both(lambda: view.get(b"k"))  # freed snapshot
        assert fast == slow == ("raises", firkin.ClosedError), (fast, slow)
        db.drop_namespace("n")
        fast, slow = both(lambda: ns.get(b"k"))
        assert fast == slow == ("raises", firkin.NamespaceNotFoundError)
    fast, slow = both(lambda: db.get(b"k"))
    assert fast == slow == ("raises", firkin.ClosedError)


def test_threads_share_it(path):
    import threading
    with firkin.DB(path) as db:
        for i in range(100):
            db.put(b"k%d" % i, b"v%d" % i * (i + 1))
        errors = []

        def reader():
            for _ in range(200):
                for i in range(100):
                    if db.get(b"k%d" % i) != b"v%d" % i * (i + 1):
                        errors.append(i)

        ts = [threading.Thread(target=reader) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert errors == []


def test_puts_same_as_ctypes(path):
    with firkin.DB(path) as db, db.create_namespace("n") as ns, \
            firkin.WriteOptions(sync="always") as wo:
        big = os.urandom(100000)
        cases = [
            lambda: (db.put(b"a", b"1"), db.get(b"a")),
            lambda: (db.put(b"e", b""), db.get(b"e")),
            lambda: (db.put(b"big", big), db.get(b"big") == big),
            lambda: (db.put(bytearray(b"ba"), b"x"), db.get(b"ba")),
            lambda: (db.put(b"mv", memoryview(b"yy")), db.get(b"mv")),
            lambda: (db.put(b"w", b"durable", wo), db.get(b"w")),
            lambda: (ns.put(b"a", b"in-ns"), ns.get(b"a"), db.get(b"a")),
            lambda: (db.put(b"t", b"ttl", ttl=60), db.get(b"t")),
            lambda: db.put(b"", b"v"),  # empty key: InvalidArgumentError
            lambda: db.put(b"x" * 70000, b"v"),  # oversized key
            lambda: db.put("str", b"v"),  # TypeError
            lambda: db.put(b"k", "str"),  # TypeError
        ]
        for i, case in enumerate(cases):
            fast, slow = both(case)
            assert fast == slow, "case %d: accelerator %r, ctypes %r" % (i, fast, slow)
        assert both(lambda: db.put(b"", b"v"))[0] == ("raises", firkin.InvalidArgumentError)
        ns2 = db.namespace("n")
        ns2.close()
        # A closed namespace raises; it must not write to the default one.
        fast, slow = both(lambda: ns2.put(b"stray", b"v"))
        assert fast == slow == ("raises", firkin.ClosedError)
        assert db.get(b"stray") is None
    fast, slow = both(lambda: db.put(b"a", b"v"))
    assert fast == slow == ("raises", firkin.ClosedError)
