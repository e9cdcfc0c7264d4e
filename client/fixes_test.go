package client_test

// Regression tests for bugs found by the fault, secret and fuzz suites.

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// TestDoRequestWithoutHeader: Do accepts a request built by hand without a
// Header map, as http.Client does, instead of panicking.
func TestDoRequestWithoutHeader(t *testing.T) {
	var got http.Header
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv.URL)
	u, _ := url.Parse(srv.URL + "/admin/identities")
	req := (&http.Request{Method: http.MethodGet, URL: u}).WithContext(ctxTimeout(t, 5*time.Second))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("Authorization") != "Bearer "+testToken || got.Get("User-Agent") == "" || req.Header != nil {
		t.Errorf("server saw %v; caller's request header %v", got, req.Header)
	}
}

// TestClientValueDoesNotPrintToken: a Client value (not a pointer), or a
// struct holding one, printed with a verb other than %v used to print the
// config it points to field by field, the token included.
func TestClientValueDoesNotPrintToken(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:4434")
	type app struct {
		name string
		kc   client.Client
	}
	for _, format := range []string{"%s", "%q", "%x", "%d", "%v", "%+v", "%#v"} {
		for _, v := range []any{*c, app{"a", *c}, &app{"a", *c}} {
			if s := fmt.Sprintf(format, v); strings.Contains(s, testToken) || strings.Contains(s, hex.EncodeToString([]byte(testToken))) {
				t.Errorf("Sprintf(%q, %T) shows the token: %s", format, v, s)
			}
		}
	}
}
