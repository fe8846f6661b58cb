using System;

namespace Firkin
{
    /// <summary>
    /// Puts and deletes applied atomically by <see cref="Db.Write(Batch)"/>,
    /// across namespaces (firkin_batch). One thread at a time.
    /// </summary>
    public sealed partial class Batch : IDisposable
    {
        SWIGTYPE_p_firkin_batch h;
        Gate gate;

        public Batch()
        {
            long p;
            FirkinNative.fkb_batch_new(out p);
            h = new SWIGTYPE_p_firkin_batch(new IntPtr(p), false);
            h.Owner = this;
            // P/Invokes on h count themselves in and out of the gate (Gate.cs): a
            // Dispose from another thread (twice at once, or under a call) frees
            // once, after the call in flight.
            IntPtr ptr = new IntPtr(p);
            gate = new Gate("batch", () => FirkinNative.firkin_batch_free(new SWIGTYPE_p_firkin_batch(ptr, false)));
            h.Gate = gate;
        }

        internal SWIGTYPE_p_firkin_batch Handle
        {
            get
            {
                lock (this)
                {
                    if (h == null) throw new ClosedException("batch is closed");
                    return h;
                }
            }
        }

        public Batch Put(byte[] key, byte[] value) { return Put(null, key, value); }

        public Batch Put(Namespace ns, byte[] key, byte[] value)
        {
            FirkinNative.firkin_batch_put(Handle, Namespace.HandleOf(ns), key, Db.L(key), value, Db.L(value));
            return this;
        }

        public Batch Delete(byte[] key) { return Delete(null, key); }

        public Batch Delete(Namespace ns, byte[] key)
        {
            FirkinNative.firkin_batch_delete(Handle, Namespace.HandleOf(ns), key, Db.L(key));
            return this;
        }

        public Batch Clear()
        {
            FirkinNative.firkin_batch_clear(Handle);
            return this;
        }

        /// <summary>Number of queued operations.</summary>
        public long Count
        {
            get
            {
                long n;
                FirkinNative.fkb_batch_count(Handle, out n);
                return n;
            }
        }

        public void Dispose()
        {
            lock (this)
            {
                if (h != null)
                {
                    gate.Close();  // frees now, or when the call in flight returns
                    h = null;
                }
            }
            GC.SuppressFinalize(this);
        }

        ~Batch()
        {
            if (h != null && gate != null) gate.Close();
        }
    }
}
