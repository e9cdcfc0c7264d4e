package kratostest_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.GreaterOrEqual(t, time.Since(start), cost, "a credentials_identifier lookup costs its QueryCosts time")

	_, err = c.Identities.GetByExternalID(ctx, "e1", nil)
	require.NoError(t, err)
	start = time.Now()
	_, err = c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: 500})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), cost, "a page has no cost unless asked")
	start = time.Now()
	res, err := c.Identities.BatchCreate(ctx, []client.IdentityPatch{
		{Create: client.CreateIdentityBody{SchemaID: kratostest.DefaultSchemaID, Traits: json.RawMessage(`{"email":"b@example.org"}`)}},
		{Create: client.CreateIdentityBody{SchemaID: kratostest.DefaultSchemaID, Traits: json.RawMessage(`{"email":"c@example.org"}`)}},
	})
	require.NoError(t, err)
	assert.Equal(t, 2, res.CreatedCount(), "the body is still read after it was counted")
	assert.GreaterOrEqual(t, time.Since(start), cost, "a batch costs BatchItem an identity")

	assert.Equal(t, kratostest.QueryCounts{CredentialsIdentifier: 1, ExternalID: 1, Pages: 1, Batches: 1}, srv.QueryCounts())
	srv.Reset()
	assert.Equal(t, kratostest.QueryCounts{}, srv.QueryCounts())
}

func TestQueryCostPerIdentityScansTheStore(t *testing.T) {
	const per = 60 * time.Millisecond
	srv := kratostest.NewServer(t, kratostest.WithQueryCost(kratostest.QueryCosts{CredentialsIdentifierPerIdentity: per}))
	c := srv.Client()
	lookup := func() time.Duration {
		start := time.Now()
		_, err := c.Identities.ListPage(t.Context(), &client.ListIdentitiesParams{CredentialsIdentifier: "nobody@example.org"})
		require.NoError(t, err)
		return time.Since(start)
	}
	assert.Less(t, lookup(), per, "an empty store is scanned at once")
	for _, e := range []string{"a@example.org", "b@example.org", "c@example.org"} {
		_, err := c.Identities.Create(t.Context(), &client.CreateIdentityBody{SchemaID: kratostest.DefaultSchemaID, Traits: json.RawMessage(`{"email":"` + e + `"}`)})
		require.NoError(t, err)
	}
	assert.GreaterOrEqual(t, lookup(), 3*per, "a lookup costs its per-identity time for each identity stored")
}

func TestQueryCostProfiles(t *testing.T) {
	sq, pg := kratostest.SQLiteCosts(), kratostest.PostgresCosts()
	// What the importer's choice rests on: on SQLite a lookup by
	// identifier in a store of 1,000 costs more than a walk of it; on
	// PostgreSQL a lookup costs less than a page.
	assert.Greater(t, sq.CredentialsIdentifierPerIdentity*1000, 2*sq.Page)
	assert.Less(t, pg.CredentialsIdentifier, pg.Page)
	assert.Equal(t, pg.Page/10, pg.Scale(0.1).Page)
	assert.Equal(t, sq.CredentialsIdentifierPerIdentity/10, sq.Scale(0.1).CredentialsIdentifierPerIdentity)
}
