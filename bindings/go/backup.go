package firkin

import (
	"encoding/json"
	"runtime"
	"strconv"

	"firkin.dev/firkin/internal/fkraw"
)

// BackupOptions are the settings of DB.Backup and Restore; nil or the zero
// value means the defaults (incremental, verified, hard links where
// possible, checkpoint included). The progress callback of the C API is not
// offered in Go.
type BackupOptions struct {
	// Full copies (or links) every file again instead of keeping the
	// segment files an earlier backup of the same database left there.
	Full bool
	// NoVerify skips opening and verifying the finished copy.
	NoVerify bool
	// NoHardLinks always copies, even on the same file system.
	NoHardLinks bool
	// NoCheckpoint leaves the index checkpoint out of the copy.
	NoCheckpoint bool
}

func (o *BackupOptions) flags() int {
	f := fkraw.FKB_BACKUP_INCREMENTAL | fkraw.FKB_BACKUP_VERIFY | fkraw.FKB_BACKUP_HARD_LINKS |
		fkraw.FKB_BACKUP_CHECKPOINT
	if o == nil {
		return f
	}
	if o.Full {
		f &^= fkraw.FKB_BACKUP_INCREMENTAL
	}
	if o.NoVerify {
		f &^= fkraw.FKB_BACKUP_VERIFY
	}
	if o.NoHardLinks {
		f &^= fkraw.FKB_BACKUP_HARD_LINKS
	}
	if o.NoCheckpoint {
		f &^= fkraw.FKB_BACKUP_CHECKPOINT
	}
	return f
}

// BackupReport says what a backup or restore did (firkin_backup's report).
type BackupReport struct {
	Seq         uint64 `json:"seq"`      // the snapshot the copy holds
	Segments    uint64 `json:"segments"` // segment files in the copy
	Linked      uint64 `json:"linked"`   // hard-linked from the source
	Copied      uint64 `json:"copied"`
	Kept        uint64 `json:"kept"`    // already there (incremental)
	Removed     uint64 `json:"removed"` // files of an earlier backup removed
	BytesLinked uint64 `json:"bytes_linked"`
	BytesCopied uint64 `json:"bytes_copied"`
	BytesKept   uint64 `json:"bytes_kept"`
	Checkpoint  bool   `json:"checkpoint"`
	Verified    bool   `json:"verified"`
}

// reportOnce makes the call once (it must not be repeated to fetch a longer
// report) with a buffer larger than any report.
func reportOnce(call func(buf []byte, n *int64) error) (*BackupReport, error) {
	buf := make([]byte, 4096)
	var n int64
	if err := wrap(call(buf, &n)); err != nil {
		return nil, err
	}
	if n > int64(len(buf)) {
		return nil, &Error{Code: StatusInternal, Msg: "backup report too long"}
	}
	return parseReport(buf[:n])
}

func parseReport(b []byte) (*BackupReport, error) {
	r := &BackupReport{}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, &Error{Code: StatusInternal, Msg: "bad backup report: " + err.Error()}
	}
	return r, nil
}

// Backup writes a copy of the database as of one snapshot into dir while
// other goroutines keep writing (firkin_backup). dir is created, or must be
// empty or an earlier backup of this database (then only what is new is
// copied). The copy opens as exactly the state at Report.Seq; until it is
// complete dir holds a BACKUP-INCOMPLETE marker and Open refuses it
// (ErrNotADatabase). opts may be nil. Errors: ErrInvalidArgument (dir is or
// lies inside the database directory), ErrNotADatabase (a file or a
// foreign directory), ErrExists (a backup of another database), ErrBusy,
// ErrCorruption (the copy failed verification).
func (db *DB) Backup(dir string, opts *BackupOptions) (*BackupReport, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	if err := cString(dir, "a backup path"); err != nil {
		return nil, err
	}
	r, err := reportOnce(func(buf []byte, n *int64) error {
		return fkraw.Fkb_backup(db.h, opts.flags(), dir, ptr(buf), len(buf), n)
	})
	runtime.KeepAlive(db)
	return r, err
}

// Restore copies the backup in backupDir (left unchanged) into destDir,
// which must be missing or empty (ErrExists otherwise), as a database of
// its own, and verifies it (firkin_restore). Full and NoHardLinks do not
// apply: a restore always copies every file. opts may be nil.
func Restore(backupDir, destDir string, opts *BackupOptions) (*BackupReport, error) {
	if err := cString(backupDir, "a backup path"); err != nil {
		return nil, err
	}
	if err := cString(destDir, "a path"); err != nil {
		return nil, err
	}
	return reportOnce(func(buf []byte, n *int64) error {
		return fkraw.Fkb_restore(backupDir, opts.flags(), destDir, ptr(buf), len(buf), n)
	})
}

// Set sets an option by its C name ("incremental", "verify", "hard_links",
// "checkpoint") to "true"/"false"/"1"/"0", as firkin_backup_options_set
// does; anything else is ErrInvalidArgument.
func (o *BackupOptions) Set(name, value string) error {
	var v bool
	switch value {
	case "true", "1":
		v = true
	case "false", "0":
	default:
		return &Error{Code: StatusInvalidArgument, Msg: "backup option '" + name +
			"' takes true/false/1/0, not '" + value + "'"}
	}
	switch name {
	case "incremental":
		o.Full = !v
	case "verify":
		o.NoVerify = !v
	case "hard_links":
		o.NoHardLinks = !v
	case "checkpoint":
		o.NoCheckpoint = !v
	default:
		return &Error{Code: StatusInvalidArgument, Msg: "unknown backup option '" + name +
			"' (incremental, verify, hard_links, checkpoint)"}
	}
	return nil
}

// Get returns an option by its C name as "true" or "false".
func (o *BackupOptions) Get(name string) (string, error) {
	var off bool
	switch name {
	case "incremental":
		off = o.Full
	case "verify":
		off = o.NoVerify
	case "hard_links":
		off = o.NoHardLinks
	case "checkpoint":
		off = o.NoCheckpoint
	default:
		return "", &Error{Code: StatusInvalidArgument, Msg: "unknown backup option '" + name + "'"}
	}
	return strconv.FormatBool(!off), nil
}
