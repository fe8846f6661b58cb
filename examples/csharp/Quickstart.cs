// Quickstart: the C# binding of Firkin in one page.
//
//   mcs -r:PREFIX/lib/mono/firkin/Firkin.dll Quickstart.cs
//   MONO_PATH=PREFIX/lib/mono/firkin mono Quickstart.exe /tmp/firkin-quickstart
//
// (after `make install PREFIX=...`; Firkin.dll finds the native glue
// through Firkin.dll.config beside it, so copy both, or use MONO_PATH as
// above: docs/bindings.md)
using System;
using System.Text;
using Firkin;

static class Quickstart
{
    static byte[] B(string s) { return Encoding.UTF8.GetBytes(s); }

    static void Main(string[] args)
    {
        string path = args.Length > 0 ? args[0] : "firkin-quickstart";
        using (var db = Db.Open(path))
        {
            // Point operations; Get returns null when the key is absent.
            db.Put(B("hello"), B("world"));
            Console.WriteLine("hello = " + Encoding.UTF8.GetString(db.Get(B("hello"))));
            Console.WriteLine("nobody is absent: " + (db.Get(B("nobody")) == null));

            // A namespace, and an atomic batch across namespaces.
            using (var users = db.Namespace("users"))
            using (var batch = new Batch())
            {
                batch.Put(users, B("ada"), B("lovelace")).Put(users, B("alan"), B("turing")).Delete(B("hello"));
                db.Write(batch);

                // A snapshot and a foreach over an iterator.
                using (var snap = db.Snapshot())
                {
                    users.Put(B("grace"), B("hopper")); // not in the snapshot
                    int n = 0;
                    foreach (var e in snap.Iterate(users)) n++;
                    Console.WriteLine("users at the snapshot: " + n + ", now: " + users.Count());
                }
            }

            // A transaction (Dispose rolls back if it was not committed) ...
            using (var tx = db.BeginTransaction(Isolation.Snapshot))
            {
                tx.Put(B("visits"), B("1"));
                tx.Commit(); // ConflictException if another writer changed "visits" first
            }
            // ... or Update, which begins again when the commit conflicts.
            db.Update(tx =>
            {
                int n = int.Parse(Encoding.UTF8.GetString(tx.Get(B("visits"))));
                tx.Put(B("visits"), B((n + 1).ToString()));
            });
            Console.WriteLine("visits = " + Encoding.UTF8.GetString(db.Get(B("visits"))));

            // A key that expires in ten minutes, its remaining time (TryGetTtl is
            // false once expired), and its versions, newest first (time travel by
            // clock time: SnapshotAt(DateTimeOffset)).
            db.Put(B("session"), B("token"), TimeSpan.FromMinutes(10));
            TimeSpan? left;
            if (db.TryGetTtl(B("session"), out left))
                Console.WriteLine("session expires in " + Math.Round(left.Value.TotalMinutes) + " min");
            using (var h = db.History(B("visits")))
                Console.WriteLine("visits has " + h.Count + " versions");

            // Errors are typed exceptions carrying the status code.
            try
            {
                db.Put(new byte[0], B("v"));
            }
            catch (InvalidArgumentException e)
            {
                Console.WriteLine("empty key: " + e.Message + " (status " + e.Status + ")");
            }
        }
    }
}
