package bulk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// The importer settles by lookups or by a walk, whichever the server makes
// cheaper, and finds out by measuring it. These tests give the fake each
// database's cost profile (kratostest.SQLiteCosts, PostgresCosts, from
// Kratos v26.2.0 measured on both) and a store much larger than the run,
// and count the requests: on SQLite never a lookup per item (one scans the
// store), on PostgreSQL never a walk of the store for a few lost answers
// (a lookup is an index read, a walk reads everything).

// profiles are the two databases' costs as the tests use them: SQLite's
// at a tenth (a lookup still costs seconds with thousands stored), and
// PostgreSQL's as measured (its lookups must stay well above the fake's
// own latency under -race for the choice to mean anything).
//
// stored is how many identities the store holds before each run: on
// PostgreSQL the walk of 10,000 (20 pages) costs 1.6 s, a lookup 5 ms; on
// SQLite a lookup by identifier scans all 3,000 (3 s), a walk of them
// takes 7 pages of 10 ms.
var profiles = []struct {
	name   string
	costs  kratostest.QueryCosts
	stored int
	walk   bool // the cheap path for a few lost answers: a walk
}{
	{"sqlite", kratostest.SQLiteCosts().Scale(0.1), 3000, true},
	{"postgres", kratostest.PostgresCosts(), 10000, false},
}

func storedOnes(n int) kratostest.Option {
	bodies := make([]client.CreateIdentityBody, n)
	for i := range bodies {
		bodies[i] = client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(fmt.Sprintf(`{"email":"stored%06d@example.org"}`, i))}
	}
	return kratostest.WithIdentities(bodies...)
}

// identityEmail is the email in the traits of the identity id.
func identityEmail(t *testing.T, c *client.Client, id string) string {
	t.Helper()
	idn, err := c.Identities.Get(t.Context(), id, nil)
	require.NoError(t, err)
	var tr struct {
		Email string `json:"email"`
	}
	require.NoError(t, json.Unmarshal(idn.Traits, &tr))
	return tr.Email
}

// createdOnce checks, without walking the large store, that the fake
// created no identity twice and holds what it should.
func createdOnce(t *testing.T, srv *kratostest.Server, obs *observer, want int) {
	t.Helper()
	key, n := obs.maxCreations()
	require.LessOrEqual(t, n, 1, "%q was created %d times", key, n)
	require.Equal(t, want, srv.IdentityCount(), "every identity exactly once")
}

func TestImportLostAnswersTakeTheCheapPath(t *testing.T) {
	for _, p := range profiles {
		for _, fault := range []string{"drop", "504"} {
			t.Run(p.name+"/"+fault, func(t *testing.T) {
				lost := func(call int) bool { return call == 3 || call == 7 }
				mw := dropAfterApply(func(call, size int) (bool, bool) { return lost(call), false })
				if fault == "504" {
					mw = gatewayTimeoutAfterApply(lost)
				}
				srv, obs := importFake(t, storedOnes(p.stored), kratostest.WithMiddleware(mw), kratostest.WithQueryCost(p.costs))
				c := fakeClient(srv)
				const n, batch, conc = 300, 25, 2
				items := make([]client.CreateIdentityBody, n)
				for i := range n {
					items[i] = person(i)
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				sum, o, err := runImport(t, c, ctx, seqOf(items...), bulk.ImportOptions{BatchSize: batch, Concurrency: conc})
				require.NoError(t, err)
				m := accounted(t, n, sum, o)
				q := srv.QueryCounts()
				t.Logf("%s: %+v; %+v", p.name, sum.Settling, q)
				pagesPerWalk := int64(p.stored/500 + 2)
				if p.walk {
					// One walk between both lost answers, besides the two
					// pages that measured the server; the lookups that
					// measured it (twice conc at most) were cut off.
					assert.Equal(t, bulk.ImportSettleByWalk, sum.Settling.Method, sum.Settling.Reason)
					assert.Equal(t, 1, sum.Settling.Walks)
					assert.LessOrEqual(t, q.CredentialsIdentifier, int64(2*conc), "lookups by identifier on SQLite: only those that measured it")
					assert.LessOrEqual(t, q.Pages, 2+pagesPerWalk)
				} else {
					// The lost batches' items looked up, and no walk: two
					// pages measured the server.
					assert.Equal(t, bulk.ImportSettleByLookups, sum.Settling.Method, sum.Settling.Reason)
					assert.Zero(t, sum.Settling.Walks)
					assert.LessOrEqual(t, q.Pages, int64(2), "pages on PostgreSQL: no walk of the store")
					// One lookup per lost item, and those that measured.
					assert.GreaterOrEqual(t, q.CredentialsIdentifier, int64(sum.AlreadyPresent))
					assert.LessOrEqual(t, q.CredentialsIdentifier, int64(sum.AlreadyPresent+2*conc))
				}
				// Every lookup the server saw is counted (a measuring one
				// cut off before it was sent is counted too).
				assert.LessOrEqual(t, q.CredentialsIdentifier+q.ExternalID, int64(sum.Settling.Lookups))
				createdOnce(t, srv, obs, p.stored+n)
				for i := range n {
					require.Contains(t, []bulk.ImportStatus{bulk.ImportCreated, bulk.ImportAlreadyPresent}, m[i].Status, "item %d: %v", i, m[i].Err)
					require.Equal(t, email(i), identityEmail(t, c, m[i].IdentityID), "item %d", i)
				}
				// The lost batches were applied: their items are found
				// present (the first is a whole batch; a lost answer
				// halves the batch size for a while).
				assert.Greater(t, sum.AlreadyPresent, batch)
			})
		}
	}
}

// TestImportLostAnswersTurnToOneWalk: on PostgreSQL, when the lookups
// for the lost answers so far would cost more than one walk of a small
// store, the rest wait for one walk, which they share: lookups never cost
// more than about twice the cheaper way. With 1,300 stored a walk costs
// about 0.3 s and a lost batch of 25 lookups under 0.1 s: with the answer
// of every 4th batch of 1,000 items lost (about 250 items), the first lost
// batches are looked up, the later ones share one walk.
func TestImportLostAnswersTurnToOneWalk(t *testing.T) {
	lost := func(call int) bool { return call%4 == 3 }
	mw := dropAfterApply(func(call, size int) (bool, bool) { return lost(call), false })
	const stored = 1300
	srv, obs := importFake(t, storedOnes(stored), kratostest.WithMiddleware(mw), kratostest.WithQueryCost(kratostest.PostgresCosts()))
	c := fakeClient(srv)
	const n, batch, conc = 1000, 25, 2
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	sum, o, err := runImport(t, c, ctx, people(n), bulk.ImportOptions{BatchSize: batch, Concurrency: conc})
	require.NoError(t, err)
	m := accounted(t, n, sum, o)
	q := srv.QueryCounts()
	t.Logf("%+v; %+v", sum.Settling, q)
	assert.Equal(t, 1, sum.Settling.Walks, "one walk shared by the later lost answers")
	assert.GreaterOrEqual(t, q.CredentialsIdentifier, int64(batch), "the first lost batch is looked up")
	assert.Less(t, q.CredentialsIdentifier, int64(sum.AlreadyPresent), "not every lost item is looked up")
	createdOnce(t, srv, obs, stored+n)
	for i := range n {
		require.Contains(t, []bulk.ImportStatus{bulk.ImportCreated, bulk.ImportAlreadyPresent}, m[i].Status, "item %d: %v", i, m[i].Err)
		require.Equal(t, email(i), identityEmail(t, c, m[i].IdentityID), "item %d", i)
	}
}

func TestImportRerunTakesTheCheapPath(t *testing.T) {
	for _, p := range profiles {
		for _, size := range []int{10, 2000} {
			t.Run(fmt.Sprintf("%s/%d", p.name, size), func(t *testing.T) {
				items := make([]client.CreateIdentityBody, 0, size+10)
				for i := range size {
					b := person(i)
					if i%3 == 0 {
						b.ExternalID = fmt.Sprintf("ext-%d", i)
					}
					items = append(items, b)
				}
				// Stored: the input of the re-run, among many others.
				srv, obs := importFake(t, storedOnes(p.stored), kratostest.WithIdentities(items...), kratostest.WithQueryCost(p.costs))
				c := fakeClient(srv)
				// Again: one item with other traits under a stored
				// identifier, 10 new ones.
				items[1] = client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"user00001@example.org","name":{"first":"Other"}}`)}
				for i := size; i < size+10; i++ {
					items = append(items, person(i))
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				sum, o, err := runImport(t, c, ctx, seqOf(items...), bulk.ImportOptions{BatchSize: 50, Concurrency: 2})
				require.NoError(t, err)
				m := accounted(t, len(items), sum, o)
				q := srv.QueryCounts()
				t.Logf("%s, re-run of %d onto %d: %+v; %+v", p.name, size, p.stored+size, sum.Settling, q)
				pagesPerWalk := int64((p.stored+size)/500 + 2)
				// A lookup costs 5 ms on PostgreSQL, the walk 1.6 s: a
				// re-run of 10 looks up, one of 2,000 walks once. On
				// SQLite a re-run walks once.
				if p.walk || size > 1000 {
					assert.Equal(t, bulk.ImportSettleByWalk, sum.Settling.Method, sum.Settling.Reason)
					assert.Equal(t, 1, sum.Settling.Walks, "one walk for the whole re-run")
					assert.LessOrEqual(t, q.CredentialsIdentifier+q.ExternalID, int64(4), "only lookups that measured the server")
					assert.LessOrEqual(t, q.Pages, 2+pagesPerWalk)
				} else {
					assert.Equal(t, bulk.ImportSettleByLookups, sum.Settling.Method, sum.Settling.Reason)
					assert.Zero(t, sum.Settling.Walks)
					assert.LessOrEqual(t, q.Pages, int64(2), "no walk of the store")
					assert.GreaterOrEqual(t, q.CredentialsIdentifier+q.ExternalID, int64(size))
				}
				assert.LessOrEqual(t, q.Batches, int64(4), "the re-run's input is looked for, not sent")
				createdOnce(t, srv, obs, p.stored+size+10)
				for i := range size {
					if i == 1 {
						var ce *bulk.ConflictError
						require.ErrorAs(t, m[i].Err, &ce, "item %d", i)
						assert.Equal(t, email(i), identityEmail(t, c, ce.ExistingID))
						assert.Equal(t, "traits differ", ce.Difference)
						continue
					}
					require.Equal(t, bulk.ImportAlreadyPresent, m[i].Status, "item %d: %v", i, m[i].Err)
					require.Equal(t, email(i), identityEmail(t, c, m[i].IdentityID), "item %d", i)
				}
				for i := size; i < size+10; i++ {
					require.Equal(t, bulk.ImportCreated, m[i].Status, "item %d: %v", i, m[i].Err)
				}
			})
		}
	}
}

func TestImportSettlesByWalkWhenLookupsFail(t *testing.T) {
	// A server whose lookups by identifier fail (500) while its pages
	// work: the measuring lookups fail once, settling walks, and every
	// conflict is still settled exactly.
	var lookups atomic.Int32
	failLookups := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Query().Get("credentials_identifier") != "" {
				lookups.Add(1)
				writeKratosError(w, http.StatusInternalServerError, "lookup unavailable")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	items := make([]client.CreateIdentityBody, 40)
	for i := range items {
		items[i] = person(i)
	}
	srv, obs := importFake(t, kratostest.WithMiddleware(failLookups), storedOnes(2000), kratostest.WithIdentities(items[:20]...), kratostest.WithQueryCost(kratostest.PostgresCosts()))
	c := fakeClient(srv, client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 1}))
	sum, o, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{BatchSize: 10, Concurrency: 2})
	require.NoError(t, err)
	m := accounted(t, len(items), sum, o)
	assert.Equal(t, bulk.ImportSettleByWalk, sum.Settling.Method)
	assert.Contains(t, sum.Settling.Reason, "a lookup failed")
	assert.LessOrEqual(t, lookups.Load(), int32(4), "the measuring lookups, once")
	createdOnce(t, srv, obs, 2000+len(items))
	for i := range items {
		want := bulk.ImportCreated
		if i < 20 {
			want = bulk.ImportAlreadyPresent
		}
		require.Equal(t, want, m[i].Status, "item %d: %v", i, m[i].Err)
		require.Equal(t, email(i), identityEmail(t, c, m[i].IdentityID), "item %d", i)
	}
}

func TestImportLookupsBringTheStoredHash(t *testing.T) {
	// Items with a hashed_password are compared with the stored hash. A
	// lookup by identifier asks for it (include_credential=password, which
	// v1.3.1, v25.4.0 and v26.2.0 honour), so that settling a lost batch
	// on PostgreSQL costs one request per item, not a lookup and then a
	// GET by id: that second request doubled the settling on a real
	// Kratos v26.2.0 on PostgreSQL.
	var byID atomic.Int64
	countByID := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/admin/identities/") && !strings.HasPrefix(r.URL.Path, "/admin/identities/by/") {
				byID.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("a stored password"), 4)
	require.NoError(t, err)
	const n = 120
	items := make([]client.CreateIdentityBody, n)
	for i := range n {
		items[i] = person(i)
		items[i].Credentials.Password.Config.HashedPassword = string(hash)
	}
	// One item is stored already with another hash: its conflict is
	// settled by the same lookup, which must bring the stored hash for the
	// comparison to name the difference.
	other, err := bcrypt.GenerateFromPassword([]byte("another password"), 4)
	require.NoError(t, err)
	const conflicting = 7
	stored := items[conflicting]
	stored.Credentials.Password.Config.HashedPassword = string(other)
	lost := func(call int) bool { return call == 2 || call == 4 }
	srv, obs := importFake(t, storedOnes(2000), kratostest.WithIdentities(stored), kratostest.WithMiddleware(countByID),
		kratostest.WithMiddleware(gatewayTimeoutAfterApply(lost)), kratostest.WithQueryCost(kratostest.PostgresCosts()))
	c := fakeClient(srv)
	sum, o, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{BatchSize: 20, Concurrency: 2})
	require.NoError(t, err)
	m := accounted(t, n, sum, o)
	assert.Equal(t, bulk.ImportSettleByLookups, sum.Settling.Method, sum.Settling.Reason)
	require.Greater(t, sum.AlreadyPresent, 0, "the lost batches were applied: their items are found present")
	assert.Zero(t, byID.Load(), "GET /admin/identities/{id} while settling: the lookup should have brought the hash")
	for i := range n {
		if i == conflicting {
			var ce *bulk.ConflictError
			require.ErrorAs(t, m[i].Err, &ce, "item %d", i)
			assert.Contains(t, ce.Difference, "password")
			continue
		}
		require.Contains(t, []bulk.ImportStatus{bulk.ImportCreated, bulk.ImportAlreadyPresent}, m[i].Status, "item %d: %v", i, m[i].Err)
		require.False(t, m[i].PasswordUnverified, "item %d: a hashed_password is compared as stored", i)
	}
	createdOnce(t, srv, obs, 2000+n) // the stored one among them
}

// TestImportSettlesAgainstTheExternalIDFirst: an item whose external id
// is one stored identity's and whose identifier is another's conflicts
// with the first, as a lookup by external id finds it, whichever of the
// two a walk meets first (the store is walked in id order, and ids are
// random: eight such items make both orders all but certain).
func TestImportSettlesAgainstTheExternalIDFirst(t *testing.T) {
	for _, p := range profiles {
		t.Run(p.name, func(t *testing.T) {
			const pairs = 8
			stored := make([]client.CreateIdentityBody, 0, p.stored+2*pairs)
			items := make([]client.CreateIdentityBody, pairs)
			for i := range pairs {
				byExt := client.CreateIdentityBody{SchemaID: "default", ExternalID: fmt.Sprintf("ext-%d", i), Traits: json.RawMessage(fmt.Sprintf(`{"email":"ext%d@example.org"}`, i))}
				byIdent := client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(fmt.Sprintf(`{"email":"ident%d@example.org"}`, i))}
				stored = append(stored, byExt, byIdent)
				items[i] = client.CreateIdentityBody{SchemaID: "default", ExternalID: byExt.ExternalID, Traits: byIdent.Traits}
			}
			for i := range p.stored {
				stored = append(stored, client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(fmt.Sprintf(`{"email":"stored%06d@example.org"}`, i))})
			}
			srv, _ := importFake(t, kratostest.WithIdentities(stored...), kratostest.WithQueryCost(p.costs))
			c := fakeClient(srv)
			byExt := map[string]string{} // external id → the stored identity's id
			for idn, err := range c.Identities.List(t.Context(), &client.ListIdentitiesParams{PageSize: 500}) {
				require.NoError(t, err)
				if idn.ExternalID != "" {
					byExt[idn.ExternalID] = idn.ID
				}
			}
			require.Len(t, byExt, pairs)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			sum, o, err := runImport(t, c, ctx, seqOf(items...), bulk.ImportOptions{BatchSize: pairs})
			require.NoError(t, err)
			m := accounted(t, pairs, sum, o)
			if p.walk {
				assert.Equal(t, bulk.ImportSettleByWalk, sum.Settling.Method, sum.Settling.Reason)
			} else {
				assert.Equal(t, bulk.ImportSettleByLookups, sum.Settling.Method, sum.Settling.Reason)
			}
			for i := range pairs {
				var ce *bulk.ConflictError
				require.ErrorAs(t, m[i].Err, &ce, "item %d", i)
				assert.Equal(t, byExt[items[i].ExternalID], ce.ExistingID, "item %d: the identity with its external id", i)
				assert.Contains(t, ce.Difference, "traits", "item %d", i)
			}
		})
	}
}
