package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/kratosadmin/sdk/bulk"
)

// progress draws a one-line status (count, rate, ETA) on a terminal, and
// nothing anywhere else. Messages printed through it clear the line first.
// For an import it also shows the phase (hashing, sending, settling) and,
// while hashing, the hashing rate; it then redraws on its own, since no
// item is done while the first passwords are hashed.
type progress struct {
	w       io.Writer
	enabled bool
	verb    string // "imported", "exported"
	total   int    // 0 when unknown
	now     func() time.Time

	mu       sync.Mutex
	start    time.Time
	done     int
	failed   int
	lastDraw time.Time
	drawn    bool

	imp  *bulk.ImportProgress // nil: not an import
	stop chan struct{}
	tick sync.WaitGroup
}

const redrawEvery = 200 * time.Millisecond

func newProgress(w io.Writer, enabled bool, verb string, total int) *progress {
	p := &progress{w: w, enabled: enabled, verb: verb, total: total, now: time.Now}
	p.start = p.now()
	return p
}

// watch shows an import's phase from ip and redraws every redrawEvery
// until finish.
func (p *progress) watch(ip *bulk.ImportProgress) {
	p.imp = ip
	if !p.enabled {
		return
	}
	p.stop = make(chan struct{})
	p.tick.Go(func() {
		t := time.NewTicker(redrawEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				p.draw(p.now())
				p.mu.Unlock()
			}
		}
	})
}

// draw redraws the status line, at most every redrawEvery. The caller
// holds p.mu.
func (p *progress) draw(now time.Time) {
	if now.Sub(p.lastDraw) >= redrawEvery {
		p.lastDraw = now
		fmt.Fprintf(p.w, "\r\033[K%s", p.line(now))
		p.drawn = true
	}
}

// add counts one item and redraws, at most every redrawEvery.
func (p *progress) add(failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if failed {
		p.failed++
	}
	if !p.enabled {
		return
	}
	p.draw(p.now())
}

// printf prints a message on its own line.
func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintf(p.w, format, args...)
}

// finish stops redrawing and clears the status line.
func (p *progress) finish() {
	if p.stop != nil {
		close(p.stop)
		p.tick.Wait()
		p.stop = nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// line is the status: "1,200/10,000 imported (12%), 950/s, ETA 9s, 3 failed";
// for an import with the phase first ("hashing: ...") and, while hashing,
// the passwords hashed and their rate, while settling the items waiting
// and how they are looked for ("; 1,000 to settle by lookups").
func (p *progress) line(now time.Time) string {
	var b strings.Builder
	if p.imp != nil {
		b.WriteString(string(p.imp.Phase()) + ": ")
	}
	b.WriteString(thousands(p.done))
	if p.total > 0 {
		b.WriteString("/" + thousands(p.total))
	}
	b.WriteString(" " + p.verb)
	if p.total > 0 {
		fmt.Fprintf(&b, " (%d%%)", min(100, p.done*100/p.total))
	}
	elapsed := now.Sub(p.start)
	if elapsed > 0 && p.done > 0 {
		rate := float64(p.done) / elapsed.Seconds()
		fmt.Fprintf(&b, ", %s/s", thousands(int(rate+0.5)))
		if p.total > p.done && rate > 0 {
			eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
			fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
		}
	}
	if p.failed > 0 {
		fmt.Fprintf(&b, ", %s failed", thousands(p.failed))
	}
	if p.imp != nil {
		switch p.imp.Phase() {
		case bulk.ImportPhaseHashing:
			hashed := p.imp.Hashed()
			fmt.Fprintf(&b, "; %s hashed", thousands(hashed))
			if elapsed > 0 {
				fmt.Fprintf(&b, ", %s/s", thousands(int(float64(hashed)/elapsed.Seconds()+0.5)))
			}
		case bulk.ImportPhaseSettling:
			fmt.Fprintf(&b, "; %s to settle", thousands(p.imp.Settling()))
			if m := p.imp.SettleMethod(); m != "" {
				fmt.Fprintf(&b, " by %s", m)
			}
		}
	}
	return b.String()
}

// thousands formats n with thousands separators: 12,345.
func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
