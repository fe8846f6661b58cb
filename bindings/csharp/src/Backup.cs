using System;
using System.Text;
using System.Text.RegularExpressions;

namespace Firkin
{
    /// <summary>Settings of <see cref="Db.Backup(string, BackupOptions)"/> and
    /// <see cref="Db.Restore"/>; a plain value (no native handle). All on by
    /// default. The progress callback of the C API is not offered in C#.</summary>
    public sealed class BackupOptions
    {
        /// <summary>Into an earlier backup of the same database, keep what is already there.</summary>
        public bool Incremental { get; set; } = true;
        /// <summary>Open and verify the finished copy before marking it complete.</summary>
        public bool Verify { get; set; } = true;
        /// <summary>Hard-link sealed segments on the same file system (else copy).</summary>
        public bool HardLinks { get; set; } = true;
        /// <summary>Copy the index checkpoint too.</summary>
        public bool Checkpoint { get; set; } = true;

        /// <summary>Sets an option by its C name ("incremental", "verify",
        /// "hard_links", "checkpoint") to "true"/"false"/"1"/"0", as
        /// firkin_backup_options_set; anything else throws
        /// <see cref="InvalidArgumentException"/>.</summary>
        public void Set(string name, string value)
        {
            bool v;
            if (value == "true" || value == "1") v = true;
            else if (value == "false" || value == "0") v = false;
            else throw new InvalidArgumentException("backup option '" + name + "' takes true/false/1/0, not '" + value + "'");
            switch (name)
            {
                case "incremental": Incremental = v; break;
                case "verify": Verify = v; break;
                case "hard_links": HardLinks = v; break;
                case "checkpoint": Checkpoint = v; break;
                default: throw new InvalidArgumentException("unknown backup option '" + name + "'");
            }
        }

        /// <summary>An option by its C name, as "true" or "false".</summary>
        public string Get(string name)
        {
            switch (name)
            {
                case "incremental": return Incremental ? "true" : "false";
                case "verify": return Verify ? "true" : "false";
                case "hard_links": return HardLinks ? "true" : "false";
                case "checkpoint": return Checkpoint ? "true" : "false";
                default: throw new InvalidArgumentException("unknown backup option '" + name + "'");
            }
        }

        internal static int Flags(BackupOptions o)
        {
            if (o == null) o = new BackupOptions();
            return (o.Incremental ? FirkinNative.FKB_BACKUP_INCREMENTAL : 0)
                | (o.Verify ? FirkinNative.FKB_BACKUP_VERIFY : 0)
                | (o.HardLinks ? FirkinNative.FKB_BACKUP_HARD_LINKS : 0)
                | (o.Checkpoint ? FirkinNative.FKB_BACKUP_CHECKPOINT : 0);
        }
    }

    /// <summary>What a backup or restore did (the report of firkin_backup).</summary>
    public sealed class BackupReport
    {
        /// <summary>The snapshot (sequence number) the copy holds.</summary>
        public ulong Seq { get; private set; }
        public ulong Segments { get; private set; }
        public ulong Linked { get; private set; }
        public ulong Copied { get; private set; }
        public ulong Kept { get; private set; }
        /// <summary>Files of an earlier backup that this one removed.</summary>
        public ulong Removed { get; private set; }
        public ulong BytesLinked { get; private set; }
        public ulong BytesCopied { get; private set; }
        public ulong BytesKept { get; private set; }
        public bool Checkpoint { get; private set; }
        public bool Verified { get; private set; }
        /// <summary>The report as the library wrote it (JSON).</summary>
        public string Json { get; private set; }

        internal delegate void Call(byte[] buf, ulong cap, out long n);

        /// <summary>Makes the call once (never again to fetch a longer report).</summary>
        internal static BackupReport Once(Call call)
        {
            var buf = new byte[4096];
            long n;
            call(buf, (ulong)buf.Length, out n);
            if (n > buf.Length) throw new InternalException("backup report too long");
            var js = Encoding.UTF8.GetString(buf, 0, (int)n);
            return new BackupReport
            {
                Json = js,
                Seq = Num(js, "seq"),
                Segments = Num(js, "segments"),
                Linked = Num(js, "linked"),
                Copied = Num(js, "copied"),
                Kept = Num(js, "kept"),
                Removed = Num(js, "removed"),
                BytesLinked = Num(js, "bytes_linked"),
                BytesCopied = Num(js, "bytes_copied"),
                BytesKept = Num(js, "bytes_kept"),
                Checkpoint = js.Contains("\"checkpoint\":true"),
                Verified = js.Contains("\"verified\":true"),
            };
        }

        static ulong Num(string js, string field)
        {
            var m = Regex.Match(js, "\"" + field + "\":([0-9]+)");
            return m.Success ? ulong.Parse(m.Groups[1].Value) : 0;
        }

        public override string ToString() { return Json; }
    }
}
