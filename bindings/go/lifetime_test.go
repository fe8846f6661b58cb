package firkin

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Close racing calls on the same DB from other goroutines: every call
// either succeeds or returns ErrClosed, nothing crashes, and once the
// calls are out the database is released (it reopens). Before the review
// of 2026-11-29 a call could pass the open check just before Close freed
// the C handle, then use it: SIGSEGV in firkin_put / firkin_get.
func TestCloseWhileCallsInFlight(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	for round := 0; round < 12; round++ {
		db, err := Open(path, nil)
		must(t, err)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		started := make(chan struct{}, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				key := []byte(fmt.Sprintf("k%d", g))
				started <- struct{}{}
				for i := 0; ; i++ {
					var err error
					switch i % 6 {
					case 0:
						err = db.Put(key, key)
					case 1:
						_, err = db.Get(key)
						if errors.Is(err, ErrNotFound) {
							err = nil
						}
					case 2:
						_, err = db.Has(key)
					case 3:
						var s *Snapshot
						if s, err = db.NewSnapshot(); err == nil {
							_, err = s.Get(key) // the snapshot outlives the DB handle
							if errors.Is(err, ErrNotFound) {
								err = nil
							}
							s.Close()
						}
					case 4:
						var it *Iterator
						if it, err = db.NewIterator(); err == nil {
							for n := 0; n < 4 && it.Next(); n++ {
							}
							err = it.Err()
							it.Close()
						}
					case 5:
						_, err = db.Count()
					}
					if err != nil {
						if !errors.Is(err, ErrClosed) {
							errs <- fmt.Errorf("goroutine %d op %d: %v", g, i%6, err)
						}
						return
					}
				}
			}(g)
		}
		for g := 0; g < 8; g++ {
			<-started
		}
		time.Sleep(2 * time.Millisecond)
		db.Close() // (nil, or the final flush's error: none expected here)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if _, err := db.Get([]byte("k0")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Get after Close: %v", err)
		}
	}
	db, err := Open(path, nil) // released: the lock is free again
	must(t, err)
	must(t, db.Close())
}

// Close from inside a call on the same handle (an Update's function)
// returns at once; the transaction still commits, and the handle is
// released when Update returns.
func TestCloseInsideUpdate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := Open(path, nil)
	must(t, err)
	err = db.Update(func(tx *Txn) error {
		if err := db.Close(); err != nil {
			return err
		}
		return tx.Put([]byte("k"), []byte("v"))
	})
	must(t, err)
	if err := db.Put([]byte("k2"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v", err)
	}
	db, err = Open(path, nil)
	must(t, err)
	defer db.Close()
	v, err := db.Get([]byte("k"))
	must(t, err)
	if string(v) != "v" {
		t.Fatalf("k = %q", v)
	}
}

// Close of a shared Namespace and Snapshot racing calls on them from other
// goroutines (both may be shared): every call succeeds or returns
// ErrClosed, nothing crashes. Before the gates a call could pass the
// handle's open check just before Close freed it (firkin_ns_close,
// firkin_snapshot_free), then use it.
func TestCloseSharedNamespaceAndSnapshotWhileInUse(t *testing.T) {
	db := openTemp(t)
	for round := 0; round < 12; round++ {
		ns, err := db.Namespace("shared")
		must(t, err)
		snap, err := db.NewSnapshot()
		must(t, err)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		started := make(chan struct{}, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				key := []byte(fmt.Sprintf("k%d", g))
				started <- struct{}{}
				nsDone, snapDone := false, false
				for i := 0; !nsDone || !snapDone; i++ {
					var err error
					onNs := i%2 == 0
					if onNs && nsDone || !onNs && snapDone {
						continue
					}
					switch i % 6 {
					case 0:
						err = ns.Put(key, key)
					case 1:
						_, err = snap.Get(key)
					case 2:
						_, err = ns.Get(key)
					case 3:
						_, err = snap.Has(key)
					case 4:
						var it *Iterator
						if it, err = ns.NewIterator(); err == nil {
							for n := 0; n < 4 && it.Next(); n++ {
							}
							err = it.Err()
							it.Close()
						}
					case 5:
						var it *Iterator
						if it, err = snap.NewIterator(); err == nil {
							for n := 0; n < 4 && it.Next(); n++ {
							}
							err = it.Err()
							it.Close()
						}
					}
					if errors.Is(err, ErrNotFound) {
						err = nil
					}
					if err != nil {
						if !errors.Is(err, ErrClosed) {
							errs <- fmt.Errorf("goroutine %d op %d: %v", g, i%6, err)
							return
						}
						if onNs {
							nsDone = true
						} else {
							snapDone = true
						}
					}
				}
			}(g)
		}
		for g := 0; g < 8; g++ {
			<-started
		}
		time.Sleep(2 * time.Millisecond)
		ns.Close()
		snap.Close()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

// A nil context for DB.Changes is refused at once: before, the stream's
// goroutine called ctx.Err() on it and the panic, out of the caller's
// reach, ended the process. (Found by calling every method of every handle
// with zero-valued arguments, open and closed: the only other panic was a
// nil *DB's Path.)
func TestChangesNilContext(t *testing.T) {
	db := openTemp(t)
	//lint:ignore SA1012 the misuse under test
	ch, errs, err := db.Changes(nil, 0) //nolint:staticcheck
	if err == nil {
		<-errs // (before: the stream's goroutine panicked here on the nil ctx)
		t.Fatal("Changes(nil ctx) started a stream")
	}
	if !errors.Is(err, ErrInvalidArgument) || ch != nil || errs != nil {
		t.Fatalf("Changes(nil ctx): %v", err)
	}
	var nilDB *DB
	if nilDB.Path() != "" {
		t.Fatal("nil DB has a path")
	}
}

// Iterator, Batch and ChangeCursor are for one goroutine at a time, but a
// Close from other goroutines (twice at once, or to stop a reader) must not
// free the C handle twice or under a call: before their gates (a plain bool)
// this test died of SIGSEGV in firkin_iter_free / firkin_batch_free (a
// double free, or a call on the freed handle) on each of 3 runs.
func TestCloseSingleGoroutineHandlesFromOthers(t *testing.T) {
	db := openTemp(t)
	for i := 0; i < 2000; i++ {
		must(t, db.Put([]byte(fmt.Sprintf("k%06d", i)), make([]byte, 50)))
	}
	for round := 0; round < 100; round++ {
		it, err := db.NewIterator()
		must(t, err)
		b, err := NewBatch()
		must(t, err)
		c, err := db.OpenChanges(0, true)
		must(t, err)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		started := make(chan struct{}, 3)
		wg.Add(3)
		go func() { // the iterator's reader
			defer wg.Done()
			started <- struct{}{}
			for it.Next() {
			}
			if err := it.Err(); err != nil && !errors.Is(err, ErrClosed) {
				errs <- err
			}
		}()
		go func() { // the batch's writer
			defer wg.Done()
			started <- struct{}{}
			for {
				if err := b.Put([]byte("k"), []byte("v")); err != nil {
					if !errors.Is(err, ErrClosed) {
						errs <- err
					}
					return
				}
			}
		}()
		go func() { // the cursor's reader, waiting for changes
			defer wg.Done()
			started <- struct{}{}
			for {
				for c.Next() {
				}
				if _, err := c.Wait(time.Millisecond); err != nil {
					if !errors.Is(err, ErrClosed) {
						errs <- err
					}
					return
				}
			}
		}()
		for g := 0; g < 3; g++ {
			<-started
		}
		for g := 0; g < 3; g++ { // closers, at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				it.Close()
				b.Close()
				c.Close()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

// A transaction is for one goroutine at a time, but a Close from other
// goroutines (three at once, while its owner writes into it) must free it
// once and never under a call: before its gate (a plain bool) the closers
// freed it twice, or under a Put.
func TestCloseTxnFromOthers(t *testing.T) {
	db := openTemp(t)
	for round := 0; round < 100; round++ {
		tx, err := db.Begin(IsolationSnapshot)
		must(t, err)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		started := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			close(started)
			for i := 0; ; i++ {
				var err error
				if i%2 == 0 {
					err = tx.Put([]byte(fmt.Sprintf("k%d", i%64)), []byte("v"))
				} else {
					_, err = tx.Get([]byte("k0"))
					if errors.Is(err, ErrNotFound) {
						err = nil
					}
				}
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						errs <- err
					}
					return
				}
			}
		}()
		<-started
		for g := 0; g < 3; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tx.Close()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

// Options and WriteOptions passed to calls from several goroutines while
// three other goroutines close them at once: every call succeeds with the
// options as set or returns ErrClosed, and the C object is freed once,
// after the last call in flight. Before their gates (2026-11-29; the
// closed check was a plain flag) a Close freed the C object under a call
// (a getter then read freed memory: a sync mode or option that was never
// set, an Open with error_if_exists or read_only taken from garbage), two
// closers could free it twice, and -race reported the flag.
func TestCloseWriteOptionsWhileInUse(t *testing.T) {
	db := openTemp(t)
	b, err := NewBatch()
	must(t, err)
	defer b.Close()
	must(t, b.Put([]byte("b"), []byte("v")))
	for round := 0; round < 60; round++ {
		wo, err := NewWriteOptions()
		must(t, err)
		must(t, wo.SetSync(SyncNone))
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		started := make(chan struct{}, 4)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				key := []byte(fmt.Sprintf("k%d", g))
				started <- struct{}{}
				for i := 0; ; i++ {
					var err error
					switch (g + i) % 4 {
					case 0, 2:
						var m SyncMode
						if m, err = wo.Sync(); err == nil && m != SyncNone {
							err = fmt.Errorf("write options read %v, set %v", m, SyncNone)
						}
					case 1:
						err = db.PutWith(wo, key, key)
					case 3:
						err = db.WriteWith(wo, b)
					}
					if err != nil {
						if !errors.Is(err, ErrClosed) {
							errs <- fmt.Errorf("goroutine %d: %v", g, err)
						}
						return
					}
				}
			}(g)
		}
		for g := 0; g < 4; g++ {
			<-started
		}
		for g := 0; g < 3; g++ { // closers, at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				wo.Close()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if _, err := wo.Sync(); !errors.Is(err, ErrClosed) {
			t.Fatalf("Sync after Close: %v", err)
		}
		if err := db.PutWith(wo, []byte("k"), nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("PutWith after Close: %v", err)
		}
	}
}

func TestCloseOptionsWhileInUse(t *testing.T) {
	dir := t.TempDir()
	for round := 0; round < 60; round++ {
		opts, err := NewOptions()
		must(t, err)
		must(t, opts.SetSyncMode(SyncNone))
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		started := make(chan struct{}, 4)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				path := filepath.Join(dir, fmt.Sprintf("db%d", g))
				started <- struct{}{}
				for i := 0; ; i++ {
					var err error
					if g == 0 { // an Open (of an existing database after the first)
						var db *DB
						if db, err = Open(path, opts); err == nil {
							err = db.Close()
						}
					} else {
						for _, want := range [][2]string{{"create_if_missing", "true"},
							{"error_if_exists", "false"}, {"read_only", "false"}, {"sync_mode", "none"}} {
							var v string
							if v, err = opts.Get(want[0]); err == nil && v != want[1] {
								err = fmt.Errorf("options read %s = %q, set %q", want[0], v, want[1])
							}
							if err != nil {
								break
							}
						}
					}
					if err != nil {
						if !errors.Is(err, ErrClosed) {
							errs <- fmt.Errorf("goroutine %d: %v", g, err)
						}
						return
					}
				}
			}(g)
		}
		for g := 0; g < 4; g++ {
			<-started
		}
		time.Sleep(time.Duration(round%3) * time.Millisecond) // (some rounds close under an Open)
		for g := 0; g < 3; g++ { // closers, at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				opts.Close()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if _, err := Open(filepath.Join(dir, "db0"), opts); !errors.Is(err, ErrClosed) {
			t.Fatalf("Open with closed options: %v", err)
		}
	}
}
