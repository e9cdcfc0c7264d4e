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
