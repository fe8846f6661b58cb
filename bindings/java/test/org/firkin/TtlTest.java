package org.firkin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TTL, the database clock, snapshots at a time and key history. Expiries
 * are absolute times in the past or far in the future and bounds come from
 * the database clock, so nothing depends on timing.
 */
class TtlTest {
  @TempDir Path tmp;

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String s(byte[] v) {
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  Firkin open() {
    return Firkin.open(tmp.resolve("db").toString());
  }

  @Test
  void expiredKeyIsAbsent() {
    try (Firkin db = open()) {
      db.putExpireAt(b("gone"), b("v"), db.now().minusSeconds(1));
      assertNull(db.get(b("gone")));
      assertFalse(db.contains(b("gone")));
      assertNull(db.ttl(b("gone")));
      assertFalse(db.persist(b("gone")));
      assertNull(db.ttl(b("never")));
      db.put(b("live"), b("x"));
      List<String> keys = new ArrayList<>();
      try (FirkinIterator it = db.iterator()) {
        for (Entry e : it) {
          keys.add(s(e.key()));
        }
      }
      assertEquals(List.of("live"), keys);
    }
  }

  @Test
  void remainingAndPersist() {
    try (Firkin db = open()) {
      long before = db.nowMillis();
      db.putExpireAt(b("k"), b("v"), Instant.ofEpochMilli(before + 60_000));
      Duration rem = db.ttl(b("k"));
      long after = db.nowMillis();
      assertNotNull(rem);
      assertTrue(rem.toMillis() <= 60_000 && rem.toMillis() >= before + 60_000 - after, rem.toString());
      assertEquals("v", s(db.get(b("k"))));

      db.put(b("r"), b("w"), Duration.ofSeconds(10));
      rem = db.ttl(b("r"));
      assertTrue(!rem.isNegative() && !rem.isZero() && rem.compareTo(Duration.ofSeconds(10)) <= 0);

      db.put(b("p"), b("1"));
      assertEquals(Firkin.NO_EXPIRY, db.ttl(b("p")));

      long v0 = db.version(b("k"));
      assertTrue(db.persist(b("k")));
      assertEquals(Firkin.NO_EXPIRY, db.ttl(b("k")));
      assertEquals("v", s(db.get(b("k"))));
      long v1 = db.version(b("k"));
      assertTrue(v1 > v0);
      assertTrue(db.persist(b("k"))); // no expiry: nothing written
      assertEquals(v1, db.version(b("k")));
      db.put(b("r"), b("w2")); // a put without a TTL makes the key persistent
      assertEquals(Firkin.NO_EXPIRY, db.ttl(b("r")));
    }
  }

  @Test
  void namespaceSnapshotAndBatch() {
    try (Firkin db = open(); Namespace users = db.namespace("users")) {
      users.putExpireAt(b("old"), b("v"), db.now().minusSeconds(60));
      users.put(b("new"), b("v"), Duration.ofHours(1));
      assertNull(users.get(b("old")));
      assertEquals("v", s(users.get(b("new"))));
      assertNull(db.get(b("new")));
      Duration rem = users.ttl(b("new"));
      assertTrue(rem.compareTo(Duration.ofHours(1)) <= 0 && !rem.isZero());
      Snapshot snap = db.snapshot();
      assertTrue(users.persist(b("new")));
      Duration old = snap.ttl(users, b("new"));
      assertNotNull(old);
      assertTrue(old.compareTo(Duration.ofHours(1)) <= 0, "the snapshot predates persist");
      assertEquals(Firkin.NO_EXPIRY, users.ttl(b("new")));
      snap.close();
      assertThrows(FirkinException.Closed.class, () -> snap.ttl(b("new")));
      try (Batch batch = new Batch()) {
        batch.put(b("a"), b("1"), Duration.ofMinutes(1))
            .put(users, b("b"), b("2"), Duration.ofMinutes(2))
            .put(b("c"), b("3"));
        assertEquals(3, batch.count());
        db.write(batch);
      }
      Duration ra = db.ttl(b("a"));
      assertTrue(ra.compareTo(Duration.ofMinutes(1)) <= 0 && !ra.isZero());
      Duration rb = users.ttl(b("b"));
      assertTrue(rb.compareTo(Duration.ofMinutes(1)) > 0 && rb.compareTo(Duration.ofMinutes(2)) <= 0);
      assertEquals(Firkin.NO_EXPIRY, db.ttl(b("c")));
      KeyVersion va = db.history(b("a")).versions().get(0);
      KeyVersion vb = users.history(b("b")).versions().get(0);
      assertEquals(va.commitTime(), vb.commitTime(), "one commit time per batch");
      assertEquals(Duration.ofMinutes(1), Duration.between(va.commitTime(), va.expiry()));
      assertEquals(Duration.ofMinutes(2), Duration.between(vb.commitTime(), vb.expiry()));
    }
  }

  @Test
  void badInput() {
    Firkin db = open();
    assertThrows(FirkinException.InvalidArgument.class, () -> db.put(b("k"), b("v"), Duration.ZERO));
    assertThrows(FirkinException.InvalidArgument.class, () -> db.put(b("k"), b("v"), Duration.ofSeconds(-1)));
    assertThrows(FirkinException.InvalidArgument.class, () -> db.put(b("k"), b("v"), (Duration) null));
    // (an expiry at or before the epoch is a past time, not bad input:
    // RangesTest.pastExpireAtWritesAnExpiredKey)
    assertThrows(FirkinException.InvalidArgument.class, () -> db.putExpireAt(b("k"), b("v"), null));
    assertThrows(FirkinException.InvalidArgument.class, () -> db.snapshotAt((Instant) null));
    Batch batch = new Batch();
    assertThrows(FirkinException.InvalidArgument.class, () -> batch.put(b("k"), b("v"), Duration.ZERO));
    batch.close();
    assertThrows(FirkinException.Closed.class, () -> batch.put(b("k"), b("v"), Duration.ofSeconds(1)));
    db.put(b("tiny"), b("v"), Duration.ofNanos(1)); // rounded up to 1 ms, not rejected
    assertThrows(FirkinException.class, () -> db.put(new byte[70_000], b("v"), Duration.ofSeconds(1)));
    db.close();
    assertThrows(FirkinException.Closed.class, () -> db.put(b("k"), b("v"), Duration.ofSeconds(1)));
    assertThrows(FirkinException.Closed.class, () -> db.ttl(b("k")));
    assertThrows(FirkinException.Closed.class, () -> db.persist(b("k")));
    assertThrows(FirkinException.Closed.class, db::nowMillis);
    assertThrows(FirkinException.Closed.class, () -> db.history(b("k")));
    assertThrows(FirkinException.Closed.class, () -> db.snapshotAt(Instant.now()));
  }

  @Test
  void historyOrderAndFields() {
    try (Firkin db = open()) {
      try (KeyHistory h = db.history(b("k"))) {
        assertEquals(0, h.size());
        assertFalse(h.truncated());
      }
      db.put(b("k"), b("v1"));
      long s1 = db.version(b("k"));
      Instant now = db.now();
      Instant exp = now.plusSeconds(3600);
      db.putExpireAt(b("k"), b("v2"), exp);
      long s2 = db.version(b("k"));
      db.delete(b("k"));
      long last = db.lastSeq();
      KeyHistory h = db.history(b("k"));
      List<KeyVersion> all = new ArrayList<>();
      for (KeyVersion v : h) {
        all.add(v);
      }
      assertEquals(3, all.size());
      assertFalse(h.truncated());
      KeyVersion d = all.get(0);
      KeyVersion v2 = all.get(1);
      KeyVersion v1 = all.get(2);
      assertTrue(d.deleted());
      assertNull(d.value());
      assertNull(d.expiry());
      assertEquals(last, d.seq());
      assertFalse(v2.deleted());
      assertEquals("v2", s(v2.value()));
      assertEquals(s2, v2.seq());
      assertEquals(exp, v2.expiry());
      assertEquals("v1", s(v1.value()));
      assertEquals(s1, v1.seq());
      assertNull(v1.expiry());
      assertNotNull(v1.commitTime());
      assertFalse(v1.commitTime().isAfter(now));
      assertFalse(d.commitTime().isBefore(v2.commitTime()));
      assertFalse(v2.commitTime().isBefore(v1.commitTime()));
      h.close();
      assertThrows(FirkinException.Closed.class, h::iterator);

      byte[] big = new byte[10_000]; // larger than the scratch buffer
      for (int i = 0; i < big.length; i++) {
        big[i] = (byte) i;
      }
      db.put(b("big"), big);
      db.put(b("big"), new byte[0]);
      try (KeyHistory hb = db.history(b("big"))) {
        assertEquals(2, hb.size());
        assertArrayEquals(new byte[0], hb.versions().get(0).value());
        assertArrayEquals(big, hb.versions().get(1).value());
      }
    }
  }

  @Test
  void snapshotAtTime() throws InterruptedException {
    try (Options o = new Options()) {
      o.historyRetention(Duration.ofHours(1));
      assertEquals(Duration.ofHours(1), o.historyRetention());
      assertEquals("3600000", o.get("history_retention_ms"));
      assertThrows(FirkinException.InvalidArgument.class, () -> o.historyRetention(Duration.ofSeconds(-1)));
      try (Firkin db = Firkin.open(tmp.resolve("db").toString(), o)) {
        db.put(b("k"), b("v1"));
        Thread.sleep(3); // distinct commit times (ms)
        db.put(b("k"), b("v2"));
        List<KeyVersion> h = db.history(b("k")).versions();
        Instant t2 = h.get(0).commitTime();
        Instant t1 = h.get(1).commitTime();
        assertTrue(t2.isAfter(t1));
        try (Snapshot s0 = db.snapshotAt(t1.minusMillis(1))) {
          assertEquals(0, s0.seq());
          assertNull(s0.get(b("k")));
        }
        try (Snapshot s = db.snapshotAt(t1)) {
          assertEquals("v1", s(s.get(b("k"))));
          assertEquals(h.get(1).seq(), s.seq());
        }
        try (Snapshot s = db.snapshotAt(t2.minusMillis(1))) {
          assertEquals("v1", s(s.get(b("k"))));
        }
        try (Snapshot s = db.snapshotAt(t2)) {
          assertEquals("v2", s(s.get(b("k"))));
        }
        try (Snapshot s = db.snapshotAt(Instant.now().plusSeconds(3600))) {
          assertEquals("v2", s(s.get(b("k"))));
        }
        try (Snapshot s = db.snapshotAt(Instant.ofEpochSecond(-5))) {
          assertNull(s.get(b("k")));
        }
      }
    }
  }

  @Test
  void transactionalTtl() {
    try (Firkin db = open()) {
      Instant now = db.now();
      db.update(tx -> {
        tx.put(b("a"), b("va"), Duration.ofHours(1));
        tx.putExpireAt(b("gone"), b("v"), now.minusSeconds(1));
        assertEquals("va", s(tx.get(b("a")))); // its own TTL put reads as present
        assertNull(tx.get(b("gone"))); // its own put with a past expiry: absent
        assertThrows(FirkinException.InvalidArgument.class,
            () -> tx.put(b("z"), b("v"), Duration.ZERO));
      });
      Duration left = db.ttl(b("a"));
      assertTrue(left.compareTo(Duration.ofMinutes(59)) > 0 && left.compareTo(Duration.ofHours(1)) <= 0,
          "remaining " + left);
      assertNull(db.get(b("gone")));
    }
  }

  @Test
  void abandonedTransactionExpires() throws InterruptedException {
    try (Options o = new Options()) {
      o.txnMaxAge(Duration.ofMillis(1));
      assertEquals(Duration.ofMillis(1), o.txnMaxAge());
      assertThrows(FirkinException.InvalidArgument.class, () -> o.txnMaxAge(Duration.ofSeconds(-1)));
      try (Firkin db = Firkin.open(tmp.resolve("db").toString(), o);
           Transaction tx = db.beginTransaction()) {
        tx.put(b("k"), b("v"));
        Thread.sleep(5);
        db.compact(); // a compaction cycle expires the abandoned transaction
        assertThrows(FirkinException.SnapshotTooOld.class, () -> tx.get(b("k")));
        assertThrows(FirkinException.SnapshotTooOld.class, () -> tx.commit());
        assertNull(db.get(b("k")));
      }
    }
  }

  @Test
  void snapshotAtTimeBeyondWhatCompactionKept() throws InterruptedException {
    try (Options o = new Options()) {
      o.set("segment_size", "64K");
      o.set("auto_compact", "false");
      try (Firkin db = Firkin.open(tmp.resolve("db").toString(), o)) {
        db.put(b("k"), b("v1"));
        Instant t1 = db.history(b("k")).versions().get(0).commitTime();
        Thread.sleep(3);
        byte[] pad = new byte[1000];
        for (int i = 0; i < 400; i++) {
          db.put(b("p" + (i % 10)), pad);
        }
        db.put(b("k"), b("v2"));
        db.compact();
        // No retention: never a wrong state, SnapshotTooOld instead.
        assertThrows(FirkinException.SnapshotTooOld.class, () -> db.snapshotAt(t1));
      }
    }
  }
}
