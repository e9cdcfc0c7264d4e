package kratostest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/contract"
)

// Server is an in-memory Kratos admin server on loopback. Create it with
// NewServer in tests or Start in programs. It is safe for concurrent use.
type Server struct {
	// URL is the admin API's base URL, for example http://127.0.0.1:41235.
	URL string
	// PublicURL is the public API's base URL. It serves /schemas and
	// /schemas/{id}; the admin URL redirects those paths there (307).
	PublicURL string

	cfg       config
	admin     *httptest.Server
	public    *httptest.Server
	validator *contract.Validator
	rep       *reporter
	routes    *router // the spec's operations (routes.go)
	closeOnce sync.Once
	counts    queryCounters
	journal   journal // journal.go
	faults    faults  // faults.go

	mu         sync.Mutex
	identities map[string]*identity
	order      []string          // identity ids, sorted (see sortedIDs)
	unsorted   []string          // identity ids added since, not yet in order
	unique     map[string]string // unique value -> identity id
	sessions   map[string]*session
	// lastSession is the creation time of the newest session.
	lastSession time.Time
	loginFlows  loginFlows
	// start is the state after seeding, which Reset restores.
	start snapshot
}

// snapshot is the identity store at one moment.
type snapshot struct {
	identities map[string]*identity
	order      []string
	unique     map[string]string
}

// takeSnapshot copies the identity store. The caller holds s.mu.
func (s *Server) takeSnapshot() snapshot {
	return snapshot{identities: cloneIdentities(s.identities), order: slices.Clone(s.sortedIDs()), unique: maps.Clone(s.unique)}
}

func cloneIdentities(m map[string]*identity) map[string]*identity {
	out := make(map[string]*identity, len(m))
	for id, i := range m {
		out[id] = i.clone()
	}
	return out
}

// NewServer starts a fake Kratos admin server for the test and closes it
// when the test ends. Every request the server answers is checked against
// the API's OpenAPI spec: an answer of the fake that breaks the spec fails
// t (a bug of the fake, to be reported); a request that breaks the spec is
// answered the way the real server answers it (usually a 400) and only
// logged.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := newServer(t, opts)
	if err != nil {
		t.Fatalf("kratostest.NewServer: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		s.rep.end()
	})
	return s
}

// Start starts a fake Kratos admin server outside of tests; call Close
// when done. An answer of the fake that breaks the spec is logged (see
// WithLogger) and replaced by a 500.
func Start(opts ...Option) (*Server, error) {
	return newServer(nil, opts)
}

func newServer(tb testing.TB, opts []Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if len(cfg.schemas) == 0 && len(cfg.errs) == 0 {
		WithIdentitySchema(DefaultSchemaID, defaultSchema)(&cfg)
	}
	// Listeners given by WithListeners are the server's from now on.
	fail := func(err error) (*Server, error) {
		for _, l := range []net.Listener{cfg.adminListener, cfg.publicListener} {
			if l != nil {
				l.Close()
			}
		}
		return nil, err
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return fail(err)
	}
	if cfg.defaultSchemaID == "" {
		cfg.defaultSchemaID = cfg.schemas[0].id
	} else if cfg.schemaByID[cfg.defaultSchemaID] == nil {
		return fail(fmt.Errorf("WithDefaultSchemaID: no schema %q", cfg.defaultSchemaID))
	}
	v, err := contract.Default()
	if err != nil {
		return fail(err)
	}
	s := &Server{
		cfg:        cfg,
		validator:  v,
		rep:        &reporter{tb: tb, logger: cfg.logger},
		identities: map[string]*identity{},
		unique:     map[string]string{},
		sessions:   map[string]*session{},
	}
	s.routes = s.newRoutes()
	s.journal.size = cfg.journalSize
	// Control requests (/_fake/) first, then every other request is
	// journaled, may meet a fault, is costed and goes through the user's
	// middleware and the spec validation to the fake.
	s.admin = newUnstartedServer(s.controlling(s.journaling("admin", s.faulting(s.costing(s.handler(s.serveAdmin))))), cfg.adminListener, &cfg)
	s.public = newUnstartedServer(s.journaling("public", s.faulting(s.handler(s.servePublic))), cfg.publicListener, &cfg)
	// The URLs are known before the servers run, so that no handler can
	// see them unset.
	s.URL = "http://" + s.admin.Listener.Addr().String()
	s.PublicURL = "http://" + s.public.Listener.Addr().String()
	if cfg.adminBaseURL != "" {
		s.URL = cfg.adminBaseURL
	}
	if cfg.publicBaseURL != "" {
		s.PublicURL = cfg.publicBaseURL
	}
	if s.cfg.recoveryUIURL == "" {
		s.cfg.recoveryUIURL = s.PublicURL + "/ui/recovery"
	}
	for k := range cfg.seed {
		if err := s.seed(&cfg.seed[k]); err != nil {
			s.admin.Listener.Close()
			s.public.Listener.Close()
			return nil, fmt.Errorf("WithIdentities: identity %d: %w", k, err)
		}
	}
	s.mu.Lock()
	s.start = s.takeSnapshot()
	s.mu.Unlock()
	s.admin.Start()
	s.public.Start()
	return s, nil
}

// Server timeouts, on both ports: a client that sends its request
// headers slowly, or a body for longer than ReadTimeout, is cut off, and an
// idle keep-alive connection is closed. There is no write timeout: answers
// may be slowed on purpose (WithQueryCost, faults with latency).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = time.Minute
	idleTimeout       = 2 * time.Minute
)

// newUnstartedServer is httptest.NewUnstartedServer, on l when it is set,
// with the server timeouts.
func newUnstartedServer(h http.Handler, l net.Listener, cfg *config) *httptest.Server {
	var ts *httptest.Server
	if l == nil {
		ts = httptest.NewUnstartedServer(h)
	} else {
		ts = &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	}
	ts.Config.ReadHeaderTimeout = cfg.readHeaderTimeout
	ts.Config.ReadTimeout = cfg.readTimeout
	ts.Config.IdleTimeout = cfg.idleTimeout
	return ts
}

// seed creates an identity as POST /admin/identities would.
func (s *Server) seed(body *client.CreateIdentityBody) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	var cr createIdentityBody
	if err := strictDecode(b, &cr); err != nil {
		return err
	}
	now := s.now()
	i, apiErr := s.identityFromCreateBody(&cr, now)
	if apiErr == nil {
		s.mu.Lock()
		apiErr = s.insert(i, now, errConflictCreate)
		s.mu.Unlock()
	}
	if apiErr != nil {
		return apiErr
	}
	return nil
}

// Close shuts the server down, waiting for requests in flight. It may be
// called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.admin.Close()
		s.public.Close()
	})
}

// Client returns a client for this server: the admin and public URLs set,
// and the bearer token when the server requires one. opts are applied
// after those. It fails the test (NewServer) or panics (Start) when an
// option is invalid.
func (s *Server) Client(opts ...client.Option) *client.Client {
	base := []client.Option{client.WithPublicURL(s.PublicURL)}
	if s.cfg.token != "" {
		base = append(base, client.WithBearerToken(s.cfg.token))
	}
	c, err := client.New(s.URL, append(base, opts...)...)
	if err != nil {
		if s.rep.tb != nil {
			s.rep.tb.Helper()
			s.rep.tb.Fatalf("kratostest: Server.Client: %v", err)
		}
		panic("kratostest: Server.Client: " + err.Error())
	}
	return c
}

// IdentityCount returns the number of identities.
func (s *Server) IdentityCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.identities)
}

// SessionCount returns the number of sessions (active or not).
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Reset puts the server back in its start state: the identities seeded
// by WithIdentities as they were at start (same ids and times), no other
// identity, no session, no login flow, QueryCounts zero. The journal and
// the fault rules are kept (ClearRequests, ClearFaults). It is POST
// /_fake/reset.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.identities = cloneIdentities(s.start.identities)
	s.order, s.unsorted = slices.Clone(s.start.order), nil
	s.unique = maps.Clone(s.start.unique)
	s.sessions = map[string]*session{}
	s.loginFlows = loginFlows{}
	s.counts.reset()
}

// methodEnabled reports whether a sign-in method is enabled
// (WithEnabledMethods).
func (s *Server) methodEnabled(typ string) bool {
	return s.cfg.methods == nil || s.cfg.methods[typ]
}

func (s *Server) now() time.Time { return s.cfg.clock().UTC() }

// newID returns a fresh UUID of the given kind. The caller holds s.mu.
func (s *Server) newID(kind string) string {
	if s.cfg.idGen == nil {
		return newUUID()
	}
	raw := s.cfg.idGen(kind)
	id, err := parseUUID(raw)
	if err == nil {
		switch {
		case kind == IDKindIdentity && s.identities[id] != nil, kind == IDKindSession && s.sessions[id] != nil:
			err = errors.New("already in use")
		}
	}
	if err != nil {
		s.rep.errorf("kratostest: WithIDGenerator returned %q for a %s: %v; using a random id", raw, kind, err)
		return newUUID()
	}
	return id
}

// --- HTTP plumbing ---

type bodyKey struct{}

type bodyResult struct {
	b   []byte
	err error
}

// body returns the request body read by the validating layer, and the
// error reading it (for example http.MaxBytesError).
func body(r *http.Request) ([]byte, error) {
	if br, ok := r.Context().Value(bodyKey{}).(bodyResult); ok {
		return br.b, br.err
	}
	b, err := io.ReadAll(r.Body)
	return b, err
}

// handler stacks the user's middleware, the spec validation and serve.
func (s *Server) handler(serve http.HandlerFunc) http.Handler {
	var h http.Handler = s.validating(serve)
	for k := len(s.cfg.middleware) - 1; k >= 0; k-- {
		h = s.cfg.middleware[k](h)
	}
	return h
}

// validating reads the request body (bounded), checks the request and the
// fake's response against the spec, and reports a response that breaks it.
func (s *Server) validating(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes))
		r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, bodyResult{b, err}))
		r.Body = io.NopCloser(bytes.NewReader(b))
		var reqBody []byte
		if len(b) > 0 {
			reqBody = b
		}
		ex, reqErr := s.validator.ValidateRequest(r.Context(), r, reqBody)
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if ex != nil {
			verr := s.validator.ValidateResponse(r.Context(), ex, rec.status, rec.header, rec.body.Bytes())
			switch {
			case reqErr != nil:
				// The request is outside the contract, so is the answer:
				// the fake answers as Kratos does, whatever the spec says.
				s.rep.logf("kratostest: %v (answered %d, as Kratos would)", reqErr, rec.status)
				if verr != nil {
					s.rep.logf("kratostest: the answer to that request is outside the spec too: %v", verr)
				}
			case verr != nil:
				if !s.rep.errorf("kratostest: the fake broke the API spec (a bug in kratostest): %v\nresponse body: %s", verr, snippet(rec.body.Bytes())) {
					rec = &recorder{header: http.Header{}}
					writeError(rec, errInternal(http.StatusInternalServerError, "kratostest: the fake's response broke the API spec: "+verr.Error()))
				}
			}
		}
		rec.flush(w)
	})
}

func snippet(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}

// recorder buffers a response so that it can be validated before it is sent.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (r *recorder) flush(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	w.WriteHeader(r.status)
	if r.body.Len() > 0 {
		_, _ = w.Write(r.body.Bytes())
	}
}

// reporter sends violations to the test, if there is one and it has not
// ended, or to the logger.
type reporter struct {
	mu     sync.Mutex
	tb     testing.TB
	ended  bool
	logger interface {
		Error(msg string, args ...any)
		Info(msg string, args ...any)
	}
}

// errorf fails the test and reports true, or logs and reports false when
// the server has no test.
func (r *reporter) errorf(format string, args ...any) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	if r.tb != nil && !r.ended {
		r.tb.Errorf("%s", msg)
		return true
	}
	r.logger.Error(msg)
	return r.tb != nil
}

func (r *reporter) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tb != nil {
		if !r.ended {
			r.tb.Logf(format, args...)
		}
		return
	}
	r.logger.Info(fmt.Sprintf(format, args...))
}

// end marks the test over: later reports go to the logger.
func (r *reporter) end() {
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
}

// segments splits an escaped path into unescaped segments.
func segments(r *http.Request) []string {
	p := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	if p == "" {
		return nil
	}
	parts := strings.Split(p, "/")
	for k, part := range parts {
		if u, err := url.PathUnescape(part); err == nil {
			parts[k] = u
		}
	}
	return parts
}

func escapePath(seg []string) string {
	esc := make([]string, len(seg))
	for k, p := range seg {
		esc[k] = url.PathEscape(p)
	}
	return strings.Join(esc, "/")
}

func setCacheControl(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		w.Header().Set("Cache-Control", "private, no-cache, no-store, must-revalidate")
	}
}

// methodNotAllowed answers 405 with Allow as Kratos' router writes it: the
// methods in alphabetical order, HEAD with GET ("GET, HEAD, PATCH, POST",
// seen on v26.2.0).
func methodNotAllowed(w http.ResponseWriter, allow ...string) {
	allow = slices.Clone(allow)
	if slices.Contains(allow, http.MethodGet) && !slices.Contains(allow, http.MethodHead) {
		allow = append(allow, http.MethodHead)
	}
	slices.Sort(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
}

// headAsGet routes a HEAD request as a GET, as Kratos' router does (an
// answer without body and without Cache-Control, seen on v26.2.0). The
// copy keeps net/http's own request, whose method tells it to send no body.
func headAsGet(r *http.Request) *http.Request {
	if r.Method != http.MethodHead {
		return r
	}
	r2 := *r
	r2.Method = http.MethodGet
	return &r2
}

// serveAdmin routes the admin port.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if s.before(ReleaseV26_2) {
		w = s.olderReleaseHeaders(w)
	}
	setCacheControl(w, r)
	r = headAsGet(r)
	// Dot segments are cleaned away with a redirect, as Kratos' router
	// does ("/by/external/.." goes to "/by", recorded 297).
	if p := r.URL.EscapedPath(); p != "/" {
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if clean != p {
			http.Redirect(w, r, clean, http.StatusTemporaryRedirect)
			return
		}
	}
	seg := segments(r)
	if isHealthPath(seg) {
		serveHealth(w, r)
		return
	}
	// The schema endpoints live on the public port (039, 040, 043).
	if isSchemaPath(seg) || len(seg) > 0 && seg[0] == "admin" && isSchemaPath(seg[1:]) {
		if r.Method != http.MethodGet {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		if s.before(ReleaseV26_2) && seg[0] != "admin" {
			// Before v26.2 the admin port sends /schemas to /admin/schemas
			// first (a relative 307, without Cache-Control).
			w.Header().Del("Cache-Control")
			target := "/admin/" + escapePath(seg)
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusTemporaryRedirect)
			return
		}
		target := s.PublicURL + "/" + escapePath(seg[len(seg)-schemaPathLen(seg):])
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
		return
	}
	if len(seg) == 0 || seg[0] != "admin" {
		http.NotFound(w, r)
		return
	}
	if !s.authorized(r) {
		writeError(w, errUnauthorized("The request did not carry a valid bearer token in the Authorization header."))
		return
	}
	if s.before(ReleaseV26_2) && s.serveOlderRelease(w, r, seg) {
		return
	}
	s.routes.serve(w, r, seg)
}

// authorized reports whether r may use the admin API: no token is
// required, or r carries it as a bearer token. The comparison takes the
// same time wherever the first difference is (crypto/subtle), so that a
// client cannot guess the token byte by byte from answer times.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.token == "" {
		return true
	}
	want := "Bearer " + s.cfg.token
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) == 1
}

func isSchemaPath(seg []string) bool {
	return (len(seg) == 1 || len(seg) == 2) && seg[0] == "schemas"
}

func schemaPathLen(seg []string) int {
	if len(seg) > 0 && seg[0] == "admin" {
		return len(seg) - 1
	}
	return len(seg)
}

func isHealthPath(seg []string) bool {
	return len(seg) == 2 && seg[0] == "health" && (seg[1] == "alive" || seg[1] == "ready")
}

// servePublic routes the public port: the schema endpoints, the native
// login flow with the password method (login.go) and the health checks.
func (s *Server) servePublic(w http.ResponseWriter, r *http.Request) {
	if s.before(ReleaseV25_4) {
		w = &publicV13Writer{ResponseWriter: w, schema: strings.HasPrefix(r.URL.Path, "/schemas/")}
	}
	setCacheControl(w, r)
	if s.before(ReleaseV26_2) && r.Method == http.MethodPost {
		// v25.4.0 (and v1.3.1) answer a login submission with
		// Cache-Control too (the differential test on a real v25.4.0).
		w.Header().Set("Cache-Control", "private, no-cache, no-store, must-revalidate")
	}
	r = headAsGet(r)
	seg := segments(r)
	switch {
	case isHealthPath(seg):
		serveHealth(w, r)
		return
	case len(seg) == 3 && seg[0] == "self-service" && seg[1] == "login" && seg[2] == "api":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, http.MethodGet)
			return
		}
		w.Header().Set("Vary", "Cookie")
		s.createLoginFlow(w, r)
		return
	case len(seg) == 2 && seg[0] == "self-service" && seg[1] == "login":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, http.MethodPost)
			return
		}
		w.Header().Set("Vary", "Cookie")
		s.submitLoginFlow(w, r)
		return
	}
	if !isSchemaPath(seg) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	w.Header().Set("Vary", "Cookie")
	s.routes.serve(w, r, seg)
}
