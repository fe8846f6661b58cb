package firkin

import (
	"encoding/binary"
	"runtime"

	"firkin.dev/firkin/internal/fkraw"
)

const iterBufSize = 32 << 10

// Iterator visits every live key of a namespace exactly once, unordered, as
// of one snapshot (firkin_iter). Entries are fetched many at a time into an
// internal buffer (firkin_iter_next_n), so most calls to Next make no cgo
// call.
//
//	it, err := db.NewIterator()
//	if err != nil { ... }
//	defer it.Close()
//	for it.Next() {
//		use(it.Key(), it.Value())
//	}
//	if err := it.Err(); err != nil { ... }
type Iterator struct {
	h    fkraw.Struct_SS_firkin_iter
	n    *int64 // its own allocation (cgo pointer rules)
	buf  []byte
	data []byte
	off  int
	key  []byte
	val  []byte
	err  error
	done bool
	// calls in flight: Close frees h when the last is out, so a Close from
	// another goroutine (a misuse: one goroutine at a time) frees it once
	// and never under a call.
	gate gate
}

// Next moves to the next entry; false at the end or on an error (see Err).
func (it *Iterator) Next() bool {
	if !it.gate.enter() {
		if it.err == nil {
			it.err = errClosed("iterator")
		}
		return false
	}
	defer it.gate.leave()
	if it.done {
		return false
	}
	if it.off >= len(it.data) && !it.fill() {
		it.key, it.val = nil, nil
		return false
	}
	d := it.data[it.off:]
	if len(d) < 8 {
		return it.fail("short iterator entry")
	}
	kl := int(binary.LittleEndian.Uint32(d))
	vl := int(binary.LittleEndian.Uint32(d[4:]))
	if len(d) < 8+kl+vl {
		return it.fail("short iterator entry")
	}
	it.key = d[8 : 8+kl : 8+kl]
	it.val = d[8+kl : 8+kl+vl : 8+kl+vl]
	it.off += 8 + kl + vl
	return true
}

func (it *Iterator) fail(msg string) bool {
	it.err = &Error{Code: StatusInternal, Msg: msg}
	it.done = true
	it.key, it.val = nil, nil
	return false
}

func (it *Iterator) fill() bool {
	for {
		err := wrap(fkraw.Fkb_iter_next_n(it.h, ptr(it.buf), len(it.buf), it.n))
		runtime.KeepAlive(it)
		if err != nil {
			it.err = err
			it.done = true
			return false
		}
		if *it.n == 0 {
			it.done = true
			return false
		}
		if *it.n > int64(len(it.buf)) {
			it.buf = make([]byte, *it.n)
			continue
		}
		it.data = it.buf[:*it.n]
		it.off = 0
		return true
	}
}

// Key is the current entry's key. It is valid until the next call to Next;
// copy it to keep it.
func (it *Iterator) Key() []byte { return it.key }

// Value is the current entry's value, valid until the next call to Next.
func (it *Iterator) Value() []byte { return it.val }

// Err is the error that ended the iteration early, or nil.
func (it *Iterator) Err() error { return it.err }

// Close releases the iterator. Closing twice is harmless.
func (it *Iterator) Close() error {
	if it == nil {
		return nil
	}
	ok, ran, _ := it.gate.close()
	if !ok {
		return nil
	}
	if ran { // (else a Next in flight reads them: it frees the handle)
		it.key, it.val, it.data = nil, nil, nil
	}
	runtime.SetFinalizer(it, nil)
	return nil
}
