package bulk_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
)

// TestHooksSeeImportBatches: the importer's batches are calls of the
// client, seen by its hooks as batchPatchIdentities.
func TestHooksSeeImportBatches(t *testing.T) {
	srv, _ := importFake(t)
	var mu sync.Mutex
	calls := map[string]int{}
	hooks := &client.Hooks{CallDone: func(_ context.Context, c client.CallInfo, r client.CallResult) {
		mu.Lock()
		defer mu.Unlock()
		if r.Err == nil && r.Attempts == 1 {
			calls[c.Operation]++
		}
	}}
	c := fakeClient(srv, client.WithHooks(hooks))
	_, err := bulk.Import(t.Context(), c, seqOf(person(1), person(2), person(3)), &bulk.ImportOptions{BatchSize: 2, Concurrency: 1})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 2, calls["batchPatchIdentities"], "batch calls seen: %v", calls)
}
