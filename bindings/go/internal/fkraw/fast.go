package fkraw

// The get of package firkin's hot path, by hand rather than through SWIG:
// every argument crosses as an integer, so cgo makes no pointer check of
// the key and the value buffer (35-65 ns of a 100-byte get on the 2-core
// machine, docs/bindings.md) and no handle goes through an interface.
//
// What makes passing Go memory as an integer sound here, rule by rule of
// cgo's pointer passing: the key and the buffer are byte arrays, which hold
// no Go pointers; the library reads the key and writes the buffer only
// during the call and keeps neither; both are on the heap, which does not
// move (GetN makes them escape, as a cgo call's pointer arguments do: a
// byte array left on a goroutine's stack could move between the
// conversion to an integer and the C call, whose generated Go wrapper may
// grow or shrink the stack; the session's code review reproduced C
// writing into a moved stack 80 times in 8,000 calls without it); and GetN
// keeps both alive until the call has returned (runtime.KeepAlive).

// #include <stdint.h>
// #include "firkin.h"
//
// /* fkb_get_n (bindings/swig/firkin.i) with integer arguments. */
// static int64_t fk_fast_get_n(uintptr_t db, uintptr_t snap, uintptr_t ns, uintptr_t key,
//                              size_t key_len, uintptr_t buf, size_t cap) {
//   size_t n = 0;
//   firkin_status st = firkin_get_into((firkin_db *)db, (const firkin_snapshot *)snap,
//                                      (const firkin_ns *)ns, (const void *)key, key_len,
//                                      (void *)buf, cap, &n);
//   if (st == FIRKIN_OK || st == FIRKIN_E_BUFFER_TOO_SMALL) return (int64_t)n;
//   return st;
// }
import "C"

import (
	"runtime"
	"unsafe"
)

// escapes is never set: the assignments it guards make the compiler
// allocate GetN's key and buf on the heap (escape analysis cannot know it
// stays false).
var escapes bool
var escapeSink unsafe.Pointer

// GetN is fkb_get_n: the value's size (copied into buf only if it fits in
// bufLen), -1 if key is absent, or a failed call's status (< -1: call
// Fkb_get for its message). db, snap and ns are handles' Swigcptr() (0 for
// none); key and buf point at byte arrays (nil when their length is 0).
func GetN(db, snap, ns uintptr, key unsafe.Pointer, keyLen int, buf unsafe.Pointer, bufLen int) int64 {
	if escapes {
		escapeSink = key
		escapeSink = buf
	}
	r := int64(C.fk_fast_get_n(C.uintptr_t(db), C.uintptr_t(snap), C.uintptr_t(ns),
		C.uintptr_t(uintptr(key)), C.size_t(keyLen), C.uintptr_t(uintptr(buf)), C.size_t(bufLen)))
	runtime.KeepAlive(key)
	runtime.KeepAlive(buf)
	return r
}
