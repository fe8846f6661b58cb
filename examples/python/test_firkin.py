#!/usr/bin/env python3
"""Idiomatic tests of the ctypes module firkin.py (unittest); ends with "N passed, N failed"."""
import os
import shutil
import sys
import tempfile
import threading
import unittest

import firkin


class FirkinTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="firkin-py-")
        self.path = os.path.join(self.dir, "db")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_put_get_delete(self):
        with firkin.DB(self.path) as db:
            db.put(b"k", b"v")
            self.assertEqual(db.get(b"k"), b"v")
            db.put(b"bin\0key", b"\0\1\0")
            self.assertEqual(db.get(b"bin\0key"), b"\0\1\0")
            db.put(b"empty", b"")
            self.assertEqual(db.get(b"empty"), b"")
            db.delete(b"k")
            self.assertIsNone(db.get(b"k"))
            self.assertFalse(db.contains(b"k"))
            big = os.urandom(1 << 20)
            db.put(b"big", big)
            self.assertEqual(db.get(b"big"), big)

    def test_typed_errors(self):
        with firkin.DB(self.path) as db:
            with self.assertRaises(firkin.InvalidArgumentError) as cm:
                db.put(b"", b"v")
            self.assertEqual(cm.exception.code, -2)
            self.assertTrue(cm.exception.message)
            with self.assertRaises(firkin.TooLargeError):
                db.put(b"k" * 65536, b"v")
            with self.assertRaises(firkin.NamespaceNotFoundError):
                db.namespace("nope", create=False)
            with self.assertRaises(firkin.BusyError):
                firkin.DB(self.path)
        with self.assertRaises(firkin.NotFoundError):
            firkin.DB(os.path.join(self.dir, "missing"), create_if_missing=False)

    def test_close_twice_and_use_after_close(self):
        db = firkin.DB(self.path)
        ns, snap, it, b = db.namespace("n"), db.snapshot(), db.iterate(), firkin.Batch()
        for h in (it, snap, ns, b):
            h.close()
            h.close()
        self.assertRaises(firkin.ClosedError, next, it)
        self.assertRaises(firkin.ClosedError, snap.get, b"k")
        self.assertRaises(firkin.ClosedError, ns.put, b"k", b"v")
        self.assertRaises(firkin.ClosedError, b.put, b"k", b"v")
        db.close()
        db.close()
        self.assertRaises(firkin.ClosedError, db.get, b"k")

    def test_batch_snapshot_namespaces(self):
        with firkin.DB(self.path) as db, db.create_namespace("users") as users, firkin.Batch() as batch:
            db.put(b"a", b"old")
            with db.snapshot() as snap:
                batch.put(b"a", b"new").put(b"ada", b"lovelace", ns=users).delete(b"zz")
                self.assertEqual(len(batch), 3)
                with firkin.WriteOptions(sync="always") as wo:
                    db.write(batch, wo)
                    self.assertEqual(wo.sync, "always")
                self.assertEqual(db.get(b"a"), b"new")
                self.assertEqual(users.get(b"ada"), b"lovelace")
                self.assertEqual(snap.get(b"a"), b"old")
                self.assertIsNone(snap.at(users).get(b"ada"))
                self.assertGreater(db.last_seq(), snap.seq)
            self.assertEqual(sorted(db.namespaces()), ["default", "users"])
            db.drop_namespace("users")
            self.assertRaises(firkin.NamespaceNotFoundError, users.get, b"ada")

    def test_conditional(self):
        with firkin.DB(self.path) as db:
            self.assertTrue(db.put_if_absent(b"k", b"1"))
            self.assertFalse(db.put_if_absent(b"k", b"2"))
            self.assertTrue(db.compare_and_swap(b"k", b"1", b"2"))
            self.assertFalse(db.compare_and_swap(b"k", b"1", b"3"))
            v = db.version(b"k")
            self.assertGreater(v, 0)
            self.assertTrue(db.compare_and_swap_version(b"k", v, b"4"))
            self.assertFalse(db.compare_and_swap_version(b"k", v, b"5"))
            self.assertEqual(db.version(b"absent"), 0)

    def test_iterate_and_multi_get(self):
        with firkin.DB(self.path) as db:
            want = {b"key-%d" % i: b"value-%d" % i for i in range(3000)}
            want[b"big"] = b"x" * 200000
            for k, v in want.items():
                db.put(k, v)
            with db.iterate() as it:
                got = dict(it)
            self.assertEqual(got, want)
            self.assertEqual(db.multi_get([b"key-1", b"absent", b"big"]), [b"value-1", None, b"x" * 200000])
            self.assertEqual(db.count(), len(want))

    def test_options(self):
        with firkin.Options(sync_mode="always", segment_size="1M") as o:
            self.assertEqual(o.get("sync_mode"), "always")
            self.assertRaises(firkin.InvalidArgumentError, o.set, "no_such_option", 1)
            with firkin.DB(self.path, o) as db:
                db.put(b"k", b"v")
                db.sync()
                self.assertTrue(db.stats().strip().startswith("{"))

    def test_threads(self):
        errors = []
        with firkin.DB(self.path) as db:
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
            self.assertEqual(errors, [])
            self.assertEqual(db.count(), 1200)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed - len(result.skipped), failed))
    sys.exit(1 if failed else 0)
