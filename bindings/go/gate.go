package firkin

import (
	"sync/atomic"
	"unsafe"
)

// gate counts the calls in flight on a handle for one goroutine at a time
// (an Iterator, a Batch, a ChangeCursor, a Txn) or on a settings object
// passed to calls (Options, WriteOptions: not hot, so one counter) so that
// a Close from another goroutine never frees the C handle under one of
// them. The
// handles that may be shared (DB, Namespace, Snapshot) have a sharedGate
// (below), which spreads the count over cache lines.
//
// state holds gateClosed once Close ran, plus the number of calls in
// flight. A call enters (one atomic add) and leaves (one more); Close sets
// gateClosed, after which every enter fails (ErrClosed, the call never
// reaches C), and the C handle is freed by whoever sees the count reach
// zero with gateClosed set: Close itself when no call is in flight, else
// the last call to leave. Close never waits for a call, so a Close made
// from inside one (a transaction's function, a progress callback) or
// while another goroutine is blocked in one cannot hang; the release then
// happens when that call returns.
//
// (Before the review of 2026-11-29 the check was a plain flag: a Close
// racing a call let the call pass the check and then use the freed C
// handle, a SIGSEGV; TestCloseWhileCallsInFlight.)
type gate struct {
	state atomic.Int64
	freed atomic.Bool
	// free releases the C handle. It must not refer to the handle's Go
	// object (a cycle through it would keep a finalizer from running).
	free func() error
}

const gateClosed = int64(1) << 40

// enter reports whether the handle is open; on true the caller must
// call leave once it no longer uses the C handle.
func (g *gate) enter() bool {
	if g.state.Add(1)&gateClosed != 0 {
		g.leave()
		return false
	}
	return true
}

// leave ends a call; the C handle is freed here if this was the last call
// out of a closed handle.
func (g *gate) leave() {
	if g.state.Add(-1) == gateClosed {
		g.release()
	}
}

// close marks the handle closed: false if it already was. It frees the C
// handle now when no call is in flight (ran: the error is free's), or
// leaves that to the last call out.
func (g *gate) close() (ok, ran bool, err error) {
	for {
		s := g.state.Load()
		if s&gateClosed != 0 {
			return false, false, nil
		}
		if g.state.CompareAndSwap(s, s|gateClosed) {
			if s == 0 {
				ran, err = g.release()
			}
			return true, ran, err
		}
	}
}

// release frees the C handle once, whoever gets here first (the count can
// pass through zero again afterwards: refused enters add and take one).
func (g *gate) release() (bool, error) {
	if !g.freed.CompareAndSwap(false, true) {
		return false, nil
	}
	return true, g.free()
}

func (g *gate) isClosed() bool { return g.state.Load()&gateClosed != 0 }

// sharedGate is gate for the handles that many goroutines may call at once
// (a DB, a Namespace, a Snapshot). One counter shared by every call would be
// one cache line written by every core on every call (two atomic adds per
// call, the line moving between cores each time), which caps a handle's
// calls per second far below the C library's on many cores. So the count
// of calls in flight is spread over gateStripes counters, each on a
// 128-byte slot of its own (two 64-byte lines: the adjacent-line prefetcher
// pairs them), and "closed" is a separate word that only Close writes.
//
// enter adds one to a stripe picked from the calling goroutine's stack
// address (stripeHint: the same goroutine keeps hitting the same line;
// any stripe is correct as long as leave uses the same one, so enter
// returns it), then reads closed; if set, it takes its one back (leave) and
// refuses. leave subtracts one from its stripe, then, if closed is set and
// the stripes sum to zero, frees the C handle (once: freed). close sets
// closed (once, CAS), then sums the stripes and frees now if zero.
//
// Why no call is in C when the handle is freed (sync/atomic is
// sequentially consistent: all these loads and stores fall in one total
// order that every goroutine agrees on): close's sum reads stripe k after
// setting closed. A call counted on stripe k entered (added) either before
// that read, so the read sees it unless it already left; or after it, and
// so after closed was set, and its own read of closed (after its add) sees
// it set: refused, it never reaches C. The same holds for a leave's sum. A
// stripe is never below zero (every leave subtracts where its enter
// added), so a sum of zero read over time means that no call that reached C
// was still in flight at the read of its stripe, and none can enter after:
// the Dekker pattern, store then load on both sides, so either close sees
// the call's add or the call sees closed. Why the handle is freed at all:
// take the last add or subtract to any stripe. If it came before close set
// closed, close's sum reads every stripe after it and sees zero; otherwise
// the goroutine that made it reads closed as set and then sums all zeros.
// Close never waits, so a Close from inside a call (a transaction's
// function, a progress callback) or while another goroutine is blocked in
// one cannot hang. Refused enters may touch the stripes after the free:
// they are Go memory, not the C handle.
type sharedGate struct {
	stripes [gateStripes]gateStripe
	closed  atomic.Bool
	freed   atomic.Bool
	// free releases the C handle. It must not refer to the handle's Go
	// object (a cycle through it would keep a finalizer from running).
	free func() error
}

const gateStripes = 32 // a power of two

type gateStripe struct {
	n atomic.Int64
	_ [120]byte
}

// stripeHint picks a stripe from the address of a variable on the calling
// goroutine's stack: goroutines have separate stacks, each 2 KiB at least
// (the runtime's minimum) and aligned to its size, so the bits above 11
// differ between any two goroutines alive at once, and the multiplicative
// hash spreads nearby inputs over every stripe. A goroutine keeps its
// stripe from call to call (its cache line stays with the core it runs
// on). A stack that grew or moved only picks another stripe: still correct.
// (Until 2026-11-29 the hint dropped 13 bits, taking stacks for 8 KiB: the
// four 2 KiB stacks of an 8 KiB block shared one stripe, and two goroutines
// started together collided in 5-28% of pairs instead of about 1 in 32;
// TestStripeHintSpreadsLiveGoroutines, BenchmarkStripeHintPairs.)
func stripeHint() int {
	var x byte
	p := uint64(uintptr(unsafe.Pointer(&x)))
	return int(((p >> 11) * 0x9E3779B97F4A7C15) >> (64 - 5)) // top 5 bits: 0..31
}

// enter reports whether the handle is open and the stripe the call
// counted on; on true the caller must call leave(stripe) once it no longer
// uses the C handle.
func (g *sharedGate) enter() (int, bool) {
	i := stripeHint() & (gateStripes - 1)
	g.stripes[i].n.Add(1)
	if g.closed.Load() {
		g.leave(i)
		return 0, false
	}
	return i, true
}

// leave ends a call counted on stripe i; the C handle is freed here if this
// was the last call out of a closed handle.
func (g *sharedGate) leave(i int) {
	g.stripes[i].n.Add(-1)
	if g.closed.Load() && g.sum() == 0 {
		g.release()
	}
}

// sum is the number of calls in flight (or refused on their way out), read
// stripe by stripe (see the type for why that suffices).
func (g *sharedGate) sum() int64 {
	var n int64
	for i := range g.stripes {
		n += g.stripes[i].n.Load()
	}
	return n
}

// close marks the handle closed: false if it already was. It frees the C
// handle now when no call is in flight (ran: the error is free's), or
// leaves that to the last call out.
func (g *sharedGate) close() (ok, ran bool, err error) {
	if !g.closed.CompareAndSwap(false, true) {
		return false, false, nil
	}
	if g.sum() == 0 {
		ran, err = g.release()
	}
	return true, ran, err
}

// release frees the C handle once, whoever gets here first.
func (g *sharedGate) release() (bool, error) {
	if !g.freed.CompareAndSwap(false, true) {
		return false, nil
	}
	return true, g.free()
}
