using System;
using System.Collections.Generic;

namespace Firkin
{
    /// <summary>Operations shared by Db (default namespace), Namespace and Snapshot.</summary>
    internal static class Ops
    {
        static readonly byte[] Empty = new byte[0];

        static ulong Len(byte[] b) { return b == null ? 0UL : (ulong)b.Length; }

        internal static byte[] Get(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[] key)
        {
            var b = Scratch.Buffer;
            for (;;)
            {
                long n;
                FirkinNative.fkb_get(db, snap, ns, key, Len(key), b, (ulong)b.Length, out n);
                if (n < 0) return null;
                if (n <= b.Length)
                {
                    if (n == 0) return Empty.Length == 0 ? new byte[0] : Empty;
                    var o = new byte[n];
                    Buffer.BlockCopy(b, 0, o, 0, (int)n);
                    return o;
                }
                b = Scratch.Grow(n);
            }
        }

        internal static int GetInto(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[] key, byte[] buf)
        {
            long n;
            FirkinNative.fkb_get(db, snap, ns, key, Len(key), buf, Len(buf), out n);
            return n < 0 ? -1 : (int)n;
        }

        internal static bool Contains(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[] key)
        {
            long n;
            FirkinNative.fkb_contains(db, snap, ns, key, Len(key), out n);
            return n == 1;
        }

        internal static ulong Version(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[] key)
        {
            long n;
            FirkinNative.fkb_get_version(db, snap, ns, key, Len(key), out n);
            return (ulong)n;
        }

        static void PutU32(byte[] b, int off, uint v)
        {
            b[off] = (byte)v; b[off + 1] = (byte)(v >> 8); b[off + 2] = (byte)(v >> 16); b[off + 3] = (byte)(v >> 24);
        }

        internal static int GetI32(byte[] b, int off)
        {
            return b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24);
        }

        /// <summary>The raw packed output of firkin_multi_get_packed.</summary>
        internal static byte[] MultiGetRaw(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[][] keys)
        {
            if (keys == null) throw new InvalidArgumentException("multi-get: keys is null");
            // A key's length (an int, under 2^31) always fits the 32-bit length
            // field; the whole must fit one array (int arithmetic would wrap).
            long size = 0;
            foreach (var k in keys) size += 4L + (k == null ? 0 : k.Length);
            if (size > int.MaxValue - 64)
                throw new TooLargeException("multi-get: " + keys.Length + " keys take " + size + " bytes packed, more than one array holds");
            var packed = new byte[size];
            int off = 0;
            foreach (var k in keys)
            {
                int kl = k == null ? 0 : k.Length;
                PutU32(packed, off, (uint)kl);
                if (kl > 0) Buffer.BlockCopy(k, 0, packed, off + 4, kl);
                off += 4 + kl;
            }
            return Scratch.Bytes((byte[] b, ulong cap, out long n) =>
                FirkinNative.fkb_multi_get(db, snap, ns, packed, (ulong)packed.Length, b, cap, out n));
        }

        internal static byte[][] MultiGet(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, byte[][] keys)
        {
            var raw = MultiGetRaw(db, snap, ns, keys);
            var outv = new byte[keys.Length][];
            int off = 0;
            for (int i = 0; i < keys.Length; i++)
            {
                int st = GetI32(raw, off);
                off += 4;
                if (st == 0)
                {
                    int vl = GetI32(raw, off);
                    off += 4;
                    var v = new byte[vl];
                    Buffer.BlockCopy(raw, off, v, 0, vl);
                    off += vl;
                    outv[i] = v;
                }
                else if (st != -1)
                {
                    throw KeyError(db, snap, ns, i, keys[i], st);
                }
            }
            return outv;
        }

        /// <summary>The error for key i of a multi-get, which failed with status st. The packed
        /// result carries a status per key but no message, and the multi-get call itself
        /// succeeded, which clears the library's message (firkin_last_error): the key is read
        /// again alone for it. Should that read give another outcome (the state changed
        /// meanwhile), the status's description stands in. "multi-get key N: message", as
        /// Python's "multi_get key N: message".</summary>
        internal static FirkinException KeyError(SWIGTYPE_p_firkin_db db, SWIGTYPE_p_firkin_snapshot snap, SWIGTYPE_p_firkin_ns ns, int i, byte[] key, int st)
        {
            string msg = FirkinNative.fkb_strerror(st);
            try
            {
                Get(db, snap, ns, key);
            }
            catch (FirkinException e)
            {
                if (e.Code == st && !string.IsNullOrEmpty(e.Message)) msg = e.Message;
            }
            return FirkinException.Create(st, "multi-get key " + i + ": " + msg);
        }

        internal static List<string> Lines(string s)
        {
            var o = new List<string>();
            foreach (var l in s.Split('\n'))
                if (l.Length > 0) o.Add(l);
            return o;
        }
    }
}
