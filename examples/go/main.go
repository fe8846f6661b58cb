// Quickstart: the Go binding of Firkin in one page.
//
//	go run . /tmp/firkin-quickstart
//
// against the installed module (`make install`; docs/bindings.md, Go):
// cgo finds libfirkin through pkg-config. In the source tree, `make
// test-go` builds and runs it with the uninstalled library.
package main

import (
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"
	"time"

	"firkin.dev/firkin"
)

func main() {
	path := "firkin-quickstart"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	db, err := firkin.Open(path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// Point operations; not-found is an error value you test with errors.Is.
	if err := db.Put([]byte("hello"), []byte("world")); err != nil {
		log.Fatal(err)
	}
	v, err := db.Get([]byte("hello"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("hello = %s\n", v)
	if _, err := db.Get([]byte("nobody")); errors.Is(err, firkin.ErrNotFound) {
		fmt.Println("nobody is not there")
	}

	// A namespace and an atomic batch across namespaces.
	users, err := db.Namespace("users")
	if err != nil {
		log.Fatal(err)
	}
	defer users.Close()
	b, err := firkin.NewBatch()
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	b.PutNS(users, []byte("ada"), []byte("lovelace"))
	b.PutNS(users, []byte("alan"), []byte("turing"))
	b.Delete([]byte("hello"))
	if err := db.Write(b); err != nil {
		log.Fatal(err)
	}

	// A snapshot and an iterator.
	snap, err := db.NewSnapshot()
	if err != nil {
		log.Fatal(err)
	}
	defer snap.Close()
	users.Put([]byte("grace"), []byte("hopper")) // not in the snapshot
	it, err := snap.NewIteratorNS(users)
	if err != nil {
		log.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.Next() {
		n++
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	count, _ := users.Count()
	fmt.Printf("users at the snapshot: %d, now: %d\n", n, count)

	// A transaction, retried by Update when its commit conflicts.
	err = db.Update(func(tx *firkin.Txn) error {
		v, err := tx.Get([]byte("visits"))
		if errors.Is(err, firkin.ErrNotFound) {
			v, err = []byte("0"), nil
		}
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(string(v))
		return tx.Put([]byte("visits"), []byte(strconv.Itoa(n+1)))
	})
	if err != nil {
		log.Fatal(err)
	}
	visits, _ := db.Get([]byte("visits"))
	fmt.Printf("visits = %s\n", visits)

	// A key that expires in ten minutes, its remaining time, and its
	// versions, newest first (time travel by clock time: SnapshotAtTime).
	if err := db.PutTTL([]byte("session"), []byte("token"), 10*time.Minute); err != nil {
		log.Fatal(err)
	}
	left, _, err := db.TTL([]byte("session"))
	if err != nil {
		log.Fatal(err)
	}
	hist, err := db.History([]byte("visits"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("session expires in %v; visits has %d versions\n", left.Round(time.Minute), len(hist.Versions))

	// Errors carry the status code.
	var e *firkin.Error
	if err := db.Put(nil, nil); errors.As(err, &e) {
		fmt.Printf("empty key: %v (status %d)\n", e, e.Code)
	}
}
