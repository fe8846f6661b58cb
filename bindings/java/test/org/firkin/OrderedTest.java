package org.firkin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ordered namespaces: createNamespaceOrdered, range / prefix iterators, seek. */
class OrderedTest {
  @TempDir Path tmp;

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String key(int i) {
    return String.format("k%05d", i);
  }

  /** Drains and closes it; its keys. */
  static List<String> keys(FirkinIterator it) {
    List<String> out = new ArrayList<>();
    try (FirkinIterator i = it) {
      for (Entry e : i) {
        out.add(new String(e.key(), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  @Test
  void rangePrefixReverseSeekSnapshotTransaction() {
    String path = tmp.resolve("db").toString();
    try (Firkin db = Firkin.open(path);
        Namespace ns = db.createNamespaceOrdered("o");
        Namespace plain = db.createNamespace("plain")) {
      assertTrue(ns.isOrdered());
      assertFalse(plain.isOrdered());
      assertThrows(FirkinException.Exists.class, () -> db.createNamespaceOrdered("plain"));
      // 3000 keys of 100 bytes, written out of order: several next_n buffers
      for (int i = 2999; i >= 0; i--) {
        ns.put(b(key(i)), new byte[100]);
      }
      List<String> all = keys(db.rangeIterator(ns, null, null, null, false));
      List<String> rev = keys(db.rangeIterator(ns, null, new byte[0], new byte[0], true));
      assertEquals(3000, all.size());
      assertEquals(3000, rev.size());
      for (int i = 0; i < 3000; i++) {
        assertEquals(key(i), all.get(i));
        assertEquals(key(2999 - i), rev.get(i));
      }
      assertEquals(Arrays.asList("k00010", "k00011", "k00012"),
          keys(db.rangeIterator(ns, null, b("k00010"), b("k00013"), false)));
      assertEquals(Arrays.asList("k02999", "k02998"),
          keys(db.prefixIterator(ns, null, b("k0299"), true)).subList(0, 2));

      // seek after part of a buffer was consumed
      try (FirkinIterator it = db.rangeIterator(ns, null, null, null, false)) {
        assertTrue(it.isOrdered());
        it.next();
        assertEquals("k00001", new String(it.next().key(), StandardCharsets.UTF_8));
        it.seek(b("k02500"));
        assertEquals("k02500", new String(it.next().key(), StandardCharsets.UTF_8));
        it.seek(b("k00000x"));
        assertEquals("k00001", new String(it.next().key(), StandardCharsets.UTF_8));
        it.seek(b("z"));
        assertFalse(it.hasNext());
        it.seek(b("k02999"));
        assertEquals("k02999", new String(it.next().key(), StandardCharsets.UTF_8));
        assertFalse(it.hasNext());
      }

      // snapshot isolation
      try (Snapshot s = db.snapshot()) {
        ns.delete(b("k00000"));
        ns.put(b("a"), b("new"));
        assertEquals(Arrays.asList("k00000", "k00001"),
            keys(db.rangeIterator(ns, s, null, b("k00002"), false)));
        assertEquals(Arrays.asList("a", "k00001"),
            keys(db.rangeIterator(ns, null, null, b("k00002"), false)));
      }

      // unordered namespaces and iterators
      assertThrows(FirkinException.InvalidArgument.class,
          () -> db.rangeIterator(plain, null, null, null, false));
      assertThrows(FirkinException.InvalidArgument.class,
          () -> db.prefixIterator(null, null, b("k"), false));
      try (FirkinIterator hashed = ns.iterator()) {
        assertFalse(hashed.isOrdered());
        assertThrows(FirkinException.InvalidArgument.class, () -> hashed.seek(b("k")));
        assertEquals(3000, keys(hashed).size());
      }

      // in a transaction: its own writes, in order
      try (Transaction tx = db.beginTransaction()) {
        tx.put(ns, b("k00000"), b("back"));
        tx.delete(ns, b("k00001"));
        assertEquals(Arrays.asList("k00002", "k00000", "a"),
            keys(tx.rangeIterator(ns, b("a"), b("k00003"), true)));
        assertEquals(Arrays.asList("k00000", "k00002"),
            keys(tx.prefixIterator(ns, b("k0000"), false)).subList(0, 2));
        assertThrows(FirkinException.InvalidArgument.class,
            () -> tx.rangeIterator(plain, null, null, false));
        tx.rollback();
      }
    }
    // the property survives a reopen
    try (Firkin db = Firkin.open(path); Namespace ns = db.openNamespace("o", false)) {
      assertTrue(ns.isOrdered());
      assertEquals(Arrays.asList("a", "k00001"),
          keys(db.rangeIterator(ns, null, null, b("k00002"), false)));
    }
  }
}
