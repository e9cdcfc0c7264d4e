package jsonwire

// The strings and raw values of one object are allocated together, when
// the object ends: one string holding all of its new strings, one byte
// slice holding all of its raw values (each raw value capped at its own
// length, so an append to one never writes into another). A page of
// identities costs a few allocations per identity instead of one per
// field, and what a caller keeps of an identity keeps only that identity's
// bytes alive.

type pendingString struct {
	dst      *string
	off, end int // in Decoder.pend
}

type pendingRaw struct {
	dst        *[]byte
	start, end int // in Decoder.buf
}

// Mark is where an object's pending values start.
type Mark struct{ s, r, off int }

// Mark returns the current end of the pending values, for Flush.
func (d *Decoder) Mark() Mark { return Mark{len(d.pstr), len(d.praw), len(d.pend)} }

// StringLater reads a string like String, setting *p when the enclosing
// object is flushed. p must stay where it is until then (a field of the
// object being decoded).
func (d *Decoder) StringLater(p *string) error {
	switch d.peek() {
	case '"':
	case 'n':
		if d.Null() {
			return nil
		}
		return ErrFallback
	default:
		return ErrFallback
	}
	raw, simple, err := d.stringToken()
	if err != nil {
		return err
	}
	if simple {
		if s, ok := d.lookup(raw); ok {
			*p = s
			return nil
		}
	} else {
		b, ok := unquote(d.scratch[:0], raw)
		if !ok {
			return ErrFallback
		}
		d.scratch = b
		raw = b
	}
	off := len(d.pend)
	d.pend = append(d.pend, raw...)
	d.pstr = append(d.pstr, pendingString{dst: p, off: off, end: len(d.pend)})
	return nil
}

// RawLater reads any value like Raw, setting *p when the enclosing object
// is flushed.
func (d *Decoder) RawLater(p *[]byte) error {
	d.peek()
	start := d.pos
	if err := d.skip(0); err != nil {
		return err
	}
	d.praw = append(d.praw, pendingRaw{dst: p, start: start, end: d.pos})
	return nil
}

// Flush allocates and sets the values pending since m.
func (d *Decoder) Flush(m Mark) {
	if len(d.pstr) > m.s {
		all := string(d.pend[m.off:])
		for _, ps := range d.pstr[m.s:] {
			s := all[ps.off-m.off : ps.end-m.off]
			*ps.dst = s
			if len(s) <= maxInterned {
				d.remember(s)
			}
		}
		clear(d.pstr[m.s:])
		d.pstr, d.pend = d.pstr[:m.s], d.pend[:m.off]
	}
	if len(d.praw) > m.r {
		n := 0
		for _, pr := range d.praw[m.r:] {
			n += pr.end - pr.start
		}
		buf := make([]byte, n)
		o := 0
		for _, pr := range d.praw[m.r:] {
			k := copy(buf[o:], d.buf[pr.start:pr.end])
			*pr.dst = buf[o : o+k : o+k]
			o += k
		}
		clear(d.praw[m.r:])
		d.praw = d.praw[:m.r]
	}
}
