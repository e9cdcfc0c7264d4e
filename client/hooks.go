package client

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kratosadmin/sdk/gen"
)

// Hooks observe the client's calls and every attempt of each: typed calls
// (each page of an iterator is a call of its own, numbered by
// CallInfo.Page), the importer's batches, Do and Generated. They are the
// seam for tracing and metrics (the otelkratos module builds OpenTelemetry
// spans and a duration histogram on them) without this module depending on
// any of it.
//
// Set them for every call with WithHooks, or for one typed call with
// WithCallHooks (they run after the client's). Any field may be nil. Hooks
// run synchronously on the calling goroutine, may run concurrently for
// concurrent calls, and must not modify what they are given. A client
// without hooks pays nothing for them: no allocation, no clock read.
//
// Nothing a hook is given carries the bearer token: it travels in a header,
// and hooks see no headers.
type Hooks struct {
	// CallStart runs before a call's first attempt. The context it returns
	// is the call's from then on: its attempts (request editors, the
	// transport) and its other hooks get it, so a span started here is the
	// parent of whatever the transport records. Returning nil keeps ctx.
	CallStart func(ctx context.Context, call CallInfo) context.Context
	// AttemptDone runs after each attempt of a call (redirects followed
	// within it), whether or not another attempt follows.
	AttemptDone func(ctx context.Context, call CallInfo, attempt AttemptInfo)
	// CallDone runs once, when the call returns.
	CallDone func(ctx context.Context, call CallInfo, result CallResult)
}

// CallInfo identifies a call.
type CallInfo struct {
	// Operation is the spec's operationId (api/kratos-admin.yaml), for
	// example "getIdentity"; "" for a Do request that addresses no
	// operation of the spec.
	Operation string
	// Method is the HTTP method.
	Method string
	// URL is the request's URL, query included, as first sent (before
	// redirects and request editors). Do not modify it.
	URL *url.URL
	// Route is the operation's path template, for example
	// "/admin/identities/{id}"; "" when Operation is.
	Route string
	// Page is the page's number (from 1) for a call of an iterator's walk,
	// 0 for any other call.
	Page int
}

// AttemptInfo is the outcome of one attempt.
type AttemptInfo struct {
	// Attempt is the attempt's number, 1 for the first.
	Attempt int
	// Status is the response's HTTP status, 0 when none came.
	Status int
	// Duration covers sending the request and reading the response.
	Duration time.Duration
	// Err is nil for a 2xx answer (and, from Do, for an answer Do returns
	// to its caller as is); otherwise the *Error, *ResponseError,
	// *TimeoutError or transport error of the attempt.
	Err error
}

// CallResult is the outcome of a call.
type CallResult struct {
	// Attempts is the number of attempts made; 0 when the call ended
	// before its first (a request editor or the context refused it).
	Attempts int
	// Status is the last response's HTTP status, 0 when none came.
	Status int
	// Duration runs from CallStart to the call's return, waits between
	// attempts included.
	Duration time.Duration
	// Err is the error the call returns, nil on success.
	Err error
}

// WithHooks observes every call of the client with h (see Hooks).
func WithHooks(h *Hooks) Option {
	return func(c *config) error {
		if h == nil {
			return errors.New("WithHooks: nil *Hooks")
		}
		c.hooks = h
		return nil
	}
}

// WithCallHooks observes this call with h as well, after the client's own
// hooks (see Hooks). For an iterator, every page's call.
func WithCallHooks(h *Hooks) CallOption {
	return func(c *callConfig) error {
		if h == nil {
			return errors.New("WithCallHooks: nil *Hooks")
		}
		c.hooks = h
		return nil
	}
}

// observers are the hooks of one call: the client's and the call's own.
// The zero value observes nothing, and every method is then a no-op.
type observers struct {
	client, call *Hooks
	info         CallInfo
	start        time.Time
	attempts     int
	status       int
}

// active reports whether anything observes the call.
func (o *observers) active() bool { return o.client != nil || o.call != nil }

// begin runs CallStart and returns the call's context.
func (o *observers) begin(ctx context.Context, info CallInfo) context.Context {
	o.info = info
	for _, h := range [2]*Hooks{o.client, o.call} {
		if h != nil && h.CallStart != nil {
			if next := h.CallStart(ctx, o.info); next != nil {
				ctx = next
			}
		}
	}
	o.start = time.Now()
	return ctx
}

// attemptStart is the clock reading for an attempt's duration, zero when
// nothing observes.
func (o *observers) attemptStart() time.Time {
	if !o.active() {
		return time.Time{}
	}
	return time.Now()
}

// attempt runs AttemptDone for attempt n.
func (o *observers) attempt(ctx context.Context, n, status int, start time.Time, err error) {
	if !o.active() {
		return
	}
	o.attempts, o.status = n, status
	a := AttemptInfo{Attempt: n, Status: status, Duration: time.Since(start), Err: err}
	for _, h := range [2]*Hooks{o.client, o.call} {
		if h != nil && h.AttemptDone != nil {
			h.AttemptDone(ctx, o.info, a)
		}
	}
}

// end runs CallDone with the call's error.
func (o *observers) end(ctx context.Context, err error) {
	if !o.active() {
		return
	}
	r := CallResult{Attempts: o.attempts, Status: o.status, Duration: time.Since(o.start), Err: err}
	for _, h := range [2]*Hooks{o.client, o.call} {
		if h != nil && h.CallDone != nil {
			h.CallDone(ctx, o.info, r)
		}
	}
}

// observersOf returns the observers of cl.
func (c *Client) observersOf(cl *call) observers {
	o := observers{client: c.cfg.hooks}
	if cl.per != nil {
		o.call = cl.per.hooks
	}
	return o
}

// callInfo describes cl for its hooks.
func (c *Client) callInfo(cl *call) CallInfo {
	path := strings.TrimPrefix(cl.url.EscapedPath(), c.endpointFor(cl.public).url.EscapedPath())
	route := routeOf(cl.method, path)
	return CallInfo{Operation: route.id, Method: cl.method, URL: cl.url, Route: route.path, Page: int(cl.page)}
}

// doCallInfo describes a request sent through Do: its operation is found
// from its path below the admin or the public base URL; a request to
// neither addresses no operation.
func (c *Client) doCallInfo(method string, u *url.URL) CallInfo {
	info := CallInfo{Method: method, URL: u}
	path := u.EscapedPath()
	for _, e := range [2]endpoint{c.cfg.admin, c.cfg.public} {
		if e.isZero() || originOf(u) != e.origin {
			continue
		}
		if rest, ok := strings.CutPrefix(path, e.url.EscapedPath()); ok && strings.HasPrefix(rest, "/") {
			route := routeOf(method, rest)
			info.Operation, info.Route = route.id, route.path
			break
		}
	}
	return info
}

// route is an operation of the spec, its path template split at slashes.
type route struct {
	id, method, path string
	segments         []string // "" stands for a path parameter
}

// routes is gen.SpecOperations, split once.
var routes = sync.OnceValue(func() []route {
	out := make([]route, 0, len(gen.SpecOperations))
	for _, op := range gen.SpecOperations {
		r := route{id: op.ID, method: op.Method, path: op.Path}
		for seg := range strings.SplitSeq(strings.TrimPrefix(op.Path, "/"), "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				seg = ""
			}
			r.segments = append(r.segments, seg)
		}
		out = append(out, r)
	}
	return out
})

// routeOf returns the operation that method and the escaped path address,
// the zero route for none. When several templates match, the one with the
// most literal segments wins (as in http.ServeMux).
func routeOf(method, path string) route {
	var best route
	bestScore := -1
	for _, r := range routes() {
		if r.method != method {
			continue
		}
		if score, ok := r.match(path); ok && score > bestScore {
			best, bestScore = r, score
		}
	}
	return best
}

// match reports whether the escaped path fits r's template, and how many
// of its segments are literal. A parameter matches one non-empty segment.
func (r route) match(path string) (int, bool) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return 0, false
	}
	score := 0
	for i, want := range r.segments {
		seg, tail, more := strings.Cut(rest, "/")
		if more == (i == len(r.segments)-1) {
			return 0, false // too many or too few segments
		}
		switch {
		case want == "":
			if seg == "" {
				return 0, false
			}
		case seg != want:
			return 0, false
		default:
			score++
		}
		rest = tail
	}
	return score, true
}
