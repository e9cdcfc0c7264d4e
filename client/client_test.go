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

	"github.com/kratosadmin/sdk/client"
)

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
			if err == nil {
				t.Fatal("want an error")
			}
			if c != nil {
				t.Errorf("got %v, want nil", c)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q does not contain %q", err.Error(), tc.want)
			}
		})
	}
	c, err := client.New("https://example.projects.oryapis.com/", client.WithBearerToken(testToken), client.WithoutRetries())
	if err != nil {
		t.Fatal(err)
	}
	if c.Identities == nil {
		t.Error("c.Identities is nil")
	}
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
			_, err := c.Identities.Get(context.Background(), testID, nil)
			if err == nil {
				t.Fatal("want an error")
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("%v, want %v", err, tc.sentinel)
			}
			var apiErr *client.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("%v: want a %T", err, apiErr)
			}
			if got, want := apiErr.StatusCode, tc.status; got != want {
				t.Errorf("got %v, want %v", got, want)
			}
			if got, want := apiErr.Message, tc.message; got != want {
				t.Errorf("got %v, want %v", got, want)
			}
			if got, want := string(apiErr.Body), tc.body; got != want {
				t.Errorf("got %v, want %v", got, want)
			}
			if !strings.Contains(err.Error(), tc.inError) {
				t.Errorf("%q does not contain %q", err.Error(), tc.inError)
			}
			if !strings.Contains(err.Error(), "GET /admin/identities/"+testID) {
				t.Errorf("%q does not contain %q", err.Error(), "GET /admin/identities/"+testID)
			}
			for _, other := range []error{client.ErrNotFound, client.ErrConflict, client.ErrBadRequest, client.ErrServerError, client.ErrUnauthorized, client.ErrForbidden, client.ErrRateLimited} {
				if other != tc.sentinel {
					if errors.Is(err, other) {
						t.Errorf("%v matches %v", err, other)
					}
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
	_, err := c.Identities.Get(context.Background(), testID, nil)
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("%v: want a %T", err, apiErr)
	}
	if len(apiErr.Body) != 64<<10 {
		t.Errorf("len %d, want %d", len(apiErr.Body), 64<<10)
	}
	if len(err.Error()) >= 600 {
		t.Errorf("%v is not below %v", len(err.Error()), 600)
	}
}

func TestSuccessBodyProblemsAreTyped(t *testing.T) {
	cases := map[string]struct {
		ct, body string
		want     string
	}{
		"html on 200":        {"text/html", "<html>login</html>", `unexpected content type "text/html"`},
		"truncated json":     {"application/json", `{"id":"` + testID + `","traits":{`, "invalid JSON"},
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
			got, err := c.Identities.Get(context.Background(), testID, nil)
			if got != nil {
				t.Errorf("got %v, want nil", got)
			}
			if !errors.Is(err, client.ErrMalformedResponse) {
				t.Fatalf("%v, want %v", err, client.ErrMalformedResponse)
			}
			var re *client.ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("%v: want a %T", err, re)
			}
			if got, want := re.StatusCode, 200; got != want {
				t.Errorf("got %v, want %v", got, want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q does not contain %q", err.Error(), tc.want)
			}
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
				writeJSON(w, 200, `[{"id":"`+testID+`","schema_id":"default","schema_url":"","state":"active","traits":{},"metadata_public":null,"organization_id":null,"created_at":"2026-11-27T05:51:44Z","updated_at":"2026-11-27T05:51:44Z"}]`)
			})
			page, err := c.Identities.ListPage(context.Background(), nil)
			if tc.malformed {
				if !errors.Is(err, client.ErrMalformedResponse) {
					t.Fatalf("%v, want %v", err, client.ErrMalformedResponse)
				}
				if !strings.Contains(err.Error(), "Link") {
					t.Errorf("%q does not contain %q", err.Error(), "Link")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := page.NextPageToken, tc.want; got != want {
				t.Errorf("got %v, want %v", got, want)
			}
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
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ident.ID)
	}
	if want := ids; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := hits.Load(); got != 3 {
		t.Errorf("got %v, want %v: %s", got, 3, "7 items in pages of 3")
	}

	hits.Store(0)
	got = nil
	for ident, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ident.ID)
		if len(got) == 4 {
			break
		}
	}
	if want := ids[:4]; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := hits.Load(); got != 2 {
		t.Errorf("got %v, want %v: %s", got, 2, "breaking after 4 items must not fetch a third page")
	}

	// Page by page, then resume from a token.
	first, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != 2 {
		t.Fatalf("len %d, want %d", len(first.Items), 2)
	}
	if got, want := first.NextPageToken, ids[1]; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := first.TotalCount; got != -1 {
		t.Errorf("got %v, want %v", got, -1)
	}
	got = nil
	for ident, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 2, PageToken: first.NextPageToken}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ident.ID)
	}
	if want := ids[2:]; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
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
		"too many ids":        {IDs: slices.Repeat([]string{testID}, 501)},
	} {
		t.Run(name, func(t *testing.T) {
			n := 0
			for _, err := range c.Identities.List(ctx, p) {
				n++
				if !errors.Is(err, client.ErrInvalidArgument) {
					t.Errorf("%v, want %v", err, client.ErrInvalidArgument)
				}
			}
			if got, want := n, 1; got != want {
				t.Errorf("got %v, want %v: %s", got, want, "one error, then the walk ends")
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("%v, want 0", hits.Load())
	}
}

func TestPatchSendsExplicitNull(t *testing.T) {
	c, mux, _ := setup(t)
	var sent []byte
	mux.HandleFunc("PATCH /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		sent, _ = io.ReadAll(r.Body)
		writeJSON(w, 200, `{"id":"`+testID+`","schema_id":"default","schema_url":"","state":"active","traits":{},"metadata_public":null,"metadata_admin":null,"organization_id":null,"created_at":"2026-11-27T05:51:44Z","updated_at":"2026-11-27T05:51:44Z"}`)
	})
	got, err := c.Identities.Patch(context.Background(), testID, []client.JSONPatch{
		client.PatchReplace("/metadata_admin", nil),
		client.PatchAdd("/metadata_public/tier", "gold"),
		client.PatchRemove("/traits/name"),
		{Op: client.JSONPatchOpReplace, Path: "/metadata_public", Value: client.Null},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[
		{"op":"replace","path":"/metadata_admin","value":null},
		{"op":"add","path":"/metadata_public/tier","value":"gold"},
		{"op":"remove","path":"/traits/name"},
		{"op":"replace","path":"/metadata_public","value":null}]`; !sameJSON(json.RawMessage(want), sent) {
		t.Errorf("JSON %s, want %s", sent, want)
	}
	if !strings.Contains(string(sent), `"value":null`) {
		t.Errorf("%q does not contain %q", string(sent), `"value":null`)
	}
	if got, want := string(got.MetadataAdmin), "null"; got != want {
		t.Errorf("got %v, want %v: %s", got, want, "null stays distinguishable from absent")
	}

	for name, ops := range map[string][]client.JSONPatch{
		"test op":          {{Op: "test", Path: "/state"}},
		"move op":          {{Op: "move", Path: "/a", From: "/b"}},
		"not a pointer":    {client.PatchReplace("traits/email", "x")},
		"unencodable":      {client.PatchReplace("/traits/x", make(chan int))},
		"invalid raw json": {{Op: client.JSONPatchOpAdd, Path: "/x", Value: json.RawMessage("{nope")}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Identities.Patch(context.Background(), testID, ops)
			if !errors.Is(err, client.ErrInvalidArgument) {
				t.Errorf("%v, want %v", err, client.ErrInvalidArgument)
			}
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
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tr.Email, "alice@example.org"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, want := tr.Name.First, "Alice"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	m, err := client.DecodeMetadataAdmin[meta](ident)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.CRMID, 4711; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	pub, err := client.DecodeMetadataPublic[*meta](ident)
	if err != nil {
		t.Fatal(err)
	}
	if pub != nil {
		t.Errorf("got %v, want nil: %s", pub, "null decodes to the zero value")
	}
	_, err = client.DecodeJSON[[]int](ident.Traits)
	if err == nil || !strings.Contains(err.Error(), "decoding JSON into []int") {
		t.Errorf("%v, want an error containing %q", err, "decoding JSON into []int")
	}
	_, err = client.DecodeTraits[traits](nil)
	if err == nil {
		t.Error("want an error")
	}
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
	c, mux, _ := setup(t, client.WithBearerToken(testToken))
	mux.HandleFunc("GET /schemas/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", public.URL+r.URL.Path)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusTemporaryRedirect)
		_, _ = io.WriteString(w, `<a href="`+public.URL+`">Temporary Redirect</a>.`)
	})
	schema, err := c.Schemas.Get(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(json.RawMessage(`{"$id":"x","type":"object"}`), schema) {
		t.Errorf("JSON %s, want %s", string(schema), `{"$id":"x","type":"object"}`)
	}
	if got, want := publicAuth.Load(), ""; got != want {
		t.Errorf("got %v, want %v: %s", got, want, "the token must not follow the redirect to another origin")
	}

	// With WithPublicURL the client asks the public port directly.
	direct, err := client.New("http://127.0.0.1:1", client.WithPublicURL(public.URL), client.WithBearerToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	schema, err = direct.Schemas.Get(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(schema), `"$id"`) {
		t.Errorf("%q does not contain %q", string(schema), `"$id"`)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		t.Fatalf("%s is nil", "s")
	}
	if got, want := s.ID, sid; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, want := s.AuthenticatorAssuranceLevel, client.AAL1; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if s.Identity != nil {
		t.Errorf("got %v, want nil", s.Identity)
	}

	fast = true
	s, err = c.Sessions.Extend(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	if s != nil {
		t.Errorf("got %v, want nil: %s", s, "204 means extended, without a body")
	}
}

func TestBearerTokenAndUserAgentAreSent(t *testing.T) {
	c, mux, _ := setup(t, client.WithBearerToken(testToken), client.WithUserAgent("my-service/1.2"),
		client.WithRequestEditor(func(ctx context.Context, r *http.Request) error {
			r.Header.Set("X-Trace", "abc")
			return nil
		}))
	mux.HandleFunc("DELETE /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		if got, want := r.Header.Get("Authorization"), "Bearer "+testToken; got != want {
			t.Errorf("got %v, want %v", got, want)
		}
		if got, want := r.Header.Get("User-Agent"), "my-service/1.2"; got != want {
			t.Errorf("got %v, want %v", got, want)
		}
		if got, want := r.Header.Get("X-Trace"), "abc"; got != want {
			t.Errorf("got %v, want %v", got, want)
		}
		if got, want := r.Header.Get("Accept"), "application/json"; got != want {
			t.Errorf("got %v, want %v", got, want)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	if err := c.Identities.Delete(context.Background(), testID); err != nil {
		t.Fatal(err)
	}

	failing, _, _ := setup(t, client.WithRequestEditor(func(context.Context, *http.Request) error { return errors.New("no trace") }))
	err := failing.Identities.Delete(context.Background(), testID)
	if err == nil || !strings.Contains(err.Error(), "request editor: no trace") {
		t.Errorf("%v, want an error containing %q", err, "request editor: no trace")
	}
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
	_, err := c.Identities.Get(context.Background(), testID, nil)
	if time.Since(start) >= 5*time.Second {
		t.Errorf("%v is not below %v", time.Since(start), 5*time.Second)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v, want %v", err, context.DeadlineExceeded)
	}
	var te *client.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("%v: want a %T", err, te)
	}
	if !strings.Contains(err.Error(), "no complete response within 100ms") {
		t.Errorf("%q does not contain %q", err.Error(), "no complete response within 100ms")
	}
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
		rc, err := c.Recovery.CreateCode(context.Background(), &client.CreateRecoveryCodeForIdentityBody{IdentityID: testID, ExpiresIn: d, FlowType: client.RecoveryFlowTypeAPI})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rc.RecoveryCode, "123456"; got != want {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	if !strings.Contains(bodies[0], `"flow_type":"api"`) {
		t.Errorf("%q does not contain %q", bodies[0], `"flow_type":"api"`)
	}
}

func TestErrorBodyBeyondTheResponseLimitKeepsItsSnippet(t *testing.T) {
	c, mux, _ := setup(t, client.WithoutRetries(), client.WithMaxResponseBytes(1024))
	page := "<html><h1>502 Bad Gateway</h1>" + strings.Repeat("<p>upstream unavailable</p>", 200) + "</html>"
	mux.HandleFunc("GET /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, page)
	})
	_, err := c.Identities.Get(context.Background(), testID, nil)
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("%v: want a %T", err, apiErr)
	}
	if !errors.Is(err, client.ErrServerError) {
		t.Errorf("%v, want %v", err, client.ErrServerError)
	}
	if got, want := string(apiErr.Body), page; got != want {
		t.Errorf("got %v, want %v: %s", got, want, "an error body is kept up to 64 KiB whatever the success limit")
	}
	if !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Errorf("%q does not contain %q", err.Error(), "502 Bad Gateway")
	}
}

func TestCancelWhileWaitingToRetryKeepsTheServerError(t *testing.T) {
	c, mux, _ := setup(t, client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: time.Second, MaxRetryAfter: time.Minute}))
	ctx, cancel := context.WithCancel(context.Background())
	mux.HandleFunc("GET /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		writeJSON(w, http.StatusServiceUnavailable, `{"error":{"code":503,"status":"Service Unavailable","message":"maintenance"}}`)
		time.AfterFunc(50*time.Millisecond, cancel)
	})
	_, err := c.Identities.Get(ctx, testID, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v, want %v", err, context.Canceled)
	}
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("%v: want a %T: %s", err, apiErr, "the answer that caused the wait stays reachable")
	}
	if got, want := apiErr.StatusCode, 503; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, want := apiErr.RetryAfter, 30*time.Second; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestNullSuccessBodyIsAnError(t *testing.T) {
	c, mux, _ := setup(t, client.WithoutRetries())
	mux.HandleFunc("GET /admin/identities/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, " null ")
	})
	got, err := c.Identities.Get(context.Background(), testID, nil)
	if got != nil {
		t.Errorf("got %v, want nil", got)
	}
	if !errors.Is(err, client.ErrMalformedResponse) {
		t.Fatalf("%v, want %v", err, client.ErrMalformedResponse)
	}
	if !strings.Contains(err.Error(), "JSON null") {
		t.Errorf("%q does not contain %q", err.Error(), "JSON null")
	}
}
