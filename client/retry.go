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
// with jitter; a Retry-After header from the server replaces it. Retrying
// stops at once when the caller's context ends, or when the next wait would
// outlive the context's deadline.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, the first included.
	// 1 disables retries.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the exponential backoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for; a
	// longer one ends the retries and returns the error (whose RetryAfter
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
// at all: a Retry-After over MaxRetryAfter stops retrying.
func (p RetryPolicy) wait(attempt int, err error) (time.Duration, bool) {
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		if apiErr.RetryAfter > p.MaxRetryAfter {
			return 0, false
		}
		return apiErr.RetryAfter, true
	}
	return p.backoff(attempt), true
}

// next is the wait before retrying after failure, or false when the
// policy's Retry-After cap or the context's deadline rules a retry out
// (waiting would outlive the caller).
func (p RetryPolicy) next(ctx context.Context, attempt int, failure error) (time.Duration, bool) {
	wait, ok := p.wait(attempt, failure)
	if !ok {
		return 0, false
	}
	if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
		return 0, false
	}
	return wait, true
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
