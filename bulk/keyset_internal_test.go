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
	s := newKeySet()
	for i := range n {
		s.m[s.digest(key(i))] = [2]int{i, i + 1}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d keys of %d bytes: heap +%.1f MiB", n, len(key(0)), float64(grew)/(1<<20))
	if grew > 30<<20 {
		t.Errorf("the key set grew the heap by %.1f MiB for %d keys: it keeps more than digests", float64(grew)/(1<<20), n)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		if got, ok := s.m[s.digest(key(i))]; !ok || got != [2]int{i, i + 1} {
			t.Errorf("key %d: %v %v", i, got, ok)
		}
	}
	if _, ok := s.m[s.digest(key(n))]; ok {
		t.Error("a key never added is found")
	}
	runtime.KeepAlive(s)
}
