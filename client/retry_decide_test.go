package client

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
	p := RetryPolicy{MaxAttempts: 3, MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, MaxRetryAfter: 10 * time.Second}
	status := func(code int, retryAfter time.Duration) error {
		return &Error{StatusCode: code, RetryAfter: retryAfter}
	}
	bg := context.Background()
	soon, cancel := context.WithTimeout(bg, 2*time.Second)
	defer cancel()

	cases := []struct {
		name      string
		r         retrier
		ctx       context.Context
		attempt   int
		failure   error
		transient bool
		want      retryVerdict
		wait      time.Duration // exact wait, or 0 for a backoff
	}{
		{"GET 503", newRetrier(p, http.MethodGet, true), bg, 1, status(503, 0), true, retryAgain, 0},
		{"not transient", newRetrier(p, http.MethodGet, true), bg, 1, status(500, 0), false, retryStop, 0},
		{"attempts used up", newRetrier(p, http.MethodGet, true), bg, 3, status(503, 0), true, retryStop, 0},
		{"POST", newRetrier(p, http.MethodPost, true), bg, 1, status(503, 0), true, retryStop, 0},
		{"POST, RetryNonIdempotent", newRetrier(RetryPolicy{MaxAttempts: 3, RetryNonIdempotent: true}, http.MethodPost, true), bg, 1, status(503, 0), true, retryAgain, 0},
		{"body not replayable", newRetrier(p, http.MethodPut, false), bg, 1, status(503, 0), true, retryStop, 0},
		{"Retry-After", newRetrier(p, http.MethodGet, true), bg, 2, status(429, 7*time.Second), true, retryAgain, 7 * time.Second},
		{"Retry-After over the cap", newRetrier(p, http.MethodGet, true), bg, 1, status(429, 11*time.Second), true, retryTooLong, 0},
		{"attempts before the cap", newRetrier(p, http.MethodGet, true), bg, 3, status(429, 11*time.Second), true, retryStop, 0},
		{"past the deadline", newRetrier(p, http.MethodGet, true), soon, 1, status(429, 5*time.Second), true, retryDeadline, 0},
		{"within the deadline", newRetrier(p, http.MethodGet, true), soon, 1, status(429, time.Second), true, retryAgain, time.Second},
		{"importer waits past the deadline", retrier{policy: p, max: 5, resend: true, pastDeadline: true}, soon, 4, status(503, 5*time.Second), true, retryAgain, 5 * time.Second},
		{"importer's own attempt bound", retrier{policy: p, max: 5, resend: true, pastDeadline: true}, bg, 5, status(503, 0), true, retryStop, 0},
		{"transport error", newRetrier(p, http.MethodGet, true), bg, 2, errors.New("connection reset"), true, retryAgain, 0},
	}
	for _, tc := range cases {
		wait, v := tc.r.decide(tc.ctx, tc.attempt, tc.failure, tc.transient)
		if v != tc.want {
			t.Errorf("%s: verdict %d, want %d", tc.name, v, tc.want)
			continue
		}
		if v != retryAgain {
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
		full := min(tc.r.policy.MinBackoff<<(tc.attempt-1), tc.r.policy.MaxBackoff)
		if wait < full/2 || wait > full {
			t.Errorf("%s: wait %s, want within [%s, %s]", tc.name, wait, full/2, full)
		}
	}
}

// TestRetrierRunKeepsTheFailure: the loop sends until try stops it, drops
// each failed answer before its wait, and returns the last failure with
// the verdict that ended it.
func TestRetrierRunKeepsTheFailure(t *testing.T) {
	r := newRetrier(RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, http.MethodGet, true)
	busy := &Error{StatusCode: 503}
	tries, discards := 0, 0
	v, err := r.run(context.Background(), func(n int) error {
		tries++
		if n != tries {
			t.Errorf("attempt %d numbered %d", tries, n)
		}
		return busy
	}, func() { discards++ })
	if v != retryStop || err != busy || tries != 4 || discards != 3 {
		t.Errorf("verdict %d, %v after %d tries and %d discards; want stop, the 503, 4 and 3", v, err, tries, discards)
	}

	tries = 0
	v, err = r.run(context.Background(), func(n int) error {
		tries++
		if n == 2 {
			return nil
		}
		return busy
	}, nil)
	if v != retryStop || err != nil || tries != 2 {
		t.Errorf("verdict %d, %v after %d tries; want a clean stop after 2", v, err, tries)
	}

	ctx, cancel := context.WithCancel(context.Background())
	slow := newRetrier(RetryPolicy{MaxAttempts: 4, MinBackoff: time.Hour, MaxBackoff: time.Hour}, http.MethodGet, true)
	time.AfterFunc(20*time.Millisecond, cancel)
	v, err = slow.run(ctx, func(int) error { return busy }, nil)
	if v != retryCancelled || err != busy {
		t.Errorf("verdict %d, %v; want cancelled with the 503", v, err)
	}
}

// TestRetrierDecideRateLimitReset pins the waits after a 429 that carries
// Ory Network's x-ratelimit-reset and no Retry-After: the reset plus the
// second it was truncated by, at least the backoff, plus a jitter of up to
// a quarter (at most a second), never over MaxRetryAfter; a reset over it
// stops; a Retry-After, or a status other than 429, decides as before.
func TestRetrierDecideRateLimitReset(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 8, MinBackoff: 100 * time.Millisecond, MaxBackoff: 4 * time.Second, MaxRetryAfter: 10 * time.Second}
	ory := func(status int, retryAfter, reset time.Duration) error {
		return &Error{StatusCode: status, RetryAfter: retryAfter, RateLimit: &RateLimit{Remaining: 0, Reset: reset}}
	}
	bg := context.Background()
	cases := []struct {
		name     string
		attempt  int
		failure  error
		want     retryVerdict
		min, max time.Duration
	}{
		{"reset 0: a second, not a backoff", 1, ory(429, 0, 0), retryAgain, time.Second, 1250 * time.Millisecond},
		{"reset 5", 1, ory(429, 0, 5*time.Second), retryAgain, 6 * time.Second, 7 * time.Second},
		{"backoff over the reset", 7, ory(429, 0, 0), retryAgain, 2 * time.Second, 5 * time.Second}, // backoff 2-4s
		{"reset at the cap: the cap", 1, ory(429, 0, 10*time.Second), retryAgain, 10 * time.Second, 10 * time.Second},
		{"reset over the cap", 1, ory(429, 0, 11*time.Second), retryTooLong, 0, 0},
		{"Retry-After first", 1, ory(429, 2*time.Second, 9*time.Second), retryAgain, 2 * time.Second, 2 * time.Second},
		{"503: the backoff", 1, ory(503, 0, 9*time.Second), retryAgain, 50 * time.Millisecond, 100 * time.Millisecond},
		{"reset not reported", 1, &Error{StatusCode: 429, RateLimit: &RateLimit{Remaining: 0, Reset: -1}}, retryAgain, 50 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tc := range cases {
		for range 20 { // the jitter
			r := newRetrier(p, http.MethodGet, true)
			wait, v := r.decide(bg, tc.attempt, tc.failure, true)
			if v != tc.want || (v == retryAgain && (wait < tc.min || wait > tc.max)) {
				t.Errorf("%s: %s, verdict %d; want %d within [%s, %s]", tc.name, wait, v, tc.want, tc.min, tc.max)
				break
			}
		}
	}
}
