package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors. An *Error matches the sentinel of its HTTP status class
// with errors.Is; the HTTP status decides, not the code in the body.
var (
	ErrBadRequest   = errors.New("kratos: bad request")         // 400
	ErrUnauthorized = errors.New("kratos: unauthorized")        // 401
	ErrForbidden    = errors.New("kratos: forbidden")           // 403
	ErrNotFound     = errors.New("kratos: not found")           // 404
	ErrConflict     = errors.New("kratos: conflict")            // 409
	ErrRateLimited  = errors.New("kratos: rate limited")        // 429
	ErrServerError  = errors.New("kratos: server error")        // 5xx
	ErrRedirect     = errors.New("kratos: unexpected redirect") // 3xx not followed

	// ErrInvalidArgument is matched by an *ArgumentError: a call refused
	// before anything was sent.
	ErrInvalidArgument = errors.New("kratos: invalid argument")

	// ErrMalformedResponse is matched by a *ResponseError: a success status
	// whose body could not be read or decoded (truncated or invalid JSON,
	// an unexpected content type, a body over the size limit).
	ErrMalformedResponse = errors.New("kratos: malformed response")

	// ErrPaginationLoop ends a walk whose server handed back a page token
	// it had already given.
	ErrPaginationLoop = errors.New("kratos: server repeated a page token")

	// ErrBatchItemsFailed is matched by a *BatchError: a batch the server
	// accepted in which at least one item failed.
	ErrBatchItemsFailed = errors.New("kratos: batch items failed")

	// ErrRolledBack is matched by a *RolledBackError: a batch item the
	// server answered as created but rolled back with the rest of the
	// batch (Kratos before v25.4, when another item conflicted).
	ErrRolledBack = errors.New("kratos: batch item rolled back with the rest of the batch")

	// ErrBatchItemNotApplied is a batch item's error when the server
	// answered null for it and did nothing: Kratos does so for an item
	// without a create body.
	ErrBatchItemNotApplied = errors.New("kratos: batch item not applied (the server answered null: an item without create)")
)

// maxErrorBody caps how much of an error body is kept on an *Error.
const maxErrorBody = 64 << 10

// Error is a non-2xx answer from the server. It carries the HTTP status and
// whatever the server said in its `{"error": {...}}` body. Body keeps the
// raw body (at most 64 KiB); for a body that is not a Kratos error (an HTML
// page from a proxy, say) Message is empty and Error() shows a snippet.
type Error struct {
	// StatusCode is the HTTP status. It decides the error class.
	StatusCode int
	// Method and Path identify the request (path without query).
	Method string
	Path   string

	// The server's error object, when it sent one.
	Code    int64  // error.code; may differ from StatusCode
	Status  string // error.status, e.g. "Not Found"
	Reason  string // error.reason
	Message string // error.message
	ID      string // error.id
	Request string // error.request, or the X-Request-Id header
	Debug   string // error.debug
	Details json.RawMessage

	// ContentType is the response's Content-Type.
	ContentType string
	// Body is the raw response body, truncated to 64 KiB.
	Body []byte
	// RetryAfter is the server's Retry-After, zero when absent.
	RetryAfter time.Duration
	// RateLimit is what Ory Network's x-ratelimit-remaining and
	// x-ratelimit-reset headers said, nil when the response had neither.
	// A 429 without Retry-After is retried after its Reset.
	RateLimit *RateLimit
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("kratos: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	switch {
	case e.Message != "" || e.Reason != "":
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(oneLine(e.Message, 300))
		}
		if e.Reason != "" && e.Reason != e.Message {
			b.WriteString(" (")
			b.WriteString(oneLine(e.Reason, 300))
			b.WriteByte(')')
		}
	case len(e.Body) > 0:
		fmt.Fprintf(&b, ": unexpected %s body: %q", contentTypeOrUnknown(e.ContentType), snippet(e.Body, 200))
	default:
		b.WriteString(": empty body")
	}
	return b.String()
}

// Is reports whether target is the sentinel for this error's HTTP status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServerError:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	case ErrRedirect:
		return e.StatusCode >= 300 && e.StatusCode <= 399
	}
	return false
}

// ArgumentError is a call refused before a request was sent.
type ArgumentError struct {
	Op       string // the method, e.g. "Identities.Get"
	Argument string // the argument, e.g. "id" or "params.page_size"
	Reason   string
}

func (e *ArgumentError) Error() string {
	return "kratos: " + e.Op + ": invalid " + e.Argument + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidArgument) hold.
func (e *ArgumentError) Is(target error) bool { return target == ErrInvalidArgument }

// ResponseError is a success status whose body could not be used.
type ResponseError struct {
	Method      string
	Path        string
	StatusCode  int
	ContentType string
	// Snippet is the start of the body, for diagnosis.
	Snippet string
	Err     error
}

func (e *ResponseError) Error() string {
	msg := fmt.Sprintf("kratos: %s %s: %d response: %v", e.Method, e.Path, e.StatusCode, e.Err)
	if e.Snippet != "" {
		msg += fmt.Sprintf(" (body starts %q)", e.Snippet)
	}
	return msg
}

func (e *ResponseError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrMalformedResponse) hold.
func (e *ResponseError) Is(target error) bool { return target == ErrMalformedResponse }

// PageError is a failure while walking pages. PageToken is the token of the
// page that failed ("" for the first page): pass it as the PageToken
// parameter to resume the walk where it stopped.
type PageError struct {
	PageToken string
	Err       error
}

func (e *PageError) Error() string {
	if e.PageToken == "" {
		return "kratos: fetching the first page: " + e.Err.Error()
	}
	return "kratos: fetching page " + strconv.Quote(e.PageToken) + ": " + e.Err.Error()
}

func (e *PageError) Unwrap() error { return e.Err }

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

// snippet is a short, printable prefix of a body. A rune cut in half at
// the end is dropped; other invalid UTF-8 (a Latin-1 error page, binary
// garbage) shows as "?".
func snippet(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
		for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return oneLine(strings.ToValidUTF8(string(b), "?"), n)
}

func contentTypeOrUnknown(ct string) string {
	if ct == "" {
		return "(no content type)"
	}
	return snippet([]byte(ct), 100) // a header may carry any bytes
}
