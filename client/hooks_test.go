package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/gen"
)

// recorded is what a recorder's hooks saw, one line per event.
type recorder struct {
	mu     sync.Mutex
	events []string
	calls  []client.CallResult
	infos  []client.CallInfo
}

type ctxKey struct{}

func (r *recorder) hooks(name string) *client.Hooks {
	return &client.Hooks{
		CallStart: func(ctx context.Context, c client.CallInfo) context.Context {
			r.add(fmt.Sprintf("%s start %s %s %s page %d", name, c.Operation, c.Method, c.Route, c.Page))
			r.mu.Lock()
			r.infos = append(r.infos, c)
			r.mu.Unlock()
			return context.WithValue(ctx, ctxKey{}, name+" "+c.Operation)
		},
		AttemptDone: func(ctx context.Context, c client.CallInfo, a client.AttemptInfo) {
			r.add(fmt.Sprintf("%s attempt %s %d: %d %s (ctx %v)", name, c.Operation, a.Attempt, a.Status, errClass(a.Err), ctx.Value(ctxKey{})))
		},
		CallDone: func(ctx context.Context, c client.CallInfo, res client.CallResult) {
			r.add(fmt.Sprintf("%s done %s: %d attempts, %d %s", name, c.Operation, res.Attempts, res.Status, errClass(res.Err)))
			r.mu.Lock()
			r.calls = append(r.calls, res)
			r.mu.Unlock()
		},
	}
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func errClass(err error) string {
	var e *client.Error
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &e):
		return fmt.Sprintf("*Error %d", e.StatusCode)
	default:
		return "transport error"
	}
}

func sameEvents(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestHooksSeeEveryAttemptAndCall: a typed call retried after a 503 is one
// call of two attempts, named by the spec's operationId, and the context
// CallStart returns reaches the transport and the later hooks.
func TestHooksSeeEveryAttemptAndCall(t *testing.T) {
	var n atomic.Int32
	var seenByServer atomic.Value
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			writeJSON(w, 503, `{"error":{"code":503,"message":"busy"}}`)
			return
		}
		writeJSON(w, 200, identityJS)
	})
	rec := &recorder{}
	transport := doerFunc(func(req *http.Request) (*http.Response, error) {
		seenByServer.Store(fmt.Sprint(req.Context().Value(ctxKey{})))
		return http.DefaultTransport.RoundTrip(req)
	})
	c := newClient(t, srv.URL, fastRetries(3), client.WithHooks(rec.hooks("client")), client.WithDoer(transport))
	start := time.Now()
	if _, err := c.Identities.Get(t.Context(), testID, nil); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	sameEvents(t, rec.take(), []string{
		"client start getIdentity GET /admin/identities/{id} page 0",
		"client attempt getIdentity 1: 503 *Error 503 (ctx client getIdentity)",
		"client attempt getIdentity 2: 200 ok (ctx client getIdentity)",
		"client done getIdentity: 2 attempts, 200 ok",
	})
	if got := seenByServer.Load(); got != "client getIdentity" {
		t.Errorf("the transport saw context value %v", got)
	}
	if d := rec.calls[0].Duration; d <= 0 || d > took {
		t.Errorf("call duration %s, outside (0, %s]", d, took)
	}
	if u := rec.infos[0].URL; u == nil || u.Path != "/admin/identities/"+testID {
		t.Errorf("call URL %v", u)
	}
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(req *http.Request) (*http.Response, error) { return f(req) }

// TestHooksFailures: a call that fails is reported with its error, a
// transport error with no status, and per-call hooks run after the
// client's.
func TestHooksFailures(t *testing.T) {
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"error":{"code":404,"message":"no such identity"}}`)
	})
	rec := &recorder{}
	c := newClient(t, srv.URL, fastRetries(3), client.WithHooks(rec.hooks("client")))
	_, err := c.Sessions.Get(t.Context(), testID, nil, client.WithCallHooks(rec.hooks("call")))
	if !errors.Is(err, client.ErrNotFound) {
		t.Fatal(err)
	}
	sameEvents(t, rec.take(), []string{
		"client start getSession GET /admin/sessions/{id} page 0",
		"call start getSession GET /admin/sessions/{id} page 0",
		"client attempt getSession 1: 404 *Error 404 (ctx call getSession)",
		"call attempt getSession 1: 404 *Error 404 (ctx call getSession)",
		"client done getSession: 1 attempts, 404 *Error 404",
		"call done getSession: 1 attempts, 404 *Error 404",
	})

	srv.Close() // connection refused from now on
	err = c.Identities.Delete(t.Context(), testID)
	if err == nil {
		t.Fatal("want a transport error")
	}
	sameEvents(t, rec.take(), []string{
		"client start deleteIdentity DELETE /admin/identities/{id} page 0",
		"client attempt deleteIdentity 1: 0 transport error (ctx client deleteIdentity)",
		"client attempt deleteIdentity 2: 0 transport error (ctx client deleteIdentity)",
		"client attempt deleteIdentity 3: 0 transport error (ctx client deleteIdentity)",
		"client done deleteIdentity: 3 attempts, 0 transport error",
	})
}

// TestHooksSeePages: an iterator's walk is one call per page, numbered.
func TestHooksSeePages(t *testing.T) {
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page_token") {
		case "":
			w.Header().Set("Link", `</admin/identities?page_size=1&page_token=p2>; rel="next"`)
			writeJSON(w, 200, identityPage("00000000-0000-4000-8000-000000000001"))
		case "p2":
			w.Header().Set("Link", `</admin/identities?page_size=1&page_token=p3>; rel="next"`)
			writeJSON(w, 200, identityPage("00000000-0000-4000-8000-000000000002"))
		default:
			writeJSON(w, 200, `[]`)
		}
	})
	rec := &recorder{}
	c := newClient(t, srv.URL, client.WithHooks(rec.hooks("client")))
	for range 2 { // an iterator ranged twice numbers its pages anew
		n := 0
		for _, err := range c.Identities.List(t.Context(), &client.ListIdentitiesParams{PageSize: 1}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 2 {
			t.Fatalf("%d identities", n)
		}
		var pages []string
		for _, e := range rec.take() {
			if strings.Contains(e, " start ") {
				pages = append(pages, e)
			}
		}
		sameEvents(t, pages, []string{
			"client start listIdentities GET /admin/identities page 1",
			"client start listIdentities GET /admin/identities page 2",
			"client start listIdentities GET /admin/identities page 3",
		})
	}
	if _, err := c.Identities.ListPage(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if e := rec.take(); len(e) == 0 || e[0] != "client start listIdentities GET /admin/identities page 0" {
		t.Errorf("a page call: %q", e)
	}
}

// TestHooksSeeDoAndGenerated: requests sent through Do (and so through
// Generated) are calls too, named by the operation their method and path
// address below the configured base URL; one that addresses none has no
// operation.
func TestHooksSeeDoAndGenerated(t *testing.T) {
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/base/admin/") {
			writeJSON(w, 404, `{"error":{"code":404}}`)
			return
		}
		writeJSON(w, 200, identityJS)
	})
	rec := &recorder{}
	c := newClient(t, srv.URL+"/base", client.WithHooks(rec.hooks("client")))
	resp, err := c.Generated().GetIdentity(t.Context(), gen.IdentityID(testID), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPatch, srv.URL+"/base/admin/sessions/abc/extend", nil)
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/health/ready", nil)
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	sameEvents(t, rec.take(), []string{
		"client start getIdentity GET /admin/identities/{id} page 0",
		"client attempt getIdentity 1: 200 ok (ctx client getIdentity)",
		"client done getIdentity: 1 attempts, 200 ok",
		"client start extendSession PATCH /admin/sessions/{id}/extend page 0",
		"client attempt extendSession 1: 200 ok (ctx client extendSession)",
		"client done extendSession: 1 attempts, 200 ok",
		"client start  GET  page 0",
		"client attempt  1: 404 ok (ctx client )",
		"client done : 1 attempts, 404 ok",
	})
}

// TestEveryOperationIsNamed: every operation of the spec is named by its
// own operationId from a request to its path (parameters filled in, an
// escaped slash in one included), and the most literal template wins.
func TestEveryOperationIsNamed(t *testing.T) {
	rec := &recorder{}
	c, err := client.New("http://127.0.0.1:1/prefix", client.WithHooks(rec.hooks("h")), client.WithoutRetries(),
		client.WithDoer(doerFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("not sent") })))
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range gen.SpecOperations {
		path := op.Path
		for strings.Contains(path, "{") {
			i, j := strings.Index(path, "{"), strings.Index(path, "}")
			path = path[:i] + "a%2Fb" + path[j+1:]
		}
		req, _ := http.NewRequestWithContext(t.Context(), op.Method, "http://127.0.0.1:1/prefix"+path, nil)
		if _, err := c.Do(req); err == nil {
			t.Fatal("sent")
		}
		rec.mu.Lock()
		got := rec.infos[len(rec.infos)-1]
		rec.mu.Unlock()
		if got.Operation != op.ID || got.Route != op.Path {
			t.Errorf("%s %s: named %q (%s), want %q", op.Method, path, got.Operation, got.Route, op.ID)
		}
	}
	// "by" is a literal segment of getIdentityByExternalID, and an id of
	// getIdentity's template too: the literal one wins.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://127.0.0.1:1/prefix/admin/identities/by", nil)
	_, _ = c.Do(req)
	if got := rec.infos[len(rec.infos)-1]; got.Operation != "getIdentity" {
		t.Errorf("/admin/identities/by: %q", got.Operation)
	}
	for _, p := range []string{"/prefix/admin/identities/", "/admin/identities/x", "/prefix/admin/identities/x/y", "/prefix/admin"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://127.0.0.1:1"+p, nil)
		_, _ = c.Do(req)
		if got := rec.infos[len(rec.infos)-1]; got.Operation != "" {
			t.Errorf("%s: named %q, want none", p, got.Operation)
		}
	}
}

// cannedDoer answers every request with the same identity, in memory, so
// that an allocation count sees only the client.
type cannedDoer struct{}

func (cannedDoer) Do(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(identityJS)),
		Request:    req,
	}, nil
}

// TestHooksAllocateNothing: hooks cost no allocation when unused, and none
// of their own when used (hooks that only count): a typed call allocates
// the same either way.
func TestHooksAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	var calls, attempts atomic.Int64
	counting := &client.Hooks{
		CallStart:   func(ctx context.Context, _ client.CallInfo) context.Context { return ctx },
		AttemptDone: func(context.Context, client.CallInfo, client.AttemptInfo) { attempts.Add(1) },
		CallDone:    func(context.Context, client.CallInfo, client.CallResult) { calls.Add(1) },
	}
	allocs := func(opts ...client.Option) float64 {
		c, err := client.New("http://127.0.0.1:1", append([]client.Option{client.WithDoer(cannedDoer{})}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		return testing.AllocsPerRun(200, func() {
			if _, err := c.Identities.Get(ctx, testID, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	without := allocs()
	with := allocs(client.WithHooks(counting))
	t.Logf("allocations per Get: %.0f without hooks, %.0f with counting hooks", without, with)
	if with != without {
		t.Errorf("allocations per Get: %.0f with hooks, %.0f without", with, without)
	}
	if calls.Load() == 0 || calls.Load() != attempts.Load() {
		t.Errorf("the hooks saw %d calls and %d attempts", calls.Load(), attempts.Load())
	}
}
