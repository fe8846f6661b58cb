package firkin

import (
	"errors"
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
