package firkin

import (
	"runtime"
	"testing"
	"unsafe"

	"firkin.dev/firkin/internal/fkraw"
)

// fkraw.GetN (internal/fkraw/fast.go) passes its buffers to C as integers,
// which is sound only for heap memory: a byte array on a goroutine's stack
// could move between the conversion and the C call (the cgo wrapper's
// prologue may grow the stack). GetN makes its arguments escape; here a key
// and a value buffer that would otherwise be on the stack, at stack depths
// around the growth points. Before that, C wrote the value into a moved
// stack in 80 calls of 8,000 (the session's code review; the public Get
// was safe only because another call in it made the buffers escape).

var getnDB uintptr
var getnBad, getnCalls, getnErrs int

//go:noinline
func getnUser() {
	var v [32]byte
	k := []byte("key1")
	r := fkraw.GetN(getnDB, 0, 0, unsafe.Pointer(&k[0]), len(k), unsafe.Pointer(&v[0]), len(v))
	getnCalls++
	if r != 5 {
		getnErrs++
		return
	}
	if string(v[:5]) != "value" {
		getnBad++
	}
}

//go:noinline
func getnPad(d int) {
	var p [40]byte
	p[d%40] = byte(d)
	if d > 0 {
		getnPad(d - 1)
		return
	}
	getnUser()
	runtime.KeepAlive(p)
}

func TestGetNBuffersNeverOnAMovedStack(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Put([]byte("key1"), []byte("value")); err != nil {
		t.Fatal(err)
	}
	getnDB = db.h.Swigcptr()
	for round := 0; round < 20; round++ {
		for d := 0; d < 400; d++ {
			done := make(chan struct{})
			go func(d int) { getnPad(d); close(done) }(d)
			<-done
		}
	}
	runtime.KeepAlive(db)
	if getnBad != 0 || getnErrs != 0 || getnCalls != 8000 {
		t.Fatalf("calls %d: the value was written elsewhere in %d, other results %d", getnCalls, getnBad, getnErrs)
	}
}
