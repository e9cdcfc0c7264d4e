package kratostest

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Limits that keep a long-running fake (cmd/kratos-fake) alive and small
// whatever its clients do: server timeouts and the bound on login flows.

// shortTimeouts shortens the server timeouts for a test.
func shortTimeouts(d time.Duration) Option {
	return func(c *config) { c.readHeaderTimeout, c.readTimeout, c.idleTimeout = d, d, d }
}

// closedWithin reports whether the server closes conn, which has sent
// what it sends, before the deadline (a generous bound, not a measure).
func closedWithin(t *testing.T, conn net.Conn, deadline time.Duration) bool {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(deadline)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func TestServerTimeoutsAreSet(t *testing.T) {
	s := NewServer(t)
	for name, cfg := range map[string]*http.Server{"admin": s.admin.Config, "public": s.public.Config} {
		if cfg.ReadHeaderTimeout != readHeaderTimeout || cfg.ReadTimeout != readTimeout || cfg.IdleTimeout != idleTimeout {
			t.Errorf("%s: ReadHeaderTimeout %s, ReadTimeout %s, IdleTimeout %s", name, cfg.ReadHeaderTimeout, cfg.ReadTimeout, cfg.IdleTimeout)
		}
	}
}

func TestSlowRequestHeadersAreCutOff(t *testing.T) {
	s := NewServer(t, shortTimeouts(200*time.Millisecond))
	for _, base := range []string{s.URL, s.PublicURL} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// Headers that never end.
		if _, err := io.WriteString(conn, "GET /health/alive HTTP/1.1\r\nHost: x\r\n"); err != nil {
			t.Fatal(err)
		}
		if !closedWithin(t, conn, 30*time.Second) {
			t.Errorf("%s: a request whose headers never end keeps its connection", base)
		}
	}
}

func TestIdleConnectionsAreClosed(t *testing.T) {
	s := NewServer(t, shortTimeouts(200*time.Millisecond))
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /health/alive HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("keep-alive request: %d, close %v", resp.StatusCode, resp.Close)
	}
	if !closedWithin(t, conn, 30*time.Second) {
		t.Error("an idle keep-alive connection stays open")
	}
}

// startFlow starts a login flow on the public API and returns its id.
func startFlow(t *testing.T, s *Server) string {
	t.Helper()
	resp, body := do(t, http.MethodGet, s.PublicURL+"/self-service/login/api", "")
	var f struct{ ID string }
	if err := json.Unmarshal([]byte(body), &f); err != nil || resp.StatusCode != http.StatusOK || f.ID == "" {
		t.Fatalf("login flow: %d %s", resp.StatusCode, body)
	}
	return f.ID
}

// submitFlow submits credentials to a flow and returns the status.
func submitFlow(t *testing.T, s *Server, flow string) int {
	t.Helper()
	resp, _ := do(t, http.MethodPost, s.PublicURL+"/self-service/login?flow="+flow, `{"method":"password","identifier":"nobody@example.org","password":"x"}`)
	return resp.StatusCode
}

func TestLoginFlowsAreBounded(t *testing.T) {
	s := NewServer(t, WithMaxLoginFlows(3))
	var flows []string
	for range 4 {
		flows = append(flows, startFlow(t, s))
	}
	// The oldest was forgotten for the fourth: 404, as an unknown flow.
	if st := submitFlow(t, s, flows[0]); st != http.StatusNotFound {
		t.Errorf("oldest flow beyond the bound: %d, want 404", st)
	}
	for _, f := range flows[1:] {
		// Still known: wrong credentials are a 400 with the flow.
		if st := submitFlow(t, s, f); st != http.StatusBadRequest {
			t.Errorf("flow within the bound: %d, want 400", st)
		}
	}
	// Many more flows: the server keeps the bound, and its queue of flow
	// ids stays in proportion to it.
	for range 50 {
		startFlow(t, s)
	}
	s.mu.Lock()
	live, queued := len(s.loginFlows.byID), len(s.loginFlows.queue)
	s.mu.Unlock()
	if live != 3 || queued > 2*3 {
		t.Errorf("after 54 flows with a bound of 3: %d live, %d queued", live, queued)
	}
}

func TestExpiredLoginFlowsAreForgotten(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := NewServer(t, WithClock(func() time.Time { return now }))
	old := startFlow(t, s)
	startFlow(t, s)
	now = now.Add(loginFlowLifespan + time.Second)
	if st := submitFlow(t, s, old); st != http.StatusNotFound {
		t.Errorf("expired flow: %d, want 404", st)
	}
	fresh := startFlow(t, s)
	s.mu.Lock()
	live := len(s.loginFlows.byID)
	s.mu.Unlock()
	if live != 1 {
		t.Errorf("%d flows kept after the others expired, want 1 (the new one)", live)
	}
	if st := submitFlow(t, s, fresh); st != http.StatusBadRequest {
		t.Errorf("fresh flow: %d, want 400", st)
	}
}

func TestMaxLoginFlowsMustBePositive(t *testing.T) {
	if _, err := Start(WithMaxLoginFlows(0)); err == nil || !strings.Contains(err.Error(), "WithMaxLoginFlows: 0 is not positive") {
		t.Errorf("WithMaxLoginFlows(0): %v", err)
	}
}

// BenchmarkStartLoginFlow starts login flows on a server already holding
// 30,000 unfinished ones (the figure), through the public
// handler: the time per flow and the heap the flows hold (heap-MB) stay
// flat, whatever the number of flows clients leave behind.
func BenchmarkStartLoginFlow(b *testing.B) {
	s := NewServer(b, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	h := s.public.Config.Handler
	start := func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/self-service/login/api", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("login flow: %d", rec.Code)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 30000 {
		start()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc)) / (1 << 20)
	b.ResetTimer()
	for b.Loop() {
		start()
	}
	b.ReportMetric(heap, "heap-MB")
}
