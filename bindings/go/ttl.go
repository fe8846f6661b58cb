package firkin

import (
	"encoding/binary"
	"math"
	"runtime"
	"time"

	"firkin.dev/firkin/internal/fkraw"
)

// TTL (expiring keys), the database clock and time travel by clock time.
// An expired key reads as absent everywhere (Get, Has, iterators, TTL, ...).
// Times are on the database clock (DB.Now), in whole milliseconds.
//
// Times and TTLs are never wrapped into the library's uint64 milliseconds:
// a time.Time reaches far beyond what int64 milliseconds hold (t.UnixMilli
// wraps there), so a time beyond 2^64 - 1 ms (about 584 million years)
// saturates to 2^64 - 1, the expiry the library itself gives when commit
// time + TTL overflows: such a key never expires in practice. An absolute
// expiry at or before the epoch (the zero time.Time included) is already
// past: it is sent as 1 ms (the library refuses 0), so the key is written
// and reads as absent at once, like any past time.

// ttlMs turns a duration into the library's milliseconds, rounding a
// positive duration up (a 1µs TTL is 1 ms, never 0; the largest Duration
// is 9223372036855 ms). A duration <= 0 gives 0, which the library rejects
// with ErrInvalidArgument.
func ttlMs(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	ms := uint64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	return ms
}

// timeMs is t in whole ms since the epoch (rounded down), bounded to
// [0, 2^64 - 1]: 0 for times before the epoch, 2^64 - 1 beyond it.
func timeMs(t time.Time) uint64 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	if uint64(s) > math.MaxUint64/1000 {
		return math.MaxUint64
	}
	ms := uint64(s)*1000 + uint64(t.Nanosecond())/uint64(time.Millisecond)
	if ms < uint64(s)*1000 { // past 2^64 - 1 within the last second
		return math.MaxUint64
	}
	return ms
}

// expiryMs is an absolute expiry for the library: timeMs(t), at least 1
// (a time at or before the epoch is past; the library refuses 0).
func expiryMs(t time.Time) uint64 {
	if ms := timeMs(t); ms > 0 {
		return ms
	}
	return 1
}

// msTime is a library time (ms since the epoch, all of uint64); the zero
// time.Time for 0.
func msTime(ms uint64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.Unix(int64(ms/1000), int64(ms%1000)*int64(time.Millisecond))
}

func (db *DB) putTTL(wo fkraw.Struct_SS_firkin_write_options, ns fkraw.Struct_SS_firkin_ns, key, val []byte, ttl time.Duration) error {
	dt, derr := db.enter()
	if derr != nil {
		return derr
	}
	defer db.leave(dt)
	err := wrap(fkraw.Firkin_put_ttl(db.h, wo, ns, ptr(key), len(key), ptr(val), len(val), ttlMs(ttl)))
	runtime.KeepAlive(db)
	return err
}

func (db *DB) putExpireAt(wo fkraw.Struct_SS_firkin_write_options, ns fkraw.Struct_SS_firkin_ns, key, val []byte, at time.Time) error {
	dt, derr := db.enter()
	if derr != nil {
		return derr
	}
	defer db.leave(dt)
	err := wrap(fkraw.Firkin_put_expire_at(db.h, wo, ns, ptr(key), len(key), ptr(val), len(val), expiryMs(at)))
	runtime.KeepAlive(db)
	return err
}

func (db *DB) ttl(snap fkraw.Struct_SS_firkin_snapshot, ns fkraw.Struct_SS_firkin_ns, key []byte) (time.Duration, bool, error) {
	dt, derr := db.enter()
	if derr != nil {
		return 0, false, derr
	}
	defer db.leave(dt)
	s := getScratch()
	err := wrap(fkraw.Fkb_ttl(db.h, snap, ns, ptr(key), len(key), s.n))
	n := *s.n
	putScratch(s)
	runtime.KeepAlive(db)
	switch {
	case err != nil:
		return 0, false, err
	case n == -2:
		return 0, false, ErrNotFound
	case n == -1:
		return 0, false, nil
	case n > int64(1<<63-1)/int64(time.Millisecond):
		return time.Duration(1<<63 - 1), true, nil
	}
	return time.Duration(n) * time.Millisecond, true, nil
}

func (db *DB) persist(wo fkraw.Struct_SS_firkin_write_options, ns fkraw.Struct_SS_firkin_ns, key []byte) error {
	dt, derr := db.enter()
	if derr != nil {
		return derr
	}
	defer db.leave(dt)
	err := wrap(fkraw.Firkin_persist(db.h, wo, ns, ptr(key), len(key)))
	runtime.KeepAlive(db)
	return err
}

func (db *DB) history(ns fkraw.Struct_SS_firkin_ns, key []byte) (*History, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	b, err := readText(func(buf []byte, n *int64) error {
		return fkraw.Fkb_history(db.h, ns, ptr(key), len(key), ptr(buf), len(buf), n)
	})
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	return decodeHistory(b)
}

// PutTTL stores val under key; the key expires ttl after the write's commit
// time (ttl <= 0 gives ErrInvalidArgument; it is rounded up to whole ms).
// A later Put without a TTL makes the key persistent again.
func (db *DB) PutTTL(key, val []byte, ttl time.Duration) error {
	return db.putTTL(nil, nil, key, val, ttl)
}

// PutTTLWith is PutTTL with write options wo.
func (db *DB) PutTTLWith(wo *WriteOptions, key, val []byte, ttl time.Duration) error {
	h, err := wo.enter()
	if err != nil {
		return err
	}
	defer wo.leave()
	err = db.putTTL(h, nil, key, val, ttl)
	runtime.KeepAlive(wo)
	return err
}

// PutExpireAt stores val under key; the key expires at time at (on the
// database clock, whole ms). A time already past, the epoch and before (the
// zero time.Time) included, writes a key that reads as absent at once; one
// beyond 2^64 - 1 ms saturates there (never expires in practice).
func (db *DB) PutExpireAt(key, val []byte, at time.Time) error {
	return db.putExpireAt(nil, nil, key, val, at)
}

// TTL returns the time left before key expires. expires is false for a key
// that never expires (remaining is then 0); an absent or expired key gives
// an error matching ErrNotFound.
func (db *DB) TTL(key []byte) (remaining time.Duration, expires bool, err error) {
	return db.ttl(nil, nil, key)
}

// Persist removes key's expiry (a new version without one; nothing is
// written if it has none). ErrNotFound if the key is absent or expired.
func (db *DB) Persist(key []byte) error { return db.persist(nil, nil, key) }

// NowMs is the database clock: ms since the epoch, never behind the newest
// commit time. It decides expiry and stamps commits.
func (db *DB) NowMs() (int64, error) {
	dt, derr := db.enter()
	if derr != nil {
		return 0, derr
	}
	defer db.leave(dt)
	var n int64
	err := wrap(fkraw.Fkb_now_ms(db.h, &n))
	runtime.KeepAlive(db)
	return n, err
}

// Now is NowMs as a time.Time.
func (db *DB) Now() (time.Time, error) {
	ms, err := db.NowMs()
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(ms), nil
}

// SnapshotAtTime is a snapshot of the state as of t (database clock, whole
// ms): every write committed at or before t and none after. A time before
// the first write gives the empty state (Seq 0); one beyond 2^64 - 1 ms
// saturates there (the latest state). ErrSnapshotTooOld if the
// log that tells that time is no longer kept (Options
// "history_retention_ms" keeps it).
func (db *DB) SnapshotAtTime(t time.Time) (*Snapshot, error) {
	dt, derr := db.enter()
	if derr != nil {
		return nil, derr
	}
	defer db.leave(dt)
	var p int64
	err := wrap(fkraw.Fkb_snapshot_at_time(db.h, timeMs(t), &p))
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	return newSnapshot(db, p), nil
}

// History returns the versions of key in the default namespace, newest
// first, as far back as they are kept.
func (db *DB) History(key []byte) (*History, error) { return db.history(nil, key) }

// --- Namespace ---------------------------------------------------------------

// PutTTL is DB.PutTTL in this namespace.
func (ns *Namespace) PutTTL(key, val []byte, ttl time.Duration) error {
	h, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	err = ns.db.putTTL(nil, h, key, val, ttl)
	runtime.KeepAlive(ns)
	return err
}

// PutExpireAt is DB.PutExpireAt in this namespace.
func (ns *Namespace) PutExpireAt(key, val []byte, at time.Time) error {
	h, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	err = ns.db.putExpireAt(nil, h, key, val, at)
	runtime.KeepAlive(ns)
	return err
}

// TTL is DB.TTL in this namespace.
func (ns *Namespace) TTL(key []byte) (remaining time.Duration, expires bool, err error) {
	h, nt, err := ns.enter()
	if err != nil {
		return 0, false, err
	}
	defer ns.leave(nt)
	remaining, expires, err = ns.db.ttl(nil, h, key)
	runtime.KeepAlive(ns)
	return remaining, expires, err
}

// Persist is DB.Persist in this namespace.
func (ns *Namespace) Persist(key []byte) error {
	h, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	err = ns.db.persist(nil, h, key)
	runtime.KeepAlive(ns)
	return err
}

// History is DB.History in this namespace.
func (ns *Namespace) History(key []byte) (*History, error) {
	h, nt, err := ns.enter()
	if err != nil {
		return nil, err
	}
	defer ns.leave(nt)
	hist, err := ns.db.history(h, key)
	runtime.KeepAlive(ns)
	return hist, err
}

// --- Snapshot and Batch ------------------------------------------------------

// TTL is the time left before key expires as seen through the snapshot
// (expiry is decided at the time of the call). See DB.TTL.
func (s *Snapshot) TTL(key []byte) (time.Duration, bool, error) { return s.TTLNS(nil, key) }

// TTLNS is TTL in namespace ns.
func (s *Snapshot) TTLNS(ns *Namespace, key []byte) (time.Duration, bool, error) {
	sh, nh, sn, nt, err := s.handles(ns)
	if err != nil {
		return 0, false, err
	}
	defer s.leave(sn)
	defer ns.leave(nt)
	d, ok, err := s.db.ttl(sh, nh, key)
	runtime.KeepAlive(s)
	runtime.KeepAlive(ns)
	return d, ok, err
}

// PutTTL queues a put in the default namespace that expires ttl after the
// batch's commit time (one time for the whole batch).
func (b *Batch) PutTTL(key, val []byte, ttl time.Duration) error {
	return b.PutTTLNS(nil, key, val, ttl)
}

// PutTTLNS is PutTTL in namespace ns (nil = default).
func (b *Batch) PutTTLNS(ns *Namespace, key, val []byte, ttl time.Duration) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.gate.leave()
	nh, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	err = wrap(fkraw.Firkin_batch_put_ttl(b.h, nh, ptr(key), len(key), ptr(val), len(val), ttlMs(ttl)))
	runtime.KeepAlive(b)
	runtime.KeepAlive(ns)
	return err
}

// --- History -----------------------------------------------------------------

// KeyVersion is one version of a key (a put or a delete).
type KeyVersion struct {
	Seq     uint64    // the write's sequence number (what Version reports)
	Time    time.Time // commit time; zero if unknown (written before format 3)
	Expiry  time.Time // absolute expiry; zero if none
	Deleted bool      // a delete: Value is nil
	Value   []byte
}

// History is the versions of one key, newest first, copied when it was
// read (it holds no native resource). Truncated reports that older versions
// existed but were compacted away.
type History struct {
	Versions  []KeyVersion
	Truncated bool
}

func decodeHistory(b []byte) (*History, error) {
	short := &Error{Code: StatusInternal, Msg: "short history result"}
	if len(b) < 8 {
		return nil, short
	}
	h := &History{Truncated: binary.LittleEndian.Uint32(b)&1 != 0}
	count := int(binary.LittleEndian.Uint32(b[4:]))
	data := make([]byte, len(b)) // one allocation for every value
	copy(data, b)
	off := 8
	h.Versions = make([]KeyVersion, 0, count)
	for i := 0; i < count; i++ {
		if off+32 > len(data) {
			return nil, short
		}
		v := KeyVersion{
			Seq:     binary.LittleEndian.Uint64(data[off:]),
			Time:    msTime(binary.LittleEndian.Uint64(data[off+8:])),
			Expiry:  msTime(binary.LittleEndian.Uint64(data[off+16:])),
			Deleted: binary.LittleEndian.Uint32(data[off+24:])&1 != 0,
		}
		vl := int(binary.LittleEndian.Uint32(data[off+28:]))
		off += 32
		if off+vl > len(data) {
			return nil, short
		}
		if !v.Deleted {
			v.Value = data[off : off+vl : off+vl]
		}
		off += vl
		h.Versions = append(h.Versions, v)
	}
	return h, nil
}

// SetHistoryRetention makes compaction keep the history that time travel
// by clock time (SnapshotAtTime, History) needs for at least d
// ("history_retention_ms"; 0, the default, keeps nothing extra).
func (o *Options) SetHistoryRetention(d time.Duration) error {
	if d < 0 {
		return &Error{Code: StatusInvalidArgument, Msg: "history retention must not be negative"}
	}
	return o.setTyped("history_retention_ms", int64(d/time.Millisecond))
}

// SetTxnMaxAge bounds how long an abandoned transaction pins its snapshot
// ("txn_max_age_ms"; default 10 minutes, 0 = no limit): a transaction
// older than d loses its snapshot at the next compaction cycle unless a
// call is using it, and its next call fails with ErrSnapshotTooOld.
func (o *Options) SetTxnMaxAge(d time.Duration) error {
	if d < 0 {
		return &Error{Code: StatusInvalidArgument, Msg: "transaction max age must not be negative"}
	}
	return o.setTyped("txn_max_age_ms", int64(d/time.Millisecond))
}

// PutTTL buffers key=val expiring ttl after the commit's time (applied at
// commit). The transaction reads its own such put as present.
func (tx *Txn) PutTTL(key, val []byte, ttl time.Duration) error {
	return tx.PutTTLNS(nil, key, val, ttl)
}

// PutTTLNS is PutTTL in namespace ns.
func (tx *Txn) PutTTLNS(ns *Namespace, key, val []byte, ttl time.Duration) error {
	if err := tx.writable(); err != nil {
		return err
	}
	defer tx.gate.leave()
	nh, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	err = wrap(fkraw.Firkin_txn_put_ttl(tx.h, nh, ptr(key), len(key), ptr(val), len(val), ttlMs(ttl)))
	runtime.KeepAlive(tx)
	runtime.KeepAlive(ns)
	return err
}

// PutExpireAt buffers key=val expiring at time at (database clock), as
// DB.PutExpireAt; a time already past (the epoch and before included)
// reads as absent, in the transaction too.
func (tx *Txn) PutExpireAt(key, val []byte, at time.Time) error {
	return tx.PutExpireAtNS(nil, key, val, at)
}

// PutExpireAtNS is PutExpireAt in namespace ns.
func (tx *Txn) PutExpireAtNS(ns *Namespace, key, val []byte, at time.Time) error {
	if err := tx.writable(); err != nil {
		return err
	}
	defer tx.gate.leave()
	nh, nt, err := ns.enter()
	if err != nil {
		return err
	}
	defer ns.leave(nt)
	err = wrap(fkraw.Firkin_txn_put_expire_at(tx.h, nh, ptr(key), len(key), ptr(val), len(val), expiryMs(at)))
	runtime.KeepAlive(tx)
	runtime.KeepAlive(ns)
	return err
}
