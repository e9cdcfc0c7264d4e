package kratostest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

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
// path one segment at a time, and an escaped value is neither cleaned (a
// ".." sent as "%2E%2E"; unescaped, serveAdmin redirects it away) nor
// split (a "/" sent as "%2F").
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
// answered: as Kratos v26.2.0 answers them but where noted (routes
// outside the spec, doc.go's known differences).
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
		// Kratos also serves its admin API without the /admin prefix,
		// outside the spec (doc.go, known differences): 200 there.
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

// Every query parameter of the spec is one of three kinds, per operation.
// A parameter added to the spec fails TestFakeReadsEveryQueryParameter
// until the fake handles it and it is listed in one of them.
//
// queryParametersBound: the handler takes the parameter from the
// generated, bound gen.XxxParams. Each has a probe, a query that changes
// the fake's answer (TestBoundQueryParametersReachHandlers checks that it
// does so through the binding alone).
var queryParametersBound = map[string]map[string]string{
	"listIdentities": {
		"ids":                                    "ids=00000000-0000-0000-0000-000000000001",
		"credentials_identifier":                 "credentials_identifier=nobody@example.org",
		"preview_credentials_identifier_similar": "preview_credentials_identifier_similar=nobody",
		"organization_id":                        "organization_id=00000000-0000-0000-0000-000000000002",
		"include_credential":                     "include_credential=password",
	},
	"getIdentity":                   {"include_credential": "include_credential=password"},
	"getIdentityByExternalID":       {"include_credential": "include_credential=password"},
	"deleteIdentityCredentials":     {"identifier": "identifier=github:43"},
	"listSessions":                  {"page_token": "page_token=not-a-token", "expand": "expand=identity"},
	"getSession":                    {"expand": "expand=Identity"},
	"createRecoveryLinkForIdentity": {"return_to": "return_to=https://elsewhere.example/"},
}

// queryParametersRaw: the handler reads the parameter from the query as
// the client sent it, because Kratos' parsing tells apart what the bound
// type cannot; the reason is what it tells apart.
var queryParametersRaw = map[string]map[string]string{
	"listIdentities": {
		"page":       "its presence (any value) picks legacy paging; unparsable is 0",
		"per_page":   "unparsable is the default in legacy paging and Kratos' strconv error in keyset paging",
		"page_size":  "its presence (even empty) picks keyset paging; unparsable is Kratos' strconv error",
		"page_token": "its presence (even empty) picks keyset paging",
	},
	"listIdentitySessions": {
		"page":       "unparsable is the default (migration paging never fails)",
		"per_page":   "unparsable is the default (migration paging never fails)",
		"page_size":  "its presence (even empty) picks token paging; unparsable is the default",
		"page_token": "its presence (even empty) picks token paging",
		"active":     "unparsable is Kratos' 400 'could not parse parameter active', empty is no filter",
	},
	"listSessions": {
		"page_size": "unparsable is Kratos' 400 'could not parse parameter page_size', empty the default",
		"active":    "unparsable is Kratos' 400 'could not parse parameter active', empty is no filter",
	},
	"listIdentitySchemas": {
		"page":       "unparsable is the default (migration paging never fails)",
		"per_page":   "unparsable is the default (migration paging never fails)",
		"page_size":  "its presence (even empty) picks token paging; unparsable is the default",
		"page_token": "its presence (even empty) picks token paging",
	},
}

// queryParametersUnused: accepted and without effect, as on the real
// server, with the reason.
var queryParametersUnused = map[string]map[string]string{
	"listIdentities": {
		"consistency": "one in-memory store is always consistent; Kratos on SQLite answers any value (foo, repeated, empty) with a 200 too",
	},
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
			_, bound := queryParametersBound[op][p]
			raw, isRaw := queryParametersRaw[op][p]
			unused, isUnused := queryParametersUnused[op][p]
			switch n := btoi(bound) + btoi(isRaw) + btoi(isUnused); {
			case n == 0:
				t.Errorf("%s: the spec has query parameter %q; make the fake handle it, taking it from the bound gen params (list it in queryParametersBound with a probe) or, where Kratos' parsing needs the query as sent, reading it raw (list it in queryParametersRaw with the reason)", op, p)
			case n > 1:
				t.Errorf("%s: query parameter %q is listed as more than one kind", op, p)
			case isRaw && raw == "", isUnused && unused == "":
				t.Errorf("%s: query parameter %q is listed without a reason", op, p)
			}
		}
	}
	for name, kind := range map[string]map[string]map[string]string{
		"queryParametersBound":  queryParametersBound,
		"queryParametersRaw":    queryParametersRaw,
		"queryParametersUnused": queryParametersUnused,
	} {
		for op, params := range kind {
			for p := range params {
				if !slices.Contains(inSpec[op], p) {
					t.Errorf("%s: %s lists %q, which the spec does not have", op, name, p)
				}
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestBoundQueryParametersReachHandlers: each parameter of
// queryParametersBound is taken from the generated binding. Its probe is
// sent through the generated routes twice, once as usual and once with
// the handler shown the URL without the probe (as paramError shows it the
// URL the client sent); both answers must be the same, and differ from the
// answer without the probe.
func TestBoundQueryParametersReachHandlers(t *testing.T) {
	v, err := contract.Default()
	if err != nil {
		t.Fatal(err)
	}
	var rc reached
	srv := NewServer(t, rc.option())
	_, b := do(t, http.MethodPost, srv.URL+"/admin/identities", `{"schema_id":"default","traits":{"email":"probe@example.org"},"external_id":"probe-ext",`+
		`"credentials":{"password":{"config":{"password":"probe-password-9183"}},"oidc":{"config":{"providers":[{"provider":"github","subject":"42"}]}}}}`)
	var ident struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(b), &ident); err != nil || ident.ID == "" {
		t.Fatalf("seed identity: %s", b)
	}
	sess, err := srv.CreateSession(ident.ID)
	if err != nil {
		t.Fatal(err)
	}
	pathValues := map[string]string{"externalID": "probe-ext", "type": "oidc"}
	bodies := map[string]string{"createRecoveryLinkForIdentity": `{"identity_id":"00000000-0000-0000-0000-000000000003"}`}
	rc.take()

	serve := func(method, path, query, body string, shown *url.URL) (int, string) {
		t.Helper()
		target := path
		if query != "" {
			target += "?" + query
		}
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if shown != nil {
			req = req.WithContext(context.WithValue(req.Context(), rawURLKey{}, shown))
		}
		w := httptest.NewRecorder()
		srv.routes.ServeHTTP(w, req)
		return w.Code, w.Body.String()
	}
	n := 0
	for path, item := range v.Doc().Paths.Map() {
		for method, op := range item.Operations() {
			for name, probe := range queryParametersBound[op.OperationID] {
				n++
				t.Run(op.OperationID+"/"+name, func(t *testing.T) {
					p := path
					for _, prm := range append(item.Parameters, op.Parameters...) {
						if prm.Value.In != "path" {
							continue
						}
						val, ok := pathValues[prm.Value.Name]
						if !ok {
							val = ident.ID
							if strings.HasPrefix(path, "/admin/sessions/") {
								val = sess.ID
							}
						}
						p = strings.ReplaceAll(p, "{"+prm.Value.Name+"}", url.PathEscape(val))
					}
					body := bodies[op.OperationID]
					withoutStatus, without := serve(method, p, "", body, nil)
					withStatus, with := serve(method, p, probe, body, nil)
					shownStatus, shown := serve(method, p, probe, body, &url.URL{Path: p})
					if r := rc.take(); len(r) != 3 || r[0].Pattern != method+" "+path || r[2].URL.RawQuery != "" {
						t.Fatalf("the requests did not reach %s %s as planned: %v", method, path, r)
					}
					if withStatus == withoutStatus && with == without {
						t.Fatalf("probe %q does not change the answer (%d %s); pick one that does", probe, withStatus, with)
					}
					if shownStatus != withStatus || shown != with {
						t.Errorf("probe %q: %d %s through the binding alone, %d %s as sent; the handler reads %s from the query, not from the bound params", probe, shownStatus, shown, withStatus, with, name)
					}
					// Kratos reads the first of repeated values (seen on
					// ../shared/kratos for credentials_identifier and
					// return_to); the binding refuses repeated values of a
					// single-valued parameter, and paramError binds the first.
					if !slices.ContainsFunc(append(item.Parameters, op.Parameters...), func(prm *openapi3.ParameterRef) bool {
						return prm.Value.Name == name && prm.Value.Schema.Value.Type.Is(openapi3.TypeArray)
					}) {
						repeated := probe + "&" + name + "="
						if st, b := serve(method, p, repeated, body, &url.URL{Path: p}); st != withStatus || b != with {
							t.Errorf("%q: %d %s, want the answer to %q (the first value): %d %s", repeated, st, b, probe, withStatus, with)
						}
						rc.take()
					}
				})
			}
		}
	}
	if want := countBound(); n != want {
		t.Errorf("probed %d parameters, queryParametersBound has %d", n, want)
	}
}

func countBound() int {
	n := 0
	for _, params := range queryParametersBound {
		n += len(params)
	}
	return n
}
