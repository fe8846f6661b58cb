package firkin

import (
	"errors"
	"fmt"
	"runtime"

	"firkin.dev/firkin/internal/fkraw"
)

// Isolation is a transaction's isolation level (firkin_isolation).
type Isolation int

const (
	// IsolationSnapshot (the default): reads see the snapshot taken at
	// begin plus the transaction's own writes; commit fails with
	// ErrConflict if a key it writes changed after that snapshot. Write
	// skew is possible.
	IsolationSnapshot Isolation = 0
	// IsolationSerializable: in addition every key it read (absent ones
	// included) and every namespace it iterated must be unchanged at commit.
	IsolationSerializable Isolation = 1
)

func (i Isolation) String() string {
	switch i {
	case IsolationSnapshot:
		return "snapshot"
	case IsolationSerializable:
		return "serializable"
	}
	return fmt.Sprintf("Isolation(%d)", int(i))
}

// DefaultUpdateAttempts is how many times Update runs its function when
// commits keep conflicting.
const DefaultUpdateAttempts = 10

// Txn is an optimistic transaction (firkin_txn), from DB.Begin, DB.Update
// or DB.View. Reads see its snapshot plus its own writes, across
// namespaces (the *NS variants; nil = the default namespace); writes are
// buffered until Commit, which applies them as one atomic unit or fails
// with an error matching ErrConflict (nothing applied). Once committed,
// rolled back, or after a failed commit, the transaction is finished and
// its calls fail with ErrInvalidArgument: begin a new one to retry.
//
// A Txn is used by one goroutine at a time; any number may be open at once.
// An open Txn pins the history its snapshot reads until Commit, Rollback or
// Close: always Close it (Close after Commit is harmless).
type Txn struct {
	db       *DB
	h        fkraw.Struct_SS_firkin_txn
	n        *int64 // its own allocation (cgo pointer rules)
	buf      []byte
	iso      Isolation
	seq      uint64
	commit   uint64
	done     bool
	gate     gate   // calls in flight: Close frees h when the last is out
	managed  string // "Update" or "View": Commit and Rollback belong to it
	readOnly bool
}

// Begin starts a transaction at a snapshot of the latest state. An
// isolation outside the C int range, or unknown, gives ErrInvalidArgument.
func (db *DB) Begin(iso Isolation) (*Txn, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	v, err := cInt(int(iso), "isolation")
	if err != nil {
		return nil, err
	}
	var p int64
	err = wrap(fkraw.Fkb_txn_begin(db.h, v, &p))
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	h := fkraw.SwigcptrStruct_SS_firkin_txn(uintptr(p))
	tx := &Txn{db: db, h: h, n: new(int64), iso: iso}
	tx.gate.free = func() error { fkraw.Firkin_txn_free(h); return nil }
	runtime.SetFinalizer(tx, (*Txn).Close)
	if err := wrap(fkraw.Fkb_txn_snapshot_seq(tx.h, tx.n)); err != nil {
		tx.Close()
		return nil, err
	}
	tx.seq = uint64(*tx.n)
	return tx, nil
}

// TxnOptions are the settings of DB.UpdateWith (nil = the defaults).
type TxnOptions struct {
	Isolation Isolation     // IsolationSnapshot by default
	Attempts  int           // how many times fn may run; 0 = DefaultUpdateAttempts
	Write     *WriteOptions // the commit's write options; nil = the database's
}

// Update runs fn in a new snapshot-isolation transaction and commits it
// when fn returns nil; when fn returns an error the transaction is rolled
// back and the error returned. When the commit conflicts, Update begins a
// new transaction and runs fn again, at most DefaultUpdateAttempts times in
// all; then it returns the last conflict (errors.Is(err, ErrConflict)). fn
// must not call Commit or Rollback, and should have no effects outside the
// transaction that are unsafe to repeat.
func (db *DB) Update(fn func(tx *Txn) error) error { return db.UpdateWith(nil, fn) }

// UpdateWith is Update with an isolation level, a number of attempts and
// write options.
func (db *DB) UpdateWith(opts *TxnOptions, fn func(tx *Txn) error) error {
	var o TxnOptions
	if opts != nil {
		o = *opts
	}
	if fn == nil {
		return &Error{Code: StatusInvalidArgument, Msg: "fn is nil"}
	}
	if o.Attempts < 0 {
		return &Error{Code: StatusInvalidArgument, Msg: "Attempts must not be negative"}
	}
	if o.Attempts == 0 {
		o.Attempts = DefaultUpdateAttempts
	}
	var err error
	for i := 0; i < o.Attempts; i++ {
		var retry bool
		retry, err = db.runOnce(o, fn)
		if !retry {
			return err
		}
	}
	return fmt.Errorf("firkin: transaction gave up after %d conflicting attempts: %w", o.Attempts, err)
}

// runOnce runs fn in one transaction; retry = its commit conflicted.
func (db *DB) runOnce(o TxnOptions, fn func(tx *Txn) error) (retry bool, err error) {
	tx, err := db.Begin(o.Isolation)
	if err != nil {
		return false, err
	}
	defer tx.Close()
	tx.managed = "Update"
	if err := fn(tx); err != nil {
		return false, err // fn's own errors (a conflict included) are not retried
	}
	tx.managed = ""
	err = tx.CommitWith(o.Write)
	return errors.Is(err, ErrConflict), err
}

// View runs fn in a new snapshot-isolation transaction that only reads:
// its Put, Delete and CompareAndSwap fail with ErrReadOnly, and it is
// rolled back when fn returns. fn's error is returned.
func (db *DB) View(fn func(tx *Txn) error) error {
	if fn == nil {
		return &Error{Code: StatusInvalidArgument, Msg: "fn is nil"}
	}
	tx, err := db.Begin(IsolationSnapshot)
	if err != nil {
		return err
	}
	defer tx.Close()
	tx.managed = "View"
	tx.readOnly = true
	return fn(tx)
}

// enter admits a call to the C handle (ErrClosed once Close ran); on nil
// the caller must leave (defer tx.gate.leave()).
func (tx *Txn) enter() error {
	if tx == nil || !tx.gate.enter() {
		return errClosed("transaction")
	}
	return nil
}

// writable enters (as enter) a transaction that may write.
func (tx *Txn) writable() error {
	if err := tx.enter(); err != nil {
		return err
	}
	if tx.readOnly {
		tx.gate.leave()
		return &Error{Code: StatusReadOnly, Msg: "the transaction of View is read-only"}
	}
	return nil
}

// handles enters tx and ns; on success the caller leaves both (defer
// tx.gate.leave(); defer ns.leave(nt)).
func (tx *Txn) handles(ns *Namespace) (fkraw.Struct_SS_firkin_ns, int, error) {
	if err := tx.enter(); err != nil {
		return nil, 0, err
	}
	nh, nt, err := ns.enter()
	if err != nil {
		tx.gate.leave()
		return nil, 0, err
	}
	return nh, nt, nil
}

// Isolation is the transaction's isolation level.
func (tx *Txn) Isolation() Isolation { return tx.iso }

// SnapshotSeq is the sequence number of the transaction's snapshot.
func (tx *Txn) SnapshotSeq() uint64 { return tx.seq }

// CommitSeq is the sequence number of a successful commit (0 before).
func (tx *Txn) CommitSeq() uint64 { return tx.commit }

// Get returns the value of key as the transaction sees it, or an error
// matching ErrNotFound if absent.
func (tx *Txn) Get(key []byte) ([]byte, error) { return tx.GetNS(nil, key) }

// GetNS is Get in namespace ns.
func (tx *Txn) GetNS(ns *Namespace, key []byte) ([]byte, error) {
	nh, nt, err := tx.handles(ns)
	if err != nil {
		return nil, err
	}
	defer tx.gate.leave()
	defer ns.leave(nt)
	if tx.buf == nil {
		tx.buf = make([]byte, 256)
	}
	buf := tx.buf
	for {
		err = wrap(fkraw.Fkb_txn_get(tx.h, nh, ptr(key), len(key), ptr(buf), len(buf), tx.n))
		if err != nil {
			break
		}
		n := *tx.n
		if n < 0 {
			err = ErrNotFound
			break
		}
		if n <= int64(len(buf)) {
			out := make([]byte, n)
			copy(out, buf)
			runtime.KeepAlive(tx)
			runtime.KeepAlive(ns)
			return out, nil
		}
		buf = make([]byte, n)
	}
	runtime.KeepAlive(tx)
	runtime.KeepAlive(ns)
	return nil, err
}

// Has reports whether key has a value as the transaction sees it (a read).
func (tx *Txn) Has(key []byte) (bool, error) { return tx.HasNS(nil, key) }

// HasNS is Has in namespace ns.
func (tx *Txn) HasNS(ns *Namespace, key []byte) (bool, error) {
	nh, nt, err := tx.handles(ns)
	if err != nil {
		return false, err
	}
	defer tx.gate.leave()
	defer ns.leave(nt)
	err = wrap(fkraw.Fkb_txn_contains(tx.h, nh, ptr(key), len(key), tx.n))
	runtime.KeepAlive(tx)
	runtime.KeepAlive(ns)
	return err == nil && *tx.n == 1, err
}

// Put buffers key=val (applied at commit).
func (tx *Txn) Put(key, val []byte) error { return tx.PutNS(nil, key, val) }

// PutNS is Put in namespace ns.
func (tx *Txn) PutNS(ns *Namespace, key, val []byte) error {
	if err := tx.writable(); err != nil {
		return err
	}
	defer tx.gate.leave()
	nh, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	err = wrap(fkraw.Firkin_txn_put(tx.h, nh, ptr(key), len(key), ptr(val), len(val)))
	runtime.KeepAlive(tx)
	runtime.KeepAlive(ns)
	return err
}

// Delete buffers the removal of key (an absent key is not an error).
func (tx *Txn) Delete(key []byte) error { return tx.DeleteNS(nil, key) }

// DeleteNS is Delete in namespace ns.
func (tx *Txn) DeleteNS(ns *Namespace, key []byte) error {
	if err := tx.writable(); err != nil {
		return err
	}
	defer tx.gate.leave()
	nh, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	err = wrap(fkraw.Firkin_txn_delete(tx.h, nh, ptr(key), len(key)))
	runtime.KeepAlive(tx)
	runtime.KeepAlive(ns)
	return err
}

// CompareAndSwap buffers key=val if the transaction sees expected there;
// false (and nothing buffered) otherwise. A change by others after the
// snapshot makes the commit conflict.
func (tx *Txn) CompareAndSwap(key, expected, val []byte) (bool, error) {
	return tx.CompareAndSwapNS(nil, key, expected, val)
}

// CompareAndSwapNS is CompareAndSwap in namespace ns.
func (tx *Txn) CompareAndSwapNS(ns *Namespace, key, expected, val []byte) (bool, error) {
	if err := tx.writable(); err != nil {
		return false, err
	}
	defer tx.gate.leave()
	nh, nt, err := ns.enter()
	if err != nil {
		return false, err
	}
	defer ns.leave(nt)
	err = wrap(fkraw.Fkb_txn_cas(tx.h, nh, ptr(key), len(key), ptr(expected), len(expected),
		ptr(val), len(val), tx.n))
	runtime.KeepAlive(tx)
	runtime.KeepAlive(ns)
	return err == nil && *tx.n == 1, err
}

// NewIterator iterates the default namespace as the transaction sees it
// now (later writes of the transaction are not seen by it). The iterator
// may outlive the transaction. Serializable: a write to the namespace
// committed by others after the snapshot makes the commit conflict.
func (tx *Txn) NewIterator() (*Iterator, error) { return tx.NewIteratorNS(nil) }

// NewIteratorNS is NewIterator over namespace ns.
func (tx *Txn) NewIteratorNS(ns *Namespace) (*Iterator, error) {
	nh, nt, err := tx.handles(ns)
	if err != nil {
		return nil, err
	}
	defer tx.gate.leave()
	defer ns.leave(nt)
	var p int64
	err = wrap(fkraw.Fkb_txn_iter_new(tx.h, nh, &p))
	runtime.KeepAlive(tx)
	runtime.KeepAlive(ns)
	if err != nil {
		return nil, err
	}
	return newIteratorFrom(p), nil
}

func (tx *Txn) unmanaged(what string) error {
	if tx.managed != "" {
		return &Error{Code: StatusInvalidArgument,
			Msg: fmt.Sprintf("%s of a transaction managed by %s (return from the function instead)", what, tx.managed)}
	}
	return nil
}

// Commit validates and applies the transaction atomically. An error
// matching ErrConflict means nothing was applied (its message names the
// first conflicting namespace and key). The transaction is finished
// whatever the outcome.
func (tx *Txn) Commit() error { return tx.CommitWith(nil) }

// CommitWith is Commit with write options wo (nil = the database's).
func (tx *Txn) CommitWith(wo *WriteOptions) error {
	if err := tx.writable(); err != nil {
		return err
	}
	defer tx.gate.leave()
	if err := tx.unmanaged("Commit"); err != nil {
		return err
	}
	wh, err := wo.enter()
	if err != nil {
		return err
	}
	defer wo.leave()
	err = wrap(fkraw.Fkb_txn_commit(tx.h, wh, tx.n))
	runtime.KeepAlive(tx)
	runtime.KeepAlive(wo)
	tx.done = true
	if err == nil {
		tx.commit = uint64(*tx.n)
	}
	return err
}

// Rollback discards the buffered writes and releases the snapshot; an
// error matching ErrInvalidArgument if already finished.
func (tx *Txn) Rollback() error {
	if err := tx.enter(); err != nil {
		return err
	}
	defer tx.gate.leave()
	if err := tx.unmanaged("Rollback"); err != nil {
		return err
	}
	err := wrap(fkraw.Firkin_txn_rollback(tx.h))
	runtime.KeepAlive(tx)
	tx.done = true
	return err
}

// Close rolls back if still open and frees the transaction. Closing twice
// (or after Commit) is harmless.
//
// A Close from another goroutine (a misuse: a transaction is for one
// goroutine at a time), twice at once or under a call, frees the C handle
// once, when the call in flight returns.
func (tx *Txn) Close() error {
	if tx == nil {
		return nil
	}
	if ok, _, _ := tx.gate.close(); ok {
		runtime.SetFinalizer(tx, nil)
	}
	return nil
}
