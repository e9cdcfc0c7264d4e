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
