// Package jsonwire is the runtime of the JSON codecs that cmd/codecgen
// generates into gen/codecs.gen.go: a scanner over a whole body in memory
// and the appenders the encoders write with.
//
// Its decoders take only the forms whose meaning is beyond doubt and refuse
// everything else with ErrFallback: a wrong type, a duplicate or
// case-folded key, an integer that needs more than int64, a timestamp
// outside the server's plain form. The generated entry points then decode
// the same bytes with encoding/json, so that an unusual or broken body gets
// exactly the value or the error it always got, and only the common form
// runs fast.
package jsonwire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// ErrFallback reports that the fast path does not decide this input:
// encoding/json must.
var ErrFallback = errors.New("jsonwire: not decoded here; use encoding/json")

// maxDepth is encoding/json's nesting limit; deeper input is left to it.
const maxDepth = 10000

// Decoder reads JSON values from a byte slice.
type Decoder struct {
	buf []byte
	pos int
	// scratch holds a key or string that needed unescaping.
	scratch []byte
	strs    interned
	// Values waiting for the end of their object (later.go).
	pstr []pendingString
	praw []pendingRaw
	pend []byte
	// The bound on the top-level array (Bound): its most elements
	// (0: none), and whether the rest is dropped instead of refused.
	limit int
	cut   bool
	// arrays is how many arrays are open; items, how many elements of
	// the top-level one have begun.
	arrays, items int
}

// ErrTooManyItems reports a top-level array with more elements than its
// bound (Bound).
var ErrTooManyItems = errors.New("jsonwire: the array has more elements than its bound")

var decoders = sync.Pool{New: func() any {
	return &Decoder{pstr: make([]pendingString, 0, 16), praw: make([]pendingRaw, 0, 8), pend: make([]byte, 0, 512)}
}}

// GetDecoder returns a decoder reading data, from a pool: its buffers for
// pending values stay allocated between bodies. Return it with
// PutDecoder.
func GetDecoder(data []byte) *Decoder {
	d := decoders.Get().(*Decoder)
	d.Reset(data)
	return d
}

// PutDecoder returns d to the pool, keeping no reference to the body or
// to anything decoded from it.
func PutDecoder(d *Decoder) {
	d.buf = nil
	clear(d.pstr[:cap(d.pstr)])
	clear(d.praw[:cap(d.praw)])
	d.pstr, d.praw, d.pend = d.pstr[:0], d.praw[:0], d.pend[:0]
	d.strs = interned{}
	if cap(d.pend) > 1<<20 || cap(d.pstr) > 1<<16 || cap(d.praw) > 1<<16 || cap(d.scratch) > 64<<10 {
		return // grown by an unusual body: let it go
	}
	decoders.Put(d)
}

// Reset makes d read data from the start, with no bound.
func (d *Decoder) Reset(data []byte) {
	d.buf, d.pos = data, 0
	d.limit, d.cut, d.arrays, d.items = 0, false, 0, 0
}

// Bound holds the top-level array to at most limit elements (limit > 0):
// the element after them is refused with ErrTooManyItems before it is
// decoded or, with cut, it and the rest of the array are skipped (checked
// as JSON, not decoded) and the array ends there. Arrays nested in the
// elements are not bounded.
func (d *Decoder) Bound(limit int, cut bool) {
	d.limit, d.cut = limit, cut
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// peek skips white space and returns the next byte, or 0 at the end.
func (d *Decoder) peek() byte {
	for d.pos < len(d.buf) {
		c := d.buf[d.pos]
		if c > ' ' || !isSpace(c) {
			return c
		}
		d.pos++
	}
	return 0
}

// End checks that only white space follows the value read.
func (d *Decoder) End() error {
	if d.peek() != 0 || d.pos != len(d.buf) {
		return ErrFallback
	}
	return nil
}

// Null consumes a null literal if one is next and reports whether it did.
func (d *Decoder) Null() bool {
	if d.peek() == 'n' && d.pos+4 <= len(d.buf) && string(d.buf[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

// ObjectStart consumes '{' and, for an empty object, its '}'.
func (d *Decoder) ObjectStart() (empty bool, err error) {
	if d.peek() != '{' {
		return false, ErrFallback
	}
	d.pos++
	if d.peek() == '}' {
		d.pos++
		return true, nil
	}
	return false, nil
}

// ObjectNext consumes the ',' before another member (true) or the closing
// '}' (false).
func (d *Decoder) ObjectNext() (more bool, err error) {
	switch d.peek() {
	case ',':
		d.pos++
		return true, nil
	case '}':
		d.pos++
		return false, nil
	}
	return false, ErrFallback
}

// ArrayStart consumes '[' and, for an empty array, its ']'.
func (d *Decoder) ArrayStart() (empty bool, err error) {
	if d.peek() != '[' {
		return false, ErrFallback
	}
	d.pos++
	if d.peek() == ']' {
		d.pos++
		return true, nil
	}
	if d.arrays++; d.arrays == 1 {
		d.items = 1 // within any bound: a bound is at least 1
	}
	return false, nil
}

// ArrayNext consumes the ',' before another element (true) or the closing
// ']' (false).
func (d *Decoder) ArrayNext() (more bool, err error) {
	switch d.peek() {
	case ',':
		d.pos++
		if d.arrays == 1 && d.limit > 0 {
			if d.items >= d.limit {
				return d.overflow()
			}
			d.items++
		}
		return true, nil
	case ']':
		d.pos++
		d.arrays--
		return false, nil
	}
	return false, ErrFallback
}

// overflow handles the element of the top-level array past its bound,
// at d.pos: with cut, it skips the rest of the array and ends it (false);
// else ErrTooManyItems.
func (d *Decoder) overflow() (more bool, err error) {
	if !d.cut {
		return false, ErrTooManyItems
	}
	for {
		if err := d.skip(1); err != nil {
			return false, err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.arrays--
			return false, nil
		default:
			return false, ErrFallback
		}
	}
}

// Key reads a member's name and the ':' after it. The bytes are valid
// until the next call.
func (d *Decoder) Key() ([]byte, error) {
	if d.peek() != '"' {
		return nil, ErrFallback
	}
	raw, simple, err := d.stringToken()
	if err != nil {
		return nil, err
	}
	k := raw
	if !simple {
		var ok bool
		if k, ok = unquote(d.scratch[:0], raw); !ok {
			return nil, ErrFallback
		}
		d.scratch = k
	}
	if d.peek() != ':' {
		return nil, ErrFallback
	}
	d.pos++
	return k, nil
}

// stringToken reads a string token at d.pos (which is '"') and returns its
// contents without the quotes. simple reports that they need no unescaping
// and are valid UTF-8, so they are the string's value as they are.
func (d *Decoder) stringToken() (contents []byte, simple bool, err error) {
	start := d.pos + 1
	i := start
	simple = true
	ascii := true
	buf := d.buf
	for {
		// The common bytes, eight at a time while they last.
		for i+8 <= len(buf) {
			if m := unplainBytes(binary.LittleEndian.Uint64(buf[i:])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		for i < len(buf) && plainByte[buf[i]] {
			i++
		}
		if i >= len(buf) {
			return nil, false, ErrFallback
		}
		c := buf[i]
		switch {
		case c == '"':
			d.pos = i + 1
			s := d.buf[start:i]
			if !ascii && simple && !utf8.Valid(s) {
				simple = false
			}
			return s, simple, nil
		case c == '\\':
			simple = false
			i++
			if i >= len(d.buf) {
				return nil, false, ErrFallback
			}
			switch d.buf[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+5 > len(d.buf) {
					return nil, false, ErrFallback
				}
				for _, h := range d.buf[i+1 : i+5] {
					if !isHex(h) {
						return nil, false, ErrFallback
					}
				}
				i += 5
			default:
				return nil, false, ErrFallback
			}
		case c < ' ':
			return nil, false, ErrFallback
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			i++
		}
	}
}

// plainByte marks the bytes a string holds as they are: printable ASCII
// other than the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// QuoteOrBackslash flags (with its high bit) each byte of the
// little-endian word w that is a quote or a backslash: what ends the
// plain run of a string. The lowest flag is exact (a borrow of the
// zero-byte test only ever flags a byte above a flagged one), so
// bits.TrailingZeros64(m)/8 is the first such byte.
func QuoteOrBackslash(w uint64) uint64 {
	q, bs := w^(ones*'"'), w^(ones*'\\')
	return ((q-ones)&^q | (bs-ones)&^bs) & highs
}

// StringRun is the length of b's prefix that holds no quote and no
// backslash, tested eight bytes at a time.
func StringRun(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if m := QuoteOrBackslash(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if b[i] == '"' || b[i] == '\\' {
			return i
		}
	}
	return i
}

const ones, highs = 0x0101010101010101, 0x8080808080808080

// unplainBytes flags, as QuoteOrBackslash does, each byte of w that
// plainByte does not mark: a quote, a backslash, a control byte or a byte
// of a multi-byte sequence.
func unplainBytes(w uint64) uint64 {
	return QuoteOrBackslash(w) | ((w-ones*0x20)&^w|w)&highs
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Skip reads and discards one value, checking that it is valid JSON.
func (d *Decoder) Skip() error {
	return d.skip(0)
}

func (d *Decoder) skip(depth int) error {
	switch c := d.peek(); c {
	case '"':
		_, _, err := d.stringToken()
		return err
	case '{':
		if depth >= maxDepth {
			return ErrFallback
		}
		empty, err := d.ObjectStart()
		if err != nil || empty {
			return err
		}
		for {
			if d.peek() != '"' {
				return ErrFallback
			}
			if _, _, err := d.stringToken(); err != nil {
				return err
			}
			if d.peek() != ':' {
				return ErrFallback
			}
			d.pos++
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			more, err := d.ObjectNext()
			if err != nil || !more {
				return err
			}
		}
	case '[':
		if depth >= maxDepth {
			return ErrFallback
		}
		empty, err := d.ArrayStart()
		if err != nil || empty {
			return err
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			more, err := d.ArrayNext()
			if err != nil || !more {
				return err
			}
		}
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			_, _, err := d.number()
			return err
		}
	}
	return ErrFallback
}

func (d *Decoder) literal(lit string) error {
	if d.pos+len(lit) <= len(d.buf) && string(d.buf[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return nil
	}
	return ErrFallback
}

// number reads a number token at d.pos, following JSON's grammar, and
// returns it; integer reports that it has no fraction and no exponent.
func (d *Decoder) number() (tok []byte, integer bool, err error) {
	b, start := d.buf, d.pos
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i++; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		}
	default:
		return nil, false, ErrFallback
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		integer = false
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false, ErrFallback
		}
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integer = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false, ErrFallback
		}
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		}
	}
	d.pos = i
	return b[start:i], integer, nil
}

// FoldsToAny reports whether key equals one of names under encoding/json's
// case-insensitive matching (which the fast path leaves to it).
func FoldsToAny(key []byte, names []string) bool {
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooled bounds the buffers kept for reuse.
const maxPooled = 4 << 20

// GetBuffer returns an empty buffer for an encoder to append to.
func GetBuffer() *[]byte { return buffers.Get().(*[]byte) }

// PutBuffer returns a buffer from GetBuffer.
func PutBuffer(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		buffers.Put(b)
	}
}

// Valid reports whether data is valid JSON, as json.Valid does: the
// scanner here says yes to what it can read whole, and json.Valid decides
// the rest.
func Valid(data []byte) bool {
	var d Decoder
	d.Reset(data)
	if d.peek() != 0 && d.skip(0) == nil && d.End() == nil {
		return true
	}
	return json.Valid(data)
}

// fallbacks counts the bodies of known types that the fast path handed to
// encoding/json, so that tests can tell which path decided.
var fallbacks atomic.Uint64

// NoteFallback records that a generated decoder handed its body to
// encoding/json.
func NoteFallback() { fallbacks.Add(1) }

// Fallbacks is the number of NoteFallback calls so far.
func Fallbacks() uint64 { return fallbacks.Load() }
