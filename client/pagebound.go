package client

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/kratosadmin/sdk/internal/jsonwire"
)

// ErrTooManyItems is matched by the *ResponseError of a list answer that
// holds more items than the page may: more than the page size asked for,
// or than the server honours. The answer is refused before the item past
// the page is decoded, and a long one while it is read, so its cost in
// memory does not depend on how many items it claims.
var ErrTooManyItems = errors.New("kratos: list answer has more items than the page size")

// pageBound is what one list answer may decode into: at most max items.
// With cut, the items past max are dropped unread instead of refused (the
// server's flawOverlong pages: the extra items belong to the next page).
type pageBound struct {
	max int
	cut bool
}

// tooManyItems is the error of a list answer that goes on past max items.
func tooManyItems(max int) error {
	return fmt.Errorf("%w: the answer goes on after %d items, the most this page may hold", ErrTooManyItems, max)
}

// pageLimit is the page size a list call may receive: the size asked for
// (page_size, or the deprecated per_page when page_size is not given),
// clamped to what the server honours, or that maximum when nothing is asked.
func pageLimit(pageSize, perPage, maxSize int64) int64 {
	size := pageSize
	if size <= 0 {
		size = perPage
	}
	if size <= 0 || size > maxSize {
		return maxSize
	}
	return size
}

// pageSizes sets page sizes to values every Kratos release serves alike:
// a negative size (v1.3.1 drops the connection, later releases serve their
// default page) to 0, which is not sent, so that every release serves its
// default page; a size above maxSize (v1.3.1 serves any size, later
// releases clamp) to maxSize.
func pageSizes(maxSize int64, sizes ...*int64) {
	for _, v := range sizes {
		*v = max(0, min(*v, maxSize))
	}
}

// itemLimiter passes a JSON list answer through, counting the elements of
// its top-level array as they stream by (strings and nesting followed, no
// allocation). When the array would get more than max elements, it fails
// the read with ErrTooManyItems or, with cut, ends the body there with the
// closing bracket. A body that is not an array passes untouched: decoding
// reports it.
type itemLimiter struct {
	r     io.Reader
	bound pageBound
	depth int
	items int
	inStr bool
	esc   bool
	began bool // the top-level array opened
	off   bool // not an array: stop counting
	tail  int  // 1: the closing bracket is due; 2: sent
}

func (l *itemLimiter) Read(p []byte) (int, error) {
	switch l.tail {
	case 1:
		if len(p) == 0 {
			return 0, nil
		}
		p[0] = ']'
		l.tail = 2
		return 1, io.EOF
	case 2:
		return 0, io.EOF
	}
	n, err := l.r.Read(p)
	if m, serr := l.scan(p[:n]); serr != nil || m < n {
		return m, serr
	}
	return n, err
}

// scan counts the elements in p, the bytes that follow those scanned
// before. It returns how many of them pass: all of them, or those before
// the element past the bound, with ErrTooManyItems or, with cut, the
// closing bracket due (tail).
func (l *itemLimiter) scan(p []byte) (int, error) {
	n := len(p)
	if l.off {
		return n, nil
	}
	i := 0
	for ; !l.began && i < n; i++ {
		switch p[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '[':
			l.began, l.depth = true, 1
		default:
			l.off = true // not an array: decoding reports it
			return n, nil
		}
	}
	// The state in locals for the loop (kept in registers), stored back
	// on every way out.
	depth, items, inStr, esc := l.depth, l.items, l.inStr, l.esc
	for i < n {
		if inStr {
			// Most of a page's bytes are inside strings: skip to the
			// string's next quote or backslash, eight bytes at a time.
			if esc {
				esc = false
				i++
				continue
			}
			// The first word inline: most strings end within it.
			if i+8 <= n {
				if m := jsonwire.QuoteOrBackslash(binary.LittleEndian.Uint64(p[i:])); m != 0 {
					i += bits.TrailingZeros64(m) / 8
				} else {
					i += 8 + jsonwire.StringRun(p[i+8:n])
				}
			} else {
				i += jsonwire.StringRun(p[i:n])
			}
			switch {
			case i == n:
			case p[i] == '"':
				inStr = false
				i++
			case i+1 == n:
				esc = true // the backslash escapes the first byte of the next read
				i++
			default:
				i += 2 // the backslash and the byte it escapes
			}
			continue
		}
		c := p[i]
		i++
		if c <= ' ' && (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			continue
		}
		if items == 0 && depth == 1 && c != ']' {
			items = 1 // the first element starts
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				l.off = true // the array ended: the rest is decoding's
				l.depth, l.items = depth, items
				return n, nil
			}
		case ',':
			if depth != 1 {
				continue
			}
			if items >= l.bound.max {
				if l.bound.cut {
					l.tail = 1
					return i - 1, nil
				}
				return i - 1, tooManyItems(l.bound.max)
			}
			items++
		}
	}
	l.depth, l.items, l.inStr, l.esc = depth, items, inStr, esc
	return n, nil
}
