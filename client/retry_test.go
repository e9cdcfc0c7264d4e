package client_test

// Retries as the client decides them: which failures are transient
// (ClassifyFailure), and Do's replayable bodies. The engine itself is
// internal/retry's; that the typed calls, Do, Generated and the bulk
// importer all retry through it is bulk's TestRetryEngineSharedByAllPaths.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// TestClassifyFailure pins the one classification of failures: which are
// transient, and whether the server may have acted on the request. The
// retry engine resends what is not final; the bulk importer builds its
// rules on the classes.
func TestClassifyFailure(t *testing.T) {
	status := func(code int) error { return &client.Error{StatusCode: code} }
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("no route to host")}
	for _, tc := range []struct {
		name string
		err  error
		want client.FailureClass
	}{
		{"429", status(429), client.FailureNotApplied},
		{"503", status(503), client.FailureNotApplied},
		{"502", status(502), client.FailureBadGateway},
		{"504", status(504), client.FailureAnswerLost},
		{"500", status(500), client.FailureFinal},
		{"400", status(400), client.FailureFinal},
		{"404", status(404), client.FailureFinal},
		{"409", status(409), client.FailureFinal},
		{"wrapped 503", fmt.Errorf("kratos: x: %w", status(503)), client.FailureNotApplied},
		{"connection refused", fmt.Errorf("kratos: x: %w", syscall.ECONNREFUSED), client.FailureNotApplied},
		{"failed dial", dial, client.FailureNotApplied},
		{"DNS", &net.DNSError{Err: "no such host", Name: "kratos.invalid"}, client.FailureNotApplied},
		{"per-attempt timeout", &client.TimeoutError{Op: "x", After: time.Second, Err: errors.New("slow")}, client.FailureAnswerLost},
		{"timeout while dialling", &client.TimeoutError{Op: "x", After: time.Second, Err: dial}, client.FailureNotApplied},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), client.FailureAnswerLost},
		{"body cut off", &client.ResponseError{StatusCode: 200, Err: io.ErrUnexpectedEOF}, client.FailureAnswerLost},
		{"whole but invalid body", &client.ResponseError{StatusCode: 200, Err: errors.New("invalid JSON at byte 3")}, client.FailureFinal},
		{"argument", &client.ArgumentError{Op: "x", Argument: "id", Reason: "empty"}, client.FailureFinal},
		{"other", errors.New("tls: bad certificate"), client.FailureFinal},
	} {
		if got := client.ClassifyFailure(tc.err); got != tc.want || got.Transient() != (tc.want != client.FailureFinal) {
			t.Errorf("%s: class %d, want %d", tc.name, got, tc.want)
		}
	}
}

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
