package bulk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/kratosadmin/sdk/client"
)

// MaxJSONLLine is the longest line ReadJSONL accepts (8 MiB); a longer one
// is reported as a bad line and skipped.
const MaxJSONLLine = 8 << 20

// LineError is a bad line of a JSON Lines input: invalid JSON, a missing
// schema_id or traits, an unknown field, a line over MaxJSONLLine. Line
// is 1-based.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ErrInputRead is matched by the error a JSON Lines reader yields when the
// underlying reader fails; reading stops there.
var ErrInputRead = errors.New("kratos: reading input")

// ReadJSONL reads identities to create from JSON Lines: one
// client.CreateIdentityBody object per line, as Export writes them. Blank lines
// are skipped. A bad line yields a *LineError and reading goes on with the
// next line; a failing reader yields an error matching ErrInputRead and
// ends the sequence.
//
//	for body, err := range client.ReadJSONL(f) {
//		if err != nil { log.Print(err); continue }
//		...
//	}
func ReadJSONL(r io.Reader) iter.Seq2[client.CreateIdentityBody, error] {
	return func(yield func(client.CreateIdentityBody, error) bool) {
		for el := range readJSONLines(r) {
			el.decode()
			if !yield(el.body, el.err) {
				return
			}
		}
	}
}

// inputElem is one element of an import's input, with its line number
// when it was read from JSON Lines. A line is decoded only when needed
// (decode): after a cancellation the rest of the input is just counted.
type inputElem struct {
	line int
	raw  []byte // the line, not yet decoded
	body client.CreateIdentityBody
	err  error
}

func (el *inputElem) decode() {
	if el.raw == nil {
		return
	}
	var err error
	if el.body, err = parseCreateBody(el.raw); err != nil {
		el.err = &LineError{Line: el.line, Err: err}
	}
	el.raw = nil
}

// readJSONLines is ReadJSONL with each item's line number.
func readJSONLines(r io.Reader) iter.Seq[inputElem] {
	return func(yield func(inputElem) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		var buf []byte
		for line := 1; ; line++ {
			buf = buf[:0]
			tooLong := false
			var err error
			for {
				var chunk []byte
				chunk, err = br.ReadSlice('\n')
				if len(buf)+len(chunk) > MaxJSONLLine {
					tooLong = true
				} else {
					buf = append(buf, chunk...)
				}
				if err != bufio.ErrBufferFull {
					break
				}
			}
			if err != nil && err != io.EOF {
				yield(inputElem{line: line, err: &LineError{Line: line, Err: fmt.Errorf("%w: %w", ErrInputRead, err)}})
				return
			}
			eof := err == io.EOF
			if line == 1 {
				buf = bytes.TrimPrefix(buf, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
			}
			trimmed := bytes.TrimSpace(buf)
			switch {
			case tooLong:
				if !yield(inputElem{line: line, err: &LineError{Line: line, Err: fmt.Errorf("longer than %d bytes", MaxJSONLLine)}}) {
					return
				}
			case len(trimmed) > 0:
				if !yield(inputElem{line: line, raw: bytes.Clone(trimmed)}) {
					return
				}
			}
			if eof {
				return
			}
		}
	}
}

// parseCreateBody decodes one identity strictly: unknown fields, trailing
// data and a missing schema_id or traits are errors, as on the server.
func parseCreateBody(b []byte) (client.CreateIdentityBody, error) {
	var body client.CreateIdentityBody
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return client.CreateIdentityBody{}, describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return client.CreateIdentityBody{}, errors.New("invalid JSON: more than one value on the line")
	}
	if strings.TrimSpace(body.SchemaID) == "" {
		return client.CreateIdentityBody{}, errors.New("missing schema_id")
	}
	if t := bytes.TrimSpace(body.Traits); len(t) == 0 || bytes.Equal(t, client.Null) {
		return client.CreateIdentityBody{}, errors.New("missing traits")
	}
	return body, nil
}

func describeJSONError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("invalid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the line"
		}
		return fmt.Errorf("%s: want %s, got JSON %s", field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: unexpected end of line")
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

// jsonlWriter writes one JSON value per line.
type jsonlWriter struct {
	w   *bufio.Writer
	err error
}

func newJSONLWriter(w io.Writer) *jsonlWriter { return &jsonlWriter{w: bufio.NewWriter(w)} }

func (j *jsonlWriter) write(v any) error {
	if j.err != nil {
		return j.err
	}
	b, err := json.Marshal(v)
	if err != nil {
		j.err = err
		return err
	}
	b = append(b, '\n')
	if _, err := j.w.Write(b); err != nil {
		j.err = err
	}
	return j.err
}

func (j *jsonlWriter) flush() error {
	if j.err != nil {
		return j.err
	}
	j.err = j.w.Flush()
	return j.err
}
