"""The calls in flight on a DB's C handle, so that close() never frees it
under one of them.

ctypes and the accelerator release the GIL during a C call, so another
thread's close() could free the handle while a call used it: a SIGSEGV
before the review of 2026-11-29 (tests/test_lifetime.py). Now DB.handle()
gives a Use (a reference to the DB's Gate, not the pointer), and every C
function that takes the database (DB_FIRST) is wrapped here: the wrapper
enters the gate (``calls.append``, atomic under the GIL), refuses a closed
one with ClosedError without reaching C, makes the call with the pointer,
and leaves (``calls.pop``). close() sets ``closed``; the handle is freed by
whoever sees no call in flight once closed: close() itself (raising the
final flush's error) or else the last call out (the error is then lost).
close() never waits, so a close from inside a call (a transaction's
function, a progress callback) cannot hang. A Use kept alive (in a frame
held by a traceback) holds nothing: only a call in C holds the gate.
"""

from typing import Any, Callable, List

from ._native import fast_get as _raw_fast_get, fast_put as _raw_fast_put, lib
from .errors import check, closed


class Gate:
    """One DB's C handle and its calls in flight (see the module)."""

    __slots__ = ("h", "calls", "closed", "_open", "_unfreed")

    def __init__(self, h: int) -> None:
        self.h = h
        self.calls: List[None] = []
        self.closed = False
        self._open = [None]     # popped once, by close()
        self._unfreed = [None]  # popped once, by the free

    def close(self) -> None:
        try:
            self._open.pop()
        except IndexError:
            return  # closed before
        self.closed = True
        if not self.calls:
            self.free(True)

    def free(self, report: bool) -> None:
        try:
            self._unfreed.pop()
        except IndexError:
            return  # freed by another thread
        st = lib.firkin_close(self.h)
        if report:
            check(st)


class Use:
    """What DB.handle() returns: the DB's gate, passed to the wrapped C
    functions as their database argument (not a pointer: passed to a C
    function that is not wrapped, ctypes refuses it)."""

    __slots__ = ("gate",)

    def __init__(self, gate: Gate) -> None:
        self.gate = gate


def _gated(f: Callable[..., Any]) -> Callable[..., Any]:
    def call(db: Any, *args: Any) -> Any:
        if type(db) is not Use:
            return f(db, *args)  # (None: refused by C as a NULL database)
        g = db.gate
        calls = g.calls
        calls.append(None)  # (Gate.enter and leave, inline)
        try:
            if g.closed:
                raise closed("database")
            return f(g.h, *args)
        finally:
            calls.pop()
            if g.closed and not calls:
                g.free(False)
    call.__name__ = getattr(f, "__name__", "firkin_call")
    return call


#: The C functions whose first argument is the database (firkin_db *), every
#: one the package declares but firkin_close (the gate's own free).
DB_FIRST = (
    "firkin_backup firkin_cas firkin_cas_version firkin_changes_oldest_seq firkin_changes_open "
    "firkin_checkpoint firkin_compact firkin_compact_v2 firkin_contains firkin_count "
    "firkin_delete firkin_get firkin_get_into firkin_get_version firkin_history_new "
    "firkin_iter_new firkin_last_seq firkin_multi_get firkin_multi_get_packed firkin_now_ms "
    "firkin_ns_create firkin_ns_create_v2 firkin_ns_drop firkin_ns_list firkin_ns_open "
    "firkin_persist firkin_prefix_iter_new firkin_put firkin_put_expire_at firkin_put_if_absent "
    "firkin_put_ttl firkin_range_iter_new firkin_refresh firkin_snapshot_at "
    "firkin_snapshot_at_time firkin_snapshot_new firkin_stats firkin_sync firkin_ttl "
    "firkin_txn_begin firkin_verify firkin_verify_v2 firkin_write").split()

for _name in DB_FIRST:
    setattr(lib, _name, _gated(getattr(lib, _name)))

raw_fast_get: Any = _raw_fast_get


def _gated6(f: Callable[..., Any]) -> Callable[..., Any]:
    """_gated for the accelerator's six-argument calls (no *args: the hot path)."""
    def call(db: Any, a: Any, b: Any, c: Any, d: Any, e: Any) -> Any:
        if type(db) is not Use:
            return f(db, a, b, c, d, e)
        g = db.gate
        calls = g.calls
        calls.append(None)
        try:
            if g.closed:
                raise closed("database")
            return f(g.h, a, b, c, d, e)
        finally:
            calls.pop()
            if g.closed and not calls:
                g.free(False)
    return call


#: The accelerator's get and put through the gate (None without it).
fast_get: Any = None if _raw_fast_get is None else _gated6(_raw_fast_get)
fast_put: Any = None if _raw_fast_put is None else _gated6(_raw_fast_put)
