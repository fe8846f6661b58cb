using System;

namespace Firkin
{
    /// <summary>
    /// A consistent read view at a sequence number (firkin_snapshot). The
    /// overloads taking a Namespace read that namespace (null = default).
    /// </summary>
    public sealed partial class Snapshot : IDisposable
    {
        readonly Db db;
        SWIGTYPE_p_firkin_snapshot h;
        readonly Gate gate;

        public ulong Seq { get; }

        internal Snapshot(Db db, long p)
        {
            this.db = db;
            h = new SWIGTYPE_p_firkin_snapshot(new IntPtr(p), false);
            h.Owner = this;
            // Every P/Invoke on h counts itself in and out of the gate (Gate.cs):
            // Dispose racing a call on a shared snapshot frees it once the call is out.
            IntPtr ptr = new IntPtr(p);
            gate = new Gate("snapshot", () => FirkinNative.firkin_snapshot_free(new SWIGTYPE_p_firkin_snapshot(ptr, false)), Gate.Shared);
            h.Gate = gate;
            Seq = FirkinNative.firkin_snapshot_seq(h);
        }

        internal SWIGTYPE_p_firkin_snapshot Handle
        {
            get
            {
                lock (this)
                {
                    if (h == null) throw new ClosedException("snapshot is closed");
                    return h;
                }
            }
        }

        /// <summary>Releases the snapshot. Disposing twice is harmless. Calls other
        /// threads have in flight on it finish (later ones throw ClosedException);
        /// the native handle is freed when the last returns.</summary>
        public void Dispose()
        {
            lock (this)
            {
                h = null;
            }
            gate.Close();
            GC.SuppressFinalize(this);
        }

        ~Snapshot()
        {
            if (gate != null) gate.Close();
        }

        public byte[] Get(byte[] key) { return Get(null, key); }
        public byte[] Get(Namespace ns, byte[] key) { return Ops.Get(db.Handle, Handle, Namespace.HandleOf(ns), key); }
        public int Get(Namespace ns, byte[] key, byte[] buf) { return Ops.GetInto(db.Handle, Handle, Namespace.HandleOf(ns), key, buf); }
        public bool Contains(byte[] key) { return Contains(null, key); }
        public bool Contains(Namespace ns, byte[] key) { return Ops.Contains(db.Handle, Handle, Namespace.HandleOf(ns), key); }
        public ulong GetVersion(Namespace ns, byte[] key) { return Ops.Version(db.Handle, Handle, Namespace.HandleOf(ns), key); }
        public byte[][] MultiGet(Namespace ns, params byte[][] keys) { return Ops.MultiGet(db.Handle, Handle, Namespace.HandleOf(ns), keys); }
        /// <summary>The default namespace's entries at this snapshot, re-iterable (each enumeration reads this same snapshot).</summary>
        public Entries Iterate() { return Iterate(null); }

        /// <summary>A namespace's entries at this snapshot, re-iterable (each enumeration reads this same snapshot).</summary>
        public Entries Iterate(Namespace ns)
        {
            _ = db.Handle; // ClosedException now, not at the first foreach
            _ = Handle;
            _ = Namespace.HandleOf(ns);
            return new Entries(() => Iterator.Create(db.Handle, Handle, Namespace.HandleOf(ns)));
        }

        /// <summary>An explicit iterator over the default namespace at this snapshot; dispose it.</summary>
        public Iterator NewIterator() { return NewIterator(null); }

        /// <summary>An explicit iterator over a namespace at this snapshot; dispose it.</summary>
        public Iterator NewIterator(Namespace ns) { return Iterator.Create(db.Handle, Handle, Namespace.HandleOf(ns)); }
    }
}
