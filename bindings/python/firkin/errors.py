"""Typed exceptions: one class per firkin_status code, all under FirkinError.

Every failing call raises the subclass for its status (``BusyError`` for
FIRKIN_E_BUSY, ``NamespaceNotFoundError`` for FIRKIN_E_NAMESPACE_NOT_FOUND,
...), carrying ``code`` (the negative status), ``status`` (its name) and
``message`` (the library's per-thread message, e.g. a file name and offset).
A missing key is not an exception for ``get`` (it returns None) but is
``KeyError`` (and NotFoundError) for ``db[key]``.

Thread contract: the classes are immutable; error() reads the calling
thread's last error message, so it must be called on the thread, and right
after the call, that failed.
"""

import os
from typing import Any, Dict, Optional, Type

from ._native import lib

__all__ = ["STATUS", "FirkinError", "NotFoundError", "InvalidArgumentError", "IoError",
           "CorruptionError", "BusyError", "ReadOnlyError", "ConditionFailedError", "ConflictError",
           "NoSpaceError", "NoMemoryError", "TooLargeError", "BufferTooSmallError", "ClosedError",
           "VersionError", "SnapshotTooOldError", "NamespaceNotFoundError", "ExistsError",
           "NotADatabaseError", "NotSupportedError", "InternalError", "BadKeyError", "error",
           "error_class"]

#: status code -> name, as in capi/firkin.h (codes are never renumbered).
STATUS: Dict[int, str] = {
    0: "OK", -1: "NOT_FOUND", -2: "INVALID_ARGUMENT", -3: "IO", -4: "CORRUPTION", -5: "BUSY",
    -6: "READ_ONLY", -7: "CONDITION_FAILED", -8: "CONFLICT", -9: "NO_SPACE", -10: "NO_MEMORY",
    -11: "TOO_LARGE", -12: "BUFFER_TOO_SMALL", -13: "CLOSED", -14: "VERSION",
    -15: "SNAPSHOT_TOO_OLD", -16: "NAMESPACE_NOT_FOUND", -17: "EXISTS", -18: "NOT_A_DATABASE",
    -19: "NOT_SUPPORTED", -20: "INTERNAL", -21: "BAD_KEY"}


class FirkinError(Exception):
    """A failed call: ``code`` (the firkin_status), ``status`` (its name), ``message``."""

    code: int
    status: str
    message: str

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = STATUS.get(code, str(code))
        self.message = message

    def __str__(self) -> str:
        return "%s: %s" % (self.status, self.message)

    def __reduce__(self) -> Any:
        # (Exception pickles as cls(*args), and args is (message,): pickle,
        # copy and multiprocessing failed with a TypeError for every error.)
        return (type(self), (self.code, self.message))


class NotFoundError(FirkinError, KeyError):
    """FIRKIN_E_NOT_FOUND: a key or a path is absent (also a KeyError)."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep FirkinError's form
        return FirkinError.__str__(self)


class InvalidArgumentError(FirkinError, ValueError):
    """FIRKIN_E_INVALID_ARGUMENT: a bad argument (also a ValueError)."""


class IoError(FirkinError):
    """FIRKIN_E_IO: the operating system refused a read, write or sync."""


class CorruptionError(FirkinError):
    """FIRKIN_E_CORRUPTION: damaged data; the message names file and offset."""


class BusyError(FirkinError):
    """FIRKIN_E_BUSY: another writer holds the database's lock."""


class ReadOnlyError(FirkinError):
    """FIRKIN_E_READ_ONLY: a write through a read-only open."""


class ConditionFailedError(FirkinError):
    """FIRKIN_E_CONDITION_FAILED: put_if_absent or a compare-and-swap did not apply."""


class ConflictError(FirkinError):
    """FIRKIN_E_CONFLICT: a conflicting concurrent change."""


class NoSpaceError(FirkinError):
    """FIRKIN_E_NO_SPACE: the disk is full."""


class NoMemoryError(FirkinError, MemoryError):
    """FIRKIN_E_NO_MEMORY: an allocation failed (also a MemoryError)."""


class TooLargeError(FirkinError, ValueError):
    """FIRKIN_E_TOO_LARGE: a key, value or name above its limit (also a ValueError)."""


class BufferTooSmallError(FirkinError):
    """FIRKIN_E_BUFFER_TOO_SMALL: handled inside the package; not normally seen."""


class ClosedError(FirkinError):
    """FIRKIN_E_CLOSED: the handle (or its database) is closed."""


class VersionError(FirkinError):
    """FIRKIN_E_VERSION: the database was written by a newer format version."""


class SnapshotTooOldError(FirkinError):
    """FIRKIN_E_SNAPSHOT_TOO_OLD: the history a snapshot needs is no longer kept."""


class NamespaceNotFoundError(FirkinError):
    """FIRKIN_E_NAMESPACE_NOT_FOUND: the namespace does not exist or was dropped."""


class ExistsError(FirkinError):
    """FIRKIN_E_EXISTS: the namespace or database already exists."""


class NotADatabaseError(FirkinError):
    """FIRKIN_E_NOT_A_DATABASE: the path is not a Firkin database."""


class NotSupportedError(FirkinError):
    """FIRKIN_E_NOT_SUPPORTED: the operation is not supported here."""


class InternalError(FirkinError):
    """FIRKIN_E_INTERNAL: a bug in the library."""


class BadKeyError(FirkinError):
    """FIRKIN_E_BAD_KEY: an encrypted database opened without its key or with a wrong
    one, or an unencrypted one opened with a key."""


_ERRORS: Dict[int, Type[FirkinError]] = {
    -1: NotFoundError, -2: InvalidArgumentError, -3: IoError, -4: CorruptionError,
    -5: BusyError, -6: ReadOnlyError, -7: ConditionFailedError, -8: ConflictError,
    -9: NoSpaceError, -10: NoMemoryError, -11: TooLargeError, -12: BufferTooSmallError,
    -13: ClosedError, -14: VersionError, -15: SnapshotTooOldError, -16: NamespaceNotFoundError,
    -17: ExistsError, -18: NotADatabaseError, -19: NotSupportedError, -20: InternalError,
    -21: BadKeyError}


def error_class(code: int) -> Type[FirkinError]:
    """The exception class for a status code (FirkinError for an unknown one)."""
    return _ERRORS.get(code, FirkinError)


def error(code: int, message: Optional[str] = None) -> FirkinError:
    """The typed exception for a status code, with this thread's last message."""
    if message is None:
        message = (lib.firkin_last_error() or b"").decode("utf-8", "replace") or \
            (lib.firkin_strerror(code) or b"").decode("utf-8", "replace")
    return error_class(code)(code, message)


def check(st: int) -> None:
    """Raises the typed exception when a call's status is not FIRKIN_OK."""
    # ctypes makes no firkin call in between, and stays on this OS thread, so
    # firkin_last_error() still holds this call's message.
    if st != 0:
        raise error(st)


def closed(what: str) -> ClosedError:
    return ClosedError(-13, what + " is closed")


def c_text(s: Any, what: str) -> bytes:
    """A str (as UTF-8) or bytes for a NUL-terminated C string: InvalidArgumentError
    if it holds a NUL (C would cut the text there and act on the prefix)."""
    if isinstance(s, str):
        try:
            b = s.encode()
        except UnicodeEncodeError as e:  # a lone surrogate: no UTF-8 form
            raise InvalidArgumentError(-2, "firkin: %s holds a character with no UTF-8 form (%s)"
                                       % (what, e.reason)) from None
    elif isinstance(s, (bytes, bytearray, memoryview)):
        b = bytes(s)
    else:  # (bytes(3) would be three NUL bytes)
        raise TypeError("firkin: %s must be str or bytes, not %s" % (what, type(s).__name__))
    if b"\0" in b:
        raise InvalidArgumentError(-2, "firkin: %s cannot hold a NUL character" % what)
    return b


def c_path(p: Any, what: str = "a path") -> bytes:
    """os.fsencode(p) for C, refused (InvalidArgumentError) if it holds a NUL."""
    return c_text(os.fsencode(p), what)
