package bulk_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
)

// TestLiveReleaseImport imports N identities (LIVE_RELEASE_N, default
// 1,000), half of them imported beforehand, into a real Kratos of any
// release (KRATOS_ADMIN_URL; make live-releases): every input identity
// must end on the server exactly once, N/2 created and N/2 already present,
// none failed. On v1.3.1 the first batches are rolled back by the server
// for their present items; the importer sends the new ones again.
func TestLiveReleaseImport(t *testing.T) {
	admin := os.Getenv("KRATOS_ADMIN_URL")
	if admin == "" {
		t.Skip("set KRATOS_ADMIN_URL to import into a real Kratos")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("LIVE_RELEASE_N")); err == nil && v > 1 {
		n = v
	}
	c, err := client.New(admin)
	require.NoError(t, err)
	rel, err := c.KratosVersion(t.Context())
	require.NoError(t, err)
	run := time.Now().UnixNano()
	mail := func(i int) string { return fmt.Sprintf("live-rel-%d-%06d@example.org", run, i) }
	items := func(k int) func(yield func(client.CreateIdentityBody, error) bool) {
		return func(yield func(client.CreateIdentityBody, error) bool) {
			for i := range k {
				if !yield(client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"` + mail(i) + `"}`)}, nil) {
					return
				}
			}
		}
	}
	sum, err := bulk.Import(t.Context(), c, items(n/2), nil)
	require.NoError(t, err)
	require.Equal(t, n/2, sum.Created, "%s: first half", rel)
	start := time.Now()
	sum, err = bulk.Import(t.Context(), c, items(n), nil)
	require.NoError(t, err)
	t.Logf("%s: %d items, %d of them present: %d created, %d already present, %d failed in %v", rel, n, n/2, sum.Created, sum.AlreadyPresent, sum.Failed, time.Since(start).Round(time.Millisecond))
	require.Equal(t, n-n/2, sum.Created)
	require.Equal(t, n/2, sum.AlreadyPresent)
	require.Zero(t, sum.Failed)
	seen := map[string]int{}
	for idn, err := range c.Identities.List(t.Context(), &client.ListIdentitiesParams{PageSize: client.MaxIdentitiesPageSize}) {
		require.NoError(t, err)
		var tr struct {
			Email string `json:"email"`
		}
		require.NoError(t, json.Unmarshal(idn.Traits, &tr))
		seen[tr.Email]++
	}
	for i := range n {
		require.Equal(t, 1, seen[mail(i)], "%s: identity %d on the server", rel, i)
	}
}
