package firkin

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func cryptOpts(t *testing.T, key []byte, pass string) *Options {
	t.Helper()
	o, err := NewOptions()
	if err != nil {
		t.Fatal(err)
	}
	if key != nil {
		if err := o.SetEncryptionKey(key); err != nil {
			t.Fatal(err)
		}
	}
	if pass != "" {
		if err := o.SetPassphrase(pass); err != nil {
			t.Fatal(err)
		}
		o.Set("kdf_memory_kib", "64") // cheap Argon2id for tests
		o.Set("kdf_passes", "1")
	}
	return o
}

func TestEncryption(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	key1, key2 := make([]byte, 32), make([]byte, 32)
	for i := range key1 {
		key1[i], key2[i] = byte(i), byte(100+i)
	}
	db, err := Open(dir, cryptOpts(t, key1, ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(filepath.Join(dir, "KEYS")); err != nil {
		t.Fatal("no KEYS:", err)
	}
	if _, err := Open(dir, nil); !errors.Is(err, ErrBadKey) {
		t.Fatalf("no key: %v", err)
	}
	if _, err := Open(dir, cryptOpts(t, key2, "")); !errors.Is(err, ErrBadKey) || StatusOf(err) != StatusBadKey {
		t.Fatalf("wrong key: %v", err)
	}
	if err := Rekey(dir, cryptOpts(t, key2, ""), cryptOpts(t, nil, "pw")); !errors.Is(err, ErrBadKey) {
		t.Fatalf("rekey with wrong key: %v", err)
	}
	if err := Rekey(dir, cryptOpts(t, key1, ""), cryptOpts(t, nil, "pw")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, cryptOpts(t, key1, "")); !errors.Is(err, ErrBadKey) {
		t.Fatalf("old key after rekey: %v", err)
	}
	db, err = Open(dir, cryptOpts(t, nil, "pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := db.Get([]byte("k"))
	if err != nil || string(v) != "v" {
		t.Fatalf("get after rekey: %q %v", v, err)
	}
}

func TestEncryptionBadInput(t *testing.T) {
	o, _ := NewOptions()
	defer o.Close()
	if err := o.SetEncryptionKey(make([]byte, 31)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("31 bytes: %v", err)
	}
	if err := o.SetEncryptionKey(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil key: %v", err)
	}
	if err := o.SetPassphrase("a\x00b"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("NUL: %v", err)
	}
	if err := o.SetPassphrase(""); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty: %v", err)
	}
	if v, _ := o.Get("encryption"); v != "none" {
		t.Fatalf("encryption = %q", v)
	}
	if err := Rekey("/nonexistent", nil, o); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil options: %v", err)
	}
}
