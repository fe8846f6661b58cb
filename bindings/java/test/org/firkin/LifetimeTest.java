package org.firkin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * close() racing calls on the same database from other threads: every call
 * succeeds or throws Closed, the JVM does not crash, and once the calls are
 * out the database is released (it reopens). Before the gate (Gate.java) a
 * call could pass the open check just before close() freed the native
 * handle, then use it: a SIGSEGV in firkin_put / firkin_get.
 */
class LifetimeTest {
  @TempDir Path tmp;

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void closeWhileCallsInFlight() throws Exception {
    String path = tmp.resolve("db").toString();
    for (int round = 0; round < 12; round++) {
      Firkin db = Firkin.open(path);
      ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
      CountDownLatch started = new CountDownLatch(8);
      List<Thread> threads = new ArrayList<>();
      for (int g = 0; g < 8; g++) {
        final byte[] key = b("k" + g);
        Thread t =
            new Thread(
                () -> {
                  started.countDown();
                  try {
                    for (int i = 0; ; i++) {
                      switch (i % 6) {
                        case 0:
                          db.put(key, key);
                          break;
                        case 1:
                          db.get(key);
                          break;
                        case 2:
                          db.contains(key);
                          break;
                        case 3:
                          try (Snapshot s = db.snapshot()) {
                            s.get(key); // the snapshot outlives the database handle
                          }
                          break;
                        case 4:
                          try (FirkinIterator it = db.iterator()) {
                            for (int n = 0; n < 4 && it.hasNext(); n++) {
                              it.next();
                            }
                          }
                          break;
                        default:
                          db.count();
                      }
                    }
                  } catch (FirkinException.Closed e) {
                    // expected once close() ran
                  } catch (Throwable e) {
                    errors.add(e);
                  }
                });
        t.start();
        threads.add(t);
      }
      started.await();
      Thread.sleep(2);
      db.close();
      for (Thread t : threads) {
        t.join();
      }
      if (!errors.isEmpty()) {
        throw new AssertionError("a call failed otherwise than Closed", errors.peek());
      }
      assertTrue(db.isClosed());
      assertThrows(FirkinException.Closed.class, () -> db.get(b("k0")));
    }
    try (Firkin db = Firkin.open(path)) { // released: the lock is free again
      db.put(b("k"), b("v"));
    }
  }

  /** close() from inside a call on the same handle returns at once (no hang). */
  @Test
  void closeInsideUpdate() {
    String path = tmp.resolve("db2").toString();
    Firkin db = Firkin.open(path);
    db.update(
        tx -> {
          db.close();
          tx.put(b("k"), b("v"));
        });
    assertThrows(FirkinException.Closed.class, () -> db.put(b("k2"), b("")));
    try (Firkin again = Firkin.open(path)) {
      assertArrayEquals(b("v"), again.get(b("k")));
    }
  }

  /**
   * close() of a shared Namespace and Snapshot racing calls on them: every call
   * succeeds or throws Closed. Before their gates a call could pass the open
   * check just before close() freed the handle, then use it.
   */
  @Test
  void closeSharedNamespaceAndSnapshotWhileInUse() throws Exception {
    try (Firkin db = Firkin.open(tmp.resolve("db3").toString())) {
      for (int round = 0; round < 12; round++) {
        Namespace ns = db.namespace("shared");
        Snapshot snap = db.snapshot();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch started = new CountDownLatch(8);
        List<Thread> threads = new ArrayList<>();
        for (int g = 0; g < 8; g++) {
          final byte[] key = b("k" + g);
          Thread t =
              new Thread(
                  () -> {
                    started.countDown();
                    boolean nsDone = false;
                    boolean snapDone = false;
                    for (int i = 0; !nsDone || !snapDone; i++) {
                      boolean onNs = i % 2 == 0;
                      if (onNs ? nsDone : snapDone) {
                        continue;
                      }
                      try {
                        switch (i % 6) {
                          case 0:
                            ns.put(key, key);
                            break;
                          case 1:
                            snap.get(key);
                            break;
                          case 2:
                            ns.get(key);
                            break;
                          case 3:
                            snap.contains(key);
                            break;
                          case 4:
                            try (FirkinIterator it = ns.iterator()) {
                              for (int n = 0; n < 4 && it.hasNext(); n++) {
                                it.next();
                              }
                            }
                            break;
                          default:
                            try (FirkinIterator it = snap.iterator()) {
                              for (int n = 0; n < 4 && it.hasNext(); n++) {
                                it.next();
                              }
                            }
                        }
                      } catch (FirkinException.Closed e) {
                        if (onNs) {
                          nsDone = true;
                        } else {
                          snapDone = true;
                        }
                      } catch (Throwable e) {
                        errors.add(e);
                        return;
                      }
                    }
                  });
          t.start();
          threads.add(t);
        }
        started.await();
        Thread.sleep(2);
        ns.close();
        snap.close();
        for (Thread t : threads) {
          t.join();
        }
        if (!errors.isEmpty()) {
          throw new AssertionError("a call failed otherwise than Closed", errors.peek());
        }
      }
    }
  }

  /**
   * An iterator, a batch and a change cursor are for one thread at a time, but
   * a close() from other threads (three at once, or under a reader's call) must
   * free each native handle once and never under a call: before their gates the
   * Cleaner's clean() ran the free once, but under a next(), put() or await()
   * in flight (a JVM crash).
   */
  @Test
  void closeSingleThreadHandlesFromOthers() throws Exception {
    try (Firkin db = Firkin.open(tmp.resolve("db4").toString())) {
      for (int i = 0; i < 2000; i++) {
        db.put(b("k" + i), new byte[50]);
      }
      for (int round = 0; round < 100; round++) {
        FirkinIterator it = db.iterator();
        Batch batch = new Batch();
        FirkinChanges c = db.changes(0);
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch started = new CountDownLatch(3);
        List<Thread> threads = new ArrayList<>();
        Runnable[] workers = {
          () -> {
            started.countDown();
            while (it.hasNext()) {
              it.next();
            }
          },
          () -> {
            started.countDown();
            for (; ; ) {
              batch.put(b("k"), b("v"));
            }
          },
          () -> {
            started.countDown();
            for (; ; ) {
              while (c.hasNext()) {
                c.next();
              }
              c.await(1);
            }
          }
        };
        for (Runnable w : workers) {
          threads.add(
              new Thread(
                  () -> {
                    try {
                      w.run();
                    } catch (FirkinException.Closed | java.util.NoSuchElementException e) {
                      // expected once closed (next() after a hasNext() that a close overtook)
                    } catch (Throwable e) {
                      errors.add(e);
                    }
                  }));
        }
        for (Thread t : threads) {
          t.start();
        }
        started.await();
        List<Thread> closers = new ArrayList<>();
        for (int g = 0; g < 3; g++) {
          Thread t =
              new Thread(
                  () -> {
                    it.close();
                    batch.close();
                    c.close();
                  });
          t.start();
          closers.add(t);
        }
        for (Thread t : closers) {
          t.join();
        }
        for (Thread t : threads) {
          t.join();
        }
        if (!errors.isEmpty()) {
          throw new AssertionError("a call failed otherwise than Closed", errors.peek());
        }
      }
    }
  }
}
