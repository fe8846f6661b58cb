using System;
using System.Text;

namespace Firkin
{
    /// <summary>When a write is acknowledged, relative to durability.</summary>
    public enum SyncMode
    {
        /// <summary>The database's mode (write options only).</summary>
        Default = -1,
        /// <summary>Acknowledged once in the OS page cache.</summary>
        None = 0,
        /// <summary>None plus a background flush every sync_interval_ms.</summary>
        Interval = 1,
        /// <summary>Acknowledged after an fdatasync covering the write.</summary>
        Always = 2,
    }

    /// <summary>Per-thread buffers of the hot paths (one P/Invoke, no native allocation).</summary>
    internal static class Scratch
    {
        const int Initial = 4096;
        const int Keep = 1 << 20;

        [ThreadStatic] static byte[] buf;

        internal static byte[] Buffer
        {
            get { return buf ?? (buf = new byte[Initial]); }
        }

        internal static byte[] Grow(long size)
        {
            if (size > int.MaxValue)
                throw new TooLargeException("value of " + size + " bytes does not fit a .NET array");
            var b = new byte[size];
            if (size <= Keep) buf = b;
            return b;
        }

        internal delegate void TextCall(byte[] b, ulong cap, out long n);

        /// <summary>minSize: a buffer at least that large from the first call (verify: a
        /// report that does not fit means running the verification again).</summary>
        internal static byte[] Bytes(TextCall f, int minSize = 0)
        {
            var b = Buffer;
            if (b.Length < minSize) b = Grow(minSize);
            for (;;)
            {
                long n;
                f(b, (ulong)b.Length, out n);
                if (n <= b.Length)
                {
                    var o = new byte[n];
                    System.Buffer.BlockCopy(b, 0, o, 0, (int)n);
                    return o;
                }
                b = Grow(n);
            }
        }

        internal static string Text(TextCall f, int minSize = 0)
        {
            return Encoding.UTF8.GetString(Bytes(f, minSize));
        }

        /// <summary>The first buffer of a verify report (100 problems, the most a report
        /// lists, of a few hundred bytes each fit).</summary>
        internal const int VerifyReportSize = Keep;
    }

    /// <summary>Settings of <see cref="Db.Open(string, Options)"/> (firkin_options).</summary>
    public sealed partial class Options : IDisposable
    {
        SWIGTYPE_p_firkin_options h;
        Gate gate;

        /// <summary>The defaults (see capi/firkin.h).</summary>
        public Options()
        {
            long p;
            FirkinNative.fkb_options_new(out p);
            h = new SWIGTYPE_p_firkin_options(new IntPtr(p), false);
            h.Owner = this;
            // P/Invokes on h count themselves in and out of the gate (Gate.cs): a
            // Dispose from another thread (twice at once, or under a call) frees
            // once, after the call in flight.
            IntPtr ptr = new IntPtr(p);
            gate = new Gate("options", () => FirkinNative.firkin_options_free(new SWIGTYPE_p_firkin_options(ptr, false)));
            h.Gate = gate;
        }

        internal SWIGTYPE_p_firkin_options Handle
        {
            get
            {
                lock (this)
                {
                    if (h == null) throw new ClosedException("options are closed");
                    return h;
                }
            }
        }

        /// <summary>Sets an option by name, the value as text ("true", "always", "64M").</summary>
        public Options Set(string name, string value)
        {
            FirkinNative.firkin_options_set(Handle, name, value);
            return this;
        }

        /// <summary>An option's value as text.</summary>
        public string Get(string name)
        {
            var o = Handle;
            return Scratch.Text((byte[] b, ulong cap, out long n) => FirkinNative.fkb_options_get(o, name, b, cap, out n));
        }

        /// <summary>Encrypts a new database, or opens an encrypted one, with a raw 32-byte
        /// key (copied; firkin_options_set_encryption_key). Opening an encrypted database
        /// without its key or with a wrong one, or an unencrypted one with a key, throws
        /// BadKeyException. InvalidArgumentException for another length.</summary>
        public Options SetEncryptionKey(byte[] key)
        {
            if (key == null) throw new InvalidArgumentException("encryption key is null");
            FirkinNative.firkin_options_set_encryption_key(Handle, key, (ulong)key.Length);
            return this;
        }

        /// <summary>Like SetEncryptionKey, with a passphrase through Argon2id (cost: the
        /// options kdf_memory_kib, kdf_passes, kdf_lanes; firkin_options_set_passphrase).</summary>
        public Options SetPassphrase(string passphrase)
        {
            if (passphrase == null || passphrase.IndexOf('\0') >= 0)
                throw new InvalidArgumentException("passphrase is null or holds a NUL character");
            FirkinNative.firkin_options_set_passphrase(Handle, passphrase);
            return this;
        }

        internal Options SetTyped(string name, long v)
        {
            FirkinNative.fkb_options_set_typed(Handle, name, v);
            return this;
        }

        internal long GetTyped(string name)
        {
            long v;
            FirkinNative.fkb_options_get_typed(Handle, name, out v);
            return v;
        }

        public bool CreateIfMissing
        {
            get { return GetTyped("create_if_missing") != 0; }
            set { SetTyped("create_if_missing", value ? 1 : 0); }
        }

        public bool ErrorIfExists
        {
            get { return GetTyped("error_if_exists") != 0; }
            set { SetTyped("error_if_exists", value ? 1 : 0); }
        }

        public bool ReadOnly
        {
            get { return GetTyped("read_only") != 0; }
            set { SetTyped("read_only", value ? 1 : 0); }
        }

        /// <summary>The database's sync mode (not Default).</summary>
        public SyncMode SyncMode
        {
            get { return (SyncMode)GetTyped("sync_mode"); }
            set { SetTyped("sync_mode", (long)value); }
        }

        public uint SyncIntervalMs
        {
            get { return (uint)GetTyped("sync_interval_ms"); }
            set { SetTyped("sync_interval_ms", value); }
        }

        public ulong SegmentSize
        {
            get { return (ulong)GetTyped("segment_size"); }
            set { SetTyped("segment_size", (long)value); }
        }

        public bool Salvage
        {
            get { return GetTyped("salvage") != 0; }
            set { SetTyped("salvage", value ? 1 : 0); }
        }

        public bool VerifyChecksums
        {
            get { return GetTyped("verify_checksums") != 0; }
            set { SetTyped("verify_checksums", value ? 1 : 0); }
        }

        /// <summary>Releases the options. Disposing twice is harmless.</summary>
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

        ~Options()
        {
            if (h != null && gate != null) gate.Close();
        }
    }

    /// <summary>Per-write settings (firkin_write_options).</summary>
    public sealed class WriteOptions : IDisposable
    {
        SWIGTYPE_p_firkin_write_options h;
        Gate gate;

        public WriteOptions()
        {
            long p;
            FirkinNative.fkb_write_options_new(out p);
            h = new SWIGTYPE_p_firkin_write_options(new IntPtr(p), false);
            h.Owner = this;
            // P/Invokes on h count themselves in and out of the gate (Gate.cs): a
            // Dispose from another thread (twice at once, or under a call) frees
            // once, after the call in flight.
            IntPtr ptr = new IntPtr(p);
            gate = new Gate("write options", () => FirkinNative.firkin_write_options_free(new SWIGTYPE_p_firkin_write_options(ptr, false)));
            h.Gate = gate;
        }

        internal SWIGTYPE_p_firkin_write_options Handle
        {
            get
            {
                lock (this)
                {
                    if (h == null) throw new ClosedException("write options are closed");
                    return h;
                }
            }
        }

        internal static SWIGTYPE_p_firkin_write_options HandleOf(WriteOptions wo)
        {
            return wo == null ? null : wo.Handle;
        }

        public SyncMode Sync
        {
            get
            {
                long v;
                FirkinNative.fkb_write_options_get_sync(Handle, out v);
                return (SyncMode)v;
            }
            set { FirkinNative.firkin_write_options_set_sync(Handle, (int)value); }
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

        ~WriteOptions()
        {
            if (h != null && gate != null) gate.Close();
        }
    }
}
