package bulk

import (
	"errors"
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
	seen     map[string][2]int // key -> index, line of the first item
	index    int
}

func (im *importer) newPreparer() *preparer {
	return &preparer{
		im:       im,
		op:       "bulk.Import",
		resolver: newIdentifierResolver(im.c.Schemas, im.opts.IdentifierFunc),
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
	if err := checkItem(p.op, &body); err != nil {
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
		keys = append(keys, identifierKey(id))
	}
	if it.body.ExternalID != "" {
		keys = append(keys, externalKey(it.body.ExternalID))
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
		_ = prehashPassword(&it.body, im.opts.HashCost) // on error the server hashes it
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
