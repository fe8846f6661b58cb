package firkin

import (
	"context"
	"encoding/binary"
	"runtime"
	"time"

	"firkin.dev/firkin/internal/fkraw"
)

// ChangeType is the kind of a change in the change feed
// (firkin_change_type). Later versions add kinds (transaction boundaries,
// TTL): a consumer should skip or stop at a kind it does not know.
type ChangeType int

const (
	ChangePut        ChangeType = 1 // Key = Value in Namespace
	ChangeDelete     ChangeType = 2 // Key was deleted
	ChangeNsCreate   ChangeType = 3 // Namespace was created
	ChangeNsDrop     ChangeType = 4 // Namespace and its keys were dropped
	ChangeBatchBegin ChangeType = 5 // the changes up to ChangeBatchEnd are one atomic batch
	ChangeBatchEnd   ChangeType = 6
)

func (t ChangeType) String() string {
	switch t {
	case ChangePut:
		return "put"
	case ChangeDelete:
		return "delete"
	case ChangeNsCreate:
		return "ns_create"
	case ChangeNsDrop:
		return "ns_drop"
	case ChangeBatchBegin:
		return "batch_begin"
	case ChangeBatchEnd:
		return "batch_end"
	}
	return "ChangeType(" + itoa(int(t)) + ")"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Change is one committed change. Key and Value are empty where the kind
// has none; Namespace is "" for batch markers.
type Change struct {
	Type      ChangeType
	Seq       uint64
	Namespace string
	Key       []byte
	Value     []byte
}

const changesBufSize = 32 << 10

// ChangeCursor reads the change feed (firkin_changes): every committed
// change with a sequence number above the one it was opened at, in order,
// batches whole. Changes are fetched many at a time (firkin_changes_next_n).
//
//	c, err := db.OpenChanges(lastApplied, true)
//	defer c.Close()
//	for {
//		for c.Next() { apply(c.Change()) }
//		if c.Err() != nil { ... }
//		c.Wait(time.Second) // blocks until a new change is published
//	}
//
// A ChangeCursor is used by one goroutine at a time.
type ChangeCursor struct {
	h    fkraw.Struct_SS_firkin_changes
	n    *int64
	buf  []byte
	data []byte
	off  int
	cur  Change
	err  error
	// calls in flight: Close frees h when the last is out, so a Close from
	// another goroutine (a misuse, or to stop a Wait) frees it once and
	// never under a call.
	gate gate
}

// OpenChanges opens a cursor over the changes with sequence number > since
// (0 = from the first). batchMarkers delivers ChangeBatchBegin/End around
// batches. ErrSnapshotTooOld if those changes are no longer retained (see
// OldestChangeSeq and the change_retention_* options); ErrInvalidArgument
// if since is past LastSeq.
func (db *DB) OpenChanges(since uint64, batchMarkers bool) (*ChangeCursor, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	var p int64
	err := wrap(fkraw.Fkb_changes_open(db.h, since, batchMarkers, &p))
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	h := fkraw.SwigcptrStruct_SS_firkin_changes(uintptr(p))
	c := &ChangeCursor{h: h, n: new(int64), buf: make([]byte, changesBufSize)}
	c.gate.free = func() error { fkraw.Firkin_changes_free(h); return nil }
	runtime.SetFinalizer(c, (*ChangeCursor).Close)
	return c, nil
}

// OldestChangeSeq is the sequence number of the oldest change still
// retained (LastSeq()+1 if none): OpenChanges accepts since >= it - 1.
func (db *DB) OldestChangeSeq() (uint64, error) {
	dt, derr := db.enter()
	if derr != nil {
		return 0, derr
	}
	defer db.leave(dt)
	var n int64
	err := wrap(fkraw.Fkb_changes_oldest_seq(db.h, &n))
	runtime.KeepAlive(db)
	return uint64(n), err
}

// Next moves to the next change available now; false when there is none
// yet (call Wait, or Next again later) or on an error (see Err).
func (c *ChangeCursor) Next() bool {
	if !c.gate.enter() {
		if c.err == nil {
			c.err = errClosed("change cursor")
		}
		return false
	}
	defer c.gate.leave()
	if c.err != nil {
		return false
	}
	if c.off >= len(c.data) && !c.fill() {
		c.cur = Change{}
		return false
	}
	d := c.data[c.off:]
	if len(d) < 24 {
		return c.fail()
	}
	t := binary.LittleEndian.Uint32(d)
	nl := int(binary.LittleEndian.Uint32(d[4:]))
	seq := binary.LittleEndian.Uint64(d[8:])
	kl := int(binary.LittleEndian.Uint32(d[16:]))
	vl := int(binary.LittleEndian.Uint32(d[20:]))
	if len(d) < 24+nl+kl+vl {
		return c.fail()
	}
	p := 24
	c.cur = Change{Type: ChangeType(t), Seq: seq, Namespace: string(d[p : p+nl])}
	p += nl
	c.cur.Key = d[p : p+kl : p+kl]
	p += kl
	c.cur.Value = d[p : p+vl : p+vl]
	c.off += p + vl
	return true
}

func (c *ChangeCursor) fail() bool {
	c.err = &Error{Code: StatusInternal, Msg: "short change entry"}
	c.cur = Change{}
	return false
}

func (c *ChangeCursor) fill() bool {
	for {
		err := wrap(fkraw.Fkb_changes_next_n(c.h, ptr(c.buf), len(c.buf), c.n))
		runtime.KeepAlive(c)
		if err != nil {
			c.err = err
			return false
		}
		if *c.n == 0 {
			return false
		}
		if *c.n > int64(len(c.buf)) {
			c.buf = make([]byte, *c.n)
			continue
		}
		c.data = c.buf[:*c.n]
		c.off = 0
		return true
	}
}

// Change is the current change. Its Key and Value are valid until the next
// call to Next or Wait (which may fetch more changes into the same
// buffer); copy them to keep them.
func (c *ChangeCursor) Change() Change { return c.cur }

// Wait blocks until a new change is published (woken by the writer, not
// by polling) or the timeout passes, and reports whether Next has one.
// It returns at once if changes are already buffered.
func (c *ChangeCursor) Wait(timeout time.Duration) (bool, error) {
	if !c.gate.enter() {
		return false, errClosed("change cursor")
	}
	defer c.gate.leave()
	if c.err != nil {
		return false, c.err
	}
	if c.off < len(c.data) {
		return true, nil
	}
	ms := timeout.Milliseconds()
	if ms < 0 {
		ms = 0
	}
	if ms > 0xFFFFFFFF {
		ms = 0xFFFFFFFF
	}
	err := wrap(fkraw.Firkin_changes_wait(c.h, uint(ms)))
	runtime.KeepAlive(c)
	if err != nil {
		c.err = err
		return false, err
	}
	if c.fill() {
		return true, nil
	}
	return false, c.err
}

// Position tells how far the cursor has read: every write numbered at or
// below it was returned by Next, or holds no change (a CAS that failed
// after it took its number: firkin.h, firkin_changes_open). It is the next
// buffered change's Seq - 1 while one is buffered (a batch counts once all
// of it was returned), and otherwise the last number read: DB.LastSeq when
// caught up, also where the last write holds no change. A consumer that
// stores it with what it applied resumes with OpenChanges(position, ...).
// (As Java's position(), C#'s Position and Python's position.)
func (c *ChangeCursor) Position() (uint64, error) {
	if !c.gate.enter() {
		return 0, errClosed("change cursor")
	}
	defer c.gate.leave()
	if c.off+16 <= len(c.data) {
		return binary.LittleEndian.Uint64(c.data[c.off+8:]) - 1, nil
	}
	var n int64
	err := wrap(fkraw.Fkb_changes_position(c.h, &n))
	runtime.KeepAlive(c)
	return uint64(n), err
}

// Err is the error that stopped the cursor (ErrSnapshotTooOld: history it
// needed was compacted away), or nil.
func (c *ChangeCursor) Err() error { return c.err }

// Close releases the cursor. Closing twice is harmless.
func (c *ChangeCursor) Close() error {
	if c == nil {
		return nil
	}
	ok, ran, _ := c.gate.close()
	if !ok {
		return nil
	}
	if ran { // (else a call in flight reads them: it frees the handle)
		c.cur, c.data = Change{}, nil
	}
	runtime.SetFinalizer(c, nil)
	return nil
}

// Changes streams the changes after since on a channel until ctx is done
// or the cursor fails; each Change is a copy the receiver owns. Batch
// markers are included. The error channel receives the error that ended
// the stream (ctx.Err() when cancelled), once the stream's cursor is
// closed, and is closed with the change channel. An error opening the cursor (ErrSnapshotTooOld, ...) is returned
// at once, as is ErrInvalidArgument for a nil ctx (the stream's goroutine
// would otherwise panic on it, out of the caller's reach).
func (db *DB) Changes(ctx context.Context, since uint64) (<-chan Change, <-chan error, error) {
	if ctx == nil {
		return nil, nil, &Error{Code: StatusInvalidArgument, Msg: "Changes: ctx is nil (use context.Background())"}
	}
	c, err := db.OpenChanges(since, true)
	if err != nil {
		return nil, nil, err
	}
	out := make(chan Change, 64)
	errs := make(chan error, 1)
	go func() {
		// The cursor is closed before the error is sent: a receiver of
		// the error may close the database and remove its directory at
		// once, and a Close with the cursor's call still in flight left
		// the database open under it (Go TestChangesChannel in CI,
		// 2026-11-30: "directory not empty").
		var final error
		defer func() {
			c.Close()
			if final != nil {
				errs <- final
			}
			close(out)
			close(errs)
		}()
		for {
			for c.Next() {
				ch := c.Change()
				ch.Key = append([]byte(nil), ch.Key...)
				ch.Value = append([]byte(nil), ch.Value...)
				select {
				case out <- ch:
				case <-ctx.Done():
					final = ctx.Err()
					return
				}
			}
			if err := c.Err(); err != nil {
				final = err
				return
			}
			if ctx.Err() != nil {
				final = ctx.Err()
				return
			}
			// Short waits, so that a cancelled ctx is noticed promptly.
			if _, err := c.Wait(100 * time.Millisecond); err != nil {
				final = err
				return
			}
		}
	}()
	return out, errs, nil
}
