package kratostest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Sessions: made directly, by the public login flow, listed and expired.

func TestPublicLoginFlow(t *testing.T) {
	srv := kratostest.NewServer(t)
	body := &client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"Login@example.org"}`)}
	body.Credentials.Password.Config.Password = "a-long-secret-passphrase"
	created, err := srv.Client().Identities.Create(t.Context(), body)
	if err != nil {
		t.Fatal(err)
	}
	flow := func() string {
		st, _, b := send(t, http.MethodGet, srv.PublicURL+"/self-service/login/api", "")
		var f struct {
			ID string `json:"id"`
			UI struct {
				Action string `json:"action"`
				Nodes  []any  `json:"nodes"`
			} `json:"ui"`
		}
		if err := json.Unmarshal([]byte(b), &f); err != nil || st != 200 || f.ID == "" || f.UI.Action != srv.PublicURL+"/self-service/login?flow="+f.ID || len(f.UI.Nodes) != 5 {
			t.Fatalf("flow: %d %s", st, b)
		}
		if !strings.Contains(b, `"context":{"name":"traits.email","title":"E-Mail"}`) {
			t.Errorf("identifier label: %s", b)
		}
		return f.ID
	}
	id := flow()
	login := func(identifier, password string) (int, string) {
		st, _, b := send(t, http.MethodPost, srv.PublicURL+"/self-service/login?flow="+id, `{"method":"password","identifier":"`+identifier+`","password":"`+password+`"}`)
		return st, b
	}
	if st, b := login("login@example.org", "wrong"); st != 400 || !strings.Contains(b, `"id":4000006`) || !strings.Contains(b, `"value":"login@example.org"`) {
		t.Errorf("wrong password: %d %s", st, b)
	}
	st, b := login("LOGIN@example.org", "a-long-secret-passphrase")
	var out struct {
		SessionToken string `json:"session_token"`
		Session      struct {
			ID       string `json:"id"`
			Identity struct {
				ID string `json:"id"`
			} `json:"identity"`
			Devices []struct {
				IPAddress string `json:"ip_address"`
			} `json:"devices"`
		} `json:"session"`
	}
	if err := json.Unmarshal([]byte(b), &out); err != nil || st != 200 || out.Session.Identity.ID != created.ID || !strings.HasPrefix(out.SessionToken, "ory_st_") ||
		len(out.Session.Devices) != 1 || !strings.HasPrefix(out.Session.Devices[0].IPAddress, "127.0.0.1:") {
		t.Fatalf("login: %d %s", st, b)
	}
	if srv.SessionCount() != 1 {
		t.Errorf("%d sessions", srv.SessionCount())
	}
	if st, b := login("login@example.org", "a-long-secret-passphrase"); st != 404 {
		t.Errorf("a used flow: %d %s", st, b)
	}
	if st, _, b := send(t, http.MethodPost, srv.PublicURL+"/self-service/login?flow=9f7b2c3e-1111-4222-8333-444455556666", `{"method":"password"}`); st != 404 {
		t.Errorf("unknown flow: %d %s", st, b)
	}
	id = flow()
	if st, b := login("nobody@example.org", "a-long-secret-passphrase"); st != 400 || !strings.Contains(b, `"id":4000006`) {
		t.Errorf("unknown identifier: %d %s", st, b)
	}
	for _, p := range []string{"/health/alive", "/health/ready"} {
		for _, base := range []string{srv.URL, srv.PublicURL} {
			if st, _, b := send(t, http.MethodGet, base+p, ""); st != 200 || b != `{"status":"ok"}`+"\n" {
				t.Errorf("%s%s: %d %q", base, p, st, b)
			}
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
