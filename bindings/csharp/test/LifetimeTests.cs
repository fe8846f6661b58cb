using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using Firkin;
using NUnit.Framework;

namespace Firkin.Tests
{
    /// <summary>
    /// Dispose racing calls on the same database from other threads: every
    /// call succeeds or throws ClosedException, the process does not crash,
    /// and once the calls are out the database is released (it reopens).
    /// Before the gate (Gate.cs) a call could pass the open check just before
    /// Dispose freed the native handle, then use it: a SIGSEGV in firkin_put
    /// or firkin_get.
    /// </summary>
    [TestFixture]
    public class LifetimeTests : TempDirFixture
    {

        [Test]
        public void DisposeWhileCallsInFlight()
        {
            string path = Path.Combine(tmp, "db");
            for (int round = 0; round < 25; round++)
            {
                var db = Db.Open(path);
                var errors = new ConcurrentQueue<Exception>();
                var started = new CountdownEvent(8);
                var threads = new List<Thread>();
                for (int g = 0; g < 8; g++)
                {
                    byte[] key = B("k" + g);
                    var t = new Thread(() =>
                    {
                        started.Signal();
                        try
                        {
                            for (int i = 0; ; i++)
                            {
                                switch (i % 6)
                                {
                                    case 0: db.Put(key, key); break;
                                    case 1: db.Get(key); break;
                                    case 2: db.Contains(key); break;
                                    case 3:
                                        using (var s = db.Snapshot()) s.Get(key);  // outlives the db handle
                                        break;
                                    case 4:
                                        using (var it = db.NewIterator())
                                        {
                                            for (int n = 0; n < 4 && it.MoveNext(); n++) { }
                                        }
                                        break;
                                    default: db.Count(); break;
                                }
                            }
                        }
                        catch (ClosedException) { }
                        catch (Exception e) { errors.Enqueue(e); }
                    });
                    t.Start();
                    threads.Add(t);
                }
                started.Wait();
                Thread.Sleep(2);
                db.Dispose();
                foreach (var t in threads) t.Join();
                Exception first;
                if (errors.TryPeek(out first)) Assert.Fail("a call failed otherwise than Closed: " + first);
                Assert.IsTrue(db.IsClosed);
                Assert.Throws<ClosedException>(() => db.Get(B("k0")));
            }
            using (var db = Db.Open(path)) db.Put(B("k"), B("v"));  // released: the lock is free again
        }

        /// <summary>Dispose from inside a call on the same handle returns at once (no hang).</summary>
        [Test]
        public void DisposeInsideUpdate()
        {
            string path = Path.Combine(tmp, "db2");
            var db = Db.Open(path);
            db.Update(tx =>
            {
                db.Dispose();
                tx.Put(B("k"), B("v"));
            });
            Assert.Throws<ClosedException>(() => db.Put(B("k2"), B("")));
            using (var again = Db.Open(path)) Assert.AreEqual(B("v"), again.Get(B("k")));
        }

        /// <summary>Dispose of a shared Namespace and Snapshot racing calls on
        /// them: every call succeeds or throws ClosedException. Before their
        /// gates a call could pass the open check just before Dispose freed the
        /// handle, then use it.</summary>
        [Test]
        public void DisposeSharedNamespaceAndSnapshotWhileInUse()
        {
            using (var db = Db.Open(Path.Combine(tmp, "db3")))
            {
                for (int round = 0; round < 60; round++)
                {
                    var ns = db.Namespace("shared");
                    var snap = db.Snapshot();
                    var errors = new ConcurrentQueue<Exception>();
                    var started = new CountdownEvent(8);
                    var threads = new List<Thread>();
                    for (int g = 0; g < 8; g++)
                    {
                        byte[] key = B("k" + g);
                        var t = new Thread(() =>
                        {
                            started.Signal();
                            bool nsDone = false, snapDone = false;
                            for (int i = 0; !nsDone || !snapDone; i++)
                            {
                                bool onNs = i % 2 == 0;
                                if (onNs ? nsDone : snapDone) continue;
                                try
                                {
                                    switch (i % 6)
                                    {
                                        case 0: ns.Put(key, key); break;
                                        case 1: snap.Get(key); break;
                                        case 2: ns.Get(key); break;
                                        case 3: snap.Contains(key); break;
                                        case 4:
                                            using (var it = ns.NewIterator())
                                                for (int n = 0; n < 4 && it.MoveNext(); n++) { }
                                            break;
                                        default:
                                            using (var it = snap.NewIterator())
                                                for (int n = 0; n < 4 && it.MoveNext(); n++) { }
                                            break;
                                    }
                                }
                                catch (ClosedException)
                                {
                                    if (onNs) nsDone = true; else snapDone = true;
                                }
                                catch (Exception e)
                                {
                                    errors.Enqueue(e);
                                    return;
                                }
                            }
                        });
                        t.Start();
                        threads.Add(t);
                    }
                    started.Wait();
                    Thread.Sleep(2);
                    ns.Dispose();
                    snap.Dispose();
                    foreach (var t in threads) t.Join();
                    Exception first;
                    if (errors.TryPeek(out first)) Assert.Fail("a call failed otherwise than Closed: " + first);
                }
            }
        }

        /// <summary>An iterator, a batch and a change cursor are for one thread at a
        /// time, but a Dispose from other threads (three at once, or under a
        /// reader's call) must free each native handle once and never under a
        /// call. Before their gates this crashed the process (a double free, or a
        /// call on the freed handle).</summary>
        [Test]
        public void DisposeSingleThreadHandlesFromOthers()
        {
            using (var db = Db.Open(Path.Combine(tmp, "db4")))
            {
                for (int i = 0; i < 2000; i++) db.Put(B("k" + i), new byte[50]);
                for (int round = 0; round < 60; round++)
                {
                    var it = db.NewIterator();
                    var batch = new Batch();
                    var c = db.Changes(0);
                    var errors = new ConcurrentQueue<Exception>();
                    var started = new CountdownEvent(3);
                    ThreadStart[] workers = {
                        () => { started.Signal(); while (it.MoveNext()) { } },
                        () => { started.Signal(); for (;;) batch.Put(B("k"), B("v")); },
                        () => { started.Signal(); Change ch; for (;;) { while (c.TryNext(out ch)) { } c.Wait(1); } },
                    };
                    var threads = new List<Thread>();
                    foreach (var w in workers)
                    {
                        var t = new Thread(() =>
                        {
                            try { w(); }
                            catch (ClosedException) { }
                            catch (Exception e) { errors.Enqueue(e); }
                        });
                        t.Start();
                        threads.Add(t);
                    }
                    started.Wait();
                    var closers = new List<Thread>();
                    for (int g = 0; g < 3; g++)
                    {
                        var t = new Thread(() => { it.Dispose(); batch.Dispose(); c.Dispose(); });
                        t.Start();
                        closers.Add(t);
                    }
                    foreach (var t in closers) t.Join();
                    foreach (var t in threads) t.Join();
                    Exception first;
                    if (errors.TryPeek(out first)) Assert.Fail("a call failed otherwise than Closed: " + first);
                }
            }
        }
    }
}
