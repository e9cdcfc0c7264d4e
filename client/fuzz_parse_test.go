package client

// Fuzz targets for the parsers that read what a server sends: the Link
// header, Retry-After, and error bodies. Plain `go test` runs the f.Add
// seeds and the corpus in testdata/fuzz/<FuzzName>/; scripts/fuzz.sh
// fuzzes each target for a bounded time.

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseLinkHeader feeds arbitrary Link header values to the parser.
// Properties: no panic; a failure wraps errMalformedLink and has a short,
// valid UTF-8 message; a success re-serialises to a header that parses to
// the same links; nextPageToken agrees with parseLinkHeader.
func FuzzParseLinkHeader(f *testing.F) {
	for _, s := range []string{
		``,
		`</admin/identities?page_size=2&page_token=00000000-0000-0000-0000-000000000000>; rel="first",</admin/identities?page_size=2&page_token=d5a3b1bc-8d7a-4d2f-9c8e-6c2f1b2a3c4d>; rel="next"`,
		`</admin/identities?page=0&per_page=2>; rel="first",</admin/identities?page=1&per_page=2>; rel="next",</admin/identities?page=3&per_page=2>; rel="last"`,
		`<https://evil.example/steal?page_token=t2>; rel="next"`,
		`<a>; rel=next; title="a, \"b\"; c", <b>; rel="prev next"`,
		`<a>; rel`,
		`<a>;;; rel=next,,, <b>`,
		`<unterminated`,
		`no-angle; rel=next`,
		`<a>; title="unterminated`,
		`<a> junk; rel=next`,
		`<?page_token=%zz>; rel=next`,
		`<?page_token=a;b>; rel=next`,
		`<?page_token=x#frag?page_token=y>; REL="NEXT"`,
		"<\xff\xfe>; rel=\"n\xffext\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		links, err := parseLinkHeader(v)
		next, nextErr := nextPageToken(http.Header{"Link": {v}})
		if err != nil {
			if !errors.Is(err, errMalformedLink) {
				t.Fatalf("error does not wrap errMalformedLink: %v", err)
			}
			checkMessage(t, err)
			if nextErr == nil {
				t.Fatalf("parseLinkHeader failed (%v) but nextPageToken did not", err)
			}
			return
		}
		if nextErr != nil {
			checkMessage(t, nextErr)
		}
		// Serialise what was parsed and parse it again.
		var b strings.Builder
		for i, l := range links {
			if strings.ContainsRune(l.target, '>') {
				t.Fatalf("target %q contains '>'", l.target)
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("<" + l.target + ">")
			if l.rels != "" {
				b.WriteString(`; rel="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(l.rels) + `"`)
			}
		}
		again, err := parseLinkHeader(b.String())
		if err != nil {
			t.Fatalf("re-serialised header %q does not parse: %v", b.String(), err)
		}
		if len(again) != len(links) {
			t.Fatalf("re-serialised header has %d links, want %d", len(again), len(links))
		}
		for i := range links {
			if again[i] != links[i] {
				t.Fatalf("link %d: %+v after a round trip, want %+v", i, again[i], links[i])
			}
		}
		// nextPageToken takes the first rel=next link's token.
		want := ""
		for _, l := range links {
			if l.hasRel("next") {
				tok, err := pageTokenOf(l.target)
				if err != nil {
					if nextErr == nil {
						t.Fatalf("next target %q has a bad query but nextPageToken succeeded", l.target)
					}
					return
				}
				want = tok
				break
			}
		}
		if nextErr != nil || next != want {
			t.Fatalf("nextPageToken = %q, %v; want %q", next, nextErr, want)
		}
	})
}

// FuzzNextPageToken builds well-formed Link headers around an arbitrary
// page token and an arbitrary next-link host. Property: the token comes
// back exactly, whatever the host (only the token is used).
func FuzzNextPageToken(f *testing.F) {
	f.Add("00000000-0000-0000-0000-000000000000", "127.0.0.1:4434", false)
	f.Add("aWQ9MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAw", "evil.example", true)
	f.Add("a b&c=d;e,f<g>h\"i", "", false)
	f.Add("\xff\x00%", "x", true)
	f.Fuzz(func(t *testing.T, token, host string, before bool) {
		if token == "" || strings.ContainsAny(host, "<>?#/\\\"") || strings.ContainsFunc(host, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			t.Skip()
		}
		target := "/admin/identities?page_size=2&page_token=" + url.QueryEscape(token)
		if host != "" {
			target = "https://" + host + target
		}
		v := `<` + target + `>; rel="next"`
		if before {
			v = `</admin/identities?page_size=2&page_token=first>; rel="first", ` + v + `, <https://x/?page_token=other>; rel="next"`
		}
		got, err := nextPageToken(http.Header{"Link": {v}})
		if err != nil || got != token {
			t.Fatalf("nextPageToken(%q) = %q, %v; want %q", v, got, err, token)
		}
	})
}

// FuzzParseRetryAfter feeds arbitrary Retry-After values, and well-formed
// ones built from a number of seconds. Properties: no panic, never
// negative; delay-seconds and HTTP dates give the delay they say.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "1", " 120 ", "-5", "1.5", "9223372036854775807", "99999999999999999999",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "soon", "+3", "0x10"} {
		f.Add(s, int64(3))
	}
	f.Add("", int64(-1))
	f.Add("", int64(1<<40))
	now := time.Date(2025, 6, 1, 12, 0, 0, 500_000_000, time.UTC)
	f.Fuzz(func(t *testing.T, v string, secs int64) {
		if d := parseRetryAfter(v, now); d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %s, negative", v, d)
		}
		// Delay-seconds.
		d := parseRetryAfter(strconv.FormatInt(secs, 10), now)
		switch {
		case secs <= 0:
			if d != 0 {
				t.Fatalf("Retry-After %d gave %s, want 0", secs, d)
			}
		case secs < int64(1<<62)/int64(time.Second):
			if d != time.Duration(secs)*time.Second {
				t.Fatalf("Retry-After %d gave %s", secs, d)
			}
		default:
			if d < time.Duration(1<<62) {
				t.Fatalf("Retry-After %d gave %s, want saturation", secs, d)
			}
		}
		// HTTP date, secs from now (within the four-digit years).
		if secs > -1e10 && secs < 1e10 {
			at := now.Add(time.Duration(secs) * time.Second)
			d := parseRetryAfter(at.Format(http.TimeFormat), now)
			want := at.Truncate(time.Second).Sub(now)
			if want < 0 {
				want = 0
			}
			if d != want {
				t.Fatalf("Retry-After %q gave %s, want %s", at.Format(http.TimeFormat), d, want)
			}
		}
	})
}

// FuzzErrorBody decodes arbitrary error answers with newError and
// CheckResponse. Properties: no panic; an *Error whose status, sentinel
// and raw body are right; Error() is one non-empty line of valid UTF-8,
// of bounded length, that shows the status and, for a body that is not a
// Kratos error, a non-empty snippet of it.
func FuzzErrorBody(f *testing.F) {
	f.Add(404, "application/json", []byte(`{"error":{"code":404,"status":"Not Found","reason":"","message":"Unable to locate the resource","id":"","request":"a1"}}`), "", "req-1")
	f.Add(409, "application/json; charset=utf-8", []byte(`{"error":{"code":409,"status":"Conflict","reason":"This identity conflicts with another identity that already exists.","message":"The resource could not be created due to a conflict"}}`), "", "")
	f.Add(400, "application/problem+json", []byte(`{"error":{"code":400,"message":"line one\nline two\r\n\ttabbed","reason":"x","details":{"a":[1,2]}}}`), "", "")
	f.Add(502, "text/html", []byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"), "", "")
	f.Add(502, "text/html; charset=iso-8859-1", []byte("<html><body>Erreur \xe9chou\xe9e du serveur amont, veuillez r\xe9essayer plus tard "+strings.Repeat("\xe9", 300)+"</body></html>"), "", "")
	f.Add(503, "", []byte("\xff\xfe\xfd upstream connect error or disconnect/reset before headers"), "120", "")
	f.Add(429, "application/json", []byte(`{"error":{"code":429,"message":""}}`), "Wed, 21 Oct 2015 07:28:00 GMT", "")
	f.Add(500, "", []byte(`{"error":null}`), "", "")
	f.Add(500, "", []byte(`{"error":{"code":"x"}}`), "", "")
	f.Add(400, "application/json", []byte(`{"error":{"message":"`+strings.Repeat("very long message ", 5000)+`"}}`), "", "")
	f.Add(301, "text/plain", []byte("   \n\t  "), "", "")
	f.Add(0, "", []byte(nil), "", "")
	f.Add(-1, "\x00", []byte{0}, "-3", "\n")
	f.Add(999, "application/json", bytes.Repeat([]byte("{"), 70<<10), "", "")
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte, retryAfter, requestID string) {
		h := http.Header{}
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		if requestID != "" {
			h.Set("X-Request-Id", requestID)
		}
		e := newError(http.MethodGet, "/admin/identities", status, h, body)
		checkAPIError(t, e, status, body)

		// CheckResponse maps the same answer the same way.
		resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body))}
		req, _ := http.NewRequest(http.MethodDelete, "http://127.0.0.1:4434/admin/identities/x", nil)
		for _, r := range []*http.Request{nil, req} {
			resp.Request = r
			resp.Body = io.NopCloser(bytes.NewReader(body))
			err := CheckResponse(resp)
			if status >= 200 && status <= 299 {
				if err != nil {
					t.Fatalf("CheckResponse(%d) = %v, want nil", status, err)
				}
				continue
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("CheckResponse(%d) = %T %v, want *Error", status, err, err)
			}
			checkAPIError(t, ce, status, body)
			if ce.Message != e.Message || ce.Reason != e.Reason || ce.Code != e.Code || !bytes.Equal(ce.Body, e.Body) {
				t.Fatalf("CheckResponse decoded %+v, newError %+v", ce, e)
			}
		}
	})
}

func checkAPIError(t *testing.T, e *Error, status int, body []byte) {
	t.Helper()
	if e.StatusCode != status {
		t.Fatalf("StatusCode %d, want %d", e.StatusCode, status)
	}
	if e.RetryAfter < 0 {
		t.Fatalf("negative RetryAfter %s", e.RetryAfter)
	}
	keep := min(len(body), maxErrorBody)
	if !bytes.Equal(e.Body, body[:keep]) {
		t.Fatalf("Body is not the first %d bytes of the body", keep)
	}
	sentinels := map[error]bool{
		ErrBadRequest:   status == 400,
		ErrUnauthorized: status == 401,
		ErrForbidden:    status == 403,
		ErrNotFound:     status == 404,
		ErrConflict:     status == 409,
		ErrRateLimited:  status == 429,
		ErrServerError:  status >= 500 && status <= 599,
		ErrRedirect:     status >= 300 && status <= 399,
	}
	for s, want := range sentinels {
		if errors.Is(e, s) != want {
			t.Fatalf("errors.Is(%d, %v) = %v", status, s, !want)
		}
	}
	msg := checkMessage(t, e)
	if !strings.Contains(msg, strconv.Itoa(status)) {
		t.Fatalf("Error() %q does not show the status %d", msg, status)
	}
	if e.Message == "" && e.Reason == "" && len(bytes.TrimSpace(body)) > 0 && strings.HasSuffix(msg, `body: ""`) {
		t.Fatalf("Error() %q shows an empty snippet of a non-empty body %q", msg, snippetForLog(body))
	}
}

// checkMessage checks that err's message is one non-empty line of valid
// UTF-8 of bounded length, and returns it.
func checkMessage(t *testing.T, err error) string {
	t.Helper()
	msg := err.Error()
	switch {
	case msg == "":
		t.Fatalf("%T with an empty message", err)
	case !utf8.ValidString(msg):
		t.Fatalf("message is not valid UTF-8: %q", msg)
	case strings.ContainsAny(msg, "\r\n"):
		t.Fatalf("message spans several lines: %q", msg)
	case len(msg) > 2048:
		t.Fatalf("message of %d bytes: %q...", len(msg), msg[:200])
	}
	return msg
}

func snippetForLog(b []byte) string {
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b)
}
