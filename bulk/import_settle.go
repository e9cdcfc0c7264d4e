package bulk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// Bulk settling of conflicts and lost answers.
//
// A real Kratos answers a credentials_identifier lookup by scanning its
// store (4.7 s to 12 s with 3,000 identities on SQLite, the time growing
// with the store), while a page of 500 identities costs about 0.05 s. So
// the importer never looks items up one by one: an item that conflicts, or
// whose answer was lost and whose resend failed, waits in the settler, and
// one keyset walk of the store (page size 500, with the credentials'
// identifiers) settles all waiting items at once. The walk keeps only the
// identities that hold a key some waiting item needs, and stops as soon as
// every such key was found, so memory is bounded by the run's input, not
// by the store.
//
// A real Kratos also answers a conflicting item slowly (a batch of 1,000
// conflicts costs as much as creating them, 2.4 s to 7.6 s), so the
// importer avoids sending what is already there: after a lost answer it
// walks for the batch's items before sending again (probe), and once a
// batch comes back mostly conflicting (a re-run) it probes each window of
// up to 10,000 further input items with one walk and sends only those not
// found — as long as a walk costs less than sending the window would.

// settlePageSize is the walk's page size: the measurement (0.05 s a
// page of 500 on the real server) and the fake's default maximum allow it.
const settlePageSize = 500

// settleFlushAt is how many waiting items start a walk before the input
// ends, bounding what waits.
const settleFlushAt = 10000

// settleKind is why an item waits to be settled.
type settleKind int

const (
	settleConflict settleKind = iota // the server answered 409 for it
	settleLost                       // its answer was lost and its last attempt failed
	settleProbe                      // not known to exist: settled when found, else sent (again)
)

// settleWindow is the most input items one probe walk covers in a re-run.
const settleWindow = 10000

type pendingSettle struct {
	it    *importItem
	kind  settleKind
	cause error
}

// settler collects items to settle and settles them in bulk.
type settler struct {
	im      *importer
	mu      sync.Mutex
	pending []pendingSettle
	flushAt int

	// probing: a batch came back mostly conflicting, so input is probed
	// before it is sent (under mu, like the costs).
	probing bool
	// walkCost is the last walk's duration; conflictCost the time a
	// conflicting item costs the server (from the batches that were
	// mostly conflicts).
	walkCost, conflictCost time.Duration
}

func newSettler(im *importer) *settler {
	return &settler{im: im, flushAt: settleFlushAt}
}

// add queues an item; when flushAt items wait, the caller settles them.
func (st *settler) add(it *importItem, kind settleKind, cause error) {
	st.im.opts.Progress.addSettling(1)
	st.mu.Lock()
	st.pending = append(st.pending, pendingSettle{it: it, kind: kind, cause: cause})
	var batch []pendingSettle
	if len(st.pending) >= st.flushAt {
		batch, st.pending = st.pending, nil
	}
	st.mu.Unlock()
	if batch != nil {
		st.settle(batch)
	}
}

// batchAnswered learns from a batch answer with per-item results: when
// most items conflicted, the input looks like a re-run and further input is
// probed before sending.
func (st *settler) batchAnswered(size, conflicts int, took time.Duration) {
	if size < 10 || 2*conflicts < size {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.probing = true
	st.conflictCost = took / time.Duration(size)
}

// shouldProbe reports whether n input items are to be probed before they
// are sent: in a re-run, unless a walk costs more than sending n
// conflicting items would.
func (st *settler) shouldProbe(n int) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.probing && (st.walkCost == 0 || st.walkCost < st.conflictCost*time.Duration(n))
}

// probe settles the items found on the server, together with every item
// waiting to be settled, in one walk, and returns the items not found (all
// of items when the walk failed), to be sent.
func (st *settler) probe(items []*importItem) []*importItem {
	st.mu.Lock()
	batch := st.pending
	st.pending = nil
	st.mu.Unlock()
	for _, it := range items {
		batch = append(batch, pendingSettle{it: it, kind: settleProbe})
	}
	st.im.opts.Progress.addSettling(len(items))
	return st.settle(batch)
}

// flush settles every waiting item.
func (st *settler) flush() {
	st.mu.Lock()
	batch := st.pending
	st.pending = nil
	st.mu.Unlock()
	if len(batch) > 0 {
		st.settle(batch)
	}
}

// externalKey and identifierKey are the keys an identity holds uniquely
// on the server, for finding duplicates in the input (preparer.dedupe) and
// identities on the server (settle): written here only.
func externalKey(id string) string   { return "external_id " + id }
func identifierKey(id string) string { return "identifier " + id }

// settle walks the store once for the keys of batch and reports every
// item's outcome, except for the probed items not found (all of them when
// the walk failed), which it returns.
func (st *settler) settle(batch []pendingSettle) []*importItem {
	ctx, done := st.im.requestContext()
	defer done()
	progress := st.im.opts.Progress
	progress.walking(1)
	defer func() {
		progress.walking(-1)
		progress.addSettling(-len(batch))
	}()

	want := map[string]*client.Identity{}
	for _, p := range batch {
		if p.it.body.ExternalID != "" {
			want[externalKey(p.it.body.ExternalID)] = nil
		}
		for _, id := range p.it.idents {
			want[identifierKey(id)] = nil
		}
	}
	start := time.Now()
	walkErr := st.walk(ctx, want)
	if walkErr == nil {
		st.mu.Lock()
		st.walkCost = time.Since(start)
		st.mu.Unlock()
	}

	var unsettled []*importItem
	for _, p := range batch {
		it := p.it
		if p.kind == settleProbe {
			if found := lookupFound(want, it); walkErr == nil && found != nil {
				st.im.settleFound(it, found, fmt.Errorf("%w (found on the server before sending)", client.ErrConflict))
			} else {
				unsettled = append(unsettled, it)
			}
			continue
		}
		if walkErr != nil {
			if p.kind == settleLost {
				st.im.emit(it.outcome(ImportFailed, "", fmt.Errorf("%w: %w (checking for it failed: %v)", ErrOutcomeUnknown, p.cause, walkErr)))
			} else {
				st.im.emit(it.outcome(ImportFailed, "", fmt.Errorf("%w (checking for an existing identity failed: %v)", p.cause, walkErr)))
			}
			continue
		}
		found := lookupFound(want, it)
		if found == nil {
			st.im.emit(it.outcome(ImportFailed, "", p.cause))
			continue
		}
		st.im.settleFound(it, found, p.cause)
	}
	return unsettled
}

// lookupFound finds an item's identity in the walk's index: by external
// id first, then by each identifier.
func lookupFound(index map[string]*client.Identity, it *importItem) *client.Identity {
	if ext := it.body.ExternalID; ext != "" {
		if f := index[externalKey(ext)]; f != nil {
			return f
		}
	}
	for _, id := range it.idents {
		if f := index[identifierKey(id)]; f != nil {
			return f
		}
	}
	return nil
}

// walk pages through every identity (strongly consistent, with every
// credential's identifiers) with the client's iterator, and fills in want:
// each key maps to the identity holding it. It stops when every key was
// found. A page that times out is asked for again in halves (down to
// minWalkPage), as batches are: a page of 500 with credentials is the
// largest answer the importer asks for.
func (st *settler) walk(ctx context.Context, want map[string]*client.Identity) error {
	missing := len(want)
	if missing == 0 {
		return nil
	}
	params := &client.ListIdentitiesParams{
		PageSize:    settlePageSize,
		Consistency: client.ReadConsistencyLevelStrong,
		// Asking for oidc's configuration brings every credential's
		// identifiers along, without sending password hashes.
		IncludeCredential: []client.IdentityCredentialsType{client.CredentialsTypeOIDC},
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
				if v, ok := want[k]; ok && v == nil {
					want[k] = &client.Identity{ID: idn.ID, SchemaID: idn.SchemaID, ExternalID: idn.ExternalID, Traits: idn.Traits}
					if missing--; missing == 0 {
						return nil
					}
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
