package client_test

// Helpers shared by the fault, pagination, argument, secret and
// concurrency tests: misbehaving servers, counters and a goroutine leak
// check done by hand.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/leakcheck"
)

const (
	testID     = "9fce9890-b047-44b5-8b6d-dfeffddfaf02"
	testToken  = "ory_pat_SECRET-7f3a9c1e5b"
	jsonCT     = "application/json; charset=utf-8"
	identityJS = `{"id":"` + testID + `","schema_id":"default","schema_url":"http://127.0.0.1:4433/schemas/ZGVmYXVsdA","state":"active","traits":{"email":"alice@example.org"},"metadata_public":null,"organization_id":null,"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`
)

// fastRetries retries up to attempts times in all, with millisecond
// backoffs so that the suite stays fast.
func fastRetries(attempts int) client.Option {
	return client.WithRetryPolicy(client.RetryPolicy{
		MaxAttempts:   attempts,
		MinBackoff:    time.Millisecond,
		MaxBackoff:    5 * time.Millisecond,
		MaxRetryAfter: 3 * time.Second,
	})
}

// setup starts an httptest server with a mux and a client for it.
func setup(t *testing.T, opts ...client.Option) (*client.Client, *http.ServeMux, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	opts = append([]client.Option{client.WithKratosVersion(client.KratosV26_2), client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: time.Second})}, opts...)
	c, err := client.New(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, mux, srv
}

func newClient(t *testing.T, baseURL string, opts ...client.Option) *client.Client {
	t.Helper()
	// Tests state the release (the recordings are v26.2.0's) unless they
	// pass their own: the version request is releases_test.go's subject.
	c, err := client.New(baseURL, append([]client.Option{client.WithBearerToken(testToken), client.WithKratosVersion(client.KratosV26_2)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// counted wraps a handler and counts the requests it serves.
type counted struct {
	h http.Handler
	n atomic.Int32
}

func (c *counted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.h.ServeHTTP(w, r)
}

func (c *counted) count() int { return int(c.n.Load()) }

// serve starts an httptest server counting its requests. It is closed when
// the test ends.
func serve(t *testing.T, h http.HandlerFunc) (*httptest.Server, *counted) {
	t.Helper()
	ch := &counted{h: h}
	srv := httptest.NewServer(ch)
	t.Cleanup(srv.Close)
	return srv, ch
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", jsonCT)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// rawServer is a TCP listener that reads one HTTP request per connection
// and lets the test answer with whatever bytes (or resets) it wants.
type rawServer struct {
	URL   string
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
	n     atomic.Int32
}

func newRawServer(t *testing.T, answer func(conn net.Conn, req *http.Request)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{URL: "http://" + ln.Addr().String(), ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, conn)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					s.n.Add(1)
					answer(conn, req)
					if req.Close {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *rawServer) count() int { return int(s.n.Load()) }

// reset closes conn with an RST instead of a FIN.
func reset(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// goroutines snapshots the running goroutines (see leakcheck).
var goroutines = leakcheck.Goroutines

// within fails the test when fn takes longer than limit, and returns how
// long it took.
func within(t *testing.T, limit time.Duration, fn func()) time.Duration {
	t.Helper()
	start := time.Now()
	fn()
	took := time.Since(start)
	if took > limit {
		t.Errorf("took %s, want at most %s", took, limit)
	}
	return took
}

// asError returns err as a *client.Error or fails the test.
func asError(t *testing.T, err error) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a *client.Error, got %T: %v", err, err)
	}
	return e
}

// asResponseError returns err as a *client.ResponseError matching
// ErrMalformedResponse or fails the test.
func asResponseError(t *testing.T, err error) *client.ResponseError {
	t.Helper()
	var e *client.ResponseError
	if !errors.As(err, &e) || !errors.Is(err, client.ErrMalformedResponse) {
		t.Fatalf("want a *client.ResponseError, got %T: %v", err, err)
	}
	return e
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// identityPage is a JSON array of identities with the given ids.
func identityPage(ids ...string) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%q,"schema_id":"default","schema_url":"","state":"active","traits":{},"metadata_public":null,"organization_id":null,"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`, id)
	}
	b.WriteByte(']')
	return b.String()
}
