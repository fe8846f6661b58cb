using System;
using System.Collections;
using System.Collections.Generic;

namespace Firkin
{
    /// <summary>One key and its value.</summary>
    public struct Entry
    {
        public byte[] Key { get; }
        public byte[] Value { get; }

        public Entry(byte[] key, byte[] value)
        {
            Key = key;
            Value = value;
        }
    }

    /// <summary>
    /// Every live key of a namespace exactly once, as of one snapshot
    /// (firkin_iter): unordered from NewIterator, in key byte order from
    /// RangeIterator / PrefixIterator on an ordered namespace (which can also
    /// Seek). Entries are fetched many at a time
    /// (firkin_iter_next_n), so most MoveNext calls make no P/Invoke. An
    /// error that ends the iteration early is thrown from MoveNext.
    ///
    /// It is one pass over one snapshot, an enumerator and not an enumerable:
    /// <c>NewIterator()</c> returns one to drive by hand (dispose it);
    /// <c>Iterate()</c> returns an <see cref="Entries"/> sequence for
    /// foreach, which opens a new Iterator for every enumeration.
    ///
    /// Thread contract: one thread at a time; Dispose must not race with
    /// MoveNext.
    /// </summary>
    public sealed class Iterator : IEnumerator<Entry>
    {
        const int BufSize = 64 * 1024;

        SWIGTYPE_p_firkin_iter h;

        Gate gate;
        byte[] buf = new byte[BufSize];
        int pos, end;
        bool done;
        Entry current;

        Iterator(long p)
        {
            h = new SWIGTYPE_p_firkin_iter(new IntPtr(p), false);
            h.Owner = this;
            // P/Invokes on h count themselves in and out of the gate (Gate.cs): a
            // Dispose from another thread (twice at once, or under a call) frees
            // once, after the call in flight.
            IntPtr ptr = new IntPtr(p);
            gate = new Gate("iterator", () => FirkinNative.firkin_iter_free(new SWIGTYPE_p_firkin_iter(ptr, false)));
            h.Gate = gate;
        }

        internal static Iterator Create(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns)
        {
            long p;
            FirkinNative.fkb_iter_new(db, snap, ns, out p);
            return new Iterator(p);
        }

        /// <summary>An iterator over ns as transaction txn sees it now (firkin_txn_iter_new).</summary>
        internal static Iterator Create(SWIGTYPE_p_firkin_txn txn, SWIGTYPE_p_firkin_ns ns)
        {
            long p;
            FirkinNative.fkb_txn_iter_new(txn, ns, out p);
            return new Iterator(p);
        }

        /// <summary>A null or empty range bound or prefix is no bound (NULL for the C API).</summary>
        static byte[] Bound(byte[] b) { return b == null || b.Length == 0 ? null : b; }

        static int Flags(bool reverse) { return reverse ? FirkinNative.FIRKIN_ITER_REVERSE : 0; }

        /// <summary>An ordered iterator over [start, end) of ns at snap (firkin_range_iter_new).</summary>
        internal static Iterator Range(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns,
                                       byte[] start, byte[] end, bool reverse)
        {
            long p;
            start = Bound(start);
            end = Bound(end);
            FirkinNative.fkb_range_iter_new(db, snap, ns, start, Db.L(start), end, Db.L(end), Flags(reverse), out p);
            return new Iterator(p);
        }

        /// <summary>An ordered iterator over the keys of ns starting with prefix (firkin_prefix_iter_new).</summary>
        internal static Iterator Prefix(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns,
                                        byte[] prefix, bool reverse)
        {
            long p;
            prefix = Bound(prefix);
            FirkinNative.fkb_prefix_iter_new(db, snap, ns, prefix, Db.L(prefix), Flags(reverse), out p);
            return new Iterator(p);
        }

        /// <summary>firkin_txn_range_iter_new.</summary>
        internal static Iterator Range(SWIGTYPE_p_firkin_txn txn, SWIGTYPE_p_firkin_ns ns, byte[] start, byte[] end,
                                       bool reverse)
        {
            long p;
            start = Bound(start);
            end = Bound(end);
            FirkinNative.fkb_txn_range_iter_new(txn, ns, start, Db.L(start), end, Db.L(end), Flags(reverse), out p);
            return new Iterator(p);
        }

        /// <summary>firkin_txn_prefix_iter_new.</summary>
        internal static Iterator Prefix(SWIGTYPE_p_firkin_txn txn, SWIGTYPE_p_firkin_ns ns, byte[] prefix, bool reverse)
        {
            long p;
            prefix = Bound(prefix);
            FirkinNative.fkb_txn_prefix_iter_new(txn, ns, prefix, Db.L(prefix), Flags(reverse), out p);
            return new Iterator(p);
        }

        /// <summary>
        /// Repositions an ordered iterator inside its range: forward to the
        /// first key &gt;= key, reverse to the last key &lt;= key; the next
        /// MoveNext returns that entry (an iterator that had ended can seek
        /// again). <see cref="InvalidArgumentException"/> on an unordered
        /// (hash-order) iterator, which is left as it was.
        /// </summary>
        public void Seek(byte[] key)
        {
            FirkinNative.firkin_iter_seek(Handle, key, Db.L(key));
            pos = end = 0;
            done = false;
        }

        /// <summary>Whether this is an ordered (range or prefix) iterator (firkin_iter_is_ordered).</summary>
        public bool IsOrdered { get { return FirkinNative.firkin_iter_is_ordered(Handle); } }

        internal SWIGTYPE_p_firkin_iter Handle
        {
            get
            {
                if (h == null) throw new ClosedException("iterator is closed");
                return h;
            }
        }

        public Entry Current { get { return current; } }

        object IEnumerator.Current { get { return current; } }

        public bool MoveNext()
        {
            var it = Handle;
            if (pos >= end)
            {
                if (done) return false;
                for (;;)
                {
                    long n;
                    FirkinNative.fkb_iter_next_n(it, buf, (ulong)buf.Length, out n);
                    if (n == 0)
                    {
                        done = true;
                        return false;
                    }
                    if (n > buf.Length)
                    {
                        buf = new byte[n];
                        continue;
                    }
                    pos = 0;
                    end = (int)n;
                    break;
                }
            }
            int kl = Ops.GetI32(buf, pos);
            int vl = Ops.GetI32(buf, pos + 4);
            var k = new byte[kl];
            var v = new byte[vl];
            Buffer.BlockCopy(buf, pos + 8, k, 0, kl);
            Buffer.BlockCopy(buf, pos + 8 + kl, v, 0, vl);
            pos += 8 + kl + vl;
            current = new Entry(k, v);
            return true;
        }

        public void Reset() { throw new NotSupportedException("a Firkin iterator cannot be reset"); }

        /// <summary>Releases the iterator. Disposing twice is harmless.</summary>
        public void Dispose()
        {
            if (h != null)
            {
                gate.Close();  // frees now, or when the call in flight returns
                h = null;
            }
            GC.SuppressFinalize(this);
        }

        ~Iterator()
        {
            if (h != null && gate != null) gate.Close();
        }
    }
}
