package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress draws a one-line status (count, rate, ETA) on a terminal, and
// nothing anywhere else. Messages printed through it clear the line first.
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
}

const redrawEvery = 200 * time.Millisecond

func newProgress(w io.Writer, enabled bool, verb string, total int) *progress {
	p := &progress{w: w, enabled: enabled, verb: verb, total: total, now: time.Now}
	p.start = p.now()
	return p
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
	if now := p.now(); now.Sub(p.lastDraw) >= redrawEvery {
		p.lastDraw = now
		fmt.Fprintf(p.w, "\r\033[K%s", p.line(now))
		p.drawn = true
	}
}

// printf prints a message on its own line.
func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintf(p.w, format, args...)
}

// finish clears the status line.
func (p *progress) finish() {
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

// line is the status: "1,200/10,000 imported (12%), 950/s, ETA 9s, 3 failed".
func (p *progress) line(now time.Time) string {
	var b strings.Builder
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
