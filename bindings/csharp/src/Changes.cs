using System;
using System.Collections;
using System.Collections.Generic;
using System.Text;
using System.Threading;

namespace Firkin
{
    /// <summary>The kind of a change (firkin_change_type). Later versions add
    /// kinds: skip or stop at one you do not know.</summary>
    public enum ChangeType
    {
        Put = 1,
        Delete = 2,
        NsCreate = 3,
        NsDrop = 4,
        BatchBegin = 5,
        BatchEnd = 6,
    }

    /// <summary>One committed change; Key and Value are empty where the kind
    /// has none, Namespace is "" for batch markers.</summary>
    public struct Change
    {
        public ChangeType Type { get; }
        public ulong Seq { get; }
        public string Namespace { get; }
        public byte[] Key { get; }
        public byte[] Value { get; }

        public Change(ChangeType type, ulong seq, string ns, byte[] key, byte[] value)
        {
            Type = type;
            Seq = seq;
            Namespace = ns;
            Key = key;
            Value = value;
        }

        public override string ToString() { return Type + " " + Seq + " " + Namespace; }
    }

    /// <summary>
    /// A cursor over the change feed (firkin_changes): every committed change
    /// after the sequence number it was opened at, in order, batches whole.
    /// Enumerating it yields the changes available now and ends (it never
    /// blocks); enumerate it again later, or after <see cref="Wait"/>, which
    /// blocks until a new change is published (woken by the writer). Changes
    /// are fetched many at a time (firkin_changes_next_n). If the history it
    /// needs was compacted away it throws SnapshotTooOldException, never
    /// skipping a change.
    /// <code>
    /// using (var c = db.Changes(lastApplied)) {
    ///     for (;;) { foreach (var ch in c) Apply(ch); c.Wait(1000); }
    /// }
    /// </code>
    /// Thread contract: one thread at a time; Dispose must not race with the
    /// other calls.
    /// </summary>
    public sealed class Changes : IEnumerable<Change>, IDisposable
    {
        const int BufSize = 64 * 1024;

        volatile SWIGTYPE_p_firkin_changes h;

        Gate gate;
        byte[] buf = new byte[BufSize];
        int pos, end;

        Changes(long p)
        {
            h = new SWIGTYPE_p_firkin_changes(new IntPtr(p), false);
            h.Owner = this;
            // P/Invokes on h count themselves in and out of the gate (Gate.cs): a
            // Dispose from another thread (twice at once, or under a call) frees
            // once, after the call in flight.
            IntPtr ptr = new IntPtr(p);
            gate = new Gate("change cursor", () => FirkinNative.firkin_changes_free(new SWIGTYPE_p_firkin_changes(ptr, false)));
            h.Gate = gate;
        }

        internal static Changes Open(SWIGTYPE_p_firkin_db db, ulong since, bool batchMarkers)
        {
            long p;
            FirkinNative.fkb_changes_open(db, since, batchMarkers, out p);
            return new Changes(p);
        }

        SWIGTYPE_p_firkin_changes Handle
        {
            get
            {
                if (h == null) throw new ClosedException("change cursor is closed");
                return h;
            }
        }

        bool Fill()
        {
            var c = Handle;
            for (;;)
            {
                long n;
                FirkinNative.fkb_changes_next_n(c, buf, (ulong)buf.Length, out n);
                if (n == 0) return false;
                if (n > buf.Length)
                {
                    buf = new byte[n];
                    continue;
                }
                pos = 0;
                end = (int)n;
                return true;
            }
        }

        /// <summary>The next change available now, or false.</summary>
        public bool TryNext(out Change change)
        {
            if (h == null) throw new ClosedException("change cursor is closed");  // (buffered entries too)
            if (pos >= end && !Fill())
            {
                change = default(Change);
                return false;
            }
            int type = Ops.GetI32(buf, pos);
            int nl = Ops.GetI32(buf, pos + 4);
            ulong seq = BitConverter.ToUInt64(buf, pos + 8);
            int kl = Ops.GetI32(buf, pos + 16);
            int vl = Ops.GetI32(buf, pos + 20);
            int o = pos + 24;
            string ns = Encoding.UTF8.GetString(buf, o, nl);
            o += nl;
            var k = new byte[kl];
            var v = new byte[vl];
            Buffer.BlockCopy(buf, o, k, 0, kl);
            Buffer.BlockCopy(buf, o + kl, v, 0, vl);
            pos = o + kl + vl;
            change = new Change((ChangeType)type, seq, ns, k, v);
            return true;
        }

        /// <summary>The changes available now (enumerate again for later ones).</summary>
        public IEnumerator<Change> GetEnumerator()
        {
            Change c;
            while (TryNext(out c)) yield return c;
        }

        IEnumerator IEnumerable.GetEnumerator() { return GetEnumerator(); }

        /// <summary>Blocks until a change is published or timeoutMs pass
        /// (Timeout.Infinite, -1: no limit); true if a change is available. It
        /// waits in native calls of at most 100 ms, so Thread.Interrupt ends it
        /// with ThreadInterruptedException (one long call ignored it, and -1
        /// did not wait at all).</summary>
        public bool Wait(int timeoutMs)
        {
            if (pos < end) return true;
            if (timeoutMs < -1)
                throw new InvalidArgumentException("timeoutMs must be -1 (no limit) or more");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (;;)
            {
                long left = timeoutMs == Timeout.Infinite ? long.MaxValue : timeoutMs - clock.ElapsedMilliseconds;
                FirkinNative.firkin_changes_wait(Handle, (uint)Math.Max(0, Math.Min(left, 100)));
                if (Fill()) return true;
                if (left <= 100) return false;
                Thread.Sleep(0);  // throws ThreadInterruptedException if one is pending
            }
        }

        /// <summary>How far the cursor has read: every write numbered at or
        /// below it was returned (TryNext, enumeration), or holds no change
        /// (a CAS that failed after it took its number: firkin.h,
        /// firkin_changes_open). The next buffered change's number - 1 while
        /// one is buffered; otherwise the last number read: LastSeq once
        /// caught up, also where the last write holds no change. A consumer
        /// that stores it resumes with db.Changes(Position).</summary>
        public ulong Position
        {
            get
            {
                var c = Handle;
                if (end - pos >= 16) return BitConverter.ToUInt64(buf, pos + 8) - 1;
                long n;
                FirkinNative.fkb_changes_position(c, out n);
                return (ulong)n;
            }
        }

        /// <summary>Releases the cursor. Disposing twice is harmless.</summary>
        public void Dispose()
        {
            if (h != null)
            {
                gate.Close();  // frees now, or when the call in flight returns
                h = null;
            }
            // (The buffer is left alone: a TryNext in another thread, a misuse,
            // may be reading it; TryNext checks h first.)
            GC.SuppressFinalize(this);
        }

        ~Changes()
        {
            if (h != null && gate != null) gate.Close();
        }
    }
}
