package client_test

// The hostile-server suite (issue 19): servers that answer each attack on
// the request path (amplifying lists, cycling and growing page tokens,
// path-cleaning redirects, closed connections), and the client's answer.
// Memory bounds are asserted on allocated bytes, never on wall time.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// amplifyingBody is a JSON array of n empty objects: 3 bytes on the wire
// each, a whole Identity (some 270 bytes) each once decoded.
func amplifyingBody(n int) []byte {
	var b bytes.Buffer
	b.Grow(3*n + 2)
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("{}")
	}
	b.WriteByte(']')
	return b.Bytes()
}

// gzipped compresses b.
func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// serveGzipped answers every request with body, gzip-compressed.
func serveGzipped(t *testing.T, body []byte) string {
	t.Helper()
	z := gzipped(t, body)
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", jsonCT)
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(z)
	})
	return srv.URL
}

// allocated runs fn and returns the bytes the whole process allocated
// meanwhile (no parallel test runs during a sequential one).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileAmplifyingList: a 30 MiB list answer of empty objects (30 KB
// gzip-compressed, under the 32 MiB body limit) is refused as soon as it
// holds more items than the page asked for, having cost memory in
// proportion to that page, not to the answer: before the bound it took
// 11 GB.
func TestHostileAmplifyingList(t *testing.T) {
	const n = 10 << 20 // 30 MiB of "{},"
	url := serveGzipped(t, amplifyingBody(n))
	c := newClient(t, url, client.WithoutRetries())
	ctx := context.Background()
	id := testID

	cases := []struct {
		name string
		size int64
		call func(size int64) (int, error)
	}{
		{"Identities.ListPage", 10, func(size int64) (int, error) {
			p, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: size})
			return pageLen(p), err
		}},
		{"Identities.ListPage default size", 0, func(size int64) (int, error) {
			p, err := c.Identities.ListPage(ctx, nil)
			return pageLen(p), err
		}},
		{"Identities.ListPage above the server's maximum", 100000, func(size int64) (int, error) {
			p, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: size})
			return pageLen(p), err
		}},
		{"Sessions.ListPage", 10, func(size int64) (int, error) {
			p, err := c.Sessions.ListPage(ctx, &client.ListSessionsParams{PageSize: size})
			return pageLen(p), err
		}},
		{"Identities.ListSessionsPage", 10, func(size int64) (int, error) {
			p, err := c.Identities.ListSessionsPage(ctx, id, &client.ListIdentitySessionsParams{PageSize: size})
			return pageLen(p), err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got int
			var err error
			bytes := allocated(func() { got, err = tc.call(tc.size) })
			if !errors.Is(err, client.ErrTooManyItems) || !errors.Is(err, client.ErrMalformedResponse) {
				t.Fatalf("want ErrTooManyItems (a *ResponseError), got %d items, %v", got, err)
			}
			// A page of 1000 identities (the largest any list serves)
			// is well under 4 MiB; the answer decoded would be 2.7 GB.
			if bytes > 4<<20 {
				t.Fatalf("refusing the answer allocated %d bytes, want < 4 MiB", bytes)
			}
			t.Logf("%s: %d bytes allocated", tc.name, bytes)
		})
	}

	t.Run("Schemas.ListPage keeps its page", func(t *testing.T) {
		// Schema pages are overlong on Kratos (issue 12): the items past
		// the page size are dropped unread, not refused.
		var p *client.Page[client.IdentitySchemaContainer]
		var err error
		bytes := allocated(func() { p, err = c.Schemas.ListPage(ctx, &client.ListIdentitySchemasParams{PageSize: 10}) })
		if err != nil || len(p.Items) != 10 {
			t.Fatalf("want the 10 items of the page, got %d, %v", pageLen(p), err)
		}
		if bytes > 4<<20 {
			t.Fatalf("allocated %d bytes, want < 4 MiB", bytes)
		}
	})
}

// TestHostileAmplifyingListScales: what refusing an amplifying answer
// costs grows with the page size asked for, and stays that of the page.
func TestHostileAmplifyingListScales(t *testing.T) {
	url := serveGzipped(t, amplifyingBody(10<<20))
	c := newClient(t, url, client.WithoutRetries())
	cost := func(size int64) uint64 {
		return allocated(func() {
			_, err := c.Identities.ListPage(context.Background(), &client.ListIdentitiesParams{PageSize: size})
			if !errors.Is(err, client.ErrTooManyItems) {
				t.Fatalf("page size %d: want ErrTooManyItems, got %v", size, err)
			}
		})
	}
	small, large := cost(1), cost(500)
	t.Logf("page size 1: %d bytes, page size 500: %d bytes", small, large)
	// Both are the cost of a request and a page, nowhere near the 30 MiB
	// answer, let alone its 2.7 GB decoded.
	if large > 4<<20 || small > 4<<20 {
		t.Fatalf("allocated %d (size 1) and %d (size 500) bytes, want < 4 MiB each", small, large)
	}
}

// TestHostileListExactPage: an answer of exactly the page size is kept, and
// an array hidden in strings or nested values does not count.
func TestHostileListExactPage(t *testing.T) {
	body := `[{"id":"` + testID + `","traits":{"a":[1,2,3],"s":"],[,\",{"}},` +
		`{"id":"` + testID + `","traits":{}}]`
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, body) })
	c := newClient(t, srv.URL, client.WithoutRetries())
	p, err := c.Identities.ListPage(context.Background(), &client.ListIdentitiesParams{PageSize: 2})
	if err != nil || len(p.Items) != 2 {
		t.Fatalf("want 2 items, got %d, %v", pageLen(p), err)
	}
	_, err = c.Identities.ListPage(context.Background(), &client.ListIdentitiesParams{PageSize: 1})
	if !errors.Is(err, client.ErrTooManyItems) || !strings.Contains(err.Error(), "after 1 items") {
		t.Fatalf("want ErrTooManyItems after 1 item, got %v", err)
	}
	// The refusal quotes no part of the body: a list's first bytes may
	// hold credentials.
	if strings.Contains(err.Error(), testID) {
		t.Fatalf("the error quotes the body: %v", err)
	}
}

func pageLen[T any](p *client.Page[T]) int {
	if p == nil {
		return -1
	}
	return len(p.Items)
}

// BenchmarkHostileAmplifyingList reports the bytes allocated (B/op) to
// refuse a 30 MiB amplifying list answer for a page of 500; the test above
// asserts the bound.
func BenchmarkHostileAmplifyingList(b *testing.B) {
	z := gzipped(b, amplifyingBody(10<<20))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", jsonCT)
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(z)
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithoutRetries())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Identities.ListPage(context.Background(), &client.ListIdentitiesParams{PageSize: 500}); !errors.Is(err, client.ErrTooManyItems) {
			b.Fatal(err)
		}
	}
}

// cyclingServer lists one identity per page and links page tokens in a
// cycle: "" → A → B → C → A.
func cyclingServer(t *testing.T) (*client.Client, *counted) {
	next := map[string]string{"": "A", "A": "B", "B": "C", "C": "A"}
	srv, n := serve(t, func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("page_token")
		w.Header().Set("Link", `</admin/identities?page_size=1&page_token=`+next[tok]+`>; rel="next"`)
		writeJSON(w, 200, identityPage(testID))
	})
	return newClient(t, srv.URL, client.WithoutRetries()), n
}

// TestHostileCyclingTokens: tokens that cycle through three pages end
// the walk with ErrPaginationLoop after those pages, where the importer's
// settle walk once asked 400 times (Export and the settle walk: package
// bulk's TestHostileCyclingTokens).
func TestHostileCyclingTokens(t *testing.T) {
	ctx := context.Background()
	t.Run("List", func(t *testing.T) {
		c, n := cyclingServer(t)
		var last error
		for _, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 1}) {
			last = err
		}
		if !errors.Is(last, client.ErrPaginationLoop) || n.count() != 4 {
			t.Fatalf("want ErrPaginationLoop after 4 requests, got %v after %d", last, n.count())
		}
	})
}

// TestHostileGrowingTokens: a page token over MaxPageTokenBytes is refused
// when its page is read, so no walk keeps (or sends back) megabytes of it.
func TestHostileGrowingTokens(t *testing.T) {
	big := strings.Repeat("x", client.MaxPageTokenBytes+1)
	srv, n := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `</admin/identities?page_token=`+big+`>; rel="next"`)
		writeJSON(w, 200, identityPage(testID))
	})
	c := newClient(t, srv.URL, client.WithoutRetries())
	var last error
	for _, err := range c.Identities.List(context.Background(), nil) {
		last = err
	}
	if !errors.Is(last, client.ErrMalformedResponse) || !strings.Contains(last.Error(), "page token of 4097 bytes") || n.count() != 1 {
		t.Fatalf("want the token refused on the first page, got %v after %d requests", last, n.count())
	}
}

// TestHostileClosedConnection: a server that closes the connection on
// every attempt without answering (v1.3.1 does on page_size=-1) gets an
// error that says so and how many attempts there were, not a bare EOF.
func TestHostileClosedConnection(t *testing.T) {
	srv := newRawServer(t, func(conn net.Conn, req *http.Request) { conn.Close() })
	c := newClient(t, srv.URL, fastRetries(3))
	ctx := ctxTimeout(t, 10*time.Second)
	_, err := c.Identities.Get(ctx, testID, nil)
	if !errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "Identities.Get: the server closed the connection without answering, on attempt 3") || srv.count() != 3 {
		t.Fatalf("want the closed connection named after 3 attempts, got %v after %d", err, srv.count())
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/admin/identities", nil)
	_, err = c.Do(req)
	if !strings.Contains(err.Error(), "Do GET: the server closed the connection without answering, on attempt 3") {
		t.Fatalf("Do: want the closed connection named after 3 attempts, got %v", err)
	}
}

// TestPatchRefusesPlaintextPasswords: no JSON Patch that writes a
// plaintext password is sent (Kratos stores it unhashed on every release),
// whatever the case of its names or the shape of its value; the error
// names the safe way. Hashes and other credentials go through.
func TestPatchRefusesPlaintextPasswords(t *testing.T) {
	srv, n := serve(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, identityJS) })
	c := newClient(t, srv.URL, client.WithoutRetries())
	ctx := context.Background()
	refused := []client.JSONPatch{
		client.PatchReplace("/credentials/password/config/password", "S3cret-pw"),
		client.PatchAdd("/credentials/password/config/password", "S3cret-pw"),
		client.PatchReplace("/Credentials/Password/Config/PASSWORD", "S3cret-pw"),
		client.PatchReplace("/credentials/password/config/password/x", "S3cret-pw"),
		client.PatchAdd("/credentials/password/config", map[string]any{"password": "S3cret-pw"}),
		client.PatchAdd("/credentials/password", map[string]any{"type": "password", "config": map[string]any{"Password": "S3cret-pw"}}),
		client.PatchReplace("/credentials", map[string]any{"password": map[string]any{"config": map[string]any{"password": "S3cret-pw"}}}),
	}
	for _, op := range refused {
		_, err := c.Identities.Patch(ctx, testID, []client.JSONPatch{client.PatchReplace("/metadata_admin", nil), op})
		var ae *client.ArgumentError
		if !errors.As(err, &ae) || ae.Argument != "ops[1]" || !strings.Contains(err.Error(), "Identities.Update") || !strings.Contains(err.Error(), "hashed_password") {
			t.Errorf("%s %s: want an ArgumentError naming the safe way, got %v", op.Op, op.Path, err)
		}
		if strings.Contains(err.Error(), "S3cret-pw") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	if n.count() != 0 {
		t.Fatalf("%d requests sent", n.count())
	}
	allowed := []client.JSONPatch{
		client.PatchReplace("/credentials/password/config/hashed_password", "$2a$08$abc"),
		client.PatchAdd("/credentials/password/config", map[string]any{"hashed_password": "$2a$08$abc"}),
		client.PatchRemove("/credentials/password/config/password"),
		client.PatchReplace("/traits/password", "not a credential"),
		client.PatchReplace("/metadata_public/credentials", map[string]any{"password": "x"}),
	}
	for _, op := range allowed {
		if _, err := c.Identities.Patch(ctx, testID, []client.JSONPatch{op}); err != nil {
			t.Errorf("%s %s: %v", op.Op, op.Path, err)
		}
	}
}

// remoteTransport dials the loopback server at addr whatever host a
// request names, so that tests can use remote host names without leaving
// the machine.
func remoteTransport(addr string, proxy func(*http.Request) (*url.URL, error)) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy: proxy,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}

// TestTokenPolicy: the bearer token does not travel in clear text to a
// host that is not loopback, nor through a proxy, unless the caller opts in
// with WithCleartextToken; Do adds it for the admin origin only.
func TestTokenPolicy(t *testing.T) {
	var auths []string
	srv, n := serve(t, func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Host+" "+r.Header.Get("Authorization"))
		writeJSON(w, 200, identityJS)
	})
	addr := strings.TrimPrefix(srv.URL, "http://")
	remote := remoteTransport(addr, nil)
	viaProxy := remoteTransport(addr, http.ProxyURL(&url.URL{Scheme: "http", Host: "proxy.example:3128"}))
	ctx := ctxTimeout(t, 5*time.Second)

	for _, tc := range []struct {
		name   string
		url    string
		opts   []client.Option
		refuse string
	}{
		{"remote http", "http://kratos.example:4434", []client.Option{client.WithHTTPClient(remote)}, "in clear text to http://kratos.example:4434"},
		{"remote http, opted in", "http://kratos.example:4434", []client.Option{client.WithHTTPClient(remote), client.WithCleartextToken()}, ""},
		{"loopback through a proxy", srv.URL, []client.Option{client.WithHTTPClient(viaProxy)}, "through the proxy http://proxy.example:3128"},
		{"loopback through a proxy, opted in", srv.URL, []client.Option{client.WithHTTPClient(viaProxy), client.WithCleartextToken()}, ""},
		{"loopback", srv.URL, nil, ""},
		{"localhost", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := n.count()
			c, err := client.New(tc.url, append([]client.Option{client.WithBearerToken(testToken)}, tc.opts...)...)
			if tc.refuse != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refuse) || !strings.Contains(err.Error(), "WithCleartextToken") || strings.Contains(err.Error(), testToken) {
					t.Fatalf("want New to refuse (%q, naming WithCleartextToken), got %v", tc.refuse, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Identities.Get(ctx, testID, nil); err != nil || n.count() != before+1 {
				t.Fatalf("Get: %v", err)
			}
		})
	}
	// Without a token nothing is at stake.
	if _, err := client.New("http://kratos.example:4434"); err != nil {
		t.Fatal(err)
	}

	t.Run("Do: the admin origin only", func(t *testing.T) {
		pub, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
			auths = append(auths, "public "+r.Header.Get("Authorization"))
			writeJSON(w, 200, `{}`)
		})
		c := newClient(t, srv.URL, client.WithPublicURL(pub.URL))
		auths = nil
		for _, u := range []string{pub.URL + "/schemas/default", srv.URL + "/admin/identities/" + testID} {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err := closeBody(c.Do(req)); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"public ", addr + " Bearer " + testToken}
		if fmt.Sprint(auths) != fmt.Sprint(want) {
			t.Fatalf("servers saw %q, want %q", auths, want)
		}
	})
}

// TestHostileEscapeSequences: a server's error message, reason or body
// carrying terminal escapes reaches Error() with them written as visible
// escapes, never raw.
func TestHostileEscapeSequences(t *testing.T) {
	const evil = "ext\x1b]0;PWNED\x07\x1b[2J\u202e\u009b"
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "text":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(500)
			_, _ = io.WriteString(w, evil)
		default:
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": 400, "message": evil, "reason": evil + "!"}})
			writeJSON(w, 400, string(b))
		}
	})
	c := newClient(t, srv.URL, client.WithoutRetries())
	_, err := c.Identities.Get(context.Background(), testID, nil)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x?case=text", nil)
	resp, derr := c.Do(req)
	if derr != nil {
		t.Fatal(derr)
	}
	err2 := client.CheckResponse(resp)
	resp.Body.Close()
	for _, e := range []error{err, err2} {
		msg := e.Error()
		for _, r := range msg {
			if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' {
				t.Fatalf("error keeps %U raw: %q", r, msg)
			}
		}
		if !strings.Contains(msg, `\x1b]0;PWNED`) {
			t.Fatalf("error lost the escaped message: %q", msg)
		}
	}
}
