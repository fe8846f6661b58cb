package org.firkin;

import java.lang.ref.Cleaner;

/** Per-write settings (firkin_write_options). */
public final class WriteOptions implements AutoCloseable {
  private SWIGTYPE_p_firkin_write_options h;
  private final Cleaner.Cleanable release;

  /** Sync = DEFAULT (the database's mode). */
  public WriteOptions() {
    long[] p = new long[1];
    FirkinNative.fkb_write_options_new(p);
    h = new SWIGTYPE_p_firkin_write_options(p[0], false);
    h.owner = this;
    // Native calls on h count themselves in and out of the gate (Gate.java):
    // a close from another thread (twice at once, or under a call) frees once,
    // after the call in flight.
    Gate g = new Gate("write options", free(p[0]));
    h.gate = g;
    release = Handles.register(this, g::close);
  }

  private static Runnable free(long p) {
    return () -> FirkinNative.firkin_write_options_free(new SWIGTYPE_p_firkin_write_options(p, false));
  }

  synchronized SWIGTYPE_p_firkin_write_options handle() {
    if (h == null) {
      throw new FirkinException.Closed("write options are closed");
    }
    return h;
  }

  static SWIGTYPE_p_firkin_write_options handleOf(WriteOptions wo) {
    return wo == null ? null : wo.handle();
  }

  public WriteOptions sync(SyncMode m) {
    FirkinNative.firkin_write_options_set_sync(handle(), m.code);
    return this;
  }

  public SyncMode sync() {
    long[] v = new long[1];
    FirkinNative.fkb_write_options_get_sync(handle(), v);
    return SyncMode.of(v[0]);
  }

  /** Releases the write options. Closing twice is harmless. */
  @Override
  public synchronized void close() {
    if (h != null) {
      h = null;
      release.clean();
    }
  }
}
