package kratostest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Fixtures and request helpers shared by the package's external tests.

func traits(email string, extra ...string) json.RawMessage {
	if len(extra) == 2 {
		return json.RawMessage(fmt.Sprintf(`{"email":%q,"name":{"first":%q,"last":%q}}`, email, extra[0], extra[1]))
	}
	return json.RawMessage(fmt.Sprintf(`{"email":%q}`, email))
}

func withPassword(pw string) client.IdentityWithCredentials {
	return client.IdentityWithCredentials{Password: client.ImportPasswordCredentials{Config: client.ImportPasswordConfig{Password: pw}}}
}

// createRaw creates an identity with body and returns its id.
func createRaw(t *testing.T, srv *kratostest.Server, body string) string {
	t.Helper()
	st, _, b := send(t, http.MethodPost, srv.URL+"/admin/identities", body)
	if st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, b)
	}
	var i struct{ ID string }
	if err := json.Unmarshal([]byte(b), &i); err != nil || i.ID == "" {
		t.Fatalf("create: %v %s", err, b)
	}
	return i.ID
}

// send makes a raw request and returns the status, headers and body.
func send(t *testing.T, method, u, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k := 0; k+1 < len(header); k += 2 {
		req.Header.Set(header[k], header[k+1])
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func mustCreate(t *testing.T, c *client.Client, email string) *client.Identity {
	t.Helper()
	i, err := c.Identities.Create(t.Context(), &client.CreateIdentityBody{SchemaID: "default", Traits: traits(email), Credentials: withPassword(password)})
	if err != nil {
		t.Fatal(err)
	}
	return i
}
