package retry

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestRetrierDecide pins the engine's decisions: what stops retrying, in
// which order, and how long it waits otherwise.
func TestRetrierDecide(t *testing.T) {
	p := Policy{MaxAttempts: 3, MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, MaxRetryAfter: 10 * time.Second}
	// A failed attempt as the client describes it: transient or not, and
	// the server's Retry-After.
	failed := func(transient bool, retryAfter time.Duration) Failure {
		return Failure{Transient: transient, RetryAfter: retryAfter}
	}
	bg := context.Background()
	soon, cancel := context.WithTimeout(bg, 2*time.Second)
	defer cancel()

	cases := []struct {
		name    string
		r       Engine
		ctx     context.Context
		attempt int
		failure Failure
		want    Verdict
		wait    time.Duration // exact wait, or 0 for a backoff
	}{
		{"GET 503", New(p, http.MethodGet, true), bg, 1, failed(true, 0), Again, 0},
		{"not transient", New(p, http.MethodGet, true), bg, 1, failed(false, 0), Stop, 0},
		{"attempts used up", New(p, http.MethodGet, true), bg, 3, failed(true, 0), Stop, 0},
		{"POST", New(p, http.MethodPost, true), bg, 1, failed(true, 0), Stop, 0},
		{"POST, RetryNonIdempotent", New(Policy{MaxAttempts: 3, RetryNonIdempotent: true}, http.MethodPost, true), bg, 1, failed(true, 0), Again, 0},
		{"body not replayable", New(p, http.MethodPut, false), bg, 1, failed(true, 0), Stop, 0},
		{"Retry-After", New(p, http.MethodGet, true), bg, 2, failed(true, 7*time.Second), Again, 7 * time.Second},
		{"Retry-After over the cap", New(p, http.MethodGet, true), bg, 1, failed(true, 11*time.Second), TooLong, 0},
		{"attempts before the cap", New(p, http.MethodGet, true), bg, 3, failed(true, 11*time.Second), Stop, 0},
		{"past the deadline", New(p, http.MethodGet, true), soon, 1, failed(true, 5*time.Second), Deadline, 0},
		{"within the deadline", New(p, http.MethodGet, true), soon, 1, failed(true, time.Second), Again, time.Second},
		{"importer waits past the deadline", Engine{Policy: p, Max: 5, Resend: true, PastDeadline: true}, soon, 4, failed(true, 5*time.Second), Again, 5 * time.Second},
		{"importer's own attempt bound", Engine{Policy: p, Max: 5, Resend: true, PastDeadline: true}, bg, 5, failed(true, 0), Stop, 0},
		{"transport error", New(p, http.MethodGet, true), bg, 2, failed(true, 0), Again, 0},
	}
	for _, tc := range cases {
		wait, v := tc.r.Decide(tc.ctx, tc.attempt, tc.failure)
		if v != tc.want {
			t.Errorf("%s: verdict %d, want %d", tc.name, v, tc.want)
			continue
		}
		if v != Again {
			continue
		}
		if tc.wait != 0 {
			if wait != tc.wait {
				t.Errorf("%s: wait %s, want %s", tc.name, wait, tc.wait)
			}
			continue
		}
		// Backoff for retry n: between half and all of MinBackoff·2^(n-1),
		// capped at MaxBackoff.
		full := min(tc.r.Policy.MinBackoff<<(tc.attempt-1), tc.r.Policy.MaxBackoff)
		if wait < full/2 || wait > full {
			t.Errorf("%s: wait %s, want within [%s, %s]", tc.name, wait, full/2, full)
		}
	}
}

// TestRetrierRunKeepsTheFailure: the loop sends until try stops it, drops
// each failed answer before its wait, and returns the last failure with
// the verdict that ended it.
func TestRetrierRunKeepsTheFailure(t *testing.T) {
	r := New(Policy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, http.MethodGet, true)
	busy := errors.New("503 Service Unavailable")
	transient := func(error) Failure { return Failure{Transient: true} }
	tries, discards := 0, 0
	v, err := r.Run(context.Background(), func(n int) error {
		tries++
		if n != tries {
			t.Errorf("attempt %d numbered %d", tries, n)
		}
		return busy
	}, func() { discards++ }, transient)
	if v != Stop || err != busy || tries != 4 || discards != 3 {
		t.Errorf("verdict %d, %v after %d tries and %d discards; want stop, the 503, 4 and 3", v, err, tries, discards)
	}

	tries = 0
	v, err = r.Run(context.Background(), func(n int) error {
		tries++
		if n == 2 {
			return nil
		}
		return busy
	}, nil, transient)
	if v != Stop || err != nil || tries != 2 {
		t.Errorf("verdict %d, %v after %d tries; want a clean stop after 2", v, err, tries)
	}

	ctx, cancel := context.WithCancel(context.Background())
	slow := New(Policy{MaxAttempts: 4, MinBackoff: time.Hour, MaxBackoff: time.Hour}, http.MethodGet, true)
	time.AfterFunc(20*time.Millisecond, cancel)
	v, err = slow.Run(ctx, func(int) error { return busy }, nil, transient)
	if v != Cancelled || err != busy {
		t.Errorf("verdict %d, %v; want cancelled with the 503", v, err)
	}
}

// TestDecideRateLimitReset pins the waits after a 429 that carries Ory
// Network's x-ratelimit-reset and no Retry-After: the reset plus the
// second it was truncated by, at least the backoff, plus a jitter of up to
// a quarter (at most a second), never over MaxRetryAfter; a reset over it
// stops; a Retry-After, or a status other than 429, decides as before.
func TestDecideRateLimitReset(t *testing.T) {
	p := Policy{MaxAttempts: 8, MinBackoff: 100 * time.Millisecond, MaxBackoff: 4 * time.Second, MaxRetryAfter: 10 * time.Second}
	ory := func(status int, retryAfter, reset time.Duration) Failure {
		return Answered(true, status, retryAfter, reset)
	}
	bg := context.Background()
	cases := []struct {
		name     string
		attempt  int
		failure  Failure
		want     Verdict
		min, max time.Duration
	}{
		{"reset 0: a second, not a backoff", 1, ory(429, 0, 0), Again, time.Second, 1250 * time.Millisecond},
		{"reset 5", 1, ory(429, 0, 5*time.Second), Again, 6 * time.Second, 7 * time.Second},
		{"backoff over the reset", 7, ory(429, 0, 0), Again, 2 * time.Second, 5 * time.Second}, // backoff 2-4s
		{"reset at the cap: the cap", 1, ory(429, 0, 10*time.Second), Again, 10 * time.Second, 10 * time.Second},
		{"reset over the cap", 1, ory(429, 0, 11*time.Second), TooLong, 0, 0},
		{"Retry-After first", 1, ory(429, 2*time.Second, 9*time.Second), Again, 2 * time.Second, 2 * time.Second},
		{"503: the backoff", 1, ory(503, 0, 9*time.Second), Again, 50 * time.Millisecond, 100 * time.Millisecond},
		{"reset not reported", 1, ory(429, 0, -1), Again, 50 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tc := range cases {
		for range 20 { // the jitter
			r := New(p, http.MethodGet, true)
			wait, v := r.Decide(bg, tc.attempt, tc.failure)
			if v != tc.want || (v == Again && (wait < tc.min || wait > tc.max)) {
				t.Errorf("%s: %s, verdict %d; want %d within [%s, %s]", tc.name, wait, v, tc.want, tc.min, tc.max)
				break
			}
		}
	}
	if UntilReset(0) != time.Second || UntilReset(37*time.Second) != 38*time.Second {
		t.Errorf("UntilReset: %s, %s", UntilReset(0), UntilReset(37*time.Second))
	}
}
