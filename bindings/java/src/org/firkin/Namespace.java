package org.firkin;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.time.Instant;

/**
 * A handle to a named key space (firkin_ns); its operations mirror
 * {@link Firkin}'s. It keeps the database alive, but operations still need the
 * Firkin handle open. Using the handle of a dropped namespace throws
 * {@link FirkinException.NamespaceNotFound}.
 */
public final class Namespace implements AutoCloseable {
  private final Firkin db;
  private SWIGTYPE_p_firkin_ns h;
  private final Cleaner.Cleanable release;
  private final String name;

  Namespace(Firkin db, long p) {
    this.db = db;
    SWIGTYPE_p_firkin_ns hh = new SWIGTYPE_p_firkin_ns(p, false);
    hh.owner = this;
    this.name = FirkinNative.firkin_ns_name(hh);
    // Every native call on the handle counts itself in and out of the gate
    // (Gate.java): close() racing a call on a shared namespace frees it once
    // the call is out.
    Gate g = new Gate("namespace " + name, free(p), Gate.SHARED);
    hh.gate = g;
    this.h = hh;
    release = Handles.register(this, g::close);
  }

  private static Runnable free(long p) {
    return () -> FirkinNative.firkin_ns_close(new SWIGTYPE_p_firkin_ns(p, false));
  }

  synchronized SWIGTYPE_p_firkin_ns handle() {
    if (h == null) {
      throw new FirkinException.Closed("namespace " + name + " is closed");
    }
    return h;
  }

  static SWIGTYPE_p_firkin_ns handleOf(Namespace ns) {
    return ns == null ? null : ns.handle();
  }

  public String name() {
    return name;
  }

  /** Whether the namespace was created ordered (firkin_ns_flags). */
  public boolean isOrdered() {
    long[] f = new long[1];
    FirkinNative.fkb_ns_flags(handle(), f);
    return (f[0] & FirkinNative.FIRKIN_NS_ORDERED) != 0;
  }

  /** Releases the handle (not the namespace). Closing twice is harmless. */
  @Override
  public synchronized void close() {
    if (h != null) {
      h = null;
      release.clean();
    }
  }

  public byte[] get(byte[] key) {
    return Ops.get(db.handle(), null, handle(), key);
  }

  public int get(byte[] key, byte[] buf) {
    return Ops.getInto(db.handle(), null, handle(), key, buf);
  }

  public boolean contains(byte[] key) {
    return Ops.contains(db.handle(), null, handle(), key);
  }

  public long version(byte[] key) {
    return Ops.version(db.handle(), null, handle(), key);
  }

  public byte[][] multiGet(byte[]... keys) {
    return Ops.multiGet(db.handle(), null, handle(), keys);
  }

  public void put(byte[] key, byte[] value) {
    FirkinNative.firkin_put(db.handle(), null, handle(), key, value);
  }

  public void put(WriteOptions wo, byte[] key, byte[] value) {
    FirkinNative.firkin_put(db.handle(), WriteOptions.handleOf(wo), handle(), key, value);
  }

  public void delete(byte[] key) {
    FirkinNative.firkin_delete(db.handle(), null, handle(), key);
  }

  public void delete(WriteOptions wo, byte[] key) {
    FirkinNative.firkin_delete(db.handle(), WriteOptions.handleOf(wo), handle(), key);
  }

  public boolean putIfAbsent(byte[] key, byte[] value) {
    long[] n = Scratch.get().n;
    FirkinNative.fkb_put_if_absent(db.handle(), null, handle(), key, value, n);
    return n[0] == 1;
  }

  public boolean compareAndSwap(byte[] key, byte[] expected, byte[] value) {
    long[] n = Scratch.get().n;
    FirkinNative.fkb_cas(db.handle(), null, handle(), key, expected, value, n);
    return n[0] == 1;
  }

  /** See {@link Firkin#compareAndSwapVersion}: a negative expected version throws InvalidArgument. */
  public boolean compareAndSwapVersion(byte[] key, long expected, byte[] value) {
    long v = Ranges.u64(expected, "expected version");
    long[] n = Scratch.get().n;
    FirkinNative.fkb_cas_version(db.handle(), null, handle(), key, v, value, n);
    return n[0] == 1;
  }

  public long count() {
    long[] n = new long[1];
    FirkinNative.fkb_count(db.handle(), handle(), n);
    return n[0];
  }

  public FirkinIterator iterator() {
    return FirkinIterator.create(db.handle(), null, handle());
  }

  /** See {@link Firkin#put(byte[], byte[], Duration)}. */
  public void put(byte[] key, byte[] value, Duration ttl) {
    FirkinNative.firkin_put_ttl(db.handle(), null, handle(), key, value, Ttl.millis(ttl));
  }

  public void put(WriteOptions wo, byte[] key, byte[] value, Duration ttl) {
    FirkinNative.firkin_put_ttl(
        db.handle(), WriteOptions.handleOf(wo), handle(), key, value, Ttl.millis(ttl));
  }

  /** See {@link Firkin#putExpireAt}. */
  public void putExpireAt(byte[] key, byte[] value, Instant at) {
    FirkinNative.firkin_put_expire_at(db.handle(), null, handle(), key, value, Ttl.expiryMillis(at));
  }

  /** See {@link Firkin#ttl}: {@link Firkin#NO_EXPIRY}, or null if absent or expired. */
  public Duration ttl(byte[] key) {
    return Ttl.ttl(db.handle(), null, handle(), key);
  }

  /** See {@link Firkin#persist}. */
  public boolean persist(byte[] key) {
    return Ttl.persist(db.handle(), handle(), key);
  }

  /** See {@link Firkin#history}. */
  public KeyHistory history(byte[] key) {
    return Ttl.history(db.handle(), handle(), key);
  }
}
