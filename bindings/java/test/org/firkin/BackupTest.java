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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupTest {
  @TempDir Path tmp;

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  String p(String name) {
    return tmp.resolve(name).toString();
  }

  @Test
  void backupHoldsTheSnapshotAndRestores() {
    try (Firkin db = Firkin.open(p("src"));
        Namespace users = db.namespace("users")) {
      db.put(b("k"), b("v1"));
      users.put(b("ada"), b("lovelace"));
      BackupReport rep = db.backup(p("bak"));
      assertTrue(rep.verified, rep.json);
      assertTrue(rep.seq > 0 && rep.segments > 0, rep.json);
      db.put(b("k"), b("v2"));
      db.put(b("later"), b("x"));
      try (Firkin copy = Firkin.open(p("bak"));
          Namespace cu = copy.namespace("users")) {
        assertArrayEquals(b("v1"), copy.get(b("k")));
        assertNull(copy.get(b("later")));
        assertArrayEquals(b("lovelace"), cu.get(b("ada")));
      }
      rep = db.backup(p("bak"));
      assertTrue(rep.kept > 0 || rep.segments == 1, rep.json);
      rep = db.backup(p("copy"), new BackupOptions().hardLinks(false).incremental(false).checkpoint(false));
      assertEquals(0, rep.linked, rep.json);
      assertFalse(rep.checkpoint, rep.json);
      rep = Firkin.restore(p("bak"), p("restored"), null);
      assertEquals(0, rep.linked, rep.json);
      try (Firkin r = Firkin.open(p("restored"))) {
        assertArrayEquals(b("x"), r.get(b("later")));
      }
      assertThrows(FirkinException.Exists.class, () -> Firkin.restore(p("bak"), p("restored"), null));
    }
  }

  @Test
  void refusals() throws Exception {
    try (Firkin db = Firkin.open(p("src"));
        Firkin other = Firkin.open(p("other"))) {
      db.put(b("a"), b("1"));
      assertThrows(FirkinException.InvalidArgument.class, () -> db.backup(p("src/inner")));
      Files.write(tmp.resolve("file"), b("x"));
      assertThrows(FirkinException.NotADatabase.class, () -> db.backup(p("file")));
      db.backup(p("bak"));
      assertThrows(FirkinException.Exists.class, () -> other.backup(p("bak")));
      Files.write(tmp.resolve("bak/BACKUP-INCOMPLETE"), new byte[0]);
      assertThrows(FirkinException.NotADatabase.class, () -> Firkin.open(p("bak")));
      assertThrows(FirkinException.NotADatabase.class,
          () -> Firkin.restore(p("bak"), p("r"), null));
      db.backup(p("bak"));
      assertFalse(Files.exists(tmp.resolve("bak/BACKUP-INCOMPLETE")));
      assertThrows(FirkinException.InvalidArgument.class, () -> new BackupOptions().set("nope", "1"));
      assertThrows(FirkinException.InvalidArgument.class, () -> new BackupOptions().set("verify", "x"));
      assertEquals("false", new BackupOptions().set("verify", "0").get("verify"));
    }
    Firkin closed = Firkin.open(p("src"));
    closed.close();
    assertThrows(FirkinException.Closed.class, () -> closed.backup(p("bak")));
  }
}
