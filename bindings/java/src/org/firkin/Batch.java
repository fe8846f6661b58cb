package org.firkin;

import java.lang.ref.Cleaner;
import java.time.Duration;

/**
 * Puts and deletes applied atomically by {@link Firkin#write}, across
 * namespaces (firkin_batch). Later operations on the same key win. One
 * thread at a time.
 */
public final class Batch implements AutoCloseable {
  private SWIGTYPE_p_firkin_batch h;
  private final Cleaner.Cleanable release;

  public Batch() {
    long[] p = new long[1];
    FirkinNative.fkb_batch_new(p);
    h = new SWIGTYPE_p_firkin_batch(p[0], false);
    h.owner = this;
    // Native calls on h count themselves in and out of the gate (Gate.java):
    // a close from another thread (twice at once, or under a call) frees once,
    // after the call in flight.
    Gate g = new Gate("batch", free(p[0]));
    h.gate = g;
    release = Handles.register(this, g::close);
  }

  private static Runnable free(long p) {
    return () -> FirkinNative.firkin_batch_free(new SWIGTYPE_p_firkin_batch(p, false));
  }

  synchronized SWIGTYPE_p_firkin_batch handle() {
    if (h == null) {
      throw new FirkinException.Closed("batch is closed");
    }
    return h;
  }

  public Batch put(byte[] key, byte[] value) {
    return put(null, key, value);
  }

  public Batch put(Namespace ns, byte[] key, byte[] value) {
    FirkinNative.firkin_batch_put(handle(), Namespace.handleOf(ns), key, value);
    return this;
  }

  /**
   * Queues a put that expires ttl after the batch's commit time (one time
   * for the whole batch).
   */
  public Batch put(byte[] key, byte[] value, Duration ttl) {
    return put(null, key, value, ttl);
  }

  public Batch put(Namespace ns, byte[] key, byte[] value, Duration ttl) {
    FirkinNative.firkin_batch_put_ttl(handle(), Namespace.handleOf(ns), key, value, Ttl.millis(ttl));
    return this;
  }

  public Batch delete(byte[] key) {
    return delete(null, key);
  }

  public Batch delete(Namespace ns, byte[] key) {
    FirkinNative.firkin_batch_delete(handle(), Namespace.handleOf(ns), key);
    return this;
  }

  public Batch clear() {
    FirkinNative.firkin_batch_clear(handle());
    return this;
  }

  /** Number of queued operations. */
  public long count() {
    long[] n = new long[1];
    FirkinNative.fkb_batch_count(handle(), n);
    return n[0];
  }

  @Override
  public synchronized void close() {
    if (h != null) {
      h = null;
      release.clean();
    }
  }
}
