package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
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
	Status      ImportStatus
	// IdentityID is the identity's id when it was created, already
	// present or skipped.
	IdentityID string
	// Err says why an item failed or was not attempted: a *LineError for a
	// bad input line, a *DuplicateError, an *ArgumentError, the server's
	// *Error for the item (errors.Is(err, ErrConflict) and so on), a
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

// ImportOptions tune Identities.Import. The zero value (or nil) is a good
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
	// is sent as it is, and a password that already is a hash (see
	// IsPasswordHash) moves to hashed_password instead of being hashed
	// again. Passwords over bcrypt's 72 bytes are left for the server.
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
	IdentifierFunc func(body *CreateIdentityBody) []string

	// OnOutcome receives every item's outcome, once, from one goroutine
	// at a time, in the order outcomes become known (not input order).
	// Keep it quick: the import waits for it.
	OnOutcome func(ImportOutcome)

	// Resume skips the items an earlier run completed, read from its
	// report with ReadImportReport. Items are matched by position and
	// checked against their identifiers and external id, so resume with
	// the same input.
	Resume *ImportResume

	// DryRun validates the input, finds duplicates and counts batches
	// without sending anything (identity schemas are still read).
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
}

// Defaults of ImportOptions.
const (
	DefaultImportConcurrency = 4
	DefaultImportMaxAttempts = 5
	DefaultImportCancelGrace = 5 * time.Second
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
// external id as an earlier item. The later item is not sent.
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
	// Err is the server's error; errors.Is(err, ErrConflict) holds.
	Err error
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflicts with existing identity %s (%s): %v", e.ExistingID, e.Difference, e.Err)
}

func (e *ConflictError) Unwrap() error { return e.Err }

// Import creates identities in batches through BatchCreate, and reports
// what became of every input item, exactly once, through
// ImportOptions.OnOutcome. An error element of items is a bad input item:
// it becomes a failed outcome and the import goes on.
//
// It never loses an identity and never creates one twice:
//   - a batch answered 504, timed out or cut off is looked for on the
//     server with one walk (see below), and what was not applied is split
//     in halves and sent again, down to single identities (a bounded
//     number of times); a 5xx twice is split the same way;
//     429, 502 and 503 are waited out (Retry-After is honoured) and the
//     same batch is sent again; a batch refused as a whole (400, 413) is
//     split to find the item at fault;
//   - a conflict (409) is checked: when the identity found by external id
//     or credential identifier has the same schema, traits and external
//     id, the item is reported ImportAlreadyPresent with its id, so that
//     importing the same input again is harmless. Conflicts and lost
//     answers are checked in bulk, by one walk of the identities for all
//     waiting items (never one lookup per item, which a real Kratos
//     answers by scanning its store), so their outcomes come late;
//   - an item without identifiers and external id cannot be checked, so
//     after a lost answer it is never sent again: it fails with
//     ErrOutcomeUnknown;
//   - duplicates inside the input are found before the later one is sent.
//
// On cancellation the items not yet sent are reported ImportNotAttempted
// (requests in flight get ImportOptions.CancelGrace to finish) and Import
// returns the summary with ctx's error. A 401, 403, 404 or 405 answer to a
// batch stops the import the same way, returning that error. Failed items
// alone are no error: check the summary. Memory use does not grow with the
// input, except for the set of identifiers seen and the items waiting for
// the bulk check (at most 10,000 before a walk settles them); it never
// grows with the number of identities on the server.
func (s *IdentitiesService) Import(ctx context.Context, items iter.Seq2[CreateIdentityBody, error], opts *ImportOptions) (*ImportSummary, error) {
	if items == nil {
		return nil, &ArgumentError{Op: "Identities.Import", Argument: "items", Reason: "nil"}
	}
	return s.runImport(ctx, "Identities.Import", func(yield func(inputElem) bool) {
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
func (s *IdentitiesService) ImportJSONL(ctx context.Context, r io.Reader, opts *ImportOptions) (*ImportSummary, error) {
	if r == nil {
		return nil, &ArgumentError{Op: "Identities.ImportJSONL", Argument: "r", Reason: "nil"}
	}
	return s.runImport(ctx, "Identities.ImportJSONL", readJSONLines(r), opts)
}

func (s *IdentitiesService) runImport(ctx context.Context, op string, src iter.Seq[inputElem], opts *ImportOptions) (*ImportSummary, error) {
	if ctx == nil {
		return nil, &ArgumentError{Op: op, Argument: "ctx", Reason: "nil context"}
	}
	var o ImportOptions
	if opts != nil {
		o = *opts
	}
	if err := o.normalize(op); err != nil {
		return nil, err
	}
	im := newImporter(ctx, s, o)
	return im.run(src)
}

func (o *ImportOptions) normalize(op string) error {
	switch {
	case o.BatchSize < 0 || o.BatchSize > MaxBatchSize:
		return &ArgumentError{Op: op, Argument: "opts.BatchSize", Reason: fmt.Sprintf("%d is outside 1..%d (0 for %d)", o.BatchSize, MaxBatchSize, MaxBatchSize)}
	case o.Concurrency < 0:
		return &ArgumentError{Op: op, Argument: "opts.Concurrency", Reason: "negative"}
	case o.HashWorkers < 0:
		return &ArgumentError{Op: op, Argument: "opts.HashWorkers", Reason: "negative"}
	case o.MaxAttempts < 0:
		return &ArgumentError{Op: op, Argument: "opts.MaxAttempts", Reason: "negative"}
	case o.CancelGrace < 0:
		return &ArgumentError{Op: op, Argument: "opts.CancelGrace", Reason: "negative"}
	}
	if err := checkBcryptCost(op, "opts.HashCost", o.HashCost); err != nil {
		return err
	}
	if o.BatchSize == 0 {
		o.BatchSize = MaxBatchSize
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
	return nil
}

// importItem is one input item on its way through the import.
type importItem struct {
	index, line int
	body        CreateIdentityBody
	idents      []string
	plaintext   bool // carries a password the server must hash
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
		Status:      status,
		IdentityID:  id,
		Err:         err,
	}
}

type importer struct {
	s      *IdentitiesService
	opts   ImportOptions
	parent context.Context
	ctx    context.Context // ends on cancellation and on a fatal error
	cancel context.CancelCauseFunc
	retry  retrier // the client's retry engine, with the importer's MaxAttempts

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

func newImporter(ctx context.Context, s *IdentitiesService, o ImportOptions) *importer {
	runCtx, cancel := context.WithCancelCause(ctx)
	im := &importer{
		s:        s,
		opts:     o,
		parent:   ctx,
		ctx:      runCtx,
		cancel:   cancel,
		retry:    retrier{policy: s.c.cfg.retry, max: o.MaxAttempts, resend: true, pastDeadline: true},
		outcomes: make(chan ImportOutcome, 256),
		sizer:    batchSizer{size: o.BatchSize, ceiling: o.BatchSize},
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
		im.settle.flush()
	}
	close(im.outcomes)
	<-collected

	sum.Duration = time.Since(start)
	sum.Batches = int(im.batches.Load())
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

// preparer validates input elements, derives their identifiers and finds
// duplicates and resumed items, in the producer goroutine.
type preparer struct {
	im       *importer
	op       string
	resolver *identifierResolver
	seen     map[string][2]int // key -> index, line of the first item
	index    int
}

func (im *importer) newPreparer() *preparer {
	return &preparer{
		im:       im,
		op:       "Identities.Import",
		resolver: newIdentifierResolver(im.s.c.Schemas, im.opts.IdentifierFunc),
		seen:     map[string][2]int{},
	}
}

// prepare turns an input element into an item ready to send, or emits its
// outcome and returns nil.
func (p *preparer) prepare(el inputElem) *importItem {
	im := p.im
	it := &importItem{index: p.index, line: el.line}
	p.index++
	if im.ctx.Err() != nil {
		im.emit(it.outcome(ImportNotAttempted, "", im.stopCause()))
		return nil
	}
	el.decode()
	body, err := el.body, el.err
	if err != nil {
		if errors.Is(err, ErrInputRead) && im.inputErr == nil {
			im.inputErr = err
		}
		im.emit(it.outcome(ImportFailed, "", err))
		return nil
	}
	if err := checkCreateBody(p.op, "item", &body); err != nil {
		im.emit(it.outcome(ImportFailed, "", err))
		return nil
	}
	it.body = body
	it.idents = p.resolver.identifiers(im.ctx, &it.body)
	if dup := p.dedupe(it); dup != nil {
		im.emit(it.outcome(ImportFailed, "", dup))
		return nil
	}
	if id, ok := im.opts.Resume.lookup(it.index, it.idents, it.body.ExternalID); ok {
		im.emit(it.outcome(ImportSkipped, id, nil))
		return nil
	}
	it.plaintext = hasPlaintextPassword(&it.body)
	return it
}

// dedupe records the item's keys, or returns the error for a later
// occurrence of a key seen before.
func (p *preparer) dedupe(it *importItem) error {
	keys := make([]string, 0, len(it.idents)+1)
	for _, id := range it.idents {
		keys = append(keys, "identifier "+id)
	}
	if it.body.ExternalID != "" {
		keys = append(keys, "external_id "+it.body.ExternalID)
	}
	for _, k := range keys {
		if first, ok := p.seen[k]; ok {
			return &DuplicateError{Key: k, FirstIndex: first[0], FirstLine: first[1]}
		}
	}
	for _, k := range keys {
		p.seen[k] = [2]int{it.index, it.line}
	}
	return nil
}

// produce reads the input and passes prepared items on.
func (im *importer) produce(src iter.Seq[inputElem], out chan<- *importItem) {
	p := im.newPreparer()
	for el := range src {
		it := p.prepare(el)
		if it == nil {
			continue
		}
		select {
		case out <- it:
		case <-im.ctx.Done():
			im.emit(it.outcome(ImportNotAttempted, "", im.stopCause()))
		}
	}
}

// produceDryRun validates and de-duplicates the input and counts the
// batches an import would send.
func (im *importer) produceDryRun(src iter.Seq[inputElem]) int {
	p := im.newPreparer()
	var b batchBuilder
	n := 0
	for el := range src {
		it := p.prepare(el)
		if it == nil {
			continue
		}
		if im.opts.HashPasswords && it.plaintext {
			// What prehashPassword would leave in plaintext.
			cfg := it.body.Credentials.Password.Config
			it.plaintext = cfg.HashedPassword != "" || (!IsPasswordHash(cfg.Password) && len(cfg.Password) > 72)
		}
		n += len(b.add(it, im.opts.BatchSize))
		im.emit(it.outcome(ImportValid, "", nil))
	}
	if len(b.items) > 0 {
		n++
	}
	return n
}

// hashWorker pre-hashes passwords.
func (im *importer) hashWorker(in <-chan *importItem, out chan<- *importItem) {
	for it := range in {
		if im.ctx.Err() != nil {
			im.emit(it.outcome(ImportNotAttempted, "", im.stopCause()))
			continue
		}
		_ = prehashPassword(&it.body, im.opts.HashCost) // on error the server hashes it
		it.plaintext = hasPlaintextPassword(&it.body)
		im.opts.Progress.addHashed()
		out <- it
	}
}

// batchBuilder collects items into batches within the server's limits.
type batchBuilder struct {
	items     []*importItem
	plaintext bool
}

func batchLimit(size int, plaintext bool) int {
	if plaintext && size > MaxBatchPlaintextPassword {
		return MaxBatchPlaintextPassword
	}
	return size
}

// add adds an item and returns the batches that are complete.
func (b *batchBuilder) add(it *importItem, size int) [][]*importItem {
	var full [][]*importItem
	if len(b.items) > 0 && len(b.items)+1 > batchLimit(size, b.plaintext || it.plaintext) {
		full = append(full, b.take())
	}
	b.items = append(b.items, it)
	b.plaintext = b.plaintext || it.plaintext
	if len(b.items) >= batchLimit(size, b.plaintext) {
		full = append(full, b.take())
	}
	return full
}

func (b *batchBuilder) take() []*importItem {
	items := b.items
	b.items, b.plaintext = nil, false
	return items
}

// batcher forms batches and hands them to the senders. A partial batch
// waits for more items until the input ends: pre-hashing or a slow reader
// must not shrink the batches.
//
// After the first batch it holds items back in a window until that batch
// is answered; when the answer was mostly conflicts (a re-run, see
// settler), windows of input are probed with one walk each and only the
// items not found are sent.
func (im *importer) batcher(in <-chan *importItem, out chan<- []*importItem) {
	defer close(out)
	var b batchBuilder
	firstSent := false
	send := func(batch []*importItem) {
		if im.ctx.Err() != nil {
			im.abandon(batch)
			return
		}
		out <- batch
		firstSent = true
	}
	add := func(it *importItem) {
		for _, batch := range b.add(it, im.sizer.get()) {
			send(batch)
		}
	}
	var window []*importItem
	holding := false // items wait in window for the first answer
	release := func(wait bool) {
		if wait {
			select {
			case <-im.firstAnswered:
			case <-im.ctx.Done():
			}
		}
		holding = false
		items := window
		window = nil
		if len(items) > 0 && im.ctx.Err() == nil && im.settle.shouldProbe(len(items)) {
			items = im.settle.probe(items)
		}
		for _, it := range items {
			add(it)
		}
	}
	answered := im.firstAnswered
	for {
		var it *importItem
		var ok bool
		if holding {
			select {
			case it, ok = <-in:
			case <-answered:
				answered = nil
				holding = false
				if !im.settle.shouldProbe(settleWindow) {
					release(false)
				}
				continue
			}
		} else {
			it, ok = <-in
		}
		if !ok {
			break
		}
		switch {
		case firstSent && answered != nil:
			holding = true
			fallthrough
		case window != nil || im.settle.shouldProbe(settleWindow):
			// While holding, no more than would be in flight anyway.
			limit := settleWindow
			if holding {
				limit = min(limit, im.opts.BatchSize*im.opts.Concurrency)
			}
			window = append(window, it)
			if holding && len(window) >= limit {
				// Wait for the first answer; in a re-run the window goes
				// on filling, so that one walk covers as much as it may.
				select {
				case <-answered:
				case <-im.ctx.Done():
				}
				answered, holding = nil, false
				if !im.settle.shouldProbe(settleWindow) {
					release(false)
				}
			} else if len(window) >= limit {
				release(false)
			}
		default:
			add(it)
		}
	}
	if len(window) > 0 {
		release(holding)
	}
	if len(b.items) > 0 {
		send(b.take())
	}
}

// abandon reports items that will not be sent (again) because the run
// stopped: not attempted, or outcome unknown if an answer was lost.
func (im *importer) abandon(items []*importItem) {
	cause := im.stopCause()
	for _, it := range items {
		if it.maybeApplied {
			im.emit(it.outcome(ImportFailed, "", fmt.Errorf("%w; the import stopped before it could be checked (%v)", ErrOutcomeUnknown, cause)))
		} else {
			im.emit(it.outcome(ImportNotAttempted, "", cause))
		}
	}
}

// failureKind classifies a batch request that got no per-item answer.
type failureKind int

const (
	failItems      failureKind = iota // fail these items (an unexpected 4xx)
	failRun                           // every request would fail alike (401, 403, 404, 405): stop
	retrySame                         // not applied (429, 503, refused connection): wait, resend
	retryMaybe                        // maybe applied (502, 500, other 5xx): wait, resend
	splitRefused                      // refused as a whole, nothing applied (400, 413): split
	splitAmbiguous                    // answer lost, maybe applied (504, timeout, cut off): split
	conflictAll                       // 409 for the whole batch
	requestAborted                    // the request's context ended (cancellation grace over)
)

func classify(err error) failureKind {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		switch s := apiErr.StatusCode; {
		case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
			return retrySame
		case s == http.StatusGatewayTimeout:
			return splitAmbiguous
		case s == http.StatusBadRequest || s == http.StatusRequestEntityTooLarge:
			return splitRefused
		case s == http.StatusUnauthorized || s == http.StatusForbidden || s == http.StatusNotFound || s == http.StatusMethodNotAllowed:
			return failRun
		case s == http.StatusConflict:
			return conflictAll
		case s >= 500:
			return retryMaybe
		}
		return failItems
	}
	switch {
	case errors.Is(err, ErrInvalidArgument):
		return failItems
	case neverSent(err):
		return retrySame
	}
	// A timeout, a broken connection, a cut-off or unreadable answer: the
	// server may have applied the batch.
	return splitAmbiguous
}

// neverSent reports a transport error that happened before the request
// could reach the server (connecting failed).
func neverSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// process sends a batch and settles every item in it, splitting and
// retrying as the failure calls for.
func (im *importer) process(items []*importItem) {
	for attempt := 1; ; attempt++ {
		items = im.dropUnknown(items)
		if len(items) == 0 {
			return
		}
		if im.ctx.Err() != nil {
			im.abandon(items)
			return
		}
		if size := im.sizer.get(); len(items) > size {
			// Formed before a timeout taught a smaller size.
			for len(items) > 0 {
				n := min(size, len(items))
				im.process(items[:n])
				items = items[n:]
			}
			return
		}
		kind, err := im.attempt(items)
		if err == nil {
			return // settled
		}
		switch kind {
		case failItems:
			im.resolveOrFail(items, err)
			return
		case failRun:
			im.cancel(err)
			im.resolveOrFail(items, err)
			return
		case requestAborted:
			markMaybeApplied(items)
			im.abandon(items)
			return
		case splitRefused:
			if len(items) == 1 {
				im.resolveOrFail(items, err)
				return
			}
			var apiErr *Error
			if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusRequestEntityTooLarge {
				im.sizer.shrink(len(items))
			}
			im.split(items)
			return
		case splitAmbiguous:
			markMaybeApplied(items)
			im.sizer.shrink(len(items))
			if !im.retry.pause(im.ctx) {
				im.abandon(items)
				return
			}
			// What the server applied is found with one walk, not by
			// sending it again to collect conflicts (which a real Kratos
			// answers as slowly as creations); the rest is sent again.
			if items = im.settle.probe(items); len(items) == 0 {
				return
			}
			if len(items) > 1 {
				im.split(items)
				return
			}
		case retryMaybe:
			markMaybeApplied(items)
			if len(items) > 1 && attempt >= 2 {
				// A 5xx that outlives a resend may come from one item (a
				// password the server's bcrypt refuses answers 500 for the
				// whole request): split to isolate it. What was applied is
				// found by the conflict check on resend.
				if !im.retry.pause(im.ctx) {
					im.abandon(items)
					return
				}
				im.split(items)
				return
			}
		}
		// Resend the same batch (retrySame, retryMaybe, or splitAmbiguous
		// for one item) as the retry engine decides.
		switch im.retry.after(im.ctx, attempt, err, true) {
		case retryStop, retryDeadline:
			im.resolveOrFail(items, err)
			return
		case retryTooLong:
			im.resolveOrFail(items, fmt.Errorf("%w (the server asked to wait longer than %s)", err, im.retry.policy.MaxRetryAfter))
			return
		case retryCancelled:
			im.abandon(items)
			return
		}
	}
}

// attempt sends items once. It returns a nil error when every item was
// settled (created, present or failed from the per-item answers, or after
// a 409 for the whole batch), and otherwise the failure to act upon.
func (im *importer) attempt(items []*importItem) (failureKind, error) {
	ctx, done := im.requestContext()
	defer done()
	patches := make([]IdentityPatch, len(items))
	for i, it := range items {
		patches[i].Create = it.body
	}
	im.batches.Add(1)
	start := time.Now()
	res, err := im.s.BatchCreate(ctx, patches, WithMaxRetries(0)) // the importer decides about resending
	var batchErr *BatchError
	if err != nil && !errors.As(err, &batchErr) {
		if ctx.Err() != nil {
			return requestAborted, err // the cancellation grace ran out
		}
		kind := classify(err)
		if kind != conflictAll {
			return kind, err
		}
		for _, it := range items {
			im.settleConflict(it, err)
		}
		return 0, nil
	}
	im.sizer.ok(len(items))
	im.opts.Progress.addSent(len(items))
	conflicts := 0
	for i, r := range res.Items {
		it := items[i]
		switch {
		case r.Err == nil:
			im.emit(it.outcome(ImportCreated, r.IdentityID, nil))
		case errors.Is(r.Err, ErrConflict):
			conflicts++
			im.settleConflict(it, r.Err)
		default:
			im.emit(it.outcome(ImportFailed, "", r.Err))
		}
	}
	im.settle.batchAnswered(len(items), conflicts, time.Since(start))
	return 0, nil
}

func (im *importer) split(items []*importItem) {
	half := len(items) / 2
	im.process(items[:half])
	im.process(items[half:])
}

func markMaybeApplied(items []*importItem) {
	for _, it := range items {
		it.maybeApplied = true
	}
}

// dropUnknown fails the items that may already exist and cannot be
// checked, so that they are never sent twice.
func (im *importer) dropUnknown(items []*importItem) []*importItem {
	keep := items[:0:0]
	for _, it := range items {
		if it.maybeApplied && !it.checkable() {
			im.emit(it.outcome(ImportFailed, "", fmt.Errorf("%w; the identity has no credential identifier and no external id to check whether it was created, so it is not sent again", ErrOutcomeUnknown)))
			continue
		}
		keep = append(keep, it)
	}
	return keep
}

// resolveOrFail settles items whose last attempt failed: those that may
// have been applied wait for the bulk check (see settler), the rest fail
// with err.
func (im *importer) resolveOrFail(items []*importItem, err error) {
	for _, it := range items {
		if !it.maybeApplied {
			im.emit(it.outcome(ImportFailed, "", err))
			continue
		}
		im.settle.add(it, settleLost, err)
	}
}

// settleConflict checks an item the server refused as a conflict: it waits
// for the bulk check (see settler), which finds the identity it conflicts
// with.
func (im *importer) settleConflict(it *importItem, conflict error) {
	if !it.checkable() {
		im.emit(it.outcome(ImportFailed, "", conflict))
		return
	}
	im.settle.add(it, settleConflict, conflict)
}

// settleFound reports an item found on the server: already present when it
// is the same identity, a conflict otherwise.
func (im *importer) settleFound(it *importItem, found *Identity, cause error) {
	if diff := identityDifference(found, &it.body); diff != "" {
		if !errors.Is(cause, ErrConflict) {
			cause = fmt.Errorf("%w (after: %v)", ErrConflict, cause)
		}
		im.emit(it.outcome(ImportFailed, "", &ConflictError{ExistingID: found.ID, Difference: diff, Err: cause}))
		return
	}
	im.emit(it.outcome(ImportAlreadyPresent, found.ID, nil))
}

// identityDifference says how an existing identity differs from a body to
// create ("" when it is the same identity).
func identityDifference(found *Identity, body *CreateIdentityBody) string {
	switch {
	case found.SchemaID != body.SchemaID:
		return fmt.Sprintf("schema_id is %q, not %q", found.SchemaID, body.SchemaID)
	case found.ExternalID != body.ExternalID:
		return fmt.Sprintf("external_id is %q, not %q", found.ExternalID, body.ExternalID)
	case !jsonEqual(found.Traits, body.Traits):
		return "traits differ"
	}
	return ""
}

// requestContext is the context of one batch and the look-ups that settle
// it. It outlives the run's context by CancelGrace, so that a request in
// flight when the import is cancelled can still settle its items.
func (im *importer) requestContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(im.parent))
	var mu sync.Mutex
	var timer *time.Timer
	stop := context.AfterFunc(im.ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(im.opts.CancelGrace, cancel)
	})
	return ctx, func() {
		stop()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

// batchSizer adapts the batch size: a timeout halves it, and it grows back
// by a quarter after a run of answered batches, never reaching a size that
// timed out.
type batchSizer struct {
	mu      sync.Mutex
	size    int
	ceiling int // largest size not known to time out
	streak  int
}

const growAfter = 4

func (b *batchSizer) get() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.size
}

func (b *batchSizer) shrink(failed int) {
	if failed <= 1 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ceiling = min(b.ceiling, failed-1)
	b.size = min(b.size, max(1, failed/2))
	b.streak = 0
}

func (b *batchSizer) ok(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n < b.size || b.size >= b.ceiling {
		return
	}
	if b.streak++; b.streak >= growAfter {
		b.streak = 0
		b.size = min(b.ceiling, b.size+max(1, b.size/4))
	}
}
