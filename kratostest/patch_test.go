package kratostest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// JSON Patch as Kratos applies it: the deny list, json-patch's semantics
// and corner cases, what a patch changes beyond what it names.

// TestPatchCornerCasesAnswerAsKratos pins JSON Patch paths at the edges of
// json-patch (no leading slash, "-", padding with nulls, "" tokens, a null
// or scalar document) to what Kratos v26.2.0 answered for each, on
// ../shared/kratos: a 400 with the library's message, or a 200 with the
// metadata_public it stored. None may break the connection (a replace at
// "5" or "-" once panicked the handler).
func TestPatchCornerCasesAnswerAsKratos(t *testing.T) {
	const applyFailed = "An error occured when applying the JSON patch"
	cases := []struct {
		patch   string
		message string // the 400's message; "" for a 200
		public  string // metadata_public after a 200
	}{
		{`[{"op":"replace","path":"5","value":1}]`, `replace operation does not apply: doc is missing path: 5: missing value`, ""},
		{`[{"op":"replace","path":"-","value":1}]`, `replace operation does not apply: doc is missing path: -: missing value`, ""},
		{`[{"op":"replace","path":"0","value":1}]`, `replace operation does not apply: doc is missing path: 0: missing value`, ""},
		{`[{"op":"add","path":"5","value":1}]`, `add operation does not apply: doc is missing path: "5": missing value`, ""},
		{`[{"op":"remove","path":"-"}]`, `remove operation does not apply: doc is missing path: "-": missing value`, ""},
		{`[{"op":"remove","path":""}]`, `error in remove for path: '': unable to remove nonexistent key: : missing value`, ""},
		{`[{"op":"replace","path":"x","value":1}]`, `add operation does not apply: doc is missing path: "x": missing value`, ""},
		{`[{"op":"replace","path":"","value":"s"}]`, `json: cannot unmarshal string into Go value of type map[string]*jsonpatch.lazyNode`, ""},
		{`[{"op":"replace","path":"","value":true}]`, `json: cannot unmarshal bool into Go value of type map[string]*jsonpatch.lazyNode`, ""},
		{`[{"op":"replace","path":"","value":[1]}]`, `json: cannot unmarshal array into Go value of type identity.WithCredentialsAndAdminMetadataInJSON`, ""},
		{`[{"op":"replace","path":"","value":null}]`, `json: error calling MarshalJSON for type *jsonpatch.partialDoc: invalid value, expected object`, ""},
		{`[{"op":"add","path":"","value":null},{"op":"add","path":"/x","value":1}]`, `error in add for path: '/x': invalid value, expected object`, ""},
		{`[{"op":"replace","path":"/verifiable_addresses/-","value":1}]`, `replace operation does not apply: doc is missing key: /verifiable_addresses/-: missing value`, ""},
		{`[{"op":"remove","path":"/verifiable_addresses/-"}]`, `error in remove for path: '/verifiable_addresses/-': strconv.Atoi: parsing "-": invalid syntax`, ""},
		{`[{"op":"add","path":"/verifiable_addresses/99","value":{}}]`, `error in add for path: '/verifiable_addresses/99': Unable to access invalid index: 99: invalid index referenced`, ""},
		{`[{"op":"add","path":"/metadata_public/a/-/b","value":1}]`, `add operation does not apply: doc is missing path: "/metadata_public/a/-/b": missing value`, ""},
		{`[{"op":"add","path":"/metadata_public/a/-2/b","value":1}]`, `Unable to ensure path for negative index other than -1: -2: invalid index referenced`, ""},
		{`[{"op":"add","path":"/traits/email/0","value":1}]`, `invalid state detected`, ""},
		{`[{"op":"add","path":"/metadata_public","value":{"a":true}},{"op":"add","path":"/metadata_public/a/x","value":1}]`, `invalid state detected`, ""},
		{`[{"op":"add","path":"/metadata_public","value":{"a":[]}},{"op":"add","path":"/metadata_public/a/x/y","value":1}]`, `add operation does not apply: doc is missing path: "/metadata_public/a/x/y": missing value`, ""},
		{`[{"op":"add","path":"/metadata_public","value":{"a":1}},{"op":"add","path":"/metadata_public//x","value":1}]`, `add operation does not apply: doc is missing path: "/metadata_public//x": missing value`, ""},
		{`[{"op":"add","path":"/metadata_public","value":[1]},{"op":"add","path":"/metadata_public/-5/x","value":1}]`, `add operation does not apply: doc is missing path: "/metadata_public/-5/x": missing value`, ""},
		{`[{"op":"add","path":"/metadata_public/a/1/b","value":1}]`, "", `{"a":[null,{"b":1}]}`},
		{`[{"op":"add","path":"/metadata_public/a/3","value":1}]`, "", `{"a":[null,null,null,1]}`},
		{`[{"op":"add","path":"/metadata_public/a/-1/b","value":1}]`, "", `{"a":[{"b":1}]}`},
		{`[{"op":"add","path":"/metadata_public","value":[1]},{"op":"add","path":"/metadata_public/5/x","value":1}]`, "", `[1,null,null,null,null,{"x":1}]`},
		{`[{"op":"add","path":"/metadata_public","value":[null]},{"op":"add","path":"/metadata_public/0/x","value":1}]`, "", `[{"x":1},null]`},
		{`[{"op":"add","path":"/metadata_public","value":{"a":null}},{"op":"add","path":"/metadata_public/a/x","value":1}]`, "", `{"a":{"x":1}}`},
		{`[{"op":"add","path":"/metadata_public","value":[1,2]},{"op":"replace","path":"/metadata_public/-1","value":3}]`, "", `[1,3]`},
		{`[{"op":"add","path":"//x","value":1}]`, "", `null`},
		{`[{"op":"replace","path":"/","value":1}]`, "", `null`},
	}
	srv := kratostest.NewServer(t)
	c := srv.Client()
	id := mustCreate(t, c, "corners@example.org").ID
	for _, tc := range cases {
		status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, tc.patch)
		if tc.message != "" {
			var e struct {
				Error struct{ Reason, Message string }
			}
			_ = json.Unmarshal([]byte(body), &e)
			if status != http.StatusBadRequest || e.Error.Reason != applyFailed || e.Error.Message != tc.message {
				t.Errorf("%s: %d %s\nwant 400 with message %s", tc.patch, status, strings.TrimSpace(body), tc.message)
			}
			continue
		}
		var got struct {
			MetadataPublic json.RawMessage `json:"metadata_public"`
		}
		if err := json.Unmarshal([]byte(body), &got); status != http.StatusOK || err != nil || string(got.MetadataPublic) != tc.public {
			t.Errorf("%s: %d %s\nwant 200 with metadata_public %s", tc.patch, status, strings.TrimSpace(body), tc.public)
		}
		// Back to the start for the next case.
		if status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, `[{"op":"replace","path":"/metadata_public","value":null}]`); status != http.StatusOK {
			t.Fatalf("reset metadata_public: %d %s", status, body)
		}
	}
}

func TestPatchDecodeErrorsInKratosWords(t *testing.T) {
	srv := kratostest.NewServer(t)
	id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"p@example.org"}}`)
	for path, want := range map[string]string{
		`/created_at","value":"x`:                      `parsing time \"x\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"x\" as \"2006\"`,
		`/updated_at","value":5,"x":"`:                 `Time.UnmarshalJSON: input is not a JSON string`,
		`/state","value":5,"x":"`:                      `json: cannot unmarshal number into Go struct field WithCredentialsAndAdminMetadataInJSON.state of type identity.State`,
		`/external_id","value":5,"x":"`:                `json: cannot unmarshal number into Go value of type string`,
		`/recovery_addresses","value":"x`:              `json: cannot unmarshal string into Go struct field WithCredentialsAndAdminMetadataInJSON.recovery_addresses of type []identity.RecoveryAddress`,
		`/verifiable_addresses/0/verified","value":"x`: `json: cannot unmarshal string into Go struct field VerifiableAddress.verifiable_addresses.verified of type bool`,
		`/organization_id","value":5,"x":"`:            `uuid: incorrect UUID length 1 in string \"5\"`,
	} {
		st, _, got := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, `[{"op":"replace","path":"`+path+`"}]`)
		if st != 400 || !strings.Contains(got, `"message":"`+want+`"`) {
			t.Errorf("patch %s: %d %s\nwant message %s", path, st, got, want)
		}
	}
}

// Seen on Kratos v26.2.0: a patch of a verifiable address follows the
// rules of an imported one. verified true sets verified_at (unless one is
// given), false clears it, an emptied status becomes "completed" on a
// verified address and "pending" otherwise; the status is not touched
// otherwise ("pending" stays pending when verified becomes true).
func TestPatchVerifiedAddressSetsVerifiedAt(t *testing.T) {
	srv := kratostest.NewServer(t)
	id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"v@example.org"}}`)
	type addr struct {
		Verified   bool    `json:"verified"`
		VerifiedAt *string `json:"verified_at"`
		Status     string  `json:"status"`
	}
	patch := func(ops string) addr {
		t.Helper()
		st, _, b := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, ops)
		if st != http.StatusOK {
			t.Fatalf("patch %s: %d %s", ops, st, b)
		}
		var i struct {
			VerifiableAddresses []addr `json:"verifiable_addresses"`
		}
		if err := json.Unmarshal([]byte(b), &i); err != nil || len(i.VerifiableAddresses) != 1 {
			t.Fatalf("patch %s: %v %s", ops, err, b)
		}
		_, _, g := send(t, http.MethodGet, srv.URL+"/admin/identities/"+id, "")
		if !strings.Contains(g, `"verified":`+strconv.FormatBool(i.VerifiableAddresses[0].Verified)) {
			t.Errorf("patch %s: a later read differs: %s", ops, g)
		}
		return i.VerifiableAddresses[0]
	}
	a := patch(`[{"op":"replace","path":"/verifiable_addresses/0/verified","value":true}]`)
	if !a.Verified || a.VerifiedAt == nil || a.Status != "pending" {
		t.Fatalf("verified true: %+v, want verified_at set and status pending", a)
	}
	first := *a.VerifiedAt
	if a = patch(`[{"op":"replace","path":"/verifiable_addresses/0/verified","value":true}]`); a.VerifiedAt == nil || *a.VerifiedAt != first {
		t.Errorf("verified true again: %+v, want verified_at %s kept", a, first)
	}
	if a = patch(`[{"op":"replace","path":"/verifiable_addresses/0/verified","value":false},{"op":"add","path":"/verifiable_addresses/0/verified_at","value":"2020-01-01T00:00:00Z"}]`); a.Verified || a.VerifiedAt != nil {
		t.Errorf("verified false with a verified_at: %+v, want no verified_at", a)
	}
	if a = patch(`[{"op":"replace","path":"/verifiable_addresses/0/verified","value":true},{"op":"add","path":"/verifiable_addresses/0/verified_at","value":"2020-01-01T00:00:00Z"}]`); a.VerifiedAt == nil || *a.VerifiedAt != "2020-01-01T00:00:00Z" {
		t.Errorf("verified true with a verified_at: %+v, want it kept", a)
	}
	if a = patch(`[{"op":"replace","path":"/verifiable_addresses/0/status","value":""}]`); a.Status != "completed" {
		t.Errorf("empty status on a verified address: %+v, want completed", a)
	}
	if a = patch(`[{"op":"replace","path":"/verifiable_addresses/0/verified","value":false},{"op":"replace","path":"/verifiable_addresses/0/status","value":""}]`); a.Status != "pending" || a.VerifiedAt != nil {
		t.Errorf("empty status on an unverified address: %+v, want pending", a)
	}
}

// Seen on Kratos v26.2.0: a patch that removes /credentials/code while the
// traits give the same code identifier answers with the stored code
// credential, its times included; removing /credentials/password answers
// with a new one (zero times, as recorded in 240); and removing code while
// the email changes answers with a new code credential (zero times).
func TestPatchRemoveCodeCredentialKeepsIt(t *testing.T) {
	srv := kratostest.NewServer(t)
	id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"k@example.org"},"credentials":{"password":{"config":{"password":"secretsecret123"}}}}`)
	type cred struct {
		Identifiers []string `json:"identifiers"`
		CreatedAt   string   `json:"created_at"`
		UpdatedAt   string   `json:"updated_at"`
	}
	creds := func(method, url, body string) map[string]cred {
		t.Helper()
		st, _, b := send(t, method, url, body)
		if st != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, url, st, b)
		}
		var i struct{ Credentials map[string]cred }
		if err := json.Unmarshal([]byte(b), &i); err != nil {
			t.Fatal(err)
		}
		return i.Credentials
	}
	const zero = "0001-01-01T00:00:00Z"
	before := creds(http.MethodGet, srv.URL+"/admin/identities/"+id, "")["code"]
	if before.CreatedAt == zero {
		t.Fatalf("stored code credential has zero times: %+v", before)
	}
	got := creds(http.MethodPatch, srv.URL+"/admin/identities/"+id, `[{"op":"remove","path":"/credentials/code"}]`)
	same := func(a, b cred) bool {
		return slices.Equal(a.Identifiers, b.Identifiers) && a.CreatedAt == b.CreatedAt && a.UpdatedAt == b.UpdatedAt
	}
	if !same(got["code"], before) {
		t.Errorf("remove code: answer has %+v, want the stored %+v", got["code"], before)
	}
	if after := creds(http.MethodGet, srv.URL+"/admin/identities/"+id, "")["code"]; !same(after, before) {
		t.Errorf("remove code: read back %+v, want the stored %+v", after, before)
	}
	got = creds(http.MethodPatch, srv.URL+"/admin/identities/"+id, `[{"op":"remove","path":"/credentials/password"}]`)
	if p := got["password"]; p.CreatedAt != zero || p.UpdatedAt != zero {
		t.Errorf("remove password: %+v, want a new credential with zero times", p)
	}
	got = creds(http.MethodPatch, srv.URL+"/admin/identities/"+id, `[{"op":"replace","path":"/traits/email","value":"k2@example.org"},{"op":"remove","path":"/credentials/code"}]`)
	if c := got["code"]; c.CreatedAt != zero || len(c.Identifiers) != 1 || c.Identifiers[0] != "k2@example.org" {
		t.Errorf("remove code with a new email: %+v, want a new credential for k2@example.org with zero times", c)
	}
}

func TestPatchDenyList(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client()
	id := mustCreate(t, c, "patch@example.org").ID
	for _, path := range []string{"/id", "/ID", "/stateChangedAt", "/credentials", "/credentials/oidc/providers", "/CREDENTIALS/OIDC/config"} {
		status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, fmt.Sprintf(`[{"op":"replace","path":%q,"value":"x"}]`, path))
		if status != 400 || !strings.Contains(body, `"message":"patch includes denied path: `+path+`"`) {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}
	// Other paths below /credentials change the stored credentials
	// (recorded 235-243).
	hash := "$2a$08$wLHTJfcnwoOmbZLOnYQ9Ges8DIlHwdQuXsgNJPLVV3.NRm/5yQsGi"
	status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, fmt.Sprintf(`[{"op":"replace","path":"/credentials/password/config/hashed_password","value":%q}]`, hash))
	if status != 200 {
		t.Fatalf("hashed_password patch: %d %s", status, body)
	}
	got, err := c.Identities.Get(t.Context(), id, &client.GetIdentityParams{IncludeCredential: []client.IdentityCredentialsType{client.CredentialsTypePassword}})
	if err != nil || !strings.Contains(string(got.Credentials["password"].Config), hash) {
		t.Errorf("password after the patch: %v %+v", err, got)
	}
	for _, op := range []string{"move", "copy", "test"} {
		status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, fmt.Sprintf(`[{"op":%q,"path":"/traits/email","from":"/traits/email","value":"x"}]`, op))
		if status != 400 || !strings.Contains(body, "unsupported operation: "+op) {
			t.Errorf("%s: %d %s", op, status, body)
		}
	}
	// The real server's deny list says /stateChangedAt, so the snake_case
	// field can be patched.
	p, err := c.Identities.Patch(t.Context(), id, []client.JSONPatch{client.PatchReplace("/state_changed_at", "2020-01-02T03:04:05Z")})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.StateChangedAt.MustGet(); !got.Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("state_changed_at %v", got)
	}
	// A state change sets it again.
	p, err = c.Identities.Patch(t.Context(), id, []client.JSONPatch{client.PatchReplace("/state", "inactive")})
	if err != nil {
		t.Fatal(err)
	}
	if p.StateChangedAt.MustGet().Year() == 2020 {
		t.Error("state change kept the patched state_changed_at")
	}
	// Changing the email replaces the addresses and the identifiers.
	p, err = c.Identities.Patch(t.Context(), id, []client.JSONPatch{client.PatchReplace("/traits/email", "New@Example.org")})
	if err != nil {
		t.Fatal(err)
	}
	if p.VerifiableAddresses[0].Value != "new@example.org" || p.Credentials["password"].Identifiers[0] != "new@example.org" {
		t.Errorf("after email change: %+v %+v", p.VerifiableAddresses, p.Credentials)
	}
	if _, err := c.Identities.ListPage(t.Context(), &client.ListIdentitiesParams{CredentialsIdentifier: "patch@example.org"}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, "patch@example.org") // the old email is free again
}

// TestPatchSemantics pins what Kratos' JSON Patch library does beyond
// RFC 6902: null is a value, a replace of a missing key adds it (with its
// parents), and add/replace without a value fail to decode.
func TestPatchSemantics(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client()
	ctx := t.Context()
	id := mustCreate(t, c, "semantics@example.org").ID
	p, err := c.Identities.Patch(ctx, id, []client.JSONPatch{
		client.PatchReplace("/metadata_admin", map[string]int{"crm": 1}),
		client.PatchReplace("/metadata_public/a/b", "deep"), // parents created
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.MetadataAdmin) != `{"crm":1}` || string(p.MetadataPublic) != `{"a":{"b":"deep"}}` {
		t.Fatalf("metadata %s %s", p.MetadataAdmin, p.MetadataPublic)
	}
	p, err = c.Identities.Patch(ctx, id, []client.JSONPatch{client.PatchReplace("/metadata_admin", nil)})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.MetadataAdmin) != "null" {
		// The patched document still has the key: the answer shows it as
		// null (recorded 127, 128); a remove leaves it out (133).
		t.Fatalf(`replace with "value": null answered metadata_admin %q`, p.MetadataAdmin)
	}
	got, err := c.Identities.Get(ctx, id, nil)
	if err != nil || string(got.MetadataAdmin) != "null" {
		t.Fatalf("stored metadata_admin %s (%v)", got.MetadataAdmin, err)
	}
	for _, tc := range []struct{ body, message string }{
		{`[{"op":"add","path":"/metadata_public/x"}]`, `invalid operation {\"op\":\"add\",\"path\":\"/metadata_public/x\"}: failed to decode 'value': operation, missing value field: missing value`},
		{`[{"op":"frobnicate","path":"/x"}]`, `invalid operation {\"op\":\"frobnicate\",\"path\":\"/x\"}: unsupported operation`},
		{`[{"op":"remove","path":"/metadata_public/nope"}]`, `error in remove for path: '/metadata_public/nope': unable to remove nonexistent key: nope: missing value`},
		{`[{"op":"replace","path":"/verifiable_addresses/7","value":{}}]`, `replace operation does not apply: doc is missing key: /verifiable_addresses/7: missing value`},
	} {
		status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, tc.body)
		if status != 400 || !strings.Contains(body, `"message":"`+tc.message+`"`) {
			t.Errorf("%s: %d %s", tc.body, status, body)
		}
	}
}
