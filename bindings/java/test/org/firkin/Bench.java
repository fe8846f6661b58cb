package org.firkin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CyclicBarrier;

/**
 * Per-call cost: get of a 100-byte value and put, 1M calls each
 * (docs/bindings.md); then (2026-11-29) the parallel get and the gate alone at
 * 1 and 2 threads, the equivalents of Go's {@code go test -bench
 * 'GetParallel|Gate.*Parallel' -cpu 1,2}. Run by make bench-bindings, never by
 * a test: nothing here is checked against a time. Single-threaded (main), but
 * for the worker threads of {@link #parallel}, which share only the database
 * handle or the gate measured.
 */
public final class Bench {
  public static void main(String[] args) throws Exception {
    Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("firkin-bench-");
    int n = 1_000_000;
    byte[] key = "bench-key-000001".getBytes();
    byte[] val = new byte[100];
    Arrays.fill(val, (byte) 'v');
    try (Options o = new Options().syncMode(SyncMode.NONE).set("auto_compact", "false");
        Firkin db = Firkin.open(dir.toString(), o)) {
      db.put(key, val);
      byte[] buf = new byte[128];
      for (int round = 0; round < 3; round++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          db.get(key);
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          db.get(key, buf);
        }
        long t2 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          db.put(key, val);
        }
        long t3 = System.nanoTime();
        System.out.printf("round %d: get %.0f ns/call, get-into %.0f ns/call, put %.0f ns/call%n", round,
            (t1 - t0) / (double) n, (t2 - t1) / (double) n, (t3 - t2) / (double) n);
      }
      parallel(db);
    }
  }

  /** One measured loop of a worker thread: ops calls of the thing measured. */
  private interface Loop {
    void run(int thread, int ops);
  }

  /**
   * Wall-clock nanoseconds per call of total calls split over threads, from a
   * common start to the last thread's end: Go's RunParallel ns/op (at 2 threads
   * on 2 cores, half the one-thread figure is perfect scaling).
   */
  private static double perCall(int threads, int total, Loop loop) throws Exception {
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    CyclicBarrier end = new CyclicBarrier(threads + 1);
    Thread[] ts = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      final int id = t;
      ts[t] = new Thread(() -> {
        try {
          start.await();
          loop.run(id, total / threads);
          end.await();
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      ts[t].start();
    }
    start.await();
    long t0 = System.nanoTime();
    end.await();
    long t1 = System.nanoTime();
    for (Thread t : ts) {
      t.join();
    }
    return (t1 - t0) / (double) total;
  }

  /**
   * Gets of 1024 keys of 100-byte values on one shared database from 1 and 2
   * threads (Go: BenchmarkGetParallel), and a gate's enter+leave alone (no
   * native call) on one shared gate: one stripe, as the handles for one thread
   * at a time and the options have, and SHARED stripes, as a database's
   * (Go: BenchmarkGateSingleParallel, BenchmarkGateStripedParallel).
   */
  static void parallel(Firkin db) throws Exception {
    byte[][] keys = new byte[1024][];
    byte[] val = new byte[100];
    Arrays.fill(val, (byte) 'v');
    for (int i = 0; i < keys.length; i++) {
      keys[i] = String.format("bench-key-%06d", i).getBytes();
      db.put(keys[i], val);
    }
    Loop get = (id, ops) -> {
      for (int i = 0; i < ops; i++) {
        if (db.get(keys[(i + id * 512) & 1023]) == null) {
          throw new AssertionError("missing key");
        }
      }
    };
    // The same into a caller's buffer (no allocation per call).
    Loop getInto = (id, ops) -> {
      byte[] buf = new byte[128];
      for (int i = 0; i < ops; i++) {
        if (db.get(keys[(i + id * 512) & 1023], buf) < 0) {
          throw new AssertionError("missing key");
        }
      }
    };
    Gate single = new Gate("bench", () -> { }, 1);
    Gate striped = new Gate("bench", () -> { }, Gate.SHARED);
    Loop[] gates = new Loop[2];
    for (int k = 0; k < 2; k++) {
      final Gate g = k == 0 ? single : striped;
      gates[k] = (id, ops) -> {
        for (int i = 0; i < ops; i++) {
          int s = Gate.enter(g);
          if (s < 0) {
            throw new AssertionError("closed");
          }
          g.leave(s);
        }
      };
    }
    int n = 2_000_000;
    int ng = 20_000_000;
    for (int round = 0; round < 3; round++) {
      System.out.printf("parallel round %d: get 1 thread %.1f ns/call, 2 threads %.1f; "
              + "get-into 1 thread %.1f, 2 threads %.1f; "
              + "gate single 1 thread %.1f, 2 threads %.1f; gate striped 1 thread %.1f, 2 threads %.1f%n",
          round, perCall(1, n, get), perCall(2, n, get), perCall(1, n, getInto), perCall(2, n, getInto),
          perCall(1, ng, gates[0]), perCall(2, ng, gates[0]), perCall(1, ng, gates[1]), perCall(2, ng, gates[1]));
    }
  }
}
