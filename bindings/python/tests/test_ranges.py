"""pytest: integers crossing into C are range-checked, never wrapped, and the
argument errors of the package are consistent.

ctypes converts a Python int for a uint64_t / uint32_t / int parameter modulo
2**N without a word: snapshot(seq=2**64 + 2) used to give the snapshot at
seq 2, compare_and_swap_version(k, 2**64, v) to write an absent key (version
0), changes(since=2**64) to replay from 0. An integer out of range now raises
InvalidArgumentError (a ValueError), one that is not an integer TypeError;
times and TTLs saturate instead (test_ttl.py)."""
import ctypes
import math

import pytest

import firkin
from firkin import _native

TOO_BIG = (2**64, 2**64 + 2, 2**70)


def test_snapshot_seq_out_of_range(path):
    with firkin.DB(path) as db:
        db.put(b"a", b"old")
        db.put(b"a", b"new")
        for seq in TOO_BIG + (-1, -2**64 + 2):
            with pytest.raises(firkin.InvalidArgumentError) as ei:
                db.snapshot(seq=seq)
            assert isinstance(ei.value, ValueError) and "seq" in str(ei.value)
        with pytest.raises(TypeError):
            db.snapshot(seq=2.0)
        with db.snapshot(seq=1) as s:  # in range: as before
            assert s.seq == 1 and s.get(b"a") == b"old"
        with pytest.raises(firkin.InvalidArgumentError):  # in range, past last_seq: the library's
            db.snapshot(seq=2**64 - 1)


def test_cas_version_out_of_range(path):
    with firkin.DB(path) as db, db.namespace("users") as users:
        for w in (db, users):
            for ver in TOO_BIG + (-1,):
                with pytest.raises(firkin.InvalidArgumentError):
                    w.compare_and_swap_version(b"never", ver, b"written")
            assert w.get(b"never") is None  # nothing written
            with pytest.raises(TypeError):
                w.compare_and_swap_version(b"never", 0.0, b"written")
            assert w.compare_and_swap_version(b"never", 0, b"v") is True  # 0: absent
            assert w.compare_and_swap_version(b"never", 0, b"v2") is False


def test_changes_since_out_of_range(path):
    with firkin.DB(path) as db:
        db.put(b"a", b"1")
        db.put(b"b", b"2")
        for since in TOO_BIG + (-1,):
            with pytest.raises(firkin.InvalidArgumentError):
                db.changes(since=since)
        with db.changes(since=1) as c:
            assert [ch.key for ch in c] == [b"b"]


def test_small_int_arguments_out_of_range(path):
    with firkin.DB(path) as db:
        with pytest.raises(firkin.InvalidArgumentError):
            firkin.WriteOptions(sync=2**32 + 2)  # used to wrap to 2, "always"
        with pytest.raises(firkin.InvalidArgumentError):
            db.transaction(2**32)  # used to begin at 0 (snapshot), then fail in Isolation()
        wo = firkin.WriteOptions(sync=2)
        assert wo.sync == "always"
        wo.close()


def test_strict_argtypes_refuse_what_would_wrap(path):
    """The declarations themselves refuse an out-of-range int that reached
    them unchecked (ctypes.ArgumentError) instead of wrapping it."""
    with firkin.DB(path) as db:
        h = ctypes.c_void_p()
        for bad in (2**64, -1):
            with pytest.raises(ctypes.ArgumentError):
                _native.lib.firkin_snapshot_at(db.handle(), bad, ctypes.byref(h))
        with pytest.raises(ctypes.ArgumentError):
            _native.lib.firkin_changes_wait(None, 2**32)
        with pytest.raises(ctypes.ArgumentError):
            _native.lib.firkin_txn_begin(db.handle(), 2**31, ctypes.byref(h))
    assert _native.u64(2**64 - 1, "x") == 2**64 - 1 and _native.u32(0, "x") == 0
    with pytest.raises(firkin.InvalidArgumentError):
        _native.u32(2**32, "x")
    with pytest.raises(firkin.InvalidArgumentError):
        _native.i32(-2**31 - 1, "x")


def test_changes_wait_timeouts(path):
    with firkin.DB(path) as db, db.changes() as c:
        assert c.wait(float("-inf")) is False  # no wait (int(-inf) used to raise OverflowError)
        with pytest.raises(ValueError):
            c.wait(math.nan)
        db.put(b"k", b"v")
        assert c.wait(float("inf")) is True  # capped at 2**32 - 1 ms, returns at once here


def test_contains_non_bytes_in_transaction(path):
    """`5 in tx` used to raise TypeError while `5 in db` is False."""
    with firkin.DB(path) as db:
        db.put(b"k", b"v")
        assert 5 not in db
        with db.transaction() as tx:
            assert 5 not in tx and None not in tx and "k" not in tx
            assert b"k" in tx and bytearray(b"k") in tx


def test_namespace_argument_types(path):
    """A name where a Namespace belongs, or bytes where a name belongs, used to
    raise AttributeError ('str' object has no attribute 'handle' /
    'bytes' object has no attribute 'encode')."""
    with firkin.DB(path) as db:
        for f in (lambda: db.namespace(b"users"), lambda: db.create_namespace(b"users"),
                  lambda: db.drop_namespace(b"users"), lambda: db.namespace(None)):
            with pytest.raises(TypeError):
                f()
        with pytest.raises(ValueError):
            db.namespace("us\0ers")  # C would have read "us"
        assert db.namespaces() == ["default"]
        b = firkin.Batch()
        with pytest.raises(TypeError):
            b.put(b"k", b"v", ns="users")
        with pytest.raises(TypeError):
            b.put(b"k", b"v", ns=db)  # the database is not a namespace
        with pytest.raises(TypeError):
            b.delete(b"k", ns="users")
        b.close()
        with db.transaction() as tx:
            with pytest.raises(TypeError):
                tx.put(b"k", b"v", ns="users")
            with pytest.raises(TypeError):
                tx.get(b"k", ns="users")
        with db.namespace("users") as users:
            b = firkin.Batch().put(b"k", b"v", ns=users)
            db.write(b)
            b.close()
            assert users.get(b"k") == b"v"
            with db.snapshot() as s:
                with pytest.raises(TypeError):
                    s.at("users").get(b"k")
                assert s.at(users).get(b"k") == b"v"


def test_multi_get_keeps_the_library_message(path):
    """multi_get raised the status name alone ("TOO_LARGE: TOO_LARGE")."""
    with firkin.DB(path) as db:
        db.put(b"a", b"1")
        big = b"x" * 100000
        with pytest.raises(firkin.TooLargeError) as ei:
            db.get(big)
        lib_msg = ei.value.message
        assert "100000" in lib_msg
        with pytest.raises(firkin.TooLargeError) as ei:
            db.multi_get([b"a", big])
        assert lib_msg in ei.value.message and "key 1" in ei.value.message
        with db.snapshot() as s:
            with pytest.raises(firkin.TooLargeError) as ei:
                s.multi_get([big])
            assert lib_msg in ei.value.message
        assert db.multi_get([b"a", b"nope"]) == [b"1", None]
