package org.firkin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Per-call cost: get of a 100-byte value and put, 1M calls each (docs/bindings.md). */
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
    }
  }
}
