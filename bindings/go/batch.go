package firkin

import (
	"runtime"

	"firkin.dev/firkin/internal/fkraw"
)

// Batch is a set of puts and deletes applied atomically by DB.Write, across
// namespaces (firkin_batch). Later operations on the same key win.
type Batch struct {
	h      fkraw.Struct_SS_firkin_batch
	closed bool
}

// NewBatch returns an empty batch.
func NewBatch() (*Batch, error) {
	var p int64
	if err := wrap(fkraw.Fkb_batch_new(&p)); err != nil {
		return nil, err
	}
	b := &Batch{h: fkraw.SwigcptrStruct_SS_firkin_batch(uintptr(p))}
	runtime.SetFinalizer(b, (*Batch).Close)
	return b, nil
}

func (b *Batch) check() error {
	if b == nil || b.closed {
		return errClosed("batch")
	}
	return nil
}

// Put queues a put in the default namespace.
func (b *Batch) Put(key, val []byte) error { return b.PutNS(nil, key, val) }

// PutNS queues a put in namespace ns (nil = default).
func (b *Batch) PutNS(ns *Namespace, key, val []byte) error {
	if err := b.check(); err != nil {
		return err
	}
	nh, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave()
	err = wrap(fkraw.Firkin_batch_put(b.h, nh, ptr(key), len(key), ptr(val), len(val)))
	runtime.KeepAlive(b)
	runtime.KeepAlive(ns)
	return err
}

// Delete queues a delete in the default namespace.
func (b *Batch) Delete(key []byte) error { return b.DeleteNS(nil, key) }

// DeleteNS queues a delete in namespace ns (nil = default).
func (b *Batch) DeleteNS(ns *Namespace, key []byte) error {
	if err := b.check(); err != nil {
		return err
	}
	nh, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave()
	err = wrap(fkraw.Firkin_batch_delete(b.h, nh, ptr(key), len(key)))
	runtime.KeepAlive(b)
	runtime.KeepAlive(ns)
	return err
}

// Clear empties the batch.
func (b *Batch) Clear() error {
	if err := b.check(); err != nil {
		return err
	}
	err := wrap(fkraw.Firkin_batch_clear(b.h))
	runtime.KeepAlive(b)
	return err
}

// Count is the number of queued operations.
func (b *Batch) Count() (int, error) {
	if err := b.check(); err != nil {
		return 0, err
	}
	var n int64
	err := wrap(fkraw.Fkb_batch_count(b.h, &n))
	runtime.KeepAlive(b)
	return int(n), err
}

// Close releases the batch. Closing twice is harmless.
func (b *Batch) Close() error {
	if b == nil || b.closed {
		return nil
	}
	b.closed = true
	runtime.SetFinalizer(b, nil)
	fkraw.Firkin_batch_free(b.h)
	return nil
}
