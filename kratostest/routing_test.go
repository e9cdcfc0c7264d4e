package kratostest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Routing as Kratos' router does it: schema redirects, HEAD on GET routes.

// Seen on Kratos v26.2.0: HEAD is answered on every GET route, like the
// GET without body and without Cache-Control, and a 405 lists HEAD with
// GET, methods in alphabetical order.
func TestHeadOnGetRoutes(t *testing.T) {
	srv := kratostest.NewServer(t)
	for _, url := range []string{srv.URL + "/admin/identities", srv.URL + "/admin/sessions", srv.URL + "/health/alive", srv.PublicURL + "/schemas", srv.PublicURL + "/schemas/default"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("Cache-Control") != "" || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("HEAD %s: %d %v %q", url, resp.StatusCode, resp.Header, b)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, srv.URL+"/admin/identities", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Link"), `rel="first"`) {
		t.Errorf("HEAD /admin/identities: Link %q", resp.Header.Get("Link"))
	}
	for _, tc := range []struct{ method, url, allow string }{
		{http.MethodPut, srv.URL + "/admin/identities", "GET, HEAD, PATCH, POST"},
		{http.MethodPost, srv.URL + "/admin/identities/9f7b2c3e-1111-4222-8333-444455556666", "DELETE, GET, HEAD, PATCH, PUT"},
		{http.MethodPost, srv.URL + "/health/alive", "GET, HEAD"},
		{http.MethodDelete, srv.PublicURL + "/self-service/login/api", "GET, HEAD"},
		{http.MethodPut, srv.URL + "/admin/recovery/code", "POST"},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), tc.method, tc.url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", tc.method, tc.url, resp.StatusCode, resp.Header.Get("Allow"), tc.allow)
		}
	}
}

func TestSchemaRedirects(t *testing.T) {
	srv := kratostest.NewServer(t)
	for path, want := range map[string]string{
		"/schemas?page_size=1":      "/schemas?page_size=1",
		"/schemas/default":          "/schemas/default",
		"/admin/schemas":            "/schemas",
		"/admin/schemas/ZGVmYXVsdA": "/schemas/ZGVmYXVsdA",
	} {
		status, h, body := send(t, http.MethodGet, srv.URL+path, "")
		if status != 307 || h.Get("Location") != srv.PublicURL+want || h.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("%s: %d Location %q %q", path, status, h.Get("Location"), body)
		}
	}
	if status, _, _ := send(t, http.MethodPost, srv.URL+"/schemas", "{}"); status != 405 {
		t.Errorf("POST /schemas: %d", status)
	}
	// The client follows the redirect when it has no public URL.
	c, _ := client.New(srv.URL)
	if _, err := c.Schemas.Get(t.Context(), "default"); err != nil {
		t.Errorf("through the redirect: %v", err)
	}
}
