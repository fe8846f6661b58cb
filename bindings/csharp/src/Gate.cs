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
    /// the proxies): one interlocked add each, on the calling thread's stripe. <see cref="Close"/> marks the
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
    /// Striped (2026-11-29): the count of calls in flight is spread over
    /// stripes, each in a 128-byte slot of its own (16 longs of one array,
    /// with a slot of padding before the first), and "closed" is a separate
    /// word only Close writes. A handle that many threads call at once (a
    /// database, a namespace, a snapshot: <see cref="Shared"/> stripes) would
    /// otherwise have every call on every core write one cache line, which
    /// caps its calls per second far below the C library's. Enter adds one
    /// to the calling thread's stripe (its managed thread id, masked) and
    /// returns it; Leave subtracts from that same stripe. The handles for one
    /// thread at a time have one stripe.
    /// Ordering (the Dekker pattern): Enter adds (an interlocked add, a full
    /// fence), then reads closed; Close sets closed (an interlocked exchange,
    /// a full fence), then reads every stripe; Leave subtracts (full fence),
    /// then reads closed, then the stripes. Either Close's read of the call's
    /// stripe sees the call's add, or the add came after that read, hence
    /// after closed was set, and the call reads closed as set: refused, it
    /// never reaches C. A stripe never goes below zero, so a sum of zero
    /// means no admitted call was in flight at the read of its stripe, and
    /// none is admitted after. The handle is freed at all: whoever made the
    /// last add or subtract to any stripe (or Close, if that came before
    /// closed was set) reads closed as set and then all stripes at zero.
    /// </remarks>
    internal sealed class Gate
    {
        /// <summary>The stripes of a handle that many threads may call at once (a power of two).</summary>
        internal const int Shared = 32;
        const int Pad = 16; // longs per 128-byte slot
        readonly long[] stripes;
        readonly int mask;
        int closed;
        int freed;
        readonly string what;
        readonly Action free;

        /// <summary>A gate with one stripe (a handle for one thread at a time).</summary>
        internal Gate(string what, Action free) : this(what, free, 1) { }

        /// <summary>A gate with n stripes (a power of two; Shared for a shared handle).</summary>
        internal Gate(string what, Action free, int n)
        {
            this.what = what;
            this.free = free;
            mask = n - 1;
            stripes = new long[(n + 2) * Pad];
        }

        /// <summary>Admits a call to g's handle: the stripe entered (0 if g is
        /// null: no gate; the caller leaves it when it is not negative), or -1
        /// if g is closed (nothing entered).</summary>
        internal static int Enter(Gate g)
        {
            if (g == null) return 0;
            int i = Environment.CurrentManagedThreadId & g.mask;
            Interlocked.Increment(ref g.stripes[(i + 1) * Pad]);
            if (Volatile.Read(ref g.closed) != 0)
            {
                g.Leave(i);
                return -1;
            }
            return i;
        }

        /// <summary>p, if its gate g was entered (in: a stripe, not negative); else throws Closed.</summary>
        internal static T Open<T>(int @in, Gate g, T p)
        {
            if (@in < 0) throw new ClosedException(g.what + " is closed");
            return p;
        }

        /// <summary>Ends a call that entered stripe i; frees the handle if it
        /// was the last one out of a closed gate.</summary>
        internal void Leave(int i)
        {
            Interlocked.Decrement(ref stripes[(i + 1) * Pad]);
            if (Volatile.Read(ref closed) != 0 && Sum() == 0)
            {
                try { Release(); } catch (FirkinException) { /* the final flush's error, lost */ }
            }
        }

        long Sum()
        {
            long n = 0;
            for (int i = 0; i <= mask; i++) n += Volatile.Read(ref stripes[(i + 1) * Pad]);
            return n;
        }

        internal bool IsClosed { get { return Volatile.Read(ref closed) != 0; } }

        internal bool Close()
        {
            if (Interlocked.CompareExchange(ref closed, 1, 0) != 0) return false;
            if (Sum() == 0) Release();
            return true;
        }

        void Release()
        {
            if (Interlocked.Exchange(ref freed, 1) == 0) free();
        }
    }
}
