package client

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestItemLimiterCountsAsTheDecoderDoes: whatever the strings hold
// (brackets, commas, escaped quotes and backslashes) and however the body
// is cut into reads (a backslash at the end of one read escapes the first
// byte of the next), the limiter passes exactly the arrays of at most max
// elements, as many as encoding/json decodes.
func TestItemLimiterCountsAsTheDecoderDoes(t *testing.T) {
	bodies := []string{
		`[]`,
		` [ ] `,
		`[{}]`,
		`[{},{},{}]`,
		`["a","b"]`,
		`["],[,{", "\"],[", "\\", "\\\"", "x\\\\"]`,
		`[{"s":"\",\",\"","n":[1,2,[3,4]],"o":{"a":"}"}},{"t":"\\\\\\\""}]`,
		`[1, [2, 3], {"a": [4, 5]}, "6,7", null, true]`,
		`[` + strings.Repeat(`{"k":"\\\"\\\"","v":[1,2]},`, 50) + `{}]`,
	}
	// Strings are skipped eight bytes at a time: an escape, an escaped
	// quote or backslash, and a closing quote at every offset of a word.
	for off := range 17 {
		pad := strings.Repeat("x", off)
		bodies = append(bodies,
			`["`+pad+`\"],[,`+pad+`", "`+pad+`"]`,
			`["`+pad+`\\","`+pad+`\\\"\\"]`,
			`[{"a":"`+pad+`\u0022,"},"`+strings.Repeat(`\\`, off)+`"]`,
		)
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one-byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	}
	for _, body := range bodies {
		var items []json.RawMessage
		if err := json.Unmarshal([]byte(body), &items); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		for name, wrap := range readers {
			for _, max := range []int{len(items), len(items) - 1} {
				if max < 1 {
					continue
				}
				l := &itemLimiter{r: wrap(strings.NewReader(body)), bound: pageBound{max: max}}
				got, err := io.ReadAll(l)
				switch {
				case max >= len(items) && (err != nil || string(got) != body):
					t.Errorf("%s, %s reads, max %d: %q, %v; want the body whole", body, name, max, got, err)
				case max < len(items) && !errors.Is(err, ErrTooManyItems):
					t.Errorf("%s, %s reads, max %d (%d items): %v, want ErrTooManyItems", body, name, max, len(items), err)
				}
			}
		}
	}
}

// FuzzItemLimiter: for any body that encoding/json decodes as an array,
// the limiter passes it whole when it holds at most max elements and
// refuses it with ErrTooManyItems when it holds more, however the body is
// cut into reads; for any other body it never panics.
func FuzzItemLimiter(f *testing.F) {
	f.Add([]byte(`["a\\\"],[", {"b":["c,d"]}, 1]`), uint8(2), false)
	f.Add([]byte(`[{"k":"0123456789\"abcdef\\"},{}]`), uint8(1), true)
	f.Add([]byte(`{"error":{"code":500}}`), uint8(1), false)
	f.Fuzz(func(t *testing.T, body []byte, max uint8, oneByte bool) {
		if max == 0 {
			max = 1
		}
		var r io.Reader = strings.NewReader(string(body))
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		got, err := io.ReadAll(&itemLimiter{r: r, bound: pageBound{max: int(max)}})
		var items []json.RawMessage
		if json.Unmarshal(body, &items) != nil {
			return
		}
		switch {
		case len(items) <= int(max) && (err != nil || string(got) != string(body)):
			t.Fatalf("%q, max %d: %q, %v; want the body whole", body, max, got, err)
		case len(items) > int(max) && !errors.Is(err, ErrTooManyItems):
			t.Fatalf("%q, max %d (%d items): %v, want ErrTooManyItems", body, max, len(items), err)
		}
	})
}
