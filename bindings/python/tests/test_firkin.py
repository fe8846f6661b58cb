"""pytest: the firkin package's API (put/get/delete, typed errors, handles,
batches, snapshots, namespaces, conditional writes, iteration, options, threads)."""
import os
import threading

import pytest

import firkin


def test_put_get_delete(path):
    with firkin.DB(path) as db:
        db.put(b"k", b"v")
        assert db.get(b"k") == b"v"
        db.put(b"bin\0key", b"\0\1\0")
        assert db.get(b"bin\0key") == b"\0\1\0"
        db.put(b"empty", b"")
        assert db.get(b"empty") == b""
        db.delete(b"k")
        assert db.get(b"k") is None
        assert db.get(b"k", b"dflt") == b"dflt"
        assert not db.contains(b"k")
        big = os.urandom(1 << 20)
        db.put(b"big", big)
        assert db.get(b"big") == big


def test_typed_errors(path, tmp_path):
    with firkin.DB(path) as db:
        with pytest.raises(firkin.InvalidArgumentError) as ei:
            db.put(b"", b"v")
        assert ei.value.code == -2 and ei.value.status == "INVALID_ARGUMENT" and ei.value.message
        assert isinstance(ei.value, ValueError) and isinstance(ei.value, firkin.FirkinError)
        with pytest.raises(firkin.TooLargeError):
            db.put(b"k" * 65536, b"v")
        with pytest.raises(firkin.NamespaceNotFoundError):
            db.namespace("nope", create=False)
        with pytest.raises(firkin.BusyError):
            firkin.DB(path)
    with pytest.raises(firkin.NotFoundError):
        firkin.DB(str(tmp_path / "missing"), create_if_missing=False)


def test_one_class_per_status():
    seen = set()
    for code, name in firkin.STATUS.items():
        if code == 0:
            continue
        cls = firkin.errors.error_class(code)
        assert cls is not firkin.FirkinError and issubclass(cls, firkin.FirkinError)
        assert cls.__name__ == "".join(p.capitalize() for p in name.split("_")) + "Error"
        assert getattr(firkin, cls.__name__) is cls
        seen.add(cls)
    assert len(seen) == 21
    e = firkin.error(-5, "held")
    assert isinstance(e, firkin.BusyError) and str(e) == "BUSY: held"


def test_close_twice_and_use_after_close(path):
    db = firkin.DB(path)
    ns, snap, it, b = db.namespace("n"), db.snapshot(), db.iterate(), firkin.Batch()
    for h in (it, snap, ns, b):
        h.close()
        h.close()
        assert h.closed
    pytest.raises(firkin.ClosedError, next, it)
    pytest.raises(firkin.ClosedError, snap.get, b"k")
    pytest.raises(firkin.ClosedError, ns.put, b"k", b"v")
    pytest.raises(firkin.ClosedError, b.put, b"k", b"v")
    db.close()
    db.close()
    pytest.raises(firkin.ClosedError, db.get, b"k")
    pytest.raises(firkin.ClosedError, lambda: b"k" in db)


def test_batch_snapshot_namespaces(path):
    with firkin.DB(path) as db, db.create_namespace("users") as users, firkin.Batch() as batch:
        db.put(b"a", b"old")
        with db.snapshot() as snap:
            batch.put(b"a", b"new").put(b"ada", b"lovelace", ns=users).delete(b"zz")
            assert len(batch) == 3
            with firkin.WriteOptions(sync="always") as wo:
                db.write(batch, wo)
                assert wo.sync == "always"
            assert db.get(b"a") == b"new"
            assert users.get(b"ada") == b"lovelace"
            assert snap.get(b"a") == b"old"
            assert snap.at(users).get(b"ada") is None
            assert b"a" in snap and b"ada" not in snap.at(users)
            assert db.last_seq() > snap.seq
        assert sorted(db.namespaces()) == ["default", "users"]
        with pytest.raises(firkin.ExistsError):
            db.create_namespace("users")
        db.drop_namespace("users")
        pytest.raises(firkin.NamespaceNotFoundError, users.get, b"ada")
    with pytest.raises(ValueError):
        firkin.WriteOptions(sync="sometimes")


def test_conditional(path):
    with firkin.DB(path) as db:
        assert db.put_if_absent(b"k", b"1")
        assert not db.put_if_absent(b"k", b"2")
        assert db.compare_and_swap(b"k", b"1", b"2")
        assert not db.compare_and_swap(b"k", b"1", b"3")
        v = db.version(b"k")
        assert v > 0
        assert db.compare_and_swap_version(b"k", v, b"4")
        assert not db.compare_and_swap_version(b"k", v, b"5")
        assert db.version(b"absent") == 0


def test_iterate_and_multi_get(path):
    with firkin.DB(path) as db:
        want = {b"key-%d" % i: b"value-%d" % i for i in range(3000)}
        want[b"big"] = b"x" * 200000
        for k, v in want.items():
            db.put(k, v)
        with db.iterate() as it:
            got = dict(it)
        assert got == want
        assert db.multi_get([b"key-1", b"absent", bytearray(b"big")]) == [b"value-1", None,
                                                                         b"x" * 200000]
        assert db.count() == len(want)


def test_options(path):
    with firkin.Options(sync_mode="always", segment_size="1M") as o:
        assert o.get("sync_mode") == "always"
        pytest.raises(firkin.InvalidArgumentError, o.set, "no_such_option", 1)
        with firkin.DB(path, o) as db:
            db.put(b"k", b"v")
            db.sync()
            assert db.stats().strip().startswith("{")
    with pytest.raises(TypeError):
        firkin.DB(path, firkin.Options(), read_only=True)


def test_read_only_open(path):
    with firkin.DB(path) as db:
        db[b"k"] = b"v"
    with firkin.DB(path, read_only=True) as ro:
        assert ro[b"k"] == b"v"
        with pytest.raises(firkin.ReadOnlyError):
            ro[b"k2"] = b"v"


def test_read_only_beside_writer_refresh(path):
    with firkin.DB(path) as w:
        w[b"k"] = b"v1"
        w.sync()
        with firkin.DB(path, read_only=True) as ro:
            assert ro[b"k"] == b"v1"
            w[b"k"] = b"v2"
            w[b"new"] = b"x"
            w.sync()
            assert ro[b"k"] == b"v1"  # fixed until refresh
            assert b"new" not in ro
            ro.refresh()
            assert ro[b"k"] == b"v2" and ro[b"new"] == b"x"
            assert ro.last_seq() == w.last_seq()
            assert '"mode":"reader"' in ro.stats()
            w.refresh()  # a writable handle: nothing to do
        with pytest.raises(firkin.ClosedError):
            ro.refresh()


def test_threads(path):
    errors = []
    with firkin.DB(path) as db:
        def work(t):
            try:
                for i in range(300):
                    k = b"t%d-%d" % (t, i)
                    db.put(k, k)
                    assert db.get(k) == k
                    try:
                        db.namespace("missing-%d" % t, create=False)
                    except firkin.NamespaceNotFoundError as e:
                        assert e.message
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        ths = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        assert errors == []
        assert db.count() == 1200


def test_verify_and_maintenance(path):
    with firkin.DB(path) as db:
        for i in range(100):
            db[b"k%d" % i] = b"v"
        for i in range(50):
            del db[b"k%d" % i]
        db.checkpoint()
        db.compact()
        assert '"ok":true' in db.verify().replace(" ", "")
    assert '"ok":true' in firkin.verify_path(path).replace(" ", "")
    assert firkin.version().count(".") == 2


def test_compact_and_verify_progress(path):
    opts = firkin.Options()
    opts.set("segment_size", "64K")
    opts.set("auto_compact", "false")
    with firkin.DB(path, opts) as db:
        for _ in range(3):
            for i in range(600):
                db[b"k%d" % i] = b"v" * 300
        calls = []
        db.compact(progress=lambda done, total: calls.append((done, total)))
        assert calls and calls[0][0] == 0 and calls[-1][0] == calls[-1][1] > 0
        assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
        calls.clear()
        report = db.verify(progress=lambda done, total: calls.append((done, total)))
        assert '"ok":true' in report
        assert calls and calls[-1][0] == calls[-1][1] > 0

        def boom(done, total):
            raise KeyboardInterrupt("from progress")
        with pytest.raises(KeyboardInterrupt):
            db.verify(progress=boom)  # raised once the call is done
    calls = []
    firkin.verify_path(path, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] > 0
