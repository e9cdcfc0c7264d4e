package api_test

import (
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
				req, err := x.HTTPRequest("")
				if err != nil {
					t.Fatal(err)
				}
				if !x.IsAdminAPI() {
					return
				}
				_, notAnOp := releaseNotAnOperation[x.Key()]
				why, refused := releaseRequestsTheSpecRefuses[x.Key()]
				checkExchange(t, v, x, req, notAnOp, why, refused)
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
