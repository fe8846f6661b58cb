package org.firkin;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Every live key of a namespace exactly once, as of one snapshot
 * (firkin_iter): unordered from {@code iterator()}, in key byte order from
 * {@code rangeIterator} / {@code prefixIterator} on an ordered namespace
 * (which can also {@link #seek}). Entries are fetched many at a time (firkin_iter_next_n), so
 * most calls to next() make no JNI call. An error that ends the iteration
 * early (corruption, I/O) is thrown from hasNext()/next().
 *
 * <p>It is also {@link Iterable}, for for-each, with the contract of
 * {@link java.nio.file.DirectoryStream}: one pass, so {@link #iterator()}
 * returns this iterator once and throws {@link IllegalStateException} the
 * second time (open a new one with {@code db.iterator()}). Close it
 * (try-with-resources): an open iterator keeps its database open.
 *
 * <pre>{@code
 * try (FirkinIterator it = db.iterator()) {
 *   for (Entry e : it) { ... }
 * }
 * }</pre>
 *
 * <p>Thread contract: one thread at a time; close must not race with
 * hasNext/next.
 */
public final class FirkinIterator implements Iterator<Entry>, Iterable<Entry>, AutoCloseable {
  static final int BUF = 64 * 1024;

  private SWIGTYPE_p_firkin_iter h;
  private final Cleaner.Cleanable release;
  private ByteBuffer buf = ByteBuffer.allocateDirect(BUF).order(ByteOrder.LITTLE_ENDIAN);
  private final long[] n = new long[1];
  private boolean done;
  // (volatile, and close() leaves buf alone: a close from another thread,
  // a misuse, must not change the buffer under a next() reading it.)
  private volatile boolean closed;
  private boolean iterated;

  private FirkinIterator(long p) {
    h = new SWIGTYPE_p_firkin_iter(p, false);
    h.owner = this;
    // Native calls on h count themselves in and out of the gate (Gate.java):
    // a close from another thread (twice at once, or under a call) frees once,
    // after the call in flight.
    Gate g = new Gate("iterator", free(p));
    h.gate = g;
    release = Handles.register(this, g::close);
    buf.limit(0);
  }

  private static Runnable free(long p) {
    return () -> FirkinNative.firkin_iter_free(new SWIGTYPE_p_firkin_iter(p, false));
  }

  static FirkinIterator create(
      SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns) {
    long[] p = new long[1];
    FirkinNative.fkb_iter_new(db, snap, ns, p);
    return new FirkinIterator(p[0]);
  }

  /** An iterator over ns as transaction txn sees it now (firkin_txn_iter_new). */
  static FirkinIterator create(SWIGTYPE_p_firkin_txn txn, SWIGTYPE_p_firkin_ns ns) {
    long[] p = new long[1];
    FirkinNative.fkb_txn_iter_new(txn, ns, p);
    return new FirkinIterator(p[0]);
  }

  /** A null or empty range bound or prefix is no bound (NULL for the C API). */
  private static byte[] bound(byte[] b) {
    return b == null || b.length == 0 ? null : b;
  }

  private static int flags(boolean reverse) {
    return reverse ? FirkinNative.FIRKIN_ITER_REVERSE : 0;
  }

  /** An ordered iterator over [start, end) of ns at snap (firkin_range_iter_new). */
  static FirkinIterator range(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap,
      SWIGTYPE_p_firkin_ns ns, byte[] start, byte[] end, boolean reverse) {
    long[] p = new long[1];
    FirkinNative.fkb_range_iter_new(db, snap, ns, bound(start), bound(end), flags(reverse), p);
    return new FirkinIterator(p[0]);
  }

  /** An ordered iterator over the keys of ns starting with prefix (firkin_prefix_iter_new). */
  static FirkinIterator prefix(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap,
      SWIGTYPE_p_firkin_ns ns, byte[] prefix, boolean reverse) {
    long[] p = new long[1];
    FirkinNative.fkb_prefix_iter_new(db, snap, ns, bound(prefix), flags(reverse), p);
    return new FirkinIterator(p[0]);
  }

  /** firkin_txn_range_iter_new. */
  static FirkinIterator range(SWIGTYPE_p_firkin_txn txn, SWIGTYPE_p_firkin_ns ns, byte[] start,
      byte[] end, boolean reverse) {
    long[] p = new long[1];
    FirkinNative.fkb_txn_range_iter_new(txn, ns, bound(start), bound(end), flags(reverse), p);
    return new FirkinIterator(p[0]);
  }

  /** firkin_txn_prefix_iter_new. */
  static FirkinIterator prefix(SWIGTYPE_p_firkin_txn txn, SWIGTYPE_p_firkin_ns ns, byte[] prefix,
      boolean reverse) {
    long[] p = new long[1];
    FirkinNative.fkb_txn_prefix_iter_new(txn, ns, bound(prefix), flags(reverse), p);
    return new FirkinIterator(p[0]);
  }

  /**
   * Repositions an ordered iterator inside its range: forward to the first
   * key &gt;= key, reverse to the last key &lt;= key; the next entry comes
   * from there (an iterator that had ended can seek again).
   *
   * @throws FirkinException.InvalidArgument on an unordered (hash-order)
   *     iterator, which is left as it was
   */
  public void seek(byte[] key) {
    FirkinNative.firkin_iter_seek(handle(), key);
    buf.limit(0);
    done = false;
  }

  /** Whether this is an ordered (range or prefix) iterator (firkin_iter_is_ordered). */
  public boolean isOrdered() {
    return FirkinNative.firkin_iter_is_ordered(handle());
  }

  SWIGTYPE_p_firkin_iter handle() {
    if (h == null) {
      throw new FirkinException.Closed("iterator is closed");
    }
    return h;
  }

  /**
   * This iterator, for for-each: callable once (a Firkin iterator is one pass
   * over one snapshot).
   *
   * @throws IllegalStateException on a second call
   */
  @Override
  public Iterator<Entry> iterator() {
    if (iterated) {
      throw new IllegalStateException(
          "a FirkinIterator is one pass and can be iterated once; open a new one");
    }
    iterated = true;
    return this;
  }

  @Override
  public boolean hasNext() {
    if (closed) {
      throw new FirkinException.Closed("iterator is closed");
    }
    if (buf.hasRemaining()) {
      return true;
    }
    if (done) {
      return false;
    }
    SWIGTYPE_p_firkin_iter it = handle();
    for (;;) {
      FirkinNative.fkb_iter_next_n(it, buf, n);
      long used = n[0];
      if (used == 0) {
        done = true;
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
  public Entry next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    int kl = buf.getInt();
    int vl = buf.getInt();
    byte[] k = new byte[kl];
    byte[] v = new byte[vl];
    buf.get(k);
    buf.get(v);
    return new Entry(k, v);
  }

  /** Releases the iterator. Closing twice is harmless. */
  @Override
  public void close() {
    closed = true;
    if (h != null) {
      h = null;
      release.clean();
      done = true;
    }
  }
}
