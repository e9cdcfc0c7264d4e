package client_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/client"
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

func TestExportImportRoundTrip(t *testing.T) {
	var gets atomic.Int32
	src := newFake(t, fakeMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/admin/identities/") {
				gets.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	}))
	const n = 120
	originals := varied(n)
	for _, b := range originals {
		src.seed(b)
	}
	c := src.client(t)

	var buf bytes.Buffer
	written, err := c.Identities.ExportJSONL(t.Context(), &buf, &client.ExportOptions{Credentials: true, Filter: &client.ListIdentitiesParams{PageSize: 25}})
	require.NoError(t, err)
	assert.Equal(t, n, written)
	assert.Equal(t, n, strings.Count(buf.String(), "\n"))
	assert.Equal(t, int32(n), gets.Load(), "the list has no credentials: each identity is fetched")
	assert.NotContains(t, buf.String(), `"id"`, "server ids are not exported")
	assert.NotContains(t, buf.String(), `"created_at"`)

	dst := newFake(t)
	o := &outcomes{}
	sum, err := dst.client(t).Identities.ImportJSONL(t.Context(), bytes.NewReader(buf.Bytes()), &client.ImportOptions{OnOutcome: o.add})
	require.NoError(t, err)
	accounted(t, n, sum, o)
	require.Equal(t, n, sum.Created)

	for i, want := range originals {
		a, apw, _ := src.byEmail(email(i))
		b, bpw, ok := dst.byEmail(email(i))
		require.True(t, ok, "identity %d not imported", i)
		assert.Equal(t, a.SchemaID, b.SchemaID)
		assert.JSONEq(t, string(a.Traits), string(b.Traits))
		assert.Equal(t, a.State, b.State)
		assert.Equal(t, a.ExternalID, b.ExternalID)
		assert.Equal(t, canonical(a.MetadataPublic), canonical(b.MetadataPublic), "item %d", i)
		assert.Equal(t, canonical(a.MetadataAdmin), canonical(b.MetadataAdmin))
		assert.Equal(t, apw, bpw)
		assert.Equal(t, want.Credentials.Password.Config.HashedPassword, bpw.HashedPassword)
		require.Len(t, b.VerifiableAddresses, len(a.VerifiableAddresses))
		for j := range a.VerifiableAddresses {
			x, y := a.VerifiableAddresses[j], b.VerifiableAddresses[j]
			assert.Equal(t, []any{x.Value, x.Verified, x.Via, x.Status}, []any{y.Value, y.Verified, y.Via, y.Status})
		}
		require.Len(t, b.RecoveryAddresses, len(a.RecoveryAddresses))
	}
	// OIDC links came along: the imported identities are found by them.
	page, err := dst.client(t).Identities.ListPage(t.Context(), &client.ListIdentitiesParams{CredentialsIdentifier: "google:sub-2", IncludeCredential: []client.IdentityCredentialsType{client.CredentialsTypeOIDC}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Contains(t, string(page.Items[0].Credentials["oidc"].Config), `"subject":"sub-2"`)
}

func TestExportWithoutCredentialsAndFiltered(t *testing.T) {
	var gets atomic.Int32
	f := newFake(t, fakeMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/admin/identities/") {
				gets.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	}))
	for _, b := range varied(10) {
		f.seed(b)
	}
	c := f.client(t)

	var bodies []*client.CreateIdentityBody
	for b, err := range c.Identities.Export(t.Context(), nil) {
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
	for b, err := range c.Identities.Export(t.Context(), &client.ExportOptions{Credentials: true, Filter: &client.ListIdentitiesParams{CredentialsIdentifier: email(5)}}) {
		require.NoError(t, err)
		bodies = append(bodies, b)
	}
	require.Len(t, bodies, 1)
	assert.Equal(t, varied(10)[5].Credentials.Password.Config.HashedPassword, bodies[0].Credentials.Password.Config.HashedPassword)
	assert.Zero(t, gets.Load(), "no per-identity fetch needed")
}

func TestExportStopsEarlyAndReportsErrors(t *testing.T) {
	var lists atomic.Int32
	f := newFake(t, fakeMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/admin/identities" && lists.Add(1) == 3 {
				writeErr(w, http.StatusBadRequest, "bad page token")
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	for i := range 50 {
		f.seed(person(i))
	}
	c := f.client(t)
	params := &client.ListIdentitiesParams{PageSize: 10}

	// Breaking out stops the walk; the fetches in flight end with it.
	n := 0
	for _, err := range c.Identities.Export(t.Context(), &client.ExportOptions{Credentials: true, Filter: params, Concurrency: 3}) {
		require.NoError(t, err)
		if n++; n == 5 {
			break
		}
	}
	assert.Equal(t, 5, n)

	// A failing page ends the export with one error, after the good pages.
	lists.Store(0)
	var buf bytes.Buffer
	written, err := c.Identities.ExportJSONL(t.Context(), &buf, &client.ExportOptions{Credentials: true, Filter: params})
	var pe *client.PageError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, client.ErrBadRequest)
	assert.Equal(t, 20, written)
	assert.Equal(t, 20, strings.Count(buf.String(), "\n"), "what was exported is written out")
}
