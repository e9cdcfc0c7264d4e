package bulk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// Settling conflicts, lost answers and re-runs.
//
// An item that conflicts, or whose answer was lost, is looked for on the
// server: found with the same schema, traits and external id it is
// already present, found different it is a named conflict, not found it
// is sent (again). There are two ways to look, and which is cheap depends
// on the server's database (Kratos v26.2.0 on this project's 2-core
// machine, see README's performance section):
//
//   - lookups, one per item (GET /admin/identities/by/external/{id}, then
//     GET /admin/identities?credentials_identifier=...): on PostgreSQL an
//     index read, 2 ms to 12 ms with 100,000 identities stored; on SQLite a
//     scan of the store for credentials_identifier, minutes with 10,000
//     stored;
//   - a walk: one keyset walk of the store (pages of 500 with the
//     credentials' identifiers) settles every waiting item at once, keeping
//     only the identities that hold a key some item needs; 0.05 s to 0.1 s
//     a page on either database, so 15 s to 17 s for 100,000 stored.
//
// So the settler measures the server the first time it has items to
// settle: two pages of the walk (their time, and from their ids an
// estimate of how many identities are stored: Kratos pages in id order
// and its ids are random UUIDs, so the smallest 1,000 ids cover a known
// fraction of the id space, and of the store), then one lookup, given at
// most the time per item at which lookups would cost as much as the walk.
// Items are then settled by lookups (concurrently, Concurrency in flight)
// when that costs less than one walk, counting the lookups chosen before,
// else by a walk. Lookups settle at once; items for a walk wait (up to
// settleFlushAt) so that one walk settles many: the lost answers of a run
// share one walk at its end.
//
// A real Kratos answers a conflicting item about as slowly as a creation,
// so the importer avoids sending what is already there: once a batch
// comes back mostly conflicting (a re-run) it probes the rest of the input
// before sending, in windows of up to ImportOptions.Window items, by lookups
// or by one walk a window, whichever is cheaper, and sends only the items
// not found. Memory is bounded by that window, never by the store.

// settlePageSize is the walk's page size (the most a Kratos page holds).
const settlePageSize = 500

// settleFlushAt is how many items waiting for a walk start one before
// the input ends, bounding what waits.
const settleFlushAt = 10000

// settleKind is why an item waits to be settled.
type settleKind int

const (
	settleConflict settleKind = iota // the server answered 409 for it
	settleLost                       // its answer was lost and its last attempt failed
	settleProbe                      // not known to exist: settled when found, else sent (again)
)

type pendingSettle struct {
	it    *importItem
	kind  settleKind
	cause error
}

// settleMethod is how items are looked for on the server.
type settleMethod int

const (
	settleByWalk settleMethod = iota + 1
	settleByLookups
)

// settleCosts are what the settler measured on the server.
type settleCosts struct {
	measured bool          // the pages were measured
	page     time.Duration // a page of pageSize
	pageSize int
	stored   int           // estimated identities stored; -1 unknown
	lookup   time.Duration // a lookup's cost per item; 0 not known
	// lookupOver: a lookup took longer than this (its budget ran out).
	lookupOver time.Duration
	// lookupFailed: a measuring lookup failed (lookups are not used).
	lookupFailed bool
	// spent is what the lookups chosen so far were estimated to cost. Once
	// more lookups would bring it past one walk, the walk is chosen (and
	// shared by what is settled after): like renting until the rent paid
	// would buy, lookups then never cost more than twice the cheaper way.
	spent time.Duration
}

// walkCost is the estimated cost of one walk of the store.
func (c *settleCosts) walkCost() (time.Duration, bool) {
	if !c.measured || c.stored < 0 || c.pageSize <= 0 {
		return 0, false
	}
	pages := max(1, (c.stored+c.pageSize-1)/c.pageSize)
	return c.page * time.Duration(pages), true
}

// settler collects items to settle and settles them by lookups or walks.
type settler struct {
	im      *importer
	mu      sync.Mutex
	pending []pendingSettle
	flushAt int

	// probing: a batch came back mostly conflicting, so input is probed
	// before it is sent (under mu).
	probing bool

	measureMu sync.Mutex // one decision (and measurement) at a time
	costs     settleCosts
	sem       chan struct{} // lookups in flight

	lookups, walks atomic.Int64
	// decisions, under mu: the choice that covered the most items, for
	// the summary.
	top      ImportSettling
	topItems int
}

func newSettler(im *importer) *settler {
	return &settler{im: im, flushAt: settleFlushAt, sem: make(chan struct{}, im.opts.Concurrency), costs: settleCosts{stored: -1}}
}

// summary is what the run's summary says about settling.
func (st *settler) summary() ImportSettling {
	st.mu.Lock()
	s := st.top
	st.mu.Unlock()
	s.Lookups = int(st.lookups.Load())
	s.Walks = int(st.walks.Load())
	return s
}

// decide measures the server if it was not yet, and chooses how to settle
// batch.
func (st *settler) decide(ctx context.Context, batch []pendingSettle) settleMethod {
	st.im.opts.Progress.walking(1)
	defer st.im.opts.Progress.walking(-1)
	st.measureMu.Lock()
	defer st.measureMu.Unlock()
	keys := 0
	for _, p := range batch {
		keys += max(1, len(p.it.idents)+min(1, len(p.it.body.ExternalID)))
	}
	if !st.costs.measured {
		st.measurePages(ctx)
	}
	c := &st.costs
	walk, known := c.walkCost()
	lookups := c.lookup * time.Duration(keys) // 0 while a lookup is not measured
	// Lookups win when each costs less than budget.
	budget := c.page // without a store estimate: cheaper than one page
	if known {
		budget = walk / time.Duration(keys)
	}
	// A lookup is measured (again) when it may fit a budget: once it ran
	// out of one, only for a budget several times larger.
	if c.lookup == 0 && !c.lookupFailed && 4*c.lookupOver <= budget && budget >= minLookupBudget {
		st.measureLookup(ctx, batch, budget)
	}
	method, reason := settleByWalk, ""
	switch {
	case !c.measured:
		reason = "the server could not be measured (a page failed)"
	case c.lookupFailed:
		reason = "a lookup failed"
	case c.lookup == 0:
		reason = fmt.Sprintf("a lookup takes over %s", roundCost(max(c.lookupOver, budget)))
	case c.spent+lookups < walk || !known && c.lookup < c.page:
		method = settleByLookups
		reason = fmt.Sprintf("a lookup takes %s", roundCost(c.lookup))
		c.spent += lookups
	default:
		reason = fmt.Sprintf("a lookup takes %s", roundCost(c.lookup))
	}
	switch {
	case c.lookupFailed && known:
		reason += fmt.Sprintf(", a walk of ~%s stored ~%s", thousandsOf(c.stored), roundCost(walk))
	case known:
		reason += fmt.Sprintf(", so %s lookups ~%s, a walk of ~%s stored ~%s", thousandsOf(keys), roundCost(lookups), thousandsOf(c.stored), roundCost(walk))
		if method == settleByWalk && c.spent > 0 && lookups < walk {
			reason += fmt.Sprintf(", after lookups of ~%s already", roundCost(c.spent))
		}
		if c.lookup == 0 {
			reason = fmt.Sprintf("a lookup takes over %s, more than a walk of ~%s stored (~%s) costs per item for %s lookups", roundCost(max(c.lookupOver, budget)), thousandsOf(c.stored), roundCost(walk), thousandsOf(keys))
		}
	case c.measured:
		reason += fmt.Sprintf(", a page of %d %s (store size unknown)", c.pageSize, roundCost(c.page))
	}
	name := ImportSettleByWalk
	if method == settleByLookups {
		name = ImportSettleByLookups
	}
	st.im.opts.Progress.setSettleMethod(name)
	st.mu.Lock()
	if len(batch) > st.topItems {
		st.topItems = len(batch)
		st.top = ImportSettling{Method: name, Reason: fmt.Sprintf("%s for %s items: %s", name, thousandsOf(len(batch)), reason)}
	}
	st.mu.Unlock()
	return method
}

// minLookupBudget: a lookup given less time than this is not sent (no
// server answers over HTTP that fast); lookups lose.
const minLookupBudget = time.Millisecond

func roundCost(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func thousandsOf(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// measurePages times the first two pages of a walk and estimates the
// store's size from their ids.
func (st *settler) measurePages(ctx context.Context) {
	size := int64(settlePageSize)
	token := ""
	var best time.Duration
	var ids []string
	end := false
	for range 2 {
		start := time.Now()
		page, err := st.page(ctx, &size, token)
		if err != nil {
			return
		}
		d := time.Since(start)
		if best == 0 || d < best {
			best = d
		}
		for i := range page.Items {
			ids = append(ids, page.Items[i].ID)
		}
		if len(page.Items) == 0 || page.NextPageToken == "" || page.NextPageToken == token {
			end = true
			break
		}
		token = page.NextPageToken
	}
	st.costs.measured = true
	st.costs.page = best
	st.costs.pageSize = int(size)
	st.costs.stored = estimateStored(ids, end)
}

// estimateStored estimates how many identities a store holds from the
// ids of its first pages (in id order): all of them when the walk ended,
// else from the fraction of the id space they cover, when the ids look
// like random (version 4) UUIDs; -1 when they do not.
func estimateStored(ids []string, end bool) int {
	if end {
		return len(ids)
	}
	if len(ids) == 0 {
		return -1
	}
	for _, id := range ids {
		if len(id) != 36 || id[14] != '4' {
			return -1
		}
	}
	last := ids[len(ids)-1]
	hex := last[0:8] + last[9:13] + last[14:18]
	v, err := strconv.ParseUint(hex[:15], 16, 64) // the top 60 bits
	if err != nil || v == 0 {
		return -1
	}
	frac := float64(v) / float64(uint64(1)<<60)
	// The k-th smallest of n uniform values sits near k/(n+1).
	return max(len(ids), int(float64(len(ids))/frac))
}

// measureLookup times a few lookups, as many in flight as settling sends,
// given budget each: over budget, lookups lose. It asks by credential
// identifier when items have one (on some databases the costly kind:
// Kratos on SQLite scans its store for it, while it finds an external id
// by index), else by external id.
func (st *settler) measureLookup(ctx context.Context, batch []pendingSettle, budget time.Duration) {
	conc := cap(st.sem)
	var idents, exts []string
	for _, p := range batch {
		if len(idents) < 2*conc && len(p.it.idents) > 0 {
			idents = append(idents, p.it.idents[0])
		}
		if len(exts) < 2*conc && p.it.body.ExternalID != "" {
			exts = append(exts, p.it.body.ExternalID)
		}
	}
	keys := idents
	if len(keys) == 0 {
		keys = exts
	}
	if len(keys) == 0 {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, budget*time.Duration(len(keys)))
	defer cancel()
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	next := make(chan string)
	start := time.Now()
	for range min(conc, len(keys)) {
		wg.Go(func() {
			for key := range next {
				st.lookups.Add(1)
				var err error
				if len(idents) > 0 {
					_, err = st.im.c.Identities.ListPage(lctx, &client.ListIdentitiesParams{CredentialsIdentifier: key, Consistency: client.ReadConsistencyLevelStrong})
				} else if _, err = st.im.c.Identities.GetByExternalID(lctx, key, nil); errors.Is(err, client.ErrNotFound) {
					err = nil
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	for _, k := range keys {
		if lctx.Err() != nil {
			break
		}
		next <- k
	}
	close(next)
	wg.Wait()
	d := time.Since(start)
	switch {
	case ctx.Err() != nil:
	case failed.Load() != nil && !errors.Is(*failed.Load(), context.DeadlineExceeded):
		st.costs.lookupFailed = true
	case lctx.Err() != nil:
		st.costs.lookupOver = budget
	default:
		st.costs.lookup = max(d/time.Duration(len(keys)), time.Microsecond)
	}
}

// addAll settles conflicting and lost items: at once by lookups when
// those are cheaper, else they wait for the next walk (which starts when
// flushAt wait). Items not found that are to be sent again are sent from
// here.
func (st *settler) addAll(batch []pendingSettle) {
	if len(batch) == 0 {
		return
	}
	st.im.opts.Progress.addSettling(len(batch))
	if !st.shouldProbe() {
		// In a re-run they wait for the next probe, which looks for the
		// input and these together.
		ctx, done := st.im.requestContext()
		method := st.decide(ctx, batch)
		done()
		if method == settleByLookups {
			st.im.resend(st.settle(batch, settleByLookups))
			return
		}
	}
	st.mu.Lock()
	st.pending = append(st.pending, batch...)
	var ready []pendingSettle
	if len(st.pending) >= st.flushAt {
		ready, st.pending = st.pending, nil
	}
	st.mu.Unlock()
	if ready != nil {
		ctx, done := st.im.requestContext()
		method := st.decide(ctx, ready)
		done()
		st.im.resend(st.settle(ready, method))
	}
}

// batchAnswered learns from a batch answer with per-item results: when
// most items conflicted, the input looks like a re-run and further input is
// probed before sending.
func (st *settler) batchAnswered(size, conflicts int) {
	if size < 10 || 2*conflicts < size {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.probing = true
}

// shouldProbe reports whether input is probed before it is sent (a
// re-run).
func (st *settler) shouldProbe() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.probing
}

// probe looks for items on the server, by lookups or (with every item
// waiting for a walk) one walk, whichever is cheaper; it settles the items
// found and returns those not found (all of them when looking failed), to
// be sent. With deferWalk, items that would need a walk wait for the next
// one instead (nil is returned for them): the lost answers of a run share
// a walk.
func (st *settler) probe(items []*importItem, deferWalk bool) []*importItem {
	batch := make([]pendingSettle, len(items))
	for i, it := range items {
		batch[i] = pendingSettle{it: it, kind: settleProbe}
	}
	st.im.opts.Progress.addSettling(len(items))
	if !deferWalk {
		st.mu.Lock()
		batch = append(batch, st.pending...)
		st.pending = nil
		st.mu.Unlock()
	}
	ctx, done := st.im.requestContext()
	method := st.decide(ctx, batch)
	done()
	if method == settleByLookups {
		return st.settle(batch, settleByLookups)
	}
	st.mu.Lock()
	if deferWalk {
		st.pending = append(st.pending, batch...)
		batch = nil
		if len(st.pending) >= st.flushAt {
			batch, st.pending = st.pending, nil
		}
	}
	st.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	return st.settle(batch, settleByWalk)
}

// flush settles every waiting item, by lookups or one walk, and returns
// the probed items not found, to be sent.
func (st *settler) flush() []*importItem {
	st.mu.Lock()
	batch := st.pending
	st.pending = nil
	st.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	ctx, done := st.im.requestContext()
	method := st.decide(ctx, batch)
	done()
	return st.settle(batch, method)
}

// externalKey and identifierKey are the keys an identity holds uniquely
// on the server, for finding duplicates in the input (preparer.dedupe) and
// identities on the server (settle): written here only.
func externalKey(id string) string   { return "external_id " + id }
func identifierKey(id string) string { return "identifier " + id }

// settle looks for the items of batch by method and reports every item's
// outcome, except for the probed items not found (and those whose check
// failed), which it returns.
func (st *settler) settle(batch []pendingSettle, method settleMethod) []*importItem {
	ctx, done := st.im.requestContext()
	defer done()
	progress := st.im.opts.Progress
	progress.walking(1)
	defer func() {
		progress.walking(-1)
		progress.addSettling(-len(batch))
	}()

	found := make([]finding, len(batch))
	errs := make([]error, len(batch))
	if method == settleByLookups {
		st.lookupAll(ctx, batch, found, errs)
	} else {
		w := wantsOf(batch)
		st.walks.Add(1)
		if err := st.walk(ctx, w, found); err != nil {
			for i := range errs {
				errs[i] = err
			}
		}
	}

	var unsettled []*importItem
	for i, p := range batch {
		it, err := p.it, errs[i]
		if p.kind == settleProbe {
			if err == nil && found[i].found {
				st.im.settleFound(it, found[i], fmt.Errorf("%w (found on the server before sending)", client.ErrConflict))
			} else {
				unsettled = append(unsettled, it)
			}
			continue
		}
		if err != nil {
			if p.kind == settleLost {
				st.im.emit(it.outcome(ImportFailed, "", fmt.Errorf("%w: %w (checking for it failed: %v)", ErrOutcomeUnknown, p.cause, err)))
			} else {
				st.im.emit(it.outcome(ImportFailed, "", fmt.Errorf("%w (checking for an existing identity failed: %v)", p.cause, err)))
			}
			continue
		}
		if !found[i].found {
			st.im.emit(it.outcome(ImportFailed, "", p.cause))
			continue
		}
		st.im.settleFound(it, found[i], p.cause)
	}
	return unsettled
}

// lookupAll looks every item of batch up, Concurrency at a time (across
// the run), filling in found and errs, and learns the lookups' cost per
// item in flight.
func (st *settler) lookupAll(ctx context.Context, batch []pendingSettle, found []finding, errs []error) {
	var wg sync.WaitGroup
	var reqs atomic.Int64
	start := time.Now()
	for i := range batch {
		select {
		case st.sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = ctx.Err()
			continue
		}
		wg.Go(func() {
			defer func() { <-st.sem }()
			f, n, err := st.lookupOne(ctx, batch[i].it)
			if errs[i] = err; f != nil {
				found[i] = st.im.compare(batch[i].it, f)
			}
			reqs.Add(int64(n))
		})
	}
	wg.Wait()
	if n := reqs.Load(); n >= 16 {
		st.measureMu.Lock()
		st.costs.lookup = max(time.Since(start)/time.Duration(n), time.Microsecond)
		st.measureMu.Unlock()
	}
}

// lookupOne looks an item up: by external id first, then by each
// credential identifier. It returns the identity found (nil: none), and
// the number of requests sent.
func (st *settler) lookupOne(ctx context.Context, it *importItem) (*client.Identity, int, error) {
	n := 0
	if ext := it.body.ExternalID; ext != "" {
		n++
		st.lookups.Add(1)
		idn, err := st.im.c.Identities.GetByExternalID(ctx, ext, nil)
		if err == nil {
			return idn, n, nil
		}
		if !errors.Is(err, client.ErrNotFound) {
			return nil, n, err
		}
	}
	params := &client.ListIdentitiesParams{Consistency: client.ReadConsistencyLevelStrong}
	if it.needsStoredHash() {
		// The stored hash comes with the lookup (v1.3.1, v25.4.0 and
		// v26.2.0 all honour include_credential on an identifier lookup),
		// not from one more request per item by id: on PostgreSQL that
		// second request doubled the cost of settling a lost batch.
		params.IncludeCredential = lookupCredentialTypes
	}
	for _, id := range it.idents {
		n++
		st.lookups.Add(1)
		params.CredentialsIdentifier = id
		page, err := st.im.c.Identities.ListPage(ctx, params)
		if err != nil {
			return nil, n, err
		}
		if len(page.Items) > 0 {
			idn := page.Items[0]
			return &idn, n, nil
		}
	}
	return nil, n, nil
}

// lookupCredentialTypes are the credentials a lookup asks to have
// configured: the password, for its stored hash (a lookup by identifier
// lists every credential's identifiers without asking).
var lookupCredentialTypes = []client.IdentityCredentialsType{client.CredentialsTypePassword}

// wants indexes the keys the items of a walk look for. Each key leads to
// the items that hold it, with its rank among each item's keys: its
// external id first, then its identifiers in order, as lookupOne asks. An
// item's identity is the one holding its key of lowest rank.
type wants struct {
	items   []*importItem
	heads   map[string]int32 // a key not found yet → its first entry
	entries []wantEntry
	best    []int32 // each item's rank found so far (wantNone: none)
	hashes  bool    // some item's hashed_password is compared as stored
}

type wantEntry struct {
	item, rank, next int32 // next: the key's next entry, -1 none
}

const wantNone = 1<<31 - 1

// wantsOf indexes the keys of batch's items.
func wantsOf(batch []pendingSettle) *wants {
	w := &wants{items: make([]*importItem, len(batch)), heads: map[string]int32{}, best: make([]int32, len(batch))}
	add := func(k string, item, rank int) {
		next, ok := w.heads[k]
		if !ok {
			next = -1
		}
		w.heads[k] = int32(len(w.entries))
		w.entries = append(w.entries, wantEntry{item: int32(item), rank: int32(rank), next: next})
	}
	for i, p := range batch {
		w.items[i], w.best[i] = p.it, wantNone
		w.hashes = w.hashes || p.it.needsStoredHash()
		if p.it.body.ExternalID != "" {
			add(externalKey(p.it.body.ExternalID), i, 0)
		}
		for r, id := range p.it.idents {
			add(identifierKey(id), i, r+1)
		}
	}
	return w
}

// page reads one page of a walk (strongly consistent, with every
// credential's identifiers). A page that times out is asked for again in
// halves (down to minWalkPage), as batches are: a page of 500 with
// credentials is the largest answer the importer asks for. size is the
// page size to ask for, and what it came down to.
func (st *settler) page(ctx context.Context, size *int64, token string) (*client.Page[client.Identity], error) {
	for {
		params := &client.ListIdentitiesParams{
			PageSize:    *size,
			PageToken:   token,
			Consistency: client.ReadConsistencyLevelStrong,
			// Asking for oidc's configuration brings every credential's
			// identifiers along, without sending password hashes.
			IncludeCredential: []client.IdentityCredentialsType{client.CredentialsTypeOIDC},
		}
		page, err := st.im.c.Identities.ListPage(ctx, params)
		if err != nil {
			if *size > minWalkPage && ctx.Err() == nil && classify(err) == splitAmbiguous {
				*size /= 2
				continue
			}
			return nil, err
		}
		return page, nil
	}
}

// walk pages through every identity (strongly consistent, with every
// credential's identifiers) with the client's iterator and compares each
// one holding a key of w with the items that want it, into found: the
// identities themselves are not kept. It stops when every key was found.
// A page that times out is asked for again in halves (down to
// minWalkPage), as batches are: a page of 500 with credentials is the
// largest answer the importer asks for.
//
// With w.hashes, the pages carry the stored password hashes too, for the
// items whose hashed_password is compared as stored.
func (st *settler) walk(ctx context.Context, w *wants, found []finding) error {
	if len(w.heads) == 0 {
		return nil
	}
	params := &client.ListIdentitiesParams{
		PageSize:    settlePageSize,
		Consistency: client.ReadConsistencyLevelStrong,
		// Asking for oidc's configuration brings every credential's
		// identifiers along, without sending password hashes.
		IncludeCredential: []client.IdentityCredentialsType{client.CredentialsTypeOIDC},
	}
	if w.hashes {
		params.IncludeCredential = append(params.IncludeCredential, client.CredentialsTypePassword)
	}
	for {
		resume := false
		for idn, err := range st.im.c.Identities.List(ctx, params) {
			if err != nil {
				var pe *client.PageError
				if params.PageSize > minWalkPage && ctx.Err() == nil && errors.As(err, &pe) && classify(err) == splitAmbiguous {
					params.PageSize /= 2
					params.PageToken = pe.PageToken
					resume = true
					break
				}
				return err
			}
			for _, k := range keysOf(idn) {
				e, ok := w.heads[k]
				if !ok {
					continue
				}
				delete(w.heads, k)
				for ; e >= 0; e = w.entries[e].next {
					en := w.entries[e]
					if en.rank < w.best[en.item] {
						w.best[en.item] = en.rank
						found[en.item] = st.im.compare(w.items[en.item], idn)
					}
				}
				if len(w.heads) == 0 {
					return nil
				}
			}
		}
		if !resume {
			return nil
		}
	}
}

// minWalkPage is the smallest page a walk falls back to after timeouts.
const minWalkPage = 25

// keysOf lists the keys an existing identity holds, those the server
// keeps unique: its external id and its credentials' identifiers.
func keysOf(idn *client.Identity) []string {
	var keys []string
	if idn.ExternalID != "" {
		keys = append(keys, externalKey(idn.ExternalID))
	}
	for _, c := range idn.Credentials {
		for _, id := range c.Identifiers {
			keys = append(keys, identifierKey(trimLower(id)))
		}
	}
	return keys
}
