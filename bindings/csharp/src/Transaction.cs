using System;

namespace Firkin
{
    /// <summary>Isolation level of a <see cref="Transaction"/> (firkin_isolation).</summary>
    public enum Isolation
    {
        /// <summary>The default: reads see the snapshot taken at begin plus the
        /// transaction's own writes; commit throws <see cref="ConflictException"/>
        /// if a key it writes changed after that snapshot. Write skew is possible.</summary>
        Snapshot = 0,
        /// <summary>In addition every key it read (absent ones included) and every
        /// namespace it iterated must be unchanged at commit.</summary>
        Serializable = 1,
    }

    /// <summary>
    /// An optimistic transaction (firkin_txn), from <see cref="Db.BeginTransaction"/>.
    /// Reads see its snapshot plus its own writes, across namespaces (the
    /// overloads taking a Namespace; null = default); writes are buffered until
    /// <see cref="Commit()"/>, which applies them as one atomic unit or throws
    /// <see cref="ConflictException"/> (nothing applied). Once committed,
    /// rolled back, or after a failed commit, the transaction is finished and
    /// its calls throw <see cref="InvalidArgumentException"/>: begin a new one
    /// to retry, or let <see cref="Db.Update(Action{Transaction}, Isolation, int)"/> do it.
    /// Dispose rolls back if still open.
    /// Thread contract: one thread at a time; any number may be open at once.
    /// An open transaction pins the history its snapshot reads until it is
    /// committed, rolled back or disposed.
    /// </summary>
    public sealed partial class Transaction : IDisposable
    {
        SWIGTYPE_p_firkin_txn h;
        Gate gate;
        internal bool Managed;

        public Isolation Isolation { get; }
        /// <summary>The sequence number of the transaction's snapshot.</summary>
        public ulong SnapshotSeq { get; }
        /// <summary>The sequence number of the successful commit; 0 before.</summary>
        public ulong CommitSeq { get; private set; }
        /// <summary>True once committed, rolled back, or its commit failed.</summary>
        public bool IsFinished { get; private set; }

        internal Transaction(Db db, Isolation isolation)
        {
            long p;
            FirkinNative.fkb_txn_begin(db.Handle, (int)isolation, out p);
            h = new SWIGTYPE_p_firkin_txn(new IntPtr(p), false);
            h.Owner = this;
            // P/Invokes on h count themselves in and out of the gate (Gate.cs): a
            // Dispose from another thread (twice at once, or under a call) frees
            // once, after the call in flight.
            IntPtr ptr = new IntPtr(p);
            gate = new Gate("transaction", () => FirkinNative.firkin_txn_free(new SWIGTYPE_p_firkin_txn(ptr, false)));
            h.Gate = gate;
            Isolation = isolation;
            long s;
            FirkinNative.fkb_txn_snapshot_seq(h, out s);
            SnapshotSeq = (ulong)s;
        }

        internal SWIGTYPE_p_firkin_txn Handle
        {
            get
            {
                if (h == null) throw new ClosedException("transaction is closed");
                return h;
            }
        }

        public byte[] Get(byte[] key) { return Get(null, key); }

        /// <summary>The value of key as the transaction sees it; null if absent.</summary>
        public byte[] Get(Namespace ns, byte[] key)
        {
            var t = Handle;
            var b = Scratch.Buffer;
            for (;;)
            {
                long n;
                FirkinNative.fkb_txn_get(t, Namespace.HandleOf(ns), key, Db.L(key), b, (ulong)b.Length, out n);
                if (n < 0) return null;
                if (n <= b.Length)
                {
                    var o = new byte[n];
                    Buffer.BlockCopy(b, 0, o, 0, (int)n);
                    return o;
                }
                b = Scratch.Grow(n);
            }
        }

        public bool Contains(byte[] key) { return Contains(null, key); }

        /// <summary>Whether key has a value as the transaction sees it (a read).</summary>
        public bool Contains(Namespace ns, byte[] key)
        {
            long n;
            FirkinNative.fkb_txn_contains(Handle, Namespace.HandleOf(ns), key, Db.L(key), out n);
            return n == 1;
        }

        public void Put(byte[] key, byte[] value) { Put(null, key, value); }

        /// <summary>Buffers key=value (applied at commit).</summary>
        public void Put(Namespace ns, byte[] key, byte[] value)
        {
            FirkinNative.firkin_txn_put(Handle, Namespace.HandleOf(ns), key, Db.L(key), value, Db.L(value));
        }

        public void Delete(byte[] key) { Delete(null, key); }

        /// <summary>Buffers the removal of key (an absent key is not an error).</summary>
        public void Delete(Namespace ns, byte[] key)
        {
            FirkinNative.firkin_txn_delete(Handle, Namespace.HandleOf(ns), key, Db.L(key));
        }

        public bool CompareAndSwap(byte[] key, byte[] expected, byte[] value) { return CompareAndSwap(null, key, expected, value); }

        /// <summary>Buffers key=value if the transaction sees expected there; false
        /// (nothing buffered) otherwise. A change by others after the snapshot makes
        /// the commit conflict.</summary>
        public bool CompareAndSwap(Namespace ns, byte[] key, byte[] expected, byte[] value)
        {
            long n;
            FirkinNative.fkb_txn_cas(Handle, Namespace.HandleOf(ns), key, Db.L(key), expected, Db.L(expected),
                                     value, Db.L(value), out n);
            return n == 1;
        }

        /// <summary>An explicit iterator over the default namespace as the transaction sees it now; dispose it.</summary>
        public Iterator NewIterator() { return NewIterator(null); }

        /// <summary>An explicit iterator over ns as the transaction sees it now (its
        /// later writes are not seen); it may outlive the transaction. Serializable:
        /// a write to ns committed by others after the snapshot makes the commit
        /// conflict.</summary>
        public Iterator NewIterator(Namespace ns) { return Iterator.Create(Handle, Namespace.HandleOf(ns)); }

        /// <summary>An ordered iterator over [start, end) of ordered namespace ns as the
        /// transaction sees it now, its own uncommitted writes included
        /// (firkin_txn_range_iter_new); null or empty bounds are no bound.
        /// Serializable: a write to ns committed by others after the snapshot makes
        /// the commit conflict.</summary>
        public Iterator RangeIterator(Namespace ns, byte[] start, byte[] end, bool reverse = false)
        {
            return Iterator.Range(Handle, Namespace.HandleOf(ns), start, end, reverse);
        }

        /// <summary>The keys of ns starting with prefix as the transaction sees them, in order.</summary>
        public Iterator PrefixIterator(Namespace ns, byte[] prefix, bool reverse = false)
        {
            return Iterator.Prefix(Handle, Namespace.HandleOf(ns), prefix, reverse);
        }

        /// <summary>The entries of ns as the transaction sees them, for foreach and
        /// LINQ: each enumeration opens (and disposes) a new transaction iterator.</summary>
        public Entries Iterate(Namespace ns = null)
        {
            _ = Handle;
            _ = Namespace.HandleOf(ns);
            return new Entries(() => Iterator.Create(Handle, Namespace.HandleOf(ns)));
        }

        public ulong Commit() { return Commit(null); }

        /// <summary>Validates and applies the writes atomically; returns the commit's
        /// sequence number (the snapshot's when nothing was written). Throws
        /// <see cref="ConflictException"/> (the message names the first conflicting
        /// namespace and key) and applies nothing. Finished whatever the outcome of
        /// the commit; closed write options refuse the call before it, and the
        /// transaction stays open.</summary>
        public ulong Commit(WriteOptions wo)
        {
            var t = Handle;
            if (Managed) throw new InvalidArgumentException("Commit of a transaction managed by Db.Update: return instead");
            // Before the try: closed write options refuse the call, and the
            // commit never ran (the transaction stays open).
            var w = WriteOptions.HandleOf(wo);
            long seq;
            try
            {
                FirkinNative.fkb_txn_commit(t, w, out seq);
            }
            finally
            {
                IsFinished = true;
            }
            CommitSeq = (ulong)seq;
            return CommitSeq;
        }

        /// <summary>Discards the buffered writes and releases the snapshot; throws
        /// <see cref="InvalidArgumentException"/> if already finished.</summary>
        public void Rollback()
        {
            var t = Handle;
            if (Managed) throw new InvalidArgumentException("Rollback of a transaction managed by Db.Update: throw instead");
            FirkinNative.firkin_txn_rollback(t);
            IsFinished = true;
        }

        /// <summary>Rolls back if still open and frees the transaction. Twice is harmless.</summary>
        public void Dispose()
        {
            if (h != null)
            {
                gate.Close();  // frees now, or when the call in flight returns
                h = null;
                IsFinished = true;
            }
            GC.SuppressFinalize(this);
        }

        ~Transaction()
        {
            if (h != null && gate != null) gate.Close();
        }
    }
}
