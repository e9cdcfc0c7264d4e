package client_test

// memKratos is a small in-memory stand-in for the Kratos admin API, just
// enough for the concurrency test: identities (create, get, update, patch
// of whole top-level fields, delete, keyset-paginated list with an ids
// filter), sessions that are never found, and one public schema. It tags
// every answer with an X-Request-Id and records the status it sent, and it
// answers the first GET, PUT or DELETE of each distinct request line with
// a 503, which the client's retries must absorb.
//
// It is not the fake server (kratostest, on another branch); once that
// lands, newConcurrencyBackend can return it instead.

import (
	"bytes"
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

const memSchema = `{"$id":"https://schemas.example/default.json","type":"object","properties":{"traits":{"type":"object"}}}`

type memIdentity struct {
	ID             string          `json:"id"`
	SchemaID       string          `json:"schema_id"`
	SchemaURL      string          `json:"schema_url"`
	State          string          `json:"state"`
	Traits         json.RawMessage `json:"traits"`
	MetadataPublic json.RawMessage `json:"metadata_public"`
	MetadataAdmin  json.RawMessage `json:"metadata_admin,omitempty"`
	OrganizationID *string         `json:"organization_id"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

type memKratos struct {
	mu         sync.Mutex
	identities map[string]*memIdentity
	next       int
	requestID  int
	sent       map[string]int  // X-Request-Id -> status
	seen       map[string]bool // request lines already failed once
}

func newMemKratos(t *testing.T) backend {
	m := &memKratos{identities: map[string]*memIdentity{}, sent: map[string]int{}, seen: map[string]bool{}}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return backend{
		URL:     srv.URL,
		Options: []client.Option{client.WithPublicURL(srv.URL)},
		Sent: func(id string) (int, bool) {
			m.mu.Lock()
			defer m.mu.Unlock()
			s, ok := m.sent[id]
			return s, ok
		},
	}
}

func (m *memKratos) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, body := m.handle(r, w.Header())
	m.mu.Lock()
	m.requestID++
	id := "req-" + strconv.Itoa(m.requestID)
	m.sent[id] = status
	m.mu.Unlock()
	w.Header().Set("X-Request-Id", id)
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}

func errorBody(status int, msg string) string {
	return fmt.Sprintf(`{"error":{"code":%d,"status":%q,"message":%q}}`, status, http.StatusText(status), msg)
}

func (m *memKratos) handle(r *http.Request, h http.Header) (int, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	line := r.Method + " " + r.RequestURI
	if r.Method != http.MethodPost && r.Method != http.MethodPatch && !m.seen[line] {
		m.seen[line] = true
		return 503, errorBody(503, "injected: try again")
	}
	var body []byte
	if r.Body != nil {
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		body = b.Bytes()
	}
	path := r.URL.Path
	switch {
	case path == "/schemas/default" && r.Method == http.MethodGet:
		return 200, memSchema
	case strings.HasPrefix(path, "/admin/sessions/"):
		return 404, errorBody(404, "Unable to locate the resource")
	case path == "/admin/identities" && r.Method == http.MethodPost:
		return m.create(body)
	case path == "/admin/identities" && r.Method == http.MethodGet:
		return m.list(r, h)
	case strings.HasPrefix(path, "/admin/identities/") && !strings.Contains(path[len("/admin/identities/"):], "/"):
		return m.one(r.Method, path[len("/admin/identities/"):], body)
	}
	return 404, errorBody(404, "no such route")
}

func (m *memKratos) create(body []byte) (int, string) {
	var in struct {
		SchemaID       string          `json:"schema_id"`
		Traits         json.RawMessage `json:"traits"`
		MetadataPublic json.RawMessage `json:"metadata_public"`
		State          string          `json:"state"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.SchemaID == "" || len(in.Traits) == 0 {
		return 400, errorBody(400, "The request was malformed or contained invalid parameters")
	}
	m.next++
	now := time.Now().UTC().Truncate(time.Second)
	id := &memIdentity{
		ID: fmt.Sprintf("00000000-0000-4000-8000-%012x", m.next), SchemaID: in.SchemaID, SchemaURL: "http://127.0.0.1:4433/schemas/ZGVmYXVsdA",
		State: "active", Traits: in.Traits, MetadataPublic: orNull(in.MetadataPublic), CreatedAt: now, UpdatedAt: now,
	}
	if in.State != "" {
		id.State = in.State
	}
	m.identities[id.ID] = id
	return 201, mustJSON(id)
}

func (m *memKratos) one(method, id string, body []byte) (int, string) {
	ident, ok := m.identities[id]
	if !ok {
		return 404, errorBody(404, "Unable to locate the resource")
	}
	switch method {
	case http.MethodGet:
		return 200, mustJSON(ident)
	case http.MethodDelete:
		delete(m.identities, id)
		return 204, ""
	case http.MethodPut:
		var in struct {
			SchemaID       string          `json:"schema_id"`
			Traits         json.RawMessage `json:"traits"`
			MetadataPublic json.RawMessage `json:"metadata_public"`
			State          string          `json:"state"`
		}
		if err := json.Unmarshal(body, &in); err != nil || len(in.Traits) == 0 {
			return 400, errorBody(400, "bad body")
		}
		cp := *ident
		cp.SchemaID, cp.Traits, cp.MetadataPublic = in.SchemaID, in.Traits, orNull(in.MetadataPublic)
		if in.State != "" {
			cp.State = in.State
		}
		cp.UpdatedAt = time.Now().UTC().Truncate(time.Second)
		m.identities[id] = &cp
		return 200, mustJSON(&cp)
	case http.MethodPatch:
		var ops []struct {
			Op    string          `json:"op"`
			Path  string          `json:"path"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(body, &ops); err != nil {
			return 400, errorBody(400, "bad patch")
		}
		cp := *ident
		for _, op := range ops {
			if op.Op != "replace" && op.Op != "add" {
				return 400, errorBody(400, "unsupported op")
			}
			switch op.Path {
			case "/metadata_public":
				cp.MetadataPublic = op.Value
			case "/traits":
				cp.Traits = op.Value
			default:
				return 400, errorBody(400, "unsupported path")
			}
		}
		m.identities[id] = &cp
		return 200, mustJSON(&cp)
	}
	return 405, errorBody(405, "method not allowed")
}

// list pages through the identities in id order; the page token is the id
// to start at (the first id at or after it, so a deleted one still works).
func (m *memKratos) list(r *http.Request, h http.Header) (int, string) {
	q := r.URL.Query()
	size := 250
	if s := q.Get("page_size"); s != "" {
		size, _ = strconv.Atoi(s)
	}
	var ids []string
	for id := range m.identities {
		if f := q["ids"]; len(f) == 0 || slices.Contains(f, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	start, _ := slices.BinarySearch(ids, q.Get("page_token"))
	end := min(start+size, len(ids))
	page := make([]*memIdentity, 0, end-start)
	for _, id := range ids[start:end] {
		page = append(page, m.identities[id])
	}
	if end < len(ids) {
		h.Set("Link", fmt.Sprintf(`</admin/identities?page_size=%d&page_token=%s>; rel="next"`, size, ids[end]))
	}
	return 200, mustJSON(page)
}

func orNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
