// Command leakcheck runs loops of gets, iterators and handle open/close
// through the Go binding and checks that the process's anonymous resident
// memory (RssAnon: heaps, native ones included) stays flat. A leak of native
// memory would not show in Go's heap statistics. File-backed pages (the
// library maps its log) are page cache, not leaks, so VmRSS is not used.
// It prints one line per loop and ends with "N passed, N failed".
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"firkin.dev/firkin"
)

func rssKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "RssAnon:") {
			f := strings.Fields(l)
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return -1
}

func check(err error) {
	if err != nil {
		fmt.Println("error:", err)
		fmt.Println("0 passed, 1 failed")
		os.Exit(1)
	}
}

const limitKB = 16 * 1024 // growth allowed after warm-up

func main() {
	dir, err := os.MkdirTemp("", "firkin-go-leak-")
	check(err)
	defer os.RemoveAll(dir)
	db, err := firkin.Open(filepath.Join(dir, "db"), nil)
	check(err)
	defer db.Close()
	val := bytes.Repeat([]byte("v"), 4096)
	for i := 0; i < 200; i++ {
		check(db.Put([]byte(fmt.Sprintf("k%03d", i)), val))
	}
	tns, err := db.Namespace("ttl")
	check(err)
	defer tns.Close()
	for i := 0; i < 8; i++ {
		check(tns.Put([]byte("h"), val))
	}
	check(tns.PutTTL([]byte("t"), val, time.Hour))
	loops := []struct {
		name  string
		round func()
	}{
		{"gets (4 KiB values, Get + GetInto + MultiGet)", func() {
			buf := make([]byte, 8192)
			keys := [][]byte{[]byte("k001"), []byte("k002"), []byte("nope")}
			for i := 0; i < 20000; i++ {
				k := []byte(fmt.Sprintf("k%03d", i%200))
				_, err := db.Get(k)
				check(err)
				_, err = db.GetInto(k, buf)
				check(err)
				if i%10 == 0 {
					_, err = db.MultiGet(keys)
					check(err)
				}
			}
		}},
		{"iterators (open, walk 200 entries, close)", func() {
			for i := 0; i < 300; i++ {
				it, err := db.NewIterator()
				check(err)
				n := 0
				for it.Next() {
					n++
				}
				check(it.Err())
				check(it.Close())
				if n != 200 {
					check(fmt.Errorf("iterated %d entries", n))
				}
			}
		}},
		{"handles (namespace, snapshot, batch, options, a second database)", func() {
			for i := 0; i < 300; i++ {
				ns, err := db.Namespace("leak")
				check(err)
				check(ns.Put([]byte("k"), val))
				check(ns.Close())
				s, err := db.NewSnapshot()
				check(err)
				check(s.Close())
				b, err := firkin.NewBatch()
				check(err)
				check(b.Put([]byte("b"), val))
				check(db.Write(b))
				check(b.Close())
				o, err := firkin.NewOptions()
				check(err)
				o.Close()
				if i%10 == 0 {
					d2, err := firkin.Open(filepath.Join(dir, "second"), nil)
					check(err)
					check(d2.Put([]byte("x"), val))
					check(d2.Close())
				}
			}
		}},
		{"ttl and history (TTL, History of 8 x 4 KiB versions, SnapshotAtTime)", func() {
			for i := 0; i < 2000; i++ {
				_, ok, err := tns.TTL([]byte("t"))
				check(err)
				if !ok {
					check(fmt.Errorf("ttl: no expiry"))
				}
				if i%10 == 0 {
					h, err := tns.History([]byte("h"))
					check(err)
					if len(h.Versions) == 0 {
						check(fmt.Errorf("empty history"))
					}
					s, err := db.SnapshotAtTime(time.Now())
					check(err)
					check(s.Close())
				}
			}
		}},
	}
	passed, failed := 0, 0
	for _, l := range loops {
		l.round() // warm-up: caches, pools, arenas
		// FreeOSMemory collects and returns the freed Go heap to the
		// system: runtime.GC alone leaves it resident until the scavenger
		// runs, which made RssAnon swing by tens of MiB between runs (a
		// gets loop once measured +26 MiB on a loaded CI machine, and
		// -52 MiB on another run) and hid a native leak of that size.
		debug.FreeOSMemory()
		before := rssKB()
		for r := 0; r < 10; r++ {
			l.round()
		}
		debug.FreeOSMemory()
		after := rssKB()
		ok := after-before <= limitKB
		fmt.Printf("%-70s RssAnon %6d KiB -> %6d KiB (%+d KiB) %s\n", l.name, before, after, after-before,
			map[bool]string{true: "flat", false: "GROWS"}[ok])
		if ok {
			passed++
		} else {
			failed++
		}
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
