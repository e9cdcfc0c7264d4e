package bulk_test

// Hostile servers against the bulk walks (issue 19): page tokens that
// cycle end Export and the importer's settle walk with ErrPaginationLoop,
// as they end every walk (the one walker, client.WalkPages).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
)

const hostileID = "9fce9890-b047-44b5-8b6d-dfeffddfaf02"

// cyclingServer lists one identity per page with page tokens in a cycle
// ("" → A → B → C → A), and answers every batch item with a conflict.
func cyclingServer(t *testing.T) (*client.Client, *atomic.Int32) {
	t.Helper()
	next := map[string]string{"": "A", "A": "B", "B": "C", "C": "A"}
	var lists atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/admin/identities":
			lists.Add(1)
			tok := r.URL.Query().Get("page_token")
			w.Header().Set("Link", `</admin/identities?page_size=1&page_token=`+next[tok]+`>; rel="next"`)
			fmt.Fprintf(w, `[{"id":%q,"schema_id":"default","schema_url":"","state":"active","traits":{"email":"other@example.org"},"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}]`, hostileID)
		case r.Method == http.MethodPatch && r.URL.Path == "/admin/identities":
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, `{"identities":[{"action":"error","error":{"code":409,"status":"Conflict","message":"an identity with the same identifier already exists"}}]}`)
		default:
			w.WriteHeader(404)
			_, _ = io.WriteString(w, `{"error":{"code":404,"message":"not found"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, client.WithoutRetries())
	if err != nil {
		t.Fatal(err)
	}
	return c, &lists
}

func TestHostileCyclingTokens(t *testing.T) {
	t.Run("Export", func(t *testing.T) {
		c, lists := cyclingServer(t)
		var last error
		for _, err := range bulk.Export(context.Background(), c, &bulk.ExportOptions{Filter: &client.ListIdentitiesParams{PageSize: 1}}) {
			last = err
		}
		if !errors.Is(last, client.ErrPaginationLoop) || lists.Load() != 4 {
			t.Fatalf("want ErrPaginationLoop after 4 pages, got %v after %d", last, lists.Load())
		}
	})
	t.Run("settle walk", func(t *testing.T) {
		// A conflicting item is looked for by a walk of the store; before
		// the one walker it asked 400 times and more, until a signal.
		c, lists := cyclingServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var outcome bulk.ImportOutcome
		items := func(yield func(client.CreateIdentityBody, error) bool) {
			yield(client.CreateIdentityBody{SchemaID: "default", Traits: []byte(`{"email":"victim@example.org"}`)}, nil)
		}
		sum, err := bulk.Import(ctx, c, items, &bulk.ImportOptions{OnOutcome: func(o bulk.ImportOutcome) { outcome = o }})
		if err != nil && ctx.Err() != nil {
			t.Fatalf("the import ran until its deadline: %v (%d list requests)", err, lists.Load())
		}
		// Each walk the importer makes (a probe, the settling) ends after
		// the cycle's four pages.
		if sum == nil || sum.Failed != 1 || !errors.Is(outcome.Err, client.ErrConflict) ||
			!strings.Contains(outcome.Err.Error(), "repeated a page token") || lists.Load() > 40 {
			t.Fatalf("want the item failed after a few list requests, got %+v, %v (%d list requests)", sum, outcome.Err, lists.Load())
		}
		t.Logf("outcome: %v after %d list requests", outcome.Err, lists.Load())
	})
}
