package kratostest_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// violations collects what a ValidatingTransport reports.
type violations struct {
	mu   sync.Mutex
	errs []error
}

func (v *violations) report(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, err)
}

func (v *violations) all() []error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]error(nil), v.errs...)
}

// drifted is a server that answers outside the spec, as a future Kratos
// might: an identity without its required fields.
func drifted(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"9f7b2c3e-1111-4222-8333-444455556666","traits":{"email":"x@example.org"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestValidatingTransportReportsDrift(t *testing.T) {
	srv := drifted(t)
	var v violations
	c, err := client.New(srv.URL, client.WithHTTPClient(&http.Client{Transport: kratostest.NewValidatingTransport(nil, v.report)}))
	if err != nil {
		t.Fatal(err)
	}
	i, err := c.Identities.Get(t.Context(), "9f7b2c3e-1111-4222-8333-444455556666", nil)
	if err != nil {
		t.Fatalf("the transport must not change what the client sees: %v", err)
	}
	if string(i.Traits) != `{"email":"x@example.org"}` {
		t.Errorf("traits %s", i.Traits)
	}
	errs := v.all()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "spec violation in getIdentity response 200 to GET /admin/identities/") ||
		!strings.Contains(errs[0].Error(), "schema_id") {
		t.Fatalf("violations %v", errs)
	}
}

func TestValidatingTransportReportsBadRequests(t *testing.T) {
	fake := kratostest.NewServer(t)
	var v violations
	hc := &http.Client{Transport: kratostest.NewValidatingTransport(nil, v.report)}
	for _, path := range []string{"/admin/identities?include_credential=bogus", "/admin/nowhere"} {
		resp, err := hc.Get(fake.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	errs := v.all()
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), `spec violation in listIdentities request`) ||
		!strings.Contains(errs[1].Error(), "endpoint the spec does not have") {
		t.Fatalf("violations %v", errs)
	}
}

// TestValidatingTransportKeepsBodies compares what a client sees with and
// without the transport, for a body with GetBody (from the SDK) and one
// without (a plain reader).
func TestValidatingTransportKeepsBodies(t *testing.T) {
	fake := kratostest.NewServer(t)
	var v violations
	via := &http.Client{Transport: kratostest.NewValidatingTransport(http.DefaultTransport, v.report)}
	for k, body := range []string{
		`{"schema_id":"default","traits":{"email":"one@example.org"}}`,
		`{"schema_id":"default","traits":{"email":"two@example.org"},"metadata_public":{"x":"` + strings.Repeat("y", 50000) + `"}}`,
	} {
		var r io.Reader = strings.NewReader(body)
		if k == 1 {
			r = io.MultiReader(r) // hides the length: no GetBody
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, fake.URL+"/admin/identities", r)
		req.Header.Set("Content-Type", "application/json")
		resp, err := via.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 || !bytes.Contains(got, []byte(`"metadata_public"`)) {
			t.Fatalf("%d %s", resp.StatusCode, got)
		}
		if k == 1 && !bytes.Contains(got, []byte(strings.Repeat("y", 50000))) {
			t.Error("the request body did not arrive whole")
		}
		if resp.Request != req {
			t.Error("resp.Request is not the caller's request")
		}
	}
	// Over MaxBodyBytes, the response passes unchecked and intact.
	small := &kratostest.ValidatingTransport{Report: v.report, MaxBodyBytes: 10}
	resp, err := (&http.Client{Transport: small}).Get(fake.URL + "/admin/identities")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(got, []byte(`"one@example.org"`)) || !bytes.HasSuffix(got, []byte("]\n")) {
		t.Errorf("large body changed: %.80s", got)
	}
	if errs := v.all(); len(errs) != 0 {
		t.Errorf("violations %v", errs)
	}
}

// TestValidatingTransportPassesTruncation: a body cut off in transit
// reaches the client as the same error it would see without the transport.
func TestValidatingTransportPassesTruncation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "500")
		_, _ = io.WriteString(w, `[{"id":"`)
		// The handler returns early: the connection is closed mid-body.
	}))
	defer srv.Close()
	var v violations
	resp, err := (&http.Client{Transport: kratostest.NewValidatingTransport(nil, v.report)}).Get(srv.URL + "/admin/identities")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != `[{"id":"` || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read %q, %v", got, err)
	}
	if errs := v.all(); len(errs) != 0 {
		t.Errorf("violations %v", errs)
	}
}

func TestValidateWith(t *testing.T) {
	fake := kratostest.NewServer(t)
	c, err := client.New(fake.URL, kratostest.ValidateWith(t), client.WithPublicURL(fake.PublicURL))
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, "validated@example.org")
	if _, err := c.Schemas.Get(t.Context(), "default"); err != nil {
		t.Fatal(err)
	}
}
