#!/usr/bin/env python3
"""Quickstart: Firkin from Python with the firkin package (bindings/python:
ctypes over libfirkin.so, with an optional compiled accelerator for the
hot calls, _firkin_speedups, built where the Python headers are).

    pip install --no-index --no-build-isolation bindings/python
    python3 examples/python/quickstart.py /tmp/firkin-quickstart

In the source tree without installing:
    PYTHONPATH=bindings/python FIRKIN_LIB=build/capi/libfirkin.so python3 examples/python/quickstart.py
"""
import sys

import firkin

path = sys.argv[1] if len(sys.argv) > 1 else "firkin-quickstart"
with firkin.DB(path) as db:
    # Point operations, dict-style: db[k] raises KeyError when absent, get() gives None.
    db[b"hello"] = b"world"
    print("hello =", db[b"hello"].decode())
    print("nobody =", db.get(b"nobody"))
    print("'hello' present:", b"hello" in db)

    # A namespace, and an atomic batch across namespaces.
    with db.namespace("users") as users, firkin.Batch() as batch:
        batch.put(b"ada", b"lovelace", ns=users).put(b"alan", b"turing", ns=users).delete(b"hello")
        db.write(batch)

        # A snapshot: later writes are not in it.
        with db.snapshot() as snap:
            users[b"grace"] = b"hopper"
            n = sum(1 for _ in snap.at(users).items())
            print("users at the snapshot: %d, now: %d" % (n, len(users)))
        for key, value in sorted(users.items()):
            print("  %s %s" % (key.decode(), value.decode()))

    # A transaction: commits when the block ends, rolls back if it raises.
    with db.transaction() as tx:
        tx[b"visits"] = b"%d" % (int(tx.get(b"visits") or b"0") + 1)
    # db.update retries the function when its commit conflicts with another writer.
    db.update(lambda tx: tx.put(b"visits", b"%d" % (int(tx[b"visits"]) + 1)))
    print("visits =", db[b"visits"].decode())

    # A key that expires in ten minutes, its remaining time (NotFoundError once
    # expired), and its versions, newest first (time travel: db.snapshot(at=...)).
    db.put(b"session", b"token", ttl=600)
    print("session expires in", db.ttl(b"session"))
    print("visits has %d versions" % len(db.history(b"visits")))

    # Errors are typed exceptions carrying the status code.
    try:
        db.put(b"", b"v")
    except firkin.InvalidArgumentError as e:
        print("empty key: %s (status %d)" % (e.message, e.code))
