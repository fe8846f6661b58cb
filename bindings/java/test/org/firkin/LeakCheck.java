package org.firkin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Loops of gets, iterators and handle open/close through the Java binding;
 * the process's anonymous resident memory (RssAnon: Java and native heaps;
 * the library's mapped log files are page cache, not leaks) must stay flat.
 * Run with a fixed, pre-touched Java heap (-Xms = -Xmx, -XX:+AlwaysPreTouch,
 * bindings.mk): G1 resizing the heap moved RssAnon by tens of MiB either
 * way between rounds (a false "GROWS" in CI), so only native memory moves.
 * Prints one line per loop, then "N passed, N failed".
 */
public final class LeakCheck {
  static final long LIMIT_KB = 32 * 1024;

  static long rssKb() throws Exception {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith("RssAnon:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  interface Round {
    void run();
  }

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("firkin-java-leak-");
    byte[] val = new byte[4096];
    Arrays.fill(val, (byte) 'v');
    int passed = 0;
    int failed = 0;
    try (Firkin db = Firkin.open(dir.resolve("db").toString())) {
      for (int i = 0; i < 200; i++) {
        db.put(("k" + i).getBytes(), val);
      }
      Namespace tns = db.namespace("ttl");
      for (int i = 0; i < 8; i++) {
        tns.put("h".getBytes(), val);
      }
      tns.put("t".getBytes(), val, java.time.Duration.ofHours(1));
      String[] names = {"gets (get, get into a buffer, multiGet)", "iterators (open, walk 200, close)",
          "handles (namespace, snapshot, batch, options, a second database)",
          "ttl and history (ttl, history of 8 x 4 KiB versions, snapshotAt(Instant))"};
      Round[] rounds = {
        () -> {
          byte[] buf = new byte[8192];
          for (int i = 0; i < 20000; i++) {
            byte[] k = ("k" + (i % 200)).getBytes();
            db.get(k);
            db.get(k, buf);
            if (i % 10 == 0) {
              db.multiGet(k, "nope".getBytes());
            }
          }
        },
        () -> {
          for (int i = 0; i < 300; i++) {
            try (FirkinIterator it = db.iterator()) {
              int n = 0;
              while (it.hasNext()) {
                it.next();
                n++;
              }
              if (n != 200) {
                throw new IllegalStateException("iterated " + n);
              }
            }
          }
        },
        () -> {
          for (int i = 0; i < 300; i++) {
            try (Namespace ns = db.namespace("leak")) {
              ns.put("k".getBytes(), val);
            }
            try (Snapshot s = db.snapshot()) {
              s.get("k0".getBytes());
            }
            try (Batch b = new Batch()) {
              db.write(b.put("b".getBytes(), val));
            }
            try (Options o = new Options()) {
              o.syncMode(SyncMode.NONE);
            }
            if (i % 10 == 0) {
              try (Firkin d2 = Firkin.open(dir.resolve("second").toString())) {
                d2.put("x".getBytes(), val);
              }
            }
          }
        },
        () -> {
          for (int i = 0; i < 2000; i++) {
            if (tns.ttl("t".getBytes()) == null) {
              throw new IllegalStateException("ttl: absent");
            }
            if (i % 10 == 0) {
              try (KeyHistory h = tns.history("h".getBytes())) {
                if (h.size() == 0) {
                  throw new IllegalStateException("empty history");
                }
              }
              try (Snapshot s = db.snapshotAt(java.time.Instant.now())) {
                s.seq();
              }
            }
          }
        }
      };
      for (int r = 0; r < rounds.length; r++) {
        // warm-up: JIT, heap growth. The history loop allocates ~7 MB of
        // short-lived copies per round and G1 keeps growing the heap (RssAnon
        // 64 -> 82 MiB) for ~20 rounds, then stays flat; a leaked history
        // buffer (33 KiB a call) would add 66 MiB per 10 rounds.
        int warm = r == 3 ? 20 : 3;
        for (int w = 0; w < warm; w++) {
          rounds[r].run();
        }
        System.gc();
        long before = rssKb();
        for (int i = 0; i < 10; i++) {
          rounds[r].run();
        }
        System.gc();
        long after = rssKb();
        boolean ok = after - before <= LIMIT_KB;
        System.out.printf("%-70s RssAnon %7d KiB -> %7d KiB (%+d KiB) %s%n", names[r], before, after,
            after - before, ok ? "flat" : "GROWS");
        if (ok) passed++; else failed++;
      }
      tns.close();
    }
    System.out.println(passed + " passed, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }
}
