package bench

import (
	"context"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"

	"github.com/kratosadmin/sdk/client"
)

// pageBytes is about what one page of 250 identities takes: ~300 KB of
// JSON in the body buffer and about twice that decoded.
const pageBytes = 1 << 20

// TestWalkHeapIsBounded walks 10,000 and then 100,000 identities with the
// SDK's iterator and checks that the peak live heap stays within a few
// pages' worth and does not grow with the total: the iterator must hold one
// page at a time, whatever the length of the list. The server encodes each
// page on request, so its memory is not the clients' to bound either.
func TestWalkHeapIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("walks 110,000 identities")
	}
	peakWalkHeap(t, 2*pageSize) // warm up: connection, type caches, buffers
	small := peakWalkHeap(t, 10_000)
	large := peakWalkHeap(t, 100_000)
	t.Logf("peak live heap above the baseline: %d KB walking 10,000, %d KB walking 100,000", small>>10, large>>10)
	if limit := uint64(4 * pageBytes); large > limit {
		t.Errorf("walking 100,000 identities peaked at %d KB of live heap, want under %d KB (a few pages)", large>>10, limit>>10)
	}
	// Ten times the items may cost no more than a sixteenth of a page more.
	// The one thing that grows is the walk's set of the page tokens seen,
	// which catches a server that hands out a token twice: about 100 bytes
	// a page, some 40 KB over the 360 extra pages.
	if large > small+pageBytes/16 {
		t.Errorf("the peak grew with the total: %d KB for 10,000, %d KB for 100,000", small>>10, large>>10)
	}
}

// peakWalkHeap walks total identities and returns the highest live heap,
// sampled after a forced collection every sampleEvery items, above the live
// heap before the walk. The baseline holds no pooled buffer; the samples do
// (the response buffer returned to the pool survives one collection), so
// the figure is on the high side.
func peakWalkHeap(t *testing.T, total int) uint64 {
	t.Helper()
	const sampleEvery = pageSize / 2
	c, err := client.New(serverURL+"/generated/"+strconv.Itoa(total), client.WithBearerToken(benchToken))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	runtime.GC() // the first collection moves pooled buffers to the victim cache
	base := liveHeap()
	var peak uint64
	n := 0
	for id, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: pageSize}) {
		if err != nil {
			t.Fatal(err)
		}
		if want := uuidFor(1, n); id.ID != want {
			t.Fatalf("item %d: id %s, want %s", n, id.ID, want)
		}
		if n%sampleEvery == 0 {
			if live := liveHeap(); live > base && live-base > peak {
				peak = live - base
			}
		}
		n++
	}
	if n != total {
		t.Fatalf("walked %d identities, want %d", n, total)
	}
	return peak
}

// liveHeap collects garbage and returns the bytes of heap objects the
// collection found live.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
