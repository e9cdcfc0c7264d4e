package recorder_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/internal/exchange"
	"github.com/kratosadmin/sdk/internal/recorder"
)

// TestRecorderWritesLoadableExchanges records against a local server and
// checks that the files are what package exchange loads and replays: the
// bytes sent (JSON, text, a null body), the answer's status, headers
// (without Date) and body in the server's key order, numbering after the
// files already there.
func TestRecorderWritesLoadableExchanges(t *testing.T) {
	var got [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, b)
		switch r.URL.Path {
		case "/admin/identities":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Link", `</admin/identities?page_size=1>; rel="first"`)
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"z":1,"a":{"y":null,"b":[]},"html":"<&>"}`+"\n")
		default:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "404 page not found\n")
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "007-getIdentity-old.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := recorder.New(srv.URL, srv.URL, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	calls := []recorder.Call{
		{Op: "createIdentity", Case: "JSON body, odd case!", Method: http.MethodPost, Path: "/admin/identities", Query: "a=1&a=2",
			Body: map[string]any{"traits": map[string]string{"email": "jörg@example.org"}}},
		{Op: "updateIdentity", Case: "text", Method: http.MethodPut, Path: "/admin/identities/x%2Fy", Body: recorder.Raw(`{"a":`)},
		{Op: "updateIdentity", Case: "null", Method: http.MethodPut, Path: "/nowhere", Body: recorder.Raw("null")},
	}
	for _, c := range calls {
		if _, err := r.Do(c); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"008-createIdentity-json-body-odd-case.json", "009-updateIdentity-text.json", "010-updateIdentity-null.json"}
	if len(r.Written) != len(want) {
		t.Fatalf("wrote %v", r.Written)
	}
	for k, name := range want {
		if r.Written[k] != name {
			t.Errorf("file %d is %s, want %s", k, r.Written[k], name)
		}
	}
	xs := make([]*exchange.Exchange, len(want))
	for k, name := range want {
		if xs[k], err = exchange.Load(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// What the replay sends is what was sent.
	for k, x := range xs {
		if b := x.RequestBody(); !bytes.Equal(b, got[k]) {
			t.Errorf("%s: replays body %q, sent %q", x.Name(), b, got[k])
		}
	}
	x := xs[0]
	if x.Operation != "createIdentity" || x.Response.Status != 201 || x.Request.RawQuery != "a=1&a=2" || len(x.Request.Query["a"]) != 2 {
		t.Errorf("recorded %+v", x)
	}
	if _, ok := x.Response.Headers["Date"]; ok {
		t.Error("Date recorded")
	}
	if x.Response.Headers["Link"] != `</admin/identities?page_size=1>; rel="first"` {
		t.Errorf("Link %q", x.Response.Headers["Link"])
	}
	if b := string(x.ResponseBody()); b != `{"z":1,"a":{"y":null,"b":[]},"html":"<&>"}` {
		t.Errorf("response body %s: not the server's bytes (order, escaping)", b)
	}
	if xs[1].Request.Path != "/admin/identities/x%2Fy" || !xs[1].Request.BodyIsText {
		t.Errorf("text request recorded as %+v", xs[1].Request)
	}
	if !xs[2].Request.BodyIsText || !xs[2].Response.BodyIsText || string(xs[2].ResponseBody()) != "404 page not found\n" {
		t.Errorf("null request / text answer recorded as %+v", xs[2])
	}
}

// TestRedact: what Redact replaces (session tokens, cookies, CSRF tokens,
// recovery and lookup codes, link tokens) and what it keeps (error codes,
// page tokens, an empty CSRF field, layout).
func TestRedact(t *testing.T) {
	in := `{
  "request": {
    "headers": {
      "Authorization": "Bearer ory_pat_x",
      "Cookie": "ory_kratos_session=abc"
    }
  },
  "response": {
    "headers": {
      "Link": "</admin/identities?page_size=1&page_token=abc>; rel=\"next\"",
      "Set-Cookie": "csrf_token_806060=19yarPkh+5ie8=; Path=/; HttpOnly"
    },
    "body": {
      "session_token": "ory_st_yoOcpp9OXEkyIt6bhcuYL3vM4z8UWI0z",
      "recovery_code": "256906",
      "recovery_link": "http://127.0.0.1:4433/self-service/recovery?flow=c0ceeefc&token=OG5NVmhwXJr1b4Cowe",
      "error": {"code": 400},
      "recovery_codes": [{"code": "abcd1234"}],
      "nodes": [{"attributes": {"name": "csrf_token", "type": "hidden", "value": "c2VjcmV0"}},
                {"attributes": {"name": "csrf_token", "type": "hidden", "value": ""}}]
    }
  }
}`
	got := string(recorder.Redact([]byte(in)))
	for _, secret := range []string{"ory_pat_x", "ory_kratos_session=abc", "19yarPkh", "ory_st_", "256906", "OG5NVmhw", "abcd1234", "c2VjcmV0"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q kept:\n%s", secret, got)
		}
	}
	for _, kept := range []string{`"code": 400`, `page_token=abc`, `"value": ""`, `flow=c0ceeefc&token=REDACTED"`, `"session_token": "[REDACTED]"`} {
		if !strings.Contains(got, kept) {
			t.Errorf("%q lost:\n%s", kept, got)
		}
	}
	if string(recorder.Redact([]byte(got))) != got {
		t.Error("Redact is not idempotent")
	}
}

// TestRecordedExchangesAreRedacted re-checks every saved exchange (those of
// each release too): none
// keeps a session token, cookie, CSRF token or code (Redact would change
// it), and each still loads.
func TestRecordedExchangesAreRedacted(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(exchange.Dir(), "[0-9][0-9][0-9]-*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no exchanges: %v", err)
	}
	// And each release's recordings (testdata/exchanges/<release>/).
	more, err := filepath.Glob(filepath.Join(exchange.Dir(), "v*", "[0-9][0-9][0-9]-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	names = append(names, more...)
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(recorder.Redact(b), b) {
			t.Errorf("%s keeps a secret Redact removes", filepath.Base(name))
		}
		if _, err := exchange.Load(name); err != nil {
			t.Errorf("%s: %v", filepath.Base(name), err)
		}
	}
}

// TestRecorderRedactsWhatItSaves: a recorded login answer keeps its session
// token in the script's Result and not in the file.
func TestRecorderRedactsWhatItSaves(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "csrf_token_1=s3cr3t; Path=/")
		_, _ = io.WriteString(w, `{"session_token":"ory_st_SECRET","session":{"id":"x"}}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	r, err := recorder.New(srv.URL, srv.URL, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Do(recorder.Call{Op: "updateLoginFlow", Case: "x", Method: http.MethodPost, Public: true, Path: "/self-service/login", Body: map[string]string{"method": "password"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Str("session_token") != "ory_st_SECRET" {
		t.Fatalf("the script lost the token: %s", res.Body)
	}
	b, err := os.ReadFile(filepath.Join(dir, res.File))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "SECRET") || strings.Contains(string(b), "s3cr3t") {
		t.Fatalf("the file keeps a secret:\n%s", b)
	}
}
