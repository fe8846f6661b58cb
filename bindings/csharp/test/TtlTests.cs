using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using Firkin;
using NUnit.Framework;

namespace Firkin.Tests
{
    /// <summary>
    /// TTL, the database clock, snapshots at a time and key history. Expiries
    /// are absolute times in the past or far in the future and bounds come
    /// from the database clock, so nothing depends on timing.
    /// </summary>
    [TestFixture]
    public class TtlTests : TempDirFixture
    {
        static string S(byte[] b) { return b == null ? null : Encoding.UTF8.GetString(b); }
        Db Open(Options o = null) { return Db.Open(Path.Combine(tmp, "db"), o); }

        [Test]
        public void ExpiredKeyIsAbsent()
        {
            using (var db = Open())
            {
                db.PutExpireAt(B("gone"), B("v"), db.Now().AddSeconds(-1));
                Assert.IsNull(db.Get(B("gone")));
                Assert.IsFalse(db.Contains(B("gone")));
                TimeSpan? rem;
                Assert.IsFalse(db.TryGetTtl(B("gone"), out rem));
                Assert.IsFalse(db.Persist(B("gone")));
                Assert.IsFalse(db.TryGetTtl(B("never"), out rem));
                db.Put(B("live"), B("x"));
                var keys = new List<string>();
                using (var it = db.NewIterator())
                    while (it.MoveNext()) keys.Add(S(it.Current.Key));
                CollectionAssert.AreEqual(new[] { "live" }, keys);
            }
        }

        [Test]
        public void RemainingAndPersist()
        {
            using (var db = Open())
            {
                long before = db.NowMs();
                db.PutExpireAt(B("k"), B("v"), DateTimeOffset.FromUnixTimeMilliseconds(before + 60000));
                TimeSpan? rem;
                Assert.IsTrue(db.TryGetTtl(B("k"), out rem));
                long after = db.NowMs();
                Assert.IsTrue(rem.HasValue);
                Assert.That(rem.Value.TotalMilliseconds, Is.InRange(before + 60000 - after, 60000));
                Assert.AreEqual("v", S(db.Get(B("k"))));

                db.Put(B("r"), B("w"), TimeSpan.FromSeconds(10));
                Assert.IsTrue(db.TryGetTtl(B("r"), out rem));
                Assert.IsTrue(rem.Value > TimeSpan.Zero && rem.Value <= TimeSpan.FromSeconds(10));

                db.Put(B("p"), B("1"));
                Assert.IsTrue(db.TryGetTtl(B("p"), out rem));
                Assert.IsNull(rem);

                ulong v0 = db.GetVersion(B("k"));
                Assert.IsTrue(db.Persist(B("k")));
                Assert.IsTrue(db.TryGetTtl(B("k"), out rem));
                Assert.IsNull(rem);
                Assert.AreEqual("v", S(db.Get(B("k"))));
                ulong v1 = db.GetVersion(B("k"));
                Assert.Greater(v1, v0);
                Assert.IsTrue(db.Persist(B("k"))); // no expiry: nothing written
                Assert.AreEqual(v1, db.GetVersion(B("k")));
                db.Put(B("r"), B("w2")); // a put without a TTL makes the key persistent
                Assert.IsTrue(db.TryGetTtl(B("r"), out rem));
                Assert.IsNull(rem);
            }
        }

        [Test]
        public void NamespaceSnapshotAndBatch()
        {
            using (var db = Open())
            using (var users = db.Namespace("users"))
            {
                users.PutExpireAt(B("old"), B("v"), db.Now().AddMinutes(-1));
                users.Put(B("new"), B("v"), TimeSpan.FromHours(1));
                Assert.IsNull(users.Get(B("old")));
                Assert.AreEqual("v", S(users.Get(B("new"))));
                Assert.IsNull(db.Get(B("new")));
                TimeSpan? rem;
                Assert.IsTrue(users.TryGetTtl(B("new"), out rem));
                Assert.IsTrue(rem.Value > TimeSpan.Zero && rem.Value <= TimeSpan.FromHours(1));
                var snap = db.Snapshot();
                Assert.IsTrue(users.Persist(B("new")));
                Assert.IsTrue(snap.TryGetTtl(users, B("new"), out rem));
                Assert.IsTrue(rem.HasValue && rem.Value <= TimeSpan.FromHours(1), "the snapshot predates Persist");
                Assert.IsTrue(users.TryGetTtl(B("new"), out rem));
                Assert.IsNull(rem);
                snap.Dispose();
                Assert.Throws<ClosedException>(() => snap.TryGetTtl(B("new"), out rem));

                using (var batch = new Batch())
                {
                    batch.Put(B("a"), B("1"), TimeSpan.FromMinutes(1))
                         .Put(users, B("b"), B("2"), TimeSpan.FromMinutes(2))
                         .Put(B("c"), B("3"));
                    Assert.AreEqual(3, batch.Count);
                    db.Write(batch);
                }
                Assert.IsTrue(db.TryGetTtl(B("a"), out rem));
                Assert.IsTrue(rem.Value > TimeSpan.Zero && rem.Value <= TimeSpan.FromMinutes(1));
                Assert.IsTrue(users.TryGetTtl(B("b"), out rem));
                Assert.IsTrue(rem.Value > TimeSpan.FromMinutes(1) && rem.Value <= TimeSpan.FromMinutes(2));
                Assert.IsTrue(db.TryGetTtl(B("c"), out rem));
                Assert.IsNull(rem);
                KeyVersion va = db.History(B("a"))[0], vb = users.History(B("b"))[0];
                Assert.AreEqual(va.CommitTime, vb.CommitTime, "one commit time per batch");
                Assert.AreEqual(TimeSpan.FromMinutes(1), va.Expiry.Value - va.CommitTime.Value);
                Assert.AreEqual(TimeSpan.FromMinutes(2), vb.Expiry.Value - vb.CommitTime.Value);
            }
        }

        [Test]
        public void BadInput()
        {
            var db = Open();
            Assert.Throws<InvalidArgumentException>(() => db.Put(B("k"), B("v"), TimeSpan.Zero));
            Assert.Throws<InvalidArgumentException>(() => db.Put(B("k"), B("v"), TimeSpan.FromSeconds(-1)));
            // (an expiry at or before the epoch is a past time, not bad input:
            // RangesTests.PastExpireAtWritesAnExpiredKey)
            var batch = new Batch();
            Assert.Throws<InvalidArgumentException>(() => batch.Put(B("k"), B("v"), TimeSpan.Zero));
            batch.Dispose();
            Assert.Throws<ClosedException>(() => batch.Put(B("k"), B("v"), TimeSpan.FromSeconds(1)));
            db.Put(B("tiny"), B("v"), TimeSpan.FromTicks(1)); // rounded up to 1 ms, not rejected
            Assert.Throws(Is.InstanceOf<FirkinException>(), () => db.Put(new byte[70000], B("v"), TimeSpan.FromSeconds(1)));
            db.Dispose();
            TimeSpan? rem;
            Assert.Throws<ClosedException>(() => db.Put(B("k"), B("v"), TimeSpan.FromSeconds(1)));
            Assert.Throws<ClosedException>(() => db.TryGetTtl(B("k"), out rem));
            Assert.Throws<ClosedException>(() => db.Persist(B("k")));
            Assert.Throws<ClosedException>(() => db.NowMs());
            Assert.Throws<ClosedException>(() => db.History(B("k")));
            Assert.Throws<ClosedException>(() => db.SnapshotAt(DateTimeOffset.UtcNow));
        }

        [Test]
        public void HistoryOrderAndFields()
        {
            using (var db = Open())
            {
                using (var h0 = db.History(B("k")))
                {
                    Assert.AreEqual(0, h0.Count);
                    Assert.IsFalse(h0.Truncated);
                }
                db.Put(B("k"), B("v1"));
                ulong s1 = db.GetVersion(B("k"));
                var now = db.Now();
                var exp = now.AddHours(1);
                db.PutExpireAt(B("k"), B("v2"), exp);
                ulong s2 = db.GetVersion(B("k"));
                db.Delete(B("k"));
                ulong last = db.LastSeq();
                var h = db.History(B("k"));
                var all = new List<KeyVersion>(h);
                Assert.AreEqual(3, all.Count);
                Assert.IsFalse(h.Truncated);
                KeyVersion d = all[0], v2 = all[1], v1 = all[2];
                Assert.IsTrue(d.IsDelete);
                Assert.IsNull(d.Value);
                Assert.IsNull(d.Expiry);
                Assert.AreEqual(last, d.Seq);
                Assert.IsFalse(v2.IsDelete);
                Assert.AreEqual("v2", S(v2.Value));
                Assert.AreEqual(s2, v2.Seq);
                Assert.AreEqual(exp, v2.Expiry);
                Assert.AreEqual("v1", S(v1.Value));
                Assert.AreEqual(s1, v1.Seq);
                Assert.IsNull(v1.Expiry);
                Assert.IsTrue(v1.CommitTime.HasValue && v1.CommitTime.Value <= now);
                Assert.IsTrue(d.CommitTime >= v2.CommitTime && v2.CommitTime >= v1.CommitTime);
                h.Dispose();
                Assert.Throws<ClosedException>(() => h.GetEnumerator());

                var big = new byte[10000]; // larger than the scratch buffer
                for (int i = 0; i < big.Length; i++) big[i] = (byte)i;
                db.Put(B("big"), big);
                db.Put(B("big"), new byte[0]);
                using (var hb = db.History(B("big")))
                {
                    Assert.AreEqual(2, hb.Count);
                    CollectionAssert.AreEqual(new byte[0], hb[0].Value);
                    CollectionAssert.AreEqual(big, hb[1].Value);
                }
            }
        }

        [Test]
        public void SnapshotAtTime()
        {
            using (var o = new Options())
            {
                o.HistoryRetention = TimeSpan.FromHours(1);
                Assert.AreEqual(TimeSpan.FromHours(1), o.HistoryRetention);
                Assert.AreEqual("3600000", o.Get("history_retention_ms"));
                Assert.Throws<InvalidArgumentException>(() => o.HistoryRetention = TimeSpan.FromSeconds(-1));
                using (var db = Open(o))
                {
                    db.Put(B("k"), B("v1"));
                    Thread.Sleep(3); // distinct commit times (ms)
                    db.Put(B("k"), B("v2"));
                    var h = db.History(B("k"));
                    var t2 = h[0].CommitTime.Value;
                    var t1 = h[1].CommitTime.Value;
                    Assert.Greater(t2, t1);
                    using (var s0 = db.SnapshotAt(t1.AddMilliseconds(-1)))
                    {
                        Assert.AreEqual(0UL, s0.Seq);
                        Assert.IsNull(s0.Get(B("k")));
                    }
                    using (var s = db.SnapshotAt(t1))
                    {
                        Assert.AreEqual("v1", S(s.Get(B("k"))));
                        Assert.AreEqual(h[1].Seq, s.Seq);
                    }
                    using (var s = db.SnapshotAt(t2.AddMilliseconds(-1)))
                        Assert.AreEqual("v1", S(s.Get(B("k"))));
                    using (var s = db.SnapshotAt(t2))
                        Assert.AreEqual("v2", S(s.Get(B("k"))));
                    using (var s = db.SnapshotAt(DateTimeOffset.UtcNow.AddHours(1)))
                        Assert.AreEqual("v2", S(s.Get(B("k"))));
                    using (var s = db.SnapshotAt(DateTimeOffset.FromUnixTimeSeconds(-5)))
                        Assert.IsNull(s.Get(B("k")));
                }
            }
        }

        [Test]
        public void TransactionalTtl()
        {
            using (var db = Open())
            {
                var now = db.Now();
                db.Update(tx =>
                {
                    tx.Put(B("a"), B("va"), TimeSpan.FromHours(1));
                    tx.PutExpireAt(B("gone"), B("v"), now.AddSeconds(-1));
                    Assert.AreEqual("va", S(tx.Get(B("a"))));   // its own TTL put reads as present
                    Assert.IsNull(tx.Get(B("gone")));          // its own put with a past expiry: absent
                    Assert.Throws<InvalidArgumentException>(() => tx.Put(B("z"), B("v"), TimeSpan.Zero));
                });
                TimeSpan? left;
                Assert.IsTrue(db.TryGetTtl(B("a"), out left));
                Assert.IsTrue(left.Value > TimeSpan.FromMinutes(59) && left.Value <= TimeSpan.FromHours(1), "remaining " + left);
                Assert.IsNull(db.Get(B("gone")));
            }
        }

        [Test]
        public void AbandonedTransactionExpires()
        {
            using (var o = new Options())
            {
                o.TxnMaxAge = TimeSpan.FromMilliseconds(1);
                Assert.AreEqual(TimeSpan.FromMilliseconds(1), o.TxnMaxAge);
                Assert.Throws<InvalidArgumentException>(() => o.TxnMaxAge = TimeSpan.FromSeconds(-1));
                using (var db = Open(o))
                using (var tx = db.BeginTransaction())
                {
                    tx.Put(B("k"), B("v"));
                    Thread.Sleep(5);
                    db.Compact(); // a compaction cycle expires the abandoned transaction
                    Assert.Throws<SnapshotTooOldException>(() => tx.Get(B("k")));
                    Assert.Throws<SnapshotTooOldException>(() => tx.Commit());
                    Assert.IsNull(db.Get(B("k")));
                }
            }
        }

        [Test]
        public void SnapshotAtTimeBeyondWhatCompactionKept()
        {
            using (var o = new Options())
            {
                o.Set("segment_size", "64K");
                o.Set("auto_compact", "false");
                using (var db = Open(o))
                {
                    db.Put(B("k"), B("v1"));
                    DateTimeOffset t1;
                    using (var h = db.History(B("k")))
                    {
                        var e = h.GetEnumerator();
                        e.MoveNext();
                        t1 = e.Current.CommitTime.Value;
                    }
                    Thread.Sleep(3);
                    var pad = new byte[1000];
                    for (int i = 0; i < 400; i++) db.Put(B("p" + (i % 10)), pad);
                    db.Put(B("k"), B("v2"));
                    db.Compact();
                    // No retention: never a wrong state, SnapshotTooOldException instead.
                    Assert.Throws<SnapshotTooOldException>(() => db.SnapshotAt(t1));
                }
            }
        }
    }
}
