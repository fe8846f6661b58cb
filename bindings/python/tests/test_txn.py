"""pytest: optimistic transactions (DB.transaction / firkin.Transaction / DB.update)."""
import threading

import pytest

import firkin


def test_read_your_own_writes_and_commit(path):
    with firkin.DB(path) as db, db.namespace("users") as users:
        db.put(b"a", b"1")
        with db.transaction() as tx:
            assert tx.isolation == firkin.Isolation.SNAPSHOT
            assert tx.snapshot_seq == db.last_seq()
            assert tx.get(b"a") == b"1"
            tx.put(b"a", b"2")
            tx[b"b"] = b"\0x"
            tx.put(b"ada", b"lovelace", ns=users)
            tx.delete(b"gone")
            assert tx[b"a"] == b"2" and tx.get(b"b") == b"\0x"
            assert tx.get(b"ada", ns=users) == b"lovelace" and tx.get(b"ada") is None
            assert b"b" in tx and not tx.contains(b"ada")
            with pytest.raises(KeyError):
                tx[b"nope"]
            # nothing is visible outside before commit
            assert db.get(b"a") == b"1" and db.get(b"b") is None and users.get(b"ada") is None
            del tx[b"a"]
            assert tx.get(b"a") is None
        assert tx.finished and tx.closed and tx.commit_seq == db.last_seq()
        assert db.get(b"a") is None and db.get(b"b") == b"\0x" and users[b"ada"] == b"lovelace"


def test_explicit_commit_returns_seq_and_finishes(path):
    with firkin.DB(path) as db:
        tx = db.transaction()
        tx.put(b"k", b"v")
        seq = tx.commit()
        assert seq == db.last_seq() and db[b"k"] == b"v"
        for call in (lambda: tx.put(b"k", b"w"), lambda: tx.get(b"k"), tx.commit, tx.rollback):
            with pytest.raises(firkin.InvalidArgumentError):
                call()
        tx.close()
        tx.close()
        with pytest.raises(firkin.ClosedError):
            tx.get(b"k")


def test_rollback_on_exception_and_explicit(path):
    with firkin.DB(path) as db:
        with pytest.raises(RuntimeError):
            with db.transaction() as tx:
                tx.put(b"k", b"v")
                raise RuntimeError("boom")
        assert db.get(b"k") is None
        with db.transaction() as tx:
            tx.put(b"k", b"v")
            tx.rollback()
            assert tx.finished
        assert db.get(b"k") is None
        # an abandoned transaction (closed without commit) writes nothing
        tx = db.transaction()
        tx.put(b"k", b"v")
        tx.close()
        assert db.get(b"k") is None


def test_snapshot_isolation_write_write_conflict(path):
    with firkin.DB(path) as db:
        db.put(b"x", b"0")
        t1 = db.transaction()
        t2 = db.transaction()
        t1.put(b"x", b"1")
        t2.put(b"x", b"2")
        t1.commit()
        with pytest.raises(firkin.ConflictError) as e:
            t2.commit()
        assert e.value.status == "CONFLICT" and b"x".decode() in e.value.message
        assert db[b"x"] == b"1"
        t1.close()
        t2.close()


def test_snapshot_sees_its_snapshot_not_later_commits(path):
    with firkin.DB(path) as db:
        db.put(b"x", b"0")
        with db.transaction() as tx:
            db.put(b"x", b"1")
            assert tx.get(b"x") == b"0"
            tx.put(b"y", b"1")  # no conflict: x was only read, under SI
        assert db[b"y"] == b"1"


def test_serializable_read_write_conflict(path):
    with firkin.DB(path) as db:
        db.put(b"x", b"0")
        # write skew: each reads what the other writes
        for iso, conflicts in (("snapshot", False), ("serializable", True)):
            t1 = db.transaction(isolation=iso)
            t2 = db.transaction(isolation=iso)
            assert t1.get(b"y") is None
            assert t2.get(b"x") is not None
            t1.put(b"x", b"from1")
            t2.put(b"y", b"from2")
            t1.commit()
            if conflicts:
                with pytest.raises(firkin.ConflictError):
                    t2.commit()
            else:
                t2.commit()
            t1.close()
            t2.close()
            db.delete(b"y")
        with pytest.raises(ValueError):
            db.transaction(isolation="repeatable")


def test_serializable_iteration_conflicts_on_phantom(path):
    with firkin.DB(path) as db, db.namespace("n") as ns:
        ns.put(b"a", b"1")
        tx = db.transaction(firkin.Isolation.SERIALIZABLE)
        assert dict(tx.items(ns=ns)) == {b"a": b"1"}
        tx.put(b"count", b"1")
        ns.put(b"b", b"2")  # a phantom in the iterated namespace
        with pytest.raises(firkin.ConflictError):
            tx.commit()
        tx.close()


def test_iterator_inside_transaction(path):
    with firkin.DB(path) as db:
        db.put(b"a", b"1")
        db.put(b"b", b"2")
        with db.transaction() as tx:
            tx.put(b"c", b"3")
            tx.delete(b"a")
            tx.put(b"b", b"22")
            assert dict(tx.items()) == {b"b": b"22", b"c": b"3"}
            assert sorted(tx) == [b"b", b"c"]
            with tx.iterate() as it:
                tx.put(b"d", b"4")  # later writes are not seen by this iterator
                assert sorted(k for k, _ in it) == [b"b", b"c"]


def test_cas(path):
    with firkin.DB(path) as db:
        db.put(b"k", b"old")
        with db.transaction() as tx:
            assert tx.cas(b"k", b"nope", b"new") is False
            assert tx.get(b"k") == b"old"
            assert tx.cas(b"k", b"old", b"new") is True
            assert tx.get(b"k") == b"new"
        assert db[b"k"] == b"new"


def test_update_retries_on_conflict(path):
    with firkin.DB(path) as db:
        db.put(b"n", b"0")
        attempts = []

        def incr(tx):
            attempts.append(1)
            n = int(tx[b"n"])
            if len(attempts) <= 2:
                db.put(b"n", b"%d" % (n + 100))  # a concurrent commit: this attempt conflicts
            tx.put(b"n", b"%d" % (n + 1))
            return n + 1

        assert db.update(incr) == 201
        assert len(attempts) == 3
        assert db[b"n"] == b"201"

        attempts.clear()

        def always(tx):
            attempts.append(1)
            tx.put(b"n", b"x")
            db.put(b"n", b"y")

        with pytest.raises(firkin.ConflictError):
            db.update(always, attempts=4)
        assert len(attempts) == 4 and db[b"n"] == b"y"
        with pytest.raises(KeyError):
            db.update(lambda tx: tx[b"missing"])  # other errors propagate at once


def test_concurrent_increments(path):
    with firkin.DB(path) as db:
        db.put(b"ctr", b"0")

        def worker():
            for _ in range(50):
                db.update(lambda tx: tx.put(b"ctr", b"%d" % (int(tx[b"ctr"]) + 1)), attempts=1000)

        ts = [threading.Thread(target=worker) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert db[b"ctr"] == b"200"


def test_bad_input(path):
    with firkin.DB(path) as db, firkin.DB(path + "2") as other, other.namespace("o") as ons:
        with db.transaction() as tx:
            with pytest.raises(firkin.InvalidArgumentError):
                tx.put(b"k", b"v", ns=ons)  # a namespace of another database
            with pytest.raises(TypeError):
                tx.put("str", b"v")
            with pytest.raises(firkin.TooLargeError):
                tx.put(b"k" * 70000, b"v")
    db.close()
    with pytest.raises(firkin.ClosedError):
        db.transaction()
    with firkin.DB(path, read_only=True) as ro:
        with pytest.raises(firkin.ReadOnlyError):
            ro.transaction()
