package jsonwire

import (
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// String reads a string into *p; null leaves *p alone, as encoding/json
// does.
func (d *Decoder) String(p *string) error {
	switch d.peek() {
	case '"':
		s, err := d.stringValue()
		if err != nil {
			return err
		}
		*p = s
		return nil
	case 'n':
		if d.Null() {
			return nil
		}
	}
	return ErrFallback
}

// StringValue reads a string (not null).
func (d *Decoder) StringValue(p *string) error {
	if d.peek() != '"' {
		return ErrFallback
	}
	s, err := d.stringValue()
	if err != nil {
		return err
	}
	*p = s
	return nil
}

func (d *Decoder) stringValue() (string, error) {
	raw, simple, err := d.stringToken()
	if err != nil {
		return "", err
	}
	if simple {
		return d.Intern(raw), nil
	}
	b, ok := unquote(d.scratch[:0], raw)
	if !ok {
		return "", ErrFallback
	}
	d.scratch = b
	return string(b), nil
}

// internSlots is the size of the decoder's table of recent short strings.
const internSlots = 64

// interned is a small table of recently decoded short strings, so that a
// page of identities holds one copy of "default", "email", "active" or the
// schema URL instead of one per item. A miss costs one comparison.
type interned [internSlots]string

// maxInterned is the longest string the table keeps.
const maxInterned = 64

func internSlot[T string | []byte](b T) int {
	n := len(b)
	return (n*31 + int(b[0])*7 + int(b[n-1])*3 + int(b[n/2])) % internSlots
}

// Intern returns b as a string, reusing an equal recent one.
func (d *Decoder) Intern(b []byte) string {
	if s, ok := d.lookup(b); ok {
		return s
	}
	s := string(b)
	if len(s) <= maxInterned {
		d.remember(s)
	}
	return s
}

// lookup finds b in the table of recent strings.
func (d *Decoder) lookup(b []byte) (string, bool) {
	if len(b) == 0 {
		return "", true
	}
	if len(b) > maxInterned {
		return "", false
	}
	if s := d.strs[internSlot(b)]; s == string(b) {
		return s, true
	}
	return "", false
}

// remember puts s (not empty, at most maxInterned bytes) in the table.
func (d *Decoder) remember(s string) {
	d.strs[internSlot(s)] = s
}

// Bool reads true or false into *p; null leaves *p alone.
func (d *Decoder) Bool(p *bool) error {
	switch d.peek() {
	case 't':
		if err := d.literal("true"); err != nil {
			return err
		}
		*p = true
		return nil
	case 'f':
		if err := d.literal("false"); err != nil {
			return err
		}
		*p = false
		return nil
	case 'n':
		if d.Null() {
			return nil
		}
	}
	return ErrFallback
}

// Int64 reads an integer into *p; null leaves *p alone. A fraction, an
// exponent or a value beyond int64 is left to encoding/json.
func (d *Decoder) Int64(p *int64) error {
	c := d.peek()
	if c == 'n' {
		if d.Null() {
			return nil
		}
		return ErrFallback
	}
	if c != '-' && (c < '0' || c > '9') {
		return ErrFallback
	}
	tok, integer, err := d.number()
	if err != nil || !integer {
		return ErrFallback
	}
	neg := tok[0] == '-'
	if neg {
		tok = tok[1:]
	}
	if len(tok) > 18 { // may not fit: leave it to strconv in encoding/json
		return ErrFallback
	}
	var n int64
	for _, c := range tok {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	*p = n
	return nil
}

// Raw reads any value and stores a copy of its bytes in *p, as
// json.RawMessage does (null is kept as the bytes null).
func (d *Decoder) Raw(p *[]byte) error {
	d.peek()
	start := d.pos
	if err := d.skip(0); err != nil {
		return err
	}
	src := d.buf[start:d.pos]
	b := make([]byte, len(src))
	copy(b, src)
	*p = b
	return nil
}

// Time reads an RFC 3339 timestamp into *p; null leaves *p alone, as
// time.Time's UnmarshalJSON does.
func (d *Decoder) Time(p *time.Time) error {
	switch d.peek() {
	case '"':
		return d.TimeValue(p)
	case 'n':
		if d.Null() {
			return nil
		}
	}
	return ErrFallback
}

// TimeValue reads a timestamp string (not null). The server's form, UTC
// with up to nine fraction digits, is parsed here; any other form goes to
// time.Time's UnmarshalJSON, which decides as it does for encoding/json.
func (d *Decoder) TimeValue(p *time.Time) error {
	if d.peek() != '"' {
		return ErrFallback
	}
	start := d.pos
	raw, _, err := d.stringToken()
	if err != nil {
		return err
	}
	if t, ok := parseUTC(raw); ok {
		*p = t
		return nil
	}
	if err := p.UnmarshalJSON(d.buf[start:d.pos]); err != nil {
		return ErrFallback
	}
	return nil
}

// parseUTC parses 2006-01-02T15:04:05[.999999999]Z with the checks of
// time's RFC 3339 parser, and gives the same Time.
func parseUTC(s []byte) (time.Time, bool) {
	n := len(s)
	if n < len("2006-01-02T15:04:05Z") || s[n-1] != 'Z' ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := s[19 : n-1]; len(frac) > 0 {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
			return time.Time{}, false
		}
		f, ok := digits(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for i := len(frac) - 1; i < 9; i++ {
			f *= 10
		}
		nsec = f
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func digits(s []byte) (int, bool) {
	x := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		x = x*10 + int(c-'0')
	}
	return x, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// unquote appends the value of a string token's contents to b, as
// encoding/json's unquoteBytes decodes it (invalid UTF-8 and lone
// surrogates become U+FFFD). The contents were checked by stringToken.
func unquote(b, s []byte) ([]byte, bool) {
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			r++
			if r >= len(s) {
				return nil, false
			}
			switch s[r] {
			case '"', '\\', '/':
				b = append(b, s[r])
				r++
			case 'b':
				b = append(b, '\b')
				r++
			case 'f':
				b = append(b, '\f')
				r++
			case 'n':
				b = append(b, '\n')
				r++
			case 'r':
				b = append(b, '\r')
				r++
			case 't':
				b = append(b, '\t')
				r++
			case 'u':
				r--
				rr := getu4(s[r:])
				if rr < 0 {
					return nil, false
				}
				r += 6
				if utf16.IsSurrogate(rr) {
					rr1 := getu4(s[r:])
					if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						break
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
			default:
				return nil, false
			}
		case c == '"', c < ' ':
			return nil, false
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return b, true
}

func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
