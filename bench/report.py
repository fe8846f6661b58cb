#!/usr/bin/env python3
"""bench/report.py RESULTS.csv MACHINE.txt --out docs/benchmarks.md --plots bench/plots

Turns the CSV of bench/run.sh into docs/benchmarks.md (tables: throughput per
store per workload with Firkin's ratio to the best peer, latency percentiles,
memory / open / space, the budgets of DESIGN §10 met or not) and PNG plots
drawn by gnuplot (skipped with a note if gnuplot is missing). Medians over
the repetitions. Standard library only.
"""
import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict

import scaling_report

STORE_ORDER = ["firkin", "rocksdb", "leveldb", "lmdb", "tkrzw", "kyoto", "sqlite", "ceiling"]
PEERS = ["rocksdb", "leveldb", "lmdb", "tkrzw", "kyoto", "sqlite"]
LABEL = {"firkin": "Firkin", "rocksdb": "RocksDB", "leveldb": "LevelDB", "lmdb": "LMDB",
         "tkrzw": "Tkrzw HashDBM", "kyoto": "Kyoto HashDB", "sqlite": "SQLite", "ceiling": "ceiling"}

# (workload, threads) rows of the throughput tables, in order.
ROWS_100 = [("fillseq", 1), ("fillrandom", 1), ("overwrite", 1), ("readrandom", 1),
            ("readmissing", 1), ("readwhilewriting", 1), ("deleterandom", 1),
            ("fillsync", 1), ("fillsync", 2)]
ROWS_YCSB = [("ycsbload", 1)] + [(f"ycsb{y}", t) for y in "abcdf" for t in (1, 2)]

DURABILITY = [
    ("Firkin", "sync_mode=none", "sync_mode=interval (100 ms)", "sync_mode=always (group commit)"),
    ("RocksDB", "WriteOptions.sync=false, WAL on", "sync=false + SyncWAL() every 100 ms (harness thread)",
     "WriteOptions.sync=true (group commit)"),
    ("LevelDB", "WriteOptions.sync=false", "sync=false + an empty sync=true batch every 100 ms",
     "WriteOptions.sync=true (group commit)"),
    ("LMDB", "MDB_NOSYNC", "MDB_NOSYNC + mdb_env_sync(1) every 100 ms", "default flags (fsync per commit)"),
    ("Tkrzw HashDBM", "no Synchronize", "Synchronize(true) every 100 ms",
     "Synchronize(true) after each write"),
    ("Kyoto HashDB", "no sync", "synchronize(true) every 100 ms", "OAUTOSYNC (fsync per update)"),
    ("SQLite (WAL)", "synchronous=OFF", "synchronous=NORMAL (fsync at checkpoints)",
     "synchronous=FULL (fsync per commit)"),
]


def fnum(v):
    if v is None:
        return "—"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e3:
        return f"{v / 1e3:.0f} K"
    return f"{v:.0f}"


def fus(v):
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def parse_extra(s):
    d = {}
    for part in (s or "").split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            d[k] = v
    return d


def load(path):
    groups = defaultdict(list)
    with open(path) as f:
        for row in csv.DictReader(f):
            try:
                key = (row["store"], row["workload"], int(row["threads"]))
                row["ops_per_s"] = float(row["ops_per_s"])
                for q in ("p50_us", "p99_us", "p999_us", "seconds"):
                    row[q] = float(row[q])
                row["errors"] = int(row["errors"])
                row["x"] = parse_extra(row.get("extra", ""))
            except (KeyError, ValueError):
                continue
            x = row["x"]
            # A read workload whose reads did not find what they should is
            # wrong, not fast: count it as failed.
            if "found" in x and "reads" in x:
                found, reads = int(x["found"]), max(1, int(x["reads"]))
                if key[1] == "readmissing":
                    bad = found > 0
                else:
                    bad = found < 0.99 * reads
                if bad:
                    row["errors"] = max(1, row["errors"])
                    row["invalid"] = f"{found}/{reads} found"
            groups[key].append(row)
    return groups


class Data:
    def __init__(self, groups):
        self.g = groups
        self.stores = [s for s in STORE_ORDER if any(k[0] == s for k in groups)]
        self.stores += sorted({k[0] for k in groups} - set(self.stores))

    def rows(self, s, w, t):
        return self.g.get((s, w, t), [])

    def med(self, s, w, t, field="ops_per_s"):
        rs = [r for r in self.rows(s, w, t) if r["errors"] == 0]
        vals = [r[field] for r in rs]
        return statistics.median(vals) if vals else None

    def med_x(self, s, w, t, name):
        vals = []
        for r in self.rows(s, w, t):
            try:
                vals.append(float(r["x"][name]))
            except (KeyError, ValueError):
                pass
        return statistics.median(vals) if vals else None

    def failed(self, s, w, t):
        rs = self.rows(s, w, t)
        return bool(rs) and all(r["errors"] for r in rs)

    def fail_text(self, s, w, t):
        for r in self.rows(s, w, t):
            if "invalid" in r:
                return "wrong (" + r["invalid"] + ")"
        return "failed"

    def best_peer(self, w, t, field="ops_per_s", getter=None, lower=False):
        best = None
        for p in PEERS:
            v = getter(p) if getter else self.med(p, w, t, field)
            if v is None:
                continue
            if best is None or (v < best[1] if lower else v > best[1]):
                best = (p, v)
        return best


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def wname(w, t):
    return f"{w} ({t} thr)" if t > 1 or w in ("fillsync",) or w.startswith("ycsb") and w != "ycsbload" else w


def throughput_table(d, rows):
    header = ["workload"] + [LABEL.get(s, s) for s in d.stores] + ["Firkin / best peer"]
    out = []
    for w, t in rows:
        if not any(d.rows(s, w, t) for s in d.stores):
            continue
        bp = d.best_peer(w, t)
        cells = [wname(w, t)]
        for s in d.stores:
            v = d.med(s, w, t)
            c = fnum(v) if v is not None else (d.fail_text(s, w, t) if d.failed(s, w, t) else "—")
            if bp and s == bp[0]:
                c = f"**{c}**"
            cells.append(c)
        f = d.med("firkin", w, t)
        if f is not None and bp:
            cells.append(f"{f / bp[1]:.2f}× vs {LABEL[bp[0]]}")
        else:
            cells.append("—")
        out.append(cells)
    return md_table(header, out)


def latency_table(d, rows):
    header = ["workload"] + [LABEL.get(s, s) for s in d.stores]
    out = []
    for w, t in rows:
        if not any(d.rows(s, w, t) for s in d.stores):
            continue
        cells = [wname(w, t)]
        for s in d.stores:
            p50, p99, p999 = (d.med(s, w, t, q) for q in ("p50_us", "p99_us", "p999_us"))
            cells.append("—" if p50 is None else f"{fus(p50)} / {fus(p99)} / {fus(p999)}")
        out.append(cells)
    return md_table(header, out)


def budgets(d, machine):
    res = []

    def ratio_row(what, w, t, target, note=""):
        f = d.med("firkin", w, t)
        bp = d.best_peer(w, t)
        if f is None or bp is None:
            res.append([what, f"≥ {target}× best peer", "—", "—", "not measured" + note])
            return
        r = f / bp[1]
        res.append([what, f"≥ {target}× best peer",
                    f"Firkin {fnum(f)}/s vs {LABEL[bp[0]]} {fnum(bp[1])}/s",
                    f"{r:.2f}×", ("**met**" if r >= target else "**not met**") + note])

    ratio_row("random get, warm, 16 B / 100 B, 1 thread (readrandom)", "readrandom", 1, 1.5)
    ratio_row("random put, no sync, 1 thread (fillrandom)", "fillrandom", 1, 2.0)
    ratio_row("random put, no sync, 1 thread (overwrite)", "overwrite", 1, 2.0)
    ratio_row("durable puts, 2 threads (fillsync)", "fillsync", 2, 2.0)
    for y in "abcf":
        ratio_row(f"YCSB {y.upper()} zipfian, 2 threads", f"ycsb{y}", 2, 1.5)
    # memory
    m = d.med_x("firkin", "memory", 1, "rss_anon_bytes_per_key")
    n = d.med("firkin", "memory", 1, "ops_per_s") and d.rows("firkin", "memory", 1)[0]["ops"]
    if m is None:
        res.append(["anonymous RAM per key (8 B keys / 8 B values)", "≤ 16 B", "—", "—", "not measured"])
    else:
        res.append(["anonymous RAM per key (8 B keys / 8 B values)", "≤ 16 B",
                    f"{m:.1f} B/key at {int(n):,} keys", f"{m / 16:.2f}× the budget",
                    "**met**" if m <= 16 else "**not met**"])
    o = d.med_x("firkin", "open_clean", 1, "open_ms")
    if o is None:
        res.append(["open after clean close, 10 M keys", "≤ 0.3 s", "—", "—", "not measured"])
    else:
        keys = d.rows("firkin", "memory", 1)
        kn = int(keys[0]["ops"]) if keys else 0
        note = "" if kn >= 10_000_000 else f" (at {kn:,} keys, not 10 M: run `make bench-full`)"
        res.append(["open after clean close, 10 M keys", "≤ 0.3 s", f"{o:.1f} ms at {kn:,} keys",
                    f"{o / 300:.2f}× the budget", ("**met**" if o <= 300 else "**not met**") + note])
    sa = d.med_x("firkin", "spaceamp", 1, "space_amp")
    if sa is None:
        res.append(["space amplification, uniform overwrites", "≤ 1.5×", "—", "—", "not measured"])
    else:
        res.append(["space amplification, uniform overwrites", "≤ 1.5×", f"{sa:.2f}× (allocated bytes / live bytes)",
                    f"{sa / 1.5:.2f}× the budget",
                    ("**met**" if sa <= 1.5 else "**not met**")])
    with_c = d.med("firkin", "overwrite_compact", 1, "p999_us")
    without_c = d.med("firkin", "overwrite_nocompact", 1, "p999_us")
    if with_c is None or without_c is None or without_c <= 0:
        res.append(["p99.9 put latency while compaction runs", "≤ 10× p99.9 without", "—", "—",
                    "not measured"])
    else:
        r = with_c / without_c
        res.append(["p99.9 put latency while compaction runs", "≤ 10× p99.9 without",
                     f"{fus(with_c)} µs with vs {fus(without_c)} µs without (overwrite, 4 MiB segments)",
                     f"{r:.2f}×", "**met**" if r <= 10 else "**not met**"])
    res.append(["binding call overhead (get, 100 B)", "≤ C time + 150 ns", "—", "—",
                "not measured by this run: `make bench-bindings` measures it; "
                "docs/bindings.md has the figures and \"Binding call overhead\" below a summary"])
    return md_table(["budget (DESIGN §10)", "target", "measured", "ratio", "status"], res)


def ceiling_table(d):
    rows = []
    for w, t in [("readrandom", 1), ("readmissing", 1), ("fillrandom", 1), ("overwrite", 1),
                 ("ycsbc", 1), ("ycsbc", 2), ("ycsba", 2)]:
        c = d.med("ceiling", w, t)
        f = d.med("firkin", w, t)
        if c is None:
            continue
        p50c = d.med("ceiling", w, t, "p50_us")
        p50f = d.med("firkin", w, t, "p50_us")
        rows.append([wname(w, t), fnum(c), fus(p50c), fnum(f), fus(p50f),
                     f"{f / c:.0%}" if f else "—"])
    return md_table(["workload", "ceiling ops/s", "ceiling p50 µs", "Firkin ops/s", "Firkin p50 µs",
                     "Firkin / ceiling"], rows)


def other_table(d):
    rows = []
    for s in d.stores:
        if s == "ceiling":
            continue
        m = d.med_x(s, "memory", 1, "rss_anon_bytes_per_key")
        mr = d.rows(s, "memory", 1)
        keys = int(statistics.median([int(r["ops"]) for r in mr])) if mr else None
        oc = d.med_x(s, "open_clean", 1, "open_ms")
        ok = d.med_x(s, "open_kill", 1, "open_ms")
        sa = d.med_x(s, "spaceamp", 1, "space_amp")
        sp = d.med(s, "spaceamp", 1)
        rows.append([LABEL.get(s, s), "—" if m is None else f"{m:.1f}",
                     "—" if keys is None else f"{keys:,}",
                     "—" if oc is None else f"{oc:.1f}", "—" if ok is None else f"{ok:.1f}",
                     "—" if sa is None else f"{sa:.2f}", fnum(sp)])
    return md_table(["store", "anon RSS B/key", "keys loaded", "open after close (ms)",
                     "open after kill (ms)", "space amp", "overwrite ops/s in space test"], rows)


def plots(d, plot_dir, md_dir):
    gp = shutil.which("gnuplot")
    if not gp:
        return "(gnuplot not found: no plots; `make deps-bench` installs gnuplot-nox)\n"
    os.makedirs(plot_dir, exist_ok=True)
    rel = os.path.relpath(plot_dir, md_dir)
    out = []
    for name, rows, title in [("throughput_kv", ROWS_100, "16 B keys / 100 B values"),
                              ("throughput_ycsb", ROWS_YCSB, "YCSB, zipfian, 1000 B values")]:
        stores = d.stores
        dat = os.path.join(plot_dir, name + ".dat")
        used = 0
        with open(dat, "w") as f:
            f.write("workload " + " ".join(stores) + "\n")
            for w, t in rows:
                vals = [d.med(s, w, t) for s in stores]
                if all(v is None for v in vals):
                    continue
                used += 1
                lab = wname(w, t).replace(" ", "_").replace("(", "").replace(")", "")
                f.write(lab + " " + " ".join("%g" % (v / 1000) if v else "NaN" for v in vals) + "\n")
        if not used:
            continue
        png = os.path.join(plot_dir, name + ".png")
        script = f"""
set terminal pngcairo size 1400,620 font ",10" noenhanced
set output '{png}'
set title 'Throughput, {title} (thousand ops/s, log scale; median of repetitions)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [0.1:*]
set grid ytics
set xtics rotate by -30 scale 0
set key outside right top
plot for [i=2:{len(stores) + 1}] '{dat}' using i:xtic(1) title columnheader(i)
"""
        try:
            subprocess.run([gp], input=script, text=True, check=True, capture_output=True)
            out.append(f"![{title}]({rel}/{name}.png)")
        except (subprocess.CalledProcessError, OSError) as e:
            out.append(f"(plot {name} failed: {getattr(e, 'stderr', e)})")
        os.remove(dat)
    # latency p99.9 of the main workloads
    lat_rows = [("fillrandom", 1), ("overwrite", 1), ("readrandom", 1), ("readwhilewriting", 1),
                ("fillsync", 2), ("ycsba", 2), ("ycsbc", 2)]
    dat = os.path.join(plot_dir, "latency.dat")
    with open(dat, "w") as f:
        f.write("workload " + " ".join(d.stores) + "\n")
        for w, t in lat_rows:
            vals = [d.med(s, w, t, "p999_us") for s in d.stores]
            if all(v is None for v in vals):
                continue
            f.write(wname(w, t).replace(" ", "_").replace("(", "").replace(")", "") + " " +
                    " ".join("%g" % v if v else "NaN" for v in vals) + "\n")
    png = os.path.join(plot_dir, "latency_p999.png")
    script = f"""
set terminal pngcairo size 1400,620 font ",10" noenhanced
set output '{png}'
set title 'p99.9 latency (µs, log scale, lower is better)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set grid ytics
set xtics rotate by -30 scale 0
set key outside right top
plot for [i=2:{len(d.stores) + 1}] '{dat}' using i:xtic(1) title columnheader(i)
"""
    try:
        subprocess.run([gp], input=script, text=True, check=True, capture_output=True)
        out.append(f"![p99.9 latency]({rel}/latency_p999.png)")
    except (subprocess.CalledProcessError, OSError) as e:
        out.append(f"(plot latency failed: {getattr(e, 'stderr', e)})")
    os.remove(dat)
    return "\n\n".join(out) + "\n"


def section_file(name):
    """A hand-written section kept in bench/sections/ (measured by its own
    script or by hand, not by the quick matrix), placed as it is."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sections", name)
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return "\n" + f.read().rstrip("\n") + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("machine")
    ap.add_argument("--out", required=True)
    ap.add_argument("--plots", required=True)
    ap.add_argument("--notes", help="markdown file appended as 'Analysis' (profiles, what is left)")
    ap.add_argument("--scaling", nargs=2, action="append", default=[], metavar=("CSV", "MACHINE"),
                    help="an extra thread-scaling run (bench/scaling.sh, e.g. the 16-core matrix) "
                         "shown beside this run's own thread counts; repeatable")
    ap.add_argument("--force", action="store_true",
                    help="write the page even where it loses a '## ' section the old one had")
    ap.add_argument("--scaling-plots", help="where the scaling plots go (default docs/plots)")
    a = ap.parse_args()
    d = Data(load(a.csv))
    # fillsync and YCSB rows at every thread count the run has (run.sh --threads).
    global ROWS_100, ROWS_YCSB
    tl = sorted({k[2] for k in d.g if k[1] == "fillsync" or k[1].startswith("ycsb")} | {1})
    ROWS_100 = [r for r in ROWS_100 if r[0] != "fillsync"] + [("fillsync", t) for t in tl]
    ROWS_YCSB = [("ycsbload", 1)] + [(f"ycsb{y}", t) for y in "abcdf" for t in tl]
    machine = {}
    with open(a.machine) as f:
        for line in f:
            if ":" in line:
                k, v = line.split(":", 1)
                machine.setdefault(k.strip(), []).append(v.strip())
    mget = lambda k: "; ".join(machine.get(k, ["?"]))
    mode = mget("mode")
    md_dir = os.path.dirname(os.path.abspath(a.out))
    missing = [LABEL[p] for p in ["firkin"] + PEERS if p not in d.stores]

    L = []
    L.append("# Benchmarks\n")
    L.append("<!-- Generated by bench/report.py from bench/run.sh results; do not edit by hand. -->\n")
    L.append(f"Firkin side by side with RocksDB, LevelDB, LMDB, Tkrzw HashDBM, Kyoto Cabinet HashDB "
             f"and SQLite, all from Debian packages, in one run on one machine, plus the **ceiling**: "
             f"a bare in-RAM hash table lookup + value memcpy (no format, no checksum, no durability). "
             f"Reproduce with `make bench` (quick matrix, under 5 minutes on 2 cores) or "
             f"`make bench-full` (1 M YCSB records, 10 M keys).\n")
    if missing:
        L.append(f"**Not in this run:** {', '.join(missing)} (not built in or failed).\n")
    L.append("## Machine and run\n")
    L.append(md_table(["", ""], [[k, mget(k)] for k in
                                 ("date", "mode", "cpu", "cores", "memory", "kernel", "filesystem", "disk",
                                  "compiler", "firkin", "loadavg_start", "loadavg_end", "elapsed_s",
                                  "params")]))
    L.append("\nPeers: " + "; ".join(machine.get("peer", [])) + ".\n")
    L.append("**Noise.** The reference machine has 2 cores and is shared: other engineers' builds ran "
             "during this run (see the load averages above), so numbers can move by tens of percent "
             "between runs, and p99.9 values of a few ms are mostly scheduler ticks (another process "
             "held the core). Quick mode also measures short phases (a fraction of a second) on "
             f"small data sets; use `make bench-full` on an idle machine for numbers to quote.\n")

    L.append("## Method\n")
    L.append("""- One program, `bench/firkin_bench` (C++17), with an adapter per store (`bench/adapters/`);
  `bench/run.sh` runs it once per store × workload × repetition, **each in a fresh process**, and
  this page shows the **median** of the repetitions (3 for the workloads the budgets use and for
  YCSB A/B/C/F and fillsync at every thread count, 1 for the others in quick mode; 3 for all in full mode).
- Keys are 16 bytes (`%016d`-style, db_bench's format), values 100 bytes of random data
  (incompressible: LSM compression is off), YCSB values 1000 bytes, YCSB keys `user` + 12 digits
  (scrambled insert order). Each store gets its own directory on the filesystem above.
- Every operation goes through the store's public API, one operation per call and per
  transaction (no batching anywhere), and every get copies the value into a caller buffer.
  Firkin is used through its C API (`firkin_put`, `firkin_get_into`, `firkin_delete`).
- Encryption at rest (issue 12): `FIRKIN_BENCH_KEY=<64 hex digits>` makes the Firkin adapter
  open (create) its database encrypted with that raw 32-byte key, so the same workloads measure
  the cost against the unencrypted store (`FIRKIN_BENCH_OPTIONS` sets any other option).
- Throughput = operations / wall time of the measured phase. The phase of overwrite,
  readrandom, readmissing and YCSB A, B, C, F lasts the run's duration (quick: 0.25 s, 0.2 s for
  YCSB); until 2026-11-29 it also stopped at N operations (1 M for YCSB), which at the 2-core
  machine's rates ended it after 0.05-0.1 s, and the tables below that date measured those
  shorter phases. Latency: each operation is timed
  with the TSC (about 10 ns per pair, included in the numbers), in a log-linear histogram of ~3%
  resolution; p50 / p99 / p99.9 in µs.
- Workloads: **fillseq** / **fillrandom** (new database, N puts in key order / shuffled; the first
  fillrandom of each store loads all N keys and is the database the next workloads use; the
  repetitions of fills in quick mode are capped at 0.5 s), **readrandom** / **readmissing** (uniform
  gets of present / absent keys after a warm-up read pass, so caches are warm), **readwhilewriting**
  (1 reader timed while 1 writer overwrites without limit), **overwrite** (uniform puts on existing
  keys), **deleterandom** (on a copy of the database), **fillsync** (puts with the `always`
  setting, at each thread count of `run.sh --threads`, 1 and 2 by default: group commit), **ycsbload** then YCSB **A** (50% read / 50% update),
  **B** (95/5), **C** (100% read), **D** (95% read of the latest records / 5% insert), **F** (50%
  read / 50% read-modify-write), zipfian θ=0.99 scrambled, at each thread count (1 and 2 by default; D at 1 and 2), each phase on the one loaded database, settled first, untimed, in every store (Firkin `firkin_compact`, RocksDB and LevelDB `CompactRange`; the others update in place and have nothing to do); **memory** (8-byte keys,
  8-byte values, anonymous RSS growth from `/proc/self/status` RssAnon divided by keys loaded;
  quick mode caps the load at 2 s, so slow stores load fewer keys), **open_clean** / **open_kill**
  (open of that database after a clean close / after SIGKILL of the loading process, plus one get),
  **spaceamp** (N keys, then rounds × N uniform overwrites, clean close, allocated bytes on disk /
  live bytes).
- The non-durable workloads run with every store in its `none` setting (below); fillsync in
  `always`.
- Before/after figures in the sections below compare two builds of the library in the same
  minutes: `bench/ab.sh --old DIR` runs the new and the old `libfirkin.so` (and a peer, with
  `--peer`) in alternation, each measurement in a fresh process, and prints the rows and the
  medians with new/old and new/peer (`bench/device_pack.sh` carries it, with `OLD_LIB=DIR`, to
  a machine without packages).
""")
    L.append("## Durability matching\n")
    L.append("Each Firkin sync mode and the setting of each peer that gives the same promise. `none`: "
             "an acknowledged write survives a process crash (it is in the OS page cache) but not "
             "power loss; `interval`: also flushed in the background every 100 ms; `always`: "
             "acknowledged after fsync/fdatasync. Peers without a timed flush get one from a "
             "harness thread.\n")
    L.append(md_table(["store", "none", "interval", "always"], [list(r) for r in DURABILITY]))
    L.append("\nOther settings: RocksDB and LevelDB get a block cache sized to twice the data set, a "
             "10-bit bloom filter, no compression and a 64 MiB write buffer; Tkrzw and Kyoto get a bucket "
             "array of 2× the expected keys (they cannot grow it online) and Kyoto a map of 2× the data; "
             "LMDB a 32 GiB sparse map, one write transaction per put, a renewed read transaction per "
             "get; SQLite a `WITHOUT ROWID` table, one connection per thread, prepared statements, "
             "1 GiB mmap and 64 MiB cache. Firkin runs with its defaults (64 MiB segments) and, "
             "since 2026-11-26 (14:30 UTC), `expected_keys` set to the expected keys, the hint "
             "the hash peers get (its index is then made that large at open instead of growing; "
             "`FIRKIN_BENCH_OPTIONS=expected_keys=0` leaves it out).\n")

    L.append("## Budgets (DESIGN §10)\n")
    L.append(budgets(d, machine))
    L.append("")
    L.append(section_file("after_budgets.md"))
    L.append("## Throughput\n")
    L.append("Operations per second, median; **bold** = best peer; the last column is Firkin's ratio "
             "to the best peer (the ceiling is not a peer).\n")
    L.append("### 16-byte keys, 100-byte values\n")
    L.append(throughput_table(d, ROWS_100))
    L.append("\n### YCSB (zipfian, 1000-byte values)\n")
    L.append(throughput_table(d, ROWS_YCSB))
    L.append("")
    L.append(plots(d, a.plots, md_dir))
    L.append("## Latency percentiles\n")
    L.append("p50 / p99 / p99.9 in µs per operation (YCSB: per operation of the mix; readwhilewriting: "
             "the reads).\n")
    L.append(latency_table(d, ROWS_100 + ROWS_YCSB))
    L.append("")
    sets = [scaling_report.Set(scaling_report.load(a.csv), scaling_report.read_machine(a.machine))]
    sets += [scaling_report.Set(scaling_report.load(c), scaling_report.read_machine(m))
             for c, m in a.scaling]
    sets = [st for st in sets if st.g]
    L.append(scaling_report.section(sets, a.scaling_plots or os.path.join(md_dir, "plots"), md_dir))
    L.append(section_file("after_scaling.md"))
    L.append("\n## Memory, open time, space\n")
    L.append(other_table(d))
    L.append("\nRSS counts anonymous memory only: LMDB, Tkrzw and Kyoto keep their data in file-backed "
             "maps (page cache, not anonymous), so their small numbers are not the RAM they need; "
             "RocksDB/LevelDB count their memtable and caches; Firkin counts its index (segments are "
             "file-backed maps).\n")
    L.append("## The ceiling\n")
    L.append("The same operations on a bare open-addressing hash table (XXH3, 8-byte slots, arena of "
             "records) with a memcpy of the value, writers under one of 1024 stripe locks, readers "
             "lock-free (no format, checksum, durability or crash safety; a read may copy a value "
             "an update is changing): the physical limit of a point operation on this machine, "
             "through the same harness (key formatting, TSC timing).\n")
    L.append(ceiling_table(d))
    L.append("")
    if a.notes and os.path.exists(a.notes):
        with open(a.notes) as f:
            L.append(f.read())
    text = "\n".join(L) + "\n"
    lost = [] if a.force else lost_sections(a.out, text)
    if lost:
        # Hand-written sections live in bench/sections/ and bench/notes.md;
        # one written into the page alone would be lost here (it happened:
        # four sections of 2026-11-28, caught by reading the diff).
        sys.exit("report.py: not writing %s: it has sections this report would drop "
                 "(move them into bench/sections/ or bench/notes.md first; --force if they were "
                 "renamed there):\n  %s"
                 % (a.out, "\n  ".join(lost)))
    with open(a.out, "w") as f:
        f.write(text)
    print(f"report.py: wrote {a.out}")


def lost_sections(path, text):
    """The '## ' headings of the page at path that text does not have."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        old = [l.rstrip("\n") for l in f if l.startswith("## ")]
    new = {l for l in text.split("\n") if l.startswith("## ")}
    return [h for h in old if h not in new]


if __name__ == "__main__":
    main()
