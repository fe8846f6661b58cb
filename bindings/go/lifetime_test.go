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
