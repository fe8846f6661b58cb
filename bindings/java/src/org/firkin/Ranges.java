package org.firkin;

import java.time.Duration;
import java.time.Instant;

/**
 * Integers on their way to C. Java has no unsigned long: a negative long
 * given for a uint64_t (a sequence number, a version) would reach C as
 * 2^64 + it, and a negative int for a uint32_t as 2^32 + it, so such values
 * are refused with {@link FirkinException.InvalidArgument}. Times and TTLs
 * are not refused but converted exactly into the library's uint64_t
 * milliseconds (carried in a long's bits, as JNI passes them), saturating
 * at 2^64 - 1 ms, the expiry the library itself gives when commit time +
 * TTL overflows. Stateless; any thread.
 */
final class Ranges {
  private Ranges() {}

  /** 2^64 - 1, the largest uint64_t, as the bits of a long. */
  static final long MAX_U64 = -1L;

  /** The whole seconds below 2^64 ms: 18446744073709551. */
  private static final long MAX_SECONDS = Long.divideUnsigned(MAX_U64, 1000);

  /** v for a uint64_t parameter; InvalidArgument if it is negative. */
  static long u64(long v, String what) {
    if (v < 0) {
      throw new FirkinException.InvalidArgument(
          what + " must not be negative, got " + v + " (a uint64_t in [0, 2^63 - 1] from Java)");
    }
    return v;
  }

  /** v for a uint32_t parameter; InvalidArgument if it is negative. */
  static long u32(int v, String what) {
    if (v < 0) {
      throw new FirkinException.InvalidArgument(
          what + " must not be negative, got " + v + " (a uint32_t)");
    }
    return v;
  }

  /**
   * seconds (&gt;= 0) + nanos as unsigned milliseconds, rounded down or up,
   * saturating at 2^64 - 1.
   */
  private static long millis(long seconds, int nanos, boolean roundUp) {
    if (seconds > MAX_SECONDS) {
      return MAX_U64;
    }
    long whole = seconds * 1000; // at most 18446744073709551000: exact as unsigned
    long ms = whole + nanos / 1_000_000 + (roundUp && nanos % 1_000_000 != 0 ? 1 : 0);
    return Long.compareUnsigned(ms, whole) < 0 ? MAX_U64 : ms;
  }

  /**
   * A non-negative duration in unsigned milliseconds (rounded down or up),
   * saturating at 2^64 - 1; a negative one gives 0.
   */
  static long millis(Duration d, boolean roundUp) {
    return d.isNegative() ? 0 : millis(d.getSeconds(), d.getNano(), roundUp);
  }

  /**
   * An Instant in unsigned milliseconds since the epoch (rounded down):
   * 0 before the epoch, 2^64 - 1 beyond it.
   */
  static long epochMillis(Instant at) {
    return at.getEpochSecond() < 0 ? 0 : millis(at.getEpochSecond(), at.getNano(), false);
  }

  /** Unsigned milliseconds as a Duration (exact: a Duration holds 2^64 ms). */
  static Duration duration(long ms) {
    return Duration.ofSeconds(Long.divideUnsigned(ms, 1000), Long.remainderUnsigned(ms, 1000) * 1_000_000);
  }

  /** Unsigned milliseconds since the epoch as an Instant (exact). */
  static Instant instant(long ms) {
    return Instant.ofEpochSecond(Long.divideUnsigned(ms, 1000), Long.remainderUnsigned(ms, 1000) * 1_000_000);
  }
}
