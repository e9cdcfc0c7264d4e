package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/exchange"
)

// fuzzDoer answers every request with the same fuzzed response.
type fuzzDoer struct {
	status                                  int
	contentType, link, location, retryAfter string
	body                                    []byte
	calls                                   atomic.Int32
}

func (d *fuzzDoer) Do(req *http.Request) (*http.Response, error) {
	d.calls.Add(1)
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	h := http.Header{}
	for k, v := range map[string]string{"Content-Type": d.contentType, "Link": d.link, "Location": d.location, "Retry-After": d.retryAfter} {
		if v != "" {
			h.Set(k, v)
		}
	}
	return &http.Response{
		Status:        strconv.Itoa(d.status),
		StatusCode:    d.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(d.body)),
		ContentLength: int64(len(d.body)),
		Request:       req,
	}, nil
}

// FuzzResponses sends every typed call (typedCalls) to a Doer that answers with a
// fuzzed status, Content-Type, Link, Location, Retry-After and body.
// Properties: no panic; the call returns promptly; success only for a 2xx
// answer, with a value; every failure is typed (*client.Error for an error
// status, *client.ResponseError matching ErrMalformedResponse for a bad 2xx
// body, *client.BatchError with a result, *client.PageError from a walk)
// and has a one-line, non-empty message.
func FuzzResponses(f *testing.F) {
	// The recorded answers of a real server, each through every call.
	all, err := exchange.LoadAll(exchange.Dir())
	if err != nil {
		f.Fatal(err)
	}
	for i, x := range all {
		h := x.Response.Headers
		f.Add(uint8(i), x.Response.Status, h["Content-Type"], h["Link"], h["Location"], "", x.ResponseBody())
	}
	json := "application/json; charset=utf-8"
	for _, s := range []struct {
		status               int
		ct, link, loc, retry string
		body                 string
	}{
		{200, json, "", "", "", `null`},
		{200, json, "", "", "", `[]`},
		{200, json, "", "", "", `{}`},
		{200, json, "", "", "", `{"identities":[{"action":"create","identity":"9fce9890-b047-44b5-8b6d-dfeffddfaf02","patch_id":"9fce9890-b047-44b5-8b6d-dfeffddfaf02"},{"action":"error","error":{"code":409,"message":"conflict"}}]}`},
		{200, json, "", "", "", `{"identities":[{"action":"create","identity":"x"},{"action":"weird"}]}`},
		{200, json, `</admin/identities?page_token=a>; rel="next"`, "", "", `[{"id":"9fce9890-b047-44b5-8b6d-dfeffddfaf02"}]`},
		{200, json, `<https://evil.example/?page_token=%zz>; rel="next"`, "", "", `[{}]`},
		{200, json, `<broken`, "", "", `[{}]`},
		{200, "text/html", "", "", "", `{"id":"9fce9890-b047-44b5-8b6d-dfeffddfaf02"}`},
		{200, "", "", "", "", `{"id":1}`},
		{200, json, "", "", "", `{"created_at":"not a time"}`},
		{200, json, "", "", "", `{"organization_id":{}}`},
		{200, json, "", "", "", `{"id":"9fce9890-b047-44b5-8b6d-dfeffddfaf02","traits":{"email":`},
		{204, "", "", "", "", ``},
		{201, json, "", "", "", "   \n"},
		{307, "text/html", "", "http://127.0.0.1:4433/schemas", "", `<a href="/schemas">Temporary Redirect</a>.`},
		{308, "", "", "//other.example/x", "", ``},
		{302, "", "", "javascript:alert(1)", "", ``},
		{429, json, "", "", "1", `{"error":{"code":429,"message":"slow down"}}`},
		{503, "text/html", "", "", "Wed, 21 Oct 2015 07:28:00 GMT", "<html>\xe9</html>"},
		{502, "", "", "", "", ""},
		{0, "", "", "", "", ""},
		{-200, "", "", "", "", ""},
		{1 << 30, "", "", "", "", "x"},
	} {
		for op := range typedCalls {
			f.Add(uint8(op), s.status, s.ct, s.link, s.loc, s.retry, []byte(s.body))
		}
	}
	f.Fuzz(func(t *testing.T, op uint8, status int, contentType, link, location, retryAfter string, body []byte) {
		o := typedCalls[int(op)%len(typedCalls)]
		d := &fuzzDoer{status: status, contentType: contentType, link: link, location: location, retryAfter: retryAfter, body: body}
		c, err := client.New("http://127.0.0.1:4434",
			client.WithDoer(d), client.WithBearerToken("fuzz-token"), client.WithKratosVersion(client.KratosV26_2),
			// Two attempts, no real waiting: any Retry-After ends the retries.
			client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 2, MaxBackoff: time.Microsecond}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		got, err := o.call(ctx, c)
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("%s took %s", o.name, el)
		}
		if n := d.calls.Load(); n == 0 || n > 40 {
			t.Fatalf("%s sent %d requests", o.name, n)
		}
		ok2xx := status >= 200 && status <= 299
		if err == nil {
			if !ok2xx {
				t.Fatalf("%s succeeded on status %d", o.name, status)
			}
			checkSuccessValue(t, o, status, got)
			return
		}
		checkTypedError(t, o, status, got, err)
	})
}

func checkSuccessValue(t *testing.T, tc typedCall, status int, got any) {
	t.Helper()
	op := tc.name
	switch v := got.(type) {
	case nil:
		if tc.method != http.MethodDelete {
			t.Fatalf("%s succeeded without a value", op)
		}
	case *client.Session:
		if v == nil && !(op == "Sessions.Extend" && status == http.StatusNoContent) {
			t.Fatalf("%s returned a nil session on %d", op, status)
		}
	case *client.Identity:
		if v == nil {
			t.Fatalf("%s returned a nil identity", op)
		}
	case *client.BatchResult:
		if v == nil || len(v.Items) != 2 || v.FailedCount() != 0 {
			t.Fatalf("%s returned %+v without an error", op, v)
		}
	}
}

// checkTypedError checks that err is one of the client's error types and
// fits the status.
func checkTypedError(t *testing.T, tc typedCall, status int, got any, err error) {
	t.Helper()
	op := tc.name
	msg := err.Error()
	if msg == "" || strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("%s: bad message %q", op, msg)
	}
	if strings.Contains(msg, "fuzz-token") {
		t.Fatalf("%s: error shows the token: %q", op, msg)
	}
	ok2xx := status >= 200 && status <= 299
	var pe *client.PageError
	if errors.As(err, &pe) {
		if !tc.iterator {
			t.Fatalf("%s returned a *PageError", op)
		}
		err = pe.Err
		if errors.Is(err, client.ErrPaginationLoop) {
			if !ok2xx || pe.PageToken == "" {
				t.Fatalf("%s: loop on status %d at token %q", op, status, pe.PageToken)
			}
			return
		}
	}
	var apiErr *client.Error
	var respErr *client.ResponseError
	var batchErr *client.BatchError
	switch {
	case errors.As(err, &apiErr):
		if ok2xx || apiErr.StatusCode != status {
			t.Fatalf("%s: *Error with status %d for an answer with status %d", op, apiErr.StatusCode, status)
		}
	case errors.As(err, &respErr):
		if !ok2xx || respErr.StatusCode != status || !errors.Is(err, client.ErrMalformedResponse) {
			t.Fatalf("%s: %#v for status %d", op, respErr, status)
		}
	case errors.As(err, &batchErr):
		res, _ := got.(*client.BatchResult)
		if op != "Identities.BatchCreate" || !ok2xx || res == nil || res != batchErr.Result || res.FailedCount() == 0 || !errors.Is(err, client.ErrBatchItemsFailed) {
			t.Fatalf("%s: %v with result %+v for status %d", op, err, got, status)
		}
		for _, it := range res.Items {
			if it.Err != nil && it.Err.Error() == "" {
				t.Fatalf("item %d has an empty error", it.Index)
			}
		}
		return
	default:
		t.Fatalf("%s: untyped error %T: %v", op, err, err)
	}
	if !isNil(got) {
		t.Fatalf("%s returned %v together with %v", op, got, err)
	}
}

// isNil reports whether v is nil or holds a nil pointer, slice or map.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return r.IsNil()
	}
	return false
}
