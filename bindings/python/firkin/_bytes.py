"""Passing bytes-like arguments (bytes, bytearray, memoryview, any buffer) to C.

Thread contract: pure functions; the returned object must be kept alive
(it owns or pins the buffer) until the C call that uses it has returned.
"""

import ctypes
from typing import Any, Tuple, Union

#: What the package accepts for a key or value.
BytesLike = Union[bytes, bytearray, memoryview]


def as_buf(x: Any, what: str = "key") -> Tuple[Any, int]:
    """(an object ctypes passes as a void*, its length in bytes).

    bytes pass as they are; a writable buffer (bytearray, writable memoryview)
    is passed in place, without a copy; a read-only or non-contiguous one is
    copied once. str is refused: keys and values are bytes (encode first)."""
    if isinstance(x, bytes):
        return x, len(x)
    if isinstance(x, str):
        raise TypeError("firkin: %s must be bytes-like (bytes, bytearray, memoryview), not str; "
                        "encode it first" % what)
    try:
        m = memoryview(x)
    except TypeError:
        raise TypeError("firkin: %s must be bytes-like (bytes, bytearray, memoryview), not %s"
                        % (what, type(x).__name__)) from None
    n = m.nbytes
    if n == 0:
        return None, 0
    if m.readonly or not m.c_contiguous:
        return m.tobytes(), n
    return (ctypes.c_char * n).from_buffer(m), n


def to_bytes(x: Any, what: str = "key") -> bytes:
    """x as bytes (a copy unless it is bytes already); the same checks as as_buf."""
    b, n = as_buf(x, what)
    if isinstance(b, bytes):
        return b
    return b"" if n == 0 else bytes(b)
