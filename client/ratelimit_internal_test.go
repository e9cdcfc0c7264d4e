package client

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestFailureOfRateLimit: the engine is told a 429's rate-limit reset,
// and only a 429's.
func TestFailureOfRateLimit(t *testing.T) {
	ctx := context.Background()
	h := http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"3"}}
	for _, tc := range []struct {
		status   int
		hasReset bool
	}{{429, true}, {503, false}} {
		e := &Error{StatusCode: tc.status}
		e.setWaitHints(h)
		f := failureOf(ctx, e)
		if !f.Transient || f.HasReset != tc.hasReset || (tc.hasReset && f.Reset != 3*time.Second) {
			t.Errorf("%d: %+v", tc.status, f)
		}
	}
	if f := failureOf(ctx, &Error{StatusCode: 429}); f.HasReset {
		t.Errorf("no headers: %+v", f)
	}
	if f := failureOf(ctx, errors.New("not an answer")); f.HasReset || f.RetryAfter != 0 {
		t.Errorf("transport error: %+v", f)
	}
}
