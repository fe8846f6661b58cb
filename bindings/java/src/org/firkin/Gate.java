package org.firkin;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The calls in flight on a shared C handle (a database, a namespace, a
 * snapshot), so that close() never frees the handle under one of them.
 *
 * <p>Every generated native method that takes the handle enters before the
 * call and leaves after it (firkin_java.swg, the javain typemap of the
 * proxies): one atomic add each, on the calling thread's stripe. {@link #close} marks the gate closed, after
 * which every enter throws {@link FirkinException.Closed} (the call never
 * reaches C), and the handle is freed by whoever sees the count reach zero
 * closed: close() itself when no call is in flight, else the last call to
 * leave (whose free's error is then lost). close() never waits, so a close
 * from inside a call (a transaction's function, a progress callback) or
 * while another thread is blocked in one cannot hang.
 *
 * <p>(Before the review of 2026-11-29 the open check was a volatile read: a
 * close racing a call let the call pass it and then use the freed handle,
 * a SIGSEGV of the JVM; LifetimeTest.closeWhileCallsInFlight.)
 *
 *
 * <p>Striped (2026-11-29): the count of calls in flight is spread over
 * stripes, each in a 128-byte slot of its own (16 longs of an
 * AtomicLongArray, with a slot of padding before the first), and "closed" is
 * a separate word only close() writes. A handle that many threads call at
 * once (a database, a namespace, a snapshot: {@link #SHARED} stripes) would
 * otherwise have every call on every core write one cache line, which caps
 * its calls per second far below the C library's. enter adds one to the
 * calling thread's stripe (its id, masked) and returns the stripe; leave
 * subtracts from that same stripe. The handles for one thread at a time
 * have one stripe.
 *
 * <p>Ordering (the Dekker pattern; AtomicLongArray and AtomicBoolean
 * accesses are volatile, so all of them fall in one total order): enter
 * adds, then reads closed; close sets closed, then reads every stripe; leave
 * subtracts, then reads closed, then the stripes. Either close's read of the
 * call's stripe sees the call's add, or the add came after that read, hence
 * after closed was set, and the call reads closed as set: refused, it never
 * reaches C. A stripe never goes below zero (leave subtracts where enter
 * added), so a sum of zero means no admitted call was in flight at the read
 * of its stripe, and none is admitted after. The handle is freed at all:
 * whoever made the last add or subtract to any stripe (or close, if that came
 * before closed was set) reads closed as set and then all stripes at zero.
 *
 * <p>The free action must not refer to the handle's owner (the Cleaner
 * holds the gate).
 */
final class Gate {
  /** The stripes of a handle that many threads may call at once (a power of two). */
  static final int SHARED = 32;
  private static final int PAD = 16; // longs per 128-byte slot

  private final AtomicLongArray stripes;
  private final int mask;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean freed = new AtomicBoolean();
  private final String what;
  private final Runnable free;

  /** A gate with one stripe (a handle for one thread at a time). */
  Gate(String what, Runnable free) {
    this(what, free, 1);
  }

  /** A gate with n stripes (a power of two; SHARED for a shared handle). */
  Gate(String what, Runnable free, int n) {
    this.what = what;
    this.free = free;
    this.mask = n - 1;
    this.stripes = new AtomicLongArray((n + 2) * PAD);
  }

  /**
   * Admits a call to g's handle: the stripe entered (0 if g is null: no gate;
   * the caller leaves it when it is not negative), or -1 if g is closed
   * (nothing entered).
   */
  static int enter(Gate g) {
    if (g == null) {
      return 0;
    }
    final int i = (int) Thread.currentThread().getId() & g.mask;
    g.stripes.getAndIncrement((i + 1) * PAD);
    if (g.closed.get()) {
      g.leave(i);
      return -1;
    }
    return i;
  }

  /** p, if its gate g was entered (in: a stripe, not negative); else throws Closed. */
  static <T> T open(int in, Gate g, T p) {
    if (in < 0) {
      throw new FirkinException.Closed(g.what + " is closed");
    }
    return p;
  }

  /**
   * Ends a call that entered stripe i; frees the handle if it was the last one
   * out of a closed gate.
   */
  void leave(int i) {
    stripes.getAndDecrement((i + 1) * PAD);
    if (closed.get() && sum() == 0) {
      try {
        release();
      } catch (FirkinException e) {
        // The final flush's error, seen by a call that is not close(): lost.
      }
    }
  }

  private long sum() {
    long n = 0;
    for (int i = 0; i <= mask; i++) {
      n += stripes.get((i + 1) * PAD);
    }
    return n;
  }

  boolean isClosed() {
    return closed.get();
  }

  /**
   * Closes the gate (false if it was closed already) and frees the handle now
   * if no call is in flight (throwing the free's error), else leaves that to
   * the last call out.
   */
  boolean close() {
    if (!closed.compareAndSet(false, true)) {
      return false;
    }
    if (sum() == 0) {
      release();
    }
    return true;
  }

  private void release() {
    if (freed.compareAndSet(false, true)) {
      free.run();
    }
  }
}
