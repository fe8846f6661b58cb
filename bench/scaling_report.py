#!/usr/bin/env python3
"""bench/scaling_report.py — the "Scaling with threads" section of
docs/benchmarks.md: ops/s against threads for YCSB A, B, C, F and durable
puts (fillsync), one line per store, one gnuplot PNG per workload and
machine, plus the medians as tables and the machine each set ran on.

Used two ways:
  * imported by report.py, which renders the section from the main run
    (bench/run.sh: its YCSB and fillsync rows at each thread count) and from
    any extra scaling runs (--scaling CSV MACHINE, e.g. the 16-core matrix of
    bench/device_pack.sh);
  * standalone, to replace only that section of an existing page:
      bench/scaling_report.py CSV MACHINE [CSV MACHINE ...] --update docs/benchmarks.md
    (the section lies between the markers <!-- scaling:begin --> and
    <!-- scaling:end -->; it is appended if the page has none).

Medians over the repetitions; a cell with fewer than 3 repetitions is marked
(unless the MACHINE file says "medians: yes": its rows are medians already).
"note:" lines of the MACHINE file are printed under the machine.
Standard library only; asserts nothing about speed.
"""
import argparse
import csv
import os
import re
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict

STORE_ORDER = ["firkin", "rocksdb", "leveldb", "lmdb", "tkrzw", "kyoto", "sqlite"]
PEERS = STORE_ORDER[1:]
LABEL = {"firkin": "Firkin", "rocksdb": "RocksDB", "leveldb": "LevelDB", "lmdb": "LMDB",
         "tkrzw": "Tkrzw HashDBM", "kyoto": "Kyoto HashDB", "sqlite": "SQLite"}
WORKLOADS = [("ycsba", "YCSB A (50% read / 50% update)"),
             ("ycsbb", "YCSB B (95% read / 5% update)"),
             ("ycsbc", "YCSB C (read only)"),
             ("ycsbf", "YCSB F (50% read / 50% read-modify-write)"),
             ("fillsync", "durable puts (`always`)")]
BEGIN, END = "<!-- scaling:begin -->", "<!-- scaling:end -->"
MIN_REPS = 3


def read_machine(path):
    m = defaultdict(list)
    with open(path) as f:
        for line in f:
            if ":" in line:
                k, v = line.split(":", 1)
                m[k.strip()].append(v.strip())
    return m


def load(path):
    """{(store, workload, threads): [ops/s of each error-free repetition]}"""
    g = defaultdict(list)
    with open(path) as f:
        for row in csv.DictReader(f):
            try:
                if row["store"] not in LABEL or row["workload"] not in dict(WORKLOADS):
                    continue
                if int(row["errors"]) != 0:
                    continue
                g[(row["store"], row["workload"], int(row["threads"]))].append(float(row["ops_per_s"]))
            except (KeyError, ValueError):
                continue
    return g


def fnum(v):
    if v is None:
        return "—"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e3:
        return f"{v / 1e3:.0f} K"
    return f"{v:.0f}"


def ncores(m):
    c = re.match(r"\d+", m.get("cores", ["?"])[0])
    return c.group(0) if c else "?"


def machine_line(m):
    get = lambda k: "; ".join(m.get(k, ["?"]))
    return (f"{ncores(m)} cores, {get('cpu')}, {get('memory')} RAM, {get('kernel')}, "
            f"data on {get('filesystem')}; run of {get('date')}, Firkin {get('firkin')}, "
            f"mode {get('mode')}, {get('params') if 'params' in m else ''}").rstrip(", ")


def tag_of(m):
    return f"{ncores(m)}core" if ncores(m) != "?" else "run"


class Set:
    """One set of measurements (one run on one machine)."""

    def __init__(self, groups, machine):
        self.g, self.m, self.tag = groups, machine, tag_of(machine)
        self.stores = [s for s in STORE_ORDER if any(k[0] == s for k in groups)]
        self.threads = sorted({k[2] for k in groups})

    def med(self, s, w, t):
        v = self.g.get((s, w, t))
        return statistics.median(v) if v else None

    def reps(self, s, w, t):
        return len(self.g.get((s, w, t), []))


def table(st, w):
    header = ["threads"] + [LABEL[s] for s in st.stores] + ["Firkin / best peer"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for t in st.threads:
        if not any(st.med(s, w, t) for s in st.stores):
            continue
        cells, best, best_p = [], None, None
        for p in PEERS:
            v = st.med(p, w, t)
            if v is not None and (best is None or v > best):
                best, best_p = v, p
        for s in st.stores:
            v = st.med(s, w, t)
            c = fnum(v)
            if v is not None and st.reps(s, w, t) < MIN_REPS and not st.m.get("medians"):
                c += f" ({st.reps(s, w, t)} rep)"
            cells.append(f"**{c}**" if s == best_p else c)
        f = st.med("firkin", w, t)
        ratio = f"{f / best:.2f}× vs {LABEL[best_p]}" if f and best else "—"
        lines.append("| " + " | ".join([str(t)] + cells + [ratio]) + " |")
    return "\n".join(lines)


def plot(st, w, title, plot_dir, md_dir):
    """One PNG: ops/s against threads, a line per store. Returns markdown."""
    gp = shutil.which("gnuplot")
    if not gp:
        return "(gnuplot not found: no plot; `make deps-bench` installs gnuplot-nox)"
    os.makedirs(plot_dir, exist_ok=True)
    name = f"scaling_{st.tag}_{w}"
    dat, png = os.path.join(plot_dir, name + ".dat"), os.path.join(plot_dir, name + ".png")
    with open(dat, "w") as f:
        f.write("threads " + " ".join(LABEL[s].replace(" ", "_") for s in st.stores) + "\n")
        for t in st.threads:
            vals = [st.med(s, w, t) for s in st.stores]
            f.write(f"{t} " + " ".join("%g" % v if v else "NaN" for v in vals) + "\n")
    xt = ", ".join(f"'{t}' {t}" for t in st.threads)
    plain = title.replace("`", "")
    script = f"""
set terminal pngcairo size 900,520 font ",10" noenhanced
set output '{png}'
set title '{plain}: ops/s against threads ({ncores(st.m)} cores; median of repetitions)'
set xlabel 'threads'
set ylabel 'operations per second (log scale)'
set logscale x 2
set logscale y
set xtics ({xt})
set xrange [{min(st.threads) / 1.25}:{max(st.threads) * 1.25}]
set grid
set key outside right top
set datafile missing 'NaN'
plot for [i=2:{len(st.stores) + 1}] '{dat}' using 1:i with linespoints lw 2 pt 7 title columnheader(i)
"""
    try:
        subprocess.run([gp], input=script, text=True, check=True, capture_output=True)
        out = f"![{plain}, {st.tag}]({os.path.relpath(png, md_dir)})"
    except (subprocess.CalledProcessError, OSError) as e:
        out = f"(plot {name} failed: {getattr(e, 'stderr', e)})"
    os.remove(dat)
    return out


def section(sets, plot_dir, md_dir):
    """The whole section, markers included, for a list of Set."""
    L = [BEGIN, "## Scaling with threads\n",
         "Throughput (operations/s, median of the repetitions) against the number of threads, one "
         "shared store handle per process and a session per thread (SQLite: a connection per "
         "thread on the one database, its documented way), every store in its `none` setting for "
         "YCSB and in `always` for durable puts (fillsync, 100-byte values, a fresh database). YCSB: "
         "zipfian θ = 0.99 over scrambled keys, 1000-byte values. **Bold** = best peer; a cell "
         f"with fewer than {MIN_REPS} repetitions says how many. Produced by `bench/scaling.sh` "
         "(or `bench/run.sh`, whose YCSB and fillsync rows are the same matrix) and "
         "`bench/scaling_report.py`; on a machine without the packages, "
         "`bench/device_pack.sh` then `.device/run_matrix.sh`.\n"]
    if not sets:
        L.append("No scaling run yet.\n")
    seen = defaultdict(int)
    for st in sets:  # plot names must differ between two runs on like machines
        seen[st.tag] += 1
        if seen[st.tag] > 1:
            st.tag += f"-{seen[st.tag]}"
    for st in sets:
        L.append(f"### {st.tag}: {', '.join(str(t) for t in st.threads)} threads\n")
        L.append("Machine: " + machine_line(st.m) + ".\n")
        for note in st.m.get("note", []):
            L.append(f"Note: {note}\n")
        if st.m.get("budget_cut"):
            L.append("**This run hit its time budget:** some cells have fewer repetitions.\n")
        for w, title in WORKLOADS:
            if not any(k[1] == w for k in st.g):
                continue
            L.append(f"#### {title}\n")
            L.append(table(st, w) + "\n")
            L.append(plot(st, w, title, plot_dir, md_dir) + "\n")
    L.append(END)
    return "\n".join(L) + "\n"


def update(page, text):
    """Replaces the marked section of page (or appends it)."""
    old = open(page).read() if os.path.exists(page) else ""
    if BEGIN in old and END in old:
        a, b = old.index(BEGIN), old.index(END) + len(END)
        new = old[:a] + text.rstrip("\n") + old[b:]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    with open(page, "w") as f:
        f.write(new)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="CSV MACHINE pairs (scaling.sh or run.sh output)")
    ap.add_argument("--update", required=True, help="the page whose section is replaced")
    ap.add_argument("--plots", help="plot directory (default: plots/ beside the page)")
    a = ap.parse_args()
    if len(a.runs) % 2:
        sys.exit("scaling_report.py: give CSV and MACHINE files in pairs")
    md_dir = os.path.dirname(os.path.abspath(a.update))
    sets = [Set(load(c), read_machine(m)) for c, m in zip(a.runs[::2], a.runs[1::2])]
    update(a.update, section(sets, a.plots or os.path.join(md_dir, "plots"), md_dir))
    print(f"scaling_report.py: updated {a.update}")


if __name__ == "__main__":
    main()
