// Loops of gets, iterators and handle open/close through the C# binding; the
// process's anonymous resident memory (RssAnon: managed and native heaps; the
// library's mapped log files are page cache, not leaks) must stay flat. Prints
// one line per loop, then "N passed, N failed".
using System;
using System.IO;
using System.Text;
using Firkin;

static class LeakCheck
{
    const long LimitKb = 32 * 1024;

    static long RssKb()
    {
        foreach (var l in File.ReadAllLines("/proc/self/status"))
            if (l.StartsWith("RssAnon:")) return long.Parse(l.Substring(8).Trim().Split(' ')[0]);
        return -1;
    }

    static int Main()
    {
        string dir = Path.Combine(Path.GetTempPath(), "firkin-cs-leak-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var val = new byte[4096];
        int passed = 0, failed = 0;
        using (var db = Db.Open(Path.Combine(dir, "db")))
        {
            for (int i = 0; i < 200; i++) db.Put(Encoding.ASCII.GetBytes("k" + i), val);
            var tns = db.Namespace("ttl");
            for (int i = 0; i < 8; i++) tns.Put(Encoding.ASCII.GetBytes("h"), val);
            tns.Put(Encoding.ASCII.GetBytes("t"), val, TimeSpan.FromHours(1));
            var names = new[] { "gets (Get, Get into a buffer, MultiGet)", "iterators (open, walk 200, dispose)",
                "handles (namespace, snapshot, batch, options, a second database)",
                "ttl and history (TryGetTtl, History of 8 x 4 KiB versions, SnapshotAt)" };
            var rounds = new Action[] {
                () => {
                    var buf = new byte[8192];
                    for (int i = 0; i < 20000; i++) {
                        var k = Encoding.ASCII.GetBytes("k" + (i % 200));
                        db.Get(k);
                        db.Get(k, buf);
                        if (i % 10 == 0) db.MultiGet(k, Encoding.ASCII.GetBytes("nope"));
                    }
                },
                () => {
                    for (int i = 0; i < 300; i++) {
                        int n = 0;
                        foreach (var e in db.Iterate()) n++;
                        if (n != 200) throw new Exception("iterated " + n);
                    }
                },
                () => {
                    for (int i = 0; i < 300; i++) {
                        using (var ns = db.Namespace("leak")) ns.Put(Encoding.ASCII.GetBytes("k"), val);
                        using (var s = db.Snapshot()) s.Get(Encoding.ASCII.GetBytes("k0"));
                        using (var b = new Batch()) db.Write(b.Put(Encoding.ASCII.GetBytes("b"), val));
                        using (var o = new Options()) o.SyncMode = SyncMode.None;
                        if (i % 10 == 0)
                            using (var d2 = Db.Open(Path.Combine(dir, "second"))) d2.Put(Encoding.ASCII.GetBytes("x"), val);
                    }
                },
                () => {
                    var tk = Encoding.ASCII.GetBytes("t");
                    var hk = Encoding.ASCII.GetBytes("h");
                    for (int i = 0; i < 2000; i++) {
                        TimeSpan? rem;
                        if (!tns.TryGetTtl(tk, out rem) || rem == null) throw new Exception("ttl: absent or no expiry");
                        if (i % 10 == 0) {
                            using (var h = tns.History(hk)) if (h.Count == 0) throw new Exception("empty history");
                            using (var s = db.SnapshotAt(DateTimeOffset.UtcNow)) { }
                        }
                    }
                },
            };
            for (int r = 0; r < rounds.Length; r++)
            {
                for (int w = 0; w < 3; w++) rounds[r]();
                GC.Collect();
                GC.WaitForPendingFinalizers();
                long before = RssKb();
                for (int i = 0; i < 10; i++) rounds[r]();
                GC.Collect();
                GC.WaitForPendingFinalizers();
                long after = RssKb();
                bool ok = after - before <= LimitKb;
                Console.WriteLine("{0,-70} RssAnon {1,7} KiB -> {2,7} KiB ({3:+0;-0} KiB) {4}", names[r], before, after, after - before, ok ? "flat" : "GROWS");
                if (ok) passed++; else failed++;
            }
            tns.Dispose();
        }
        try { Directory.Delete(dir, true); } catch (IOException) { }
        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }
}
