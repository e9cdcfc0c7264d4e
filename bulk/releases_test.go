package bulk_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// TestImportResendsRolledBackItems: on a release that rolls a batch back
// for one conflicting item (the fake as v1.3.1), the import still ends with every input
// identity on the server exactly once: 500 imported, then a file of 1,000
// holding those 500 and 500 new ones.
func TestImportResendsRolledBackItems(t *testing.T) {
	srv, _ := importFake(t, kratostest.WithVersion(kratostest.ReleaseV1_3))
	c := fakeClient(srv, client.WithKratosVersion(""))
	v, err := c.KratosVersion(t.Context())
	require.NoError(t, err)
	require.Equal(t, client.KratosV1_3, v)

	sum, o, err := runImport(t, c, t.Context(), people(500), bulk.ImportOptions{})
	require.NoError(t, err)
	accounted(t, 500, sum, o)
	require.Equal(t, 500, sum.Created)

	sum, o, err = runImport(t, c, t.Context(), people(1000), bulk.ImportOptions{})
	require.NoError(t, err)
	m := accounted(t, 1000, sum, o)
	assert.Equal(t, 500, sum.Created)
	assert.Equal(t, 500, sum.AlreadyPresent)
	assert.Zero(t, sum.Failed)
	for i := 500; i < 1000; i++ {
		require.Equal(t, bulk.ImportCreated, m[i].Status, "item %d", i)
	}
	seen := map[string]int{}
	for idn, err := range c.Identities.List(t.Context(), &client.ListIdentitiesParams{PageSize: 500}) {
		require.NoError(t, err)
		var tr struct {
			Email string `json:"email"`
		}
		require.NoError(t, json.Unmarshal(idn.Traits, &tr))
		seen[tr.Email]++
	}
	require.Equal(t, 1000, len(seen), "identities on the server")
	for i := range 1000 {
		require.Equal(t, 1, seen[email(i)], "identity %d", i)
	}
}

// TestBatchCreateReportsRollback: BatchCreate itself tells the truth on
// such a release: two new identities and one duplicate answer "create,
// error, create", the server keeps neither, and both are reported rolled
// back; a batch whose failure rolls nothing back reports its items created.
func TestBatchCreateReportsRollback(t *testing.T) {
	srv, _ := importFake(t, kratostest.WithVersion(kratostest.ReleaseV1_3))
	c := fakeClient(srv, client.WithKratosVersion(""))
	create(t, c, person(1))
	res, err := c.Identities.BatchCreate(t.Context(), []client.IdentityPatch{{Create: person(0)}, {Create: person(1)}, {Create: person(2)}})
	require.ErrorIs(t, err, client.ErrBatchItemsFailed)
	require.ErrorIs(t, res.Items[1].Err, client.ErrConflict)
	for _, i := range []int{0, 2} {
		var rb *client.RolledBackError
		require.ErrorAs(t, res.Items[i].Err, &rb, "item %d", i)
		assert.Equal(t, client.KratosV1_3, rb.Release)
		assert.False(t, res.Items[i].Created())
		assert.Empty(t, res.Items[i].IdentityID)
		_, err := c.Identities.Get(t.Context(), rb.IdentityID, nil)
		require.ErrorIs(t, err, client.ErrNotFound, "the rolled-back identity is not on the server")
	}
	assert.Equal(t, 0, res.CreatedCount())

	bad := person(3)
	bad.Traits = json.RawMessage(`{"email":"not-an-email"}`)
	res, err = c.Identities.BatchCreate(t.Context(), []client.IdentityPatch{{Create: person(4)}, {Create: bad}})
	require.ErrorIs(t, err, client.ErrBatchItemsFailed)
	require.True(t, res.Items[0].Created())
	_, err = c.Identities.Get(t.Context(), res.Items[0].IdentityID, nil)
	require.NoError(t, err)
}
