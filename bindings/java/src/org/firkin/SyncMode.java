package org.firkin;

/** When a write is acknowledged, relative to durability (firkin_sync_mode). */
public enum SyncMode {
  /** The database's mode (write options only). */
  DEFAULT(-1, "default"),
  /** Acknowledged once in the OS page cache. */
  NONE(0, "none"),
  /** NONE plus a background flush every sync_interval_ms. */
  INTERVAL(1, "interval"),
  /** Acknowledged after an fdatasync covering the write. */
  ALWAYS(2, "always");

  final int code;
  final String text;

  SyncMode(int code, String text) {
    this.code = code;
    this.text = text;
  }

  static SyncMode of(long code) {
    for (SyncMode m : values()) {
      if (m.code == code) {
        return m;
      }
    }
    throw FirkinException.create(-2, "unknown sync mode " + code);
  }

  @Override
  public String toString() {
    return text;
  }
}
