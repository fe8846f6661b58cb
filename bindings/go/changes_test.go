package firkin

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func describeChange(c Change) string {
	return fmt.Sprintf("%s %d %s %s %s", c.Type, c.Seq, c.Namespace, c.Key, c.Value)
}

func TestChangesCursor(t *testing.T) {
	db := openTemp(t)
	must(t, db.Put([]byte("a"), []byte("1")))
	ns, err := db.CreateNamespace("users")
	must(t, err)
	must(t, ns.Put([]byte("ada"), []byte("lovelace")))
	b, err := NewBatch()
	must(t, err)
	must(t, b.Put([]byte("b"), []byte("2")))
	must(t, b.Delete([]byte("a")))
	must(t, db.Write(b))
	b.Close()
	must(t, ns.Close())
	must(t, db.DropNamespace("users"))

	c, err := db.OpenChanges(0, true)
	must(t, err)
	defer c.Close()
	var got []string
	var positions []uint64
	for c.Next() {
		got = append(got, describeChange(c.Change()))
		p, err := c.Position()
		must(t, err)
		positions = append(positions, p)
	}
	must(t, c.Err())
	// Every write at or below the position was returned (a batch once all
	// of it was); at the end, the last number read.
	if p, err := c.Position(); err != nil || p != 5 ||
		fmt.Sprint(positions) != "[1 2 3 3 3 3 4 5]" {
		t.Fatalf("positions %v, at the end %d, %v", positions, p, err)
	}
	want := []string{"put 1 default a 1", "ns_create 2 users  ", "put 3 users ada lovelace",
		"batch_begin 4   ", "put 4 default b 2", "delete 4 default a ", "batch_end 4   ",
		"ns_drop 5 users  "}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("changes:\n got %q\nwant %q", got, want)
	}

	// Wait: times out, then is woken by a write.
	start := time.Now()
	ok, err := c.Wait(100 * time.Millisecond)
	if ok || err != nil || time.Since(start) < 90*time.Millisecond {
		t.Fatalf("Wait without a write = %v, %v after %v", ok, err, time.Since(start))
	}
	// The writer is waited for before the test returns: Wait wakes once the
	// put is published, possibly before the put's call has left the C
	// library, and DB.Close never waits for calls in flight (the last call
	// out frees the handle), so a test that returned here could have the
	// temporary directory removed while the database is still open.
	putDone := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		putDone <- db.Put([]byte("late"), []byte("x"))
	}()
	ok, err = c.Wait(10 * time.Second)
	if !ok || err != nil || !c.Next() || string(c.Change().Key) != "late" || c.Change().Seq != 6 {
		t.Fatalf("Wait with a write = %v, %v, %v", ok, err, c.Change())
	}
	must(t, <-putDone)

	// Resume from a sequence number, without markers.
	c2, err := db.OpenChanges(3, false)
	must(t, err)
	n := 0
	for c2.Next() {
		if c2.Change().Seq <= 3 || c2.Change().Type == ChangeBatchBegin {
			t.Fatalf("unexpected %v", c2.Change())
		}
		n++
	}
	c2.Close()
	if n != 4 {
		t.Fatalf("resume from 3 without markers: %d changes, want 4", n)
	}
	if _, err := db.OpenChanges(99, true); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("since in the future: %v", err)
	}
	if o, err := db.OldestChangeSeq(); err != nil || o != 1 {
		t.Fatalf("OldestChangeSeq = %d, %v", o, err)
	}
	c.Close()
	if c.Next() || !errors.Is(c.Err(), ErrClosed) {
		t.Fatalf("Next after Close: %v", c.Err())
	}
	if _, err := c.Position(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Position after Close: %v", err)
	}
}

func TestChangesTooOldAndRetention(t *testing.T) {
	for _, keep := range []bool{false, true} {
		opts, err := NewOptions()
		must(t, err)
		if keep {
			must(t, opts.Set("change_retention_seqs", "1000"))
		}
		db, err := Open(filepath.Join(t.TempDir(), "db"), opts)
		must(t, err)
		opts.Close()
		must(t, db.Put([]byte("k"), []byte("1")))
		must(t, db.Put([]byte("k"), []byte("2")))
		must(t, db.Compact())
		c, err := db.OpenChanges(0, true)
		if keep {
			must(t, err)
			n := 0
			for c.Next() {
				n++
			}
			c.Close()
			if n != 2 {
				t.Fatalf("with retention: %d changes, want 2", n)
			}
		} else if !errors.Is(err, ErrSnapshotTooOld) {
			t.Fatalf("without retention after compaction: %v", err)
		}
		db.Close()
	}
}

func TestChangesChannel(t *testing.T) {
	db := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	ch, errs, err := db.Changes(ctx, 0)
	must(t, err)
	for i := 0; i < 100; i++ {
		must(t, db.Put([]byte(fmt.Sprintf("k%d", i)), []byte("v")))
	}
	for i := 0; i < 100; i++ {
		select {
		case c := <-ch:
			if c.Seq != uint64(i+1) || string(c.Key) != fmt.Sprintf("k%d", i) {
				t.Fatalf("change %d = %v", i, describeChange(c))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("change %d never came", i)
		}
	}
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("stream ended with %v", err)
	}
	if _, _, err := db.Changes(context.Background(), 1000); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Changes from the future: %v", err)
	}
}
