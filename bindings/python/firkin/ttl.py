"""TTL and time travel by clock time: time conversions and key history.

Times cross to the library as milliseconds since the epoch on the database
clock (DB.now_ms). A TTL is a ``datetime.timedelta`` or a number of seconds;
an absolute time is an aware ``datetime`` (a naive one is local time, as
``datetime.timestamp`` reads it) or a number of seconds since the epoch, as
``time.time()`` gives.

Times and TTLs are never wrapped into the library's uint64_t: one beyond
2**64 - 1 ms (about 584 million years) saturates to 2**64 - 1, the expiry the
library itself gives when commit time + TTL overflows (core/db/write_batch.h),
so such a key never expires in practice. An absolute expiry at or before the
epoch is already past: it is sent as 1 ms (the smallest the library accepts,
which refuses 0), so the key is written and reads as absent at once, like
any past time.

Thread contract: pure functions, and KeyVersion / History values that are
plain copies (no native resource); read_history makes and frees its native
iterator within the call.
"""

import ctypes
import datetime
import math
from typing import Any, List, NamedTuple, Optional, Union

from ._bytes import BytesLike, as_buf
from ._native import MAX_U64, H, c_size_t, c_void_p, lib
from .errors import check

#: What the TTL arguments accept.
Seconds = Union[int, float, datetime.timedelta]
#: What the absolute-time arguments accept.
TimeLike = Union[int, float, datetime.datetime]

_UTC = datetime.timezone.utc


def ttl_ms(ttl: Seconds) -> int:
    """A TTL in whole ms, a positive one rounded up (1 µs is 1 ms, never 0)
    and saturating at 2**64 - 1; zero or negative gives 0, which the library
    rejects (InvalidArgumentError)."""
    if isinstance(ttl, datetime.timedelta):
        us = ttl // datetime.timedelta(microseconds=1)  # exact
    elif isinstance(ttl, int) and not isinstance(ttl, bool):
        us = ttl * 1000000
    elif isinstance(ttl, float):
        if not ttl > 0:  # also NaN
            return 0
        if math.isinf(ttl) or ttl > 2**53:
            return MAX_U64
        # to whole µs first: 1.234 s is 1234 ms, not 1235; but at least 1 µs,
        # as a positive TTL below 0.5 µs rounds to 0 µs, which would be refused
        us = max(round(ttl * 1000000), 1)
    else:
        raise TypeError("firkin: ttl must be a number of seconds or a timedelta, not %s"
                        % type(ttl).__name__)
    if us <= 0:
        return 0
    return min(-(-us // 1000), MAX_U64)


def unix_ms(at: TimeLike) -> int:
    """An absolute time in whole ms since the epoch (negative before it), not
    bounded (expiry_ms and time_ms bound it for the library)."""
    if isinstance(at, datetime.datetime):
        s = at.timestamp()
    elif isinstance(at, int) and not isinstance(at, bool):
        return at * 1000  # exact, also beyond a float's 53 bits
    elif isinstance(at, float):
        s = at
    else:
        raise TypeError("firkin: a time must be a datetime or seconds since the epoch, not %s"
                        % type(at).__name__)
    if math.isnan(s):
        raise ValueError("firkin: time is NaN")
    if math.isinf(s):
        return MAX_U64 if s > 0 else -1
    return int(round(s * 1000))


def expiry_ms(at: TimeLike) -> int:
    """An absolute expiry for firkin_put_expire_at: unix_ms(at) in [1, 2**64 - 1].
    A time at or before the epoch becomes 1 ms (already past: the key reads
    as absent at once, as the library does for any past time; it refuses
    0); one beyond 2**64 - 1 ms saturates (never expires in practice)."""
    return min(max(unix_ms(at), 1), MAX_U64)


def time_ms(at: TimeLike) -> int:
    """A time for firkin_snapshot_at_time: unix_ms(at) in [0, 2**64 - 1] (before
    the epoch is 0, before any write; beyond 2**64 - 1 ms, the latest state)."""
    return min(max(unix_ms(at), 0), MAX_U64)


def to_datetime(ms: int) -> Optional[datetime.datetime]:
    """A library time as an aware UTC datetime; None for 0 (unknown / none)."""
    if ms == 0:
        return None
    try:
        return datetime.datetime.fromtimestamp(ms / 1000.0, _UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.datetime.max.replace(tzinfo=_UTC)


class KeyVersion(NamedTuple):
    """One version of a key (a put or a delete)."""

    seq: int  #: the write's sequence number (what version() reports)
    time_ms: int  #: commit time in ms since the epoch; 0 if unknown (before format 3)
    expiry_ms: int  #: absolute expiry in ms since the epoch; 0 if none
    deleted: bool  #: a delete (value is then None)
    value: Optional[bytes]

    @property
    def time(self) -> Optional[datetime.datetime]:
        """The commit time (aware, UTC); None if unknown."""
        return to_datetime(self.time_ms)

    @property
    def expiry(self) -> Optional[datetime.datetime]:
        """The absolute expiry (aware, UTC); None if none."""
        return to_datetime(self.expiry_ms)


class History(List[KeyVersion]):
    """The versions of one key, newest first: a list of KeyVersion, and
    ``truncated``, whether older versions existed but were compacted away."""

    truncated: bool = False


def read_history(db: Any, ns: Any, key: BytesLike) -> History:
    """firkin_history_new and the whole loop, the values copied."""
    k, kl = as_buf(key)
    h = H()
    check(lib.firkin_history_new(db, ns, k, kl, ctypes.byref(h)))
    out = History()
    try:
        p = c_void_p()
        n = c_size_t()
        while lib.firkin_history_valid(h):
            deleted = bool(lib.firkin_history_is_delete(h))
            value = None
            if not deleted:
                check(lib.firkin_history_value(h, ctypes.byref(p), ctypes.byref(n)))
                value = ctypes.string_at(p, n.value) if n.value else b""
            out.append(KeyVersion(lib.firkin_history_seq(h), lib.firkin_history_time(h),
                                  lib.firkin_history_expiry(h), deleted, value))
            lib.firkin_history_next(h)
        out.truncated = bool(lib.firkin_history_truncated(h))
    finally:
        lib.firkin_history_free(h)
    return out
