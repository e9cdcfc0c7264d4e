package kratostest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kratosadmin/sdk/internal/contract"
)

// reached records the requests that got through the generated binding
// to an operation (config.onOperation).
type reached struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rc *reached) option() Option {
	return func(c *config) {
		c.onOperation = func(r *http.Request) {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			rc.reqs = append(rc.reqs, r)
		}
	}
}

// take returns and forgets the recorded requests.
func (rc *reached) take() []*http.Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	r := rc.reqs
	rc.reqs = nil
	return r
}

func do(t *testing.T, method, rawURL, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestEveryOperationGoesThroughTheGeneratedServer sends a request for
// every operation of the spec and checks that it reached the fake through
// the generated wrapper of that operation (the only place the middleware
// behind onOperation runs), with the route the spec gives it.
func TestEveryOperationGoesThroughTheGeneratedServer(t *testing.T) {
	v, err := contract.Default()
	if err != nil {
		t.Fatal(err)
	}
	var rc reached
	srv := NewServer(t, rc.option())
	const id = "5a1c0b9e-3c1f-4b6e-9d3a-0e2f4c6b8a10"
	n := 0
	for path, item := range v.Doc().Paths.Map() {
		for method, op := range item.Operations() {
			n++
			t.Run(op.OperationID, func(t *testing.T) {
				base := srv.URL
				if op.Security != nil && len(*op.Security) == 0 {
					base = srv.PublicURL // the schema endpoints, served without auth
				}
				p := path
				for _, prm := range append(item.Parameters, op.Parameters...) {
					if prm.Value.In != "path" {
						continue
					}
					val := id
					if prm.Value.Name == "type" {
						val = "password"
					}
					p = strings.ReplaceAll(p, "{"+prm.Value.Name+"}", val)
				}
				body := ""
				if op.RequestBody != nil {
					body = "{}"
				}
				resp, _ := do(t, method, base+p, body)
				got := rc.take()
				if len(got) != 1 {
					t.Fatalf("%s %s (answered %d) reached %d operations through the generated server, want 1", method, p, resp.StatusCode, len(got))
				}
				if want := method + " " + path; got[0].Pattern != want {
					t.Errorf("reached %q, want %q", got[0].Pattern, want)
				}
			})
		}
	}
	if n < 19 {
		t.Errorf("the spec has %d operations, want at least 19", n)
	}
}

// TestPathValuesReachHandlers: path parameters are bound from the escaped
// path one segment at a time, as the hand-written router did, and are not
// cleaned ("..") or split (an escaped "/").
func TestPathValuesReachHandlers(t *testing.T) {
	var rc reached
	srv := NewServer(t, rc.option())
	for k, ext := range []string{"a/b", "..", ".", "café", "%2F", "a b", "x?y#z", "a,b;c=d", `"'<>`} {
		body := fmt.Sprintf(`{"schema_id":"default","traits":{"email":"p%d@example.org"},"external_id":%q}`, k, ext)
		resp, b := do(t, http.MethodPost, srv.URL+"/admin/identities", body)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create %q: %d %s", ext, resp.StatusCode, b)
		}
		var created struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(b), &created); err != nil {
			t.Fatal(err)
		}
		rc.take()
		// A value that is exactly "." or ".." goes with its dots escaped,
		// as Kratos serves it (recording 468); unescaped, it is a dot
		// segment the router cleans.
		seg := url.PathEscape(ext)
		if ext == "." || ext == ".." {
			seg = strings.ReplaceAll(ext, ".", "%2E")
		}
		resp, b = do(t, http.MethodGet, srv.URL+"/admin/identities/by/external/"+seg, "")
		var got struct {
			ID         string `json:"id"`
			ExternalID string `json:"external_id"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(b), &got) != nil || got.ID != created.ID || got.ExternalID != ext {
			t.Errorf("external id %q: %d %s, want identity %s", ext, resp.StatusCode, b, created.ID)
		}
		if r := rc.take(); len(r) != 1 || r[0].PathValue("externalID") != ext {
			t.Errorf("external id %q: the operation saw %v", ext, r)
		}
	}
}

// TestRefusedQueryParameters: where the generated binding refuses a query
// parameter, the operation still answers as Kratos does, having read the
// query the client sent.
func TestRefusedQueryParameters(t *testing.T) {
	var rc reached
	srv := NewServer(t, rc.option())
	const id = "00000000-0000-0000-0000-000000000001"
	for _, tc := range []struct {
		base, path string
		status     int
		body       string // a substring of the answer
	}{
		{srv.URL, "/admin/identities?page_size=abc", 400, `"reason":"strconv.Atoi: parsing \"abc\": invalid syntax"`},
		{srv.URL, "/admin/identities?per_page=abc", 400, `"reason":"strconv.Atoi: parsing \"abc\": invalid syntax"`},
		{srv.URL, "/admin/identities?per_page=abc&page=1", 200, "[]"},
		{srv.URL, "/admin/identities?page=abc&page_size=2", 200, "[]"},
		{srv.URL, "/admin/identities?credentials_identifier=a&credentials_identifier=b", 200, "[]"},
		{srv.URL, "/admin/sessions?page_size=abc", 400, `"message":"could not parse parameter page_size"`},
		{srv.URL, "/admin/sessions?page_size=", 200, "[]"},
		{srv.URL, "/admin/sessions?active=abc&page_size=x", 400, `"message":"could not parse parameter active"`},
		{srv.URL, "/admin/sessions?active=", 200, "[]"},
		{srv.URL, "/admin/sessions?active=true&active=false", 200, "[]"},
		{srv.URL, "/admin/identities/" + id + "/sessions?page_size=abc&per_page=1.5", 200, "[]"},
		{srv.URL, "/admin/identities/" + id + "/sessions?active=abc", 400, `"message":"could not parse parameter active"`},
		{srv.URL, "/admin/identities/" + id + "/credentials/password?identifier=a&identifier=b", 404, `"code":404`},
		{srv.PublicURL, "/schemas?page_size=abc&page=-", 200, `"id":"default"`},
	} {
		resp, b := do(t, http.MethodGet, tc.base+tc.path, "")
		if strings.Contains(tc.path, "/credentials/") {
			resp, b = do(t, http.MethodDelete, tc.base+tc.path, "")
		}
		if resp.StatusCode != tc.status || !strings.Contains(b, tc.body) {
			t.Errorf("%s: %d %s, want %d with %s", tc.path, resp.StatusCode, b, tc.status, tc.body)
		}
		r := rc.take()
		if len(r) != 1 || r[0].URL.RawQuery != strings.SplitN(tc.path, "?", 2)[1] {
			t.Errorf("%s: the operation saw %v, want the query as sent", tc.path, r)
		}
	}
}

// TestRouting pins how paths and methods that are not an operation are
// answered (the hand-written router's answers; the real server's where
// noted).
func TestRouting(t *testing.T) {
	var rc reached
	srv := NewServer(t, rc.option())
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"PUT", "/admin/identities", 405, "GET, HEAD, PATCH, POST"},
		{"POST", "/admin/identities/x", 405, "DELETE, GET, HEAD, PATCH, PUT"},
		{"DELETE", "/admin/identities/by/external/x", 405, "GET, HEAD"},
		{"GET", "/admin/identities/x/credentials/password", 405, "DELETE"},
		{"GET", "/admin/identities/by/credentials/x", 405, "DELETE"},
		// Kratos also has a DELETE /admin/sessions, outside the spec
		// (doc.go, known differences): "DELETE, GET, HEAD" there.
		{"POST", "/admin/sessions", 405, "GET, HEAD"},
		{"PUT", "/admin/sessions/x", 405, "DELETE, GET, HEAD"},
		{"GET", "/admin/sessions/x/extend", 405, "PATCH"},
		{"GET", "/admin/recovery/code", 405, "POST"},
		{"GET", "/admin/recovery/foo", 404, ""},
		{"GET", "/admin/unknown", 404, ""},
		{"GET", "/admin", 404, ""},
		{"GET", "/identities", 404, ""},
		{"GET", "/admin/identities/by/external/a/b", 404, ""},
		// An empty segment is no operation's (the real server: 404 or a
		// redirect to the cleaned path).
		{"GET", "/admin/identities/", 404, ""},
		{"GET", "/admin/identities/by/external/", 404, ""},
		{"GET", "/admin/sessions/", 404, ""},
		{"DELETE", "/admin/identities/x/credentials/", 404, ""},
		{"GET", "/admin/identities/x/sessions/", 404, ""},
	} {
		resp, b := do(t, tc.method, srv.URL+tc.path, "")
		if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s %s: %d Allow %q %s, want %d Allow %q (text/plain)", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), b, tc.status, tc.allow)
		}
		if r := rc.take(); len(r) != 0 {
			t.Errorf("%s %s reached an operation", tc.method, tc.path)
		}
	}
	// An empty segment between two others is cleaned with a 307, as the
	// real server does, before any operation is reached.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := noFollow.Get(srv.URL + "/admin/identities//sessions")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusTemporaryRedirect || r.Header.Get("Location") != "/admin/identities/sessions" {
		t.Errorf("GET /admin/identities//sessions: %d Location %q, want 307 to /admin/identities/sessions", r.StatusCode, r.Header.Get("Location"))
	}
	if r := rc.take(); len(r) != 0 {
		t.Errorf("GET /admin/identities//sessions reached an operation")
	}
	resp, _ := do(t, http.MethodGet, srv.PublicURL+"/schemas/", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("public GET /schemas/: %d, want 404", resp.StatusCode)
	}
}

// TestRouterAllowOrder: Allow lists every method of the path, HEAD with
// GET, in alphabetical order (as Kratos v26.2.0 does).
func TestRouterAllowOrder(t *testing.T) {
	rt := &router{byPattern: map[string]http.HandlerFunc{}}
	for _, m := range []string{"QUERY", "DELETE", "GET"} {
		rt.HandleFunc(m+" /a/{x}", func(http.ResponseWriter, *http.Request) {})
	}
	w := &recorder{header: http.Header{}}
	req, _ := http.NewRequest(http.MethodPost, "/a/1", nil)
	rt.ServeHTTP(w, req)
	allow := strings.Split(w.header.Get("Allow"), ", ")
	if w.status != http.StatusMethodNotAllowed || strings.Join(allow, ",") != "DELETE,GET,HEAD,QUERY" {
		t.Errorf("got %d Allow %q", w.status, w.header.Get("Allow"))
	}
}

// queryParametersRead lists, per operation, the query parameters the
// fake's handler reads (they read the query themselves, as Kratos does).
// A parameter added to the spec fails TestFakeReadsEveryQueryParameter
// until the fake handles it and it is added here.
var queryParametersRead = map[string][]string{
	"listIdentities": {"per_page", "page", "page_size", "page_token", "ids", "credentials_identifier",
		"preview_credentials_identifier_similar", "include_credential", "organization_id",
		"consistency"}, // consistency: accepted, no effect (see the package doc)
	"getIdentity":                   {"include_credential"},
	"getIdentityByExternalID":       {"include_credential"},
	"deleteIdentityCredentials":     {"identifier"},
	"listIdentitySessions":          {"per_page", "page", "page_size", "page_token", "active"},
	"listSessions":                  {"page_size", "page_token", "active", "expand"},
	"getSession":                    {"expand"},
	"createRecoveryLinkForIdentity": {"return_to"},
	"listIdentitySchemas":           {"per_page", "page", "page_size", "page_token"},
}

func TestFakeReadsEveryQueryParameter(t *testing.T) {
	v, err := contract.Default()
	if err != nil {
		t.Fatal(err)
	}
	inSpec := map[string][]string{}
	for _, item := range v.Doc().Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range append(item.Parameters, op.Parameters...) {
				if p.Value.In == "query" {
					inSpec[op.OperationID] = append(inSpec[op.OperationID], p.Value.Name)
				}
			}
		}
	}
	for op, params := range inSpec {
		for _, p := range params {
			if !slices.Contains(queryParametersRead[op], p) {
				t.Errorf("%s: the spec has query parameter %q; make the fake handle it, then list it in queryParametersRead", op, p)
			}
		}
	}
	for op, params := range queryParametersRead {
		for _, p := range params {
			if !slices.Contains(inSpec[op], p) {
				t.Errorf("%s: queryParametersRead lists %q, which the spec does not have", op, p)
			}
		}
	}
}
