"""Loading libfirkin.so and declaring the C functions the package calls.

The library is looked for, in order, at ``$FIRKIN_LIB`` (a path), next to this
package (a ``libfirkin.so.0`` or ``libfirkin.so`` copied into the package
directory, e.g. by a wheel built for one machine), in the library directory
recorded by ``make install`` (``firkin/_libdir.py``, for a custom PREFIX),
then through the system loader (``ctypes.util.find_library("firkin")``, then ``libfirkin.so.0``, which
finds ``/usr/local/lib`` and the multiarch directory once ``ldconfig`` ran).

Thread contract: everything here is set up once at import time and read-only
afterwards; ctypes function objects may be called from any thread.
"""

import ctypes
import ctypes.util
import operator
import os
from typing import Any, Iterator, List

c_void_p = ctypes.c_void_p
c_size_t = ctypes.c_size_t
c_char_p = ctypes.c_char_p
c_int = ctypes.c_int
c_bool = ctypes.c_bool
c_uint32 = ctypes.c_uint32
c_uint64 = ctypes.c_uint64
P = ctypes.POINTER
H = c_void_p  # every handle is an opaque pointer


# Integers that cross into C. ctypes converts a Python int for a c_uint64,
# c_uint32 or c_int parameter modulo 2**N without a word (2**64 + 2 arrives
# as 2, -1 as 2**64 - 1), so:
#  - every integer a caller gives is checked by u64 / u32 / i32 before the
#    call: an int (or an object with __index__) out of range raises
#    InvalidArgumentError (a ValueError, the status the library gives a bad
#    argument), anything else TypeError; times and TTLs are not refused but
#    saturate (ttl.py);
#  - those parameters are declared with the strict types U64 / U32 / I32,
#    which refuse (ctypes.ArgumentError) a value that reached them
#    unchecked, instead of wrapping it.
# size_t parameters are always len() of a buffer the package passes (never
# negative, below 2**63): they stay plain c_size_t, with no Python-level
# conversion on the get / put path.
MAX_U64 = 2**64 - 1
MAX_U32 = 2**32 - 1


def _in_range(v: Any, what: str, lo: int, hi: int, span: str) -> int:
    try:
        i = int(operator.index(v))
    except TypeError:
        raise TypeError("firkin: %s must be an integer, not %s" % (what, type(v).__name__)) from None
    if not lo <= i <= hi:
        from .errors import InvalidArgumentError  # (errors imports this module)
        raise InvalidArgumentError(-2, "firkin: %s must be an integer in %s, got %d" % (what, span, i))
    return i


def u64(v: Any, what: str) -> int:
    """v as an int for a uint64_t parameter: InvalidArgumentError if it is
    negative or above 2**64 - 1, TypeError if it is not an integer."""
    return _in_range(v, what, 0, MAX_U64, "[0, 2**64 - 1]")


def u32(v: Any, what: str) -> int:
    """As u64, for a uint32_t parameter (0 to 2**32 - 1)."""
    return _in_range(v, what, 0, MAX_U32, "[0, 2**32 - 1]")


def i32(v: Any, what: str) -> int:
    """As u64, for an int parameter (-2**31 to 2**31 - 1)."""
    return _in_range(v, what, -2**31, 2**31 - 1, "[-2**31, 2**31 - 1]")


def _strict(ctype: Any, lo: int, hi: int) -> Any:
    class Strict:
        """An argtype that passes an int in [lo, hi] as ctype and refuses
        anything else (ctypes raises ctypes.ArgumentError)."""

        @classmethod
        def from_param(cls, v: Any) -> Any:
            if not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError("firkin: %r is not an integer in [%d, %d] (%s)"
                                 % (v, lo, hi, ctype.__name__))
            return ctype(v)

    Strict.__name__ = "strict_" + ctype.__name__
    return Strict


U64 = _strict(c_uint64, 0, MAX_U64)
U32 = _strict(c_uint32, 0, MAX_U32)
I32 = _strict(c_int, -2**31, 2**31 - 1)


def _candidates() -> Iterator[str]:
    # A generator: each place is looked at only if the ones before it did
    # not load. (find_library runs ldconfig and the compiler: until the
    # review of the Python package it ran on every import, 70 ms of it,
    # even with FIRKIN_LIB set or the library beside the package.)
    env = os.environ.get("FIRKIN_LIB")
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("libfirkin.so.0", "libfirkin.so"):
        p = os.path.join(here, name)
        if os.path.exists(p):
            yield p
    try:
        from ._libdir import LIBDIR  # written by `make install-python`

        p = os.path.join(LIBDIR, "libfirkin.so.0")
        if os.path.exists(p):
            yield p
    except ImportError:
        pass
    yield "libfirkin.so.0"  # the loader's own search (LD_LIBRARY_PATH, ld.so.cache)
    found = ctypes.util.find_library("firkin")
    if found:
        yield found


def _load() -> ctypes.CDLL:
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
            if path == os.environ.get("FIRKIN_LIB"):
                break  # an explicit path that fails is an error, not a hint
    raise ImportError("firkin: cannot load libfirkin.so (set FIRKIN_LIB to its path): " +
                      "; ".join(errors))


lib: Any = _load()


#: The names of the C functions declared below (_gate.py gates those of the
#: settings objects by their prefix).
DECLARED: List[str] = []


def _fn(name: str, restype: Any, *argtypes: Any) -> None:
    DECLARED.append(name)
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


# The C functions used by the package (see capi/firkin.h), with their exact
# types. Byte arguments are declared c_void_p so that bytes, bytearray and
# memoryview buffers can all be passed (see _bytes.py); integer inputs are
# U64 / U32 / I32 (uint64_t / uint32_t / int, refusing what would wrap).
_fn("firkin_version_number", c_int)
_fn("firkin_version_string", c_char_p)
_fn("firkin_strerror", c_char_p, c_int)
_fn("firkin_last_error", c_char_p)
_fn("firkin_free", None, c_void_p)
_fn("firkin_options_new", c_int, P(H))
_fn("firkin_options_free", None, H)
_fn("firkin_options_set", c_int, H, c_char_p, c_char_p)
_fn("firkin_options_get", c_int, H, c_char_p, P(c_void_p))
_fn("firkin_write_options_new", c_int, P(H))
_fn("firkin_write_options_free", None, H)
_fn("firkin_write_options_set_sync", c_int, H, I32)
_fn("firkin_write_options_get_sync", c_int, H, P(c_int))
_fn("firkin_open", c_int, c_char_p, H, P(H))
_fn("firkin_close", c_int, H)
_fn("firkin_sync", c_int, H)
_fn("firkin_refresh", c_int, H)
_fn("firkin_last_seq", c_int, H, P(c_uint64))
_fn("firkin_stats", c_int, H, P(c_void_p))
_fn("firkin_put", c_int, H, H, H, c_void_p, c_size_t, c_void_p, c_size_t)
_fn("firkin_get", c_int, H, H, H, c_void_p, c_size_t, P(c_void_p), P(c_size_t))
_fn("firkin_get_into", c_int, H, H, H, c_void_p, c_size_t, c_void_p, c_size_t, P(c_size_t))
_fn("firkin_contains", c_int, H, H, H, c_void_p, c_size_t, P(c_bool))
_fn("firkin_get_version", c_int, H, H, H, c_void_p, c_size_t, P(c_uint64))
_fn("firkin_delete", c_int, H, H, H, c_void_p, c_size_t)
_fn("firkin_put_if_absent", c_int, H, H, H, c_void_p, c_size_t, c_void_p, c_size_t)
_fn("firkin_cas", c_int, H, H, H, c_void_p, c_size_t, c_void_p, c_size_t, c_void_p, c_size_t)
_fn("firkin_cas_version", c_int, H, H, H, c_void_p, c_size_t, U64, c_void_p, c_size_t)
_fn("firkin_multi_get", c_int, H, H, H, c_size_t, P(c_void_p), P(c_size_t), P(c_void_p),
    P(c_size_t), P(c_int))
_fn("firkin_multi_get_packed", c_int, H, H, H, c_void_p, c_size_t, P(c_void_p), P(c_size_t))
_fn("firkin_batch_new", c_int, P(H))
_fn("firkin_batch_free", None, H)
_fn("firkin_batch_put", c_int, H, H, c_void_p, c_size_t, c_void_p, c_size_t)
_fn("firkin_batch_delete", c_int, H, H, c_void_p, c_size_t)
_fn("firkin_batch_clear", c_int, H)
_fn("firkin_batch_count", c_int, H, P(c_size_t))
_fn("firkin_write", c_int, H, H, H)
_fn("firkin_ns_open", c_int, H, c_char_p, c_bool, P(H))
_fn("firkin_ns_create", c_int, H, c_char_p, P(H))
_fn("firkin_ns_drop", c_int, H, c_char_p)
_fn("firkin_ns_list", c_int, H, P(c_void_p))
_fn("firkin_ns_name", c_char_p, H)
_fn("firkin_ns_close", None, H)
_fn("firkin_count", c_int, H, H, P(c_uint64))
_fn("firkin_snapshot_new", c_int, H, P(H))
_fn("firkin_snapshot_at", c_int, H, U64, P(H))
_fn("firkin_snapshot_free", None, H)
_fn("firkin_snapshot_seq", c_uint64, H)
_fn("firkin_iter_new", c_int, H, H, H, P(H))
_fn("firkin_iter_free", None, H)
_fn("firkin_iter_valid", c_bool, H)
_fn("firkin_iter_next", c_int, H)
_fn("firkin_iter_key", c_int, H, P(c_void_p), P(c_size_t))
_fn("firkin_iter_value", c_int, H, P(c_void_p), P(c_size_t))
_fn("firkin_iter_status", c_int, H)
_fn("firkin_iter_next_n", c_int, H, c_void_p, c_size_t, P(c_size_t), P(c_size_t))
# Ordered namespaces: range / prefix / reverse iterators and seek.
_fn("firkin_ns_create_v2", c_int, H, c_char_p, U32, P(H))
_fn("firkin_ns_flags", c_int, H, P(c_uint32))
_fn("firkin_range_iter_new", c_int, H, H, H, c_void_p, c_size_t, c_void_p, c_size_t, U32, P(H))
_fn("firkin_prefix_iter_new", c_int, H, H, H, c_void_p, c_size_t, U32, P(H))
_fn("firkin_iter_seek", c_int, H, c_void_p, c_size_t)
_fn("firkin_iter_is_ordered", c_bool, H)
_fn("firkin_changes_options_new", c_int, P(H))
_fn("firkin_changes_options_free", None, H)
_fn("firkin_changes_options_set_batch_markers", c_int, H, c_bool)
_fn("firkin_changes_options_get_batch_markers", c_int, H, P(c_bool))
_fn("firkin_changes_open", c_int, H, U64, H, P(H))
_fn("firkin_changes_free", None, H)
_fn("firkin_changes_valid", c_bool, H)
_fn("firkin_changes_next", c_int, H)
_fn("firkin_changes_wait", c_int, H, U32)
_fn("firkin_changes_type", c_int, H)
_fn("firkin_changes_seq", c_uint64, H)
_fn("firkin_changes_namespace", c_char_p, H)
_fn("firkin_changes_key", c_int, H, P(c_void_p), P(c_size_t))
_fn("firkin_changes_value", c_int, H, P(c_void_p), P(c_size_t))
_fn("firkin_changes_status", c_int, H)
_fn("firkin_changes_next_n", c_int, H, c_void_p, c_size_t, P(c_size_t), P(c_size_t))
_fn("firkin_changes_oldest_seq", c_int, H, P(c_uint64))
_fn("firkin_changes_position", c_uint64, H)
# Optimistic transactions.
_fn("firkin_txn_begin", c_int, H, I32, P(H))
_fn("firkin_txn_free", None, H)
_fn("firkin_txn_snapshot_seq", c_uint64, H)
_fn("firkin_txn_get", c_int, H, H, c_void_p, c_size_t, P(c_void_p), P(c_size_t))
_fn("firkin_txn_contains", c_int, H, H, c_void_p, c_size_t, P(c_bool))
_fn("firkin_txn_put", c_int, H, H, c_void_p, c_size_t, c_void_p, c_size_t)
_fn("firkin_txn_put_ttl", c_int, H, H, c_void_p, c_size_t, c_void_p, c_size_t, U64)
_fn("firkin_txn_put_expire_at", c_int, H, H, c_void_p, c_size_t, c_void_p, c_size_t, U64)
_fn("firkin_txn_delete", c_int, H, H, c_void_p, c_size_t)
_fn("firkin_txn_cas", c_int, H, H, c_void_p, c_size_t, c_void_p, c_size_t, c_void_p, c_size_t)
_fn("firkin_txn_iter_new", c_int, H, H, P(H))
_fn("firkin_txn_range_iter_new", c_int, H, H, c_void_p, c_size_t, c_void_p, c_size_t, U32, P(H))
_fn("firkin_txn_prefix_iter_new", c_int, H, H, c_void_p, c_size_t, U32, P(H))
_fn("firkin_txn_commit", c_int, H, H, P(c_uint64))
_fn("firkin_txn_rollback", c_int, H)
# TTL, the database clock, time travel by clock time, key history.
_fn("firkin_now_ms", c_int, H, P(c_uint64))
_fn("firkin_put_ttl", c_int, H, H, H, c_void_p, c_size_t, c_void_p, c_size_t, U64)
_fn("firkin_put_expire_at", c_int, H, H, H, c_void_p, c_size_t, c_void_p, c_size_t, U64)
_fn("firkin_batch_put_ttl", c_int, H, H, c_void_p, c_size_t, c_void_p, c_size_t, U64)
_fn("firkin_ttl", c_int, H, H, H, c_void_p, c_size_t, P(c_uint64))
_fn("firkin_persist", c_int, H, H, H, c_void_p, c_size_t)
_fn("firkin_snapshot_at_time", c_int, H, U64, P(H))
_fn("firkin_history_new", c_int, H, H, c_void_p, c_size_t, P(H))
_fn("firkin_history_free", None, H)
_fn("firkin_history_valid", c_bool, H)
_fn("firkin_history_next", None, H)
_fn("firkin_history_seq", c_uint64, H)
_fn("firkin_history_time", c_uint64, H)
_fn("firkin_history_expiry", c_uint64, H)
_fn("firkin_history_is_delete", c_bool, H)
_fn("firkin_history_value", c_int, H, P(c_void_p), P(c_size_t))
_fn("firkin_history_truncated", c_bool, H)
#: firkin_ttl's answer for a key that never expires (FIRKIN_TTL_NONE).
TTL_NONE = 2**64 - 1
_fn("firkin_compact", c_int, H)
_fn("firkin_checkpoint", c_int, H)
_fn("firkin_verify", c_int, H, P(c_void_p))
_fn("firkin_verify_path", c_int, c_char_p, H, P(c_void_p))
# Online backup and restore.
PROGRESS_FN = ctypes.CFUNCTYPE(None, c_void_p, c_uint64, c_uint64)
_fn("firkin_compact_v2", c_int, H, PROGRESS_FN, c_void_p)
_fn("firkin_verify_v2", c_int, H, PROGRESS_FN, c_void_p, P(c_void_p))
_fn("firkin_verify_path_v2", c_int, c_char_p, H, PROGRESS_FN, c_void_p, P(c_void_p))
_fn("firkin_backup_options_new", c_int, P(H))
_fn("firkin_backup_options_free", None, H)
_fn("firkin_backup_options_set", c_int, H, c_char_p, c_char_p)
_fn("firkin_backup_options_get", c_int, H, c_char_p, P(c_void_p))
_fn("firkin_backup_options_set_progress", c_int, H, PROGRESS_FN, c_void_p)
_fn("firkin_backup", c_int, H, H, c_char_p, P(c_void_p))
_fn("firkin_restore", c_int, c_char_p, H, c_char_p, P(c_void_p))
for _n in ("create_if_missing", "error_if_exists", "read_only", "salvage", "verify_checksums",
           "auto_compact"):
    _fn("firkin_options_set_" + _n, c_int, H, c_bool)
    _fn("firkin_options_get_" + _n, c_int, H, P(c_bool))
_fn("firkin_options_set_sync_mode", c_int, H, I32)
_fn("firkin_options_get_sync_mode", c_int, H, P(c_int))
_fn("firkin_options_set_sync_interval_ms", c_int, H, U32)
_fn("firkin_options_get_sync_interval_ms", c_int, H, P(c_uint32))
for _n in ("compact_dead_ratio", "compact_space_amp"):
    _fn("firkin_options_set_" + _n, c_int, H, U32)
    _fn("firkin_options_get_" + _n, c_int, H, P(c_uint32))
for _n in ("segment_size", "compact_rate", "checkpoint_every", "change_retention_bytes",
           "change_retention_seqs", "history_retention_ms", "txn_max_age_ms"):
    _fn("firkin_options_set_" + _n, c_int, H, U64)
    _fn("firkin_options_get_" + _n, c_int, H, P(c_uint64))
# Encryption at rest (issue 12).
_fn("firkin_options_set_encryption_key", c_int, H, c_char_p, c_size_t)
_fn("firkin_options_set_passphrase", c_int, H, c_char_p)
_fn("firkin_rekey", c_int, c_char_p, H, H)


def take_string(p: ctypes.c_void_p) -> str:
    """Copies and frees a char* returned through an out parameter."""
    try:
        return ctypes.string_at(p.value).decode("utf-8") if p.value else ""
    finally:
        lib.firkin_free(p)


def _speedups() -> Any:
    """The optional C accelerator (module ``_firkin_speedups``, built from
    bindings/python/_firkin_speedups.c when a compiler and Python's headers are
    at hand), bound to the library loaded above; None if it is absent or
    ``FIRKIN_PY_SPEEDUPS=0``. Reader.get then uses ctypes alone."""
    if os.environ.get("FIRKIN_PY_SPEEDUPS", "1") == "0":
        return None
    try:
        import _firkin_speedups  # type: ignore
    except ImportError:
        return None
    _firkin_speedups.bind(ctypes.cast(lib.firkin_get_into, c_void_p).value,
                          ctypes.cast(lib.firkin_put, c_void_p).value)
    return _firkin_speedups


_fast = _speedups()
#: The accelerator module (its GateBase and Use: _gate.py), or None.
speedups: Any = _fast
#: get(db, snap, ns, key, default, SLOW) -> the value, default if absent, or SLOW
#: for the ctypes path to handle (see _speedups); None without the accelerator.
fast_get: Any = None if _fast is None else _fast.get
#: put(db, wo, ns, key, value, SLOW) -> None (stored), an int status (failed:
#: raise it, never retry), or SLOW (not bytes: nothing done); None without it.
fast_put: Any = None if _fast is None else _fast.put
SLOW = object()
