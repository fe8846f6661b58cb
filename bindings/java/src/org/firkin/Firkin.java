package org.firkin;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An open Firkin database (firkin_db).
 *
 * <pre>{@code
 * try (Firkin db = Firkin.open("/tmp/data")) {
 *   db.put(key, value);
 *   byte[] v = db.get(key);          // null when absent
 * }
 * }</pre>
 *
 * <p>A database may be used from many threads at once. Every handle class
 * (Firkin, Options, WriteOptions, Namespace, Snapshot, FirkinIterator, Batch)
 * is AutoCloseable: closing twice is harmless, and using a closed handle
 * throws {@link FirkinException.Closed}. A handle never closed is released
 * once unreachable (one shared Cleaner): a forgotten database is closed
 * then, and the error of its final flush lost; close() is still the way to
 * release at once. Errors are the unchecked {@link FirkinException}
 * subclasses, one per status.
 *
 * <p>close() and concurrent calls: close() may run while other threads are
 * inside calls on the same handle: those finish, calls that start after it
 * throw {@link FirkinException.Closed}, and the native handle is released
 * when the last call in flight returns (each call counts itself in and out
 * of a {@link Gate}: two atomic adds). close() then returns at once and the
 * final flush's error is lost: to see it, stop the other threads first.
 * close() never waits for those calls, so it may also be called from inside
 * one (a transaction's function).
 *
 * <p>Strings reach C as true UTF-8 (never JNI's modified UTF-8), so paths,
 * namespace names, option values and passphrases outside the BMP mean the same
 * bytes as in the other bindings; one holding a NUL character throws
 * InvalidArgument.
 */
public final class Firkin implements AutoCloseable {
  private volatile SWIGTYPE_p_firkin_db h;
  private final String path;
  private final Cleaner.Cleanable release;
  private final Gate gate;

  private Firkin(long p, String path) {
    SWIGTYPE_p_firkin_db d = new SWIGTYPE_p_firkin_db(p, false);
    d.owner = this;
    // Every native call on d counts itself in and out of the gate (Gate.java).
    Gate g = new Gate("database", free(p), Gate.SHARED);
    d.gate = g;
    this.gate = g;
    this.h = d;
    this.path = path;
    this.release = Handles.register(this, g::close);
  }

  // A database never closed is closed once unreachable; an error of its
  // final flush is then lost (close() throws it).
  private static Runnable free(long p) {
    return () -> FirkinNative.firkin_close(new SWIGTYPE_p_firkin_db(p, false));
  }

  /** Opens (or, by default, creates) the database in directory path. */
  public static Firkin open(String path) {
    return open(path, null);
  }

  /** Opens the database in directory path with options (null = defaults). */
  public static Firkin open(String path, Options opts) {
    long[] p = new long[1];
    FirkinNative.fkb_open(path, opts == null ? null : opts.handle(), p);
    return new Firkin(p[0], path);
  }

  /** The library's version, "major.minor.patch". */
  public static String version() {
    return FirkinNative.firkin_version_string();
  }

  /** The library's version as major*10000 + minor*100 + patch. */
  public static int versionNumber() {
    return FirkinNative.firkin_version_number();
  }

  public String path() {
    return path;
  }

  SWIGTYPE_p_firkin_db handle() {
    SWIGTYPE_p_firkin_db d = h;
    if (d == null) {
      throw new FirkinException.Closed("database is closed");
    }
    return d;
  }

  /**
   * Drops this handle; the database shuts down (final flush, lock released)
   * once its namespaces, snapshots and iterators are closed too. Throws if
   * that final flush fails. Closing twice is harmless.
   */
  @Override
  public void close() {
    SWIGTYPE_p_firkin_db d;
    synchronized (this) {
      d = h;
      h = null;
    }
    if (d != null) {
      release.clean(); // gate.close(): frees now, or when the last call in flight returns
    }
  }

  public boolean isClosed() {
    return h == null || gate.isClosed();
  }

  /** The value of key, or null if absent. */
  public byte[] get(byte[] key) {
    return Ops.get(handle(), null, null, key);
  }

  /**
   * Reads the value of key into buf, without allocating for a value of up to
   * 1 MiB (a larger one goes through a direct buffer of its size). Returns the
   * value's size, or -1 if absent; if the size is larger than buf.length nothing
   * is copied. InvalidArgument if buf is null.
   */
  public int get(byte[] key, byte[] buf) {
    return Ops.getInto(handle(), null, null, key, buf);
  }

  public boolean contains(byte[] key) {
    return Ops.contains(handle(), null, null, key);
  }

  /** The version of key's value (its write's sequence number), 0 if absent. */
  public long version(byte[] key) {
    return Ops.version(handle(), null, null, key);
  }

  /** Reads many keys at one snapshot; absent keys give null entries. */
  public byte[][] multiGet(byte[]... keys) {
    return Ops.multiGet(handle(), null, null, keys);
  }

  public void put(byte[] key, byte[] value) {
    FirkinNative.firkin_put(handle(), null, null, key, value);
  }

  public void put(WriteOptions wo, byte[] key, byte[] value) {
    FirkinNative.firkin_put(handle(), WriteOptions.handleOf(wo), null, key, value);
  }

  /** Removes key (removing an absent key succeeds). */
  public void delete(byte[] key) {
    FirkinNative.firkin_delete(handle(), null, null, key);
  }

  public void delete(WriteOptions wo, byte[] key) {
    FirkinNative.firkin_delete(handle(), WriteOptions.handleOf(wo), null, key);
  }

  /** Stores value only if key is absent; false if it exists. */
  public boolean putIfAbsent(byte[] key, byte[] value) {
    long[] n = Scratch.get().n;
    FirkinNative.fkb_put_if_absent(handle(), null, null, key, value, n);
    return n[0] == 1;
  }

  /** Stores value only if key's current value equals expected. */
  public boolean compareAndSwap(byte[] key, byte[] expected, byte[] value) {
    long[] n = Scratch.get().n;
    FirkinNative.fkb_cas(handle(), null, null, key, expected, value, n);
    return n[0] == 1;
  }

  /**
   * Stores value only if key's version equals expected (0 = absent).
   *
   * @throws FirkinException.InvalidArgument if expected is negative
   */
  public boolean compareAndSwapVersion(byte[] key, long expected, byte[] value) {
    long v = Ranges.u64(expected, "expected version");
    long[] n = Scratch.get().n;
    FirkinNative.fkb_cas_version(handle(), null, null, key, v, value, n);
    return n[0] == 1;
  }

  /** Number of live keys in the default namespace. */
  public long count() {
    long[] n = new long[1];
    FirkinNative.fkb_count(handle(), null, n);
    return n[0];
  }

  /** Iterates the default namespace at a new snapshot. */
  public FirkinIterator iterator() {
    return FirkinIterator.create(handle(), null, null);
  }

  /** How many times {@link #update} runs its function when commits keep conflicting. */
  public static final int DEFAULT_UPDATE_ATTEMPTS = 10;

  /** Begins a snapshot-isolation transaction (close it: try-with-resources). */
  public Transaction beginTransaction() {
    return beginTransaction(Isolation.SNAPSHOT);
  }

  /** Begins a transaction at a snapshot of the latest state. */
  public Transaction beginTransaction(Isolation isolation) {
    return new Transaction(this, isolation);
  }

  /**
   * Runs fn in a new snapshot-isolation transaction and commits it, retrying
   * on {@link FirkinException.Conflict} (see {@link #updateAndGet(Isolation,
   * int, Function)}).
   */
  public void update(Consumer<Transaction> fn) {
    update(Isolation.SNAPSHOT, DEFAULT_UPDATE_ATTEMPTS, fn);
  }

  public void update(Isolation isolation, int attempts, Consumer<Transaction> fn) {
    if (fn == null) {
      throw new FirkinException.InvalidArgument("fn is null");
    }
    updateAndGet(
        isolation,
        attempts,
        tx -> {
          fn.accept(tx);
          return null;
        });
  }

  public <T> T updateAndGet(Function<Transaction, T> fn) {
    return updateAndGet(Isolation.SNAPSHOT, DEFAULT_UPDATE_ATTEMPTS, fn);
  }

  /**
   * Runs fn in a new transaction and commits it, returning fn's result. When
   * the commit conflicts, begins a new transaction and runs fn again, at most
   * attempts times in all; then throws the last {@link
   * FirkinException.Conflict}. An exception from fn rolls back and propagates
   * (not retried). fn must not commit or roll back itself, and should have no
   * effects outside the transaction that are unsafe to repeat.
   */
  public <T> T updateAndGet(Isolation isolation, int attempts, Function<Transaction, T> fn) {
    if (attempts < 1) {
      throw FirkinException.create(-2, "attempts must be at least 1");
    }
    if (fn == null) {
      throw new FirkinException.InvalidArgument("fn is null");
    }
    for (int i = 1; ; i++) {
      try (Transaction tx = beginTransaction(isolation)) {
        tx.setManaged(true);
        T result = fn.apply(tx);
        tx.setManaged(false);
        try {
          tx.commit();
          return result;
        } catch (FirkinException.Conflict e) {
          if (i >= attempts) {
            throw e;
          }
        }
      }
    }
  }

  public Snapshot snapshot() {
    long[] p = new long[1];
    FirkinNative.fkb_snapshot_new(handle(), p);
    return new Snapshot(this, p[0]);
  }

  /**
   * A snapshot at an older sequence number (time travel).
   *
   * @throws FirkinException.InvalidArgument if seq is negative or past {@link #lastSeq()}
   */
  public Snapshot snapshotAt(long seq) {
    long q = Ranges.u64(seq, "seq");
    long[] p = new long[1];
    FirkinNative.fkb_snapshot_at(handle(), q, p);
    return new Snapshot(this, p[0]);
  }

  /**
   * {@link #ttl}'s answer for a key that never expires: {@code
   * ChronoUnit.FOREVER.getDuration()} (compare with equals).
   */
  public static final Duration NO_EXPIRY = ChronoUnit.FOREVER.getDuration();

  /**
   * Stores value under key; the key expires ttl after the write's commit
   * time (rounded up to whole ms, saturating at 2^64 - 1 ms; zero or
   * negative throws InvalidArgument).
   * From then on it reads as absent everywhere. A later put without a TTL
   * makes the key persistent.
   */
  public void put(byte[] key, byte[] value, Duration ttl) {
    FirkinNative.firkin_put_ttl(handle(), null, null, key, value, Ttl.millis(ttl));
  }

  public void put(WriteOptions wo, byte[] key, byte[] value, Duration ttl) {
    FirkinNative.firkin_put_ttl(handle(), WriteOptions.handleOf(wo), null, key, value, Ttl.millis(ttl));
  }

  /**
   * Stores value under key; the key expires at {@code at} (database clock,
   * whole ms). A time already past, the epoch and before included, writes
   * a key that reads as absent at once; one beyond 2^64 - 1 ms saturates
   * there (never expires in practice).
   */
  public void putExpireAt(byte[] key, byte[] value, Instant at) {
    FirkinNative.firkin_put_expire_at(handle(), null, null, key, value, Ttl.expiryMillis(at));
  }

  /**
   * The time left before key expires; {@link #NO_EXPIRY} if it never
   * expires; null if it is absent or expired.
   */
  public Duration ttl(byte[] key) {
    return Ttl.ttl(handle(), null, null, key);
  }

  /**
   * Removes key's expiry (writes its value again without one; nothing if it
   * has none). False if the key is absent or expired.
   */
  public boolean persist(byte[] key) {
    return Ttl.persist(handle(), null, key);
  }

  /**
   * The database clock in ms since the epoch: never behind the newest
   * commit time; it decides expiry and stamps commits.
   */
  public long nowMillis() {
    long[] n = new long[1];
    FirkinNative.fkb_now_ms(handle(), n);
    return n[0];
  }

  /** {@link #nowMillis()} as an Instant. */
  public Instant now() {
    return Instant.ofEpochMilli(nowMillis());
  }

  /**
   * A snapshot of the state as of {@code at} (database clock, whole ms):
   * every write committed at or before it and none after; a time before the
   * first write gives the empty state (seq 0); one beyond 2^64 - 1 ms
   * saturates there (the latest state). Throws SnapshotTooOld if the log
   * that tells that time is no longer kept (option history_retention_ms).
   */
  public Snapshot snapshotAt(Instant at) {
    long ms = Ttl.timeMillis(at);
    long[] p = new long[1];
    FirkinNative.fkb_snapshot_at_time(handle(), ms, p);
    return new Snapshot(this, p[0]);
  }

  /** The versions of key (default namespace), newest first, as far back as kept. */
  public KeyHistory history(byte[] key) {
    return Ttl.history(handle(), null, key);
  }

  /** Applies the batch atomically. */
  public void write(Batch b) {
    write(null, b);
  }

  public void write(WriteOptions wo, Batch b) {
    if (b == null) {
      throw new FirkinException.InvalidArgument("batch is null");
    }
    FirkinNative.firkin_write(handle(), WriteOptions.handleOf(wo), b.handle());
  }

  /** Makes every acknowledged write durable now. */
  public void sync() {
    FirkinNative.firkin_sync(handle());
  }

  /**
   * Moves a read-only handle to the latest durable state of the writer
   * process that has the database open (firkin_refresh): what the writer
   * made durable since the open or the last refresh becomes visible. Reads
   * in other threads see the old state until it is complete. Does nothing
   * on a writable handle. A refresh that dropped segments the writer retired
   * makes older snapshots fail with {@link FirkinException.SnapshotTooOld}.
   */
  public void refresh() {
    FirkinNative.firkin_refresh(handle());
  }

  /** A cursor over the committed changes after {@code since}, with batch markers. */
  public FirkinChanges changes(long since) {
    return FirkinChanges.open(handle(), since, true);
  }

  /**
   * A cursor over the committed changes after sequence number {@code since}
   * (0 = from the first); batchMarkers delivers BATCH_BEGIN/END around batches.
   *
   * @throws FirkinException.SnapshotTooOld if they are no longer retained
   * @throws FirkinException.InvalidArgument if since is negative or past {@link #lastSeq()}
   */
  public FirkinChanges changes(long since, boolean batchMarkers) {
    return FirkinChanges.open(handle(), since, batchMarkers);
  }

  /**
   * The oldest change still retained ({@code lastSeq() + 1} if none):
   * {@link #changes(long)} accepts any since &gt;= it - 1.
   */
  public long oldestChangeSeq() {
    long[] n = new long[1];
    FirkinNative.fkb_changes_oldest_seq(handle(), n);
    return n[0];
  }

  public long lastSeq() {
    long[] n = new long[1];
    FirkinNative.fkb_last_seq(handle(), n);
    return n[0];
  }

  /** Statistics as a JSON object. */
  public String stats() {
    SWIGTYPE_p_firkin_db d = handle();
    return Scratch.text((b, n) -> FirkinNative.fkb_stats(d, b, n));
  }

  /** Opens namespace name, creating it if needed. */
  public Namespace namespace(String name) {
    return openNamespace(name, true);
  }

  /** Opens namespace name; if absent, creates it when create is true. */
  public Namespace openNamespace(String name, boolean create) {
    long[] p = new long[1];
    FirkinNative.fkb_ns_open(handle(), name, create, p);
    return new Namespace(this, p[0]);
  }

  /** Creates namespace name; {@link FirkinException.Exists} if it exists. */
  public Namespace createNamespace(String name) {
    long[] p = new long[1];
    FirkinNative.fkb_ns_create(handle(), name, p);
    return new Namespace(this, p[0]);
  }

  /**
   * Creates namespace name as an ordered namespace (firkin_ns_create_v2
   * with FIRKIN_NS_ORDERED, a durable property): its keys can be read in
   * byte order by {@link #rangeIterator} and {@link #prefixIterator}.
   * {@link FirkinException.Exists} if a namespace of that name exists.
   */
  public Namespace createNamespaceOrdered(String name) {
    long[] p = new long[1];
    FirkinNative.fkb_ns_create_v2(handle(), name, FirkinNative.FIRKIN_NS_ORDERED, p);
    return new Namespace(this, p[0]);
  }

  /**
   * An ordered iterator over the keys k of ordered namespace ns with start
   * &lt;= k &lt; end, ascending (descending if reverse), at snap (null: a
   * new snapshot of the latest state). A null or empty start or end is no
   * bound. {@link FirkinException.InvalidArgument} if ns is not ordered
   * (null, the default namespace, is not).
   */
  public FirkinIterator rangeIterator(
      Namespace ns, Snapshot snap, byte[] start, byte[] end, boolean reverse) {
    return FirkinIterator.range(handle(), snap == null ? null : snap.handle(),
        Namespace.handleOf(ns), start, end, reverse);
  }

  /** The keys of ordered namespace ns starting with prefix (null or empty: all), as rangeIterator. */
  public FirkinIterator prefixIterator(Namespace ns, Snapshot snap, byte[] prefix, boolean reverse) {
    return FirkinIterator.prefix(handle(), snap == null ? null : snap.handle(),
        Namespace.handleOf(ns), prefix, reverse);
  }

  public void dropNamespace(String name) {
    FirkinNative.firkin_ns_drop(handle(), name);
  }

  /** The namespaces, "default" included. */
  public List<String> namespaces() {
    SWIGTYPE_p_firkin_db d = handle();
    return Ops.lines(Scratch.text((b, n) -> FirkinNative.fkb_ns_list(d, b, n)));
  }

  /** Rewrites now every sealed segment that holds dead bytes. */
  public void compact() {
    FirkinNative.firkin_compact(handle());
  }

  /** Writes an index checkpoint now. */
  public void checkpoint() {
    FirkinNative.firkin_checkpoint(handle());
  }

  /**
   * Verifies every record, the index and the namespace table; returns the JSON
   * report. A damaged database throws {@link FirkinException.Corruption}.
   */
  public String verify() {
    SWIGTYPE_p_firkin_db d = handle();
    return Scratch.text((b, n) -> FirkinNative.fkb_verify(d, b, n), Scratch.KEEP);
  }

  /** {@link #backup(String, BackupOptions)} with the default options. */
  public BackupReport backup(String dir) {
    return backup(dir, null);
  }

  /**
   * Online backup: writes into directory dir a copy of the database as of
   * one snapshot while other threads keep writing (firkin_backup). dir is
   * created, or must be empty or an earlier backup of this database (then
   * only what is new is copied). Until it is complete dir holds a
   * BACKUP-INCOMPLETE marker and {@link #open} refuses it
   * ({@link FirkinException.NotADatabase}). Throws InvalidArgument (dir is or
   * lies in the database directory), NotADatabase (a file or a foreign
   * directory), Exists (a backup of another database), Busy, Corruption (the
   * copy failed verification). opts may be null.
   */
  public BackupReport backup(String dir, BackupOptions opts) {
    SWIGTYPE_p_firkin_db d = handle();
    int flags = (opts == null ? new BackupOptions() : opts).flags();
    return BackupReport.once((b, n) -> FirkinNative.fkb_backup(d, flags, dir, b, n));
  }

  /**
   * Restore: copies the backup in backupDir (left unchanged) into destDir,
   * which must be missing or empty (Exists otherwise), as a database of its
   * own, verified (firkin_restore). incremental and hardLinks do not apply.
   */
  public static BackupReport restore(String backupDir, String destDir, BackupOptions opts) {
    int flags = (opts == null ? new BackupOptions() : opts).flags();
    return BackupReport.once((b, n) -> FirkinNative.fkb_restore(backupDir, flags, destDir, b, n));
  }

  /** Verifies the database at path without a writer (nothing is modified). */
  /**
   * Offline key rotation of the encrypted database at path (firkin_rekey): the
   * data key is unwrapped with oldOpts' key or passphrase and wrapped again
   * under newOpts'. The data key itself stays the same. Busy while the
   * database is open for writing; BadKey for a wrong old key.
   */
  public static void rekey(String path, Options oldOpts, Options newOpts) {
    if (oldOpts == null || newOpts == null) {
      throw new FirkinException.InvalidArgument("rekey needs the old and the new options");
    }
    FirkinNative.firkin_rekey(path, oldOpts.handle(), newOpts.handle());
  }

  public static String verifyPath(String path, Options opts) {
    SWIGTYPE_p_firkin_options o = opts == null ? null : opts.handle();
    return Scratch.text((b, n) -> FirkinNative.fkb_verify_path(path, o, b, n), Scratch.KEEP);
  }
}
