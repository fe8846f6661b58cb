"""Firkin, an embedded key-value store, from Python: ctypes over libfirkin.so
(no compiled glue).

    import firkin
    with firkin.DB("/tmp/data") as db:
        db[b"k"] = b"v"
        db[b"k"]                # b"v"; KeyError when absent
        db.get(b"nope")         # None
        b"k" in db              # True
        with db.namespace("users") as users:
            users.put(b"ada", b"lovelace")
            for key, value in users.items():
                ...

The library is found through $FIRKIN_LIB, then next to this package, then the
system loader (see firkin._native). Every handle (DB, Options, WriteOptions,
Namespace, Snapshot, Iterator, Batch) is a context manager with close();
closing twice is harmless and using a closed handle raises ClosedError.
Errors are FirkinError subclasses, one per status code (errors.py).
"""

from . import errors
from ._native import lib as _lib
from .db import DB, Namespace, Reader, Snapshot, View, Writer, rekey, verify_path
from .backup import BackupOptions, restore
from .txn import Isolation, Transaction, TxnIterator, run_transaction
from .errors import *  # noqa: F401,F403  (the typed exceptions)
from .errors import STATUS, FirkinError, check as _check, error
from .ttl import History, KeyVersion
from .handles import CHANGE_TYPES, SYNC_MODES, Batch, Change, Changes, Iterator, Options, WriteOptions

__version__ = "0.1.0"


def version() -> str:
    """The library's version string (firkin_version_string)."""
    return _lib.firkin_version_string().decode()


__all__ = ["DB", "Options", "WriteOptions", "Namespace", "Snapshot", "View", "Iterator", "Batch",
           "Change", "Changes", "CHANGE_TYPES",
           "Reader", "Writer", "FirkinError", "STATUS", "SYNC_MODES", "error", "version",
           "verify_path", "rekey", "BackupOptions", "restore", "Isolation", "Transaction", "TxnIterator",
           "run_transaction", "History", "KeyVersion"] + [n for n in errors.__all__ if n.endswith("Error") and n != "FirkinError"]
