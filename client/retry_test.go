package client_test

// Retries as the client decides them: which failures are transient
// (ClassifyFailure), and Do's replayable bodies. The engine itself is
// internal/retry's; that the typed calls, Do, Generated and the bulk
// importer all retry through it is bulk's TestRetryEngineSharedByAllPaths.

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// onlyReader hides bytes.Reader's type, so that http.NewRequest cannot
// make the body replayable (no GetBody).
type onlyReader struct{ r *bytes.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestDoRetriesOnlyReplayableBodies: Do resends a PUT through 503s only
// when its body can be replayed (GetBody), and then sends the whole body
// every time; a body that can be read once goes once, and the 503 comes
// back to the caller.
func TestDoRetriesOnlyReplayableBodies(t *testing.T) {
	const body = `{"schema_id":"default","traits":{"email":"a@example.org"}}`
	var mu sync.Mutex
	var got []string
	srv, h := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
		writeJSON(w, http.StatusServiceUnavailable, `{"error":{"code":503,"message":"busy"}}`)
	})
	c := newClient(t, srv.URL, fastRetries(3))
	send := func(r io.Reader) *http.Response {
		req, err := http.NewRequestWithContext(ctxTimeout(t, 5*time.Second), http.MethodPut, srv.URL+"/admin/identities/"+testID, r)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	if resp := send(strings.NewReader(body)); resp.StatusCode != 503 || h.count() != 3 {
		t.Errorf("replayable body: %d requests, last status %d; want 3 and 503", h.count(), resp.StatusCode)
	}
	before := h.count()
	if resp := send(onlyReader{bytes.NewReader([]byte(body))}); resp.StatusCode != 503 || h.count()-before != 1 {
		t.Errorf("body read once: %d requests, status %d; want 1 and 503", h.count()-before, resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, b := range got {
		if b != body {
			t.Errorf("request %d carried %q, want the whole body", i+1, b)
		}
	}
}
