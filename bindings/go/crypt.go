package firkin

// Encryption at rest (issue 12; docs/api.md, "Encryption"): the key
// options and offline key rotation.

import (
	"runtime"
	"strings"

	"firkin.dev/firkin/internal/fkraw"
)

// SetEncryptionKey makes Open create the database encrypted, or open an
// encrypted one, with a raw 32-byte key (copied). Opening an encrypted
// database without its key, with a wrong one, or an unencrypted one with a
// key fails with ErrBadKey. ErrInvalidArgument for another length.
func (o *Options) SetEncryptionKey(key []byte) error {
	h, err := o.enter()
	if err != nil {
		return err
	}
	defer o.leave()
	if h == nil {
		return &Error{Code: StatusInvalidArgument, Msg: "nil options"}
	}
	if len(key) == 0 {
		return &Error{Code: StatusInvalidArgument, Msg: "an encryption key is exactly 32 bytes, got 0"}
	}
	err = wrap(fkraw.Firkin_options_set_encryption_key(h, ptr(key), len(key)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(o)
	return err
}

// SetPassphrase is SetEncryptionKey with a passphrase, through Argon2id
// (cost: the options "kdf_memory_kib", "kdf_passes", "kdf_lanes", recorded
// in the database when it is created or rekeyed).
func (o *Options) SetPassphrase(passphrase string) error {
	h, err := o.enter()
	if err != nil {
		return err
	}
	defer o.leave()
	if h == nil {
		return &Error{Code: StatusInvalidArgument, Msg: "nil options"}
	}
	if strings.IndexByte(passphrase, 0) >= 0 { // not cString: the message must not show it
		return &Error{Code: StatusInvalidArgument, Msg: "a passphrase cannot hold a NUL byte"}
	}
	err = wrap(fkraw.Firkin_options_set_passphrase(h, passphrase))
	runtime.KeepAlive(o)
	return err
}

// Rekey changes the key of the encrypted database at path, offline (ErrBusy
// while it is open for writing): the data key is unwrapped with oldOpts'
// key or passphrase (ErrBadKey if wrong) and wrapped again under newOpts'.
// The data key itself, and so every sealed byte, stays the same.
func Rekey(path string, oldOpts, newOpts *Options) error {
	oh, err := oldOpts.enter()
	if err != nil {
		return err
	}
	defer oldOpts.leave()
	nh, err := newOpts.enter()
	if err != nil {
		return err
	}
	defer newOpts.leave()
	if oh == nil || nh == nil {
		return &Error{Code: StatusInvalidArgument, Msg: "rekey needs the old and the new options"}
	}
	if err := cString(path, "a path"); err != nil {
		return err
	}
	err = wrap(fkraw.Firkin_rekey(path, oh, nh))
	runtime.KeepAlive(oldOpts)
	runtime.KeepAlive(newOpts)
	return err
}
