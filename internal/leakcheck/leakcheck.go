// Package leakcheck finds goroutines a test leaves running. The client's
// and the bulk package's tests share it.
package leakcheck

import (
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// Goroutines snapshots the running goroutines; call the returned function
// at the end of a test (after closing its servers) to fail it when
// goroutines started since are still running once things had time to
// settle. Tests that use it must not run in parallel.
func Goroutines(t testing.TB) (check func()) {
	t.Helper()
	before := stacks()
	return func() {
		t.Helper()
		var leaked []string
		for deadline := time.Now().Add(5 * time.Second); ; {
			leaked = leaked[:0]
			for id, stack := range stacks() {
				if _, ok := before[id]; !ok {
					leaked = append(leaked, stack)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(leaked) > 0 {
			sort.Strings(leaked)
			t.Errorf("%d goroutines leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	}
}

var header = regexp.MustCompile(`^goroutine (\d+) `)

// stacks maps the id of every goroutine but the caller's to its stack.
func stacks() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // the caller
		}
		if m := header.FindStringSubmatch(g); m != nil {
			out[m[1]] = g
		}
	}
	return out
}
