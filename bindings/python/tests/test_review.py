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
