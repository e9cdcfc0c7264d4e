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

// TestNewErrorsHideURLCredentials: New refuses a base URL with credentials
// in it (user information, query, fragment), and its error does not repeat
// them, whether the URL parses or
// not (url.Parse's own error repeats the URL; URL.Redacted keeps a user
// name, which may be a token).
func TestNewErrorsHideURLCredentials(t *testing.T) {
	for raw, want := range map[string]string{
		"http://admin:" + testToken + "@127.0.0.1:4434":  `kratos: New: URL "http://[REDACTED]@127.0.0.1:4434": put credentials in WithBearerToken, not in the URL`,
		"https://" + testToken + "@project.oryapis.com/": `kratos: New: URL "https://[REDACTED]@project.oryapis.com/": put credentials in WithBearerToken, not in the URL`,
		"http://admin:" + testToken + "@kratos admin/":   `kratos: New: invalid URL "http://[REDACTED]@kratos admin/": invalid character " " in host name`,
		"http://a:" + testToken + "@[::1/":               `kratos: New: invalid URL "http://[REDACTED]@[::1/": missing ']' in host`,
		"ftp://admin:" + testToken + "@host/":            `kratos: New: URL "ftp://[REDACTED]@host/": scheme must be http or https`,
		"admin:" + testToken + "@host":                   `kratos: New: URL "[REDACTED]@host": scheme must be http or https (like http://127.0.0.1:4434)`,
		"http://u:p/" + testToken + "@host/?q=a@b":       `kratos: New: invalid URL "http://[REDACTED]@host/?[REDACTED]": invalid port ":p" after host`,
		"http://127.0.0.1:4434/?email=alice@example.org": `kratos: New: URL "http://127.0.0.1:4434/?[REDACTED]" must not have a query or fragment`,
		// A credential in the query or the fragment is not repeated either.
		"https://kratos.example/?access_token=" + testToken: `kratos: New: URL "https://kratos.example/?[REDACTED]" must not have a query or fragment`,
		"https://kratos.example/#token=" + testToken:        `kratos: New: URL "https://kratos.example/#[REDACTED]" must not have a query or fragment`,
	} {
		_, err := client.New(raw)
		if err == nil || err.Error() != want {
			t.Errorf("New(%q) error\n%v\nwant\n%s", raw, err, want)
		}
	}
}
