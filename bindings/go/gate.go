package firkin

import "sync/atomic"

// gate counts the calls in flight on a shared handle (a DB, a Namespace, a
// Snapshot) so that Close never frees the C handle under one of them.
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
