#!/usr/bin/env python3
"""Quickstart: Firkin from Python through ctypes (dlopen, no compiled glue).

    FIRKIN_LIB=/usr/local/lib/libfirkin.so python3 quickstart.py /tmp/firkin-quickstart
"""
import sys

import firkin

path = sys.argv[1] if len(sys.argv) > 1 else "firkin-quickstart"
with firkin.DB(path) as db:
    # Point operations; get returns None when the key is absent.
    db.put(b"hello", b"world")
    print("hello =", db.get(b"hello").decode())
    print("nobody =", db.get(b"nobody"))

    # A namespace, and an atomic batch across namespaces.
    with db.namespace("users") as users, firkin.Batch() as batch:
        batch.put(b"ada", b"lovelace", ns=users).put(b"alan", b"turing", ns=users).delete(b"hello")
        db.write(batch)

        # A snapshot and an iterator.
        with db.snapshot() as snap:
            users.put(b"grace", b"hopper")  # not in the snapshot
            with snap.at(users).iterate() as it:
                n = sum(1 for _ in it)
            print("users at the snapshot: %d, now: %d" % (n, users.count()))

    # Errors are typed exceptions carrying the status code.
    try:
        db.put(b"", b"v")
    except firkin.InvalidArgumentError as e:
        print("empty key: %s (status %d)" % (e.message, e.code))
