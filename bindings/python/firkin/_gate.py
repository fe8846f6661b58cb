"""The calls in flight on a C handle that another thread may close (a DB, a
Namespace, a Snapshot, an Iterator, a Batch, a Changes cursor, a
Transaction, and the settings objects Options, WriteOptions and
BackupOptions), so that close() never frees it under one of them.

ctypes and the accelerator release the GIL during a C call, so another
thread's close() could free the handle while a call used it: a SIGSEGV
before the review of 2026-11-29 (tests/test_lifetime.py). Now handle() of
those classes gives a Use (a reference to the object's Gate, not the
pointer), and every C function that takes one of them (GATED: the argument
positions, from capi/firkin.h) is wrapped here: the wrapper enters each
gate passed (``calls.append``, atomic under the GIL), refuses a closed one
with ClosedError without reaching C, makes the call with the pointers, and
leaves the gates it entered (``calls.pop``). close() sets ``closed``; the
handle is freed by whoever sees no call in flight once closed: close()
itself (raising the final flush's error for a DB) or else the last call out
(the error is then lost). close() never waits, so a close from inside a
call (a transaction's function, a progress callback) cannot hang. A Use
kept alive (in a frame that a traceback holds) holds nothing: only a call
in C holds the gate.

The accelerator's get and put (_firkin_speedups.c) take the Gate or Use
itself, with no wrapper here: with the accelerator, Gate's fields (h,
closed, calls) and Use are its C types GateBase and Use, which it reads
directly. Its get holds the GIL from reading ``closed`` to the end of the C
call (close() needs the GIL: it runs wholly before or after), so it counts
nothing; its put releases the GIL and so appends to ``calls`` before and
pops after, in C, freeing the handle if it was the last call out of a
closed gate. Without the accelerator (or FIRKIN_PY_SPEEDUPS=0) the same
fields are plain Python classes and every call goes through the wrappers.
"""

from typing import Any, Callable, Dict, List, Tuple

from ._native import DECLARED, fast_get as _raw_fast_get, fast_put as _raw_fast_put, lib, speedups
from .errors import check, closed


class _PyGateBase:
    """The fields of a Gate: the C handle, closed, and the calls in flight (a
    list of None). With the accelerator, its GateBase (a C type with the
    same fields, which its get and put read without a Python-level wrapper)."""

    __slots__ = ("h", "closed", "calls")


class _PyUse:
    """What handle() of a DB, Namespace or Snapshot returns: its gate,
    passed to the wrapped C functions in place of the pointer (passed to a
    C function that is not wrapped, ctypes refuses it). With the
    accelerator, its Use (a C type that its get and put take)."""

    __slots__ = ("gate",)

    def __init__(self, gate: "Gate") -> None:
        self.gate = gate


_GateBase: Any = _PyGateBase if speedups is None else speedups.GateBase
Use: Any = _PyUse if speedups is None else speedups.Use


class Gate(_GateBase):  # type: ignore[misc, valid-type]
    """One C handle and its calls in flight (see the module)."""

    __slots__ = ("what", "_release", "_open", "_unfreed")

    def __init__(self, h: int, what: str, release: Callable[[int], Any]) -> None:
        self.h = h
        self.what = what
        self.calls: List[None] = []
        self.closed = False
        self._release = release  # the C free: firkin_close, firkin_ns_close, ...
        self._open = [None]      # popped once, by close()
        self._unfreed = [None]   # popped once, by the free

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
        st = self._release(self.h)
        if report and st is not None:
            check(st)


def _gated_first(f: Callable[..., Any]) -> Callable[..., Any]:
    """The wrapper of a function whose only gated argument is the first."""
    def call(h: Any, *args: Any) -> Any:
        if type(h) is not Use:
            return f(h, *args)  # (None: refused by C as a NULL handle)
        g = h.gate
        calls = g.calls
        calls.append(None)  # (enter and leave inline: the hot path)
        try:
            if g.closed:
                raise closed(g.what)
            return f(g.h, *args)
        finally:
            calls.pop()
            if g.closed and not calls:
                g.free(False)
    return call


def _gated(f: Callable[..., Any], pos: Tuple[int, ...]) -> Callable[..., Any]:
    """The wrapper of a function with gated arguments at positions pos."""
    def call(*args: Any) -> Any:
        entered: List[Gate] = []
        try:
            a = list(args)
            for i in pos:
                u = a[i]
                if type(u) is Use:
                    g = u.gate
                    g.calls.append(None)
                    entered.append(g)
                    if g.closed:
                        raise closed(g.what)
                    a[i] = g.h
            return f(*a)
        finally:
            for g in entered:
                g.calls.pop()
                if g.closed and not g.calls:
                    g.free(False)
    return call


def _wrap(f: Callable[..., Any], pos: Tuple[int, ...]) -> Callable[..., Any]:
    first = _gated_first(f)
    if pos == (0,):
        return first
    general = _gated(f, pos)
    if pos[0] != 0:
        return general
    rest = pos[1:]

    def call(*args: Any) -> Any:
        # Most calls pass no namespace or snapshot (None: the default
        # namespace, the latest state): then only the database is gated.
        for i in rest:
            if type(args[i]) is Use:
                return general(*args)
        return first(*args)
    return call


#: The C functions the package declares that take a gated handle (a
#: database, namespace, snapshot, iterator, batch, change cursor,
#: transaction, or a settings object: below), and those arguments' positions (from capi/firkin.h; their
#: frees, firkin_close, firkin_ns_close, ..., are the gates' own and take
#: the pointer).
GATED: Dict[str, Tuple[int, ...]] = {
    "firkin_backup": (0, 1),
    "firkin_batch_clear": (0,),
    "firkin_batch_count": (0,),
    "firkin_batch_delete": (0, 1),
    "firkin_batch_put": (0, 1),
    "firkin_batch_put_ttl": (0, 1),
    "firkin_cas": (0, 1, 2),
    "firkin_cas_version": (0, 1, 2),
    "firkin_changes_key": (0,),
    "firkin_changes_namespace": (0,),
    "firkin_changes_next": (0,),
    "firkin_changes_next_n": (0,),
    "firkin_changes_oldest_seq": (0,),
    "firkin_changes_open": (0,),
    "firkin_changes_position": (0,),
    "firkin_changes_seq": (0,),
    "firkin_changes_status": (0,),
    "firkin_changes_type": (0,),
    "firkin_changes_valid": (0,),
    "firkin_changes_value": (0,),
    "firkin_changes_wait": (0,),
    "firkin_checkpoint": (0,),
    "firkin_compact": (0,),
    "firkin_compact_v2": (0,),
    "firkin_contains": (0, 1, 2),
    "firkin_count": (0, 1),
    "firkin_delete": (0, 1, 2),
    "firkin_get": (0, 1, 2),
    "firkin_get_into": (0, 1, 2),
    "firkin_get_version": (0, 1, 2),
    "firkin_history_new": (0, 1),
    "firkin_iter_is_ordered": (0,),
    "firkin_iter_key": (0,),
    "firkin_iter_new": (0, 1, 2),
    "firkin_iter_next": (0,),
    "firkin_iter_next_n": (0,),
    "firkin_iter_seek": (0,),
    "firkin_iter_status": (0,),
    "firkin_iter_valid": (0,),
    "firkin_iter_value": (0,),
    "firkin_last_seq": (0,),
    "firkin_multi_get": (0, 1, 2),
    "firkin_multi_get_packed": (0, 1, 2),
    "firkin_now_ms": (0,),
    "firkin_ns_create": (0,),
    "firkin_ns_create_v2": (0,),
    "firkin_ns_drop": (0,),
    "firkin_ns_flags": (0,),
    "firkin_ns_list": (0,),
    "firkin_ns_name": (0,),
    "firkin_ns_open": (0,),
    "firkin_persist": (0, 1, 2),
    "firkin_prefix_iter_new": (0, 1, 2),
    "firkin_put": (0, 1, 2),
    "firkin_put_expire_at": (0, 1, 2),
    "firkin_put_if_absent": (0, 1, 2),
    "firkin_put_ttl": (0, 1, 2),
    "firkin_range_iter_new": (0, 1, 2),
    "firkin_refresh": (0,),
    "firkin_snapshot_at": (0,),
    "firkin_snapshot_at_time": (0,),
    "firkin_snapshot_new": (0,),
    "firkin_snapshot_seq": (0,),
    "firkin_stats": (0,),
    "firkin_sync": (0,),
    "firkin_ttl": (0, 1, 2),
    "firkin_txn_begin": (0,),
    "firkin_txn_cas": (0, 1),
    "firkin_txn_commit": (0, 1),
    "firkin_txn_contains": (0, 1),
    "firkin_txn_delete": (0, 1),
    "firkin_txn_get": (0, 1),
    "firkin_txn_iter_new": (0, 1),
    "firkin_txn_prefix_iter_new": (0, 1),
    "firkin_txn_put": (0, 1),
    "firkin_txn_put_expire_at": (0, 1),
    "firkin_txn_put_ttl": (0, 1),
    "firkin_txn_range_iter_new": (0, 1),
    "firkin_txn_rollback": (0,),
    "firkin_txn_snapshot_seq": (0,),
    "firkin_verify": (0,),
    "firkin_verify_v2": (0,),
    "firkin_write": (0, 1, 2),
}

# The calls that take a settings object (Options, WriteOptions,
# BackupOptions) other than first; the write options above (position 1).
GATED.update({
    "firkin_open": (1,),
    "firkin_rekey": (1, 2),
    "firkin_restore": (1,),
    "firkin_verify_path": (1,),
    "firkin_verify_path_v2": (1,),
})
# And every function of the settings objects themselves, which take them
# first (all those declared, but _new and _free). Before 2026-11-29 these
# handles had no gate: a close() in another thread freed the C object under
# a call (tests/test_lifetime.py, test_close_*options_while_in_use).
for _name in DECLARED:
    if _name.startswith(("firkin_options_", "firkin_write_options_", "firkin_backup_options_")) \
            and not _name.endswith(("_new", "_free")):
        GATED.setdefault(_name, (0,))

for _name, _pos in GATED.items():
    setattr(lib, _name, _wrap(getattr(lib, _name), _pos))

#: The accelerator's get(db, snap, ns, key, default, slow) and put(db, wo,
#: ns, key, value, slow), None without it. They take the Gates and Uses
#: themselves (C types then): get reads each gate's pointer and closed flag
#: under the GIL, which it holds to the end of the C call; put enters and
#: leaves the gates in C around the call with the GIL released. A closed
#: gate gives `slow`: the package's ctypes path then raises ClosedError.
fast_get: Any = _raw_fast_get
fast_put: Any = _raw_fast_put
