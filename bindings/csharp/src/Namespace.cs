using System;

namespace Firkin
{
    /// <summary>
    /// A handle to a named key space (firkin_ns); its operations mirror Db's.
    /// It keeps the database alive, but operations still need the Db open.
    /// The handle of a dropped namespace gives <see cref="NamespaceNotFoundException"/>.
    /// </summary>
    public sealed partial class Namespace : IDisposable
    {
        readonly Db db;
        SWIGTYPE_p_firkin_ns h;
        readonly Gate gate;

        public string Name { get; }

        internal Namespace(Db db, long p)
        {
            this.db = db;
            h = new SWIGTYPE_p_firkin_ns(new IntPtr(p), false);
            h.Owner = this;
            Name = FirkinNative.firkin_ns_name(h);
            // Every P/Invoke on h counts itself in and out of the gate (Gate.cs):
            // Dispose racing a call on a shared namespace frees it once the call is out.
            IntPtr ptr = new IntPtr(p);
            gate = new Gate("namespace " + Name, () => FirkinNative.firkin_ns_close(new SWIGTYPE_p_firkin_ns(ptr, false)), Gate.Shared);
            h.Gate = gate;
        }

        internal SWIGTYPE_p_firkin_ns Handle
        {
            get
            {
                lock (this)
                {
                    if (h == null) throw new ClosedException("namespace " + Name + " is closed");
                    return h;
                }
            }
        }

        internal static SWIGTYPE_p_firkin_ns HandleOf(Namespace ns) { return ns == null ? null : ns.Handle; }

        /// <summary>Whether the namespace was created ordered (firkin_ns_flags).</summary>
        public bool IsOrdered
        {
            get
            {
                long f;
                FirkinNative.fkb_ns_flags(Handle, out f);
                return (f & FirkinNative.FIRKIN_NS_ORDERED) != 0;
            }
        }

        /// <summary>Releases the handle (not the namespace). Disposing twice is
        /// harmless. Calls other threads have in flight on it finish (later ones
        /// throw ClosedException); the native handle is freed when the last returns.</summary>
        public void Dispose()
        {
            lock (this)
            {
                h = null;
            }
            gate.Close();
            GC.SuppressFinalize(this);
        }

        ~Namespace()
        {
            if (gate != null) gate.Close();
        }

        public byte[] Get(byte[] key) { return Ops.Get(db.Handle, null, Handle, key); }
        public int Get(byte[] key, byte[] buf) { return Ops.GetInto(db.Handle, null, Handle, key, buf); }
        public bool Contains(byte[] key) { return Ops.Contains(db.Handle, null, Handle, key); }
        public ulong GetVersion(byte[] key) { return Ops.Version(db.Handle, null, Handle, key); }
        public byte[][] MultiGet(params byte[][] keys) { return Ops.MultiGet(db.Handle, null, Handle, keys); }

        public void Put(byte[] key, byte[] value) { Put(null, key, value); }

        public void Put(WriteOptions wo, byte[] key, byte[] value)
        {
            FirkinNative.firkin_put(db.Handle, WriteOptions.HandleOf(wo), Handle, key, Db.L(key), value, Db.L(value));
        }

        public void Delete(byte[] key) { Delete(null, key); }

        public void Delete(WriteOptions wo, byte[] key)
        {
            FirkinNative.firkin_delete(db.Handle, WriteOptions.HandleOf(wo), Handle, key, Db.L(key));
        }

        public bool PutIfAbsent(byte[] key, byte[] value)
        {
            long n;
            FirkinNative.fkb_put_if_absent(db.Handle, null, Handle, key, Db.L(key), value, Db.L(value), out n);
            return n == 1;
        }

        public bool CompareAndSwap(byte[] key, byte[] expected, byte[] value)
        {
            long n;
            FirkinNative.fkb_cas(db.Handle, null, Handle, key, Db.L(key), expected, Db.L(expected), value, Db.L(value), out n);
            return n == 1;
        }

        public bool CompareAndSwapVersion(byte[] key, ulong expected, byte[] value)
        {
            long n;
            FirkinNative.fkb_cas_version(db.Handle, null, Handle, key, Db.L(key), expected, value, Db.L(value), out n);
            return n == 1;
        }

        public ulong Count()
        {
            long n;
            FirkinNative.fkb_count(db.Handle, Handle, out n);
            return (ulong)n;
        }

        /// <summary>This namespace's entries, re-iterable: each enumeration opens its own iterator at a new snapshot.</summary>
        public Entries Iterate()
        {
            _ = db.Handle; // ClosedException now, not at the first foreach
            _ = Handle;
            return new Entries(() => Iterator.Create(db.Handle, null, Handle));
        }

        /// <summary>An explicit iterator over this namespace at a new snapshot; dispose it.</summary>
        public Iterator NewIterator() { return Iterator.Create(db.Handle, null, Handle); }
    }
}
