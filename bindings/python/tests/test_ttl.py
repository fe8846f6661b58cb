"""pytest: TTL, the database clock, snapshots at a time and key history.

Expiries are absolute times in the past or far in the future and bounds come
from the database clock, so nothing depends on timing."""
import datetime
import time

import pytest

import firkin

H = datetime.timedelta(hours=1)


def test_expired_key_is_absent(path):
    with firkin.DB(path) as db:
        db.put(b"gone", b"v", expire_at=db.now() - datetime.timedelta(seconds=1))
        assert db.get(b"gone") is None and b"gone" not in db
        with pytest.raises(KeyError):
            db[b"gone"]
        with pytest.raises(firkin.NotFoundError):
            db.ttl(b"gone")
        assert db.persist(b"gone") is False
        with pytest.raises(firkin.NotFoundError):
            db.ttl(b"never")
        db[b"live"] = b"x"
        assert list(db.keys()) == [b"live"]
        # seconds since the epoch work too
        db.put(b"gone2", b"v", expire_at=db.now_ms() / 1000.0 - 5)
        assert db.get(b"gone2") is None


def test_remaining_and_persist(path):
    with firkin.DB(path) as db:
        before = db.now_ms()
        db.put(b"k", b"v", expire_at=(before + 60000) / 1000.0)
        rem = db.ttl(b"k")
        after = db.now_ms()
        ms = rem // datetime.timedelta(milliseconds=1)
        assert before + 60000 - after <= ms <= 60000, ms
        assert db[b"k"] == b"v"

        db.put(b"r", b"w", ttl=10)
        assert datetime.timedelta(0) < db.ttl(b"r") <= datetime.timedelta(seconds=10)
        db.put(b"r2", b"w", ttl=datetime.timedelta(minutes=1))
        assert datetime.timedelta(seconds=10) < db.ttl(b"r2") <= datetime.timedelta(minutes=1)

        db[b"p"] = b"1"
        assert db.ttl(b"p") is None

        # float seconds go through whole microseconds: 1.234 s is 1234 ms, not 1235
        db.put(b"f", b"v", ttl=1.234)
        v = db.history(b"f")[0]
        assert v.expiry_ms - v.time_ms == 1234

        v0 = db.version(b"k")
        assert db.persist(b"k") is True
        assert db.ttl(b"k") is None and db[b"k"] == b"v"
        v1 = db.version(b"k")
        assert v1 > v0
        assert db.persist(b"k") is True  # no expiry: nothing written
        assert db.version(b"k") == v1
        db.put(b"r", b"w2")  # a put without a TTL makes the key persistent
        assert db.ttl(b"r") is None


def test_namespace_snapshot_and_batch(path):
    with firkin.DB(path) as db, db.namespace("users") as users:
        users.put(b"old", b"v", expire_at=db.now() - datetime.timedelta(minutes=1))
        users.put(b"new", b"v", ttl=H)
        assert users.get(b"old") is None and users[b"new"] == b"v" and db.get(b"new") is None
        assert datetime.timedelta(0) < users.ttl(b"new") <= H
        snap = db.snapshot()
        assert users.persist(b"new")
        old = snap.at(users).ttl(b"new")
        assert old is not None and old <= H  # the snapshot predates persist
        assert users.ttl(b"new") is None
        snap.close()
        with pytest.raises(firkin.ClosedError):
            snap.ttl(b"new")

        with firkin.Batch() as b:
            b.put(b"a", b"1", ttl=60).put(b"b", b"2", users, ttl=datetime.timedelta(minutes=2))
            b.put(b"c", b"3")
            assert len(b) == 3
            db.write(b)
        assert datetime.timedelta(0) < db.ttl(b"a") <= datetime.timedelta(minutes=1)
        assert datetime.timedelta(minutes=1) < users.ttl(b"b") <= datetime.timedelta(minutes=2)
        assert db.ttl(b"c") is None
        va, vb = db.history(b"a")[0], users.history(b"b")[0]
        assert va.time_ms == vb.time_ms  # one commit time per batch
        assert va.expiry_ms - va.time_ms == 60000 and vb.expiry_ms - vb.time_ms == 120000
        assert va.expiry - va.time == datetime.timedelta(minutes=1)


def test_bad_input(path):
    db = firkin.DB(path)
    for bad in (0, -1, datetime.timedelta(0), float("nan")):
        with pytest.raises(firkin.InvalidArgumentError):
            db.put(b"k", b"v", ttl=bad)
    # (expire_at at or before the epoch is a past time, not bad input:
    # test_past_expire_at_writes_an_expired_key)
    with pytest.raises(TypeError):
        db.put(b"k", b"v", ttl="10")
    with pytest.raises(TypeError):
        db.put(b"k", b"v", expire_at="tomorrow")
    with pytest.raises(ValueError):
        db.put(b"k", b"v", ttl=1, expire_at=time.time() + 10)
    with pytest.raises(ValueError):
        db.snapshot(1, at=time.time())
    b = firkin.Batch()
    with pytest.raises(firkin.InvalidArgumentError):
        b.put(b"k", b"v", ttl=0)
    b.close()
    with pytest.raises(firkin.ClosedError):
        b.put(b"k", b"v", ttl=1)
    db.put(b"tiny", b"v", ttl=1e-6)  # rounded up to 1 ms, not rejected
    with pytest.raises(firkin.FirkinError):
        db.put(b"x" * 70000, b"v", ttl=1)
    db.close()
    for call in (lambda: db.put(b"k", b"v", ttl=1), lambda: db.ttl(b"k"),
                 lambda: db.persist(b"k"), db.now_ms, lambda: db.history(b"k"),
                 lambda: db.snapshot(at=time.time())):
        with pytest.raises(firkin.ClosedError):
            call()


def test_tiny_positive_ttl_rounds_up(path):
    """Any positive TTL is at least 1 ms: a float below 0.5 µs used to round
    to 0 µs, then 0 ms, which the library refuses (InvalidArgumentError)."""
    from firkin.ttl import ttl_ms
    for tiny in (4e-7, 1e-9, 5e-324, 1e-6, 0.0009, datetime.timedelta(microseconds=1)):
        assert ttl_ms(tiny) == 1, tiny
    assert ttl_ms(0.0011) == 2 and ttl_ms(1.234) == 1234
    for zero in (0.0, -4e-7, -5e-324, 0, datetime.timedelta(0)):
        assert ttl_ms(zero) == 0, zero
    with firkin.DB(path) as db:
        db.put(b"d", b"v", ttl=4e-7)
        b = firkin.Batch()
        b.put(b"b", b"v", ttl=4e-7)
        db.write(b)
        b.close()
        with db.transaction() as tx:
            tx.put(b"t", b"v", ttl=5e-324)
        for k in (b"d", b"b", b"t"):
            h = db.history(k)
            assert h[0].expiry_ms and h[0].expiry_ms - h[0].time_ms == 1, (k, h)


def test_history_order_and_fields(path):
    with firkin.DB(path) as db:
        h0 = db.history(b"k")
        assert h0 == [] and h0.truncated is False
        db[b"k"] = b"v1"
        s1 = db.version(b"k")
        now = db.now_ms()
        db.put(b"k", b"v2", expire_at=(now + 3600000) / 1000.0)
        s2 = db.version(b"k")
        del db[b"k"]
        h = db.history(b"k")
        assert len(h) == 3 and not h.truncated
        d, v2, v1 = h
        assert isinstance(d, firkin.KeyVersion)
        assert d.deleted and d.value is None and d.expiry_ms == 0 and d.expiry is None
        assert d.seq == db.last_seq()
        assert not v2.deleted and v2.value == b"v2" and v2.seq == s2 and v2.expiry_ms == now + 3600000
        assert v1.value == b"v1" and v1.seq == s1 and v1.expiry is None
        assert 0 < v1.time_ms <= now and v1.time.tzinfo is not None
        assert d.time_ms >= v2.time_ms >= v1.time_ms
        assert d.seq > v2.seq > v1.seq
        big = bytes(range(256)) * 40
        db[b"big"] = big
        db[b"big"] = b""
        hb = db.history(b"big")
        assert [v.value for v in hb] == [b"", big]


def test_snapshot_at_time(path):
    opts = firkin.Options(history_retention_ms=3600000)
    assert opts.get("history_retention_ms") == "3600000"
    with firkin.DB(path, opts) as db:
        db[b"k"] = b"v1"
        time.sleep(0.003)  # distinct commit times (ms)
        db[b"k"] = b"v2"
        h = db.history(b"k")
        t2, t1 = h[0].time_ms, h[1].time_ms
        assert t2 > t1
        with db.snapshot(at=(t1 - 1) / 1000.0) as s0:
            assert s0.seq == 0 and s0.get(b"k") is None
        with db.snapshot(at=h[1].time) as s:
            assert s[b"k"] == b"v1" and s.seq == h[1].seq
        with db.snapshot(at=(t2 - 1) / 1000.0) as s:
            assert s[b"k"] == b"v1"
        with db.snapshot(at=t2 / 1000.0) as s:
            assert s[b"k"] == b"v2"
        with db.snapshot(at=datetime.datetime.now(datetime.timezone.utc) + H) as s:
            assert s[b"k"] == b"v2"
        with db.snapshot(at=-5) as s:
            assert s.get(b"k") is None
    opts.close()


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
PAST_TIMES = (1, 0, -5, 0.0004, -1e300, float("-inf"), EPOCH,
              datetime.datetime(1969, 12, 31, tzinfo=datetime.timezone.utc))


def test_past_expire_at_writes_an_expired_key(path):
    """DB.put / Transaction.put: "a time already past writes a key that reads
    as absent at once", the epoch and before included. The library refuses
    an expiry of 0, so such a time is sent as 1 ms (also past); it used to be
    sent as 0 and raise InvalidArgumentError ("expiry time must be > 0")."""
    with firkin.DB(path) as db, db.namespace("users") as users:
        for i, at in enumerate(PAST_TIMES):
            for w in (db, users):
                k = b"k%d" % i
                want = 1000 if at == 1 else 1  # 1 s, else the epoch's 1 ms
                w.put(k, b"live")  # a previous value that the expired put hides
                w.put(k, b"v", expire_at=at)
                assert w.get(k) is None and k not in w, at
                assert w.persist(k) is False
                v = w.history(k)[0]
                assert not v.deleted and v.value == b"v"
                assert v.expiry_ms == want, at
                with db.transaction() as tx:
                    tx.put(k + b"t", b"v", ns=None if w is db else w, expire_at=at)
                    assert tx.get(k + b"t", ns=None if w is db else w) is None  # in the transaction
                assert w.get(k + b"t") is None
                assert w.history(k + b"t")[0].expiry_ms == want
        assert len(db) == 0 and len(users) == 0


def test_far_future_saturates(path):
    """A TTL or an absolute expiry beyond 2**64 - 1 ms saturates there (the
    expiry the library gives when commit time + TTL overflows): the key is
    live and never expires in practice. An expire_at of 1.8446744073709556e16 s
    used to wrap modulo 2**64 to 4096 ms (1970): the key read as absent at once."""
    top = 2**64 - 1
    with firkin.DB(path) as db:
        cases = {b"f": dict(expire_at=1.8446744073709556e16), b"g": dict(expire_at=2**70),
                 b"inf": dict(expire_at=float("inf")), b"t": dict(ttl=2**70),
                 b"tf": dict(ttl=1e300), b"ti": dict(ttl=float("inf"))}
        for k, kw in cases.items():
            db.put(k, b"v", **kw)
            assert db.get(k) == b"v", kw
            assert db.history(k)[0].expiry_ms == top, kw
            assert db.ttl(k) > datetime.timedelta(days=365 * 10**6), kw
        # the largest whole second below 2**64 ms goes as it is (exact: an int)
        db.put(b"edge", b"v", expire_at=top // 1000)
        assert db.history(b"edge")[0].expiry_ms == top // 1000 * 1000
        with db.transaction() as tx:
            tx.put(b"x", b"v", expire_at=2**70)
            tx.put(b"y", b"v", ttl=2**70)
        assert db.history(b"x")[0].expiry_ms == top and db.history(b"y")[0].expiry_ms == top
        b = firkin.Batch()
        b.put(b"z", b"v", ttl=2**70)
        db.write(b)
        b.close()
        assert db.history(b"z")[0].expiry_ms == top
        # a snapshot at a time beyond 2**64 - 1 ms is the latest state
        with db.snapshot(at=2**70) as s:
            assert s.seq == db.last_seq() and s.get(b"f") == b"v"
        with db.snapshot(at=float("inf")) as s:
            assert s.seq == db.last_seq()


def test_transactional_ttl(path):
    with firkin.DB(path) as db:
        now = db.now()
        with db.transaction() as tx:
            tx.put(b"a", b"va", ttl=H)
            tx.put(b"gone", b"v", expire_at=now - datetime.timedelta(seconds=1))
            assert tx.get(b"a") == b"va"  # its own TTL put reads as present
            assert tx.get(b"gone") is None  # its own put with a past expiry: absent
            with pytest.raises(firkin.InvalidArgumentError):
                tx.put(b"z", b"v", ttl=0)
            with pytest.raises(ValueError):
                tx.put(b"z", b"v", ttl=H, expire_at=now)
        left = db.ttl(b"a")
        assert datetime.timedelta(minutes=59) < left <= H
        assert db.get(b"gone") is None


def test_abandoned_transaction_expires(path):
    opts = firkin.Options(txn_max_age_ms=1)
    assert opts.get("txn_max_age_ms") == "1"
    with firkin.DB(path, opts) as db:
        tx = db.transaction()
        tx.put(b"k", b"v")
        time.sleep(0.005)
        db.compact()  # a compaction cycle expires the abandoned transaction
        with pytest.raises(firkin.SnapshotTooOldError):
            tx.get(b"k")
        with pytest.raises(firkin.SnapshotTooOldError):
            tx.commit()
        tx.close()
        assert db.get(b"k") is None
    opts.close()


def test_snapshot_at_time_beyond_what_compaction_kept(path):
    opts = firkin.Options(segment_size="64K", auto_compact=False)
    with firkin.DB(path, opts) as db:
        db[b"k"] = b"v1"
        t1 = db.history(b"k")[0].time_ms
        time.sleep(0.003)
        for i in range(400):
            db[b"p%d" % (i % 10)] = bytes(1000)
        db[b"k"] = b"v2"
        db.compact()
        # No retention: never a wrong state, SnapshotTooOldError instead.
        with pytest.raises(firkin.SnapshotTooOldError):
            db.snapshot(at=t1 / 1000.0)
    opts.close()
