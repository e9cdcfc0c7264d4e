package kratostest

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// captureTB records errors instead of failing the test.
type captureTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (c *captureTB) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errors = append(c.errors, fmt.Sprintf(format, args...))
}

func (c *captureTB) Logf(string, ...any) {}
func (c *captureTB) Helper()             {}

// brokenAnswer stands for a bug of the fake: an identity without most of
// its required fields.
var brokenAnswer = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"id": "9f7b2c3e-1111-4222-8333-444455556666"})
})

func serveBroken(s *Server) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.validating(brokenAnswer).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin/identities/9f7b2c3e-1111-4222-8333-444455556666", nil))
	return rec
}

func TestFakeAnswerOutsideTheSpecFailsTheTest(t *testing.T) {
	tb := &captureTB{TB: t}
	s, err := newServer(tb, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := serveBroken(s)
	if len(tb.errors) != 1 || !strings.Contains(tb.errors[0], "getIdentity response 200") || !strings.Contains(tb.errors[0], "a bug in kratostest") {
		t.Fatalf("errors %q", tb.errors)
	}
	if rec.Code != http.StatusOK {
		t.Errorf("the test sees the fake's own answer, got %d", rec.Code)
	}
	// Once the test is over, reports go to the logger instead of t.
	s.rep.logger = slog.New(slog.DiscardHandler)
	s.rep.end()
	serveBroken(s)
	if len(tb.errors) != 1 {
		t.Errorf("reported to an ended test: %q", tb.errors)
	}
}

func TestFakeAnswerOutsideTheSpecIsA500WithoutATest(t *testing.T) {
	var logs bytes.Buffer
	s, err := newServer(nil, []Option{WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := serveBroken(s)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "broke the API spec") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "getIdentity response 200") {
		t.Errorf("logs %q", logs.String())
	}
}

func TestBadGeneratedIDIsReported(t *testing.T) {
	tb := &captureTB{TB: t}
	s, err := newServer(tb, []Option{WithIDGenerator(func(string) string { return "nope" })})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if id := s.newID(IDKindIdentity); len(id) != 36 {
		t.Errorf("fallback id %q", id)
	}
	if len(tb.errors) != 1 || !strings.Contains(tb.errors[0], `WithIDGenerator returned "nope"`) {
		t.Errorf("errors %q", tb.errors)
	}
}

func TestParseUUIDMessages(t *testing.T) {
	for in, want := range map[string]string{
		"not-a-uuid":                                    `uuid: incorrect UUID length 10 in string "not-a-uuid"`,
		"9f7b2c3e-1111-4222-8333-44445555666g":          `uuid: incorrect UUID format in string "9f7b2c3e-1111-4222-8333-44445555666g"`,
		"9F7B2C3E-1111-4222-8333-444455556666":          "9f7b2c3e-1111-4222-8333-444455556666",
		"{9f7b2c3e-1111-4222-8333-444455556666}":        "9f7b2c3e-1111-4222-8333-444455556666",
		"urn:uuid:9f7b2c3e-1111-4222-8333-444455556666": "9f7b2c3e-1111-4222-8333-444455556666",
		"9f7b2c3e111142228333444455556666":              "9f7b2c3e-1111-4222-8333-444455556666",
	} {
		got, err := parseUUID(in)
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
