// Per-call cost: get of a 100-byte value and put, 1M calls each (docs/bindings.md).
using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using Firkin;

static class Bench
{
    static void Main(string[] args)
    {
        string dir = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "firkin-cs-bench-" + Guid.NewGuid().ToString("N"));
        const int n = 1000000;
        var key = Encoding.ASCII.GetBytes("bench-key-000001");
        var val = new byte[100];
        var buf = new byte[128];
        using (var o = new Options { SyncMode = SyncMode.None }.Set("auto_compact", "false"))
        using (var db = Db.Open(dir, o))
        {
            db.Put(key, val);
            for (int round = 0; round < 3; round++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < n; i++) db.Get(key);
                double get = sw.Elapsed.TotalMilliseconds * 1e6 / n;
                sw.Restart();
                for (int i = 0; i < n; i++) db.Get(key, buf);
                double into = sw.Elapsed.TotalMilliseconds * 1e6 / n;
                sw.Restart();
                for (int i = 0; i < n; i++) db.Put(key, val);
                double put = sw.Elapsed.TotalMilliseconds * 1e6 / n;
                Console.WriteLine("round {0}: get {1:F0} ns/call, get-into {2:F0} ns/call, put {3:F0} ns/call", round, get, into, put);
            }
        }
    }
}
