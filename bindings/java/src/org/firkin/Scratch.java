package org.firkin;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Per-thread buffers of the hot paths: a direct ByteBuffer the library
 * writes into (firkin_get_into & co.) and a one-slot long[] for the size it
 * reports. A get therefore makes one JNI call and one allocation (the
 * returned byte[]).
 */
final class Scratch {
  static final int INITIAL = 4096;
  static final int KEEP = 1 << 20;

  private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

  ByteBuffer buf = allocate(INITIAL);
  final long[] n = new long[1];

  static Scratch get() {
    return LOCAL.get();
  }

  static ByteBuffer allocate(long size) {
    if (size > Integer.MAX_VALUE) {
      throw FirkinException.create(-11, "value of " + size + " bytes does not fit a Java array");
    }
    return ByteBuffer.allocateDirect((int) size).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A buffer of at least size bytes; kept for later calls unless huge. */
  ByteBuffer grow(long size) {
    ByteBuffer b = allocate(size);
    if (size <= KEEP) {
      buf = b;
    }
    return b;
  }

  /** Text outputs (stats, namespace list, option values). */
  interface TextCall {
    void call(ByteBuffer buf, long[] n);
  }

  static String text(TextCall f) {
    return text(f, 0);
  }

  /**
   * text with a buffer of at least minSize bytes from the first call (verify:
   * a report that does not fit means running the verification again).
   */
  static String text(TextCall f, int minSize) {
    Scratch s = get();
    ByteBuffer b = s.buf;
    if (b.capacity() < minSize) {
      b = s.grow(minSize);
    }
    for (;;) {
      f.call(b, s.n);
      long n = s.n[0];
      if (n <= b.capacity()) {
        byte[] out = new byte[(int) n];
        b.get(0, out);
        return new String(out, java.nio.charset.StandardCharsets.UTF_8);
      }
      b = s.grow(n);
    }
  }
}
