package firkin

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Integers and times on their way to C are never wrapped (the same rules
// as the Python package, bindings/python/tests/test_ranges.py and
// test_ttl.py): an integer out of the C type's range gives
// ErrInvalidArgument, times and TTLs saturate at 2^64 - 1 ms as the
// library does when commit time + TTL overflows, and an expiry already
// past (the epoch and before included) writes a key that reads as absent.

// maxMsTime is the time of 2^64 - 1 ms since the epoch, the saturated expiry.
var maxMsTime = time.Unix(int64(math.MaxUint64/1000), int64(math.MaxUint64%1000)*int64(time.Millisecond))

// keyWriter is what DB and Namespace share for these tests.
type keyWriter interface {
	Put(key, val []byte) error
	PutTTL(key, val []byte, ttl time.Duration) error
	PutExpireAt(key, val []byte, at time.Time) error
	Get(key []byte) ([]byte, error)
	Has(key []byte) (bool, error)
	Persist(key []byte) error
	History(key []byte) (*History, error)
	Count() (uint64, error)
}

func newest(t *testing.T, w keyWriter, key string) KeyVersion {
	t.Helper()
	h, err := w.History([]byte(key))
	must(t, err)
	if len(h.Versions) == 0 {
		t.Fatalf("History(%q) is empty", key)
	}
	return h.Versions[0]
}

// PutExpireAt with a time at or before the epoch used to give
// ErrInvalidArgument ("expiry time must be > 0"): it was sent as 0.
func TestRangesPastExpireAtWritesExpiredKey(t *testing.T) {
	db := openTemp(t)
	users, err := db.Namespace("users")
	must(t, err)
	defer users.Close()
	epoch := time.Unix(0, 0)
	past := []time.Time{
		time.Unix(1, 0), epoch, time.Unix(-5, 0), time.Time{}, epoch.Add(400 * time.Microsecond),
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Unix(math.MinInt64/2, 0),
	}
	for i, at := range past {
		want := time.UnixMilli(1) // the epoch's 1 ms: already past
		if at.Equal(time.Unix(1, 0)) {
			want = time.Unix(1, 0)
		}
		for wi, w := range []keyWriter{db, users} {
			var nsArg *Namespace
			if wi == 1 {
				nsArg = users
			}
			k := "k" + itoa(i)
			must(t, w.Put([]byte(k), []byte("live")))
			if err := w.PutExpireAt([]byte(k), []byte("v"), at); err != nil {
				t.Fatalf("PutExpireAt(%v) = %v; want a written, expired key", at, err)
			}
			mustAbsent(t, w.Get, k)
			if ok, err := w.Has([]byte(k)); ok || err != nil {
				t.Fatalf("Has(%q) = %v, %v after PutExpireAt(%v)", k, ok, err, at)
			}
			if err := w.Persist([]byte(k)); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Persist(expired) = %v", err)
			}
			v := newest(t, w, k)
			if v.Deleted || string(v.Value) != "v" || !v.Expiry.Equal(want) {
				t.Fatalf("PutExpireAt(%v): newest version %+v; want value v, expiry %v", at, v, want)
			}
			tx, err := db.Begin(IsolationSnapshot)
			must(t, err)
			if err := tx.PutExpireAtNS(nsArg, []byte(k+"t"), []byte("v"), at); err != nil {
				t.Fatalf("Txn.PutExpireAt(%v) = %v", at, err)
			}
			if _, err := tx.GetNS(nsArg, []byte(k+"t")); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Txn.Get of its own expired put = %v", err)
			}
			must(t, tx.Commit())
			mustAbsent(t, w.Get, k+"t")
			if v := newest(t, w, k+"t"); !v.Expiry.Equal(want) {
				t.Fatalf("Txn.PutExpireAt(%v): expiry %v; want %v", at, v.Expiry, want)
			}
		}
	}
	for _, w := range []keyWriter{db, users} {
		if n, err := w.Count(); n != 0 || err != nil {
			t.Fatalf("Count = %d, %v; want 0", n, err)
		}
	}
}

// Times beyond what int64 milliseconds hold (time.Time reaches far
// further) used to wrap in t.UnixMilli(): an expiry of 18446744073709552 s
// became 384 ms (1970, the key read as absent at once), and the same time
// for SnapshotAtTime gave the empty state of 1970. A TTL of the largest
// Duration overflowed its rounding and stored 2^64 - 1 (History showed it
// as 1969) instead of commit time + 9223372036855 ms.
func TestRangesFarFutureSaturates(t *testing.T) {
	db := openTemp(t)
	top := uint64(math.MaxUint64)
	cases := map[string]time.Time{
		"wraps-to-1970": time.Unix(18446744073709552, 0),
		"2^62 s":        time.Unix(1<<62, 0),
		"max":           time.Unix(math.MaxInt64-62135596800, 999999999), // about the latest time.Time
		"top+1ms":       time.Unix(int64(top/1000), int64(top%1000+1)*int64(time.Millisecond)),
	}
	for name, at := range cases {
		must(t, db.PutExpireAt([]byte(name), []byte("v"), at))
		v, err := db.Get([]byte(name))
		if err != nil || string(v) != "v" {
			t.Fatalf("%s: Get = %q, %v; want a live key", name, v, err)
		}
		if got := newest(t, db, name).Expiry; !got.Equal(maxMsTime) {
			t.Fatalf("%s: expiry %v; want 2^64 - 1 ms (%v)", name, got, maxMsTime)
		}
		if rem, expires, err := db.TTL([]byte(name)); err != nil || !expires || rem != time.Duration(math.MaxInt64) {
			t.Fatalf("%s: TTL = %v %v %v; want the largest Duration", name, rem, expires, err)
		}
	}
	// exact below the top: the largest whole second under 2^64 ms
	edge := time.Unix(int64(top/1000), 0)
	must(t, db.PutExpireAt([]byte("edge"), []byte("v"), edge))
	if got := newest(t, db, "edge").Expiry; !got.Equal(edge) {
		t.Fatalf("edge expiry %v; want %v", got, edge)
	}
	// the largest TTL is exact (rounded up), not wrapped
	maxTTL := time.Duration(math.MaxInt64)
	const wantTTL = math.MaxInt64/int64(time.Millisecond) + 1 // ms, rounded up
	ttlMsOf := func(v KeyVersion) int64 { return v.Expiry.UnixMilli() - v.Time.UnixMilli() }
	must(t, db.PutTTL([]byte("ttl"), []byte("v"), maxTTL))
	if v := newest(t, db, "ttl"); ttlMsOf(v) != wantTTL {
		t.Fatalf("PutTTL(max): expiry %v - commit %v = %d ms; want %d", v.Expiry, v.Time, ttlMsOf(v), wantTTL)
	}
	b, err := NewBatch()
	must(t, err)
	must(t, b.PutTTL([]byte("bttl"), []byte("v"), maxTTL))
	must(t, db.Write(b))
	b.Close()
	if v := newest(t, db, "bttl"); ttlMsOf(v) != wantTTL {
		t.Fatalf("Batch.PutTTL(max): %d ms", ttlMsOf(v))
	}
	must(t, db.Update(func(tx *Txn) error {
		if err := tx.PutExpireAt([]byte("tx"), []byte("v"), time.Unix(18446744073709552, 0)); err != nil {
			return err
		}
		return tx.PutTTL([]byte("txttl"), []byte("v"), maxTTL)
	}))
	if got := newest(t, db, "tx").Expiry; !got.Equal(maxMsTime) {
		t.Fatalf("Txn.PutExpireAt(far): expiry %v", got)
	}
	if v := newest(t, db, "txttl"); ttlMsOf(v) != wantTTL {
		t.Fatalf("Txn.PutTTL(max): %d ms", ttlMsOf(v))
	}
	// a snapshot at a time beyond 2^64 - 1 ms is the latest state
	last, err := db.LastSeq()
	must(t, err)
	for _, at := range []time.Time{time.Unix(18446744073709552, 0), time.Unix(1<<62, 0)} {
		s, err := db.SnapshotAtTime(at)
		must(t, err)
		if s.Seq() != last {
			t.Fatalf("SnapshotAtTime(%v).Seq = %d; want LastSeq %d", at, s.Seq(), last)
		}
		mustGet(t, s.Get, "edge", "v")
		s.Close()
	}
}

// SyncMode and Isolation are Go ints; the C parameters are ints (32 bits).
// SyncMode(1<<32 + 2) used to arrive as 2 (SyncAlways), and
// Isolation(1<<32 + 1) began a serializable transaction.
func TestRangesSmallIntsOutOfRange(t *testing.T) {
	db := openTemp(t)
	wo, err := NewWriteOptions()
	must(t, err)
	defer wo.Close()
	for _, m := range []SyncMode{1<<32 + 2, -1 << 32, math.MaxInt64} {
		if err := wo.SetSync(m); !errors.Is(err, ErrInvalidArgument) {
			got, _ := wo.Sync()
			t.Fatalf("SetSync(%d) = %v (Sync() now %v); want ErrInvalidArgument", int(m), err, got)
		}
	}
	if m, err := wo.Sync(); m != SyncDefault || err != nil {
		t.Fatalf("Sync = %v, %v", m, err)
	}
	must(t, wo.SetSync(SyncAlways)) // in range: as before
	// the shared SWIG helper behind the typed option setters took the
	// sync mode as an int64 and kept its low 32 bits
	o, err := NewOptions()
	must(t, err)
	defer o.Close()
	for name, v := range map[string]int64{"sync_mode": 1<<32 + 2, "sync_interval_ms": 1<<32 + 100, "compact_dead_ratio": -1} {
		err := o.setTyped(name, v)
		if !errors.Is(err, ErrInvalidArgument) || name == "sync_mode" && !strings.Contains(err.Error(), strconv.FormatInt(v, 10)) {
			t.Fatalf("setTyped(%s, %d) = %v; want ErrInvalidArgument", name, v, err)
		}
	}
	if m, err := o.Get("sync_mode"); m == "always" || err != nil {
		t.Fatalf("sync_mode = %q, %v after refused sets", m, err)
	}
	for _, iso := range []Isolation{1<<32 + 1, 1 << 32, math.MinInt64} {
		tx, err := db.Begin(iso)
		if !errors.Is(err, ErrInvalidArgument) {
			if tx != nil {
				tx.Close()
			}
			t.Fatalf("Begin(%d) = %v; want ErrInvalidArgument", int(iso), err)
		}
		err = db.UpdateWith(&TxnOptions{Isolation: iso}, func(*Txn) error { return nil })
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("UpdateWith(Isolation %d) = %v; want ErrInvalidArgument", int(iso), err)
		}
	}
}
