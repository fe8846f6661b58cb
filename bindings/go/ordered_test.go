package firkin

import (
	"errors"
	"fmt"
	"testing"
)

// keysOf returns a function that drains an iterator (as made: it, err)
// into its keys and closes it.
func keysOf(t *testing.T) func(it *Iterator, err error) []string {
	return func(it *Iterator, err error) []string {
		t.Helper()
		must(t, err)
		defer it.Close()
		var keys []string
		for it.Next() {
			keys = append(keys, string(it.Key()))
		}
		must(t, it.Err())
		return keys
	}
}

func wantKeys(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// The Go API of ordered namespaces: nil and empty bounds, reverse order
// across many buffer fills, Seek after part of a buffer was consumed, and
// the errors on unordered namespaces and iterators.
func TestOrderedNamespace(t *testing.T) {
	db := openTemp(t)
	collect := keysOf(t)
	ns, err := db.CreateNamespaceOrdered("o")
	must(t, err)
	defer ns.Close()
	plain, err := db.CreateNamespace("plain")
	must(t, err)
	defer plain.Close()
	if !ns.IsOrdered() || plain.IsOrdered() || (*Namespace)(nil).IsOrdered() {
		t.Fatalf("IsOrdered: %v %v", ns.IsOrdered(), plain.IsOrdered())
	}
	if _, err := db.CreateNamespaceOrdered("plain"); !errors.Is(err, ErrExists) {
		t.Fatalf("CreateNamespaceOrdered of an existing name: %v", err)
	}

	// 3000 keys with 100-byte values: several 32 KiB buffer fills.
	val := make([]byte, 100)
	for i := 2999; i >= 0; i-- {
		must(t, ns.Put([]byte(fmt.Sprintf("k%05d", i)), val))
	}
	all := collect(db.RangeIterator(ns, nil, nil, nil, false))
	rev := collect(db.RangeIterator(ns, nil, []byte{}, []byte{}, true))
	if len(all) != 3000 || len(rev) != 3000 {
		t.Fatalf("got %d and %d keys", len(all), len(rev))
	}
	for i := range all {
		if all[i] != fmt.Sprintf("k%05d", i) || rev[i] != fmt.Sprintf("k%05d", 2999-i) {
			t.Fatalf("position %d: %s / %s", i, all[i], rev[i])
		}
	}
	wantKeys(t, "range", collect(db.RangeIterator(ns, nil, []byte("k00010"), []byte("k00013"), false)),
		"k00010", "k00011", "k00012")
	wantKeys(t, "prefix", collect(db.PrefixIterator(ns, nil, []byte("k0299"), true))[:3],
		"k02999", "k02998", "k02997")

	// Seek after Next consumed part of a buffered batch: the buffer is dropped.
	it, err := db.RangeIterator(ns, nil, nil, nil, false)
	must(t, err)
	if !it.IsOrdered() || !it.Next() || !it.Next() || string(it.Key()) != "k00001" {
		t.Fatalf("first keys: %q", it.Key())
	}
	must(t, it.Seek([]byte("k02500")))
	if !it.Next() || string(it.Key()) != "k02500" {
		t.Fatalf("after Seek: %q", it.Key())
	}
	must(t, it.Seek([]byte("k00000x"))) // between k00000 and k00001
	if !it.Next() || string(it.Key()) != "k00001" {
		t.Fatalf("after Seek back: %q", it.Key())
	}
	must(t, it.Close())
	if it.IsOrdered() || it.Seek(nil) == nil {
		t.Fatal("a closed iterator still answers")
	}

	// A snapshot iterator does not see later writes.
	snap, err := db.NewSnapshot()
	must(t, err)
	defer snap.Close()
	must(t, ns.Delete([]byte("k00000")))
	must(t, ns.Put([]byte("a"), []byte("new")))
	wantKeys(t, "at snapshot", collect(db.RangeIterator(ns, snap, nil, []byte("k00002"), false)),
		"k00000", "k00001")
	wantKeys(t, "latest", collect(db.RangeIterator(ns, nil, nil, []byte("k00002"), false)),
		"a", "k00001")

	// Unordered namespaces and iterators.
	if _, err := db.RangeIterator(plain, nil, nil, nil, false); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("RangeIterator on an unordered namespace: %v", err)
	}
	if _, err := db.PrefixIterator(nil, nil, []byte("k"), false); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("PrefixIterator on the default namespace: %v", err)
	}
	hashed, err := ns.NewIterator()
	must(t, err)
	if hashed.IsOrdered() {
		t.Fatal("a hash-order iterator says it is ordered")
	}
	if err := hashed.Seek([]byte("k")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Seek on a hash-order iterator: %v", err)
	}
	if got := collect(hashed, nil); len(got) != 3000 {
		t.Fatalf("the hash-order iterator after a refused Seek gave %d keys", len(got))
	}

	// In a transaction: its own writes, in order.
	tx, err := db.Begin(IsolationSnapshot)
	must(t, err)
	defer tx.Close()
	must(t, tx.PutNS(ns, []byte("k00000"), []byte("back")))
	must(t, tx.DeleteNS(ns, []byte("k00001")))
	wantKeys(t, "txn range", collect(tx.RangeIterator(ns, []byte("a"), []byte("k00003"), true)),
		"k00002", "k00000", "a")
	wantKeys(t, "txn prefix", collect(tx.PrefixIterator(ns, []byte("k0000"), false))[:2],
		"k00000", "k00002")
	if _, err := tx.RangeIterator(plain, nil, nil, false); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("txn RangeIterator on an unordered namespace: %v", err)
	}
}
