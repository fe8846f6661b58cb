using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Firkin;
using NUnit.Framework;

namespace Firkin.Tests
{
    /// <summary>Ordered namespaces: CreateNamespaceOrdered, range / prefix iterators, Seek.</summary>
    [TestFixture]
    public class OrderedTests : TempDirFixture
    {
        static string S(byte[] b) { return Encoding.UTF8.GetString(b); }
        static string K(int i) { return string.Format("k{0:D5}", i); }

        /// <summary>Drains and disposes it; its keys.</summary>
        static List<string> Keys(Iterator it)
        {
            var keys = new List<string>();
            using (it)
            {
                while (it.MoveNext()) keys.Add(S(it.Current.Key));
            }
            return keys;
        }

        static string Next(Iterator it)
        {
            Assert.IsTrue(it.MoveNext());
            return S(it.Current.Key);
        }

        [Test]
        public void RangePrefixReverseSeekSnapshotTransaction()
        {
            string path = Path.Combine(tmp, "db");
            using (var db = Db.Open(path))
            using (var ns = db.CreateNamespaceOrdered("o"))
            using (var plain = db.CreateNamespace("plain"))
            {
                Assert.IsTrue(ns.IsOrdered);
                Assert.IsFalse(plain.IsOrdered);
                Assert.Throws<ExistsException>(() => db.CreateNamespaceOrdered("plain"));
                // 3000 keys of 100 bytes, written out of order: several next_n buffers
                for (int i = 2999; i >= 0; i--) ns.Put(B(K(i)), new byte[100]);
                var all = Keys(db.RangeIterator(ns, null, null, null));
                var rev = Keys(db.RangeIterator(ns, null, new byte[0], new byte[0], true));
                Assert.AreEqual(Enumerable.Range(0, 3000).Select(K).ToList(), all);
                Assert.AreEqual(Enumerable.Range(0, 3000).Select(i => K(2999 - i)).ToList(), rev);
                Assert.AreEqual(new[] { "k00010", "k00011", "k00012" },
                                Keys(db.RangeIterator(ns, null, B("k00010"), B("k00013"))));
                Assert.AreEqual(new[] { "k02999", "k02998" },
                                Keys(db.PrefixIterator(ns, null, B("k0299"), true)).Take(2).ToList());

                // Seek after part of a buffer was consumed
                using (var it = db.RangeIterator(ns, null, null, null))
                {
                    Assert.IsTrue(it.IsOrdered);
                    Next(it);
                    Assert.AreEqual("k00001", Next(it));
                    it.Seek(B("k02500"));
                    Assert.AreEqual("k02500", Next(it));
                    it.Seek(B("k00000x"));
                    Assert.AreEqual("k00001", Next(it));
                    it.Seek(B("z"));
                    Assert.IsFalse(it.MoveNext());
                    it.Seek(B("k02999"));
                    Assert.AreEqual("k02999", Next(it));
                    Assert.IsFalse(it.MoveNext());
                }

                // snapshot isolation
                using (var s = db.Snapshot())
                {
                    ns.Delete(B("k00000"));
                    ns.Put(B("a"), B("new"));
                    Assert.AreEqual(new[] { "k00000", "k00001" }, Keys(db.RangeIterator(ns, s, null, B("k00002"))));
                    Assert.AreEqual(new[] { "a", "k00001" }, Keys(db.RangeIterator(ns, null, null, B("k00002"))));
                }

                // unordered namespaces and iterators
                Assert.Throws<InvalidArgumentException>(() => db.RangeIterator(plain, null, null, null));
                Assert.Throws<InvalidArgumentException>(() => db.PrefixIterator(null, null, B("k")));
                using (var hashed = ns.NewIterator())
                {
                    Assert.IsFalse(hashed.IsOrdered);
                    Assert.Throws<InvalidArgumentException>(() => hashed.Seek(B("k")));
                    Assert.AreEqual(3000, Keys(hashed).Count);
                }

                // in a transaction: its own writes, in order
                using (var tx = db.BeginTransaction())
                {
                    tx.Put(ns, B("k00000"), B("back"));
                    tx.Delete(ns, B("k00001"));
                    Assert.AreEqual(new[] { "k00002", "k00000", "a" },
                                    Keys(tx.RangeIterator(ns, B("a"), B("k00003"), true)));
                    Assert.AreEqual(new[] { "k00000", "k00002" },
                                    Keys(tx.PrefixIterator(ns, B("k0000"))).Take(2).ToList());
                    Assert.Throws<InvalidArgumentException>(() => tx.RangeIterator(plain, null, null));
                    tx.Rollback();
                }
            }
            // the property survives a reopen
            using (var db = Db.Open(path))
            using (var ns = db.OpenNamespace("o", false))
            {
                Assert.IsTrue(ns.IsOrdered);
                Assert.AreEqual(new[] { "a", "k00001" }, Keys(db.RangeIterator(ns, null, null, B("k00002"))));
            }
        }
    }
}
