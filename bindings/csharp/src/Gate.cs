using System;
using System.Threading;

namespace Firkin
{
    /// <summary>
    /// The calls in flight on a shared native handle (a database, a
    /// namespace, a snapshot), so that Dispose never frees the handle under
    /// one of them.
    /// </summary>
    /// <remarks>
    /// Every generated P/Invoke wrapper that takes the handle enters before
    /// the call and leaves after it (firkin_csharp.swg, the csin typemap of
    /// the proxies): one interlocked add each. <see cref="Close"/> marks the
    /// gate closed, after which every enter throws
    /// <see cref="ClosedException"/> (the call never reaches C), and the
    /// handle is freed by whoever sees the count reach zero closed: Close
    /// itself when no call is in flight, else the last call to leave (the
    /// free's error is then lost). Close never waits, so a Dispose from
    /// inside a call (a transaction's function) or while another thread is
    /// blocked in one cannot hang. The free action must not refer to the
    /// handle's owner.
    /// (Before the review of 2026-11-29 the open check was a volatile read:
    /// a Dispose racing a call let the call pass it and then use the freed
    /// handle, a SIGSEGV of the process; LifetimeTests.)
    /// </remarks>
    internal sealed class Gate
    {
        const long ClosedBit = 1L << 40;
        long state;
        int freed;
        readonly string what;
        readonly Action free;

        internal Gate(string what, Action free)
        {
            this.what = what;
            this.free = free;
        }

        /// <summary>Admits a call to g's handle: true if entered (or g is null:
        /// no gate), false if g is closed (nothing entered). The caller leaves
        /// it when true.</summary>
        internal static bool Enter(Gate g)
        {
            if (g == null) return true;
            if ((Interlocked.Increment(ref g.state) & ClosedBit) != 0)
            {
                g.Leave();
                return false;
            }
            return true;
        }

        /// <summary>p, if its gate g was entered (in); else throws ClosedException.</summary>
        internal static T Open<T>(bool @in, Gate g, T p)
        {
            if (!@in) throw new ClosedException(g.what + " is closed");
            return p;
        }

        internal void Leave()
        {
            if (Interlocked.Decrement(ref state) == ClosedBit)
            {
                try { Release(); } catch (FirkinException) { /* the final flush's error, lost */ }
            }
        }

        internal bool IsClosed { get { return (Interlocked.Read(ref state) & ClosedBit) != 0; } }

        /// <summary>Closes the gate (false if it was) and frees the handle now
        /// if no call is in flight (throwing the free's error), else leaves
        /// that to the last call out.</summary>
        internal bool Close()
        {
            for (;;)
            {
                long s = Interlocked.Read(ref state);
                if ((s & ClosedBit) != 0) return false;
                if (Interlocked.CompareExchange(ref state, s | ClosedBit, s) == s)
                {
                    if (s == 0) Release();
                    return true;
                }
            }
        }

        void Release()
        {
            if (Interlocked.Exchange(ref freed, 1) == 0) free();
        }
    }
}
