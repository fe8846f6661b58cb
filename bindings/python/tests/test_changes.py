"""pytest: the change feed (DB.changes / firkin.Changes)."""
import threading
import time

import pytest

import firkin


def _rows(cursor):
    return [(c.type, c.seq, c.namespace, c.key, c.value) for c in cursor]


def test_changes_in_order(path):
    with firkin.DB(path) as db:
        db.put(b"a", b"1")
        with db.namespace("users") as users:
            users.put(b"ada", b"lovelace")
            with firkin.Batch() as b:
                b.put(b"b", b"\0\1")
                b.delete(b"a")
                b.put(b"bob", b"", ns=users)
                db.write(b)
        db.drop_namespace("users")
        with db.changes() as c:
            assert _rows(c) == [
                ("put", 1, "default", b"a", b"1"),
                ("ns_create", 2, "users", b"", b""),
                ("put", 3, "users", b"ada", b"lovelace"),
                ("batch_begin", 4, "", b"", b""),
                ("put", 4, "default", b"b", b"\0\1"),
                ("delete", 4, "default", b"a", b""),
                ("put", 4, "users", b"bob", b""),
                ("batch_end", 4, "", b"", b""),
                ("ns_drop", 5, "users", b"", b""),
            ]
            assert list(c) == []  # nothing more for now
            db.put(b"late", b"x")
            assert [ch.key for ch in c] == [b"late"]  # iterating again picks it up
        with db.changes(since=3, batch_markers=False) as c:
            assert [ch.seq for ch in c] == [4, 4, 4, 5, 6]
        # The position: every write at or below it was yielded (a batch once
        # all of it was); at the end, the last number.
        with db.changes() as c:
            assert c.position == 0
            positions = []
            for _ in c:
                positions.append(c.position)
            assert positions == [1, 2, 3, 3, 3, 3, 3, 4, 5, 6]
            assert c.position == db.last_seq()
        with pytest.raises(firkin.ClosedError):
            c.position
        assert db.oldest_change_seq() == 1
        with pytest.raises(firkin.InvalidArgumentError):
            db.changes(since=1000)


def test_wait(path):
    with firkin.DB(path) as db, db.changes() as c:
        t0 = time.monotonic()
        assert c.wait(0.1) is False
        assert time.monotonic() - t0 >= 0.09
        threading.Timer(0.05, lambda: db.put(b"k", b"v")).start()
        t0 = time.monotonic()
        assert c.wait(10) is True
        assert time.monotonic() - t0 < 5
        assert [ch.key for ch in c] == [b"k"]
        got = []
        threading.Timer(0.05, lambda: db.put(b"k2", b"v")).start()
        for ch in c.follow(poll=0.05):
            got.append(ch.key)
            break
        assert got == [b"k2"]


def test_too_old_and_retention(tmp_path):
    for keep in (False, True):
        p = str(tmp_path / ("keep" if keep else "nokeep"))
        opts = {"change_retention_seqs": "100"} if keep else {}
        with firkin.DB(p, **opts) as db:
            db.put(b"k", b"1")
            db.put(b"k", b"2")
            db.compact()
            if keep:
                with db.changes() as c:
                    assert [ch.value for ch in c] == [b"1", b"2"]
            else:
                with pytest.raises(firkin.SnapshotTooOldError):
                    db.changes()
                assert db.oldest_change_seq() == 3


def test_closed_cursor(path):
    with firkin.DB(path) as db:
        c = db.changes()
        c.close()
        c.close()
        with pytest.raises(firkin.ClosedError):
            next(iter(c))
