package firkin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "db"), nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPutGetDelete(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("k"), []byte("v")))
	v, err := db.Get([]byte("k"))
	must(t, err)
	if string(v) != "v" {
		t.Fatalf("Get = %q", v)
	}
	must(t, db.Put([]byte("bin\x00key"), []byte{0, 1, 2, 0}))
	v, err = db.Get([]byte("bin\x00key"))
	must(t, err)
	if !bytes.Equal(v, []byte{0, 1, 2, 0}) {
		t.Fatalf("embedded NULs: %q", v)
	}
	must(t, db.Put([]byte("empty"), nil))
	v, err = db.Get([]byte("empty"))
	if err != nil || v == nil || len(v) != 0 {
		t.Fatalf("empty value: %q %v", v, err)
	}
	must(t, db.Delete([]byte("k")))
	_, err = db.Get([]byte("k"))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	ok, err := db.Has([]byte("k"))
	if err != nil || ok {
		t.Fatalf("Has after Delete: %v %v", ok, err)
	}
	must(t, db.Delete([]byte("never-there")))
}

func TestLargeValue(t *testing.T) {
	db := openTemp(t)
	big := bytes.Repeat([]byte("0123456789"), 100000) // 1 MB: larger than the scratch buffer
	must(t, db.Put([]byte("big"), big))
	v, err := db.Get([]byte("big"))
	must(t, err)
	if !bytes.Equal(v, big) {
		t.Fatal("large value differs")
	}
	buf := make([]byte, 10)
	n, err := db.GetInto([]byte("big"), buf)
	if !errors.Is(err, ErrBufferTooSmall) || n != len(big) {
		t.Fatalf("GetInto small buffer: %d %v", n, err)
	}
}

func TestErrorCarriesStatusAndMessage(t *testing.T) {
	db := openTemp(t)
	err := db.Put(nil, []byte("v")) // empty key
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty key: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != StatusInvalidArgument || e.Msg == "" {
		t.Fatalf("error carries no status/message: %#v", err)
	}
	if StatusOf(err) != StatusInvalidArgument || StatusOf(nil) != StatusOK {
		t.Fatal("StatusOf")
	}
	if !strings.HasPrefix(err.Error(), "firkin: ") {
		t.Fatalf("Error() = %q", err.Error())
	}
	err = db.Put(bytes.Repeat([]byte("k"), MaxKeySize+1), nil)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized key: %v", err)
	}
	// Reads take a path without a status string (fkb_get_n): a failure
	// still carries its status and message.
	_, err = db.Get(nil)
	if !errors.As(err, &e) || e.Code != StatusInvalidArgument || e.Msg == "" {
		t.Fatalf("Get(empty key): %#v", err)
	}
	_, err = db.GetInto(bytes.Repeat([]byte("k"), MaxKeySize+1), make([]byte, 8))
	if !errors.As(err, &e) || e.Code != StatusTooLarge || e.Msg == "" {
		t.Fatalf("GetInto(oversized key): %#v", err)
	}
}

// Messages are read in the failing cgo call, so each goroutine sees its own
// even though goroutines move between OS threads.
func TestErrorMessagesPerGoroutine(t *testing.T) {
	db := openTemp(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				var err error
				var want Status
				if (i+g)%2 == 0 {
					_, err = db.OpenNamespace(fmt.Sprintf("missing%d", g), false)
					want = StatusNamespaceNotFound
				} else {
					err = db.Put(nil, nil)
					want = StatusInvalidArgument
				}
				var e *Error
				if !errors.As(err, &e) || e.Code != want || e.Msg == "" {
					errs <- fmt.Errorf("goroutine %d: want %v, got %#v", g, want, err)
					return
				}
				if want == StatusNamespaceNotFound && !strings.Contains(e.Msg, fmt.Sprintf("missing%d", g)) {
					// the library names the namespace in the message when it can
					if strings.Contains(e.Msg, "missing") {
						errs <- fmt.Errorf("goroutine %d got another goroutine's message %q", g, e.Msg)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "db"), nil)
	must(t, err)
	ns, err := db.Namespace("n")
	must(t, err)
	snap, err := db.NewSnapshot()
	must(t, err)
	it, err := db.NewIterator()
	must(t, err)
	b, err := NewBatch()
	must(t, err)
	o, err := NewOptions()
	must(t, err)
	wo, err := NewWriteOptions()
	must(t, err)

	must(t, it.Close())
	must(t, it.Close())
	if it.Next() || !errors.Is(it.Err(), ErrClosed) {
		t.Fatal("closed iterator")
	}
	must(t, snap.Close())
	must(t, snap.Close())
	if _, err := snap.Get([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed snapshot: %v", err)
	}
	must(t, ns.Close())
	must(t, ns.Close())
	if err := ns.Put([]byte("k"), []byte("v")); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed namespace: %v", err)
	}
	must(t, b.Close())
	must(t, b.Close())
	if err := b.Put([]byte("k"), []byte("v")); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed batch: %v", err)
	}
	o.Close()
	o.Close()
	if err := o.Set("read_only", "true"); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed options: %v", err)
	}
	if _, err := Open(t.TempDir(), o); !errors.Is(err, ErrClosed) {
		t.Fatalf("Open with closed options: %v", err)
	}
	wo.Close()
	wo.Close()
	if err := db.PutWith(wo, []byte("k"), []byte("v")); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed write options: %v", err)
	}
	must(t, db.Close())
	must(t, db.Close())
	if _, err := db.Get([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed db Get: %v", err)
	}
	if err := db.Put([]byte("k"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed db Put: %v", err)
	}
	if _, err := db.NewIterator(); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed db NewIterator: %v", err)
	}
}

func TestChildrenOutliveClose(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("a"), []byte("1")))
	it, err := db.NewIterator()
	must(t, err)
	defer it.Close()
	must(t, db.Close())
	n := 0
	for it.Next() {
		n++
	}
	must(t, it.Err())
	if n != 1 {
		t.Fatalf("iterator after db.Close saw %d entries", n)
	}
}

func TestBatchAndSnapshot(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("a"), []byte("old")))
	snap, err := db.NewSnapshot()
	must(t, err)
	defer snap.Close()
	ns, err := db.Namespace("other")
	must(t, err)
	defer ns.Close()
	b, err := NewBatch()
	must(t, err)
	defer b.Close()
	must(t, b.Put([]byte("a"), []byte("new")))
	must(t, b.Put([]byte("b"), []byte("2")))
	must(t, b.PutNS(ns, []byte("c"), []byte("3")))
	must(t, b.Delete([]byte("zz")))
	if n, err := b.Count(); err != nil || n != 4 {
		t.Fatalf("Count = %d %v", n, err)
	}
	wo, err := NewWriteOptions()
	must(t, err)
	defer wo.Close()
	must(t, wo.SetSync(SyncAlways))
	if m, err := wo.Sync(); err != nil || m != SyncAlways {
		t.Fatalf("wo.Sync = %v %v", m, err)
	}
	must(t, db.WriteWith(wo, b))
	v, err := db.Get([]byte("a"))
	must(t, err)
	if string(v) != "new" {
		t.Fatalf("after batch: %q", v)
	}
	v, err = ns.Get([]byte("c"))
	must(t, err)
	if string(v) != "3" {
		t.Fatalf("batch in namespace: %q", v)
	}
	v, err = snap.Get([]byte("a"))
	must(t, err)
	if string(v) != "old" {
		t.Fatalf("snapshot sees %q", v)
	}
	if _, err := snap.Get([]byte("b")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("snapshot sees later key: %v", err)
	}
	if seq, err := db.LastSeq(); err != nil || seq <= snap.Seq() {
		t.Fatalf("LastSeq %d vs snapshot %d (%v)", seq, snap.Seq(), err)
	}
}

func TestNamespaces(t *testing.T) {
	db := openTemp(t)
	ns, err := db.CreateNamespace("users")
	must(t, err)
	defer ns.Close()
	if _, err := db.CreateNamespace("users"); !errors.Is(err, ErrExists) {
		t.Fatalf("create twice: %v", err)
	}
	if _, err := db.OpenNamespace("nope", false); !errors.Is(err, ErrNamespaceNotFound) {
		t.Fatalf("open missing: %v", err)
	}
	must(t, ns.Put([]byte("k"), []byte("in-users")))
	must(t, db.Put([]byte("k"), []byte("in-default")))
	v, _ := ns.Get([]byte("k"))
	w, _ := db.Get([]byte("k"))
	if string(v) != "in-users" || string(w) != "in-default" {
		t.Fatalf("namespaces mixed: %q %q", v, w)
	}
	names, err := db.Namespaces()
	must(t, err)
	if strings.Join(names, ",") != "default,users" && strings.Join(names, ",") != "users,default" {
		t.Fatalf("Namespaces = %q", names)
	}
	if n, err := ns.Count(); err != nil || n != 1 {
		t.Fatalf("Count = %d %v", n, err)
	}
	must(t, db.DropNamespace("users"))
	if _, err := ns.Get([]byte("k")); !errors.Is(err, ErrNamespaceNotFound) || !strings.Contains(err.Error(), "users") {
		t.Fatalf("dropped namespace: %v", err)
	}
}

func TestConditionalWrites(t *testing.T) {
	db := openTemp(t)
	ok, err := db.PutIfAbsent([]byte("k"), []byte("1"))
	if err != nil || !ok {
		t.Fatalf("PutIfAbsent new: %v %v", ok, err)
	}
	ok, err = db.PutIfAbsent([]byte("k"), []byte("2"))
	if err != nil || ok {
		t.Fatalf("PutIfAbsent existing: %v %v", ok, err)
	}
	ok, err = db.CompareAndSwap([]byte("k"), []byte("1"), []byte("2"))
	if err != nil || !ok {
		t.Fatalf("CAS match: %v %v", ok, err)
	}
	ok, err = db.CompareAndSwap([]byte("k"), []byte("1"), []byte("3"))
	if err != nil || ok {
		t.Fatalf("CAS mismatch: %v %v", ok, err)
	}
	ver, err := db.Version([]byte("k"))
	must(t, err)
	if ver == 0 {
		t.Fatal("Version of a present key is 0")
	}
	ok, err = db.CompareAndSwapVersion([]byte("k"), ver, []byte("4"))
	if err != nil || !ok {
		t.Fatalf("CASVersion match: %v %v", ok, err)
	}
	ok, err = db.CompareAndSwapVersion([]byte("k"), ver, []byte("5"))
	if err != nil || ok {
		t.Fatalf("CASVersion stale: %v %v", ok, err)
	}
	if v, err := db.Version([]byte("absent")); err != nil || v != 0 {
		t.Fatalf("Version of absent key: %d %v", v, err)
	}
}

func TestIteratorAndMultiGet(t *testing.T) {
	db := openTemp(t)
	want := map[string]string{}
	for i := 0; i < 5000; i++ {
		k, v := fmt.Sprintf("key-%d", i), fmt.Sprintf("value-%d", i)
		want[k] = v
		must(t, db.Put([]byte(k), []byte(v)))
	}
	big := strings.Repeat("x", 100000) // larger than the iterator's buffer
	want["big"] = big
	must(t, db.Put([]byte("big"), []byte(big)))
	it, err := db.NewIterator()
	must(t, err)
	defer it.Close()
	got := map[string]string{}
	for it.Next() {
		k := string(it.Key())
		if _, dup := got[k]; dup {
			t.Fatalf("key %q twice", k)
		}
		got[k] = string(it.Value())
	}
	must(t, it.Err())
	if len(got) != len(want) {
		t.Fatalf("iterated %d entries, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("entry %q = %q", k, got[k])
		}
	}
	vals, err := db.MultiGet([][]byte{[]byte("key-1"), []byte("absent"), []byte("big"), []byte("key-2")})
	must(t, err)
	if string(vals[0]) != "value-1" || vals[1] != nil || string(vals[2]) != big || string(vals[3]) != "value-2" {
		t.Fatalf("MultiGet = %q", vals[:2])
	}
	if n, err := db.Count(); err != nil || n != uint64(len(want)) {
		t.Fatalf("Count = %d %v", n, err)
	}
}

func TestOptionsAndBusy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	o, err := NewOptions()
	must(t, err)
	defer o.Close()
	must(t, o.SetCreateIfMissing(false))
	if _, err := Open(dir, o); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing dir without create: %v", err)
	}
	must(t, o.SetCreateIfMissing(true))
	must(t, o.SetSyncMode(SyncAlways))
	if v, err := o.Get("sync_mode"); err != nil || v != "always" {
		t.Fatalf("Get(sync_mode) = %q %v", v, err)
	}
	if err := o.Set("no_such_option", "1"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown option: %v", err)
	}
	db, err := Open(dir, o)
	must(t, err)
	defer db.Close()
	if _, err := Open(dir, nil); !errors.Is(err, ErrBusy) {
		t.Fatalf("second writer: %v", err)
	}
	if s, err := db.Stats(); err != nil || !strings.HasPrefix(strings.TrimSpace(s), "{") {
		t.Fatalf("Stats = %q %v", s, err)
	}
	must(t, db.Sync())
}

// Run with -race: many goroutines share one DB.
func TestConcurrentReadersAndWriters(t *testing.T) {
	db := openTemp(t)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			buf := make([]byte, 64)
			for i := 0; i < 500; i++ {
				k := []byte(fmt.Sprintf("g%d-%d", g, i))
				if err := db.Put(k, k); err != nil {
					errs <- err
					return
				}
				v, err := db.Get(k)
				if err != nil || !bytes.Equal(v, k) {
					errs <- fmt.Errorf("Get %s = %q %v", k, v, err)
					return
				}
				n, err := db.GetInto(k, buf)
				if err != nil || !bytes.Equal(buf[:n], k) {
					errs <- fmt.Errorf("GetInto %s: %v", k, err)
					return
				}
				if i%100 == 0 {
					it, err := db.NewIterator()
					if err != nil {
						errs <- err
						return
					}
					for it.Next() {
					}
					if err := it.Err(); err != nil {
						errs <- err
					}
					it.Close()
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := db.Count(); err != nil || n != 8*500 {
		t.Fatalf("Count = %d %v", n, err)
	}
}

func TestHotPathAllocations(t *testing.T) {
	if strings.Contains(os.Getenv("GOFLAGS"), "-race") {
		t.Skip("allocation counts differ under -race")
	}
	db := openTemp(t)
	key := []byte("key")
	val := bytes.Repeat([]byte("v"), 100)
	must(t, db.Put(key, val))
	buf := make([]byte, 256)
	// Byte slices cross to C as unsafe.Pointer(&b[0]) plus a length: no
	// copy, and nothing boxed for cgo's pointer check (a []byte parameter
	// cost one allocation per slice per call). Only Get's result allocates.
	if a := testing.AllocsPerRun(1000, func() { db.GetInto(key, buf) }); a > 0 {
		t.Errorf("GetInto allocates %.1f times per call (want 0)", a)
	}
	if a := testing.AllocsPerRun(1000, func() { db.Get(key) }); a > 1 {
		t.Errorf("Get allocates %.1f times per call (want <= 1: the value)", a)
	}
	if a := testing.AllocsPerRun(1000, func() { db.Put(key, val) }); a > 0 {
		t.Errorf("Put allocates %.1f times per call (want 0)", a)
	}
	if a := testing.AllocsPerRun(1000, func() { db.Has(key) }); a > 0 {
		t.Errorf("Has allocates %.1f times per call (want 0)", a)
	}
	it, err := db.NewIterator()
	must(t, err)
	defer it.Close()
	if a := testing.AllocsPerRun(100, func() { it.Next() }); a > 0 {
		t.Errorf("Iterator.Next allocates %.1f times per call", a)
	}
}

// Every handle's Close returns an error (Options' and WriteOptions' used to
// return nothing, so they did not satisfy io.Closer like the others).
func TestEveryCloseReturnsError(t *testing.T) {
	db := openTemp(t)
	o, err := NewOptions()
	must(t, err)
	wo, err := NewWriteOptions()
	must(t, err)
	ns, err := db.Namespace("closers")
	must(t, err)
	snap, err := db.NewSnapshot()
	must(t, err)
	it, err := db.NewIterator()
	must(t, err)
	b, err := NewBatch()
	must(t, err)
	for _, c := range []io.Closer{o, wo, ns, snap, it, b} {
		if err := c.Close(); err != nil {
			t.Errorf("%T.Close: %v", c, err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("%T.Close twice: %v", c, err)
		}
	}
}

func TestVersion(t *testing.T) {
	if VersionNumber()/10000 != 0 || !strings.HasPrefix(Version(), "0.") {
		t.Fatalf("version %d %q", VersionNumber(), Version())
	}
	if StatusNotFound.String() == "" {
		t.Fatal("empty strerror")
	}
}

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "firkin-example-")
	defer os.RemoveAll(dir)
	db, err := Open(dir, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.Put([]byte("greeting"), []byte("hello"))
	v, _ := db.Get([]byte("greeting"))
	_, err = db.Get([]byte("missing"))
	fmt.Println(string(v), errors.Is(err, ErrNotFound))
	// Output: hello true
}

// Per-call cost, for docs/bindings.md (go test -run X -bench . -benchtime 1000000x).
func BenchmarkGet100(b *testing.B) {
	db := openTemp(b)
	key := []byte("bench-key-000001")
	must(b, db.Put(key, bytes.Repeat([]byte("v"), 100)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.Get(key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetParallel is BenchmarkGet100 from GOMAXPROCS goroutines on one
// shared DB (run with -cpu 1,2,4,...,16): every Get enters and leaves the
// DB's gate, so ns/op staying flat as -cpu grows (on as many cores) shows
// that the gate scales; a single shared counter made every call move one
// cache line between cores.
func BenchmarkGetParallel(b *testing.B) {
	db := openTemp(b)
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("bench-key-%06d", i))
		must(b, db.Put(keys[i], bytes.Repeat([]byte("v"), 100)))
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := db.Get(keys[i&1023]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func BenchmarkGetInto100(b *testing.B) {
	db := openTemp(b)
	key := []byte("bench-key-000001")
	must(b, db.Put(key, bytes.Repeat([]byte("v"), 100)))
	buf := make([]byte, 128)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.GetInto(key, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPut100(b *testing.B) {
	o, _ := NewOptions()
	defer o.Close()
	must(b, o.SetSyncMode(SyncNone))
	must(b, o.Set("auto_compact", "false"))
	db, err := Open(filepath.Join(b.TempDir(), "db"), o)
	must(b, err)
	defer db.Close()
	key := []byte("bench-key-000001")
	val := bytes.Repeat([]byte("v"), 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := db.Put(key, val); err != nil {
			b.Fatal(err)
		}
	}
}

// A read-only handle beside the writer sees the writer's durable state as
// of its open, and moves on only at Refresh.
func TestReadOnlyBesideWriterRefresh(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	w, err := Open(dir, nil)
	must(t, err)
	defer w.Close()
	must(t, w.Put([]byte("k"), []byte("v1")))
	must(t, w.Sync())
	o, err := NewOptions()
	must(t, err)
	must(t, o.SetReadOnly(true))
	r, err := Open(dir, o)
	must(t, err)
	o.Close()
	defer r.Close()
	if v, err := r.Get([]byte("k")); err != nil || string(v) != "v1" {
		t.Fatalf("reader Get = %q, %v", v, err)
	}
	must(t, w.Put([]byte("k"), []byte("v2")))
	must(t, w.Sync())
	if v, _ := r.Get([]byte("k")); string(v) != "v1" {
		t.Fatalf("reader moved before Refresh: %q", v)
	}
	must(t, r.Refresh())
	if v, err := r.Get([]byte("k")); err != nil || string(v) != "v2" {
		t.Fatalf("after Refresh Get = %q, %v", v, err)
	}
	if err := r.Put([]byte("x"), []byte("y")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("reader Put = %v, want ErrReadOnly", err)
	}
	must(t, w.Refresh()) // a writable handle: nothing to do
	st, err := r.Stats()
	must(t, err)
	if !strings.Contains(st, `"mode":"reader"`) || !strings.Contains(st, `"reader":{"seq":`) {
		t.Fatalf("reader stats do not say reader: %s", st)
	}
	r.Close()
	if err := r.Refresh(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Refresh after Close = %v, want ErrClosed", err)
	}
}
