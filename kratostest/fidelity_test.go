package kratostest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Behaviour of Kratos v26.2.0 found by TestDifferential, pinned here so
// that make test keeps it without a real server.

// rawSend is send (server_test.go) for the status and body alone.
func rawSend(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	st, _, b := send(t, method, url, body)
	return st, b
}

func TestBatchWithOneValidItemThatConflicts(t *testing.T) {
	srv := kratostest.NewServer(t)
	if st, b := rawSend(t, http.MethodPost, srv.URL+"/admin/identities", `{"schema_id":"default","traits":{"email":"t1@example.org"}}`); st != 201 {
		t.Fatalf("%d %s", st, b)
	}
	dup := `{"create":{"schema_id":"default","traits":{"email":"t1@example.org"}}}`
	bad := `{"create":{"schema_id":"default","traits":{"email":"nope"}}}`
	whole := `{"error":{"code":409,"status":"Conflict","message":"Unable to insert or update resource because a resource with that value exists already"}}` + "\n"
	for _, tc := range []struct {
		items  string
		status int
		want   string
	}{
		{dup, 409, whole},
		{bad + "," + dup, 409, whole},
		{dup + "," + bad + "," + dup, 200, `"action":"error","error":{"code":409`},
		{dup + "," + dup, 200, `"action":"error","error":{"code":409`},
	} {
		st, b := rawSend(t, http.MethodPatch, srv.URL+"/admin/identities", `{"identities":[`+tc.items+`]}`)
		if st != tc.status || !strings.Contains(b, tc.want) {
			t.Errorf("batch %s: %d %s, want %d with %s", tc.items, st, b, tc.status, tc.want)
		}
	}
	if n := srv.IdentityCount(); n != 1 {
		t.Errorf("%d identities", n)
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
		st, got := rawSend(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, `[{"op":"replace","path":"`+path+`"}]`)
		if st != 400 || !strings.Contains(got, `"message":"`+want+`"`) {
			t.Errorf("patch %s: %d %s\nwant message %s", path, st, got, want)
		}
	}
}

func TestSAMLCredentialConfig(t *testing.T) {
	srv := kratostest.NewServer(t)
	id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"s@example.org"},"credentials":{"saml":{"config":{"providers":[{"provider":"okta","subject":"s1","organization":"9f7b2c3e-1111-4222-8333-444455556666"}]}}}}`)
	_, got := rawSend(t, http.MethodGet, srv.URL+"/admin/identities/"+id+"?include_credential=saml", "")
	if !strings.Contains(got, `"config":{"providers":[{"subject":"s1","provider":"okta","organization":"9f7b2c3e-1111-4222-8333-444455556666"}]}`) {
		t.Errorf("saml credential: %s", got)
	}
}

func TestRecoveryLifetimeNotInTheFuture(t *testing.T) {
	srv := kratostest.NewServer(t)
	id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"r@example.org"}}`)
	for _, tc := range []struct{ endpoint, in, want string }{
		{"code", "-90m", `must result to a future time: -1h30m0s`},
		{"code", "0", `must result to a future time: 0s`},
		{"link", "-90m", `must be result to a future time: -90m`},
	} {
		st, got := rawSend(t, http.MethodPost, srv.URL+"/admin/recovery/"+tc.endpoint, `{"identity_id":"`+id+`","expires_in":"`+tc.in+`"}`)
		if st != 400 || !strings.Contains(got, tc.want) {
			t.Errorf("%s %s: %d %s", tc.endpoint, tc.in, st, got)
		}
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
		if st, got := rawSend(t, http.MethodDelete, srv.URL+"/admin/identities/"+id+"/credentials/password", ""); st != tc.want {
			t.Errorf("%d options: %d %s, want %d", len(tc.opts), st, got, tc.want)
		}
	}
	if _, err := kratostest.Start(kratostest.WithEnabledMethods("smoke")); err == nil || !strings.Contains(err.Error(), `unknown method "smoke"`) {
		t.Errorf("unknown method: %v", err)
	}
}

func TestPublicLoginFlow(t *testing.T) {
	srv := kratostest.NewServer(t)
	body := &client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"Login@example.org"}`)}
	body.Credentials.Password.Config.Password = "a-long-secret-passphrase"
	created, err := srv.Client().Identities.Create(t.Context(), body)
	if err != nil {
		t.Fatal(err)
	}
	flow := func() string {
		st, b := rawSend(t, http.MethodGet, srv.PublicURL+"/self-service/login/api", "")
		var f struct {
			ID string `json:"id"`
			UI struct {
				Action string `json:"action"`
				Nodes  []any  `json:"nodes"`
			} `json:"ui"`
		}
		if err := json.Unmarshal([]byte(b), &f); err != nil || st != 200 || f.ID == "" || f.UI.Action != srv.PublicURL+"/self-service/login?flow="+f.ID || len(f.UI.Nodes) != 5 {
			t.Fatalf("flow: %d %s", st, b)
		}
		if !strings.Contains(b, `"context":{"name":"traits.email","title":"E-Mail"}`) {
			t.Errorf("identifier label: %s", b)
		}
		return f.ID
	}
	id := flow()
	login := func(identifier, password string) (int, string) {
		return rawSend(t, http.MethodPost, srv.PublicURL+"/self-service/login?flow="+id, `{"method":"password","identifier":"`+identifier+`","password":"`+password+`"}`)
	}
	if st, b := login("login@example.org", "wrong"); st != 400 || !strings.Contains(b, `"id":4000006`) || !strings.Contains(b, `"value":"login@example.org"`) {
		t.Errorf("wrong password: %d %s", st, b)
	}
	st, b := login("LOGIN@example.org", "a-long-secret-passphrase")
	var out struct {
		SessionToken string `json:"session_token"`
		Session      struct {
			ID       string `json:"id"`
			Identity struct {
				ID string `json:"id"`
			} `json:"identity"`
			Devices []struct {
				IPAddress string `json:"ip_address"`
			} `json:"devices"`
		} `json:"session"`
	}
	if err := json.Unmarshal([]byte(b), &out); err != nil || st != 200 || out.Session.Identity.ID != created.ID || !strings.HasPrefix(out.SessionToken, "ory_st_") ||
		len(out.Session.Devices) != 1 || !strings.HasPrefix(out.Session.Devices[0].IPAddress, "127.0.0.1:") {
		t.Fatalf("login: %d %s", st, b)
	}
	if srv.SessionCount() != 1 {
		t.Errorf("%d sessions", srv.SessionCount())
	}
	if st, b := login("login@example.org", "a-long-secret-passphrase"); st != 404 {
		t.Errorf("a used flow: %d %s", st, b)
	}
	if st, b := rawSend(t, http.MethodPost, srv.PublicURL+"/self-service/login?flow=9f7b2c3e-1111-4222-8333-444455556666", `{"method":"password"}`); st != 404 {
		t.Errorf("unknown flow: %d %s", st, b)
	}
	id = flow()
	if st, b := login("nobody@example.org", "a-long-secret-passphrase"); st != 400 || !strings.Contains(b, `"id":4000006`) {
		t.Errorf("unknown identifier: %d %s", st, b)
	}
	for _, p := range []string{"/health/alive", "/health/ready"} {
		for _, base := range []string{srv.URL, srv.PublicURL} {
			if st, b := rawSend(t, http.MethodGet, base+p, ""); st != 200 || b != `{"status":"ok"}`+"\n" {
				t.Errorf("%s%s: %d %q", base, p, st, b)
			}
		}
	}
}

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
		if _, got := rawSend(t, tc.method, srv.URL+tc.path, tc.body); !strings.Contains(got, tc.want) {
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

func TestOIDCIdentifiersAreSortedOnRead(t *testing.T) {
	srv := kratostest.NewServer(t)
	st, b := rawSend(t, http.MethodPost, srv.URL+"/admin/identities", `{"schema_id":"default","traits":{"email":"o@example.org"},"credentials":{"oidc":{"config":{"providers":[{"provider":"zeta","subject":"s"},{"provider":"alpha","subject":"s"}]}}}}`)
	if st != 201 || !strings.Contains(b, `"identifiers":["zeta:s","alpha:s"]`) {
		t.Fatalf("create answer (in the order given): %d %s", st, b)
	}
	var i struct{ ID string }
	_ = json.Unmarshal([]byte(b), &i)
	if _, b := rawSend(t, http.MethodGet, srv.URL+"/admin/identities/"+i.ID, ""); !strings.Contains(b, `"identifiers":["alpha:s","zeta:s"]`) {
		t.Errorf("read: %s", b)
	}
	// An update appends to the sorted links in its answer.
	_, b = rawSend(t, http.MethodPut, srv.URL+"/admin/identities/"+i.ID, `{"schema_id":"default","traits":{"email":"o@example.org"},"credentials":{"oidc":{"config":{"providers":[{"provider":"beta","subject":"s"}]}}}}`)
	if !strings.Contains(b, `"identifiers":["alpha:s","zeta:s","beta:s"]`) {
		t.Errorf("update answer: %s", b)
	}
	if _, b := rawSend(t, http.MethodGet, srv.URL+"/admin/identities/"+i.ID, ""); !strings.Contains(b, `"identifiers":["alpha:s","beta:s","zeta:s"]`) {
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
		if st, got := rawSend(t, http.MethodDelete, srv.URL+"/admin/identities/"+id+"/credentials/password", ""); st != want {
			t.Errorf("%s: %d %s, want %d", providers, st, got, want)
		}
	}
}

// createRaw creates an identity with body and returns its id.
func createRaw(t *testing.T, srv *kratostest.Server, body string) string {
	t.Helper()
	st, b := rawSend(t, http.MethodPost, srv.URL+"/admin/identities", body)
	if st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, b)
	}
	var i struct{ ID string }
	if err := json.Unmarshal([]byte(b), &i); err != nil || i.ID == "" {
		t.Fatalf("create: %v %s", err, b)
	}
	return i.ID
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
		st, b := rawSend(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, ops)
		if st != http.StatusOK {
			t.Fatalf("patch %s: %d %s", ops, st, b)
		}
		var i struct {
			VerifiableAddresses []addr `json:"verifiable_addresses"`
		}
		if err := json.Unmarshal([]byte(b), &i); err != nil || len(i.VerifiableAddresses) != 1 {
			t.Fatalf("patch %s: %v %s", ops, err, b)
		}
		_, g := rawSend(t, http.MethodGet, srv.URL+"/admin/identities/"+id, "")
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
		st, b := rawSend(t, method, url, body)
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

// Seen on Kratos v26.2.0: the ids filter pages like the unfiltered list.
// With three matching ids and page_size 1 or 2 the first page holds the
// lowest ids and a next link whose page_token is the last id on it; the
// last page has no next link; all pages keep the ids in the links.
func TestListIdentitiesIdsFilterPages(t *testing.T) {
	srv := kratostest.NewServer(t)
	var ids []string
	for k := range 4 {
		ids = append(ids, createRaw(t, srv, `{"schema_id":"default","traits":{"email":"page`+strconv.Itoa(k)+`@example.org"}}`))
	}
	slices.Sort(ids)
	filter := "ids=" + ids[3] + "&ids=" + ids[0] + "&ids=" + ids[2]
	want := []string{ids[0], ids[2], ids[3]}
	for _, size := range []int{1, 2, 3, 250} {
		var walked []string
		token := ""
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatalf("page_size %d: no end after %d pages", size, pages)
			}
			url := srv.URL + "/admin/identities?" + filter + "&page_size=" + strconv.Itoa(size)
			if token != "" {
				url += "&page_token=" + token
			}
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			var page []struct{ ID string }
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > size {
				t.Errorf("page_size %d: %d items", size, len(page))
			}
			for _, i := range page {
				walked = append(walked, i.ID)
			}
			link := resp.Header.Get("Link")
			if !strings.Contains(link, filter) {
				t.Errorf("page_size %d: Link %q lost the ids", size, link)
			}
			_, next, ok := strings.Cut(link, `rel="first",`)
			if !ok {
				if len(walked) < len(want) {
					t.Errorf("page_size %d: no next link after %v", size, walked)
				}
				break
			}
			token = next[strings.Index(next, "page_token=")+len("page_token=") : strings.Index(next, ">")]
			if token != page[len(page)-1].ID {
				t.Errorf("page_size %d: next token %s, want the last id of the page", size, token)
			}
		}
		if !slices.Equal(walked, want) {
			t.Errorf("page_size %d: walked %v, want %v", size, walked, want)
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
		st, b := rawSend(t, http.MethodDelete, srv.URL+"/admin/identities/"+id+"/credentials/password", "")
		if st != tc.want || (st == 400 && !strings.Contains(b, `"reason":"You cannot remove the last first factor credential."`)) {
			t.Errorf("%s: delete password: %d %s, want %d", tc.creds, st, b, tc.want)
		}
		if st, b := rawSend(t, http.MethodDelete, srv.URL+"/admin/identities/"+id, ""); st != 204 {
			t.Fatalf("delete identity: %d %s", st, b)
		}
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
		st, b := rawSend(t, tc.method, srv.URL+tc.path, tc.body)
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
	st, b := rawSend(t, http.MethodPost, srv.URL+"/admin/identities", `{"schema_id":"default","traits":{"email":5,"name":{"first":3}}}`)
	group := `"reason":"I[#/traits] S[#/properties/traits] validation failed`
	first := `\n  I[#/traits/name/first] S[#/properties/traits/properties/name/properties/first/type] expected string, but got number`
	email := `\n  I[#/traits/email] S[#/properties/traits/properties/email/type] expected string, but got number`
	if st != 400 || !strings.Contains(b, group+first+email+`"`) && !strings.Contains(b, group+email+first+`"`) {
		t.Errorf("%d %s\nwant %s with %s and %s", st, b, group, first, email)
	}
}

// Seen on Kratos v26.2.0: HEAD is answered on every GET route, like the
// GET without body and without Cache-Control, and a 405 lists HEAD with
// GET, methods in alphabetical order.
func TestHeadOnGetRoutes(t *testing.T) {
	srv := kratostest.NewServer(t)
	for _, url := range []string{srv.URL + "/admin/identities", srv.URL + "/admin/sessions", srv.URL + "/health/alive", srv.PublicURL + "/schemas", srv.PublicURL + "/schemas/default"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("Cache-Control") != "" || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("HEAD %s: %d %v %q", url, resp.StatusCode, resp.Header, b)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, srv.URL+"/admin/identities", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Link"), `rel="first"`) {
		t.Errorf("HEAD /admin/identities: Link %q", resp.Header.Get("Link"))
	}
	for _, tc := range []struct{ method, url, allow string }{
		{http.MethodPut, srv.URL + "/admin/identities", "GET, HEAD, PATCH, POST"},
		{http.MethodPost, srv.URL + "/admin/identities/9f7b2c3e-1111-4222-8333-444455556666", "DELETE, GET, HEAD, PATCH, PUT"},
		{http.MethodPost, srv.URL + "/health/alive", "GET, HEAD"},
		{http.MethodDelete, srv.PublicURL + "/self-service/login/api", "GET, HEAD"},
		{http.MethodPut, srv.URL + "/admin/recovery/code", "POST"},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), tc.method, tc.url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", tc.method, tc.url, resp.StatusCode, resp.Header.Get("Allow"), tc.allow)
		}
	}
}

// Seen on Kratos v26.2.0: an email that fails both its format and its
// minLength is reported format, minLength, format.
func TestFormatAndMinLengthTogether(t *testing.T) {
	srv := kratostest.NewServer(t)
	st, b := rawSend(t, http.MethodPost, srv.URL+"/admin/identities", `{"schema_id":"default","traits":{"email":"ab"}}`)
	want := `"reason":"I[#/traits/email] S[#/properties/traits/properties/email] validation failed\n` +
		`  I[#/traits/email] S[#/properties/traits/properties/email/format] \"ab\" is not valid \"email\"\n` +
		`  I[#/traits/email] S[#/properties/traits/properties/email/minLength] length must be \u003e= 3, but got 2\n` +
		`  I[#/traits/email] S[#/properties/traits/properties/email/format] \"ab\" is not valid \"email\""`
	if st != 400 || !strings.Contains(b, want) {
		t.Errorf("%d %s\nwant %s", st, b, want)
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
		st, b := rawSend(t, http.MethodPut, srv.URL+"/admin/identities/"+id, `{"schema_id":"default","traits":{"email":"u@example.org"},"credentials":{`+tc.creds+`}}`)
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
	if st, b := rawSend(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, `[{"op":"add","path":"/credentials/saml/config/providers/-","value":{"provider":"okta","subject":"u1"}}]`); st != 200 || !strings.Contains(b, `"saml":{"type":"saml","identifiers":["okta:u1"]`) {
		t.Errorf("patch repeating a SAML link: %d %s", st, b)
	}
	dup := `"credentials":{"oidc":{"config":{"providers":[{"provider":"github","subject":"t8"},{"provider":"github","subject":"t8"}]}}}`
	if st, b := rawSend(t, http.MethodPost, srv.URL+"/admin/identities", `{"schema_id":"default","traits":{"email":"d@example.org"},`+dup+`}`); st != 409 || !strings.Contains(b, `"reason":"This identity conflicts with another identity that already exists."`) {
		t.Errorf("create with a link twice: %d %s", st, b)
	}
	st, b := rawSend(t, http.MethodPatch, srv.URL+"/admin/identities", `{"identities":[{"create":{"schema_id":"default","traits":{"email":"d@example.org"},`+dup+`}},{"create":{"schema_id":"default","traits":{"email":"e@example.org"}}}]}`)
	if st != 200 || !strings.Contains(b, `{"action":"error","error":{"code":409,"status":"Conflict","message":"Unable to insert or update resource because a resource with that value exists already"}},{"action":"create"`) {
		t.Errorf("batch with a link twice: %d %s", st, b)
	}
}
