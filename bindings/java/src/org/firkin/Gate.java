package org.firkin;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The calls in flight on a shared C handle (a database, a namespace, a
 * snapshot), so that close() never frees the handle under one of them.
 *
 * <p>Every generated native method that takes the handle enters before the
 * call and leaves after it (firkin_java.swg, the javain typemap of the
 * proxies): one atomic add each. {@link #close} marks the gate closed, after
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
 * <p>The free action must not refer to the handle's owner (the Cleaner
 * holds the gate).
 */
final class Gate {
  private static final long CLOSED = 1L << 40;
  private final AtomicLong state = new AtomicLong();
  private final AtomicBoolean freed = new AtomicBoolean();
  private final String what;
  private final Runnable free;

  Gate(String what, Runnable free) {
    this.what = what;
    this.free = free;
  }

  /**
   * Admits a call to g's handle: true if entered (or g is null: no gate),
   * false if g is closed (nothing entered). The caller leaves it when true.
   */
  static boolean enter(Gate g) {
    if (g == null) {
      return true;
    }
    if ((g.state.incrementAndGet() & CLOSED) != 0) {
      g.leaveQuietly();
      return false;
    }
    return true;
  }

  /** p, if its gate g was entered (in); else throws Closed. */
  static <T> T open(boolean in, Gate g, T p) {
    if (!in) {
      throw new FirkinException.Closed(g.what + " is closed");
    }
    return p;
  }

  /** Ends a call; frees the handle if it was the last one out of a closed gate. */
  void leave() {
    leaveQuietly();
  }

  private void leaveQuietly() {
    if (state.decrementAndGet() == CLOSED) {
      try {
        release();
      } catch (FirkinException e) {
        // The final flush's error, seen by a call that is not close(): lost.
      }
    }
  }

  boolean isClosed() {
    return (state.get() & CLOSED) != 0;
  }

  /**
   * Closes the gate (false if it was closed already) and frees the handle now
   * if no call is in flight (throwing the free's error), else leaves that to
   * the last call out.
   */
  boolean close() {
    for (; ; ) {
      long s = state.get();
      if ((s & CLOSED) != 0) {
        return false;
      }
      if (state.compareAndSet(s, s | CLOSED)) {
        if (s == 0) {
          release();
        }
        return true;
      }
    }
  }

  private void release() {
    if (freed.compareAndSet(false, true)) {
      free.run();
    }
  }
}
