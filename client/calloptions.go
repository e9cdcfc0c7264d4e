package client

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// CallOption changes one call: every typed method, page call and iterator
// takes any number of them as its last argument, after the client's own
// configuration has applied (openai-go's per-request options):
//
//	var resp *http.Response
//	identity, err := c.Identities.Get(ctx, id, nil,
//		client.WithResponseInto(&resp),
//		client.WithRequestTimeout(5*time.Second),
//		client.WithMaxRetries(0),
//		client.WithHeader("X-Trace", "abc"))
//
// Options validate their arguments: a call given a bad one is refused with
// an *ArgumentError before anything is sent. A call without options costs
// nothing extra.
//
// CallOption is a type of its own, not Option: a client's options (its
// token, transport, URLs, logger) are shared by every call and checked once
// in New, so they stay on the client.
type CallOption func(*callConfig) error

// callConfig is what a call's options change. It hangs off the call
// (call.per), nil when the call has no options; the request path reads it
// through call.timeout, call.retryPolicy, newRequest and do.
type callConfig struct {
	timeout    time.Duration
	hasTimeout bool
	maxRetries int
	hasRetries bool
	header     http.Header
	respInto   **http.Response
	hooks      *Hooks
}

// WithResponseInto stores the final attempt's *http.Response in *dst when
// the call returns: status, headers and Proto, on success and on an error
// answer alike. Its body has been read already (Body is http.NoBody), and
// its Request carries no Authorization or Cookie header. *dst is set to nil
// when the last attempt got no answer (a transport error), and left alone
// when the call was refused before sending. For an iterator, *dst is the
// last page's.
func WithResponseInto(dst **http.Response) CallOption {
	return func(c *callConfig) error {
		if dst == nil {
			return fmt.Errorf("WithResponseInto: nil destination")
		}
		c.respInto = dst
		return nil
	}
}

// WithRequestTimeout bounds each attempt of this call (connecting, sending
// and reading the whole response), in place of the client's WithTimeout;
// zero means no bound beyond ctx.
func WithRequestTimeout(d time.Duration) CallOption {
	return func(c *callConfig) error {
		if d < 0 {
			return fmt.Errorf("WithRequestTimeout: negative duration %s", d)
		}
		c.timeout, c.hasTimeout = d, true
		return nil
	}
}

// WithMaxRetries sets how often this call is sent again after a transient
// failure, in place of the client's RetryPolicy.MaxAttempts-1: 0 sends it
// exactly once. Which failures and methods are retried, and the waits, stay
// the client's (POST and PATCH only with RetryNonIdempotent).
func WithMaxRetries(n int) CallOption {
	return func(c *callConfig) error {
		if n < 0 {
			return fmt.Errorf("WithMaxRetries: negative count %d", n)
		}
		c.maxRetries, c.hasRetries = n, true
		return nil
	}
}

// WithHeader sets a request header of this call, replacing the value the
// client would send (Accept, User-Agent, ...). Request editors still run
// after it. The Authorization header set this way obeys the same origin rule
// as the client's token on redirects.
func WithHeader(key, value string) CallOption {
	return func(c *callConfig) error {
		if !validHeaderName(key) {
			return fmt.Errorf("WithHeader: invalid header name %q", snippet([]byte(key), 64))
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return fmt.Errorf("WithHeader: the value of %s contains a line break or NUL", key)
		}
		if c.header == nil {
			c.header = make(http.Header, 1)
		}
		c.header[http.CanonicalHeaderKey(key)] = []string{value}
		return nil
	}
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// applyCallOptions is the call's configuration for opts, nil for none. A
// bad option is an *ArgumentError naming op.
func applyCallOptions(op string, opts []CallOption) (*callConfig, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	cfg := new(callConfig)
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(cfg); err != nil {
			return nil, &ArgumentError{Op: op, Argument: "opts", Reason: err.Error()}
		}
	}
	return cfg, nil
}

// timeout is the per-attempt timeout of cl.
func (cl *call) timeout(c *Client) time.Duration {
	if cl.per != nil && cl.per.hasTimeout {
		return cl.per.timeout
	}
	return c.cfg.timeout
}

// retryPolicy is the retry policy of cl.
func (cl *call) retryPolicy(c *Client) RetryPolicy {
	p := c.cfg.retry
	if cl.per != nil && cl.per.hasRetries {
		p.MaxAttempts = cl.per.maxRetries + 1
	}
	return p
}

// deliver stores the final attempt's response for WithResponseInto:
// a copy whose body is gone and whose request carries no credentials.
func (cl *call) deliver(raw *http.Response) {
	if cl.per == nil || cl.per.respInto == nil {
		return
	}
	if raw == nil {
		*cl.per.respInto = nil
		return
	}
	r := *raw
	r.Body = http.NoBody
	if raw.Request != nil {
		req := *raw.Request
		req.Header = raw.Request.Header.Clone()
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
		req.Body, req.GetBody = nil, nil
		r.Request = &req
	}
	*cl.per.respInto = &r
}
