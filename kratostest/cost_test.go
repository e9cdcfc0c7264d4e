package kratostest_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

func TestQueryCostDelaysAndCounts(t *testing.T) {
	const cost = 150 * time.Millisecond
	srv := kratostest.NewServer(t,
		kratostest.WithQueryCost(kratostest.QueryCosts{CredentialsIdentifier: cost, BatchItem: cost / 2}),
		kratostest.WithIdentities(client.CreateIdentityBody{SchemaID: kratostest.DefaultSchemaID, ExternalID: "e1", Traits: json.RawMessage(`{"email":"a@example.org"}`)}))
	c := srv.Client()
	ctx := t.Context()

	start := time.Now()
	page, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{CredentialsIdentifier: "a@example.org"})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("credentials_identifier lookup: %v, %d items", err, len(page.Items))
	}
	if d := time.Since(start); d < cost {
		t.Errorf("a credentials_identifier lookup took %s, less than its QueryCosts time %s", d, cost)
	}

	if _, err = c.Identities.GetByExternalID(ctx, "e1", nil); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err = c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: 500}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= cost {
		t.Errorf("a page took %s: it has no cost unless asked", d)
	}
	start = time.Now()
	res, err := c.Identities.BatchCreate(ctx, []client.IdentityPatch{
		{Create: client.CreateIdentityBody{SchemaID: kratostest.DefaultSchemaID, Traits: json.RawMessage(`{"email":"b@example.org"}`)}},
		{Create: client.CreateIdentityBody{SchemaID: kratostest.DefaultSchemaID, Traits: json.RawMessage(`{"email":"c@example.org"}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.CreatedCount() != 2 {
		t.Fatalf("batch of 2: %d created (the body is still read after it was counted)", res.CreatedCount())
	}
	if d := time.Since(start); d < cost {
		t.Errorf("a batch of 2 took %s, less than BatchItem an identity (%s)", d, cost)
	}

	if got, want := srv.QueryCounts(), (kratostest.QueryCounts{CredentialsIdentifier: 1, ExternalID: 1, Pages: 1, Batches: 1}); got != want {
		t.Errorf("QueryCounts %+v, want %+v", got, want)
	}
	srv.Reset()
	if got := srv.QueryCounts(); got != (kratostest.QueryCounts{}) {
		t.Errorf("QueryCounts after Reset %+v, want zero", got)
	}
}

func TestQueryCostPerIdentityScansTheStore(t *testing.T) {
	const per = 60 * time.Millisecond
	srv := kratostest.NewServer(t, kratostest.WithQueryCost(kratostest.QueryCosts{CredentialsIdentifierPerIdentity: per}))
	c := srv.Client()
	lookup := func() time.Duration {
		start := time.Now()
		if _, err := c.Identities.ListPage(t.Context(), &client.ListIdentitiesParams{CredentialsIdentifier: "nobody@example.org"}); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	if d := lookup(); d >= per {
		t.Errorf("a lookup in an empty store took %v, want under %v", d, per)
	}
	for _, e := range []string{"a@example.org", "b@example.org", "c@example.org"} {
		if _, err := c.Identities.Create(t.Context(), &client.CreateIdentityBody{SchemaID: kratostest.DefaultSchemaID, Traits: json.RawMessage(`{"email":"` + e + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if d := lookup(); d < 3*per {
		t.Errorf("a lookup with 3 identities stored took %v, want its per-identity cost for each: at least %v", d, 3*per)
	}
}

func TestQueryCostProfiles(t *testing.T) {
	sq, pg := kratostest.SQLiteCosts(), kratostest.PostgresCosts()
	// What the importer's choice rests on: on SQLite a lookup by
	// identifier in a store of 1,000 costs more than a walk of it; on
	// PostgreSQL a lookup costs less than a page.
	if sq.CredentialsIdentifierPerIdentity*1000 <= 2*sq.Page {
		t.Errorf("SQLite: a lookup in 1,000 stored (%v) is not dearer than a walk of them (%v)", sq.CredentialsIdentifierPerIdentity*1000, 2*sq.Page)
	}
	if pg.CredentialsIdentifier >= pg.Page {
		t.Errorf("PostgreSQL: a lookup (%v) is not cheaper than a page (%v)", pg.CredentialsIdentifier, pg.Page)
	}
	if got := pg.Scale(0.1).Page; got != pg.Page/10 {
		t.Errorf("Scale(0.1).Page = %v, want %v", got, pg.Page/10)
	}
	if got := sq.Scale(0.1).CredentialsIdentifierPerIdentity; got != sq.CredentialsIdentifierPerIdentity/10 {
		t.Errorf("Scale(0.1).CredentialsIdentifierPerIdentity = %v, want %v", got, sq.CredentialsIdentifierPerIdentity/10)
	}
}
