package client_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// TestGeneratedUsesTheClientsPath: the generated client reached through
// Client.Generated sends through the client's one request path: token,
// User-Agent, retries of idempotent calls, error mapping to *Error, and
// bounded success bodies.
func TestGeneratedUsesTheClientsPath(t *testing.T) {
	var (
		mu       sync.Mutex
		auth, ua []string
		calls    int
	)
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		auth = append(auth, r.Header.Get("Authorization"))
		ua = append(ua, r.Header.Get("User-Agent"))
		mu.Unlock()
		switch {
		case r.URL.Path == "/admin/identities/"+testID && n == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/admin/identities/"+testID:
			writeJSON(w, 200, identityJS)
		case r.URL.Path == "/admin/identities":
			writeJSON(w, 200, "["+strings.Repeat(identityJS+",", 20)+identityJS+"]")
		default:
			writeJSON(w, 404, `{"error":{"code":404,"status":"Not Found","reason":"gone","message":"The requested resource could not be found"}}`)
		}
	})
	c := newClient(t, srv.URL, client.WithBearerToken("tok-1"), client.WithUserAgent("gen-test/1"), fastRetries(3), client.WithMaxResponseBytes(1024))
	ctx := ctxTimeout(t, 5*time.Second)

	resp, err := c.Generated().GetIdentity(ctx, testID, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), testID) {
		t.Fatalf("status %d, body %q, err %v", resp.StatusCode, body, err)
	}
	mu.Lock()
	if calls != 2 {
		t.Errorf("%d attempts, want 2 (the 503 retried)", calls)
	}
	mu.Unlock()

	_, err = c.Generated().DeleteIdentity(ctx, "11111111-2222-3333-4444-555555555555")
	var apiErr *client.Error
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Reason != "gone" {
		t.Fatalf("404: %v, want an *Error matching ErrNotFound", err)
	}

	resp, err = c.Generated().ListIdentities(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("body over WithMaxResponseBytes: %v, want an error", err)
	}

	mu.Lock()
	defer mu.Unlock()
	for i := range auth {
		if auth[i] != "Bearer tok-1" || !strings.HasPrefix(ua[i], "gen-test/1") {
			t.Errorf("request %d: Authorization %q, User-Agent %q", i, auth[i], ua[i])
		}
	}
}
