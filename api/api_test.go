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

// requestsTheSpecRefuses (keyed by file name without its number) are
// recorded requests that break the spec on
// purpose (bad input the server answered with 4xx). For these the test
// asserts the opposite: the spec refuses the request, and the error answer
// still matches the spec.
var requestsTheSpecRefuses = map[string]string{
	"createIdentity-invalid-json-400":                   "body is not JSON",
	"createIdentity-invalid-state-400":                  "state not in enum",
	"getIdentity-include-credential-invalid-400":        "include_credential not in enum",
	"listIdentities-ids-filter-bad-uuid-400":            "ids item is not a UUID",
	"listIdentities-bad-page-size-400":                  "page_size is not an integer",
	"updateIdentity-invalid-json-400":                   "body is not JSON",
	"patchIdentity-failed-test-op-400":                  "op test is not supported",
	"batchPatchIdentities-unknown-field-400":            "unknown field in body",
	"batchPatchIdentities-invalid-json-400":             "body is not JSON",
	"getSession-malformed-uuid-400":                     "session id is not a UUID",
	"extendSession-malformed-uuid-400":                  "session id is not a UUID",
	"disableSession-malformed-uuid-400":                 "session id is not a UUID",
	"createRecoveryCodeForIdentity-bad-expires-in-400":  "expires_in breaks the pattern",
	"createRecoveryCodeForIdentity-bad-flow-type-400":   "flow_type not in enum",
	"createRecoveryCodeForIdentity-missing-identity-id": "identity_id is required",
	"createRecoveryLinkForIdentity-bad-expires-in-400":  "expires_in breaks the pattern",
	// Recorded by internal/recorder.
	"deleteIdentityCredentials-unknown-type":              "type not in enum",
	"listIdentities-ids-501":                              "more than 500 ids",
	"deleteIdentityCredentials-foo-patched":               "type not in enum",
	"createRecoveryLinkForIdentity-expires-in-negative":   "expires_in breaks the pattern",
	"createRecoveryLinkForIdentity-missing-identity-id":   "identity_id is required",
	"createRecoveryLinkForIdentity-malformed-identity-id": "identity_id is not a UUID",
	"createRecoveryCodeForIdentity-expires-in-negative":   "expires_in breaks the pattern",
	"createRecoveryCodeForIdentity-malformed-identity-id": "identity_id is not a UUID",
	"createIdentity-traits-null":                          "traits is not nullable",
	"createIdentity-unknown-field":                        "unknown field in body",
	"listIdentities-organization-id-malformed":            "organization_id is not a UUID",
	"listIdentities-include-credential-bogus":             "include_credential not in enum",
	"getIdentity-include-credential-bogus":                "include_credential not in enum",
	"getIdentity-include-credential-empty":                "include_credential is empty",
	"updateIdentity-state-bogus":                          "state not in enum",
	"updateIdentity-body-null":                            "body is null",
	"updateIdentity-body-array":                           "body is not an object",
	"patchIdentity-move-op":                               "op move is not supported",
	"patchIdentity-copy-op":                               "op copy is not supported",
	"patchIdentity-unknown-op":                            "op not in enum",
	"patchIdentity-path-missing":                          "path is required",
	"patchIdentity-body-object":                           "body is not an array",
	"listIdentitySessions-active-bogus":                   "active is not a boolean",
	"getSession-expand-bogus":                             "expand not in enum",
	"listSessions-expand-bogus":                           "expand not in enum",
	"patchIdentity-invalid-json":                          "body is not JSON",
	"createRecoveryCodeForIdentity-invalid-json":          "body is not JSON",
	"createRecoveryLinkForIdentity-invalid-json":          "body is not JSON",
	"batchPatchIdentities-patch-id-not-a-uuid":            "patch_id is not a UUID",
}

// notAnOperation are recorded requests whose path no operation of the
// spec has: the server's router answered them.
var notAnOperation = map[string]bool{
	"getIdentityByExternalID-slash-unescaped":                  true, // "/" in an unescaped external id: the router's 404
	"listIdentitySchemas-admin-port-admin-prefix-redirect-307": true, // /admin/schemas is only a redirect to the public port
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
	if ops != 20 {
		t.Fatalf("spec has %d operations, want the 19 identity-admin operations and getVersion", ops)
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
			why, refused := requestsTheSpecRefuses[x.Key()]
			if op := checkExchange(t, v, x, req, notAnOperation[x.Key()], why, refused); op != "" {
				seen[op] = true
			}
		})
	}
	if len(seen) != 19 {
		t.Errorf("recordings cover %d operations, want 19", len(seen))
	}
	keys := map[string]bool{}
	for _, x := range all {
		keys[x.Key()] = true
	}
	for k := range requestsTheSpecRefuses {
		if !keys[k] {
			t.Errorf("requestsTheSpecRefuses names %q, which is no recording", k)
		}
	}
	for k := range notAnOperation {
		if !keys[k] {
			t.Errorf("notAnOperation names %q, which is no recording", k)
		}
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

// checkExchange validates one recorded admin-API exchange against the spec:
// a request that reaches no operation (notAnOp) has no route; a request the
// spec refuses (refused, for the reason why) is a request violation that the
// server answered with an error status; any other is routed to its recorded
// operation, and its response validates. It returns the operation checked,
// "" when the exchange is no operation.
func checkExchange(t *testing.T, v *contract.Validator, x *exchange.Exchange, req *http.Request, notAnOp bool, why string, refused bool) string {
	t.Helper()
	if notAnOp {
		if _, err := v.Route(req); !errors.Is(err, contract.ErrNoRoute) {
			t.Fatalf("want no route for %s: %v", x.Request.Path, err)
		}
		return ""
	}
	ctx := context.Background()
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
	return x.Operation
}
