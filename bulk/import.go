package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/retry"
)

// ImportStatus is what became of one input item of an import.
type ImportStatus string

const (
	// ImportCreated: the identity was created by this run.
	ImportCreated ImportStatus = "created"
	// ImportAlreadyPresent: the server already had this identity (same
	// schema, traits and external id), for example from an earlier run or
	// from a request of this run whose answer was lost.
	ImportAlreadyPresent ImportStatus = "already_present"
	// ImportFailed: the item was not imported; Err says why.
	ImportFailed ImportStatus = "failed"
	// ImportNotAttempted: the run stopped (cancelled, or a fatal error
	// such as 401) before the item was sent.
	ImportNotAttempted ImportStatus = "not_attempted"
	// ImportSkipped: the report of an earlier run (ImportOptions.Resume)
	// says it was done; IdentityID is the id that run reported.
	ImportSkipped ImportStatus = "skipped"
	// ImportValid: dry run only: the item is valid and would be sent.
	ImportValid ImportStatus = "valid"
)

// ImportOutcome is the outcome of one input item.
type ImportOutcome struct {
	// Index is the item's 0-based position in the input.
	Index int
	// Line is the item's 1-based line in a JSON Lines input (0 when the
	// input was not read from lines).
	Line int
	// Identifiers are the item's credential identifiers as the importer
	// derived them (lower-cased); ExternalID its external id. They are
	// what the importer checks for duplicates and existing identities.
	Identifiers []string
	ExternalID  string
	// Fingerprint binds the outcome to the item's content (a digest of its
	// body, without a plaintext password): a report's line resumes only
	// the item it was written for.
	Fingerprint string
	Status      ImportStatus
	// IdentityID is the identity's id when it was created, already
	// present or skipped.
	//
	// PasswordUnverified: already present, with a password, which the
	// importer did not compare with the input's plaintext password (that
	// takes a bcrypt verification per item); a hashed_password is compared
	// as stored, and a difference is a conflict.
	PasswordUnverified bool
	IdentityID         string
	// Err says why an item failed or was not attempted: a *LineError for a
	// bad input line, a *DuplicateError, a *client.ArgumentError, the server's
	// *client.Error for the item (errors.Is(err, client.ErrConflict) and so on), a
	// *ConflictError, or an error matching ErrOutcomeUnknown.
	Err error
}

// ImportSummary counts the outcomes of an import. Total always equals the
// number of input items, and the sum of the status counts.
type ImportSummary struct {
	Total          int
	Created        int
	AlreadyPresent int
	Skipped        int
	Failed         int
	NotAttempted   int
	Valid          int // dry run
	// Batches is the number of batch requests sent, retries and splits
	// included (in a dry run: the number of batches that would be sent).
	Batches  int
	Duration time.Duration
	// Settling says how conflicts, lost answers and a re-run's input were
	// looked for on the server, and why (zero when nothing was).
	Settling ImportSettling
}

// ImportSettleMethod is how an import looks for identities on the server.
type ImportSettleMethod string

const (
	// ImportSettleByLookups: one lookup per item, by external id and
	// credential identifier, several in flight (cheap where the server
	// indexes identifiers, as Kratos on PostgreSQL does).
	ImportSettleByLookups ImportSettleMethod = "lookups"
	// ImportSettleByWalk: one walk of every stored identity settles every
	// waiting item (cheap where a lookup scans the store, as Kratos on
	// SQLite does, or when many items wait).
	ImportSettleByWalk ImportSettleMethod = "walk"
)

// ImportSettling says how an import settled conflicts, lost answers and
// a re-run's input. The importer measures the server the first time it
// has items to settle (the time of a page of the walk, the store's size
// estimated from the page, the time of a lookup) and settles each group
// of items the cheaper way.
type ImportSettling struct {
	// Method and Reason: the choice made for the largest group of items,
	// with the measured costs behind it.
	Method ImportSettleMethod
	Reason string
	// Lookups is the number of lookup requests sent, Walks the number of
	// walks of the store.
	Lookups int
	Walks   int
}

// OK reports whether every item was imported, found present or skipped.
func (s *ImportSummary) OK() bool { return s.Failed == 0 && s.NotAttempted == 0 }

func (s *ImportSummary) add(o ImportOutcome) {
	s.Total++
	switch o.Status {
	case ImportCreated:
		s.Created++
	case ImportAlreadyPresent:
		s.AlreadyPresent++
	case ImportSkipped:
		s.Skipped++
	case ImportFailed:
		s.Failed++
	case ImportNotAttempted:
		s.NotAttempted++
	case ImportValid:
		s.Valid++
	}
}

// ImportOptions tune Import and ImportJSONL. The zero value (or nil) is a good
// default: batches of 1,000 (200 while a batch holds plaintext passwords),
// 4 batches in flight, no pre-hashing.
type ImportOptions struct {
	// BatchSize is the largest batch to send, 1..1000 (0: 1000). Batches
	// holding plaintext passwords are kept to 200. After a timeout the
	// importer sends smaller batches for a while.
	BatchSize int
	// Concurrency is the number of batch requests in flight (0: 4).
	Concurrency int

	// HashPasswords hashes plaintext passwords with bcrypt before sending,
	// on HashWorkers goroutines, so that the server stores the hash as
	// hashed_password and batches of 1,000 can be sent. A hashed_password
	// is sent as it is; every password is hashed, whatever it looks like
	// (for Kratos `password` is always plaintext: a "{SSHA}..." password is
	// a password). Passwords over bcrypt's 72 bytes are left for the server.
	HashPasswords bool
	// HashCost is the bcrypt cost (0: bcrypt.DefaultCost, 10).
	HashCost int
	// HashWorkers is the number of hashing goroutines (0: GOMAXPROCS).
	HashWorkers int

	// IdentifierFunc names an identity's credential identifiers when its
	// identity schema marks none (or cannot be fetched). Without it, and
	// when it returns none, traits.email and traits.username are used.
	// Identifiers find duplicates in the input and existing identities
	// after a conflict or a lost answer.
	IdentifierFunc func(body *client.CreateIdentityBody) []string

	// OnOutcome receives every item's outcome, once, from one goroutine
	// at a time, in the order outcomes become known (not input order).
	// Keep it quick: the import waits for it.
	OnOutcome func(ImportOutcome)

	// Resume skips the items an earlier run completed, read from its
	// report with ReadImportReport. Items are matched by position and
	// checked against their identifiers and external id, so resume with
	// the same input.
	Resume *ImportResume

	// DryRun validates the input, finds duplicates (anywhere in the
	// input, with memory that grows with it: about 50 bytes a key) and counts
	// batches without sending anything (identity schemas are still read).
	DryRun bool

	// MaxAttempts bounds how often the same batch is sent after 429, 502,
	// 503 or other 5xx answers, and how often a single identity is sent
	// after answers were lost (0: 5).
	MaxAttempts int

	// CancelGrace is how long requests already in flight may finish after
	// ctx is cancelled, so that their items get a real outcome (0: 5s).
	CancelGrace time.Duration

	// Progress, when set, is updated as the import runs (phase, items
	// hashed, sent and being settled), for a status line.
	Progress *ImportProgress

	// Window is how many input items the importer keeps in view at once
	// (0: DefaultImportWindow): duplicates are looked for this far back,
	// and a re-run probes the input this many items at a time (one walk of
	// the store a window, when walking is cheaper than lookups). The
	// importer's memory is bounded by it: about 2 KiB of peak memory an
	// item probed (a re-run of 1,000,000 in one window peaked at 1,971
	// MiB), under 200 bytes an item for duplicates. A larger window costs
	// memory and saves walks in a re-run of more than DefaultImportWindow
	// items.
	Window int
}

// Defaults of ImportOptions.
const (
	DefaultImportConcurrency = 4
	DefaultImportMaxAttempts = 5
	DefaultImportCancelGrace = 5 * time.Second
	DefaultImportWindow      = 100_000
)

// Import errors.
var (
	// ErrOutcomeUnknown is matched by the error of an item that was sent
	// but whose answer was lost, and which could not be checked: it may or
	// may not exist on the server now. Items without identifiers and
	// without an external id are never sent again after that, so that
	// they cannot be created twice.
	ErrOutcomeUnknown = errors.New("kratos: outcome unknown: the request was sent but its answer was lost")

	// ErrDuplicateInput is matched by a *DuplicateError.
	ErrDuplicateInput = errors.New("kratos: duplicate in the input")
)

// DuplicateError is an input item with the same credential identifier or
// external id as an earlier item, at most ImportOptions.Window items before
// it (in a dry run, anywhere before it). The later item is not sent.
type DuplicateError struct {
	// Key is the shared value: an identifier, or "external_id <id>".
	Key string
	// FirstIndex and FirstLine locate the earlier item (FirstLine is 0
	// when the input was not read from lines).
	FirstIndex int
	FirstLine  int
}

func (e *DuplicateError) Error() string {
	where := fmt.Sprintf("item %d", e.FirstIndex)
	if e.FirstLine > 0 {
		where = fmt.Sprintf("line %d", e.FirstLine)
	}
	return fmt.Sprintf("duplicate of %s: same %s", where, e.Key)
}

// Is makes errors.Is(err, ErrDuplicateInput) hold.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicateInput }

// ConflictError is an item the server refused as a conflict (409) with an
// existing identity that differs from it.
type ConflictError struct {
	// ExistingID is the identity it conflicts with.
	ExistingID string
	// Difference says how it differs: schema_id, traits or external_id.
	Difference string
	// Err is the server's error; errors.Is(err, client.ErrConflict) holds.
	Err error
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflicts with existing identity %s (%s): %v", e.ExistingID, e.Difference, e.Err)
}

func (e *ConflictError) Unwrap() error { return e.Err }

// Import creates identities through c in batches (c.Identities.BatchCreate,
// each batch sent once: the importer decides about resending), and reports
// what became of every input item, exactly once, through
// ImportOptions.OnOutcome. An error element of items is a bad input item:
// it becomes a failed outcome and the import goes on.
//
// It never loses an identity and never creates one twice:
//   - a batch answered 504, timed out or cut off is looked for on the
//     server (see below), and what was not applied is split
//     in halves and sent again, down to single identities (a bounded
//     number of times); a 5xx twice is split the same way;
//     429, 502 and 503 are waited out (Retry-After is honoured) and the
//     same batch is sent again; a batch refused as a whole (400, 413) is
//     split to find the item at fault;
//   - a conflict (409) is checked: when the identity found by external id
//     or credential identifier has the same schema, traits and external
//     id, the item is reported ImportAlreadyPresent with its id, so that
//     importing the same input again is harmless. Conflicts and lost
//     answers are looked for the way the server makes cheaper, measured
//     the first time it is needed (ImportSummary.Settling): by lookups,
//     several in flight, where one costs less than its share of a walk
//     (Kratos on PostgreSQL), else by one walk of the identities for all
//     waiting items (Kratos on SQLite, which answers a lookup by
//     identifier by scanning its store; their outcomes come late);
//   - an item without identifiers and external id cannot be checked, so
//     after a lost answer it is never sent again: it fails with
//     ErrOutcomeUnknown;
//   - duplicates inside the input are found before the later one is sent,
//     within ImportOptions.Window items of each other (a dry run: anywhere
//     in the input); an item repeating a key from further back is sent, and the
//     server's conflict is settled like any other: already present when
//     it is the same identity, a *ConflictError naming it when not.
//
// On cancellation the items not yet sent are reported ImportNotAttempted
// (requests in flight get ImportOptions.CancelGrace to finish) and Import
// returns the summary with ctx's error. A 401, 403, 404 or 405 answer to a
// batch stops the import the same way, returning that error. Failed items
// alone are no error: check the summary. Memory use does not grow with the
// input: it is bounded by the batches in flight, the keys of the last
// ImportOptions.Window items (for duplicates) and the items waiting to be
// looked for (at most 10,000 waiting for a walk, and in a re-run a window
// of input items); it never grows with the number of identities on the
// server. A dry run keeps the keys of every item.
func Import(ctx context.Context, c *client.Client, items iter.Seq2[client.CreateIdentityBody, error], opts *ImportOptions) (*ImportSummary, error) {
	if items == nil {
		return nil, &client.ArgumentError{Op: "bulk.Import", Argument: "items", Reason: "nil"}
	}
	return runImport(ctx, c, "bulk.Import", func(yield func(inputElem) bool) {
		for body, err := range items {
			el := inputElem{body: body, err: err}
			var le *LineError
			if errors.As(err, &le) {
				el.line = le.Line
			}
			if !yield(el) {
				return
			}
		}
	}, opts)
}

// ImportJSONL imports identities from JSON Lines (see ReadJSONL), like
// Import, with each outcome's Line set. Bad lines become failed outcomes.
func ImportJSONL(ctx context.Context, c *client.Client, r io.Reader, opts *ImportOptions) (*ImportSummary, error) {
	if r == nil {
		return nil, &client.ArgumentError{Op: "bulk.ImportJSONL", Argument: "r", Reason: "nil"}
	}
	return runImport(ctx, c, "bulk.ImportJSONL", readJSONLines(r), opts)
}

func runImport(ctx context.Context, c *client.Client, op string, src iter.Seq[inputElem], opts *ImportOptions) (*ImportSummary, error) {
	if ctx == nil {
		return nil, &client.ArgumentError{Op: op, Argument: "ctx", Reason: "nil context"}
	}
	if c == nil {
		return nil, &client.ArgumentError{Op: op, Argument: "c", Reason: "nil client"}
	}
	var o ImportOptions
	if opts != nil {
		o = *opts
	}
	if err := o.normalize(op); err != nil {
		return nil, err
	}
	im := newImporter(ctx, c, o)
	return im.run(src)
}

func (o *ImportOptions) normalize(op string) error {
	switch {
	case o.BatchSize < 0 || o.BatchSize > client.MaxBatchSize:
		return &client.ArgumentError{Op: op, Argument: "opts.BatchSize", Reason: fmt.Sprintf("%d is outside 1..%d (0 for %d)", o.BatchSize, client.MaxBatchSize, client.MaxBatchSize)}
	case o.Concurrency < 0:
		return &client.ArgumentError{Op: op, Argument: "opts.Concurrency", Reason: "negative"}
	case o.HashWorkers < 0:
		return &client.ArgumentError{Op: op, Argument: "opts.HashWorkers", Reason: "negative"}
	case o.MaxAttempts < 0:
		return &client.ArgumentError{Op: op, Argument: "opts.MaxAttempts", Reason: "negative"}
	case o.CancelGrace < 0:
		return &client.ArgumentError{Op: op, Argument: "opts.CancelGrace", Reason: "negative"}
	case o.Window < 0:
		return &client.ArgumentError{Op: op, Argument: "opts.Window", Reason: "negative"}
	}
	if err := checkBcryptCost(op, "opts.HashCost", o.HashCost); err != nil {
		return err
	}
	if o.BatchSize == 0 {
		o.BatchSize = client.MaxBatchSize
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultImportConcurrency
	}
	if o.HashCost == 0 {
		o.HashCost = bcrypt.DefaultCost
	}
	if o.HashWorkers == 0 {
		o.HashWorkers = runtime.GOMAXPROCS(0)
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultImportMaxAttempts
	}
	if o.CancelGrace == 0 {
		o.CancelGrace = DefaultImportCancelGrace
	}
	if o.Window == 0 {
		o.Window = DefaultImportWindow
	}
	return nil
}

// importItem is one input item on its way through the import.
type importItem struct {
	index, line int
	body        client.CreateIdentityBody
	fingerprint string // itemFingerprint of the body as read
	idents      []string
	plaintext   bool // carries a password the server must hash
	prehashed   bool // its plaintext password was hashed here (HashPasswords)
	// maybeApplied: the item was sent and the answer was lost, so it may
	// exist on the server already.
	maybeApplied bool
}

func (it *importItem) checkable() bool { return len(it.idents) > 0 || it.body.ExternalID != "" }

func (it *importItem) outcome(status ImportStatus, id string, err error) ImportOutcome {
	return ImportOutcome{
		Index:       it.index,
		Line:        it.line,
		Identifiers: it.idents,
		ExternalID:  it.body.ExternalID,
		Fingerprint: it.fingerprint,
		Status:      status,
		IdentityID:  id,
		Err:         err,
	}
}

type importer struct {
	c      *client.Client
	opts   ImportOptions
	parent context.Context
	ctx    context.Context // ends on cancellation and on a fatal error
	cancel context.CancelCauseFunc
	retry  retry.Engine // the client's retry engine, with the importer's MaxAttempts
	pace   *pacer       // Ory Network's rate limit, shared by the workers

	outcomes chan ImportOutcome
	sizer    batchSizer
	settle   *settler
	// firstAnswered is closed when the first batch is settled: until
	// then the batcher holds further input back, to learn whether this
	// is a re-run (see settler) before sending more.
	firstAnswered chan struct{}
	firstOnce     sync.Once
	batches       atomic.Int64
	inputErr      error // a failed read of the input (producer goroutine only)
}

func newImporter(ctx context.Context, c *client.Client, o ImportOptions) *importer {
	runCtx, cancel := context.WithCancelCause(ctx)
	im := &importer{
		c:        c,
		opts:     o,
		parent:   ctx,
		ctx:      runCtx,
		cancel:   cancel,
		retry:    retry.Engine{Policy: retry.Policy(c.RetryPolicy()), Max: o.MaxAttempts, Resend: true, PastDeadline: true},
		outcomes: make(chan ImportOutcome, 256),
		sizer:    batchSizer{size: o.BatchSize, ceiling: o.BatchSize},
		pace:     &pacer{reserve: o.Concurrency, maxWait: c.RetryPolicy().MaxRetryAfter},
	}
	im.settle = newSettler(im)
	im.firstAnswered = make(chan struct{})
	return im
}

// run drives the pipeline: the caller's goroutine reads the input
// (producer), hash workers pre-hash passwords, one goroutine forms batches,
// Concurrency goroutines send them, and one goroutine hands outcomes to
// the caller.
func (im *importer) run(src iter.Seq[inputElem]) (*ImportSummary, error) {
	defer im.cancel(nil)
	start := time.Now()
	sum := &ImportSummary{}
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for o := range im.outcomes {
			sum.add(o)
			if im.opts.OnOutcome != nil {
				im.opts.OnOutcome(o)
			}
		}
	}()

	var planned int
	if im.opts.DryRun {
		planned = im.produceDryRun(src)
	} else {
		toBatch := make(chan *importItem, 256)
		batches := make(chan []*importItem)
		var senders sync.WaitGroup
		for range im.opts.Concurrency {
			senders.Go(func() {
				for b := range batches {
					im.process(b)
					im.firstOnce.Do(func() { close(im.firstAnswered) })
				}
			})
		}
		go im.batcher(toBatch, batches)

		in := toBatch
		var hashers sync.WaitGroup
		if im.opts.HashPasswords {
			im.opts.Progress.setHashing(true)
			in = make(chan *importItem, 2*im.opts.HashWorkers)
			for range im.opts.HashWorkers {
				hashers.Go(func() { im.hashWorker(in, toBatch) })
			}
		}
		im.produce(src, in)
		if im.opts.HashPasswords {
			close(in)
			hashers.Wait()
			im.opts.Progress.setHashing(false)
		}
		close(toBatch)
		senders.Wait()
		// Items waiting for a walk are settled now; what it did not find
		// of the lost batches is sent again, and what is lost again waits
		// for one more walk, up to MaxAttempts rounds.
		for round := 1; ; round++ {
			left := im.settle.flush()
			if len(left) == 0 {
				break
			}
			if round > im.opts.MaxAttempts {
				for _, it := range left {
					im.emit(it.outcome(ImportFailed, "", fmt.Errorf("%w; the import gave up after %d rounds of lost answers", ErrOutcomeUnknown, im.opts.MaxAttempts)))
				}
				break
			}
			im.resend(left)
		}
	}
	close(im.outcomes)
	<-collected

	sum.Duration = time.Since(start)
	sum.Batches = int(im.batches.Load())
	sum.Settling = im.settle.summary()
	if im.opts.DryRun {
		sum.Batches = planned
	}
	switch {
	case im.parent.Err() != nil:
		return sum, fmt.Errorf("kratos: import stopped: %w", im.parent.Err())
	case im.ctx.Err() != nil:
		return sum, fmt.Errorf("kratos: import stopped: %w", context.Cause(im.ctx))
	case im.inputErr != nil:
		return sum, im.inputErr
	}
	return sum, nil
}

func (im *importer) emit(o ImportOutcome) { im.outcomes <- o }

// stopCause is why items are not attempted.
func (im *importer) stopCause() error { return context.Cause(im.ctx) }
