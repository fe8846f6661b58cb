"""close() racing calls on the same DB from other threads (ctypes and the
accelerator release the GIL during a C call): every call succeeds or raises
ClosedError, the interpreter does not crash, and once the calls are out the
database is released (it reopens). Before the gate (db.py, _Gate) a call
could read the C handle just before close() freed it, then use it in C:
SIGSEGV."""
import sys
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


# Options, WriteOptions and BackupOptions passed to calls from several threads
# while three other threads close them at once: every call succeeds with the
# options as set or raises ClosedError, and the C object is freed once, after
# the last call in flight. Before their gates (2026-11-29) they were plain
# handles: a close() between a call's handle() and its C call freed the C
# object under the call (a getter then read freed memory: an option that was
# never set; an open or a backup took its settings from garbage), and two
# closers could both take the pointer and free it twice (glibc aborts). A tiny
# switch interval makes the interpreter switch threads between those steps.

def _options_race(make, users, rounds, errors_ok=(firkin.ClosedError,)):
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for r in range(rounds):
            obj = make()
            errors = []
            started = threading.Semaphore(0)

            def run(use, g):
                started.release()
                try:
                    i = 0
                    while True:
                        use(obj, g, i)
                        i += 1
                except errors_ok:
                    pass
                except BaseException as e:  # noqa: B902 (reported by the test)
                    errors.append(e)

            threads = [threading.Thread(target=run, args=(u, g)) for g, u in enumerate(users)]
            for t in threads:
                t.start()
            for _ in threads:
                started.acquire()
            time.sleep(0.0005 * (r % 3))
            closers = [threading.Thread(target=obj.close) for _ in range(3)]
            for t in closers:
                t.start()
            for t in closers + threads:
                t.join()
            assert not errors, errors
            assert obj.closed
    finally:
        sys.setswitchinterval(old)
    return obj


def test_close_write_options_while_in_use(path):
    with firkin.DB(path) as db:
        batch = firkin.Batch()
        batch.put(b"b", b"v")

        def read_sync(wo, g, i):
            s = wo.sync
            if s != "none":
                raise AssertionError("write options read sync %r, set 'none'" % (s,))

        def put(wo, g, i):
            db.put(b"k%d" % g, b"v", wo)

        def write(wo, g, i):
            db.write(batch, wo)

        wo = _options_race(lambda: firkin.WriteOptions(sync="none"),
                           [read_sync, read_sync, put, write], 40)
        for call in (lambda: wo.sync, lambda: db.put(b"k", b"v", wo), lambda: db.write(batch, wo)):
            try:
                call()
                raise AssertionError("a call with closed write options did not raise")
            except firkin.ClosedError:
                pass
        batch.close()


def test_close_options_while_in_use(tmp_path):
    want = {"create_if_missing": "true", "error_if_exists": "false", "read_only": "false",
            "sync_mode": "none"}

    def read(opts, g, i):
        for k, v in want.items():
            got = opts.get(k)
            if got != v:
                raise AssertionError("options read %s = %r, set %r" % (k, got, v))

    def open_(opts, g, i):
        firkin.DB(str(tmp_path / "db"), opts).close()

    opts = _options_race(lambda: firkin.Options(sync_mode="none"), [read, read, open_], 40)
    try:
        firkin.DB(str(tmp_path / "db"), opts)
        raise AssertionError("open with closed options did not raise")
    except firkin.ClosedError:
        pass


def test_close_backup_options_while_in_use(tmp_path):
    want = {"incremental": "false", "hard_links": "false", "verify": "true", "checkpoint": "true"}
    with firkin.DB(str(tmp_path / "db")) as db:
        db.put(b"k", b"v")

        def read(bo, g, i):
            for k, v in want.items():
                got = bo.get(k)
                if got != v:
                    raise AssertionError("backup options read %s = %r, set %r" % (k, got, v))

        def backup(bo, g, i):
            db.backup(str(tmp_path / ("backup%d" % (i % 2))), bo)

        bo = _options_race(lambda: firkin.BackupOptions(incremental=False, hard_links=False),
                           [read, read, backup], 40)
        try:
            db.backup(str(tmp_path / "backup-late"), bo)
            raise AssertionError("backup with closed options did not raise")
        except firkin.ClosedError:
            pass
