package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RetryPolicy decides how failed requests are retried.
//
// A request is retried when its method is idempotent (GET, PUT, DELETE) and
// it failed with 429, 502, 503 or 504, or with a transient transport error
// (connection refused or reset, a body cut off, the per-attempt timeout).
// POST and PATCH are not retried unless RetryNonIdempotent is set: a batch
// import or a recovery code sent twice is not the same as sent once. The
// wait between attempts grows exponentially from MinBackoff to MaxBackoff
// with jitter; a Retry-After header from the server replaces it, and so
// does, on a 429 without Retry-After, Ory Network's x-ratelimit-reset (the
// window's reset, at least a second: see RateLimit). Retrying
// stops at once when the caller's context ends, or when the next wait would
// outlive the context's deadline.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, the first included.
	// 1 disables retries.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the exponential backoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After (or, on a 429 without one,
	// x-ratelimit-reset) the client waits for; a longer one ends the
	// retries and returns the error (whose RetryAfter, or RateLimit.Reset,
	// says how long the server asked for).
	MaxRetryAfter time.Duration
	// RetryNonIdempotent also retries POST and PATCH requests. Only set it
	// when a duplicate is harmless to you.
	RetryNonIdempotent bool
}

// DefaultRetryPolicy is used when no WithRetryPolicy option is given.
var DefaultRetryPolicy = RetryPolicy{
	MaxAttempts:   4,
	MinBackoff:    200 * time.Millisecond,
	MaxBackoff:    5 * time.Second,
	MaxRetryAfter: 30 * time.Second,
}

func (p RetryPolicy) validate() error {
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

// backoff is the jittered wait before retry number attempt (1-based):
// between half and all of MinBackoff·2^(attempt-1), capped at MaxBackoff.
func (p RetryPolicy) backoff(attempt int) time.Duration {
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
// at all: a Retry-After over MaxRetryAfter stops retrying, and so does a
// 429's x-ratelimit-reset over it when there is no Retry-After.
func (p RetryPolicy) wait(attempt int, err error) (time.Duration, bool) {
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		return p.backoff(attempt), true
	}
	if apiErr.RetryAfter > 0 {
		if apiErr.RetryAfter > p.MaxRetryAfter {
			return 0, false
		}
		return apiErr.RetryAfter, true
	}
	if rl := apiErr.RateLimit; apiErr.StatusCode == http.StatusTooManyRequests && rl != nil && rl.Reset >= 0 {
		if rl.Reset > p.MaxRetryAfter {
			return 0, false
		}
		return min(p.rateLimitWait(attempt, rl.Reset), p.MaxRetryAfter), true
	}
	return p.backoff(attempt), true
}

// rateLimitWait is the wait after a 429 whose x-ratelimit-reset said
// reset. The header counts whole seconds, truncated (Ory Network sends 0
// for a burst bucket of under a second), so the window has turned only
// after reset plus one second; a wait of reset alone would spend every
// retry inside the same window. The backoff is a floor too, so repeated
// 429s space out as other failures do, and a jitter of up to a quarter (at
// most a second) is added, never subtracted, so that parallel callers
// refused together (the importer's workers) do not come back together.
func (p RetryPolicy) rateLimitWait(attempt int, reset time.Duration) time.Duration {
	d := max(reset+time.Second, p.backoff(attempt))
	return d + rand.N(min(d/4, time.Second)+1)
}

// retrier is the client's one retry engine. Typed calls (Client.do), raw
// requests (Client.Do, and so Generated) and the importer's batches all
// ask it, after a failed attempt, whether to send again and how long to
// wait first, and wait through it: the statuses and transport errors worth
// another try, Retry-After (seconds or an HTTP date) up to MaxRetryAfter,
// Ory Network's x-ratelimit-reset on a 429 without Retry-After, the
// jittered capped backoff, the attempt count, the caller's deadline and
// cancellation are decided here and nowhere else.
type retrier struct {
	policy RetryPolicy
	// max is the number of attempts in all: the policy's MaxAttempts, or
	// the importer's own ImportOptions.MaxAttempts.
	max int
	// resend reports whether the request may be sent twice at all: an
	// idempotent method (or RetryNonIdempotent) and a body that can be
	// replayed.
	resend bool
	// pastDeadline lets a wait run into the context's deadline instead of
	// stopping before it. The importer sets it: the end of its run is what
	// abandons the items still waiting, as not attempted.
	pastDeadline bool
}

// newRetrier is the engine for one request of method sent under p;
// replayable is false for a request that must go once whatever the policy
// says (its body cannot be replayed, or the caller resends it itself).
func newRetrier(p RetryPolicy, method string, replayable bool) retrier {
	return retrier{
		policy: p,
		max:    p.MaxAttempts,
		resend: replayable && (isIdempotentMethod(method) || p.RetryNonIdempotent),
	}
}

// retryVerdict is the engine's answer after a failed attempt.
type retryVerdict int

const (
	retryAgain     retryVerdict = iota // the wait is over: send again
	retryStop                          // final: not transient, not resendable, or the attempts are used up
	retryTooLong                       // the server's Retry-After exceeds the policy's MaxRetryAfter
	retryDeadline                      // the wait would outlive the context's deadline
	retryCancelled                     // the context ended during the wait
)

// decide says what follows failed attempt number attempt (1-based) and,
// when that is another attempt, how long to wait first. transient is the
// caller's classification of failure (shouldRetry for a request; the
// importer's own for a batch). The wait is failure's Retry-After when it
// has one (an *Error), otherwise the backoff.
func (r *retrier) decide(ctx context.Context, attempt int, failure error, transient bool) (time.Duration, retryVerdict) {
	if !r.resend || !transient || attempt >= r.max {
		return 0, retryStop
	}
	wait, ok := r.policy.wait(attempt, failure)
	if !ok {
		return 0, retryTooLong
	}
	if !r.pastDeadline {
		if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
			return 0, retryDeadline
		}
	}
	return wait, retryAgain
}

// after is decide followed by the wait: retryAgain once the wait is over,
// retryCancelled when ctx ended first.
func (r *retrier) after(ctx context.Context, attempt int, failure error, transient bool) retryVerdict {
	wait, v := r.decide(ctx, attempt, failure, transient)
	if v == retryAgain && !sleep(ctx, wait) {
		return retryCancelled
	}
	return v
}

// pause is the engine's first backoff, without a decision: the importer
// waits it before splitting a batch whose outcome is unknown. It reports
// whether ctx is still live.
func (r *retrier) pause(ctx context.Context) bool {
	return sleep(ctx, r.policy.backoff(1))
}

// run is the engine's loop for one request. try sends attempt n (1-based)
// and returns nil when the loop is over with a result the caller keeps (a
// success, or an outcome that must not be retried, recorded by try
// itself), or the failure to decide upon. discard, when not nil, drops a
// failed attempt's response once a retry is decided, before the wait. run
// returns the verdict that ended the loop (retryStop when try ended it)
// and the last failure (nil when try ended it); after retryCancelled, ctx's
// error is the reason and the failure what was being retried.
func (r *retrier) run(ctx context.Context, try func(n int) error, discard func()) (retryVerdict, error) {
	for attempt := 1; ; attempt++ {
		failure := try(attempt)
		if failure == nil {
			return retryStop, nil
		}
		wait, v := r.decide(ctx, attempt, failure, r.resend && shouldRetry(ctx, failure))
		if v != retryAgain {
			return v, failure
		}
		if discard != nil {
			discard()
		}
		if !sleep(ctx, wait) {
			return retryCancelled, failure
		}
	}
}

// sleep waits d, or less when ctx ends; it reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
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

// retryableStatus reports the statuses worth another try.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// shouldRetry classifies a failure as transient.
func shouldRetry(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false // the caller gave up
	}
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return retryableStatus(apiErr.StatusCode)
	}
	var timeout *TimeoutError
	if errors.As(err, &timeout) {
		return true
	}
	if errors.Is(err, errTooLarge) {
		return false
	}
	var respErr *ResponseError
	if errors.As(err, &respErr) {
		// A body cut off in transit may arrive whole next time; a body
		// that is whole but wrong will not change.
		return isTransientNetErr(respErr.Err)
	}
	return isTransientNetErr(err)
}

func isTransientNetErr(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	// The transport reports a server that closed a kept-alive connection
	// this way.
	return err != nil && strings.Contains(err.Error(), "server closed idle connection")
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
// Anything unparsable, negative or in the past is zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		if secs > maxSecs {
			secs = maxSecs
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
