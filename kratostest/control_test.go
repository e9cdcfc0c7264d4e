package kratostest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// The control API: Reset, the journal, faults and seeded sessions, for Go
// callers (Server's methods) and over HTTP (/_fake/ on the admin port),
// one implementation behind both.

func seedBody(email string) client.CreateIdentityBody {
	return client.CreateIdentityBody{SchemaID: kratostest.DefaultSchemaID, Traits: traits(email)}
}

func TestResetRestoresTheSeededState(t *testing.T) {
	srv := kratostest.NewServer(t, kratostest.WithIdentities(seedBody("seed@example.org")))
	c := srv.Client()
	ctx := t.Context()
	before, err := c.Identities.ListPage(ctx, nil)
	if err != nil || len(before.Items) != 1 {
		t.Fatalf("seeded: %v %+v", err, before)
	}
	seeded := before.Items[0]
	// Change everything Reset puts back.
	other := mustCreate(t, c, "other@example.org")
	if _, err := c.Identities.Patch(ctx, seeded.ID, []client.JSONPatch{client.PatchReplace("/metadata_public", map[string]int{"x": 1})}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CreateSession(other.ID); err != nil {
		t.Fatal(err)
	}

	srv.Reset()
	if srv.SessionCount() != 0 || srv.QueryCounts() != (kratostest.QueryCounts{}) {
		t.Errorf("after Reset: %d sessions, counts %+v", srv.SessionCount(), srv.QueryCounts())
	}
	after, err := c.Identities.ListPage(ctx, nil)
	if err != nil || len(after.Items) != 1 {
		t.Fatalf("after Reset: %v %+v", err, after)
	}
	got := after.Items[0]
	if got.ID != seeded.ID || string(got.MetadataPublic) != "null" || !got.CreatedAt.Equal(seeded.CreatedAt) || !got.UpdatedAt.Equal(seeded.UpdatedAt) {
		t.Errorf("after Reset the seeded identity is %+v, want %+v", got, seeded)
	}
	// Its unique values are its own again: the other email is free.
	mustCreate(t, c, "other@example.org")

	// Over HTTP.
	status, _, body := send(t, http.MethodPost, srv.URL+"/_fake/reset", "")
	if status != http.StatusOK || strings.TrimSpace(body) != `{"identities":1}` || srv.IdentityCount() != 1 {
		t.Errorf("POST /_fake/reset: %d %s, %d identities", status, body, srv.IdentityCount())
	}
}

func TestFaultsFailMatchingRequests(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client(client.WithoutRetries())
	ctx := t.Context()
	id, err := srv.AddFault(kratostest.Fault{Method: "get", Path: "/admin/identities", Status: 503, Times: 1, Headers: map[string]string{"Retry-After": "7"}, Message: "maintenance"})
	if err != nil {
		t.Fatal(err)
	}
	status, h, body := send(t, http.MethodGet, srv.URL+"/admin/identities", "")
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || status != 503 || e.Error.Code != 503 || e.Error.Status != "Service Unavailable" || e.Error.Message != "maintenance" || h.Get("Retry-After") != "7" {
		t.Errorf("faulted GET: %d %v %s", status, h, body)
	}
	// Once only, and only GETs of that path.
	if _, err := c.Identities.ListPage(ctx, nil); err != nil {
		t.Errorf("after the fault's one time: %v", err)
	}
	rules := srv.Faults()
	if len(rules) != 1 || rules[0].ID != id || rules[0].Hits != 1 || rules[0].Remaining != 0 {
		t.Errorf("rules %+v", rules)
	}
	// GET /_fake/faults is Faults, in JSON that reads back into FaultRule.
	var listed struct{ Faults []kratostest.FaultRule }
	_, _, body = send(t, http.MethodGet, srv.URL+"/_fake/faults", "")
	if err := json.Unmarshal([]byte(body), &listed); err != nil || len(listed.Faults) != 1 || listed.Faults[0].ID != id ||
		listed.Faults[0].Hits != 1 || listed.Faults[0].Status != 503 || listed.Faults[0].Headers["Retry-After"] != "7" || listed.Faults[0].Method != "get" {
		t.Errorf("GET /_fake/faults: %v %s", err, body)
	}

	// A write applied, then its answer replaced: the identity exists.
	if _, err := srv.AddFault(kratostest.Fault{Method: "POST", Path: "/admin/identities", Status: 502, AfterApply: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits("applied@example.org")})
	if !errors.Is(err, client.ErrServerError) {
		t.Errorf("after-apply 502: %v", err)
	}
	if page, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{CredentialsIdentifier: "applied@example.org"}); err != nil || len(page.Items) != 1 {
		t.Errorf("the write behind the 502 was not applied: %v %+v", err, page)
	}

	// A dropped connection, before and after applying.
	if _, err := srv.AddFault(kratostest.Fault{Method: "POST", Path: "/admin/identities", Drop: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits("dropped@example.org")}); err == nil {
		t.Error("dropped connection: no error")
	}
	if _, err := srv.AddFault(kratostest.Fault{Method: "DELETE", Path: "/admin/identities/*", Drop: true, AfterApply: true, Times: 1}); err != nil {
		t.Fatal(err)
	}
	victim := mustCreate(t, c, "victim@example.org")
	if err := c.Identities.Delete(ctx, victim.ID); err == nil {
		t.Error("dropped after apply: no error")
	}
	if _, err := c.Identities.Get(ctx, victim.ID, nil); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("the delete behind the dropped connection was not applied: %v", err)
	}
	if srv.IdentityCount() != 1 {
		t.Errorf("%d identities, want 1: the one created behind the 502 (the dropped create was not applied, the dropped delete was)", srv.IdentityCount())
	}

	// Latency delays (a lower bound: the fault waits at least that long).
	srv.ClearFaults()
	if _, err := srv.AddFault(kratostest.Fault{Path: "/health/**", Latency: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if _, _, body := send(t, http.MethodGet, srv.URL+"/_fake/faults", ""); !strings.Contains(body, `"latency":"100ms"`) {
		t.Errorf("latency in JSON: %s", body)
	}
	start := time.Now()
	if status, _, _ := send(t, http.MethodGet, srv.PublicURL+"/health/alive", ""); status != 200 || time.Since(start) < 100*time.Millisecond {
		t.Errorf("latency fault: %d after %s", status, time.Since(start))
	}
	srv.ClearFaults()
	if len(srv.Faults()) != 0 {
		t.Errorf("after ClearFaults: %+v", srv.Faults())
	}
}

func TestFaultsRefusedWithTheReason(t *testing.T) {
	srv := kratostest.NewServer(t)
	for _, tc := range []struct {
		f    kratostest.Fault
		want string
	}{
		{kratostest.Fault{Path: "admin", Status: 500}, `path "admin": want a pattern starting with /`},
		{kratostest.Fault{Path: "/[", Status: 500}, "syntax error in pattern"},
		{kratostest.Fault{Path: "/x", Status: 200}, "status 200: want 400 to 599"},
		{kratostest.Fault{Path: "/x"}, "no effect"},
		{kratostest.Fault{Path: "/x", Status: 500, Drop: true}, "status and drop: choose one"},
		{kratostest.Fault{Path: "/x", Latency: time.Second, AfterApply: true}, "after_apply needs a status or drop"},
	} {
		if _, err := srv.AddFault(tc.f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.f, err, tc.want)
		}
	}
	for _, body := range []string{`{"path":"/x","status":500,"latency":"soon"}`, `{"path":"/x","stauts":500}`, `[{"path":"/x","status":500},{"path":"/y"}]`, `nope`} {
		status, h, b := send(t, http.MethodPost, srv.URL+"/_fake/faults", body)
		if status != 400 || h.Get("Content-Type") != "application/json" || !strings.Contains(b, `"code":400`) {
			t.Errorf("POST /_fake/faults %s: %d %s", body, status, b)
		}
	}
	if n := len(srv.Faults()); n != 0 {
		t.Errorf("%d faults added by refused requests (an array is all or none)", n)
	}
}

func TestJournalKeepsTheLatestRequests(t *testing.T) {
	srv := kratostest.NewServer(t, kratostest.WithJournalSize(3))
	c := srv.Client()
	mustCreate(t, c, "journal@example.org")
	send(t, http.MethodGet, srv.URL+"/admin/identities?page_size=2", "")
	send(t, http.MethodGet, srv.URL+"/_fake/requests", "") // not journaled
	send(t, http.MethodGet, srv.PublicURL+"/schemas/nope", "")
	send(t, http.MethodGet, srv.URL+"/admin/sessions/not-a-uuid", "")
	got := srv.Requests(false)
	type line struct {
		api, method, path, query string
		status                   int
	}
	var lines []line
	for _, r := range got {
		lines = append(lines, line{r.API, r.Method, r.Path, r.Query, r.Status})
		if r.RequestBody != "" || r.ResponseBody != "" || r.Time.IsZero() {
			t.Errorf("without bodies: %+v", r)
		}
	}
	want := []line{
		{"admin", "GET", "/admin/identities", "page_size=2", 200},
		{"public", "GET", "/schemas/nope", "", 404},
		{"admin", "GET", "/admin/sessions/not-a-uuid", "", 400},
	}
	if len(lines) != len(want) {
		t.Fatalf("journal %+v, want %+v", lines, want)
	}
	for k := range want {
		if lines[k] != want[k] {
			t.Errorf("journal[%d] %+v, want %+v", k, lines[k], want[k])
		}
	}
	if srv.RequestsDropped() != 1 {
		t.Errorf("dropped %d, want 1 (the create)", srv.RequestsDropped())
	}
	withBodies := srv.Requests(true)
	if !strings.Contains(withBodies[2].ResponseBody, `"code":400`) {
		t.Errorf("response body: %q", withBodies[2].ResponseBody)
	}

	// Bodies over HTTP, cut at 16 KiB; a dropped connection is status 0.
	srv.ClearRequests()
	if _, err := srv.AddFault(kratostest.Fault{Method: "PATCH", Path: "/admin/identities", Drop: true}); err != nil {
		t.Fatal(err)
	}
	long := `{"identities":[],"x":"` + strings.Repeat("a", 20<<10) + `"}`
	req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/admin/identities", strings.NewReader(long))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("dropped connection answered")
	}
	status, _, body := send(t, http.MethodGet, srv.URL+"/_fake/requests?bodies=true", "")
	var out struct {
		Requests []kratostest.Request `json:"requests"`
		Dropped  int64                `json:"dropped"`
		Capacity int                  `json:"capacity"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || status != 200 || out.Capacity != 3 {
		t.Fatalf("GET /_fake/requests: %d %v %s", status, err, body)
	}
	if len(out.Requests) == 0 {
		t.Fatalf("no request journaled: %s", body)
	}
	last := out.Requests[len(out.Requests)-1]
	if last.Status != 0 || last.Fault == 0 || len(last.RequestBody) != 16<<10 || !last.BodiesTruncated {
		t.Errorf("dropped request: status %d fault %d body %d bytes truncated %v", last.Status, last.Fault, len(last.RequestBody), last.BodiesTruncated)
	}
	if status, _, _ := send(t, http.MethodDelete, srv.URL+"/_fake/requests", ""); status != 204 || len(srv.Requests(false)) != 0 {
		t.Errorf("DELETE /_fake/requests: %d, %d left", status, len(srv.Requests(false)))
	}
}

func TestSeededSessionsReadLikeOthers(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client()
	ctx := t.Context()
	owner := mustCreate(t, c, "owner@example.org")
	seeded, err := srv.SeedSession(owner.ID, kratostest.WithSessionAAL(client.AAL2))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(seeded.SessionToken, "ory_st_") || seeded.Session.Identity == nil || seeded.Session.Identity.ID != owner.ID {
		t.Errorf("seeded %+v", seeded)
	}
	got, err := c.Sessions.Get(ctx, seeded.Session.ID, nil)
	if err != nil || !got.Active || got.AuthenticatorAssuranceLevel != client.AAL2 {
		t.Errorf("Sessions.Get: %v %+v", err, got)
	}
	// Over HTTP: an inactive one, with a device.
	status, _, body := send(t, http.MethodPost, srv.URL+"/_fake/sessions", `{"identity_id":"`+owner.ID+`","active":false,"devices":[{"ip_address":"10.0.0.1","user_agent":"curl/8","location":"Berlin"}]}`)
	var out kratostest.SeededSession
	if err := json.Unmarshal([]byte(body), &out); err != nil || status != 201 || out.SessionToken == "" || out.Session == nil || out.Session.Active {
		t.Fatalf("POST /_fake/sessions: %d %s", status, body)
	}
	var listed []string
	for sess, err := range c.Identities.ListSessions(ctx, owner.ID, nil) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, sess.ID)
		if sess.ID == out.Session.ID && (sess.Active || len(sess.Devices) != 1 || sess.Devices[0].Location != "Berlin") {
			t.Errorf("listed seeded session %+v", sess)
		}
	}
	if len(listed) != 2 {
		t.Errorf("identity sessions %v, want the 2 seeded", listed)
	}
	active, err := c.Sessions.ListPage(ctx, &client.ListSessionsParams{Active: ptr(true)})
	if err != nil || len(active.Items) != 1 || active.Items[0].ID != seeded.Session.ID {
		t.Errorf("active sessions: %v %+v", err, active)
	}
	for _, body := range []string{`{"identity_id":"nope"}`, `{"identity_id":"` + owner.ID + `","actve":true}`, `{"identity_id":"00000000-0000-4000-8000-000000000000"}`} {
		if status, _, b := send(t, http.MethodPost, srv.URL+"/_fake/sessions", body); status != 400 || !strings.Contains(b, "kratostest: ") {
			t.Errorf("POST /_fake/sessions %s: %d %s", body, status, b)
		}
	}
}

func TestControlAPINeedsTheToken(t *testing.T) {
	srv := kratostest.NewServer(t, kratostest.WithBearerToken("s3cret"))
	for _, rq := range []struct{ method, path string }{
		{"POST", "/_fake/reset"}, {"GET", "/_fake/requests"}, {"DELETE", "/_fake/requests"},
		{"GET", "/_fake/faults"}, {"POST", "/_fake/faults"}, {"DELETE", "/_fake/faults"}, {"POST", "/_fake/sessions"}, {"GET", "/_fake/nope"},
	} {
		status, h, body := send(t, rq.method, srv.URL+rq.path, "", "Authorization", "Bearer wrong")
		if status != 401 || h.Get("Content-Type") != "application/json" || !strings.Contains(body, `"code":401`) {
			t.Errorf("%s %s without the token: %d %s", rq.method, rq.path, status, body)
		}
	}
	if status, _, body := send(t, http.MethodGet, srv.URL+"/_fake/faults", "", "Authorization", "Bearer s3cret"); status != 200 || strings.TrimSpace(body) != `{"faults":[]}` {
		t.Errorf("with the token: %d %s", status, body)
	}
	// Unknown endpoints and methods; nothing of it on the public port.
	if status, _, body := send(t, http.MethodGet, srv.URL+"/_fake/nope", "", "Authorization", "Bearer s3cret"); status != 404 || !strings.Contains(body, `"code":404`) {
		t.Errorf("unknown control endpoint: %d %s", status, body)
	}
	if status, h, _ := send(t, http.MethodPut, srv.URL+"/_fake/faults", "", "Authorization", "Bearer s3cret"); status != 405 || h.Get("Allow") != "DELETE, GET, HEAD, POST" {
		t.Errorf("PUT /_fake/faults: %d Allow %q", status, h.Get("Allow"))
	}
	if status, _, _ := send(t, http.MethodPost, srv.PublicURL+"/_fake/reset", ""); status != 404 {
		t.Errorf("control API on the public port: %d", status)
	}
}

func ptr[T any](v T) *T { return &v }
