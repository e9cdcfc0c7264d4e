package kratostest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Behaviours beyond the recordings: options, limits, pagination walks,
// the patch deny list, credential imports, concurrency.

// send makes a raw request and returns the status, headers and body.
func send(t *testing.T, method, u, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k := 0; k+1 < len(header); k += 2 {
		req.Header.Set(header[k], header[k+1])
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func mustCreate(t *testing.T, c *client.Client, email string) *client.Identity {
	t.Helper()
	i, err := c.Identities.Create(t.Context(), &client.CreateIdentityBody{SchemaID: "default", Traits: traits(email), Credentials: withPassword(password)})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestBearerToken(t *testing.T) {
	srv := kratostest.NewServer(t, kratostest.WithBearerToken("s3cret"))
	status, h, body := send(t, http.MethodGet, srv.URL+"/admin/identities", "")
	if status != 401 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("without token: %d %s", status, body)
	}
	var e struct {
		Error struct {
			Code   int    `json:"code"`
			Status string `json:"status"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != 401 || e.Error.Status != "Unauthorized" {
		t.Errorf("401 body %s", body)
	}
	// Only the whole token passes (compared in constant time): not a
	// prefix, an extension, another case or another scheme.
	for _, h := range []string{"Bearer wrong", "Bearer s3cre", "Bearer s3cret2", "Bearer S3CRET", "bearer s3cret", "Basic s3cret", "s3cret", "Bearer  s3cret", ""} {
		if status, _, _ := send(t, http.MethodGet, srv.URL+"/admin/identities", "", "Authorization", h); status != 401 {
			t.Errorf("Authorization %q: %d, want 401", h, status)
		}
	}
	if status, _, body := send(t, http.MethodGet, srv.URL+"/admin/identities", "", "Authorization", "Bearer s3cret"); status != 200 {
		t.Errorf("the right token: %d %s", status, body)
	}
	c := srv.Client()
	mustCreate(t, c, "token@example.org")
	if _, err := c.Schemas.Get(t.Context(), "default"); err != nil {
		t.Errorf("schemas with the token client: %v", err)
	}
	bad, _ := client.New(srv.URL, client.WithBearerToken("wrong"), client.WithoutRetries())
	if _, err := bad.Identities.ListPage(t.Context(), nil); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("wrong token through the client: %v", err)
	}
	// Schemas need no token, on either port.
	if status, _, _ := send(t, http.MethodGet, srv.PublicURL+"/schemas", ""); status != 200 {
		t.Errorf("public schemas: %d", status)
	}
	if status, _, _ := send(t, http.MethodGet, srv.URL+"/schemas", ""); status != 307 {
		t.Errorf("admin schemas redirect: %d", status)
	}
}

func TestSchemaRedirects(t *testing.T) {
	srv := kratostest.NewServer(t)
	for path, want := range map[string]string{
		"/schemas?page_size=1":      "/schemas?page_size=1",
		"/schemas/default":          "/schemas/default",
		"/admin/schemas":            "/schemas",
		"/admin/schemas/ZGVmYXVsdA": "/schemas/ZGVmYXVsdA",
	} {
		status, h, body := send(t, http.MethodGet, srv.URL+path, "")
		if status != 307 || h.Get("Location") != srv.PublicURL+want || h.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("%s: %d Location %q %q", path, status, h.Get("Location"), body)
		}
	}
	if status, _, _ := send(t, http.MethodPost, srv.URL+"/schemas", "{}"); status != 405 {
		t.Errorf("POST /schemas: %d", status)
	}
	// The client follows the redirect when it has no public URL.
	c, _ := client.New(srv.URL)
	if _, err := c.Schemas.Get(t.Context(), "default"); err != nil {
		t.Errorf("through the redirect: %v", err)
	}
}

func TestIdentityKeysetPagination(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client()
	var ids []string
	for k := range 20 {
		ids = append(ids, mustCreate(t, c, fmt.Sprintf("page%02d@example.org", k)).ID)
	}
	slices.Sort(ids)
	var walked []string
	token, pages := "", 0
	for {
		p, err := c.Identities.ListPage(t.Context(), &client.ListIdentitiesParams{PageSize: 5, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, i := range p.Items {
			walked = append(walked, i.ID)
		}
		if p.NextPageToken == "" {
			break
		}
		token = p.NextPageToken
	}
	if !slices.Equal(walked, ids) || pages != 4 {
		t.Errorf("%d pages, ids %v, want %v", pages, walked, ids)
	}
	// The last full page has no next link: the server looks one further.
	_, h, _ := send(t, http.MethodGet, srv.URL+"/admin/identities?page_size=5&page_token="+ids[14], "")
	if strings.Contains(h.Get("Link"), `rel="next"`) {
		t.Errorf("next link on the last page: %s", h.Get("Link"))
	}
	// A lone per_page is read as page_size.
	_, h, body := send(t, http.MethodGet, srv.URL+"/admin/identities?per_page=3", "")
	want := fmt.Sprintf(`</admin/identities?page_size=3&page_token=00000000-0000-0000-0000-000000000000>; rel="first",</admin/identities?page_size=3&page_token=%s>; rel="next"`, ids[2])
	if h.Get("Link") != want || strings.Count(body, `"schema_id"`) != 3 {
		t.Errorf("per_page: Link %s", h.Get("Link"))
	}
	// Legacy pagination: page numbers from 0, X-Total-Count, at most 1000 items.
	_, h, body = send(t, http.MethodGet, srv.URL+"/admin/identities?page=1&per_page=8", "")
	if h.Get("X-Total-Count") != "20" || strings.Count(body, `"schema_id"`) != 8 || !strings.Contains(body, ids[8]) {
		t.Errorf("legacy page: total %q", h.Get("X-Total-Count"))
	}
	if h.Get("Link") != `</admin/identities?page=0&per_page=8>; rel="first",</admin/identities?page=2&per_page=8>; rel="next",</admin/identities?page=0&per_page=8>; rel="prev",</admin/identities?page=2&per_page=8>; rel="last"` {
		t.Errorf("legacy Link %s", h.Get("Link"))
	}
	status, _, body := send(t, http.MethodGet, srv.URL+"/admin/identities?page=11&per_page=100", "")
	if status != 400 || !strings.Contains(body, "Legacy pagination is not supported for enumerating over 1000 items") {
		t.Errorf("legacy over 1000: %d %s", status, body)
	}
	var many []string
	for range 501 {
		many = append(many, "ids="+ids[0])
	}
	status, _, body = send(t, http.MethodGet, srv.URL+"/admin/identities?"+strings.Join(many, "&"), "")
	if status != 400 || !strings.Contains(body, "The number of ids to filter must not exceed 500.") {
		t.Errorf("501 ids: %d %s", status, body)
	}
	status, _, body = send(t, http.MethodGet, srv.URL+"/admin/identities?include_credential=profile", "")
	if status != 400 || !strings.Contains(body, "Invalid value `profile` for parameter `include_credential`.") {
		t.Errorf("include_credential=profile: %d %s", status, body)
	}
}

// TestIdentityOrderAfterBulkWrites lists identities in id order after
// batches, single creates and deletes interleaved with reads.
func TestIdentityOrderAfterBulkWrites(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client()
	want := map[string]bool{}
	batch := func(from, n int) {
		t.Helper()
		items := make([]client.IdentityPatch, n)
		for k := range items {
			items[k].Create = client.CreateIdentityBody{SchemaID: "default", Traits: traits(fmt.Sprintf("bulk%04d@example.org", from+k))}
		}
		res, err := c.Identities.BatchCreate(t.Context(), items)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			want[it.IdentityID] = true
		}
	}
	walk := func() []string {
		t.Helper()
		var ids []string
		for i, err := range c.Identities.List(t.Context(), &client.ListIdentitiesParams{PageSize: 50}) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, i.ID)
		}
		return ids
	}
	batch(0, 300)
	walk()
	for k := range 5 {
		want[mustCreate(t, c, fmt.Sprintf("single%d@example.org", k)).ID] = true
	}
	var gone []string
	for id := range want {
		if len(gone) == 3 {
			break
		}
		if err := c.Identities.Delete(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		delete(want, id)
		gone = append(gone, id)
	}
	batch(1000, 100)
	got := walk()
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("not in strictly ascending id order")
	}
	if len(got) != len(want) || srv.IdentityCount() != len(want) {
		t.Fatalf("listed %d, count %d, want %d", len(got), srv.IdentityCount(), len(want))
	}
	for _, id := range got {
		if !want[id] {
			t.Errorf("listed %s, deleted or never created", id)
		}
	}
}

func TestSessionPaginationWithEqualTimes(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := kratostest.NewServer(t, kratostest.WithClock(func() time.Time { return at }))
	c := srv.Client()
	id := mustCreate(t, c, "clock@example.org")
	if !id.CreatedAt.Equal(at) || !id.StateChangedAt.MustGet().Equal(at) {
		t.Errorf("created %v state changed %v, want the clock's %v", id.CreatedAt, id.StateChangedAt, at)
	}
	var want []string
	for range 7 {
		s, err := srv.CreateSession(id.ID)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, s.ID)
		if !s.ExpiresAt.Equal(at.Add(24 * time.Hour)) {
			t.Errorf("expires at %v", s.ExpiresAt)
		}
	}
	// Made in the same instant, the sessions still list newest first.
	slices.Reverse(want)
	var got []string
	for s, err := range c.Sessions.List(t.Context(), &client.ListSessionsParams{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("sessions %v, want %v", got, want)
	}
	got = nil
	for s, err := range c.Identities.ListSessions(t.Context(), id.ID, &client.ListIdentitySessionsParams{PageSize: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("identity sessions %v, want %v", got, want)
	}
	if srv.SessionCount() != 7 || srv.IdentityCount() != 1 {
		t.Errorf("counts %d %d", srv.SessionCount(), srv.IdentityCount())
	}
	srv.Reset()
	if srv.SessionCount() != 0 || srv.IdentityCount() != 0 {
		t.Errorf("after Reset: %d %d", srv.SessionCount(), srv.IdentityCount())
	}
}

func TestSessionOptionsAndExpiry(t *testing.T) {
	srv := kratostest.NewServer(t, kratostest.WithFasterSessionExtend())
	c := srv.Client()
	id := mustCreate(t, c, "expiry@example.org")
	old, err := srv.CreateSession(id.ID,
		kratostest.WithSessionExpiresAt(time.Now().Add(-time.Minute)),
		kratostest.WithSessionMethod(client.CredentialsTypePassword, client.AAL1),
		kratostest.WithSessionMethod(client.CredentialsTypeTOTP, client.AAL2),
		kratostest.WithSessionDevice("203.0.113.7", "Mozilla/5.0", "Berlin, DE"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if old.Active || old.AuthenticatorAssuranceLevel != client.AAL2 || len(old.AuthenticationMethods) != 2 ||
		old.Devices[0].IPAddress != "203.0.113.7" || old.Devices[0].Location != "Berlin, DE" {
		t.Errorf("session %+v", old)
	}
	fresh, err := srv.CreateSession(id.ID)
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	active, err := c.Sessions.ListPage(t.Context(), &client.ListSessionsParams{Active: &yes})
	if err != nil {
		t.Fatal(err)
	}
	inactive, err := c.Sessions.ListPage(t.Context(), &client.ListSessionsParams{Active: &no})
	if err != nil {
		t.Fatal(err)
	}
	if len(active.Items) != 1 || active.Items[0].ID != fresh.ID || len(inactive.Items) != 1 || inactive.Items[0].ID != old.ID {
		t.Errorf("active %d inactive %d", len(active.Items), len(inactive.Items))
	}
	// faster_session_extend: 204, the client returns nil; the expired
	// session is active again.
	ext, err := c.Sessions.Extend(t.Context(), old.ID)
	if err != nil || ext != nil {
		t.Fatalf("extend: %v %v", ext, err)
	}
	got, err := c.Sessions.Get(t.Context(), old.ID, nil)
	if err != nil || !got.Active {
		t.Errorf("after extend: %+v %v", got, err)
	}
	// Kratos does not sign in inactive identities.
	if _, err := c.Identities.Patch(t.Context(), id.ID, []client.JSONPatch{client.PatchReplace("/state", "inactive")}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CreateSession(id.ID); err == nil {
		t.Error("CreateSession signed in an inactive identity")
	}
	if _, err := srv.CreateSession("9f7b2c3e-1111-4222-8333-444455556666"); err == nil {
		t.Error("CreateSession for an unknown identity")
	}
}

func TestBatchLimits(t *testing.T) {
	srv := kratostest.NewServer(t)
	items := func(n int, pw bool) string {
		var b strings.Builder
		b.WriteString(`{"identities":[`)
		for k := range n {
			if k > 0 {
				b.WriteByte(',')
			}
			cred := ""
			if pw {
				cred = `,"credentials":{"password":{"config":{"password":"pw"}}}`
			}
			fmt.Fprintf(&b, `{"create":{"schema_id":"default","traits":{"email":"b%d@example.org"}%s}}`, k, cred)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities", items(1001, false))
	if status != 400 || !strings.Contains(body, "The maximum number of identities per request that can be created or deleted at once is 1000.") {
		t.Errorf("1001 items: %d %s", status, body)
	}
	status, _, body = send(t, http.MethodPatch, srv.URL+"/admin/identities", items(201, true))
	if status != 400 || !strings.Contains(body, "with a plaintext password is 200.") {
		t.Errorf("201 plaintext passwords: %d %s", status, body)
	}
	if srv.IdentityCount() != 0 {
		t.Fatalf("a refused batch created %d identities", srv.IdentityCount())
	}
	// A whole batch fails on one bad state, before anything is created.
	status, _, body = send(t, http.MethodPatch, srv.URL+"/admin/identities",
		`{"identities":[{"create":{"schema_id":"default","traits":{"email":"ok@example.org"}}},{"create":{"schema_id":"default","traits":{"email":"x@example.org"},"state":"sleeping"}}]}`)
	if status != 400 || !strings.Contains(body, "identity state is not valid") || srv.IdentityCount() != 0 {
		t.Errorf("bad state: %d %s", status, body)
	}
	// 1000 items with pre-hashed passwords are fine; so are two items
	// with the same email, the second of which conflicts.
	status, _, body = send(t, http.MethodPatch, srv.URL+"/admin/identities", items(1000, false))
	if status != 200 || strings.Count(body, `"action":"create"`) != 1000 || srv.IdentityCount() != 1000 {
		t.Errorf("1000 items: %d, %d identities", status, srv.IdentityCount())
	}
	status, _, body = send(t, http.MethodPatch, srv.URL+"/admin/identities",
		`{"identities":[{"create":{"schema_id":"default","traits":{"email":"twin@example.org"}}},{"create":{"schema_id":"default","traits":{"email":"TWIN@example.org"}}},{"patch_id":"11111111-aaaa-4bbb-8ccc-000000000009"}]}`)
	want := `{"action":"error","error":{"code":409,"status":"Conflict","message":"Unable to insert or update resource because a resource with that value exists already"}},null]}`
	if status != 200 || !strings.HasSuffix(strings.TrimSpace(body), want) {
		t.Errorf("twins: %d %s", status, body)
	}
}

func TestPatchDenyList(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client()
	id := mustCreate(t, c, "patch@example.org").ID
	for _, path := range []string{"/id", "/ID", "/stateChangedAt", "/credentials", "/credentials/oidc/providers", "/CREDENTIALS/OIDC/config"} {
		status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, fmt.Sprintf(`[{"op":"replace","path":%q,"value":"x"}]`, path))
		if status != 400 || !strings.Contains(body, `"message":"patch includes denied path: `+path+`"`) {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}
	// Other paths below /credentials change the stored credentials
	// (recorded 235-243).
	hash := "$2a$08$wLHTJfcnwoOmbZLOnYQ9Ges8DIlHwdQuXsgNJPLVV3.NRm/5yQsGi"
	status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, fmt.Sprintf(`[{"op":"replace","path":"/credentials/password/config/hashed_password","value":%q}]`, hash))
	if status != 200 {
		t.Fatalf("hashed_password patch: %d %s", status, body)
	}
	got, err := c.Identities.Get(t.Context(), id, &client.GetIdentityParams{IncludeCredential: []client.IdentityCredentialsType{client.CredentialsTypePassword}})
	if err != nil || !strings.Contains(string(got.Credentials["password"].Config), hash) {
		t.Errorf("password after the patch: %v %+v", err, got)
	}
	for _, op := range []string{"move", "copy", "test"} {
		status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, fmt.Sprintf(`[{"op":%q,"path":"/traits/email","from":"/traits/email","value":"x"}]`, op))
		if status != 400 || !strings.Contains(body, "unsupported operation: "+op) {
			t.Errorf("%s: %d %s", op, status, body)
		}
	}
	// The real server's deny list says /stateChangedAt, so the snake_case
	// field can be patched.
	p, err := c.Identities.Patch(t.Context(), id, []client.JSONPatch{client.PatchReplace("/state_changed_at", "2020-01-02T03:04:05Z")})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.StateChangedAt.MustGet(); !got.Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("state_changed_at %v", got)
	}
	// A state change sets it again.
	p, err = c.Identities.Patch(t.Context(), id, []client.JSONPatch{client.PatchReplace("/state", "inactive")})
	if err != nil {
		t.Fatal(err)
	}
	if p.StateChangedAt.MustGet().Year() == 2020 {
		t.Error("state change kept the patched state_changed_at")
	}
	// Changing the email replaces the addresses and the identifiers.
	p, err = c.Identities.Patch(t.Context(), id, []client.JSONPatch{client.PatchReplace("/traits/email", "New@Example.org")})
	if err != nil {
		t.Fatal(err)
	}
	if p.VerifiableAddresses[0].Value != "new@example.org" || p.Credentials["password"].Identifiers[0] != "new@example.org" {
		t.Errorf("after email change: %+v %+v", p.VerifiableAddresses, p.Credentials)
	}
	if _, err := c.Identities.ListPage(t.Context(), &client.ListIdentitiesParams{CredentialsIdentifier: "patch@example.org"}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, "patch@example.org") // the old email is free again
}

// TestPatchSemantics pins what Kratos' JSON Patch library does beyond
// RFC 6902: null is a value, a replace of a missing key adds it (with its
// parents), and add/replace without a value fail to decode.
func TestPatchSemantics(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client()
	ctx := t.Context()
	id := mustCreate(t, c, "semantics@example.org").ID
	p, err := c.Identities.Patch(ctx, id, []client.JSONPatch{
		client.PatchReplace("/metadata_admin", map[string]int{"crm": 1}),
		client.PatchReplace("/metadata_public/a/b", "deep"), // parents created
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.MetadataAdmin) != `{"crm":1}` || string(p.MetadataPublic) != `{"a":{"b":"deep"}}` {
		t.Fatalf("metadata %s %s", p.MetadataAdmin, p.MetadataPublic)
	}
	p, err = c.Identities.Patch(ctx, id, []client.JSONPatch{client.PatchReplace("/metadata_admin", nil)})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.MetadataAdmin) != "null" {
		// The patched document still has the key: the answer shows it as
		// null (recorded 127, 128); a remove leaves it out (133).
		t.Fatalf(`replace with "value": null answered metadata_admin %q`, p.MetadataAdmin)
	}
	got, err := c.Identities.Get(ctx, id, nil)
	if err != nil || string(got.MetadataAdmin) != "null" {
		t.Fatalf("stored metadata_admin %s (%v)", got.MetadataAdmin, err)
	}
	for _, tc := range []struct{ body, message string }{
		{`[{"op":"add","path":"/metadata_public/x"}]`, `invalid operation {\"op\":\"add\",\"path\":\"/metadata_public/x\"}: failed to decode 'value': operation, missing value field: missing value`},
		{`[{"op":"frobnicate","path":"/x"}]`, `invalid operation {\"op\":\"frobnicate\",\"path\":\"/x\"}: unsupported operation`},
		{`[{"op":"remove","path":"/metadata_public/nope"}]`, `error in remove for path: '/metadata_public/nope': unable to remove nonexistent key: nope: missing value`},
		{`[{"op":"replace","path":"/verifiable_addresses/7","value":{}}]`, `replace operation does not apply: doc is missing key: /verifiable_addresses/7: missing value`},
	} {
		status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, tc.body)
		if status != 400 || !strings.Contains(body, `"message":"`+tc.message+`"`) {
			t.Errorf("%s: %d %s", tc.body, status, body)
		}
	}
}

const customSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "definitions": {
    "email": {
      "type": "string", "format": "email",
      "ory.sh/kratos": {
        "credentials": {"password": {"identifier": true}, "code": {"identifier": true, "via": "email"}},
        "verification": {"via": "email"}, "recovery": {"via": "email"}
      }
    }
  },
  "properties": {
    "traits": {
      "type": "object",
      "properties": {
        "emails": {"type": "array", "items": {"$ref": "#/definitions/email"}, "minItems": 1},
        "username": {"type": "string", "minLength": 3, "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}},
        "phone": {"type": "string", "pattern": "^\\+[0-9]+$", "ory.sh/kratos": {"credentials": {"code": {"identifier": true, "via": "sms"}}, "verification": {"via": "sms"}}},
        "kind": {"enum": ["person", "robot"]}
      },
      "required": ["emails"],
      "if": {"properties": {"kind": {"const": "robot"}}, "required": ["kind"]},
      "then": {"required": ["username"]}
    }
  }
}`

func TestCustomSchema(t *testing.T) {
	srv := kratostest.NewServer(t,
		kratostest.WithIdentitySchema("customer", []byte(customSchema)),
		kratostest.WithIdentitySchema("default", kratostest.DefaultIdentitySchema()),
	)
	c := srv.Client()
	ctx := t.Context()
	// Without schema_id (the client always sends one) the first schema is used.
	status, _, body := send(t, http.MethodPost, srv.URL+"/admin/identities",
		`{"traits":{"emails":["A@x.org","b@x.org"],"username":"Robo","phone":"+4917","kind":"robot"}}`)
	var i client.Identity
	if err := json.Unmarshal([]byte(body), &i); status != 201 || err != nil {
		t.Fatalf("%d %s", status, body)
	}
	if i.SchemaID != "customer" {
		t.Errorf("default schema %q, want the first one", i.SchemaID)
	}
	if got := i.Credentials["password"].Identifiers; !slices.Equal(got, []string{"a@x.org", "b@x.org", "robo"}) {
		t.Errorf("password identifiers %v", got)
	}
	if got := i.Credentials["code"].Identifiers; !slices.Equal(got, []string{"a@x.org", "b@x.org", "+4917"}) {
		t.Errorf("code identifiers %v", got)
	}
	if len(i.VerifiableAddresses) != 3 || i.VerifiableAddresses[2].Via != client.VerifiableAddressViaSMS || len(i.RecoveryAddresses) != 2 {
		t.Errorf("addresses %+v %+v", i.VerifiableAddresses, i.RecoveryAddresses)
	}
	for traits, reason := range map[string]string{
		`{"emails":["x@y.org"],"kind":"robot"}`: `I[#/traits] S[#/properties/traits/then/required] missing properties: "username"`,
		`{"emails":[]}`:                         `I[#/traits/emails] S[#/properties/traits/properties/emails/minItems] minimum 1 items allowed, but found 0 items`,
		`{"emails":["x@y.org"],"kind":"alien"}`: `I[#/traits/kind] S[#/properties/traits/properties/kind/enum] value must be one of "person", "robot"`,
		`{"emails":["x@y.org"],"phone":"12"}`:   `I[#/traits/phone] S[#/properties/traits/properties/phone/pattern] does not match pattern "^\\+[0-9]+$"`,
		`{"emails":[5]}`: "I[#/traits/emails/0] S[#/properties/traits/properties/emails/items/$ref] doesn't validate with \"#/definitions/email\"\n" +
			`  I[#/traits/emails/0] S[#/definitions/email/type] expected string, but got number`,
	} {
		_, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "customer", Traits: json.RawMessage(traits)})
		e := apiError(t, err, 400, "The request was malformed or contained invalid parameters")
		if e.Reason != reason {
			t.Errorf("%s:\n got  %s\n want %s", traits, e.Reason, reason)
		}
	}
	var ids []string
	for sc, err := range c.Schemas.List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sc.ID)
	}
	if !slices.Equal(ids, []string{"customer", "default"}) {
		t.Errorf("schemas %v", ids)
	}
	if _, err := kratostest.Start(kratostest.WithIdentitySchema("bad", []byte(`{"type": 5}`))); err == nil {
		t.Error("Start accepted an invalid schema")
	}
	if _, err := kratostest.Start(kratostest.WithIdentitySchema("remote", []byte(`{"$ref": "https://example.org/schema.json"}`))); err == nil {
		t.Error("Start accepted a remote reference")
	}
}

func TestImportedCredentials(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client()
	ctx := t.Context()
	hash := "$2a$10$TENWksmIMioQNBR2eHOp2eGQfrjDtl.0YxBX9dYx0CLR11k8rgmrO"
	i, err := c.Identities.Create(ctx, &client.CreateIdentityBody{
		SchemaID: "default", Traits: traits("import@example.org"),
		Credentials: client.IdentityWithCredentials{
			Password: client.ImportPasswordCredentials{Config: client.ImportPasswordConfig{HashedPassword: hash}},
			OIDC: client.ImportOIDCCredentials{Config: client.ImportOIDCConfig{Providers: []client.ImportOIDCProvider{
				{Provider: "google", Subject: "g-1"}, {Provider: "github", Subject: "gh-2"},
			}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := i.Credentials["oidc"].Identifiers; !slices.Equal(got, []string{"google:g-1", "github:gh-2"}) {
		t.Errorf("oidc identifiers %v", got)
	}
	// Kratos v26.2 imports password, oidc and saml only (recorded: 163).
	_, err = c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits("totp@example.org"),
		Credentials: client.IdentityWithCredentials{TOTP: client.ImportTOTPCredentials{Config: client.ImportTOTPConfig{TOTPURL: "otpauth://totp/x?secret=ABC"}}}})
	if e := apiError(t, err, 400, ""); e.Message != `json: unknown field "totp"` {
		t.Errorf("totp import: %q", e.Message)
	}
	// A JSON Patch adds a TOTP credential (recorded: 239).
	_, err = c.Identities.Patch(ctx, i.ID, []client.JSONPatch{client.PatchAdd("/credentials/totp", map[string]any{
		"type": "totp", "identifiers": []string{i.ID}, "config": map[string]string{"totp_url": "otpauth://totp/x?secret=ABC"}})})
	if err != nil {
		t.Fatal(err)
	}
	all := []client.IdentityCredentialsType{client.CredentialsTypePassword, client.CredentialsTypeOIDC, client.CredentialsTypeTOTP}
	got, err := c.Identities.Get(ctx, i.ID, &client.GetIdentityParams{IncludeCredential: all})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got.Credentials["password"].Config), hash) || !strings.Contains(string(got.Credentials["oidc"].Config), `"initial_id_token":""`) ||
		!strings.Contains(string(got.Credentials["totp"].Config), "otpauth://") {
		t.Errorf("configs %s %s %s", got.Credentials["password"].Config, got.Credentials["oidc"].Config, got.Credentials["totp"].Config)
	}
	// oidc needs the identifier of the link to remove.
	err = c.Identities.DeleteCredentials(ctx, i.ID, client.CredentialsTypeOIDC, nil)
	apiError(t, err, 400, "")
	err = c.Identities.DeleteCredentials(ctx, i.ID, client.CredentialsTypeOIDC, &client.DeleteIdentityCredentialsParams{Identifier: "google:nope"})
	apiError(t, err, 404, "")
	if err := c.Identities.DeleteCredentials(ctx, i.ID, client.CredentialsTypeOIDC, &client.DeleteIdentityCredentialsParams{Identifier: "google:g-1"}); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []client.IdentityCredentialsType{client.CredentialsTypeTOTP, client.CredentialsTypePassword} {
		if err := c.Identities.DeleteCredentials(ctx, i.ID, typ, nil); err != nil {
			t.Errorf("deleting %s: %v", typ, err)
		}
	}
	got, err = c.Identities.Get(ctx, i.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Credentials["totp"]; ok || !slices.Equal(got.Credentials["oidc"].Identifiers, []string{"github:gh-2"}) {
		t.Errorf("credentials after deletions: %+v", got.Credentials)
	}
	// An unknown hash format and a too long password.
	_, err = c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits("hash@example.org"),
		Credentials: client.IdentityWithCredentials{Password: client.ImportPasswordCredentials{Config: client.ImportPasswordConfig{HashedPassword: "plain"}}}})
	e := apiError(t, err, 400, "")
	if !strings.HasPrefix(e.Reason, "The imported password does not match any known hash format.") {
		t.Errorf("reason %q", e.Reason)
	}
	// The same provider link on two identities is a conflict.
	_, err = c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits("other@example.org"),
		Credentials: client.IdentityWithCredentials{OIDC: client.ImportOIDCCredentials{Config: client.ImportOIDCConfig{Providers: []client.ImportOIDCProvider{{Provider: "github", Subject: "gh-2"}}}}}})
	apiError(t, err, 409, "")
}

func TestRecoveryRules(t *testing.T) {
	noRecovery := `{"type":"object","properties":{"traits":{"type":"object","properties":{"username":{"type":"string","ory.sh/kratos":{"credentials":{"password":{"identifier":true}}}}}}}}`
	srv := kratostest.NewServer(t,
		kratostest.WithIdentitySchema("plain", []byte(noRecovery)),
		kratostest.WithIdentitySchema("default", kratostest.DefaultIdentitySchema()),
		kratostest.WithAllowedReturnURLs("https://app.example.org/"),
		kratostest.WithRecoveryUIURL("https://app.example.org/recovery"),
	)
	c := srv.Client()
	ctx := t.Context()
	withEmail := mustCreate(t, c, "rec@example.org")
	plain, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "plain", Traits: json.RawMessage(`{"username":"u"}`)})
	if err != nil {
		t.Fatal(err)
	}
	code, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: plain.ID, FlowType: client.RecoveryFlowTypeAPI})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(code.RecoveryLink, "https://app.example.org/recovery?flow=") {
		t.Errorf("link %q", code.RecoveryLink)
	}
	_, err = c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: plain.ID}, nil)
	e := apiError(t, err, 400, "")
	if e.Reason != "The identity does not have any recovery addresses set." {
		t.Errorf("reason %q", e.Reason)
	}
	for rt, ok := range map[string]bool{
		"https://app.example.org/done":   true,
		srv.PublicURL + "/anywhere":      true,
		"https://evil.example.org/phish": false,
	} {
		_, err := c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: withEmail.ID}, &client.CreateRecoveryLinkForIdentityParams{ReturnTo: rt})
		if ok != (err == nil) {
			t.Errorf("return_to %s: %v", rt, err)
		}
	}
	status, _, body := send(t, http.MethodPost, srv.URL+"/admin/recovery/link", `{"identity_id":"`+withEmail.ID+`","expires_in":"1h30m"}`)
	if status != 200 {
		t.Errorf("compound expires_in on the link (outside the spec, accepted by Kratos): %d %s", status, body)
	}
}

func TestSeedAndBodyLimit(t *testing.T) {
	srv := kratostest.NewServer(t,
		kratostest.WithIdentities(
			client.CreateIdentityBody{SchemaID: "default", Traits: traits("seed1@example.org"), Credentials: withPassword("pw")},
			client.CreateIdentityBody{SchemaID: "default", Traits: traits("seed2@example.org"), ExternalID: "seed-2"},
		),
		kratostest.WithMaxBodyBytes(2048),
	)
	c := srv.Client()
	if srv.IdentityCount() != 2 {
		t.Fatalf("%d identities", srv.IdentityCount())
	}
	if _, err := c.Identities.GetByExternalID(t.Context(), "seed-2", nil); err != nil {
		t.Error(err)
	}
	big := json.RawMessage(`{"blob":"` + strings.Repeat("x", 4096) + `"}`)
	_, err := c.Identities.Create(t.Context(), &client.CreateIdentityBody{SchemaID: "default", Traits: traits("big@example.org"), MetadataPublic: big})
	apiError(t, err, 400, "http: request body too large")
	if _, err := kratostest.Start(kratostest.WithIdentities(client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"nope"}`)})); err == nil {
		t.Error("Start accepted an invalid seed identity")
	}
	if _, err := kratostest.Start(kratostest.WithMaxPageSize(0)); err == nil {
		t.Error("Start accepted WithMaxPageSize(0)")
	}
}

func TestMiddlewareInjectsFaults(t *testing.T) {
	var calls atomic.Int32
	srv := kratostest.NewServer(t, kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				// Not a spec answer; the fake does not check what
				// middleware writes.
				w.Header().Set("Retry-After", "0")
				http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	c := srv.Client(client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 2}))
	if _, err := c.Identities.ListPage(t.Context(), nil); err != nil {
		t.Fatalf("the retry did not get through: %v", err)
	}
	if calls.Load() != 2 {
		t.Errorf("%d calls", calls.Load())
	}
}

func TestStartWithoutTest(t *testing.T) {
	srv, err := kratostest.Start()
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client(client.WithoutRetries())
	mustCreate(t, c, "program@example.org")
	srv.Close()
	srv.Close() // twice is fine
	if _, err := c.Identities.ListPage(context.Background(), nil); err == nil {
		t.Error("a closed server answered")
	}
}

// TestConcurrentClients runs many clients at once (under -race in CI).
func TestConcurrentClients(t *testing.T) {
	srv := kratostest.NewServer(t)
	const workers, each = 8, 15
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := srv.Client()
			ctx := context.Background()
			for k := range each {
				email := fmt.Sprintf("w%d-%d@example.org", w, k)
				i, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits(email)})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := c.Identities.Patch(ctx, i.ID, []client.JSONPatch{client.PatchAdd("/metadata_public", map[string]int{"k": k})}); err != nil {
					t.Error(err)
				}
				if _, err := srv.CreateSession(i.ID); err != nil {
					t.Error(err)
				}
				if _, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: 5}); err != nil {
					t.Error(err)
				}
				if _, err := c.Sessions.ListPage(ctx, &client.ListSessionsParams{PageSize: 5, Expand: []client.SessionExpandable{client.SessionExpandIdentity}}); err != nil {
					t.Error(err)
				}
				// Everyone races for the same email; exactly one wins.
				_, _ = c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits("contested@example.org")})
				if k%3 == 0 {
					if err := c.Identities.Delete(ctx, i.ID); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	want := workers*each - workers*((each+2)/3) + 1
	if got := srv.IdentityCount(); got != want {
		t.Errorf("%d identities, want %d", got, want)
	}
	n := 0
	for _, err := range srv.Client().Identities.List(t.Context(), &client.ListIdentitiesParams{PageSize: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != want {
		t.Errorf("walked %d identities, want %d", n, want)
	}
}
