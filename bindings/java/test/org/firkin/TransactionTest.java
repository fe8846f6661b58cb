package org.firkin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransactionTest {
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
  void readYourOwnWritesAndCommit() {
    try (Firkin db = open(); Namespace users = db.namespace("users")) {
      db.put(b("a"), b("1"));
      try (Transaction tx = db.beginTransaction(Isolation.SNAPSHOT)) {
        assertEquals(db.lastSeq(), tx.snapshotSeq());
        assertEquals(Isolation.SNAPSHOT, tx.isolation());
        assertEquals("1", s(tx.get(b("a"))));
        tx.put(b("a"), b("2"));
        tx.put(b("b"), new byte[] {0, 'x'});
        tx.put(users, b("ada"), b("lovelace"));
        byte[] big = new byte[10000];
        big[9999] = 7;
        tx.put(b("big"), big);
        assertArrayEquals(big, tx.get(b("big")));
        assertEquals("2", s(tx.get(b("a"))));
        assertArrayEquals(new byte[] {0, 'x'}, tx.get(b("b")));
        assertEquals("lovelace", s(tx.get(users, b("ada"))));
        assertNull(tx.get(b("ada")));
        assertTrue(tx.contains(b("b")));
        assertFalse(tx.contains(b("nope")));
        assertNull(db.get(b("b"))); // nothing visible outside before commit
        assertEquals("1", s(db.get(b("a"))));
        tx.delete(b("a"));
        assertNull(tx.get(b("a")));
        long seq = tx.commit();
        assertEquals(db.lastSeq(), seq);
        assertEquals(seq, tx.commitSeq());
        assertTrue(tx.isFinished());
      }
      assertNull(db.get(b("a")));
      assertArrayEquals(new byte[] {0, 'x'}, db.get(b("b")));
      assertEquals("lovelace", s(users.get(b("ada"))));
    }
  }

  @Test
  void useAfterCommitAndClose() {
    try (Firkin db = open()) {
      Transaction tx = db.beginTransaction();
      tx.put(b("k"), b("v"));
      tx.commit();
      assertThrows(FirkinException.InvalidArgument.class, () -> tx.put(b("k"), b("w")));
      assertThrows(FirkinException.InvalidArgument.class, () -> tx.get(b("k")));
      assertThrows(FirkinException.InvalidArgument.class, () -> tx.commit());
      assertThrows(FirkinException.InvalidArgument.class, tx::rollback);
      tx.close();
      tx.close();
      assertThrows(FirkinException.Closed.class, () -> tx.get(b("k")));
      assertEquals("v", s(db.get(b("k"))));
    }
  }

  @Test
  void rollbackAndCloseDiscard() {
    try (Firkin db = open()) {
      try (Transaction tx = db.beginTransaction()) {
        tx.put(b("k"), b("v"));
        tx.rollback();
        assertTrue(tx.isFinished());
        assertThrows(FirkinException.InvalidArgument.class, () -> tx.put(b("k"), b("v")));
      }
      try (Transaction tx = db.beginTransaction(Isolation.SERIALIZABLE)) {
        tx.put(b("k"), b("v"));
      } // closed without commit
      assertNull(db.get(b("k")));
    }
  }

  @Test
  void snapshotIsolationWriteWriteConflict() {
    try (Firkin db = open();
        Transaction t1 = db.beginTransaction();
        Transaction t2 = db.beginTransaction()) {
      t1.put(b("x"), b("1"));
      t2.put(b("x"), b("2"));
      t1.commit();
      FirkinException.Conflict e = assertThrows(FirkinException.Conflict.class, () -> t2.commit());
      assertEquals(Status.CONFLICT, e.status());
      assertTrue(e.getMessage().contains("x"), e.getMessage());
      assertTrue(e instanceof FirkinException);
      assertEquals("1", s(db.get(b("x"))));
    }
  }

  @Test
  void serializableReadWriteConflict() {
    try (Firkin db = open()) {
      db.put(b("x"), b("0"));
      for (Isolation iso : Isolation.values()) {
        try (Transaction t1 = db.beginTransaction(iso);
            Transaction t2 = db.beginTransaction(iso)) {
          assertNull(t1.get(b("y")));
          assertEquals("0", s(t2.get(b("x"))));
          t1.put(b("x"), b("0"));
          t2.put(b("y"), b("2"));
          t1.commit();
          if (iso == Isolation.SERIALIZABLE) {
            assertThrows(FirkinException.Conflict.class, () -> t2.commit());
          } else {
            t2.commit(); // write skew is allowed under snapshot isolation
          }
        }
        db.delete(b("y"));
      }
      try (Transaction tx = db.beginTransaction(Isolation.SERIALIZABLE)) {
        try (FirkinIterator it = tx.iterator()) {
          for (Entry e : it) {
            assertTrue(e.key().length > 0);
          }
        }
        tx.put(b("count"), b("1"));
        db.put(b("phantom"), b("!"));
        assertThrows(FirkinException.Conflict.class, () -> tx.commit());
      }
    }
  }

  @Test
  void iteratorInsideTransaction() {
    try (Firkin db = open()) {
      db.put(b("a"), b("1"));
      db.put(b("b"), b("2"));
      try (Transaction tx = db.beginTransaction()) {
        tx.put(b("c"), b("3"));
        tx.delete(b("a"));
        tx.put(b("b"), b("22"));
        List<String> got = new ArrayList<>();
        try (FirkinIterator it = tx.iterator()) {
          tx.put(b("d"), b("4")); // not seen by the iterator made before
          for (Entry e : it) {
            got.add(s(e.key()) + "=" + s(e.value()));
          }
        }
        Collections.sort(got);
        assertEquals(List.of("b=22", "c=3"), got);
      }
    }
  }

  @Test
  void compareAndSwap() {
    try (Firkin db = open()) {
      db.put(b("k"), b("old"));
      db.update(
          tx -> {
            assertFalse(tx.compareAndSwap(b("k"), b("nope"), b("new")));
            assertEquals("old", s(tx.get(b("k"))));
            assertTrue(tx.compareAndSwap(b("k"), b("old"), b("new")));
          });
      assertEquals("new", s(db.get(b("k"))));
    }
  }

  @Test
  void updateRetriesOnConflict() {
    try (Firkin db = open()) {
      db.put(b("n"), b("0"));
      AtomicInteger attempts = new AtomicInteger();
      int r =
          db.updateAndGet(
              tx -> {
                int n = Integer.parseInt(s(tx.get(b("n"))));
                if (attempts.incrementAndGet() <= 2) {
                  db.put(b("n"), b(Integer.toString(n + 100))); // this attempt conflicts
                }
                tx.put(b("n"), b(Integer.toString(n + 1)));
                return n + 1;
              });
      assertEquals(201, r);
      assertEquals(3, attempts.get());
      assertEquals("201", s(db.get(b("n"))));

      attempts.set(0);
      assertThrows(
          FirkinException.Conflict.class,
          () ->
              db.update(
                  Isolation.SNAPSHOT,
                  4,
                  tx -> {
                    attempts.incrementAndGet();
                    tx.put(b("n"), b("x"));
                    db.put(b("n"), b("y"));
                  }));
      assertEquals(4, attempts.get());
      assertEquals("y", s(db.get(b("n"))));

      attempts.set(0);
      assertThrows(
          IllegalStateException.class,
          () ->
              db.update(
                  tx -> {
                    attempts.incrementAndGet();
                    tx.put(b("n"), b("z"));
                    throw new IllegalStateException("boom");
                  }));
      assertEquals(1, attempts.get());
      assertEquals("y", s(db.get(b("n"))));
      assertThrows(FirkinException.InvalidArgument.class, () -> db.update(tx -> tx.commit()));
      assertThrows(
          FirkinException.InvalidArgument.class, () -> db.update(Isolation.SNAPSHOT, 0, tx -> {}));
    }
  }

  @Test
  void concurrentIncrements() throws Exception {
    try (Firkin db = open()) {
      db.put(b("ctr"), b("0"));
      List<Thread> ts = new ArrayList<>();
      List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
      for (int g = 0; g < 4; g++) {
        Thread t =
            new Thread(
                () -> {
                  try {
                    for (int i = 0; i < 100; i++) {
                      db.update(
                          Isolation.SNAPSHOT,
                          10000,
                          tx -> {
                            int n = Integer.parseInt(s(tx.get(b("ctr"))));
                            tx.put(b("ctr"), b(Integer.toString(n + 1)));
                          });
                    }
                  } catch (Throwable e) {
                    errors.add(e);
                  }
                });
        ts.add(t);
        t.start();
      }
      for (Thread t : ts) {
        t.join();
      }
      assertEquals(List.of(), errors);
      assertEquals("400", s(db.get(b("ctr"))));
    }
  }

  @Test
  void badInput() {
    try (Firkin db = open();
        Firkin other = Firkin.open(tmp.resolve("other").toString());
        Namespace ons = other.namespace("o");
        Transaction tx = db.beginTransaction()) {
      assertThrows(FirkinException.InvalidArgument.class, () -> tx.put(ons, b("k"), b("v")));
      assertThrows(FirkinException.TooLarge.class, () -> tx.put(new byte[70000], b("v")));
      assertThrows(FirkinException.InvalidArgument.class, () -> db.beginTransaction(null));
    }
    Firkin db = open();
    db.close();
    assertThrows(FirkinException.Closed.class, () -> db.beginTransaction());
  }
}
