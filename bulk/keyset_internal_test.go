package bulk

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestKeySetHoldsNoKeys: the import's duplicate check remembers a digest
// per key, not the key: 100,000 keys of 1 KiB leave well under their
// 100 MiB on the heap, and each is found again (and no other).
func TestKeySetHoldsNoKeys(t *testing.T) {
	const n = 100_000
	pad := strings.Repeat("x", 1000)
	key := func(i int) string { return fmt.Sprintf("identifier %s-%07d@example.org", pad, i) }
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := newKeySet(0)
	for i := range n {
		s.add(s.digest(key(i)), i, i+1)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d keys of %d bytes: heap +%.1f MiB", n, len(key(0)), float64(grew)/(1<<20))
	if grew > 30<<20 {
		t.Errorf("the key set grew the heap by %.1f MiB for %d keys: it keeps more than digests", float64(grew)/(1<<20), n)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		if got, ok := s.first(s.digest(key(i))); !ok || got != [2]int{i, i + 1} {
			t.Errorf("key %d: %v %v", i, got, ok)
		}
	}
	if _, ok := s.first(s.digest(key(n))); ok {
		t.Error("a key never added is found")
	}
	runtime.KeepAlive(s)
}

// TestKeySetWindowBoundsMemory: with a window the duplicate check keeps
// the keys of the last window items only, whatever the input's length:
// 2,000,000 keys through a window of 10,000 items leave the map and its
// order at one window's keys and the heap a few MiB larger (without a
// window: about 100 MiB), the keys inside the window are found with their
// first item, and those before it are forgotten.
func TestKeySetWindowBoundsMemory(t *testing.T) {
	const window, items = 10_000, 1_000_000
	key := func(i, k int) string { return fmt.Sprintf("key %d of item %d", k, i) }
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := newKeySet(window)
	maxKept := 0
	for i := range items {
		s.forget(i)
		for k := range 2 {
			d := s.digest(key(i, k))
			if first, ok := s.first(d); ok {
				t.Fatalf("item %d key %d: found as item %v's", i, k, first)
			}
			s.add(d, i, i+1)
		}
		maxKept = max(maxKept, len(s.m), len(s.order)-s.head)
	}
	if maxKept > 2*(window+1) {
		t.Errorf("%d keys kept at most, for a window of %d items of 2 keys", maxKept, window)
	}
	if cap(s.order) > 8*window {
		t.Errorf("the order slice grew to %d entries for a window of %d items", cap(s.order), window)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d items of 2 keys through a window of %d: heap +%.1f MiB", items, window, float64(grew)/(1<<20))
	if grew > 8<<20 {
		t.Errorf("the key set grew the heap by %.1f MiB for a window of %d items: it keeps more than the window", float64(grew)/(1<<20), window)
	}
	s.forget(items)
	for _, i := range []int{items - window, items - 1, items - window/2} {
		if got, ok := s.first(s.digest(key(i, 1))); !ok || got != [2]int{i, i + 1} {
			t.Errorf("item %d, inside the window: %v %v", i, got, ok)
		}
	}
	for _, i := range []int{0, items / 2, items - window - 1} {
		if got, ok := s.first(s.digest(key(i, 0))); ok {
			t.Errorf("item %d, before the window, is still kept: %v", i, got)
		}
	}
	runtime.KeepAlive(s)
}
