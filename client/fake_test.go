package client_test

// A small in-memory Kratos double for the import and export tests. It
// models what those tests rely on: the batch endpoint's limits, strict
// decoding, whole-request 400s, per-item 409s, credentials identifiers,
// keyset pagination with credentials only in filtered lists, external ids
// and identity schemas. When kratostest lands, newFake(t, fakeMiddleware(mw))
// becomes kratostest.New(t, kratostest.WithMiddleware(mw)) and the helper
// methods (createdCount, byEmail, ...) map onto its inspection API.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/gen"
)

type fakeIdentity struct {
	identity   client.Identity
	password   client.ImportPasswordConfig
	oidc       []client.ImportOIDCProvider
	identifier []string
}

type fakeKratos struct {
	srv *httptest.Server

	mu         sync.Mutex
	order      []string // ids in creation order
	byID       map[string]*fakeIdentity
	byIdent    map[string]string
	byExt      map[string]string
	creations  map[string]int // identifier or external id -> times created
	batchSizes []int
	plaintext  int // identities received with a plaintext password
	seq        int
}

type fakeOption func(*fakeConfig)

type fakeConfig struct {
	mw func(http.Handler) http.Handler
}

// fakeMiddleware wraps the fake's handler, for fault injection (the
// counterpart of kratostest.WithMiddleware).
func fakeMiddleware(mw func(http.Handler) http.Handler) fakeOption {
	return func(c *fakeConfig) { c.mw = mw }
}

func newFake(t testing.TB, opts ...fakeOption) *fakeKratos {
	t.Helper()
	f := startDouble(opts...)
	t.Cleanup(f.srv.Close)
	return f
}

// startDouble starts a double that the caller closes (f.srv.Close).
func startDouble(opts ...fakeOption) *fakeKratos {
	var cfg fakeConfig
	for _, o := range opts {
		o(&cfg)
	}
	f := &fakeKratos{
		byID:      map[string]*fakeIdentity{},
		byIdent:   map[string]string{},
		byExt:     map[string]string{},
		creations: map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("PATCH /admin/identities", f.batch)
	mux.HandleFunc("POST /admin/identities", f.create)
	mux.HandleFunc("GET /admin/identities", f.list)
	mux.HandleFunc("GET /admin/identities/{id}", f.get)
	mux.HandleFunc("GET /admin/identities/by/external/{ext}", f.getByExternal)
	mux.HandleFunc("DELETE /admin/identities/{id}", f.delete)
	mux.HandleFunc("GET /admin/identities/{id}/sessions", f.sessions)
	mux.HandleFunc("GET /schemas/{id}", f.schema)
	var h http.Handler = mux
	if cfg.mw != nil {
		h = cfg.mw(h)
	}
	f.srv = httptest.NewServer(h)
	return f
}

// client returns a client for the fake with quick retries.
func (f *fakeKratos) client(t testing.TB, opts ...client.Option) *client.Client {
	t.Helper()
	opts = append([]client.Option{client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: 2 * time.Second})}, opts...)
	c, err := client.New(f.srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var defaultSchema = func() json.RawMessage {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "exchanges", "044-getIdentitySchema-ok.json"))
	if err != nil {
		panic(err)
	}
	var ex struct {
		Response struct {
			Body json.RawMessage `json:"body"`
		} `json:"response"`
	}
	if err := json.Unmarshal(raw, &ex); err != nil {
		panic(err)
	}
	return ex.Response.Body
}()

func writeErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "status": http.StatusText(status), "message": msg}})
}

func writeJSONValue(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// validate checks a create body as the server does before any insert:
// a failure here fails the whole batch (the real server's behaviour).
func validateBody(b *client.CreateIdentityBody) error {
	if b.State != "" && !b.State.Valid() {
		return fmt.Errorf("invalid state %q", b.State)
	}
	if h := b.Credentials.Password.Config.HashedPassword; h != "" && !client.IsPasswordHash(h) {
		return fmt.Errorf("unable to import hashed password: the hash does not match any known hash format")
	}
	return nil
}

// itemError is a per-item validation failure (schema, traits).
func (f *fakeKratos) itemError(b *client.CreateIdentityBody) (int, string) {
	switch b.SchemaID {
	case "default":
		var traits struct {
			Email string `json:"email"`
		}
		if json.Unmarshal(b.Traits, &traits) != nil || !strings.Contains(traits.Email, "@") {
			return 400, "I[#/traits/email] validation failed"
		}
	case "anon":
	default:
		return 400, "Unable to find JSON Schema ID: " + b.SchemaID
	}
	return 0, ""
}

func identifiersOf(b *client.CreateIdentityBody) []string {
	var ids []string
	if b.SchemaID == "default" {
		var traits struct {
			Email string `json:"email"`
		}
		_ = json.Unmarshal(b.Traits, &traits)
		ids = append(ids, strings.ToLower(strings.TrimSpace(traits.Email)))
	}
	for _, p := range b.Credentials.OIDC.Config.Providers {
		ids = append(ids, p.Provider+":"+p.Subject)
	}
	return ids
}

// insert creates an identity, or returns 409 on a unique violation.
// Callers hold f.mu.
func (f *fakeKratos) insert(b *client.CreateIdentityBody) (*fakeIdentity, int, string) {
	if status, msg := f.itemError(b); status != 0 {
		return nil, status, msg
	}
	ids := identifiersOf(b)
	for _, id := range ids {
		if _, ok := f.byIdent[id]; ok {
			return nil, 409, "Unable to insert or update resource because a resource with that value exists already"
		}
	}
	if b.ExternalID != "" {
		if _, ok := f.byExt[b.ExternalID]; ok {
			return nil, 409, "Unable to insert or update resource because a resource with that value exists already"
		}
	}
	f.seq++
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", f.seq)
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	state := b.State
	if state == "" {
		state = client.IdentityStateActive
	}
	fi := &fakeIdentity{
		identity: client.Identity{
			ID: id, SchemaID: b.SchemaID, SchemaURL: "http://127.0.0.1:4433/schemas/" + b.SchemaID,
			State: state, Traits: bytes.Clone(b.Traits), ExternalID: b.ExternalID,
			MetadataPublic: bytes.Clone(b.MetadataPublic), MetadataAdmin: bytes.Clone(b.MetadataAdmin),
			CreatedAt: now, UpdatedAt: now, OrganizationID: client.NewNull[string](),
		},
		password:   b.Credentials.Password.Config,
		oidc:       b.Credentials.OIDC.Config.Providers,
		identifier: ids,
	}
	if fi.identity.MetadataPublic == nil {
		fi.identity.MetadataPublic = client.Null
	}
	for _, a := range b.VerifiableAddresses {
		a.ID, a.Value = fmt.Sprintf("00000000-0000-4000-9000-%012d", f.seq), strings.ToLower(a.Value)
		a.CreatedAt, a.UpdatedAt = now, now
		fi.identity.VerifiableAddresses = append(fi.identity.VerifiableAddresses, a)
	}
	for _, a := range b.RecoveryAddresses {
		a.ID, a.Value = fmt.Sprintf("00000000-0000-4000-a000-%012d", f.seq), strings.ToLower(a.Value)
		a.CreatedAt, a.UpdatedAt = now, now
		fi.identity.RecoveryAddresses = append(fi.identity.RecoveryAddresses, a)
	}
	if fi.password.Password != "" {
		f.plaintext++
		// The real server hashes it; the double keeps a recognisable stand-in.
		fi.password = client.ImportPasswordConfig{HashedPassword: "$fake-server-hash$" + fi.password.Password}
	}
	f.byID[id] = fi
	f.order = append(f.order, id)
	for _, k := range ids {
		f.byIdent[k] = id
		f.creations[k]++
	}
	if b.ExternalID != "" {
		f.byExt[b.ExternalID] = id
		f.creations["external_id "+b.ExternalID]++
	}
	return fi, 0, ""
}

func (f *fakeKratos) batch(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var body gen.PatchIdentitiesBody
	if err := dec.Decode(&body); err != nil {
		writeErr(w, 400, err.Error())
		return
	}
	if len(body.Identities) > client.MaxBatchSize {
		writeErr(w, 400, "The maximum number of identities per request that can be created or deleted at once is 1000.")
		return
	}
	plaintext := 0
	for i := range body.Identities {
		c := &body.Identities[i].Create
		if err := validateBody(c); err != nil {
			writeErr(w, 400, err.Error())
			return
		}
		if c.Credentials.Password.Config.Password != "" {
			plaintext++
		}
	}
	if plaintext > client.MaxBatchPlaintextPassword {
		writeErr(w, 400, "The maximum number of identities per request that can be created with a plaintext password is 200.")
		return
	}
	f.mu.Lock()
	f.batchSizes = append(f.batchSizes, len(body.Identities))
	out := gen.BatchPatchIdentitiesResponse{Identities: make([]gen.IdentityPatchResponse, len(body.Identities))}
	for i := range body.Identities {
		p := &body.Identities[i]
		res := gen.IdentityPatchResponse{Action: gen.IdentityPatchResponseActionCreate, PatchID: p.PatchID}
		if fi, status, msg := f.insert(&p.Create); fi == nil {
			res.Action = gen.IdentityPatchResponseActionError
			res.Error = gen.GenericError{Code: int64(status), Status: http.StatusText(status), Message: msg}
		} else {
			res.Identity = fi.identity.ID
		}
		out.Identities[i] = res
	}
	f.mu.Unlock()
	writeJSONValue(w, 200, out)
}

func (f *fakeKratos) create(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var body client.CreateIdentityBody
	if err := dec.Decode(&body); err != nil {
		writeErr(w, 400, err.Error())
		return
	}
	if err := validateBody(&body); err != nil {
		writeErr(w, 400, err.Error())
		return
	}
	f.mu.Lock()
	fi, status, msg := f.insert(&body)
	var out client.Identity
	if fi != nil {
		out = f.render(fi, nil, false)
	}
	f.mu.Unlock()
	if fi == nil {
		writeErr(w, status, msg)
		return
	}
	writeJSONValue(w, 201, out)
}

// render returns an identity as the server shows it: credentials without
// their configuration unless their type is included.
func (f *fakeKratos) render(fi *fakeIdentity, include []string, withCredentials bool) client.Identity {
	out := fi.identity
	if !withCredentials {
		return out
	}
	out.Credentials = map[string]client.IdentityCredentials{}
	if fi.password != (client.ImportPasswordConfig{}) {
		c := client.IdentityCredentials{Type: client.CredentialsTypePassword, Identifiers: fi.identifier[:min(1, len(fi.identifier))]}
		if slices.Contains(include, "password") {
			c.Config, _ = json.Marshal(map[string]any{"hashed_password": fi.password.HashedPassword})
		}
		out.Credentials["password"] = c
	}
	if len(fi.oidc) > 0 {
		c := client.IdentityCredentials{Type: client.CredentialsTypeOIDC}
		var providers []map[string]any
		for _, p := range fi.oidc {
			c.Identifiers = append(c.Identifiers, p.Provider+":"+p.Subject)
			providers = append(providers, map[string]any{"provider": p.Provider, "subject": p.Subject})
		}
		if slices.Contains(include, "oidc") {
			c.Config, _ = json.Marshal(map[string]any{"providers": providers})
		}
		out.Credentials["oidc"] = c
	}
	return out
}

func (f *fakeKratos) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 250
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeErr(w, 400, "bad page_size")
			return
		}
		size = n
	}
	start := 0
	if v := q.Get("page_token"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "pt-"))
		if err != nil {
			writeErr(w, 400, "bad page_token")
			return
		}
		start = n
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := f.order
	filtered := false
	if ci := q.Get("credentials_identifier"); ci != "" {
		filtered = true
		ids = nil
		if id, ok := f.byIdent[strings.ToLower(ci)]; ok {
			ids = []string{id}
		}
	}
	var out []client.Identity
	end := min(len(ids), start+size)
	for _, id := range ids[min(start, len(ids)):end] {
		// Like the real server: credentials only with a credentials_identifier filter.
		out = append(out, f.render(f.byID[id], q["include_credential"], filtered))
	}
	if out == nil {
		out = []client.Identity{}
	}
	if end < len(ids) {
		next := url.Values{"page_size": {strconv.Itoa(size)}, "page_token": {"pt-" + strconv.Itoa(end)}}
		w.Header().Set("Link", `</admin/identities?`+next.Encode()+`>; rel="next"`)
	}
	writeJSONValue(w, 200, out)
}

func (f *fakeKratos) get(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	fi, ok := f.byID[r.PathValue("id")]
	var out client.Identity
	if ok {
		out = f.render(fi, r.URL.Query()["include_credential"], true)
	}
	f.mu.Unlock()
	if !ok {
		writeErr(w, 404, "Unable to locate the resource")
		return
	}
	writeJSONValue(w, 200, out)
}

func (f *fakeKratos) getByExternal(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	id, ok := f.byExt[r.PathValue("ext")]
	var out client.Identity
	if ok {
		out = f.render(f.byID[id], r.URL.Query()["include_credential"], true)
	}
	f.mu.Unlock()
	if !ok {
		writeErr(w, 404, "Unable to locate the resource")
		return
	}
	writeJSONValue(w, 200, out)
}

func (f *fakeKratos) delete(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("id")
	fi, ok := f.byID[id]
	if !ok {
		writeErr(w, 404, "Unable to locate the resource")
		return
	}
	delete(f.byID, id)
	f.order = slices.DeleteFunc(f.order, func(x string) bool { return x == id })
	for _, k := range fi.identifier {
		delete(f.byIdent, k)
	}
	delete(f.byExt, fi.identity.ExternalID)
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeKratos) sessions(w http.ResponseWriter, r *http.Request) {
	writeJSONValue(w, 200, []client.Session{})
}

func (f *fakeKratos) schema(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("id") {
	case "default":
		writeJSONValue(w, 200, defaultSchema)
	case "anon":
		writeJSONValue(w, 200, anonSchema)
	case "multi":
		writeJSONValue(w, 200, multiSchema)
	default:
		writeErr(w, 404, "schema not found")
	}
}

// Inspection helpers.

func (f *fakeKratos) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byID)
}

// maxCreations is the most times any identifier or external id was
// created: more than 1 means a duplicate.
func (f *fakeKratos) maxCreations() (string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key, n := "", 0
	for k, c := range f.creations {
		if c > n {
			key, n = k, c
		}
	}
	return key, n
}

func (f *fakeKratos) byEmail(email string) (client.Identity, client.ImportPasswordConfig, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.byIdent[strings.ToLower(email)]
	if !ok {
		return client.Identity{}, client.ImportPasswordConfig{}, false
	}
	fi := f.byID[id]
	return fi.identity, fi.password, true
}

// traitsCount counts the identities on the server by their traits
// (canonical JSON), to find duplicates of identities without identifiers.
func (f *fakeKratos) traitsCount() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]int{}
	for _, fi := range f.byID {
		m[canonical(fi.identity.Traits)]++
	}
	return m
}

func (f *fakeKratos) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.batchSizes)
}

func (f *fakeKratos) plaintextReceived() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.plaintext
}

// seed creates an identity directly.
func (f *fakeKratos) seed(b client.CreateIdentityBody) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, status, msg := f.insert(&b)
	if fi == nil {
		panic(fmt.Sprintf("seed: %d %s", status, msg))
	}
	return fi.identity.ID
}
