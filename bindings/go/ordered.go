package firkin

import (
	"errors"
	"runtime"

	"firkin.dev/firkin/internal/fkraw"
)

// Ordered namespaces: a namespace created with CreateNamespaceOrdered keeps
// its keys in byte order (memcmp, then the shorter first), so it can be
// read by range, prefix and reverse iterators that also Seek. Everything
// else works on it as on any namespace. The iterators are *Iterator values
// (Next / Key / Value / Err / Close as usual), with the same thread
// contract: one goroutine at a time.

// Flag values of capi/firkin.h.
const (
	nsOrdered   = 1 // FIRKIN_NS_ORDERED
	iterReverse = 1 // FIRKIN_ITER_REVERSE
)

// CreateNamespaceOrdered creates namespace name as an ordered namespace
// (firkin_ns_create_v2 with FIRKIN_NS_ORDERED; the property is durable);
// ErrExists if a namespace of that name exists, ordered or not.
func (db *DB) CreateNamespaceOrdered(name string) (*Namespace, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	if err := cString(name, "a namespace name"); err != nil {
		return nil, err
	}
	var p int64
	err := wrap(fkraw.Fkb_ns_create_v2(db.h, name, nsOrdered, &p))
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	return newNamespace(db, p), nil
}

// IsOrdered reports whether the namespace was created ordered
// (firkin_ns_flags). False for the default namespace (nil) and for a closed
// handle.
func (ns *Namespace) IsOrdered() bool {
	if ns == nil {
		return false
	}
	nt, ok := ns.gate.enter()
	if !ok {
		return false
	}
	defer ns.gate.leave(nt)
	var f int64
	err := fkraw.Fkb_ns_flags(ns.h, &f)
	runtime.KeepAlive(ns)
	return err == nil && f&nsOrdered != 0
}

func iterFlags(reverse bool) int {
	if reverse {
		return iterReverse
	}
	return 0
}

func newIteratorFrom(p int64) *Iterator {
	h := fkraw.SwigcptrStruct_SS_firkin_iter(uintptr(p))
	it := &Iterator{h: h, n: new(int64), buf: make([]byte, iterBufSize)}
	it.gate.free = func() error { fkraw.Firkin_iter_free(h); return nil }
	runtime.SetFinalizer(it, (*Iterator).Close)
	return it
}

// RangeIterator iterates the keys k of ordered namespace ns with
// start <= k < end in key order (descending if reverse), at snapshot snap
// (nil: a new snapshot of the latest state). A nil or empty start or end is
// no bound. start >= end gives an empty iterator. ErrInvalidArgument if ns
// is not ordered (nil is the default namespace, which is not).
func (db *DB) RangeIterator(ns *Namespace, snap *Snapshot, start, end []byte, reverse bool) (*Iterator, error) {
	return db.orderedIterator(ns, snap, func(sh fkraw.Struct_SS_firkin_snapshot, nh fkraw.Struct_SS_firkin_ns, p *int64) error {
		return fkraw.Fkb_range_iter_new(db.h, sh, nh, ptr(start), len(start), ptr(end), len(end), iterFlags(reverse), p)
	})
}

// PrefixIterator iterates the keys of ordered namespace ns that start with
// prefix (nil or empty: every key), as RangeIterator.
func (db *DB) PrefixIterator(ns *Namespace, snap *Snapshot, prefix []byte, reverse bool) (*Iterator, error) {
	return db.orderedIterator(ns, snap, func(sh fkraw.Struct_SS_firkin_snapshot, nh fkraw.Struct_SS_firkin_ns, p *int64) error {
		return fkraw.Fkb_prefix_iter_new(db.h, sh, nh, ptr(prefix), len(prefix), iterFlags(reverse), p)
	})
}

// orderedIterator checks the handles, calls open with the snapshot and
// namespace handles, and wraps the iterator it returns.
func (db *DB) orderedIterator(ns *Namespace, snap *Snapshot, open func(sh fkraw.Struct_SS_firkin_snapshot, nh fkraw.Struct_SS_firkin_ns, p *int64) error) (*Iterator, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	nh, nt, err := ns.enter()
	if err != nil {
		return nil, err
	}
	defer ns.leave(nt)
	sh, sn, err := snap.enter()
	if err != nil {
		return nil, err
	}
	defer snap.leave(sn)
	var p int64
	err = wrap(open(sh, nh, &p))
	runtime.KeepAlive(db)
	runtime.KeepAlive(ns)
	runtime.KeepAlive(snap)
	if err != nil {
		return nil, err
	}
	return newIteratorFrom(p), nil
}

// RangeIterator is DB.RangeIterator as the transaction sees ns now: its
// snapshot with its own uncommitted puts and deletes applied. Serializable:
// a write to ns committed by others after the snapshot makes the commit
// conflict (phantoms).
func (tx *Txn) RangeIterator(ns *Namespace, start, end []byte, reverse bool) (*Iterator, error) {
	nh, nt, err := tx.handles(ns)
	if err != nil {
		return nil, err
	}
	defer tx.gate.leave()
	defer ns.leave(nt)
	var p int64
	err = wrap(fkraw.Fkb_txn_range_iter_new(tx.h, nh, ptr(start), len(start), ptr(end), len(end), iterFlags(reverse), &p))
	runtime.KeepAlive(tx)
	runtime.KeepAlive(ns)
	if err != nil {
		return nil, err
	}
	return newIteratorFrom(p), nil
}

// PrefixIterator is DB.PrefixIterator as the transaction sees ns now.
func (tx *Txn) PrefixIterator(ns *Namespace, prefix []byte, reverse bool) (*Iterator, error) {
	nh, nt, err := tx.handles(ns)
	if err != nil {
		return nil, err
	}
	defer tx.gate.leave()
	defer ns.leave(nt)
	var p int64
	err = wrap(fkraw.Fkb_txn_prefix_iter_new(tx.h, nh, ptr(prefix), len(prefix), iterFlags(reverse), &p))
	runtime.KeepAlive(tx)
	runtime.KeepAlive(ns)
	if err != nil {
		return nil, err
	}
	return newIteratorFrom(p), nil
}

// Seek repositions an ordered iterator inside its range: forward to the
// first key >= key, reverse to the last key <= key. The next call to Next
// returns that entry (an iterator that had ended can seek again).
// ErrInvalidArgument on an iterator in hash order, which is left as it was.
func (it *Iterator) Seek(key []byte) error {
	if it == nil || !it.gate.enter() {
		return errClosed("iterator")
	}
	defer it.gate.leave()
	err := wrap(fkraw.Firkin_iter_seek(it.h, ptr(key), len(key)))
	runtime.KeepAlive(it)
	// Nothing moved: an unordered iterator (it cannot seek), or bad
	// arguments (firkin.h: the iterator and its status unchanged; until the
	// review of the bindings' API an ordered one was ended by them).
	if err != nil && (!it.IsOrdered() || errors.Is(err, ErrInvalidArgument)) {
		return err
	}
	it.data, it.off, it.key, it.val = nil, 0, nil, nil
	it.done, it.err = false, nil
	if err != nil {
		it.err, it.done = err, true
	}
	return err
}

// IsOrdered reports whether the iterator is ordered (made by RangeIterator
// or PrefixIterator); false once closed.
func (it *Iterator) IsOrdered() bool {
	if it == nil || !it.gate.enter() {
		return false
	}
	defer it.gate.leave()
	v := fkraw.Firkin_iter_is_ordered(it.h)
	runtime.KeepAlive(it)
	return v
}
