"""firkin.py - Firkin from Python through ctypes: dlopen(libfirkin.so), no compiled glue.

    import firkin
    with firkin.DB("/tmp/data") as db:
        db.put(b"k", b"v")
        db.get(b"k")          # b"v"; None when absent

The library is found through $FIRKIN_LIB, then ctypes.util.find_library("firkin"),
then "libfirkin.so.0". Every handle (DB, Options, WriteOptions, Namespace, Snapshot,
Iterator, Batch) is a context manager with close(); closing twice is harmless and
using a closed handle raises ClosedError. Errors are FirkinError subclasses carrying
the status code (.code) and the library's message.
"""

import ctypes
import ctypes.util
import os
import struct

__all__ = ["DB", "Options", "WriteOptions", "Namespace", "Snapshot", "Iterator", "Batch",
           "FirkinError", "ClosedError", "STATUS", "version"]


def _load():
    path = os.environ.get("FIRKIN_LIB") or ctypes.util.find_library("firkin") or "libfirkin.so.0"
    return ctypes.CDLL(path)


_lib = _load()

c_void_p, c_size_t, c_char_p, c_int, c_bool, c_uint64 = (
    ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_int, ctypes.c_bool, ctypes.c_uint64)
P = ctypes.POINTER
_H = c_void_p  # every handle is an opaque pointer


def _fn(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


# The C functions used here (see capi/firkin.h), with their exact types.
_fn("firkin_version_number", c_int)
_fn("firkin_version_string", c_char_p)
_fn("firkin_strerror", c_char_p, c_int)
_fn("firkin_last_error", c_char_p)
_fn("firkin_free", None, c_void_p)
_fn("firkin_options_new", c_int, P(_H))
_fn("firkin_options_free", None, _H)
_fn("firkin_options_set", c_int, _H, c_char_p, c_char_p)
_fn("firkin_options_get", c_int, _H, c_char_p, P(c_void_p))
_fn("firkin_write_options_new", c_int, P(_H))
_fn("firkin_write_options_free", None, _H)
_fn("firkin_write_options_set_sync", c_int, _H, c_int)
_fn("firkin_write_options_get_sync", c_int, _H, P(c_int))
_fn("firkin_open", c_int, c_char_p, _H, P(_H))
_fn("firkin_close", c_int, _H)
_fn("firkin_sync", c_int, _H)
_fn("firkin_last_seq", c_int, _H, P(c_uint64))
_fn("firkin_stats", c_int, _H, P(c_void_p))
_fn("firkin_put", c_int, _H, _H, _H, c_char_p, c_size_t, c_char_p, c_size_t)
_fn("firkin_get", c_int, _H, _H, _H, c_char_p, c_size_t, P(c_void_p), P(c_size_t))
_fn("firkin_get_into", c_int, _H, _H, _H, c_char_p, c_size_t, c_void_p, c_size_t, P(c_size_t))
_fn("firkin_contains", c_int, _H, _H, _H, c_char_p, c_size_t, P(c_bool))
_fn("firkin_get_version", c_int, _H, _H, _H, c_char_p, c_size_t, P(c_uint64))
_fn("firkin_delete", c_int, _H, _H, _H, c_char_p, c_size_t)
_fn("firkin_put_if_absent", c_int, _H, _H, _H, c_char_p, c_size_t, c_char_p, c_size_t)
_fn("firkin_cas", c_int, _H, _H, _H, c_char_p, c_size_t, c_char_p, c_size_t, c_char_p, c_size_t)
_fn("firkin_cas_version", c_int, _H, _H, _H, c_char_p, c_size_t, c_uint64, c_char_p, c_size_t)
_fn("firkin_multi_get", c_int, _H, _H, _H, c_size_t, P(c_char_p), P(c_size_t), P(c_void_p),
    P(c_size_t), P(c_int))
_fn("firkin_multi_get_packed", c_int, _H, _H, _H, c_char_p, c_size_t, P(c_void_p), P(c_size_t))
_fn("firkin_batch_new", c_int, P(_H))
_fn("firkin_batch_free", None, _H)
_fn("firkin_batch_put", c_int, _H, _H, c_char_p, c_size_t, c_char_p, c_size_t)
_fn("firkin_batch_delete", c_int, _H, _H, c_char_p, c_size_t)
_fn("firkin_batch_clear", c_int, _H)
_fn("firkin_batch_count", c_int, _H, P(c_size_t))
_fn("firkin_write", c_int, _H, _H, _H)
_fn("firkin_ns_open", c_int, _H, c_char_p, c_bool, P(_H))
_fn("firkin_ns_create", c_int, _H, c_char_p, P(_H))
_fn("firkin_ns_drop", c_int, _H, c_char_p)
_fn("firkin_ns_list", c_int, _H, P(c_void_p))
_fn("firkin_ns_name", c_char_p, _H)
_fn("firkin_ns_close", None, _H)
_fn("firkin_count", c_int, _H, _H, P(c_uint64))
_fn("firkin_snapshot_new", c_int, _H, P(_H))
_fn("firkin_snapshot_at", c_int, _H, c_uint64, P(_H))
_fn("firkin_snapshot_free", None, _H)
_fn("firkin_snapshot_seq", c_uint64, _H)
_fn("firkin_iter_new", c_int, _H, _H, _H, P(_H))
_fn("firkin_iter_free", None, _H)
_fn("firkin_iter_valid", c_bool, _H)
_fn("firkin_iter_next", c_int, _H)
_fn("firkin_iter_key", c_int, _H, P(c_void_p), P(c_size_t))
_fn("firkin_iter_value", c_int, _H, P(c_void_p), P(c_size_t))
_fn("firkin_iter_status", c_int, _H)
_fn("firkin_iter_next_n", c_int, _H, c_void_p, c_size_t, P(c_size_t), P(c_size_t))
_fn("firkin_compact", c_int, _H)
_fn("firkin_checkpoint", c_int, _H)
_fn("firkin_verify", c_int, _H, P(c_void_p))
_fn("firkin_verify_path", c_int, c_char_p, _H, P(c_void_p))
for _n in ("create_if_missing", "error_if_exists", "read_only", "salvage", "verify_checksums",
           "auto_compact"):
    _fn("firkin_options_set_" + _n, c_int, _H, c_bool)
    _fn("firkin_options_get_" + _n, c_int, _H, P(c_bool))
_fn("firkin_options_set_sync_mode", c_int, _H, c_int)
_fn("firkin_options_get_sync_mode", c_int, _H, P(c_int))
_fn("firkin_options_set_sync_interval_ms", c_int, _H, ctypes.c_uint32)
_fn("firkin_options_get_sync_interval_ms", c_int, _H, P(ctypes.c_uint32))
for _n in ("compact_dead_ratio", "compact_space_amp"):
    _fn("firkin_options_set_" + _n, c_int, _H, ctypes.c_uint32)
    _fn("firkin_options_get_" + _n, c_int, _H, P(ctypes.c_uint32))
for _n in ("segment_size", "compact_rate", "checkpoint_every"):
    _fn("firkin_options_set_" + _n, c_int, _H, c_uint64)
    _fn("firkin_options_get_" + _n, c_int, _H, P(c_uint64))

STATUS = {0: "OK", -1: "NOT_FOUND", -2: "INVALID_ARGUMENT", -3: "IO", -4: "CORRUPTION", -5: "BUSY",
          -6: "READ_ONLY", -7: "CONDITION_FAILED", -8: "CONFLICT", -9: "NO_SPACE", -10: "NO_MEMORY",
          -11: "TOO_LARGE", -12: "BUFFER_TOO_SMALL", -13: "CLOSED", -14: "VERSION",
          -15: "SNAPSHOT_TOO_OLD", -16: "NAMESPACE_NOT_FOUND", -17: "EXISTS", -18: "NOT_A_DATABASE",
          -19: "NOT_SUPPORTED", -20: "INTERNAL"}
SYNC_MODES = {"default": -1, "none": 0, "interval": 1, "always": 2}


class FirkinError(Exception):
    """A failed call: .code (the firkin_status), .status (its name) and the message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.status = STATUS.get(code, str(code))
        self.message = message

    def __str__(self):
        return "%s: %s" % (self.status, self.message)


def _camel(name):
    return "".join(p.capitalize() for p in name.lower().split("_")) + "Error"


# One subclass per status: firkin.BusyError, firkin.NamespaceNotFoundError, ...
_ERRORS = {}
for _code, _name in STATUS.items():
    if _code:
        _cls = type(_camel(_name), (FirkinError,), {})
        _ERRORS[_code] = _cls
        globals()[_cls.__name__] = _cls
        __all__.append(_cls.__name__)
ClosedError = _ERRORS[-13]


def error(code, message=None):
    """The typed exception for a status code."""
    if message is None:
        message = (_lib.firkin_last_error() or b"").decode("utf-8", "replace") or \
            _lib.firkin_strerror(code).decode()
    return _ERRORS.get(code, FirkinError)(code, message)


def _check(st):
    # ctypes makes no firkin call in between, and stays on this OS thread, so
    # firkin_last_error() still holds this call's message.
    if st != 0:
        raise error(st)


def _closed(what):
    return ClosedError(-13, what + " is closed")


def version():
    return _lib.firkin_version_string().decode()


def verify_path(path, options=None):
    """Verifies the database at path without a writer (nothing is modified)."""
    p = c_void_p()
    st = _lib.firkin_verify_path(os.fsencode(path), None if options is None else options.handle(),
                                 ctypes.byref(p))
    report = _take_string(p)
    _check(st)
    return report


def _take_string(p):
    """Copies and frees a char* returned through an out parameter."""
    try:
        return ctypes.string_at(p.value).decode("utf-8") if p.value else ""
    finally:
        _lib.firkin_free(p)


class _Handle:
    _h = None
    _free = None
    _what = "handle"

    def handle(self):
        if self._h is None:
            raise _closed(self._what)
        return self._h

    def close(self):
        """Releases the handle. Closing twice is harmless."""
        h, self._h = self._h, None
        if h is not None:
            type(self)._free(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):  # a backstop only; __init__ may have failed before _h was set
        try:
            self.close()
        except Exception:
            pass


class Options(_Handle):
    """Settings of DB() (firkin_options); by-name text setters and typed ones."""
    _free = staticmethod(_lib.firkin_options_free)
    _what = "options"

    def __init__(self, **settings):
        h = _H()
        _check(_lib.firkin_options_new(ctypes.byref(h)))
        self._h = h
        for k, v in settings.items():
            self.set(k, v)

    def set(self, name, value):
        if isinstance(value, bool):
            value = "true" if value else "false"
        _check(_lib.firkin_options_set(self.handle(), name.encode(), str(value).encode()))
        return self

    def get(self, name):
        p = c_void_p()
        _check(_lib.firkin_options_get(self.handle(), name.encode(), ctypes.byref(p)))
        return _take_string(p)


class WriteOptions(_Handle):
    _free = staticmethod(_lib.firkin_write_options_free)
    _what = "write options"

    def __init__(self, sync=None):
        h = _H()
        _check(_lib.firkin_write_options_new(ctypes.byref(h)))
        self._h = h
        if sync is not None:
            self.sync = sync

    @property
    def sync(self):
        v = c_int()
        _check(_lib.firkin_write_options_get_sync(self.handle(), ctypes.byref(v)))
        return {v_: k for k, v_ in SYNC_MODES.items()}.get(v.value, v.value)

    @sync.setter
    def sync(self, mode):
        _check(_lib.firkin_write_options_set_sync(self.handle(), SYNC_MODES.get(mode, mode)))


def _wo(wo):
    return None if wo is None else wo.handle()


class _Reader:
    """get/contains/version/multi_get/iterate over (db, snapshot, namespace)."""

    def _ctx(self):  # -> (db handle, snapshot handle or None, namespace handle or None)
        raise NotImplementedError

    def get(self, key):
        """The value of key as bytes, or None if absent."""
        db, snap, ns = self._ctx()
        buf = _scratch()
        n = c_size_t()
        while True:
            st = _lib.firkin_get_into(db, snap, ns, key, len(key), buf, len(buf), ctypes.byref(n))
            if st == 0:
                return ctypes.string_at(buf, n.value)
            if st == -1:
                return None
            if st == -12:
                buf = _scratch(n.value)
                continue
            _check(st)

    def contains(self, key):
        db, snap, ns = self._ctx()
        f = c_bool()
        _check(_lib.firkin_contains(db, snap, ns, key, len(key), ctypes.byref(f)))
        return f.value

    def version(self, key):
        """The version of key's value (its write's sequence number), 0 if absent."""
        db, snap, ns = self._ctx()
        v = c_uint64()
        st = _lib.firkin_get_version(db, snap, ns, key, len(key), ctypes.byref(v))
        if st == -1:
            return 0
        _check(st)
        return v.value

    def multi_get_raw(self, keys):
        """firkin_multi_get_packed: a list of (status, value or None) per key."""
        db, snap, ns = self._ctx()
        packed = b"".join(struct.pack("<I", len(k)) + k for k in keys)
        out, n = c_void_p(), c_size_t()
        _check(_lib.firkin_multi_get_packed(db, snap, ns, packed, len(packed), ctypes.byref(out),
                                            ctypes.byref(n)))
        try:
            data = ctypes.string_at(out.value, n.value) if n.value else b""
        finally:
            _lib.firkin_free(out)
        res, off = [], 0
        for _ in keys:
            st, = struct.unpack_from("<i", data, off)
            off += 4
            if st == 0:
                vl, = struct.unpack_from("<I", data, off)
                res.append((0, data[off + 4:off + 4 + vl]))
                off += 4 + vl
            else:
                res.append((st, None))
        if off != len(data):
            raise FirkinError(-20, "multi_get_packed output has %d extra bytes" % (len(data) - off))
        return res

    def multi_get(self, keys):
        """Values of many keys at one snapshot; None for absent ones."""
        out = []
        for st, v in self.multi_get_raw(keys):
            if st not in (0, -1):
                raise error(st, STATUS.get(st, str(st)))
            out.append(v)
        return out

    def iterate(self):
        db, snap, ns = self._ctx()
        return Iterator(db, snap, ns)

    __iter__ = iterate


_BUF = 4096


def _scratch(size=_BUF):
    return ctypes.create_string_buffer(max(size, 1))


class _Writer:
    def _wctx(self):  # -> (db handle, namespace handle or None)
        raise NotImplementedError

    def put(self, key, value, wo=None):
        db, ns = self._wctx()
        _check(_lib.firkin_put(db, _wo(wo), ns, key, len(key), value, len(value)))

    def delete(self, key, wo=None):
        db, ns = self._wctx()
        _check(_lib.firkin_delete(db, _wo(wo), ns, key, len(key)))

    def _cond(self, st):
        if st == -7:
            return False
        _check(st)
        return True

    def put_if_absent(self, key, value, wo=None):
        db, ns = self._wctx()
        return self._cond(_lib.firkin_put_if_absent(db, _wo(wo), ns, key, len(key), value, len(value)))

    def compare_and_swap(self, key, expected, value, wo=None):
        db, ns = self._wctx()
        return self._cond(_lib.firkin_cas(db, _wo(wo), ns, key, len(key), expected, len(expected),
                                          value, len(value)))

    def compare_and_swap_version(self, key, expected_version, value, wo=None):
        db, ns = self._wctx()
        return self._cond(_lib.firkin_cas_version(db, _wo(wo), ns, key, len(key), expected_version,
                                                  value, len(value)))

    def count(self):
        db, ns = self._wctx()
        n = c_uint64()
        _check(_lib.firkin_count(db, ns, ctypes.byref(n)))
        return n.value


class DB(_Handle, _Reader, _Writer):
    """An open database (firkin_db): a context manager; ops on the default namespace."""
    _free = staticmethod(_lib.firkin_close)
    _what = "database"

    def __init__(self, path, options=None, **settings):
        own = None
        if options is None and settings:
            options = own = Options(**settings)
        try:
            h = _H()
            _check(_lib.firkin_open(os.fsencode(path), None if options is None else options.handle(),
                                    ctypes.byref(h)))
        finally:
            if own is not None:
                own.close()
        self._h = h
        self.path = path

    def close(self):
        """Drops this handle (the final flush's error is raised). Closing twice is harmless."""
        h, self._h = self._h, None
        if h is not None:
            _check(_lib.firkin_close(h))

    def _ctx(self):
        return self.handle(), None, None

    def _wctx(self):
        return self.handle(), None

    def write(self, batch, wo=None):
        _check(_lib.firkin_write(self.handle(), _wo(wo), batch.handle()))

    def sync(self):
        _check(_lib.firkin_sync(self.handle()))

    def last_seq(self):
        v = c_uint64()
        _check(_lib.firkin_last_seq(self.handle(), ctypes.byref(v)))
        return v.value

    def stats(self):
        p = c_void_p()
        _check(_lib.firkin_stats(self.handle(), ctypes.byref(p)))
        return _take_string(p)

    def compact(self):
        """Rewrites now every sealed segment that holds dead bytes."""
        _check(_lib.firkin_compact(self.handle()))

    def checkpoint(self):
        """Writes an index checkpoint now."""
        _check(_lib.firkin_checkpoint(self.handle()))

    def verify(self):
        """Verifies records, index and namespaces; returns the JSON report
        (a damaged database raises CorruptionError)."""
        p = c_void_p()
        st = _lib.firkin_verify(self.handle(), ctypes.byref(p))
        report = _take_string(p)
        _check(st)
        return report

    def namespace(self, name, create=True):
        h = _H()
        _check(_lib.firkin_ns_open(self.handle(), name.encode(), create, ctypes.byref(h)))
        return Namespace(self, h)

    def create_namespace(self, name):
        h = _H()
        _check(_lib.firkin_ns_create(self.handle(), name.encode(), ctypes.byref(h)))
        return Namespace(self, h)

    def drop_namespace(self, name):
        _check(_lib.firkin_ns_drop(self.handle(), name.encode()))

    def namespaces(self):
        p = c_void_p()
        _check(_lib.firkin_ns_list(self.handle(), ctypes.byref(p)))
        return [n for n in _take_string(p).split("\n") if n]

    def snapshot(self, seq=None):
        h = _H()
        if seq is None:
            _check(_lib.firkin_snapshot_new(self.handle(), ctypes.byref(h)))
        else:
            _check(_lib.firkin_snapshot_at(self.handle(), seq, ctypes.byref(h)))
        return Snapshot(self, h)


class Namespace(_Handle, _Reader, _Writer):
    """A named key space (firkin_ns); the same operations as DB."""
    _free = staticmethod(_lib.firkin_ns_close)
    _what = "namespace"

    def __init__(self, db, h):
        self._h = h
        self.db = db
        self.name = _lib.firkin_ns_name(h).decode()

    def _ctx(self):
        return self.db.handle(), None, self.handle()

    def _wctx(self):
        return self.db.handle(), self.handle()


class Snapshot(_Handle, _Reader):
    """A read view at a sequence number; .at(ns) reads a namespace at it."""
    _free = staticmethod(_lib.firkin_snapshot_free)
    _what = "snapshot"

    def __init__(self, db, h, ns=None):
        self._h = h
        self.db = db
        self.ns = ns
        self.seq = _lib.firkin_snapshot_seq(h)

    def _ctx(self):
        return self.db.handle(), self.handle(), None if self.ns is None else self.ns.handle()

    def at(self, ns):
        """A reader of namespace ns at this snapshot (shares the handle)."""
        view = _Reader()
        view._ctx = lambda: (self.db.handle(), self.handle(), None if ns is None else ns.handle())
        return view


class Iterator(_Handle):
    """Every live key once, unordered, at one snapshot; yields (key, value) pairs.
    Fetches entries many at a time with firkin_iter_next_n."""
    _free = staticmethod(_lib.firkin_iter_free)
    _what = "iterator"

    def __init__(self, db, snap, ns):
        h = _H()
        _check(_lib.firkin_iter_new(db, snap, ns, ctypes.byref(h)))
        self._h = h
        self._buf = _scratch(64 * 1024)
        self._data, self._off = b"", 0

    def __iter__(self):
        return self

    def __next__(self):
        if self._off >= len(self._data):
            used, count = c_size_t(), c_size_t()
            while True:
                st = _lib.firkin_iter_next_n(self.handle(), self._buf, len(self._buf), ctypes.byref(used),
                                             ctypes.byref(count))
                if st == -12:
                    self._buf = _scratch(used.value)
                    continue
                _check(st)
                break
            if count.value == 0:
                _check(_lib.firkin_iter_status(self.handle()))
                raise StopIteration
            self._data, self._off = self._buf.raw[:used.value], 0
        kl, vl = struct.unpack_from("<II", self._data, self._off)
        o = self._off + 8
        self._off = o + kl + vl
        return self._data[o:o + kl], self._data[o + kl:o + kl + vl]


class Batch(_Handle):
    """Puts and deletes applied atomically by DB.write, across namespaces."""
    _free = staticmethod(_lib.firkin_batch_free)
    _what = "batch"

    def __init__(self):
        h = _H()
        _check(_lib.firkin_batch_new(ctypes.byref(h)))
        self._h = h

    def put(self, key, value, ns=None):
        _check(_lib.firkin_batch_put(self.handle(), None if ns is None else ns.handle(), key, len(key),
                                     value, len(value)))
        return self

    def delete(self, key, ns=None):
        _check(_lib.firkin_batch_delete(self.handle(), None if ns is None else ns.handle(), key, len(key)))
        return self

    def clear(self):
        _check(_lib.firkin_batch_clear(self.handle()))
        return self

    def __len__(self):
        n = c_size_t()
        _check(_lib.firkin_batch_count(self.handle(), ctypes.byref(n)))
        return n.value
