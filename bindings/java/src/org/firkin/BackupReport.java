package org.firkin;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What a backup or restore did (the report of firkin_backup). */
public final class BackupReport {
  /** The snapshot (sequence number) the copy holds. */
  public final long seq;
  /** Segment files in the copy, and how each got there. */
  public final long segments, linked, copied, kept;
  /** Files of an earlier backup that this one removed. */
  public final long removed;
  public final long bytesLinked, bytesCopied, bytesKept;
  public final boolean checkpoint, verified;
  /** The report as the library wrote it (JSON). */
  public final String json;

  BackupReport(String json) {
    this.json = json;
    seq = num(json, "seq");
    segments = num(json, "segments");
    linked = num(json, "linked");
    copied = num(json, "copied");
    kept = num(json, "kept");
    removed = num(json, "removed");
    bytesLinked = num(json, "bytes_linked");
    bytesCopied = num(json, "bytes_copied");
    bytesKept = num(json, "bytes_kept");
    checkpoint = json.contains("\"checkpoint\":true");
    verified = json.contains("\"verified\":true");
  }

  private static long num(String json, String field) {
    Matcher m = Pattern.compile("\"" + field + "\":([0-9]+)").matcher(json);
    return m.find() ? Long.parseUnsignedLong(m.group(1)) : 0;
  }

  interface Call {
    void call(ByteBuffer buf, long[] n);
  }

  /** Makes the call once (never again to fetch a longer report). */
  static BackupReport once(Call c) {
    ByteBuffer b = ByteBuffer.allocateDirect(4096).order(ByteOrder.LITTLE_ENDIAN);
    long[] n = new long[1];
    c.call(b, n);
    if (n[0] > b.capacity()) {
      throw FirkinException.create(-20, "backup report too long");
    }
    byte[] out = new byte[(int) n[0]];
    b.get(0, out);
    return new BackupReport(new String(out, StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return json;
  }
}
