package kratostest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Credentials: imports, their answers and the last-first-factor rule of deletion.

func TestSAMLCredentialConfig(t *testing.T) {
	srv := kratostest.NewServer(t)
	id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"s@example.org"},"credentials":{"saml":{"config":{"providers":[{"provider":"okta","subject":"s1","organization":"9f7b2c3e-1111-4222-8333-444455556666"}]}}}}`)
	_, _, got := send(t, http.MethodGet, srv.URL+"/admin/identities/"+id+"?include_credential=saml", "")
	if !strings.Contains(got, `"config":{"providers":[{"subject":"s1","provider":"okta","organization":"9f7b2c3e-1111-4222-8333-444455556666"}]}`) {
		t.Errorf("saml credential: %s", got)
	}
}

func TestEnabledMethodsForTheLastFirstFactor(t *testing.T) {
	body := `{"schema_id":"default","traits":{"email":"m@example.org"},"credentials":{"saml":{"config":{"providers":[{"provider":"okta","subject":"s1"}]}}}}`
	for _, tc := range []struct {
		opts []kratostest.Option
		want int
	}{
		{nil, 204}, // saml and code count
		{[]kratostest.Option{kratostest.WithEnabledMethods(client.CredentialsTypePassword, client.CredentialsTypeCode)}, 400},
	} {
		srv := kratostest.NewServer(t, tc.opts...)
		id := createRaw(t, srv, body)
		// The password credential has identifiers but no hash: it is no
		// first factor; code is one, saml one when enabled.
		if st, _, got := send(t, http.MethodDelete, srv.URL+"/admin/identities/"+id+"/credentials/password", ""); st != tc.want {
			t.Errorf("%d options: %d %s, want %d", len(tc.opts), st, got, tc.want)
		}
	}
	if _, err := kratostest.Start(kratostest.WithEnabledMethods("smoke")); err == nil || !strings.Contains(err.Error(), `unknown method "smoke"`) {
		t.Errorf("unknown method: %v", err)
	}
}

func TestOIDCIdentifiersAreSortedOnRead(t *testing.T) {
	srv := kratostest.NewServer(t)
	st, _, b := send(t, http.MethodPost, srv.URL+"/admin/identities", `{"schema_id":"default","traits":{"email":"o@example.org"},"credentials":{"oidc":{"config":{"providers":[{"provider":"zeta","subject":"s"},{"provider":"alpha","subject":"s"}]}}}}`)
	if st != 201 || !strings.Contains(b, `"identifiers":["zeta:s","alpha:s"]`) {
		t.Fatalf("create answer (in the order given): %d %s", st, b)
	}
	var i struct{ ID string }
	_ = json.Unmarshal([]byte(b), &i)
	if _, _, b := send(t, http.MethodGet, srv.URL+"/admin/identities/"+i.ID, ""); !strings.Contains(b, `"identifiers":["alpha:s","zeta:s"]`) {
		t.Errorf("read: %s", b)
	}
	// An update appends to the sorted links in its answer.
	_, _, b = send(t, http.MethodPut, srv.URL+"/admin/identities/"+i.ID, `{"schema_id":"default","traits":{"email":"o@example.org"},"credentials":{"oidc":{"config":{"providers":[{"provider":"beta","subject":"s"}]}}}}`)
	if !strings.Contains(b, `"identifiers":["alpha:s","zeta:s","beta:s"]`) {
		t.Errorf("update answer: %s", b)
	}
	if _, _, b := send(t, http.MethodGet, srv.URL+"/admin/identities/"+i.ID, ""); !strings.Contains(b, `"identifiers":["alpha:s","beta:s","zeta:s"]`) {
		t.Errorf("read after the update: %s", b)
	}
}

func TestOIDCLinkToAnOrganizationIsNoFirstFactor(t *testing.T) {
	srv := kratostest.NewServer(t)
	n := 0
	for providers, want := range map[string]int{
		`{"provider":"g","subject":"s1"}`: 204,
		`{"provider":"g","subject":"s2","organization":"9f7b2c3e-1111-4222-8333-444455556666"}`:                                 400,
		`{"provider":"g","subject":"s3","organization":"9f7b2c3e-1111-4222-8333-444455556666"},{"provider":"h","subject":"s3"}`: 204,
	} {
		// code + the links; the password credential has no hash.
		n++
		id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"f`+strconv.Itoa(n)+`@example.org"},"credentials":{"oidc":{"config":{"providers":[`+providers+`]}}}}`)
		if st, _, got := send(t, http.MethodDelete, srv.URL+"/admin/identities/"+id+"/credentials/password", ""); st != want {
			t.Errorf("%s: %d %s, want %d", providers, st, got, want)
		}
	}
}

// Seen on Kratos v26.2.0 (password and passwordless code enabled, no
// password migration hook): a password imported with
// use_password_migration_hook and no hash is no first factor, so deleting
// it next to the code credential is refused, while a hashed password goes
// (the code credential is left), and so does a hook password next to an
// OIDC link.
func TestMigrationHookPasswordIsNoFirstFactor(t *testing.T) {
	srv := kratostest.NewServer(t)
	for _, tc := range []struct {
		creds string
		want  int
	}{
		{`"password":{"config":{"use_password_migration_hook":true}}`, 400},
		{`"password":{"config":{"password":"secretsecret123"}}`, 204},
		{`"password":{"config":{"use_password_migration_hook":true}},"oidc":{"config":{"providers":[{"provider":"google","subject":"s1"}]}}`, 204},
	} {
		id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"hook@example.org"},"credentials":{`+tc.creds+`}}`)
		st, _, b := send(t, http.MethodDelete, srv.URL+"/admin/identities/"+id+"/credentials/password", "")
		if st != tc.want || (st == 400 && !strings.Contains(b, `"reason":"You cannot remove the last first factor credential."`)) {
			t.Errorf("%s: delete password: %d %s, want %d", tc.creds, st, b, tc.want)
		}
		if st, _, b := send(t, http.MethodDelete, srv.URL+"/admin/identities/"+id, ""); st != 204 {
			t.Fatalf("delete identity: %d %s", st, b)
		}
	}
}

// Seen on Kratos v26.2.0: an update that imports OIDC or SAML links adds
// them to a credential the identity has, which keeps its times (a new one
// has zero times in the answer); a password whose configuration is the
// stored one keeps its times too, another is new. Linking a provider and
// subject the credential has, or the same one twice, is a 409 (create,
// update and batch item alike).
func TestUpdateCredentialTimesAndDuplicateLinks(t *testing.T) {
	srv := kratostest.NewServer(t)
	id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"u@example.org"},"credentials":{"oidc":{"config":{"providers":[{"provider":"github","subject":"u1"}]}}}}`)
	const zero = "0001-01-01T00:00:00Z"
	const hash = `$2a$05$Mrtd1.OBMaS2hxJvUDlJ7OkaJNYCWdbZoMYu/Y0Ml3NuAmqVQRxFW`
	for _, tc := range []struct {
		creds    string
		status   int
		typ      string
		zeroTime bool
	}{
		{`"oidc":{"config":{"providers":[{"provider":"github","subject":"u2"}]}}`, 200, "oidc", false},
		{`"oidc":{"config":{"providers":[{"provider":"github","subject":"u2"}]}}`, 409, "", false},
		{`"saml":{"config":{"providers":[{"provider":"okta","subject":"u1"}]}}`, 200, "saml", true},
		{`"saml":{"config":{"providers":[{"provider":"okta","subject":"u3"},{"provider":"okta","subject":"u3"}]}}`, 409, "", false},
		{`"password":{"config":{"hashed_password":"` + hash + `"}}`, 200, "password", true},
		{`"password":{"config":{"hashed_password":"` + hash + `"}}`, 200, "password", false},
		{`"password":{"config":{"password":"secretsecret12345"}}`, 200, "password", true},
		{`"oidc":{"config":{"providers":[{"provider":"okta","subject":"u1"}]}}`, 200, "oidc", false},
	} {
		st, _, b := send(t, http.MethodPut, srv.URL+"/admin/identities/"+id, `{"schema_id":"default","traits":{"email":"u@example.org"},"credentials":{`+tc.creds+`}}`)
		if st != tc.status {
			t.Fatalf("update with %s: %d %s, want %d", tc.creds, st, b, tc.status)
		}
		if st == 409 {
			if !strings.Contains(b, `"message":"Unable to insert or update resource because a resource with that value exists already"`) {
				t.Errorf("update with %s: %s", tc.creds, b)
			}
			continue
		}
		var i struct {
			Credentials map[string]struct {
				CreatedAt string `json:"created_at"`
			}
		}
		if err := json.Unmarshal([]byte(b), &i); err != nil {
			t.Fatal(err)
		}
		if got := i.Credentials[tc.typ].CreatedAt == zero; got != tc.zeroTime {
			t.Errorf("update with %s: %s created_at %s, want zero time %v", tc.creds, tc.typ, i.Credentials[tc.typ].CreatedAt, tc.zeroTime)
		}
	}
	// A JSON Patch that repeats a link in the configuration is taken (the
	// identifiers stay as they are).
	if st, _, b := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, `[{"op":"add","path":"/credentials/saml/config/providers/-","value":{"provider":"okta","subject":"u1"}}]`); st != 200 || !strings.Contains(b, `"saml":{"type":"saml","identifiers":["okta:u1"]`) {
		t.Errorf("patch repeating a SAML link: %d %s", st, b)
	}
	dup := `"credentials":{"oidc":{"config":{"providers":[{"provider":"github","subject":"t8"},{"provider":"github","subject":"t8"}]}}}`
	if st, _, b := send(t, http.MethodPost, srv.URL+"/admin/identities", `{"schema_id":"default","traits":{"email":"d@example.org"},`+dup+`}`); st != 409 || !strings.Contains(b, `"reason":"This identity conflicts with another identity that already exists."`) {
		t.Errorf("create with a link twice: %d %s", st, b)
	}
	st, _, b := send(t, http.MethodPatch, srv.URL+"/admin/identities", `{"identities":[{"create":{"schema_id":"default","traits":{"email":"d@example.org"},`+dup+`}},{"create":{"schema_id":"default","traits":{"email":"e@example.org"}}}]}`)
	if st != 200 || !strings.Contains(b, `{"action":"error","error":{"code":409,"status":"Conflict","message":"Unable to insert or update resource because a resource with that value exists already"}},{"action":"create"`) {
		t.Errorf("batch with a link twice: %d %s", st, b)
	}
}

func TestImportedCredentials(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client()
	ctx := t.Context()
	hash := "$2a$10$TENWksmIMioQNBR2eHOp2eGQfrjDtl.0YxBX9dYx0CLR11k8rgmrO"
	i, err := c.Identities.Create(ctx, &client.CreateIdentityBody{
		SchemaID: "default", Traits: traits("import@example.org"),
		Credentials: client.IdentityWithCredentials{
			Password: client.ImportPasswordCredentials{Config: client.ImportPasswordConfig{HashedPassword: hash}},
			OIDC: client.ImportOIDCCredentials{Config: client.ImportOIDCConfig{Providers: []client.ImportOIDCProvider{
				{Provider: "google", Subject: "g-1"}, {Provider: "github", Subject: "gh-2"},
			}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := i.Credentials["oidc"].Identifiers; !slices.Equal(got, []string{"google:g-1", "github:gh-2"}) {
		t.Errorf("oidc identifiers %v", got)
	}
	// Kratos v26.2 imports password, oidc and saml only (recorded: 163).
	_, err = c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits("totp@example.org"),
		Credentials: client.IdentityWithCredentials{TOTP: client.ImportTOTPCredentials{Config: client.ImportTOTPConfig{TOTPURL: "otpauth://totp/x?secret=ABC"}}}})
	if e := apiError(t, err, 400, ""); e.Message != `json: unknown field "totp"` {
		t.Errorf("totp import: %q", e.Message)
	}
	// A JSON Patch adds a TOTP credential (recorded: 239).
	_, err = c.Identities.Patch(ctx, i.ID, []client.JSONPatch{client.PatchAdd("/credentials/totp", map[string]any{
		"type": "totp", "identifiers": []string{i.ID}, "config": map[string]string{"totp_url": "otpauth://totp/x?secret=ABC"}})})
	if err != nil {
		t.Fatal(err)
	}
	all := []client.IdentityCredentialsType{client.CredentialsTypePassword, client.CredentialsTypeOIDC, client.CredentialsTypeTOTP}
	got, err := c.Identities.Get(ctx, i.ID, &client.GetIdentityParams{IncludeCredential: all})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got.Credentials["password"].Config), hash) || !strings.Contains(string(got.Credentials["oidc"].Config), `"initial_id_token":""`) ||
		!strings.Contains(string(got.Credentials["totp"].Config), "otpauth://") {
		t.Errorf("configs %s %s %s", got.Credentials["password"].Config, got.Credentials["oidc"].Config, got.Credentials["totp"].Config)
	}
	// oidc needs the identifier of the link to remove.
	err = c.Identities.DeleteCredentials(ctx, i.ID, client.CredentialsTypeOIDC, nil)
	apiError(t, err, 400, "")
	err = c.Identities.DeleteCredentials(ctx, i.ID, client.CredentialsTypeOIDC, &client.DeleteIdentityCredentialsParams{Identifier: "google:nope"})
	apiError(t, err, 404, "")
	if err := c.Identities.DeleteCredentials(ctx, i.ID, client.CredentialsTypeOIDC, &client.DeleteIdentityCredentialsParams{Identifier: "google:g-1"}); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []client.IdentityCredentialsType{client.CredentialsTypeTOTP, client.CredentialsTypePassword} {
		if err := c.Identities.DeleteCredentials(ctx, i.ID, typ, nil); err != nil {
			t.Errorf("deleting %s: %v", typ, err)
		}
	}
	got, err = c.Identities.Get(ctx, i.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Credentials["totp"]; ok || !slices.Equal(got.Credentials["oidc"].Identifiers, []string{"github:gh-2"}) {
		t.Errorf("credentials after deletions: %+v", got.Credentials)
	}
	// An unknown hash format and a too long password.
	_, err = c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits("hash@example.org"),
		Credentials: client.IdentityWithCredentials{Password: client.ImportPasswordCredentials{Config: client.ImportPasswordConfig{HashedPassword: "plain"}}}})
	e := apiError(t, err, 400, "")
	if !strings.HasPrefix(e.Reason, "The imported password does not match any known hash format.") {
		t.Errorf("reason %q", e.Reason)
	}
	// The same provider link on two identities is a conflict.
	_, err = c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits("other@example.org"),
		Credentials: client.IdentityWithCredentials{OIDC: client.ImportOIDCCredentials{Config: client.ImportOIDCConfig{Providers: []client.ImportOIDCProvider{{Provider: "github", Subject: "gh-2"}}}}}})
	apiError(t, err, 409, "")
}
