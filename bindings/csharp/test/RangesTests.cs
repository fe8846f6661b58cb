using System;
using System.IO;
using System.Text;
using Firkin;
using NUnit.Framework;

namespace Firkin.Tests
{
    /// <summary>
    /// Integers and times on their way to C are never wrapped and past
    /// expiries are written, as in the Python package
    /// (bindings/python/tests/test_ranges.py, test_ttl.py). Sequence numbers
    /// and versions are ulong here, the C type itself; the TTL and expiry
    /// types are TimeSpan and DateTimeOffset, both well inside 2^64 ms.
    /// </summary>
    [TestFixture]
    public class RangesTests : TempDirFixture
    {
        Db Open() { return Db.Open(Path.Combine(tmp, "db")); }

        static KeyVersion Newest(Db db, Namespace ns, string key)
        {
            using (var h = ns == null ? db.History(B(key)) : ns.History(B(key))) return h[0];
        }

        /// <summary>PutExpireAt at or before the epoch used to throw
        /// InvalidArgumentException ("expiry time must be > 0"): it was sent as 0.</summary>
        [Test]
        public void PastExpireAtWritesAnExpiredKey()
        {
            var epoch = DateTimeOffset.FromUnixTimeMilliseconds(0);
            DateTimeOffset[] past =
            {
                DateTimeOffset.FromUnixTimeSeconds(1), epoch, DateTimeOffset.FromUnixTimeSeconds(-5),
                epoch.AddTicks(4000), new DateTimeOffset(1969, 12, 31, 0, 0, 0, TimeSpan.Zero),
                DateTimeOffset.MinValue,
            };
            using (var db = Open())
            using (var users = db.Namespace("users"))
            {
                int i = 0;
                foreach (var at in past)
                {
                    var want = at == DateTimeOffset.FromUnixTimeSeconds(1) ? at : DateTimeOffset.FromUnixTimeMilliseconds(1);
                    foreach (var ns in new[] { null, users })
                    {
                        string k = "k" + i++;
                        if (ns == null)
                        {
                            db.Put(B(k), B("live"));
                            db.PutExpireAt(B(k), B("v"), at);
                            Assert.IsNull(db.Get(B(k)), at.ToString());
                            Assert.IsFalse(db.Contains(B(k)));
                            Assert.IsFalse(db.Persist(B(k)));
                        }
                        else
                        {
                            ns.Put(B(k), B("live"));
                            ns.PutExpireAt(B(k), B("v"), at);
                            Assert.IsNull(ns.Get(B(k)), at.ToString());
                            Assert.IsFalse(ns.Contains(B(k)));
                            Assert.IsFalse(ns.Persist(B(k)));
                        }
                        var v = Newest(db, ns, k);
                        Assert.IsFalse(v.IsDelete);
                        Assert.AreEqual(B("v"), v.Value);
                        Assert.AreEqual(want, v.Expiry, at.ToString());
                        using (var tx = db.BeginTransaction())
                        {
                            tx.PutExpireAt(ns, B(k + "t"), B("v"), at);
                            Assert.IsNull(tx.Get(ns, B(k + "t")));
                            tx.Commit();
                        }
                        Assert.AreEqual(want, Newest(db, ns, k + "t").Expiry);
                    }
                }
                Assert.AreEqual(0UL, db.Count());
                Assert.AreEqual(0UL, users.Count());
            }
        }

        /// <summary>The largest TimeSpan and DateTimeOffset go as they are (exact,
        /// rounded up / down to whole ms); a snapshot at DateTimeOffset.MaxValue is
        /// the latest state.</summary>
        [Test]
        public void LargestTimesAreExact()
        {
            using (var db = Open())
            {
                db.PutExpireAt(B("max"), B("v"), DateTimeOffset.MaxValue);
                Assert.AreEqual(B("v"), db.Get(B("max")));
                Assert.AreEqual(DateTimeOffset.FromUnixTimeMilliseconds(253402300799999), Newest(db, null, "max").Expiry);
                db.Put(B("ttl"), B("v"), TimeSpan.MaxValue);
                Assert.AreEqual(B("v"), db.Get(B("ttl")));
                TimeSpan? rem;
                Assert.IsTrue(db.TryGetTtl(B("ttl"), out rem));
                Assert.IsTrue(rem > TimeSpan.FromDays(365 * 29000), rem.ToString());
                using (var s = db.SnapshotAt(DateTimeOffset.MaxValue))
                {
                    Assert.AreEqual(db.LastSeq(), s.Seq);
                    Assert.AreEqual(B("v"), s.Get(B("max")));
                }
            }
        }

        /// <summary>history_retention_ms and txn_max_age_ms are uint64_t: a value
        /// set as text beyond TimeSpan's range used to read back as a negative
        /// TimeSpan (2^64 - 1 as -1 ms) or throw OverflowException; it saturates
        /// at TimeSpan.MaxValue.</summary>
        [Test]
        public void DurationOptionsReadBackSaturated()
        {
            using (var o = new Options())
            {
                o.Set("history_retention_ms", "18446744073709551615");
                Assert.AreEqual(TimeSpan.MaxValue, o.HistoryRetention);
                o.Set("txn_max_age_ms", "922337203685478");
                Assert.AreEqual(TimeSpan.MaxValue, o.TxnMaxAge);
                o.HistoryRetention = TimeSpan.FromMilliseconds(1500);
                Assert.AreEqual(TimeSpan.FromMilliseconds(1500), o.HistoryRetention);
                // the shared SWIG helper behind the typed setters kept the low 32
                // bits of a sync mode (2^32 + 2 was Always)
                var e = Assert.Throws<InvalidArgumentException>(() => o.SetTyped("sync_mode", (1L << 32) + 2));
                StringAssert.Contains("4294967298", e.Message);
                Assert.AreNotEqual(SyncMode.Always, o.SyncMode);
                o.TxnMaxAge = TimeSpan.MaxValue; // whole ms, as before
                Assert.AreEqual(TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond,
                                o.TxnMaxAge.Ticks);
            }
        }
    }
}
