"""Optimistic transactions (firkin_txn): Transaction, Isolation, run_transaction.

    with db.transaction() as tx:          # snapshot isolation (the default)
        n = int(tx.get(b"n") or b"0")
        tx.put(b"n", b"%d" % (n + 1))     # commits when the block ends normally,
                                          # rolls back when it raises
    db.update(lambda tx: tx.put(b"k", b"v"))   # begins, runs, commits, retries on conflict

Thread contract (as in capi/firkin.h): a Transaction is used by one thread
at a time; any number of transactions may be open at once, in any threads.
An open transaction pins the history its snapshot reads until it is
committed, rolled back or closed.
"""

import ctypes
import enum
from typing import Any, Callable, Iterator as TIterator, Optional, Tuple, TypeVar, Union

from ._bytes import BytesLike, as_buf, to_bytes
from ._native import H, c_bool, c_size_t, c_uint64, c_void_p, i32, lib
from .errors import ConflictError, NotFoundError, check
from .handles import (GatedHandle, ITER_REVERSE, Iterator, NamespaceHandle, WriteOptions, bound, ns_handle,
                      ordered_args, pairs, wants_order, wo_handle)
from .ttl import Seconds, TimeLike, expiry_ms, ttl_ms

T = TypeVar("T")


class Isolation(enum.IntEnum):
    """Isolation level of a transaction (firkin_isolation)."""

    #: Reads see the snapshot taken at begin plus the transaction's own writes;
    #: commit raises ConflictError if a key it writes changed since. Write skew
    #: is possible.
    SNAPSHOT = 0
    #: In addition every key it read (absent ones included) and every
    #: namespace it iterated must be unchanged at commit.
    SERIALIZABLE = 1


IsolationLike = Union[Isolation, str, int]


def _isolation(iso: IsolationLike) -> int:
    if isinstance(iso, str):
        try:
            return int(Isolation[iso.upper()])
        except KeyError:
            raise ValueError("firkin: unknown isolation %r (snapshot or serializable)"
                             % (iso,)) from None
    return i32(iso, "isolation")


class TxnIterator(Iterator):
    """An Iterator over a namespace as a transaction sees it when made: its
    snapshot's entries, minus the keys it wrote, then its own puts."""

    _what = "transaction iterator"

    def __init__(self, txn: Any, ns: Any, start: Any = None, end: Any = None, *,  # pylint: disable=super-init-not-called
                 prefix: Any = None, reverse: bool = False, ordered: Optional[bool] = None) -> None:
        h = H()
        flags = ITER_REVERSE if reverse else 0
        if not wants_order(start, end, prefix, reverse, ordered):
            check(lib.firkin_txn_iter_new(txn, ns, ctypes.byref(h)))
        elif prefix is not None:
            ordered_args(start, end, prefix)
            p, pl = bound(prefix, "prefix")
            check(lib.firkin_txn_prefix_iter_new(txn, ns, p, pl, flags, ctypes.byref(h)))
        else:
            (s, sl), (e, el) = bound(start, "start"), bound(end, "end")
            check(lib.firkin_txn_range_iter_new(txn, ns, s, sl, e, el, flags, ctypes.byref(h)))
        self._take(h.value)
        self._buf = ctypes.create_string_buffer(64 * 1024)
        self._data, self._off = b"", 0
        self._failure = None


class Transaction(GatedHandle):
    """An optimistic transaction (firkin_txn), made by ``DB.transaction()``.

    Reads see its snapshot plus its own writes (across namespaces: every
    method takes ``ns=``, a Namespace, the default namespace when None);
    writes are buffered until ``commit()``, which applies them as one atomic
    unit or raises ConflictError (nothing applied). Once committed, rolled
    back, or after a failed commit, the transaction is finished: further
    calls raise InvalidArgumentError (begin a new one to retry).

    As a context manager it commits when the block ends normally (unless
    already finished) and rolls back when it raises; ``close()`` frees it
    (rolling back if still open)."""

    _free = staticmethod(lib.firkin_txn_free)
    _what = "transaction"

    def __init__(self, db: Any, isolation: IsolationLike = Isolation.SNAPSHOT,
                 wo: Optional[WriteOptions] = None) -> None:
        iso = _isolation(isolation)
        h = H()
        check(lib.firkin_txn_begin(db.handle(), iso, ctypes.byref(h)))
        self._take(h.value)
        self.db = db
        self.isolation = Isolation(iso)
        self._wo = wo
        self._done = False
        #: the commit's sequence number once committed, else None
        self.commit_seq: Optional[int] = None

    @property
    def snapshot_seq(self) -> int:
        """The sequence number of the transaction's snapshot."""
        return int(lib.firkin_txn_snapshot_seq(self.handle()))

    @property
    def finished(self) -> bool:
        """True once committed, rolled back, or its commit failed."""
        return self._done

    def get(self, key: BytesLike, default: Optional[bytes] = None, ns: Any = None) -> Optional[bytes]:
        """The value of key as the transaction sees it, or default (None) if absent."""
        if isinstance(default, NamespaceHandle):
            # (tx.get(k, users) read the default namespace and returned the
            # Namespace when the key was absent: contains and put take ns second.)
            raise TypeError("firkin: get's second argument is the default value; pass the "
                            "namespace as ns=")
        k, kl = as_buf(key)
        p, n = c_void_p(), c_size_t()
        st = lib.firkin_txn_get(self.handle(), ns_handle(ns), k, kl, ctypes.byref(p),
                                ctypes.byref(n))
        if st == -1:
            return default
        check(st)
        try:
            return ctypes.string_at(p.value, n.value) if n.value else b""
        finally:
            lib.firkin_free(p)

    def __getitem__(self, key: BytesLike) -> bytes:
        """tx[key]: the value; KeyError (a NotFoundError) if absent."""
        v = self.get(key)
        if v is None:
            raise NotFoundError(-1, "key not found: %r" % (to_bytes(key),))
        return v

    def contains(self, key: BytesLike, ns: Any = None) -> bool:
        """Whether key has a value as the transaction sees it (a read)."""
        k, kl = as_buf(key)
        f = c_bool()
        check(lib.firkin_txn_contains(self.handle(), ns_handle(ns), k, kl, ctypes.byref(f)))
        return f.value

    def __contains__(self, key: object) -> bool:
        """``key in tx``: whether key has a value as the transaction sees it
        (non-bytes keys are never present), as ``key in db``."""
        if isinstance(key, str):
            return False
        try:
            return self.contains(key)  # type: ignore[arg-type]
        except TypeError:
            return False

    def put(self, key: BytesLike, value: BytesLike, ns: Any = None, *,
            ttl: Optional[Seconds] = None, expire_at: Optional[TimeLike] = None) -> None:
        """Buffers key=value (applied at commit). ``ttl`` / ``expire_at`` as in
        DB.put: the key expires that long after the commit's time, or at that
        time (a time already past, the epoch or before included, reads as
        absent, in the transaction too; beyond 2**64 - 1 ms saturates)."""
        k, kl = as_buf(key)
        v, vl = as_buf(value, "value")
        if ttl is not None and expire_at is not None:
            raise ValueError("firkin: give ttl or expire_at, not both")
        if ttl is not None:
            check(lib.firkin_txn_put_ttl(self.handle(), ns_handle(ns), k, kl, v, vl, ttl_ms(ttl)))
        elif expire_at is not None:
            check(lib.firkin_txn_put_expire_at(self.handle(), ns_handle(ns), k, kl, v, vl,
                                               expiry_ms(expire_at)))
        else:
            check(lib.firkin_txn_put(self.handle(), ns_handle(ns), k, kl, v, vl))

    def __setitem__(self, key: BytesLike, value: BytesLike) -> None:
        self.put(key, value)

    def delete(self, key: BytesLike, ns: Any = None) -> None:
        """Buffers the removal of key (an absent key is not an error)."""
        k, kl = as_buf(key)
        check(lib.firkin_txn_delete(self.handle(), ns_handle(ns), k, kl))

    def __delitem__(self, key: BytesLike) -> None:
        self.delete(key)

    def cas(self, key: BytesLike, expected: BytesLike, value: BytesLike, ns: Any = None) -> bool:
        """Buffers key=value if the transaction sees expected there; False (and
        nothing buffered) otherwise. A change by others after the snapshot makes
        the commit raise ConflictError."""
        k, kl = as_buf(key)
        e, el = as_buf(expected, "expected")
        v, vl = as_buf(value, "value")
        st = lib.firkin_txn_cas(self.handle(), ns_handle(ns), k, kl, e, el, v, vl)
        if st == -7:
            return False
        check(st)
        return True

    def iterate(self, ns: Any = None, start: Any = None, end: Any = None, *, prefix: Any = None,
                reverse: bool = False, ordered: Optional[bool] = None) -> TxnIterator:
        """An iterator of (key, value) pairs of ns as the transaction sees it
        now, its own uncommitted writes included (close it, or use ``with``).
        Unordered by default; with start/end (start <= key < end, None or
        b"" = unbounded), prefix, reverse=True or ordered=True it is an
        ordered iterator of an ordered namespace (InvalidArgumentError on
        another). Serializable: any write to ns committed by others after
        the snapshot makes the commit conflict."""
        return TxnIterator(self.handle(), ns_handle(ns), start, end, prefix=prefix,
                           reverse=reverse, ordered=ordered)

    def items(self, ns: Any = None, start: Any = None, end: Any = None,
              **kw: Any) -> TIterator[Tuple[bytes, bytes]]:
        """Every (key, value) pair of ns once as the transaction sees it
        (unordered, or in order with iterate()'s keyword arguments)."""
        return pairs(lambda: self.iterate(ns, start, end, **kw))

    def keys(self, ns: Any = None, start: Any = None, end: Any = None,
             **kw: Any) -> TIterator[bytes]:
        """Every key of ns once (as items())."""
        return (k for k, _ in self.items(ns, start, end, **kw))

    def __iter__(self) -> TIterator[bytes]:
        return self.keys()

    def commit(self, wo: Optional[WriteOptions] = None) -> int:
        """Validates and applies the writes atomically; returns the commit's
        sequence number (the snapshot's when nothing was written). Raises
        ConflictError (its message names the first conflicting namespace and
        key) and nothing is applied. Finishes the transaction either way."""
        seq = c_uint64()
        h = self.handle()
        st = lib.firkin_txn_commit(h, wo_handle(wo if wo is not None else self._wo),
                                   ctypes.byref(seq))
        self._done = True  # finished whatever the outcome (firkin_txn_commit)
        check(st)
        self.commit_seq = seq.value
        return seq.value

    def rollback(self) -> None:
        """Discards the buffered writes and releases the snapshot.
        InvalidArgumentError if already finished."""
        check(lib.firkin_txn_rollback(self.handle()))
        self._done = True

    def __enter__(self) -> "Transaction":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        try:
            if self._h is not None and not self._done:
                if exc_type is None:
                    self.commit()
                else:
                    self.rollback()
        finally:
            self.close()


def run_transaction(db: Any, fn: Callable[[Transaction], T],
                    isolation: IsolationLike = Isolation.SNAPSHOT, attempts: int = 10,
                    wo: Optional[WriteOptions] = None) -> T:
    """Runs fn(tx) in a new transaction and commits it; on ConflictError
    begins again and reruns fn, at most ``attempts`` times in all (then the
    last ConflictError is raised). Any other exception from fn rolls back and
    propagates. Returns fn's result. fn must have no effects outside the
    transaction that are unsafe to repeat."""
    if attempts < 1:
        raise ValueError("firkin: attempts must be at least 1")
    for attempt in range(attempts):
        with Transaction(db, isolation, wo) as tx:
            result = fn(tx)
            if tx.finished:  # fn committed or rolled back itself
                return result
            try:
                tx.commit()
            except ConflictError:
                if attempt + 1 == attempts:
                    raise
                continue
            return result
    raise AssertionError("unreachable")
