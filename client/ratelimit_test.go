package client_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/orynet"
)

func TestParseRateLimit(t *testing.T) {
	cases := []struct {
		name      string
		remaining []string
		reset     []string
		want      client.RateLimit
		ok        bool
	}{
		{"none", nil, nil, client.RateLimit{Remaining: -1, Reset: -1}, false},
		{"Ory's example", []string{"8"}, []string{"1"}, client.RateLimit{Remaining: 8, Reset: time.Second}, true},
		{"sub-second bucket", []string{"0"}, []string{"0"}, client.RateLimit{Remaining: 0, Reset: 0}, true},
		{"reset only", nil, []string{"37"}, client.RateLimit{Remaining: -1, Reset: 37 * time.Second}, true},
		{"remaining only", []string{"3"}, nil, client.RateLimit{Remaining: 3, Reset: -1}, true},
		{"spaces", []string{" 4 "}, []string{" 2"}, client.RateLimit{Remaining: 4, Reset: 2 * time.Second}, true},
		// Two buckets, listed or repeated: the empty one's reset decides,
		// not the longer window of the bucket that still has room.
		{"buckets, comma list", []string{"0, 250"}, []string{"1, 37"}, client.RateLimit{Remaining: 0, Reset: time.Second}, true},
		{"buckets, repeated headers", []string{"250", "0"}, []string{"37", "1"}, client.RateLimit{Remaining: 0, Reset: time.Second}, true},
		{"buckets that do not pair up", []string{"0"}, []string{"1", "37"}, client.RateLimit{Remaining: 0, Reset: 37 * time.Second}, true},
		{"not numbers", []string{"many"}, []string{"soon", "1.5", "-3", "0x10"}, client.RateLimit{Remaining: -1, Reset: -1}, false},
		{"an epoch-looking value is seconds all the same", nil, []string{"1767225600"}, client.RateLimit{Remaining: -1, Reset: 1767225600 * time.Second}, true},
		{"saturates", []string{"99999999999999999999"}, []string{"99999999999999999999"}, client.RateLimit{Remaining: int(^uint(0) >> 1), Reset: time.Duration(1<<63-1) / time.Second * time.Second}, true},
	}
	for _, tc := range cases {
		h := http.Header{}
		for _, v := range tc.remaining {
			h.Add("X-Ratelimit-Remaining", v)
		}
		for _, v := range tc.reset {
			h.Add("x-ratelimit-reset", v)
		}
		got, ok := client.ParseRateLimit(h)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestRateLimitResetOnOryNetwork: against a server that answers like Ory
// Network, a 429 without Retry-After is retried once the window's
// x-ratelimit-reset (plus the second it was truncated by) is over; a reset
// over MaxRetryAfter returns the *Error at once, with RateLimit set; a
// Retry-After, when there is one, still decides.
func TestRateLimitResetOnOryNetwork(t *testing.T) {
	oryNetwork := func(reset, retryAfter string) (string, *counted) {
		var n atomic.Int32
		srv, h := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				if retryAfter != "" {
					w.Header().Set("Retry-After", retryAfter)
				}
				orynet.Refuse(w, reset)
				return
			}
			w.Header().Set("X-Ratelimit-Remaining", "9")
			w.Header().Set("X-Ratelimit-Reset", "0")
			writeJSON(w, 200, identityJS)
		})
		return srv.URL, h
	}

	t.Run("reset 1", func(t *testing.T) {
		url, h := oryNetwork("1", "")
		c := newClient(t, url, fastRetries(3))
		var err error
		took := within(t, 4*time.Second, func() { _, err = c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil) })
		if err != nil || h.count() != 2 || took < 2*time.Second {
			t.Errorf("after %s and %d requests: %v; want success after 2s (reset 1, truncated)", took, h.count(), err)
		}
	})
	t.Run("over MaxRetryAfter", func(t *testing.T) {
		url, h := oryNetwork("10", "")
		c := newClient(t, url, fastRetries(3)) // MaxRetryAfter 3s
		var err error
		within(t, time.Second, func() { _, err = c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil) })
		e := asError(t, err)
		if !errors.Is(err, client.ErrRateLimited) || e.RetryAfter != 0 || e.RateLimit == nil ||
			*e.RateLimit != (client.RateLimit{Remaining: 0, Reset: 10 * time.Second}) || h.count() != 1 {
			t.Errorf("got %+v (rate limit %+v) after %d requests", e, e.RateLimit, h.count())
		}
	})
	t.Run("past the caller's deadline", func(t *testing.T) {
		url, h := oryNetwork("2", "")
		c := newClient(t, url, fastRetries(3))
		var err error
		within(t, time.Second, func() { _, err = c.Identities.Get(ctxTimeout(t, 1500*time.Millisecond), testID, nil) })
		if e := asError(t, err); e.StatusCode != 429 || h.count() != 1 {
			t.Errorf("got %+v after %d requests", e, h.count())
		}
	})
	t.Run("Retry-After decides", func(t *testing.T) {
		url, h := oryNetwork("10", "1")
		c := newClient(t, url, fastRetries(3))
		var err error
		took := within(t, 3*time.Second, func() { _, err = c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil) })
		if err != nil || h.count() != 2 || took < time.Second {
			t.Errorf("after %s and %d requests: %v", took, h.count(), err)
		}
	})
	t.Run("a self-hosted 429 keeps the backoff", func(t *testing.T) {
		var n atomic.Int32
		srv, h := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				writeJSON(w, http.StatusTooManyRequests, `{"error":{"code":429,"message":"slow down"}}`)
				return
			}
			writeJSON(w, 200, identityJS)
		})
		c := newClient(t, srv.URL, fastRetries(3))
		var err error
		within(t, 500*time.Millisecond, func() { _, err = c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil) })
		if err != nil || h.count() != 2 {
			t.Errorf("%d requests: %v", h.count(), err)
		}
	})
}
