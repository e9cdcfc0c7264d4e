package client_test

// Secrets: the bearer token never shows in anything the client prints,
// returns or logs.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// tokenForms are the token and its usual encodings.
var tokenForms = []string{
	testToken,
	hex.EncodeToString([]byte(testToken)),
	strings.ToUpper(hex.EncodeToString([]byte(testToken))),
	base64.StdEncoding.EncodeToString([]byte(testToken)),
	base64.StdEncoding.EncodeToString([]byte("Bearer " + testToken)),
}

func assertNoToken(t *testing.T, what, s string) {
	t.Helper()
	for _, f := range tokenForms {
		if strings.Contains(s, f) {
			t.Errorf("%s shows the token (%q): %s", what, f, s)
			return
		}
	}
}

// printAll prints v with every verb that might reveal a field.
func printAll(v any) string {
	return fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%X|%d", v, v, v, v, v, v, v, v)
}

// TestSecretNotPrinted: the client, its services and its options print
// without the token in every fmt verb and as JSON.
func TestSecretNotPrinted(t *testing.T) {
	opts := []client.Option{client.WithBearerToken(testToken), client.WithTimeout(time.Second), fastRetries(2)}
	c, err := client.New("https://project.projects.oryapis.com", opts...)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{
		"client": c, "*client": *c,
		"Identities": c.Identities, "*Identities": *c.Identities,
		"Sessions": c.Sessions, "*Sessions": *c.Sessions,
		"Recovery": c.Recovery, "*Recovery": *c.Recovery,
		"Schemas": c.Schemas, "*Schemas": *c.Schemas,
		"options": opts, "option": opts[0],
		"slice of client": []any{c, *c}, "map of client": map[string]*client.Client{"c": c},
	} {
		assertNoToken(t, name, printAll(v))
		if b, err := json.Marshal(v); err == nil {
			assertNoToken(t, name+" as JSON", string(b))
		}
	}
	if s := c.String(); s != "kratos.Client{admin: https://project.projects.oryapis.com, auth: bearer [REDACTED]}" {
		t.Errorf("String() = %q", s)
	}
}

// TestSecretNotInErrors: every kind of failure the client returns (refused
// argument, error status, bad body, too large, per-attempt timeout,
// deadline, refused connection, redirect, redirect loop, page failure,
// pagination loop, batch failure, Do) is printed without the token, in
// Error() and in every fmt verb.
func TestSecretNotInErrors(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page_token") {
		case "loop":
			w.Header().Set("Link", `</admin/identities?page_token=loop>; rel="next"`)
			writeJSON(w, 200, identityPage(testID))
			return
		case "badlink":
			w.Header().Set("Link", `<unterminated`)
			writeJSON(w, 200, identityPage(testID))
			return
		}
		switch {
		case strings.HasPrefix(r.URL.Path, "/admin/identities/by/external/"):
			switch strings.TrimPrefix(r.URL.Path, "/admin/identities/by/external/") {
			case "401":
				writeJSON(w, 401, `{"error":{"code":401,"status":"Unauthorized","message":"The request could not be authorized"}}`)
			case "html":
				w.WriteHeader(502)
				_, _ = io.WriteString(w, "<html>bad gateway</html>")
			case "badjson":
				writeJSON(w, 200, `{"id":`)
			case "huge":
				writeJSON(w, 200, `{"id":"`+strings.Repeat("x", 2<<10)+`"}`)
			case "hang":
				select {
				case <-block:
				case <-r.Context().Done():
				}
			case "redirect-302-post", "redirect":
				http.Redirect(w, r, "https://elsewhere.example/x", http.StatusFound)
			case "loop":
				http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
			}
		case r.Method == http.MethodPatch && r.URL.Path == "/admin/identities":
			writeJSON(w, 200, `{"identities":[{"action":"error","error":{"code":409,"message":"conflict"}}]}`)
		case r.Method == http.MethodPost:
			http.Redirect(w, r, "https://elsewhere.example/x", http.StatusFound)
		default:
			writeJSON(w, 503, `{"error":{"code":503,"message":"overloaded"}}`)
		}
	})
	base := []client.Option{fastRetries(2), client.WithMaxResponseBytes(1 << 10), client.WithTimeout(2 * time.Second)}
	c := newClient(t, srv.URL, base...)
	slow := newClient(t, srv.URL, append(base, client.WithTimeout(50*time.Millisecond))...)
	refusedAddr := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		defer ln.Close()
		return "http://" + ln.Addr().String()
	}()
	refused := newClient(t, refusedAddr, base...)
	ctx := ctxTimeout(t, 10*time.Second)
	ext := func(c *client.Client, id string) error {
		_, err := c.Identities.GetByExternalID(ctx, id, nil)
		return err
	}
	walk := func(tok string) error {
		_, errs := collect(t, c.Identities.List(ctx, &client.ListIdentitiesParams{PageToken: tok}), identityID)
		return errors.Join(errs...)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()

	for name, err := range map[string]error{
		"argument":        ext(c, ""),
		"401":             ext(c, "401"),
		"html 502":        ext(c, "html"),
		"bad json":        ext(c, "badjson"),
		"too large":       ext(c, "huge"),
		"attempt timeout": ext(slow, "hang"),
		"caller deadline": func() error { _, err := c.Identities.GetByExternalID(short, "hang", nil); return err }(),
		"refused":         ext(refused, "x"),
		"redirect off-site": func() error {
			_, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "d", Traits: []byte(`{}`)})
			return err
		}(),
		"redirect loop":   ext(c, "loop"),
		"page":            walk("badlink"),
		"pagination loop": walk("loop"),
		"503 storm":       walk(""),
		"retry cancelled": func() error {
			cc := newClient(t, srv.URL, client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 100, MinBackoff: time.Second, MaxBackoff: time.Second}))
			cancelled, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel) // during the wait after the first 503
			_, err := cc.Identities.ListPage(cancelled, nil)
			if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "while waiting to retry") {
				t.Errorf("retry cancelled: %v", err)
			}
			return err
		}(),
		"batch": func() error {
			_, err := c.Identities.BatchCreate(ctx, []client.IdentityPatch{{Create: client.CreateIdentityBody{SchemaID: "d", Traits: []byte(`{}`)}}})
			return err
		}(),
		"Do": func() error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/admin/identities", nil)
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			return client.CheckResponse(resp)
		}(),
		"Do refused": func() error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, refusedAddr+"/admin/identities", nil)
			_, err := refused.Do(req)
			return err
		}(),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		assertNoToken(t, name, printAll(err))
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			assertNoToken(t, name+" (wrapped)", printAll(e))
		}
	}
}

// TestSecretNotInNewErrors: New's errors do not echo credentials: a bad
// option does not print the token, and a base URL with credentials in it
// is refused without showing them, valid or not.
func TestSecretNotInNewErrors(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts []client.Option
	}{
		{"http://127.0.0.1:4434", []client.Option{client.WithBearerToken(testToken + "\r\nX-Injected: 1")}},
		{"http://127.0.0.1:4434", []client.Option{client.WithBearerToken(testToken), client.WithTimeout(-1)}},
		{"http://admin:" + testToken + "@127.0.0.1:4434", nil},
		{"https://" + testToken + "@project.oryapis.com", nil},
		{"http://admin:" + testToken + "@kratos admin/", nil},
		{"http://admin:" + testToken + "@[::1/", nil},
		{"http://" + testToken + "@kratos%zz/", nil},
		{"ftp://admin:" + testToken + "@host/", nil},
	} {
		_, err := client.New(tc.url, tc.opts...)
		if err == nil {
			t.Errorf("New(%q) succeeded", tc.url)
			continue
		}
		assertNoToken(t, "New error", printAll(err))
		_, err = client.New("http://127.0.0.1:4434", append(tc.opts, client.WithPublicURL(tc.url))...)
		if err != nil {
			assertNoToken(t, "WithPublicURL error", printAll(err))
		}
	}
}

// TestNoPanics: every typed call (typedCalls) with valid, nil, zero and
// hostile arguments, and Do, returns instead of panicking, with a nil
// context too.
func TestNoPanics(t *testing.T) {
	rec := &lineRecorder{}
	srv, _ := serve(t, rec.ServeHTTP)
	c := newClient(t, srv.URL, client.WithPublicURL(srv.URL))
	var nilCtx context.Context
	ctx := ctxTimeout(t, 5*time.Second)
	u, _ := url.Parse(srv.URL + "/admin/identities")
	for _, ctx := range []context.Context{nilCtx, ctx} {
		calls := map[string]func() error{
			"Do nil":  func() error { _, err := c.Do(nil); return err },
			"Do bare": func() error { return closeBody(c.Do(&http.Request{URL: u})) },
			"Do empty": func() error {
				return closeBody(c.Do(&http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}}))
			},
			"Create zero":   func() error { _, err := c.Identities.Create(ctx, &client.CreateIdentityBody{}); return err },
			"Patch zero op": func() error { _, err := c.Identities.Patch(ctx, testID, []client.JSONPatch{{}}); return err },
			"Patch bad value": func() error {
				_, err := c.Identities.Patch(ctx, testID, []client.JSONPatch{client.PatchAdd("/a", func() {})})
				return err
			},
			"BatchCreate nil": func() error { _, err := c.Identities.BatchCreate(ctx, nil); return err },
			"nil option":      func() error { _, err := c.Identities.Get(ctx, testID, nil, nil); return err },
		}
		for _, tc := range typedCalls {
			calls[tc.name] = func() error { _, err := tc.call(ctx, c); return err }
			calls[tc.name+" zero"] = func() error { return tc.zero(ctx, c) }
			calls[tc.name+" bad"] = func() error { return tc.bad(ctx, c) }
		}
		for name, call := range calls {
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("%s (ctx %v) panicked: %v", name, ctx, p)
						assertNoToken(t, "panic", fmt.Sprint(p))
					}
				}()
				if err := call(); err != nil {
					assertNoToken(t, name, printAll(err))
				}
			}()
		}
	}
}

func closeBody(resp *http.Response, err error) error {
	if resp != nil {
		resp.Body.Close()
	}
	return err
}

// TestDebugLogger: WithLogger logs every attempt at debug level, with
// method, path, status, duration and attempt, and the Authorization header
// redacted; nothing else of the token reaches the log, whether the call
// succeeds, fails, is retried, redirected off-site or never connects. A
// logger above debug level gets nothing.
func TestDebugLogger(t *testing.T) {
	var n int
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/admin/identities/" + testID:
			if n++; n == 1 {
				writeJSON(w, 503, `{"error":{"code":503,"message":"overloaded"}}`)
				return
			}
			writeJSON(w, 200, identityJS)
		case "/admin/sessions/" + testID:
			http.Redirect(w, r, "http://localhost:1/elsewhere", http.StatusFound)
		default:
			writeJSON(w, 404, `{"error":{"code":404,"message":"Unable to locate the resource"}}`)
		}
	})
	for _, tc := range []struct {
		name    string
		handler func(io.Writer) slog.Handler
	}{
		{"json", func(w io.Writer) slog.Handler {
			return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
		}},
		{"text", func(w io.Writer) slog.Handler {
			return slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n = 0
			var buf bytes.Buffer
			logger := slog.New(tc.handler(&buf))
			c := newClient(t, srv.URL, fastRetries(2), client.WithLogger(logger))
			ctx := ctxTimeout(t, 5*time.Second)
			if _, err := c.Identities.Get(ctx, testID, nil); err != nil { // 503, then 200
				t.Fatal(err)
			}
			_ = c.Identities.Delete(ctx, "00000000-0000-4000-8000-000000000001") // 404
			_, _ = c.Sessions.Get(ctx, testID, nil)                              // redirect off-site, refused there, retried
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x", nil)
			_ = closeBody(c.Do(req))

			out := buf.String()
			assertNoToken(t, "log", out)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 6 {
				t.Fatalf("%d log lines, want 6:\n%s", len(lines), out)
			}
			if tc.name == "text" {
				for _, want := range []string{
					`level=DEBUG msg="kratos request" method=GET path=/admin/identities/` + testID + ` status=503 duration=`,
					`attempt=2`, `status=404`, `method=DELETE`, `Authorization:[[REDACTED]]`,
				} {
					if !strings.Contains(out, want) {
						t.Errorf("log lacks %q:\n%s", want, out)
					}
				}
				return
			}
			type record struct {
				Level, Msg, Method, Path, Error string
				Status, Attempt                 int
				Duration                        *int64
				Headers                         http.Header
			}
			var recs []record
			sc := bufio.NewScanner(strings.NewReader(out))
			for sc.Scan() {
				var r record
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("log line %q: %v", sc.Text(), err)
				}
				recs = append(recs, r)
			}
			want := []struct {
				method, path string
				status       int
				attempt      int
			}{
				{"GET", "/admin/identities/" + testID, 503, 1},
				{"GET", "/admin/identities/" + testID, 200, 2},
				{"DELETE", "/admin/identities/00000000-0000-4000-8000-000000000001", 404, 1},
				{"GET", "/admin/sessions/" + testID, 0, 1}, // redirected off-site, refused there
				{"GET", "/admin/sessions/" + testID, 0, 2},
				{"GET", "/x", 404, 1},
			}
			for i, r := range recs {
				w := want[i]
				if r.Level != "DEBUG" || r.Msg != "kratos request" || r.Method != w.method || r.Path != w.path || r.Status != w.status || r.Attempt != w.attempt || r.Duration == nil || *r.Duration < 0 {
					t.Errorf("record %d: %+v, want %+v", i, r, w)
				}
				if got := r.Headers["Authorization"]; len(got) != 1 || got[0] != "[REDACTED]" {
					t.Errorf("record %d: Authorization %q, want [REDACTED]", i, got)
				}
				if (w.status == 0) != (r.Error != "") {
					t.Errorf("record %d: error %q", i, r.Error)
				}
			}
		})
	}

	t.Run("above debug", func(t *testing.T) {
		var buf bytes.Buffer
		c := newClient(t, srv.URL, client.WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))))
		_ = c.Identities.Delete(ctxTimeout(t, 5*time.Second), testID)
		if buf.Len() != 0 {
			t.Errorf("logged above debug level: %s", buf.String())
		}
	})
}

// TestDoRequestWithoutHeader: Do accepts a request built by hand without a
// Header map, as http.Client does, instead of panicking.
func TestDoRequestWithoutHeader(t *testing.T) {
	var got http.Header
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv.URL)
	u, _ := url.Parse(srv.URL + "/admin/identities")
	req := (&http.Request{Method: http.MethodGet, URL: u}).WithContext(ctxTimeout(t, 5*time.Second))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("Authorization") != "Bearer "+testToken || got.Get("User-Agent") == "" || req.Header != nil {
		t.Errorf("server saw %v; caller's request header %v", got, req.Header)
	}
}

// TestClientValueDoesNotPrintToken: a Client value (not a pointer), or a
// struct holding one, printed with a verb other than %v used to print the
// config it points to field by field, the token included.
func TestClientValueDoesNotPrintToken(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:4434")
	type app struct {
		name string
		kc   client.Client
	}
	for _, format := range []string{"%s", "%q", "%x", "%d", "%v", "%+v", "%#v"} {
		for _, v := range []any{*c, app{"a", *c}, &app{"a", *c}} {
			if s := fmt.Sprintf(format, v); strings.Contains(s, testToken) || strings.Contains(s, hex.EncodeToString([]byte(testToken))) {
				t.Errorf("Sprintf(%q, %T) shows the token: %s", format, v, s)
			}
		}
	}
}

// TestNewErrorsHideURLCredentials: New refuses a base URL with credentials
// in it, and its error does not repeat them, whether the URL parses or
// not (url.Parse's own error repeats the URL; URL.Redacted keeps a user
// name, which may be a token).
func TestNewErrorsHideURLCredentials(t *testing.T) {
	for raw, want := range map[string]string{
		"http://admin:" + testToken + "@127.0.0.1:4434":  `kratos: New: URL "http://[REDACTED]@127.0.0.1:4434": put credentials in WithBearerToken, not in the URL`,
		"https://" + testToken + "@project.oryapis.com/": `kratos: New: URL "https://[REDACTED]@project.oryapis.com/": put credentials in WithBearerToken, not in the URL`,
		"http://admin:" + testToken + "@kratos admin/":   `kratos: New: invalid URL "http://[REDACTED]@kratos admin/": invalid character " " in host name`,
		"http://a:" + testToken + "@[::1/":               `kratos: New: invalid URL "http://[REDACTED]@[::1/": missing ']' in host`,
		"ftp://admin:" + testToken + "@host/":            `kratos: New: URL "ftp://[REDACTED]@host/": scheme must be http or https`,
		"admin:" + testToken + "@host":                   `kratos: New: URL "[REDACTED]@host": scheme must be http or https (like http://127.0.0.1:4434)`,
		"http://u:p/" + testToken + "@host/?q=a@b":       `kratos: New: invalid URL "http://[REDACTED]@host/?q=a@b": invalid port ":p" after host`,
		"http://127.0.0.1:4434/?email=alice@example.org": `kratos: New: URL "http://127.0.0.1:4434/?email=alice@example.org" must not have a query or fragment`,
	} {
		_, err := client.New(raw)
		if err == nil || err.Error() != want {
			t.Errorf("New(%q) error\n%v\nwant\n%s", raw, err, want)
		}
	}
}
