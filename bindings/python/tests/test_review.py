"""pytest: handles are single-owner (no copy / pickle), closed cursors raise at
once, 32-bit length fields are checked, NUL bytes never reach C in a string."""
import copy
import os
import pickle

import pytest

import firkin
import firkin.db


def _handles(db):
    """One of each handle class, open (the caller closes them)."""
    ns = db.namespace("n")
    tx = db.transaction()
    return [db, ns, db.snapshot(), db.iterate(), db.changes(), firkin.Batch(), firkin.Options(),
            firkin.WriteOptions(), firkin.BackupOptions(), tx, tx.iterate()]


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle", "pickle0", "pickle2"])
def test_handles_refuse_copy_and_pickle(path, how):
    db = firkin.DB(path)
    db.put(b"k", b"v")
    hs = _handles(db)
    try:
        for h in hs:
            with pytest.raises(TypeError, match="cannot be (copied|pickled)"):
                if how == "copy":
                    copy.copy(h)
                elif how == "deepcopy":
                    copy.deepcopy(h)
                else:
                    pickle.dumps(h, protocol={"pickle": pickle.HIGHEST_PROTOCOL, "pickle0": 0,
                                              "pickle2": 2}[how])
        # a container holding a handle is refused too, and the originals still work
        with pytest.raises(TypeError):
            copy.deepcopy({"db": db})
        assert db.get(b"k") == b"v"
        assert hs[1].get(b"x") is None
    finally:
        for h in reversed(hs[1:]):
            h.close()
    # a View holds no handle of its own, but pickling it would take the snapshot's
    with db.snapshot() as s:
        v = s.at(None)
        with pytest.raises(TypeError):
            pickle.dumps(v)
        with pytest.raises(TypeError):
            copy.deepcopy(v)
    db.close()


def test_closed_iterator_raises_at_once(path):
    with firkin.DB(path) as db:
        for i in range(50):
            db.put(b"k%d" % i, b"v")
        it = db.iterate()
        next(it)  # buffers the other 49
        it.close()
        with pytest.raises(firkin.ClosedError):
            next(it)
        with pytest.raises(firkin.ClosedError):
            list(it)
        with db.transaction() as tx:
            ti = tx.iterate()
            next(ti)
            ti.close()
            with pytest.raises(firkin.ClosedError):
                next(ti)
        c = db.changes()
        next(c)
        c.close()
        with pytest.raises(firkin.ClosedError):
            next(c)
        with pytest.raises(firkin.ClosedError):
            c.wait(0)


class _HugeBytes(bytes):
    """Claims 4 GiB + 5 bytes: the length check must refuse it before packing."""

    def __len__(self):
        return 2**32 + 5


def test_multi_get_key_over_4gib_is_too_large(path, monkeypatch):
    # A real 4 GiB key needs ~9 GB of RAM: a small bytes that claims that length
    # goes through the same check (struct.pack("<I") raised struct.error).
    with firkin.DB(path) as db:
        db.put(b"a", b"1")
        real = firkin.db.to_bytes
        monkeypatch.setattr(firkin.db, "to_bytes",
                            lambda x, what="key": _HugeBytes(b"b") if x == b"huge" else real(x, what))
        with pytest.raises(firkin.TooLargeError, match="multi_get key 1"):
            db.multi_get([b"a", b"huge"])
        monkeypatch.undo()
        assert db.multi_get([b"a", b"b"]) == [b"1", None]


def test_nul_in_strings_is_invalid_argument(path, tmp_path):
    with firkin.DB(path) as db:
        db.namespace("users").close()
        with pytest.raises(firkin.InvalidArgumentError):
            db.drop_namespace("users\0archive")
        with pytest.raises(firkin.InvalidArgumentError):
            db.namespace("users\0x")
        with pytest.raises(firkin.InvalidArgumentError):
            db.create_namespace("users\0x", ordered=True)
        assert "users" in db.namespaces()
        with pytest.raises(firkin.InvalidArgumentError):
            db.backup(str(tmp_path / "bk\0x"))
    real = str(tmp_path / "real")
    for p in (real + "\0ignored", os.fsencode(real) + b"\0ignored"):
        with pytest.raises(firkin.InvalidArgumentError):
            firkin.DB(p)
        with pytest.raises(firkin.InvalidArgumentError):
            firkin.verify_path(p)
        with pytest.raises(firkin.InvalidArgumentError):
            firkin.rekey(p, firkin.Options(), firkin.Options())
        with pytest.raises(firkin.InvalidArgumentError):
            firkin.restore(p, str(tmp_path / "r"))
    assert not os.path.exists(real)
    with firkin.Options() as o:
        with pytest.raises(firkin.InvalidArgumentError):
            o.set("sync_mode\0x", "always")
        with pytest.raises(firkin.InvalidArgumentError):
            o.set("sync_mode", "always\0x")
        with pytest.raises(firkin.InvalidArgumentError):
            o.get("sync_mode\0x")
        with pytest.raises(firkin.InvalidArgumentError):
            o.set_passphrase("pw\0x")
    with firkin.BackupOptions() as bo:
        with pytest.raises(firkin.InvalidArgumentError):
            bo.set("verify\0x", True)
        with pytest.raises(firkin.InvalidArgumentError):
            bo.get("verify\0x")


# ---- the review of the Python package ----

def test_handle_arguments_are_type_checked(path, tmp_path):
    """A handle of another type (Options where BackupOptions or WriteOptions
    belong, a Namespace for a Batch) reached C as the wrong pointer: SIGSEGV,
    or a setting read wrongly. TypeError now."""
    with firkin.DB(path) as db:
        with firkin.Options(sync_mode="always") as o, db.namespace("x") as ns:
            with pytest.raises(TypeError, match="BackupOptions"):
                db.backup(str(tmp_path / "b"), o)
            with pytest.raises(TypeError, match="Batch"):
                db.write(ns)
            with pytest.raises(TypeError, match="Batch"):
                db.write(None)
            with pytest.raises(TypeError, match="WriteOptions"):
                db.put(b"a", b"b", o)
            with pytest.raises(TypeError, match="WriteOptions"):
                db.put(b"a", b"b", "always")
        with db.snapshot() as s:
            with pytest.raises(TypeError, match="BackupOptions"):
                db.backup(str(tmp_path / "b2"), s)
    with firkin.WriteOptions() as wo:
        with pytest.raises(TypeError, match="Options"):
            firkin.DB(str(tmp_path / "other"), wo)
    assert not os.path.exists(str(tmp_path / "other"))


def test_encryption_key_and_passphrase_types(path):
    """Options(encryption_key=32) encrypted with 32 zero bytes (bytes(32));
    Options(passphrase=3) said it held a NUL."""
    for bad in (32, [0] * 32, "k" * 32):
        with pytest.raises(TypeError, match="bytes-like"):
            firkin.Options(encryption_key=bad)
    with pytest.raises(TypeError, match="str or bytes"):
        firkin.Options(passphrase=3)
    with pytest.raises(firkin.InvalidArgumentError, match="UTF-8"):
        firkin.Options(passphrase="pw\ud800")


def test_iteration_keeps_entries_before_an_error(path):
    """An iteration that meets damage yields every entry before it, then raises
    (it raised at once, and the entries copied with the error were lost)."""
    import ctypes
    from firkin._native import H, lib
    value = b"v" * 200
    with firkin.DB(path) as db:
        for i in range(2000):
            db.put(b"key%05d" % i, value)
    with firkin.DB(path, verify_checksums=True) as db:
        # Damaged once open (the open may check any record; the file is
        # mapped shared, so the iteration reads the changed byte).
        seg = sorted(f for f in os.listdir(path) if f.endswith(".seg"))[0]
        with open(os.path.join(path, seg), "r+b") as f:
            data = f.read()
            f.seek(data.index(b"key01000") + 8 + 50)  # inside that key's value
            f.write(b"X")
        got = 0
        with pytest.raises(firkin.CorruptionError):
            for _ in db.items():
                got += 1
        # The same iteration in C, one entry at a time: every entry it gives
        # before the error, Python gave too.
        h = H()
        assert lib.firkin_iter_new(db.handle(), None, None, ctypes.byref(h)) == 0
        n = 0
        while lib.firkin_iter_valid(h):
            n += 1
            lib.firkin_iter_next(h)
        assert lib.firkin_iter_status(h) == -4
        lib.firkin_iter_free(h)
        assert 0 < n < 2000 and got == n, (got, n)


def test_iterator_that_failed_frees_its_database_without_a_collection(path):
    """A forgotten iterator whose iteration ended in an error it had kept
    (raised after the entries that came with it) releases the database as
    soon as its last reference goes, like every other handle: it kept the
    error, whose traceback held the iterator, a cycle that left the database
    locked until a cyclic collection (review of the bindings)."""
    import gc
    db = firkin.DB(path)
    ns = db.namespace("n")
    for i in range(2000):
        ns.put(b"k%05d" % i, b"v" * 1000)
    it = ns.iterate()
    got = 0
    enabled = gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(firkin.NamespaceNotFoundError):
            for _ in it:
                got += 1
                if got == 1:
                    db.drop_namespace("n")
        assert got > 1  # the entries copied with the error came first
        ns.close()
        db.close()
        del it, ns, db
        firkin.DB(path).close()  # BusyError while the cycle held the database
    finally:
        if enabled:
            gc.enable()


def test_multi_get_takes_any_iterable(path):
    """A generator was read twice (INTERNAL: extra bytes); a set was indexed."""
    with firkin.DB(path) as db:
        db.put(b"a", b"1")
        assert db.multi_get(k for k in [b"a", b"b"]) == [b"1", None]
        assert db.multi_get({b"a"}) == [b"1"]
        with pytest.raises(firkin.InvalidArgumentError):
            db.multi_get({b"a", b""})


def test_errors_pickle_and_copy(path):
    with firkin.DB(path) as db:
        with pytest.raises(firkin.FirkinError) as info:
            db.get(b"")
    e = info.value
    for again in (pickle.loads(pickle.dumps(e)), copy.copy(e)):
        assert type(again) is type(e) and again.code == e.code and str(again) == str(e)
    nf = firkin.NotFoundError(-1, "gone")
    assert str(pickle.loads(pickle.dumps(nf))) == str(nf)


def test_changes_wait_returns_in_slices(path):
    """wait() is one C call per 100 ms at most, so a signal is handled soon;
    a change published meanwhile ends it early, and the timeout still holds."""
    import threading
    import time
    with firkin.DB(path) as db:
        with db.changes() as c:
            list(c)
            t0 = time.monotonic()
            assert c.wait(0.35) is False
            assert 0.3 <= time.monotonic() - t0 < 2.0
            threading.Timer(0.25, lambda: db.put(b"k", b"v")).start()
            t0 = time.monotonic()
            assert c.wait(30) is True
            assert time.monotonic() - t0 < 5.0


def test_txn_get_refuses_a_namespace_as_default(path):
    with firkin.DB(path) as db, db.namespace("users") as users, db.transaction() as tx:
        with pytest.raises(TypeError, match="ns="):
            tx.get(b"k", users)
