// Package orynet answers as Ory Network's project rate limits do, for
// tests of the client and the bulk importer: every answer carries
// x-ratelimit-limit, x-ratelimit-remaining and x-ratelimit-reset (whole
// seconds until the window resets, truncated, so 0 for a window that ends
// within the second), and a request over the limit is refused with a 429
// without Retry-After and without a body. See Ory's "Ory Network rate
// limits" guide and the 429 handling its Terraform provider had to add.
package orynet

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Refuse writes the 429 Ory Network sends when a bucket is empty, with
// reset as its x-ratelimit-reset: a burst bucket of 10 per second and a
// sustained one of 300 per minute, in the IETF draft's form.
func Refuse(w http.ResponseWriter, reset string) {
	w.Header().Set("X-Ratelimit-Limit", "10, 10;w=1, 300;w=60")
	w.Header().Set("X-Ratelimit-Remaining", "0")
	w.Header().Set("X-Ratelimit-Reset", reset)
	w.WriteHeader(http.StatusTooManyRequests)
}

// Limiter lets Limit requests through per fixed window of Window (the
// first starts with the first request) and refuses the rest as Ory Network
// does. It is safe for concurrent use.
type Limiter struct {
	Limit  int
	Window time.Duration

	mu      sync.Mutex
	start   time.Time // of the current window
	used    int       // requests let through in it
	served  int
	refused int
}

// Wrap meters the requests to next.
func (l *Limiter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		remaining, reset, ok := l.take()
		h := w.Header()
		h.Set("X-Ratelimit-Limit", fmt.Sprintf("%d, %d;w=%d", l.Limit, l.Limit, max(int(l.Window/time.Second), 1)))
		h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-Ratelimit-Reset", strconv.Itoa(reset))
		if !ok {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// take counts a request: the requests left in the window after it, the
// whole seconds until the window resets, and whether it may pass.
func (l *Limiter) take() (remaining, reset int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.start.IsZero() || now.Sub(l.start) >= l.Window {
		l.start, l.used = now, 0
	}
	reset = int(l.start.Add(l.Window).Sub(now) / time.Second)
	if l.used >= l.Limit {
		l.refused++
		return 0, reset, false
	}
	l.used++
	l.served++
	return l.Limit - l.used, reset, true
}

// Counts returns how many requests were let through and how many refused.
func (l *Limiter) Counts() (served, refused int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.served, l.refused
}
