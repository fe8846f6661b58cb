package org.firkin;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A cursor over the change feed (firkin_changes): every committed change
 * after the sequence number it was opened at, in order, batches whole.
 * {@link #hasNext()} says whether a change is available <em>now</em> (it never
 * blocks); {@link #await(long)} blocks until a new change is published (woken
 * by the writer, not by polling). Changes are fetched many at a time
 * (firkin_changes_next_n). If the history the cursor needs was compacted
 * away it throws {@link FirkinException.SnapshotTooOld}, never skipping a
 * change.
 *
 * <pre>{@code
 * try (FirkinChanges c = db.changes(lastApplied)) {
 *   for (;;) {
 *     while (c.hasNext()) apply(c.next());
 *     c.await(1000);
 *   }
 * }
 * }</pre>
 *
 * <p>Thread contract: one thread at a time; close must not race with the
 * other calls.
 */
public final class FirkinChanges implements Iterator<FirkinChanges.Change>, AutoCloseable {
  /** The kind of a change (firkin_change_type). Later versions add kinds. */
  public enum Type {
    PUT(1), DELETE(2), NS_CREATE(3), NS_DROP(4), BATCH_BEGIN(5), BATCH_END(6), UNKNOWN(0);

    private final int code;

    Type(int code) {
      this.code = code;
    }

    /** The C value. */
    public int code() {
      return code;
    }

    static Type of(int code) {
      for (Type t : values()) {
        if (t.code == code) {
          return t;
        }
      }
      return UNKNOWN;
    }
  }

  /** One change: key and value are empty where the kind has none. */
  public static final class Change {
    public final Type type;
    public final long seq;
    public final String namespace;
    public final byte[] key;
    public final byte[] value;

    Change(Type type, long seq, String namespace, byte[] key, byte[] value) {
      this.type = type;
      this.seq = seq;
      this.namespace = namespace;
      this.key = key;
      this.value = value;
    }

    @Override
    public String toString() {
      return type + " " + seq + " " + namespace;
    }
  }

  private SWIGTYPE_p_firkin_changes h;
  private final Cleaner.Cleanable release;
  private ByteBuffer buf =
      ByteBuffer.allocateDirect(FirkinIterator.BUF).order(ByteOrder.LITTLE_ENDIAN);
  private final long[] n = new long[1];
  // (volatile, and close() leaves buf alone: a close from another thread,
  // a misuse, must not change the buffer under a next() reading it.)
  private volatile boolean closed;

  private FirkinChanges(long p) {
    h = new SWIGTYPE_p_firkin_changes(p, false);
    h.owner = this;
    // Native calls on h count themselves in and out of the gate (Gate.java):
    // a close from another thread (twice at once, or under a call) frees once,
    // after the call in flight.
    Gate g = new Gate("change cursor", free(p));
    h.gate = g;
    release = Handles.register(this, g::close);
    buf.limit(0);
  }

  private static Runnable free(long p) {
    return () -> FirkinNative.firkin_changes_free(new SWIGTYPE_p_firkin_changes(p, false));
  }

  static FirkinChanges open(SWIGTYPE_p_firkin_db db, long since, boolean batchMarkers) {
    long s = Ranges.u64(since, "since");
    long[] p = new long[1];
    FirkinNative.fkb_changes_open(db, s, batchMarkers, p);
    return new FirkinChanges(p[0]);
  }

  private SWIGTYPE_p_firkin_changes handle() {
    if (h == null || closed) {
      throw new FirkinException.Closed("change cursor is closed");
    }
    return h;
  }

  /** Whether a change is available now (never blocks). */
  @Override
  public boolean hasNext() {
    if (buf.hasRemaining()) {
      handle();
      return true;
    }
    SWIGTYPE_p_firkin_changes c = handle();
    for (;;) {
      FirkinNative.fkb_changes_next_n(c, buf, n);
      long used = n[0];
      if (used == 0) {
        return false;
      }
      if (used > buf.capacity()) {
        buf = Scratch.allocate(used);
        continue;
      }
      buf.clear();
      buf.limit((int) used);
      return true;
    }
  }

  @Override
  public Change next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    int type = buf.getInt();
    int nl = buf.getInt();
    long seq = buf.getLong();
    int kl = buf.getInt();
    int vl = buf.getInt();
    byte[] ns = new byte[nl];
    byte[] k = new byte[kl];
    byte[] v = new byte[vl];
    buf.get(ns);
    buf.get(k);
    buf.get(v);
    return new Change(Type.of(type), seq, new String(ns, StandardCharsets.UTF_8), k, v);
  }

  /**
   * Blocks until a change is published or timeoutMs milliseconds pass, or the
   * thread is interrupted (it then returns at once, within about 100 ms, with
   * its interrupt flag still set). It waits in native calls of at most 100 ms:
   * one long call ignored {@link Thread#interrupt()} until the whole timeout
   * had passed.
   *
   * @return whether a change is available
   */
  public boolean await(long timeoutMs) {
    if (buf.hasRemaining()) {
      return true;
    }
    long ms = Math.max(0, Math.min(timeoutMs, 0xFFFFFFFFL));  // (as C: about 49 days at most)
    long deadline = System.nanoTime() + ms * 1_000_000L;
    for (;;) {
      long left = (deadline - System.nanoTime()) / 1_000_000L;
      FirkinNative.firkin_changes_wait(handle(), Math.max(0, Math.min(left, 100)));
      if (hasNext() || left <= 100 || Thread.currentThread().isInterrupted()) {
        return hasNext();
      }
    }
  }

  /**
   * How far the cursor has read: every write numbered at or below it was
   * returned by {@link #next()}, or holds no change (a CAS that failed after
   * it took its number: firkin.h, firkin_changes_open). The next buffered
   * change's number - 1 while one is buffered; otherwise the last number
   * read: {@link Firkin#lastSeq()} once caught up, also where the last write
   * holds no change. A consumer that stores it resumes with
   * {@code db.changes(position, ...)}.
   */
  public long position() {
    SWIGTYPE_p_firkin_changes c = handle();
    if (buf.remaining() >= 16) {
      return buf.getLong(buf.position() + 8) - 1;
    }
    FirkinNative.fkb_changes_position(c, n);
    return n[0];
  }

  /** Releases the cursor. Closing twice is harmless. */
  @Override
  public void close() {
    closed = true;
    if (h != null) {
      h = null;
      release.clean();
    }
  }
}
