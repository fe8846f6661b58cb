package firkin

import (
	"runtime"

	"firkin.dev/firkin/internal/fkraw"
)

// Batch is a set of puts and deletes applied atomically by DB.Write, across
// namespaces (firkin_batch). Later operations on the same key win.
type Batch struct {
	h fkraw.Struct_SS_firkin_batch
	// calls in flight (DB.Write's too): Close frees h when the last is out,
	// so a Close from another goroutine (a misuse) frees it once and never
	// under a call.
	gate gate
}

// NewBatch returns an empty batch.
func NewBatch() (*Batch, error) {
	var p int64
	if err := wrap(fkraw.Fkb_batch_new(&p)); err != nil {
		return nil, err
	}
	h := fkraw.SwigcptrStruct_SS_firkin_batch(uintptr(p))
	b := &Batch{h: h}
	b.gate.free = func() error { fkraw.Firkin_batch_free(h); return nil }
	runtime.SetFinalizer(b, (*Batch).Close)
	return b, nil
}

// enter admits a call to the C handle (ErrClosed once Close ran); on nil
// the caller must call leave (defer b.gate.leave()).
func (b *Batch) enter() error {
	if b == nil || !b.gate.enter() {
		return errClosed("batch")
	}
	return nil
}

// Put queues a put in the default namespace.
func (b *Batch) Put(key, val []byte) error { return b.PutNS(nil, key, val) }

// PutNS queues a put in namespace ns (nil = default).
func (b *Batch) PutNS(ns *Namespace, key, val []byte) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.gate.leave()
	nh, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	err = wrap(fkraw.Firkin_batch_put(b.h, nh, ptr(key), len(key), ptr(val), len(val)))
	runtime.KeepAlive(b)
	runtime.KeepAlive(ns)
	return err
}

// Delete queues a delete in the default namespace.
func (b *Batch) Delete(key []byte) error { return b.DeleteNS(nil, key) }

// DeleteNS queues a delete in namespace ns (nil = default).
func (b *Batch) DeleteNS(ns *Namespace, key []byte) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.gate.leave()
	nh, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	err = wrap(fkraw.Firkin_batch_delete(b.h, nh, ptr(key), len(key)))
	runtime.KeepAlive(b)
	runtime.KeepAlive(ns)
	return err
}

// Clear empties the batch.
func (b *Batch) Clear() error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.gate.leave()
	err := wrap(fkraw.Firkin_batch_clear(b.h))
	runtime.KeepAlive(b)
	return err
}

// Count is the number of queued operations.
func (b *Batch) Count() (int, error) {
	if err := b.enter(); err != nil {
		return 0, err
	}
	defer b.gate.leave()
	var n int64
	err := wrap(fkraw.Fkb_batch_count(b.h, &n))
	runtime.KeepAlive(b)
	return int(n), err
}

// Close releases the batch. Closing twice is harmless.
func (b *Batch) Close() error {
	if b == nil {
		return nil
	}
	if ok, _, _ := b.gate.close(); ok {
		runtime.SetFinalizer(b, nil)
	}
	return nil
}
