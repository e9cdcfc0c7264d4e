package bulk

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/retry"
)

// pacer holds every worker of a run back when Ory Network says the rate
// limit's bucket is about to run out: an answer whose
// x-ratelimit-remaining is below the number of batches in flight at once
// (the others in flight may take the rest) makes all of them wait until
// its window has turned (x-ratelimit-reset, plus the second it is
// truncated by: retry.UntilReset), never longer than the retry policy's
// MaxRetryAfter. The run slows down before the bucket is empty instead of
// collecting 429s. An answer without the headers (a self-hosted Kratos)
// changes nothing.
type pacer struct {
	reserve int           // batches in flight at once
	maxWait time.Duration // the retry policy's MaxRetryAfter

	mu        sync.Mutex
	notBefore time.Time
	pauses    int
}

// observe reads the rate-limit state of a batch's answer, received at now.
func (p *pacer) observe(h http.Header, now time.Time) {
	rl, ok := client.ParseRateLimit(h)
	if !ok || rl.Remaining < 0 || rl.Remaining >= p.reserve || rl.Reset < 0 {
		return
	}
	until := now.Add(min(retry.UntilReset(rl.Reset), p.maxWait))
	p.mu.Lock()
	defer p.mu.Unlock()
	if until.After(p.notBefore) {
		p.notBefore = until
		p.pauses++
	}
}

// wait blocks until the pacer lets a batch go; it reports whether ctx is
// still live.
func (p *pacer) wait(ctx context.Context) bool {
	p.mu.Lock()
	d := time.Until(p.notBefore)
	p.mu.Unlock()
	return retry.Sleep(ctx, d)
}
