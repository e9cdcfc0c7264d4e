package bulk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
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

// person is an identity of the default schema (email identifier).
func person(i int) client.CreateIdentityBody {
	return client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(fmt.Sprintf(`{"email":"user%05d@example.org"}`, i))}
}

func email(i int) string { return fmt.Sprintf("user%05d@example.org", i) }

// anon is an identity without identifiers; with ext it has an external id.
func anon(i int, ext string) client.CreateIdentityBody {
	return client.CreateIdentityBody{SchemaID: "anon", ExternalID: ext, Traits: json.RawMessage(fmt.Sprintf(`{"nickname":"anon-%d"}`, i))}
}

func seqOf(bodies ...client.CreateIdentityBody) iter.Seq2[client.CreateIdentityBody, error] {
	return func(yield func(client.CreateIdentityBody, error) bool) {
		for _, b := range bodies {
			if !yield(b, nil) {
				return
			}
		}
	}
}

func people(n int) iter.Seq2[client.CreateIdentityBody, error] {
	return func(yield func(client.CreateIdentityBody, error) bool) {
		for i := range n {
			if !yield(person(i), nil) {
				return
			}
		}
	}
}

// outcomes collects import outcomes.
type outcomes struct {
	mu  sync.Mutex
	all []bulk.ImportOutcome
}

func (o *outcomes) add(x bulk.ImportOutcome) {
	o.mu.Lock()
	o.all = append(o.all, x)
	o.mu.Unlock()
}

// byIndex returns the outcomes by input index, failing on a second outcome
// for any index.
func (o *outcomes) byIndex(t *testing.T) map[int]bulk.ImportOutcome {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	m := make(map[int]bulk.ImportOutcome, len(o.all))
	for _, x := range o.all {
		if prev, dup := m[x.Index]; dup {
			t.Fatalf("item %d has two outcomes: %+v and %+v", x.Index, prev, x)
		}
		m[x.Index] = x
	}
	return m
}

func (o *outcomes) withStatus(s bulk.ImportStatus) []bulk.ImportOutcome {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []bulk.ImportOutcome
	for _, x := range o.all {
		if x.Status == s {
			out = append(out, x)
		}
	}
	return out
}

// accounted checks that every one of n inputs has exactly one outcome and
// that the summary agrees.
func accounted(t *testing.T, n int, sum *bulk.ImportSummary, o *outcomes) map[int]bulk.ImportOutcome {
	t.Helper()
	m := o.byIndex(t)
	require.Len(t, m, n, "outcome count must equal input count")
	for i := range n {
		_, ok := m[i]
		require.True(t, ok, "item %d has no outcome", i)
	}
	require.NotNil(t, sum)
	assert.Equal(t, n, sum.Total)
	assert.Equal(t, n, sum.Created+sum.AlreadyPresent+sum.Skipped+sum.Failed+sum.NotAttempted+sum.Valid)
	return m
}

func runImport(t *testing.T, c *client.Client, ctx context.Context, items iter.Seq2[client.CreateIdentityBody, error], opts bulk.ImportOptions) (*bulk.ImportSummary, *outcomes, error) {
	t.Helper()
	o := &outcomes{}
	prev := opts.OnOutcome
	opts.OnOutcome = func(x bulk.ImportOutcome) {
		o.add(x)
		if prev != nil {
			prev(x)
		}
	}
	sum, err := bulk.Import(ctx, c, items, &opts)
	return sum, o, err
}

func TestImport10000AllAccountedFor(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	const n = 10000
	sum, o, err := runImport(t, c, t.Context(), people(n), bulk.ImportOptions{})
	require.NoError(t, err)
	m := accounted(t, n, sum, o)
	assert.Equal(t, n, sum.Created)
	assert.True(t, sum.OK())
	assert.Equal(t, n, srv.IdentityCount())
	s := noDuplicates(t, c, srv, obs)
	require.Len(t, s.all, n)
	for i := range n {
		got, ok := s.byEmail[email(i)]
		require.True(t, ok, "user %d missing on the server", i)
		require.Equal(t, bulk.ImportCreated, m[i].Status)
		require.Equal(t, got.ID, m[i].IdentityID, "item %d", i)
		require.Equal(t, []string{email(i)}, m[i].Identifiers)
	}
	// A first batch of 100 (it tells a re-run from a first import), then
	// full ones.
	assert.Equal(t, 11, sum.Batches)
	assert.Len(t, obs.served(), 11)
	sizes := obs.sizes()
	assert.Equal(t, 100, sizes[0])
	full := 0
	for _, s := range sizes[1:] {
		assert.LessOrEqual(t, s, client.MaxBatchSize)
		if s == client.MaxBatchSize {
			full++
		}
	}
	assert.GreaterOrEqual(t, full, 8, "batches of %d after the first: %v", client.MaxBatchSize, sizes)
}

func TestImportSplitsBatchesOn504(t *testing.T) {
	const threshold = 100
	var timeouts atomic.Int32
	// A gateway in front of the server gives up on large batches before
	// they reach it.
	srv, obs := importFake(t, kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch && batchCount(r) > threshold {
				timeouts.Add(1)
				writeKratosError(w, http.StatusGatewayTimeout, "upstream timed out")
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	c := fakeClient(srv)
	const n = 3000
	sum, o, err := runImport(t, c, t.Context(), people(n), bulk.ImportOptions{Concurrency: 2})
	require.NoError(t, err)
	m := accounted(t, n, sum, o)
	assert.Equal(t, n, sum.Created, "every item created after splitting")
	assert.Equal(t, n, srv.IdentityCount())
	s := noDuplicates(t, c, srv, obs)
	for i := range n {
		require.Equal(t, s.byEmail[email(i)].ID, m[i].IdentityID, "item %d", i)
	}
	for _, s := range obs.sizes() {
		assert.LessOrEqual(t, s, threshold)
	}
	assert.Equal(t, sum.Batches, len(obs.served())+int(timeouts.Load()), "every request answered 504 or served")
	// The importer learns: 3 batches of 1,000 each halved down to 62 from
	// scratch would take 45 timeouts.
	assert.Less(t, int(timeouts.Load()), 20, "timeouts: %d", timeouts.Load())
	t.Logf("%d requests, %d answered 504, sizes %v", sum.Batches, timeouts.Load(), obs.sizes())
}

// dropAfterApply lets the fake apply a batch request (or its first half)
// and then drops the connection without an answer, for the requests that
// drop selects: the fake answers into a recorder, and the handler aborts
// (http.ErrAbortHandler closes the connection without a response).
func dropAfterApply(drop func(call, size int) (bool, bool)) func(http.Handler) http.Handler {
	var calls atomic.Int32
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPatch {
				next.ServeHTTP(w, r)
				return
			}
			size := batchCount(r)
			yes, half := drop(int(calls.Add(1)), size)
			if !yes {
				next.ServeHTTP(w, r)
				return
			}
			if half {
				var body struct {
					Identities []json.RawMessage `json:"identities"`
				}
				_ = json.NewDecoder(r.Body).Decode(&body)
				body.Identities = body.Identities[:len(body.Identities)/2]
				raw, _ := json.Marshal(body)
				r = r.Clone(r.Context())
				r.Body = io.NopCloser(bytes.NewReader(raw))
				r.ContentLength = int64(len(raw))
			}
			next.ServeHTTP(httptest.NewRecorder(), r) // applied...
			panic(http.ErrAbortHandler)               // ...but the answer is lost
		})
	}
}

func TestImportPartialApplyThenDroppedConnection(t *testing.T) {
	srv, obs := importFake(t, kratostest.WithMiddleware(dropAfterApply(func(call, size int) (bool, bool) {
		return call <= 4 && size > 1, call%2 == 0 // whole batches and half batches
	})))
	c := fakeClient(srv)
	var items []client.CreateIdentityBody
	for i := range 400 {
		switch i % 10 {
		case 7:
			items = append(items, anon(i, fmt.Sprintf("ext-%d", i))) // checkable by external id
		case 9:
			items = append(items, anon(i, "")) // cannot be checked
		default:
			items = append(items, person(i))
		}
	}
	sum, o, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{BatchSize: 50, Concurrency: 2})
	require.NoError(t, err)
	m := accounted(t, len(items), sum, o)
	s := noDuplicates(t, c, srv, obs)
	assert.Positive(t, sum.AlreadyPresent, "applied items whose answer was lost are found present")

	counts := traitsCount(s)
	for i, it := range items {
		out := m[i]
		onServer := counts[it.SchemaID+" "+canonical(it.Traits)]
		require.LessOrEqual(t, onServer, 1, "item %d created twice", i)
		switch {
		case it.ExternalID == "" && it.SchemaID == "anon":
			// Never sent again after a lost answer: created, or failed
			// with outcome unknown (and then present at most once).
			if out.Status == bulk.ImportFailed {
				require.ErrorIs(t, out.Err, bulk.ErrOutcomeUnknown, "item %d", i)
			} else {
				require.Equal(t, bulk.ImportCreated, out.Status, "item %d", i)
				require.Equal(t, 1, onServer)
			}
		default:
			require.Contains(t, []bulk.ImportStatus{bulk.ImportCreated, bulk.ImportAlreadyPresent}, out.Status, "item %d: %v", i, out.Err)
			require.Equal(t, 1, onServer, "item %d lost", i)
		}
		if out.IdentityID != "" {
			got := s.byID[out.IdentityID]
			require.NotNil(t, got, "item %d: reported id %s is not on the server", i, out.IdentityID)
			require.JSONEq(t, string(it.Traits), string(got.Traits), "item %d: reported id is another identity", i)
		}
	}
	assert.NotEmpty(t, o.withStatus(bulk.ImportFailed), "the first dropped batches hold unverifiable items")
	// Nothing is on the server that no outcome accounts for: the created
	// and present ones, and perhaps some whose outcome is unknown.
	assert.GreaterOrEqual(t, len(s.all), sum.Created+sum.AlreadyPresent)
	assert.LessOrEqual(t, len(s.all), sum.Created+sum.AlreadyPresent+sum.Failed)
	t.Logf("summary %+v", *sum)
}

func TestImportTimeoutAfterApplyIsCheckedNotDuplicated(t *testing.T) {
	var slow atomic.Int32
	srv, obs := importFake(t, kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch && slow.Add(1) <= 2 {
				// Applied, but answered too late.
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				time.Sleep(3 * time.Second)
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	// The per-attempt timeout leaves room for the settling walk of 300
	// identities under -race on a loaded machine, and is still well below
	// the late answer.
	c := fakeClient(srv, client.WithTimeout(time.Second))
	const n = 300
	sum, o, err := runImport(t, c, t.Context(), people(n), bulk.ImportOptions{BatchSize: 100, Concurrency: 3})
	require.NoError(t, err)
	m := accounted(t, n, sum, o)
	assert.Equal(t, n, sum.Created+sum.AlreadyPresent)
	assert.Positive(t, sum.AlreadyPresent)
	assert.Equal(t, n, srv.IdentityCount())
	s := noDuplicates(t, c, srv, obs)
	for i := range n {
		require.Equal(t, s.byEmail[email(i)].ID, m[i].IdentityID, "item %d", i)
	}
}

func TestImportRetriesSameBatchOn429And503(t *testing.T) {
	var calls atomic.Int32
	srv, obs := importFake(t, kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch {
				switch calls.Add(1) {
				case 1:
					w.Header().Set("Retry-After", "1")
					writeKratosError(w, http.StatusTooManyRequests, "slow down")
					return
				case 2:
					writeKratosError(w, http.StatusServiceUnavailable, "busy")
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}))
	c := fakeClient(srv)
	start := time.Now()
	sum, o, err := runImport(t, c, t.Context(), people(150), bulk.ImportOptions{Concurrency: 1})
	require.NoError(t, err)
	accounted(t, 150, sum, o)
	assert.Equal(t, 150, sum.Created)
	assert.Equal(t, 150, srv.IdentityCount())
	// The first batch (100: the first is held to that) was refused twice
	// and sent again whole, then the other 50.
	assert.Equal(t, []int{100, 50}, obs.sizes(), "the same batch was sent again, not split")
	assert.Equal(t, 4, sum.Batches)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "Retry-After honoured")
}

func TestImportWholeBatchRefusedIsSplitToTheBadItem(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	items := make([]client.CreateIdentityBody, 64)
	for i := range items {
		items[i] = person(i)
	}
	items[37].Credentials.Password.Config.HashedPassword = "not-a-known-hash-format"
	sum, o, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{})
	require.NoError(t, err)
	m := accounted(t, len(items), sum, o)
	assert.Equal(t, 63, sum.Created)
	require.Equal(t, bulk.ImportFailed, m[37].Status)
	assert.ErrorIs(t, m[37].Err, client.ErrBadRequest)
	assert.Contains(t, m[37].Err.Error(), "hash format")
	assert.Equal(t, 63, srv.IdentityCount())
	// Kratos refuses the whole request (and creates nothing of it) when
	// one body is invalid: the halves holding item 37 were refused.
	refused := 0
	for _, b := range obs.served() {
		if b.status == http.StatusBadRequest {
			refused++
		}
	}
	assert.Equal(t, 7, refused, "64, 32, 16, 8, 4, 2 and 1 items")
	assert.Equal(t, 63, sumInts(obs.sizes()), "the applied batches hold every other item once")
	noDuplicates(t, c, srv, obs)
}

func TestImportItemErrorsFromTheBatchAnswer(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	bad := client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"not-an-email"}`)}
	unknown := client.CreateIdentityBody{SchemaID: "nope", Traits: json.RawMessage(`{"email":"x@example.org"}`)}
	invalid := client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"y@example.org"}`), State: "bogus"}
	sum, o, err := runImport(t, c, t.Context(), seqOf(person(1), bad, unknown, invalid, person(2)), bulk.ImportOptions{})
	require.NoError(t, err)
	m := accounted(t, 5, sum, o)
	assert.Equal(t, 2, sum.Created)
	assert.ErrorIs(t, m[1].Err, client.ErrBadRequest)
	assert.Contains(t, m[2].Err.Error(), "Unable to find JSON Schema ID: nope")
	assert.ErrorIs(t, m[3].Err, client.ErrInvalidArgument, "refused before sending")
	assert.Equal(t, []int{4}, obs.sizes())
	assert.Equal(t, 2, srv.IdentityCount())
}

func TestImportConflictsAreChecked(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	same := person(1)
	sameID := create(t, c, same)
	create(t, c, client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"user00002@example.org","name":{"first":"Other"}}`)})
	create(t, c, client.CreateIdentityBody{SchemaID: "anon", ExternalID: "ext-9", Traits: json.RawMessage(`{"nickname":"someone else"}`)})

	// Whitespace and key order do not make traits differ.
	sameReformatted := same
	sameReformatted.Traits = json.RawMessage(` { "email" : "user00001@example.org" } `)
	items := []client.CreateIdentityBody{sameReformatted, person(2), anon(9, "ext-9"), person(3)}
	sum, o, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{})
	require.NoError(t, err)
	m := accounted(t, 4, sum, o)

	assert.Equal(t, bulk.ImportAlreadyPresent, m[0].Status)
	assert.Equal(t, sameID, m[0].IdentityID)

	for _, i := range []int{1, 2} {
		require.Equal(t, bulk.ImportFailed, m[i].Status)
		var ce *bulk.ConflictError
		require.ErrorAs(t, m[i].Err, &ce, "item %d", i)
		assert.ErrorIs(t, m[i].Err, client.ErrConflict)
		assert.NotEmpty(t, ce.ExistingID)
	}
	assert.Contains(t, m[1].Err.Error(), "traits differ")
	assert.Equal(t, bulk.ImportCreated, m[3].Status)

	// Running the same import again changes nothing and fails nothing new.
	sum2, o2, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{})
	require.NoError(t, err)
	m2 := accounted(t, 4, sum2, o2)
	assert.Equal(t, bulk.ImportAlreadyPresent, m2[0].Status)
	assert.Equal(t, bulk.ImportAlreadyPresent, m2[3].Status)
	assert.Equal(t, m[3].IdentityID, m2[3].IdentityID)
	assert.Equal(t, 0, sum2.Created)
	assert.Equal(t, 4, srv.IdentityCount())
	noDuplicates(t, c, srv, obs)
}

// create creates an identity through the API and returns its id.
func create(t *testing.T, c *client.Client, body client.CreateIdentityBody) string {
	t.Helper()
	i, err := c.Identities.Create(t.Context(), &body)
	require.NoError(t, err)
	return i.ID
}

func TestImportDuplicatesInTheInput(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	dupEmail := client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"  USER00001@Example.org "}`)}
	items := []client.CreateIdentityBody{
		person(1), anon(2, "ext-2"), person(3),
		dupEmail,         // same identifier as item 0, other case and spaces
		anon(5, "ext-2"), // same external id as item 1
		person(3),        // same as item 2
		anon(7, "ext-7"), // fine
	}
	sum, o, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{})
	require.NoError(t, err)
	m := accounted(t, len(items), sum, o)
	for dup, first := range map[int]int{3: 0, 4: 1, 5: 2} {
		require.Equal(t, bulk.ImportFailed, m[dup].Status)
		var de *bulk.DuplicateError
		require.ErrorAs(t, m[dup].Err, &de)
		assert.Equal(t, first, de.FirstIndex, "item %d", dup)
		assert.ErrorIs(t, m[dup].Err, bulk.ErrDuplicateInput)
	}
	assert.Contains(t, m[3].Err.Error(), "user00001@example.org")
	assert.Equal(t, 4, sum.Created)
	assert.Equal(t, 4, srv.IdentityCount())
	assert.Equal(t, 4, sumInts(obs.sizes()), "duplicates are never sent")
	assert.Len(t, obs.served(), 1)
	noDuplicates(t, c, srv, obs)
}

// TestImportDuplicatesBeyondTheWindow: the duplicate check looks back a
// window of items (ImportOptions.Window: 100,000; 4 here), so that its
// memory does not grow with the input. An item repeating a key from
// further back is sent, and the server's conflict is settled: the same
// identity is already present (with the earlier item's id), another one
// is a conflict naming it; nothing is created twice. A dry run finds
// every duplicate.
func TestImportDuplicatesBeyondTheWindow(t *testing.T) {
	items := []client.CreateIdentityBody{
		person(1), anon(2, "ext-2"),
		person(10), person(11), person(12), person(13), person(14),
		person(1),        // 7: as item 0, 7 items back
		anon(9, "ext-2"), // 8: item 1's external id, other traits
		person(15),
		person(14), // 10: as item 6, 4 items back: inside the window
	}
	const dupNear, dupSame, dupOther = 10, 7, 8

	srv, obs := importFake(t)
	c := fakeClient(srv)
	sum, o, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{BatchSize: 2, Concurrency: 1, Window: 4})
	require.NoError(t, err)
	m := accounted(t, len(items), sum, o)

	var de *bulk.DuplicateError
	require.ErrorAs(t, m[dupNear].Err, &de, "inside the window")
	assert.Equal(t, 6, de.FirstIndex)
	assert.Equal(t, bulk.ImportAlreadyPresent, m[dupSame].Status, "%v", m[dupSame].Err)
	assert.Equal(t, m[0].IdentityID, m[dupSame].IdentityID)
	require.Equal(t, bulk.ImportFailed, m[dupOther].Status)
	var ce *bulk.ConflictError
	require.ErrorAs(t, m[dupOther].Err, &ce, "%v", m[dupOther].Err)
	assert.Equal(t, m[1].IdentityID, ce.ExistingID)
	assert.Equal(t, 8, sum.Created)
	assert.Equal(t, 8, srv.IdentityCount())
	noDuplicates(t, c, srv, obs)

	// A dry run keeps every key.
	sum, o, err = runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{DryRun: true, Window: 4})
	require.NoError(t, err)
	m = accounted(t, len(items), sum, o)
	for dup, first := range map[int]int{dupSame: 0, dupOther: 1, dupNear: 6} {
		require.ErrorAs(t, m[dup].Err, &de, "item %d", dup)
		assert.Equal(t, first, de.FirstIndex, "item %d", dup)
	}
	assert.Equal(t, 8, sum.Valid)
}

func TestImportIdentifierFallbacks(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	withEmail := func(i int, addr string) client.CreateIdentityBody {
		return client.CreateIdentityBody{SchemaID: "anon", Traits: json.RawMessage(fmt.Sprintf(`{"nickname":"n%d","email":%q}`, i, addr))}
	}
	// The anon schema marks no identifier: traits.email is the fallback.
	sum, o, err := runImport(t, c, t.Context(), seqOf(withEmail(1, "a@x.org"), withEmail(2, "A@x.org")), bulk.ImportOptions{DryRun: true})
	require.NoError(t, err)
	m := accounted(t, 2, sum, o)
	assert.Equal(t, []string{"a@x.org"}, m[0].Identifiers)
	assert.ErrorIs(t, m[1].Err, bulk.ErrDuplicateInput)

	// A key function comes before the fallback.
	byNickname := func(b *client.CreateIdentityBody) []string {
		var tr struct{ Nickname string }
		_ = json.Unmarshal(b.Traits, &tr)
		return []string{tr.Nickname}
	}
	sum, o, err = runImport(t, c, t.Context(), seqOf(withEmail(1, "a@x.org"), withEmail(1, "b@x.org")), bulk.ImportOptions{DryRun: true, IdentifierFunc: byNickname})
	require.NoError(t, err)
	m = accounted(t, 2, sum, o)
	assert.Equal(t, []string{"n1"}, m[0].Identifiers)
	assert.ErrorIs(t, m[1].Err, bulk.ErrDuplicateInput)
	assert.Empty(t, obs.served(), "dry runs send nothing")
	assert.Zero(t, srv.IdentityCount())
}

func TestImportDryRun(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	var items []client.CreateIdentityBody
	for i := range 450 {
		p := person(i)
		p.Credentials.Password.Config.Password = "secret-password"
		items = append(items, p)
	}
	items = append(items, person(0)) // duplicate
	for i := 1000; i < 2500; i++ {
		items = append(items, person(i))
	}
	sum, o, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{DryRun: true})
	require.NoError(t, err)
	accounted(t, len(items), sum, o)
	assert.Equal(t, len(items)-1, sum.Valid)
	assert.Equal(t, 1, sum.Failed)
	// 450 with plaintext passwords: 200+200+50 (the last one topped up to
	// 200 with others), then 1,000-item batches for the rest.
	assert.Equal(t, 5, sum.Batches)
	assert.Equal(t, 0, srv.IdentityCount())
	assert.Empty(t, obs.served())

	sum, _, err = runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{DryRun: true, HashPasswords: true})
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Batches, "pre-hashed: 1,000 per batch")
}

func TestImportCancellationMidRun(t *testing.T) {
	srv, obs := importFake(t, kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch {
				time.Sleep(5 * time.Millisecond)
			}
			next.ServeHTTP(w, r)
		})
	}))
	checkGoroutines := goroutines(t) // the server's own are running already
	tr := http.DefaultTransport.(*http.Transport).Clone()
	c := fakeClient(srv, client.WithHTTPClient(&http.Client{Transport: tr}))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var seen atomic.Int32
	const n = 5000
	sum, o, err := runImport(t, c, ctx, people(n), bulk.ImportOptions{BatchSize: 20, Concurrency: 3, OnOutcome: func(bulk.ImportOutcome) {
		if seen.Add(1) == 400 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	m := accounted(t, n, sum, o)
	assert.Positive(t, sum.Created)
	assert.Positive(t, sum.NotAttempted)
	assert.Equal(t, n, sum.Created+sum.NotAttempted+sum.Failed)
	s := noDuplicates(t, c, srv, obs)
	for i := range n {
		got, onServer := s.byEmail[email(i)]
		switch m[i].Status {
		case bulk.ImportCreated:
			require.True(t, onServer, "item %d reported created but missing", i)
			require.Equal(t, got.ID, m[i].IdentityID, "item %d", i)
		case bulk.ImportNotAttempted:
			require.False(t, onServer, "item %d reported not attempted but exists", i)
			require.ErrorIs(t, m[i].Err, context.Canceled)
		case bulk.ImportFailed:
			require.ErrorIs(t, m[i].Err, bulk.ErrOutcomeUnknown)
		}
	}
	// Items whose request was cut off by the cancellation may exist.
	assert.GreaterOrEqual(t, srv.IdentityCount(), sum.Created)
	assert.LessOrEqual(t, srv.IdentityCount(), sum.Created+sum.Failed)

	// Nothing the import started outlives it: with the client's idle
	// connections closed, the server's goroutines for them end too.
	tr.CloseIdleConnections()
	checkGoroutines()
}

func TestImportStopsOnUnauthorized(t *testing.T) {
	srv, obs := importFake(t, kratostest.WithBearerToken("the-right-token"))
	c := fakeClient(srv, client.WithBearerToken("a-revoked-token"))
	const n = 2500
	sum, o, err := runImport(t, c, t.Context(), people(n), bulk.ImportOptions{BatchSize: 100, Concurrency: 1})
	require.ErrorIs(t, err, client.ErrUnauthorized)
	accounted(t, n, sum, o)
	assert.Equal(t, 100, sum.Failed)
	assert.Equal(t, n-100, sum.NotAttempted)
	assert.Equal(t, 1, sum.Batches)
	assert.Equal(t, []batchSeen{{size: 100, status: http.StatusUnauthorized}}, obs.served())
	assert.Zero(t, srv.IdentityCount())
}

func TestImportResumesFromReport(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	const n = 3000
	var report bytes.Buffer
	rep := bulk.NewImportReport(&report)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var seen atomic.Int32
	sum1, o1, err := runImport(t, c, ctx, people(n), bulk.ImportOptions{BatchSize: 100, Concurrency: 2, OnOutcome: func(x bulk.ImportOutcome) {
		require.NoError(t, rep.Write(x))
		if seen.Add(1) == 1000 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, rep.Flush())
	accounted(t, n, sum1, o1)
	require.Positive(t, sum1.NotAttempted)
	done := sum1.Created

	// The run was killed while writing its last line.
	cut := report.Bytes()[:report.Len()-7]
	resume, err := bulk.ReadImportReport(bytes.NewReader(cut))
	require.NoError(t, err)
	assert.InDelta(t, done, resume.Done(), 1)

	sentBefore := sumInts(obs.sizes())
	var report2 bytes.Buffer
	rep2 := bulk.NewImportReport(&report2)
	sum2, o2, err := runImport(t, c, t.Context(), people(n), bulk.ImportOptions{Resume: resume, OnOutcome: func(x bulk.ImportOutcome) { require.NoError(t, rep2.Write(x)) }})
	require.NoError(t, err)
	require.NoError(t, rep2.Flush())
	m2 := accounted(t, n, sum2, o2)
	assert.Equal(t, resume.Done(), sum2.Skipped)
	assert.Equal(t, n, sum2.Skipped+sum2.Created+sum2.AlreadyPresent)
	assert.LessOrEqual(t, sum2.AlreadyPresent, 1, "only the item whose report line was cut is found present")
	assert.Equal(t, n-resume.Done(), sumInts(obs.sizes())-sentBefore, "skipped items are not sent")
	assert.Equal(t, n, srv.IdentityCount())
	s := noDuplicates(t, c, srv, obs)
	for i := range n {
		got, ok := s.byEmail[email(i)]
		require.True(t, ok, "item %d missing on the server", i)
		require.Equal(t, got.ID, m2[i].IdentityID, "item %d", i)
	}

	// The second report is complete on its own: resuming from it skips all.
	resume2, err := bulk.ReadImportReport(&report2)
	require.NoError(t, err)
	assert.Equal(t, n, resume2.Done())
	sum3, _, err := runImport(t, c, t.Context(), people(n), bulk.ImportOptions{Resume: resume2, DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, n, sum3.Skipped)

	// A changed item at a reported index is imported again, not skipped.
	changed := func(yield func(client.CreateIdentityBody, error) bool) {
		for i := range n {
			b := person(i)
			if i == 5 {
				b = person(n + 5)
			}
			if !yield(b, nil) {
				return
			}
		}
	}
	sum4, o4, err := runImport(t, c, t.Context(), changed, bulk.ImportOptions{Resume: resume2})
	require.NoError(t, err)
	assert.Equal(t, n-1, sum4.Skipped)
	assert.Equal(t, bulk.ImportCreated, o4.byIndex(t)[5].Status)

	// A report line is bound to its item's content: the same index and
	// keys with other traits (a line copied onto another input, or the
	// input edited) is imported again, not skipped.
	edited := func(yield func(client.CreateIdentityBody, error) bool) {
		for i := range n {
			b := person(i)
			if i == 7 {
				b.MetadataAdmin = []byte(`{"role":"admin"}`)
			}
			if !yield(b, nil) {
				return
			}
		}
	}
	sum5, o5, err := runImport(t, c, t.Context(), edited, bulk.ImportOptions{Resume: resume2, DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, n-1, sum5.Skipped)
	assert.Equal(t, bulk.ImportValid, o5.byIndex(t)[7].Status)
}

func sumInts(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

func TestReadImportReportRejectsGarbage(t *testing.T) {
	_, err := bulk.ReadImportReport(strings.NewReader("{\"index\":0,\"status\":\"created\",\"identity_id\":\"9fce9890-b047-44b5-8b6d-dfeffddfaf02\"}\nnot json\n{\"index\":1}\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2")
	// A tampered line is an error naming it, never an item skipped
	// (issue 19, item 9).
	for line, want := range map[string]string{
		`{"index":0,"status":"created","identity_id":"not-a-uuid/../../x","fingerprint":"00000000000000000000000000000000"}`: "is not a UUID",
		`{"index":0,"status":"done","identity_id":"9fce9890-b047-44b5-8b6d-dfeffddfaf02"}`:                                   "unknown status",
		`{"index":-1,"status":"created"}`: "negative index",
		`{"index":0,"status":"created","identity_id":"9fce9890-b047-44b5-8b6d-dfeffddfaf02","fingerprint":"../x"}`: "fingerprint",
	} {
		_, err := bulk.ReadImportReport(strings.NewReader(`{"index":1,"status":"failed"}` + "\n" + line + "\n"))
		if assert.Error(t, err, line) {
			assert.Contains(t, err.Error(), "line 2", line)
			assert.Contains(t, err.Error(), want, line)
		}
	}
	r, err := bulk.ReadImportReport(strings.NewReader(""))
	require.NoError(t, err)
	assert.Equal(t, 0, r.Done())
}

func TestImportPrehashesPasswords(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	const n = 1100
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("already"), 4)
	require.NoError(t, err)
	argon := "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
	// bcrypt is slow under the race detector: a sample of the items get
	// plaintext passwords, the others a hashed_password. Every batch
	// carries plaintext passwords, so without pre-hashing each would be
	// held to 200. Passwords that look like hashes are passwords: hashed
	// like the others (issue 19, item 12).
	lookalike := map[int]string{3: argon, 5: "{SSHA}CorrectHorseBattery", 7: "$md5$MyLegitPassw0rd", 9: string(bcryptHash)}
	plain := func(i int) bool { return i%50 == 0 || lookalike[i] != "" }
	password := func(i int) string {
		if p, ok := lookalike[i]; ok {
			return p
		}
		return fmt.Sprintf("pw-%d", i)
	}
	var items []client.CreateIdentityBody
	for i := range n {
		p := person(i)
		switch {
		case plain(i):
			p.Credentials.Password.Config.Password = password(i)
		default:
			p.Credentials.Password.Config.HashedPassword = string(bcryptHash)
		}
		items = append(items, p)
	}
	sum, o, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{HashPasswords: true, HashCost: 4})
	require.NoError(t, err)
	m := accounted(t, n, sum, o)
	require.Equal(t, n, sum.Created)
	assert.Equal(t, 0, obs.plaintextReceived(), "no password reached the server in plaintext")
	// 1,000-item batches once hashed.
	sizes := obs.sizes()
	slices.Sort(sizes)
	assert.Equal(t, []int{100, 1000}, sizes)

	// The stored hashes, as the server lists them.
	s := listServer(t, c, client.CredentialsTypePassword)
	require.Len(t, s.all, n)
	for i := range n {
		got, ok := s.byEmail[email(i)]
		require.True(t, ok, "item %d missing", i)
		require.Equal(t, got.ID, m[i].IdentityID)
		hash := hashOf(t, got)
		switch {
		case plain(i):
			require.True(t, strings.HasPrefix(hash, "$2a$04$"), hash)
			require.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte(password(i))), "item %d: its password %q is what signs in", i, password(i))
		default:
			require.Equal(t, string(bcryptHash), hash, "item %d untouched", i)
		}
	}
	// And one of them the way a caller would check it.
	got, ok := byEmail(t, c, email(50))
	require.True(t, ok)
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hashOf(t, got)), []byte("pw-50")))

	// A password over bcrypt's 72 bytes is left for the server, the only
	// one of the run to reach it in plaintext. Kratos (bcrypt hasher)
	// refuses it with a 500 for the whole request: after one resend the
	// importer splits the batch, so its neighbour is created all the same.
	srv2, obs2 := importFake(t)
	long := person(n)
	long.Credentials.Password.Config.Password = strings.Repeat("x", 80)
	short := person(n + 1)
	short.Credentials.Password.Config.Password = "short"
	sum, o, err = runImport(t, fakeClient(srv2), t.Context(), seqOf(long, short), bulk.ImportOptions{HashPasswords: true, HashCost: 4, Concurrency: 1})
	require.NoError(t, err)
	m = accounted(t, 2, sum, o)
	require.Equal(t, bulk.ImportFailed, m[0].Status)
	assert.ErrorIs(t, m[0].Err, client.ErrServerError)
	assert.Contains(t, m[0].Err.Error(), "72 characters")
	require.Equal(t, bulk.ImportCreated, m[1].Status)
	for _, b := range obs2.served() {
		if b.plaintext > 0 {
			assert.Equal(t, http.StatusInternalServerError, b.status, "only the over-long password is sent in plaintext, and refused")
			assert.Equal(t, 1, b.plaintext)
		}
	}
	assert.Equal(t, 0, obs2.plaintextReceived())
	got, ok = byEmail(t, fakeClient(srv2), email(n+1))
	require.True(t, ok)
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hashOf(t, got)), []byte("short")))
	assert.Equal(t, 1, srv2.IdentityCount())

	// Without pre-hashing the same input goes in batches of 200, its
	// passwords in plaintext for the server to hash, a hash-like password
	// (item 9's is a bcrypt hash) like any other. (The first 201 items:
	// hashing is the server's, and slow under the race detector.)
	srv3, obs3 := importFake(t)
	c3 := fakeClient(srv3)
	const n3 = 201
	sum, _, err = runImport(t, c3, t.Context(), seqOf(items[:n3]...), bulk.ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, n3, sum.Created)
	sizes = obs3.sizes()
	slices.Sort(sizes)
	assert.Equal(t, []int{100, 101}, sizes) // the first batch is held to 100
	plainCount := 0
	for i := range n3 {
		if plain(i) {
			plainCount++
		}
	}
	assert.Equal(t, plainCount, obs3.plaintextReceived(), "the passwords, in plaintext")
	got, ok = byEmail(t, c3, email(9))
	require.True(t, ok)
	hash := hashOf(t, got)
	assert.NotEqual(t, string(bcryptHash), hash)
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), bcryptHash), "the hash was taken for the password")
}

func TestIsPasswordHash(t *testing.T) {
	for s, want := range map[string]bool{
		"$2a$10$TENWksmIMioQNBR2eHOp2eGQfrjDtl.0YxBX9dYx0CLR11k8rgmrO":          true,
		"$2b$04$abcdefghijklmnopqrstuuJ0xLhVfvVb8y6PZ/CEBC6Ff4NsqE/6y":          true,
		"$2y$12$abcdefghijklmnopqrstuuJ0xLhVfvVb8y6PZ/CEBC6Ff4NsqE/6y":          true,
		"$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA":     true,
		"$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA":                            true,
		"$pbkdf2-sha256$i=100000,l=32$c2FsdA$aGFzaA":                            true,
		"$scrypt$ln=16384,r=8,p=1$c2FsdA==$aGFzaA==":                            true,
		"$firescrypt$ln=14,r=8,p=1$c2FsdA==$aGFzaA==$Bw==$a2V5":                 true,
		"{SSHA}aGFzaGhhc2hoYXNoaGFzaGhhc2g=":                                    true,
		"{SSHA512}aGFzaGhhc2hoYXNoaGFzaGhhc2g=":                                 true,
		"$sha256$pf=e1NBTFR9e1BBU1NXT1JEfQ==$c2FsdA==$aGFzaA==":                 true,
		"$md5$aGFzaGhhc2hoYXNoaGFzaA==":                                         true,
		"$md5-crypt$$1$salt$hash":                                               true,
		"$hmac-sha256$aGFzaA==$a2V5":                                            true,
		"":                                                                      false,
		"hunter2":                                                               false,
		"$2a$10$short":                                                          false,
		"$argon2id$my password":                                                 false,
		"{SSHA} with spaces":                                                    false,
		"$2a$10$TENWksmIMioQNBR2eHOp2eGQfrjDtl.0YxBX9dYx0CLR11k8rgmrO and more": false,
	} {
		assert.Equal(t, want, bulk.IsPasswordHash(s), "%q", s)
	}
}

func TestImportPlaintextBatchesStayWithinLimit(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	var items []client.CreateIdentityBody
	for i := range 450 {
		p := person(i)
		// Every 10th: the server hashes them, slowly under -race. A batch
		// with any plaintext password is held to 200.
		if i%10 == 0 {
			p.Credentials.Password.Config.Password = "plain"
		}
		items = append(items, p)
	}
	sum, _, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{Concurrency: 1})
	require.NoError(t, err)
	assert.Equal(t, 450, sum.Created)
	assert.Equal(t, []int{100, 200, 150}, obs.sizes()) // the first batch is held to 100
	assert.Equal(t, 45, obs.plaintextReceived())
	assert.Equal(t, 450, srv.IdentityCount())
}

// TestImportMemoryDoesNotGrowWithInput counts items taken from the input
// but not yet settled: it stays bounded by the batches in flight.
func TestImportMemoryDoesNotGrowWithInput(t *testing.T) {
	srv, _ := importFake(t)
	c := fakeClient(srv)
	const n = 20000
	var pulled, settled, maxInFlight atomic.Int64
	items := func(yield func(client.CreateIdentityBody, error) bool) {
		for i := range n {
			if d := pulled.Add(1) - settled.Load(); d > maxInFlight.Load() {
				maxInFlight.Store(d)
			}
			if !yield(person(i), nil) {
				return
			}
		}
	}
	sum, err := bulk.Import(t.Context(), c, items, &bulk.ImportOptions{BatchSize: 100, Concurrency: 2, OnOutcome: func(bulk.ImportOutcome) { settled.Add(1) }})
	require.NoError(t, err)
	assert.Equal(t, n, sum.Created)
	assert.Equal(t, n, srv.IdentityCount())
	// Channels (256 + 256 outcomes), the batch being built, one waiting
	// and two in flight: well under 1,500 however long the input is.
	assert.Less(t, maxInFlight.Load(), int64(1500), "items in memory at once")
	t.Logf("at most %d of %d items in memory at once", maxInFlight.Load(), n)
}

func TestImportArguments(t *testing.T) {
	c, err := client.New("http://127.0.0.1:1", client.WithoutRetries())
	require.NoError(t, err)
	for name, o := range map[string]bulk.ImportOptions{
		"batch too large":   {BatchSize: 1001},
		"negative":          {Concurrency: -1},
		"bcrypt cost":       {HashCost: 40},
		"negative attempts": {MaxAttempts: -1},
		"negative window":   {Window: -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := bulk.Import(t.Context(), c, people(1), &o)
			assert.ErrorIs(t, err, client.ErrInvalidArgument)
		})
	}
	_, err = bulk.Import(t.Context(), c, nil, nil)
	assert.ErrorIs(t, err, client.ErrInvalidArgument)
}

// canonical re-encodes JSON with sorted keys.
func canonical(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestImport502MayHaveAppliedTheBatch(t *testing.T) {
	var calls atomic.Int32
	srv, obs := importFake(t, kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch && calls.Add(1) == 1 {
				next.ServeHTTP(httptest.NewRecorder(), r) // applied behind the gateway
				writeKratosError(w, http.StatusBadGateway, "bad gateway")
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	c := fakeClient(srv)
	items := []client.CreateIdentityBody{person(1), anon(2, ""), anon(3, "ext-3"), person(4)}
	sum, o, err := runImport(t, c, t.Context(), seqOf(items...), bulk.ImportOptions{})
	require.NoError(t, err)
	m := accounted(t, len(items), sum, o)
	assert.Equal(t, 3, sum.AlreadyPresent, "resent and found present")
	assert.ErrorIs(t, m[1].Err, bulk.ErrOutcomeUnknown, "no identifier, no external id: not resent")
	assert.Equal(t, []int{4, 3}, obs.sizes(), "the same batch again, without the item that cannot be checked")
	assert.Equal(t, 4, srv.IdentityCount())
	noDuplicates(t, c, srv, obs)
}

func TestImportConnectionRefusedIsRetriedThenFails(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c, err := client.New(url, client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}))
	require.NoError(t, err)
	o := &outcomes{}
	sum, err := bulk.Import(t.Context(), c, people(30), &bulk.ImportOptions{BatchSize: 10, Concurrency: 1, MaxAttempts: 3, OnOutcome: o.add})
	require.NoError(t, err, "failed items are no run error")
	accounted(t, 30, sum, o)
	assert.Equal(t, 30, sum.Failed)
	assert.Equal(t, 9, sum.Batches, "3 attempts of each batch, never split: nothing reached the server")
	for _, x := range o.all {
		assert.NotErrorIs(t, x.Err, bulk.ErrOutcomeUnknown)
	}
}
