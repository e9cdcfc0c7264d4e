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
// settler), windows of input are probed (by lookups or one walk each,
// whichever the server makes cheaper) and only the items not found are
// sent.
func (im *importer) batcher(in <-chan *importItem, out chan<- []*importItem) {
	defer close(out)
	bt := &batcher{im: im, out: out, answered: im.firstAnswered}
	for {
		it, ok := bt.next(in)
		if !ok {
			break
		}
		bt.take(it)
	}
	if len(bt.window) > 0 {
		bt.release(bt.holding)
	}
	if len(bt.b.items) > 0 {
		bt.send(bt.b.take())
	}
}

// batcher is the state of importer.batcher.
type batcher struct {
	im        *importer
	out       chan<- []*importItem
	b         batchBuilder
	firstSent bool
	// window holds items back: until the first batch is answered
	// (holding), or to be probed in a re-run.
	window   []*importItem
	holding  bool
	answered <-chan struct{} // the first answer; nil once it came
}

// next is the next input item. While holding, the first answer may come
// first: then what is held is released (see firstAnswer).
func (bt *batcher) next(in <-chan *importItem) (*importItem, bool) {
	for bt.holding {
		select {
		case it, ok := <-in:
			return it, ok
		case <-bt.answered:
			bt.firstAnswer()
		}
	}
	it, ok := <-in
	return it, ok
}

// firstAnswer ends holding once the first batch is answered: the window
// is sent, unless the answer showed a re-run, when it goes on filling so
// that one probe covers as much as it may.
func (bt *batcher) firstAnswer() {
	bt.answered, bt.holding = nil, false
	if !bt.im.settle.shouldProbe() {
		bt.release(false)
	}
}

// take places an input item: in a batch, or in the window.
func (bt *batcher) take(it *importItem) {
	if bt.firstSent && bt.answered != nil {
		bt.holding = true
	}
	if !bt.holding && bt.window == nil && !bt.im.settle.shouldProbe() {
		bt.add(it)
		return
	}
	// While holding, no more than would be in flight anyway.
	limit := bt.im.opts.Window
	if bt.holding {
		limit = min(limit, bt.im.opts.BatchSize*bt.im.opts.Concurrency)
	}
	bt.window = append(bt.window, it)
	switch {
	case bt.holding && len(bt.window) >= limit:
		select {
		case <-bt.answered:
		case <-bt.im.ctx.Done():
		}
		bt.firstAnswer()
	case len(bt.window) >= limit:
		bt.release(false)
	}
}

// release sends the window, after waiting for the first answer when wait
// is set, probing it first in a re-run.
func (bt *batcher) release(wait bool) {
	im := bt.im
	if wait {
		select {
		case <-im.firstAnswered:
		case <-im.ctx.Done():
		}
	}
	bt.holding = false
	items := bt.window
	bt.window = nil
	if len(items) > 0 && im.ctx.Err() == nil && im.settle.shouldProbe() {
		items = im.settle.probe(items, false)
	}
	for _, it := range items {
		bt.add(it)
	}
}

// add puts an item in the batch being formed and sends what is full.
// The first batch is at most firstBatchSize items: it tells a re-run from
// a first import, and on SQLite a batch of items that all conflict takes
// far longer than one that creates them (Kratos v26.2.0 with 10,000
// stored: 7.0 s for 1,000 conflicts, 1.1 s for 1,000 creations), so a
// re-run's first batch is small.
func (bt *batcher) add(it *importItem) {
	size := bt.im.sizer.get()
	if !bt.firstSent {
		size = min(size, firstBatchSize)
	}
	for _, batch := range bt.b.add(it, size) {
		bt.send(batch)
	}
}

// firstBatchSize is the most items the first batch of a run holds.
const firstBatchSize = 100

func (bt *batcher) send(batch []*importItem) {
	if bt.im.ctx.Err() != nil {
		bt.im.abandon(batch)
		return
	}
	bt.out <- batch
	bt.firstSent = true
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
