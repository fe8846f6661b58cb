package firkin

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func mustGet(t *testing.T, get func([]byte) ([]byte, error), key, want string) {
	t.Helper()
	v, err := get([]byte(key))
	if err != nil || string(v) != want {
		t.Fatalf("Get(%q) = %q, %v; want %q", key, v, err, want)
	}
}

func mustAbsent(t *testing.T, get func([]byte) ([]byte, error), key string) {
	t.Helper()
	if v, err := get([]byte(key)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

func TestTxnReadYourWritesAndCommit(t *testing.T) {
	db := openTemp(t)
	users, err := db.Namespace("users")
	must(t, err)
	defer users.Close()
	must(t, db.Put([]byte("a"), []byte("1")))
	tx, err := db.Begin(IsolationSnapshot)
	must(t, err)
	defer tx.Close()
	last, _ := db.LastSeq()
	if tx.SnapshotSeq() != last || tx.Isolation() != IsolationSnapshot {
		t.Fatalf("SnapshotSeq %d (last %d), Isolation %v", tx.SnapshotSeq(), last, tx.Isolation())
	}
	mustGet(t, tx.Get, "a", "1")
	must(t, tx.Put([]byte("a"), []byte("2")))
	must(t, tx.Put([]byte("b"), []byte("\x00x")))
	must(t, tx.PutNS(users, []byte("ada"), []byte("lovelace")))
	must(t, tx.Put([]byte("empty"), nil))
	mustGet(t, tx.Get, "a", "2")
	mustGet(t, tx.Get, "b", "\x00x")
	mustGet(t, tx.Get, "empty", "")
	mustGet(t, func(k []byte) ([]byte, error) { return tx.GetNS(users, k) }, "ada", "lovelace")
	mustAbsent(t, tx.Get, "ada")
	big := strings.Repeat("v", 1000) // larger than the transaction's scratch buffer
	must(t, tx.Put([]byte("big"), []byte(big)))
	mustGet(t, tx.Get, "big", big)
	if ok, err := tx.Has([]byte("b")); err != nil || !ok {
		t.Fatalf("Has(b) = %v %v", ok, err)
	}
	// nothing is visible outside before the commit
	mustGet(t, db.Get, "a", "1")
	mustAbsent(t, db.Get, "b")
	must(t, tx.Delete([]byte("a")))
	mustAbsent(t, tx.Get, "a")
	must(t, tx.Commit())
	last, _ = db.LastSeq()
	if tx.CommitSeq() != last || last <= tx.SnapshotSeq() {
		t.Fatalf("CommitSeq %d, LastSeq %d", tx.CommitSeq(), last)
	}
	mustAbsent(t, db.Get, "a")
	mustGet(t, db.Get, "b", "\x00x")
	mustGet(t, users.Get, "ada", "lovelace")
}

func TestTxnUseAfterFinish(t *testing.T) {
	db := openTemp(t)
	tx, err := db.Begin(IsolationSnapshot)
	must(t, err)
	must(t, tx.Put([]byte("k"), []byte("v")))
	must(t, tx.Commit())
	if err := tx.Put([]byte("k"), []byte("w")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Put after Commit: %v", err)
	}
	if _, err := tx.Get([]byte("k")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Get after Commit: %v", err)
	}
	if err := tx.Commit(); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("second Commit: %v", err)
	}
	if err := tx.Rollback(); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Rollback after Commit: %v", err)
	}
	must(t, tx.Close())
	must(t, tx.Close())
	if _, err := tx.Get([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	var nilTx *Txn
	if err := nilTx.Put([]byte("k"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("nil Txn: %v", err)
	}
}

func TestTxnRollback(t *testing.T) {
	db := openTemp(t)
	tx, err := db.Begin(IsolationSnapshot)
	must(t, err)
	must(t, tx.Put([]byte("k"), []byte("v")))
	must(t, tx.Rollback())
	if err := tx.Put([]byte("k"), []byte("v")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Put after Rollback: %v", err)
	}
	tx.Close()
	mustAbsent(t, db.Get, "k")
	// Close without Commit rolls back
	tx, err = db.Begin(IsolationSerializable)
	must(t, err)
	must(t, tx.Put([]byte("k"), []byte("v")))
	tx.Close()
	mustAbsent(t, db.Get, "k")
}

func TestTxnSnapshotWriteWriteConflict(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("x"), []byte("0")))
	t1, err := db.Begin(IsolationSnapshot)
	must(t, err)
	defer t1.Close()
	t2, err := db.Begin(IsolationSnapshot)
	must(t, err)
	defer t2.Close()
	must(t, t1.Put([]byte("x"), []byte("1")))
	must(t, t2.Put([]byte("x"), []byte("2")))
	must(t, t1.Commit())
	err = t2.Commit()
	var fe *Error
	if !errors.Is(err, ErrConflict) || !errors.As(err, &fe) || !strings.Contains(fe.Msg, "x") {
		t.Fatalf("second commit: %v", err)
	}
	mustGet(t, db.Get, "x", "1")
	// under SI a key only read may change: no conflict
	t3, err := db.Begin(IsolationSnapshot)
	must(t, err)
	defer t3.Close()
	mustGet(t, t3.Get, "x", "1")
	must(t, db.Put([]byte("x"), []byte("9")))
	mustGet(t, t3.Get, "x", "1") // its snapshot
	must(t, t3.Put([]byte("y"), []byte("1")))
	must(t, t3.Commit())
}

func TestTxnSerializableReadWriteConflict(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("x"), []byte("0")))
	for _, iso := range []Isolation{IsolationSnapshot, IsolationSerializable} {
		// write skew: each reads what the other writes
		t1, err := db.Begin(iso)
		must(t, err)
		t2, err := db.Begin(iso)
		must(t, err)
		mustAbsent(t, t1.Get, "y")
		mustGet(t, t2.Get, "x", "0")
		must(t, t1.Put([]byte("x"), []byte("0")))
		must(t, t2.Put([]byte("y"), []byte("2")))
		must(t, t1.Commit())
		err = t2.Commit()
		if iso == IsolationSerializable && !errors.Is(err, ErrConflict) {
			t.Fatalf("serializable write skew committed: %v", err)
		}
		if iso == IsolationSnapshot && err != nil {
			t.Fatalf("snapshot isolation: %v", err)
		}
		t1.Close()
		t2.Close()
		must(t, db.Delete([]byte("y")))
	}
	// a phantom in an iterated namespace
	tx, err := db.Begin(IsolationSerializable)
	must(t, err)
	defer tx.Close()
	it, err := tx.NewIterator()
	must(t, err)
	for it.Next() {
	}
	must(t, it.Err())
	it.Close()
	must(t, tx.Put([]byte("count"), []byte("1")))
	must(t, db.Put([]byte("phantom"), []byte("!")))
	if err := tx.Commit(); !errors.Is(err, ErrConflict) {
		t.Fatalf("phantom: %v", err)
	}
}

func TestTxnIterator(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("a"), []byte("1")))
	must(t, db.Put([]byte("b"), []byte("2")))
	tx, err := db.Begin(IsolationSnapshot)
	must(t, err)
	defer tx.Close()
	must(t, tx.Put([]byte("c"), []byte("3")))
	must(t, tx.Delete([]byte("a")))
	must(t, tx.Put([]byte("b"), []byte("22")))
	it, err := tx.NewIterator()
	must(t, err)
	must(t, tx.Put([]byte("d"), []byte("4"))) // not seen by the iterator made before
	var got []string
	for it.Next() {
		got = append(got, string(it.Key())+"="+string(it.Value()))
	}
	must(t, it.Err())
	it.Close()
	sort.Strings(got)
	if fmt.Sprint(got) != "[b=22 c=3]" {
		t.Fatalf("iterated %v", got)
	}
}

func TestTxnCompareAndSwap(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("k"), []byte("old")))
	err := db.Update(func(tx *Txn) error {
		if ok, err := tx.CompareAndSwap([]byte("k"), []byte("nope"), []byte("new")); ok || err != nil {
			return fmt.Errorf("CAS with a wrong value: %v %v", ok, err)
		}
		mustGet(t, tx.Get, "k", "old")
		if ok, err := tx.CompareAndSwap([]byte("k"), []byte("old"), []byte("new")); !ok || err != nil {
			return fmt.Errorf("CAS: %v %v", ok, err)
		}
		return nil
	})
	must(t, err)
	mustGet(t, db.Get, "k", "new")
}

func TestTxnUpdateRetries(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("n"), []byte("0")))
	attempts := 0
	err := db.Update(func(tx *Txn) error {
		attempts++
		v, err := tx.Get([]byte("n"))
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(string(v))
		if attempts <= 2 { // a concurrent commit: this attempt conflicts
			must(t, db.Put([]byte("n"), []byte(strconv.Itoa(n+100))))
		}
		return tx.Put([]byte("n"), []byte(strconv.Itoa(n+1)))
	})
	must(t, err)
	if attempts != 3 {
		t.Fatalf("attempts = %d, want 3", attempts)
	}
	mustGet(t, db.Get, "n", "201")

	// always conflicting: gives up after Attempts, with a conflict error
	attempts = 0
	err = db.UpdateWith(&TxnOptions{Attempts: 4}, func(tx *Txn) error {
		attempts++
		must(t, tx.Put([]byte("n"), []byte("x")))
		return db.Put([]byte("n"), []byte("y"))
	})
	if !errors.Is(err, ErrConflict) || attempts != 4 || StatusOf(err) != StatusConflict {
		t.Fatalf("UpdateWith: %v after %d attempts", err, attempts)
	}
	mustGet(t, db.Get, "n", "y")

	// fn's error: rolled back, returned, not retried
	attempts = 0
	boom := errors.New("boom")
	err = db.Update(func(tx *Txn) error {
		attempts++
		must(t, tx.Put([]byte("n"), []byte("z")))
		return boom
	})
	if err != boom || attempts != 1 {
		t.Fatalf("fn error: %v after %d attempts", err, attempts)
	}
	mustGet(t, db.Get, "n", "y")

	// Commit inside Update is refused; Attempts < 0 too
	err = db.Update(func(tx *Txn) error { return tx.Commit() })
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Commit in Update: %v", err)
	}
	if err := db.UpdateWith(&TxnOptions{Attempts: -1}, func(*Txn) error { return nil }); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Attempts -1: %v", err)
	}
}

func TestTxnView(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("k"), []byte("v")))
	err := db.View(func(tx *Txn) error {
		mustGet(t, tx.Get, "k", "v")
		if err := tx.Put([]byte("k"), []byte("w")); !errors.Is(err, ErrReadOnly) {
			t.Errorf("Put in View: %v", err)
		}
		if err := tx.Delete([]byte("k")); !errors.Is(err, ErrReadOnly) {
			t.Errorf("Delete in View: %v", err)
		}
		if err := tx.Commit(); !errors.Is(err, ErrReadOnly) {
			t.Errorf("Commit in View: %v", err)
		}
		return nil
	})
	must(t, err)
	mustGet(t, db.Get, "k", "v")
}

func TestTxnConcurrentIncrements(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("ctr"), []byte("0")))
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				err := db.UpdateWith(&TxnOptions{Attempts: 10000}, func(tx *Txn) error {
					v, err := tx.Get([]byte("ctr"))
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(string(v))
					return tx.Put([]byte("ctr"), []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	mustGet(t, db.Get, "ctr", "400")
}

func TestTxnBadInput(t *testing.T) {
	db := openTemp(t)
	other, err := Open(filepath.Join(t.TempDir(), "other"), nil)
	must(t, err)
	defer other.Close()
	ons, err := other.Namespace("o")
	must(t, err)
	defer ons.Close()
	tx, err := db.Begin(IsolationSnapshot)
	must(t, err)
	defer tx.Close()
	if err := tx.PutNS(ons, []byte("k"), []byte("v")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("namespace of another database: %v", err)
	}
	if err := tx.Put(make([]byte, 70000), []byte("v")); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized key: %v", err)
	}
	if _, err := db.Begin(Isolation(7)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown isolation: %v", err)
	}
	db.Close()
	if _, err := db.Begin(IsolationSnapshot); !errors.Is(err, ErrClosed) {
		t.Fatalf("Begin on a closed DB: %v", err)
	}
}
