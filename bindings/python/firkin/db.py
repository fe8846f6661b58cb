"""DB, Namespace and Snapshot: the dict-like API over one namespace.

``DB`` and ``Namespace`` read and write (``db[k] = v``, ``db[k]``, ``k in db``,
``del db[k]``, ``len(db)``, iteration over keys, ``items()``); ``Snapshot``
reads at one sequence number. Keys and values are bytes-like in, ``bytes`` out.

Thread contract (as in capi/firkin.h): a DB, its Namespace and Snapshot
objects may be used from many threads at once; each iteration (an Iterator
or a keys()/items() generator) by one thread at a time. Once close() has
returned, every call raises ClosedError and never reaches C. close() may run
while other threads are inside calls on the same DB (ctypes releases the GIL
during a call): those finish, later calls raise ClosedError, and the C handle
is freed when the last call in flight returns (_gate.py); the same holds
for Namespace and Snapshot handles shared between threads.
"""

import ctypes
import datetime
import os
import struct
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterator as TIterator, List, Optional, Tuple,
                    TypeVar, Union)

from ._bytes import BytesLike, as_buf, to_bytes
from . import _progress
from ._native import (MAX_U32, SLOW, TTL_NONE, H, c_bool, c_size_t, c_uint32, c_uint64, c_void_p,
                      lib, take_string, u64)
from ._gate import fast_get, fast_put
from .ttl import History, Seconds, TimeLike, expiry_ms, read_history, time_ms, ttl_ms
from .errors import FirkinError, NotFoundError, TooLargeError, c_path, check, closed, error
from .handles import (NS_ORDERED, Batch, Change, Changes, GatedHandle, Handle, Iterator, NamespaceHandle, Options, WriteOptions,
                      ns_handle, ns_name, pairs, typed_handle, wo_handle)

PathLike = Union[str, bytes, "os.PathLike[str]"]
T = TypeVar("T")
if TYPE_CHECKING:
    from .txn import IsolationLike, Transaction
_BUF = 4096


class Reader:
    """Reads of one namespace at the latest state or a snapshot."""

    def _ctx(self) -> Tuple[Any, Any, Any]:  # (db handle, snapshot or None, namespace or None)
        raise NotImplementedError

    def get(self, key: BytesLike, default: Optional[bytes] = None) -> Optional[bytes]:
        """The value of key, or default (None) if absent."""
        db, snap, ns = self._ctx()
        if fast_get is not None:
            # One C call (_firkin_speedups): the value, default, or SLOW (a
            # large value, an error, a key that is not bytes) for the ctypes
            # path below, which reads it again or raises.
            r = fast_get(db, snap, ns, key, default, SLOW)
            if r is not SLOW:
                return r
        k, kl = as_buf(key)
        buf = ctypes.create_string_buffer(_BUF)
        n = c_size_t()
        while True:
            st = lib.firkin_get_into(db, snap, ns, k, kl, buf, len(buf), ctypes.byref(n))
            if st == 0:
                return ctypes.string_at(buf, n.value)
            if st == -1:
                return default
            if st == -12:
                buf = ctypes.create_string_buffer(max(n.value, 1))
                continue
            check(st)

    def __getitem__(self, key: BytesLike) -> bytes:
        """db[key]: the value; KeyError (a NotFoundError) if absent."""
        v = self.get(key)
        if v is None:
            raise NotFoundError(-1, "key not found: %r" % (to_bytes(key),))
        return v

    def contains(self, key: BytesLike) -> bool:
        """Whether key has a value."""
        db, snap, ns = self._ctx()
        k, kl = as_buf(key)
        f = c_bool()
        check(lib.firkin_contains(db, snap, ns, k, kl, ctypes.byref(f)))
        return f.value

    def __contains__(self, key: object) -> bool:
        """``key in db``: whether key has a value (non-bytes keys are never present)."""
        if isinstance(key, str):
            return False
        try:
            return self.contains(key)  # type: ignore[arg-type]
        except TypeError:
            return False

    def version(self, key: BytesLike) -> int:
        """The version of key's value (its write's sequence number), 0 if absent."""
        db, snap, ns = self._ctx()
        k, kl = as_buf(key)
        v = c_uint64()
        st = lib.firkin_get_version(db, snap, ns, k, kl, ctypes.byref(v))
        if st == -1:
            return 0
        check(st)
        return v.value

    def multi_get_raw(self, keys: List[BytesLike]) -> List[Tuple[int, Optional[bytes]]]:
        """firkin_multi_get_packed: a (status, value or None) pair per key."""
        db, snap, ns = self._ctx()
        keys = list(keys)  # (read twice: a generator was empty the second time)
        parts = []
        for i, x in enumerate(keys):
            k = to_bytes(x)
            if len(k) > MAX_U32:  # the packed format's length field is 32 bits
                raise TooLargeError(-11, "multi_get key %d: key of %d bytes does not fit the packed "
                                    "format's 32-bit length" % (i, len(k)))
            parts.append(struct.pack("<I", len(k)))
            parts.append(k)
        packed = b"".join(parts)
        out, n = c_void_p(), c_size_t()
        check(lib.firkin_multi_get_packed(db, snap, ns, packed, len(packed), ctypes.byref(out),
                                          ctypes.byref(n)))
        try:
            data = ctypes.string_at(out.value, n.value) if n.value else b""
        finally:
            lib.firkin_free(out)
        res: List[Tuple[int, Optional[bytes]]] = []
        off = 0
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

    def multi_get(self, keys: List[BytesLike]) -> List[Optional[bytes]]:
        """Values of many keys at one snapshot; None for absent ones. A key
        that cannot be read raises its typed error, with the library's message
        (e.g. TooLargeError for an oversized key) naming the key's index."""
        keys = list(keys)  # (indexed below: a set or a generator is not)
        out: List[Optional[bytes]] = []
        for i, (st, v) in enumerate(self.multi_get_raw(keys)):
            if st not in (0, -1):
                raise self._key_error(i, keys[i], st)
            out.append(v)
        return out

    def _key_error(self, i: int, key: BytesLike, st: int) -> FirkinError:
        """The error for key i of a multi_get, which failed with status st.
        The packed call itself succeeded, and a call that succeeds clears the
        library's message (firkin_last_error): the key is read again alone
        (firkin_get) for it. Should that read give another outcome (the state
        changed meanwhile), the status's description stands in."""
        db, snap, ns = self._ctx()
        k, kl = as_buf(key)
        p, n = c_void_p(), c_size_t()
        st2 = lib.firkin_get(db, snap, ns, k, kl, ctypes.byref(p), ctypes.byref(n))
        msg = (lib.firkin_last_error() or b"").decode("utf-8", "replace") if st2 == st else ""
        if st2 == 0:
            lib.firkin_free(p)
        if not msg:
            msg = (lib.firkin_strerror(st) or b"").decode("utf-8", "replace")
        return error(st, "multi_get key %d: %s" % (i, msg))

    def iterate(self, start: Optional[BytesLike] = None, end: Optional[BytesLike] = None, *,
                prefix: Optional[BytesLike] = None, reverse: bool = False,
                ordered: Optional[bool] = None) -> Iterator:
        """An Iterator of (key, value) pairs at one snapshot (close it, or use ``with``).
        Unordered by default. With start/end (start <= key < end; None or b""
        = unbounded), prefix, reverse=True or ordered=True it is an ordered
        iterator, in key byte order (descending with reverse), with seek();
        the namespace must be ordered (create_namespace(name, ordered=True)),
        else InvalidArgumentError."""
        db, snap, ns = self._ctx()
        return Iterator(db, snap, ns, start, end, prefix=prefix, reverse=reverse, ordered=ordered)

    def items(self, start: Optional[BytesLike] = None, end: Optional[BytesLike] = None,
              **kw: Any) -> TIterator[Tuple[bytes, bytes]]:
        """Every (key, value) pair once at one snapshot: unordered, or in
        order with iterate()'s arguments (``ns.items(b"a", b"m")``,
        ``ns.items(prefix=b"user/", reverse=True)``)."""
        return pairs(lambda: self.iterate(start, end, **kw))

    def keys(self, start: Optional[BytesLike] = None, end: Optional[BytesLike] = None,
             **kw: Any) -> TIterator[bytes]:
        """Every key once at one snapshot (as items())."""
        return (k for k, _ in self.items(start, end, **kw))

    def values(self, start: Optional[BytesLike] = None, end: Optional[BytesLike] = None,
               **kw: Any) -> TIterator[bytes]:
        """Every value once, in the order of keys()."""
        return (v for _, v in self.items(start, end, **kw))

    def __iter__(self) -> TIterator[bytes]:
        """``for key in db``: the keys, as dict iteration does (items() gives pairs)."""
        return self.keys()

    def ttl(self, key: BytesLike) -> Optional[datetime.timedelta]:
        """The time left before key expires (whole ms); None if it never
        expires; NotFoundError (a KeyError) if it is absent or expired.
        Through a snapshot, expiry is decided at the time of the call."""
        db, snap, ns = self._ctx()
        k, kl = as_buf(key)
        v = c_uint64()
        st = lib.firkin_ttl(db, snap, ns, k, kl, ctypes.byref(v))
        if st == -1:
            raise NotFoundError(-1, "key not found or expired: %r" % (to_bytes(key),))
        check(st)
        if v.value == TTL_NONE:
            return None
        return datetime.timedelta(milliseconds=min(v.value, 86400000 * 999999999))


class Writer:
    """Writes to one namespace."""

    def _wctx(self) -> Tuple[Any, Any]:  # (db handle, namespace or None)
        raise NotImplementedError

    def put(self, key: BytesLike, value: BytesLike, wo: Optional[WriteOptions] = None, *,
            ttl: Optional[Seconds] = None, expire_at: Optional[TimeLike] = None) -> None:
        """Stores value under key, replacing any previous value.

        ``ttl`` (seconds or a timedelta, > 0, rounded up to whole ms): the key
        expires that long after the write's commit time. ``expire_at`` (a
        datetime or seconds since the epoch, on the database clock): the key
        expires then; a time already past (the epoch or before included)
        writes a key that reads as absent at once. An expired key reads as
        absent everywhere. A put without either makes the key persistent.
        A TTL or time beyond 2**64 - 1 ms saturates there (never expires in
        practice) instead of wrapping."""
        db, ns = self._wctx()
        if fast_put is not None and ttl is None and expire_at is None:
            # One C call (_firkin_speedups) for bytes key and value: None
            # (stored), a status (raised here; a failed put is never tried
            # again), or SLOW (other bytes-like types) for ctypes below.
            r = fast_put(db, wo_handle(wo), ns, key, value, SLOW)
            if r is None:
                return
            if r is not SLOW:
                check(r)
        k, kl = as_buf(key)
        v, vl = as_buf(value, "value")
        if ttl is not None and expire_at is not None:
            raise ValueError("firkin: give ttl or expire_at, not both")
        if ttl is not None:
            check(lib.firkin_put_ttl(db, wo_handle(wo), ns, k, kl, v, vl, ttl_ms(ttl)))
        elif expire_at is not None:
            check(lib.firkin_put_expire_at(db, wo_handle(wo), ns, k, kl, v, vl,
                                           expiry_ms(expire_at)))
        else:
            check(lib.firkin_put(db, wo_handle(wo), ns, k, kl, v, vl))

    def persist(self, key: BytesLike, wo: Optional[WriteOptions] = None) -> bool:
        """Removes key's expiry (writes its value again without one; nothing
        if it has none). False if the key is absent or expired."""
        db, ns = self._wctx()
        k, kl = as_buf(key)
        st = lib.firkin_persist(db, wo_handle(wo), ns, k, kl)
        if st == -1:
            return False
        check(st)
        return True

    def history(self, key: BytesLike) -> History:
        """The versions of key, newest first, as far back as they are kept: a
        list of KeyVersion (seq, time_ms, expiry_ms, deleted, value; .time and
        .expiry as datetimes) with ``.truncated``."""
        db, ns = self._wctx()
        return read_history(db, ns, key)

    def __setitem__(self, key: BytesLike, value: BytesLike) -> None:
        """``db[key] = value``."""
        self.put(key, value)

    def delete(self, key: BytesLike, wo: Optional[WriteOptions] = None) -> None:
        """Removes key (removing an absent key succeeds)."""
        db, ns = self._wctx()
        k, kl = as_buf(key)
        check(lib.firkin_delete(db, wo_handle(wo), ns, k, kl))

    def __delitem__(self, key: BytesLike) -> None:
        """``del db[key]``: KeyError (a NotFoundError) if key is absent, as for a dict."""
        if not self.contains(key):  # type: ignore[attr-defined]
            raise NotFoundError(-1, "key not found: %r" % (to_bytes(key),))
        self.delete(key)

    def _cond(self, st: int) -> bool:
        if st == -7:
            return False
        check(st)
        return True

    def put_if_absent(self, key: BytesLike, value: BytesLike,
                      wo: Optional[WriteOptions] = None) -> bool:
        """Stores value only if key is absent; False if it exists."""
        db, ns = self._wctx()
        k, kl = as_buf(key)
        v, vl = as_buf(value, "value")
        return self._cond(lib.firkin_put_if_absent(db, wo_handle(wo), ns, k, kl, v, vl))

    def compare_and_swap(self, key: BytesLike, expected: BytesLike, value: BytesLike,
                         wo: Optional[WriteOptions] = None) -> bool:
        """Stores value only if key's value equals expected; False otherwise."""
        db, ns = self._wctx()
        k, kl = as_buf(key)
        e, el = as_buf(expected, "expected value")
        v, vl = as_buf(value, "value")
        return self._cond(lib.firkin_cas(db, wo_handle(wo), ns, k, kl, e, el, v, vl))

    def compare_and_swap_version(self, key: BytesLike, expected_version: int, value: BytesLike,
                                 wo: Optional[WriteOptions] = None) -> bool:
        """Stores value only if key's version equals expected_version (0: absent).
        InvalidArgumentError (a ValueError) if expected_version is not in
        [0, 2**64 - 1]."""
        ver = u64(expected_version, "expected_version")
        db, ns = self._wctx()
        k, kl = as_buf(key)
        v, vl = as_buf(value, "value")
        return self._cond(lib.firkin_cas_version(db, wo_handle(wo), ns, k, kl, ver, v, vl))

    def count(self) -> int:
        """Number of live keys at the latest state (a counter: cheap)."""
        db, ns = self._wctx()
        n = c_uint64()
        check(lib.firkin_count(db, ns, ctypes.byref(n)))
        return n.value

    def __len__(self) -> int:
        """``len(db)``: count()."""
        return self.count()


class DB(GatedHandle, Reader, Writer):
    """An open database (firkin_db); the dict-like methods act on the default namespace.

    ``DB(path)`` creates the directory if missing; settings go as keywords
    (``DB(path, read_only=True, sync_mode="always")``) or as an Options."""

    _free = staticmethod(lib.firkin_close)
    _what = "database"

    def __init__(self, path: PathLike, options: Optional[Options] = None,
                 **settings: Union[str, int, bool]) -> None:
        own = None
        if options is None and settings:
            options = own = Options(**settings)
        elif options is not None and settings:
            raise TypeError("firkin: pass either an Options or keyword settings, not both")
        try:
            h = H()
            check(lib.firkin_open(c_path(path), typed_handle(options, Options, "options"),
                                  ctypes.byref(h)))
        finally:
            if own is not None:
                own.close()
        self._take(h.value)
        self.path = path

    def close(self) -> None:
        """Drops this handle (the final flush's error is raised). Closing twice
        is harmless. Calls other threads have in flight finish; calls started
        after it raise ClosedError; the C handle is freed when the last call
        in flight returns (then the final flush's error is lost)."""
        GatedHandle.close(self)

    def __enter__(self) -> "DB":
        return self

    def _ctx(self) -> Tuple[Any, Any, Any]:
        return self.handle(), None, None

    def _wctx(self) -> Tuple[Any, Any]:
        return self.handle(), None

    def get(self, key: BytesLike, default: Optional[bytes] = None) -> Optional[bytes]:
        """The value of key, or default (None) if absent."""
        # Reader.get without the _ctx() call (about 40 ns of the budget of
        # C + 150 ns per get): the accelerator straight on the gate, whose
        # pointer and closed flag it reads in C (_gate.py; closed: SLOW, and
        # Reader.get raises ClosedError).
        r = SLOW if fast_get is None else fast_get(self._gate, None, None, key, default, SLOW)
        return r if r is not SLOW else Reader.get(self, key, default)

    if fast_put is not None:
        # (Only with the accelerator: without it, Writer.put itself, with no
        # extra call.)
        def put(self, key: BytesLike, value: BytesLike, wo: Optional[WriteOptions] = None, *,
                ttl: Optional[Seconds] = None, expire_at: Optional[TimeLike] = None) -> None:
            """Stores value under key, replacing any previous value (Writer.put)."""
            # Writer.put without the _wctx() call for a plain put: the
            # accelerator straight on the gate, which it enters and leaves
            # in C (_gate.py; closed: SLOW, and Writer.put raises ClosedError).
            if wo is None and ttl is None and expire_at is None and fast_put is not None:
                r = fast_put(self._gate, None, None, key, value, SLOW)
                if r is None:
                    return
                if r is not SLOW:
                    check(r)
            Writer.put(self, key, value, wo, ttl=ttl, expire_at=expire_at)

    def write(self, batch: Batch, wo: Optional[WriteOptions] = None) -> None:
        """Applies a Batch atomically."""
        check(lib.firkin_write(self.handle(), wo_handle(wo),
                               typed_handle(batch, Batch, "batch", optional=False)))

    def sync(self) -> None:
        """Makes every acknowledged write durable now."""
        check(lib.firkin_sync(self.handle()))

    def refresh(self) -> None:
        """Moves a read-only handle to the writer's latest durable state.

        What the writer process made durable since the open or the last
        refresh becomes visible (firkin_refresh); reads in other threads see
        the old state until it is complete. Does nothing on a writable
        handle. A refresh that dropped segments the writer retired makes
        older snapshots raise SnapshotTooOldError.
        """
        check(lib.firkin_refresh(self.handle()))
    def changes(self, since: int = 0, batch_markers: bool = True) -> Changes:
        """A cursor over the committed changes after sequence number ``since``
        (see Changes). Raises SnapshotTooOldError if they are no longer retained,
        InvalidArgumentError if ``since`` is past last_seq() (or negative, or
        beyond 2**64 - 1)."""
        return Changes(self.handle(), since, batch_markers)

    def oldest_change_seq(self) -> int:
        """The oldest change still retained (last_seq() + 1 if none): changes()
        accepts any since >= it - 1."""
        v = c_uint64()
        check(lib.firkin_changes_oldest_seq(self.handle(), ctypes.byref(v)))
        return v.value

    def last_seq(self) -> int:
        """The newest published sequence number."""
        v = c_uint64()
        check(lib.firkin_last_seq(self.handle(), ctypes.byref(v)))
        return v.value

    def stats(self) -> str:
        """Statistics as a JSON text (json.loads it)."""
        p = c_void_p()
        check(lib.firkin_stats(self.handle(), ctypes.byref(p)))
        return take_string(p)

    def compact(self, progress: Optional[Callable[[int, int], None]] = None) -> None:
        """Rewrites now every sealed segment that holds dead bytes.
        progress(done, total) is called with bytes as it goes (on this
        thread; an exception it raises is raised once compaction is done)."""
        cb, failure = _progress.callback(progress)
        check(lib.firkin_compact_v2(self.handle(), cb, None))
        if failure:
            raise failure[0]

    def checkpoint(self) -> None:
        """Writes an index checkpoint now."""
        check(lib.firkin_checkpoint(self.handle()))

    def verify(self, progress: Optional[Callable[[int, int], None]] = None) -> str:
        """Verifies records, index and namespaces; returns the JSON report
        (a damaged database raises CorruptionError). progress(done, total):
        record bytes checked, as compact's."""
        cb, failure = _progress.callback(progress)
        p = c_void_p()
        st = lib.firkin_verify_v2(self.handle(), cb, None, ctypes.byref(p))
        report = take_string(p)
        check(st)
        if failure:
            raise failure[0]
        return report

    def backup(self, dest: PathLike, options: Any = None, *,
               progress: Optional[Callable[[int, int], None]] = None,
               **settings: Union[str, bool]) -> Dict[str, Any]:
        """Online backup into directory dest as of one snapshot, while other
        threads keep writing (firkin_backup). dest is created, or must be empty
        or an earlier backup of this database (then only what is new is copied).
        options: a firkin.BackupOptions, and/or settings by name (incremental,
        verify, hard_links, checkpoint; all True by default). progress(done,
        total) is called with byte counts. Returns the report as a dict (seq,
        segments, linked, copied, kept, removed, bytes_*, checkpoint, verified).
        Raises InvalidArgumentError (dest is or lies in the database
        directory), NotADatabaseError (a file or a foreign directory),
        ExistsError (a backup of another database), BusyError, CorruptionError
        (the copy failed verification)."""
        from .backup import backup
        return backup(self, dest, options, progress=progress, **settings)

    def namespace(self, name: str, create: bool = True) -> "Namespace":
        """Opens namespace name, a str (creating it unless create=False)."""
        h = H()
        check(lib.firkin_ns_open(self.handle(), ns_name(name), create, ctypes.byref(h)))
        return Namespace(self, h.value)

    def create_namespace(self, name: str, *, ordered: bool = False) -> "Namespace":
        """Creates namespace name; ExistsError if it exists. ordered=True keeps
        its keys in byte order for range, prefix and reverse iteration
        (firkin_ns_create_v2 with FIRKIN_NS_ORDERED; a durable property)."""
        h = H()
        if ordered:
            check(lib.firkin_ns_create_v2(self.handle(), ns_name(name), NS_ORDERED, ctypes.byref(h)))
        else:
            check(lib.firkin_ns_create(self.handle(), ns_name(name), ctypes.byref(h)))
        return Namespace(self, h.value)

    def drop_namespace(self, name: str) -> None:
        """Drops namespace name and all its keys."""
        check(lib.firkin_ns_drop(self.handle(), ns_name(name)))

    def namespaces(self) -> List[str]:
        """The namespaces' names, "default" included."""
        p = c_void_p()
        check(lib.firkin_ns_list(self.handle(), ctypes.byref(p)))
        return [n for n in take_string(p).split("\n") if n]

    def transaction(self, isolation: "IsolationLike" = "snapshot",
                    wo: Optional[WriteOptions] = None) -> "Transaction":
        """Begins an optimistic transaction (see firkin.Transaction): use it in
        ``with`` (commit on normal exit, rollback on an exception). isolation:
        "snapshot" (the default) or "serializable" (or firkin.Isolation); wo:
        the write options its commit uses."""
        from .txn import Transaction
        return Transaction(self, isolation, wo)

    def update(self, fn: "Callable[[Transaction], T]", isolation: "IsolationLike" = "snapshot",
               attempts: int = 10, wo: Optional[WriteOptions] = None) -> "T":
        """Runs fn(tx) in a transaction and commits it, retrying on
        ConflictError up to ``attempts`` times in all (firkin.run_transaction);
        returns fn's result."""
        from .txn import run_transaction
        return run_transaction(self, fn, isolation, attempts, wo)

    def now_ms(self) -> int:
        """The database clock: ms since the epoch, never behind the newest
        commit time; it decides expiry and stamps commits."""
        v = c_uint64()
        check(lib.firkin_now_ms(self.handle(), ctypes.byref(v)))
        return v.value

    def now(self) -> datetime.datetime:
        """now_ms() as an aware UTC datetime."""
        return datetime.datetime.fromtimestamp(self.now_ms() / 1000.0, datetime.timezone.utc)

    def snapshot(self, seq: Optional[int] = None, *, at: Optional[TimeLike] = None) -> "Snapshot":
        """A read view at the latest state, at an older sequence number seq, or
        as of the time ``at`` (a datetime or seconds since the epoch, database
        clock, whole ms): every write committed at or before it and none after
        (a time before the first write gives the empty state, seq 0; one
        beyond 2**64 - 1 ms saturates there). SnapshotTooOldError if the log
        that tells that time is no longer kept (option history_retention_ms);
        InvalidArgumentError if seq is past last_seq() (or negative, or beyond
        2**64 - 1)."""
        h = H()
        if seq is not None and at is not None:
            raise ValueError("firkin: give seq or at, not both")
        if at is not None:
            check(lib.firkin_snapshot_at_time(self.handle(), time_ms(at), ctypes.byref(h)))
        elif seq is None:
            check(lib.firkin_snapshot_new(self.handle(), ctypes.byref(h)))
        else:
            check(lib.firkin_snapshot_at(self.handle(), u64(seq, "seq"), ctypes.byref(h)))
        return Snapshot(self, h.value)


class Namespace(NamespaceHandle, Reader, Writer):
    """A named key space (firkin_ns): the same dict-like operations as DB."""

    _free = staticmethod(lib.firkin_ns_close)
    _what = "namespace"

    def __init__(self, db: DB, h: Any) -> None:
        self._h = h
        self.db = db
        self.name: str = lib.firkin_ns_name(h).decode()
        self._take(h)

    def get(self, key: BytesLike, default: Optional[bytes] = None) -> Optional[bytes]:
        """The value of key, or default (None) if absent."""
        # As DB.get, through both gates (a closed namespace raises ClosedError).
        r = SLOW if fast_get is None else fast_get(self.db.handle(), None, self.handle(), key, default, SLOW)
        return r if r is not SLOW else Reader.get(self, key, default)

    def __enter__(self) -> "Namespace":
        return self

    @property
    def ordered(self) -> bool:
        """True if the namespace was created ordered (firkin_ns_flags)."""
        f = c_uint32()
        check(lib.firkin_ns_flags(self.handle(), ctypes.byref(f)))
        return bool(f.value & NS_ORDERED)

    def _ctx(self) -> Tuple[Any, Any, Any]:
        return self.db.handle(), None, self.handle()

    def _wctx(self) -> Tuple[Any, Any]:
        return self.db.handle(), self.handle()


class View(Reader):
    """Reads of a namespace at a snapshot (Snapshot.at(ns)); borrows both handles."""

    def __init__(self, snap: "Snapshot", ns: Optional[Namespace]) -> None:
        if ns is not None and not isinstance(ns, NamespaceHandle):
            ns_handle(ns)  # raises the TypeError
        self._snap = snap
        self._ns = ns

    def _ctx(self) -> Tuple[Any, Any, Any]:
        return self._snap.db.handle(), self._snap.handle(), ns_handle(self._ns)

    def get(self, key: BytesLike, default: Optional[bytes] = None) -> Optional[bytes]:
        """The value of key in the namespace at the snapshot, or default (None) if absent."""
        # As DB.get, through the gates (a closed snapshot or namespace raises
        # ClosedError).
        if fast_get is None:
            return Reader.get(self, key, default)
        snap = self._snap
        r = fast_get(snap.db.handle(), snap.handle(), ns_handle(self._ns), key, default, SLOW)
        return r if r is not SLOW else Reader.get(self, key, default)


class Snapshot(GatedHandle, Reader):
    """A read view at a sequence number (``seq``); reads the default namespace,
    ``at(ns)`` reads another one at the same point."""

    _free = staticmethod(lib.firkin_snapshot_free)
    _what = "snapshot"

    def __init__(self, db: DB, h: Any) -> None:
        self._h = h
        self.db = db
        self.seq: int = lib.firkin_snapshot_seq(h)
        self._take(h)

    def __enter__(self) -> "Snapshot":
        return self

    def get(self, key: BytesLike, default: Optional[bytes] = None) -> Optional[bytes]:
        """The value of key at this snapshot, or default (None) if absent."""
        # As DB.get, through both gates (a closed snapshot raises ClosedError).
        r = SLOW if fast_get is None else fast_get(self.db.handle(), self.handle(), None, key, default, SLOW)
        return r if r is not SLOW else Reader.get(self, key, default)

    def _ctx(self) -> Tuple[Any, Any, Any]:
        return self.db.handle(), self.handle(), None

    def at(self, ns: Optional[Namespace]) -> View:
        """A reader of namespace ns at this snapshot (shares the handle)."""
        return View(self, ns)


def verify_path(path: PathLike, options: Optional[Options] = None,
                progress: Optional[Callable[[int, int], None]] = None) -> str:
    """Verifies the database at path through a read-only handle (beside a
    live writer: its durable state; nothing is modified); returns the JSON
    report, raises CorruptionError if damaged. progress as DB.verify's."""
    cb, failure = _progress.callback(progress)
    p = c_void_p()
    st = lib.firkin_verify_path_v2(c_path(path), typed_handle(options, Options, "options"), cb,
                                   None, ctypes.byref(p))
    report = take_string(p)
    check(st)
    if failure:
        raise failure[0]
    return report


def rekey(path: str, old: "Options", new: "Options") -> None:
    """Offline key rotation of an encrypted database (firkin_rekey): the data key is
    wrapped again under ``new``'s key or passphrase; the data key itself, and so every
    sealed byte, stays the same (docs/api.md, "Encryption"). BusyError while the database
    is open for writing, BadKeyError for a wrong old key."""
    check(lib.firkin_rekey(c_path(path), typed_handle(old, Options, "old", optional=False),
                           typed_handle(new, Options, "new", optional=False)))
