package org.firkin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Integers and times on their way to C are never wrapped (the rules of the
 * Python package, bindings/python/tests/test_ranges.py and test_ttl.py).
 * Java has no unsigned long: a negative long given for a uint64_t sequence
 * number or version used to arrive as 2^64 + it; such a value is now
 * refused with InvalidArgument. Times and TTLs saturate at 2^64 - 1 ms as
 * the library does when commit time + TTL overflows, and an expiry already
 * past (the epoch and before included) writes a key that reads as absent.
 */
class RangesTest {
  @TempDir Path tmp;

  /** 2^64 - 1 ms after the epoch: the saturated expiry. */
  static final Instant TOP = Instant.ofEpochSecond(18446744073709551L, 615_000_000L);

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  Firkin open() {
    return Firkin.open(tmp.resolve("db").toString());
  }

  static KeyVersion newest(Firkin db, Namespace ns, String key) {
    try (KeyHistory h = ns == null ? db.history(b(key)) : ns.history(b(key))) {
      return h.versions().get(0);
    }
  }

  /**
   * putExpireAt at or before the epoch used to throw InvalidArgument
   * ("expiry time must be &gt; 0"): it was sent as 0.
   */
  @Test
  void pastExpireAtWritesAnExpiredKey() {
    List<Instant> past =
        List.of(
            Instant.ofEpochSecond(1),
            Instant.EPOCH,
            Instant.ofEpochSecond(-5),
            Instant.EPOCH.plusNanos(400_000),
            ZonedDateTime.of(1969, 12, 31, 0, 0, 0, 0, ZoneOffset.UTC).toInstant(),
            Instant.MIN);
    try (Firkin db = open();
        Namespace users = db.namespace("users")) {
      int i = 0;
      for (Instant at : past) {
        Instant want = at.equals(Instant.ofEpochSecond(1)) ? at : Instant.ofEpochMilli(1);
        for (Namespace ns : new Namespace[] {null, users}) {
          String k = "k" + i++;
          if (ns == null) {
            db.put(b(k), b("live"));
            db.putExpireAt(b(k), b("v"), at);
            assertNull(db.get(b(k)), at.toString());
            assertFalse(db.contains(b(k)));
            assertFalse(db.persist(b(k)));
          } else {
            ns.put(b(k), b("live"));
            ns.putExpireAt(b(k), b("v"), at);
            assertNull(ns.get(b(k)), at.toString());
            assertFalse(ns.contains(b(k)));
            assertFalse(ns.persist(b(k)));
          }
          KeyVersion v = newest(db, ns, k);
          assertFalse(v.deleted());
          assertArrayEquals(b("v"), v.value());
          assertEquals(want, v.expiry(), at.toString());
          try (Transaction tx = db.beginTransaction()) {
            tx.putExpireAt(ns, b(k + "t"), b("v"), at);
            assertNull(tx.get(ns, b(k + "t")));
            tx.commit();
          }
          assertEquals(want, newest(db, ns, k + "t").expiry());
        }
      }
      assertEquals(0, db.count());
      assertEquals(0, users.count());
    }
  }

  /**
   * Beyond Long.MAX_VALUE ms a time or TTL used to stop at 2^63 - 1 ms, and
   * an expiry from 2^63 ms on (one a huge TTL gives) read back from the
   * history as a negative long: an Instant 292 million years before 1970.
   */
  @Test
  void farFutureSaturates() {
    try (Firkin db = open()) {
      Instant[] far = {
        Instant.MAX, Instant.ofEpochSecond(18446744073709552L), TOP.plusMillis(1)
      };
      int i = 0;
      for (Instant at : far) {
        String k = "far" + i++;
        db.putExpireAt(b(k), b("v"), at);
        assertArrayEquals(b("v"), db.get(b(k)), at.toString());
        assertEquals(TOP, newest(db, null, k).expiry(), at.toString());
        assertTrue(db.ttl(b(k)).compareTo(Duration.ofDays(365L * 1_000_000)) > 0);
      }
      // exact below the top, and past Long.MAX_VALUE ms
      Instant edge = Instant.ofEpochSecond(18446744073709551L);
      db.putExpireAt(b("edge"), b("v"), edge);
      assertEquals(edge, newest(db, null, "edge").expiry());
      Instant above = Instant.ofEpochMilli(Long.MAX_VALUE).plusMillis(5);
      db.putExpireAt(b("above"), b("v"), above);
      assertEquals(above, newest(db, null, "above").expiry());
      // TTLs: Long.MAX_VALUE ms is exact; a longer one saturates
      db.put(b("t1"), b("v"), Duration.ofMillis(Long.MAX_VALUE));
      KeyVersion t1 = newest(db, null, "t1");
      assertEquals(Duration.ofMillis(Long.MAX_VALUE), Duration.between(t1.commitTime(), t1.expiry()));
      db.put(b("t2"), b("v"), Duration.ofSeconds(Long.MAX_VALUE));
      assertEquals(TOP, newest(db, null, "t2").expiry());
      assertArrayEquals(b("v"), db.get(b("t2")));
      try (Batch batch = new Batch()) {
        batch.put(b("bt"), b("v"), Duration.ofSeconds(Long.MAX_VALUE));
        db.write(batch);
      }
      assertEquals(TOP, newest(db, null, "bt").expiry());
      db.update(
          tx -> {
            tx.put(b("tt"), b("v"), Duration.ofSeconds(Long.MAX_VALUE));
            tx.putExpireAt(b("te"), b("v"), Instant.MAX);
          });
      assertEquals(TOP, newest(db, null, "tt").expiry());
      assertEquals(TOP, newest(db, null, "te").expiry());
      // a snapshot at a time beyond 2^64 - 1 ms is the latest state
      try (Snapshot s = db.snapshotAt(Instant.MAX)) {
        assertEquals(db.lastSeq(), s.seq());
        assertArrayEquals(b("v"), s.get(b("edge")));
      }
    }
  }

  /**
   * A negative sequence number or version used to reach C as 2^64 + it:
   * compareAndSwapVersion(k, -1, v) quietly returned false, snapshotAt(-1)
   * and changes(-1) failed with the library's "past last_seq" message for
   * 18446744073709551615.
   */
  @Test
  void negativeSequenceNumbersAndVersionsAreRefused() {
    try (Firkin db = open();
        Namespace users = db.namespace("users")) {
      db.put(b("a"), b("1"));
      long seqA = db.lastSeq();
      db.put(b("b"), b("2"));
      for (long bad : new long[] {-1, Long.MIN_VALUE, -2}) {
        FirkinException e =
            assertThrows(FirkinException.InvalidArgument.class, () -> db.snapshotAt(bad));
        assertTrue(e.getMessage().contains("seq") && e.getMessage().contains("negative"), e.getMessage());
        e = assertThrows(FirkinException.InvalidArgument.class, () -> db.changes(bad));
        assertTrue(e.getMessage().contains("since") && e.getMessage().contains("negative"), e.getMessage());
        assertThrows(FirkinException.InvalidArgument.class, () -> db.changes(bad, false));
        assertThrows(
            FirkinException.InvalidArgument.class,
            () -> db.compareAndSwapVersion(b("never"), bad, b("written")));
        assertThrows(
            FirkinException.InvalidArgument.class,
            () -> users.compareAndSwapVersion(b("never"), bad, b("written")));
      }
      assertNull(db.get(b("never")));
      assertNull(users.get(b("never")));
      try (Snapshot s = db.snapshotAt(seqA)) { // in range: as before
        assertEquals(seqA, s.seq());
        assertArrayEquals(b("1"), s.get(b("a")));
        assertNull(s.get(b("b")));
      }
      assertTrue(db.compareAndSwapVersion(b("never"), 0, b("v"))); // 0: absent
      assertFalse(db.compareAndSwapVersion(b("never"), 0, b("v2")));
      try (FirkinChanges c = db.changes(seqA)) {
        assertTrue(c.hasNext());
        assertArrayEquals(b("b"), c.next().key);
      }
    }
  }

  /**
   * Option values: a negative int for the uint32_t sync_interval_ms used to
   * reach C as 2^32 + it, a negative segment size as 2^64 + it; a duration
   * beyond Long.MAX_VALUE ms threw ArithmeticException, and one set above
   * it read back negative.
   */
  @Test
  void optionRanges() {
    try (Options o = new Options()) {
      FirkinException e =
          assertThrows(FirkinException.InvalidArgument.class, () -> o.syncIntervalMs(-1));
      assertFalse(e.getMessage().contains("4294967295"), e.getMessage());
      e = assertThrows(FirkinException.InvalidArgument.class, () -> o.segmentSize(-1));
      assertFalse(e.getMessage().contains("18446744073709551615"), e.getMessage());
      assertThrows(FirkinException.InvalidArgument.class, () -> o.segmentSize(Long.MIN_VALUE));
      o.syncIntervalMs(100); // in range: as before
      o.historyRetention(Duration.ofSeconds(Long.MAX_VALUE, 999_999_999));
      assertEquals(Duration.ofMillis(Long.MAX_VALUE).multipliedBy(2).plusMillis(1), o.historyRetention());
      o.txnMaxAge(Duration.ofMillis(Long.MAX_VALUE).plusMillis(3));
      assertEquals(Duration.ofMillis(Long.MAX_VALUE).plusMillis(3), o.txnMaxAge());
      o.historyRetention(Duration.ofMillis(1500));
      assertEquals(Duration.ofMillis(1500), o.historyRetention());
      // the shared SWIG helper behind the typed setters kept the low 32 bits
      // of a sync mode (2^32 + 2 was ALWAYS)
      e = assertThrows(FirkinException.InvalidArgument.class, () -> o.setTyped("sync_mode", (1L << 32) + 2));
      assertTrue(e.getMessage().contains("4294967298"), e.getMessage());
      assertEquals(SyncMode.INTERVAL, o.syncMode());
    }
  }
}
