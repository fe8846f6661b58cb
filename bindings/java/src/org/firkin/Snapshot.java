package org.firkin;

import java.lang.ref.Cleaner;
import java.time.Duration;

/**
 * A consistent read view at a sequence number (firkin_snapshot): reads see
 * exactly the writes with a sequence number &lt;= {@link #seq()}. The methods
 * taking a Namespace read that namespace (null = default).
 */
public final class Snapshot implements AutoCloseable {
  private final Firkin db;
  private SWIGTYPE_p_firkin_snapshot h;
  private final Cleaner.Cleanable release;
  private final long seq;

  Snapshot(Firkin db, long p) {
    this.db = db;
    this.h = new SWIGTYPE_p_firkin_snapshot(p, false);
    h.owner = this;
    // Every native call on the handle counts itself in and out of the gate
    // (Gate.java): close() racing a call on a shared snapshot frees it once
    // the call is out.
    Gate g = new Gate("snapshot", free(p), Gate.SHARED);
    h.gate = g;
    release = Handles.register(this, g::close);
    this.seq = FirkinNative.firkin_snapshot_seq(h);
  }

  private static Runnable free(long p) {
    return () -> FirkinNative.firkin_snapshot_free(new SWIGTYPE_p_firkin_snapshot(p, false));
  }

  synchronized SWIGTYPE_p_firkin_snapshot handle() {
    if (h == null) {
      throw new FirkinException.Closed("snapshot is closed");
    }
    return h;
  }

  public long seq() {
    return seq;
  }

  @Override
  public synchronized void close() {
    if (h != null) {
      h = null;
      release.clean();
    }
  }

  public byte[] get(byte[] key) {
    return get(null, key);
  }

  public byte[] get(Namespace ns, byte[] key) {
    return Ops.get(db.handle(), handle(), Namespace.handleOf(ns), key);
  }

  public int get(Namespace ns, byte[] key, byte[] buf) {
    return Ops.getInto(db.handle(), handle(), Namespace.handleOf(ns), key, buf);
  }

  public boolean contains(byte[] key) {
    return contains(null, key);
  }

  public boolean contains(Namespace ns, byte[] key) {
    return Ops.contains(db.handle(), handle(), Namespace.handleOf(ns), key);
  }

  public long version(Namespace ns, byte[] key) {
    return Ops.version(db.handle(), handle(), Namespace.handleOf(ns), key);
  }

  public byte[][] multiGet(Namespace ns, byte[]... keys) {
    return Ops.multiGet(db.handle(), handle(), Namespace.handleOf(ns), keys);
  }

  public FirkinIterator iterator() {
    return iterator(null);
  }

  public FirkinIterator iterator(Namespace ns) {
    return FirkinIterator.create(db.handle(), handle(), Namespace.handleOf(ns));
  }

  /**
   * The time left before key expires as seen through the snapshot (expiry
   * is decided at the time of the call): {@link Firkin#NO_EXPIRY}, or null
   * if absent or expired.
   */
  public Duration ttl(byte[] key) {
    return ttl(null, key);
  }

  public Duration ttl(Namespace ns, byte[] key) {
    return Ttl.ttl(db.handle(), handle(), Namespace.handleOf(ns), key);
  }
}
