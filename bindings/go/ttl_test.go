package firkin

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// The tests use absolute expiries in the past or far in the future and the
// database clock (NowMs), so they do not depend on timing.

func TestTTLExpiredKeyIsAbsent(t *testing.T) {
	db := openTemp(t)
	now, err := db.Now()
	must(t, err)
	must(t, db.PutExpireAt([]byte("gone"), []byte("v"), now.Add(-time.Second)))
	mustAbsent(t, db.Get, "gone")
	if ok, err := db.Has([]byte("gone")); ok || err != nil {
		t.Fatalf("Has(expired) = %v %v", ok, err)
	}
	if _, _, err := db.TTL([]byte("gone")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TTL(expired) err = %v", err)
	}
	if err := db.Persist([]byte("gone")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Persist(expired) err = %v", err)
	}
	if _, _, err := db.TTL([]byte("never-written")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TTL(absent) err = %v", err)
	}
	// an expired key is absent for the iterator too
	must(t, db.Put([]byte("live"), []byte("x")))
	it, err := db.NewIterator()
	must(t, err)
	n := 0
	for it.Next() {
		if string(it.Key()) != "live" {
			t.Fatalf("iterator saw %q", it.Key())
		}
		n++
	}
	must(t, it.Err())
	it.Close()
	if n != 1 {
		t.Fatalf("iterator saw %d keys", n)
	}
}

func TestTTLRemainingAndPersist(t *testing.T) {
	db := openTemp(t)
	before, err := db.NowMs()
	must(t, err)
	at := time.UnixMilli(before + 60000)
	must(t, db.PutExpireAt([]byte("k"), []byte("v"), at))
	rem, expires, err := db.TTL([]byte("k"))
	must(t, err)
	after, err := db.NowMs()
	must(t, err)
	if !expires || rem > 60000*time.Millisecond || rem < time.Duration(before+60000-after)*time.Millisecond {
		t.Fatalf("TTL = %v %v; want within [%d, 60000] ms", rem, expires, before+60000-after)
	}
	mustGet(t, db.Get, "k", "v")

	must(t, db.PutTTL([]byte("r"), []byte("w"), 10*time.Second))
	rem, expires, err = db.TTL([]byte("r"))
	must(t, err)
	if !expires || rem <= 0 || rem > 10*time.Second {
		t.Fatalf("TTL(r) = %v %v", rem, expires)
	}

	// a key without a TTL never expires
	must(t, db.Put([]byte("p"), []byte("1")))
	if rem, expires, err := db.TTL([]byte("p")); err != nil || expires || rem != 0 {
		t.Fatalf("TTL(persistent) = %v %v %v", rem, expires, err)
	}

	// Persist removes the expiry and keeps the value
	v0, _ := db.Version([]byte("k"))
	must(t, db.Persist([]byte("k")))
	if _, expires, err := db.TTL([]byte("k")); err != nil || expires {
		t.Fatalf("TTL after Persist = %v %v", expires, err)
	}
	mustGet(t, db.Get, "k", "v")
	if v1, _ := db.Version([]byte("k")); v1 <= v0 {
		t.Fatalf("Persist wrote no new version: %d -> %d", v0, v1)
	}
	// persisting a key without expiry writes nothing
	v1, _ := db.Version([]byte("k"))
	must(t, db.Persist([]byte("k")))
	if v2, _ := db.Version([]byte("k")); v2 != v1 {
		t.Fatalf("Persist of a persistent key wrote: %d -> %d", v1, v2)
	}
	// a put without a TTL makes a key persistent
	must(t, db.Put([]byte("r"), []byte("w2")))
	if _, expires, err := db.TTL([]byte("r")); err != nil || expires {
		t.Fatalf("TTL after plain Put = %v %v", expires, err)
	}
}

func TestTTLNamespaceSnapshotBatch(t *testing.T) {
	db := openTemp(t)
	users, err := db.Namespace("users")
	must(t, err)
	defer users.Close()
	now, err := db.Now()
	must(t, err)
	must(t, users.PutExpireAt([]byte("old"), []byte("v"), now.Add(-time.Minute)))
	must(t, users.PutTTL([]byte("new"), []byte("v"), time.Hour))
	mustAbsent(t, users.Get, "old")
	mustGet(t, users.Get, "new", "v")
	mustAbsent(t, db.Get, "new") // not in the default namespace
	if rem, ok, err := users.TTL([]byte("new")); err != nil || !ok || rem <= 0 || rem > time.Hour {
		t.Fatalf("users.TTL = %v %v %v", rem, ok, err)
	}
	snap, err := db.NewSnapshot()
	must(t, err)
	must(t, users.Persist([]byte("new")))
	if rem, ok, err := snap.TTLNS(users, []byte("new")); err != nil || !ok || rem > time.Hour {
		t.Fatalf("snap.TTLNS = %v %v %v (the snapshot predates Persist)", rem, ok, err)
	}
	if _, ok, err := users.TTL([]byte("new")); err != nil || ok {
		t.Fatalf("users.TTL after Persist = %v %v", ok, err)
	}
	snap.Close()
	if _, _, err := snap.TTL([]byte("new")); !errors.Is(err, ErrClosed) {
		t.Fatalf("TTL on a closed snapshot: %v", err)
	}

	b, err := NewBatch()
	must(t, err)
	defer b.Close()
	must(t, b.PutTTL([]byte("a"), []byte("1"), time.Minute))
	must(t, b.PutTTLNS(users, []byte("b"), []byte("2"), 2*time.Minute))
	must(t, b.Put([]byte("c"), []byte("3")))
	if n, err := b.Count(); err != nil || n != 3 {
		t.Fatalf("batch count %d %v", n, err)
	}
	must(t, db.Write(b))
	if rem, ok, err := db.TTL([]byte("a")); err != nil || !ok || rem <= 0 || rem > time.Minute {
		t.Fatalf("TTL(a) = %v %v %v", rem, ok, err)
	}
	if rem, ok, err := users.TTL([]byte("b")); err != nil || !ok || rem <= time.Minute || rem > 2*time.Minute {
		t.Fatalf("TTL(users/b) = %v %v %v", rem, ok, err)
	}
	if _, ok, err := db.TTL([]byte("c")); err != nil || ok {
		t.Fatalf("TTL(c) = %v %v", ok, err)
	}
	// one commit time for the batch: both expiries are commit time + TTL
	ha, err := db.History([]byte("a"))
	must(t, err)
	hb, err := users.History([]byte("b"))
	must(t, err)
	va, vb := ha.Versions[0], hb.Versions[0]
	if va.Time != vb.Time || va.Expiry.Sub(va.Time) != time.Minute || vb.Expiry.Sub(vb.Time) != 2*time.Minute {
		t.Fatalf("batch versions %+v %+v", va, vb)
	}
}

func TestTTLBadInput(t *testing.T) {
	db := openTemp(t)
	if err := db.PutTTL([]byte("k"), []byte("v"), 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("PutTTL(0) err = %v", err)
	}
	if err := db.PutTTL([]byte("k"), []byte("v"), -time.Second); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("PutTTL(<0) err = %v", err)
	}
	// (an expiry at or before the epoch is a past time, not bad input:
	// TestRangesPastExpireAtWritesExpiredKey)
	b, err := NewBatch()
	must(t, err)
	if err := b.PutTTL([]byte("k"), []byte("v"), 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Batch.PutTTL(0) err = %v", err)
	}
	b.Close()
	if err := b.PutTTL([]byte("k"), []byte("v"), time.Second); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed Batch.PutTTL err = %v", err)
	}
	// a sub-millisecond TTL is rounded up, not rejected
	must(t, db.PutTTL([]byte("tiny"), []byte("v"), time.Microsecond))
	if err := db.PutTTL(make([]byte, MaxKeySize+1), []byte("v"), time.Second); !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("PutTTL(oversized key) err = %v", err)
	}
	must(t, db.Close())
	if err := db.PutTTL([]byte("k"), []byte("v"), time.Second); !errors.Is(err, ErrClosed) {
		t.Fatalf("PutTTL on a closed db: %v", err)
	}
	if _, _, err := db.TTL([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Fatalf("TTL on a closed db: %v", err)
	}
	if _, err := db.NowMs(); !errors.Is(err, ErrClosed) {
		t.Fatalf("NowMs on a closed db: %v", err)
	}
	if _, err := db.History([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Fatalf("History on a closed db: %v", err)
	}
	if _, err := db.SnapshotAtTime(time.Now()); !errors.Is(err, ErrClosed) {
		t.Fatalf("SnapshotAtTime on a closed db: %v", err)
	}
}

func TestHistoryOrderAndFields(t *testing.T) {
	db := openTemp(t)
	if h, err := db.History([]byte("k")); err != nil || len(h.Versions) != 0 || h.Truncated {
		t.Fatalf("History(absent) = %+v %v", h, err)
	}
	must(t, db.Put([]byte("k"), []byte("v1")))
	s1, _ := db.Version([]byte("k"))
	now, err := db.Now()
	must(t, err)
	exp := now.Add(time.Hour).Truncate(time.Millisecond)
	must(t, db.PutExpireAt([]byte("k"), []byte("v2"), exp))
	s2, _ := db.Version([]byte("k"))
	must(t, db.Delete([]byte("k")))
	last, _ := db.LastSeq()
	h, err := db.History([]byte("k"))
	must(t, err)
	if len(h.Versions) != 3 || h.Truncated {
		t.Fatalf("History = %+v", h)
	}
	d, v2, v1 := h.Versions[0], h.Versions[1], h.Versions[2]
	if !d.Deleted || d.Value != nil || d.Seq != last || !d.Expiry.IsZero() {
		t.Fatalf("delete version %+v (last seq %d)", d, last)
	}
	if v2.Deleted || string(v2.Value) != "v2" || v2.Seq != s2 || !v2.Expiry.Equal(exp) {
		t.Fatalf("v2 %+v (seq %d, expiry %v)", v2, s2, exp)
	}
	if v1.Deleted || string(v1.Value) != "v1" || v1.Seq != s1 || !v1.Expiry.IsZero() {
		t.Fatalf("v1 %+v (seq %d)", v1, s1)
	}
	if !(d.Seq > v2.Seq && v2.Seq > v1.Seq) || d.Time.Before(v2.Time) || v2.Time.Before(v1.Time) ||
		v1.Time.IsZero() || v1.Time.After(now) {
		t.Fatalf("order: %+v", h.Versions)
	}
	// other keys and namespaces have their own history
	users, err := db.Namespace("users")
	must(t, err)
	defer users.Close()
	must(t, users.Put([]byte("k"), []byte("u")))
	hu, err := users.History([]byte("k"))
	must(t, err)
	if len(hu.Versions) != 1 || string(hu.Versions[0].Value) != "u" {
		t.Fatalf("users history %+v", hu)
	}
	// values larger than the first buffer
	big := make([]byte, 5000)
	for i := range big {
		big[i] = byte(i)
	}
	must(t, db.Put([]byte("big"), big))
	must(t, db.Put([]byte("big"), []byte{}))
	hb, err := db.History([]byte("big"))
	must(t, err)
	if len(hb.Versions) != 2 || len(hb.Versions[0].Value) != 0 || hb.Versions[0].Deleted || string(hb.Versions[1].Value) != string(big) {
		t.Fatalf("big history: %d versions", len(hb.Versions))
	}
}

func TestSnapshotAtTime(t *testing.T) {
	o, err := NewOptions()
	must(t, err)
	must(t, o.SetHistoryRetention(time.Hour))
	if v, err := o.Get("history_retention_ms"); err != nil || v != "3600000" {
		t.Fatalf("history_retention_ms = %q %v", v, err)
	}
	if err := o.SetHistoryRetention(-time.Second); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative retention: %v", err)
	}
	db, err := Open(t.TempDir(), o)
	must(t, err)
	defer db.Close()
	o.Close()

	must(t, db.Put([]byte("k"), []byte("v1")))
	time.Sleep(3 * time.Millisecond) // distinct commit times (ms)
	must(t, db.Put([]byte("k"), []byte("v2")))
	h, err := db.History([]byte("k"))
	must(t, err)
	t2, t1 := h.Versions[0].Time, h.Versions[1].Time
	if !t2.After(t1) {
		t.Fatalf("commit times %v %v", t1, t2)
	}
	at := func(tm time.Time) *Snapshot {
		s, err := db.SnapshotAtTime(tm)
		must(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	s0 := at(t1.Add(-time.Millisecond)) // before the first write: empty state
	if s0.Seq() != 0 {
		t.Fatalf("snapshot before the first write has seq %d", s0.Seq())
	}
	mustAbsent(t, s0.Get, "k")
	s1 := at(t1)
	mustGet(t, s1.Get, "k", "v1")
	if s1.Seq() != h.Versions[1].Seq {
		t.Fatalf("snapshot at t1 seq %d, want %d", s1.Seq(), h.Versions[1].Seq)
	}
	mustGet(t, at(t2.Add(-time.Millisecond)).Get, "k", "v1")
	mustGet(t, at(t2).Get, "k", "v2")
	mustGet(t, at(time.Now().Add(time.Hour)).Get, "k", "v2")
	mustAbsent(t, at(time.Unix(-5, 0)).Get, "k") // before the epoch: empty state
}

func TestTxnTTL(t *testing.T) {
	db := openTemp(t)
	now, err := db.Now()
	must(t, err)
	must(t, db.Update(func(tx *Txn) error {
		if err := tx.PutTTL([]byte("a"), []byte("va"), time.Hour); err != nil {
			return err
		}
		if err := tx.PutExpireAt([]byte("gone"), []byte("v"), now.Add(-time.Second)); err != nil {
			return err
		}
		mustGet(t, tx.Get, "a", "va") // its own TTL put reads as present
		mustAbsent(t, tx.Get, "gone") // its own put with a past expiry: absent
		if err := tx.PutTTL([]byte("z"), []byte("v"), 0); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("PutTTL(0) err = %v", err)
		}
		return nil
	}))
	rem, expires, err := db.TTL([]byte("a"))
	must(t, err)
	if !expires || rem <= 59*time.Minute || rem > time.Hour {
		t.Fatalf("TTL after the transactional PutTTL = %v %v", rem, expires)
	}
	mustAbsent(t, db.Get, "gone")
}

func TestTxnMaxAge(t *testing.T) {
	o, err := NewOptions()
	must(t, err)
	must(t, o.SetTxnMaxAge(time.Millisecond))
	if v, err := o.Get("txn_max_age_ms"); err != nil || v != "1" {
		t.Fatalf("txn_max_age_ms = %q %v", v, err)
	}
	if err := o.SetTxnMaxAge(-time.Second); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative max age: %v", err)
	}
	db, err := Open(t.TempDir(), o)
	must(t, err)
	defer db.Close()
	o.Close()
	tx, err := db.Begin(IsolationSnapshot)
	must(t, err)
	defer tx.Close()
	must(t, tx.Put([]byte("k"), []byte("v")))
	time.Sleep(5 * time.Millisecond)
	must(t, db.Compact()) // a compaction cycle expires the abandoned transaction
	if _, err := tx.Get([]byte("k")); !errors.Is(err, ErrSnapshotTooOld) {
		t.Fatalf("Get on an expired transaction: %v", err)
	}
	if err := tx.Commit(); !errors.Is(err, ErrSnapshotTooOld) {
		t.Fatalf("Commit of an expired transaction: %v", err)
	}
	mustAbsent(t, db.Get, "k")
}

func TestSnapshotAtTimeTooOld(t *testing.T) {
	o, err := NewOptions()
	must(t, err)
	must(t, o.Set("segment_size", "64K"))
	must(t, o.Set("auto_compact", "false"))
	db, err := Open(t.TempDir(), o)
	must(t, err)
	defer db.Close()
	o.Close()
	must(t, db.Put([]byte("k"), []byte("v1")))
	h, err := db.History([]byte("k"))
	must(t, err)
	t1 := h.Versions[0].Time
	time.Sleep(3 * time.Millisecond)
	pad := make([]byte, 1000)
	for i := 0; i < 400; i++ { // several segments of overwrites
		must(t, db.Put([]byte(fmt.Sprintf("p%d", i%10)), pad))
	}
	must(t, db.Put([]byte("k"), []byte("v2")))
	must(t, db.Compact())
	// No retention: the time of the first write is no longer mapped, and the
	// answer is ErrSnapshotTooOld, never a wrong state.
	if s, err := db.SnapshotAtTime(t1); !errors.Is(err, ErrSnapshotTooOld) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("SnapshotAtTime(before compaction's floor): %v", err)
	}
}
