package bulk_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/gen"
	"github.com/kratosadmin/sdk/internal/orynet"
	"github.com/kratosadmin/sdk/kratostest"
)

// gate answers the requests it matches with a scripted 503 (with an
// optional Retry-After), or a 429 as Ory Network sends it, and lets the
// rest through to the fake, recording when each matched request arrived.
type gate struct {
	match      func(*http.Request) bool
	fails      int    // matched requests answered 503 before passing (-1: all)
	retryAfter string // the 503's Retry-After, "" for none
	// oryReset, when set, makes the failures 429s as Ory Network answers
	// them: no Retry-After, no body, and this x-ratelimit-reset.
	oryReset string

	mu       sync.Mutex
	arrivals []time.Time
}

func (g *gate) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.match(r) {
			next.ServeHTTP(w, r)
			return
		}
		g.mu.Lock()
		g.arrivals = append(g.arrivals, time.Now())
		n := len(g.arrivals)
		g.mu.Unlock()
		if g.fails < 0 || n <= g.fails {
			if g.oryReset != "" {
				orynet.Refuse(w, g.oryReset)
				return
			}
			if g.retryAfter != "" {
				w.Header().Set("Retry-After", g.retryAfter)
			}
			writeKratosError(w, http.StatusServiceUnavailable, "injected")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// seen is the number of matched requests and the shortest gap between two
// of them (0 for fewer than two).
func (g *gate) seen() (int, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var least time.Duration
	for i := 1; i < len(g.arrivals); i++ {
		if d := g.arrivals[i].Sub(g.arrivals[i-1]); i == 1 || d < least {
			least = d
		}
	}
	return len(g.arrivals), least
}

// enginePath is one way a request reaches the server: it sends one
// logical request and returns its final error (nil on success).
type enginePath struct {
	name  string
	match func(*http.Request) bool
	send  func(ctx context.Context, t *testing.T, c *client.Client, srv *kratostest.Server, id string) error
}

func isGetIdentity(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/admin/identities/")
}

func isBatch(r *http.Request) bool {
	return r.Method == http.MethodPatch && r.URL.Path == "/admin/identities"
}

var enginePaths = []enginePath{
	{"typed", isGetIdentity, func(ctx context.Context, t *testing.T, c *client.Client, _ *kratostest.Server, id string) error {
		_, err := c.Identities.Get(ctx, id, nil)
		return err
	}},
	{"Do", isGetIdentity, func(ctx context.Context, t *testing.T, c *client.Client, srv *kratostest.Server, id string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/admin/identities/"+id, nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return client.CheckResponse(resp)
	}},
	{"Generated", isGetIdentity, func(ctx context.Context, t *testing.T, c *client.Client, _ *kratostest.Server, id string) error {
		resp, err := c.Generated().GetIdentity(ctx, gen.IdentityID(id), nil)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}},
	{"import", isBatch, func(ctx context.Context, t *testing.T, c *client.Client, _ *kratostest.Server, _ string) error {
		// The importer's own attempt bound is set to the policy's, so that
		// the same engine is seen deciding with the same numbers.
		var outcome bulk.ImportOutcome
		_, err := bulk.Import(ctx, c, seqOf(person(1)), &bulk.ImportOptions{
			Concurrency: 1,
			MaxAttempts: 3,
			OnOutcome:   func(o bulk.ImportOutcome) { outcome = o },
		})
		if outcome.Status == bulk.ImportCreated {
			return nil
		}
		if outcome.Err != nil {
			return outcome.Err
		}
		if err == nil {
			err = errors.New("import: status " + string(outcome.Status))
		}
		return err
	}},
}

// TestRetryEngineSharedByAllPaths: typed calls, Do, the generated client
// (which sends through Do) and the importer's batches retry through one
// engine. Against a server answering 503, with the same policy, each path
// honours the same Retry-After, stops at the same Retry-After cap, uses up
// the same number of attempts, and keeps the server's error when the wait
// is cut short.
func TestRetryEngineSharedByAllPaths(t *testing.T) {
	const attempts = 3 // fastRetries(3): MaxRetryAfter 3s
	setup := func(t *testing.T, p enginePath, fails int, retryAfter string) (*client.Client, *kratostest.Server, *gate, string) {
		g := &gate{match: p.match, fails: fails, retryAfter: retryAfter}
		srv, _ := importFake(t, kratostest.WithMiddleware(g.middleware))
		c := fakeClient(srv) // fastRetries(attempts)
		created, err := c.Identities.Create(t.Context(), &client.CreateIdentityBody{SchemaID: "default", Traits: []byte(`{"email":"seed@example.org"}`)})
		require.NoError(t, err)
		return c, srv, g, created.ID
	}
	forEachPath := func(t *testing.T, check func(t *testing.T, p enginePath)) {
		for _, p := range enginePaths {
			t.Run(p.name, func(t *testing.T) {
				t.Parallel()
				check(t, p)
			})
		}
	}

	t.Run("Retry-After honoured", func(t *testing.T) {
		forEachPath(t, func(t *testing.T, p enginePath) {
			c, srv, g, id := setup(t, p, 1, "1")
			err := p.send(ctxTimeout(t, 10*time.Second), t, c, srv, id)
			n, gap := g.seen()
			assert.NoError(t, err)
			assert.Equal(t, 2, n, "requests")
			assert.GreaterOrEqual(t, gap, time.Second, "least gap between requests")
		})
	})

	t.Run("Retry-After over the cap", func(t *testing.T) {
		forEachPath(t, func(t *testing.T, p enginePath) {
			c, srv, g, id := setup(t, p, -1, "10")
			var err error
			within(t, 2*time.Second, func() { err = p.send(ctxTimeout(t, 10*time.Second), t, c, srv, id) })
			n, _ := g.seen()
			var e *client.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 503, e.StatusCode)
			assert.Equal(t, 10*time.Second, e.RetryAfter)
			assert.Equal(t, 1, n, "requests")
		})
	})

	t.Run("x-ratelimit-reset 0 on a 429", func(t *testing.T) {
		// Ory Network's burst buckets report 0: the window turns within
		// the second, so the engine waits a second (not a backoff of a
		// few milliseconds, which would be refused again).
		forEachPath(t, func(t *testing.T, p enginePath) {
			c, srv, g, id := setup(t, p, 1, "")
			g.oryReset = "0"
			err := p.send(ctxTimeout(t, 10*time.Second), t, c, srv, id)
			n, gap := g.seen()
			assert.NoError(t, err)
			assert.Equal(t, 2, n, "requests")
			assert.GreaterOrEqual(t, gap, time.Second, "least gap between requests")
		})
	})

	t.Run("x-ratelimit-reset over the cap", func(t *testing.T) {
		forEachPath(t, func(t *testing.T, p enginePath) {
			c, srv, g, id := setup(t, p, -1, "")
			g.oryReset = "10"
			var err error
			within(t, 2*time.Second, func() { err = p.send(ctxTimeout(t, 10*time.Second), t, c, srv, id) })
			n, _ := g.seen()
			var e *client.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 429, e.StatusCode)
			require.NotNil(t, e.RateLimit)
			assert.Equal(t, client.RateLimit{Remaining: 0, Reset: 10 * time.Second}, *e.RateLimit)
			assert.Equal(t, 1, n, "requests")
		})
	})

	t.Run("attempts used up", func(t *testing.T) {
		forEachPath(t, func(t *testing.T, p enginePath) {
			c, srv, g, id := setup(t, p, -1, "")
			err := p.send(ctxTimeout(t, 10*time.Second), t, c, srv, id)
			n, _ := g.seen()
			var e *client.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 503, e.StatusCode)
			assert.Equal(t, attempts, n, "requests")
		})
	})

	t.Run("past the caller's deadline", func(t *testing.T) {
		// A wait that would outlive the caller's deadline is not started:
		// the request paths return the 503 at once. The importer waits into
		// the deadline instead: the end of its run is what abandons the
		// items still waiting, as not attempted.
		forEachPath(t, func(t *testing.T, p enginePath) {
			c, srv, g, id := setup(t, p, -1, "3")
			var err error
			took := within(t, 3*time.Second, func() { err = p.send(ctxTimeout(t, 1500*time.Millisecond), t, c, srv, id) })
			n, _ := g.seen()
			assert.Equal(t, 1, n, "requests")
			if p.name == "import" {
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.GreaterOrEqual(t, took, time.Second, "waited into the deadline")
				return
			}
			var e *client.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, 503, e.StatusCode)
			assert.Equal(t, 3*time.Second, e.RetryAfter)
			assert.LessOrEqual(t, took, time.Second, "the 503 at once")
		})
	})

	t.Run("cancelled wait", func(t *testing.T) {
		forEachPath(t, func(t *testing.T, p enginePath) {
			c, srv, g, id := setup(t, p, -1, "3")
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(300*time.Millisecond, cancel)
			var err error
			within(t, 2*time.Second, func() { err = p.send(ctx, t, c, srv, id) })
			n, _ := g.seen()
			assert.Equal(t, 1, n, "requests")
			assert.ErrorIs(t, err, context.Canceled)
			if p.name == "import" {
				return // the importer reports the item not attempted
			}
			var e *client.Error
			require.ErrorAs(t, err, &e, "the server's error is kept")
			assert.Equal(t, 503, e.StatusCode)
		})
	})
}
