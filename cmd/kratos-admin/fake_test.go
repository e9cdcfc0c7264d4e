package main

// A compact Kratos double for the command's end-to-end tests: batch create
// with per-item conflicts, keyset-paginated lists, get (by id and external
// id), delete, sessions and the identity schema. When kratostest lands,
// newFake(t, mw) becomes kratostest.New(t, kratostest.WithMiddleware(mw))
// and the inspection helpers map onto its API.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

type fakeKratos struct {
	srv *httptest.Server

	mu        sync.Mutex
	order     []string
	byID      map[string]*client.Identity
	passwords map[string]string // id -> hashed password
	byEmail   map[string]string
	byExt     map[string]string
	auth      []string // Authorization headers seen
	seq       int
}

func newFake(t *testing.T, mw func(http.Handler) http.Handler) *fakeKratos {
	t.Helper()
	f := &fakeKratos{byID: map[string]*client.Identity{}, passwords: map[string]string{}, byEmail: map[string]string{}, byExt: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("PATCH /admin/identities", f.batch)
	mux.HandleFunc("GET /admin/identities", f.list)
	mux.HandleFunc("GET /admin/identities/{id}", f.get)
	mux.HandleFunc("GET /admin/identities/by/external/{ext}", f.getByExternal)
	mux.HandleFunc("DELETE /admin/identities/{id}", f.delete)
	mux.HandleFunc("GET /admin/identities/{id}/sessions", f.sessions)
	mux.HandleFunc("GET /schemas/default", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, json.RawMessage(`{"properties":{"traits":{"properties":{"email":{"type":"string","ory.sh/kratos":{"credentials":{"password":{"identifier":true}}}}}}}}`))
	})
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
	if mw != nil {
		h = mw(h)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "status": http.StatusText(status), "message": msg}})
}

func (f *fakeKratos) batch(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var body struct {
		Identities []client.IdentityPatch `json:"identities"`
	}
	if err := dec.Decode(&body); err != nil || len(body.Identities) > client.MaxBatchSize {
		writeErr(w, 400, fmt.Sprint("bad batch: ", err))
		return
	}
	type result struct {
		Action   string         `json:"action"`
		Identity string         `json:"identity,omitempty"`
		Error    map[string]any `json:"error,omitempty"`
	}
	f.mu.Lock()
	out := struct {
		Identities []result `json:"identities"`
	}{}
	for _, p := range body.Identities {
		id, status := f.insert(p.Create)
		if status != 0 {
			out.Identities = append(out.Identities, result{Action: "error", Error: map[string]any{"code": status, "message": http.StatusText(status)}})
			continue
		}
		out.Identities = append(out.Identities, result{Action: "create", Identity: id})
	}
	f.mu.Unlock()
	writeJSON(w, 200, out)
}

// insert creates an identity (callers hold f.mu).
func (f *fakeKratos) insert(b client.CreateIdentityBody) (string, int) {
	var traits struct {
		Email string `json:"email"`
	}
	if b.SchemaID != "default" || json.Unmarshal(b.Traits, &traits) != nil || !strings.Contains(traits.Email, "@") {
		return "", 400
	}
	email := strings.ToLower(traits.Email)
	if _, dup := f.byEmail[email]; dup {
		return "", 409
	}
	if _, dup := f.byExt[b.ExternalID]; dup && b.ExternalID != "" {
		return "", 409
	}
	f.seq++
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", f.seq)
	state := b.State
	if state == "" {
		state = client.IdentityStateActive
	}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	f.byID[id] = &client.Identity{ID: id, SchemaID: b.SchemaID, SchemaURL: "http://x/schemas/default", State: state,
		Traits: b.Traits, ExternalID: b.ExternalID, MetadataPublic: b.MetadataPublic, CreatedAt: now, UpdatedAt: now}
	f.order = append(f.order, id)
	f.byEmail[email] = id
	if b.ExternalID != "" {
		f.byExt[b.ExternalID] = id
	}
	pw := b.Credentials.Password.Config
	switch {
	case pw.HashedPassword != "":
		f.passwords[id] = pw.HashedPassword
	case pw.Password != "":
		f.passwords[id] = "$server$" + pw.Password
	}
	return id, 0
}

func (f *fakeKratos) render(id string, include []string, withCredentials bool) client.Identity {
	out := *f.byID[id]
	if hash, ok := f.passwords[id]; ok && withCredentials {
		c := client.IdentityCredentials{Type: client.CredentialsTypePassword}
		if slices.Contains(include, "password") {
			c.Config, _ = json.Marshal(map[string]string{"hashed_password": hash})
		}
		out.Credentials = map[string]client.IdentityCredentials{"password": c}
	}
	return out
}

func (f *fakeKratos) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("page_size"))
	if size <= 0 {
		size = 250
	}
	start, _ := strconv.Atoi(q.Get("page_token"))
	f.mu.Lock()
	defer f.mu.Unlock()
	ids, filtered := f.order, false
	if ci := q.Get("credentials_identifier"); ci != "" {
		ids, filtered = nil, true
		if id, ok := f.byEmail[strings.ToLower(ci)]; ok {
			ids = []string{id}
		}
	}
	end := min(len(ids), start+size)
	out := []client.Identity{}
	for _, id := range ids[min(start, end):end] {
		out = append(out, f.render(id, q["include_credential"], filtered))
	}
	if end < len(ids) {
		w.Header().Set("Link", fmt.Sprintf(`</admin/identities?page_size=%d&page_token=%d>; rel="next"`, size, end))
	}
	writeJSON(w, 200, out)
}

func (f *fakeKratos) get(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("id")
	if _, ok := f.byID[id]; !ok {
		writeErr(w, 404, "Unable to locate the resource")
		return
	}
	writeJSON(w, 200, f.render(id, r.URL.Query()["include_credential"], true))
}

func (f *fakeKratos) getByExternal(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.byExt[r.PathValue("ext")]
	if !ok {
		writeErr(w, 404, "Unable to locate the resource")
		return
	}
	writeJSON(w, 200, f.render(id, nil, true))
}

func (f *fakeKratos) delete(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("id")
	identity, ok := f.byID[id]
	if !ok {
		writeErr(w, 404, "Unable to locate the resource")
		return
	}
	var traits struct{ Email string }
	_ = json.Unmarshal(identity.Traits, &traits)
	delete(f.byEmail, strings.ToLower(traits.Email))
	delete(f.byExt, identity.ExternalID)
	delete(f.byID, id)
	f.order = slices.DeleteFunc(f.order, func(x string) bool { return x == id })
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeKratos) sessions(w http.ResponseWriter, r *http.Request) {
	t := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	writeJSON(w, 200, []client.Session{{
		ID: "5f1e0e1c-0000-4000-8000-000000000001", Active: true, AuthenticatorAssuranceLevel: client.AAL1,
		AuthenticatedAt: t, IssuedAt: t, ExpiresAt: t.Add(24 * time.Hour),
	}})
}

// Inspection helpers.

func (f *fakeKratos) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byID)
}

func (f *fakeKratos) password(email string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.passwords[f.byEmail[email]]
}

func (f *fakeKratos) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.order)
}

func (f *fakeKratos) authHeaders() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.auth)
}
