package client

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kratosadmin/sdk/internal/retry"
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
// window's reset plus the second it is truncated by: see RateLimit).
// Retrying
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

func (p RetryPolicy) validate() error { return retry.Policy(p).Validate() }

// newRetrier is the engine (internal/retry) for one request of method sent
// under p; replayable is false for a request whose body cannot be replayed.
func newRetrier(p RetryPolicy, method string, replayable bool) retry.Engine {
	return retry.New(retry.Policy(p), method, replayable)
}

// RetryPolicy returns the client's retry policy (WithRetryPolicy, or
// DefaultRetryPolicy), for code that retries on the client's terms, such as
// the bulk importer.
func (c *Client) RetryPolicy() RetryPolicy { return c.cfg.retry }

// FailureClass is what a failed request tells about sending it again: the
// client's one classification of failures (ClassifyFailure). The retry
// engine resends what is not FailureFinal; the bulk importer extends it
// with its own rules (what to split, what stops a run).
type FailureClass uint8

const (
	// FailureFinal: sending again will not change the answer (a 4xx, a 500,
	// a body that is whole but wrong, an argument refused before sending).
	FailureFinal FailureClass = iota
	// FailureNotApplied: the server did not act on the request: 429, 503,
	// or a connection that was never made (refused, a failed dial or DNS
	// look-up).
	FailureNotApplied
	// FailureBadGateway: a gateway answered 502; the server behind it may
	// have acted on the request.
	FailureBadGateway
	// FailureAnswerLost: no whole answer came back (504, the per-attempt
	// timeout, a reset connection, a body cut off); the server may have
	// acted on the request.
	FailureAnswerLost
)

// Transient reports whether the failure is worth another try.
func (f FailureClass) Transient() bool { return f != FailureFinal }

// statusClass is the one table of HTTP statuses worth another try.
func statusClass(status int) FailureClass {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return FailureNotApplied
	case http.StatusBadGateway:
		return FailureBadGateway
	case http.StatusGatewayTimeout:
		return FailureAnswerLost
	}
	return FailureFinal
}

// ClassifyFailure classifies an error a call returned (its *Error, a
// transport error, a *TimeoutError, a *ResponseError). It does not look at
// the caller's context: a call whose context ended is not retried whatever
// its class.
func ClassifyFailure(err error) FailureClass {
	if neverSent(err) {
		return FailureNotApplied
	}
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return statusClass(apiErr.StatusCode)
	}
	var timeout *TimeoutError
	if errors.As(err, &timeout) {
		return FailureAnswerLost
	}
	if errors.Is(err, errTooLarge) {
		return FailureFinal
	}
	var respErr *ResponseError
	if errors.As(err, &respErr) {
		// A body cut off in transit may arrive whole next time; a body
		// that is whole but wrong will not change.
		err = respErr.Err
	}
	if isTransientNetErr(err) {
		return FailureAnswerLost
	}
	return FailureFinal
}

// failureOf is the engine's view of a failed attempt under ctx.
func failureOf(ctx context.Context, err error) retry.Failure {
	if ctx.Err() != nil {
		return retry.Failure{} // the caller gave up
	}
	transient := ClassifyFailure(err).Transient()
	var apiErr *Error
	if errors.As(err, &apiErr) {
		return retry.Answered(transient, apiErr.StatusCode, apiErr.RetryAfter, apiErr.rateLimitReset())
	}
	return retry.Failure{Transient: transient}
}

// retryableStatus reports the statuses worth another try.
func retryableStatus(status int) bool { return statusClass(status).Transient() }

// neverSent reports a transport error that happened before the request
// could reach the server (connecting failed).
func neverSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// isTransientNetErr reports a transport failure after the request may
// have reached the server.
func isTransientNetErr(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
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
