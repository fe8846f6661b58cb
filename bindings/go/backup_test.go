package firkin

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestBackupHoldsTheSnapshot(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, "src"), nil)
	must(t, err)
	defer db.Close()
	users, err := db.Namespace("users")
	must(t, err)
	defer users.Close()
	must(t, db.Put([]byte("k"), []byte("v1")))
	must(t, users.Put([]byte("ada"), []byte("lovelace")))
	bak := filepath.Join(dir, "bak")
	rep, err := db.Backup(bak, nil)
	must(t, err)
	if !rep.Verified || rep.Seq == 0 || rep.Segments == 0 {
		t.Fatalf("report: %+v", rep)
	}
	must(t, db.Put([]byte("k"), []byte("v2")))
	must(t, db.Put([]byte("later"), []byte("x")))
	copy, err := Open(bak, nil)
	must(t, err)
	v, err := copy.Get([]byte("k"))
	must(t, err)
	if string(v) != "v1" {
		t.Fatalf("backup holds %q, want the snapshot's v1", v)
	}
	if _, err := copy.Get([]byte("later")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a later write is in the backup: %v", err)
	}
	cu, err := copy.Namespace("users")
	must(t, err)
	v, err = cu.Get([]byte("ada"))
	must(t, err)
	if string(v) != "lovelace" {
		t.Fatalf("users/ada = %q", v)
	}
	cu.Close()
	must(t, copy.Close())

	// Incremental: the second backup keeps what is there.
	rep, err = db.Backup(bak, nil)
	must(t, err)
	if rep.Kept == 0 && rep.Segments > 1 {
		t.Fatalf("incremental backup kept nothing: %+v", rep)
	}
	rep, err = db.Backup(filepath.Join(dir, "copy"), &BackupOptions{NoHardLinks: true, Full: true, NoCheckpoint: true})
	must(t, err)
	if rep.Linked != 0 || rep.Checkpoint {
		t.Fatalf("NoHardLinks/NoCheckpoint: %+v", rep)
	}

	// Restore: a new database, verified; a non-empty target is refused.
	res := filepath.Join(dir, "restored")
	rep, err = Restore(bak, res, nil)
	must(t, err)
	if !rep.Verified || rep.Linked != 0 {
		t.Fatalf("restore: %+v", rep)
	}
	r, err := Open(res, nil)
	must(t, err)
	v, err = r.Get([]byte("later"))
	must(t, err)
	if string(v) != "x" {
		t.Fatalf("restored later = %q", v)
	}
	must(t, r.Close())
	if _, err := Restore(bak, res, nil); !errors.Is(err, ErrExists) {
		t.Fatalf("restore into a non-empty directory: %v", err)
	}
}

func TestBackupRefusals(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	db, err := Open(src, nil)
	must(t, err)
	defer db.Close()
	other, err := Open(filepath.Join(dir, "other"), nil)
	must(t, err)
	defer other.Close()
	must(t, db.Put([]byte("a"), []byte("1")))
	if _, err := db.Backup(filepath.Join(src, "inner"), nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("backup inside the database: %v", err)
	}
	file := filepath.Join(dir, "file")
	must(t, os.WriteFile(file, []byte("x"), 0o644))
	if _, err := db.Backup(file, nil); !errors.Is(err, ErrNotADatabase) {
		t.Fatalf("backup into a file: %v", err)
	}
	bak := filepath.Join(dir, "bak")
	_, err = db.Backup(bak, nil)
	must(t, err)
	if _, err := other.Backup(bak, nil); !errors.Is(err, ErrExists) {
		t.Fatalf("backup of another database into it: %v", err)
	}
	// An incomplete backup is refused by Open and Restore.
	must(t, os.WriteFile(filepath.Join(bak, "BACKUP-INCOMPLETE"), nil, 0o644))
	if _, err := Open(bak, nil); !errors.Is(err, ErrNotADatabase) {
		t.Fatalf("open of an incomplete backup: %v", err)
	}
	if _, err := Restore(bak, filepath.Join(dir, "r"), nil); !errors.Is(err, ErrNotADatabase) {
		t.Fatalf("restore of an incomplete backup: %v", err)
	}
	_, err = db.Backup(bak, nil) // completes it
	must(t, err)
	if _, err := os.Stat(filepath.Join(bak, "BACKUP-INCOMPLETE")); !os.IsNotExist(err) {
		t.Fatalf("marker left: %v", err)
	}
	must(t, db.Close())
	if _, err := db.Backup(bak, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("backup on a closed handle: %v", err)
	}
}
