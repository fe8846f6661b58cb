package org.firkin;

import java.lang.ref.Cleaner;

/**
 * Settings for {@link Firkin#open} (firkin_options). Create, set, pass to
 * open, close. {@code Firkin.open} copies what it needs.
 */
public final class Options implements AutoCloseable {
  private SWIGTYPE_p_firkin_options h;
  private final Cleaner.Cleanable release;

  /** The defaults (see capi/firkin.h). */
  public Options() {
    long[] p = new long[1];
    FirkinNative.fkb_options_new(p);
    h = new SWIGTYPE_p_firkin_options(p[0], false);
    h.owner = this;
    // Native calls on h count themselves in and out of the gate (Gate.java):
    // a close from another thread (twice at once, or under a call) frees once,
    // after the call in flight.
    Gate g = new Gate("options", free(p[0]));
    h.gate = g;
    release = Handles.register(this, g::close);
  }

  private static Runnable free(long p) {
    return () -> FirkinNative.firkin_options_free(new SWIGTYPE_p_firkin_options(p, false));
  }

  synchronized SWIGTYPE_p_firkin_options handle() {
    if (h == null) {
      throw new FirkinException.Closed("options are closed");
    }
    return h;
  }

  /** Sets an option by name, the value as text ("true", "always", "64M"). */
  public Options set(String name, String value) {
    FirkinNative.firkin_options_set(handle(), name, value);
    return this;
  }

  /** An option's value as text. */
  public String get(String name) {
    SWIGTYPE_p_firkin_options o = handle();
    return Scratch.text((b, n) -> FirkinNative.fkb_options_get(o, name, b, n));
  }

  /**
   * Encrypts a new database, or opens an encrypted one, with a raw 32-byte key
   * (copied; firkin_options_set_encryption_key). Opening an encrypted database
   * without its key or with a wrong one, or an unencrypted one with a key,
   * throws {@link FirkinException.BadKey}. InvalidArgument for another length.
   */
  public Options encryptionKey(byte[] key) {
    if (key == null) {
      throw new FirkinException.InvalidArgument("encryption key is null");
    }
    FirkinNative.firkin_options_set_encryption_key(handle(), key);
    return this;
  }

  /**
   * Like {@link #encryptionKey}, with a passphrase through Argon2id (cost: the
   * options kdf_memory_kib, kdf_passes, kdf_lanes; firkin_options_set_passphrase).
   */
  public Options passphrase(String passphrase) {
    if (passphrase == null || passphrase.indexOf('\0') >= 0) {
      throw new FirkinException.InvalidArgument("passphrase is null or holds a NUL character");
    }
    FirkinNative.firkin_options_set_passphrase(handle(), passphrase);
    return this;
  }

  /**
   * How long compaction keeps the history that time travel by clock time
   * ({@link Firkin#snapshotAt(java.time.Instant)}, {@link Firkin#history})
   * needs (history_retention_ms; zero, the default, keeps nothing extra).
   */
  public Options historyRetention(java.time.Duration d) {
    if (d == null || d.isNegative()) {
      throw new FirkinException.InvalidArgument("history retention must be a non-negative duration");
    }
    return setTyped("history_retention_ms", Ranges.millis(d, false));
  }

  public java.time.Duration historyRetention() {
    return Ranges.duration(getTyped("history_retention_ms"));
  }

  /**
   * An abandoned transaction gives up its snapshot once older than d
   * ("txn_max_age_ms"; default 10 minutes, zero = no limit) at the next
   * compaction cycle; its next call throws SnapshotTooOld.
   */
  public Options txnMaxAge(java.time.Duration d) {
    if (d == null || d.isNegative()) {
      throw new FirkinException.InvalidArgument("transaction max age must be a non-negative duration");
    }
    return setTyped("txn_max_age_ms", Ranges.millis(d, false));
  }

  public java.time.Duration txnMaxAge() {
    return Ranges.duration(getTyped("txn_max_age_ms"));
  }

  /** The typed accessors firkin_options_set_NAME (value as a long). */
  Options setTyped(String name, long v) {
    FirkinNative.fkb_options_set_typed(handle(), name, v);
    return this;
  }

  long getTyped(String name) {
    long[] v = new long[1];
    FirkinNative.fkb_options_get_typed(handle(), name, v);
    return v[0];
  }

  public Options createIfMissing(boolean v) {
    return setTyped("create_if_missing", v ? 1 : 0);
  }

  public boolean createIfMissing() {
    return getTyped("create_if_missing") != 0;
  }

  public Options errorIfExists(boolean v) {
    return setTyped("error_if_exists", v ? 1 : 0);
  }

  public boolean errorIfExists() {
    return getTyped("error_if_exists") != 0;
  }

  public Options readOnly(boolean v) {
    return setTyped("read_only", v ? 1 : 0);
  }

  public boolean readOnly() {
    return getTyped("read_only") != 0;
  }

  /** The database's sync mode (not DEFAULT). */
  public Options syncMode(SyncMode m) {
    return setTyped("sync_mode", m.code);
  }

  public SyncMode syncMode() {
    return SyncMode.of(getTyped("sync_mode"));
  }

  /** The background flush interval (1..60000 ms); negative throws InvalidArgument. */
  public Options syncIntervalMs(int ms) {
    return setTyped("sync_interval_ms", Ranges.u32(ms, "sync_interval_ms"));
  }

  /** The log segment size in bytes; negative throws InvalidArgument. */
  public Options segmentSize(long bytes) {
    return setTyped("segment_size", Ranges.u64(bytes, "segment_size"));
  }

  public Options salvage(boolean v) {
    return setTyped("salvage", v ? 1 : 0);
  }

  public Options verifyChecksums(boolean v) {
    return setTyped("verify_checksums", v ? 1 : 0);
  }

  /** Releases the options. Closing twice is harmless. */
  @Override
  public synchronized void close() {
    if (h != null) {
      h = null;
      release.clean();
    }
  }
}
