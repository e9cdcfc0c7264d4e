package recorder_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/internal/exchange"
	"github.com/kratosadmin/sdk/internal/recorder"
)

// TestRecordRelease runs the release probes (the calls whose answers differ
// between Kratos v1.3, v25.4 and v26.2) against a real Kratos and writes
// them to testdata/exchanges/<release>/, the release read from
// GET /admin/version. It does nothing unless KRATOS_RECORD_RELEASE is set:
//
//	KRATOS_VERSION=v1.3.1 KRATOS_ADMIN_PORT=4634 KRATOS_PUBLIC_PORT=4633 eval "$(../shared/kratos/start.sh)"
//	KRATOS_RECORD_RELEASE=1 go test ./internal/recorder -run TestRecordRelease -count=1 -v
//	../shared/kratos/stop.sh "$KRATOS_STATE"
//
// A run replaces that release's files. The server must be fresh. The same
// script runs against every release, so a case has the same file name in
// each release's folder and the folders compare file by file.
func TestRecordRelease(t *testing.T) {
	admin, public := os.Getenv("KRATOS_ADMIN_URL"), os.Getenv("KRATOS_PUBLIC_URL")
	if os.Getenv("KRATOS_RECORD_RELEASE") == "" || admin == "" || public == "" {
		t.Skip("set KRATOS_RECORD_RELEASE, KRATOS_ADMIN_URL and KRATOS_PUBLIC_URL to record a release's differences")
	}
	probe, err := recorder.New(admin, public, t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	v, err := probe.Do(recorder.Call{Method: http.MethodGet, Path: "/admin/version", NoRecord: true})
	if err != nil {
		t.Fatal(err)
	}
	release := v.Str("version")
	if !regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(release) {
		t.Fatalf("GET /admin/version: %d %s", v.Status, v.Body)
	}
	dir := filepath.Join(exchange.Dir(), release)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := recorder.New(admin, public, dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := &script{t: t, r: r}
	empty := s.send(recorder.Call{Method: http.MethodGet, Path: "/admin/identities", NoRecord: true})
	if strings.TrimSpace(string(empty.Body)) != "[]" {
		t.Fatalf("the server is not empty: %s", empty.Body)
	}
	s.releaseProbes()
	t.Logf("%s: wrote %d exchanges to %s", release, len(r.Written), dir)
}

// releaseProbes sends, in the same order on every release, the calls
// issue 15 lists and a few neighbours of each.
func (s *script) releaseProbes() {
	s.do("getVersion", "ok", http.MethodGet, "/admin/version", "", nil)

	// External ids and organizations (v25.4 and later).
	plain := s.mustCreate("without-external-id", obj{"schema_id": "default", "traits": traits(s.email("rel"))})
	s.create("with-external-id", obj{"schema_id": "default", "traits": traits(s.email("rel")), "external_id": "rel-ext-1"})
	s.create("external-id-null", obj{"schema_id": "default", "traits": traits(s.email("rel")), "external_id": nil})
	s.create("with-organization-id", obj{"schema_id": "default", "traits": traits(s.email("rel")), "organization_id": "11111111-2222-4333-8444-555555555555"})
	s.do("getIdentityByExternalID", "ok-or-no-route", http.MethodGet, "/admin/identities/by/external/rel-ext-1", "", nil)
	s.do("getIdentityByExternalID", "unknown", http.MethodGet, "/admin/identities/by/external/no-such-external-id", "", nil)
	s.update("with-external-id", plain, obj{"schema_id": "default", "traits": traits(s.email("rel-upd")), "state": "active", "external_id": "rel-ext-upd"})
	s.patch("add-external-id", plain, []obj{op("add", "/external_id", "rel-ext-patch")})
	s.get("after-external-id-writes", plain, "")
	s.do("listIdentities", "organization-id-filter", http.MethodGet, "/admin/identities", "organization_id=11111111-2222-4333-8444-555555555555", nil)
	res := s.batch("with-external-id",
		obj{"create": obj{"schema_id": "default", "traits": traits(s.email("rel-b")), "external_id": "rel-ext-b1"}, "patch_id": pid(1)})
	s.batchShow("batch-with-external-id", res)

	// A batch of two new identities and one duplicate: v1.3 rolls the
	// whole request back but answers "create" for the two.
	dup := s.email("rel-dup")
	s.mustCreate("for-batch-duplicate", obj{"schema_id": "default", "traits": traits(dup)})
	res = s.batch("two-new-one-duplicate",
		obj{"create": obj{"schema_id": "default", "traits": traits(s.email("rel-b"))}, "patch_id": pid(2)},
		obj{"create": obj{"schema_id": "default", "traits": traits(dup)}, "patch_id": pid(3)},
		obj{"create": obj{"schema_id": "default", "traits": traits(s.email("rel-b"))}, "patch_id": pid(4)},
	)
	s.batchShow("after-batch-with-duplicate", res)
	res = s.batch("two-new-one-invalid",
		obj{"create": obj{"schema_id": "default", "traits": traits(s.email("rel-b"))}, "patch_id": pid(5)},
		obj{"create": obj{"schema_id": "default", "traits": traits("not-an-email")}, "patch_id": pid(6)},
		obj{"create": obj{"schema_id": "default", "traits": traits(s.email("rel-b"))}, "patch_id": pid(7)},
	)
	s.batchShow("after-batch-with-invalid", res)
	res = s.batch("all-new",
		obj{"create": obj{"schema_id": "default", "traits": traits(s.email("rel-b"))}, "patch_id": pid(8)},
		obj{"create": obj{"schema_id": "default", "traits": traits(s.email("rel-b"))}, "patch_id": pid(9)},
	)
	s.batchShow("after-batch-all-new", res)

	// Filters.
	list := func(name, query string) *recorder.Result {
		return s.do("listIdentities", name, http.MethodGet, "/admin/identities", query, nil)
	}
	list("combined-filters", "ids="+plain+"&credentials_identifier="+url.QueryEscape(dup))
	list("credentials-identifier", "credentials_identifier="+url.QueryEscape(dup))
	list("credentials-identifier-similar", "preview_credentials_identifier_similar=rel-dup")
	list("ids", "ids="+plain)

	// Page sizes. page_size=-1 is left out: v1.3.1's handler panics and
	// the connection closes without an answer (docs/compatibility.md).
	list("page-size-0", "page_size=0")
	list("page-size-1", "page_size=1")
	list("page-size-501", "page_size=501")
	list("page-size-1001", "page_size=1001")
	list("page-size-not-a-number", "page_size=abc")
	list("per-page-0", "page=0&per_page=0")
	list("per-page-1001", "page=0&per_page=1001")
	list("page-token-garbage", "page_token=garbage")

	// Credentials: first-factor deletion, imports without subject.
	const secret = "release-secret-123456"
	email := s.email("rel-cred")
	cid := s.mustCreate("for-credential-deletion", obj{"schema_id": "default", "traits": traits(email), "credentials": pw(secret)})
	oid := s.mustCreate("oidc-for-credential-deletion", obj{"schema_id": "default", "traits": traits(s.email("rel-oidc")),
		"credentials": obj{"oidc": obj{"config": obj{"providers": []obj{{"provider": "github", "subject": "rel-1"}, {"provider": "google", "subject": "rel-2"}}}}}})
	del := func(name, id, typ, query string) {
		s.do("deleteIdentityCredentials", name, http.MethodDelete, "/admin/identities/"+id+"/credentials/"+typ, query, nil)
	}
	del("totp-absent", cid, "totp", "")
	del("code", cid, "code", "")
	del("oidc-one-of-two", oid, "oidc", "identifier=github:rel-1")
	del("oidc-last", oid, "oidc", "identifier=google:rel-2")
	s.get("after-oidc-deleted", oid, "include_credential=oidc")
	s.create("oidc-provider-without-subject", obj{"schema_id": "default", "traits": traits(s.email("rel-nosub")),
		"credentials": obj{"oidc": obj{"config": obj{"providers": []obj{{"provider": "github"}}}}}})
	s.create("saml-provider-without-subject", obj{"schema_id": "default", "traits": traits(s.email("rel-nosub")),
		"credentials": obj{"saml": obj{"config": obj{"providers": []obj{{"provider": "okta"}}}}}})
	s.create("oidc-provider-empty-subject", obj{"schema_id": "default", "traits": traits(s.email("rel-nosub")),
		"credentials": obj{"oidc": obj{"config": obj{"providers": []obj{{"provider": "github", "subject": ""}}}}}})

	// Sessions: the extend answer, not-found reasons.
	sid, err := s.r.Login("rel-cred", email, secret)
	if err != nil {
		s.t.Fatal(err)
	}
	s.do("extendSession", "ok", http.MethodPatch, "/admin/sessions/"+sid+"/extend", "", nil)
	s.do("getSession", "ok", http.MethodGet, "/admin/sessions/"+sid, "", nil)
	s.do("listSessions", "page-size-1", http.MethodGet, "/admin/sessions", "page_size=1", nil)
	s.do("listSessions", "page-size-1001", http.MethodGet, "/admin/sessions", "page_size=1001", nil)
	s.do("listIdentitySessions", "page-size-1001", http.MethodGet, "/admin/identities/"+cid+"/sessions", "page_size=1001", nil)
	s.do("listIdentitySessions", "per-page-0", http.MethodGet, "/admin/identities/"+cid+"/sessions", "page=0&per_page=0", nil)
	del("password-first-factor", cid, "password", "")
	s.get("after-password-delete", cid, "include_credential=password")

	// Not-found answers and their reasons.
	const missing = "11111111-2222-4333-8444-555555555555"
	s.get("unknown", missing, "")
	s.get("malformed-uuid", "not-a-uuid", "")
	s.update("unknown", missing, obj{"schema_id": "default", "traits": traits(s.email("rel"))})
	s.patch("unknown", missing, []obj{op("replace", "/state", "inactive")})
	s.do("deleteIdentity", "unknown", http.MethodDelete, "/admin/identities/"+missing, "", nil)
	del("unknown-identity", missing, "password", "")
	s.do("getSession", "unknown", http.MethodGet, "/admin/sessions/"+missing, "", nil)
	s.do("extendSession", "unknown", http.MethodPatch, "/admin/sessions/"+missing+"/extend", "", nil)
	s.do("disableSession", "unknown", http.MethodDelete, "/admin/sessions/"+missing, "", nil)
	s.do("listIdentitySessions", "unknown-identity", http.MethodGet, "/admin/identities/"+missing+"/sessions", "", nil)
	s.do("deleteIdentitySessions", "unknown-identity", http.MethodDelete, "/admin/identities/"+missing+"/sessions", "", nil)
	s.do("createRecoveryCodeForIdentity", "unknown-identity", http.MethodPost, "/admin/recovery/code", "", obj{"identity_id": missing})
	s.do("createRecoveryLinkForIdentity", "unknown-identity", http.MethodPost, "/admin/recovery/link", "", obj{"identity_id": missing})
	schema := func(name, id string) {
		s.send(recorder.Call{Op: "getIdentitySchema", Case: name, Method: http.MethodGet, Public: true, Path: "/schemas/" + id})
	}
	schema("default", "default")
	schema("unknown", "no-such-schema")
	schema("unknown-not-base64", "no.such.schema")

	// Other error wordings.
	s.do("createIdentity", "invalid-json", http.MethodPost, "/admin/identities", "", recorder.Raw(`{"schema_id":`))
	s.create("unknown-field", obj{"schema_id": "default", "traits": traits(s.email("rel")), "bogus": true})
	s.create("schema-violation", obj{"schema_id": "default", "traits": traits("not-an-email")})
	s.create("duplicate", obj{"schema_id": "default", "traits": traits(dup)})

	// Routes: trailing slashes and redirects.
	route := func(op, name, method, path string) {
		s.send(recorder.Call{Op: op, Case: name, Method: method, Path: path, Note: "routing: " + method + " " + path})
	}
	route("listIdentities", "trailing-slash", http.MethodGet, "/admin/identities/")
	route("listSessions", "trailing-slash", http.MethodGet, "/admin/sessions/")
	route("getIdentityByExternalID", "empty-id", http.MethodGet, "/admin/identities/by/external/")
	route("deleteIdentityCredentials", "empty-type", http.MethodDelete, "/admin/identities/"+missing+"/credentials/")
	route("listIdentitySchemas", "admin-port-redirect", http.MethodGet, "/schemas")
	route("listIdentitySchemas", "admin-port-admin-prefix", http.MethodGet, "/admin/schemas")
	route("getIdentitySchema", "admin-port-admin-prefix", http.MethodGet, "/admin/schemas/default")
	route("listIdentities", "without-admin-prefix", http.MethodGet, "/identities")

	// include_credential=saml: v1.3.1 knows no saml credentials and
	// refuses the whole request, naming the types parsed before saml.
	s.get("include-password-saml", oid, "include_credential=password&include_credential=saml")
	list("include-password-oidc-saml", "include_credential=password&include_credential=oidc&include_credential=saml")
}
