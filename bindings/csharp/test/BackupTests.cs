using System;
using System.IO;
using System.Text;
using Firkin;
using NUnit.Framework;

namespace Firkin.Tests
{
    [TestFixture]
    public class BackupTests : TempDirFixture
    {
        string P(string name) { return Path.Combine(tmp, name); }

        [Test]
        public void BackupHoldsTheSnapshotAndRestores()
        {
            using (var db = Db.Open(P("src")))
            using (var users = db.Namespace("users"))
            {
                db.Put(B("k"), B("v1"));
                users.Put(B("ada"), B("lovelace"));
                var rep = db.Backup(P("bak"));
                Assert.IsTrue(rep.Verified, rep.Json);
                Assert.IsTrue(rep.Seq > 0 && rep.Segments > 0, rep.Json);
                db.Put(B("k"), B("v2"));
                db.Put(B("later"), B("x"));
                using (var copy = Db.Open(P("bak")))
                using (var cu = copy.Namespace("users"))
                {
                    Assert.AreEqual(B("v1"), copy.Get(B("k")));
                    Assert.IsNull(copy.Get(B("later")));
                    Assert.AreEqual(B("lovelace"), cu.Get(B("ada")));
                }
                rep = db.Backup(P("bak"));
                Assert.IsTrue(rep.Kept > 0 || rep.Segments == 1, rep.Json);
                rep = db.Backup(P("copy"), new BackupOptions { HardLinks = false, Incremental = false, Checkpoint = false });
                Assert.AreEqual(0UL, rep.Linked, rep.Json);
                Assert.IsFalse(rep.Checkpoint, rep.Json);
                rep = Db.Restore(P("bak"), P("restored"));
                Assert.AreEqual(0UL, rep.Linked, rep.Json);
                using (var r = Db.Open(P("restored")))
                    Assert.AreEqual(B("x"), r.Get(B("later")));
                Assert.Throws<ExistsException>(() => Db.Restore(P("bak"), P("restored")));
            }
        }

        [Test]
        public void Refusals()
        {
            using (var db = Db.Open(P("src")))
            using (var other = Db.Open(P("other")))
            {
                db.Put(B("a"), B("1"));
                Assert.Throws<InvalidArgumentException>(() => db.Backup(Path.Combine(P("src"), "inner")));
                File.WriteAllText(P("file"), "x");
                Assert.Throws<NotADatabaseException>(() => db.Backup(P("file")));
                db.Backup(P("bak"));
                Assert.Throws<ExistsException>(() => other.Backup(P("bak")));
                File.WriteAllText(Path.Combine(P("bak"), "BACKUP-INCOMPLETE"), "");
                Assert.Throws<NotADatabaseException>(() => Db.Open(P("bak")));
                Assert.Throws<NotADatabaseException>(() => Db.Restore(P("bak"), P("r")));
                db.Backup(P("bak"));
                Assert.IsFalse(File.Exists(Path.Combine(P("bak"), "BACKUP-INCOMPLETE")));
                Assert.Throws<InvalidArgumentException>(() => new BackupOptions().Set("nope", "1"));
                Assert.Throws<InvalidArgumentException>(() => new BackupOptions().Set("verify", "x"));
                var o = new BackupOptions();
                o.Set("verify", "0");
                Assert.AreEqual("false", o.Get("verify"));
            }
            var closed = Db.Open(P("src"));
            closed.Dispose();
            Assert.Throws<ClosedException>(() => closed.Backup(P("bak")));
        }
    }
}
