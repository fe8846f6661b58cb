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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FirkinTest {
  @TempDir Path tmp;

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  Firkin open() {
    return Firkin.open(tmp.resolve("db").toString());
  }

  @Test
  void putGetDelete() {
    try (Firkin db = open()) {
      db.put(b("k"), b("v"));
      assertArrayEquals(b("v"), db.get(b("k")));
      db.put(b("bin\0key"), new byte[] {0, 1, 0});
      assertArrayEquals(new byte[] {0, 1, 0}, db.get(b("bin\0key")));
      db.put(b("empty"), new byte[0]);
      assertArrayEquals(new byte[0], db.get(b("empty")));
      db.delete(b("k"));
      assertNull(db.get(b("k")));
      assertFalse(db.contains(b("k")));
      db.delete(b("never-there"));
    }
  }

  @Test
  void largeValueAndCallerBuffer() {
    try (Firkin db = open()) {
      byte[] big = new byte[3 << 20];
      for (int i = 0; i < big.length; i++) {
        big[i] = (byte) (i * 31);
      }
      db.put(b("big"), big);
      assertArrayEquals(big, db.get(b("big")));
      byte[] small = new byte[10];
      assertEquals(big.length, db.get(b("big"), small));
      db.put(b("s"), b("abc"));
      assertEquals(3, db.get(b("s"), small));
      assertEquals('a', small[0]);
      assertEquals(-1, db.get(b("absent"), small));
    }
  }

  @Test
  void typedExceptionsCarryStatusAndMessage() {
    try (Firkin db = open()) {
      FirkinException.InvalidArgument e =
          assertThrows(FirkinException.InvalidArgument.class, () -> db.put(new byte[0], b("v")));
      assertEquals(Status.INVALID_ARGUMENT, e.status());
      assertEquals(-2, e.code());
      assertFalse(e.getMessage().isEmpty());
      assertThrows(FirkinException.TooLarge.class, () -> db.put(new byte[65536], b("v")));
      assertThrows(FirkinException.NamespaceNotFound.class, () -> db.openNamespace("nope", false));
      assertThrows(FirkinException.Busy.class, () -> Firkin.open(tmp.resolve("db").toString()));
    }
    try (Options o = new Options().createIfMissing(false)) {
      FirkinException e =
          assertThrows(FirkinException.class, () -> Firkin.open(tmp.resolve("missing").toString(), o));
      assertEquals(Status.NOT_FOUND, e.status());
    }
  }

  @Test
  void closeTwiceAndUseAfterClose() {
    Firkin db = open();
    Namespace ns = db.namespace("n");
    Snapshot snap = db.snapshot();
    FirkinIterator it = db.iterator();
    Batch batch = new Batch();
    Options o = new Options();
    WriteOptions wo = new WriteOptions();
    it.close();
    it.close();
    assertThrows(FirkinException.Closed.class, it::hasNext);
    snap.close();
    snap.close();
    assertThrows(FirkinException.Closed.class, () -> snap.get(b("k")));
    ns.close();
    ns.close();
    assertThrows(FirkinException.Closed.class, () -> ns.put(b("k"), b("v")));
    batch.close();
    batch.close();
    assertThrows(FirkinException.Closed.class, () -> batch.put(b("k"), b("v")));
    o.close();
    o.close();
    assertThrows(FirkinException.Closed.class, () -> o.readOnly(true));
    wo.close();
    wo.close();
    assertThrows(FirkinException.Closed.class, () -> db.put(wo, b("k"), b("v")));
    db.close();
    db.close();
    assertTrue(db.isClosed());
    FirkinException.Closed e = assertThrows(FirkinException.Closed.class, () -> db.get(b("k")));
    assertEquals(Status.CLOSED, e.status());
    assertThrows(FirkinException.Closed.class, () -> db.put(b("k"), b("v")));
    assertThrows(FirkinException.Closed.class, db::iterator);
  }

  // FirkinIterator is Iterable (for-each), one pass like DirectoryStream:
  // iterator() works once, then says so instead of yielding nothing.
  @Test
  void iteratorIsIterableOnce() {
    try (Firkin db = open()) {
      for (int i = 0; i < 5; i++) {
        db.put(b("k" + i), b("v" + i));
      }
      int n = 0;
      try (FirkinIterator it = db.iterator()) {
        Iterable<Entry> entries = it;
        for (Entry e : entries) {
          assertEquals(2, e.key().length);
          n++;
        }
        assertEquals(5, n);
        assertThrows(IllegalStateException.class, it::iterator);
      }
      try (Snapshot s = db.snapshot();
          FirkinIterator it = s.iterator()) {
        db.put(b("k5"), b("v5"));
        n = 0;
        for (Entry e : it) {
          n++;
        }
        assertEquals(5, n);
      }
    }
  }

  @Test
  void iteratorOutlivesDatabaseHandle() {
    Firkin db = open();
    db.put(b("a"), b("1"));
    try (FirkinIterator it = db.iterator()) {
      db.close();
      assertTrue(it.hasNext());
      assertArrayEquals(b("a"), it.next().key());
      assertFalse(it.hasNext());
      assertThrows(NoSuchElementException.class, it::next);
    }
  }

  @Test
  void batchSnapshotNamespaces() {
    try (Firkin db = open();
        Namespace users = db.createNamespace("users");
        Batch batch = new Batch();
        WriteOptions wo = new WriteOptions().sync(SyncMode.ALWAYS)) {
      assertThrows(FirkinException.Exists.class, () -> db.createNamespace("users"));
      db.put(b("a"), b("old"));
      try (Snapshot snap = db.snapshot()) {
        batch.put(b("a"), b("new")).put(users, b("ada"), b("lovelace")).delete(b("zz"));
        assertEquals(3, batch.count());
        db.write(wo, batch);
        assertArrayEquals(b("new"), db.get(b("a")));
        assertArrayEquals(b("lovelace"), users.get(b("ada")));
        assertNull(db.get(b("ada")));
        assertArrayEquals(b("old"), snap.get(b("a")));
        assertNull(snap.get(users, b("ada")));
        assertTrue(db.lastSeq() > snap.seq());
      }
      assertEquals(SyncMode.ALWAYS, wo.sync());
      assertEquals(1, users.count());
      List<String> names = db.namespaces();
      assertTrue(names.contains("default") && names.contains("users"), names.toString());
      db.dropNamespace("users");
      assertThrows(FirkinException.NamespaceNotFound.class, () -> users.get(b("ada")));
    }
  }

  @Test
  void conditionalWrites() {
    try (Firkin db = open()) {
      assertTrue(db.putIfAbsent(b("k"), b("1")));
      assertFalse(db.putIfAbsent(b("k"), b("2")));
      assertTrue(db.compareAndSwap(b("k"), b("1"), b("2")));
      assertFalse(db.compareAndSwap(b("k"), b("1"), b("3")));
      long v = db.version(b("k"));
      assertTrue(v > 0);
      assertTrue(db.compareAndSwapVersion(b("k"), v, b("4")));
      assertFalse(db.compareAndSwapVersion(b("k"), v, b("5")));
      assertEquals(0, db.version(b("absent")));
      assertArrayEquals(b("4"), db.get(b("k")));
    }
  }

  @Test
  void iteratorAndMultiGet() {
    try (Firkin db = open()) {
      Map<String, String> want = new HashMap<>();
      for (int i = 0; i < 3000; i++) {
        want.put("key-" + i, "value-" + i);
        db.put(b("key-" + i), b("value-" + i));
      }
      String big = "x".repeat(200_000);
      want.put("big", big);
      db.put(b("big"), b(big));
      Map<String, String> got = new HashMap<>();
      try (FirkinIterator it = db.iterator()) {
        it.forEachRemaining(
            e -> assertNull(got.put(new String(e.key(), StandardCharsets.UTF_8),
                new String(e.value(), StandardCharsets.UTF_8))));
      }
      assertEquals(want, got);
      byte[][] vals = db.multiGet(b("key-1"), b("absent"), b("big"));
      assertArrayEquals(b("value-1"), vals[0]);
      assertNull(vals[1]);
      assertEquals(big.length(), vals[2].length);
      assertEquals(want.size(), db.count());
    }
  }

  @Test
  void readOnlyBesideWriterRefresh() {
    String dir = tmp.resolve("db").toString();
    try (Firkin w = Firkin.open(dir)) {
      w.put(b("k"), b("v1"));
      w.sync();
      Firkin r;
      try (Options o = new Options()) {
        o.readOnly(true);
        r = Firkin.open(dir, o);
      }
      try {
        assertArrayEquals(b("v1"), r.get(b("k")));
        w.put(b("k"), b("v2"));
        w.sync();
        assertArrayEquals(b("v1"), r.get(b("k")), "the reader moved before refresh");
        r.refresh();
        assertArrayEquals(b("v2"), r.get(b("k")));
        assertEquals(w.lastSeq(), r.lastSeq());
        assertThrows(FirkinException.ReadOnly.class, () -> r.put(b("x"), b("y")));
        assertTrue(r.stats().contains("\"mode\":\"reader\""));
        w.refresh(); // a writable handle: nothing to do
      } finally {
        r.close();
      }
      assertThrows(FirkinException.Closed.class, r::refresh);
    }
  }

  @Test
  void optionsRoundTrip() {
    try (Options o = new Options()) {
      assertTrue(o.createIfMissing());
      o.syncMode(SyncMode.ALWAYS).readOnly(false).set("segment_size", "1M");
      assertEquals(SyncMode.ALWAYS, o.syncMode());
      assertEquals("always", o.get("sync_mode"));
      assertThrows(FirkinException.InvalidArgument.class, () -> o.set("no_such_option", "1"));
      try (Firkin db = Firkin.open(tmp.resolve("db").toString(), o)) {
        db.put(b("k"), b("v"));
        db.sync();
        assertTrue(db.stats().trim().startsWith("{"));
      }
    }
  }

  @Test
  void concurrentThreads() throws Exception {
    try (Firkin db = open()) {
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int tt = t;
        fs.add(pool.submit(() -> {
          byte[] buf = new byte[64];
          for (int i = 0; i < 1000; i++) {
            byte[] k = b("t" + tt + "-" + i);
            db.put(k, k);
            assertArrayEquals(k, db.get(k));
            assertEquals(k.length, db.get(k, buf));
            FirkinException e =
                assertThrows(FirkinException.class, () -> db.openNamespace("missing-" + tt, false));
            assertEquals(Status.NAMESPACE_NOT_FOUND, e.status());
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
      pool.shutdown();
      assertEquals(8000, db.count());
    }
  }

  @Test
  void version() {
    assertNotNull(Firkin.version());
    assertEquals(0, Firkin.versionNumber() / 10000);
    assertFalse(Status.NOT_FOUND.description().isEmpty());
    assertEquals(Status.BUSY, Status.of(-5));
  }
}
