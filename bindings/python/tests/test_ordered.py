"""pytest: ordered namespaces (create_namespace(ordered=True), iterate() /
items() / keys() with start, end, prefix, reverse; Iterator.seek)."""
import pytest

import firkin


def test_ordered_namespace_range_prefix_reverse_seek(path):
    with firkin.DB(path) as db:
        with db.create_namespace("o", ordered=True) as ns, db.create_namespace("plain") as plain:
            assert ns.ordered and not plain.ordered
            with pytest.raises(firkin.ExistsError):
                db.create_namespace("plain", ordered=True)
            # 3000 keys of 100 bytes: several next_n buffers, written out of order
            for i in reversed(range(3000)):
                ns.put(b"k%05d" % i, bytes(100))
            keys = list(ns.keys(ordered=True))
            assert keys == [b"k%05d" % i for i in range(3000)]
            assert list(ns.keys(reverse=True)) == keys[::-1]
            # None and b"" are both no bound; a bytearray works as a bound
            assert list(ns.keys(b"", None, ordered=True)) == keys
            assert list(ns.keys(bytearray(b"k00010"), b"k00013")) == [b"k00010", b"k00011", b"k00012"]
            assert list(ns.keys(prefix=b"k0299", reverse=True))[:2] == [b"k02999", b"k02998"]
            assert list(ns.items(b"k00001", b"k00002")) == [(b"k00001", bytes(100))]
            with pytest.raises(ValueError):
                ns.iterate(b"a", prefix=b"k")
            # seek after part of a buffer was consumed
            with ns.iterate(ordered=True) as it:
                assert it.ordered
                assert next(it)[0] == b"k00000" and next(it)[0] == b"k00001"
                assert next(it.seek(b"k02500"))[0] == b"k02500"
                assert next(it.seek(b"k00000x"))[0] == b"k00001"
                it.seek(b"z")
                assert list(it) == []
                it.seek(b"k02998")
                assert [k for k, _ in it] == [b"k02998", b"k02999"]
            # snapshot isolation
            with db.snapshot() as s:
                ns.delete(b"k00000")
                ns.put(b"a", b"new")
                assert list(s.at(ns).keys(None, b"k00002")) == [b"k00000", b"k00001"]
                assert list(ns.keys(None, b"k00002")) == [b"a", b"k00001"]
            # unordered namespaces and iterators
            with pytest.raises(firkin.InvalidArgumentError):
                plain.iterate(ordered=True)
            with pytest.raises(firkin.InvalidArgumentError):
                db.iterate(prefix=b"k")
            with ns.iterate() as hashed:
                assert not hashed.ordered
                with pytest.raises(firkin.InvalidArgumentError):
                    hashed.seek(b"k")
                assert len(list(hashed)) == 3000
            # in a transaction: its own writes, in order
            with db.transaction() as tx:
                tx.put(b"k00000", b"back", ns=ns)
                tx.delete(b"k00001", ns=ns)
                assert list(tx.keys(ns, b"a", b"k00003", reverse=True)) == [b"k00002", b"k00000", b"a"]
                assert list(tx.keys(ns, prefix=b"k0000"))[:2] == [b"k00000", b"k00002"]
                with pytest.raises(firkin.InvalidArgumentError):
                    tx.iterate(plain, ordered=True)
                tx.rollback()
        # the property survives a reopen
        db.close()
    with firkin.DB(path) as db, db.namespace("o", create=False) as ns:
        assert ns.ordered
        assert list(ns.keys(None, b"k00002")) == [b"a", b"k00001"]
