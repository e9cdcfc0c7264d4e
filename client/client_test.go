package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/client"
)

const (
	aliceID = "9fce9890-b047-44b5-8b6d-dfeffddfaf02"
	token   = "ory_pat_s3cr3t-t0ken"
)

// setup starts an httptest server with a mux and a client for it.
func setup(t *testing.T, opts ...client.Option) (*client.Client, *http.ServeMux, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	opts = append([]client.Option{client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: time.Second})}, opts...)
	c, err := client.New(srv.URL, opts...)
	require.NoError(t, err)
	return c, mux, srv
}

func TestNewValidatesOptions(t *testing.T) {
	cases := map[string]struct {
		url  string
		opts []client.Option
		want string
	}{
		"no scheme":            {"127.0.0.1:4434", nil, "scheme"},
		"ftp":                  {"ftp://x", nil, "scheme must be http or https"},
		"no host":              {"http://", nil, "no host"},
		"credentials in URL":   {"http://user:pw@x", nil, "WithBearerToken"},
		"query in URL":         {"http://x/?a=1", nil, "query"},
		"empty token":          {"http://x", []client.Option{client.WithBearerToken(" ")}, "empty token"},
		"token with newline":   {"http://x", []client.Option{client.WithBearerToken("a\nb")}, "line break"},
		"nil http client":      {"http://x", []client.Option{client.WithHTTPClient(nil)}, "nil"},
		"nil doer":             {"http://x", []client.Option{client.WithDoer(nil)}, "nil"},
		"negative timeout":     {"http://x", []client.Option{client.WithTimeout(-time.Second)}, "negative"},
		"zero attempts":        {"http://x", []client.Option{client.WithRetryPolicy(client.RetryPolicy{})}, "MaxAttempts"},
		"backoff upside down":  {"http://x", []client.Option{client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Second, MaxBackoff: time.Millisecond})}, "MaxBackoff"},
		"bad public URL":       {"http://x", []client.Option{client.WithPublicURL("nope")}, "WithPublicURL"},
		"zero response limit":  {"http://x", []client.Option{client.WithMaxResponseBytes(0)}, "not positive"},
		"user agent with CRLF": {"http://x", []client.Option{client.WithUserAgent("a\r\nX-Evil: 1")}, "invalid user agent"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := client.New(tc.url, tc.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	c, err := client.New("https://example.projects.oryapis.com/", client.WithBearerToken(token), client.WithoutRetries())
	require.NoError(t, err)
	assert.NotNil(t, c.Identities)
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		ct       string
		body     string
		sentinel error
		message  string
		inError  string
	}{
		{"not found", 404, "application/json", `{"error":{"code":404,"status":"Not Found","message":"Unable to locate the resource"}}`, client.ErrNotFound, "Unable to locate the resource", "404 Not Found: Unable to locate the resource"},
		{"conflict with reason", 409, "application/json", `{"error":{"code":409,"status":"Conflict","reason":"This identity conflicts","message":"conflict"}}`, client.ErrConflict, "conflict", "(This identity conflicts)"},
		{"bad request", 400, "application/json", `{"error":{"code":400,"status":"Bad Request","message":"m"}}`, client.ErrBadRequest, "m", "400 Bad Request"},
		{"body code differs from status", 400, "application/json", `{"error":{"code":500,"status":"Internal Server Error","message":"json: unknown field \"foo\""}}`, client.ErrBadRequest, `json: unknown field "foo"`, "400 Bad Request"},
		{"unauthorized", 401, "application/json", `{"error":{"code":401,"message":"no token"}}`, client.ErrUnauthorized, "no token", "401"},
		{"forbidden", 403, "application/json", `{"error":{"code":403,"message":"nope"}}`, client.ErrForbidden, "nope", "403"},
		{"html 502", 502, "text/html", `<html><body><h1>502 Bad Gateway</h1></body></html>`, client.ErrServerError, "", `unexpected text/html body: "<html><body><h1>502 Bad Gateway</h1></body></html>"`},
		{"empty 500", 500, "", ``, client.ErrServerError, "", "empty body"},
		{"json without error key", 404, "application/json", `{"message":"weird"}`, client.ErrNotFound, "", "unexpected application/json body"},
		{"truncated json", 409, "application/json", `{"error":{"code":409,"mess`, client.ErrConflict, "", "unexpected application/json body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t, client.WithoutRetries())
			mux.HandleFunc("GET /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
				if tc.ct != "" {
					w.Header().Set("Content-Type", tc.ct)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			_, err := c.Identities.Get(context.Background(), aliceID, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.sentinel)
			var apiErr *client.Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, tc.message, apiErr.Message)
			assert.Equal(t, tc.body, string(apiErr.Body))
			assert.Contains(t, err.Error(), tc.inError)
			assert.Contains(t, err.Error(), "GET /admin/identities/"+aliceID)
			for _, other := range []error{client.ErrNotFound, client.ErrConflict, client.ErrBadRequest, client.ErrServerError, client.ErrUnauthorized, client.ErrForbidden, client.ErrRateLimited} {
				if other != tc.sentinel {
					assert.NotErrorIs(t, err, other)
				}
			}
		})
	}
}

func TestErrorBodyIsCapped(t *testing.T) {
	c, mux, _ := setup(t, client.WithoutRetries())
	huge := strings.Repeat("x", 1<<20)
	mux.HandleFunc("GET /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, huge)
	})
	_, err := c.Identities.Get(context.Background(), aliceID, nil)
	var apiErr *client.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, 64<<10)
	assert.Less(t, len(err.Error()), 600)
}

func TestSuccessBodyProblemsAreTyped(t *testing.T) {
	cases := map[string]struct {
		ct, body string
		want     string
	}{
		"html on 200":        {"text/html", "<html>login</html>", `unexpected content type "text/html"`},
		"truncated json":     {"application/json", `{"id":"` + aliceID + `","traits":{`, "invalid JSON"},
		"wrong shape":        {"application/json", `{"id":42}`, "does not match the expected shape"},
		"empty body":         {"application/json", ``, "empty body"},
		"not an object":      {"application/json", `[1,2]`, "does not match"},
		"garbage":            {"application/json", "\x00\x01", "invalid JSON"},
		"json with charset":  {"application/json; charset=utf-8", `{"id":`, "invalid JSON"},
		"vendor json broken": {"application/problem+json", `{`, "invalid JSON"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, mux, _ := setup(t, client.WithoutRetries())
			mux.HandleFunc("GET /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ct)
				_, _ = io.WriteString(w, tc.body)
			})
			got, err := c.Identities.Get(context.Background(), aliceID, nil)
			assert.Nil(t, got)
			require.ErrorIs(t, err, client.ErrMalformedResponse)
			var re *client.ResponseError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, 200, re.StatusCode)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLinkHeaderParsing(t *testing.T) {
	// Pages are served from the same handler; the Link header under test
	// decides what the client reports as the next token.
	cases := []struct {
		name, link, want string
		malformed        bool
	}{
		{"recorded keyset", `</admin/identities?page_size=2&page_token=00000000-0000-0000-0000-000000000000>; rel="first",</admin/identities?page_size=2&page_token=3410b62d-4f0a-4112-bbae-77a91e977f6d>; rel="next"`, "3410b62d-4f0a-4112-bbae-77a91e977f6d", false},
		{"recorded last page", `</admin/identities?page_size=2&page_token=00000000-0000-0000-0000-000000000000>; rel="first"`, "", false},
		{"recorded hybrid", `</admin/identities/x/sessions?page=1&page_size=2&page_token=eyJvZmZzZXQiOiIyIiwidiI6Mn0&per_page=2>; rel="next",</admin/identities/x/sessions?page=1&page_size=2&page_token=eyJvZmZzZXQiOiIyIiwidiI6Mn0&per_page=2>; rel="last"`, "eyJvZmZzZXQiOiIyIiwidiI6Mn0", false},
		{"spaces and unquoted rel", `<https://a/x?page_token=t1> ; rel=next , <https://a/x?page_token=t0>; rel=first`, "t1", false},
		{"multiple rel values", `</x?page_token=t2>; rel="prev next"`, "t2", false},
		{"escaped token", `</x?page_token=a%2Bb%3D%3D>; rel="next"`, "a+b==", false},
		{"other params", `</x?page_token=t3>; title="a, b; c"; rel="next"`, "t3", false},
		{"next without token", `</x?page=3&per_page=2>; rel="next"`, "", false},
		{"no link", ``, "", false},
		{"missing angle bracket", `/x?page_token=t>; rel="next"`, "", true},
		{"unterminated", `</x?page_token=t; rel="next"`, "", true},
		{"unterminated quote", `</x?page_token=t>; rel="next`, "", true},
		{"bad query", `</x?page_token=%zz>; rel="next"`, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t, client.WithoutRetries())
			mux.HandleFunc("GET /admin/identities", func(w http.ResponseWriter, r *http.Request) {
				if tc.link != "" {
					w.Header().Set("Link", tc.link)
				}
				writeJSON(w, 200, `[{"id":"`+aliceID+`","schema_id":"default","schema_url":"","state":"active","traits":{},"metadata_public":null,"organization_id":null,"created_at":"2026-11-27T05:51:44Z","updated_at":"2026-11-27T05:51:44Z"}]`)
			})
			page, err := c.Identities.ListPage(context.Background(), nil)
			if tc.malformed {
				require.ErrorIs(t, err, client.ErrMalformedResponse)
				assert.Contains(t, err.Error(), "Link")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, page.NextPageToken)
		})
	}
}

// pagedServer serves n identities in pages of the requested size, with
// page tokens as the real server makes them (the last id of a page).
func pagedServer(t *testing.T, mux *http.ServeMux, n int, hits *atomic.Int32) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
	}
	mux.HandleFunc("GET /admin/identities", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		size := 2
		fmt.Sscan(r.URL.Query().Get("page_size"), &size)
		start := 0
		if tok := r.URL.Query().Get("page_token"); tok != "" {
			for i, id := range ids {
				if id == tok {
					start = i + 1
				}
			}
		}
		end := min(start+size, n)
		items := make([]string, 0, end-start)
		for _, id := range ids[start:end] {
			items = append(items, `{"id":"`+id+`","schema_id":"default","schema_url":"","state":"active","traits":{"n":1},"metadata_public":null,"organization_id":null,"created_at":"2026-11-27T05:51:44Z","updated_at":"2026-11-27T05:51:44Z"}`)
		}
		link := fmt.Sprintf(`</admin/identities?page_size=%d&page_token=00000000-0000-0000-0000-000000000000>; rel="first"`, size)
		if end < n {
			link += fmt.Sprintf(`,</admin/identities?page_size=%d&page_token=%s>; rel="next"`, size, ids[end-1])
		}
		w.Header().Set("Link", link)
		writeJSON(w, 200, "["+strings.Join(items, ",")+"]")
	})
	return ids
}

func TestListWalksAllPagesAndStopsEarly(t *testing.T) {
	c, mux, _ := setup(t)
	var hits atomic.Int32
	ids := pagedServer(t, mux, 7, &hits)
	ctx := context.Background()

	var got []string
	for ident, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 3}) {
		require.NoError(t, err)
		got = append(got, ident.ID)
	}
	assert.Equal(t, ids, got)
	assert.EqualValues(t, 3, hits.Load(), "7 items in pages of 3")

	hits.Store(0)
	got = nil
	for ident, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 3}) {
		require.NoError(t, err)
		got = append(got, ident.ID)
		if len(got) == 4 {
			break
		}
	}
	assert.Equal(t, ids[:4], got)
	assert.EqualValues(t, 2, hits.Load(), "breaking after 4 items must not fetch a third page")

	// Page by page, then resume from a token.
	first, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: 2})
	require.NoError(t, err)
	require.Len(t, first.Items, 2)
	assert.Equal(t, ids[1], first.NextPageToken)
	assert.EqualValues(t, -1, first.TotalCount)
	got = nil
	for ident, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 2, PageToken: first.NextPageToken}) {
		require.NoError(t, err)
		got = append(got, ident.ID)
	}
	assert.Equal(t, ids[2:], got)
}

func TestListRefusesBadParamsBeforeSending(t *testing.T) {
	c, mux, _ := setup(t)
	var hits atomic.Int32
	pagedServer(t, mux, 1, &hits)
	ctx := context.Background()
	for name, p := range map[string]*client.ListIdentitiesParams{
		"legacy page in walk": {Page: 2},
		"bad id filter":       {IDs: []string{"not-a-uuid"}},
		"bad credential type": {IncludeCredential: []client.IdentityCredentialsType{"bogus"}},
		"too many ids":        {IDs: slices.Repeat([]string{aliceID}, 501)},
	} {
		t.Run(name, func(t *testing.T) {
			n := 0
			for _, err := range c.Identities.List(ctx, p) {
				n++
				assert.ErrorIs(t, err, client.ErrInvalidArgument)
			}
			assert.Equal(t, 1, n, "one error, then the walk ends")
		})
	}
	assert.Zero(t, hits.Load())
}

func TestPatchSendsExplicitNull(t *testing.T) {
	c, mux, _ := setup(t)
	var sent []byte
	mux.HandleFunc("PATCH /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		sent, _ = io.ReadAll(r.Body)
		writeJSON(w, 200, `{"id":"`+aliceID+`","schema_id":"default","schema_url":"","state":"active","traits":{},"metadata_public":null,"metadata_admin":null,"organization_id":null,"created_at":"2026-11-27T05:51:44Z","updated_at":"2026-11-27T05:51:44Z"}`)
	})
	got, err := c.Identities.Patch(context.Background(), aliceID, []client.JSONPatch{
		client.PatchReplace("/metadata_admin", nil),
		client.PatchAdd("/metadata_public/tier", "gold"),
		client.PatchRemove("/traits/name"),
		{Op: client.JSONPatchOpReplace, Path: "/metadata_public", Value: client.Null},
	})
	require.NoError(t, err)
	assert.JSONEq(t, `[
		{"op":"replace","path":"/metadata_admin","value":null},
		{"op":"add","path":"/metadata_public/tier","value":"gold"},
		{"op":"remove","path":"/traits/name"},
		{"op":"replace","path":"/metadata_public","value":null}]`, string(sent))
	assert.Contains(t, string(sent), `"value":null`)
	assert.Equal(t, "null", string(got.MetadataAdmin), "null stays distinguishable from absent")

	for name, ops := range map[string][]client.JSONPatch{
		"test op":          {{Op: "test", Path: "/state"}},
		"move op":          {{Op: "move", Path: "/a", From: "/b"}},
		"not a pointer":    {client.PatchReplace("traits/email", "x")},
		"unencodable":      {client.PatchReplace("/traits/x", make(chan int))},
		"invalid raw json": {{Op: client.JSONPatchOpAdd, Path: "/x", Value: json.RawMessage("{nope")}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Identities.Patch(context.Background(), aliceID, ops)
			assert.ErrorIs(t, err, client.ErrInvalidArgument)
		})
	}
}

func TestDecodeTraitsAndMetadata(t *testing.T) {
	type traits struct {
		Email string `json:"email"`
		Name  struct {
			First string `json:"first"`
		} `json:"name"`
	}
	type meta struct {
		CRMID int `json:"crm_id"`
	}
	ident := &client.Identity{
		Traits:         json.RawMessage(`{"email":"alice@example.org","name":{"first":"Alice"}}`),
		MetadataAdmin:  json.RawMessage(`{"crm_id":4711}`),
		MetadataPublic: client.Null,
	}
	tr, err := client.DecodeTraits[traits](ident)
	require.NoError(t, err)
	assert.Equal(t, "alice@example.org", tr.Email)
	assert.Equal(t, "Alice", tr.Name.First)
	m, err := client.DecodeMetadataAdmin[meta](ident)
	require.NoError(t, err)
	assert.Equal(t, 4711, m.CRMID)
	pub, err := client.DecodeMetadataPublic[*meta](ident)
	require.NoError(t, err)
	assert.Nil(t, pub, "null decodes to the zero value")
	_, err = client.DecodeJSON[[]int](ident.Traits)
	assert.ErrorContains(t, err, "decoding JSON into []int")
	_, err = client.DecodeTraits[traits](nil)
	assert.Error(t, err)
}

func TestSchemasFollowTheAdminRedirectWithoutTheToken(t *testing.T) {
	var publicAuth atomic.Value
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		publicAuth.Store(r.Header.Get("Authorization"))
		if r.URL.Path != "/schemas/default" {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, 200, `{"$id":"x","type":"object"}`)
	}))
	t.Cleanup(public.Close)
	c, mux, _ := setup(t, client.WithBearerToken(token))
	mux.HandleFunc("GET /schemas/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", public.URL+r.URL.Path)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusTemporaryRedirect)
		_, _ = io.WriteString(w, `<a href="`+public.URL+`">Temporary Redirect</a>.`)
	})
	schema, err := c.Schemas.Get(context.Background(), "default")
	require.NoError(t, err)
	assert.JSONEq(t, `{"$id":"x","type":"object"}`, string(schema))
	assert.Equal(t, "", publicAuth.Load(), "the token must not follow the redirect to another origin")

	// With WithPublicURL the client asks the public port directly.
	direct, err := client.New("http://127.0.0.1:1", client.WithPublicURL(public.URL), client.WithBearerToken(token))
	require.NoError(t, err)
	schema, err = direct.Schemas.Get(context.Background(), "default")
	require.NoError(t, err)
	assert.Contains(t, string(schema), `"$id"`)
}

func TestExtendSessionAcceptsBothAnswers(t *testing.T) {
	c, mux, _ := setup(t)
	sid := "7324d290-6b89-43b1-9d39-20e4c274c788"
	fast := false
	mux.HandleFunc("PATCH /admin/sessions/{id}/extend", func(w http.ResponseWriter, r *http.Request) {
		if fast {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, 200, `{"id":"`+sid+`","active":true,"expires_at":"2026-11-28T05:51:44Z","authenticated_at":"2026-11-27T05:51:44Z","issued_at":"2026-11-27T05:51:44Z","authenticator_assurance_level":"aal1","authentication_methods":[{"method":"password","aal":"aal1","completed_at":"2026-11-27T05:51:44Z"}],"identity":null,"devices":[]}`)
	})
	s, err := c.Sessions.Extend(context.Background(), sid)
	require.NoError(t, err)
	require.NotNil(t, s)
	assert.Equal(t, sid, s.ID)
	assert.Equal(t, client.AAL1, s.AuthenticatorAssuranceLevel)
	assert.Nil(t, s.Identity)

	fast = true
	s, err = c.Sessions.Extend(context.Background(), sid)
	require.NoError(t, err)
	assert.Nil(t, s, "204 means extended, without a body")
}

func TestBearerTokenAndUserAgentAreSent(t *testing.T) {
	c, mux, _ := setup(t, client.WithBearerToken(token), client.WithUserAgent("my-service/1.2"),
		client.WithRequestEditor(func(ctx context.Context, r *http.Request) error {
			r.Header.Set("X-Trace", "abc")
			return nil
		}))
	mux.HandleFunc("DELETE /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))
		assert.Equal(t, "my-service/1.2", r.Header.Get("User-Agent"))
		assert.Equal(t, "abc", r.Header.Get("X-Trace"))
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		w.WriteHeader(http.StatusNoContent)
	})
	require.NoError(t, c.Identities.Delete(context.Background(), aliceID))

	failing, _, _ := setup(t, client.WithRequestEditor(func(context.Context, *http.Request) error { return errors.New("no trace") }))
	err := failing.Identities.Delete(context.Background(), aliceID)
	assert.ErrorContains(t, err, "request editor: no trace")
}

func TestDefaultTimeoutBoundsAHangingServer(t *testing.T) {
	release := make(chan struct{})
	c, mux, _ := setup(t, client.WithTimeout(100*time.Millisecond), client.WithoutRetries())
	mux.HandleFunc("GET /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	start := time.Now()
	_, err := c.Identities.Get(context.Background(), aliceID, nil)
	assert.Less(t, time.Since(start), 5*time.Second)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var te *client.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "no complete response within 100ms")
}

func TestArgumentsAreCheckedBeforeSending(t *testing.T) {
	var hits atomic.Int32
	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	ctx := context.Background()
	traits := json.RawMessage(`{"email":"a@b.c"}`)
	calls := map[string]func() error{
		"get: not a uuid":    func() error { _, err := c.Identities.Get(ctx, "../sessions", nil); return err },
		"get: empty id":      func() error { _, err := c.Identities.Get(ctx, "", nil); return err },
		"external id: empty": func() error { _, err := c.Identities.GetByExternalID(ctx, "", nil); return err },
		"create: nil body":   func() error { _, err := c.Identities.Create(ctx, nil); return err },
		"create: bad json traits": func() error {
			_, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage("{")})
			return err
		},
		"create: bad state": func() error {
			_, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits, State: "sleeping"})
			return err
		},
		"update: bad id":         func() error { _, err := c.Identities.Update(ctx, "x", &client.UpdateIdentityBody{}); return err },
		"delete creds: bad type": func() error { return c.Identities.DeleteCredentials(ctx, aliceID, "magic", nil) },
		"sessions: bad id":       func() error { _, err := c.Sessions.Get(ctx, "not-a-uuid", nil); return err },
		"sessions: bad expand": func() error {
			_, err := c.Sessions.Get(ctx, aliceID, &client.GetSessionParams{Expand: []client.SessionExpandable{"everything"}})
			return err
		},
		"disable: bad id": func() error { return c.Sessions.Disable(ctx, "1") },
		"recovery: bad duration": func() error {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: aliceID, ExpiresIn: "tomorrow"})
			return err
		},
		"recovery: zero duration": func() error {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: aliceID, ExpiresIn: "0s"})
			return err
		},
		"recovery: negative duration": func() error {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: aliceID, ExpiresIn: "-1m"})
			return err
		},
		"recovery: a number without unit": func() error {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: aliceID, ExpiresIn: "90"})
			return err
		},
		"link: days": func() error {
			_, err := c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: aliceID, ExpiresIn: "1d"}, nil)
			return err
		},
		"recovery: flow type": func() error {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: aliceID, FlowType: "pigeon"})
			return err
		},
		"batch: too many": func() error {
			_, err := c.Identities.BatchCreate(ctx, make([]client.IdentityPatch, client.MaxBatchSize+1))
			return err
		},
		"batch: too many plaintext passwords": func() error {
			items := make([]client.IdentityPatch, client.MaxBatchPlaintextPassword+1)
			for i := range items {
				items[i].Create = client.CreateIdentityBody{SchemaID: "default", Traits: traits}
				items[i].Create.Credentials.Password.Config.Password = "secret-password"
			}
			_, err := c.Identities.BatchCreate(ctx, items)
			return err
		},
		"nil context": func() error {
			//lint:ignore SA1012 a nil context is exactly what is tested
			_, err := c.Identities.Get(nil, aliceID, nil) //nolint:staticcheck
			return err
		},
	}
	for _, tc := range typedCalls {
		calls["table: "+tc.name] = func() error { return tc.bad(ctx, c) }
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			require.ErrorIs(t, err, client.ErrInvalidArgument)
			var ae *client.ArgumentError
			require.ErrorAs(t, err, &ae)
			assert.NotEmpty(t, ae.Argument)
			assert.Contains(t, err.Error(), "invalid "+ae.Argument)
		})
	}
	assert.Zero(t, hits.Load(), "no refused call may reach the server")
}

func TestCheckedDurationsPass(t *testing.T) {
	var bodies []string
	c, mux, _ := setup(t)
	mux.HandleFunc("POST /admin/recovery/code", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		writeJSON(w, 201, `{"recovery_link":"http://x/recovery?flow=1","recovery_code":"123456","expires_at":"2026-11-27T06:51:44Z"}`)
	})
	// Kratos v26.2.0 takes all of these (201).
	for _, d := range []string{"15m", "1h30m", "90s", "1h0m", "1.5h"} {
		rc, err := c.Recovery.CreateCode(context.Background(), &client.CreateRecoveryCodeForIdentityBody{IdentityID: aliceID, ExpiresIn: d, FlowType: client.RecoveryFlowTypeAPI})
		require.NoError(t, err, d)
		assert.Equal(t, "123456", rc.RecoveryCode)
	}
	assert.Contains(t, bodies[0], `"flow_type":"api"`)
}

func TestErrorBodyBeyondTheResponseLimitKeepsItsSnippet(t *testing.T) {
	c, mux, _ := setup(t, client.WithoutRetries(), client.WithMaxResponseBytes(1024))
	page := "<html><h1>502 Bad Gateway</h1>" + strings.Repeat("<p>upstream unavailable</p>", 200) + "</html>"
	mux.HandleFunc("GET /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, page)
	})
	_, err := c.Identities.Get(context.Background(), aliceID, nil)
	var apiErr *client.Error
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, client.ErrServerError)
	assert.Equal(t, page, string(apiErr.Body), "an error body is kept up to 64 KiB whatever the success limit")
	assert.Contains(t, err.Error(), "502 Bad Gateway")
}

func TestCancelWhileWaitingToRetryKeepsTheServerError(t *testing.T) {
	c, mux, _ := setup(t, client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: time.Second, MaxRetryAfter: time.Minute}))
	ctx, cancel := context.WithCancel(context.Background())
	mux.HandleFunc("GET /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		writeJSON(w, http.StatusServiceUnavailable, `{"error":{"code":503,"status":"Service Unavailable","message":"maintenance"}}`)
		time.AfterFunc(50*time.Millisecond, cancel)
	})
	_, err := c.Identities.Get(ctx, aliceID, nil)
	assert.ErrorIs(t, err, context.Canceled)
	var apiErr *client.Error
	require.ErrorAs(t, err, &apiErr, "the answer that caused the wait stays reachable")
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Equal(t, 30*time.Second, apiErr.RetryAfter)
}

func TestNullSuccessBodyIsAnError(t *testing.T) {
	c, mux, _ := setup(t, client.WithoutRetries())
	mux.HandleFunc("GET /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, " null ")
	})
	got, err := c.Identities.Get(context.Background(), aliceID, nil)
	assert.Nil(t, got)
	require.ErrorIs(t, err, client.ErrMalformedResponse)
	assert.Contains(t, err.Error(), "JSON null")
}
