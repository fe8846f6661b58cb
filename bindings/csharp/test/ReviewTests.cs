using System;
using System.IO;
using System.Linq;
using System.Text;
using Firkin;
using NUnit.Framework;

namespace Firkin.Tests
{
    /// <summary>A NUL in a string for C is refused; a failing multi-get key keeps the library's message.</summary>
    [TestFixture]
    public class ReviewTests : TempDirFixture
    {
        [Test]
        public void NulInStringsIsInvalidArgument()
        {
            string real = Path.Combine(tmp, "real");
            Assert.Throws<InvalidArgumentException>(() => Db.Open(real + "\0ignored"));
            Assert.Throws<InvalidArgumentException>(() => Db.VerifyPath(real + "\0x", null));
            Assert.Throws<InvalidArgumentException>(() => Db.Restore(real + "\0x", Path.Combine(tmp, "r")));
            Assert.Throws<InvalidArgumentException>(() => Db.Restore(Path.Combine(tmp, "b"), real + "\0x"));
            using (var o = new Options())
            {
                Assert.Throws<InvalidArgumentException>(() => Db.Rekey(real + "\0x", o, o));
                Assert.Throws<InvalidArgumentException>(() => o.Set("sync_mode\0x", "always"));
                Assert.Throws<InvalidArgumentException>(() => o.Set("sync_mode", "always\0x"));
                Assert.Throws<InvalidArgumentException>(() => o.Get("sync_mode\0x"));
                Assert.Throws<InvalidArgumentException>(() => o.SetPassphrase("pw\0x"));
            }
            Assert.IsFalse(Directory.Exists(real), "the path was cut at the NUL");
            using (var db = Db.Open(Path.Combine(tmp, "db")))
            {
                db.Namespace("users").Dispose();
                Assert.Throws<InvalidArgumentException>(() => db.DropNamespace("users\0archive"));
                Assert.Throws<InvalidArgumentException>(() => db.Namespace("users\0x"));
                Assert.Throws<InvalidArgumentException>(() => db.CreateNamespace("users\0x"));
                Assert.Throws<InvalidArgumentException>(() => db.CreateNamespaceOrdered("users\0x"));
                Assert.Throws<InvalidArgumentException>(() => db.Backup(real + "\0x"));
                CollectionAssert.Contains(db.Namespaces(), "users");
            }
            Assert.AreEqual(1, Directory.GetFileSystemEntries(tmp).Length, "a directory was created");
        }

        /// <summary>An unpaired surrogate has no UTF-8 form: the binding's InvalidArgumentException,
        /// not the marshaller's ArgumentException.</summary>
        [Test]
        public void UnpairedSurrogateIsInvalidArgument()
        {
            foreach (var bad in new[] { "a\uD800", "a\uDBFF", "a\uDC00b", "\uD800\uD800" })
                Assert.Throws<InvalidArgumentException>(() => Db.Open(Path.Combine(tmp, bad)));
            Assert.AreEqual(0, Directory.GetFileSystemEntries(tmp).Length, "a directory was created");
            using (var db = Db.Open(Path.Combine(tmp, "db\uD83D\uDE00")))
            {
                Assert.Throws<InvalidArgumentException>(() => db.Namespace("n\uD800"));
                Assert.Throws<InvalidArgumentException>(() => db.DropNamespace("n\uD800"));
                db.Namespace("n").Dispose();
            }
        }

        /// <summary>The review of the bindings' API: Wait(-1) waits (it returned at once),
        /// Thread.Interrupt ends a Wait, exceptions serialize, a null batch is InvalidArgument.</summary>
        [Test]
        public void WaitSerializationAndNullBatch()
        {
            using (var db = Db.Open(Path.Combine(tmp, "db")))
            using (var ch = db.Changes(0))
            {
                foreach (var c in ch) { }
                var waiter = new System.Threading.Thread(() =>
                {
                    try { ch.Wait(System.Threading.Timeout.Infinite); }
                    catch (System.Threading.ThreadInterruptedException) { }
                });
                waiter.Start();
                System.Threading.Thread.Sleep(300);
                Assert.IsTrue(waiter.IsAlive, "Wait(Infinite) waits");
                waiter.Interrupt();
                Assert.IsTrue(waiter.Join(5000), "Interrupt ended the wait");
                Assert.Throws<InvalidArgumentException>(() => db.Write(null));
                FirkinException e = null;
                try { db.Get(new byte[70000]); } catch (FirkinException x) { e = x; }
                Assert.IsNotNull(e);
                var f = new System.Runtime.Serialization.Formatters.Binary.BinaryFormatter();
                using (var ms = new MemoryStream())
                {
                    f.Serialize(ms, e);
                    ms.Position = 0;
                    var back = (FirkinException)f.Deserialize(ms);
                    Assert.AreEqual(e.GetType(), back.GetType());
                    Assert.AreEqual(e.Code, back.Code);
                    Assert.AreEqual(e.Message, back.Message);
                }
            }
        }

        [Test]
        public void MultiGetKeyErrorKeepsLibraryMessage()
        {
            using (var db = Db.Open(Path.Combine(tmp, "db")))
            using (var ns = db.Namespace("n"))
            using (var snap = db.Snapshot())
            {
                var big = new byte[65536];
                Func<byte[][], byte[][]>[] calls = { k => db.MultiGet(k), k => ns.MultiGet(k), k => snap.MultiGet(null, k) };
                foreach (var mg in calls)
                {
                    var e = Assert.Throws<TooLargeException>(() => mg(new[] { B("a"), big }));
                    StringAssert.StartsWith("multi-get key 1: ", e.Message);
                    StringAssert.Contains("65536", e.Message);
                }
                Assert.IsNull(db.MultiGet(B("a"))[0]);
            }
        }
    }
}
