package kratostest

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/internal/contract"
)

// controlEndpoints are the control API's routes (control.go).
var controlEndpoints = []struct{ method, path string }{
	{"POST", "/_fake/reset"},
	{"GET", "/_fake/requests"}, {"DELETE", "/_fake/requests"},
	{"GET", "/_fake/faults"}, {"POST", "/_fake/faults"}, {"DELETE", "/_fake/faults"},
	{"POST", "/_fake/sessions"},
}

// TestControlPrefixNeverCollides: no path of the spec is under /_fake/,
// and the spec's router routes none of the control endpoints (with or
// without a base path), so the control API can never hide an operation.
func TestControlPrefixNeverCollides(t *testing.T) {
	v, err := contract.Default()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for p := range v.Doc().Paths.Map() {
		n++
		if strings.HasPrefix(p, strings.TrimSuffix(controlPrefix, "/")) {
			t.Errorf("the spec has %s, under the control API's prefix", p)
		}
	}
	if n < 10 {
		t.Fatalf("the spec has %d paths", n)
	}
	for _, e := range controlEndpoints {
		for _, prefix := range []string{"", "/admin"} {
			req := httptest.NewRequest(e.method, "http://127.0.0.1"+prefix+e.path, nil)
			if x, err := v.Route(req); err == nil {
				t.Errorf("%s %s%s routes to the spec's %s", e.method, prefix, e.path, x.OperationID())
			}
		}
	}
	// And the fake's own router (the spec's operations) does not know them.
	s := NewServer(t)
	for _, e := range controlEndpoints {
		req := httptest.NewRequest(e.method, "http://127.0.0.1"+e.path, nil)
		rec := httptest.NewRecorder()
		s.routes.ServeHTTP(rec, req)
		if rec.Code != 404 {
			t.Errorf("%s %s reaches the operations' router: %d", e.method, e.path, rec.Code)
		}
	}
}

func TestFaultPathPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"/admin/identities", "/admin/identities", true},
		{"/admin/identities", "/admin/identities/x", false},
		{"/admin/identities/*", "/admin/identities/x", true},
		{"/admin/identities/*", "/admin/identities", false},
		{"/admin/identities/*", "/admin/identities/x/sessions", false},
		{"/admin/identities/*/sessions", "/admin/identities/x/sessions", true},
		{"/admin/**", "/admin", true},
		{"/admin/**", "/admin/sessions/x/extend", true},
		{"/admin/**", "/health/alive", false},
		{"/**", "/anything/at/all", true},
		{"/admin/identities/by/external/a*", "/admin/identities/by/external/abc", true},
		{"/admin/identities/by/external/*", "/admin/identities/by/external/a%2Fb", true},
		{"/admin/**/sessions", "/admin/x/sessions", true}, // not last: one segment, as "*"
		{"/admin/**/sessions", "/admin/x/y/sessions", false},
	} {
		if got := matchPath(tc.pattern, tc.path); got != tc.want {
			t.Errorf("matchPath(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}
