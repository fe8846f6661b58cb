using System;
using System.IO;
using System.Text;
using Firkin;
using NUnit.Framework;

namespace Firkin.Tests
{
    /// <summary>Encryption at rest: keys, passphrases, BadKey, rekey, bad input.</summary>
    [TestFixture]
    public class CryptTests : TempDirFixture
    {
        static byte[] Key(int b)
        {
            var k = new byte[32];
            for (int i = 0; i < 32; i++) k[i] = (byte)(b + i);
            return k;
        }

        static Options Pass(string p)
        {
            return new Options().SetPassphrase(p).Set("kdf_memory_kib", "64").Set("kdf_passes", "1");
        }

        [Test]
        public void KeysAndRekey()
        {
            string dir = Path.Combine(tmp, "db");
            using (var o = new Options().SetEncryptionKey(Key(1)))
            using (var db = Db.Open(dir, o))
                db.Put(B("k"), B("v"));
            Assert.IsTrue(File.Exists(Path.Combine(dir, "KEYS")));
            Assert.Throws<BadKeyException>(() => Db.Open(dir).Dispose());
            using (var wrong = new Options().SetEncryptionKey(Key(77)))
            {
                var e = Assert.Throws<BadKeyException>(() => Db.Open(dir, wrong).Dispose());
                Assert.AreEqual(Status.BadKey, e.Status);
            }
            using (var old = new Options().SetEncryptionKey(Key(1)))
            using (var neu = Pass("new pass"))
            {
                Db.Rekey(dir, old, neu);
                Assert.Throws<BadKeyException>(() => Db.Open(dir, old).Dispose());
                using (var db = Db.Open(dir, neu))
                    Assert.AreEqual(B("v"), db.Get(B("k")));
            }
        }

        [Test]
        public void BadInput()
        {
            using (var o = new Options())
            {
                Assert.Throws<InvalidArgumentException>(() => o.SetEncryptionKey(new byte[31]));
                Assert.Throws<InvalidArgumentException>(() => o.SetEncryptionKey(null));
                Assert.Throws<InvalidArgumentException>(() => o.SetPassphrase(""));
                Assert.Throws<InvalidArgumentException>(() => o.SetPassphrase("a\0b"));
                Assert.AreEqual("none", o.Get("encryption"));
                Assert.Throws<InvalidArgumentException>(() => Db.Rekey("x", null, o));
            }
        }
    }
}
