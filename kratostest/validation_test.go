package kratostest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Request bodies and traits refused as Kratos refuses them, in its words.

func TestBodiesInKratosWords(t *testing.T) {
	srv := kratostest.NewServer(t)
	id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"w@example.org"}}`)
	missing := `"reason":"I[#/traits] S[#/properties/traits/required] missing properties: \"email\""`
	null := `"reason":"I[#/traits] S[#/properties/traits/type] expected object, but got null"`
	for _, tc := range []struct{ method, path, body, want string }{
		{http.MethodPost, "/admin/identities", `{"schema_id":"default"}`, missing},
		{http.MethodPost, "/admin/identities", `null`, missing},
		{http.MethodPut, "/admin/identities/" + id, `{}`, missing},
		{http.MethodPut, "/admin/identities/" + id, `{"traits":null}`, null},
		{http.MethodPost, "/admin/identities", `[]`, `"message":"json: cannot unmarshal array into Go value of type identity.CreateIdentityBody"`},
		{http.MethodPut, "/admin/identities/" + id, `[]`, `"reason":"Unable to decode JSON payload: json: cannot unmarshal array into Go value of type identity.UpdateIdentityBody"`},
		{http.MethodPost, "/admin/identities", `{"traits":{},"credentials":[]}`, `"message":"json: cannot unmarshal array into Go struct field CreateIdentityBody.credentials of type identity.IdentityWithCredentials"`},
		{http.MethodPost, "/admin/identities", `{"traits":{},"credentials":{"password":{"config":{"password":5}}}}`, `"message":"json: cannot unmarshal number into Go struct field AdminIdentityImportCredentialsPasswordConfig.credentials.password.config.password of type string"`},
		{http.MethodPatch, "/admin/identities", `[]`, `"message":"json: cannot unmarshal array into Go value of type identity.BatchPatchIdentitiesBody"`},
		{http.MethodPatch, "/admin/identities", `{"identities":[1]}`, `"message":"json: cannot unmarshal number into Go struct field BatchPatchIdentitiesBody.identities of type identity.BatchIdentityPatch"`},
		{http.MethodPost, "/admin/recovery/code", `[]`, `"reason":"Unable to decode JSON payload: json: cannot unmarshal array into Go value of type code.createRecoveryCodeForIdentityBody"`},
		{http.MethodPost, "/admin/recovery/link", `[]`, `"reason":"Unable to decode JSON payload: json: cannot unmarshal array into Go value of type link.createRecoveryLinkForIdentityBody"`},
	} {
		if _, _, got := send(t, tc.method, srv.URL+tc.path, tc.body); !strings.Contains(got, tc.want) {
			t.Errorf("%s %s %s: %s\nwant %s", tc.method, tc.path, tc.body, got, tc.want)
		}
	}
	// The recovery endpoints take JSON only.
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/admin/recovery/code", strings.NewReader(`{"identity_id":"`+id+`"}`))
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := `"reason":"HTTP POST Request used unknown HTTP Header \"Content-Type: ` + ct + `\", only [application/json] are supported."`
		if resp.StatusCode != 400 || !strings.Contains(string(got), want) {
			t.Errorf("Content-Type %q: %d %s", ct, resp.StatusCode, got)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/admin/recovery/link", strings.NewReader(`{"identity_id":"`+id+`"}`))
	req.Header.Set("Content-Type", "application/JSON; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("application/JSON; charset=utf-8: %d", resp.StatusCode)
	}
}

// Decode errors name Kratos' own types (seen on v26.2.0).
func TestDecodeErrorsNameKratosTypes(t *testing.T) {
	srv := kratostest.NewServer(t)
	id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"dec@example.org"}}`)
	for _, tc := range []struct{ method, path, body, want string }{
		{"POST", "/admin/identities", `{"schema_id":"default","traits":{"email":"w@example.org"},"state":5}`,
			`json: cannot unmarshal number into Go struct field CreateIdentityBody.state of type identity.State`},
		{"POST", "/admin/identities", `{"schema_id":"default","traits":{"email":"w@example.org"},"verifiable_addresses":5}`,
			`json: cannot unmarshal number into Go struct field CreateIdentityBody.verifiable_addresses of type []identity.VerifiableAddress`},
		{"POST", "/admin/identities", `{"schema_id":"default","traits":{"email":"w@example.org"},"verifiable_addresses":[{"verified":"x"}]}`,
			`json: cannot unmarshal string into Go struct field VerifiableAddress.verifiable_addresses.verified of type bool`},
		{"PUT", "/admin/identities/" + id, `{"schema_id":"default","traits":{"email":"w@example.org"},"state":5}`,
			`Unable to decode JSON payload: json: cannot unmarshal number into Go struct field UpdateIdentityBody.state of type identity.State`},
		{"PATCH", "/admin/identities", `{"identities":[{"create":{"schema_id":"default","traits":{"email":"w@example.org"},"state":5}}]}`,
			`json: cannot unmarshal number into Go struct field CreateIdentityBody.identities.create.state of type identity.State`},
		{"POST", "/admin/recovery/code", `{"identity_id":5}`,
			`Unable to decode JSON payload: json: cannot unmarshal number into Go struct field createRecoveryCodeForIdentityBody.identity_id of type uuid.UUID`},
		{"POST", "/admin/recovery/link", `{"identity_id":"` + id + `","expires_in":5}`,
			`Unable to decode JSON payload: json: cannot unmarshal number into Go struct field createRecoveryLinkForIdentityBody.expires_in of type string`},
	} {
		st, _, b := send(t, tc.method, srv.URL+tc.path, tc.body)
		if st != 400 || !strings.Contains(b, `"`+tc.want+`"`) {
			t.Errorf("%s %s %s: %d %s\nwant %s", tc.method, tc.path, tc.body, st, b, tc.want)
		}
	}
}

// Seen on Kratos v26.2.0: errors in two properties of traits are grouped
// under S[#/properties/traits], the two in either order (the real server
// answered both orders to the same request).
func TestTraitErrorsInTwoPropertiesGroupedUnderTheObject(t *testing.T) {
	srv := kratostest.NewServer(t)
	st, _, b := send(t, http.MethodPost, srv.URL+"/admin/identities", `{"schema_id":"default","traits":{"email":5,"name":{"first":3}}}`)
	group := `"reason":"I[#/traits] S[#/properties/traits] validation failed`
	first := `\n  I[#/traits/name/first] S[#/properties/traits/properties/name/properties/first/type] expected string, but got number`
	email := `\n  I[#/traits/email] S[#/properties/traits/properties/email/type] expected string, but got number`
	if st != 400 || !strings.Contains(b, group+first+email+`"`) && !strings.Contains(b, group+email+first+`"`) {
		t.Errorf("%d %s\nwant %s with %s and %s", st, b, group, first, email)
	}
}

// Seen on Kratos v26.2.0: an email that fails both its format and its
// minLength is reported format, minLength, format.
func TestFormatAndMinLengthTogether(t *testing.T) {
	srv := kratostest.NewServer(t)
	st, _, b := send(t, http.MethodPost, srv.URL+"/admin/identities", `{"schema_id":"default","traits":{"email":"ab"}}`)
	want := `"reason":"I[#/traits/email] S[#/properties/traits/properties/email] validation failed\n` +
		`  I[#/traits/email] S[#/properties/traits/properties/email/format] \"ab\" is not valid \"email\"\n` +
		`  I[#/traits/email] S[#/properties/traits/properties/email/minLength] length must be \u003e= 3, but got 2\n` +
		`  I[#/traits/email] S[#/properties/traits/properties/email/format] \"ab\" is not valid \"email\""`
	if st != 400 || !strings.Contains(b, want) {
		t.Errorf("%d %s\nwant %s", st, b, want)
	}
}

func TestCustomSchema(t *testing.T) {
	srv := kratostest.NewServer(t,
		kratostest.WithIdentitySchema("customer", []byte(customSchema)),
		kratostest.WithIdentitySchema("default", kratostest.DefaultIdentitySchema()),
	)
	c := srv.Client()
	ctx := t.Context()
	// Without schema_id (the client always sends one) the first schema is used.
	status, _, body := send(t, http.MethodPost, srv.URL+"/admin/identities",
		`{"traits":{"emails":["A@x.org","b@x.org"],"username":"Robo","phone":"+4917","kind":"robot"}}`)
	var i client.Identity
	if err := json.Unmarshal([]byte(body), &i); status != 201 || err != nil {
		t.Fatalf("%d %s", status, body)
	}
	if i.SchemaID != "customer" {
		t.Errorf("default schema %q, want the first one", i.SchemaID)
	}
	if got := i.Credentials["password"].Identifiers; !slices.Equal(got, []string{"a@x.org", "b@x.org", "robo"}) {
		t.Errorf("password identifiers %v", got)
	}
	if got := i.Credentials["code"].Identifiers; !slices.Equal(got, []string{"a@x.org", "b@x.org", "+4917"}) {
		t.Errorf("code identifiers %v", got)
	}
	if len(i.VerifiableAddresses) != 3 || i.VerifiableAddresses[2].Via != client.VerifiableAddressViaSMS || len(i.RecoveryAddresses) != 2 {
		t.Errorf("addresses %+v %+v", i.VerifiableAddresses, i.RecoveryAddresses)
	}
	for traits, reason := range map[string]string{
		`{"emails":["x@y.org"],"kind":"robot"}`: `I[#/traits] S[#/properties/traits/then/required] missing properties: "username"`,
		`{"emails":[]}`:                         `I[#/traits/emails] S[#/properties/traits/properties/emails/minItems] minimum 1 items allowed, but found 0 items`,
		`{"emails":["x@y.org"],"kind":"alien"}`: `I[#/traits/kind] S[#/properties/traits/properties/kind/enum] value must be one of "person", "robot"`,
		`{"emails":["x@y.org"],"phone":"12"}`:   `I[#/traits/phone] S[#/properties/traits/properties/phone/pattern] does not match pattern "^\\+[0-9]+$"`,
		`{"emails":[5]}`: "I[#/traits/emails/0] S[#/properties/traits/properties/emails/items/$ref] doesn't validate with \"#/definitions/email\"\n" +
			`  I[#/traits/emails/0] S[#/definitions/email/type] expected string, but got number`,
	} {
		_, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "customer", Traits: json.RawMessage(traits)})
		e := apiError(t, err, 400, "The request was malformed or contained invalid parameters")
		if e.Reason != reason {
			t.Errorf("%s:\n got  %s\n want %s", traits, e.Reason, reason)
		}
	}
	var ids []string
	for sc, err := range c.Schemas.List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sc.ID)
	}
	if !slices.Equal(ids, []string{"customer", "default"}) {
		t.Errorf("schemas %v", ids)
	}
	if _, err := kratostest.Start(kratostest.WithIdentitySchema("bad", []byte(`{"type": 5}`))); err == nil {
		t.Error("Start accepted an invalid schema")
	}
	if _, err := kratostest.Start(kratostest.WithIdentitySchema("remote", []byte(`{"$ref": "https://example.org/schema.json"}`))); err == nil {
		t.Error("Start accepted a remote reference")
	}
}
