package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kratosadmin/sdk/gen"
	"github.com/kratosadmin/sdk/internal/jsonwire"
	"github.com/kratosadmin/sdk/internal/retry"
)

// Client calls the Kratos identity-admin API. Create one with New and share
// it: it is safe for concurrent use by many goroutines.
type Client struct {
	// Identities: create, read, update, patch, delete, batch-import
	// identities, delete their credentials, list and delete their sessions.
	Identities *IdentitiesService
	// Sessions: list, read, deactivate and extend sessions.
	Sessions *SessionsService
	// Recovery: create recovery codes and links.
	Recovery *RecoveryService
	// Schemas: list and read identity schemas.
	Schemas *SchemasService

	cfg       *config
	generated *gen.Client
	version   *versionState // the server's release, learned on first need
}

type config struct {
	admin     endpoint
	public    endpoint // zero: use admin and follow its redirect
	doer      Doer
	auth      secret
	cleartext bool // WithCleartextToken
	userAgent []string
	retry     RetryPolicy
	editors   []RequestEditorFn
	timeout   time.Duration
	maxBody   int64
	logger    *slog.Logger
	hooks     *Hooks
	release   *release // stated with WithKratosVersion
}

type endpoint struct {
	url    *url.URL // scheme, host and base path without a trailing slash
	server string   // the same with a trailing slash: the generated builders' server
	origin string   // scheme://host, lower case
}

func (e endpoint) isZero() bool { return e.url == nil }

// New returns a client for the Kratos admin API at baseURL (for example
// http://127.0.0.1:4434, or https://PROJECT.projects.oryapis.com for Ory
// Network with WithBearerToken).
func New(baseURL string, opts ...Option) (*Client, error) {
	admin, err := parseEndpoint(baseURL)
	if err != nil {
		return nil, fmt.Errorf("kratos: New: %w", err)
	}
	cfg := &config{
		admin:     admin,
		userAgent: []string{defaultUserAgent},
		retry:     DefaultRetryPolicy,
		timeout:   DefaultTimeout,
		maxBody:   DefaultMaxResponseBytes,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(cfg); err != nil {
			return nil, fmt.Errorf("kratos: New: %w", err)
		}
	}
	if cfg.doer == nil {
		cfg.doer = &http.Client{Transport: defaultTransport, CheckRedirect: noRedirects}
	}
	if err := checkCleartextToken(cfg); err != nil {
		return nil, fmt.Errorf("kratos: New: %w", err)
	}
	c := &Client{cfg: cfg, version: new(versionState)}
	c.generated = &gen.Client{Server: cfg.admin.server, Client: generatedDoer{c}}
	c.Identities = &IdentitiesService{c}
	c.Sessions = &SessionsService{c}
	c.Recovery = &RecoveryService{c}
	c.Schemas = &SchemasService{c}
	return c, nil
}

// defaultTransport keeps more idle connections per host than
// http.DefaultTransport (2), so concurrent callers reuse connections.
var defaultTransport = func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 32
	return t
}()

func parseEndpoint(raw string) (endpoint, error) {
	if !strings.Contains(raw, "://") {
		return endpoint{}, fmt.Errorf("URL %q: scheme must be http or https (like http://127.0.0.1:4434)", withoutUserinfo(raw))
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, credentials included
		}
		return endpoint{}, fmt.Errorf("invalid URL %q: %w", withoutUserinfo(raw), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return endpoint{}, fmt.Errorf("URL %q: scheme must be http or https", withoutUserinfo(raw))
	}
	if u.Host == "" {
		return endpoint{}, fmt.Errorf("URL %q has no host", withoutUserinfo(raw))
	}
	if u.User != nil {
		return endpoint{}, fmt.Errorf("URL %q: put credentials in WithBearerToken, not in the URL", withoutUserinfo(raw))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return endpoint{}, fmt.Errorf("URL %q must not have a query or fragment", withoutUserinfo(raw))
	}
	base := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimRight(u.Path, "/")}
	base.RawPath = strings.TrimRight(u.EscapedPath(), "/")
	if base.RawPath == base.Path {
		base.RawPath = ""
	}
	return endpoint{url: base, server: base.String() + "/", origin: originOf(base)}, nil
}

// withoutUserinfo is raw, parsable or not, with anything that may be
// credentials replaced, for error messages: the user information (up to
// the last "@" of the authority), the query (?access_token=...) and the
// fragment. url.URL.Redacted would keep a user name, which may be a token,
// and the query.
func withoutUserinfo(raw string) string {
	start := 0
	if i := strings.Index(raw, "//"); i >= 0 {
		start = i + 2
	}
	end := len(raw)
	if j := strings.IndexAny(raw[start:], "?#"); j >= 0 {
		end = start + j
	}
	out := raw[:end]
	if at := strings.LastIndexByte(raw[start:end], '@'); at >= 0 {
		out = raw[:start] + "[REDACTED]" + raw[start+at:end]
	}
	if end < len(raw) {
		out += raw[end:end+1] + "[REDACTED]"
	}
	return out
}

// checkCleartextToken is the token policy's first half: a bearer token is
// not sent in clear text (http://) to a host that is not loopback, nor
// through a proxy (HTTP_PROXY, or the Proxy of the transport given with
// WithHTTPClient), unless the caller opted in with WithCleartextToken. The
// second half is in newRequest, Do and redirectTarget: the token goes to the
// admin origin only.
func checkCleartextToken(cfg *config) error {
	if cfg.auth == nil || cfg.cleartext || cfg.admin.url.Scheme != "http" {
		return nil
	}
	u := cfg.admin.url
	if !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("the bearer token would travel in clear text to %s (http:// on a host that is not loopback): use https, or opt in with WithCleartextToken", originOf(u))
	}
	if proxy := proxyFor(cfg.doer, u); proxy != nil {
		return fmt.Errorf("the bearer token would travel in clear text to %s through the proxy %s (HTTP_PROXY or the transport's Proxy): use https, or opt in with WithCleartextToken", originOf(u), withoutUserinfo(proxy.Redacted()))
	}
	return nil
}

// isLoopbackHost reports whether host (without port) is a loopback address
// or localhost.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// proxyFor is the proxy the doer's transport would send a request for u
// through, when that can be known (an *http.Client over an *http.Transport,
// or the default transport), or nil.
func proxyFor(d Doer, u *url.URL) *url.URL {
	hc, ok := d.(*http.Client)
	if !ok {
		return nil
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok || t.Proxy == nil {
		return nil
	}
	p, err := t.Proxy(&http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}})
	if err != nil {
		return nil
	}
	return p
}

func originOf(u *url.URL) string {
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// String describes the client without its credentials.
func (c *Client) String() string {
	auth := "none"
	if c.cfg.auth != nil {
		auth = "bearer [REDACTED]"
	}
	return fmt.Sprintf("kratos.Client{admin: %s, auth: %s}", c.cfg.admin.url, auth)
}

// Format prints the same as String for every verb, so that %+v and %#v
// cannot reveal the token either.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// call describes one API request. Its request line comes from the
// generated builder (gen.NewXxxRequest); the client adds auth, the body and
// everything else per attempt.
type call struct {
	op     string // for errors: "Identities.Get"
	method string
	public bool        // schema endpoint: public URL, no auth needed
	page   int32       // the page's number in an iterator's walk, 0 otherwise (beside public: no bigger call)
	path   string      // decoded path below the base, e.g. /admin/identities/ID
	url    *url.URL    // the generated builder's URL: path and query
	header http.Header // headers the builder set (header parameters)
	body   []byte      // JSON request body, nil for none
	per    *callConfig // the call's options (CallOption), nil for none

	// fix corrects the paging of lists the server pages wrongly.
	fix *pageFix
	// bound limits the items of a list answer (nil: not a list).
	bound *pageBound
}

// server is the base URL the generated builders resolve their paths
// against: the public URL for schema endpoints when one is configured,
// otherwise the admin URL.
func (c *Client) server(public bool) string { return c.endpointFor(public).server }

// endpointFor is the public endpoint for schema calls when one is configured,
// otherwise the admin one.
func (c *Client) endpointFor(public bool) endpoint {
	if public && !c.cfg.public.isZero() {
		return c.cfg.public
	}
	return c.cfg.admin
}

// newCall turns the request a generated builder made (req, err) into a
// call. Only the builder's method, URL and headers are used: the body, if
// any, is cl.body, encoded and checked by the caller. A builder error
// (a parameter it cannot style) or a bad option is an *ArgumentError:
// nothing was sent.
func (c *Client) newCall(op string, public bool, req *http.Request, err error, opts ...CallOption) (*call, error) {
	if err != nil {
		if errors.Is(err, gen.ErrDotSegment) {
			return nil, &ArgumentError{Op: op, Argument: "path", Reason: err.Error()}
		}
		return nil, &ArgumentError{Op: op, Argument: "params", Reason: "cannot build the request: " + err.Error()}
	}
	per, err := applyCallOptions(op, opts)
	if err != nil {
		return nil, err
	}
	cl := &call{op: op, method: req.Method, public: public, url: req.URL, path: strings.TrimPrefix(req.URL.Path, c.endpointFor(public).url.Path), per: per}
	if len(req.Header) > 0 {
		cl.header = req.Header
	}
	return cl, nil
}

// response is a complete response whose body was read into a pooled buffer.
type response struct {
	status int
	header http.Header
	buf    *bytes.Buffer
	raw    *http.Response // the answer itself, its body read and closed
}

func (r *response) body() []byte { return r.buf.Bytes() }

func (r *response) release() {
	if r != nil && r.buf != nil {
		putBuffer(r.buf)
		r.buf = nil
	}
}

var (
	hdrAccept    = []string{"application/json"}
	hdrJSON      = []string{"application/json"}
	redactedAuth = []string{"[REDACTED]"}
)

// newRequest builds the HTTP request for one attempt of cl: a copy of the
// builder's URL (request editors may change it) and headers.
func (c *Client) newRequest(ctx context.Context, cl *call) *http.Request {
	u := new(url.URL)
	*u = *cl.url
	h := make(http.Header, 4+len(cl.header))
	for k, v := range cl.header {
		h[k] = v
	}
	h["Accept"] = hdrAccept
	h["User-Agent"] = c.cfg.userAgent
	if c.cfg.auth != nil && !cl.public {
		// Schema endpoints are public: they get no token.
		h["Authorization"] = []string{c.cfg.auth()}
	}
	req := &http.Request{
		Method:     cl.method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       u.Host,
	}
	if cl.body != nil {
		h["Content-Type"] = hdrJSON
		body := cl.body
		req.ContentLength = int64(len(body))
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	if cl.per != nil {
		for k, v := range cl.per.header {
			h[k] = v
		}
	}
	return req.WithContext(ctx)
}

// do sends cl with retries and returns a success response (2xx) with its
// body read, or an error. The caller releases the response.
func (c *Client) do(ctx context.Context, cl *call) (*response, error) {
	if ctx == nil {
		return nil, &ArgumentError{Op: cl.op, Argument: "ctx", Reason: "nil context"}
	}
	obs := c.observersOf(cl)
	if obs.active() {
		ctx = obs.begin(ctx, c.callInfo(cl))
	}
	resp, err := c.doObserved(ctx, cl, &obs)
	obs.end(ctx, err)
	return resp, err
}

// doObserved is do after the call's hooks started it.
func (c *Client) doObserved(ctx context.Context, cl *call, obs *observers) (*response, error) {
	var ok *response
	var last *http.Response // the final attempt's answer, for WithResponseInto
	r := newRetrier(cl.retryPolicy(c), cl.method, true)
	v, failure := r.Run(ctx, func(n int) error {
		start := obs.attemptStart()
		resp, err := c.attempt(ctx, cl, n)
		if err != nil {
			last = nil
			obs.attempt(ctx, n, 0, start, err)
			return err
		}
		last = resp.raw
		if resp.status < 200 || resp.status >= 300 {
			apiErr := c.errorFor(cl, resp)
			resp.release()
			obs.attempt(ctx, n, apiErr.StatusCode, start, apiErr)
			return apiErr
		}
		obs.attempt(ctx, n, resp.status, start, nil)
		ok = resp
		return nil
	}, nil, func(err error) retry.Failure { return failureOf(ctx, err) })
	if cl.per != nil {
		cl.deliver(last)
	}
	switch {
	case failure == nil:
		return ok, nil
	case v == retry.Cancelled:
		return nil, fmt.Errorf("%w (while waiting to retry after: %w)", ctx.Err(), failure)
	}
	return nil, failure
}

const maxRedirects = 5

// attempt sends the request once (following redirects) and reads the body.
func (c *Client) attempt(ctx context.Context, cl *call, n int) (*response, error) {
	actx := ctx
	if d := cl.timeout(c); d > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	req := c.newRequest(actx, cl)
	if err := c.edit(actx, req); err != nil {
		return nil, fmt.Errorf("kratos: %s: request editor: %w", cl.op, err)
	}
	start := time.Now()
	resp, err := c.send(cl.op, req)
	if err != nil {
		c.log(req, n, 0, start, err)
		var re *RedirectError
		if errors.As(err, &re) {
			return nil, err
		}
		return nil, c.transportError(ctx, actx, cl, err, n)
	}
	defer resp.Body.Close()
	var buf *bytes.Buffer
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		buf, err = readBody(resp, c.cfg.maxBody, cl.bound)
	} else {
		// An error answer keeps at most maxErrorBody bytes: enough for
		// any Kratos error and a snippet of a proxy's page, whatever its
		// size.
		buf, err = readErrorBody(resp)
	}
	c.log(req, n, resp.StatusCode, start, err)
	if err != nil {
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if buf != nil {
				putBuffer(buf)
			}
			if ctxErr := actx.Err(); ctxErr != nil {
				return nil, c.transportError(ctx, actx, cl, err, n)
			}
			return nil, &ResponseError{Method: cl.method, Path: req.URL.Path, StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Err: err}
		}
		// An error status whose body broke off still reports the status.
		if buf == nil {
			buf = getBuffer(0)
		}
	}
	return &response{status: resp.StatusCode, header: resp.Header, buf: buf, raw: resp}, nil
}

func (c *Client) edit(ctx context.Context, req *http.Request) error {
	for _, fn := range c.cfg.editors {
		if err := fn(ctx, req); err != nil {
			return err
		}
	}
	return nil
}

// send performs the round trip and follows redirects: any method for 307
// and 308 (the body is replayed), GET and HEAD for the rest. The bearer
// token only goes to the origin it was configured for.
//
// A redirect is followed only to the resource asked for (see
// sameResource); any other target is refused with a *RedirectError.
func (c *Client) send(op string, req *http.Request) (*http.Response, error) {
	for hops := 0; ; hops++ {
		resp, err := c.cfg.doer.Do(req)
		if err != nil {
			return nil, err
		}
		next, ok, err := c.redirect(op, req, resp, hops)
		if ok || err != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
		}
		if err != nil {
			return nil, err
		}
		if !ok {
			return resp, nil
		}
		req = next
	}
}

func (c *Client) redirect(op string, req *http.Request, resp *http.Response, hops int) (*http.Request, bool, error) {
	next, ok := c.redirectTarget(req, resp, hops)
	if !ok {
		return nil, false, nil
	}
	if !c.sameResource(req.URL, next.URL) {
		return nil, false, &RedirectError{Op: op, Method: req.Method, Path: req.URL.EscapedPath(), StatusCode: resp.StatusCode, Location: resp.Header.Get("Location")}
	}
	return next, true, nil
}

// sameResource is the one redirect rule: a redirect is followed only when
// its target names the resource the request named. The target's escaped
// path (the path as sent, percent-encoding and all: a server or proxy that
// cleans "..%2F.." out of it names another resource) must be the request's,
// or the request's with or without the /admin prefix (Kratos v1.3 and v25.4
// send /schemas/... to /admin/schemas/..., and /identities to
// /admin/identities), and the query must be the same. Another origin is
// only followed for the identity schema routes, which the admin port sends
// to the public port; the token never goes along (see redirectTarget).
func (c *Client) sameResource(from, to *url.URL) bool {
	if from.RawQuery != to.RawQuery {
		return false
	}
	base := c.cfg.admin.url.EscapedPath()
	fp, tp := withoutAdminPrefix(from.EscapedPath(), base), withoutAdminPrefix(to.EscapedPath(), base)
	if fp != tp {
		return false
	}
	if originOf(from) == originOf(to) {
		return true
	}
	// The schema routes, below the admin or public URL's base path.
	for _, ep := range []endpoint{c.cfg.admin, c.cfg.public} {
		if ep.isZero() || originOf(from) != ep.origin && originOf(to) != ep.origin {
			continue
		}
		rest, ok := strings.CutPrefix(fp, ep.url.EscapedPath())
		if ok && (rest == "/schemas" || strings.HasPrefix(rest, "/schemas/")) {
			return true
		}
	}
	return false
}

// withoutAdminPrefix is the escaped path p with the /admin segment that
// follows base (the admin URL's base path) removed, if there is one.
func withoutAdminPrefix(p, base string) string {
	if rest, ok := strings.CutPrefix(p, base); ok {
		if r, ok := strings.CutPrefix(rest, "/admin"); ok && (r == "" || r[0] == '/') {
			return base + r
		}
	}
	return p
}

// RedirectError is a redirect the client refused to follow: its target
// names another resource than the request (another path once escaped,
// another query, another origin outside the schema routes). Path and
// Location are as sent and received. It matches ErrRedirect.
type RedirectError struct {
	Op         string
	Method     string
	Path       string // the escaped path of the request redirected
	StatusCode int
	Location   string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("kratos: %s: refused the %d redirect of %s %s to %q: it names another resource", e.Op, e.StatusCode, e.Method, e.Path, e.Location)
}

// Is makes errors.Is(err, ErrRedirect) hold.
func (e *RedirectError) Is(target error) bool { return target == ErrRedirect }

func (c *Client) redirectTarget(req *http.Request, resp *http.Response, hops int) (*http.Request, bool) {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			return nil, false
		}
	case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, false
	}
	if hops >= maxRedirects {
		return nil, false
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, false
	}
	target, err := req.URL.Parse(loc)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, false
	}
	next := req.Clone(req.Context())
	next.URL = target
	next.Host = target.Host
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, false
		}
		next.Body = body
	} else if req.Body != nil && req.Body != http.NoBody {
		return nil, false // the body cannot be sent again
	}
	if originOf(target) != originOf(req.URL) || !c.trustedOrigin(target) {
		next.Header.Del("Authorization")
		next.Header.Del("Cookie")
	}
	return next, true
}

// trustedOrigin reports whether the bearer token may be sent to u.
func (c *Client) trustedOrigin(u *url.URL) bool {
	o := originOf(u)
	return o == c.cfg.admin.origin || (!c.cfg.public.isZero() && o == c.cfg.public.origin)
}

// transportError wraps a failure to get a response. Context errors stay
// recognisable with errors.Is; the per-attempt timeout reads as one.
func (c *Client) transportError(ctx, actx context.Context, cl *call, err error, attempt int) error {
	if ctx.Err() == nil && actx.Err() != nil {
		return &TimeoutError{Op: cl.op, After: cl.timeout(c), Err: err}
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("kratos: %s: %w: %w", cl.op, ctxErr, err)
	}
	return closedError(cl.op, err, attempt)
}

// closedError is the error of an attempt that got no response: when the
// server closed the connection without answering (a bare EOF otherwise), it
// says so, and how many attempts met the same fate when this was the last.
func closedError(op string, err error, attempt int) error {
	if !connectionClosed(err) {
		return fmt.Errorf("kratos: %s: %w", op, err)
	}
	if attempt > 1 {
		return fmt.Errorf("kratos: %s: the server closed the connection without answering, on attempt %d: %w", op, attempt, err)
	}
	return fmt.Errorf("kratos: %s: the server closed the connection without answering: %w", op, err)
}

// connectionClosed reports a connection the server closed or reset before
// its answer.
func connectionClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		strings.Contains(err.Error(), "server closed idle connection")
}

// TimeoutError is an attempt that outlived the client's per-request
// timeout (WithTimeout, or the call's WithRequestTimeout) while the
// caller's context was still live.
type TimeoutError struct {
	Op    string
	After time.Duration // the per-attempt timeout
	Err   error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("kratos: %s: no complete response within %s: %v", e.Op, e.After, e.Err)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, context.DeadlineExceeded) hold.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// Timeout reports true, as net.Error does.
func (e *TimeoutError) Timeout() bool { return true }

func (c *Client) log(req *http.Request, attempt, status int, start time.Time, err error) {
	l := c.cfg.logger
	if l == nil || !l.Enabled(req.Context(), slog.LevelDebug) {
		return
	}
	h := req.Header.Clone()
	if _, ok := h["Authorization"]; ok {
		h["Authorization"] = redactedAuth
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.EscapedPath()),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.Int("attempt", attempt),
		slog.Any("headers", h),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	l.LogAttrs(req.Context(), slog.LevelDebug, "kratos request", attrs...)
}

// errorFor maps a non-2xx response to an *Error.
func (c *Client) errorFor(cl *call, r *response) *Error {
	return newError(cl.method, cl.path, r.status, r.header, r.body())
}

func newError(method, path string, status int, header http.Header, body []byte) *Error {
	e := &Error{
		StatusCode:  status,
		Method:      method,
		Path:        path,
		ContentType: header.Get("Content-Type"),
		Request:     header.Get("X-Request-Id"),
	}
	e.setWaitHints(header)
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	e.Body = bytes.Clone(body)
	if isJSON(e.ContentType) || (e.ContentType == "" && len(body) > 0 && body[0] == '{') {
		var env struct {
			Error *struct {
				Code    int64           `json:"code"`
				Status  string          `json:"status"`
				Reason  string          `json:"reason"`
				Message string          `json:"message"`
				ID      string          `json:"id"`
				Request string          `json:"request"`
				Debug   string          `json:"debug"`
				Details json.RawMessage `json:"details"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &env) == nil && env.Error != nil {
			ge := env.Error
			e.Code, e.Status, e.Reason, e.Message = ge.Code, ge.Status, ge.Reason, ge.Message
			e.ID, e.Debug, e.Details = ge.ID, ge.Debug, ge.Details
			if ge.Request != "" {
				e.Request = ge.Request
			}
		}
	}
	return e
}

// CheckResponse returns nil for a 2xx response and an *Error otherwise,
// reading (up to 64 KiB of) the body. It is the error mapping of the typed
// methods, for callers of Do.
func CheckResponse(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	path, method := "", ""
	if resp.Request != nil {
		method, path = resp.Request.Method, resp.Request.URL.Path
	}
	return newError(method, path, resp.StatusCode, resp.Header, body)
}

// Do sends req with the client's authentication, User-Agent, request
// editors, redirect handling and (for idempotent methods with a replayable
// body) retries, and returns the response whatever its status. It is the
// escape hatch for what the typed methods do not cover; pass the response to
// CheckResponse to map errors. The caller closes the body. Without a
// deadline on req's context, the client's timeout bounds the whole exchange,
// reading the body included. Retries go through the same engine as the
// typed methods'; when the context ends during a wait between attempts, the
// error matches both the context's error and the last answer's *Error.
func (c *Client) Do(req *http.Request) (_ *http.Response, err error) {
	if req == nil || req.URL == nil {
		return nil, &ArgumentError{Op: "Do", Argument: "req", Reason: "nil request or URL"}
	}
	ctx := req.Context()
	cancel := context.CancelFunc(func() {})
	if _, has := ctx.Deadline(); !has && c.cfg.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
	}
	obs := observers{client: c.cfg.hooks}
	if obs.active() {
		ctx = obs.begin(ctx, c.doCallInfo(req.Method, req.URL))
	}
	defer func() { obs.end(ctx, err) }()
	req = req.Clone(ctx)
	if req.Header == nil {
		req.Header = make(http.Header) // http.Client accepts a request without one
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header["User-Agent"] = c.cfg.userAgent
	}
	if req.Header.Get("Accept") == "" {
		req.Header["Accept"] = hdrAccept
	}
	if c.cfg.auth != nil && req.Header.Get("Authorization") == "" && originOf(req.URL) == c.cfg.admin.origin {
		// The admin token goes to the admin origin only, never to the
		// public one (which needs none, and may be plain http).
		req.Header["Authorization"] = []string{c.cfg.auth()}
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	op := "Do " + req.Method
	var resp *http.Response
	var final error // a failure the engine must not retry: a body or editor error
	r := newRetrier(c.cfg.retry, req.Method, replayable)
	attempts := 0
	v, failure := r.Run(ctx, func(attempt int) error {
		attempts = attempt
		rq := req
		if attempt > 1 {
			rq = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					final = err
					return nil
				}
				rq.Body = body
			}
		}
		if err := c.edit(ctx, rq); err != nil {
			final = fmt.Errorf("kratos: %s: request editor: %w", op, err)
			return nil
		}
		observed := obs.attemptStart()
		start := time.Now()
		res, err := c.send(op, rq)
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		c.log(rq, attempt, status, start, err)
		resp = res
		if err != nil {
			obs.attempt(ctx, attempt, 0, observed, err)
			return err
		}
		if retryableStatus(res.StatusCode) {
			e := &Error{StatusCode: res.StatusCode, Method: rq.Method, Path: rq.URL.Path}
			e.setWaitHints(res.Header)
			obs.attempt(ctx, attempt, status, observed, e)
			return e
		}
		obs.attempt(ctx, attempt, status, observed, nil)
		return nil
	}, func() {
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			resp = nil
		}
	}, func(err error) retry.Failure { return failureOf(ctx, err) })
	switch {
	case final != nil:
		cancel()
		return nil, final
	case v == retry.Cancelled:
		cancel()
		return nil, fmt.Errorf("kratos: %s: %w (while waiting to retry after: %w)", op, ctx.Err(), failure)
	case resp == nil:
		// The last attempt got no response: failure is its transport
		// error, or a redirect refused (which names the operation).
		cancel()
		var re *RedirectError
		if errors.As(failure, &re) {
			return nil, failure
		}
		return nil, closedError(op, failure, attempts)
	}
	// A success, or the last answer (a retryable status whose retries are
	// over): the caller reads it and may pass it to CheckResponse.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// Generated returns the client oapi-codegen generates from the spec
// (gen.ClientInterface): one method per operation of api/kratos-admin.yaml,
// including any operation added to the spec that has no typed method here
// yet, available as soon as `go generate ./...` has run.
//
// Its requests go through c: the base URL, authentication, User-Agent,
// request editors, redirects that keep the token home, retries of
// idempotent requests and the timeout are those of Do. Unlike Do, an answer
// that is not 2xx is returned as an error (an *Error, as the typed methods
// return; the response is closed), and a success body is bounded by
// WithMaxResponseBytes (reading past it fails). The caller closes the body
// of a success response.
//
// Schema operations are sent to the admin URL, which redirects them to the
// public port (WithPublicURL does not apply here).
func (c *Client) Generated() gen.ClientInterface { return c.generated }

// generatedDoer is the generated client's HttpRequestDoer: Do, error
// mapping and bounded success bodies.
type generatedDoer struct{ c *Client }

func (d generatedDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req)
	if err != nil {
		return nil, err
	}
	if err := CheckResponse(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	resp.Body = &boundedBody{ReadCloser: resp.Body, left: d.c.cfg.maxBody}
	return resp, nil
}

// boundedBody fails a read past the client's response size limit.
type boundedBody struct {
	io.ReadCloser
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("kratos: response body exceeds the size limit: %w", errTooLarge)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n + int(b.left), fmt.Errorf("kratos: response body exceeds the size limit: %w", errTooLarge)
	}
	return n, err
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// listHint is the most bytes a list answer of max items is read with
// before its items are counted as they arrive: 2 KiB an item, above the
// 0.8 KiB to 1.4 KiB a Kratos identity takes with its credentials'
// identifiers (testdata/exchanges); a longer page is only counted.
func listHint(max int) int64 {
	return 64<<10 + int64(max)*(2<<10)
}

// readBody reads a whole response body into a pooled buffer, refusing more
// than limit bytes.
//
// A list answer (b not nil) has its items counted against the page's bound
// when it is decoded (decodeList), at no cost here; but a body longer than
// a page of b.max items normally is (listHint) is counted as it arrives
// (itemLimiter): what was read, then the rest, so that an answer of many
// tiny items (a gzip bomb) is refused after the bytes of a page, not read
// whole.
func readBody(resp *http.Response, limit int64, b *pageBound) (*bytes.Buffer, error) {
	size := resp.ContentLength
	if size > limit {
		return nil, fmt.Errorf("body of %d bytes exceeds the %d-byte limit: %w", size, limit, errTooLarge)
	}
	first, room := limit+1, size // bytes read before counting; buffer room
	if b != nil {
		first = min(listHint(b.max), limit+1)
		if size > first {
			size = -1 // the buffer grows past the hint as the bytes really arrive
		}
		if room = size; room < 0 {
			// An answer of unknown length (Kratos sends lists chunked)
			// gets room for the hint at once: growing to it by doubling
			// would allocate twice as much.
			room = first
		}
	}
	buf := getBuffer(room)
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, first))
	cut := false
	if b != nil && err == nil && n == first && first <= limit {
		l := &itemLimiter{r: resp.Body, bound: *b}
		m, lerr := l.scan(buf.Bytes())
		switch {
		case lerr != nil:
			return buf, lerr
		case l.tail != 0:
			buf.Truncate(m)
			buf.WriteByte(']')
			return buf, nil
		}
		var more int64
		more, err = buf.ReadFrom(io.LimitReader(l, limit+1-n))
		n += more
		cut = l.tail != 0
	}
	if n > limit {
		putBuffer(buf)
		return nil, fmt.Errorf("body exceeds the %d-byte limit: %w", limit, errTooLarge)
	}
	if err != nil {
		// Keep what arrived: an error status still gets its snippet.
		return buf, fmt.Errorf("reading body after %d bytes: %w", n, err)
	}
	if size >= 0 && n < size && !cut {
		return buf, fmt.Errorf("body ended after %d of %d bytes: %w", n, size, io.ErrUnexpectedEOF)
	}
	return buf, nil
}

var errTooLarge = errors.New("response body too large")

// readErrorBody reads the first maxErrorBody bytes of an error answer and
// drops the rest.
func readErrorBody(resp *http.Response) (*bytes.Buffer, error) {
	size := resp.ContentLength
	if size > maxErrorBody {
		size = maxErrorBody
	}
	buf := getBuffer(size)
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return buf, fmt.Errorf("reading body after %d bytes: %w", n, err)
	}
	return buf, nil
}

const maxPooledBuffer = 4 << 20

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer(size int64) *bytes.Buffer {
	buf := bufferPool.Get().(*bytes.Buffer)
	buf.Reset()
	if size > 0 {
		// Room for the body plus ReadFrom's final probe read; a declared
		// length beyond maxPooledBuffer grows as bytes really arrive.
		size = min(size, maxPooledBuffer)
		buf.Grow(int(size) + bytes.MinRead)
	}
	return buf
}

func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		bufferPool.Put(buf)
	}
}

// isJSON reports whether a Content-Type is JSON (application/json or
// application/*+json, any parameters).
func isJSON(ct string) bool {
	ct = strings.TrimSpace(ct)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	if strings.EqualFold(ct, "application/json") {
		return true
	}
	return len(ct) > 17 && strings.EqualFold(ct[:12], "application/") && strings.EqualFold(ct[len(ct)-5:], "+json")
}

// decode checks a success response and decodes its JSON body into out.
func (c *Client) decode(cl *call, r *response, out any) error {
	body := r.body()
	ct := r.header.Get("Content-Type")
	fail := func(err error) error {
		return &ResponseError{Method: cl.method, Path: cl.path, StatusCode: r.status, ContentType: ct, Snippet: snippet(body, 120), Err: err}
	}
	if ct != "" && !isJSON(ct) {
		return fail(fmt.Errorf("unexpected content type %q, want application/json", ct))
	}
	switch trimmed := bytes.TrimSpace(body); {
	case len(trimmed) == 0:
		return fail(errors.New("empty body, want JSON"))
	case string(trimmed) == "null":
		return fail(errors.New("body is JSON null, want a value"))
	}
	// The generated decoders read the body once; what they do not take
	// goes to encoding/json, so values and errors are json.Unmarshal's.
	var err error
	if cl.bound != nil {
		err = decodeList(body, out, cl.bound)
	} else {
		err = gen.DecodeJSON(body, out)
	}
	if err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, ErrTooManyItems):
			// Said without the body, as when it is refused while read:
			// a list's first bytes may hold credentials.
			return &ResponseError{Method: cl.method, Path: cl.path, StatusCode: r.status, ContentType: ct, Err: err}
		case errors.As(err, &syn):
			return fail(fmt.Errorf("invalid JSON at byte %d: %w", syn.Offset, err))
		case errors.As(err, &typ):
			return fail(fmt.Errorf("JSON does not match the expected shape: %w", err))
		}
		return fail(err)
	}
	return nil
}

// decodeList decodes a list answer held to its page's bound: the
// generated decoders count the items as they decode them; what they do not
// take is counted by itemLimiter before encoding/json decodes it.
func decodeList(body []byte, out any, b *pageBound) error {
	switch err := gen.DecodeJSONBounded(body, out, b.max, b.cut); err {
	case jsonwire.ErrFallback:
	case jsonwire.ErrTooManyItems:
		return tooManyItems(b.max)
	default:
		return err
	}
	kept, err := io.ReadAll(&itemLimiter{r: bytes.NewReader(body), bound: *b})
	if err != nil {
		return err
	}
	return json.Unmarshal(kept, out)
}

// invoke sends cl and decodes a success body into out (when out is not nil).
func (c *Client) invoke(ctx context.Context, cl *call, out any) error {
	resp, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	defer resp.release()
	if out == nil {
		return nil
	}
	return c.decode(cl, resp, out)
}

// marshal encodes a request body, reporting failures as argument errors.
func marshal(op, arg string, v any) ([]byte, error) {
	b, err := gen.EncodeJSON(v) // json.Marshal's bytes, from the generated encoders
	if err != nil {
		return nil, &ArgumentError{Op: op, Argument: arg, Reason: "cannot be encoded as JSON: " + err.Error()}
	}
	return b, nil
}

var _ net.Error = (*TimeoutError)(nil)

// Temporary is part of net.Error; a timeout may pass.
func (e *TimeoutError) Temporary() bool { return true }
