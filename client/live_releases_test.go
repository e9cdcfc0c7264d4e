package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// The release proofs against a real Kratos (make live-releases; .ci/run runs
// them against a fresh v1.3.1, v25.4.0 and v26.2.0). They start nothing:
// point KRATOS_ADMIN_URL at a running server of any release; the release is
// read from the server.

func liveReleaseClient(t *testing.T) (*client.Client, string) {
	t.Helper()
	admin := os.Getenv("KRATOS_ADMIN_URL")
	if admin == "" {
		t.Skip("set KRATOS_ADMIN_URL to prove the release handling against a real Kratos")
	}
	resp, err := http.Get(admin + "/admin/version")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Version string `json:"version"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Version == "" {
		t.Fatalf("GET /admin/version: %d %v", resp.StatusCode, err)
	}
	c, err := client.New(admin)
	if err != nil {
		t.Fatal(err)
	}
	return c, v.Version
}

func liveLacks(rel string) bool { return rel == client.KratosV1_3 }

// TestLiveReleaseFeatures: the client learns the release from the server;
// what the release lacks fails before sending with errors.ErrUnsupported,
// everything else works.
func TestLiveReleaseFeatures(t *testing.T) {
	c, rel := liveReleaseClient(t)
	ctx := t.Context()
	got, err := c.KratosVersion(ctx)
	if err != nil || got != rel {
		t.Fatalf("KratosVersion = %q, %v; the server says %s", got, err, rel)
	}
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	mail := func(p string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"email":"%s-%s@example.org"}`, p, run))
	}
	ext := "ext-" + run

	created, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: mail("rel-ext"), ExternalID: ext})
	switch {
	case liveLacks(rel):
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Create with an external id on %s: %v", rel, err)
		}
	case err != nil:
		t.Fatalf("Create with an external id: %v", err)
	default:
		byExt, err := c.Identities.GetByExternalID(ctx, ext, nil)
		if err != nil || byExt.ID != created.ID {
			t.Errorf("GetByExternalID: %v", err)
		}
		defer func() { _ = c.Identities.Delete(ctx, created.ID) }()
	}
	_, err = c.Identities.GetByExternalID(ctx, "no-such-"+run, nil)
	if liveLacks(rel) != errors.Is(err, errors.ErrUnsupported) || !liveLacks(rel) && !errors.Is(err, client.ErrNotFound) {
		t.Errorf("GetByExternalID of an unknown id on %s: %v", rel, err)
	}
	_, err = c.Identities.ListPage(ctx, &client.ListIdentitiesParams{OrganizationID: "11111111-2222-4333-8444-555555555555"})
	if liveLacks(rel) != errors.Is(err, errors.ErrUnsupported) || !liveLacks(rel) && err != nil {
		t.Errorf("organization_id filter on %s: %v", rel, err)
	}

	const secret = "release-proof-secret-1234"
	pw, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: mail("rel-pw"),
		Credentials: client.IdentityWithCredentials{Password: client.ImportPasswordCredentials{Config: client.ImportPasswordConfig{Password: secret}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Identities.Delete(ctx, pw.ID) }()
	_, err = c.Identities.Update(ctx, pw.ID, &client.UpdateIdentityBody{SchemaID: "default", Traits: mail("rel-pw"), State: client.IdentityStateActive, ExternalID: "upd-" + run})
	if liveLacks(rel) != errors.Is(err, errors.ErrUnsupported) || !liveLacks(rel) && err != nil {
		t.Errorf("Update with an external id on %s: %v", rel, err)
	}
	_, err = c.Identities.Patch(ctx, pw.ID, []client.JSONPatch{client.PatchReplace("/external_id", "patch-"+run)})
	if liveLacks(rel) != errors.Is(err, errors.ErrUnsupported) || !liveLacks(rel) && err != nil {
		t.Errorf("Patch of /external_id on %s: %v", rel, err)
	}
	err = c.Identities.DeleteCredentials(ctx, pw.ID, client.CredentialsTypePassword, nil)
	if liveLacks(rel) != errors.Is(err, errors.ErrUnsupported) || !liveLacks(rel) && err != nil {
		t.Errorf("deleting password credentials on %s: %v", rel, err)
	}
	// The same answer on every release: code credentials are never deleted.
	if err := c.Identities.DeleteCredentials(ctx, pw.ID, client.CredentialsTypeCode, nil); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("deleting code credentials on %s: %v", rel, err)
	}
	// Out-of-range page sizes: the same page on every release (v1.3.1's
	// handler would die on -1 and honour 1001).
	for _, size := range []int64{-1, 1001} {
		if _, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: size}); err != nil {
			t.Errorf("PageSize %d on %s: %v", size, rel, err)
		}
	}
	// Combined filters: a documented difference (v1.3.1 applies both).
	_, err = c.Identities.ListPage(ctx, &client.ListIdentitiesParams{IDs: []string{pw.ID}, CredentialsIdentifier: "x@example.org"})
	if liveLacks(rel) == errors.Is(err, client.ErrBadRequest) {
		t.Errorf("combined filters on %s: %v", rel, err)
	}
}

// TestLiveReleaseIncludeSAML: Get, ListPage and List asking for password and
// saml credentials read the stored hash on every release (v1.3.1 answers a
// raw include_credential=saml with a 400; the client does not ask it).
func TestLiveReleaseIncludeSAML(t *testing.T) {
	c, rel := liveReleaseClient(t)
	ctx := t.Context()
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	email := "rel-saml-" + run + "@example.org"
	const hash = "$2a$04$4nm6Bnk6XhN9y5M8T8ElRuMq9IX1yCqO1jP5rPVcbgGZQ2gkPL9HS"
	body := &client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(fmt.Sprintf(`{"email":%q}`, email))}
	body.Credentials.Password.Config.HashedPassword = hash
	created, err := c.Identities.Create(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Identities.Delete(ctx, created.ID) }()
	include := []client.IdentityCredentialsType{client.CredentialsTypePassword, client.CredentialsTypeSAML}
	hasHash := func(what string, idn *client.Identity) {
		t.Helper()
		if !strings.Contains(string(idn.Credentials["password"].Config), hash) {
			t.Errorf("%s on %s: no stored hash in %s", what, rel, idn.Credentials["password"].Config)
		}
	}
	got, err := c.Identities.Get(ctx, created.ID, &client.GetIdentityParams{IncludeCredential: include})
	if err != nil {
		t.Fatalf("Get with password and saml on %s: %v", rel, err)
	}
	hasHash("Get", got)
	page, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{CredentialsIdentifier: email, IncludeCredential: include})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("ListPage with password and saml on %s: %v", rel, err)
	}
	hasHash("ListPage", &page.Items[0])
	found := false
	for idn, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{IncludeCredential: include, PageSize: 500}) {
		if err != nil {
			t.Fatalf("List with password and saml on %s: %v", rel, err)
		}
		if idn.ID == created.ID {
			hasHash("List", idn)
			found = true
		}
	}
	if !found {
		t.Errorf("List on %s: %s not walked", rel, created.ID)
	}
	raw, err := http.Get(os.Getenv("KRATOS_ADMIN_URL") + "/admin/identities/" + created.ID + "?include_credential=password&include_credential=saml")
	if err != nil {
		t.Fatal(err)
	}
	raw.Body.Close()
	if want := map[bool]int{true: http.StatusBadRequest, false: http.StatusOK}[liveLacks(rel)]; raw.StatusCode != want {
		t.Errorf("raw include_credential=saml on %s: %d, the compatibility table says %d", rel, raw.StatusCode, want)
	}
}

// TestLiveReleaseBatchTruth: two new identities and one duplicate in one
// batch. Every item reported created is on the server; every item reported
// rolled back is not (v1.3.1 rolls both back; later releases keep them).
func TestLiveReleaseBatchTruth(t *testing.T) {
	c, rel := liveReleaseClient(t)
	ctx := t.Context()
	run := time.Now().UnixNano()
	body := func(n int) client.CreateIdentityBody {
		return client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(fmt.Sprintf(`{"email":"batch-%d-%d@example.org"}`, n, run))}
	}
	dup := body(1)
	first, err := c.Identities.Create(ctx, &dup)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Identities.Delete(ctx, first.ID) }()
	res, err := c.Identities.BatchCreate(ctx, []client.IdentityPatch{{Create: body(0)}, {Create: dup}, {Create: body(2)}})
	if !errors.Is(err, client.ErrBatchItemsFailed) || res == nil {
		t.Fatalf("want a *BatchError, got %v", err)
	}
	if !errors.Is(res.Items[1].Err, client.ErrConflict) {
		t.Errorf("duplicate: %v", res.Items[1].Err)
	}
	rolledBack := 0
	for _, i := range []int{0, 2} {
		it := res.Items[i]
		var rb *client.RolledBackError
		switch {
		case it.Created():
			if _, err := c.Identities.Get(ctx, it.IdentityID, nil); err != nil {
				t.Errorf("item %d reported created, but: %v", i, err)
			}
			_ = c.Identities.Delete(ctx, it.IdentityID)
		case errors.As(it.Err, &rb):
			rolledBack++
			if _, err := c.Identities.Get(ctx, rb.IdentityID, nil); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("item %d reported rolled back, but Get: %v", i, err)
			}
		default:
			t.Errorf("item %d: %v", i, it.Err)
		}
	}
	want := 0
	if liveLacks(rel) {
		want = 2
	}
	if rolledBack != want {
		t.Errorf("%s: %d items rolled back, want %d", rel, rolledBack, want)
	}
}
