package main_test

// This test drives kratos-fake the way a test suite in another language
// would: it starts the program and speaks only HTTP and JSON to it (no
// kratostest or client import; internal/fakeprog only builds and starts
// the process). It resets the state, injects faults and observes them,
// seeds a session and reads the journal.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/internal/fakeprog"
)

const token = "control-token"

// call sends a JSON request with the token and decodes a JSON answer into
// out (when not nil); it returns the status, or 0 when the connection was
// dropped.
func call(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	// A new connection each time: a dropped connection stays dropped
	// (Go's client would resend an idempotent request on a reused one).
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

type identity struct {
	ID     string          `json:"id"`
	Traits json.RawMessage `json:"traits"`
}

type kratosError struct {
	Error struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestControlAPIOverHTTPOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts cmd/kratos-fake")
	}
	seed := filepath.Join(t.TempDir(), "seed.jsonl")
	if err := os.WriteFile(seed, []byte(`{"schema_id":"default","traits":{"email":"seed@example.org"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := fakeprog.Start(t, fakeprog.Build(t), "--admin", "127.0.0.1:0", "--public", "127.0.0.1:0", "--identities", seed, "--token", token)
	admin := p.AdminURL

	// Refused without the token, in Kratos' shape.
	resp, err := http.Post(admin+"/_fake/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var unauth kratosError
	_ = json.NewDecoder(resp.Body).Decode(&unauth)
	resp.Body.Close()
	if resp.StatusCode != 401 || unauth.Error.Code != 401 {
		t.Errorf("reset without the token: %d %+v", resp.StatusCode, unauth)
	}

	var seeded []identity
	if st := call(t, "GET", admin+"/admin/identities", "", &seeded); st != 200 || len(seeded) != 1 {
		t.Fatalf("seeded identities: %d %+v", st, seeded)
	}
	var created identity
	if st := call(t, "POST", admin+"/admin/identities", `{"schema_id":"default","traits":{"email":"new@example.org"}}`, &created); st != 201 {
		t.Fatalf("create: %d", st)
	}

	// Reset: the seeded identity, as it was, and nothing else.
	var reset struct{ Identities int }
	if st := call(t, "POST", admin+"/_fake/reset", "", &reset); st != 200 || reset.Identities != 1 {
		t.Errorf("reset: %d %+v", st, reset)
	}
	var after []identity
	if call(t, "GET", admin+"/admin/identities", "", &after); len(after) != 1 || after[0].ID != seeded[0].ID {
		t.Errorf("after reset: %+v, want %+v", after, seeded)
	}
	if st := call(t, "GET", admin+"/admin/identities/"+created.ID, "", nil); st != 404 {
		t.Errorf("identity created before the reset: %d, want 404", st)
	}

	// Start the journal from here.
	if st := call(t, "DELETE", admin+"/_fake/requests", "", nil); st != 204 {
		t.Errorf("clear the journal: %d", st)
	}

	// Faults: a 503 once on reads, a dropped connection after a create
	// was applied.
	var added struct {
		Faults []struct {
			ID        int    `json:"id"`
			Path      string `json:"path"`
			Hits      int    `json:"hits"`
			Remaining int    `json:"remaining"`
		} `json:"faults"`
	}
	st := call(t, "POST", admin+"/_fake/faults", `[
		{"method":"GET","path":"/admin/identities","status":503,"times":1,"message":"down for maintenance","headers":{"Retry-After":"3"}},
		{"method":"POST","path":"/admin/identities","drop":true,"after_apply":true,"times":1}
	]`, &added)
	if st != 201 || len(added.Faults) != 2 || added.Faults[0].Remaining != 1 {
		t.Fatalf("add faults: %d %+v", st, added)
	}
	var unavailable kratosError
	if st := call(t, "GET", admin+"/admin/identities", "", &unavailable); st != 503 || unavailable.Error.Code != 503 || unavailable.Error.Message != "down for maintenance" {
		t.Errorf("faulted list: %d %+v", st, unavailable)
	}
	if st := call(t, "GET", admin+"/admin/identities", "", nil); st != 200 {
		t.Errorf("list after the fault's one time: %d", st)
	}
	if st := call(t, "POST", admin+"/admin/identities", `{"schema_id":"default","traits":{"email":"lost@example.org"}}`, nil); st != 0 {
		t.Errorf("create with a dropped answer: %d, want a dropped connection", st)
	}
	var found []identity
	if call(t, "GET", admin+"/admin/identities?credentials_identifier=lost@example.org", "", &found); len(found) != 1 {
		t.Errorf("the create whose answer was dropped was not applied: %+v", found)
	}
	var rules struct {
		Faults []struct {
			ID   int `json:"id"`
			Hits int `json:"hits"`
		} `json:"faults"`
	}
	if call(t, "GET", admin+"/_fake/faults", "", &rules); len(rules.Faults) != 2 || rules.Faults[0].Hits != 1 || rules.Faults[1].Hits != 1 {
		t.Errorf("fault hits: %+v", rules)
	}
	if st := call(t, "DELETE", admin+"/_fake/faults", "", nil); st != 204 {
		t.Errorf("clear faults: %d", st)
	}

	// A session without a login, read through the admin API.
	var sess struct {
		SessionToken string `json:"session_token"`
		Session      struct {
			ID     string `json:"id"`
			Active bool   `json:"active"`
			AAL    string `json:"authenticator_assurance_level"`
		} `json:"session"`
	}
	if st := call(t, "POST", admin+"/_fake/sessions", `{"identity_id":"`+seeded[0].ID+`","aal":"aal2"}`, &sess); st != 201 || sess.SessionToken == "" || !sess.Session.Active || sess.Session.AAL != "aal2" {
		t.Fatalf("seed a session: %d %+v", st, sess)
	}
	var read struct {
		ID     string `json:"id"`
		Active bool   `json:"active"`
	}
	if st := call(t, "GET", admin+"/admin/sessions/"+sess.Session.ID, "", &read); st != 200 || read.ID != sess.Session.ID || !read.Active {
		t.Errorf("seeded session through the admin API: %d %+v", st, read)
	}

	// The journal: every request since it was cleared, oldest first,
	// control requests left out, faults and the dropped answer shown.
	var journal struct {
		Requests []struct {
			API          string `json:"api"`
			Method       string `json:"method"`
			Path         string `json:"path"`
			Query        string `json:"query"`
			Status       int    `json:"status"`
			Fault        int    `json:"fault"`
			RequestBody  string `json:"request_body"`
			ResponseBody string `json:"response_body"`
		} `json:"requests"`
		Capacity int `json:"capacity"`
	}
	if st := call(t, "GET", admin+"/_fake/requests?bodies=true", "", &journal); st != 200 || journal.Capacity != 1000 {
		t.Fatalf("journal: %d %+v", st, journal)
	}
	var lines []string
	for _, r := range journal.Requests {
		lines = append(lines, strings.TrimSpace(r.Method+" "+r.Path+" "+r.Query))
	}
	want := []string{
		"GET /admin/identities",
		"GET /admin/identities",
		"POST /admin/identities",
		"GET /admin/identities credentials_identifier=lost@example.org",
		"GET /admin/sessions/" + sess.Session.ID,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("journal:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	j := journal.Requests
	if j[0].Status != 503 || j[0].Fault != added.Faults[0].ID || j[1].Status != 200 || j[1].Fault != 0 {
		t.Errorf("faulted and plain list: %+v %+v", j[0], j[1])
	}
	if j[2].Status != 0 || j[2].Fault != added.Faults[1].ID || !strings.Contains(j[2].RequestBody, "lost@example.org") {
		t.Errorf("dropped create: %+v", j[2])
	}
	if !bytes.Contains([]byte(j[3].ResponseBody), []byte(`"lost@example.org"`)) || j[3].API != "admin" {
		t.Errorf("lookup: %+v", j[3])
	}
	if st := call(t, "DELETE", admin+"/_fake/requests", "", nil); st != 204 {
		t.Errorf("clear the journal: %d", st)
	}
	if call(t, "GET", admin+"/_fake/requests", "", &journal); len(journal.Requests) != 0 {
		t.Errorf("journal after clearing: %+v", journal.Requests)
	}
}
