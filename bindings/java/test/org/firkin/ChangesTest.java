package org.firkin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChangesTest {
  @TempDir Path tmp;

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String row(FirkinChanges.Change c) {
    return c.type + " " + c.seq + " " + c.namespace + " "
        + new String(c.key, StandardCharsets.UTF_8) + " "
        + new String(c.value, StandardCharsets.UTF_8);
  }

  @Test
  void changesInOrderResumeAndWait() throws Exception {
    try (Firkin db = Firkin.open(tmp.resolve("db").toString())) {
      db.put(b("a"), b("1"));
      try (Namespace users = db.namespace("users")) {
        users.put(b("ada"), b("lovelace"));
        try (Batch batch = new Batch()) {
          batch.put(b("b"), b("2")).delete(b("a")).put(users, b("bob"), new byte[0]);
          db.write(batch);
        }
      }
      db.dropNamespace("users");
      List<String> got = new ArrayList<>();
      List<Long> positions = new ArrayList<>();
      try (FirkinChanges c = db.changes(0)) {
        assertEquals(0, c.position());
        while (c.hasNext()) {
          got.add(row(c.next()));
          positions.add(c.position());
        }
        // Every write at or below the position was returned (a batch once
        // all of it was).
        assertEquals(List.of(1L, 2L, 3L, 3L, 3L, 3L, 3L, 4L, 5L), positions);
        assertEquals(
            List.of("PUT 1 default a 1", "NS_CREATE 2 users  ", "PUT 3 users ada lovelace",
                "BATCH_BEGIN 4   ", "PUT 4 default b 2", "DELETE 4 default a ",
                "PUT 4 users bob ", "BATCH_END 4   ", "NS_DROP 5 users  "),
            got);
        long t0 = System.nanoTime();
        assertFalse(c.await(100));
        assertTrue(System.nanoTime() - t0 >= 90_000_000L);
        Thread w = new Thread(() -> db.put(b("late"), b("x")));
        w.start();
        assertTrue(c.await(10_000));
        FirkinChanges.Change late = c.next();
        assertEquals(6, late.seq);
        assertArrayEquals(b("late"), late.key);
        w.join();
      }
      try (FirkinChanges c = db.changes(3, false)) {
        int n = 0;
        while (c.hasNext()) {
          assertTrue(c.next().type != FirkinChanges.Type.BATCH_BEGIN);
          n++;
        }
        assertEquals(5, n);
      }
      assertEquals(1, db.oldestChangeSeq());
      assertThrows(FirkinException.InvalidArgument.class, () -> db.changes(100));
      FirkinChanges closed = db.changes(0);
      closed.close();
      closed.close();
      assertThrows(FirkinException.Closed.class, closed::hasNext);
      assertThrows(FirkinException.Closed.class, closed::position);
    }
  }

  @Test
  void tooOldUnlessRetained() {
    for (boolean keep : new boolean[] {false, true}) {
      try (Options o = new Options()) {
        if (keep) {
          o.set("change_retention_seqs", "100");
        }
        try (Firkin db = Firkin.open(tmp.resolve("db" + keep).toString(), o)) {
          db.put(b("k"), b("1"));
          db.put(b("k"), b("2"));
          db.compact();
          if (keep) {
            try (FirkinChanges c = db.changes(0)) {
              assertArrayEquals(b("1"), c.next().value);
              assertArrayEquals(b("2"), c.next().value);
              assertFalse(c.hasNext());
            }
          } else {
            assertThrows(FirkinException.SnapshotTooOld.class, () -> db.changes(0));
          }
        }
      }
    }
  }
}
