package org.firkin;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** The operations shared by Firkin (default namespace), Namespace and Snapshot. */
final class Ops {
  private Ops() {}

  static byte[] get(
      SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[] key) {
    Scratch s = Scratch.get();
    ByteBuffer b = s.buf;
    for (;;) {
      FirkinNative.fkb_get(db, snap, ns, key, b, s.n);
      long n = s.n[0];
      if (n < 0) {
        return null;
      }
      if (n <= b.capacity()) {
        byte[] out = new byte[(int) n];
        b.get(0, out);
        return out;
      }
      b = s.grow(n);
    }
  }

  static int getInto(
      SWIGTYPE_p_firkin_db db,
      SWIGTYPE_p_firkin_snapshot snap,
      SWIGTYPE_p_firkin_ns ns,
      byte[] key,
      byte[] buf) {
    if (buf == null) {
      throw new FirkinException.InvalidArgument("get: buf is null");
    }
    // The library writes into a window of the thread's direct buffer of at
    // most Scratch.KEEP bytes (or what it already has), not buf.length: a
    // larger window would be a fresh direct buffer on every call, whatever
    // the value's size (120 ms a call with a 32 MiB buf). A value larger
    // than the window that fits buf is read again into one of its size.
    Scratch s = Scratch.get();
    ByteBuffer b = s.buf;
    int window = Math.min(buf.length, Scratch.KEEP);
    if (b.capacity() < window) {
      b = s.grow(window);
    }
    window = Math.min(buf.length, b.capacity());
    for (;;) {
      FirkinNative.fkb_get(db, snap, ns, key, b.capacity() == window ? b : b.slice(0, window), s.n);
      long n = s.n[0];
      if (n < 0) {
        return -1;
      }
      if (n <= window) {
        b.get(0, buf, 0, (int) n);
        return (int) n;
      }
      if (n > buf.length) {
        return (int) n; // too small: nothing copied
      }
      b = s.grow(n);
      window = (int) n;
    }
  }

  static boolean contains(
      SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[] key) {
    long[] n = Scratch.get().n;
    FirkinNative.fkb_contains(db, snap, ns, key, n);
    return n[0] == 1;
  }

  static long version(
      SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[] key) {
    long[] n = Scratch.get().n;
    FirkinNative.fkb_get_version(db, snap, ns, key, n);
    return n[0];
  }

  /**
   * The keys in firkin_multi_get_packed's input format (a 4-byte length, then the
   * bytes, per key). InvalidArgument for a null array or key (as put(null, ...)),
   * TooLarge when the whole does not fit one Java array (a key's own length, under
   * 2^31, always fits the 32-bit length field).
   */
  static byte[] pack(byte[][] keys) {
    if (keys == null) {
      throw new FirkinException.InvalidArgument("multi-get: keys is null");
    }
    long size = 0;
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] == null) {
        throw new FirkinException.InvalidArgument("multi-get key " + i + ": key is null");
      }
      size += 4L + keys[i].length;
    }
    if (size > Integer.MAX_VALUE - 8) {
      throw new FirkinException.TooLarge(
          "multi-get: " + keys.length + " keys take " + size + " bytes packed, more than one Java array holds");
    }
    ByteBuffer p = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] k : keys) {
      p.putInt(k.length).put(k);
    }
    return p.array();
  }

  /** The raw packed output of firkin_multi_get_packed (a view of the scratch buffer). */
  static ByteBuffer multiGetRaw(
      SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[][] keys) {
    byte[] packed = pack(keys);
    Scratch s = Scratch.get();
    ByteBuffer b = s.buf;
    for (;;) {
      FirkinNative.fkb_multi_get(db, snap, ns, packed, b, s.n);
      long n = s.n[0];
      if (n <= b.capacity()) {
        return b.slice(0, (int) n).order(ByteOrder.LITTLE_ENDIAN);
      }
      b = s.grow(n);
    }
  }

  static byte[][] multiGet(
      SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[][] keys) {
    ByteBuffer b = multiGetRaw(db, snap, ns, keys);
    byte[][] out = new byte[keys.length][];
    for (int i = 0; i < keys.length; i++) {
      int st = b.getInt();
      if (st == 0) {
        byte[] v = new byte[b.getInt()];
        b.get(v);
        out[i] = v;
      } else if (st != -1) {
        throw keyError(db, snap, ns, i, keys[i], st);
      }
    }
    return out;
  }

  /**
   * The error for key i of a multi-get, which failed with status st. The packed
   * result carries a status per key but no message, and the multi-get call itself
   * succeeded, which clears the library's message (firkin_last_error): the key is
   * read again alone for it. Should that read give another outcome (the state
   * changed meanwhile), the status's description stands in. "multi-get key N:
   * message", as Python's "multi_get key N: message".
   */
  static FirkinException keyError(
      SWIGTYPE_p_firkin_db db,
      SWIGTYPE_p_firkin_snapshot snap,
      SWIGTYPE_p_firkin_ns ns,
      int i,
      byte[] key,
      int st) {
    String msg = Status.of(st).description();
    try {
      get(db, snap, ns, key);
    } catch (FirkinException e) {
      if (e.code() == st && e.getMessage() != null && !e.getMessage().isEmpty()) {
        msg = e.getMessage();
      }
    }
    return FirkinException.create(st, "multi-get key " + i + ": " + msg);
  }

  static List<String> lines(String s) {
    List<String> out = new ArrayList<>();
    for (String l : s.split("\n")) {
      if (!l.isEmpty()) {
        out.add(l);
      }
    }
    return out;
  }
}
