package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/kratosadmin/sdk/internal/contract"
	"github.com/kratosadmin/sdk/internal/exchange"
)

// releaseRequestsTheSpecRefuses are the release probes that send bad input
// on purpose (keyed as in requestsTheSpecRefuses, the same in each release's
// folder).
var releaseRequestsTheSpecRefuses = map[string]string{
	"listIdentities-page-size-not-a-number": "page_size is not an integer",
	"createIdentity-invalid-json":           "body is not JSON",
	"createIdentity-unknown-field":          "unknown field in body",
}

// releaseNotAnOperation are release probes of paths no operation of the
// spec has (routing: trailing slashes, redirects) or that are outside the
// identity-admin API (the version endpoint).
var releaseNotAnOperation = map[string]string{
	"listIdentities-trailing-slash":               "GET /admin/identities/",
	"listSessions-trailing-slash":                 "GET /admin/sessions/",
	"getIdentityByExternalID-empty-id":            "GET /admin/identities/by/external/",
	"deleteIdentityCredentials-empty-type":        "DELETE .../credentials/",
	"listIdentitySchemas-admin-port-admin-prefix": "GET /admin/schemas: only a redirect to the public port",
	"getIdentitySchema-admin-port-admin-prefix":   "GET /admin/schemas/{id}: only a redirect to the public port",
	"listIdentities-without-admin-prefix":         "GET /identities",
}

// TestReleaseExchangesMatchSpec replays each release's recordings
// (testdata/exchanges/<release>/) through the spec's request and response
// validation, as TestRecordedExchangesMatchSpec does for v26.2.0's.
func TestReleaseExchangesMatchSpec(t *testing.T) {
	v, err := contract.Default()
	if err != nil {
		t.Fatal(err)
	}
	releases := exchange.Releases()
	if len(releases) < 3 {
		t.Fatalf("recordings of %d releases, want v1.3.1, v25.4.0 and v26.2.0", len(releases))
	}
	for _, rel := range releases {
		keys := map[string]bool{}
		all, err := exchange.LoadAll(exchange.ReleaseDir(rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range all {
			keys[x.Key()] = true
			t.Run(rel+"/"+x.Name(), func(t *testing.T) {
				ctx := context.Background()
				req, err := x.HTTPRequest("")
				if err != nil {
					t.Fatal(err)
				}
				if !x.IsAdminAPI() {
					return
				}
				if _, ok := releaseNotAnOperation[x.Key()]; ok {
					if _, err := v.Route(req); !errors.Is(err, contract.ErrNoRoute) {
						t.Fatalf("want no route for %s: %v", x.Request.Path, err)
					}
					return
				}
				why, refused := releaseRequestsTheSpecRefuses[x.Key()]
				ex, err := v.ValidateRequest(ctx, req, x.RequestBody())
				switch {
				case refused && err == nil:
					t.Fatalf("spec accepts a request the server refused (%s)", why)
				case refused:
					var viol *contract.Violation
					if !errors.As(err, &viol) || viol.Side != "request" {
						t.Fatalf("want a request violation, got %v", err)
					}
					if x.Response.Status < 400 {
						t.Fatalf("refused request answered %d", x.Response.Status)
					}
				case err != nil:
					t.Fatalf("request: %v", err)
				}
				if ex.OperationID() != x.Operation {
					t.Fatalf("routed to %s, recorded as %s", ex.OperationID(), x.Operation)
				}
				h := http.Header{}
				for k, val := range x.Response.Headers {
					h.Set(k, val)
				}
				if err := v.ValidateResponse(ctx, ex, x.Response.Status, h, x.ResponseBody()); err != nil {
					t.Fatalf("response: %v", err)
				}
			})
		}
		for k := range releaseRequestsTheSpecRefuses {
			if !keys[k] {
				t.Errorf("%s: releaseRequestsTheSpecRefuses names %q, which is no recording", rel, k)
			}
		}
		for k := range releaseNotAnOperation {
			if !keys[k] {
				t.Errorf("%s: releaseNotAnOperation names %q, which is no recording", rel, k)
			}
		}
	}
}
