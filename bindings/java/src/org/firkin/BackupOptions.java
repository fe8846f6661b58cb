package org.firkin;

/**
 * Settings of {@link Firkin#backup(String, BackupOptions)} and
 * {@link Firkin#restore(String, String, BackupOptions)}; a plain value (no
 * native handle). The defaults: incremental, verify, hard links, checkpoint
 * all on. The progress callback of the C API is not offered in Java.
 */
public final class BackupOptions {
  private boolean incremental = true;
  private boolean verify = true;
  private boolean hardLinks = true;
  private boolean checkpoint = true;

  /** Into an earlier backup of the same database, keep what is already there. */
  public BackupOptions incremental(boolean v) {
    incremental = v;
    return this;
  }

  /** Open and verify the finished copy before marking it complete. */
  public BackupOptions verify(boolean v) {
    verify = v;
    return this;
  }

  /** Hard-link sealed segments on the same file system (else copy). */
  public BackupOptions hardLinks(boolean v) {
    hardLinks = v;
    return this;
  }

  /** Copy the index checkpoint too. */
  public BackupOptions checkpoint(boolean v) {
    checkpoint = v;
    return this;
  }

  public boolean incremental() {
    return incremental;
  }

  public boolean verify() {
    return verify;
  }

  public boolean hardLinks() {
    return hardLinks;
  }

  public boolean checkpoint() {
    return checkpoint;
  }

  /**
   * Sets an option by its C name ("incremental", "verify", "hard_links",
   * "checkpoint") to "true"/"false"/"1"/"0", as firkin_backup_options_set;
   * anything else throws {@link FirkinException.InvalidArgument}.
   */
  public BackupOptions set(String name, String value) {
    boolean v;
    if (value.equals("true") || value.equals("1")) {
      v = true;
    } else if (value.equals("false") || value.equals("0")) {
      v = false;
    } else {
      throw new FirkinException.InvalidArgument(
          "backup option '" + name + "' takes true/false/1/0, not '" + value + "'");
    }
    switch (name) {
      case "incremental": return incremental(v);
      case "verify": return verify(v);
      case "hard_links": return hardLinks(v);
      case "checkpoint": return checkpoint(v);
      default:
        throw new FirkinException.InvalidArgument("unknown backup option '" + name + "'");
    }
  }

  /** An option by its C name, as "true" or "false". */
  public String get(String name) {
    switch (name) {
      case "incremental": return Boolean.toString(incremental);
      case "verify": return Boolean.toString(verify);
      case "hard_links": return Boolean.toString(hardLinks);
      case "checkpoint": return Boolean.toString(checkpoint);
      default:
        throw new FirkinException.InvalidArgument("unknown backup option '" + name + "'");
    }
  }

  int flags() {
    return (incremental ? FirkinNative.FKB_BACKUP_INCREMENTAL : 0)
        | (verify ? FirkinNative.FKB_BACKUP_VERIFY : 0)
        | (hardLinks ? FirkinNative.FKB_BACKUP_HARD_LINKS : 0)
        | (checkpoint ? FirkinNative.FKB_BACKUP_CHECKPOINT : 0);
  }
}
