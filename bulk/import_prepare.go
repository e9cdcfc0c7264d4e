package bulk

import (
	"errors"
	"hash/maphash"
	"iter"
	"strings"

	"github.com/kratosadmin/sdk/client"
)

// preparer validates input elements, derives their identifiers and finds
// duplicates and resumed items, in the producer goroutine.
type preparer struct {
	im       *importer
	op       string
	resolver *identifierResolver
	seen     *keySet
	index    int
}

// keySet remembers the keys (identifiers, external ids) of the input seen
// so far, with the index and line of the first item that had each, in
// memory that does not depend on how long the keys are: a 128-bit digest
// a key (two 64-bit maphash sums, seeded per import), 32 bytes of entry.
// Two different keys share a digest with a probability near n²/2¹²⁹
// (about 10⁻²⁷ for a million keys).
//
// With a window it keeps only the keys of the last window items, so that
// its memory is bounded by the window, not by the input: an import of
// 1,000,000 identities held about 70 MiB of map here before it had one. An
// item repeating a key from further back is sent, and the server refuses
// it as a conflict with the identity the earlier item made; settling finds
// that identity and reports the item already present (the same schema,
// traits and external id) or a *ConflictError naming it. Nothing is
// created twice either way. A dry run keeps every key (window 0), so that
// it finds every duplicate.
type keySet struct {
	seeds  [2]maphash.Seed
	m      map[[2]uint64][2]int
	window int        // items whose keys are kept; 0: all of them
	order  []keyEntry // the keys kept, oldest first from head (window > 0)
	head   int
}

// keyEntry is a key kept, with the index of the item that added it.
type keyEntry struct {
	digest [2]uint64
	index  int
}

func newKeySet(window int) *keySet {
	return &keySet{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, m: map[[2]uint64][2]int{}, window: window}
}

func (s *keySet) digest(key string) [2]uint64 {
	return [2]uint64{maphash.String(s.seeds[0], key), maphash.String(s.seeds[1], key)}
}

// first returns the index and line of the item that added d.
func (s *keySet) first(d [2]uint64) ([2]int, bool) {
	v, ok := s.m[d]
	return v, ok
}

// add records d for the item at index (and line).
func (s *keySet) add(d [2]uint64, index, line int) {
	s.m[d] = [2]int{index, line}
	if s.window > 0 {
		s.order = append(s.order, keyEntry{digest: d, index: index})
	}
}

// forget drops the keys of the items more than window items before index.
func (s *keySet) forget(index int) {
	if s.window <= 0 {
		return
	}
	// A key is added only when it is not kept, and an entry leaves before
	// any later one: the entry leaving is the key's.
	for s.head < len(s.order) && s.order[s.head].index < index-s.window {
		delete(s.m, s.order[s.head].digest)
		s.head++
	}
	// Reuse the slice once most of it is gone.
	if s.head > 1024 && s.head*2 >= len(s.order) {
		n := copy(s.order, s.order[s.head:])
		clear(s.order[n:])
		s.order = s.order[:n]
		s.head = 0
	}
}

func (im *importer) newPreparer() *preparer {
	window := im.opts.Window
	if im.opts.DryRun {
		window = 0
	}
	return &preparer{
		im:       im,
		op:       "bulk.Import",
		resolver: newIdentifierResolver(im.c.Schemas, im.opts.IdentifierFunc),
		seen:     newKeySet(window),
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
	if err := checkItem(p.op, &body); err != nil {
		im.emit(it.outcome(ImportFailed, "", err))
		return nil
	}
	it.body = body
	it.fingerprint = itemFingerprint(&it.body)
	it.idents = p.resolver.identifiers(im.ctx, &it.body)
	if dup := p.dedupe(it); dup != nil {
		im.emit(it.outcome(ImportFailed, "", dup))
		return nil
	}
	if id, ok := im.opts.Resume.lookup(it.index, it.idents, it.body.ExternalID, it.fingerprint); ok {
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
		keys = append(keys, identifierKey(id))
	}
	if it.body.ExternalID != "" {
		keys = append(keys, externalKey(it.body.ExternalID))
	}
	p.seen.forget(it.index)
	digests := make([][2]uint64, len(keys))
	for i, k := range keys {
		digests[i] = p.seen.digest(k)
		if first, ok := p.seen.first(digests[i]); ok {
			return &DuplicateError{Key: k, FirstIndex: first[0], FirstLine: first[1]}
		}
	}
	for _, d := range digests {
		p.seen.add(d, it.index, it.line)
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
		if im.opts.HashPasswords {
			it.plaintext = leftInPlaintext(&it.body)
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
		hadPlaintext := hasPlaintextPassword(&it.body)
		// On error the server hashes it.
		it.prehashed = prehashPassword(&it.body, im.opts.HashCost) == nil && hadPlaintext
		it.plaintext = hasPlaintextPassword(&it.body)
		im.opts.Progress.addHashed()
		out <- it
	}
}

// checkItem checks an input item as BatchCreate would, so that a bad item
// fails alone instead of refusing its whole batch.
func checkItem(op string, body *client.CreateIdentityBody) error {
	err := client.CheckCreateIdentityBody(body)
	var ae *client.ArgumentError
	if errors.As(err, &ae) {
		return &client.ArgumentError{Op: op, Argument: "item" + strings.TrimPrefix(ae.Argument, "body"), Reason: ae.Reason}
	}
	return err
}
