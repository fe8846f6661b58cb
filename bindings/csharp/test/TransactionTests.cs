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
    public class TransactionTests : TempDirFixture
    {
        static string S(byte[] b) { return b == null ? null : Encoding.UTF8.GetString(b); }
        Db Open(string name = "db") { return Db.Open(Path.Combine(tmp, name)); }

        [Test]
        public void ReadYourOwnWritesAndCommit()
        {
            using (var db = Open())
            using (var users = db.Namespace("users"))
            {
                db.Put(B("a"), B("1"));
                using (var tx = db.BeginTransaction())
                {
                    Assert.AreEqual(db.LastSeq(), tx.SnapshotSeq);
                    Assert.AreEqual(Isolation.Snapshot, tx.Isolation);
                    Assert.AreEqual("1", S(tx.Get(B("a"))));
                    tx.Put(B("a"), B("2"));
                    tx.Put(B("b"), new byte[] { 0, (byte)'x' });
                    tx.Put(users, B("ada"), B("lovelace"));
                    tx.Put(B("empty"), new byte[0]);
                    var big = new byte[10000];
                    big[9999] = 7;
                    tx.Put(B("big"), big);
                    CollectionAssert.AreEqual(big, tx.Get(B("big")));
                    Assert.AreEqual(0, tx.Get(B("empty")).Length);
                    Assert.AreEqual("2", S(tx.Get(B("a"))));
                    CollectionAssert.AreEqual(new byte[] { 0, (byte)'x' }, tx.Get(B("b")));
                    Assert.AreEqual("lovelace", S(tx.Get(users, B("ada"))));
                    Assert.IsNull(tx.Get(B("ada")));
                    Assert.IsTrue(tx.Contains(B("b")));
                    Assert.IsFalse(tx.Contains(B("nope")));
                    Assert.IsNull(db.Get(B("b"))); // nothing visible outside before commit
                    tx.Delete(B("a"));
                    Assert.IsNull(tx.Get(B("a")));
                    var seq = tx.Commit();
                    Assert.AreEqual(db.LastSeq(), seq);
                    Assert.AreEqual(seq, tx.CommitSeq);
                    Assert.IsTrue(tx.IsFinished);
                }
                Assert.IsNull(db.Get(B("a")));
                Assert.AreEqual("lovelace", S(users.Get(B("ada"))));
            }
        }

        [Test]
        public void UseAfterCommitAndDispose()
        {
            using (var db = Open())
            {
                var tx = db.BeginTransaction();
                tx.Put(B("k"), B("v"));
                tx.Commit();
                Assert.Throws<InvalidArgumentException>(() => tx.Put(B("k"), B("w")));
                Assert.Throws<InvalidArgumentException>(() => tx.Get(B("k")));
                Assert.Throws<InvalidArgumentException>(() => tx.Commit());
                Assert.Throws<InvalidArgumentException>(() => tx.Rollback());
                tx.Dispose();
                tx.Dispose();
                Assert.Throws<ClosedException>(() => tx.Get(B("k")));
                Assert.AreEqual("v", S(db.Get(B("k"))));
            }
        }

        [Test]
        public void CommitRefusedForClosedWriteOptionsLeavesTheTransactionOpen()
        {
            // (IsFinished was set though the commit never ran, and a second
            // Commit still applied the writes; review of the C# binding.)
            using (var db = Open())
            using (var tx = db.BeginTransaction())
            {
                tx.Put(B("k"), B("v"));
                var wo = new WriteOptions();
                wo.Dispose();
                Assert.Throws<ClosedException>(() => tx.Commit(wo));
                Assert.IsFalse(tx.IsFinished);
                Assert.IsNull(db.Get(B("k")));
                tx.Commit();
                Assert.IsTrue(tx.IsFinished);
                Assert.AreEqual("v", S(db.Get(B("k"))));
            }
        }

        [Test]
        public void RollbackAndDisposeDiscard()
        {
            using (var db = Open())
            {
                using (var tx = db.BeginTransaction())
                {
                    tx.Put(B("k"), B("v"));
                    tx.Rollback();
                    Assert.IsTrue(tx.IsFinished);
                    Assert.Throws<InvalidArgumentException>(() => tx.Put(B("k"), B("v")));
                }
                using (var tx = db.BeginTransaction(Isolation.Serializable))
                    tx.Put(B("k"), B("v")); // disposed without commit
                Assert.IsNull(db.Get(B("k")));
            }
        }

        [Test]
        public void SnapshotIsolationWriteWriteConflict()
        {
            using (var db = Open())
            using (var t1 = db.BeginTransaction())
            using (var t2 = db.BeginTransaction())
            {
                t1.Put(B("x"), B("1"));
                t2.Put(B("x"), B("2"));
                t1.Commit();
                var e = Assert.Throws<ConflictException>(() => t2.Commit());
                Assert.AreEqual(Status.Conflict, e.Status);
                StringAssert.Contains("x", e.Message);
                Assert.IsInstanceOf<FirkinException>(e);
                Assert.AreEqual("1", S(db.Get(B("x"))));
            }
        }

        [Test]
        public void SerializableReadWriteConflict()
        {
            using (var db = Open())
            {
                db.Put(B("x"), B("0"));
                foreach (var iso in new[] { Isolation.Snapshot, Isolation.Serializable })
                {
                    using (var t1 = db.BeginTransaction(iso))
                    using (var t2 = db.BeginTransaction(iso))
                    {
                        Assert.IsNull(t1.Get(B("y")));
                        Assert.AreEqual("0", S(t2.Get(B("x"))));
                        t1.Put(B("x"), B("0"));
                        t2.Put(B("y"), B("2"));
                        t1.Commit();
                        if (iso == Isolation.Serializable)
                            Assert.Throws<ConflictException>(() => t2.Commit());
                        else
                            t2.Commit(); // write skew is allowed under snapshot isolation
                    }
                    db.Delete(B("y"));
                }
                using (var tx = db.BeginTransaction(Isolation.Serializable))
                {
                    Assert.AreEqual(1, tx.Iterate().Count());
                    tx.Put(B("count"), B("1"));
                    db.Put(B("phantom"), B("!"));
                    Assert.Throws<ConflictException>(() => tx.Commit());
                }
            }
        }

        [Test]
        public void IteratorInsideTransaction()
        {
            using (var db = Open())
            {
                db.Put(B("a"), B("1"));
                db.Put(B("b"), B("2"));
                using (var tx = db.BeginTransaction())
                {
                    tx.Put(B("c"), B("3"));
                    tx.Delete(B("a"));
                    tx.Put(B("b"), B("22"));
                    var got = new List<string>();
                    using (var it = tx.NewIterator())
                    {
                        tx.Put(B("d"), B("4")); // not seen by the iterator made before
                        while (it.MoveNext()) got.Add(S(it.Current.Key) + "=" + S(it.Current.Value));
                    }
                    got.Sort(StringComparer.Ordinal);
                    Assert.AreEqual(new[] { "b=22", "c=3" }, got.ToArray());
                    var all = tx.Iterate().Select(e => S(e.Key)).OrderBy(k => k, StringComparer.Ordinal).ToArray();
                    Assert.AreEqual(new[] { "b", "c", "d" }, all);
                }
            }
        }

        [Test]
        public void CompareAndSwap()
        {
            using (var db = Open())
            {
                db.Put(B("k"), B("old"));
                db.Update(tx =>
                {
                    Assert.IsFalse(tx.CompareAndSwap(B("k"), B("nope"), B("new")));
                    Assert.AreEqual("old", S(tx.Get(B("k"))));
                    Assert.IsTrue(tx.CompareAndSwap(B("k"), B("old"), B("new")));
                });
                Assert.AreEqual("new", S(db.Get(B("k"))));
            }
        }

        [Test]
        public void UpdateRetriesOnConflict()
        {
            using (var db = Open())
            {
                db.Put(B("n"), B("0"));
                int attempts = 0;
                int r = db.Update(tx =>
                {
                    int n = int.Parse(S(tx.Get(B("n"))));
                    if (++attempts <= 2) db.Put(B("n"), B((n + 100).ToString())); // this attempt conflicts
                    tx.Put(B("n"), B((n + 1).ToString()));
                    return n + 1;
                });
                Assert.AreEqual(201, r);
                Assert.AreEqual(3, attempts);
                Assert.AreEqual("201", S(db.Get(B("n"))));

                attempts = 0;
                Assert.Throws<ConflictException>(() => db.Update(tx =>
                {
                    attempts++;
                    tx.Put(B("n"), B("x"));
                    db.Put(B("n"), B("y"));
                }, Isolation.Snapshot, 4));
                Assert.AreEqual(4, attempts);
                Assert.AreEqual("y", S(db.Get(B("n"))));

                attempts = 0;
                Assert.Throws<InvalidOperationException>(() => db.Update(tx =>
                {
                    attempts++;
                    tx.Put(B("n"), B("z"));
                    throw new InvalidOperationException("boom");
                }));
                Assert.AreEqual(1, attempts);
                Assert.AreEqual("y", S(db.Get(B("n"))));
                Assert.Throws<InvalidArgumentException>(() => db.Update(tx => { tx.Commit(); }));
                Assert.Throws<InvalidArgumentException>(() => db.Update(tx => { }, Isolation.Snapshot, 0));
            }
        }

        [Test]
        public void ConcurrentIncrements()
        {
            using (var db = Open())
            {
                db.Put(B("ctr"), B("0"));
                var errors = new List<Exception>();
                var ts = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
                {
                    try
                    {
                        for (int i = 0; i < 100; i++)
                            db.Update(tx =>
                            {
                                int n = int.Parse(S(tx.Get(B("ctr"))));
                                tx.Put(B("ctr"), B((n + 1).ToString()));
                            }, Isolation.Snapshot, 10000);
                    }
                    catch (Exception e) { lock (errors) errors.Add(e); }
                })).ToList();
                ts.ForEach(t => t.Start());
                ts.ForEach(t => t.Join());
                Assert.AreEqual(0, errors.Count, string.Join("\n", errors));
                Assert.AreEqual("400", S(db.Get(B("ctr"))));
            }
        }

        [Test]
        public void BadInput()
        {
            using (var db = Open())
            using (var other = Open("other"))
            using (var ons = other.Namespace("o"))
            using (var tx = db.BeginTransaction())
            {
                Assert.Throws<InvalidArgumentException>(() => tx.Put(ons, B("k"), B("v")));
                Assert.Throws<TooLargeException>(() => tx.Put(new byte[70000], B("v")));
                Assert.Throws<InvalidArgumentException>(() => db.BeginTransaction((Isolation)7));
            }
            var closed = Open();
            closed.Dispose();
            Assert.Throws<ClosedException>(() => closed.BeginTransaction());
        }
    }
}
