package org.firkin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The conformance runner of the Java binding: executes tests/conformance/*.case
 * (format: tests/README.md) through org.firkin. Commands use the public API
 * where it has the operation (a FirkinException's code is the command's
 * status; null / false / 0 "absent" results are NOT_FOUND or
 * CONDITION_FAILED); commands about raw C details (iter_valid/next/key/value/
 * status, iter_next_n, typed option accessors, multi_get_packed) use the raw
 * SWIG layer. Prints failures and "N passed, N failed" (cases).
 *
 * <p>Usage: java org.firkin.ConformanceRunner CASES_DIR [CASE]
 */
public final class ConformanceRunner {
  static final String[] STATUS = {
    "OK", "NOT_FOUND", "INVALID_ARGUMENT", "IO", "CORRUPTION", "BUSY", "READ_ONLY",
    "CONDITION_FAILED", "CONFLICT", "NO_SPACE", "NO_MEMORY", "TOO_LARGE", "BUFFER_TOO_SMALL",
    "CLOSED", "VERSION", "SNAPSHOT_TOO_OLD", "NAMESPACE_NOT_FOUND", "EXISTS", "NOT_A_DATABASE",
    "NOT_SUPPORTED", "INTERNAL", "BAD_KEY"
  };

  static final Set<String> NUMERIC = Set.of("sync_interval_ms", "segment_size", "compact_dead_ratio",
      "compact_space_amp", "compact_rate", "checkpoint_every");

  static int statusCode(String name) {
    for (int i = 0; i < STATUS.length; i++) {
      if (STATUS[i].equals(name)) {
        return -i;
      }
    }
    throw new Fail("unknown status " + name);
  }

  static String statusName(int code) {
    return code <= 0 && code >= -20 ? STATUS[-code] : Integer.toString(code);
  }

  /** A failed check (not a status mismatch). */
  static final class Fail extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Fail(String m) {
      super(m);
    }
  }

  enum Kind { BARE, BYTES, MOD, ARROW, BANG }

  static final class Tok {
    final Kind kind;
    final byte[] b;
    final String text;
    final String val;

    Tok(Kind kind, byte[] b, String text, String val) {
      this.kind = kind;
      this.b = b;
      this.text = text;
      this.val = val;
    }

    String str() {
      return kind == Kind.BARE ? text : new String(b, StandardCharsets.ISO_8859_1);
    }

    String utf8() {
      return kind == Kind.BARE ? text : new String(b, StandardCharsets.UTF_8);
    }
  }

  static boolean isBare(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
  }

  static byte[] unhex(String s) {
    if (s.length() % 2 != 0) {
      throw new Fail("odd hex " + s);
    }
    byte[] out = new byte[s.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    }
    return out;
  }

  static List<Tok> tokenize(String line) {
    if (line.endsWith("\r")) {
      line = line.substring(0, line.length() - 1);
    }
    List<Tok> toks = new ArrayList<>();
    int i = 0;
    int n = line.length();
    for (;;) {
      while (i < n && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
        i++;
      }
      if (i >= n || line.charAt(i) == '#') {
        return toks;
      }
      if (line.charAt(i) == '"') {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        i++;
        for (;;) {
          if (i >= n) {
            throw new Fail("unterminated quote");
          }
          char c = line.charAt(i);
          if (c == '"') {
            i++;
            break;
          }
          if (c == '\\' && i + 1 < n) {
            char e = line.charAt(++i);
            switch (e) {
              case '\\': b.write('\\'); break;
              case '"': b.write('"'); break;
              case 'n': b.write('\n'); break;
              case 't': b.write('\t'); break;
              case 'r': b.write('\r'); break;
              case '0': b.write(0); break;
              case 'x':
                b.writeBytes(unhex(line.substring(i + 1, i + 3)));
                i += 2;
                break;
              default:
                b.write('\\');
                b.writeBytes(String.valueOf(e).getBytes(StandardCharsets.UTF_8));
            }
            i++;
            continue;
          }
          b.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
          i++;
        }
        if (i < n && line.charAt(i) != ' ' && line.charAt(i) != '\t') {
          throw new Fail("text after closing quote");
        }
        toks.add(new Tok(Kind.BYTES, b.toByteArray(), null, null));
        continue;
      }
      int j = i;
      while (j < n && line.charAt(j) != ' ' && line.charAt(j) != '\t') {
        j++;
      }
      String w = line.substring(i, j);
      i = j;
      if (w.equals("->")) {
        toks.add(new Tok(Kind.ARROW, null, w, null));
      } else if (w.startsWith("!")) {
        toks.add(new Tok(Kind.BANG, null, w.substring(1), null));
      } else if (w.startsWith("hex:")) {
        toks.add(new Tok(Kind.BYTES, unhex(w.substring(4)), null, null));
      } else if (w.startsWith("rep:")) {
        String[] p = w.split(":");
        byte[] v = new byte[Integer.parseInt(p[1])];
        Arrays.fill(v, unhex(p[2])[0]);
        toks.add(new Tok(Kind.BYTES, v, null, null));
      } else if (w.indexOf('=') >= 0) {
        int k = w.indexOf('=');
        toks.add(new Tok(Kind.MOD, null, w.substring(0, k), w.substring(k + 1)));
      } else {
        for (int k = 0; k < w.length(); k++) {
          if (!isBare(w.charAt(k))) {
            throw new Fail("bad token " + w);
          }
        }
        toks.add(new Tok(Kind.BARE, w.getBytes(StandardCharsets.UTF_8), w, null));
      }
    }
  }

  /** A command's outcome: status and, when it came from an exception, its message. */
  static final class Outcome {
    final int st;
    final String msg;
    final boolean fromError;

    Outcome(int st, String msg, boolean fromError) {
      this.st = st;
      this.msg = msg;
      this.fromError = fromError;
    }
  }

  static final Outcome OK = new Outcome(0, "", false);

  static Outcome status(int st) {
    return new Outcome(st, "", false);
  }

  interface Body {
    Outcome run();
  }

  static Outcome guarded(Body b) {
    try {
      return b.run();
    } catch (FirkinException e) {
      return new Outcome(e.code(), e.getMessage() == null ? "" : e.getMessage(), true);
    }
  }

  static final class IterState {
    final FirkinIterator it;
    final int slot;
    final List<String> got = new ArrayList<>();

    IterState(FirkinIterator it, int slot) {
      this.it = it;
      this.slot = slot;
    }
  }

  // --- per-case state ---
  Path dir;
  Options opts;
  WriteOptions wo;
  final Firkin[] dbs = new Firkin[3];
  final Map<String, Namespace> ns = new HashMap<>();
  final Map<String, Integer> nsSlot = new HashMap<>();
  final Map<String, Snapshot> snaps = new HashMap<>();
  final Map<String, Integer> snapSlot = new HashMap<>();
  final Map<String, IterState> iters = new HashMap<>();
  final Map<String, Batch> batches = new HashMap<>();
  final Map<String, Transaction> txns = new HashMap<>();
  final Map<String, Integer> txnSlot = new HashMap<>();
  final Map<String, Long> vars = new HashMap<>();

  BackupOptions bopts = new BackupOptions();

  void reset(Path d) {
    dir = d;
    opts = new Options();
    bopts = new BackupOptions();
    wo = null;
  }

  String sub(Tok t) {
    return t.utf8().equals(".") ? dir.toString() : dir.resolve(t.utf8()).toString();
  }

  void closeAll() {
    iters.values().forEach(s -> s.it.close());
    txns.values().forEach(Transaction::close);
    txns.clear();
    txnSlot.clear();
    snaps.values().forEach(Snapshot::close);
    ns.values().forEach(Namespace::close);
    batches.values().forEach(Batch::close);
    for (int i = 0; i < dbs.length; i++) {
      if (dbs[i] != null) {
        try {
          dbs[i].close();
        } catch (FirkinException e) {
          // the case is over
        }
        dbs[i] = null;
      }
    }
    iters.clear();
    snaps.clear();
    ns.clear();
    batches.clear();
    vars.clear();
    nsSlot.clear();
    snapSlot.clear();
    if (opts != null) {
      opts.close();
    }
    if (wo != null) {
      wo.close();
    }
    opts = null;
    wo = null;
  }

  Outcome closeSlot(int slot) {
    iters.entrySet().removeIf(e -> {
      if (e.getValue().slot == slot) {
        e.getValue().it.close();
        return true;
      }
      return false;
    });
    txns.entrySet().removeIf(e -> {
      if (txnSlot.get(e.getKey()) == slot) {
        e.getValue().close();
        return true;
      }
      return false;
    });
    snaps.entrySet().removeIf(e -> {
      if (snapSlot.get(e.getKey()) == slot) {
        e.getValue().close();
        return true;
      }
      return false;
    });
    ns.entrySet().removeIf(e -> {
      if (nsSlot.get(e.getKey()) == slot) {
        e.getValue().close();
        return true;
      }
      return false;
    });
    Firkin db = dbs[slot];
    dbs[slot] = null;
    if (db == null) {
      return OK;
    }
    return guarded(() -> {
      db.close();
      return OK;
    });
  }

  long number(Tok t) {
    try {
      return Long.parseUnsignedLong(t.text);
    } catch (NumberFormatException e) {
      Long v = vars.get(t.text);
      if (v == null) {
        throw new Fail("variable " + t.text + " used before it was bound");
      }
      return v;
    }
  }

  static boolean bool(String s) {
    if (s.equals("true")) {
      return true;
    }
    if (s.equals("false")) {
      return false;
    }
    throw new Fail("bad boolean " + s);
  }

  static long syncModeOf(String s) {
    switch (s) {
      case "none": return 0;
      case "interval": return 1;
      case "always": return 2;
      case "default": return -1;
      default:
        try {
          return Long.parseLong(s);
        } catch (NumberFormatException e) {
          throw new Fail("bad sync mode " + s);
        }
    }
  }

  static String syncModeName(long v) {
    if (v == 0) return "none";
    if (v == 1) return "interval";
    if (v == 2) return "always";
    if (v == -1) return "default";
    return Long.toString(v);
  }

  static String norm(String s) {
    if (s.equals("true") || s.equals("1")) return "true";
    if (s.equals("false") || s.equals("0")) return "false";
    long mult = 1;
    String t = s;
    if (t.length() > 1) {
      char c = t.charAt(t.length() - 1);
      if (c == 'K') mult = 1L << 10;
      if (c == 'M') mult = 1L << 20;
      if (c == 'G') mult = 1L << 30;
      if (mult != 1) t = t.substring(0, t.length() - 1);
    }
    try {
      return Long.toUnsignedString(Long.parseUnsignedLong(t) * mult);
    } catch (NumberFormatException e) {
      return s;
    }
  }

  int slotOf(Map<String, String> mods) {
    return "2".equals(mods.get("db")) ? 2 : 1;
  }

  Firkin db(Map<String, String> mods) {
    Firkin d = dbs[slotOf(mods)];
    if (d == null) {
      throw new Fail("database slot " + slotOf(mods) + " is not open");
    }
    return d;
  }

  Namespace nso(Map<String, String> mods) {
    String name = mods.get("ns");
    if (name == null) {
      return null;
    }
    Namespace n = ns.get(name);
    if (n == null) {
      throw new Fail("namespace handle " + name + " used before it was bound");
    }
    return n;
  }

  Transaction txn(String name) {
    Transaction t = txns.get(name);
    if (t == null) {
      throw new Fail("transaction " + name + " used before it was bound");
    }
    return t;
  }

  SWIGTYPE_p_firkin_ns nsh(Map<String, String> mods) {
    String name = mods.get("ns");
    if (name == null) {
      return null;
    }
    Namespace n = ns.get(name);
    if (n == null) {
      throw new Fail("namespace handle " + name + " used before it was bound");
    }
    return n.handle();
  }

  Namespace nsObj(Map<String, String> mods) {
    String name = mods.get("ns");
    if (name == null) {
      return null;
    }
    Namespace n = ns.get(name);
    if (n == null) {
      throw new Fail("namespace handle " + name + " used before it was bound");
    }
    return n;
  }

  Snapshot snapo(Map<String, String> mods) {
    String name = mods.get("snap");
    if (name == null) {
      return null;
    }
    Snapshot s = snaps.get(name);
    if (s == null) {
      throw new Fail("snapshot " + name + " used before it was bound");
    }
    return s;
  }

  /** The optional trailing "reverse" argument at position i. */
  static boolean reverseArg(List<Tok> a, int i) {
    if (a.size() <= i) {
      return false;
    }
    if (!"reverse".equals(a.get(i).text)) {
      throw new Fail("expected 'reverse', got " + a.get(i).utf8());
    }
    return true;
  }

  void newIter(String name, FirkinIterator it, int slot) {
    if (iters.containsKey(name)) {
      it.close();
      throw new Fail("iterator " + name + " exists");
    }
    iters.put(name, new IterState(it, slot));
  }

  SWIGTYPE_p_firkin_snapshot snaph(Map<String, String> mods) {
    String name = mods.get("snap");
    if (name == null) {
      return null;
    }
    Snapshot s = snaps.get(name);
    if (s == null) {
      throw new Fail("snapshot " + name + " used before it was bound");
    }
    return s.handle();
  }

  IterState iter(String name) {
    IterState s = iters.get(name);
    if (s == null) {
      throw new Fail("iterator " + name + " used before it was bound");
    }
    return s;
  }

  Batch batch(String name) {
    Batch b = batches.get(name);
    if (b == null) {
      throw new Fail("batch " + name + " used before it was bound");
    }
    return b;
  }

  static void args(List<Tok> a, int lo, int hi) {
    if (a.size() < lo || a.size() > hi) {
      throw new Fail("wrong number of arguments (" + a.size() + ")");
    }
  }

  static void eq(String what, byte[] got, byte[] want) {
    if (!Arrays.equals(got, want)) {
      throw new Fail(what + ": got " + show(got) + ", want " + show(want));
    }
  }

  static String show(byte[] b) {
    if (b == null) {
      return "null";
    }
    StringBuilder s = new StringBuilder("\"");
    for (int i = 0; i < Math.min(b.length, 64); i++) {
      int c = b[i] & 0xff;
      s.append(c >= 32 && c < 127 ? Character.toString((char) c) : String.format("\\x%02x", c));
    }
    return s.append(b.length > 64 ? "...\"" : "\"").toString();
  }

  static String entry(byte[] k, byte[] v) {
    return show(k) + "=" + show(v);
  }

  static List<String> decode(ByteBuffer b, int used) {
    List<String> out = new ArrayList<>();
    b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    b.position(0).limit(used);
    while (b.hasRemaining()) {
      if (b.remaining() < 8) {
        throw new Fail("truncated next_n entry");
      }
      int kl = b.getInt();
      int vl = b.getInt();
      if (b.remaining() < kl + vl) {
        throw new Fail("truncated next_n entry");
      }
      byte[] k = new byte[kl];
      byte[] v = new byte[vl];
      b.get(k).get(v);
      out.add(entry(k, v));
    }
    return out;
  }

  static ByteBuffer guarded(int cap) {
    ByteBuffer b = ByteBuffer.allocateDirect(cap + 16).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < cap + 16; i++) {
      b.put(i, (byte) 0xA5);
    }
    return b;
  }

  static void checkGuard(ByteBuffer b, int from, int to, String what) {
    for (int i = from; i < to; i++) {
      if (b.get(i) != (byte) 0xA5) {
        throw new Fail(what);
      }
    }
  }

  Outcome run(String cmd, List<Tok> a, Map<String, String> mods) {
    switch (cmd) {
      case "opt_reset":
        opts.close();
        opts = new Options();
        return OK;
      case "opt_set":
        args(a, 2, 2);
        opts.set(a.get(0).utf8(), a.get(1).utf8());
        return OK;
      case "opt_get": {
        args(a, 1, 2);
        String v = opts.get(a.get(0).utf8());
        if (a.size() == 2 && !norm(v).equals(norm(a.get(1).utf8()))) {
          throw new Fail("opt_get " + a.get(0).text + ": got " + v);
        }
        return OK;
      }
      case "opt_set_typed": {
        args(a, 2, 2);
        String name = a.get(0).text;
        String val = a.get(1).text;
        long v;
        if (name.equals("sync_mode")) {
          v = syncModeOf(val);
        } else if (NUMERIC.contains(name)) {
          v = Long.parseUnsignedLong(val);
        } else {
          v = bool(val) ? 1 : 0;
        }
        opts.setTyped(name, v);
        return OK;
      }
      case "opt_get_typed": {
        args(a, 1, 2);
        String name = a.get(0).text;
        long v = opts.getTyped(name);
        if (a.size() == 2) {
          String got;
          if (name.equals("sync_mode")) {
            got = syncModeName(v);
          } else if (NUMERIC.contains(name)) {
            got = Long.toUnsignedString(v);
          } else {
            got = v != 0 ? "true" : "false";
          }
          if (!got.equals(a.get(1).text)) {
            throw new Fail("opt_get_typed " + name + ": got " + got);
          }
        }
        return OK;
      }
      case "wo_set_sync":
      case "wo_get_sync": {
        if (wo == null) {
          wo = new WriteOptions();
        }
        if (cmd.equals("wo_set_sync")) {
          args(a, 1, 1);
          FirkinNative.firkin_write_options_set_sync(wo.handle(), (int) syncModeOf(a.get(0).text));
          return OK;
        }
        args(a, 0, 1);
        String got = wo.sync().toString();
        if (a.size() == 1 && !got.equals(a.get(0).text)) {
          throw new Fail("wo_get_sync: got " + got);
        }
        return OK;
      }
      case "wo_reset":
        if (wo != null) {
          wo.close();
        }
        wo = null;
        return OK;
      case "open":
      case "open2": {
        args(a, 0, 1);
        int slot = cmd.equals("open2") ? 2 : 1;
        String path = a.isEmpty() ? dir.toString() : dir.resolve(a.get(0).utf8()).toString();
        Firkin d = Firkin.open(path, opts);
        if (dbs[slot] != null) {
          closeSlot(slot);
        }
        dbs[slot] = d;
        return OK;
      }
      case "close":
        return closeSlot(1);
      case "close2":
        return closeSlot(2);
      case "close_db": {
        Firkin d = dbs[1];
        dbs[1] = null;
        if (d == null) {
          throw new Fail("no database in slot 1");
        }
        d.close();
        return OK;
      }
      case "free_children":
        iters.values().forEach(s -> s.it.close());
        txns.values().forEach(Transaction::close);
        txns.clear();
        snaps.values().forEach(Snapshot::close);
        ns.values().forEach(Namespace::close);
        iters.clear();
        snaps.clear();
        ns.clear();
        return OK;
      case "reopen": {
        Outcome o = closeSlot(1);
        if (o.st != 0) {
          return o;
        }
        dbs[1] = Firkin.open(dir.toString(), opts);
        return OK;
      }
      case "sync":
        db(mods).sync();
        return OK;
      case "refresh":
        db(mods).refresh();
        return OK;
      case "compact":
        db(mods).compact();
        return OK;
      case "checkpoint":
        db(mods).checkpoint();
        return OK;
      case "backup_opt":
        args(a, 2, 2);
        bopts.set(a.get(0).utf8(), a.get(1).utf8());
        return OK;
      case "backup_opt_get": {
        args(a, 1, 2);
        String v = bopts.get(a.get(0).utf8());
        if (a.size() == 2 && !norm(v).equals(norm(a.get(1).utf8()))) {
          throw new Fail("backup option " + a.get(0).text + ": expected " + a.get(1).text + ", got " + v);
        }
        return OK;
      }
      case "backup":
      case "restore": {
        BackupReport rep;
        List<Tok> fields;
        if (cmd.equals("backup")) {
          args(a, 1, 100);
          rep = db(mods).backup(sub(a.get(0)), bopts);
          fields = a.subList(1, a.size());
        } else {
          args(a, 2, 100);
          rep = Firkin.restore(sub(a.get(0)), sub(a.get(1)), bopts);
          fields = a.subList(2, a.size());
        }
        for (Tok f : fields) {
          if (!rep.json.contains("\"" + f.text + "\"")) {
            throw new Fail("backup report has no member " + f.text);
          }
        }
        return OK;
      }
      case "verify":
      case "verify_path": {
        String js;
        List<Tok> fields = a;
        if (cmd.equals("verify")) {
          js = db(mods).verify().trim();
        } else {
          args(a, 1, 100);
          js = Firkin.verifyPath(dir.resolve(a.get(0).utf8()).toString(), opts).trim();
          fields = a.subList(1, a.size());
        }
        if (!js.startsWith("{") || !js.endsWith("}")) {
          throw new Fail("verify report is not a JSON object: " + js);
        }
        for (Tok f : fields) {
          if (!js.contains("\"" + f.text + "\"")) {
            throw new Fail("verify report has no member " + f.text);
          }
        }
        return OK;
      }
      case "last_seq":
        args(a, 1, 1);
        vars.put(a.get(0).text, db(mods).lastSeq());
        return OK;
      case "changes": {
        if (a.isEmpty() || (a.size() - 1) % 5 != 0) {
          throw new Fail("changes needs SINCE then TYPE SEQ NS KEY VALUE groups");
        }
        try (FirkinChanges c = db(mods).changes(number(a.get(0)), true)) {
          int i = 1;
          while (c.hasNext()) {
            FirkinChanges.Change ch = c.next();
            if (i >= a.size()) {
              throw new Fail("change " + ch + " beyond the " + (a.size() - 1) / 5 + " expected");
            }
            String type = ch.type.name().toLowerCase(java.util.Locale.ROOT);
            if (!type.equals(a.get(i).text) || ch.seq != number(a.get(i + 1))) {
              throw new Fail("change " + (i - 1) / 5 + ": expected " + a.get(i).text + " at "
                  + a.get(i + 1).text + ", got " + type + " at " + ch.seq);
            }
            if (!java.util.Arrays.equals(
                    ch.namespace.getBytes(java.nio.charset.StandardCharsets.UTF_8), a.get(i + 2).b)
                || !java.util.Arrays.equals(ch.key, a.get(i + 3).b)
                || !java.util.Arrays.equals(ch.value, a.get(i + 4).b)) {
              throw new Fail("change " + (i - 1) / 5 + " (" + ch + "): namespace, key or value differs");
            }
            i += 5;
          }
          if (i != a.size()) {
            throw new Fail("the feed gave " + (i - 1) / 5 + " changes, expected " + (a.size() - 1) / 5);
          }
        }
        return OK;
      }
      case "changes_position": {
        args(a, 2, 2);
        try (FirkinChanges cur = db(mods).changes(number(a.get(0)))) {
          while (cur.hasNext()) {
            cur.next();
          }
          long p = cur.position();
          if (p != number(a.get(1))) {
            throw new Fail("cursor position: expected " + number(a.get(1)) + ", got " + p);
          }
        }
        return OK;
      }
      case "changes_oldest": {
        args(a, 0, 1);
        long v = db(mods).oldestChangeSeq();
        if (a.size() == 1 && v != number(a.get(0))) {
          throw new Fail("oldest retained change: expected " + number(a.get(0)) + ", got " + v);
        }
        return OK;
      }
      case "stats": {
        String js = db(mods).stats().trim();
        if (!js.startsWith("{") || !js.endsWith("}")) {
          throw new Fail("stats is not a JSON object: " + js);
        }
        for (Tok f : a) {
          if (!js.contains("\"" + f.text + "\"")) {
            throw new Fail("stats has no member " + f.text);
          }
        }
        return OK;
      }
      case "put":
        args(a, 2, 2);
        FirkinNative.firkin_put(db(mods).handle(), wo == null ? null : wo.handle(), nsh(mods), a.get(0).b, a.get(1).b);
        return OK;
      case "get": {
        args(a, 1, 2);
        byte[] v = Ops.get(db(mods).handle(), snaph(mods), nsh(mods), a.get(0).b);
        if (v == null) {
          return status(-1);
        }
        if (a.size() == 2) {
          eq("get", v, a.get(1).b);
        }
        return OK;
      }
      case "get_into": {
        args(a, 2, 4);
        int cap = (int) number(a.get(1));
        ByteBuffer buf = guarded(cap);
        long[] n = new long[1];
        Outcome o = guarded(() -> {
          FirkinNative.fkb_get(db(mods).handle(), snaph(mods), nsh(mods), a.get(0).b, buf.slice(0, cap), n);
          return OK;
        });
        checkGuard(buf, cap, cap + 16, "get_into wrote past CAP");
        if (o.st != 0) {
          return o;
        }
        if (n[0] < 0) {
          return status(-1);
        }
        int st = n[0] > cap ? -12 : 0;
        if (a.size() >= 3 && n[0] != number(a.get(2))) {
          throw new Fail("get_into: len " + n[0]);
        }
        if (st == -12) {
          checkGuard(buf, 0, cap, "get_into touched the buffer on BUFFER_TOO_SMALL");
          return new Outcome(-12, "buffer too small", false);
        }
        if (a.size() == 4) {
          byte[] v = new byte[(int) n[0]];
          buf.get(0, v);
          eq("get_into", v, a.get(3).b);
        }
        return OK;
      }
      case "contains": {
        args(a, 1, 2);
        boolean f = Ops.contains(db(mods).handle(), snaph(mods), nsh(mods), a.get(0).b);
        if (a.size() == 2 && f != bool(a.get(1).text)) {
          throw new Fail("contains: got " + f);
        }
        return OK;
      }
      case "get_version": {
        args(a, 1, 2);
        long v = Ops.version(db(mods).handle(), snaph(mods), nsh(mods), a.get(0).b);
        if (v == 0) {
          return status(-1);
        }
        if (a.size() == 2) {
          vars.put(a.get(1).text, v);
        }
        return OK;
      }
      case "delete":
        args(a, 1, 1);
        FirkinNative.firkin_delete(db(mods).handle(), wo == null ? null : wo.handle(), nsh(mods), a.get(0).b);
        return OK;
      case "put_if_absent":
      case "cas":
      case "cas_version": {
        long[] n = new long[1];
        SWIGTYPE_p_firkin_write_options w = wo == null ? null : wo.handle();
        if (cmd.equals("put_if_absent")) {
          args(a, 2, 2);
          FirkinNative.fkb_put_if_absent(db(mods).handle(), w, nsh(mods), a.get(0).b, a.get(1).b, n);
        } else if (cmd.equals("cas")) {
          args(a, 3, 3);
          FirkinNative.fkb_cas(db(mods).handle(), w, nsh(mods), a.get(0).b, a.get(1).b, a.get(2).b, n);
        } else {
          args(a, 3, 3);
          FirkinNative.fkb_cas_version(db(mods).handle(), w, nsh(mods), a.get(0).b, number(a.get(1)), a.get(2).b, n);
        }
        return n[0] == 1 ? OK : status(-7);
      }
      case "multi_get":
      case "multi_get_packed": {
        if (a.size() % 2 != 0) {
          throw new Fail("multi_get needs key/expectation pairs");
        }
        byte[][] keys = new byte[a.size() / 2][];
        for (int i = 0; i < keys.length; i++) {
          keys[i] = a.get(2 * i).b;
        }
        if (cmd.equals("multi_get")) {
          Snapshot s = mods.containsKey("snap") ? snaps.get(mods.get("snap")) : null;
          Namespace n = nsObj(mods);
          byte[][] vals = s != null ? s.multiGet(n, keys)
              : n != null ? n.multiGet(keys) : db(mods).multiGet(keys);
          for (int i = 0; i < keys.length; i++) {
            Tok exp = a.get(2 * i + 1);
            if (exp.kind == Kind.BANG) {
              if (statusCode(exp.text) != -1 || vals[i] != null) {
                throw new Fail("multi_get key " + show(keys[i]) + ": got " + show(vals[i]));
              }
            } else {
              eq("multi_get " + show(keys[i]), vals[i], exp.b);
            }
          }
          return OK;
        }
        ByteBuffer out = Ops.multiGetRaw(db(mods).handle(), snaph(mods), nsh(mods), keys);
        for (int i = 0; i < keys.length; i++) {
          Tok exp = a.get(2 * i + 1);
          int st = out.getInt();
          if (st == 0) {
            byte[] v = new byte[out.getInt()];
            out.get(v);
            if (exp.kind == Kind.BANG) {
              throw new Fail("multi_get_packed key " + show(keys[i]) + ": OK, want !" + exp.text);
            }
            eq("multi_get_packed", v, exp.b);
          } else if (exp.kind != Kind.BANG || statusCode(exp.text) != st) {
            throw new Fail("multi_get_packed key " + show(keys[i]) + ": status " + statusName(st));
          }
        }
        if (out.hasRemaining()) {
          throw new Fail("multi_get_packed: bytes left over");
        }
        return OK;
      }
      case "put_range":
      case "get_range":
      case "delete_range": {
        String pre = a.get(0).str();
        long from = number(a.get(1));
        long to = number(a.get(2));
        int want = mods.containsKey("->") ? statusCode(mods.get("->")) : 0;
        Firkin d = db(mods);
        for (long i = from; i < to; i++) {
          byte[] k = (pre + i).getBytes(StandardCharsets.ISO_8859_1);
          long ii = i;
          if (cmd.equals("put_range")) {
            Outcome o = guarded(() -> {
              FirkinNative.firkin_put(d.handle(), wo == null ? null : wo.handle(), nsh(mods), k,
                  (a.get(3).str() + ii).getBytes(StandardCharsets.ISO_8859_1));
              return OK;
            });
            if (o.st != 0) {
              return o;
            }
          } else if (cmd.equals("delete_range")) {
            Outcome o = guarded(() -> {
              FirkinNative.firkin_delete(d.handle(), wo == null ? null : wo.handle(), nsh(mods), k);
              return OK;
            });
            if (o.st != 0) {
              return o;
            }
          } else {
            byte[][] v = new byte[1][];
            Outcome o = guarded(() -> {
              v[0] = Ops.get(d.handle(), snaph(mods), nsh(mods), k);
              return v[0] == null ? status(-1) : OK;
            });
            if (o.st != want) {
              return o;
            }
            if (o.st == 0 && a.size() == 4) {
              eq("get_range " + show(k), v[0], (a.get(3).str() + i).getBytes(StandardCharsets.ISO_8859_1));
            }
          }
        }
        return cmd.equals("get_range") ? status(want) : OK;
      }
      case "batch_new": {
        args(a, 1, 1);
        Batch b = new Batch();
        Batch old = batches.put(a.get(0).text, b);
        if (old != null) {
          old.close();
        }
        return OK;
      }
      case "batch_put":
        args(a, 3, 3);
        batch(a.get(0).text).put(nsObj(mods), a.get(1).b, a.get(2).b);
        return OK;
      case "batch_delete":
        args(a, 2, 2);
        batch(a.get(0).text).delete(nsObj(mods), a.get(1).b);
        return OK;
      case "batch_clear":
        batch(a.get(0).text).clear();
        return OK;
      case "batch_count": {
        args(a, 1, 2);
        long n = batch(a.get(0).text).count();
        if (a.size() == 2 && n != number(a.get(1))) {
          throw new Fail("batch_count: got " + n);
        }
        return OK;
      }
      case "write":
        args(a, 1, 1);
        db(mods).write(wo, batch(a.get(0).text));
        return OK;
      case "batch_free": {
        args(a, 1, 1);
        Batch b = batch(a.get(0).text);
        batches.remove(a.get(0).text);
        b.close();
        return OK;
      }
      case "ns_open":
      case "ns_create":
      case "ns_create_ordered": {
        String name = a.get(0).utf8();
        String h = name;
        Namespace n;
        if (cmd.equals("ns_open")) {
          args(a, 2, 3);
          n = db(mods).openNamespace(name, bool(a.get(1).text));
          if (a.size() == 3) {
            h = a.get(2).text;
          }
        } else {
          args(a, 1, 2);
          n = cmd.equals("ns_create_ordered")
              ? db(mods).createNamespaceOrdered(name)
              : db(mods).createNamespace(name);
          if (a.size() == 2) {
            h = a.get(1).text;
          }
        }
        Namespace old = ns.put(h, n);
        if (old != null) {
          old.close();
        }
        nsSlot.put(h, slotOf(mods));
        return OK;
      }
      case "ns_drop":
        args(a, 1, 1);
        db(mods).dropNamespace(a.get(0).utf8());
        return OK;
      case "ns_list": {
        List<String> got = new ArrayList<>(db(mods).namespaces());
        List<String> want = a.stream().map(Tok::utf8).sorted().collect(Collectors.toList());
        got.sort(Comparator.naturalOrder());
        if (!got.equals(want)) {
          throw new Fail("ns_list: got " + got + ", want " + want);
        }
        return OK;
      }
      case "ns_name": {
        args(a, 1, 2);
        Namespace n = ns.get(a.get(0).text);
        if (n == null) {
          throw new Fail("namespace handle " + a.get(0).text + " used before it was bound");
        }
        String want = a.size() == 2 ? a.get(1).utf8() : a.get(0).text;
        if (!n.name().equals(want)) {
          throw new Fail("ns_name: got " + n.name());
        }
        return OK;
      }
      case "ns_ordered": {
        args(a, 2, 2);
        Namespace n = ns.get(a.get(0).text);
        if (n == null) {
          throw new Fail("namespace handle " + a.get(0).text + " used before it was bound");
        }
        if (n.isOrdered() != bool(a.get(1).text)) {
          throw new Fail("ns_ordered: got " + n.isOrdered());
        }
        return OK;
      }
      case "ns_close": {
        args(a, 1, 1);
        Namespace n = ns.remove(a.get(0).text);
        if (n == null) {
          throw new Fail("namespace handle " + a.get(0).text + " used before it was bound");
        }
        n.close();
        return OK;
      }
      case "count": {
        args(a, 0, 1);
        long[] n = new long[1];
        FirkinNative.fkb_count(db(mods).handle(), nsh(mods), n);
        if (a.size() == 1 && n[0] != number(a.get(0))) {
          throw new Fail("count: got " + n[0]);
        }
        return OK;
      }
      case "txn_begin": {
        args(a, 1, 2);
        if (txns.containsKey(a.get(0).text)) {
          throw new Fail("transaction " + a.get(0).text + " exists");
        }
        Isolation iso = Isolation.SNAPSHOT;
        if (a.size() == 2) {
          if (a.get(1).text.equals("serializable")) {
            iso = Isolation.SERIALIZABLE;
          } else if (!a.get(1).text.equals("snapshot")) {
            throw new Fail("unknown isolation " + a.get(1).text);
          }
        }
        txns.put(a.get(0).text, db(mods).beginTransaction(iso));
        txnSlot.put(a.get(0).text, slotOf(mods));
        return OK;
      }
      case "txn_get": {
        args(a, 2, 3);
        byte[] v = txn(a.get(0).text).get(nso(mods), a.get(1).b);
        if (v == null) {
          return status(-1);
        }
        if (a.size() == 3) {
          eq("txn_get", v, a.get(2).b);
        }
        return OK;
      }
      case "txn_contains": {
        args(a, 2, 3);
        boolean v = txn(a.get(0).text).contains(nso(mods), a.get(1).b);
        if (a.size() == 3 && v != bool(a.get(2).text)) {
          throw new Fail("txn_contains: got " + v);
        }
        return OK;
      }
      case "txn_put":
        args(a, 3, 3);
        txn(a.get(0).text).put(nso(mods), a.get(1).b, a.get(2).b);
        return OK;
      case "txn_delete":
        args(a, 2, 2);
        txn(a.get(0).text).delete(nso(mods), a.get(1).b);
        return OK;
      case "txn_cas":
        args(a, 4, 4);
        return txn(a.get(0).text).compareAndSwap(nso(mods), a.get(1).b, a.get(2).b, a.get(3).b)
            ? OK
            : status(-7);
      case "txn_iter_new": {
        args(a, 2, 2);
        if (iters.containsKey(a.get(0).text)) {
          throw new Fail("iterator " + a.get(0).text + " exists");
        }
        FirkinIterator it = txn(a.get(1).text).iterator(nso(mods));
        iters.put(a.get(0).text, new IterState(it, txnSlot.get(a.get(1).text)));
        return OK;
      }
      case "txn_range_iter_new": {
        args(a, 4, 5);
        Transaction t = txn(a.get(1).text);
        if (iters.containsKey(a.get(0).text)) {
          throw new Fail("iterator " + a.get(0).text + " exists");
        }
        newIter(a.get(0).text,
            t.rangeIterator(nso(mods), a.get(2).b, a.get(3).b, reverseArg(a, 4)),
            txnSlot.get(a.get(1).text));
        return OK;
      }
      case "txn_prefix_iter_new": {
        args(a, 3, 4);
        Transaction t = txn(a.get(1).text);
        if (iters.containsKey(a.get(0).text)) {
          throw new Fail("iterator " + a.get(0).text + " exists");
        }
        newIter(a.get(0).text, t.prefixIterator(nso(mods), a.get(2).b, reverseArg(a, 3)),
            txnSlot.get(a.get(1).text));
        return OK;
      }
      case "txn_commit": {
        args(a, 1, 2);
        long seq = txn(a.get(0).text).commit(wo);
        if (a.size() == 2) {
          vars.put(a.get(1).text, seq);
        }
        return OK;
      }
      case "txn_rollback":
        args(a, 1, 1);
        txn(a.get(0).text).rollback();
        return OK;
      case "txn_snapshot_seq":
        args(a, 2, 2);
        vars.put(a.get(1).text, txn(a.get(0).text).snapshotSeq());
        return OK;
      case "txn_free": {
        args(a, 1, 1);
        Transaction t = txn(a.get(0).text);
        txns.remove(a.get(0).text);
        txnSlot.remove(a.get(0).text);
        t.close();
        return OK;
      }
      case "snapshot":
      case "snapshot_at": {
        Snapshot s;
        if (cmd.equals("snapshot")) {
          args(a, 1, 1);
          s = db(mods).snapshot();
        } else {
          args(a, 2, 2);
          long want = number(a.get(1));
          s = db(mods).snapshotAt(want);
          if (s.seq() != want) {
            s.close();
            throw new Fail("snapshot_at: seq " + s.seq() + ", want " + want);
          }
        }
        Snapshot old = snaps.put(a.get(0).text, s);
        if (old != null) {
          old.close();
        }
        snapSlot.put(a.get(0).text, slotOf(mods));
        return OK;
      }
      case "snapshot_seq": {
        args(a, 2, 2);
        Snapshot s = snaps.get(a.get(0).text);
        if (s == null) {
          throw new Fail("snapshot " + a.get(0).text + " used before it was bound");
        }
        vars.put(a.get(1).text, s.seq());
        return OK;
      }
      case "snapshot_free": {
        args(a, 1, 1);
        Snapshot s = snaps.remove(a.get(0).text);
        if (s == null) {
          throw new Fail("snapshot " + a.get(0).text + " used before it was bound");
        }
        s.close();
        return OK;
      }
      case "iter_new": {
        args(a, 1, 1);
        FirkinIterator it = FirkinIterator.create(db(mods).handle(), snaph(mods), nsh(mods));
        IterState old = iters.put(a.get(0).text, new IterState(it, slotOf(mods)));
        if (old != null) {
          old.it.close();
        }
        return OK;
      }
      case "range_iter_new": {
        args(a, 3, 4);
        if (iters.containsKey(a.get(0).text)) {
          throw new Fail("iterator " + a.get(0).text + " exists");
        }
        newIter(a.get(0).text,
            db(mods).rangeIterator(nso(mods), snapo(mods), a.get(1).b, a.get(2).b, reverseArg(a, 3)),
            slotOf(mods));
        return OK;
      }
      case "prefix_iter_new": {
        args(a, 2, 3);
        if (iters.containsKey(a.get(0).text)) {
          throw new Fail("iterator " + a.get(0).text + " exists");
        }
        newIter(a.get(0).text,
            db(mods).prefixIterator(nso(mods), snapo(mods), a.get(1).b, reverseArg(a, 2)),
            slotOf(mods));
        return OK;
      }
      case "iter_seek":
        args(a, 2, 2);
        iter(a.get(0).text).it.seek(a.get(1).b);
        return OK;
      case "iter_ordered": {
        args(a, 2, 2);
        boolean v = iter(a.get(0).text).it.isOrdered();
        if (v != bool(a.get(1).text)) {
          throw new Fail("iter_ordered: got " + v);
        }
        return OK;
      }
      case "iter_expect_ordered": {
        IterState st = iter(a.get(0).text);
        List<Tok> rest = a.subList(1, a.size());
        if (rest.size() % 2 != 0) {
          throw new Fail("iter_expect_ordered needs key/value pairs");
        }
        List<String> want = new ArrayList<>();
        for (int i = 0; i < rest.size(); i += 2) {
          want.add(entry(rest.get(i).b, rest.get(i + 1).b));
        }
        if (!want.equals(st.got)) {
          throw new Fail("iter_expect_ordered: got " + st.got + ", want " + want);
        }
        return OK;
      }
      case "iter_valid": {
        args(a, 2, 2);
        boolean v = FirkinNative.firkin_iter_valid(iter(a.get(0).text).it.handle());
        if (v != bool(a.get(1).text)) {
          throw new Fail("iter_valid: got " + v);
        }
        return OK;
      }
      case "iter_next":
        FirkinNative.firkin_iter_next(iter(a.get(0).text).it.handle());
        return OK;
      case "iter_key":
      case "iter_value": {
        args(a, 1, 2);
        SWIGTYPE_p_firkin_iter h = iter(a.get(0).text).it.handle();
        ByteBuffer b = ByteBuffer.allocateDirect(256);
        long[] n = new long[1];
        for (;;) {
          if (cmd.equals("iter_key")) {
            FirkinNative.fkb_iter_key(h, b, n);
          } else {
            FirkinNative.fkb_iter_value(h, b, n);
          }
          if (n[0] <= b.capacity()) {
            break;
          }
          b = ByteBuffer.allocateDirect((int) n[0]);
        }
        byte[] v = new byte[(int) n[0]];
        b.get(0, v);
        if (a.size() == 2) {
          eq(cmd, v, a.get(1).b);
        }
        return OK;
      }
      case "iter_status":
        FirkinNative.firkin_iter_status(iter(a.get(0).text).it.handle());
        return OK;
      case "iter_next_n": {
        args(a, 2, 4);
        IterState st = iter(a.get(0).text);
        int cap = (int) number(a.get(1));
        ByteBuffer buf = guarded(cap);
        long[] n = new long[1];
        Outcome o = guarded(() -> {
          FirkinNative.fkb_iter_next_n(st.it.handle(), buf.slice(0, cap), n);
          return OK;
        });
        checkGuard(buf, cap, cap + 16, "iter_next_n wrote past CAP");
        if (o.st != 0) {
          return o;
        }
        Outcome res = OK;
        if (n[0] > cap) {
          res = new Outcome(-12, "buffer too small", false);
        } else {
          List<String> got = decode(buf, (int) n[0]);
          st.got.addAll(got);
          if (a.size() >= 3 && got.size() != number(a.get(2))) {
            throw new Fail("iter_next_n: count " + got.size());
          }
        }
        if (a.size() == 4 && n[0] != number(a.get(3))) {
          throw new Fail("iter_next_n: used " + n[0]);
        }
        return res;
      }
      case "iter_walk": {
        args(a, 1, 1);
        IterState st = iter(a.get(0).text);
        while (st.it.hasNext()) {
          Entry e = st.it.next();
          st.got.add(entry(e.key(), e.value()));
        }
        return OK;
      }
      case "iter_drain": {
        args(a, 2, 2);
        IterState st = iter(a.get(0).text);
        int cap = (int) number(a.get(1));
        ByteBuffer buf = ByteBuffer.allocateDirect(cap).order(ByteOrder.LITTLE_ENDIAN);
        long[] n = new long[1];
        for (;;) {
          FirkinNative.fkb_iter_next_n(st.it.handle(), buf, n);
          if (n[0] == 0) {
            break;
          }
          if (n[0] > cap) {
            return new Outcome(-12, "buffer too small", false);
          }
          st.got.addAll(decode(buf, (int) n[0]));
        }
        if (FirkinNative.firkin_iter_valid(st.it.handle())) {
          throw new Fail("iter_drain: count 0 while the iterator is valid");
        }
        return OK;
      }
      case "iter_expect": {
        IterState st = iter(a.get(0).text);
        List<Tok> rest = a.subList(1, a.size());
        if (rest.size() % 2 != 0) {
          throw new Fail("iter_expect needs key/value pairs");
        }
        List<String> want = new ArrayList<>();
        for (int i = 0; i < rest.size(); i += 2) {
          want.add(entry(rest.get(i).b, rest.get(i + 1).b));
        }
        List<String> got = new ArrayList<>(st.got);
        want.sort(Comparator.naturalOrder());
        got.sort(Comparator.naturalOrder());
        if (!want.equals(got)) {
          throw new Fail("iter_expect: got " + got + ", want " + want);
        }
        return OK;
      }
      case "iter_expect_count": {
        args(a, 2, 2);
        IterState st = iter(a.get(0).text);
        Set<String> keys = new HashSet<>();
        for (String e : st.got) {
          String k = e.substring(0, e.indexOf("\"=\"") + 1);
          if (!keys.add(k)) {
            throw new Fail("iter_expect_count: key " + k + " twice");
          }
        }
        if (st.got.size() != number(a.get(1))) {
          throw new Fail("iter_expect_count: got " + st.got.size());
        }
        return OK;
      }
      case "iter_free": {
        args(a, 1, 1);
        IterState st = iter(a.get(0).text);
        iters.remove(a.get(0).text);
        st.it.close();
        return OK;
      }
      case "now_ms":
        args(a, 1, 1);
        vars.put(a.get(0).text, db(mods).nowMillis());
        return OK;
      case "put_ttl":
        args(a, 3, 3);
        FirkinNative.firkin_put_ttl(db(mods).handle(), wo == null ? null : wo.handle(), nsh(mods),
            a.get(0).b, a.get(1).b, number(a.get(2)));
        return OK;
      case "put_expire_at":
        args(a, 3, 3);
        FirkinNative.firkin_put_expire_at(db(mods).handle(), wo == null ? null : wo.handle(), nsh(mods),
            a.get(0).b, a.get(1).b, number(a.get(2)));
        return OK;
      case "batch_put_ttl":
        args(a, 4, 4);
        batch(a.get(0).text).put(nsObj(mods), a.get(1).b, a.get(2).b, java.time.Duration.ofMillis(number(a.get(3))));
        return OK;
      case "ttl": {
        args(a, 1, 2);
        java.time.Duration rem = Ttl.ttl(db(mods).handle(), snaph(mods), nsh(mods), a.get(0).b);
        if (rem == null) {
          return status(-1);
        }
        if (a.size() == 2) {
          if (a.get(1).text.equals("none")) {
            if (!rem.equals(Firkin.NO_EXPIRY)) {
              throw new Fail("ttl: expected no expiry, got " + rem);
            }
          } else {
            long max = number(a.get(1));
            if (rem.equals(Firkin.NO_EXPIRY) || rem.isZero() || rem.isNegative() || rem.toMillis() > max) {
              throw new Fail("ttl: expected 0 < remaining <= " + max + " ms, got " + rem);
            }
          }
        }
        return OK;
      }
      case "persist":
        args(a, 1, 1);
        FirkinNative.firkin_persist(db(mods).handle(), wo == null ? null : wo.handle(), nsh(mods), a.get(0).b);
        return OK;
      case "snapshot_at_time": {
        args(a, 2, 2);
        Snapshot s = db(mods).snapshotAt(java.time.Instant.ofEpochMilli(number(a.get(1))));
        Snapshot old = snaps.put(a.get(0).text, s);
        if (old != null) {
          old.close();
        }
        snapSlot.put(a.get(0).text, slotOf(mods));
        return OK;
      }
      case "history": {
        if (a.size() < 1 || (a.size() - 1) % 4 != 0) {
          throw new Fail("history needs K then SEQ DEL EXPIRY VALUE groups");
        }
        try (KeyHistory h = Ttl.history(db(mods).handle(), nsh(mods), a.get(0).b)) {
          if (h.size() != (a.size() - 1) / 4) {
            throw new Fail("history gave " + h.size() + " versions, expected " + (a.size() - 1) / 4);
          }
          long newer = -1L; // unsigned max
          int i = 0;
          for (KeyVersion v : h) {
            int w = 1 + 4 * i;
            if (v.seq() != number(a.get(w)) || v.deleted() != bool(a.get(w + 1).text)) {
              throw new Fail("history version " + i + ": seq " + v.seq() + " deleted " + v.deleted()
                  + ", expected " + a.get(w).text + " " + a.get(w + 1).text);
            }
            long exp = v.expiry() == null ? 0 : v.expiry().toEpochMilli();
            if (a.get(w + 2).text.equals("any") ? exp == 0 : exp != number(a.get(w + 2))) {
              throw new Fail("history version " + i + ": expiry " + exp + ", expected " + a.get(w + 2).text);
            }
            long t = v.commitTime() == null ? 0 : v.commitTime().toEpochMilli();
            if (t == 0 || Long.compareUnsigned(t, newer) > 0) {
              throw new Fail("history version " + i + ": commit time " + t + " (newer version's " + newer + ")");
            }
            newer = t;
            eq("history value", v.value() == null ? new byte[0] : v.value(), a.get(w + 3).b);
            i++;
          }
        }
        return OK;
      }
      case "check": {
        args(a, 3, 3);
        long x = number(a.get(0));
        long y = number(a.get(2));
        int c = Long.compareUnsigned(x, y);
        boolean r;
        switch (a.get(1).text) {
          case "eq": r = c == 0; break;
          case "ne": r = c != 0; break;
          case "lt": r = c < 0; break;
          case "le": r = c <= 0; break;
          case "gt": r = c > 0; break;
          case "ge": r = c >= 0; break;
          default: throw new Fail("bad operator " + a.get(1).text);
        }
        if (!r) {
          throw new Fail("check " + x + " " + a.get(1).text + " " + y + " is false");
        }
        return OK;
      }
      case "version": {
        int v = Firkin.versionNumber();
        String want = (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
        if (!Firkin.version().equals(want) || v / 10000 != FirkinNative.FIRKIN_VERSION_MAJOR) {
          throw new Fail("version: " + Firkin.version() + " vs " + v);
        }
        return OK;
      }
      case "strerror": {
        args(a, 1, 1);
        int code;
        try {
          code = statusCode(a.get(0).text);
        } catch (Fail f) {
          code = Integer.parseInt(a.get(0).text);
        }
        String s = FirkinNative.fkb_strerror(code);
        if (s == null || s.isEmpty()) {
          throw new Fail("strerror is empty");
        }
        return OK;
      }
      default:
        throw new Fail("unknown command " + cmd);
    }
  }

  public static void main(String[] argv) throws IOException {
    Path casesDir = Path.of(argv.length > 0 ? argv[0] : "tests/conformance");
    String only = argv.length > 1 ? argv[1] : null;
    List<Path> files;
    try (Stream<Path> s = Files.list(casesDir)) {
      files = s.filter(p -> p.toString().endsWith(".case")).sorted().collect(Collectors.toList());
    }
    Path tmp = Files.createTempDirectory("firkin-java-conformance-");
    ConformanceRunner r = new ConformanceRunner();
    int passed = 0;
    int failed = 0;
    int n = 0;
    boolean inCase = false;
    boolean caseFailed = false;
    String caseName = null;
    for (Path f : files) {
      List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
      for (int ln = 0; ln < lines.size(); ln++) {
        String line = lines.get(ln);
        String where = f.getFileName() + ":" + (ln + 1);
        List<Tok> toks;
        try {
          toks = tokenize(line);
        } catch (Fail e) {
          System.out.println(where + ": " + e.getMessage());
          caseFailed = true;
          continue;
        }
        if (toks.isEmpty()) {
          continue;
        }
        if (toks.get(0).kind == Kind.BARE && toks.get(0).text.equals("case")) {
          if (inCase) {
            r.closeAll();
            if (caseFailed) failed++; else passed++;
          }
          inCase = false;
          caseName = toks.get(1).text;
          if (only != null && !only.equals(caseName)) {
            continue;
          }
          Path d = tmp.resolve("c" + (++n));
          Files.createDirectories(d);
          r.reset(d);
          inCase = true;
          caseFailed = false;
          continue;
        }
        if (!inCase || caseFailed) {
          continue;
        }
        String cmd = toks.get(0).text;
        List<Tok> rest = new ArrayList<>(toks.subList(1, toks.size()));
        Map<String, String> mods = new HashMap<>();
        int want = 0;
        if (rest.size() >= 2 && rest.get(rest.size() - 2).kind == Kind.ARROW) {
          String name = rest.get(rest.size() - 1).text;
          want = statusCode(name);
          mods.put("->", name);
          rest = rest.subList(0, rest.size() - 2);
        }
        List<Tok> a = new ArrayList<>();
        for (Tok t : rest) {
          if (t.kind == Kind.MOD) {
            mods.put(t.text, t.val);
          } else {
            a.add(t);
          }
        }
        String msg = null;
        Outcome o = null;
        try {
          List<Tok> args = a;
          o = guarded(() -> r.run(cmd, args, mods));
        } catch (Fail e) {
          msg = e.getMessage();
        }
        if (msg == null && o.st != want) {
          msg = "expected " + statusName(want) + ", got " + statusName(o.st) + " (" + o.msg + ")";
        }
        if (msg == null && o.st != 0 && o.st != -1 && o.fromError && o.msg.isEmpty()) {
          msg = "status " + statusName(o.st) + " came with an empty error message";
        }
        if (msg != null) {
          System.out.println("FAIL case " + caseName + " at " + where + ": " + line.trim() + "\n    " + msg);
          caseFailed = true;
        }
      }
      if (inCase) {
        r.closeAll();
        if (caseFailed) failed++; else passed++;
        inCase = false;
      }
    }
    try (Stream<Path> w = Files.walk(tmp)) {
      w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    System.out.println(passed + " passed, " + failed + " failed");
    System.exit(failed == 0 && passed > 0 ? 0 : 1);
  }
}
