// Package retry is the one retry engine of the SDK. The client's typed
// calls, its raw requests (Client.Do, and so Generated) and the bulk
// importer's batches all ask it, after a failed attempt, whether to send
// again and how long to wait first, and wait through it: Retry-After up to
// the policy's MaxRetryAfter, the jittered capped backoff, the attempt
// count, the caller's deadline and cancellation are decided here and
// nowhere else. Which failures are worth another try is the client's
// classification (client.ClassifyFailure); the engine is told the answer.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// Policy is client.RetryPolicy, field for field, so that either converts
// to the other (see client.RetryPolicy for what the fields mean).
type Policy struct {
	MaxAttempts        int
	MinBackoff         time.Duration
	MaxBackoff         time.Duration
	MaxRetryAfter      time.Duration
	RetryNonIdempotent bool
}

// Validate reports a policy the engine cannot follow.
func (p Policy) Validate() error {
	switch {
	case p.MaxAttempts < 1:
		return fmt.Errorf("MaxAttempts %d must be at least 1", p.MaxAttempts)
	case p.MinBackoff < 0 || p.MaxBackoff < 0 || p.MaxRetryAfter < 0:
		return errors.New("durations must not be negative")
	case p.MaxBackoff < p.MinBackoff:
		return fmt.Errorf("MaxBackoff %s is below MinBackoff %s", p.MaxBackoff, p.MinBackoff)
	}
	return nil
}

// Backoff is the jittered wait before retry number attempt (1-based):
// between half and all of MinBackoff·2^(attempt-1), capped at MaxBackoff.
func (p Policy) Backoff(attempt int) time.Duration {
	d := p.MinBackoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	if d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// wait is how long to wait before the next attempt, and whether to retry
// at all: the server's Retry-After when it sent one (over MaxRetryAfter
// stops retrying), else the backoff.
func (p Policy) wait(attempt int, retryAfter time.Duration) (time.Duration, bool) {
	if retryAfter > 0 {
		if retryAfter > p.MaxRetryAfter {
			return 0, false
		}
		return retryAfter, true
	}
	return p.Backoff(attempt), true
}

// Engine decides about the attempts of one request (or of one batch).
type Engine struct {
	Policy Policy
	// Max is the number of attempts in all: the policy's MaxAttempts, or
	// the importer's own ImportOptions.MaxAttempts.
	Max int
	// Resend reports whether the request may be sent twice at all: an
	// idempotent method (or RetryNonIdempotent) and a body that can be
	// replayed.
	Resend bool
	// PastDeadline lets a wait run into the context's deadline instead of
	// stopping before it. The importer sets it: the end of its run is what
	// abandons the items still waiting, as not attempted.
	PastDeadline bool
}

// New is the engine for one request of method sent under p; replayable is
// false for a request whose body cannot be sent again.
func New(p Policy, method string, replayable bool) Engine {
	return Engine{
		Policy: p,
		Max:    p.MaxAttempts,
		Resend: replayable && (IsIdempotentMethod(method) || p.RetryNonIdempotent),
	}
}

// IsIdempotentMethod reports the methods retried without
// RetryNonIdempotent.
func IsIdempotentMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// Verdict is the engine's answer after a failed attempt.
type Verdict int

const (
	Again     Verdict = iota // the wait is over: send again
	Stop                     // final: not transient, not resendable, or the attempts are used up
	TooLong                  // the server's Retry-After exceeds the policy's MaxRetryAfter
	Deadline                 // the wait would outlive the context's deadline
	Cancelled                // the context ended during the wait
)

// Failure is a failed attempt as the engine sees it: whether it is
// transient (the caller's classification) and the server's Retry-After.
type Failure struct {
	Transient  bool
	RetryAfter time.Duration
}

// Decide says what follows failed attempt number attempt (1-based) and,
// when that is another attempt, how long to wait first.
func (r *Engine) Decide(ctx context.Context, attempt int, f Failure) (time.Duration, Verdict) {
	if !r.Resend || !f.Transient || attempt >= r.Max {
		return 0, Stop
	}
	wait, ok := r.Policy.wait(attempt, f.RetryAfter)
	if !ok {
		return 0, TooLong
	}
	if !r.PastDeadline {
		if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
			return 0, Deadline
		}
	}
	return wait, Again
}

// After is Decide followed by the wait: Again once the wait is over,
// Cancelled when ctx ended first.
func (r *Engine) After(ctx context.Context, attempt int, f Failure) Verdict {
	wait, v := r.Decide(ctx, attempt, f)
	if v == Again && !Sleep(ctx, wait) {
		return Cancelled
	}
	return v
}

// Pause is the engine's first backoff, without a decision: the importer
// waits it before splitting a batch whose outcome is unknown. It reports
// whether ctx is still live.
func (r *Engine) Pause(ctx context.Context) bool {
	return Sleep(ctx, r.Policy.Backoff(1))
}

// Run is the engine's loop for one request. try sends attempt n (1-based)
// and returns nil when the loop is over with a result the caller keeps (a
// success, or an outcome that must not be retried, recorded by try
// itself), or the failure to decide upon, which classify describes.
// discard, when not nil, drops a failed attempt's response once a retry is
// decided, before the wait. Run returns the verdict that ended the loop
// (Stop when try ended it) and the last failure (nil when try ended it);
// after Cancelled, ctx's error is the reason and the failure what was
// being retried.
func (r *Engine) Run(ctx context.Context, try func(n int) error, discard func(), classify func(error) Failure) (Verdict, error) {
	for attempt := 1; ; attempt++ {
		failure := try(attempt)
		if failure == nil {
			return Stop, nil
		}
		f := Failure{}
		if r.Resend {
			f = classify(failure)
		}
		wait, v := r.Decide(ctx, attempt, f)
		if v != Again {
			return v, failure
		}
		if discard != nil {
			discard()
		}
		if !Sleep(ctx, wait) {
			return Cancelled, failure
		}
	}
}

// Sleep waits d, or less when ctx ends; it reports whether ctx is still
// live.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
