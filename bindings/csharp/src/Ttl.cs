using System;
using System.Collections;
using System.Collections.Generic;

namespace Firkin
{
    /// <summary>
    /// Conversions between TimeSpan / DateTimeOffset and the library's
    /// milliseconds, and the TTL and history calls shared by Db, Namespace
    /// and Snapshot. Stateless; any thread.
    /// </summary>
    internal static class Ttl
    {
        /// <summary>A TTL in whole ms, a positive one rounded up (1 tick is 1 ms, never 0);
        /// zero or negative gives 0, which the library rejects (InvalidArgumentException).</summary>
        internal static ulong Millis(TimeSpan ttl)
        {
            if (ttl <= TimeSpan.Zero) return 0;
            long ms = ttl.Ticks / TimeSpan.TicksPerMillisecond;
            if (ttl.Ticks % TimeSpan.TicksPerMillisecond != 0) ms++;
            return (ulong)ms;
        }

        /// <summary>An absolute expiry in ms since the epoch. A time at or before the
        /// epoch is already past: it goes as 1 ms (the library refuses 0), so the key
        /// is written and reads as absent at once, like any past time.
        /// (DateTimeOffset ends in 9999, far inside the library's 2^64 - 1 ms.)</summary>
        internal static ulong ExpiryMillis(DateTimeOffset at)
        {
            long ms = at.ToUnixTimeMilliseconds();
            return ms <= 0 ? 1UL : (ulong)ms;
        }

        /// <summary>A time for snapshots by clock time: ms since the epoch, 0 before
        /// the epoch (before any write).</summary>
        internal static ulong TimeMillis(DateTimeOffset at)
        {
            long ms = at.ToUnixTimeMilliseconds();
            return ms <= 0 ? 0UL : (ulong)ms;
        }

        /// <summary>A library duration (uint64 ms, in a long's bits as the typed
        /// option accessors carry it) as a TimeSpan, saturating at
        /// TimeSpan.MaxValue (TimeSpan.FromMilliseconds would throw
        /// OverflowException, and 2^63 ms and more would read negative).</summary>
        internal static TimeSpan Duration(long ms)
        {
            ulong u = unchecked((ulong)ms);
            if (u > (ulong)(TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerMillisecond)) return TimeSpan.MaxValue;
            return TimeSpan.FromTicks((long)u * TimeSpan.TicksPerMillisecond);
        }

        /// <summary>A library time (ms since the epoch); null for 0.</summary>
        internal static DateTimeOffset? Time(ulong ms)
        {
            if (ms == 0) return null;
            if (ms > 253402300799999UL) return DateTimeOffset.MaxValue;
            return DateTimeOffset.FromUnixTimeMilliseconds((long)ms);
        }

        internal static bool TryGetTtl(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns,
                                       byte[] key, out TimeSpan? remaining)
        {
            long n;
            FirkinNative.fkb_ttl(db, snap, ns, key, Db.L(key), out n);
            remaining = null;
            if (n == -2) return false;
            if (n >= 0) remaining = n >= TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerMillisecond
                                    ? TimeSpan.MaxValue : TimeSpan.FromTicks(n * TimeSpan.TicksPerMillisecond);
            return true;
        }

        /// <summary>firkin_persist, NOT_FOUND as false.</summary>
        internal static bool Persist(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_ns ns, byte[] key)
        {
            try
            {
                FirkinNative.firkin_persist(db, null, ns, key, Db.L(key));
                return true;
            }
            catch (NotFoundException)
            {
                return false;
            }
        }

        internal static KeyHistory History(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_ns ns, byte[] key)
        {
            var raw = Scratch.Bytes((byte[] b, ulong cap, out long n) =>
                FirkinNative.fkb_history(db, ns, key, Db.L(key), b, cap, out n));
            return KeyHistory.Decode(raw);
        }
    }

    /// <summary>One version of a key (a put or a delete), as <see cref="Db.History"/> lists them. Immutable.</summary>
    public sealed class KeyVersion
    {
        /// <summary>The write's sequence number (what <see cref="Db.GetVersion"/> reports).</summary>
        public ulong Seq { get; }
        /// <summary>The commit time; null if unknown (written before format version 3).</summary>
        public DateTimeOffset? CommitTime { get; }
        /// <summary>The absolute expiry; null if none.</summary>
        public DateTimeOffset? Expiry { get; }
        /// <summary>Whether the version is a delete (Value is then null).</summary>
        public bool IsDelete { get; }
        /// <summary>The value (a copy); null for a delete.</summary>
        public byte[] Value { get; }

        internal KeyVersion(ulong seq, DateTimeOffset? commitTime, DateTimeOffset? expiry, bool isDelete, byte[] value)
        {
            Seq = seq;
            CommitTime = commitTime;
            Expiry = expiry;
            IsDelete = isDelete;
            Value = value;
        }
    }

    /// <summary>
    /// The versions of one key, newest first (<see cref="Db.History"/>), copied
    /// when it was read: enumerating needs no database and holds no native
    /// resource. Dispose drops the copies (enumerating afterwards throws
    /// <see cref="ClosedException"/>). One thread at a time.
    /// </summary>
    public sealed class KeyHistory : IEnumerable<KeyVersion>, IDisposable
    {
        List<KeyVersion> versions;

        /// <summary>Whether older versions existed but were compacted away.</summary>
        public bool Truncated { get; }

        KeyHistory(List<KeyVersion> versions, bool truncated)
        {
            this.versions = versions;
            Truncated = truncated;
        }

        static ulong U64(byte[] b, int off)
        {
            return (uint)Ops.GetI32(b, off) | ((ulong)(uint)Ops.GetI32(b, off + 4) << 32);
        }

        /// <summary>Decodes fkb_history's packed layout (see firkin.i).</summary>
        internal static KeyHistory Decode(byte[] b)
        {
            bool truncated = (Ops.GetI32(b, 0) & 1) != 0;
            int count = Ops.GetI32(b, 4);
            var list = new List<KeyVersion>(count);
            int off = 8;
            for (int i = 0; i < count; i++)
            {
                ulong seq = U64(b, off), time = U64(b, off + 8), expiry = U64(b, off + 16);
                bool del = (Ops.GetI32(b, off + 24) & 1) != 0;
                int vl = Ops.GetI32(b, off + 28);
                off += 32;
                byte[] v = null;
                if (!del)
                {
                    v = new byte[vl];
                    Buffer.BlockCopy(b, off, v, 0, vl);
                }
                off += vl;
                list.Add(new KeyVersion(seq, Ttl.Time(time), Ttl.Time(expiry), del, v));
            }
            return new KeyHistory(list, truncated);
        }

        List<KeyVersion> List
        {
            get
            {
                var v = versions;
                if (v == null) throw new ClosedException("history is disposed");
                return v;
            }
        }

        /// <summary>The number of versions.</summary>
        public int Count { get { return List.Count; } }

        /// <summary>The i-th version, 0 = newest.</summary>
        public KeyVersion this[int i] { get { return List[i]; } }

        public IEnumerator<KeyVersion> GetEnumerator() { return List.GetEnumerator(); }

        IEnumerator IEnumerable.GetEnumerator() { return GetEnumerator(); }

        public void Dispose() { versions = null; }
    }

    public sealed partial class Db
    {
        /// <summary>
        /// Stores value under key; the key expires ttl after the write's commit
        /// time (rounded up to whole ms; zero or negative throws
        /// InvalidArgumentException). A later put without a TTL makes it persistent.
        /// </summary>
        public void Put(byte[] key, byte[] value, TimeSpan ttl) { Put(null, key, value, ttl); }

        public void Put(WriteOptions wo, byte[] key, byte[] value, TimeSpan ttl)
        {
            FirkinNative.firkin_put_ttl(Handle, WriteOptions.HandleOf(wo), null, key, L(key), value, L(value), Ttl.Millis(ttl));
        }

        /// <summary>
        /// Stores value under key; the key expires at <paramref name="at"/> (database
        /// clock, whole ms). A time already past, the epoch and before included,
        /// writes a key that reads as absent at once.
        /// </summary>
        public void PutExpireAt(byte[] key, byte[] value, DateTimeOffset at)
        {
            FirkinNative.firkin_put_expire_at(Handle, null, null, key, L(key), value, L(value), Ttl.ExpiryMillis(at));
        }

        /// <summary>
        /// False if key is absent or expired; else true, with the time left before
        /// it expires in <paramref name="remaining"/> (null if it never expires).
        /// </summary>
        public bool TryGetTtl(byte[] key, out TimeSpan? remaining) { return Ttl.TryGetTtl(Handle, null, null, key, out remaining); }

        /// <summary>Removes key's expiry (writes its value again without one; nothing
        /// if it has none). False if the key is absent or expired.</summary>
        public bool Persist(byte[] key) { return Ttl.Persist(Handle, null, key); }

        /// <summary>The database clock, ms since the epoch: never behind the newest
        /// commit time; it decides expiry and stamps commits.</summary>
        public long NowMs()
        {
            long n;
            FirkinNative.fkb_now_ms(Handle, out n);
            return n;
        }

        /// <summary><see cref="NowMs"/> as a DateTimeOffset (UTC).</summary>
        public DateTimeOffset Now() { return DateTimeOffset.FromUnixTimeMilliseconds(NowMs()); }

        /// <summary>
        /// A snapshot of the state as of <paramref name="at"/> (database clock, whole
        /// ms): every write committed at or before it and none after; a time before
        /// the first write gives the empty state (Seq 0). SnapshotTooOldException if
        /// the log that tells that time is no longer kept (Options.HistoryRetention).
        /// </summary>
        public Snapshot SnapshotAt(DateTimeOffset at)
        {
            long p;
            FirkinNative.fkb_snapshot_at_time(Handle, Ttl.TimeMillis(at), out p);
            return new Snapshot(this, p);
        }

        /// <summary>The versions of key (default namespace), newest first, as far back as kept.</summary>
        public KeyHistory History(byte[] key) { return Ttl.History(Handle, null, key); }
    }

    public sealed partial class Namespace
    {
        public void Put(byte[] key, byte[] value, TimeSpan ttl) { Put(null, key, value, ttl); }

        public void Put(WriteOptions wo, byte[] key, byte[] value, TimeSpan ttl)
        {
            FirkinNative.firkin_put_ttl(db.Handle, WriteOptions.HandleOf(wo), Handle, key, Db.L(key), value, Db.L(value), Ttl.Millis(ttl));
        }

        public void PutExpireAt(byte[] key, byte[] value, DateTimeOffset at)
        {
            FirkinNative.firkin_put_expire_at(db.Handle, null, Handle, key, Db.L(key), value, Db.L(value), Ttl.ExpiryMillis(at));
        }

        public bool TryGetTtl(byte[] key, out TimeSpan? remaining) { return Ttl.TryGetTtl(db.Handle, null, Handle, key, out remaining); }
        public bool Persist(byte[] key) { return Ttl.Persist(db.Handle, Handle, key); }
        public KeyHistory History(byte[] key) { return Ttl.History(db.Handle, Handle, key); }
    }

    public sealed partial class Snapshot
    {
        /// <summary>TryGetTtl as seen through the snapshot (expiry is decided at the time of the call).</summary>
        public bool TryGetTtl(byte[] key, out TimeSpan? remaining) { return TryGetTtl(null, key, out remaining); }

        public bool TryGetTtl(Namespace ns, byte[] key, out TimeSpan? remaining)
        {
            return Ttl.TryGetTtl(db.Handle, Handle, Namespace.HandleOf(ns), key, out remaining);
        }
    }

    public sealed partial class Batch
    {
        /// <summary>Queues a put that expires ttl after the batch's commit time (one time for the whole batch).</summary>
        public Batch Put(byte[] key, byte[] value, TimeSpan ttl) { return Put(null, key, value, ttl); }

        public Batch Put(Namespace ns, byte[] key, byte[] value, TimeSpan ttl)
        {
            FirkinNative.firkin_batch_put_ttl(Handle, Namespace.HandleOf(ns), key, Db.L(key), value, Db.L(value), Ttl.Millis(ttl));
            return this;
        }
    }

    public sealed partial class Options
    {
        /// <summary>How long compaction keeps the history that time travel by clock time
        /// (SnapshotAt(DateTimeOffset), History) needs (history_retention_ms; zero, the
        /// default, keeps nothing extra). Whole ms; negative throws InvalidArgumentException.</summary>
        public TimeSpan HistoryRetention
        {
            get { return Ttl.Duration(GetTyped("history_retention_ms")); }
            set
            {
                if (value < TimeSpan.Zero) throw new InvalidArgumentException("history retention must not be negative");
                SetTyped("history_retention_ms", value.Ticks / TimeSpan.TicksPerMillisecond);
            }
        }
    }

    public sealed partial class Options
    {
        /// <summary>An abandoned transaction gives up its snapshot once older than this
        /// (txn_max_age_ms; default 10 minutes, zero = no limit) at the next compaction
        /// cycle; its next call throws SnapshotTooOldException. Whole ms; negative throws
        /// InvalidArgumentException.</summary>
        public TimeSpan TxnMaxAge
        {
            get { return Ttl.Duration(GetTyped("txn_max_age_ms")); }
            set
            {
                if (value < TimeSpan.Zero) throw new InvalidArgumentException("transaction max age must not be negative");
                SetTyped("txn_max_age_ms", value.Ticks / TimeSpan.TicksPerMillisecond);
            }
        }
    }

    public sealed partial class Transaction
    {
        /// <summary>Buffers key=value expiring ttl after the commit's time (whole ms; zero
        /// or negative throws InvalidArgumentException). The transaction reads its own
        /// such put as present.</summary>
        public void Put(byte[] key, byte[] value, TimeSpan ttl) { Put(null, key, value, ttl); }

        public void Put(Namespace ns, byte[] key, byte[] value, TimeSpan ttl)
        {
            FirkinNative.firkin_txn_put_ttl(Handle, Namespace.HandleOf(ns), key, Db.L(key), value, Db.L(value), Ttl.Millis(ttl));
        }

        /// <summary>Buffers key=value expiring at <paramref name="at"/> (database clock); a
        /// time already past (the epoch and before included) reads as absent, in the
        /// transaction too.</summary>
        public void PutExpireAt(byte[] key, byte[] value, DateTimeOffset at) { PutExpireAt(null, key, value, at); }

        public void PutExpireAt(Namespace ns, byte[] key, byte[] value, DateTimeOffset at)
        {
            FirkinNative.firkin_txn_put_expire_at(Handle, Namespace.HandleOf(ns), key, Db.L(key), value, Db.L(value), Ttl.ExpiryMillis(at));
        }
    }
}
