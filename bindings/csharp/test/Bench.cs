// Per-call cost: get of a 100-byte value and put, 1M calls each (docs/bindings.md);
// then (2026-11-29) the parallel get and the gate alone at 1 and 2 threads, the
// equivalents of Go's `go test -bench 'GetParallel|Gate.*Parallel' -cpu 1,2`.
// Run by make bench-bindings, never by a test: nothing here is checked against a
// time. Single-threaded (Main), but for the worker threads of Parallel, which
// share only the database handle or the gate measured.
using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
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
            Parallel(db);
        }
    }

    // Wall-clock nanoseconds per call of total calls split over threads, from a
    // common start to the last thread's end: Go's RunParallel ns/op (at 2
    // threads on 2 cores, half the one-thread figure is perfect scaling).
    static double PerCall(int threads, int total, Action<int, int> loop)
    {
        var ready = new CountdownEvent(threads);
        var go = new ManualResetEventSlim(false);
        var ts = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            ts[t] = new Thread(() =>
            {
                ready.Signal();
                go.Wait();
                loop(id, total / threads);
            });
            ts[t].Start();
        }
        ready.Wait();
        var sw = Stopwatch.StartNew();
        go.Set();
        foreach (var t in ts) t.Join();
        return sw.Elapsed.TotalMilliseconds * 1e6 / total;
    }

    // Gets of 1024 keys of 100-byte values on one shared database from 1 and 2
    // threads (Go: BenchmarkGetParallel), and a gate's Enter+Leave alone (no
    // native call) on one shared gate: one stripe, as the handles for one thread
    // at a time and the options have, and Gate.Shared stripes, as a database's
    // (Go: BenchmarkGateSingleParallel, BenchmarkGateStripedParallel).
    static void Parallel(Db db)
    {
        var keys = new byte[1024][];
        var val = new byte[100];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = Encoding.ASCII.GetBytes(string.Format("bench-key-{0:D6}", i));
            db.Put(keys[i], val);
        }
        Action<int, int> get = (id, ops) =>
        {
            for (int i = 0; i < ops; i++)
                if (db.Get(keys[(i + id * 512) & 1023]) == null) throw new InvalidOperationException("missing key");
        };
        // The same into a caller's buffer (no allocation per call: a 2-thread get
        // slower than a 1-thread one with this one scaling points at the
        // allocation, the collector stopping both threads).
        Action<int, int> getInto = (id, ops) =>
        {
            var buf = new byte[128];
            for (int i = 0; i < ops; i++)
                if (db.Get(keys[(i + id * 512) & 1023], buf) < 0) throw new InvalidOperationException("missing key");
        };
        var single = new Gate("bench", () => { }, 1);
        var striped = new Gate("bench", () => { }, Gate.Shared);
        Func<Gate, Action<int, int>> gateLoop = g => (id, ops) =>
        {
            for (int i = 0; i < ops; i++)
            {
                int s = Gate.Enter(g);
                if (s < 0) throw new InvalidOperationException("closed");
                g.Leave(s);
            }
        };
        const int n = 2000000, ng = 20000000;
        for (int round = 0; round < 3; round++)
        {
            Console.WriteLine("parallel round {0}: get 1 thread {1:F1} ns/call, 2 threads {2:F1}; "
                + "get-into 1 thread {3:F1}, 2 threads {4:F1}; "
                + "gate single 1 thread {5:F1}, 2 threads {6:F1}; gate striped 1 thread {7:F1}, 2 threads {8:F1}",
                round, PerCall(1, n, get), PerCall(2, n, get), PerCall(1, n, getInto), PerCall(2, n, getInto),
                PerCall(1, ng, gateLoop(single)), PerCall(2, ng, gateLoop(single)),
                PerCall(1, ng, gateLoop(striped)), PerCall(2, ng, gateLoop(striped)));
        }
    }
}
