"""Online backup and restore (firkin_backup, firkin_restore).

    with firkin.DB(path) as db:
        report = db.backup("/backups/app")          # a dict: seq, segments, linked, ...
        report = db.backup("/backups/app", progress=lambda done, total: ...)
    firkin.restore("/backups/app", "/var/lib/app-restored")

A backup is a copy of the database as of one snapshot (``report["seq"]``),
taken while other threads keep writing; it is a database of its own
(``firkin.DB(backup_dir)`` opens it). Backing up into an earlier backup of
the same database copies only what is new. Until a backup is complete its
directory holds a ``BACKUP-INCOMPLETE`` marker and opening it raises
NotADatabaseError.
"""

import ctypes
import json
import os
from typing import Any, Callable, Dict, Optional, Union

from ._native import H, PROGRESS_FN, c_void_p, lib, take_string
from .errors import ClosedError, c_path, c_text, check
from .handles import GatedHandle, _new

PathLike = Union[str, bytes, "os.PathLike[str]"]
Progress = Callable[[int, int], None]


class BackupOptions(GatedHandle):
    """Settings of a backup or restore (firkin_backup_options), set by name:
    ``BackupOptions(incremental=False, verify=True, hard_links=False,
    checkpoint=True)``; every option is on by default.

    Thread contract: as Options. Set them from one thread at a time (a
    progress= argument sets one for the call); once set, the same
    BackupOptions may be passed to backups from many threads, and close() may
    run while one is in flight (the last call out frees the C object; before
    2026-11-29 a close() racing a backup freed it under the backup)."""

    _free = staticmethod(lib.firkin_backup_options_free)
    _what = "backup options"

    def __init__(self, **settings: Union[str, bool]) -> None:
        self._take(_new(lib.firkin_backup_options_new))
        for k, v in settings.items():
            self.set(k, v)

    def set(self, name: str, value: Union[str, bool]) -> "BackupOptions":
        """Sets one option ("incremental", "verify", "hard_links", "checkpoint")."""
        if isinstance(value, bool):
            value = "true" if value else "false"
        check(lib.firkin_backup_options_set(self.handle(), c_text(name, "an option name"),
                                            c_text(str(value), "an option value")))
        return self

    def get(self, name: str) -> str:
        """One option's value, "true" or "false"."""
        p = c_void_p()
        check(lib.firkin_backup_options_get(self.handle(), c_text(name, "an option name"),
                                            ctypes.byref(p)))
        return take_string(p)


def _run(call: Callable[[Any, Any], int], options: Optional[BackupOptions],
         progress: Optional[Progress], settings: Dict[str, Union[str, bool]]) -> Dict[str, Any]:
    own = options is None
    if not own and not isinstance(options, BackupOptions):
        raise TypeError("firkin: options must be a BackupOptions or None, not %s"
                        % type(options).__name__)
    opts = BackupOptions(**settings) if own else options
    assert opts is not None
    if not own:
        for k, v in settings.items():
            opts.set(k, v)
    failure = []

    def on_progress(_ctx: Any, done: int, total: int) -> None:
        try:
            if progress is not None:
                progress(done, total)
        except BaseException as e:  # re-raised after the call: the C side cannot stop
            if not failure:
                failure.append(e)

    cb = PROGRESS_FN(on_progress)  # alive until the call returns
    try:
        if progress is not None:
            check(lib.firkin_backup_options_set_progress(opts.handle(), cb, None))
        p = c_void_p()
        st = call(opts.handle(), ctypes.byref(p))
        report = take_string(p)
        check(st)
    finally:
        if progress is not None and not opts.closed:
            try:
                lib.firkin_backup_options_set_progress(opts.handle(), PROGRESS_FN(), None)
            except ClosedError:
                pass  # closed by another thread meanwhile: freed with it
        if own:
            opts.close()
    if failure:
        raise failure[0]
    result: Dict[str, Any] = json.loads(report)
    return result


def backup(db: Any, dest: PathLike, options: Optional[BackupOptions] = None, *,
           progress: Optional[Progress] = None, **settings: Union[str, bool]) -> Dict[str, Any]:
    """firkin_backup of db into dest; see DB.backup."""
    h = db.handle()
    d = c_path(dest, "a backup path")
    return _run(lambda o, out: lib.firkin_backup(h, o, d, out), options, progress, settings)


def restore(backup_dir: PathLike, dest: PathLike, options: Optional[BackupOptions] = None, *,
            progress: Optional[Progress] = None,
            **settings: Union[str, bool]) -> Dict[str, Any]:
    """Copies the backup in backup_dir (left unchanged) into dest, which must be
    missing or empty (ExistsError otherwise), as a database of its own, and
    verifies it (firkin_restore). Returns the report (a dict). incremental and
    hard_links do not apply: a restore copies every file."""
    b, d = c_path(backup_dir, "a backup path"), c_path(dest, "a path")
    return _run(lambda o, out: lib.firkin_restore(b, o, d, out), options, progress, settings)
