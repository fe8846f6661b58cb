package firkin

import "unsafe"

// ptr is how a []byte crosses to C: the address of its first byte (nil when
// it is empty), with len(b) passed as its own argument. No copy, and no
// allocation: a slice header passed by value would be boxed for cgo's
// pointer check on every call. cgo's pointer rules allow it because a byte
// array holds no Go pointers and the library never keeps the pointer past
// the call (the argument keeps the array alive until the call returns).
func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// cptr is a handle's C pointer as an integer (0 for none), for the calls
// made by hand (internal/fkraw/fast.go).
func cptr(h interface{ Swigcptr() uintptr }) uintptr {
	if h == nil {
		return 0
	}
	return h.Swigcptr()
}
