package bulk_test

// The import and export tests run against kratostest. This file starts it
// with the schemas those tests use and watches what reaches it: an
// observer, the innermost middleware, records every batch request the fake
// serves (its size, its plaintext passwords, the status the fake answered)
// and every identity the fake answered as created. Fault injection goes
// outside it, through kratostest.WithMiddleware, so that the observer sees
// what the fake itself was asked and answered.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// anonSchema marks no identifiers: its identities cannot be looked up.
var anonSchema = json.RawMessage(`{"type":"object","properties":{"traits":{"type":"object","properties":{"nickname":{"type":"string"}}}}}`)

// multiSchema has a list of email identifiers and a username.
var multiSchema = json.RawMessage(`{"properties":{"traits":{"properties":{
  "emails":{"type":"array","items":{"type":"string","ory.sh/kratos":{"credentials":{"password":{"identifier":true}}}}},
  "username":{"type":"string","ory.sh/kratos":{"credentials":{"password":{"identifier":true}}}}}}}}`)

// importFake starts kratostest with the default schema (the one Kratos
// was recorded with: traits.email is the identifier), "anon" and "multi".
// opts come first, so fault middlewares given there are outside the
// observer, which is returned.
func importFake(t testing.TB, opts ...kratostest.Option) (*kratostest.Server, *observer) {
	t.Helper()
	obs := &observer{creations: map[string]int{}}
	all := []kratostest.Option{
		kratostest.WithIdentitySchema(kratostest.DefaultSchemaID, kratostest.DefaultIdentitySchema()),
		kratostest.WithIdentitySchema("anon", anonSchema),
		kratostest.WithIdentitySchema("multi", multiSchema),
	}
	all = append(all, opts...)
	all = append(all, kratostest.WithMiddleware(obs.middleware))
	return kratostest.NewServer(t, all...), obs
}

// fakeClient is a client for srv with quick retries.
func fakeClient(srv *kratostest.Server, opts ...client.Option) *client.Client {
	return srv.Client(append([]client.Option{fastRetries(3)}, opts...)...)
}

// batchSeen is a batch request the fake served.
type batchSeen struct {
	size      int // identities in the request
	plaintext int // of which with a plaintext password
	status    int // the fake's answer
}

// observer records what reaches the fake and what it answers.
type observer struct {
	mu      sync.Mutex
	batches []batchSeen
	// creations counts, per identity (schema and canonical traits), the
	// times the fake answered it created, by POST or in a batch: more than
	// one is a duplicate.
	creations map[string]int
}

// createSeen is the part of a create body the observer looks at.
type createSeen struct {
	SchemaID    string          `json:"schema_id"`
	Traits      json.RawMessage `json:"traits"`
	Credentials struct {
		Password struct {
			Config struct {
				Password string `json:"password"`
			} `json:"config"`
		} `json:"password"`
	} `json:"credentials"`
}

func (c *createSeen) key() string { return c.SchemaID + " " + canonical(c.Traits) }

func (o *observer) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/identities" || (r.Method != http.MethodPatch && r.Method != http.MethodPost) {
			next.ServeHTTP(w, r)
			return
		}
		raw := readBody(r)
		var creates []createSeen
		if r.Method == http.MethodPatch {
			var body struct {
				Identities []struct {
					Create createSeen `json:"create"`
				} `json:"identities"`
			}
			_ = json.Unmarshal(raw, &body)
			for _, p := range body.Identities {
				creates = append(creates, p.Create)
			}
		} else {
			var c createSeen
			_ = json.Unmarshal(raw, &c)
			creates = append(creates, c)
		}
		tee := &teeWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(tee, r)

		o.mu.Lock()
		defer o.mu.Unlock()
		if r.Method == http.MethodPost {
			if tee.status == http.StatusCreated {
				o.creations[creates[0].key()]++
			}
			return
		}
		seen := batchSeen{size: len(creates), status: tee.status}
		for _, c := range creates {
			if c.Credentials.Password.Config.Password != "" {
				seen.plaintext++
			}
		}
		o.batches = append(o.batches, seen)
		var answer struct {
			Identities []struct {
				Action string `json:"action"`
			} `json:"identities"`
		}
		if tee.status == http.StatusOK && json.Unmarshal(tee.body.Bytes(), &answer) == nil {
			for k, res := range answer.Identities {
				if res.Action == "create" && k < len(creates) {
					o.creations[creates[k].key()]++
				}
			}
		}
	})
}

// teeWriter passes a response on and keeps a copy.
type teeWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.wrote = true
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// sizes returns the sizes of the batches the fake applied (answered 200),
// in the order they were served.
func (o *observer) sizes() []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []int
	for _, b := range o.batches {
		if b.status == http.StatusOK {
			out = append(out, b.size)
		}
	}
	return out
}

// served returns every batch request the fake served, whatever it answered.
func (o *observer) served() []batchSeen {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.batches)
}

// plaintextReceived counts the identities with a plaintext password in
// the batches the fake applied.
func (o *observer) plaintextReceived() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, b := range o.batches {
		if b.status == http.StatusOK {
			n += b.plaintext
		}
	}
	return n
}

// maxCreations is the most times the fake created one identity.
func (o *observer) maxCreations() (string, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	key, n := "", 0
	for k, c := range o.creations {
		if c > n {
			key, n = k, c
		}
	}
	return key, n
}

// readBody reads a request body and puts it back for the next handler.
func readBody(r *http.Request) []byte {
	raw, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return raw
}

// batchCount is the number of identities in a batch request; the body is
// restored for the next handler.
func batchCount(r *http.Request) int {
	var body struct {
		Identities []json.RawMessage `json:"identities"`
	}
	_ = json.Unmarshal(readBody(r), &body)
	return len(body.Identities)
}

// writeKratosError answers as Kratos answers errors. Middlewares use it
// for the faults they inject (a gateway's 504, a 429, ...).
func writeKratosError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "status": http.StatusText(status), "message": msg}})
}

// onServer is the server's state, read through the API.
type onServer struct {
	all  []*client.Identity
	byID map[string]*client.Identity
	// byEmail maps traits.email (lower-cased), the identifier of the
	// default schema, to its identity.
	byEmail map[string]*client.Identity
}

// listServer lists every identity on the server, with the configuration
// of the credentials of the included types (Kratos includes credentials in
// the list when include_credential is given). Listing is slow under the
// race detector (the fake checks every answer against the spec): list
// once per test.
func listServer(t testing.TB, c *client.Client, include ...client.IdentityCredentialsType) onServer {
	t.Helper()
	s := onServer{byID: map[string]*client.Identity{}, byEmail: map[string]*client.Identity{}}
	params := &client.ListIdentitiesParams{PageSize: 500, IncludeCredential: include}
	for i, err := range c.Identities.List(t.Context(), params) {
		require.NoError(t, err)
		s.all = append(s.all, i)
		if _, dup := s.byID[i.ID]; dup {
			t.Fatalf("identity %s listed twice", i.ID)
		}
		s.byID[i.ID] = i
		var traits struct {
			Email string `json:"email"`
		}
		if json.Unmarshal(i.Traits, &traits) == nil && traits.Email != "" {
			e := strings.ToLower(traits.Email)
			if other, dup := s.byEmail[e]; dup {
				t.Fatalf("email %q on identities %s and %s", e, other.ID, i.ID)
			}
			s.byEmail[e] = i
		}
	}
	return s
}

// hashOf returns the stored password hash of an identity listed or got
// with include_credential=password.
func hashOf(t testing.TB, i *client.Identity) string {
	t.Helper()
	var cfg struct {
		HashedPassword string `json:"hashed_password"`
	}
	if c, ok := i.Credentials[string(client.CredentialsTypePassword)]; ok && len(c.Config) > 0 {
		require.NoError(t, json.Unmarshal(c.Config, &cfg))
	}
	return cfg.HashedPassword
}

// byEmail looks an identity up by its identifier and gets it with its
// password configuration; ok is false when there is none.
func byEmail(t testing.TB, c *client.Client, email string) (*client.Identity, bool) {
	t.Helper()
	page, err := c.Identities.ListPage(t.Context(), &client.ListIdentitiesParams{CredentialsIdentifier: email})
	require.NoError(t, err)
	if len(page.Items) == 0 {
		return nil, false
	}
	require.Len(t, page.Items, 1)
	i, err := c.Identities.Get(t.Context(), page.Items[0].ID, &client.GetIdentityParams{IncludeCredential: []client.IdentityCredentialsType{client.CredentialsTypePassword, client.CredentialsTypeOIDC}})
	require.NoError(t, err)
	return i, true
}

// noDuplicates checks that the fake never created an identity twice (as
// the observer saw its answers), and that the server holds no two
// identities with the same schema and traits, by listing it. It returns
// the listing.
func noDuplicates(t *testing.T, c *client.Client, srv *kratostest.Server, obs *observer) onServer {
	t.Helper()
	key, n := obs.maxCreations()
	assert.LessOrEqual(t, n, 1, "%q was created %d times", key, n)
	s := listServer(t, c)
	assert.Len(t, s.all, srv.IdentityCount(), "listed identities")
	for k, n := range traitsCount(s) {
		assert.Equal(t, 1, n, "%q is on the server %d times", k, n)
	}
	return s
}

// traitsCount counts the identities on the server by schema and traits,
// to find duplicates of identities without identifiers.
func traitsCount(s onServer) map[string]int {
	m := map[string]int{}
	for _, i := range s.all {
		m[i.SchemaID+" "+canonical(i.Traits)]++
	}
	return m
}
