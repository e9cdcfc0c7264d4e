package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/internal/contract"
	"github.com/kratosadmin/sdk/internal/exchange"
)

// requestsTheSpecRefuses are recorded requests that break the spec on
// purpose (bad input the server answered with 4xx). For these the test
// asserts the opposite: the spec refuses the request, and the error answer
// still matches the spec.
var requestsTheSpecRefuses = map[string]string{
	"010-createIdentity-invalid-json-400":                          "body is not JSON",
	"011-createIdentity-invalid-state-400":                         "state not in enum",
	"020-getIdentity-include-credential-invalid-400":               "include_credential not in enum",
	"033-listIdentities-ids-filter-bad-uuid-400":                   "ids item is not a UUID",
	"037-listIdentities-bad-page-size-400":                         "page_size is not an integer",
	"053-updateIdentity-invalid-json-400":                          "body is not JSON",
	"057-patchIdentity-failed-test-op-400":                         "op test is not supported",
	"063-batchPatchIdentities-unknown-field-400":                   "unknown field in body",
	"064-batchPatchIdentities-invalid-json-400":                    "body is not JSON",
	"069-getSession-malformed-uuid-400":                            "session id is not a UUID",
	"081-extendSession-malformed-uuid-400":                         "session id is not a UUID",
	"087-disableSession-malformed-uuid-400":                        "session id is not a UUID",
	"097-createRecoveryCodeForIdentity-bad-expires-in-400":         "expires_in breaks the pattern",
	"098-createRecoveryCodeForIdentity-bad-flow-type-400":          "flow_type not in enum",
	"099-createRecoveryCodeForIdentity-missing-identity-id":        "identity_id is required",
	"103-createRecoveryLinkForIdentity-bad-expires-in-400":         "expires_in breaks the pattern",
	"040-listIdentitySchemas-admin-port-admin-prefix-redirect-307": "/admin/schemas is only a redirect, not an operation",
	// Recorded by internal/recorder.
	"255-deleteIdentityCredentials-unknown-type":              "type not in enum",
	"275-createRecoveryLinkForIdentity-expires-in-negative":   "expires_in breaks the pattern",
	"276-createRecoveryLinkForIdentity-missing-identity-id":   "identity_id is required",
	"277-createRecoveryLinkForIdentity-malformed-identity-id": "identity_id is not a UUID",
	"283-createRecoveryCodeForIdentity-expires-in-negative":   "expires_in breaks the pattern",
	"284-createRecoveryCodeForIdentity-malformed-identity-id": "identity_id is not a UUID",
	"318-createIdentity-traits-null":                          "traits is not nullable",
	"327-createIdentity-unknown-field":                        "unknown field in body",
	"350-listIdentities-organization-id-malformed":            "organization_id is not a UUID",
	"355-listIdentities-include-credential-bogus":             "include_credential not in enum",
	"358-getIdentity-include-credential-bogus":                "include_credential not in enum",
	"359-getIdentity-include-credential-empty":                "include_credential is empty",
	"365-updateIdentity-state-bogus":                          "state not in enum",
	"368-updateIdentity-traits-missing":                       "traits is required",
	"372-updateIdentity-body-null":                            "body is null",
	"373-updateIdentity-body-array":                           "body is not an object",
	"378-patchIdentity-move-op":                               "op move is not supported",
	"379-patchIdentity-copy-op":                               "op copy is not supported",
	"380-patchIdentity-unknown-op":                            "op not in enum",
	"381-patchIdentity-path-missing":                          "path is required",
	"389-patchIdentity-body-object":                           "body is not an array",
	"408-listIdentitySessions-active-bogus":                   "active is not a boolean",
	"412-getSession-expand-bogus":                             "expand not in enum",
	"416-listSessions-expand-bogus":                           "expand not in enum",
	"469-patchIdentity-invalid-json":                          "body is not JSON",
	"475-createRecoveryCodeForIdentity-invalid-json":          "body is not JSON",
	"476-createRecoveryLinkForIdentity-invalid-json":          "body is not JSON",
	"478-batchPatchIdentities-patch-id-not-a-uuid":            "patch_id is not a UUID",
}

// notAnOperation are recorded requests whose path no operation of the
// spec has: the server's router answered them.
var notAnOperation = map[string]bool{
	"305-getIdentityByExternalID-slash-unescaped": true, // "/" in an unescaped external id: the router's 404
}

func TestSpecIsValid(t *testing.T) {
	v, err := contract.Default()
	if err != nil {
		t.Fatal(err)
	}
	ops := 0
	for _, item := range v.Doc().Paths.Map() {
		ops += len(item.Operations())
	}
	if ops != 19 {
		t.Fatalf("spec has %d operations, want the 19 identity-admin operations", ops)
	}
}

// TestRecordedExchangesMatchSpec replays every exchange recorded from a real
// Kratos server through kin-openapi's request and response validation.
func TestRecordedExchangesMatchSpec(t *testing.T) {
	v, err := contract.Default()
	if err != nil {
		t.Fatal(err)
	}
	all, err := exchange.LoadAll(exchange.Dir())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, x := range all {
		t.Run(x.Name(), func(t *testing.T) {
			ctx := context.Background()
			req, err := x.HTTPRequest("")
			if err != nil {
				t.Fatal(err)
			}
			if !x.IsAdminAPI() {
				// Public login calls, recorded only to obtain sessions.
				if _, err := v.Route(req); !errors.Is(err, contract.ErrNoRoute) {
					t.Fatalf("public login call %s should not be in the spec: %v", x.Operation, err)
				}
				return
			}
			why, refused := requestsTheSpecRefuses[x.Name()]
			if x.Request.Path == "/admin/schemas" || notAnOperation[x.Name()] {
				if _, err := v.Route(req); !errors.Is(err, contract.ErrNoRoute) {
					t.Fatalf("want no route for %s: %v", x.Request.Path, err)
				}
				return
			}
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
			seen[x.Operation] = true
			h := http.Header{}
			for k, val := range x.Response.Headers {
				h.Set(k, val)
			}
			if err := v.ValidateResponse(ctx, ex, x.Response.Status, h, x.ResponseBody()); err != nil {
				t.Fatalf("response: %v", err)
			}
		})
	}
	if len(seen) != 19 {
		t.Errorf("recordings cover %d operations, want 19", len(seen))
	}
}

// TestSpecCatchesBadResponses makes sure the response check is not vacuous:
// mutated recordings must fail.
func TestSpecCatchesBadResponses(t *testing.T) {
	v, err := contract.Default()
	if err != nil {
		t.Fatal(err)
	}
	x, err := exchange.Load(exchange.Dir() + "/016-getIdentity-ok.json")
	if err != nil {
		t.Fatal(err)
	}
	body := string(x.ResponseBody())
	cases := map[string]struct {
		body, ct string
		status   int
	}{
		"state not in enum":     {strings.Replace(body, `"state":"active"`, `"state":"sleeping"`, 1), "application/json", 200},
		"missing required id":   {strings.Replace(body, `"id":"9fce9890-b047-44b5-8b6d-dfeffddfaf02",`, "", 1), "application/json", 200},
		"created_at not a time": {strings.Replace(body, `"created_at":"2026-11-27T05:51:44.251886Z"`, `"created_at":"yesterday"`, 1), "application/json", 200},
		"html error page":       {"<html>bad gateway</html>", "text/html", 502},
		"error without message": {`{"error":{"code":404}}`, "application/json", 404},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if c.body == body {
				t.Fatal("mutation did not apply")
			}
			req, _ := x.HTTPRequest("")
			ex, err := v.ValidateRequest(context.Background(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{"Content-Type": {c.ct}}
			if err := v.ValidateResponse(context.Background(), ex, c.status, h, []byte(c.body)); err == nil {
				t.Fatal("spec accepted a broken response")
			}
		})
	}
}
