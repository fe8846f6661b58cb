"""close() racing calls on the same DB from other threads (ctypes and the
accelerator release the GIL during a C call): every call succeeds or raises
ClosedError, the interpreter does not crash, and once the calls are out the
database is released (it reopens). Before the gate (db.py, _Gate) a call
could read the C handle just before close() freed it, then use it in C:
SIGSEGV."""
import threading
import time

import firkin


def _hammer(db, g, started, errors):
    key = b"k%d" % g
    started.release()
    try:
        i = 0
        while True:
            op = i % 6
            if op == 0:
                db.put(key, key)
            elif op == 1:
                db.get(key)
            elif op == 2:
                key in db
            elif op == 3:
                with db.snapshot() as s:  # the snapshot outlives the DB handle
                    s.get(key)
            elif op == 4:
                for n, _ in enumerate(db.items()):
                    if n == 3:
                        break
            else:
                len(db)
            i += 1
    except firkin.ClosedError:
        pass
    except BaseException as e:  # noqa: B902 (reported by the test)
        errors.append(e)


def test_close_while_calls_in_flight(path):
    for _ in range(12):
        db = firkin.DB(path)
        errors = []
        started = threading.Semaphore(0)
        threads = [threading.Thread(target=_hammer, args=(db, g, started, errors)) for g in range(8)]
        for t in threads:
            t.start()
        for _ in threads:
            started.acquire()
        time.sleep(0.002)
        db.close()
        for t in threads:
            t.join()
        assert not errors, errors
        assert db.closed
        try:
            db.get(b"k0")
            raise AssertionError("get after close did not raise")
        except firkin.ClosedError:
            pass
    with firkin.DB(path) as db:  # released: the lock is free again
        db.put(b"k", b"v")


def test_close_inside_update(path):
    """close() from inside a call on the same handle returns at once (no hang)."""
    db = firkin.DB(path)

    def fn(tx):
        db.close()
        tx.put(b"k", b"v")

    db.update(fn)
    try:
        db.put(b"k2", b"")
        raise AssertionError("put after close did not raise")
    except firkin.ClosedError:
        pass
    with firkin.DB(path) as again:
        assert again.get(b"k") == b"v"


def _hammer_shared(ns, snap, g, started, errors):
    key = b"k%d" % g
    started.release()
    done = {True: False, False: False}  # on the namespace / on the snapshot
    i = 0
    while not (done[True] and done[False]):
        on_ns = i % 2 == 0
        op = i % 6
        i += 1
        if done[on_ns]:
            continue
        try:
            if op == 0:
                ns.put(key, key)
            elif op == 1:
                snap.get(key)
            elif op == 2:
                ns.get(key)
            elif op == 3:
                key in snap
            elif op == 4:
                for n, _ in enumerate(ns.items()):
                    if n == 3:
                        break
            else:
                for n, _ in enumerate(snap.items()):
                    if n == 3:
                        break
        except firkin.ClosedError:
            done[on_ns] = True
        except BaseException as e:  # noqa: B902 (reported by the test)
            errors.append(e)
            return


def test_close_shared_namespace_and_snapshot_while_in_use(path):
    """close() of a shared Namespace and Snapshot racing calls on them: every
    call succeeds or raises ClosedError. Before their gates a call could read
    the handle just before close() freed it, then use it in C."""
    with firkin.DB(path) as db:
        for _ in range(12):
            ns = db.namespace("shared")
            snap = db.snapshot()
            errors = []
            started = threading.Semaphore(0)
            threads = [threading.Thread(target=_hammer_shared, args=(ns, snap, g, started, errors))
                       for g in range(8)]
            for t in threads:
                t.start()
            for _ in threads:
                started.acquire()
            time.sleep(0.002)
            ns.close()
            snap.close()
            for t in threads:
                t.join()
            assert not errors, errors


def test_close_single_thread_handles_from_other_threads(path):
    """An Iterator, a Batch and a Changes cursor are for one thread at a time,
    but a close() from other threads (three at once, or under a reader's call,
    which ctypes makes without the GIL) must free each C handle once and never
    under a call."""
    with firkin.DB(path) as db:
        for i in range(2000):
            db.put(b"k%06d" % i, bytes(50))
        for _ in range(40):
            it = db.iterate()
            batch = firkin.Batch()
            ch = db.changes()
            errors = []
            started = threading.Semaphore(0)

            def run(fn):
                started.release()
                try:
                    fn()
                except firkin.ClosedError:
                    pass
                except BaseException as e:  # noqa: B902 (reported by the test)
                    errors.append(e)

            def read():
                for _ in it:
                    pass

            def write():
                while True:
                    batch.put(b"k", b"v")

            def follow():
                while True:
                    for _ in ch:
                        pass
                    ch.wait(0.001)

            workers = [threading.Thread(target=run, args=(f,)) for f in (read, write, follow)]
            for t in workers:
                t.start()
            for _ in workers:
                started.acquire()

            def close_all():
                it.close()
                batch.close()
                ch.close()

            closers = [threading.Thread(target=close_all) for _ in range(3)]
            for t in closers:
                t.start()
            for t in closers + workers:
                t.join()
            assert not errors, errors


def _get_put(db, g, started, errors):
    # Only the calls the accelerator makes without a Python-level wrapper
    # (its get reads the gate in C; its put enters and leaves it in C).
    key = b"g%d" % g
    started.release()
    try:
        while True:
            db.put(key, key)
            db.get(key)
            db.get(key)
    except firkin.ClosedError:
        pass
    except BaseException as e:  # noqa: B902 (reported by the test)
        errors.append(e)


def test_close_under_gets_and_puts(path):
    # A get or put that read the handle before close() and used it after
    # the free: SIGSEGV or a wrong error (seen with the accelerator's gate
    # check or its counting taken out, 2026-11-29).
    for _ in range(20):
        db = firkin.DB(path)
        errors = []
        started = threading.Semaphore(0)
        threads = [threading.Thread(target=_get_put, args=(db, g, started, errors)) for g in range(6)]
        for t in threads:
            t.start()
        for _ in threads:
            started.acquire()
        time.sleep(0.001)
        db.close()
        for t in threads:
            t.join()
        assert not errors, errors
        try:
            db.put(b"k", b"v")
            raise AssertionError("put after close did not raise")
        except firkin.ClosedError:
            pass
    with firkin.DB(path) as db:  # released: the lock is free again
        assert db.get(b"g0") == b"g0"
