package org.firkin;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;

/**
 * The TTL and time-travel operations shared by Firkin (default namespace),
 * Namespace, Snapshot and Batch: conversions between java.time and the
 * library's milliseconds, and the calls. Stateless; any thread.
 */
final class Ttl {
  private Ttl() {}

  /**
   * A TTL in whole milliseconds (the library's uint64_t, in a long's bits),
   * a positive duration rounded up (1 ns is 1 ms, never 0) and saturating at
   * 2^64 - 1 ms (never expires in practice). Zero or negative gives 0, which
   * the library rejects with INVALID_ARGUMENT; null is rejected here.
   */
  static long millis(Duration ttl) {
    if (ttl == null) {
      throw new FirkinException.InvalidArgument("ttl is null");
    }
    return ttl.isZero() ? 0 : Ranges.millis(ttl, true);
  }

  /**
   * An absolute expiry in ms since the epoch (a uint64_t in a long's bits),
   * saturating at 2^64 - 1 ms. A time at or before the epoch is already
   * past: it goes as 1 ms (the library refuses 0), so the key is written and
   * reads as absent at once, like any past time.
   */
  static long expiryMillis(Instant at) {
    if (at == null) {
      throw new FirkinException.InvalidArgument("time is null");
    }
    long ms = Ranges.epochMillis(at);
    return ms == 0 ? 1 : ms;
  }

  /**
   * A time for snapshots by clock time: ms since the epoch in [0, 2^64 - 1]
   * (0 before the epoch, before any write; 2^64 - 1 beyond it, the latest
   * state).
   */
  static long timeMillis(Instant at) {
    if (at == null) {
      throw new FirkinException.InvalidArgument("time is null");
    }
    return Ranges.epochMillis(at);
  }

  /** A library time (unsigned ms since the epoch) as an Instant; null for 0. */
  static Instant instant(long ms) {
    return ms == 0 ? null : Ranges.instant(ms);
  }

  static Duration ttl(
      SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[] key) {
    long[] n = Scratch.get().n;
    FirkinNative.fkb_ttl(db, snap, ns, key, n);
    long v = n[0];
    if (v == -2) {
      return null;
    }
    return v == -1 ? Firkin.NO_EXPIRY : Duration.ofMillis(v);
  }

  /** firkin_persist, NOT_FOUND as false. */
  static boolean persist(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_ns ns, byte[] key) {
    try {
      FirkinNative.firkin_persist(db, null, ns, key);
      return true;
    } catch (FirkinException.NotFound e) {
      return false;
    }
  }

  static KeyHistory history(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_ns ns, byte[] key) {
    Scratch s = Scratch.get();
    ByteBuffer b = s.buf;
    for (;;) {
      FirkinNative.fkb_history(db, ns, key, b, s.n);
      long n = s.n[0];
      if (n <= b.capacity()) {
        return KeyHistory.decode(b.slice(0, (int) n).order(java.nio.ByteOrder.LITTLE_ENDIAN));
      }
      b = s.grow(n);
    }
  }
}
