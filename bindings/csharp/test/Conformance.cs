// The conformance runner of the C# binding: executes tests/conformance/*.case
// (format: tests/README.md) through the Firkin assembly. Commands use the
// public API where it has the operation (a FirkinException's Code is the
// command's status; null / false / 0 "absent" results are NOT_FOUND or
// CONDITION_FAILED); commands about raw C details use the SWIG raw layer.
// Prints failures and "N passed, N failed" (cases).
//
// Usage: mono FirkinConformance.exe CASES_DIR [CASE]
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Firkin;

class Fail : Exception
{
    public Fail(string m) : base(m) { }
}

enum Kind { Bare, Bytes, Mod, Arrow, Bang }

class Tok
{
    public Kind Kind;
    public byte[] B;
    public string Text;
    public string Val;

    public string Str { get { return Kind == Kind.Bare ? Text : Encoding.GetEncoding("ISO-8859-1").GetString(B); } }
    public string Utf8 { get { return Kind == Kind.Bare ? Text : Encoding.UTF8.GetString(B); } }
}

class Outcome
{
    public int St;
    public string Msg = "";
    public bool FromError;
    public static readonly Outcome Ok = new Outcome();
    public static Outcome Status(int st) { return new Outcome { St = st }; }
}

class IterState
{
    public Iterator It;
    public int Slot;
    public List<string> Got = new List<string>();
}

class Runner
{
    static readonly string[] StatusNames = {
        "OK", "NOT_FOUND", "INVALID_ARGUMENT", "IO", "CORRUPTION", "BUSY", "READ_ONLY",
        "CONDITION_FAILED", "CONFLICT", "NO_SPACE", "NO_MEMORY", "TOO_LARGE", "BUFFER_TOO_SMALL",
        "CLOSED", "VERSION", "SNAPSHOT_TOO_OLD", "NAMESPACE_NOT_FOUND", "EXISTS", "NOT_A_DATABASE",
        "NOT_SUPPORTED", "INTERNAL", "BAD_KEY" };
    static readonly Encoding Latin1 = Encoding.GetEncoding("ISO-8859-1");

    static readonly HashSet<string> Numeric = new HashSet<string> { "sync_interval_ms", "segment_size",
        "compact_dead_ratio", "compact_space_amp", "compact_rate", "checkpoint_every" };

    static int StatusCode(string name)
    {
        int i = Array.IndexOf(StatusNames, name);
        if (i < 0) throw new Fail("unknown status " + name);
        return -i;
    }

    static string StatusName(int c) { return c <= 0 && c >= -21 ? StatusNames[-c] : c.ToString(); }

    static bool IsBare(char c)
    {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
    }

    static byte[] Unhex(string s)
    {
        if (s.Length % 2 != 0) throw new Fail("odd hex " + s);
        var o = new byte[s.Length / 2];
        for (int i = 0; i < o.Length; i++) o[i] = Convert.ToByte(s.Substring(2 * i, 2), 16);
        return o;
    }

    static List<Tok> Tokenize(string line)
    {
        if (line.EndsWith("\r")) line = line.Substring(0, line.Length - 1);
        var toks = new List<Tok>();
        int i = 0, n = line.Length;
        for (;;)
        {
            while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
            if (i >= n || line[i] == '#') return toks;
            if (line[i] == '"')
            {
                var b = new List<byte>();
                i++;
                for (;;)
                {
                    if (i >= n) throw new Fail("unterminated quote");
                    char c = line[i];
                    if (c == '"') { i++; break; }
                    if (c == '\\' && i + 1 < n)
                    {
                        char e = line[++i];
                        switch (e)
                        {
                            case '\\': b.Add((byte)'\\'); break;
                            case '"': b.Add((byte)'"'); break;
                            case 'n': b.Add((byte)'\n'); break;
                            case 't': b.Add((byte)'\t'); break;
                            case 'r': b.Add((byte)'\r'); break;
                            case '0': b.Add(0); break;
                            case 'x': b.AddRange(Unhex(line.Substring(i + 1, 2))); i += 2; break;
                            default: b.Add((byte)'\\'); b.AddRange(Encoding.UTF8.GetBytes(e.ToString())); break;
                        }
                        i++;
                        continue;
                    }
                    b.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
                    i++;
                }
                if (i < n && line[i] != ' ' && line[i] != '\t') throw new Fail("text after closing quote");
                toks.Add(new Tok { Kind = Kind.Bytes, B = b.ToArray() });
                continue;
            }
            int j = i;
            while (j < n && line[j] != ' ' && line[j] != '\t') j++;
            string w = line.Substring(i, j - i);
            i = j;
            if (w == "->") toks.Add(new Tok { Kind = Kind.Arrow, Text = w });
            else if (w.StartsWith("!")) toks.Add(new Tok { Kind = Kind.Bang, Text = w.Substring(1) });
            else if (w.StartsWith("hex:")) toks.Add(new Tok { Kind = Kind.Bytes, B = Unhex(w.Substring(4)) });
            else if (w.StartsWith("rep:"))
            {
                var p = w.Split(':');
                var v = new byte[int.Parse(p[1])];
                byte x = Unhex(p[2])[0];
                for (int k = 0; k < v.Length; k++) v[k] = x;
                toks.Add(new Tok { Kind = Kind.Bytes, B = v });
            }
            else if (w.IndexOf('=') >= 0)
            {
                int k = w.IndexOf('=');
                toks.Add(new Tok { Kind = Kind.Mod, Text = w.Substring(0, k), Val = w.Substring(k + 1) });
            }
            else
            {
                foreach (char c in w) if (!IsBare(c)) throw new Fail("bad token " + w);
                toks.Add(new Tok { Kind = Kind.Bare, Text = w, B = Encoding.UTF8.GetBytes(w) });
            }
        }
    }

    static Outcome Guarded(Func<Outcome> f)
    {
        try { return f(); }
        catch (FirkinException e) { return new Outcome { St = e.Code, Msg = e.Message ?? "", FromError = true }; }
    }

    // per-case state
    string dir;
    Options opts;
    WriteOptions wo;
    readonly Db[] dbs = new Db[3];
    readonly Dictionary<string, Namespace> ns = new Dictionary<string, Namespace>();
    readonly Dictionary<string, int> nsSlot = new Dictionary<string, int>();
    readonly Dictionary<string, Snapshot> snaps = new Dictionary<string, Snapshot>();
    readonly Dictionary<string, int> snapSlot = new Dictionary<string, int>();
    readonly Dictionary<string, IterState> iters = new Dictionary<string, IterState>();
    readonly Dictionary<string, Batch> batches = new Dictionary<string, Batch>();
    readonly Dictionary<string, Transaction> txns = new Dictionary<string, Transaction>();
    readonly Dictionary<string, int> txnSlot = new Dictionary<string, int>();
    readonly Dictionary<string, ulong> vars = new Dictionary<string, ulong>();

    BackupOptions bopts = new BackupOptions();
    void Reset(string d) { dir = d; opts = new Options(); bopts = new BackupOptions(); wo = null; }
    string Sub(Tok t) { return t.Utf8 == "." ? dir : Path.Combine(dir, t.Utf8); }

    void CloseAll()
    {
        foreach (var s in iters.Values) s.It.Dispose();
        foreach (var t in txns.Values) t.Dispose();
        txns.Clear(); txnSlot.Clear();
        foreach (var s in snaps.Values) s.Dispose();
        foreach (var s in ns.Values) s.Dispose();
        foreach (var s in batches.Values) s.Dispose();
        for (int i = 0; i < dbs.Length; i++)
        {
            if (dbs[i] != null) { try { dbs[i].Dispose(); } catch (FirkinException) { } dbs[i] = null; }
        }
        iters.Clear(); snaps.Clear(); ns.Clear(); batches.Clear(); vars.Clear(); nsSlot.Clear(); snapSlot.Clear();
        if (opts != null) opts.Dispose();
        if (wo != null) wo.Dispose();
        opts = null; wo = null;
    }

    Outcome CloseSlot(int slot)
    {
        foreach (var k in iters.Where(e => e.Value.Slot == slot).Select(e => e.Key).ToList()) { iters[k].It.Dispose(); iters.Remove(k); }
        foreach (var k in txns.Keys.Where(k => txnSlot[k] == slot).ToList()) { txns[k].Dispose(); txns.Remove(k); }
        foreach (var k in snaps.Keys.Where(k => snapSlot[k] == slot).ToList()) { snaps[k].Dispose(); snaps.Remove(k); }
        foreach (var k in ns.Keys.Where(k => nsSlot[k] == slot).ToList()) { ns[k].Dispose(); ns.Remove(k); }
        var d = dbs[slot];
        dbs[slot] = null;
        if (d == null) return Outcome.Ok;
        return Guarded(() => { d.Dispose(); return Outcome.Ok; });
    }

    static string ChangeName(ChangeType t)
    {
        switch (t)
        {
            case ChangeType.Put: return "put";
            case ChangeType.Delete: return "delete";
            case ChangeType.NsCreate: return "ns_create";
            case ChangeType.NsDrop: return "ns_drop";
            case ChangeType.BatchBegin: return "batch_begin";
            case ChangeType.BatchEnd: return "batch_end";
        }
        return "?";
    }

    ulong Number(Tok t)
    {
        ulong v;
        if (ulong.TryParse(t.Text, out v)) return v;
        if (t.Text == null || !vars.TryGetValue(t.Text, out v)) throw new Fail("variable " + t.Text + " used before it was bound");
        return v;
    }

    static bool Bool(string s)
    {
        if (s == "true") return true;
        if (s == "false") return false;
        throw new Fail("bad boolean " + s);
    }

    static long SyncModeOf(string s)
    {
        switch (s)
        {
            case "none": return 0;
            case "interval": return 1;
            case "always": return 2;
            case "default": return -1;
        }
        long v;
        if (!long.TryParse(s, out v)) throw new Fail("bad sync mode " + s);
        return v;
    }

    static string SyncModeName(long v)
    {
        switch (v) { case 0: return "none"; case 1: return "interval"; case 2: return "always"; case -1: return "default"; }
        return v.ToString();
    }

    static string Norm(string s)
    {
        if (s == "true" || s == "1") return "true";
        if (s == "false" || s == "0") return "false";
        ulong mult = 1;
        string t = s;
        if (t.Length > 1)
        {
            char c = t[t.Length - 1];
            if (c == 'K') mult = 1UL << 10;
            if (c == 'M') mult = 1UL << 20;
            if (c == 'G') mult = 1UL << 30;
            if (mult != 1) t = t.Substring(0, t.Length - 1);
        }
        ulong v;
        return ulong.TryParse(t, out v) ? (v * mult).ToString() : s;
    }

    int SlotOf(Dictionary<string, string> m) { string v; return m.TryGetValue("db", out v) && v == "2" ? 2 : 1; }

    Db DbOf(Dictionary<string, string> m)
    {
        var d = dbs[SlotOf(m)];
        if (d == null) throw new Fail("database slot " + SlotOf(m) + " is not open");
        return d;
    }

    Namespace NsObj(Dictionary<string, string> m)
    {
        string name;
        if (!m.TryGetValue("ns", out name)) return null;
        Namespace n;
        if (!ns.TryGetValue(name, out n)) throw new Fail("namespace handle " + name + " used before it was bound");
        return n;
    }

    Transaction Txn(string name)
    {
        Transaction t;
        if (!txns.TryGetValue(name, out t)) throw new Fail("transaction " + name + " used before it was bound");
        return t;
    }

    SWIGTYPE_p_firkin_ns Nsh(Dictionary<string, string> m) { var n = NsObj(m); return n == null ? null : n.Handle; }

    Snapshot SnapObj(Dictionary<string, string> m)
    {
        string name;
        if (!m.TryGetValue("snap", out name)) return null;
        Snapshot s;
        if (!snaps.TryGetValue(name, out s)) throw new Fail("snapshot " + name + " used before it was bound");
        return s;
    }

    SWIGTYPE_p_firkin_snapshot Snaph(Dictionary<string, string> m) { var s = SnapObj(m); return s == null ? null : s.Handle; }

    /// <summary>The optional trailing "reverse" argument at position i.</summary>
    static bool ReverseArg(List<Tok> a, int i)
    {
        if (a.Count <= i) return false;
        if (a[i].Text != "reverse") throw new Fail("expected 'reverse', got " + a[i].Utf8);
        return true;
    }

    void NewIter(string name, Iterator it, int slot)
    {
        if (iters.ContainsKey(name))
        {
            it.Dispose();
            throw new Fail("iterator " + name + " exists");
        }
        iters[name] = new IterState { It = it, Slot = slot };
    }

    IterState Iter(string name)
    {
        IterState s;
        if (!iters.TryGetValue(name, out s)) throw new Fail("iterator " + name + " used before it was bound");
        return s;
    }

    Batch BatchOf(string name)
    {
        Batch b;
        if (!batches.TryGetValue(name, out b)) throw new Fail("batch " + name + " used before it was bound");
        return b;
    }

    SWIGTYPE_p_firkin_write_options Woh { get { return wo == null ? null : wo.Handle; } }

    static void Args(List<Tok> a, int lo, int hi)
    {
        if (a.Count < lo || a.Count > hi) throw new Fail("wrong number of arguments (" + a.Count + ")");
    }

    static string Show(byte[] b)
    {
        if (b == null) return "null";
        var s = new StringBuilder("\"");
        for (int i = 0; i < Math.Min(b.Length, 64); i++)
            s.Append(b[i] >= 32 && b[i] < 127 ? ((char)b[i]).ToString() : string.Format("\\x{0:x2}", b[i]));
        return s.Append(b.Length > 64 ? "...\"" : "\"").ToString();
    }

    static void Eq(string what, byte[] got, byte[] want)
    {
        if (got == null || !got.SequenceEqual(want)) throw new Fail(what + ": got " + Show(got) + ", want " + Show(want));
    }

    static string EntryText(byte[] k, byte[] v) { return Show(k) + "=" + Show(v); }

    static List<string> Decode(byte[] b, int used)
    {
        var o = new List<string>();
        int off = 0;
        while (off < used)
        {
            if (used - off < 8) throw new Fail("truncated next_n entry");
            int kl = Ops.GetI32(b, off), vl = Ops.GetI32(b, off + 4);
            if (used - off - 8 < kl + vl) throw new Fail("truncated next_n entry");
            o.Add(EntryText(b.Skip(off + 8).Take(kl).ToArray(), b.Skip(off + 8 + kl).Take(vl).ToArray()));
            off += 8 + kl + vl;
        }
        return o;
    }

    static byte[] GuardedBuf(int cap)
    {
        var b = new byte[cap + 16];
        for (int i = 0; i < b.Length; i++) b[i] = 0xA5;
        return b;
    }

    static void CheckGuard(byte[] b, int from, int to, string what)
    {
        for (int i = from; i < to; i++) if (b[i] != 0xA5) throw new Fail(what);
    }

    Outcome Run(string cmd, List<Tok> a, Dictionary<string, string> m)
    {
        switch (cmd)
        {
            case "opt_reset":
                opts.Dispose();
                opts = new Options();
                return Outcome.Ok;
            case "opt_set":
                Args(a, 2, 2);
                opts.Set(a[0].Utf8, a[1].Utf8);
                return Outcome.Ok;
            case "opt_get":
            {
                Args(a, 1, 2);
                var v = opts.Get(a[0].Utf8);
                if (a.Count == 2 && Norm(v) != Norm(a[1].Utf8)) throw new Fail("opt_get " + a[0].Text + ": got " + v);
                return Outcome.Ok;
            }
            case "opt_set_typed":
            {
                Args(a, 2, 2);
                string name = a[0].Text, val = a[1].Text;
                long v = name == "sync_mode" ? SyncModeOf(val)
                    : Numeric.Contains(name) ? (long)ulong.Parse(val)
                    : (Bool(val) ? 1 : 0);
                opts.SetTyped(name, v);
                return Outcome.Ok;
            }
            case "opt_get_typed":
            {
                Args(a, 1, 2);
                string name = a[0].Text;
                long v = opts.GetTyped(name);
                if (a.Count == 2)
                {
                    string got = name == "sync_mode" ? SyncModeName(v)
                        : Numeric.Contains(name) ? ((ulong)v).ToString()
                        : (v != 0 ? "true" : "false");
                    if (got != a[1].Text) throw new Fail("opt_get_typed " + name + ": got " + got);
                }
                return Outcome.Ok;
            }
            case "wo_set_sync":
            case "wo_get_sync":
            {
                if (wo == null) wo = new WriteOptions();
                if (cmd == "wo_set_sync")
                {
                    Args(a, 1, 1);
                    wo.Sync = (SyncMode)SyncModeOf(a[0].Text);
                    return Outcome.Ok;
                }
                Args(a, 0, 1);
                string got = SyncModeName((long)wo.Sync);
                if (a.Count == 1 && got != a[0].Text) throw new Fail("wo_get_sync: got " + got);
                return Outcome.Ok;
            }
            case "wo_reset":
                if (wo != null) wo.Dispose();
                wo = null;
                return Outcome.Ok;
            case "open":
            case "open2":
            {
                Args(a, 0, 1);
                int slot = cmd == "open2" ? 2 : 1;
                string path = a.Count == 0 ? dir : Path.Combine(dir, a[0].Utf8);
                var d = Db.Open(path, opts);
                if (dbs[slot] != null) CloseSlot(slot);
                dbs[slot] = d;
                return Outcome.Ok;
            }
            case "close": return CloseSlot(1);
            case "close2": return CloseSlot(2);
            case "close_db":
            {
                var d = dbs[1];
                dbs[1] = null;
                if (d == null) throw new Fail("no database in slot 1");
                d.Dispose();
                return Outcome.Ok;
            }
            case "free_children":
                foreach (var s in iters.Values) s.It.Dispose();
                foreach (var t in txns.Values) t.Dispose();
                txns.Clear();
                foreach (var s in snaps.Values) s.Dispose();
                foreach (var s in ns.Values) s.Dispose();
                iters.Clear(); snaps.Clear(); ns.Clear();
                return Outcome.Ok;
            case "reopen":
            {
                var o = CloseSlot(1);
                if (o.St != 0) return o;
                dbs[1] = Db.Open(dir, opts);
                return Outcome.Ok;
            }
            case "sync":
                DbOf(m).Sync();
                return Outcome.Ok;
            case "refresh":
                DbOf(m).Refresh();
                return Outcome.Ok;
            case "compact":
                DbOf(m).Compact();
                return Outcome.Ok;
            case "checkpoint":
                DbOf(m).Checkpoint();
                return Outcome.Ok;
            case "backup_opt":
                Args(a, 2, 2);
                bopts.Set(a[0].Utf8, a[1].Utf8);
                return Outcome.Ok;
            case "backup_opt_get":
            {
                Args(a, 1, 2);
                var v = bopts.Get(a[0].Utf8);
                if (a.Count == 2 && Norm(v) != Norm(a[1].Utf8)) throw new Fail("backup option " + a[0].Text + ": got " + v);
                return Outcome.Ok;
            }
            case "backup":
            case "restore":
            {
                BackupReport rep;
                List<Tok> fields;
                if (cmd == "backup")
                {
                    Args(a, 1, 100);
                    rep = DbOf(m).Backup(Sub(a[0]), bopts);
                    fields = a.Skip(1).ToList();
                }
                else
                {
                    Args(a, 2, 100);
                    rep = Db.Restore(Sub(a[0]), Sub(a[1]), bopts);
                    fields = a.Skip(2).ToList();
                }
                foreach (var f in fields) if (!rep.Json.Contains("\"" + f.Text + "\"")) throw new Fail("backup report has no member " + f.Text);
                return Outcome.Ok;
            }
            case "verify":
            case "verify_path":
            {
                string js;
                var fields = a;
                if (cmd == "verify") js = DbOf(m).Verify().Trim();
                else
                {
                    Args(a, 1, 100);
                    js = Db.VerifyPath(Path.Combine(dir, a[0].Utf8), opts).Trim();
                    fields = a.Skip(1).ToList();
                }
                if (!js.StartsWith("{") || !js.EndsWith("}")) throw new Fail("verify report is not a JSON object: " + js);
                foreach (var f in fields) if (!js.Contains("\"" + f.Text + "\"")) throw new Fail("verify report has no member " + f.Text);
                return Outcome.Ok;
            }
            case "last_seq":
                Args(a, 1, 1);
                vars[a[0].Text] = DbOf(m).LastSeq();
                return Outcome.Ok;
            case "changes":
            {
                if (a.Count < 1 || (a.Count - 1) % 5 != 0)
                    throw new Fail("changes needs SINCE then TYPE SEQ NS KEY VALUE groups");
                using (var c = DbOf(m).Changes(Number(a[0])))
                {
                    int i = 1;
                    foreach (var ch in c)
                    {
                        if (i >= a.Count)
                            throw new Fail("change " + ch + " beyond the " + (a.Count - 1) / 5 + " expected");
                        string type = ChangeName(ch.Type);
                        if (type != a[i].Text || ch.Seq != Number(a[i + 1]))
                            throw new Fail("change " + (i - 1) / 5 + ": expected " + a[i].Text + " at " +
                                           a[i + 1].Text + ", got " + type + " at " + ch.Seq);
                        if (!System.Text.Encoding.UTF8.GetBytes(ch.Namespace).SequenceEqual(a[i + 2].B) ||
                            !ch.Key.SequenceEqual(a[i + 3].B) || !ch.Value.SequenceEqual(a[i + 4].B))
                            throw new Fail("change " + (i - 1) / 5 + " (" + ch + "): namespace, key or value differs");
                        i += 5;
                    }
                    if (i != a.Count)
                        throw new Fail("the feed gave " + (i - 1) / 5 + " changes, expected " + (a.Count - 1) / 5);
                }
                return Outcome.Ok;
            }
            case "changes_position":
            {
                Args(a, 2, 2);
                using (var cur = DbOf(m).Changes(Number(a[0])))
                {
                    Change ch;
                    while (cur.TryNext(out ch)) { }
                    ulong p = cur.Position;
                    if (p != Number(a[1]))
                        throw new Fail("cursor position: expected " + Number(a[1]) + ", got " + p);
                }
                return Outcome.Ok;
            }
            case "changes_oldest":
            {
                Args(a, 0, 1);
                ulong v = DbOf(m).OldestChangeSeq();
                if (a.Count == 1 && v != Number(a[0]))
                    throw new Fail("oldest retained change: expected " + Number(a[0]) + ", got " + v);
                return Outcome.Ok;
            }
            case "stats":
            {
                var js = DbOf(m).Stats().Trim();
                if (!js.StartsWith("{") || !js.EndsWith("}")) throw new Fail("stats is not a JSON object: " + js);
                foreach (var f in a) if (!js.Contains("\"" + f.Text + "\"")) throw new Fail("stats has no member " + f.Text);
                return Outcome.Ok;
            }
            case "put":
                Args(a, 2, 2);
                FirkinNative.firkin_put(DbOf(m).Handle, Woh, Nsh(m), a[0].B, (ulong)a[0].B.Length, a[1].B, (ulong)a[1].B.Length);
                return Outcome.Ok;
            case "get":
            {
                Args(a, 1, 2);
                var v = Ops.Get(DbOf(m).Handle, Snaph(m), Nsh(m), a[0].B);
                if (v == null) return Outcome.Status(-1);
                if (a.Count == 2) Eq("get", v, a[1].B);
                return Outcome.Ok;
            }
            case "get_into":
            {
                Args(a, 2, 4);
                int cap = (int)Number(a[1]);
                var buf = GuardedBuf(cap);
                long n = 0;
                var o = Guarded(() =>
                {
                    FirkinNative.fkb_get(DbOf(m).Handle, Snaph(m), Nsh(m), a[0].B, (ulong)a[0].B.Length, buf, (ulong)cap, out n);
                    return Outcome.Ok;
                });
                CheckGuard(buf, cap, cap + 16, "get_into wrote past CAP");
                if (o.St != 0) return o;
                if (n < 0) return Outcome.Status(-1);
                if (a.Count >= 3 && (ulong)n != Number(a[2])) throw new Fail("get_into: len " + n);
                if (n > cap)
                {
                    CheckGuard(buf, 0, cap, "get_into touched the buffer on BUFFER_TOO_SMALL");
                    return new Outcome { St = -12, Msg = "buffer too small" };
                }
                if (a.Count == 4) Eq("get_into", buf.Take((int)n).ToArray(), a[3].B);
                return Outcome.Ok;
            }
            case "contains":
            {
                Args(a, 1, 2);
                bool f = Ops.Contains(DbOf(m).Handle, Snaph(m), Nsh(m), a[0].B);
                if (a.Count == 2 && f != Bool(a[1].Text)) throw new Fail("contains: got " + f);
                return Outcome.Ok;
            }
            case "get_version":
            {
                Args(a, 1, 2);
                ulong v = Ops.Version(DbOf(m).Handle, Snaph(m), Nsh(m), a[0].B);
                if (v == 0) return Outcome.Status(-1);
                if (a.Count == 2) vars[a[1].Text] = v;
                return Outcome.Ok;
            }
            case "delete":
                Args(a, 1, 1);
                FirkinNative.firkin_delete(DbOf(m).Handle, Woh, Nsh(m), a[0].B, (ulong)a[0].B.Length);
                return Outcome.Ok;
            case "put_if_absent":
            case "cas":
            case "cas_version":
            {
                long n;
                if (cmd == "put_if_absent")
                {
                    Args(a, 2, 2);
                    FirkinNative.fkb_put_if_absent(DbOf(m).Handle, Woh, Nsh(m), a[0].B, (ulong)a[0].B.Length, a[1].B, (ulong)a[1].B.Length, out n);
                }
                else if (cmd == "cas")
                {
                    Args(a, 3, 3);
                    FirkinNative.fkb_cas(DbOf(m).Handle, Woh, Nsh(m), a[0].B, (ulong)a[0].B.Length, a[1].B, (ulong)a[1].B.Length, a[2].B, (ulong)a[2].B.Length, out n);
                }
                else
                {
                    Args(a, 3, 3);
                    FirkinNative.fkb_cas_version(DbOf(m).Handle, Woh, Nsh(m), a[0].B, (ulong)a[0].B.Length, Number(a[1]), a[2].B, (ulong)a[2].B.Length, out n);
                }
                return n == 1 ? Outcome.Ok : Outcome.Status(-7);
            }
            case "multi_get":
            case "multi_get_packed":
            {
                if (a.Count % 2 != 0) throw new Fail("multi_get needs key/expectation pairs");
                var keys = new byte[a.Count / 2][];
                for (int i = 0; i < keys.Length; i++) keys[i] = a[2 * i].B;
                if (cmd == "multi_get")
                {
                    Snapshot s = null;
                    string sn;
                    if (m.TryGetValue("snap", out sn)) s = snaps[sn];
                    var nso = NsObj(m);
                    var vals = s != null ? s.MultiGet(nso, keys) : nso != null ? nso.MultiGet(keys) : DbOf(m).MultiGet(keys);
                    for (int i = 0; i < keys.Length; i++)
                    {
                        var exp = a[2 * i + 1];
                        if (exp.Kind == Kind.Bang)
                        {
                            if (StatusCode(exp.Text) != -1 || vals[i] != null) throw new Fail("multi_get key " + Show(keys[i]) + ": got " + Show(vals[i]));
                        }
                        else Eq("multi_get " + Show(keys[i]), vals[i], exp.B);
                    }
                    return Outcome.Ok;
                }
                var raw = Ops.MultiGetRaw(DbOf(m).Handle, Snaph(m), Nsh(m), keys);
                int off = 0;
                for (int i = 0; i < keys.Length; i++)
                {
                    var exp = a[2 * i + 1];
                    int st = Ops.GetI32(raw, off);
                    off += 4;
                    if (st == 0)
                    {
                        int vl = Ops.GetI32(raw, off);
                        var v = raw.Skip(off + 4).Take(vl).ToArray();
                        off += 4 + vl;
                        if (exp.Kind == Kind.Bang) throw new Fail("multi_get_packed key " + Show(keys[i]) + ": OK, want !" + exp.Text);
                        Eq("multi_get_packed", v, exp.B);
                    }
                    else if (exp.Kind != Kind.Bang || StatusCode(exp.Text) != st)
                        throw new Fail("multi_get_packed key " + Show(keys[i]) + ": status " + StatusName(st));
                }
                if (off != raw.Length) throw new Fail("multi_get_packed: bytes left over");
                return Outcome.Ok;
            }
            case "put_range":
            case "get_range":
            case "delete_range":
            {
                string pre = a[0].Str;
                ulong from = Number(a[1]), to = Number(a[2]);
                string wantName;
                int want = m.TryGetValue("->", out wantName) ? StatusCode(wantName) : 0;
                var d = DbOf(m);
                for (ulong i = from; i < to; i++)
                {
                    var k = Latin1.GetBytes(pre + i);
                    ulong ii = i;
                    if (cmd == "put_range")
                    {
                        var v = Latin1.GetBytes(a[3].Str + ii);
                        var o = Guarded(() => { FirkinNative.firkin_put(d.Handle, Woh, Nsh(m), k, (ulong)k.Length, v, (ulong)v.Length); return Outcome.Ok; });
                        if (o.St != 0) return o;
                    }
                    else if (cmd == "delete_range")
                    {
                        var o = Guarded(() => { FirkinNative.firkin_delete(d.Handle, Woh, Nsh(m), k, (ulong)k.Length); return Outcome.Ok; });
                        if (o.St != 0) return o;
                    }
                    else
                    {
                        byte[] got = null;
                        var o = Guarded(() => { got = Ops.Get(d.Handle, Snaph(m), Nsh(m), k); return got == null ? Outcome.Status(-1) : Outcome.Ok; });
                        if (o.St != want) return o;
                        if (o.St == 0 && a.Count == 4) Eq("get_range " + Show(k), got, Latin1.GetBytes(a[3].Str + ii));
                    }
                }
                return cmd == "get_range" ? Outcome.Status(want) : Outcome.Ok;
            }
            case "batch_new":
            {
                Args(a, 1, 1);
                Batch old;
                if (batches.TryGetValue(a[0].Text, out old)) old.Dispose();
                batches[a[0].Text] = new Batch();
                return Outcome.Ok;
            }
            case "batch_put":
                Args(a, 3, 3);
                BatchOf(a[0].Text).Put(NsObj(m), a[1].B, a[2].B);
                return Outcome.Ok;
            case "batch_delete":
                Args(a, 2, 2);
                BatchOf(a[0].Text).Delete(NsObj(m), a[1].B);
                return Outcome.Ok;
            case "batch_clear":
                BatchOf(a[0].Text).Clear();
                return Outcome.Ok;
            case "batch_count":
            {
                Args(a, 1, 2);
                long n = BatchOf(a[0].Text).Count;
                if (a.Count == 2 && (ulong)n != Number(a[1])) throw new Fail("batch_count: got " + n);
                return Outcome.Ok;
            }
            case "write":
                Args(a, 1, 1);
                DbOf(m).Write(wo, BatchOf(a[0].Text));
                return Outcome.Ok;
            case "batch_free":
            {
                Args(a, 1, 1);
                var b = BatchOf(a[0].Text);
                batches.Remove(a[0].Text);
                b.Dispose();
                return Outcome.Ok;
            }
            case "ns_open":
            case "ns_create":
            case "ns_create_ordered":
            {
                string name = a[0].Utf8, h = name;
                Namespace n;
                if (cmd == "ns_open")
                {
                    Args(a, 2, 3);
                    n = DbOf(m).OpenNamespace(name, Bool(a[1].Text));
                    if (a.Count == 3) h = a[2].Text;
                }
                else
                {
                    Args(a, 1, 2);
                    n = cmd == "ns_create_ordered" ? DbOf(m).CreateNamespaceOrdered(name) : DbOf(m).CreateNamespace(name);
                    if (a.Count == 2) h = a[1].Text;
                }
                Namespace old;
                if (ns.TryGetValue(h, out old)) old.Dispose();
                ns[h] = n;
                nsSlot[h] = SlotOf(m);
                return Outcome.Ok;
            }
            case "ns_drop":
                Args(a, 1, 1);
                DbOf(m).DropNamespace(a[0].Utf8);
                return Outcome.Ok;
            case "ns_list":
            {
                var got = DbOf(m).Namespaces().OrderBy(x => x, StringComparer.Ordinal).ToList();
                var want = a.Select(t => t.Utf8).OrderBy(x => x, StringComparer.Ordinal).ToList();
                if (!got.SequenceEqual(want)) throw new Fail("ns_list: got " + string.Join(",", got) + ", want " + string.Join(",", want));
                return Outcome.Ok;
            }
            case "ns_name":
            {
                Args(a, 1, 2);
                Namespace n;
                if (!ns.TryGetValue(a[0].Text, out n)) throw new Fail("namespace handle " + a[0].Text + " used before it was bound");
                string want = a.Count == 2 ? a[1].Utf8 : a[0].Text;
                if (n.Name != want) throw new Fail("ns_name: got " + n.Name);
                return Outcome.Ok;
            }
            case "ns_ordered":
            {
                Args(a, 2, 2);
                Namespace n;
                if (!ns.TryGetValue(a[0].Text, out n)) throw new Fail("namespace handle " + a[0].Text + " used before it was bound");
                if (n.IsOrdered != Bool(a[1].Text)) throw new Fail("ns_ordered: got " + n.IsOrdered);
                return Outcome.Ok;
            }
            case "ns_close":
            {
                Args(a, 1, 1);
                Namespace n;
                if (!ns.TryGetValue(a[0].Text, out n)) throw new Fail("namespace handle " + a[0].Text + " used before it was bound");
                ns.Remove(a[0].Text);
                n.Dispose();
                return Outcome.Ok;
            }
            case "count":
            {
                Args(a, 0, 1);
                long n;
                FirkinNative.fkb_count(DbOf(m).Handle, Nsh(m), out n);
                if (a.Count == 1 && (ulong)n != Number(a[0])) throw new Fail("count: got " + n);
                return Outcome.Ok;
            }
            case "txn_begin":
            {
                Args(a, 1, 2);
                if (txns.ContainsKey(a[0].Text)) throw new Fail("transaction " + a[0].Text + " exists");
                var iso = Isolation.Snapshot;
                if (a.Count == 2)
                {
                    if (a[1].Text == "serializable") iso = Isolation.Serializable;
                    else if (a[1].Text != "snapshot") throw new Fail("unknown isolation " + a[1].Text);
                }
                txns[a[0].Text] = DbOf(m).BeginTransaction(iso);
                txnSlot[a[0].Text] = SlotOf(m);
                return Outcome.Ok;
            }
            case "txn_get":
            {
                Args(a, 2, 3);
                var v = Txn(a[0].Text).Get(NsObj(m), a[1].B);
                if (v == null) return Outcome.Status(-1);
                if (a.Count == 3) Eq("txn_get", v, a[2].B);
                return Outcome.Ok;
            }
            case "txn_contains":
            {
                Args(a, 2, 3);
                bool f = Txn(a[0].Text).Contains(NsObj(m), a[1].B);
                if (a.Count == 3 && f != Bool(a[2].Text)) throw new Fail("txn_contains: got " + f);
                return Outcome.Ok;
            }
            case "txn_put":
                Args(a, 3, 3);
                Txn(a[0].Text).Put(NsObj(m), a[1].B, a[2].B);
                return Outcome.Ok;
            case "txn_delete":
                Args(a, 2, 2);
                Txn(a[0].Text).Delete(NsObj(m), a[1].B);
                return Outcome.Ok;
            case "txn_cas":
                Args(a, 4, 4);
                return Txn(a[0].Text).CompareAndSwap(NsObj(m), a[1].B, a[2].B, a[3].B) ? Outcome.Ok : Outcome.Status(-7);
            case "txn_iter_new":
            {
                Args(a, 2, 2);
                if (iters.ContainsKey(a[0].Text)) throw new Fail("iterator " + a[0].Text + " exists");
                var it = Txn(a[1].Text).NewIterator(NsObj(m));
                iters[a[0].Text] = new IterState { It = it, Slot = txnSlot[a[1].Text] };
                return Outcome.Ok;
            }
            case "txn_range_iter_new":
            {
                Args(a, 4, 5);
                var t = Txn(a[1].Text);
                if (iters.ContainsKey(a[0].Text)) throw new Fail("iterator " + a[0].Text + " exists");
                NewIter(a[0].Text, t.RangeIterator(NsObj(m), a[2].B, a[3].B, ReverseArg(a, 4)), txnSlot[a[1].Text]);
                return Outcome.Ok;
            }
            case "txn_prefix_iter_new":
            {
                Args(a, 3, 4);
                var t = Txn(a[1].Text);
                if (iters.ContainsKey(a[0].Text)) throw new Fail("iterator " + a[0].Text + " exists");
                NewIter(a[0].Text, t.PrefixIterator(NsObj(m), a[2].B, ReverseArg(a, 3)), txnSlot[a[1].Text]);
                return Outcome.Ok;
            }
            case "txn_commit":
            {
                Args(a, 1, 2);
                ulong seq = Txn(a[0].Text).Commit(wo);
                if (a.Count == 2) vars[a[1].Text] = seq;
                return Outcome.Ok;
            }
            case "txn_rollback":
                Args(a, 1, 1);
                Txn(a[0].Text).Rollback();
                return Outcome.Ok;
            case "txn_snapshot_seq":
                Args(a, 2, 2);
                vars[a[1].Text] = Txn(a[0].Text).SnapshotSeq;
                return Outcome.Ok;
            case "txn_free":
            {
                Args(a, 1, 1);
                var t = Txn(a[0].Text);
                txns.Remove(a[0].Text);
                txnSlot.Remove(a[0].Text);
                t.Dispose();
                return Outcome.Ok;
            }
            case "snapshot":
            case "snapshot_at":
            {
                Snapshot s;
                if (cmd == "snapshot") { Args(a, 1, 1); s = DbOf(m).Snapshot(); }
                else
                {
                    Args(a, 2, 2);
                    ulong want = Number(a[1]);
                    s = DbOf(m).SnapshotAt(want);
                    if (s.Seq != want) { s.Dispose(); throw new Fail("snapshot_at: seq " + s.Seq + ", want " + want); }
                }
                Snapshot old;
                if (snaps.TryGetValue(a[0].Text, out old)) old.Dispose();
                snaps[a[0].Text] = s;
                snapSlot[a[0].Text] = SlotOf(m);
                return Outcome.Ok;
            }
            case "snapshot_seq":
            {
                Args(a, 2, 2);
                Snapshot s;
                if (!snaps.TryGetValue(a[0].Text, out s)) throw new Fail("snapshot " + a[0].Text + " used before it was bound");
                vars[a[1].Text] = s.Seq;
                return Outcome.Ok;
            }
            case "snapshot_free":
            {
                Args(a, 1, 1);
                Snapshot s;
                if (!snaps.TryGetValue(a[0].Text, out s)) throw new Fail("snapshot " + a[0].Text + " used before it was bound");
                snaps.Remove(a[0].Text);
                s.Dispose();
                return Outcome.Ok;
            }
            case "iter_new":
            {
                Args(a, 1, 1);
                var it = Iterator.Create(DbOf(m).Handle, Snaph(m), Nsh(m));
                IterState old;
                if (iters.TryGetValue(a[0].Text, out old)) old.It.Dispose();
                iters[a[0].Text] = new IterState { It = it, Slot = SlotOf(m) };
                return Outcome.Ok;
            }
            case "range_iter_new":
            {
                Args(a, 3, 4);
                if (iters.ContainsKey(a[0].Text)) throw new Fail("iterator " + a[0].Text + " exists");
                NewIter(a[0].Text, DbOf(m).RangeIterator(NsObj(m), SnapObj(m), a[1].B, a[2].B, ReverseArg(a, 3)), SlotOf(m));
                return Outcome.Ok;
            }
            case "prefix_iter_new":
            {
                Args(a, 2, 3);
                if (iters.ContainsKey(a[0].Text)) throw new Fail("iterator " + a[0].Text + " exists");
                NewIter(a[0].Text, DbOf(m).PrefixIterator(NsObj(m), SnapObj(m), a[1].B, ReverseArg(a, 2)), SlotOf(m));
                return Outcome.Ok;
            }
            case "iter_seek":
                Args(a, 2, 2);
                Iter(a[0].Text).It.Seek(a[1].B);
                return Outcome.Ok;
            case "iter_ordered":
            {
                Args(a, 2, 2);
                bool v = Iter(a[0].Text).It.IsOrdered;
                if (v != Bool(a[1].Text)) throw new Fail("iter_ordered: got " + v);
                return Outcome.Ok;
            }
            case "iter_expect_ordered":
            {
                var st = Iter(a[0].Text);
                var rest = a.Skip(1).ToList();
                if (rest.Count % 2 != 0) throw new Fail("iter_expect_ordered needs key/value pairs");
                var want = new List<string>();
                for (int i = 0; i < rest.Count; i += 2) want.Add(EntryText(rest[i].B, rest[i + 1].B));
                if (!want.SequenceEqual(st.Got)) throw new Fail("iter_expect_ordered: got " + string.Join(" ", st.Got) + ", want " + string.Join(" ", want));
                return Outcome.Ok;
            }
            case "iter_valid":
            {
                Args(a, 2, 2);
                bool v = FirkinNative.firkin_iter_valid(Iter(a[0].Text).It.Handle);
                if (v != Bool(a[1].Text)) throw new Fail("iter_valid: got " + v);
                return Outcome.Ok;
            }
            case "iter_next":
                FirkinNative.firkin_iter_next(Iter(a[0].Text).It.Handle);
                return Outcome.Ok;
            case "iter_key":
            case "iter_value":
            {
                Args(a, 1, 2);
                var h = Iter(a[0].Text).It.Handle;
                var v = cmd == "iter_key"
                    ? Scratch.Bytes((byte[] b, ulong cap, out long n) => FirkinNative.fkb_iter_key(h, b, cap, out n))
                    : Scratch.Bytes((byte[] b, ulong cap, out long n) => FirkinNative.fkb_iter_value(h, b, cap, out n));
                if (a.Count == 2) Eq(cmd, v, a[1].B);
                return Outcome.Ok;
            }
            case "iter_status":
                FirkinNative.firkin_iter_status(Iter(a[0].Text).It.Handle);
                return Outcome.Ok;
            case "iter_next_n":
            {
                Args(a, 2, 4);
                var st = Iter(a[0].Text);
                int cap = (int)Number(a[1]);
                var buf = GuardedBuf(cap);
                long n = 0;
                var o = Guarded(() => { FirkinNative.fkb_iter_next_n(st.It.Handle, buf, (ulong)cap, out n); return Outcome.Ok; });
                CheckGuard(buf, cap, cap + 16, "iter_next_n wrote past CAP");
                if (o.St != 0) return o;
                var res = Outcome.Ok;
                if (n > cap) res = new Outcome { St = -12, Msg = "buffer too small" };
                else
                {
                    var got = Decode(buf, (int)n);
                    st.Got.AddRange(got);
                    if (a.Count >= 3 && (ulong)got.Count != Number(a[2])) throw new Fail("iter_next_n: count " + got.Count);
                }
                if (a.Count == 4 && (ulong)n != Number(a[3])) throw new Fail("iter_next_n: used " + n);
                return res;
            }
            case "iter_walk":
            {
                Args(a, 1, 1);
                var st = Iter(a[0].Text);
                while (st.It.MoveNext()) st.Got.Add(EntryText(st.It.Current.Key, st.It.Current.Value));
                return Outcome.Ok;
            }
            case "iter_drain":
            {
                Args(a, 2, 2);
                var st = Iter(a[0].Text);
                int cap = (int)Number(a[1]);
                var buf = new byte[cap];
                for (;;)
                {
                    long n;
                    FirkinNative.fkb_iter_next_n(st.It.Handle, buf, (ulong)cap, out n);
                    if (n == 0) break;
                    if (n > cap) return new Outcome { St = -12, Msg = "buffer too small" };
                    st.Got.AddRange(Decode(buf, (int)n));
                }
                if (FirkinNative.firkin_iter_valid(st.It.Handle)) throw new Fail("iter_drain: count 0 while the iterator is valid");
                return Outcome.Ok;
            }
            case "iter_expect":
            {
                var st = Iter(a[0].Text);
                var rest = a.Skip(1).ToList();
                if (rest.Count % 2 != 0) throw new Fail("iter_expect needs key/value pairs");
                var want = new List<string>();
                for (int i = 0; i < rest.Count; i += 2) want.Add(EntryText(rest[i].B, rest[i + 1].B));
                var w = want.OrderBy(x => x, StringComparer.Ordinal).ToList();
                var g = st.Got.OrderBy(x => x, StringComparer.Ordinal).ToList();
                if (!w.SequenceEqual(g)) throw new Fail("iter_expect: got " + string.Join(" ", g) + ", want " + string.Join(" ", w));
                return Outcome.Ok;
            }
            case "iter_expect_count":
            {
                Args(a, 2, 2);
                var st = Iter(a[0].Text);
                var keys = new HashSet<string>();
                foreach (var e in st.Got)
                {
                    var k = e.Substring(0, e.IndexOf("\"=\"", StringComparison.Ordinal) + 1);
                    if (!keys.Add(k)) throw new Fail("iter_expect_count: key " + k + " twice");
                }
                if ((ulong)st.Got.Count != Number(a[1])) throw new Fail("iter_expect_count: got " + st.Got.Count);
                return Outcome.Ok;
            }
            case "iter_free":
            {
                Args(a, 1, 1);
                var st = Iter(a[0].Text);
                iters.Remove(a[0].Text);
                st.It.Dispose();
                return Outcome.Ok;
            }
            case "now_ms":
                Args(a, 1, 1);
                vars[a[0].Text] = (ulong)DbOf(m).NowMs();
                return Outcome.Ok;
            case "put_ttl":
                Args(a, 3, 3);
                FirkinNative.firkin_put_ttl(DbOf(m).Handle, Woh, Nsh(m), a[0].B, (ulong)a[0].B.Length, a[1].B, (ulong)a[1].B.Length, Number(a[2]));
                return Outcome.Ok;
            case "put_expire_at":
                Args(a, 3, 3);
                FirkinNative.firkin_put_expire_at(DbOf(m).Handle, Woh, Nsh(m), a[0].B, (ulong)a[0].B.Length, a[1].B, (ulong)a[1].B.Length, Number(a[2]));
                return Outcome.Ok;
            case "batch_put_ttl":
                Args(a, 4, 4);
                BatchOf(a[0].Text).Put(NsObj(m), a[1].B, a[2].B, TimeSpan.FromTicks((long)Number(a[3]) * TimeSpan.TicksPerMillisecond));
                return Outcome.Ok;
            case "ttl":
            {
                Args(a, 1, 2);
                TimeSpan? rem;
                if (!Ttl.TryGetTtl(DbOf(m).Handle, Snaph(m), Nsh(m), a[0].B, out rem)) return Outcome.Status(-1);
                if (a.Count == 2)
                {
                    if (a[1].Text == "none")
                    {
                        if (rem != null) throw new Fail("ttl: expected no expiry, got " + rem);
                    }
                    else
                    {
                        ulong max = Number(a[1]);
                        if (rem == null || rem.Value <= TimeSpan.Zero || (ulong)(rem.Value.Ticks / TimeSpan.TicksPerMillisecond) > max)
                            throw new Fail("ttl: expected 0 < remaining <= " + max + " ms, got " + (rem == null ? "none" : rem.ToString()));
                    }
                }
                return Outcome.Ok;
            }
            case "persist":
                Args(a, 1, 1);
                FirkinNative.firkin_persist(DbOf(m).Handle, Woh, Nsh(m), a[0].B, (ulong)a[0].B.Length);
                return Outcome.Ok;
            case "snapshot_at_time":
            {
                Args(a, 2, 2);
                var s = DbOf(m).SnapshotAt(DateTimeOffset.FromUnixTimeMilliseconds((long)Number(a[1])));
                Snapshot old;
                if (snaps.TryGetValue(a[0].Text, out old)) old.Dispose();
                snaps[a[0].Text] = s;
                snapSlot[a[0].Text] = SlotOf(m);
                return Outcome.Ok;
            }
            case "history":
            {
                if (a.Count < 1 || (a.Count - 1) % 4 != 0) throw new Fail("history needs K then SEQ DEL EXPIRY VALUE groups");
                using (var h = Ttl.History(DbOf(m).Handle, Nsh(m), a[0].B))
                {
                    if (h.Count != (a.Count - 1) / 4) throw new Fail("history gave " + h.Count + " versions, expected " + (a.Count - 1) / 4);
                    ulong newer = ulong.MaxValue;
                    for (int i = 0; i < h.Count; i++)
                    {
                        var v = h[i];
                        int w = 1 + 4 * i;
                        if (v.Seq != Number(a[w]) || v.IsDelete != Bool(a[w + 1].Text))
                            throw new Fail("history version " + i + ": seq " + v.Seq + " delete " + v.IsDelete + ", expected " + a[w].Text + " " + a[w + 1].Text);
                        ulong exp = v.Expiry == null ? 0UL : (ulong)v.Expiry.Value.ToUnixTimeMilliseconds();
                        if (a[w + 2].Text == "any" ? exp == 0 : exp != Number(a[w + 2]))
                            throw new Fail("history version " + i + ": expiry " + exp + ", expected " + a[w + 2].Text);
                        ulong t = v.CommitTime == null ? 0UL : (ulong)v.CommitTime.Value.ToUnixTimeMilliseconds();
                        if (t == 0 || t > newer) throw new Fail("history version " + i + ": commit time " + t + " (newer version's " + newer + ")");
                        newer = t;
                        Eq("history value", v.Value ?? new byte[0], a[w + 3].B);
                    }
                }
                return Outcome.Ok;
            }
            case "check":
            {
                Args(a, 3, 3);
                ulong x = Number(a[0]), y = Number(a[2]);
                bool r;
                switch (a[1].Text)
                {
                    case "eq": r = x == y; break;
                    case "ne": r = x != y; break;
                    case "lt": r = x < y; break;
                    case "le": r = x <= y; break;
                    case "gt": r = x > y; break;
                    case "ge": r = x >= y; break;
                    default: throw new Fail("bad operator " + a[1].Text);
                }
                if (!r) throw new Fail("check " + x + " " + a[1].Text + " " + y + " is false");
                return Outcome.Ok;
            }
            case "version":
            {
                int v = Db.VersionNumber;
                string want = (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
                if (Db.Version != want || v / 10000 != FirkinNative.FIRKIN_VERSION_MAJOR) throw new Fail("version: " + Db.Version + " vs " + v);
                return Outcome.Ok;
            }
            case "strerror":
            {
                Args(a, 1, 1);
                int code;
                try { code = StatusCode(a[0].Text); } catch (Fail) { code = int.Parse(a[0].Text); }
                var s = FirkinNative.fkb_strerror(code);
                if (string.IsNullOrEmpty(s)) throw new Fail("strerror is empty");
                return Outcome.Ok;
            }
            default:
                throw new Fail("unknown command " + cmd);
        }
    }

    static int Main(string[] argv)
    {
        string casesDir = argv.Length > 0 ? argv[0] : "tests/conformance";
        string only = argv.Length > 1 ? argv[1] : null;
        var files = Directory.GetFiles(casesDir, "*.case").OrderBy(x => x, StringComparer.Ordinal).ToList();
        string tmp = Path.Combine(Path.GetTempPath(), "firkin-cs-conformance-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(tmp);
        var r = new Runner();
        int passed = 0, failed = 0, n = 0;
        bool inCase = false, caseFailed = false;
        string caseName = null;
        foreach (var f in files)
        {
            var lines = File.ReadAllText(f, Encoding.UTF8).Split('\n');
            for (int ln = 0; ln < lines.Length; ln++)
            {
                string line = lines[ln];
                string where = Path.GetFileName(f) + ":" + (ln + 1);
                List<Tok> toks;
                try { toks = Tokenize(line); }
                catch (Fail e) { Console.WriteLine(where + ": " + e.Message); caseFailed = true; continue; }
                if (toks.Count == 0) continue;
                if (toks[0].Kind == Kind.Bare && toks[0].Text == "case")
                {
                    if (inCase) { r.CloseAll(); if (caseFailed) failed++; else passed++; }
                    inCase = false;
                    caseName = toks[1].Text;
                    if (only != null && only != caseName) continue;
                    if (Environment.GetEnvironmentVariable("FIRKIN_CONFORMANCE_TRACE") != null) Console.Error.WriteLine("case " + caseName);
                    string d = Path.Combine(tmp, "c" + (++n));
                    Directory.CreateDirectory(d);
                    r.Reset(d);
                    inCase = true;
                    caseFailed = false;
                    continue;
                }
                if (!inCase || caseFailed) continue;
                string cmd = toks[0].Text;
                var rest = toks.Skip(1).ToList();
                var mods = new Dictionary<string, string>();
                int want = 0;
                if (rest.Count >= 2 && rest[rest.Count - 2].Kind == Kind.Arrow)
                {
                    string name = rest[rest.Count - 1].Text;
                    want = StatusCode(name);
                    mods["->"] = name;
                    rest = rest.Take(rest.Count - 2).ToList();
                }
                var a = new List<Tok>();
                foreach (var t in rest)
                {
                    if (t.Kind == Kind.Mod) mods[t.Text] = t.Val;
                    else a.Add(t);
                }
                string msg = null;
                Outcome o = null;
                try { o = Guarded(() => r.Run(cmd, a, mods)); }
                catch (Fail e) { msg = e.Message; }
                if (msg == null && o.St != want) msg = "expected " + StatusName(want) + ", got " + StatusName(o.St) + " (" + o.Msg + ")";
                if (msg == null && o.St != 0 && o.St != -1 && o.FromError && o.Msg.Length == 0)
                    msg = "status " + StatusName(o.St) + " came with an empty error message";
                if (msg != null)
                {
                    Console.WriteLine("FAIL case " + caseName + " at " + where + ": " + line.Trim() + "\n    " + msg);
                    caseFailed = true;
                }
            }
            if (inCase) { r.CloseAll(); if (caseFailed) failed++; else passed++; inCase = false; }
        }
        try { Directory.Delete(tmp, true); } catch (IOException) { }
        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 && passed > 0 ? 0 : 1;
    }
}
