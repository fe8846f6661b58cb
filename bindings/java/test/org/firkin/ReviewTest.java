package org.firkin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Strings reach C as true UTF-8 (not JNI's modified UTF-8), a NUL in one is
 * refused, and a failing multi-get key keeps the library's message.
 */
class ReviewTest {
  @TempDir Path tmp;

  static final String SMILE = "\uD83D\uDE00"; // U+1F600, outside the BMP

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void nonBmpPathIsUtf8OnDisk() throws Exception {
    Path p = tmp.resolve("db-" + SMILE);
    try (Firkin db = Firkin.open(p.toString())) {
      db.put(b("k"), b("v"));
    }
    // Modified UTF-8 would have made "db-\355\240\275\355\270\200" (CESU-8).
    assertTrue(Files.isDirectory(p), "no directory " + p);
    try (Stream<Path> s = Files.list(tmp)) {
      List<String> names = s.map(x -> x.getFileName().toString()).collect(Collectors.toList());
      assertEquals(List.of("db-" + SMILE), names);
    }
    try (Firkin db = Firkin.open(p.toString())) {
      assertArrayEquals(b("v"), db.get(b("k")));
    }
    // A message that names the path comes back intact too.
    Path f = tmp.resolve("file-" + SMILE);
    Files.write(f, new byte[] {1});
    FirkinException e = assertThrows(FirkinException.class, () -> Firkin.open(f.toString()));
    assertTrue(e.getMessage().contains("file-" + SMILE), e.getMessage());
  }

  @Test
  void nonBmpNamespaceNameInMessage() {
    // Namespace names are [A-Za-z0-9_.-]: the library refuses this one, and its
    // message, which quotes the name it received, comes back intact.
    try (Firkin db = Firkin.open(tmp.resolve("db").toString())) {
      FirkinException e =
          assertThrows(FirkinException.InvalidArgument.class, () -> db.namespace("ns-" + SMILE));
      assertTrue(e.getMessage().contains("'ns-" + SMILE + "'"), e.getMessage());
    }
  }

  @Test
  void nonBmpPassphraseReopens() {
    String dir = tmp.resolve("enc").toString();
    String pass = "pw-" + SMILE;
    try (Options o = new Options().set("kdf_memory_kib", "64").set("kdf_passes", "1").passphrase(pass);
        Firkin db = Firkin.open(dir, o)) {
      db.put(b("k"), b("v"));
    }
    try (Options o = new Options().passphrase(pass); Firkin db = Firkin.open(dir, o)) {
      assertArrayEquals(b("v"), db.get(b("k")));
    }
  }

  /**
   * The review of the bindings' API: await ends soon after an interrupt (one
   * native wait ignored it for the whole timeout); a null batch or function is
   * InvalidArgument, not a NullPointerException.
   */
  @Test
  void awaitInterruptAndNullArguments() throws Exception {
    try (Firkin db = Firkin.open(tmp.resolve("db").toString());
        FirkinChanges c = db.changes(0)) {
      while (c.hasNext()) {
        c.next();
      }
      Thread.currentThread().interrupt();
      long t0 = System.nanoTime();
      assertFalse(c.await(10_000));
      assertTrue(Thread.interrupted(), "the interrupt flag stays set");
      assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "await ended soon after the interrupt");
      assertThrows(FirkinException.InvalidArgument.class, () -> db.write(null));
      assertThrows(FirkinException.InvalidArgument.class, () -> db.update(null));
    }
  }

  /** An unpaired surrogate has no UTF-8 form: refused, never written as '?'. */
  @Test
  void unpairedSurrogateIsInvalidArgument() throws Exception {
    for (String bad : new String[] {"a\uD800", "a\uDBFF", "a\uDC00b", "\uD800\uD800"}) {
      // (a String, not a Path: java.nio refuses such a name itself)
      assertThrows(FirkinException.InvalidArgument.class, () -> Firkin.open(tmp + "/" + bad));
    }
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(0, s.count(), "a directory was created");
    }
    try (Firkin db = Firkin.open(tmp.resolve("db-" + SMILE).toString())) {
      assertThrows(FirkinException.InvalidArgument.class, () -> db.namespace("n\uD800"));
      try (Options o = new Options()) {
        assertThrows(FirkinException.InvalidArgument.class, () -> o.passphrase("pw\uDFFF"));
      }
    }
  }

  /**
   * get(key, buf) with a large buf: the value is read through the thread's
   * buffer (a 32 MiB buf made a fresh direct buffer of 32 MiB per call), and a
   * value over 1 MiB that fits buf is still read whole; a null buf is
   * InvalidArgument, not a NullPointerException.
   */
  @Test
  void getIntoLargeBuffer() {
    try (Firkin db = Firkin.open(tmp.resolve("db").toString())) {
      db.put(b("small"), b("v"));
      byte[] big = new byte[3 << 20];
      for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
      db.put(b("big"), big);
      byte[] buf = new byte[32 << 20];
      for (int i = 0; i < 50; i++) {
        assertEquals(1, db.get(b("small"), buf));
        assertEquals('v', buf[0]);
      }
      assertEquals(big.length, db.get(b("big"), buf));
      assertArrayEquals(big, java.util.Arrays.copyOf(buf, big.length));
      assertEquals(big.length, db.get(b("big"), new byte[10]), "too small: the size");
      assertEquals(-1, db.get(b("absent"), buf));
      assertThrows(FirkinException.InvalidArgument.class, () -> db.get(b("small"), (byte[]) null));
    }
  }

  @Test
  void nulInStringsIsInvalidArgument() {
    Path real = tmp.resolve("real");
    assertThrows(FirkinException.InvalidArgument.class, () -> Firkin.open(real + "\0ignored"));
    assertThrows(FirkinException.InvalidArgument.class, () -> Firkin.verifyPath(real + "\0x", null));
    assertThrows(
        FirkinException.InvalidArgument.class, () -> Firkin.restore(real + "\0x", real.toString(), null));
    try (Options o = new Options()) {
      assertThrows(FirkinException.InvalidArgument.class, () -> Firkin.rekey(real + "\0x", o, o));
    }
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(0, s.count(), "a directory was created");
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    try (Firkin db = Firkin.open(tmp.resolve("db").toString())) {
      db.namespace("users").close();
      assertThrows(FirkinException.InvalidArgument.class, () -> db.dropNamespace("users\0archive"));
      assertThrows(FirkinException.InvalidArgument.class, () -> db.namespace("users\0x"));
      assertThrows(FirkinException.InvalidArgument.class, () -> db.createNamespace("users\0x"));
      assertTrue(db.namespaces().contains("users"));
      assertThrows(FirkinException.InvalidArgument.class, () -> db.backup(real + "\0x"));
    }
    try (Options o = new Options()) {
      assertThrows(FirkinException.InvalidArgument.class, () -> o.set("sync_mode\0x", "always"));
      assertThrows(FirkinException.InvalidArgument.class, () -> o.set("sync_mode", "always\0x"));
      assertThrows(FirkinException.InvalidArgument.class, () -> o.get("sync_mode\0x"));
    }
  }

  @Test
  void multiGetKeyErrorKeepsLibraryMessage() {
    try (Firkin db = Firkin.open(tmp.resolve("db").toString());
        Namespace ns = db.namespace("n");
        Snapshot snap = db.snapshot()) {
      byte[] big = new byte[65536];
      for (int round = 0; round < 3; round++) {
        final int r = round;
        FirkinException e =
            assertThrows(
                FirkinException.TooLarge.class,
                () -> {
                  if (r == 0) {
                    db.multiGet(b("a"), big);
                  } else if (r == 1) {
                    ns.multiGet(b("a"), big);
                  } else {
                    snap.multiGet(null, b("a"), big);
                  }
                });
        assertTrue(e.getMessage().startsWith("multi-get key 1: "), e.getMessage());
        assertTrue(e.getMessage().contains("65536"), e.getMessage());
      }
    }
  }

  @Test
  void multiGetNullKeyIsInvalidArgument() {
    try (Firkin db = Firkin.open(tmp.resolve("db").toString())) {
      assertThrows(FirkinException.InvalidArgument.class, () -> db.put(null, b("v")));
      FirkinException e =
          assertThrows(FirkinException.InvalidArgument.class, () -> db.multiGet(b("k"), null));
      assertTrue(e.getMessage().contains("key 1"), e.getMessage());
      assertThrows(FirkinException.InvalidArgument.class, () -> db.multiGet((byte[][]) null));
      assertNull(db.multiGet(b("k"))[0]);
    }
  }
}
