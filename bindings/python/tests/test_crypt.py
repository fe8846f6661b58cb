"""Encryption at rest from Python: keys, passphrases, BadKeyError, rekey."""
import os

import pytest

import firkin

KEY1 = bytes(range(32))
KEY2 = bytes(range(32, 64))
CHEAP = {"kdf_memory_kib": 64, "kdf_passes": 1}  # fast Argon2id for tests


def test_key_roundtrip_and_refusals(path):
    with firkin.DB(path, encryption_key=KEY1) as db:
        db[b"k"] = b"secret value"
    assert os.path.exists(os.path.join(path, "KEYS"))
    with firkin.DB(path, encryption_key=KEY1) as db:
        assert db[b"k"] == b"secret value"
    with pytest.raises(firkin.BadKeyError):
        firkin.DB(path)
    with pytest.raises(firkin.BadKeyError) as e:
        firkin.DB(path, encryption_key=KEY2)
    assert e.value.status == "BAD_KEY" and "wrong key" in e.value.message
    with pytest.raises(firkin.BadKeyError):
        firkin.DB(path, passphrase="x", **CHEAP)


def test_key_on_plain_db(path):
    with firkin.DB(path) as db:
        db[b"k"] = b"v"
    with pytest.raises(firkin.BadKeyError):
        firkin.DB(path, encryption_key=KEY1)


def test_bad_input():
    o = firkin.Options()
    with pytest.raises(firkin.InvalidArgumentError):
        o.set_encryption_key(b"short")
    with pytest.raises(firkin.InvalidArgumentError):
        o.set_passphrase("")
    with pytest.raises(ValueError):
        o.set_passphrase(b"a\0b")
    assert o.get("encryption") == "none"
    o.set_passphrase("pw")
    assert o.get("encryption") == "passphrase"
    with pytest.raises(firkin.InvalidArgumentError):
        o.set("kdf_passes", 0)
    o.close()


def test_rekey(path):
    with firkin.DB(path, passphrase="old pass", **CHEAP) as db:
        db[b"k"] = b"v"
        with pytest.raises(firkin.BusyError):
            firkin.rekey(path, firkin.Options(passphrase="old pass"),
                         firkin.Options(encryption_key=KEY2))
    old, new = firkin.Options(passphrase="old pass"), firkin.Options(encryption_key=KEY2)
    with pytest.raises(firkin.BadKeyError):
        firkin.rekey(path, firkin.Options(passphrase="wrong"), new)
    firkin.rekey(path, old, new)
    with pytest.raises(firkin.BadKeyError):
        firkin.DB(path, passphrase="old pass")
    with firkin.DB(path, encryption_key=KEY2) as db:
        assert db[b"k"] == b"v"
