package bulk_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/orynet"
	"github.com/kratosadmin/sdk/kratostest"
)

// TestImportPacesOryNetworkRateLimit: against a fake that meters requests
// as Ory Network does (6 per one-second window, with x-ratelimit-remaining
// and x-ratelimit-reset on every answer), an import of 12 batches by 3
// workers slows down before the bucket is empty: every identity is created
// and not one request is refused. Without the pacing, three workers
// sending as fast as the fake answers would be refused within the first
// window.
func TestImportPacesOryNetworkRateLimit(t *testing.T) {
	limit := &orynet.Limiter{Limit: 6, Window: time.Second}
	srv, _ := importFake(t, kratostest.WithMiddleware(limit.Wrap))
	c := fakeClient(srv)
	const n = 24
	items := make([]client.CreateIdentityBody, n)
	for i := range items {
		items[i] = person(i)
	}
	start := time.Now()
	sum, err := bulk.Import(ctxTimeout(t, 30*time.Second), c, seqOf(items...), &bulk.ImportOptions{BatchSize: 2, Concurrency: 3})
	require.NoError(t, err)
	took := time.Since(start)
	served, refused := limit.Counts()
	t.Logf("%d requests served, %d refused, in %s", served, refused, took)
	assert.Equal(t, n, sum.Created, "identities created")
	assert.Zero(t, refused, "requests refused")
	// 12 batches at 6 requests a second take at least one window turn.
	assert.GreaterOrEqual(t, took, time.Second, "the pacing waits for a window")
}
