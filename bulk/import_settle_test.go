package bulk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// realCosts is what a real Kratos v26.2.0 on SQLite charges
// (kratostest.SQLiteCosts: a lookup by credentials_identifier scans the
// store, 10 ms an identity, a page of 500 0.1 s), at three tenths: with
// 1,200 stored a lookup costs over 3 s here, so an importer that goes
// back to them runs into the test's deadline instead of passing slowly;
// the counts say why.
var realCosts = kratostest.SQLiteCosts().Scale(0.3)

// noPerItemLookups fails when the import sent lookups per item: only
// those that measured the server (at most two measurements of twice conc
// lookups each, cut off), and at most the pages of walks over stored
// identities and the two that measured the server.
func noPerItemLookups(t *testing.T, before, after kratostest.QueryCounts, stored, walks, conc int) {
	t.Helper()
	measuring := int64(2 * 2 * conc)
	assert.LessOrEqual(t, after.CredentialsIdentifier-before.CredentialsIdentifier, measuring, "credentials_identifier lookups: the importer must settle in bulk")
	assert.LessOrEqual(t, after.ExternalID-before.ExternalID, measuring, "external id lookups: the importer must settle in bulk")
	pagesPerWalk := int64(stored/500 + 1)
	assert.LessOrEqual(t, after.Pages-before.Pages, 2+int64(walks)*pagesPerWalk, "pages: at most %d walks of the store", walks)
}

func TestImportRerunSettlesInBulk(t *testing.T) {
	srv, obs := importFake(t, kratostest.WithQueryCost(realCosts))
	c := fakeClient(srv)
	const n = 1200
	items := make([]client.CreateIdentityBody, 0, n+20)
	for i := range n {
		b := person(i)
		if i%3 == 0 {
			b.ExternalID = fmt.Sprintf("ext-%d", i)
		}
		items = append(items, b)
	}
	sum, err := bulk.Import(t.Context(), c, seqOf(items...), nil)
	require.NoError(t, err)
	require.Equal(t, n, sum.Created)

	// The same input again, plus 10 new identities; 5 items carry the
	// identifier of a stored identity with other traits, and one the
	// external id of a stored identity of another schema.
	differ := map[int]bool{1: true, 4: true, 7: true, 10: true, 13: true}
	for i := range differ {
		items[i] = client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(fmt.Sprintf(`{"email":"user%05d@example.org","name":{"first":"Other"}}`, i))}
	}
	items[3] = anon(1, "ext-3")
	for i := n; i < n+10; i++ {
		items = append(items, person(i))
	}
	before := srv.QueryCounts()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	start := time.Now()
	sum2, o, err := runImport(t, c, ctx, seqOf(items...), bulk.ImportOptions{BatchSize: 100, Concurrency: 1})
	require.NoError(t, err, "a re-run must not need a lookup per item")
	m := accounted(t, len(items), sum2, o)
	// One walk probes the input and settles the first batch's conflicts.
	noPerItemLookups(t, before, srv.QueryCounts(), n+10, 1, 1)
	assert.Equal(t, bulk.ImportSettleByWalk, sum2.Settling.Method, sum2.Settling.Reason)
	assert.Equal(t, 1, sum2.Settling.Walks)

	s := noDuplicates(t, c, srv, obs)
	for i := range n {
		if i != 3 && !differ[i] {
			require.Equal(t, bulk.ImportAlreadyPresent, m[i].Status, "item %d: %v", i, m[i].Err)
			require.Equal(t, s.byEmail[email(i)].ID, m[i].IdentityID, "item %d", i)
			continue
		}
		require.Equal(t, bulk.ImportFailed, m[i].Status, "item %d", i)
		var ce *bulk.ConflictError
		require.ErrorAs(t, m[i].Err, &ce, "item %d", i)
		require.ErrorIs(t, m[i].Err, client.ErrConflict)
		assert.Equal(t, s.byEmail[email(i)].ID, ce.ExistingID, "item %d names the identity it conflicts with", i)
		if i == 3 {
			assert.Contains(t, ce.Difference, "schema_id")
		} else {
			assert.Equal(t, "traits differ", ce.Difference)
		}
	}
	for i := n; i < n+10; i++ {
		require.Equal(t, bulk.ImportCreated, m[i].Status, "item %d: %v", i, m[i].Err)
	}
	assert.Equal(t, n+10, srv.IdentityCount())
	// Once the first batches came back as conflicts, the rest of the input
	// was found by a walk instead of being sent: of 13 batches of 100, the
	// first, one queued behind it, one being formed, and the 10 new ones.
	assert.LessOrEqual(t, sum2.Batches, 4, "batches sent in the re-run")
	t.Logf("re-run of %d against a fake with real lookup costs: %v, %+v", len(items), time.Since(start).Round(time.Millisecond), *sum2)
}

// TestImportRerunProbesAWindowAtATime: ImportOptions.Window bounds what a
// re-run holds: 1,200 items probed 400 at a time are three walks (one with
// the default window), and every item is still found.
func TestImportRerunProbesAWindowAtATime(t *testing.T) {
	srv, obs := importFake(t, kratostest.WithQueryCost(realCosts))
	c := fakeClient(srv)
	const n, window = 1200, 400
	sum, err := bulk.Import(t.Context(), c, people(n), nil)
	require.NoError(t, err)
	require.Equal(t, n, sum.Created)

	sum, o, err := runImport(t, c, t.Context(), people(n), bulk.ImportOptions{Window: window})
	require.NoError(t, err)
	m := accounted(t, n, sum, o)
	for i := range n {
		require.Equal(t, bulk.ImportAlreadyPresent, m[i].Status, "item %d: %v", i, m[i].Err)
	}
	assert.Equal(t, bulk.ImportSettleByWalk, sum.Settling.Method, sum.Settling.Reason)
	// The first batch (100) comes back conflicting; the rest is probed in
	// windows of 400: 1,100 items, three walks.
	assert.Equal(t, 3, sum.Settling.Walks, "walks, %+v", sum.Settling)
	assert.Equal(t, n, srv.IdentityCount())
	noDuplicates(t, c, srv, obs)
}

func TestImportLostAnswersSettleInBulk(t *testing.T) {
	for _, fault := range []string{"drop", "504"} {
		t.Run(fault, func(t *testing.T) {
			var mw = dropAfterApply(func(call, size int) (bool, bool) { return call == 2 || call == 5, false })
			if fault == "504" {
				mw = gatewayTimeoutAfterApply(func(call int) bool { return call == 2 || call == 5 })
			}
			srv, obs := importFake(t, kratostest.WithMiddleware(mw), kratostest.WithQueryCost(realCosts))
			c := fakeClient(srv)
			const n = 2000
			items := make([]client.CreateIdentityBody, n)
			for i := range n {
				items[i] = person(i)
				if i%2 == 0 {
					items[i].ExternalID = fmt.Sprintf("ext-%d", i)
				}
			}
			before := srv.QueryCounts()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			sum, o, err := runImport(t, c, ctx, seqOf(items...), bulk.ImportOptions{BatchSize: 250, Concurrency: 2})
			require.NoError(t, err)
			m := accounted(t, n, sum, o)
			// One walk, at the end, for both lost answers.
			noPerItemLookups(t, before, srv.QueryCounts(), n, 1, 2)
			assert.Equal(t, 1, sum.Settling.Walks)
			s := noDuplicates(t, c, srv, obs)
			require.Equal(t, n, srv.IdentityCount(), "every identity exactly once")
			for i := range n {
				require.Contains(t, []bulk.ImportStatus{bulk.ImportCreated, bulk.ImportAlreadyPresent}, m[i].Status, "item %d: %v", i, m[i].Err)
				require.Equal(t, s.byEmail[email(i)].ID, m[i].IdentityID, "item %d", i)
			}
			assert.GreaterOrEqual(t, sum.AlreadyPresent, 250, "at least the first applied batch whose answer was lost")
		})
	}
}

func TestImportWalkFailureFailsWaitingItems(t *testing.T) {
	srv, _ := importFake(t, kratostest.WithMiddleware(failPages))
	c := fakeClient(srv, client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 1}))
	create(t, c, person(1))
	sum, o, err := runImport(t, c, t.Context(), seqOf(person(1), person(2)), bulk.ImportOptions{})
	require.NoError(t, err)
	m := accounted(t, 2, sum, o)
	require.Equal(t, bulk.ImportFailed, m[0].Status)
	require.ErrorIs(t, m[0].Err, client.ErrConflict)
	assert.Contains(t, m[0].Err.Error(), "checking for an existing identity failed")
	assert.Equal(t, bulk.ImportCreated, m[1].Status)
}

// gatewayTimeoutAfterApply serves the PATCH calls fault names, then answers
// 504 as a proxy whose upstream was too slow would: applied, answer lost.
func gatewayTimeoutAfterApply(fault func(call int) bool) func(http.Handler) http.Handler {
	var calls atomic.Int32
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPatch || !fault(int(calls.Add(1))) {
				next.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(httptest.NewRecorder(), r)
			writeKratosError(w, http.StatusGatewayTimeout, "upstream timed out")
		})
	}
}

// failPages answers every list of identities 500.
func failPages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/admin/identities" {
			writeKratosError(w, http.StatusInternalServerError, "store unavailable")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestImportWalkFallsBackToSmallerPagesOnTimeouts(t *testing.T) {
	var slowPages atomic.Int32
	srv, _ := importFake(t, kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/admin/identities" && r.URL.Query().Get("page_size") == "500" {
				slowPages.Add(1)
				time.Sleep(400 * time.Millisecond) // past the client's timeout
			}
			next.ServeHTTP(w, r)
		})
	}))
	c := fakeClient(srv, client.WithTimeout(250*time.Millisecond))
	const n = 300
	sum, err := bulk.Import(t.Context(), c, people(n), nil)
	require.NoError(t, err)
	require.Equal(t, n, sum.Created)
	sum, o, err := runImport(t, c, t.Context(), people(n+10), bulk.ImportOptions{})
	require.NoError(t, err)
	m := accounted(t, n+10, sum, o)
	for i := range n {
		require.Equal(t, bulk.ImportAlreadyPresent, m[i].Status, "item %d: %v", i, m[i].Err)
	}
	assert.Equal(t, 10, sum.Created)
	assert.Positive(t, slowPages.Load(), "the walk asked for pages of 500 first")
}

// TestImportRerunSendsASmallFirstBatch: a re-run at the default batch size
// sends one batch of at most 100 items before it probes the rest: on
// SQLite a batch of 1,000 conflicts took 7.0 s to answer with 10,000
// stored (Kratos v26.2.0), a batch of 1,000 creations 1.1 s.
func TestImportRerunSendsASmallFirstBatch(t *testing.T) {
	srv, obs := importFake(t, kratostest.WithQueryCost(realCosts))
	c := fakeClient(srv)
	const n = 2000
	sum, err := bulk.Import(t.Context(), c, people(n), nil)
	require.NoError(t, err)
	require.Equal(t, n, sum.Created)
	sent := len(obs.sizes())
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	sum2, o, err := runImport(t, c, ctx, people(n), bulk.ImportOptions{})
	require.NoError(t, err)
	accounted(t, n, sum2, o)
	assert.Equal(t, n, sum2.AlreadyPresent)
	rerun := obs.sizes()[sent:]
	require.NotEmpty(t, rerun)
	assert.LessOrEqual(t, rerun[0], 100, "the re-run's first batch: %v", rerun)
	total := 0
	for _, s := range rerun {
		total += s
	}
	assert.LessOrEqual(t, total, 100, "items the re-run sent before probing the rest: %v", rerun)
}
