package org.firkin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Encryption at rest: keys, passphrases, BadKey, rekey, bad input. */
class CryptTest {
  @TempDir Path tmp;

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] key(int base) {
    byte[] k = new byte[32];
    for (int i = 0; i < 32; i++) {
      k[i] = (byte) (base + i);
    }
    return k;
  }

  static Options withKey(byte[] k) {
    return new Options().encryptionKey(k);
  }

  static Options withPass(String p) {
    return new Options().passphrase(p).set("kdf_memory_kib", "64").set("kdf_passes", "1");
  }

  @Test
  void keysAndRekey() {
    String dir = tmp.resolve("db").toString();
    try (Options o = withKey(key(1)); Firkin db = Firkin.open(dir, o)) {
      db.put(b("k"), b("v"));
    }
    assertTrue(Files.exists(tmp.resolve("db").resolve("KEYS")));
    assertThrows(FirkinException.BadKey.class, () -> Firkin.open(dir).close());
    try (Options o = withKey(key(50))) {
      FirkinException e = assertThrows(FirkinException.BadKey.class, () -> Firkin.open(dir, o));
      assertEquals(Status.BAD_KEY, Status.of(e.code()));
    }
    try (Options old = withKey(key(1)); Options neu = withPass("new pass")) {
      Firkin.rekey(dir, old, neu);
      assertThrows(FirkinException.BadKey.class, () -> Firkin.open(dir, old));
      try (Firkin db = Firkin.open(dir, neu)) {
        assertArrayEquals(b("v"), db.get(b("k")));
      }
    }
  }

  @Test
  void badInput() {
    try (Options o = new Options()) {
      assertThrows(FirkinException.InvalidArgument.class, () -> o.encryptionKey(new byte[31]));
      assertThrows(FirkinException.InvalidArgument.class, () -> o.encryptionKey(null));
      assertThrows(FirkinException.InvalidArgument.class, () -> o.passphrase(""));
      assertThrows(FirkinException.InvalidArgument.class, () -> o.passphrase("a\0b"));
      assertEquals("none", o.get("encryption"));
      assertThrows(FirkinException.InvalidArgument.class, () -> Firkin.rekey("x", null, o));
    }
  }
}
