package client_test

// Regression tests for bugs found by the fault, secret and fuzz suites.

import (
	"net/http"
	"net/url"
	"testing"
	"time"
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
