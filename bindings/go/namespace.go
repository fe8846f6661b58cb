package firkin

import (
	"runtime"
	"strings"

	"firkin.dev/firkin/internal/fkraw"
)

// Namespace is a handle to a named key space of a DB (firkin_ns). Its
// operations mirror DB's. The handle keeps the database alive; operations
// still need the DB open. A handle of a dropped namespace gives
// ErrNamespaceNotFound.
type Namespace struct {
	db   *DB
	h    fkraw.Struct_SS_firkin_ns
	name string
	gate sharedGate // calls in flight (the handle may be shared); Close frees h when the last is out
}

// OpenNamespace opens namespace name, creating it if create is true
// (otherwise ErrNamespaceNotFound when it does not exist).
func (db *DB) OpenNamespace(name string, create bool) (*Namespace, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	if err := cString(name, "a namespace name"); err != nil {
		return nil, err
	}
	var p int64
	err := wrap(fkraw.Fkb_ns_open(db.h, name, create, &p))
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	return newNamespace(db, p), nil
}

// Namespace opens namespace name, creating it if needed.
func (db *DB) Namespace(name string) (*Namespace, error) { return db.OpenNamespace(name, true) }

// CreateNamespace creates namespace name; ErrExists if it exists.
func (db *DB) CreateNamespace(name string) (*Namespace, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	if err := cString(name, "a namespace name"); err != nil {
		return nil, err
	}
	var p int64
	err := wrap(fkraw.Fkb_ns_create(db.h, name, &p))
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	return newNamespace(db, p), nil
}

func newNamespace(db *DB, p int64) *Namespace {
	h := fkraw.SwigcptrStruct_SS_firkin_ns(uintptr(p))
	ns := &Namespace{db: db, h: h, name: fkraw.Firkin_ns_name(h)}
	ns.gate.free = func() error { fkraw.Firkin_ns_close(h); return nil }
	runtime.SetFinalizer(ns, (*Namespace).Close)
	return ns
}

// DropNamespace drops namespace name and all its keys.
func (db *DB) DropNamespace(name string) error {
	dt, derr := db.enter()
	if derr != nil {
		return derr
	}
	defer db.leave(dt)
	if err := cString(name, "a namespace name"); err != nil {
		return err
	}
	err := wrap(fkraw.Firkin_ns_drop(db.h, name))
	runtime.KeepAlive(db)
	return err
}

// Namespaces lists the namespaces, "default" included.
func (db *DB) Namespaces() ([]string, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	b, err := readText(func(buf []byte, n *int64) error { return fkraw.Fkb_ns_list(db.h, ptr(buf), len(buf), n) })
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	return strings.FieldsFunc(string(b), func(r rune) bool { return r == '\n' }), nil
}

// enter admits a call to the C handle (nil for the default namespace, a
// nil ns; ErrClosed once Close ran); on success the caller must call
// leave when done with it (defer ns.leave(nt)).
func (ns *Namespace) enter() (fkraw.Struct_SS_firkin_ns, int, error) {
	if ns == nil {
		return nil, 0, nil // the default namespace
	}
	t, ok := ns.gate.enter()
	if !ok {
		return nil, 0, errClosed("namespace " + ns.name)
	}
	return ns.h, t, nil
}

// leave ends a call admitted by enter, which returned t (its stripe of the gate).
func (ns *Namespace) leave(t int) {
	if ns != nil {
		ns.gate.leave(t)
	}
}

// Name is the namespace's name.
func (ns *Namespace) Name() string { return ns.name }

// Close releases the handle (not the namespace). Closing twice is
// harmless. Calls other goroutines have in flight on the handle finish
// (later ones return ErrClosed); the C handle is freed when the last
// returns.
func (ns *Namespace) Close() error {
	if ns == nil {
		return nil
	}
	if ok, _, _ := ns.gate.close(); ok {
		runtime.SetFinalizer(ns, nil)
	}
	return nil
}

// Get returns the value of key in this namespace (ErrNotFound if absent).
func (ns *Namespace) Get(key []byte) ([]byte, error) {
	h, nt, err := ns.enter()
	if err != nil {
		return nil, err
	}
	defer ns.leave(nt)
	v, err := ns.db.get(nil, h, key)
	runtime.KeepAlive(ns)
	return v, err
}

// GetInto reads the value of key into buf (see DB.GetInto).
func (ns *Namespace) GetInto(key, buf []byte) (int, error) {
	h, nt, err := ns.enter()
	if err != nil {
		return 0, err
	}
	defer ns.leave(nt)
	n, err := ns.db.getInto(nil, h, key, buf)
	runtime.KeepAlive(ns)
	return n, err
}

// Has reports whether key has a value in this namespace.
func (ns *Namespace) Has(key []byte) (bool, error) {
	h, nt, err := ns.enter()
	if err != nil {
		return false, err
	}
	defer ns.leave(nt)
	ok, err := ns.db.has(nil, h, key)
	runtime.KeepAlive(ns)
	return ok, err
}

// Version returns the version of key's value, 0 if absent.
func (ns *Namespace) Version(key []byte) (uint64, error) {
	h, nt, err := ns.enter()
	if err != nil {
		return 0, err
	}
	defer ns.leave(nt)
	v, err := ns.db.version(nil, h, key)
	runtime.KeepAlive(ns)
	return v, err
}

// MultiGet reads many keys of this namespace at one snapshot.
func (ns *Namespace) MultiGet(keys [][]byte) ([][]byte, error) {
	h, nt, err := ns.enter()
	if err != nil {
		return nil, err
	}
	defer ns.leave(nt)
	v, err := ns.db.multiGet(nil, h, keys)
	runtime.KeepAlive(ns)
	return v, err
}

// Put stores val under key in this namespace.
func (ns *Namespace) Put(key, val []byte) error { return ns.PutWith(nil, key, val) }

// PutWith stores val under key with write options wo.
func (ns *Namespace) PutWith(wo *WriteOptions, key, val []byte) error {
	h, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	wh, err := wo.enter()
	if err != nil {
		return err
	}
	defer wo.leave()
	err = ns.db.put(wh, h, key, val)
	runtime.KeepAlive(ns)
	runtime.KeepAlive(wo)
	return err
}

// Delete removes key from this namespace.
func (ns *Namespace) Delete(key []byte) error { return ns.DeleteWith(nil, key) }

// DeleteWith removes key with write options wo.
func (ns *Namespace) DeleteWith(wo *WriteOptions, key []byte) error {
	h, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	wh, err := wo.enter()
	if err != nil {
		return err
	}
	defer wo.leave()
	err = ns.db.del(wh, h, key)
	runtime.KeepAlive(ns)
	runtime.KeepAlive(wo)
	return err
}

// PutIfAbsent stores val only if key is absent in this namespace.
func (ns *Namespace) PutIfAbsent(key, val []byte) (bool, error) {
	h, nt, err := ns.enter()
	if err != nil {
		return false, err
	}
	defer ns.leave(nt)
	ok, err := ns.db.cond(func(n *int64) error {
		return fkraw.Fkb_put_if_absent(ns.db.h, nil, h, ptr(key), len(key), ptr(val), len(val), n)
	})
	runtime.KeepAlive(ns)
	return ok, err
}

// CompareAndSwap stores val only if key's value equals expected.
func (ns *Namespace) CompareAndSwap(key, expected, val []byte) (bool, error) {
	h, nt, err := ns.enter()
	if err != nil {
		return false, err
	}
	defer ns.leave(nt)
	ok, err := ns.db.cond(func(n *int64) error {
		return fkraw.Fkb_cas(ns.db.h, nil, h, ptr(key), len(key), ptr(expected), len(expected), ptr(val), len(val), n)
	})
	runtime.KeepAlive(ns)
	return ok, err
}

// CompareAndSwapVersion stores val only if key's version is expected.
func (ns *Namespace) CompareAndSwapVersion(key []byte, expected uint64, val []byte) (bool, error) {
	h, nt, err := ns.enter()
	if err != nil {
		return false, err
	}
	defer ns.leave(nt)
	ok, err := ns.db.cond(func(n *int64) error {
		return fkraw.Fkb_cas_version(ns.db.h, nil, h, ptr(key), len(key), expected, ptr(val), len(val), n)
	})
	runtime.KeepAlive(ns)
	return ok, err
}

// Count is the number of live keys in this namespace.
func (ns *Namespace) Count() (uint64, error) {
	h, nt, err := ns.enter()
	if err != nil {
		return 0, err
	}
	defer ns.leave(nt)
	n, err := ns.db.count(h)
	runtime.KeepAlive(ns)
	return n, err
}

// NewIterator iterates this namespace at a new snapshot.
func (ns *Namespace) NewIterator() (*Iterator, error) {
	h, nt, err := ns.enter()
	if err != nil {
		return nil, err
	}
	defer ns.leave(nt)
	it, err := ns.db.newIterator(nil, h)
	runtime.KeepAlive(ns)
	return it, err
}
