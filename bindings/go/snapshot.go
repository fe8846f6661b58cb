package firkin

import (
	"runtime"

	"firkin.dev/firkin/internal/fkraw"
)

// Snapshot is a consistent read view at a sequence number (firkin_snapshot).
// Reads through it see exactly the writes with a sequence number <= Seq().
// The *NS variants read namespace ns (nil = the default namespace).
type Snapshot struct {
	db   *DB
	h    fkraw.Struct_SS_firkin_snapshot
	seq  uint64
	gate sharedGate // calls in flight (the handle may be shared); Close frees h when the last is out
}

// NewSnapshot takes a snapshot of the latest state.
func (db *DB) NewSnapshot() (*Snapshot, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	var p int64
	err := wrap(fkraw.Fkb_snapshot_new(db.h, &p))
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	return newSnapshot(db, p), nil
}

// SnapshotAt is a snapshot at an older sequence number (time travel);
// reads give ErrSnapshotTooOld where the history is no longer kept.
func (db *DB) SnapshotAt(seq uint64) (*Snapshot, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	var p int64
	err := wrap(fkraw.Fkb_snapshot_at(db.h, seq, &p))
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	return newSnapshot(db, p), nil
}

func newSnapshot(db *DB, p int64) *Snapshot {
	h := fkraw.SwigcptrStruct_SS_firkin_snapshot(uintptr(p))
	s := &Snapshot{db: db, h: h, seq: fkraw.Firkin_snapshot_seq(h)}
	s.gate.free = func() error { fkraw.Firkin_snapshot_free(h); return nil }
	runtime.SetFinalizer(s, (*Snapshot).Close)
	return s
}

// enter admits a call to the C handle (nil for the latest state, a nil s;
// ErrClosed once Close ran); on success the caller must call leave when
// done with it (defer s.leave(sn)).
func (s *Snapshot) enter() (fkraw.Struct_SS_firkin_snapshot, int, error) {
	if s == nil {
		return nil, 0, nil // the latest state
	}
	t, ok := s.gate.enter()
	if !ok {
		return nil, 0, errClosed("snapshot")
	}
	return s.h, t, nil
}

// leave ends a call admitted by enter, which returned t (its stripe of the gate).
func (s *Snapshot) leave(t int) {
	if s != nil {
		s.gate.leave(t)
	}
}

// Seq is the snapshot's sequence number.
func (s *Snapshot) Seq() uint64 { return s.seq }

// Close releases the snapshot. Closing twice is harmless. Calls other
// goroutines have in flight on it finish (later ones return ErrClosed);
// the C handle is freed when the last returns.
func (s *Snapshot) Close() error {
	if s == nil {
		return nil
	}
	if ok, _, _ := s.gate.close(); ok {
		runtime.SetFinalizer(s, nil)
	}
	return nil
}

// Get returns the value of key in the default namespace at the snapshot.
func (s *Snapshot) Get(key []byte) ([]byte, error) { return s.GetNS(nil, key) }

// GetNS returns the value of key in namespace ns at the snapshot.
func (s *Snapshot) GetNS(ns *Namespace, key []byte) ([]byte, error) {
	sh, nh, sn, nt, err := s.handles(ns)
	if err != nil {
		return nil, err
	}
	defer s.leave(sn)
	defer ns.leave(nt)
	v, err := s.db.get(sh, nh, key)
	runtime.KeepAlive(s)
	runtime.KeepAlive(ns)
	return v, err
}

// Has reports whether key has a value at the snapshot.
func (s *Snapshot) Has(key []byte) (bool, error) { return s.HasNS(nil, key) }

// HasNS reports whether key has a value in ns at the snapshot.
func (s *Snapshot) HasNS(ns *Namespace, key []byte) (bool, error) {
	sh, nh, sn, nt, err := s.handles(ns)
	if err != nil {
		return false, err
	}
	defer s.leave(sn)
	defer ns.leave(nt)
	ok, err := s.db.has(sh, nh, key)
	runtime.KeepAlive(s)
	runtime.KeepAlive(ns)
	return ok, err
}

// Version returns the version of key's value at the snapshot, 0 if absent.
func (s *Snapshot) Version(key []byte) (uint64, error) { return s.VersionNS(nil, key) }

// VersionNS is Version in namespace ns.
func (s *Snapshot) VersionNS(ns *Namespace, key []byte) (uint64, error) {
	sh, nh, sn, nt, err := s.handles(ns)
	if err != nil {
		return 0, err
	}
	defer s.leave(sn)
	defer ns.leave(nt)
	v, err := s.db.version(sh, nh, key)
	runtime.KeepAlive(s)
	runtime.KeepAlive(ns)
	return v, err
}

// MultiGet reads many keys at the snapshot.
func (s *Snapshot) MultiGet(keys [][]byte) ([][]byte, error) { return s.MultiGetNS(nil, keys) }

// MultiGetNS reads many keys of ns at the snapshot.
func (s *Snapshot) MultiGetNS(ns *Namespace, keys [][]byte) ([][]byte, error) {
	sh, nh, sn, nt, err := s.handles(ns)
	if err != nil {
		return nil, err
	}
	defer s.leave(sn)
	defer ns.leave(nt)
	v, err := s.db.multiGet(sh, nh, keys)
	runtime.KeepAlive(s)
	runtime.KeepAlive(ns)
	return v, err
}

// NewIterator iterates the default namespace at the snapshot.
func (s *Snapshot) NewIterator() (*Iterator, error) { return s.NewIteratorNS(nil) }

// NewIteratorNS iterates namespace ns at the snapshot.
func (s *Snapshot) NewIteratorNS(ns *Namespace) (*Iterator, error) {
	sh, nh, sn, nt, err := s.handles(ns)
	if err != nil {
		return nil, err
	}
	defer s.leave(sn)
	defer ns.leave(nt)
	it, err := s.db.newIterator(sh, nh)
	runtime.KeepAlive(s)
	runtime.KeepAlive(ns)
	return it, err
}

// handles enters s (which must not be nil) and ns; on success the caller
// must leave both (defer s.leave(sn); defer ns.leave(nt)).
func (s *Snapshot) handles(ns *Namespace) (sh fkraw.Struct_SS_firkin_snapshot, nh fkraw.Struct_SS_firkin_ns, sn, nt int, err error) {
	if s == nil {
		return nil, nil, 0, 0, errClosed("snapshot")
	}
	sn, ok := s.gate.enter()
	if !ok {
		return nil, nil, 0, 0, errClosed("snapshot")
	}
	nh, nt, err = ns.enter()
	if err != nil {
		s.gate.leave(sn)
		return nil, nil, 0, 0, err
	}
	return s.h, nh, sn, nt, nil
}
