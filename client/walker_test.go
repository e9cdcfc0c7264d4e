package client

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"testing"
)

// TestTokenTrackerBoundedMemory: a walk through a million distinct tokens
// keeps at most MaxRememberedPageTokens digests, and finds a cycle that
// starts past them within twice its length.
func TestTokenTrackerBoundedMemory(t *testing.T) {
	tr := newTokenTracker()
	const distinct = 1_000_000
	for i := range distinct {
		if tr.add("tok-" + strconv.Itoa(i)) {
			t.Fatalf("token %d reported as repeated", i)
		}
	}
	if len(tr.set) != MaxRememberedPageTokens {
		t.Fatalf("remembers %d digests, want the cap %d", len(tr.set), MaxRememberedPageTokens)
	}
	// Now a cycle of 100,000 tokens none of which is in the exact set.
	const cycle = 100_000
	found := -1
	for i := 0; i < 4*cycle; i++ {
		if tr.add("cyc-" + strconv.Itoa(i%cycle)) {
			found = i
			break
		}
	}
	if found < cycle || found > 3*cycle {
		t.Fatalf("cycle of %d found after %d tokens, want between one and three laps", cycle, found)
	}
}

// TestTokenTrackerShortCycles: every cycle among remembered tokens is
// found at the first repeat, whatever its length.
func TestTokenTrackerShortCycles(t *testing.T) {
	for _, n := range []int{1, 2, 3, 17, 1000} {
		tr := newTokenTracker()
		for i := range n {
			if tr.add(fmt.Sprint("t", i)) {
				t.Fatalf("cycle %d: token %d repeated too early", n, i)
			}
		}
		if !tr.add("t0") {
			t.Fatalf("cycle of %d not found at its first repeat", n)
		}
	}
}

// TestWalkPagesMemoryDoesNotGrowWithPages: walking 100,000 pages of big
// (4 KiB) tokens keeps the heap flat: pages and tokens are released as the
// walk goes (before: 1 MiB tokens took the heap from 53 to 305 MiB over 50
// to 300 pages).
func TestWalkPagesMemoryDoesNotGrowWithPages(t *testing.T) {
	const pages = 100_000
	pad := make([]byte, MaxPageTokenBytes-16)
	for i := range pad {
		pad[i] = 'x'
	}
	fetch := func(tok string) (*Page[int], error) {
		n := 0
		if tok != "" {
			n, _ = strconv.Atoi(tok[len(pad):])
		}
		p := &Page[int]{Items: []int{n}}
		if n+1 < pages {
			p.NextPageToken = string(pad) + strconv.Itoa(n+1)
		}
		return p, nil
	}
	var heapAt [2]uint64
	count := 0
	for _, err := range WalkPages("", fetch) {
		if err != nil {
			t.Fatal(err)
		}
		count++
		if count == 10_000 || count == pages-1 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			i := 0
			if count > 10_000 {
				i = 1
			}
			heapAt[i] = ms.HeapAlloc
		}
	}
	if count != pages {
		t.Fatalf("walked %d pages, want %d", count, pages)
	}
	// 90,000 more pages of 4 KiB tokens would be 370 MB kept; the cap's
	// digests are 512 KiB at most (the map with its overhead a few MiB).
	if heapAt[0] == 0 || heapAt[1] == 0 {
		t.Fatal("heap not measured")
	}
	t.Logf("heap at page 10,000: %d bytes, at page %d: %d bytes", heapAt[0], pages-1, heapAt[1])
	if grow := int64(heapAt[1]) - int64(heapAt[0]); grow > 8<<20 {
		t.Fatalf("heap grew by %d bytes between page 10,000 and %d", grow, pages)
	}
}

// TestWalkPagesLoop: the loop is reported as a *PageError matching
// ErrPaginationLoop.
func TestWalkPagesLoop(t *testing.T) {
	next := map[string]string{"": "A", "A": "B", "B": "C", "C": "A"}
	fetches := 0
	var last error
	for _, err := range WalkPages("", func(tok string) (*Page[int], error) {
		fetches++
		return &Page[int]{Items: []int{1}, NextPageToken: next[tok]}, nil
	}) {
		last = err
	}
	var pe *PageError
	if !errors.Is(last, ErrPaginationLoop) || !errors.As(last, &pe) || pe.PageToken != "A" || fetches != 4 {
		t.Fatalf("want ErrPaginationLoop at A after 4 pages, got %v after %d", last, fetches)
	}
}
