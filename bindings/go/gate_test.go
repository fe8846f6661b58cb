package firkin

import "testing"

// The gates alone (no cgo call), from GOMAXPROCS goroutines on one handle:
// with -cpu 1,2,...,16 on as many cores, the single counter's ns/op grows
// with the cores that share its cache line; the striped one's should not.

func BenchmarkGateSingleParallel(b *testing.B) {
	g := &gate{free: func() error { return nil }}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !g.enter() {
				b.Error("closed")
				return
			}
			g.leave()
		}
	})
}

func BenchmarkGateStripedParallel(b *testing.B) {
	g := &sharedGate{free: func() error { return nil }}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			t, ok := g.enter()
			if !ok {
				b.Error("closed")
				return
			}
			g.leave(t)
		}
	})
}

// stripeHint spreads goroutines over the stripes (it is only a hint: any
// stripe is correct), and a goroutine keeps its stripe.
func TestStripeHintSpreads(t *testing.T) {
	seen := make(map[int]bool)
	done := make(chan int)
	for i := 0; i < 64; i++ {
		go func() {
			a := stripeHint() & (gateStripes - 1)
			if b := stripeHint() & (gateStripes - 1); a != b {
				t.Errorf("one goroutine: stripes %d then %d", a, b)
			}
			done <- a
		}()
	}
	for i := 0; i < 64; i++ {
		seen[<-done] = true
	}
	if len(seen) < 4 {
		t.Errorf("64 goroutines used %d of %d stripes", len(seen), gateStripes)
	}
}

// A striped gate frees its handle exactly once: at close with no call in
// flight, else at the last leave; enters after close are refused.
func TestSharedGateFreesOnce(t *testing.T) {
	frees := 0
	g := &sharedGate{free: func() error { frees++; return nil }}
	t1, ok1 := g.enter()
	t2, ok2 := g.enter()
	if !ok1 || !ok2 {
		t.Fatal("enter refused on an open gate")
	}
	if ok, ran, _ := g.close(); !ok || ran {
		t.Fatalf("close with calls in flight: ok %v ran %v", ok, ran)
	}
	if _, ok := g.enter(); ok {
		t.Fatal("enter admitted after close")
	}
	g.leave(t1)
	if frees != 0 {
		t.Fatal("freed with a call in flight")
	}
	g.leave(t2)
	if frees != 1 {
		t.Fatalf("%d frees after the last leave", frees)
	}
	if ok, _, _ := g.close(); ok {
		t.Fatal("second close reported ok")
	}
	g2 := &sharedGate{free: func() error { frees++; return nil }}
	if ok, ran, _ := g2.close(); !ok || !ran || frees != 2 {
		t.Fatalf("close of an idle gate: ok %v ran %v frees %d", ok, ran, frees)
	}
}
