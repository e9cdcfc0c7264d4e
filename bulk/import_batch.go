package bulk

import (
	"fmt"
	"sync"

	"github.com/kratosadmin/sdk/client"
)

// batchBuilder collects items into batches within the server's limits.
type batchBuilder struct {
	items     []*importItem
	plaintext bool
}

func batchLimit(size int, plaintext bool) int {
	if plaintext && size > client.MaxBatchPlaintextPassword {
		return client.MaxBatchPlaintextPassword
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
