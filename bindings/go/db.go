// Package firkin is the Go binding of Firkin, an embedded key-value store.
//
//	db, err := firkin.Open("/tmp/data", nil)
//	if err != nil { ... }
//	defer db.Close()
//	err = db.Put([]byte("k"), []byte("v"))
//	v, err := db.Get([]byte("k"))   // errors.Is(err, firkin.ErrNotFound) if absent
//
// Every handle (DB, Options, WriteOptions, Namespace, Snapshot, Iterator,
// Batch) has a Close method; closing twice is harmless and using a closed
// handle returns ErrClosed. Finalizers release forgotten handles, but only
// as a backstop: close what you open.
//
// A DB may be used from many goroutines at once. Namespace and Snapshot
// handles may be shared; Iterator and Batch must be used by one goroutine at
// a time. Options and WriteOptions are set from one goroutine at a time and,
// once set, may be passed to calls from many at once.
//
// Close and concurrent calls: Close may run while other goroutines are
// inside calls on the same handle: those finish, calls that start after
// it return ErrClosed, and the C handle is released when the last call in
// flight returns (each call counts itself in and out: two atomic adds on
// one of 32 counters, each on its own cache line, gate.go).
// The same holds for Namespace and Snapshot handles shared between
// goroutines (each has a gate of its own), and for Options and WriteOptions
// passed to calls in flight (a single-counter gate each: their Close waits
// for nothing and frees the C object after the last such call).
//
// Strings for C (paths, namespace names, option names and values,
// passphrases) holding a NUL byte give ErrInvalidArgument (C would cut them
// there), and a MultiGet key whose length does not fit the packed format's
// 32-bit field gives ErrTooLarge; a failing MultiGet key's error reads
// "multi-get key N: <the library's message>".
package firkin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"firkin.dev/firkin/internal/fkraw"
)

// Version is the library's version, "major.minor.patch".
func Version() string { return fkraw.Firkin_version_string() }

// VersionNumber is the library's version as major*10000 + minor*100 + patch.
func VersionNumber() int { return fkraw.Firkin_version_number() }

// Limits of keys, values and namespace names, in bytes.
const (
	MaxKeySize    = 65535
	MaxValueSize  = 256 << 20
	MaxNsNameSize = 128
)

// DB is an open database (firkin_db).
type DB struct {
	h       fkraw.Struct_SS_firkin_db
	gate    sharedGate // calls in flight; Close frees h when the last one is out
	path    string
	getHint atomic.Int64 // see get
}

// Open opens (or, by default, creates) the database in directory path. opts
// may be nil for the defaults.
func Open(path string, opts *Options) (*DB, error) {
	oh, err := opts.enter()
	if err != nil {
		return nil, err
	}
	defer opts.leave()
	if err := cString(path, "a path"); err != nil {
		return nil, err
	}
	var p int64
	err = wrap(fkraw.Fkb_open(path, oh, &p))
	runtime.KeepAlive(opts)
	if err != nil {
		return nil, err
	}
	h := fkraw.SwigcptrStruct_SS_firkin_db(uintptr(p))
	db := &DB{h: h, path: path}
	db.gate.free = func() error { return wrap(fkraw.Firkin_close(h)) }
	runtime.SetFinalizer(db, (*DB).Close)
	return db, nil
}

// Path is the directory the database was opened from.
func (db *DB) Path() string {
	if db == nil {
		return ""
	}
	return db.path
}

// Close drops this handle. The database shuts down (final flush, lock
// released) once its namespaces, snapshots and iterators are closed too;
// the error is that of the final flush. Closing twice is harmless.
//
// Calls that other goroutines have in flight on this handle when Close
// runs finish normally; calls started after it return ErrClosed. The
// handle itself is released when the last call in flight returns (then
// Close returns nil at once, and the final flush's error is lost: to see
// it, stop the other goroutines first). Close never waits for them, so it
// may also be called from inside a call (an Update's function).
func (db *DB) Close() error {
	if db == nil {
		return nil
	}
	ok, _, err := db.gate.close()
	if !ok {
		return nil
	}
	runtime.SetFinalizer(db, nil)
	return err
}

// enter admits a call to the C handle (ErrClosed once Close ran); on nil
// the caller must call leave when done with it (defer db.leave(dt)).
func (db *DB) enter() (int, error) {
	if db == nil {
		return 0, errClosed("database")
	}
	t, ok := db.gate.enter()
	if !ok {
		return 0, errClosed("database")
	}
	return t, nil
}

// leave ends a call admitted by enter, which returned t (its stripe of the gate).
func (db *DB) leave(t int) { db.gate.leave(t) }

// scratch is per-call state (out-parameters) of calls that have them,
// pooled so that they allocate nothing. Gets need none (see getN).
//
// n is allocated on its own: cgo refuses a pointer into an object that also
// holds Go pointers (buf).
type scratch struct {
	n   *int64
	buf []byte
}

const scratchSize = 1024
const scratchKeep = 64 << 10

var scratchPool = sync.Pool{New: func() any { return &scratch{n: new(int64), buf: make([]byte, scratchSize)} }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	if cap(s.buf) > scratchKeep {
		s.buf = make([]byte, scratchSize)
	}
	scratchPool.Put(s)
}

// The operations, shared by DB (default namespace), Namespace and Snapshot.

// getN is one cgo call with no out-parameter and no status string
// (fkb_get_n): the value's size (copied into buf only if it fits), or
// ErrNotFound, or the call's error. An error is rare: its message comes
// from repeating the read through fkb_get, which returns it from the same
// cgo call (firkin_last_error is per OS thread, and a goroutine may move
// between two calls).
func (db *DB) getN(snap fkraw.Struct_SS_firkin_snapshot, ns fkraw.Struct_SS_firkin_ns, key []byte, buf unsafe.Pointer, bufLen int) (int, error) {
	// (fkraw.GetN: integers only, no cgo pointer check; internal/fkraw/fast.go.)
	r := fkraw.GetN(db.h.Swigcptr(), cptr(snap), cptr(ns), ptr(key), len(key), buf, bufLen)
	if r >= 0 {
		return int(r), nil
	}
	if r == -1 {
		return 0, ErrNotFound
	}
	var n int64
	if err := wrap(fkraw.Fkb_get(db.h, snap, ns, ptr(key), len(key), buf, bufLen, &n)); err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, ErrNotFound
	}
	return int(n), nil // it succeeded when repeated
}

// The first buffer a Get reads into: as large as the largest value read so
// far, up to getHintMax (a larger value takes a second call, into a buffer
// of its exact size). Reading straight into the result saves the copy from
// a pooled scratch buffer and the pool itself.
const getHintMin = 64
const getHintMax = 1024

func (db *DB) get(snap fkraw.Struct_SS_firkin_snapshot, ns fkraw.Struct_SS_firkin_ns, key []byte) ([]byte, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	c := int(db.getHint.Load())
	if c < getHintMin {
		c = getHintMin
	}
	for {
		out := make([]byte, c)
		n, err := db.getN(snap, ns, key, unsafe.Pointer(&out[0]), c)
		if err != nil {
			runtime.KeepAlive(db)
			return nil, err
		}
		if n <= c {
			if n > int(db.getHint.Load()) && n <= getHintMax {
				db.getHint.Store(int64((n + 15) &^ 15))
			}
			runtime.KeepAlive(db)
			return out[:n], nil
		}
		c = n
	}
}

func (db *DB) getInto(snap fkraw.Struct_SS_firkin_snapshot, ns fkraw.Struct_SS_firkin_ns, key, buf []byte) (int, error) {
	dt, derr := db.enter()
	if derr != nil {
		return 0, derr
	}
	defer db.leave(dt)
	n, err := db.getN(snap, ns, key, ptr(buf), len(buf))
	runtime.KeepAlive(db)
	if err != nil {
		return 0, err
	}
	if n > len(buf) {
		return n, &Error{Code: StatusBufferTooSmall, Msg: "buffer too small: the value has " + strconv.Itoa(n) + " bytes"}
	}
	return n, nil
}

func (db *DB) has(snap fkraw.Struct_SS_firkin_snapshot, ns fkraw.Struct_SS_firkin_ns, key []byte) (bool, error) {
	dt, derr := db.enter()
	if derr != nil {
		return false, derr
	}
	defer db.leave(dt)
	s := getScratch()
	err := wrap(fkraw.Fkb_contains(db.h, snap, ns, ptr(key), len(key), s.n))
	found := *s.n == 1
	putScratch(s)
	runtime.KeepAlive(db)
	return found && err == nil, err
}

func (db *DB) version(snap fkraw.Struct_SS_firkin_snapshot, ns fkraw.Struct_SS_firkin_ns, key []byte) (uint64, error) {
	dt, derr := db.enter()
	if derr != nil {
		return 0, derr
	}
	defer db.leave(dt)
	s := getScratch()
	err := wrap(fkraw.Fkb_get_version(db.h, snap, ns, ptr(key), len(key), s.n))
	v := uint64(*s.n)
	putScratch(s)
	runtime.KeepAlive(db)
	if err != nil {
		return 0, err
	}
	return v, nil
}

func (db *DB) multiGet(snap fkraw.Struct_SS_firkin_snapshot, ns fkraw.Struct_SS_firkin_ns, keys [][]byte) ([][]byte, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	size := 0
	for i, k := range keys {
		// The packed format's length field is 32 bits: a longer key would
		// wrap (4 GiB + 5 -> 5) and read another key's value.
		if err := checkU32Len(len(k), "key"); err != nil {
			e := err.(*Error)
			e.Msg = fmt.Sprintf("multi-get key %d: %s", i, e.Msg)
			return nil, e
		}
		size += 4 + len(k)
	}
	packed := make([]byte, 0, size)
	var l [4]byte
	for _, k := range keys {
		binary.LittleEndian.PutUint32(l[:], uint32(len(k)))
		packed = append(packed, l[:]...)
		packed = append(packed, k...)
	}
	s := getScratch()
	buf := s.buf
	var err error
	var n int64
	for {
		err = wrap(fkraw.Fkb_multi_get(db.h, snap, ns, ptr(packed), len(packed), ptr(buf), len(buf), s.n))
		n = *s.n
		if err != nil || n <= int64(len(buf)) {
			break
		}
		buf = make([]byte, n)
	}
	var out [][]byte
	if err == nil {
		out, err = decodeMultiGet(buf[:n], len(keys))
	}
	putScratch(s)
	if kf, ok := err.(*keyFailure); ok {
		err = db.multiGetKeyError(snap, ns, kf.index, keys[kf.index], kf.code)
	}
	runtime.KeepAlive(db)
	return out, err
}

// keyFailure is a multi-get key's own error status (decodeMultiGet).
type keyFailure struct {
	index int
	code  Status
}

func (e *keyFailure) Error() string { return fmt.Sprintf("multi-get key %d: %s", e.index, e.code) }

// multiGetKeyError is the error for key i of a multi-get, which failed with
// status code. The packed result carries a status per key but no message,
// and the multi-get call itself succeeded, which clears the library's
// message (firkin_last_error): the key is read again alone for it. Should
// that read give another outcome (the state changed meanwhile), the
// status's description stands in. "multi-get key N: <message>", as
// Python's "multi_get key N: <message>".
func (db *DB) multiGetKeyError(snap fkraw.Struct_SS_firkin_snapshot, ns fkraw.Struct_SS_firkin_ns, i int, key []byte, code Status) error {
	msg := code.String()
	_, err := db.get(snap, ns, key)
	var e *Error
	if errors.As(err, &e) && e.Code == code && e.Msg != "" {
		msg = e.Msg
	}
	return &Error{Code: code, Msg: fmt.Sprintf("multi-get key %d: %s", i, msg)}
}

// decodeMultiGet copies the values into one allocation and slices it.
func decodeMultiGet(b []byte, n int) ([][]byte, error) {
	data := make([]byte, len(b))
	copy(data, b)
	out := make([][]byte, n)
	off := 0
	for i := 0; i < n; i++ {
		if off+4 > len(data) {
			return nil, &Error{Code: StatusInternal, Msg: "short multi-get result"}
		}
		st := Status(int32(binary.LittleEndian.Uint32(data[off:])))
		off += 4
		switch st {
		case StatusOK:
			if off+4 > len(data) {
				return nil, &Error{Code: StatusInternal, Msg: "short multi-get result"}
			}
			vl := int(binary.LittleEndian.Uint32(data[off:]))
			off += 4
			if off+vl > len(data) {
				return nil, &Error{Code: StatusInternal, Msg: "short multi-get result"}
			}
			out[i] = data[off : off+vl : off+vl]
			off += vl
		case StatusNotFound:
		default:
			return nil, &keyFailure{index: i, code: st}
		}
	}
	return out, nil
}

func (db *DB) put(wo fkraw.Struct_SS_firkin_write_options, ns fkraw.Struct_SS_firkin_ns, key, val []byte) error {
	dt, derr := db.enter()
	if derr != nil {
		return derr
	}
	defer db.leave(dt)
	err := wrap(fkraw.Firkin_put(db.h, wo, ns, ptr(key), len(key), ptr(val), len(val)))
	runtime.KeepAlive(db)
	return err
}

func (db *DB) del(wo fkraw.Struct_SS_firkin_write_options, ns fkraw.Struct_SS_firkin_ns, key []byte) error {
	dt, derr := db.enter()
	if derr != nil {
		return derr
	}
	defer db.leave(dt)
	err := wrap(fkraw.Firkin_delete(db.h, wo, ns, ptr(key), len(key)))
	runtime.KeepAlive(db)
	return err
}

func (db *DB) cond(f func(n *int64) error) (bool, error) {
	dt, derr := db.enter()
	if derr != nil {
		return false, derr
	}
	defer db.leave(dt)
	s := getScratch()
	err := wrap(f(s.n))
	ok := *s.n == 1
	putScratch(s)
	runtime.KeepAlive(db)
	return ok && err == nil, err
}

func (db *DB) count(ns fkraw.Struct_SS_firkin_ns) (uint64, error) {
	dt, derr := db.enter()
	if derr != nil {
		return 0, derr
	}
	defer db.leave(dt)
	var n int64
	err := wrap(fkraw.Fkb_count(db.h, ns, &n))
	runtime.KeepAlive(db)
	return uint64(n), err
}

func (db *DB) newIterator(snap fkraw.Struct_SS_firkin_snapshot, ns fkraw.Struct_SS_firkin_ns) (*Iterator, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	var p int64
	err := wrap(fkraw.Fkb_iter_new(db.h, snap, ns, &p))
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	return newIteratorFrom(p), nil
}

// --- DB: the default namespace, latest state --------------------------------

// Get returns the value of key, or an error matching ErrNotFound if absent.
func (db *DB) Get(key []byte) ([]byte, error) { return db.get(nil, nil, key) }

// GetInto reads the value of key into buf and returns its size. If buf is
// too small it returns the size needed and ErrBufferTooSmall. No
// allocation. errors.Is(err, ErrBufferTooSmall) in the second case.
func (db *DB) GetInto(key, buf []byte) (int, error) { return db.getInto(nil, nil, key, buf) }

// Has reports whether key has a value.
func (db *DB) Has(key []byte) (bool, error) { return db.has(nil, nil, key) }

// Version returns the version of key's value (the sequence number of the
// write that stored it), 0 if absent. See CompareAndSwapVersion.
func (db *DB) Version(key []byte) (uint64, error) { return db.version(nil, nil, key) }

// MultiGet reads many keys at one snapshot; absent keys give nil entries.
func (db *DB) MultiGet(keys [][]byte) ([][]byte, error) { return db.multiGet(nil, nil, keys) }

// Put stores val under key.
func (db *DB) Put(key, val []byte) error { return db.put(nil, nil, key, val) }

// PutWith stores val under key with write options wo.
func (db *DB) PutWith(wo *WriteOptions, key, val []byte) error {
	h, err := wo.enter()
	if err != nil {
		return err
	}
	defer wo.leave()
	err = db.put(h, nil, key, val)
	runtime.KeepAlive(wo)
	return err
}

// Delete removes key (removing an absent key succeeds).
func (db *DB) Delete(key []byte) error { return db.del(nil, nil, key) }

// DeleteWith removes key with write options wo.
func (db *DB) DeleteWith(wo *WriteOptions, key []byte) error {
	h, err := wo.enter()
	if err != nil {
		return err
	}
	defer wo.leave()
	err = db.del(h, nil, key)
	runtime.KeepAlive(wo)
	return err
}

// PutIfAbsent stores val only if key is absent; false if it exists.
func (db *DB) PutIfAbsent(key, val []byte) (bool, error) {
	return db.cond(func(n *int64) error {
		return fkraw.Fkb_put_if_absent(db.h, nil, nil, ptr(key), len(key), ptr(val), len(val), n)
	})
}

// CompareAndSwap stores val only if key's value equals expected.
func (db *DB) CompareAndSwap(key, expected, val []byte) (bool, error) {
	return db.cond(func(n *int64) error {
		return fkraw.Fkb_cas(db.h, nil, nil, ptr(key), len(key), ptr(expected), len(expected), ptr(val), len(val), n)
	})
}

// CompareAndSwapVersion stores val only if key's version is expected
// (0 = key absent).
func (db *DB) CompareAndSwapVersion(key []byte, expected uint64, val []byte) (bool, error) {
	return db.cond(func(n *int64) error {
		return fkraw.Fkb_cas_version(db.h, nil, nil, ptr(key), len(key), expected, ptr(val), len(val), n)
	})
}

// Count is the number of live keys in the default namespace.
func (db *DB) Count() (uint64, error) { return db.count(nil) }

// NewIterator iterates the default namespace at a new snapshot.
func (db *DB) NewIterator() (*Iterator, error) { return db.newIterator(nil, nil) }

// Write applies a batch atomically.
func (db *DB) Write(b *Batch) error { return db.WriteWith(nil, b) }

// WriteWith applies a batch atomically with write options wo.
func (db *DB) WriteWith(wo *WriteOptions, b *Batch) error {
	dt, derr := db.enter()
	if derr != nil {
		return derr
	}
	defer db.leave(dt)
	wh, err := wo.enter()
	if err != nil {
		return err
	}
	defer wo.leave()
	if b == nil {
		return &Error{Code: StatusInvalidArgument, Msg: "batch is nil"}
	}
	if err := b.enter(); err != nil {
		return err
	}
	defer b.gate.leave()
	err = wrap(fkraw.Firkin_write(db.h, wh, b.h))
	runtime.KeepAlive(db)
	runtime.KeepAlive(wo)
	runtime.KeepAlive(b)
	return err
}

// Sync makes every acknowledged write durable now.
func (db *DB) Sync() error {
	dt, derr := db.enter()
	if derr != nil {
		return derr
	}
	defer db.leave(dt)
	err := wrap(fkraw.Firkin_sync(db.h))
	runtime.KeepAlive(db)
	return err
}

// Refresh moves a read-only handle to the latest durable state of the
// writer process that has the database open (firkin_refresh): what the
// writer made durable since the open or the last Refresh becomes visible.
// Reads in other goroutines see the old state until it is complete. On a
// writable handle it does nothing. A Refresh that dropped segments the
// writer retired makes older snapshots fail with ErrSnapshotTooOld.
func (db *DB) Refresh() error {
	dt, derr := db.enter()
	if derr != nil {
		return derr
	}
	defer db.leave(dt)
	err := wrap(fkraw.Firkin_refresh(db.h))
	runtime.KeepAlive(db)
	return err
}

// LastSeq is the newest published sequence number.
func (db *DB) LastSeq() (uint64, error) {
	dt, derr := db.enter()
	if derr != nil {
		return 0, derr
	}
	defer db.leave(dt)
	var n int64
	err := wrap(fkraw.Fkb_last_seq(db.h, &n))
	runtime.KeepAlive(db)
	return uint64(n), err
}

// Stats returns the database's statistics as a JSON object.
func (db *DB) Stats() (string, error) {
	dt, derr := db.enter()
	if derr != nil {
		return "", derr
	}
	defer db.leave(dt)
	b, err := readText(func(buf []byte, n *int64) error { return fkraw.Fkb_stats(db.h, ptr(buf), len(buf), n) })
	runtime.KeepAlive(db)
	return string(b), err
}

// Compact rewrites now every sealed segment that holds dead bytes.
func (db *DB) Compact() error {
	dt, derr := db.enter()
	if derr != nil {
		return derr
	}
	defer db.leave(dt)
	err := wrap(fkraw.Firkin_compact(db.h))
	runtime.KeepAlive(db)
	return err
}

// Checkpoint writes an index checkpoint now.
func (db *DB) Checkpoint() error {
	dt, derr := db.enter()
	if derr != nil {
		return derr
	}
	defer db.leave(dt)
	err := wrap(fkraw.Firkin_checkpoint(db.h))
	runtime.KeepAlive(db)
	return err
}

// Verify checks every record, the index and the namespace table, and
// returns the JSON report; a damaged database gives an error matching
// ErrCorruption.
func (db *DB) Verify() (string, error) {
	dt, derr := db.enter()
	if derr != nil {
		return "", derr
	}
	defer db.leave(dt)
	b, err := readTextSized(verifyReportSize, func(buf []byte, n *int64) error { return fkraw.Fkb_verify(db.h, ptr(buf), len(buf), n) })
	runtime.KeepAlive(db)
	return string(b), err
}

// VerifyPath verifies the database at path without a writer (read-only,
// nothing modified) and returns the JSON report. opts may be nil.
func VerifyPath(path string, opts *Options) (string, error) {
	oh, err := opts.enter()
	if err != nil {
		return "", err
	}
	defer opts.leave()
	if err := cString(path, "a path"); err != nil {
		return "", err
	}
	b, err := readTextSized(verifyReportSize, func(buf []byte, n *int64) error { return fkraw.Fkb_verify_path(path, oh, ptr(buf), len(buf), n) })
	runtime.KeepAlive(opts)
	return string(b), err
}
