package firkin

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// A key of 4 GiB + 5 bytes was packed as uint32(len) = 5 and read another
// key's value without an error. A real one needs ~9 GB of RAM: this slice
// header claims that length over 8 real bytes, and MultiGet must refuse it
// (ErrTooLarge) before it reads or copies any of it.
func TestMultiGetKeyOver4GiB(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("other"), []byte("wrong value")))
	small := []byte("other\x00\x00\x00")
	huge := unsafe.Slice(&small[0], 1<<32+5)
	vals, err := db.MultiGet([][]byte{[]byte("x"), huge})
	if !errors.Is(err, ErrTooLarge) || vals != nil {
		t.Fatalf("MultiGet(4 GiB+5 key) = %q, %v; want ErrTooLarge", vals, err)
	}
	if !strings.Contains(err.Error(), "multi-get key 1") {
		t.Fatalf("message %q does not name the key", err)
	}
}

// A failing key keeps the library's message and names its index.
func TestMultiGetKeyErrorMessage(t *testing.T) {
	db := openTemp(t)
	ns, err := db.Namespace("n")
	must(t, err)
	defer ns.Close()
	snap, err := db.NewSnapshot()
	must(t, err)
	defer snap.Close()
	big := make([]byte, 65536)
	for name, mg := range map[string]func([][]byte) ([][]byte, error){
		"db": db.MultiGet, "ns": ns.MultiGet,
		"snap": snap.MultiGet,
	} {
		_, err := mg([][]byte{[]byte("a"), big})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%s: %v", name, err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "firkin: multi-get key 1: ") || !strings.Contains(msg, "65536") {
			t.Fatalf("%s: message %q lacks the key index or the library's message", name, msg)
		}
	}
}

// A NUL in a string for C would cut it there: DropNamespace("users\x00archive")
// dropped "users".
func TestNulInStringsRefused(t *testing.T) {
	db := openTemp(t)
	ns, err := db.Namespace("users")
	must(t, err)
	ns.Close()
	inval := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%s: %v, want ErrInvalidArgument", what, err)
		}
	}
	inval("DropNamespace", db.DropNamespace("users\x00archive"))
	_, err = db.Namespace("users\x00x")
	inval("Namespace", err)
	_, err = db.OpenNamespace("users\x00x", false)
	inval("OpenNamespace", err)
	_, err = db.CreateNamespace("users\x00x")
	inval("CreateNamespace", err)
	_, err = db.CreateNamespaceOrdered("users\x00x")
	inval("CreateNamespaceOrdered", err)
	names, err := db.Namespaces()
	must(t, err)
	if !strings.Contains(strings.Join(names, ","), "users") {
		t.Fatalf("users was dropped: %v", names)
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	_, err = Open(real+"\x00ignored", nil)
	inval("Open", err)
	_, err = VerifyPath(real+"\x00ignored", nil)
	inval("VerifyPath", err)
	_, err = db.Backup(real+"\x00ignored", nil)
	inval("Backup", err)
	_, err = Restore(real+"\x00ignored", filepath.Join(dir, "r"), nil)
	inval("Restore", err)
	_, err = Restore(filepath.Join(dir, "b"), real+"\x00ignored", nil)
	inval("Restore dest", err)
	o, err := NewOptions()
	must(t, err)
	defer o.Close()
	inval("Rekey", Rekey(real+"\x00ignored", o, o))
	if _, err := os.Stat(real); !os.IsNotExist(err) {
		t.Fatalf("%s was created: %v", real, err)
	}
	inval("Options.Set name", o.Set("sync_mode\x00x", "always"))
	inval("Options.Set value", o.Set("sync_mode", "always\x00x"))
	_, err = o.Get("sync_mode\x00x")
	inval("Options.Get", err)
	inval("SetPassphrase", o.SetPassphrase("pw\x00x"))
}

// Namespace and Snapshot handles may be shared, and closing twice is
// harmless: goroutines closing one handle at once must free it once.
// Close read and set a plain bool, so two could both free the C handle (a
// data race under -race; a double free in firkin_snapshot_free at worst).
func TestConcurrentCloseOfSharedHandles(t *testing.T) {
	db := openTemp(t)
	for round := 0; round < 50; round++ {
		snap, err := db.NewSnapshot()
		must(t, err)
		ns, err := db.Namespace("shared")
		must(t, err)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				snap.Close()
				ns.Close()
			}()
		}
		wg.Wait()
		if _, err := snap.Get([]byte("k")); !errors.Is(err, ErrClosed) {
			t.Fatalf("snapshot after close: %v", err)
		}
		if _, err := ns.Get([]byte("k")); !errors.Is(err, ErrClosed) {
			t.Fatalf("namespace after close: %v", err)
		}
	}
}

// An iteration that meets damage yields every entry before it, then the
// error: the entries C delivered in the same call as the error were dropped
// (the shared SWIG helper returned the error at once). The same iteration
// one entry per call is the reference.
func TestIteratorKeepsEntriesBeforeAnError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, nil)
	must(t, err)
	val := make([]byte, 200)
	for i := 0; i < 2000; i++ {
		must(t, db.Put([]byte(fmt.Sprintf("key%05d", i)), val))
	}
	must(t, db.Close())
	o, err := NewOptions()
	must(t, err)
	defer o.Close()
	must(t, o.SetVerifyChecksums(true))
	db, err = Open(dir, o)
	must(t, err)
	defer db.Close()
	// Damaged once open (the open may check any record; the file is mapped
	// shared, so the iteration reads the changed byte).
	seg := filepath.Join(dir, "0000000000000001.seg")
	data, err := os.ReadFile(seg)
	must(t, err)
	at := bytes.Index(data, []byte("key01000"))
	if at < 0 {
		t.Fatal("key01000 not found in the first segment")
	}
	f, err := os.OpenFile(seg, os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt([]byte{data[at+8+50] ^ 0xFF}, int64(at+8+50)) // inside its value
	must(t, err)
	must(t, f.Close())
	count := func(oneAtATime bool) int {
		it, err := db.NewIterator()
		must(t, err)
		defer it.Close()
		if oneAtATime {
			it.buf = make([]byte, 1) // grows to exactly one entry
		}
		n := 0
		for it.Next() {
			n++
		}
		if !errors.Is(it.Err(), ErrCorruption) {
			t.Fatalf("iteration ended with %v, want corruption", it.Err())
		}
		return n
	}
	whole, single := count(false), count(true)
	if whole != single || whole == 0 || whole >= 2000 {
		t.Fatalf("entries before the error: %d in batches, %d one at a time", whole, single)
	}
}

// Write(nil) is an invalid argument (it said "batch is closed"); Update and
// View with a nil function too (a nil pointer panic before).
func TestNilBatchAndFunction(t *testing.T) {
	db := openTemp(t)
	if err := db.Write(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Write(nil) = %v", err)
	}
	if err := db.Update(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Update(nil) = %v", err)
	}
	if err := db.View(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("View(nil) = %v", err)
	}
}

// A Seek with bad arguments leaves an ordered iterator as it was (firkin.h);
// it ended the iteration.
func TestSeekBadArgumentKeepsOrderedIterator(t *testing.T) {
	db := openTemp(t)
	ns, err := db.CreateNamespaceOrdered("o")
	must(t, err)
	defer ns.Close()
	for c := 'a'; c <= 'j'; c++ {
		must(t, ns.Put([]byte{byte(c)}, []byte("v")))
	}
	it, err := db.RangeIterator(ns, nil, nil, nil, false)
	must(t, err)
	defer it.Close()
	if !it.Next() {
		t.Fatal("no first entry")
	}
	if err := it.Seek(make([]byte, 70000)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Seek(70000 bytes) = %v", err)
	}
	n := 0
	for it.Next() {
		n++
	}
	if n != 9 || it.Err() != nil {
		t.Fatalf("after the refused seek: %d more entries, err %v; want 9, nil", n, it.Err())
	}
}
