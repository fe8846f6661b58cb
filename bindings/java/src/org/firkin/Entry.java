package org.firkin;

/** One key and its value, as returned by an iterator. */
public final class Entry {
  private final byte[] key;
  private final byte[] value;

  Entry(byte[] key, byte[] value) {
    this.key = key;
    this.value = value;
  }

  public byte[] key() {
    return key;
  }

  public byte[] value() {
    return value;
  }
}
