package firkin

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"firkin.dev/firkin/internal/fkraw"
)

// Status is a firkin_status code from capi/firkin.h. Codes are never
// renumbered.
type Status int

// The status codes of firkin.h.
const (
	StatusOK                Status = 0
	StatusNotFound          Status = -1
	StatusInvalidArgument   Status = -2
	StatusIO                Status = -3
	StatusCorruption        Status = -4
	StatusBusy              Status = -5
	StatusReadOnly          Status = -6
	StatusConditionFailed   Status = -7
	StatusConflict          Status = -8
	StatusNoSpace           Status = -9
	StatusNoMemory          Status = -10
	StatusTooLarge          Status = -11
	StatusBufferTooSmall    Status = -12
	StatusClosed            Status = -13
	StatusVersion           Status = -14
	StatusSnapshotTooOld    Status = -15
	StatusNamespaceNotFound Status = -16
	StatusExists            Status = -17
	StatusNotADatabase      Status = -18
	StatusNotSupported      Status = -19
	StatusInternal          Status = -20
	// StatusBadKey: an encrypted database without its key or with a wrong
	// one, or an unencrypted one opened with a key (issue 12).
	StatusBadKey Status = -21
)

// String is the library's static description of the code.
func (s Status) String() string { return fkraw.Fkb_strerror(int(s)) }

// Error is a failed call: its status code and the library's message
// (firkin_last_error, read in the same native call).
//
// errors.Is(err, firkin.ErrNotFound) and the other sentinels compare the
// code only; errors.As(err, &e) gives the message.
type Error struct {
	Code Status
	Msg  string
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "firkin: " + e.Code.String()
	}
	return "firkin: " + e.Msg
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is, one per status code.
var (
	ErrNotFound          = &Error{Code: StatusNotFound}
	ErrInvalidArgument   = &Error{Code: StatusInvalidArgument}
	ErrIO                = &Error{Code: StatusIO}
	ErrCorruption        = &Error{Code: StatusCorruption}
	ErrBusy              = &Error{Code: StatusBusy}
	ErrReadOnly          = &Error{Code: StatusReadOnly}
	ErrConditionFailed   = &Error{Code: StatusConditionFailed}
	ErrConflict          = &Error{Code: StatusConflict}
	ErrNoSpace           = &Error{Code: StatusNoSpace}
	ErrNoMemory          = &Error{Code: StatusNoMemory}
	ErrTooLarge          = &Error{Code: StatusTooLarge}
	ErrBufferTooSmall    = &Error{Code: StatusBufferTooSmall}
	ErrClosed            = &Error{Code: StatusClosed}
	ErrVersion           = &Error{Code: StatusVersion}
	ErrSnapshotTooOld    = &Error{Code: StatusSnapshotTooOld}
	ErrNamespaceNotFound = &Error{Code: StatusNamespaceNotFound}
	ErrExists            = &Error{Code: StatusExists}
	ErrNotADatabase      = &Error{Code: StatusNotADatabase}
	ErrNotSupported      = &Error{Code: StatusNotSupported}
	ErrInternal          = &Error{Code: StatusInternal}
	ErrBadKey            = &Error{Code: StatusBadKey}
)

// StatusOf returns the status code carried by err: StatusOK for nil, the
// code of a *firkin.Error, StatusInternal for any other error.
func StatusOf(err error) Status {
	if err == nil {
		return StatusOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return StatusInternal
}

// wrap converts the raw layer's error into a *Error.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	if se, ok := err.(*fkraw.StatusError); ok {
		return &Error{Code: Status(se.Code), Msg: se.Msg}
	}
	return err
}

func errClosed(what string) error {
	return &Error{Code: StatusClosed, Msg: fmt.Sprintf("%s is closed", what)}
}

// cString checks s for a C string parameter (a path, a namespace name, an
// option name or value, a passphrase): C reads it up to its first NUL, so
// DropNamespace("users\x00archive") would drop "users". A NUL gives
// ErrInvalidArgument instead.
func cString(s, what string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return &Error{Code: StatusInvalidArgument, Msg: fmt.Sprintf("%s cannot hold a NUL byte: %q", what, s)}
	}
	return nil
}

// checkU32Len checks a length for a 32-bit length field (the packed
// multi-get format): one of 4 GiB or more would wrap and read another key.
func checkU32Len(n int, what string) error {
	if uint64(n) > math.MaxUint32 {
		return &Error{Code: StatusTooLarge, Msg: fmt.Sprintf("%s of %d bytes does not fit a 32-bit length (at most %d)", what, n, uint64(math.MaxUint32))}
	}
	return nil
}

func errNotFound() error { return &Error{Code: StatusNotFound, Msg: "not found"} }

// cInt checks v for a C int parameter: cgo keeps only its low 32 bits
// (SyncMode(1<<32 + 2) would arrive as SyncAlways), so a value out of the
// int32 range gives ErrInvalidArgument instead.
func cInt(v int, what string) (int, error) {
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, &Error{Code: StatusInvalidArgument,
			Msg: fmt.Sprintf("%s %d is out of range (a C int: %d to %d)", what, v, math.MinInt32, math.MaxInt32)}
	}
	return v, nil
}
