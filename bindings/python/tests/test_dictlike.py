"""pytest: the dict-like surface (db[k], in, del, len, iteration, items) and
bytes-like arguments (bytearray, memoryview) — issue 9 item 14 and issue 10
item 5. `b"k" in db` used to be False for a present key (no __contains__),
and a bytearray key failed with a ctypes error."""
import array

import pytest

import firkin


def test_contains_present_and_absent(path):
    with firkin.DB(path) as db:
        db.put(b"k", b"v")
        assert b"k" in db
        assert b"absent" not in db
        assert bytearray(b"k") in db
        assert memoryview(b"k") in db
        assert "k" not in db  # a str is never a key
        assert 42 not in db
        with db.namespace("ns") as ns:
            assert b"k" not in ns
            ns[b"k"] = b"w"
            assert b"k" in ns


def test_getitem_setitem_delitem(path):
    with firkin.DB(path) as db:
        db[b"a"] = b"1"
        assert db[b"a"] == b"1"
        with pytest.raises(KeyError):
            db[b"missing"]
        with pytest.raises(firkin.NotFoundError):
            db[b"missing"]
        del db[b"a"]
        assert b"a" not in db
        with pytest.raises(KeyError):
            del db[b"a"]
        db.delete(b"a")  # delete of an absent key is not an error


def test_len_iteration_items(path):
    with firkin.DB(path) as db, db.namespace("users") as users:
        want = {b"k%d" % i: b"v%d" % i for i in range(500)}
        for k, v in want.items():
            db[k] = v
        users[b"ada"] = b"lovelace"
        assert len(db) == 500 and len(users) == 1
        assert sorted(db) == sorted(want)  # iteration yields keys, like a dict
        assert sorted(db.keys()) == sorted(want)
        assert dict(db.items()) == want
        assert sorted(db.values()) == sorted(want.values())
        assert dict(users.items()) == {b"ada": b"lovelace"}
        with db.snapshot() as snap:
            db[b"new"] = b"x"
            assert b"new" not in snap and b"new" in db
            assert dict(snap.items()) == want
            assert snap[b"k1"] == b"v1"


def test_items_generator_closes_its_iterator(path):
    with firkin.DB(path) as db:
        for i in range(10):
            db[b"k%d" % i] = b"v"
        gen = db.items()
        next(gen)
        gen.close()  # the iterator's handle is freed now, not at garbage collection
        assert len(list(db.items())) == 10


def test_bytearray_and_memoryview_arguments(path):
    with firkin.DB(path) as db:
        db.put(bytearray(b"ba"), bytearray(b"value"))
        assert db.get(b"ba") == b"value"
        db[memoryview(b"mv")] = memoryview(b"xyz")[1:]
        assert db[b"mv"] == b"yz"
        buf = bytearray(b"--key--")
        db.put(memoryview(buf)[2:5], b"sliced")
        assert db[b"key"] == b"sliced"
        ints = array.array("H", [1, 2])  # any buffer: its raw bytes
        db[ints] = b"arr"
        assert db[ints.tobytes()] == b"arr"
        assert db.put_if_absent(bytearray(b"pia"), bytearray(b"1"))
        assert db.compare_and_swap(b"pia", bytearray(b"1"), memoryview(b"2"))
        assert db.get(bytearray(b"pia")) == b"2"
        assert isinstance(db.get(bytearray(b"pia")), bytes)
        with firkin.Batch() as b:
            db.write(b.put(bytearray(b"b1"), memoryview(b"1")).delete(bytearray(b"ba")))
        assert db[b"b1"] == b"1" and b"ba" not in db
        db.put(b"empty", bytearray())
        assert db[b"empty"] == b""


def test_str_is_refused_with_a_clear_message(path):
    with firkin.DB(path) as db:
        with pytest.raises(TypeError, match="bytes-like"):
            db.put("text", b"v")
        with pytest.raises(TypeError, match="value must be bytes-like"):
            db.put(b"k", "text")
        with pytest.raises(TypeError, match="not int"):
            db.get(5)
