package bulk_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// varied returns identities using every field the export carries over.
func varied(n int) []client.CreateIdentityBody {
	var out []client.CreateIdentityBody
	for i := range n {
		b := person(i)
		switch i % 5 {
		case 0:
			b.Credentials.Password.Config.HashedPassword = "$2a$04$abcdefghijklmnopqrstuuJ0xLhVfvVb8y6PZ/CEBC6Ff4NsqE/6y"
			b.MetadataPublic = json.RawMessage(`{"plan":"free"}`)
			b.MetadataAdmin = json.RawMessage(`{"crm_id":4711}`)
		case 1:
			b.ExternalID = fmt.Sprintf("ext-%d", i)
			b.State = client.IdentityStateInactive
		case 2:
			b.Credentials.OIDC.Config.Providers = []client.ImportOIDCProvider{{Provider: "google", Subject: fmt.Sprintf("sub-%d", i)}}
		case 3:
			b.VerifiableAddresses = []client.VerifiableIdentityAddress{{Value: email(i), Verified: true, Via: client.VerifiableAddressViaEmail, Status: "completed"}}
			b.RecoveryAddresses = []client.RecoveryIdentityAddress{{Value: email(i), Via: "email"}}
		}
		b.Traits = json.RawMessage(fmt.Sprintf(`{"email":%q,"name":{"first":"F%d","last":"L%d"}}`, email(i), i, i))
		out = append(out, b)
	}
	return out
}

// countGets counts the requests for single identities.
func countGets(n *atomic.Int32) kratostest.Option {
	return kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/admin/identities/") {
				n.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
}

// listsWithoutCredentials makes the server ignore include_credential on
// GET /admin/identities, as Kratos did before lists took it: identities
// are then listed without their credentials, and the export fetches each.
func listsWithoutCredentials() kratostest.Option {
	return kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/admin/identities" {
				q := r.URL.Query()
				q.Del("include_credential")
				r = r.Clone(r.Context())
				r.URL.RawQuery = q.Encode()
			}
			next.ServeHTTP(w, r)
		})
	})
}

func TestExportImportRoundTrip(t *testing.T) {
	const n = 120
	originals := varied(n)
	// Both sources hold the same identities at the same times (verified
	// addresses carry verified_at).
	at := kratostest.WithClock(func() time.Time { return time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) })
	var gets atomic.Int32
	src, _ := importFake(t, at, kratostest.WithIdentities(originals...), countGets(&gets))
	c := fakeClient(src)

	var buf bytes.Buffer
	written, err := bulk.ExportJSONL(t.Context(), c, &buf, &bulk.ExportOptions{Credentials: true, Filter: &client.ListIdentitiesParams{PageSize: 25}})
	require.NoError(t, err)
	assert.Equal(t, n, written)
	assert.Equal(t, n, strings.Count(buf.String(), "\n"))
	assert.Zero(t, gets.Load(), "the list carries the credentials: nothing is fetched")
	assert.NotContains(t, buf.String(), `"id"`, "server ids are not exported")
	assert.NotContains(t, buf.String(), `"created_at"`)

	// A server whose lists leave the credentials out: each identity is
	// fetched, and the export is the same.
	var oldGets atomic.Int32
	old, _ := importFake(t, at, kratostest.WithIdentities(originals...), listsWithoutCredentials(), countGets(&oldGets))
	var oldBuf bytes.Buffer
	written, err = bulk.ExportJSONL(t.Context(), fakeClient(old), &oldBuf, &bulk.ExportOptions{Credentials: true, Filter: &client.ListIdentitiesParams{PageSize: 25}})
	require.NoError(t, err)
	assert.Equal(t, n, written)
	assert.Equal(t, int32(n), oldGets.Load(), "the list has no credentials: each identity is fetched")
	assert.Equal(t, sortedLines(buf.String()), sortedLines(oldBuf.String()))

	dst, obs := importFake(t)
	dc := fakeClient(dst)
	o := &outcomes{}
	sum, err := bulk.ImportJSONL(t.Context(), dc, bytes.NewReader(buf.Bytes()), &bulk.ImportOptions{OnOutcome: o.add})
	require.NoError(t, err)
	accounted(t, n, sum, o)
	require.Equal(t, n, sum.Created)
	noDuplicates(t, dc, dst, obs)

	withCreds := []client.IdentityCredentialsType{client.CredentialsTypePassword, client.CredentialsTypeOIDC}
	before, after := listServer(t, c, withCreds...), listServer(t, dc, withCreds...)
	require.Len(t, after.all, n)
	for i, want := range originals {
		a := before.byEmail[email(i)]
		b, ok := after.byEmail[email(i)]
		require.True(t, ok, "identity %d not imported", i)
		assert.Equal(t, a.SchemaID, b.SchemaID)
		assert.JSONEq(t, string(a.Traits), string(b.Traits))
		assert.Equal(t, a.State, b.State)
		assert.Equal(t, a.ExternalID, b.ExternalID)
		assert.Equal(t, canonical(a.MetadataPublic), canonical(b.MetadataPublic), "item %d", i)
		assert.Equal(t, canonical(a.MetadataAdmin), canonical(b.MetadataAdmin))
		assert.Equal(t, hashOf(t, a), hashOf(t, b))
		assert.Equal(t, want.Credentials.Password.Config.HashedPassword, hashOf(t, b))
		assert.Equal(t, providers(t, a), providers(t, b), "item %d", i)
		require.Len(t, b.VerifiableAddresses, len(a.VerifiableAddresses))
		for j := range a.VerifiableAddresses {
			x, y := a.VerifiableAddresses[j], b.VerifiableAddresses[j]
			assert.Equal(t, []any{x.Value, x.Verified, x.Via, x.Status}, []any{y.Value, y.Verified, y.Via, y.Status})
		}
		require.Len(t, b.RecoveryAddresses, len(a.RecoveryAddresses))
		for j := range a.RecoveryAddresses {
			x, y := a.RecoveryAddresses[j], b.RecoveryAddresses[j]
			assert.Equal(t, []any{x.Value, x.Via}, []any{y.Value, y.Via})
		}
	}
	// OIDC links came along: the imported identities are found by them.
	page, err := dc.Identities.ListPage(t.Context(), &client.ListIdentitiesParams{CredentialsIdentifier: "google:sub-2", IncludeCredential: []client.IdentityCredentialsType{client.CredentialsTypeOIDC}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Contains(t, string(page.Items[0].Credentials["oidc"].Config), `"subject":"sub-2"`)
}

// providers returns an identity's OIDC links as provider:subject.
func providers(t *testing.T, i *client.Identity) []string {
	t.Helper()
	var cfg struct {
		Providers []struct{ Provider, Subject string }
	}
	c, ok := i.Credentials[string(client.CredentialsTypeOIDC)]
	if !ok {
		return nil
	}
	require.NoError(t, json.Unmarshal(c.Config, &cfg))
	var out []string
	for _, p := range cfg.Providers {
		out = append(out, p.Provider+":"+p.Subject)
	}
	return out
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(lines)
	return lines
}

func TestExportWithoutCredentialsAndFiltered(t *testing.T) {
	var gets atomic.Int32
	srv, _ := importFake(t, kratostest.WithIdentities(varied(10)...), countGets(&gets))
	c := fakeClient(srv)

	var bodies []*client.CreateIdentityBody
	for b, err := range bulk.Export(t.Context(), c, nil) {
		require.NoError(t, err)
		bodies = append(bodies, b)
	}
	require.Len(t, bodies, 10)
	assert.Zero(t, gets.Load())
	for _, b := range bodies {
		assert.Zero(t, b.Credentials, "no credentials without ExportOptions.Credentials")
	}

	// Filtered by identifier, the list itself carries the credentials.
	bodies = nil
	for b, err := range bulk.Export(t.Context(), c, &bulk.ExportOptions{Credentials: true, Filter: &client.ListIdentitiesParams{CredentialsIdentifier: email(5)}}) {
		require.NoError(t, err)
		bodies = append(bodies, b)
	}
	require.Len(t, bodies, 1)
	assert.Equal(t, varied(10)[5].Credentials.Password.Config.HashedPassword, bodies[0].Credentials.Password.Config.HashedPassword)
	assert.Zero(t, gets.Load(), "no per-identity fetch needed")
}

func TestExportStopsEarlyAndReportsErrors(t *testing.T) {
	var lists atomic.Int32
	var seed []client.CreateIdentityBody
	for i := range 50 {
		seed = append(seed, person(i))
	}
	srv, _ := importFake(t, kratostest.WithIdentities(seed...), kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/admin/identities" && lists.Add(1) == 3 {
				writeKratosError(w, http.StatusBadRequest, "bad page token")
				return
			}
			next.ServeHTTP(w, r)
		})
	}), listsWithoutCredentials()) // so that identities are fetched, Concurrency at a time
	checkGoroutines := goroutines(t) // the server's own are running already
	tr := http.DefaultTransport.(*http.Transport).Clone()
	c := fakeClient(srv, client.WithHTTPClient(&http.Client{Transport: tr}))
	params := &client.ListIdentitiesParams{PageSize: 10}

	// Breaking out stops the walk; the fetches in flight end with it.
	n := 0
	for _, err := range bulk.Export(t.Context(), c, &bulk.ExportOptions{Credentials: true, Filter: params, Concurrency: 3}) {
		require.NoError(t, err)
		if n++; n == 5 {
			break
		}
	}
	assert.Equal(t, 5, n)
	tr.CloseIdleConnections()
	checkGoroutines()

	// A failing page ends the export with one error, after the good pages.
	lists.Store(0)
	var buf bytes.Buffer
	written, err := bulk.ExportJSONL(t.Context(), c, &buf, &bulk.ExportOptions{Credentials: true, Filter: params})
	var pe *client.PageError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, client.ErrBadRequest)
	assert.Equal(t, 20, written)
	assert.Equal(t, 20, strings.Count(buf.String(), "\n"), "what was exported is written out")
}
