package org.firkin;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;

/**
 * An optimistic transaction (firkin_txn), from {@link Firkin#beginTransaction}.
 * Reads see its snapshot plus its own writes, across namespaces (the methods
 * taking a Namespace; null = the default namespace); writes are buffered
 * until {@link #commit()}, which applies them as one atomic unit or throws
 * {@link FirkinException.Conflict} (nothing applied). Once committed, rolled
 * back, or after a failed commit, the transaction is finished and its calls
 * throw {@link FirkinException.InvalidArgument}: begin a new one to retry,
 * or let {@link Firkin#update} do it.
 *
 * <pre>{@code
 * try (Transaction tx = db.beginTransaction(Isolation.SNAPSHOT)) {
 *   byte[] v = tx.get(k);
 *   tx.put(k, v2);
 *   tx.commit();
 * } // close() rolls back if not committed
 * }</pre>
 *
 * <p>Thread contract: one thread at a time; any number of transactions may
 * be open at once. An open transaction pins the history its snapshot reads
 * until it is committed, rolled back or closed.
 */
public final class Transaction implements AutoCloseable {
  private SWIGTYPE_p_firkin_txn h;
  private final Cleaner.Cleanable release;
  private final Isolation isolation;
  private final long snapshotSeq;
  private final long[] n = new long[1];
  private long commitSeq;
  private boolean finished;
  private boolean managed;

  Transaction(Firkin db, Isolation isolation) {
    if (isolation == null) {
      throw FirkinException.create(-2, "isolation is null");
    }
    long[] p = new long[1];
    FirkinNative.fkb_txn_begin(db.handle(), isolation.code, p);
    this.h = new SWIGTYPE_p_firkin_txn(p[0], false);
    h.owner = this;
    // Native calls on h count themselves in and out of the gate (Gate.java):
    // a close from another thread (twice at once, or under a call) frees once,
    // after the call in flight.
    Gate g = new Gate("transaction", free(p[0]));
    h.gate = g;
    release = Handles.register(this, g::close);
    this.isolation = isolation;
    FirkinNative.fkb_txn_snapshot_seq(h, n);
    this.snapshotSeq = n[0];
  }

  private static Runnable free(long p) {
    return () -> FirkinNative.firkin_txn_free(new SWIGTYPE_p_firkin_txn(p, false));
  }

  SWIGTYPE_p_firkin_txn handle() {
    if (h == null) {
      throw new FirkinException.Closed("transaction is closed");
    }
    return h;
  }

  void setManaged(boolean m) {
    managed = m;
  }

  public Isolation isolation() {
    return isolation;
  }

  /** The sequence number of the transaction's snapshot. */
  public long snapshotSeq() {
    return snapshotSeq;
  }

  /** The sequence number of the successful commit; 0 before. */
  public long commitSeq() {
    return commitSeq;
  }

  /** True once committed, rolled back, or its commit failed. */
  public boolean isFinished() {
    return finished;
  }

  public byte[] get(byte[] key) {
    return get(null, key);
  }

  /** The value of key as the transaction sees it; null if absent. */
  public byte[] get(Namespace ns, byte[] key) {
    SWIGTYPE_p_firkin_txn t = handle();
    Scratch s = Scratch.get();
    ByteBuffer b = s.buf;
    for (;;) {
      FirkinNative.fkb_txn_get(t, Namespace.handleOf(ns), key, b, s.n);
      long len = s.n[0];
      if (len < 0) {
        return null;
      }
      if (len <= b.capacity()) {
        byte[] out = new byte[(int) len];
        b.get(0, out);
        return out;
      }
      b = s.grow(len);
    }
  }

  public boolean contains(byte[] key) {
    return contains(null, key);
  }

  /** Whether key has a value as the transaction sees it (a read). */
  public boolean contains(Namespace ns, byte[] key) {
    FirkinNative.fkb_txn_contains(handle(), Namespace.handleOf(ns), key, n);
    return n[0] == 1;
  }

  public void put(byte[] key, byte[] value) {
    put(null, key, value);
  }

  /** Buffers key=value (applied at commit). */
  public void put(Namespace ns, byte[] key, byte[] value) {
    FirkinNative.firkin_txn_put(handle(), Namespace.handleOf(ns), key, value);
  }

  /**
   * Buffers key=value expiring ttl after the commit's time (whole ms; zero
   * or negative throws InvalidArgument). The transaction reads its own such
   * put as present.
   */
  public void put(byte[] key, byte[] value, java.time.Duration ttl) {
    put(null, key, value, ttl);
  }

  public void put(Namespace ns, byte[] key, byte[] value, java.time.Duration ttl) {
    FirkinNative.firkin_txn_put_ttl(handle(), Namespace.handleOf(ns), key, value, Ttl.millis(ttl));
  }

  /**
   * Buffers key=value expiring at {@code at} (database clock), as {@link
   * Firkin#putExpireAt}; a time already past (the epoch and before included)
   * reads as absent, in the transaction too.
   */
  public void putExpireAt(byte[] key, byte[] value, java.time.Instant at) {
    putExpireAt(null, key, value, at);
  }

  public void putExpireAt(Namespace ns, byte[] key, byte[] value, java.time.Instant at) {
    FirkinNative.firkin_txn_put_expire_at(handle(), Namespace.handleOf(ns), key, value,
        Ttl.expiryMillis(at));
  }

  public void delete(byte[] key) {
    delete(null, key);
  }

  /** Buffers the removal of key (an absent key is not an error). */
  public void delete(Namespace ns, byte[] key) {
    FirkinNative.firkin_txn_delete(handle(), Namespace.handleOf(ns), key);
  }

  public boolean compareAndSwap(byte[] key, byte[] expected, byte[] value) {
    return compareAndSwap(null, key, expected, value);
  }

  /**
   * Buffers key=value if the transaction sees expected there; false (and
   * nothing buffered) otherwise. A change by others after the snapshot makes
   * the commit conflict.
   */
  public boolean compareAndSwap(Namespace ns, byte[] key, byte[] expected, byte[] value) {
    FirkinNative.fkb_txn_cas(handle(), Namespace.handleOf(ns), key, expected, value, n);
    return n[0] == 1;
  }

  public FirkinIterator iterator() {
    return iterator(null);
  }

  /**
   * Iterates ns as the transaction sees it now (its later writes are not
   * seen). The iterator may outlive the transaction; close it. Serializable:
   * a write to ns committed by others after the snapshot makes the commit
   * conflict.
   */
  public FirkinIterator iterator(Namespace ns) {
    return FirkinIterator.create(handle(), Namespace.handleOf(ns));
  }

  /**
   * An ordered iterator over [start, end) of ordered namespace ns as the
   * transaction sees it now, its own uncommitted writes included
   * (firkin_txn_range_iter_new); null or empty bounds are no bound.
   * Serializable: a write to ns committed by others after the snapshot makes
   * the commit conflict.
   */
  public FirkinIterator rangeIterator(Namespace ns, byte[] start, byte[] end, boolean reverse) {
    return FirkinIterator.range(handle(), Namespace.handleOf(ns), start, end, reverse);
  }

  /** The keys of ns starting with prefix as the transaction sees them, in order. */
  public FirkinIterator prefixIterator(Namespace ns, byte[] prefix, boolean reverse) {
    return FirkinIterator.prefix(handle(), Namespace.handleOf(ns), prefix, reverse);
  }

  /** Commits with the database's write options; returns the commit's sequence number. */
  public long commit() {
    return commit(null);
  }

  /**
   * Validates and applies the writes atomically; returns the commit's
   * sequence number (the snapshot's when nothing was written). Throws
   * {@link FirkinException.Conflict} (the message names the first
   * conflicting namespace and key) and applies nothing. The transaction is
   * finished whatever the outcome.
   */
  public long commit(WriteOptions wo) {
    SWIGTYPE_p_firkin_txn t = handle();
    if (managed) {
      throw FirkinException.create(-2, "commit of a transaction managed by update(): return instead");
    }
    long[] seq = new long[1];
    try {
      FirkinNative.fkb_txn_commit(t, WriteOptions.handleOf(wo), seq);
    } finally {
      finished = true;
    }
    commitSeq = seq[0];
    return commitSeq;
  }

  /** Discards the buffered writes and releases the snapshot; throws if already finished. */
  public void rollback() {
    SWIGTYPE_p_firkin_txn t = handle();
    if (managed) {
      throw FirkinException.create(-2, "rollback of a transaction managed by update(): throw instead");
    }
    FirkinNative.firkin_txn_rollback(t);
    finished = true;
  }

  /** Rolls back if still open and frees the transaction. Closing twice is harmless. */
  @Override
  public void close() {
    if (h != null) {
      h = null;
      release.clean();
      finished = true;
    }
  }
}
