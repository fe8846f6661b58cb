#!/usr/bin/env python3
"""Per-call cost through ctypes: get of a 100-byte value and put (docs/bindings.md)."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import firkin  # noqa: E402

N = 200000
path = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="firkin-py-bench-")
with firkin.DB(path, sync_mode="none", auto_compact=False) as db:
    key, val = b"bench-key-000001", b"v" * 100
    db.put(key, val)
    for r in range(3):
        t0 = time.perf_counter()
        for _ in range(N):
            db.get(key)
        t1 = time.perf_counter()
        for _ in range(N):
            db.put(key, val)
        t2 = time.perf_counter()
        print("round %d: get %.0f ns/call, put %.0f ns/call" % (r, (t1 - t0) * 1e9 / N, (t2 - t1) * 1e9 / N))
