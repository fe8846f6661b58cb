package firkin

import (
	"runtime"
	"strconv"

	"firkin.dev/firkin/internal/fkraw"
)

// SyncMode says when a write is acknowledged, relative to durability.
type SyncMode int

const (
	// SyncDefault uses the database's mode (write options only).
	SyncDefault SyncMode = -1
	// SyncNone acknowledges once in the OS page cache.
	SyncNone SyncMode = 0
	// SyncInterval is SyncNone plus a background flush every
	// sync_interval_ms.
	SyncInterval SyncMode = 1
	// SyncAlways acknowledges after an fdatasync covering the write.
	SyncAlways SyncMode = 2
)

func (m SyncMode) String() string {
	switch m {
	case SyncDefault:
		return "default"
	case SyncNone:
		return "none"
	case SyncInterval:
		return "interval"
	case SyncAlways:
		return "always"
	}
	return "SyncMode(" + strconv.Itoa(int(m)) + ")"
}

// Options are the settings of Open (firkin_options). Create them with
// NewOptions and Close them when done; Open copies what it needs.
//
// Thread contract: set options from one goroutine at a time; once set, the
// same Options may be passed to calls (Open, VerifyPath, Rekey) from many
// goroutines at once. Close may run while other goroutines are inside
// calls that use the options: those finish with the options intact, calls
// started after it return ErrClosed, and the C object is freed when the
// last call in flight returns (gate, gate.go). (Before 2026-11-29 the
// closed check was a plain flag: a Close racing a call freed the C object
// under it, and the call read freed memory; TestCloseOptionsWhileInUse.)
type Options struct {
	h    fkraw.Struct_SS_firkin_options
	gate gate // calls in flight; Close frees h when the last one is out
}

// NewOptions returns the defaults (see capi/firkin.h).
func NewOptions() (*Options, error) {
	var p int64
	if err := wrap(fkraw.Fkb_options_new(&p)); err != nil {
		return nil, err
	}
	h := fkraw.SwigcptrStruct_SS_firkin_options(uintptr(p))
	o := &Options{h: h}
	o.gate.free = func() error { fkraw.Firkin_options_free(h); return nil }
	runtime.SetFinalizer(o, (*Options).Close)
	return o, nil
}

// enter admits a call that uses the C options: (nil, nil) for nil Options
// (the defaults), ErrClosed once Close ran. On a nil error the caller must
// call o.leave() once C no longer uses the options.
func (o *Options) enter() (fkraw.Struct_SS_firkin_options, error) {
	if o == nil {
		return nil, nil
	}
	if !o.gate.enter() {
		return nil, errClosed("options")
	}
	return o.h, nil
}

// leave ends a call admitted by enter (nil Options: nothing to do).
func (o *Options) leave() {
	if o != nil {
		o.gate.leave()
	}
}

// Set sets an option by name ("create_if_missing", "sync_mode", ...), with
// the value as text: "true"/"false", "none"/"interval"/"always", sizes with
// an optional K/M/G suffix.
func (o *Options) Set(name, value string) error {
	h, err := o.enter()
	if err != nil {
		return err
	}
	defer o.leave()
	if h == nil {
		return &Error{Code: StatusInvalidArgument, Msg: "nil options"}
	}
	if err := cString(name, "an option name"); err != nil {
		return err
	}
	if err := cString(value, "an option value"); err != nil {
		return err
	}
	err = wrap(fkraw.Firkin_options_set(h, name, value))
	runtime.KeepAlive(o)
	return err
}

// Get returns an option's value as text.
func (o *Options) Get(name string) (string, error) {
	h, err := o.enter()
	if err != nil {
		return "", err
	}
	defer o.leave()
	if h == nil {
		return "", &Error{Code: StatusInvalidArgument, Msg: "nil options"}
	}
	if err := cString(name, "an option name"); err != nil {
		return "", err
	}
	b, err := readText(func(buf []byte, n *int64) error {
		return fkraw.Fkb_options_get(h, name, ptr(buf), len(buf), n)
	})
	runtime.KeepAlive(o)
	return string(b), err
}

// SetCreateIfMissing: create the database when the directory is missing.
func (o *Options) SetCreateIfMissing(v bool) error {
	return o.Set("create_if_missing", strconv.FormatBool(v))
}

// SetErrorIfExists: fail with ErrExists if the database exists.
func (o *Options) SetErrorIfExists(v bool) error {
	return o.Set("error_if_exists", strconv.FormatBool(v))
}

// SetReadOnly opens the database read-only.
func (o *Options) SetReadOnly(v bool) error { return o.Set("read_only", strconv.FormatBool(v)) }

// SetSyncMode sets the database's sync mode (not SyncDefault).
func (o *Options) SetSyncMode(m SyncMode) error {
	if m < SyncNone || m > SyncAlways {
		return &Error{Code: StatusInvalidArgument, Msg: "invalid sync mode " + m.String()}
	}
	return o.Set("sync_mode", m.String())
}

// SetSyncIntervalMs sets the background flush interval (1..60000).
func (o *Options) SetSyncIntervalMs(ms uint32) error {
	return o.Set("sync_interval_ms", strconv.FormatUint(uint64(ms), 10))
}

// SetSegmentSize sets the log segment size in bytes.
func (o *Options) SetSegmentSize(bytes uint64) error {
	return o.Set("segment_size", strconv.FormatUint(bytes, 10))
}

// SetSalvage skips damaged records on open (and reports them).
func (o *Options) SetSalvage(v bool) error { return o.Set("salvage", strconv.FormatBool(v)) }

// SetVerifyChecksums checks every record's checksum on every read (default
// false: a record is checked until its segment is known intact; see the
// verify_checksums option in firkin.h).
func (o *Options) SetVerifyChecksums(v bool) error {
	return o.Set("verify_checksums", strconv.FormatBool(v))
}

// Close releases the options. It returns an error like every other Close
// (always nil today: freeing options cannot fail). Closing twice is
// harmless, also from two goroutines at once. Calls that other goroutines
// have in flight with these options finish first: the C object is freed
// when the last of them returns (Close does not wait for them).
func (o *Options) Close() error {
	if o == nil {
		return nil
	}
	if ok, _, _ := o.gate.close(); ok {
		runtime.SetFinalizer(o, nil)
	}
	return nil
}

// WriteOptions are per-write settings (firkin_write_options).
//
// Thread contract: as Options. Set them from one goroutine at a time; once
// set, the same WriteOptions may be passed to writes (PutWith, WriteWith,
// CommitWith, ...) from many goroutines at once, and Close may run while
// some of those are in flight: they finish with the options intact, later
// calls return ErrClosed, and the last call out frees the C object (gate,
// gate.go; before 2026-11-29 a Close racing a write freed it under the
// write: TestCloseWriteOptionsWhileInUse).
type WriteOptions struct {
	h    fkraw.Struct_SS_firkin_write_options
	gate gate // calls in flight; Close frees h when the last one is out
}

// NewWriteOptions returns write options with Sync = SyncDefault.
func NewWriteOptions() (*WriteOptions, error) {
	var p int64
	if err := wrap(fkraw.Fkb_write_options_new(&p)); err != nil {
		return nil, err
	}
	h := fkraw.SwigcptrStruct_SS_firkin_write_options(uintptr(p))
	wo := &WriteOptions{h: h}
	wo.gate.free = func() error { fkraw.Firkin_write_options_free(h); return nil }
	runtime.SetFinalizer(wo, (*WriteOptions).Close)
	return wo, nil
}

// enter admits a call that uses the C write options: (nil, nil) for nil
// WriteOptions (the database's settings), ErrClosed once Close ran. On a
// nil error the caller must call wo.leave() once C no longer uses them.
func (wo *WriteOptions) enter() (fkraw.Struct_SS_firkin_write_options, error) {
	if wo == nil {
		return nil, nil
	}
	if !wo.gate.enter() {
		return nil, errClosed("write options")
	}
	return wo.h, nil
}

// leave ends a call admitted by enter (nil WriteOptions: nothing to do).
func (wo *WriteOptions) leave() {
	if wo != nil {
		wo.gate.leave()
	}
}

// SetSync sets when writes made with these options are acknowledged. A mode
// outside the C int range gives ErrInvalidArgument (never its low 32 bits);
// an unknown one in range, the library's ErrInvalidArgument.
func (wo *WriteOptions) SetSync(m SyncMode) error {
	h, err := wo.enter()
	if err != nil {
		return err
	}
	defer wo.leave()
	if h == nil {
		return &Error{Code: StatusInvalidArgument, Msg: "nil write options"}
	}
	v, err := cInt(int(m), "sync mode")
	if err != nil {
		return err
	}
	err = wrap(fkraw.Firkin_write_options_set_sync(h, v))
	runtime.KeepAlive(wo)
	return err
}

// Sync returns the sync mode.
func (wo *WriteOptions) Sync() (SyncMode, error) {
	h, err := wo.enter()
	if err != nil {
		return SyncDefault, err
	}
	defer wo.leave()
	if h == nil {
		return SyncDefault, nil
	}
	var v int64
	err = wrap(fkraw.Fkb_write_options_get_sync(h, &v))
	runtime.KeepAlive(wo)
	return SyncMode(v), err
}

// Close releases the write options. It returns an error like every other
// Close (always nil today). Closing twice is harmless, also from two
// goroutines at once; writes in flight with these options finish first (the
// last one out frees the C object).
func (wo *WriteOptions) Close() error {
	if wo == nil {
		return nil
	}
	if ok, _, _ := wo.gate.close(); ok {
		runtime.SetFinalizer(wo, nil)
	}
	return nil
}

// readText calls f with a growing buffer until the text fits.
func readText(f func(buf []byte, n *int64) error) ([]byte, error) {
	return readTextSized(256, f)
}

// verifyReportSize is the first buffer of a verify report: one that does
// not fit means running the whole verification again (a 256-byte first
// buffer did, for every report). 100 problems, the most a report lists,
// of a few hundred bytes each fit.
const verifyReportSize = 1 << 20

// readTextSized is readText with a first buffer of size bytes.
func readTextSized(size int, f func(buf []byte, n *int64) error) ([]byte, error) {
	buf := make([]byte, size)
	for {
		var n int64
		if err := wrap(f(buf, &n)); err != nil {
			return nil, err
		}
		if n <= int64(len(buf)) {
			return buf[:n], nil
		}
		buf = make([]byte, n)
	}
}

// setTyped / getTyped call the typed accessors firkin_options_[gs]et_NAME.
func (o *Options) setTyped(name string, v int64) error {
	h, err := o.enter()
	if err != nil {
		return err
	}
	defer o.leave()
	if h == nil {
		return &Error{Code: StatusInvalidArgument, Msg: "nil options"}
	}
	err = wrap(fkraw.Fkb_options_set_typed(h, name, v))
	runtime.KeepAlive(o)
	return err
}

func (o *Options) getTyped(name string) (int64, error) {
	h, err := o.enter()
	if err != nil {
		return 0, err
	}
	defer o.leave()
	if h == nil {
		return 0, &Error{Code: StatusInvalidArgument, Msg: "nil options"}
	}
	var v int64
	err = wrap(fkraw.Fkb_options_get_typed(h, name, &v))
	runtime.KeepAlive(o)
	return v, err
}
