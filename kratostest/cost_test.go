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
