"""pytest: online backup and restore (DB.backup, firkin.restore, BackupOptions)."""
import os

import pytest

import firkin


def test_backup_holds_the_snapshot_and_restores(tmp_path):
    src, bak, res = (str(tmp_path / n) for n in ("src", "bak", "restored"))
    calls = []
    with firkin.DB(src, segment_size="64K") as db:
        with db.namespace("users") as users:
            for i in range(500):
                db[b"k%d" % i] = b"v" * 200
            users[b"ada"] = b"lovelace"
            rep = db.backup(bak, progress=lambda done, total: calls.append((done, total)))
            assert rep["verified"] and rep["seq"] > 0 and rep["segments"] > 1
            # (The tail is copied; so is a segment a roll closed whose seal
            # had not come yet: only sealed segments are linked, 2026-11-30.)
            assert rep["linked"] + rep["copied"] == rep["segments"] and rep["copied"] >= 1
            assert calls and calls[-1][0] == calls[-1][1] > 0
            assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
            db[b"k0"] = b"changed"
            db[b"later"] = b"x"
            with firkin.DB(bak) as copy, copy.namespace("users", create=False) as cu:
                assert copy[b"k0"] == b"v" * 200
                assert b"later" not in copy
                assert cu[b"ada"] == b"lovelace"
                assert len(copy) == 500
            first_linked = rep["linked"]
            rep = db.backup(bak)
            # (Links of the first backup are kept; it may have linked none,
            # its closed segments not sealed yet.)
            assert rep["kept"] > 0 or first_linked == 0
            rep = db.backup(str(tmp_path / "copy"), hard_links=False, incremental=False,
                            checkpoint=False)
            assert rep["linked"] == 0 and rep["copied"] == rep["segments"]
            assert rep["checkpoint"] is False
    rep = firkin.restore(bak, res)
    assert rep["linked"] == 0 and rep["verified"]
    with firkin.DB(res) as r:
        assert r[b"later"] == b"x" and r[b"k0"] == b"changed"
    with pytest.raises(firkin.ExistsError):
        firkin.restore(bak, res)


def test_backup_refusals(tmp_path):
    src, other, bak = (str(tmp_path / n) for n in ("src", "other", "bak"))
    with firkin.DB(src) as db, firkin.DB(other) as db2:
        db[b"a"] = b"1"
        with pytest.raises(firkin.InvalidArgumentError):
            db.backup(os.path.join(src, "inner"))
        (tmp_path / "file").write_text("x")
        with pytest.raises(firkin.NotADatabaseError):
            db.backup(str(tmp_path / "file"))
        db.backup(bak)
        with pytest.raises(firkin.ExistsError):
            db2.backup(bak)
        open(os.path.join(bak, "BACKUP-INCOMPLETE"), "w").close()
        with pytest.raises(firkin.NotADatabaseError, match="incomplete"):
            firkin.DB(bak)
        with pytest.raises(firkin.NotADatabaseError):
            firkin.restore(bak, str(tmp_path / "r"))
        db.backup(bak)
        assert not os.path.exists(os.path.join(bak, "BACKUP-INCOMPLETE"))
        # A failing progress callback: the backup completes, then the error is raised.
        def boom(done, total):
            raise RuntimeError("boom")
        with pytest.raises(RuntimeError, match="boom"):
            db.backup(bak, progress=boom)
        assert not os.path.exists(os.path.join(bak, "BACKUP-INCOMPLETE"))
    with firkin.BackupOptions(verify=False) as o:
        assert o.get("verify") == "false" and o.get("incremental") == "true"
        with pytest.raises(firkin.InvalidArgumentError):
            o.set("nope", True)
        with pytest.raises(firkin.InvalidArgumentError):
            o.set("verify", "maybe")
    with pytest.raises(firkin.ClosedError):
        o.get("verify")
    db = firkin.DB(src)
    db.close()
    with pytest.raises(firkin.ClosedError):
        db.backup(bak)
