package client_test

// Fault injection: servers that reset, truncate, flood, stall, trickle,
// answer HTML or the wrong content type, send broken or foreign Link
// headers, redirect elsewhere, rate-limit and fail for a long time. Each
// case checks for a clear, typed error or the right retry behaviour, and
// that the caller's deadline always wins.

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// TestFaultConnectionResetMidBody: the server sends the headers and part of
// the body, then resets the connection. A GET is retried, exactly up to
// MaxAttempts, and fails with a *ResponseError that still says
// ECONNRESET; a POST is sent once.
func TestFaultConnectionResetMidBody(t *testing.T) {
	srv := newRawServer(t, func(conn net.Conn, req *http.Request) {
		fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"id\":\"%s\",\"traits\":{", testID)
		time.Sleep(50 * time.Millisecond) // let the client start on the body
		reset(conn)
	})
	c := newClient(t, srv.URL, fastRetries(3))

	_, err := c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil)
	re := asResponseError(t, err)
	if !errors.Is(err, syscall.ECONNRESET) || re.StatusCode != 200 {
		t.Errorf("want ECONNRESET on a 200, got %v", err)
	}
	if n := srv.count(); n != 3 {
		t.Errorf("GET sent %d times, want 3", n)
	}

	before := srv.count()
	_, err = c.Identities.Create(ctxTimeout(t, 5*time.Second), &client.CreateIdentityBody{SchemaID: "default", Traits: []byte(`{}`)})
	asResponseError(t, err)
	if n := srv.count() - before; n != 1 {
		t.Errorf("POST sent %d times, want 1", n)
	}
}

// TestFaultTruncatedJSON: a body that stops early. A complete but cut JSON
// document is a *ResponseError (not retried: it would not change); a body
// shorter than its Content-Length, or a chunked body without its last
// chunk, is an unexpected EOF, retried.
func TestFaultTruncatedJSON(t *testing.T) {
	cut := `{"id":"` + testID + `","traits":{"email":"al`
	t.Run("complete body, cut JSON", func(t *testing.T) {
		hs, srv := serve(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, cut) })
		c := newClient(t, hs.URL, fastRetries(3))
		_, err := c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil)
		re := asResponseError(t, err)
		if !strings.Contains(err.Error(), "invalid JSON") || !strings.Contains(re.Snippet, `"email":"al`) {
			t.Errorf("error %q does not describe the cut JSON", err)
		}
		if srv.count() != 1 {
			t.Errorf("sent %d times, want 1", srv.count())
		}
	})
	t.Run("shorter than Content-Length", func(t *testing.T) {
		srv := newRawServer(t, func(conn net.Conn, req *http.Request) {
			fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(cut)+100, cut)
			conn.Close()
		})
		c := newClient(t, srv.URL, fastRetries(3))
		_, err := c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil)
		asResponseError(t, err)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("want io.ErrUnexpectedEOF, got %v", err)
		}
		if srv.count() != 3 {
			t.Errorf("sent %d times, want 3", srv.count())
		}
	})
	t.Run("chunked without the last chunk", func(t *testing.T) {
		srv := newRawServer(t, func(conn net.Conn, req *http.Request) {
			fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(cut), cut)
			conn.Close()
		})
		c := newClient(t, srv.URL, fastRetries(2))
		_, err := c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil)
		asResponseError(t, err)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("want io.ErrUnexpectedEOF, got %v", err)
		}
		if srv.count() != 2 {
			t.Errorf("sent %d times, want 2", srv.count())
		}
	})
}

// TestFaultOversizedBody: a body far larger than any real answer. The
// client reads at most the limit (WithMaxResponseBytes, or the 32 MiB
// default), fails with a *ResponseError that names the limit, does not
// retry, and does not keep reading what the server keeps sending.
func TestFaultOversizedBody(t *testing.T) {
	// endless streams zeros (chunked) until the client hangs up, counting
	// what it managed to write.
	endless := func(status int, written *atomic.Int64) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			chunk := bytes.Repeat([]byte("0"), 64<<10)
			for {
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil || written.Load() > 1<<30 {
					return
				}
			}
		}
	}

	t.Run("declared length over the limit", func(t *testing.T) {
		hs, srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "10000000")
			w.WriteHeader(200)
			_, _ = w.Write(make([]byte, 1<<20))
		})
		c := newClient(t, hs.URL, fastRetries(3), client.WithMaxResponseBytes(64<<10))
		_, err := c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil)
		asResponseError(t, err)
		if !strings.Contains(err.Error(), "10000000") || !strings.Contains(err.Error(), "65536-byte limit") {
			t.Errorf("error %q does not name the size and the limit", err)
		}
		if srv.count() != 1 {
			t.Errorf("sent %d times, want 1 (too large is not retried)", srv.count())
		}
	})

	t.Run("endless chunked body, WithMaxResponseBytes", func(t *testing.T) {
		var written atomic.Int64
		hs, srv := serve(t, endless(200, &written))
		c := newClient(t, hs.URL, fastRetries(3), client.WithMaxResponseBytes(64<<10))
		var err error
		within(t, 5*time.Second, func() { _, err = c.Identities.ListPage(ctxTimeout(t, 10*time.Second), nil) })
		asResponseError(t, err)
		if !strings.Contains(err.Error(), "exceeds the 65536-byte limit") {
			t.Errorf("error %q does not name the limit", err)
		}
		if srv.count() != 1 {
			t.Errorf("sent %d times, want 1", srv.count())
		}
	})

	t.Run("declared length over the default limit", func(t *testing.T) {
		hs, srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", fmt.Sprint(client.DefaultMaxResponseBytes+1))
			w.WriteHeader(200)
			_, _ = w.Write(make([]byte, 1<<20))
		})
		c := newClient(t, hs.URL, fastRetries(3))
		_, err := c.Identities.ListPage(ctxTimeout(t, 5*time.Second), nil)
		asResponseError(t, err)
		if !strings.Contains(err.Error(), fmt.Sprintf("exceeds the %d-byte limit", client.DefaultMaxResponseBytes)) {
			t.Errorf("error %q does not name the default limit", err)
		}
		if srv.count() != 1 {
			t.Errorf("sent %d times, want 1", srv.count())
		}
	})

	t.Run("endless chunked body, default limit", func(t *testing.T) {
		if raceEnabled {
			t.Skip("reads 32 MiB, which takes seconds under the race detector; runs without -race")
		}
		var written atomic.Int64
		hs, srv := serve(t, endless(200, &written))
		c := newClient(t, hs.URL, fastRetries(3))
		runtime.GC()
		base := heapBytes()
		peak := watchPeakHeap()
		var err error
		within(t, 10*time.Second, func() { _, err = c.Identities.ListPage(ctxTimeout(t, 20*time.Second), nil) })
		maxHeap := peak()
		asResponseError(t, err)
		if !strings.Contains(err.Error(), fmt.Sprintf("exceeds the %d-byte limit", client.DefaultMaxResponseBytes)) {
			t.Errorf("error %q does not name the default limit", err)
		}
		if srv.count() != 1 {
			t.Errorf("sent %d times, want 1", srv.count())
		}
		// The client stopped reading at the limit: the server can only
		// have written the limit plus what the socket buffers hold (it
		// would go on to 1 GiB).
		hs.Close() // waits for the handler to see the client hang up
		if w := written.Load(); w > client.DefaultMaxResponseBytes+32<<20 {
			t.Errorf("server wrote %d MiB before the client hung up", w>>20)
		}
		// Memory stays in proportion to the limit, and the buffer is not
		// kept afterwards.
		if grew := maxHeap - base; grew > 8*client.DefaultMaxResponseBytes {
			t.Errorf("heap grew by %d MiB for a %d MiB limit", grew>>20, client.DefaultMaxResponseBytes>>20)
		}
		runtime.GC()
		if kept := int64(heapBytes()) - int64(base); kept > 8<<20 {
			t.Errorf("%d MiB still in use after the call", kept>>20)
		}
	})

	t.Run("error status with an endless body", func(t *testing.T) {
		var written atomic.Int64
		hs, srv := serve(t, endless(500, &written))
		c := newClient(t, hs.URL, fastRetries(3), client.WithMaxResponseBytes(64<<10))
		_, err := c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil)
		if e := asError(t, err); e.StatusCode != 500 || len(e.Body) > 64<<10 {
			t.Errorf("got status %d with a %d-byte body", e.StatusCode, len(e.Body))
		}
		if srv.count() != 1 {
			t.Errorf("sent %d times, want 1 (500 is not retried)", srv.count())
		}
	})

	t.Run("gzip bomb", func(t *testing.T) {
		// 64 gzip members of 1 MiB of zeros each: 64 MiB inflated from
		// about 64 KiB (the gzip reader reads concatenated members).
		var member bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
		_, _ = zw.Write(make([]byte, 1<<20))
		zw.Close()
		gz := bytes.Repeat(member.Bytes(), 64)
		hs, srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				t.Errorf("transport did not ask for gzip")
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz)
		})
		c := newClient(t, hs.URL, fastRetries(3), client.WithMaxResponseBytes(1<<20))
		_, err := c.Schemas.Get(ctxTimeout(t, 5*time.Second), "default")
		asResponseError(t, err)
		if !strings.Contains(err.Error(), "exceeds the 1048576-byte limit") {
			t.Errorf("error %q does not name the limit", err)
		}
		if srv.count() != 1 {
			t.Errorf("sent %d times, want 1", srv.count())
		}
	})
}

// TestFaultHeadersNeverCome: the server accepts the request and never
// answers. The caller's deadline ends the call on time, with an error
// matching context.DeadlineExceeded, without a retry after the deadline,
// and nothing is left running. With a per-attempt timeout (WithTimeout)
// each attempt is cut and retried, and the result is a *TimeoutError.
func TestFaultHeadersNeverCome(t *testing.T) {
	check := goroutines(t)
	release := make(chan struct{})
	srv, h := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	c := newClient(t, srv.URL, fastRetries(3))

	var err error
	took := within(t, 2*time.Second, func() {
		_, err = c.Identities.Get(ctxTimeout(t, 200*time.Millisecond), testID, nil)
	})
	if !errors.Is(err, context.DeadlineExceeded) || took < 200*time.Millisecond {
		t.Errorf("after %s: want context.DeadlineExceeded, got %v", took, err)
	}
	if h.count() != 1 {
		t.Errorf("sent %d times, want 1", h.count())
	}

	before := h.count()
	c2 := newClient(t, srv.URL, fastRetries(3), client.WithTimeout(50*time.Millisecond))
	within(t, 3*time.Second, func() {
		_, err = c2.Identities.Get(ctxTimeout(t, 10*time.Second), testID, nil)
	})
	var te *client.TimeoutError
	if !errors.As(err, &te) || te.After != 50*time.Millisecond || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want a *TimeoutError after 50ms, got %T %v", err, err)
	}
	if n := h.count() - before; n != 3 {
		t.Errorf("sent %d times, want 3", n)
	}

	close(release)
	srv.Close()
	check()
}

// TestFaultBodyTrickles: the server sends the headers at once and then one
// byte every 20ms. The caller's deadline wins, on time, and nothing is
// left running.
func TestFaultBodyTrickles(t *testing.T) {
	check := goroutines(t)
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		status := 200
		if strings.HasSuffix(r.URL.Path, "/sessions") {
			status = 503
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(status)
		rc := http.NewResponseController(w)
		for {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	c := newClient(t, srv.URL, fastRetries(3))

	var err error
	took := within(t, 2*time.Second, func() {
		_, err = c.Identities.Get(ctxTimeout(t, 300*time.Millisecond), testID, nil)
	})
	if !errors.Is(err, context.DeadlineExceeded) || took < 300*time.Millisecond {
		t.Errorf("after %s: want context.DeadlineExceeded, got %v", took, err)
	}

	// An error status whose body trickles: the deadline still wins.
	within(t, 2*time.Second, func() {
		_, err = c.Identities.ListSessionsPage(ctxTimeout(t, 300*time.Millisecond), testID, nil)
	})
	// The status arrived: the error is the server's 503, with what
	// arrived of the body.
	if e := asError(t, err); e.StatusCode != 503 || len(e.Body) == 0 {
		t.Errorf("got %+v", e)
	}

	srv.Close()
	check()
}

// TestFaultHTMLErrorPage: a proxy's HTML 502 page is an *Error matching
// ErrServerError, whose message shows a snippet of the page (even in
// Latin-1); a GET is retried.
func TestFaultHTMLErrorPage(t *testing.T) {
	page := "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center><p>R\xe9essayez plus tard.</p>\r\n</body>\r\n</html>\r\n"
	hs, srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, page)
	})
	c := newClient(t, hs.URL, fastRetries(2))
	_, err := c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil)
	e := asError(t, err)
	if !errors.Is(err, client.ErrServerError) || e.StatusCode != 502 || e.ContentType != "text/html" || string(e.Body) != page {
		t.Errorf("got %+v", e)
	}
	msg := err.Error()
	want := `kratos: GET /admin/identities/` + testID + `: 502 Bad Gateway: unexpected text/html body: "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> <hr><center>nginx</center><p>R?essayez plus tard.</p> </body> </html>"`
	if msg != want {
		t.Errorf("Error() =\n%s\nwant\n%s", msg, want)
	}
	if srv.count() != 2 {
		t.Errorf("sent %d times, want 2", srv.count())
	}
}

// TestFaultWrongContentType: a 200 that is not JSON (a login page served by
// a misrouted proxy) is a *ResponseError naming the content type, not a
// decoded zero value; it is not retried.
func TestFaultWrongContentType(t *testing.T) {
	hs, srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, identityJS) // even a JSON body
	})
	c := newClient(t, hs.URL, fastRetries(3))
	got, err := c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil)
	re := asResponseError(t, err)
	if got != nil || re.StatusCode != 200 || re.ContentType != "text/html; charset=utf-8" || !strings.Contains(err.Error(), `unexpected content type "text/html; charset=utf-8"`) {
		t.Errorf("got %v, %v", got, err)
	}
	if srv.count() != 1 {
		t.Errorf("sent %d times, want 1", srv.count())
	}
}

// TestFaultMalformedLink: a page whose Link header cannot be parsed is a
// *ResponseError from ListPage, and a *PageError (wrapping it) from a walk.
func TestFaultMalformedLink(t *testing.T) {
	for _, link := range []string{
		`</admin/identities?page_token=t2; rel="next"`,
		`</admin/identities?page_token=%zz>; rel="next"`,
		`garbage`,
		`<a>; rel="next`,
	} {
		t.Run(link, func(t *testing.T) {
			hs, srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", link)
				writeJSON(w, 200, identityPage(testID))
			})
			c := newClient(t, hs.URL, fastRetries(3))
			_, err := c.Identities.ListPage(ctxTimeout(t, 5*time.Second), nil)
			asResponseError(t, err)
			if !strings.Contains(err.Error(), "Link") {
				t.Errorf("error %q does not mention the Link header", err)
			}
			var errs, items int
			for _, err := range c.Identities.List(ctxTimeout(t, 5*time.Second), nil) {
				if err != nil {
					errs++
					var pe *client.PageError
					if !errors.As(err, &pe) || pe.PageToken != "" {
						t.Errorf("want a *PageError for the first page, got %v", err)
					}
					asResponseError(t, err)
					continue
				}
				items++
			}
			if errs != 1 || items != 0 {
				t.Errorf("%d errors and %d items, want 1 and 0", errs, items)
			}
			if srv.count() != 2 {
				t.Errorf("%d requests for one page and one walk, want 2 (not retried)", srv.count())
			}
		})
	}
}

// TestFaultLinkToAnotherHost: a next link naming another host only gives
// its page token; the next page is asked from the configured server, and
// the other host receives nothing.
func TestFaultLinkToAnotherHost(t *testing.T) {
	evilSrv, evil := serve(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `[]`) })
	evilURL := evilSrv.URL
	var tokens []string
	hs, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("page_token")
		tokens = append(tokens, tok)
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Errorf("request without the token")
		}
		if tok == "" {
			w.Header().Set("Link", `<`+evilURL+`/admin/identities?page_size=1&page_token=t2>; rel="next"`)
			writeJSON(w, 200, identityPage(testID))
			return
		}
		writeJSON(w, 200, identityPage("3410b62d-4f0a-4112-bbae-77a91e977f6d"))
	})
	c := newClient(t, hs.URL, fastRetries(3))
	page, err := c.Identities.ListPage(ctxTimeout(t, 5*time.Second), nil)
	if err != nil || page.NextPageToken != "t2" {
		t.Fatalf("got %+v, %v", page, err)
	}
	var n int
	for _, err := range c.Identities.List(ctxTimeout(t, 5*time.Second), nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 || strings.Join(tokens, ",") != ",,t2" {
		t.Errorf("%d items, tokens %q", n, tokens)
	}
	if evil.count() != 0 {
		t.Errorf("the other host received %d requests", evil.count())
	}
}

// TestFaultRedirect: the client follows redirects itself. The bearer token
// goes along within the origin and never to another one (another port is
// another origin), not even when the chain comes back; a 307 replays the
// body of a POST, without the token; a 302 of a POST is not followed.
func TestFaultRedirect(t *testing.T) {
	type seen struct{ path, auth, body string }
	var mode atomic.Value // how the admin server answers the API call
	var admin, other []seen
	otherSrv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		other = append(other, seen{r.URL.Path, r.Header.Get("Authorization"), string(b)})
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusTemporaryRedirect)
			return
		}
		writeJSON(w, 200, identityJS)
	})
	var adminURL string
	adminSrv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		admin = append(admin, seen{r.URL.Path, r.Header.Get("Authorization"), string(b)})
		if !strings.HasPrefix(r.URL.Path, "/admin/") {
			writeJSON(w, 200, identityJS)
			return
		}
		switch mode.Load().(string) {
		case "same origin":
			http.Redirect(w, r, "/moved/here", http.StatusMovedPermanently)
		case "another host":
			http.Redirect(w, r, otherSrv.URL+"/elsewhere", http.StatusFound)
		case "there and back":
			http.Redirect(w, r, otherSrv.URL+"/bounce?to="+adminURL+"/back", http.StatusTemporaryRedirect)
		case "POST 307":
			http.Redirect(w, r, otherSrv.URL+"/post-here", http.StatusTemporaryRedirect)
		case "POST 302":
			http.Redirect(w, r, otherSrv.URL+"/post-here", http.StatusFound)
		}
	})
	adminURL = adminSrv.URL
	c := newClient(t, adminURL, fastRetries(1))
	bearer := "Bearer " + testToken
	body := &client.CreateIdentityBody{SchemaID: "default", Traits: []byte(`{"email":"a@example.org"}`)}

	for _, tc := range []struct {
		mode        string
		call        func(ctx context.Context) error
		admin, othr []seen
		wantErr     error
	}{
		{"same origin", func(ctx context.Context) error { _, err := c.Identities.Get(ctx, testID, nil); return err },
			[]seen{{"/admin/identities/" + testID, bearer, ""}, {"/moved/here", bearer, ""}}, nil, nil},
		{"another host", func(ctx context.Context) error { _, err := c.Identities.Get(ctx, testID, nil); return err },
			[]seen{{"/admin/identities/" + testID, bearer, ""}}, []seen{{"/elsewhere", "", ""}}, nil},
		{"there and back", func(ctx context.Context) error { _, err := c.Identities.Get(ctx, testID, nil); return err },
			[]seen{{"/admin/identities/" + testID, bearer, ""}, {"/back", "", ""}}, []seen{{"/bounce", "", ""}}, nil},
		{"POST 307", func(ctx context.Context) error { _, err := c.Identities.Create(ctx, body); return err },
			[]seen{{"/admin/identities", bearer, `{"schema_id":"default","traits":{"email":"a@example.org"}}`}},
			[]seen{{"/post-here", "", `{"schema_id":"default","traits":{"email":"a@example.org"}}`}}, nil},
		{"POST 302", func(ctx context.Context) error { _, err := c.Identities.Create(ctx, body); return err },
			[]seen{{"/admin/identities", bearer, `{"schema_id":"default","traits":{"email":"a@example.org"}}`}}, nil, client.ErrRedirect},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			mode.Store(tc.mode)
			admin, other = nil, nil
			err := tc.call(ctxTimeout(t, 5*time.Second))
			if (tc.wantErr == nil && err != nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if fmt.Sprint(admin) != fmt.Sprint(tc.admin) {
				t.Errorf("admin server saw %q\nwant %q", admin, tc.admin)
			}
			if fmt.Sprint(other) != fmt.Sprint(tc.othr) {
				t.Errorf("other server saw %q\nwant %q", other, tc.othr)
			}
		})
	}
}

// TestFaultSchemasGoToPublicURLWithoutToken: schema calls go to the
// public URL, and the admin token is not sent there.
func TestFaultSchemasGoToPublicURLWithoutToken(t *testing.T) {
	var auth []string
	pub, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		writeJSON(w, 200, `{"type":"object"}`)
	})
	adm, admCount := serve(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 500, `{}`) })
	c := newClient(t, adm.URL, client.WithPublicURL(pub.URL))
	if _, err := c.Schemas.Get(ctxTimeout(t, 5*time.Second), "default"); err != nil {
		t.Fatal(err)
	}
	if len(auth) != 1 || auth[0] != "" || admCount.count() != 0 {
		t.Errorf("public server saw Authorization %q; admin server %d requests", auth, admCount.count())
	}
}

// TestFaultRetryAfter: a 429 with Retry-After is retried after that long,
// given in seconds or as an HTTP date, up to MaxRetryAfter; a longer
// Retry-After, or one the caller's deadline would not survive, returns the
// *Error at once, with RetryAfter set.
func TestFaultRetryAfter(t *testing.T) {
	rateLimited := func(retryAfter func() string) (string, *counted) {
		var n atomic.Int32
		srv, h := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				w.Header().Set("Retry-After", retryAfter())
				writeJSON(w, http.StatusTooManyRequests, `{"error":{"code":429,"status":"Too Many Requests","message":"rate limit exceeded"}}`)
				return
			}
			writeJSON(w, 200, identityJS)
		})
		return srv.URL, h
	}

	t.Run("seconds", func(t *testing.T) {
		url, h := rateLimited(func() string { return "1" })
		c := newClient(t, url, fastRetries(3))
		var err error
		took := within(t, 3*time.Second, func() { _, err = c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil) })
		if err != nil || h.count() != 2 || took < time.Second {
			t.Errorf("after %s and %d requests: %v", took, h.count(), err)
		}
	})
	t.Run("HTTP date", func(t *testing.T) {
		url, h := rateLimited(func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) })
		c := newClient(t, url, fastRetries(3))
		var err error
		took := within(t, 3500*time.Millisecond, func() { _, err = c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil) })
		// The date has one-second resolution: the wait is over 1s, at most 2s.
		if err != nil || h.count() != 2 || took < time.Second {
			t.Errorf("after %s and %d requests: %v", took, h.count(), err)
		}
	})
	t.Run("over MaxRetryAfter", func(t *testing.T) {
		url, h := rateLimited(func() string { return "10" })
		c := newClient(t, url, fastRetries(3)) // MaxRetryAfter 3s
		var err error
		within(t, time.Second, func() { _, err = c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil) })
		e := asError(t, err)
		if !errors.Is(err, client.ErrRateLimited) || e.RetryAfter != 10*time.Second || e.Message != "rate limit exceeded" || h.count() != 1 {
			t.Errorf("got %+v after %d requests", e, h.count())
		}
	})
	t.Run("past the caller's deadline", func(t *testing.T) {
		url, h := rateLimited(func() string { return "3" }) // = MaxRetryAfter
		c := newClient(t, url, fastRetries(3))
		var err error
		within(t, time.Second, func() { _, err = c.Identities.Get(ctxTimeout(t, 2500*time.Millisecond), testID, nil) })
		if e := asError(t, err); e.RetryAfter != 3*time.Second || h.count() != 1 {
			t.Errorf("got %+v after %d requests", e, h.count())
		}
	})
}

// TestFault503Storm: a server that answers 503 forever. Attempts stop at
// MaxAttempts with the server's *Error; with a huge MaxAttempts the
// caller's deadline bounds the whole call.
func TestFault503Storm(t *testing.T) {
	srv, h := serve(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 503, `{"error":{"code":503,"message":"overloaded"}}`)
	})

	c := newClient(t, srv.URL, fastRetries(5))
	_, err := c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil)
	if e := asError(t, err); e.StatusCode != 503 || !errors.Is(err, client.ErrServerError) || h.count() != 5 {
		t.Errorf("got %v after %d requests, want 5", err, h.count())
	}

	before := h.count()
	c = newClient(t, srv.URL, client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 1_000_000, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}))
	within(t, 1500*time.Millisecond, func() {
		_, err = c.Identities.Get(ctxTimeout(t, 300*time.Millisecond), testID, nil)
	})
	// The deadline either stopped the retries (the next wait would
	// outlive it: the server's *Error) or cut the last attempt short.
	var e *client.Error
	if !(errors.As(err, &e) && e.StatusCode == 503) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want the 503 *Error or context.DeadlineExceeded, got %v", err)
	}
	if n := h.count() - before; n < 5 || n > 300 {
		t.Errorf("%d attempts in 300ms", n)
	}
}

// TestFaultRetriesByMethod: on a 503, every typed call (typedCalls) that
// sends GET, PUT or DELETE is sent exactly MaxAttempts times; POST and
// PATCH calls exactly once, unless RetryNonIdempotent is set.
func TestFaultRetriesByMethod(t *testing.T) {
	srv, h := serve(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 503, `{"error":{"code":503,"message":"overloaded"}}`)
	})
	policy := client.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	plain := newClient(t, srv.URL, client.WithRetryPolicy(policy), client.WithPublicURL(srv.URL))
	policy.RetryNonIdempotent = true
	all := newClient(t, srv.URL, client.WithRetryPolicy(policy), client.WithPublicURL(srv.URL))
	for _, tc := range typedCalls {
		t.Run(tc.name, func(t *testing.T) {
			before := h.count()
			_, err := tc.call(ctxTimeout(t, 5*time.Second), plain)
			want := 1
			switch tc.method {
			case http.MethodGet, http.MethodPut, http.MethodDelete:
				want = 4
			}
			if e := asError(t, err); e.StatusCode != 503 || h.count()-before != want {
				t.Errorf("sent %d times, want %d (%v)", h.count()-before, want, err)
			}
			before = h.count()
			_, _ = tc.call(ctxTimeout(t, 5*time.Second), all)
			if h.count()-before != 4 {
				t.Errorf("with RetryNonIdempotent: sent %d times, want 4", h.count()-before)
			}
		})
	}
}

// TestFaultRetriesCountedExactly: two 503s then a 200 is three requests
// and a success; a 502, 504 and 429 (without Retry-After) are retried
// alike; a 500 or 404 is not; a refused connection is retried up to
// MaxAttempts.
func TestFaultRetriesCountedExactly(t *testing.T) {
	for _, tc := range []struct {
		statuses []int
		want     int // requests
		ok       bool
	}{
		{[]int{503, 503, 200}, 3, true},
		{[]int{502, 504, 429, 200}, 4, true},
		{[]int{503, 503, 503, 503, 200}, 4, false},
		{[]int{500, 200}, 1, false},
		{[]int{404, 200}, 1, false},
		{[]int{200}, 1, true},
	} {
		t.Run(fmt.Sprint(tc.statuses), func(t *testing.T) {
			var n atomic.Int32
			srv, h := serve(t, func(w http.ResponseWriter, r *http.Request) {
				status := tc.statuses[min(int(n.Add(1)), len(tc.statuses))-1]
				if status == 200 {
					writeJSON(w, 200, identityJS)
					return
				}
				writeJSON(w, status, fmt.Sprintf(`{"error":{"code":%d,"message":"m"}}`, status))
			})
			c := newClient(t, srv.URL, fastRetries(4))
			_, err := c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil)
			if (err == nil) != tc.ok || h.count() != tc.want {
				t.Errorf("%d requests, error %v; want %d requests, success %v", h.count(), err, tc.want, tc.ok)
			}
			if err != nil {
				if e := asError(t, err); e.StatusCode != tc.statuses[tc.want-1] {
					t.Errorf("error for status %d, want %d", e.StatusCode, tc.statuses[tc.want-1])
				}
			}
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		d := &countingDoer{next: &http.Client{}}
		c := newClient(t, "http://"+addr, fastRetries(3), client.WithDoer(d))
		_, err = c.Identities.Get(ctxTimeout(t, 5*time.Second), testID, nil)
		if !errors.Is(err, syscall.ECONNREFUSED) || d.n.Load() != 3 {
			t.Errorf("%d attempts: %v", d.n.Load(), err)
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("error shows the token: %v", err)
		}
	})
}

type countingDoer struct {
	next client.Doer
	n    atomic.Int32
}

func (d *countingDoer) Do(r *http.Request) (*http.Response, error) {
	d.n.Add(1)
	return d.next.Do(r)
}

// TestFaultDoEscapeHatch: Do retries a GET through a 503 storm exactly
// MaxAttempts times and hands back the last answer, which CheckResponse
// maps to the *Error.
func TestFaultDoEscapeHatch(t *testing.T) {
	srv, h := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			t.Error("Do sent no token to the admin origin")
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(503)
		_, _ = io.WriteString(w, "<h1>Service Unavailable</h1>")
	})
	c := newClient(t, srv.URL, fastRetries(3))
	req, _ := http.NewRequestWithContext(ctxTimeout(t, 5*time.Second), http.MethodGet, srv.URL+"/admin/identities", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	err = client.CheckResponse(resp)
	if e := asError(t, err); e.StatusCode != 503 || !strings.Contains(err.Error(), "<h1>Service Unavailable</h1>") || h.count() != 3 {
		t.Errorf("%d requests: %v", h.count(), err)
	}
}

// heapBytes is the memory in live and not yet swept heap objects.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// watchPeakHeap samples heapBytes until the returned function is called,
// which returns the highest sample.
func watchPeakHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		return peak.Load()
	}
}
