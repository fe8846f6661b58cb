package org.firkin;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * The versions of one key, newest first ({@link Firkin#history}), copied
 * when it was read: iterating needs no database and holds no native
 * resource. {@link #close()} drops the copies (iterating afterwards throws
 * {@link FirkinException.Closed}); it exists so that a history reads like the
 * other results in try-with-resources. One thread at a time.
 */
public final class KeyHistory implements Iterable<KeyVersion>, AutoCloseable {
  private List<KeyVersion> versions;
  private final boolean truncated;

  private KeyHistory(List<KeyVersion> versions, boolean truncated) {
    this.versions = versions;
    this.truncated = truncated;
  }

  /** Decodes fkb_history's packed layout (see firkin.i). */
  static KeyHistory decode(ByteBuffer b) {
    boolean truncated = (b.getInt() & 1) != 0;
    int count = b.getInt();
    List<KeyVersion> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      long seq = b.getLong();
      long time = b.getLong();
      long expiry = b.getLong();
      boolean deleted = (b.getInt() & 1) != 0;
      byte[] v = new byte[b.getInt()];
      b.get(v);
      out.add(new KeyVersion(seq, Ttl.instant(time), Ttl.instant(expiry), deleted, deleted ? null : v));
    }
    return new KeyHistory(Collections.unmodifiableList(out), truncated);
  }

  private List<KeyVersion> list() {
    List<KeyVersion> v = versions;
    if (v == null) {
      throw new FirkinException.Closed("history is closed");
    }
    return v;
  }

  /** The versions, newest first (an unmodifiable list). */
  public List<KeyVersion> versions() {
    return list();
  }

  public int size() {
    return list().size();
  }

  /** Whether older versions existed but were compacted away. */
  public boolean truncated() {
    return truncated;
  }

  @Override
  public Iterator<KeyVersion> iterator() {
    return list().iterator();
  }

  @Override
  public void close() {
    versions = null;
  }
}
