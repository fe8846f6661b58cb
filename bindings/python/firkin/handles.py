"""Handle base class and the small handles: Options, WriteOptions, Batch, Iterator.

Thread contract: Batch and Iterator must be used by one thread at a time
(as in capi/firkin.h); Options and WriteOptions are set from one thread at a
time and, once set, may be passed to calls from many. Every handle here has a
gate (GatedHandle, _gate.py): a close() from another thread (twice at once,
or while a call uses the handle) frees the C handle once, after the calls in
flight.
"""

import ctypes
import struct
import time
from typing import Any, Dict, Iterator as TIterator, NamedTuple, Optional, Tuple, Union

from ._bytes import BytesLike, as_buf
from ._gate import Gate, Use
from ._native import H, MAX_U32, c_int, c_size_t, c_void_p, i32, lib, take_string, u64
from .errors import c_text, check, closed, error

#: sync modes by name (firkin_sync_mode).
SYNC_MODES: Dict[str, int] = {"default": -1, "none": 0, "interval": 1, "always": 2}


class Handle:
    """An owned C handle: a context manager whose close() frees it (twice is harmless);
    using it after close raises ClosedError (a closed Iterator or Changes at
    once, even with entries still buffered). A handle has one owner:
    copy.copy, copy.deepcopy and pickle raise TypeError (a copy would free the
    C handle under the original; a pickle would carry a pointer into another
    process). This base has no gate: closing while another thread is inside a
    call on the handle would free it under the call. Every handle class of the
    package is a GatedHandle (_gate.py), whose close() frees the C handle after
    the calls in flight (the settings objects Options, WriteOptions and
    BackupOptions since 2026-11-29)."""

    _h: Optional[int] = None
    _what = "handle"

    @staticmethod
    def _free(h: Any) -> Any:
        raise NotImplementedError

    def handle(self) -> Any:
        """The raw C handle (raises ClosedError once closed)."""
        if self._h is None:
            raise closed(self._what)
        return self._h

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._h is None

    def close(self) -> None:
        """Releases the handle. Closing twice is harmless."""
        h, self._h = self._h, None
        if h is not None:
            type(self)._free(h)

    def __enter__(self) -> "Handle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # A handle has one owner: a copy would be a second owner of the C handle
    # (the first close frees it, the other then uses freed memory), and a
    # pickle would carry a raw pointer into another process. Both are refused.
    def _refuse(self, how: str) -> TypeError:
        return TypeError("firkin: a %s (%s) cannot be %s: it owns a C handle; open another one "
                         "instead" % (self._what, type(self).__name__, how))

    def __copy__(self) -> Any:
        raise self._refuse("copied")

    def __deepcopy__(self, memo: Any) -> Any:
        raise self._refuse("copied")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise self._refuse("pickled")

    def __reduce__(self) -> Any:
        raise self._refuse("pickled")

    def __getstate__(self) -> Any:
        raise self._refuse("pickled")

    def __del__(self) -> None:  # a backstop only; __init__ may have failed before _h was set
        try:
            self.close()
        except Exception:
            pass


def _new(fn: Any, *args: Any) -> Any:
    h = H()
    check(fn(*args, ctypes.byref(h)))
    return h.value


class GatedHandle(Handle):
    """A handle whose close() may run while other threads are inside calls on
    it (_gate.py): those that may be shared (DB, Namespace, Snapshot, and the
    settings objects passed to calls: Options, WriteOptions, BackupOptions),
    and those for one thread at a time that another thread may still close
    (Iterator, Batch, Changes, Transaction: twice at once, or to stop a
    reader). handle() gives the Use that the wrapped C functions take."""

    def _take(self, h: int) -> None:
        g = Gate(h, self._what, type(self)._free)
        self._gate = g
        self._use = Use(g)  # (immutable: one for every call)
        self._h = h

    def handle(self) -> Any:
        """The handle argument of the C calls: a Use of the gate (ClosedError once closed)."""
        if self._h is None:
            raise closed(self._what)
        return self._use

    def close(self) -> None:
        """Releases the handle. Closing twice is harmless. Calls other threads
        have in flight on it finish; calls started after it raise
        ClosedError; the C handle is freed when the last returns."""
        self._h = None
        g = self.__dict__.get("_gate")  # (None if __init__ failed)
        if g is not None:
            g.close()


class Options(GatedHandle):
    """Settings for DB() (firkin_options), set by name: ``Options(sync_mode="always",
    segment_size="1M", create_if_missing=False)``. See capi/firkin.h for the names.

    Thread contract: set options from one thread at a time; once set, the same
    Options may be passed to calls (DB(), verify_path, rekey) from many threads
    at once, and close() may run while such calls are in flight: they finish
    with the options intact, later ones raise ClosedError, and the C object is
    freed when the last returns (a gate, _gate.py; before 2026-11-29 a close()
    racing a call freed it under the call: tests/test_lifetime.py)."""

    _free = staticmethod(lib.firkin_options_free)
    _what = "options"

    def __init__(self, **settings: Union[str, int, bool, bytes]) -> None:
        self._take(_new(lib.firkin_options_new))
        for k, v in settings.items():
            if k == "encryption_key":  # the secrets have their own setters
                self.set_encryption_key(v)  # type: ignore
            elif k == "passphrase":
                self.set_passphrase(v)  # type: ignore
            else:
                self.set(k, v)  # type: ignore

    def set(self, name: str, value: Union[str, int, bool]) -> "Options":
        """Sets one option by name (booleans, numbers, sizes like "64M", sync mode names)."""
        if isinstance(value, bool):
            value = "true" if value else "false"
        check(lib.firkin_options_set(self.handle(), c_text(name, "an option name"),
                                     c_text(str(value), "an option value")))
        return self

    def get(self, name: str) -> str:
        """One option's value as text."""
        p = c_void_p()
        check(lib.firkin_options_get(self.handle(), c_text(name, "an option name"), ctypes.byref(p)))
        return take_string(p)

    def set_encryption_key(self, key: bytes) -> "Options":
        """Encrypts a new database, or opens an encrypted one, with a raw 32-byte key
        (firkin_options_set_encryption_key; InvalidArgumentError for another length)."""
        # (bytes(32) is 32 zero bytes, and bytes of a list of ints a key too:
        # only a bytes-like object is a key.)
        if isinstance(key, str) or not isinstance(key, (bytes, bytearray, memoryview)):
            raise TypeError("firkin: an encryption key must be bytes-like (32 bytes), not %s"
                            % type(key).__name__)
        key = bytes(key)
        check(lib.firkin_options_set_encryption_key(self.handle(), key, len(key)))
        return self

    def set_passphrase(self, passphrase: Union[str, bytes]) -> "Options":
        """Like set_encryption_key, with a passphrase through Argon2id (cost: the options
        kdf_memory_kib, kdf_passes, kdf_lanes; firkin_options_set_passphrase)."""
        check(lib.firkin_options_set_passphrase(self.handle(), c_text(passphrase, "a passphrase")))
        return self


class WriteOptions(GatedHandle):
    """Per-write options (firkin_write_options): ``WriteOptions(sync="always")``.

    Thread contract: as Options. Set them from one thread at a time; once set,
    the same WriteOptions may be passed to writes from many threads at once,
    and close() may run while writes with them are in flight (the last one out
    frees the C object; 2026-11-29)."""

    _free = staticmethod(lib.firkin_write_options_free)
    _what = "write options"

    def __init__(self, sync: Optional[Union[str, int]] = None) -> None:
        self._take(_new(lib.firkin_write_options_new))
        if sync is not None:
            self.sync = sync

    @property
    def sync(self) -> Union[str, int]:
        """The sync mode's name ("default", "none", "interval", "always")."""
        v = c_int()
        check(lib.firkin_write_options_get_sync(self.handle(), ctypes.byref(v)))
        return {v_: k for k, v_ in SYNC_MODES.items()}.get(v.value, v.value)

    @sync.setter
    def sync(self, mode: Union[str, int]) -> None:
        if isinstance(mode, str):
            if mode not in SYNC_MODES:
                raise ValueError("firkin: unknown sync mode %r (one of %s)" % (mode, ", ".join(SYNC_MODES)))
            m = SYNC_MODES[mode]
        else:
            m = i32(mode, "sync mode")
        check(lib.firkin_write_options_set_sync(self.handle(), m))


def typed_handle(obj: Any, cls: type, what: str, optional: bool = True) -> Any:
    """obj's C handle if obj is a cls (None for None when optional); TypeError
    otherwise. Every handle argument goes through here: a handle of another type
    (Options where BackupOptions or WriteOptions belong, a Snapshot for a Batch)
    reached C as the wrong kind of pointer (a crash, or a wrong setting read
    silently)."""
    if obj is None and optional:
        return None
    if isinstance(obj, cls):
        return obj.handle()
    raise TypeError("firkin: %s must be a %s%s, not %s"
                    % (what, cls.__name__, " or None" if optional else "", type(obj).__name__))


def wo_handle(wo: Optional[WriteOptions]) -> Any:
    return typed_handle(wo, WriteOptions, "wo")


class NamespaceHandle(GatedHandle):
    """The handle part of a Namespace (db.Namespace): what ``ns=`` arguments take."""

    _what = "namespace"


def ns_handle(ns: Any) -> Any:
    """The firkin_ns for an ``ns=`` argument: None (the default namespace) or
    a Namespace; TypeError for anything else (a name: open it with
    db.namespace(name) first)."""
    if ns is None:
        return None
    if isinstance(ns, NamespaceHandle):
        return ns.handle()
    raise TypeError("firkin: ns must be a Namespace (db.namespace(name)) or None, not %s"
                    % type(ns).__name__)


def ns_name(name: Any) -> bytes:
    """A namespace name for C: a str, encoded as UTF-8; TypeError for anything
    else, InvalidArgumentError (a ValueError) for one holding a NUL (C would
    cut the name there: drop_namespace("users\\0archive") would drop "users")."""
    if not isinstance(name, str):
        raise TypeError("firkin: a namespace name must be a str, not %s" % type(name).__name__)
    return c_text(name, "a namespace name")


class Batch(GatedHandle):
    """Puts and deletes applied atomically by DB.write, across namespaces.
    Methods return the batch, so calls chain: ``b.put(k, v).delete(k2)``."""

    _free = staticmethod(lib.firkin_batch_free)
    _what = "batch"

    def __init__(self) -> None:
        self._take(_new(lib.firkin_batch_new))

    def put(self, key: BytesLike, value: BytesLike, ns: Any = None, *,
            ttl: Any = None) -> "Batch":
        """Queues key=value (in namespace ns, default when None). With ``ttl``
        (seconds or a timedelta, > 0) the key expires that long after the
        batch's commit time (one time for the whole batch)."""
        k, kl = as_buf(key)
        v, vl = as_buf(value, "value")
        if ttl is None:
            check(lib.firkin_batch_put(self.handle(), ns_handle(ns), k, kl, v, vl))
        else:
            from .ttl import ttl_ms
            check(lib.firkin_batch_put_ttl(self.handle(), ns_handle(ns), k, kl, v, vl, ttl_ms(ttl)))
        return self

    def delete(self, key: BytesLike, ns: Any = None) -> "Batch":
        """Queues the removal of key."""
        k, kl = as_buf(key)
        check(lib.firkin_batch_delete(self.handle(), ns_handle(ns), k, kl))
        return self

    def clear(self) -> "Batch":
        """Empties the batch."""
        check(lib.firkin_batch_clear(self.handle()))
        return self

    def __len__(self) -> int:
        n = c_size_t()
        check(lib.firkin_batch_count(self.handle(), ctypes.byref(n)))
        return n.value


def _scratch(size: int) -> Any:
    return ctypes.create_string_buffer(max(size, 1))


#: FIRKIN_NS_ORDERED and FIRKIN_ITER_REVERSE (capi/firkin.h).
NS_ORDERED = 1
ITER_REVERSE = 1


def bound(x: Any, what: str = "bound") -> Tuple[Any, int]:
    """A range bound or prefix for C: None or empty is no bound (NULL, 0)."""
    if x is None:
        return None, 0
    b, n = as_buf(x, what)
    return (None, 0) if n == 0 else (b, n)


def wants_order(start: Any, end: Any, prefix: Any, reverse: bool, ordered: Optional[bool]) -> bool:
    """Whether iterate() should make an ordered iterator: asked for, or any
    ordered-only argument given."""
    if ordered is not None:
        return ordered
    return start is not None or end is not None or prefix is not None or reverse


def ordered_args(start: Any, end: Any, prefix: Any) -> None:
    if prefix is not None and (start is not None or end is not None):
        raise ValueError("firkin: give a prefix or a start/end range, not both")


class Iterator(GatedHandle):
    """Every live key of a namespace once, at one snapshot; yields (key, value)
    pairs of bytes. Unordered (hash order) by default; made with a range, a
    prefix, reverse=True or ordered=True (an ordered namespace only), in key
    byte order, and seek() repositions it. A context manager; fetches
    entries many at a time with firkin_iter_next_n. Raises the typed error
    that ended an iteration early (e.g. CorruptionError) instead of stopping
    silently. One thread at a time."""

    _free = staticmethod(lib.firkin_iter_free)
    _what = "iterator"

    def __init__(self, db: Any, snap: Any, ns: Any, start: Any = None, end: Any = None, *,
                 prefix: Any = None, reverse: bool = False, ordered: Optional[bool] = None) -> None:
        flags = ITER_REVERSE if reverse else 0
        if not wants_order(start, end, prefix, reverse, ordered):
            self._take(_new(lib.firkin_iter_new, db, snap, ns))
        elif prefix is not None:
            ordered_args(start, end, prefix)
            p, pl = bound(prefix, "prefix")
            self._take(_new(lib.firkin_prefix_iter_new, db, snap, ns, p, pl, flags))
        else:
            (s, sl), (e, el) = bound(start, "start"), bound(end, "end")
            self._take(_new(lib.firkin_range_iter_new, db, snap, ns, s, sl, e, el, flags))
        self._buf = _scratch(64 * 1024)
        self._data, self._off = b"", 0
        self._failure: Optional[Exception] = None

    @property
    def ordered(self) -> bool:
        """True for an ordered (range / prefix) iterator (firkin_iter_is_ordered)."""
        return bool(lib.firkin_iter_is_ordered(self.handle()))

    def seek(self, key: BytesLike) -> "Iterator":
        """Repositions an ordered iterator inside its range: forward to the first
        key >= key, reverse to the last key <= key; the next item comes from
        there (also after the end). InvalidArgumentError on an unordered one."""
        k, kl = as_buf(key)
        check(lib.firkin_iter_seek(self.handle(), k, kl))
        self._data, self._off = b"", 0
        return self

    def __iter__(self) -> "Iterator":
        return self

    def _take_failure(self) -> Exception:
        failure, self._failure = self._failure, None
        assert failure is not None
        return failure

    def __next__(self) -> Tuple[bytes, bytes]:
        if self._h is None:  # closed: never hand out what was buffered
            raise closed(self._what)
        if self._off >= len(self._data):
            if self._failure is not None:  # after the entries that came with it
                # Handed over, not kept: the raised error's traceback holds
                # this frame and so the iterator, and an iterator holding
                # the error made a cycle that kept the database locked
                # until a cyclic collection (review of the bindings).
                raise self._take_failure()
            used, count = c_size_t(), c_size_t()
            while True:
                st = lib.firkin_iter_next_n(self.handle(), self._buf, len(self._buf),
                                            ctypes.byref(used), ctypes.byref(count))
                if st == -12 and count.value == 0:
                    self._buf = _scratch(used.value)
                    continue
                break
            if st != 0 and count.value > 0:
                # The entries copied before the error are correct (firkin.h):
                # yielded first, then the error (raised at once until the
                # review of the Python package, losing them).
                self._failure = error(st)
            elif st != 0:
                check(st)
            if count.value == 0:
                check(lib.firkin_iter_status(self.handle()))
                raise StopIteration
            self._data, self._off = self._buf.raw[:used.value], 0
        kl, vl = struct.unpack_from("<II", self._data, self._off)
        o = self._off + 8
        self._off = o + kl + vl
        return self._data[o:o + kl], self._data[o + kl:o + kl + vl]


class Change(NamedTuple):
    """One committed change of the change feed. ``type`` is one of the CHANGE_*
    names ("put", "delete", "ns_create", "ns_drop", "batch_begin", "batch_end";
    later versions add kinds: skip or stop at one you do not know)."""
    type: str
    seq: int
    namespace: str
    key: bytes
    value: bytes


#: change kinds by firkin_change_type value.
CHANGE_TYPES: Dict[int, str] = {1: "put", 2: "delete", 3: "ns_create", 4: "ns_drop",
                                5: "batch_begin", 6: "batch_end"}


class Changes(GatedHandle):
    """A cursor over the change feed (firkin_changes): every committed change
    after ``since``, in sequence order, batches whole. Iterating yields the
    changes available now and stops; ``wait(timeout)`` blocks until a new one
    is published (woken by the writer), then iterate again. A context
    manager; fetches changes many at a time with firkin_changes_next_n.
    Raises SnapshotTooOldError when the history it needs was compacted away
    (see the change_retention_* options), never skipping a change."""

    _free = staticmethod(lib.firkin_changes_free)
    _what = "change cursor"

    def __init__(self, db: Any, since: int = 0, batch_markers: bool = True) -> None:
        since = u64(since, "since")
        o = _new(lib.firkin_changes_options_new)
        try:
            check(lib.firkin_changes_options_set_batch_markers(o, batch_markers))
            self._take(_new(lib.firkin_changes_open, db, since, o))
        finally:
            lib.firkin_changes_options_free(o)
        self._buf = _scratch(64 * 1024)
        self._data, self._off = b"", 0

    def __iter__(self) -> "Changes":
        return self

    def _fill(self) -> bool:
        used, count = c_size_t(), c_size_t()
        while True:
            st = lib.firkin_changes_next_n(self.handle(), self._buf, len(self._buf),
                                           ctypes.byref(used), ctypes.byref(count))
            if st == -12 and count.value == 0:
                self._buf = _scratch(used.value)
                continue
            if count.value == 0:
                check(st)
                return False
            self._data, self._off = self._buf.raw[:used.value], 0
            return True

    def __next__(self) -> Change:
        if self._h is None:  # closed: never hand out what was buffered
            raise closed(self._what)
        if self._off >= len(self._data) and not self._fill():
            raise StopIteration
        t, nl, seq, kl, vl = struct.unpack_from("<IIQII", self._data, self._off)
        o = self._off + 24
        ns = self._data[o:o + nl].decode("utf-8")
        o += nl
        key = self._data[o:o + kl]
        value = self._data[o + kl:o + kl + vl]
        self._off = o + kl + vl
        return Change(CHANGE_TYPES.get(t, str(t)), seq, ns, key, value)

    def wait(self, timeout: float) -> bool:
        """Blocks until a change is published or ``timeout`` seconds pass
        (at most 2**32 - 1 ms, about 49 days, per call; longer, infinity
        included, waits that long); True if there is a change to read."""
        if self._h is None:
            raise closed(self._what)
        if self._off < len(self._data):
            return True
        if timeout != timeout:
            raise ValueError("firkin: timeout is NaN")
        ms = 0 if timeout <= 0 else MAX_U32 if timeout * 1000 >= MAX_U32 else int(timeout * 1000)
        # In slices of at most 100 ms: the C call holds no GIL, and Python
        # handles a signal (Ctrl-C) only between bytecodes, so one long call
        # kept KeyboardInterrupt until the whole timeout had passed.
        deadline = time.monotonic() + ms / 1000.0
        while True:
            left = int((deadline - time.monotonic()) * 1000)
            check(lib.firkin_changes_wait(self.handle(), max(0, min(left, 100))))
            if self._fill() or left <= 100:
                return self._off < len(self._data)

    @property
    def position(self) -> int:
        """How far the cursor has read: every write numbered at or below it
        was yielded, or holds no change (a CAS that failed after it took its
        number: firkin.h, firkin_changes_open). The next buffered change's
        number - 1 while one is buffered; otherwise the last number read:
        ``db.last_seq()`` once caught up, also where the last write holds no
        change. A consumer that stores it resumes with
        ``db.changes(since=position)``."""
        h = self.handle()
        if len(self._data) - self._off >= 16:
            return int(struct.unpack_from("<Q", self._data, self._off + 8)[0]) - 1
        return int(lib.firkin_changes_position(h))

    def follow(self, poll: float = 1.0) -> TIterator[Change]:
        """Every change, waiting for new ones without end (break out of the loop)."""
        while True:
            yield from self
            self.wait(poll)


def pairs(make: Any) -> TIterator[Tuple[bytes, bytes]]:
    """A generator over a new Iterator that closes it when done or abandoned."""
    it = make()
    try:
        yield from it
    finally:
        it.close()
