package client_test

// Concurrency: one client shared by many goroutines running mixed
// operations against the fake server (kratostest), under -race.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// backend is a server the concurrency test runs against.
type backend struct {
	URL     string
	Options []client.Option // e.g. WithPublicURL for the schema endpoint
	// Sent reports the status of the answer with this X-Request-Id, so
	// that every *Error can be traced to an answer the server gave; nil
	// when the backend does not record its answers.
	Sent func(requestID string) (status int, ok bool)
}

// newConcurrencyBackend starts kratostest behind a middleware that tags
// every answer with an X-Request-Id, records the status it sent, and
// answers the first GET, PUT or DELETE of each distinct request line with
// a 503, which the client's retries must absorb.
func newConcurrencyBackend(t *testing.T) backend {
	var (
		mu   sync.Mutex
		next int
		sent = map[string]int{}
		seen = map[string]bool{}
	)
	srv := kratostest.NewServer(t, kratostest.WithMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			next++
			id := "req-" + strconv.Itoa(next)
			line := r.Method + " " + r.URL.RequestURI()
			failFirst := r.Method != http.MethodPost && r.Method != http.MethodPatch && !seen[line]
			seen[line] = true
			mu.Unlock()
			w.Header().Set("X-Request-Id", id)
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			if failFirst {
				writeJSON(rec, http.StatusServiceUnavailable, `{"error":{"code":503,"status":"Service Unavailable","message":"injected"}}`)
			} else {
				h.ServeHTTP(rec, r)
			}
			mu.Lock()
			sent[id] = rec.status
			mu.Unlock()
		})
	}))
	return backend{
		URL:     srv.URL,
		Options: []client.Option{client.WithPublicURL(srv.PublicURL)},
		Sent: func(id string) (int, bool) {
			mu.Lock()
			defer mu.Unlock()
			s, ok := sent[id]
			return s, ok
		},
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// TestConcurrentMixedOperations: one client shared by many goroutines, each
// creating, reading, patching, updating, listing, deleting its own
// identities and reading schemas and sessions, while others walk the whole
// list, and the server fails the first try of every idempotent request.
// Under -race: no data race; every value read back is the one written (no
// answer crosses to another call); every error is one the server sent,
// traced by X-Request-Id.
func TestConcurrentMixedOperations(t *testing.T) {
	be := newConcurrencyBackend(t)
	c := newClient(t, be.URL, append([]client.Option{
		client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}),
	}, be.Options...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Every schema read must give the same document as this one.
	schemaRef, err := c.Schemas.Get(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}

	const workers, rounds, walkers = 8, 10, 2
	var (
		mu       sync.Mutex
		failures []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	// serverSent checks that err is an *Error the server did send, with
	// the expected sentinel.
	serverSent := func(op string, err error, want error) {
		var e *client.Error
		if !errors.As(err, &e) || !errors.Is(err, want) {
			fail("%s: want an *Error matching %v, got %T %v", op, want, err, err)
			return
		}
		if be.Sent == nil {
			return
		}
		if status, ok := be.Sent(e.Request); !ok || status != e.StatusCode {
			fail("%s: *Error with status %d and request id %q, but the server sent %d (known %v)", op, e.StatusCode, e.Request, status, ok)
		}
	}
	unexpected := func(op string, err error) {
		var e *client.Error
		if errors.As(err, &e) && be.Sent != nil {
			if status, ok := be.Sent(e.Request); ok && status == e.StatusCode {
				fail("%s: the server sent %d, which the retries did not absorb: %v", op, status, err)
				return
			}
		}
		fail("%s: %T %v", op, err, err)
	}

	var wg, walking sync.WaitGroup
	done := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				op := fmt.Sprintf("worker %d round %d", w, r)
				traits := json.RawMessage(fmt.Sprintf(`{"email":"w%d-r%d@example.org","name":{"first":"round %d"}}`, w, r, r))
				created, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits})
				if err != nil {
					unexpected(op+" Create", err)
					continue
				}
				id := created.ID
				if !sameJSON(created.Traits, traits) {
					fail("%s Create: traits %s, want %s", op, created.Traits, traits)
				}
				if got, err := c.Identities.Get(ctx, id, nil); err != nil {
					unexpected(op+" Get", err)
				} else if got.ID != id || !sameJSON(got.Traits, traits) {
					fail("%s Get: %s %s, want %s %s", op, got.ID, got.Traits, id, traits)
				}
				meta := json.RawMessage(fmt.Sprintf(`{"worker":%d,"round":%d}`, w, r))
				if got, err := c.Identities.Patch(ctx, id, []client.JSONPatch{client.PatchReplace("/metadata_public", meta)}); err != nil {
					unexpected(op+" Patch", err)
				} else if got.ID != id || !sameJSON(got.MetadataPublic, meta) {
					fail("%s Patch: %s %s, want %s %s", op, got.ID, got.MetadataPublic, id, meta)
				}
				traits2 := json.RawMessage(fmt.Sprintf(`{"email":"w%d-r%d-updated@example.org"}`, w, r))
				if got, err := c.Identities.Update(ctx, id, &client.UpdateIdentityBody{SchemaID: "default", Traits: traits2, MetadataPublic: meta}); err != nil {
					unexpected(op+" Update", err)
				} else if got.ID != id || !sameJSON(got.Traits, traits2) || !sameJSON(got.MetadataPublic, meta) {
					fail("%s Update: %s %s %s", op, got.ID, got.Traits, got.MetadataPublic)
				}
				if page, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{IDs: []string{id}}); err != nil {
					unexpected(op+" ListPage", err)
				} else if len(page.Items) != 1 || page.Items[0].ID != id {
					fail("%s ListPage: %d items", op, len(page.Items))
				}
				if schema, err := c.Schemas.Get(ctx, "default"); err != nil {
					unexpected(op+" Schemas.Get", err)
				} else if !sameJSON(schema, schemaRef) {
					fail("%s Schemas.Get: %s", op, schema)
				}
				_, err = c.Sessions.Get(ctx, fmt.Sprintf("00000000-0000-4000-9000-%012d", w*1000+r), nil)
				serverSent(op+" Sessions.Get", err, client.ErrNotFound)
				if err := c.Identities.Delete(ctx, id); err != nil {
					unexpected(op+" Delete", err)
				}
				_, err = c.Identities.Get(ctx, id, nil)
				serverSent(op+" Get after Delete", err, client.ErrNotFound)
			}
		})
	}
	for k := range walkers {
		walking.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				seen := map[string]bool{}
				for ident, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 3}) {
					if err != nil {
						unexpected(fmt.Sprintf("walker %d", k), err)
						break
					}
					if seen[ident.ID] {
						fail("walker %d: %s twice in one walk", k, ident.ID)
					}
					seen[ident.ID] = true
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, be.URL+"/admin/identities?page_size=1", nil)
				if resp, err := c.Do(req); err != nil {
					unexpected(fmt.Sprintf("walker %d Do", k), err)
				} else {
					if err := client.CheckResponse(resp); err != nil {
						unexpected(fmt.Sprintf("walker %d Do", k), err)
					}
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	close(done)
	walking.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if ctx.Err() != nil {
		t.Errorf("did not finish in time: %v", ctx.Err())
	}
}

// sameJSON compares two JSON documents as values.
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xa, yb)
}
