// Package retry is the one retry engine of the SDK. The client's typed
// calls, its raw requests (Client.Do, and so Generated) and the bulk
// importer's batches all ask it, after a failed attempt, whether to send
// again and how long to wait first, and wait through it: Retry-After up to
// the policy's MaxRetryAfter, Ory Network's x-ratelimit-reset on a 429
// without Retry-After (up to the same cap), the jittered capped backoff,
// the attempt
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
// at all: the server's Retry-After when it sent one, else a rate limit's
// reset when the failure has one (either over MaxRetryAfter stops
// retrying), else the backoff.
func (p Policy) wait(attempt int, f Failure) (time.Duration, bool) {
	switch {
	case f.RetryAfter > 0:
		if f.RetryAfter > p.MaxRetryAfter {
			return 0, false
		}
		return f.RetryAfter, true
	case f.HasReset:
		if f.Reset > p.MaxRetryAfter {
			return 0, false
		}
		return min(p.resetWait(attempt, f.Reset), p.MaxRetryAfter), true
	}
	return p.Backoff(attempt), true
}

// resetWait is the wait after a 429 whose x-ratelimit-reset said reset.
// The header counts whole seconds, truncated (Ory Network sends 0 for a
// burst bucket of under a second), so the window has turned only after
// reset plus one second; a wait of reset alone would spend every retry
// inside the same window. The backoff is a floor too, so repeated 429s
// space out as other failures do, and a jitter of up to a quarter (at most
// a second) is added, never subtracted, so that callers refused together
// (the importer's workers) do not come back together.
func (p Policy) resetWait(attempt int, reset time.Duration) time.Duration {
	d := max(UntilReset(reset), p.Backoff(attempt))
	return d + rand.N(min(d/4, time.Second)+1)
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
	TooLong                  // the server's Retry-After (or rate-limit reset) exceeds the policy's MaxRetryAfter
	Deadline                 // the wait would outlive the context's deadline
	Cancelled                // the context ended during the wait
)

// Failure is a failed attempt as the engine sees it: whether it is
// transient (the caller's classification), the server's Retry-After, and
// for a 429 the reset of its rate limit (Ory Network's x-ratelimit-reset:
// whole seconds until the window resets, truncated).
type Failure struct {
	Transient  bool
	RetryAfter time.Duration
	Reset      time.Duration
	HasReset   bool
}

// Answered is the Failure of an attempt whose answer had the HTTP status,
// the Retry-After and the rate-limit reset given (a negative reset: the
// answer had none). A reset counts on a 429 only: it is when the bucket
// that refused the request has room again.
func Answered(transient bool, status int, retryAfter, reset time.Duration) Failure {
	f := Failure{Transient: transient, RetryAfter: retryAfter}
	if status == http.StatusTooManyRequests && reset >= 0 {
		f.Reset, f.HasReset = reset, true
	}
	return f
}

// UntilReset is how long until a rate-limit window whose x-ratelimit-reset
// said reset has surely turned: the header counts whole seconds, truncated
// (Ory Network sends 0 for a window that ends within the second), so one
// second more.
func UntilReset(reset time.Duration) time.Duration { return reset + time.Second }

// Decide says what follows failed attempt number attempt (1-based) and,
// when that is another attempt, how long to wait first.
func (r *Engine) Decide(ctx context.Context, attempt int, f Failure) (time.Duration, Verdict) {
	if !r.Resend || !f.Transient || attempt >= r.Max {
		return 0, Stop
	}
	wait, ok := r.Policy.wait(attempt, f)
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
