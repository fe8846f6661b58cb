using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Firkin;
using NUnit.Framework;

namespace Firkin.Tests
{
    [TestFixture]
    public class FirkinTests : TempDirFixture
    {
        Db Open() { return Db.Open(Path.Combine(tmp, "db")); }

        [Test]
        public void PutGetDelete()
        {
            using (var db = Open())
            {
                db.Put(B("k"), B("v"));
                Assert.AreEqual(B("v"), db.Get(B("k")));
                db.Put(B("bin\0key"), new byte[] { 0, 1, 0 });
                Assert.AreEqual(new byte[] { 0, 1, 0 }, db.Get(B("bin\0key")));
                db.Put(B("empty"), new byte[0]);
                Assert.AreEqual(new byte[0], db.Get(B("empty")));
                db.Delete(B("k"));
                Assert.IsNull(db.Get(B("k")));
                Assert.IsFalse(db.Contains(B("k")));
                db.Delete(B("never-there"));
            }
        }

        [Test]
        public void LargeValueAndCallerBuffer()
        {
            using (var db = Open())
            {
                var big = new byte[3 << 20];
                for (int i = 0; i < big.Length; i++) big[i] = (byte)(i * 31);
                db.Put(B("big"), big);
                Assert.IsTrue(big.SequenceEqual(db.Get(B("big"))));
                var small = new byte[10];
                Assert.AreEqual(big.Length, db.Get(B("big"), small));
                db.Put(B("s"), B("abc"));
                Assert.AreEqual(3, db.Get(B("s"), small));
                Assert.AreEqual((byte)'a', small[0]);
                Assert.AreEqual(-1, db.Get(B("absent"), small));
            }
        }

        [Test]
        public void TypedExceptionsCarryStatusAndMessage()
        {
            using (var db = Open())
            {
                var e = Assert.Throws<InvalidArgumentException>(() => db.Put(new byte[0], B("v")));
                Assert.AreEqual(Status.InvalidArgument, e.Status);
                Assert.AreEqual(-2, e.Code);
                Assert.IsNotEmpty(e.Message);
                Assert.Throws<TooLargeException>(() => db.Put(new byte[65536], B("v")));
                Assert.Throws<NamespaceNotFoundException>(() => db.OpenNamespace("nope", false));
                Assert.Throws<BusyException>(() => Db.Open(Path.Combine(tmp, "db")));
            }
            using (var o = new Options { CreateIfMissing = false })
            {
                var e = Assert.Throws<NotFoundException>(() => Db.Open(Path.Combine(tmp, "missing"), o));
                Assert.AreEqual(Status.NotFound, e.Status);
            }
        }

        [Test]
        public void DisposeTwiceAndUseAfterDispose()
        {
            var db = Open();
            var ns = db.Namespace("n");
            var snap = db.Snapshot();
            var it = db.NewIterator();
            var batch = new Batch();
            var o = new Options();
            var wo = new WriteOptions();
            it.Dispose(); it.Dispose();
            Assert.Throws<ClosedException>(() => it.MoveNext());
            snap.Dispose(); snap.Dispose();
            Assert.Throws<ClosedException>(() => snap.Get(B("k")));
            ns.Dispose(); ns.Dispose();
            Assert.Throws<ClosedException>(() => ns.Put(B("k"), B("v")));
            batch.Dispose(); batch.Dispose();
            Assert.Throws<ClosedException>(() => batch.Put(B("k"), B("v")));
            o.Dispose(); o.Dispose();
            Assert.Throws<ClosedException>(() => o.ReadOnly = true);
            wo.Dispose(); wo.Dispose();
            Assert.Throws<ClosedException>(() => db.Put(wo, B("k"), B("v")));
            db.Dispose(); db.Dispose();
            Assert.IsTrue(db.IsClosed);
            var e = Assert.Throws<ClosedException>(() => db.Get(B("k")));
            Assert.AreEqual(Status.Closed, e.Status);
            Assert.Throws<ClosedException>(() => db.Iterate());
            Assert.Throws<ClosedException>(() => db.NewIterator());
        }

        [Test]
        public void IteratorOutlivesDatabaseHandle()
        {
            var db = Open();
            db.Put(B("a"), B("1"));
            using (var it = db.NewIterator())
            {
                db.Dispose();
                Assert.IsTrue(it.MoveNext());
                Assert.AreEqual(B("a"), it.Current.Key);
                Assert.IsFalse(it.MoveNext());
            }
        }

        [Test]
        public void BatchSnapshotNamespaces()
        {
            using (var db = Open())
            using (var users = db.CreateNamespace("users"))
            using (var batch = new Batch())
            using (var wo = new WriteOptions { Sync = SyncMode.Always })
            {
                Assert.Throws<ExistsException>(() => db.CreateNamespace("users"));
                db.Put(B("a"), B("old"));
                using (var snap = db.Snapshot())
                {
                    batch.Put(B("a"), B("new")).Put(users, B("ada"), B("lovelace")).Delete(B("zz"));
                    Assert.AreEqual(3, batch.Count);
                    db.Write(wo, batch);
                    Assert.AreEqual(B("new"), db.Get(B("a")));
                    Assert.AreEqual(B("lovelace"), users.Get(B("ada")));
                    Assert.IsNull(db.Get(B("ada")));
                    Assert.AreEqual(B("old"), snap.Get(B("a")));
                    Assert.IsNull(snap.Get(users, B("ada")));
                    Assert.Greater(db.LastSeq(), snap.Seq);
                }
                Assert.AreEqual(SyncMode.Always, wo.Sync);
                Assert.AreEqual(1UL, users.Count());
                CollectionAssert.Contains(db.Namespaces(), "users");
                CollectionAssert.Contains(db.Namespaces(), "default");
                db.DropNamespace("users");
                Assert.Throws<NamespaceNotFoundException>(() => users.Get(B("ada")));
            }
        }

        [Test]
        public void ConditionalWrites()
        {
            using (var db = Open())
            {
                Assert.IsTrue(db.PutIfAbsent(B("k"), B("1")));
                Assert.IsFalse(db.PutIfAbsent(B("k"), B("2")));
                Assert.IsTrue(db.CompareAndSwap(B("k"), B("1"), B("2")));
                Assert.IsFalse(db.CompareAndSwap(B("k"), B("1"), B("3")));
                ulong v = db.GetVersion(B("k"));
                Assert.Greater(v, 0UL);
                Assert.IsTrue(db.CompareAndSwapVersion(B("k"), v, B("4")));
                Assert.IsFalse(db.CompareAndSwapVersion(B("k"), v, B("5")));
                Assert.AreEqual(0UL, db.GetVersion(B("absent")));
            }
        }

        [Test]
        public void ForeachIteratorAndMultiGet()
        {
            using (var db = Open())
            {
                var want = new Dictionary<string, string>();
                for (int i = 0; i < 3000; i++)
                {
                    want["key-" + i] = "value-" + i;
                    db.Put(B("key-" + i), B("value-" + i));
                }
                var big = new string('x', 200000);
                want["big"] = big;
                db.Put(B("big"), B(big));
                var got = new Dictionary<string, string>();
                foreach (var e in db.Iterate())
                    got.Add(Encoding.UTF8.GetString(e.Key), Encoding.UTF8.GetString(e.Value));
                CollectionAssert.AreEquivalent(want, got);
                var vals = db.MultiGet(B("key-1"), B("absent"), B("big"));
                Assert.AreEqual(B("value-1"), vals[0]);
                Assert.IsNull(vals[1]);
                Assert.AreEqual(big.Length, vals[2].Length);
                Assert.AreEqual((ulong)want.Count, db.Count());
            }
        }

        // Iterate() is a sequence, not a one-shot enumerator: a second foreach
        // (or LINQ after a foreach) used to throw ClosedException, because the
        // iterator was its own enumerable and the first foreach disposed it.
        [Test]
        public void IterateIsReiterable()
        {
            using (var db = Open())
            using (var ns = db.Namespace("re"))
            {
                for (int i = 0; i < 5; i++) ns.Put(B("k" + i), B("v" + i));
                var all = ns.Iterate();
                int first = 0, second = 0;
                foreach (var e in all) first++;
                foreach (var e in all) second++;
                Assert.AreEqual(5, first);
                Assert.AreEqual(5, second);
                Assert.AreEqual(5, all.Count());
                // A namespace's sequence reads at a new snapshot each time.
                ns.Put(B("k5"), B("v5"));
                Assert.AreEqual(6, all.Count());
                // A snapshot's sequence reads that snapshot every time.
                using (var snap = db.Snapshot())
                {
                    var atSnap = snap.Iterate(ns);
                    ns.Put(B("k6"), B("v6"));
                    Assert.AreEqual(6, atSnap.Count());
                    Assert.AreEqual(6, atSnap.Count());
                }
                Assert.AreEqual(7, ns.Iterate().Count());
                // Breaking out of a foreach disposes that enumeration's iterator
                // only; the sequence still works.
                foreach (var e in all) break;
                Assert.AreEqual(7, all.Count());
            }
        }

        static string Row(Change c)
        {
            return c.Type + " " + c.Seq + " " + c.Namespace + " " + Encoding.UTF8.GetString(c.Key) +
                   " " + Encoding.UTF8.GetString(c.Value);
        }

        [Test]
        public void ChangeFeed()
        {
            using (var db = Open())
            {
                db.Put(B("a"), B("1"));
                using (var users = db.Namespace("users"))
                {
                    users.Put(B("ada"), B("lovelace"));
                    using (var b = new Batch())
                    {
                        b.Put(B("b"), B("2")).Delete(B("a")).Put(users, B("bob"), new byte[0]);
                        db.Write(b);
                    }
                }
                db.DropNamespace("users");
                using (var c = db.Changes(0))
                {
                    Assert.AreEqual(0UL, c.Position);
                    var positions = new List<ulong>();
                    var got = new List<string>();
                    Change ch;
                    while (c.TryNext(out ch))
                    {
                        got.Add(Row(ch));
                        positions.Add(c.Position);
                    }
                    CollectionAssert.AreEqual(new[] {
                        "Put 1 default a 1", "NsCreate 2 users  ", "Put 3 users ada lovelace",
                        "BatchBegin 4   ", "Put 4 default b 2", "Delete 4 default a ",
                        "Put 4 users bob ", "BatchEnd 4   ", "NsDrop 5 users  " }, got);
                    // Every write at or below the position was returned (a
                    // batch once all of it was).
                    CollectionAssert.AreEqual(new ulong[] { 1, 2, 3, 3, 3, 3, 3, 4, 5 }, positions);
                    Assert.AreEqual(0, c.Count());
                    var t0 = DateTime.UtcNow;
                    Assert.IsFalse(c.Wait(100));
                    Assert.GreaterOrEqual((DateTime.UtcNow - t0).TotalMilliseconds, 90);
                    var w = new Thread(() => db.Put(B("late"), B("x")));
                    w.Start();
                    Assert.IsTrue(c.Wait(10000));
                    var late = c.First();
                    Assert.AreEqual(6UL, late.Seq);
                    CollectionAssert.AreEqual(B("late"), late.Key);
                    w.Join();
                }
                using (var c = db.Changes(3, false))
                    Assert.AreEqual(5, c.Count(ch => ch.Type != ChangeType.BatchBegin));
                Assert.AreEqual(1UL, db.OldestChangeSeq());
                Assert.Throws<InvalidArgumentException>(() => db.Changes(100));
                var closed = db.Changes(0);
                closed.Dispose();
                closed.Dispose();
                Assert.Throws<ClosedException>(() => closed.Count());
                Assert.Throws<ClosedException>(() => { var p = closed.Position; });
            }
        }

        [Test]
        public void ChangeFeedTooOldUnlessRetained()
        {
            foreach (var keep in new[] { false, true })
            {
                using (var o = new Options())
                {
                    if (keep) o.Set("change_retention_seqs", "100");
                    using (var db = Db.Open(Path.Combine(tmp, "db" + keep), o))
                    {
                        db.Put(B("k"), B("1"));
                        db.Put(B("k"), B("2"));
                        db.Compact();
                        if (keep)
                        {
                            using (var c = db.Changes(0))
                                CollectionAssert.AreEqual(new[] { "1", "2" },
                                    c.Select(ch => Encoding.UTF8.GetString(ch.Value)).ToList());
                        }
                        else
                        {
                            Assert.Throws<SnapshotTooOldException>(() => db.Changes(0));
                        }
                    }
                }
            }
        }

        [Test]
        public void ReadOnlyBesideWriterRefresh()
        {
            string dir = Path.Combine(tmp, "db");
            using (var w = Db.Open(dir))
            {
                w.Put(B("k"), B("v1"));
                w.Sync();
                Db r;
                using (var o = new Options())
                {
                    o.ReadOnly = true;
                    r = Db.Open(dir, o);
                }
                using (r)
                {
                    CollectionAssert.AreEqual(B("v1"), r.Get(B("k")));
                    w.Put(B("k"), B("v2"));
                    w.Sync();
                    CollectionAssert.AreEqual(B("v1"), r.Get(B("k")), "the reader moved before Refresh");
                    r.Refresh();
                    CollectionAssert.AreEqual(B("v2"), r.Get(B("k")));
                    Assert.AreEqual(w.LastSeq(), r.LastSeq());
                    Assert.Throws<ReadOnlyException>(() => r.Put(B("x"), B("y")));
                    StringAssert.Contains("\"mode\":\"reader\"", r.Stats());
                    w.Refresh(); // a writable handle: nothing to do
                }
                Assert.Throws<ClosedException>(() => r.Refresh());
            }
        }

        [Test]
        public void OptionsRoundTrip()
        {
            using (var o = new Options())
            {
                Assert.IsTrue(o.CreateIfMissing);
                o.SyncMode = SyncMode.Always;
                o.Set("segment_size", "1M");
                Assert.AreEqual(SyncMode.Always, o.SyncMode);
                Assert.AreEqual("always", o.Get("sync_mode"));
                Assert.Throws<InvalidArgumentException>(() => o.Set("no_such_option", "1"));
                using (var db = Db.Open(Path.Combine(tmp, "db"), o))
                {
                    db.Put(B("k"), B("v"));
                    db.Sync();
                    StringAssert.StartsWith("{", db.Stats().Trim());
                }
            }
        }

        [Test]
        public void ConcurrentThreads()
        {
            using (var db = Open())
            {
                var errors = new List<Exception>();
                var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
                {
                    try
                    {
                        var buf = new byte[64];
                        for (int i = 0; i < 1000; i++)
                        {
                            var k = B("t" + t + "-" + i);
                            db.Put(k, k);
                            if (!k.SequenceEqual(db.Get(k))) throw new Exception("wrong value");
                            if (db.Get(k, buf) != k.Length) throw new Exception("wrong size");
                            var e = Assert.Throws<NamespaceNotFoundException>(() => db.OpenNamespace("missing-" + t, false));
                            if (e.Message.Length == 0) throw new Exception("no message");
                        }
                    }
                    catch (Exception e)
                    {
                        lock (errors) errors.Add(e);
                    }
                })).ToList();
                threads.ForEach(th => th.Start());
                threads.ForEach(th => th.Join());
                CollectionAssert.IsEmpty(errors);
                Assert.AreEqual(8000UL, db.Count());
            }
        }

        [Test]
        public void Version()
        {
            Assert.IsNotEmpty(Db.Version);
            Assert.AreEqual(0, Db.VersionNumber / 10000);
        }
    }
}
