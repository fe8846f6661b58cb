using System;
using System.Collections.Generic;

namespace Firkin
{
    /// <summary>
    /// An open Firkin database (firkin_db).
    /// <code>
    /// using (var db = Db.Open("/tmp/data")) {
    ///     db.Put(key, value);
    ///     byte[] v = db.Get(key);   // null when absent
    /// }
    /// </code>
    /// A database may be used from many threads at once. Every handle class is
    /// IDisposable: disposing twice is harmless, using a disposed handle throws
    /// <see cref="ClosedException"/>, finalizers only release what was
    /// forgotten. Errors are <see cref="FirkinException"/> subclasses, one per
    /// status.
    /// Dispose and concurrent calls: Dispose may run while other threads are
    /// inside calls on the same handle: those finish, calls that start after
    /// it throw <see cref="ClosedException"/>, and the native handle is
    /// released when the last call in flight returns (each call counts itself
    /// in and out of a gate: two interlocked adds). Dispose then returns at
    /// once and the final flush's error is lost: to see it, stop the other
    /// threads first. Dispose never waits for those calls, so it may also be
    /// called from inside one (a transaction's function).
    /// A string holding a NUL character (a path, a namespace name, an option)
    /// throws <see cref="InvalidArgumentException"/>.
    /// </summary>
    public sealed partial class Db : IDisposable
    {
        volatile SWIGTYPE_p_firkin_db h;
        readonly Gate gate;

        public string Path { get; }

        Db(SWIGTYPE_p_firkin_db h, string path)
        {
            this.h = h;
            h.Owner = this;
            // Every native call on h counts itself in and out of the gate (Gate.cs).
            IntPtr p = SWIGTYPE_p_firkin_db.getCPtr(h).Handle;
            gate = new Gate("database", () => FirkinNative.firkin_close(new SWIGTYPE_p_firkin_db(p, false)), Gate.Shared);
            h.Gate = gate;
            Path = path;
        }

        /// <summary>Opens (or, by default, creates) the database in directory path.</summary>
        public static Db Open(string path) { return Open(path, null); }

        /// <summary>Opens the database in directory path with options (null = defaults).</summary>
        public static Db Open(string path, Options options)
        {
            long p;
            FirkinNative.fkb_open(path, options == null ? null : options.Handle, out p);
            return new Db(new SWIGTYPE_p_firkin_db(new IntPtr(p), false), path);
        }

        /// <summary>The library's version, "major.minor.patch".</summary>
        public static string Version { get { return FirkinNative.firkin_version_string(); } }

        /// <summary>The library's version as major*10000 + minor*100 + patch.</summary>
        public static int VersionNumber { get { return FirkinNative.firkin_version_number(); } }

        internal SWIGTYPE_p_firkin_db Handle
        {
            get
            {
                var d = h;
                if (d == null) throw new ClosedException("database is closed");
                return d;
            }
        }

        public bool IsClosed { get { return h == null || gate.IsClosed; } }

        /// <summary>
        /// Drops this handle; the database shuts down (final flush, lock
        /// released) once its namespaces, snapshots and iterators are disposed
        /// too. Throws if that final flush fails. Disposing twice is harmless.
        /// </summary>
        public void Dispose()
        {
            SWIGTYPE_p_firkin_db d;
            lock (this)
            {
                d = h;
                h = null;
            }
            GC.SuppressFinalize(this);
            if (d != null) gate.Close();  // frees now, or when the last call in flight returns
        }

        ~Db()
        {
            h = null;
            try { gate.Close(); } catch (FirkinException) { }
        }

        /// <summary>The value of key, or null if absent.</summary>
        public byte[] Get(byte[] key) { return Ops.Get(Handle, null, null, key); }

        /// <summary>
        /// Reads the value of key into buf without allocating: returns its size,
        /// or -1 if absent; if the size is larger than buf, nothing is copied.
        /// </summary>
        public int Get(byte[] key, byte[] buf) { return Ops.GetInto(Handle, null, null, key, buf); }

        public bool Contains(byte[] key) { return Ops.Contains(Handle, null, null, key); }

        /// <summary>The version of key's value (its write's sequence number), 0 if absent.</summary>
        public ulong GetVersion(byte[] key) { return Ops.Version(Handle, null, null, key); }

        /// <summary>Reads many keys at one snapshot; absent keys give null entries.</summary>
        public byte[][] MultiGet(params byte[][] keys) { return Ops.MultiGet(Handle, null, null, keys); }

        public void Put(byte[] key, byte[] value) { Put(null, key, value); }

        public void Put(WriteOptions wo, byte[] key, byte[] value)
        {
            FirkinNative.firkin_put(Handle, WriteOptions.HandleOf(wo), null, key, L(key), value, L(value));
        }

        /// <summary>Removes key (removing an absent key succeeds).</summary>
        public void Delete(byte[] key) { Delete(null, key); }

        public void Delete(WriteOptions wo, byte[] key)
        {
            FirkinNative.firkin_delete(Handle, WriteOptions.HandleOf(wo), null, key, L(key));
        }

        /// <summary>Stores value only if key is absent; false if it exists.</summary>
        public bool PutIfAbsent(byte[] key, byte[] value)
        {
            long n;
            FirkinNative.fkb_put_if_absent(Handle, null, null, key, L(key), value, L(value), out n);
            return n == 1;
        }

        /// <summary>Stores value only if key's current value equals expected.</summary>
        public bool CompareAndSwap(byte[] key, byte[] expected, byte[] value)
        {
            long n;
            FirkinNative.fkb_cas(Handle, null, null, key, L(key), expected, L(expected), value, L(value), out n);
            return n == 1;
        }

        /// <summary>Stores value only if key's version equals expected (0 = absent).</summary>
        public bool CompareAndSwapVersion(byte[] key, ulong expected, byte[] value)
        {
            long n;
            FirkinNative.fkb_cas_version(Handle, null, null, key, L(key), expected, value, L(value), out n);
            return n == 1;
        }

        /// <summary>Number of live keys in the default namespace.</summary>
        public ulong Count()
        {
            long n;
            FirkinNative.fkb_count(Handle, null, out n);
            return (ulong)n;
        }

        /// <summary>
        /// The default namespace's entries, for foreach and LINQ: each
        /// enumeration opens its own iterator at a new snapshot (and disposes
        /// it), so the result can be enumerated again. Throws
        /// <see cref="ClosedException"/> at once if the database is closed.
        /// </summary>
        public Entries Iterate()
        {
            _ = Handle; // ClosedException now, not at the first foreach
            return new Entries(() => Iterator.Create(Handle, null, null));
        }

        /// <summary>An explicit iterator over the default namespace at a new snapshot (MoveNext / Current); dispose it.</summary>
        public Iterator NewIterator() { return Iterator.Create(Handle, null, null); }

        /// <summary>How many times <see cref="Update(Action{Transaction}, Isolation, int)"/> runs its action when commits keep conflicting.</summary>
        public const int DefaultUpdateAttempts = 10;

        /// <summary>Begins a transaction at a snapshot of the latest state (dispose it: using).</summary>
        public Transaction BeginTransaction(Isolation isolation = Isolation.Snapshot)
        {
            return new Transaction(this, isolation);
        }

        /// <summary>
        /// Runs fn in a new transaction and commits it. When the commit throws
        /// <see cref="ConflictException"/>, begins a new transaction and runs fn
        /// again, at most attempts times in all; then the last conflict is
        /// thrown. An exception from fn rolls back and propagates (not retried).
        /// fn must not commit or roll back itself, and should have no effects
        /// outside the transaction that are unsafe to repeat.
        /// </summary>
        public void Update(Action<Transaction> fn, Isolation isolation = Isolation.Snapshot,
                           int attempts = DefaultUpdateAttempts)
        {
            if (fn == null) throw new InvalidArgumentException("fn is null");
            Update<object>(tx => { fn(tx); return null; }, isolation, attempts);
        }

        /// <summary>As <see cref="Update(Action{Transaction}, Isolation, int)"/>, returning fn's result.</summary>
        public T Update<T>(Func<Transaction, T> fn, Isolation isolation = Isolation.Snapshot,
                           int attempts = DefaultUpdateAttempts)
        {
            if (fn == null) throw new InvalidArgumentException("fn is null");
            if (attempts < 1) throw new InvalidArgumentException("attempts must be at least 1");
            for (int i = 1; ; i++)
            {
                using (var tx = BeginTransaction(isolation))
                {
                    tx.Managed = true;
                    T result = fn(tx);
                    tx.Managed = false;
                    try
                    {
                        tx.Commit();
                        return result;
                    }
                    catch (ConflictException)
                    {
                        if (i >= attempts) throw;
                    }
                }
            }
        }

        public Snapshot Snapshot()
        {
            long p;
            FirkinNative.fkb_snapshot_new(Handle, out p);
            return new Snapshot(this, p);
        }

        /// <summary>A snapshot at an older sequence number (time travel).</summary>
        public Snapshot SnapshotAt(ulong seq)
        {
            long p;
            FirkinNative.fkb_snapshot_at(Handle, seq, out p);
            return new Snapshot(this, p);
        }

        /// <summary>Applies the batch atomically.</summary>
        public void Write(Batch b) { Write(null, b); }

        public void Write(WriteOptions wo, Batch b)
        {
            if (b == null) throw new InvalidArgumentException("batch is null");
            FirkinNative.firkin_write(Handle, WriteOptions.HandleOf(wo), b.Handle);
        }

        /// <summary>Makes every acknowledged write durable now.</summary>
        public void Sync() { FirkinNative.firkin_sync(Handle); }

        /// <summary>Moves a read-only handle to the latest durable state of the
        /// writer process that has the database open (firkin_refresh): what the
        /// writer made durable since the open or the last refresh becomes
        /// visible. Reads in other threads see the old state until it is
        /// complete. Does nothing on a writable handle. A refresh that dropped
        /// segments the writer retired makes older snapshots fail with
        /// SnapshotTooOldException.</summary>
        public void Refresh() { FirkinNative.firkin_refresh(Handle); }

        /// <summary>A cursor over the committed changes after sequence number
        /// <paramref name="since"/> (0 = from the first); batchMarkers delivers
        /// BatchBegin/BatchEnd around batches. SnapshotTooOldException if they
        /// are no longer retained; InvalidArgumentException if since is past
        /// LastSeq().</summary>
        public Changes Changes(ulong since, bool batchMarkers = true)
        {
            return Firkin.Changes.Open(Handle, since, batchMarkers);
        }

        /// <summary>The oldest change still retained (LastSeq() + 1 if none):
        /// Changes accepts any since &gt;= it - 1.</summary>
        public ulong OldestChangeSeq()
        {
            long n;
            FirkinNative.fkb_changes_oldest_seq(Handle, out n);
            return (ulong)n;
        }

        public ulong LastSeq()
        {
            long n;
            FirkinNative.fkb_last_seq(Handle, out n);
            return (ulong)n;
        }

        /// <summary>Statistics as a JSON object.</summary>
        public string Stats()
        {
            var d = Handle;
            return Scratch.Text((byte[] b, ulong cap, out long n) => FirkinNative.fkb_stats(d, b, cap, out n));
        }

        /// <summary>Opens namespace name, creating it if needed.</summary>
        public Namespace Namespace(string name) { return OpenNamespace(name, true); }

        /// <summary>Opens namespace name; if absent, creates it when create is true.</summary>
        public Namespace OpenNamespace(string name, bool create)
        {
            long p;
            FirkinNative.fkb_ns_open(Handle, name, create, out p);
            return new Namespace(this, p);
        }

        /// <summary>Creates namespace name; <see cref="ExistsException"/> if it exists.</summary>
        public Namespace CreateNamespace(string name)
        {
            long p;
            FirkinNative.fkb_ns_create(Handle, name, out p);
            return new Namespace(this, p);
        }

        /// <summary>Creates namespace name as an ordered namespace (firkin_ns_create_v2
        /// with FIRKIN_NS_ORDERED, a durable property): its keys can be read in byte
        /// order by RangeIterator and PrefixIterator. <see cref="ExistsException"/>
        /// if a namespace of that name exists.</summary>
        public Namespace CreateNamespaceOrdered(string name)
        {
            long p;
            FirkinNative.fkb_ns_create_v2(Handle, name, FirkinNative.FIRKIN_NS_ORDERED, out p);
            return new Namespace(this, p);
        }

        /// <summary>An ordered iterator over the keys k of ordered namespace ns with
        /// start &lt;= k &lt; end, ascending (descending if reverse), at snap (null: a
        /// new snapshot of the latest state); dispose it. A null or empty start or end
        /// is no bound. <see cref="InvalidArgumentException"/> if ns is not ordered
        /// (null, the default namespace, is not).</summary>
        public Iterator RangeIterator(Namespace ns, Snapshot snap, byte[] start, byte[] end, bool reverse = false)
        {
            return Iterator.Range(Handle, snap == null ? null : snap.Handle, ns == null ? null : ns.Handle, start, end, reverse);
        }

        /// <summary>The keys of ordered namespace ns starting with prefix (null or
        /// empty: all), as RangeIterator.</summary>
        public Iterator PrefixIterator(Namespace ns, Snapshot snap, byte[] prefix, bool reverse = false)
        {
            return Iterator.Prefix(Handle, snap == null ? null : snap.Handle, ns == null ? null : ns.Handle, prefix, reverse);
        }

        public void DropNamespace(string name) { FirkinNative.firkin_ns_drop(Handle, name); }

        /// <summary>The namespaces, "default" included.</summary>
        public List<string> Namespaces()
        {
            var d = Handle;
            return Ops.Lines(Scratch.Text((byte[] b, ulong cap, out long n) => FirkinNative.fkb_ns_list(d, b, cap, out n)));
        }

        /// <summary>Rewrites now every sealed segment that holds dead bytes.</summary>
        public void Compact() { FirkinNative.firkin_compact(Handle); }

        /// <summary>Writes an index checkpoint now.</summary>
        public void Checkpoint() { FirkinNative.firkin_checkpoint(Handle); }

        /// <summary>Verifies records, index and namespaces; returns the JSON report
        /// (a damaged database throws <see cref="CorruptionException"/>).</summary>
        public string Verify()
        {
            var d = Handle;
            return Scratch.Text((byte[] b, ulong cap, out long n) => FirkinNative.fkb_verify(d, b, cap, out n), Scratch.VerifyReportSize);
        }

        /// <summary>Online backup: writes into directory dir a copy of the database as of
        /// one snapshot while other threads keep writing (firkin_backup). dir is created,
        /// or must be empty or an earlier backup of this database (then only what is new is
        /// copied). Until it is complete dir holds a BACKUP-INCOMPLETE marker and
        /// <see cref="Open(string, Options)"/> refuses it (<see cref="NotADatabaseException"/>).
        /// Throws InvalidArgument (dir is or lies in the database directory), NotADatabase
        /// (a file or a foreign directory), Exists (a backup of another database), Busy,
        /// Corruption (the copy failed verification). options may be null.</summary>
        public BackupReport Backup(string dir, BackupOptions options = null)
        {
            var d = Handle;
            int flags = BackupOptions.Flags(options);
            return BackupReport.Once((byte[] b, ulong cap, out long n) => FirkinNative.fkb_backup(d, flags, dir, b, cap, out n));
        }

        /// <summary>Restore: copies the backup in backupDir (left unchanged) into destDir,
        /// which must be missing or empty (<see cref="ExistsException"/> otherwise), as a
        /// database of its own, verified (firkin_restore). Incremental and HardLinks do not
        /// apply.</summary>
        public static BackupReport Restore(string backupDir, string destDir, BackupOptions options = null)
        {
            int flags = BackupOptions.Flags(options);
            return BackupReport.Once((byte[] b, ulong cap, out long n) => FirkinNative.fkb_restore(backupDir, flags, destDir, b, cap, out n));
        }

        /// <summary>Offline key rotation of the encrypted database at path (firkin_rekey):
        /// the data key is unwrapped with oldOptions' key or passphrase and wrapped again
        /// under newOptions'. The data key itself stays the same. BusyException while the
        /// database is open for writing; BadKeyException for a wrong old key.</summary>
        public static void Rekey(string path, Options oldOptions, Options newOptions)
        {
            if (oldOptions == null || newOptions == null)
                throw new InvalidArgumentException("rekey needs the old and the new options");
            FirkinNative.firkin_rekey(path, oldOptions.Handle, newOptions.Handle);
        }

        /// <summary>Verifies the database at path without a writer (nothing is modified).</summary>
        public static string VerifyPath(string path, Options options)
        {
            var o = options == null ? null : options.Handle;
            return Scratch.Text((byte[] b, ulong cap, out long n) => FirkinNative.fkb_verify_path(path, o, b, cap, out n), Scratch.VerifyReportSize);
        }

        internal static ulong L(byte[] b) { return b == null ? 0UL : (ulong)b.Length; }
    }
}
