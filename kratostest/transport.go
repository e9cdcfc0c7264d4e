package kratostest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/contract"
)

// ValidatingTransport is an http.RoundTripper that checks every request it
// sends and every response it receives against the API's OpenAPI spec (the
// one the SDK is generated from), and reports violations to Report. Put it
// under the SDK client in integration tests against a real Kratos, to
// learn when the server and the spec (and so the SDK) part ways:
//
//	c, err := client.New(adminURL, client.WithHTTPClient(&http.Client{
//		Transport: kratostest.NewValidatingTransport(nil, func(err error) { t.Error(err) }),
//	}))
//
// or simply client.New(adminURL, kratostest.ValidateWith(t)).
//
// It never changes what the client sees: bodies are read and restored
// byte for byte, errors are passed through, and violations only go to
// Report. A response to a request that breaks the spec is not checked (the
// spec does not say what the server answers to it); a response body over
// MaxBodyBytes is passed on unchecked.
type ValidatingTransport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Report receives each violation, an error whose message names the
	// operation, the side (request or response), the status and what
	// broke. It may be called from several goroutines
	// at once. nil discards violations.
	Report func(error)
	// MaxBodyBytes bounds the response bodies read for checking (default
	// 32 MiB).
	MaxBodyBytes int64
}

// NewValidatingTransport returns a ValidatingTransport over base (nil for
// http.DefaultTransport) that reports violations to report.
func NewValidatingTransport(base http.RoundTripper, report func(error)) *ValidatingTransport {
	return &ValidatingTransport{Base: base, Report: report}
}

// ValidateWith returns a client option that puts a ValidatingTransport
// (over http.DefaultTransport) under the client and reports every
// violation as an error of t. Violations seen after t has ended are
// dropped. It replaces any earlier WithHTTPClient or WithDoer option.
func ValidateWith(t testing.TB) client.Option {
	var mu sync.Mutex
	ended := false
	t.Cleanup(func() {
		mu.Lock()
		ended = true
		mu.Unlock()
	})
	tr := NewValidatingTransport(nil, func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			t.Errorf("kratostest: %v", err)
		}
	})
	return client.WithHTTPClient(&http.Client{Transport: tr})
}

// RoundTrip implements http.RoundTripper.
func (vt *ValidatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := vt.Base
	if base == nil {
		base = http.DefaultTransport
	}
	v, err := contract.Default()
	if err != nil {
		vt.report(fmt.Errorf("cannot load the API spec: %w", err))
		return base.RoundTrip(req)
	}
	out := req
	var reqBody []byte
	switch {
	case req.Body == nil || req.Body == http.NoBody:
	case req.GetBody != nil:
		// Read a copy; the request itself goes out untouched.
		rc, gerr := req.GetBody()
		if gerr == nil {
			reqBody, gerr = io.ReadAll(rc)
			rc.Close()
		}
		if gerr != nil {
			vt.report(fmt.Errorf("%s %s: cannot read the request body to check it: %w", req.Method, req.URL.Path, gerr))
			return base.RoundTrip(req)
		}
	default:
		// No way to re-read the body: read it, and send a copy of the
		// request with the same bytes.
		b, rerr := io.ReadAll(req.Body)
		req.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		reqBody = b
		out = req.Clone(req.Context())
		out.Body = io.NopCloser(bytes.NewReader(b))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	if len(reqBody) == 0 {
		reqBody = nil
	}
	ex, reqErr := v.ValidateRequest(req.Context(), req, reqBody)
	if reqErr != nil {
		if errors.Is(reqErr, contract.ErrNoRoute) {
			reqErr = fmt.Errorf("request to an endpoint the spec does not have: %w", reqErr)
		}
		vt.report(reqErr)
	}

	resp, err := base.RoundTrip(out)
	if err != nil {
		return resp, err
	}
	resp.Request = req
	if ex == nil || reqErr != nil {
		return resp, nil
	}
	limit := vt.MaxBodyBytes
	if limit <= 0 {
		limit = 32 << 20
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if rerr != nil || int64(len(b)) > limit {
		// Hand the client exactly what arrived, and the rest (or the
		// error) after it; nothing is checked.
		resp.Body = &splicedBody{r: io.MultiReader(bytes.NewReader(b), errorReader{rerr, resp.Body}), c: resp.Body}
		return resp, nil
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if verr := v.ValidateResponse(req.Context(), ex, resp.StatusCode, resp.Header, b); verr != nil {
		vt.report(verr)
	}
	return resp, nil
}

func (vt *ValidatingTransport) report(err error) {
	if vt.Report != nil {
		vt.Report(err)
	}
}

// splicedBody reads r and closes c.
type splicedBody struct {
	r io.Reader
	c io.Closer
}

func (s *splicedBody) Read(p []byte) (int, error) { return s.r.Read(p) }
func (s *splicedBody) Close() error               { return s.c.Close() }

// errorReader returns err if set, else reads from r.
type errorReader struct {
	err error
	r   io.Reader
}

func (e errorReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return e.r.Read(p)
}
