package bulk_test

// Hostile servers against the bulk walks (issue 19): page tokens that
// cycle end Export and the importer's settle walk with ErrPaginationLoop,
// as they end every walk (the one walker, client.WalkPages).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
)

const hostileID = "9fce9890-b047-44b5-8b6d-dfeffddfaf02"

// cyclingServer lists one identity per page with page tokens in a cycle
// ("" → A → B → C → A), and answers every batch item with a conflict.
func cyclingServer(t *testing.T) (*client.Client, *atomic.Int32) {
	t.Helper()
	next := map[string]string{"": "A", "A": "B", "B": "C", "C": "A"}
	var lists atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/admin/identities":
			lists.Add(1)
			tok := r.URL.Query().Get("page_token")
			w.Header().Set("Link", `</admin/identities?page_size=1&page_token=`+next[tok]+`>; rel="next"`)
			fmt.Fprintf(w, `[{"id":%q,"schema_id":"default","schema_url":"","state":"active","traits":{"email":"other@example.org"},"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}]`, hostileID)
		case r.Method == http.MethodPatch && r.URL.Path == "/admin/identities":
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, `{"identities":[{"action":"error","error":{"code":409,"status":"Conflict","message":"an identity with the same identifier already exists"}}]}`)
		default:
			w.WriteHeader(404)
			_, _ = io.WriteString(w, `{"error":{"code":404,"message":"not found"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, client.WithoutRetries())
	if err != nil {
		t.Fatal(err)
	}
	return c, &lists
}

func TestHostileCyclingTokens(t *testing.T) {
	t.Run("Export", func(t *testing.T) {
		c, lists := cyclingServer(t)
		var last error
		for _, err := range bulk.Export(context.Background(), c, &bulk.ExportOptions{Filter: &client.ListIdentitiesParams{PageSize: 1}}) {
			last = err
		}
		if !errors.Is(last, client.ErrPaginationLoop) || lists.Load() != 4 {
			t.Fatalf("want ErrPaginationLoop after 4 pages, got %v after %d", last, lists.Load())
		}
	})
	t.Run("settle walk", func(t *testing.T) {
		// A conflicting item is looked for by a walk of the store; before
		// the one walker it asked 400 times and more, until a signal.
		c, lists := cyclingServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var outcome bulk.ImportOutcome
		items := func(yield func(client.CreateIdentityBody, error) bool) {
			yield(client.CreateIdentityBody{SchemaID: "default", Traits: []byte(`{"email":"victim@example.org"}`)}, nil)
		}
		sum, err := bulk.Import(ctx, c, items, &bulk.ImportOptions{OnOutcome: func(o bulk.ImportOutcome) { outcome = o }})
		if err != nil && ctx.Err() != nil {
			t.Fatalf("the import ran until its deadline: %v (%d list requests)", err, lists.Load())
		}
		// Each walk the importer makes (a probe, the settling) ends after
		// the cycle's four pages.
		if sum == nil || sum.Failed != 1 || !errors.Is(outcome.Err, client.ErrConflict) ||
			!strings.Contains(outcome.Err.Error(), "repeated a page token") || lists.Load() > 40 {
			t.Fatalf("want the item failed after a few list requests, got %+v, %v (%d list requests)", sum, outcome.Err, lists.Load())
		}
		t.Logf("outcome: %v after %d list requests", outcome.Err, lists.Load())
	})
}

// TestAlreadyPresentMeansTheSameIdentity: an identity found under an
// input item's identifier is "already present" only when it is what the
// input asks for (schema, traits, external id, state, metadata, password
// hash as stored); anything else is a *ConflictError naming the
// difference. Before, an attacker who registered victim@example.org with
// their own password made the import of the victim (their password, state
// inactive, admin metadata) report "1 already present".
func TestAlreadyPresentMeansTheSameIdentity(t *testing.T) {
	srv, _ := importFake(t)
	c := fakeClient(srv)
	ctx := ctxTimeout(t, 20*time.Second)
	attackerHash, err := bcrypt.GenerateFromPassword([]byte("attacker-pw"), 4)
	require.NoError(t, err)
	victimHash, err := bcrypt.GenerateFromPassword([]byte("victim-pw"), 4)
	require.NoError(t, err)
	traits := []byte(`{"email":"victim@example.org"}`)
	attacker := client.CreateIdentityBody{SchemaID: "default", Traits: traits}
	attacker.Credentials.Password.Config.HashedPassword = string(attackerHash)
	existing, err := c.Identities.Create(ctx, &attacker)
	require.NoError(t, err)

	victim := func(edit func(*client.CreateIdentityBody)) client.CreateIdentityBody {
		b := client.CreateIdentityBody{SchemaID: "default", Traits: traits}
		b.Credentials.Password.Config.HashedPassword = string(attackerHash)
		edit(&b)
		return b
	}
	for _, tc := range []struct {
		name       string
		body       client.CreateIdentityBody
		diff       string // "" : already present
		unverified bool
	}{
		{"the issue's import", victim(func(b *client.CreateIdentityBody) {
			b.Credentials.Password.Config = client.ImportPasswordConfig{Password: "victim-pw"}
			b.State = client.IdentityStateInactive
			b.MetadataAdmin = []byte(`{"role":"victim"}`)
		}), "state is", false},
		{"another hash", victim(func(b *client.CreateIdentityBody) {
			b.Credentials.Password.Config.HashedPassword = string(victimHash)
		}), "password hash differs", false},
		{"admin metadata", victim(func(b *client.CreateIdentityBody) { b.MetadataAdmin = []byte(`{"role":"admin"}`) }), "metadata_admin differs", false},
		{"public metadata", victim(func(b *client.CreateIdentityBody) { b.MetadataPublic = []byte(`{"a":1}`) }), "metadata_public differs", false},
		{"state", victim(func(b *client.CreateIdentityBody) { b.State = client.IdentityStateInactive }), "state is", false},
		{"an oidc link", victim(func(b *client.CreateIdentityBody) {
			b.Credentials.OIDC.Config.Providers = []client.ImportOIDCProvider{{Provider: "google", Subject: "victim-sub"}}
		}), "no oidc link", false},
		{"the same hash", victim(func(*client.CreateIdentityBody) {}), "", false},
		{"a plaintext password", victim(func(b *client.CreateIdentityBody) {
			b.Credentials.Password.Config = client.ImportPasswordConfig{Password: "whatever"}
		}), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got bulk.ImportOutcome
			sum, err := bulk.Import(ctx, c, seqOf(tc.body), &bulk.ImportOptions{OnOutcome: func(o bulk.ImportOutcome) { got = o }})
			require.NoError(t, err)
			if tc.diff == "" {
				require.Equal(t, bulk.ImportAlreadyPresent, got.Status, "%v", got.Err)
				assert.Equal(t, existing.ID, got.IdentityID)
				assert.Equal(t, tc.unverified, got.PasswordUnverified)
				assert.True(t, sum.OK())
				return
			}
			var ce *bulk.ConflictError
			require.ErrorAs(t, got.Err, &ce, "status %s", got.Status)
			assert.Equal(t, bulk.ImportFailed, got.Status)
			assert.Equal(t, existing.ID, ce.ExistingID)
			assert.Contains(t, ce.Difference, tc.diff)
			assert.ErrorIs(t, got.Err, client.ErrConflict)
			assert.False(t, sum.OK(), "a conflict is a failure: the CLI exits non-zero")
		})
	}
	// Pre-hashed here (a fresh salt), a plaintext password still counts
	// as plaintext: present, unverified, not a hash that differs.
	var got bulk.ImportOutcome
	_, err = bulk.Import(ctx, c, seqOf(victim(func(b *client.CreateIdentityBody) {
		b.Credentials.Password.Config = client.ImportPasswordConfig{Password: "whatever"}
	})), &bulk.ImportOptions{HashPasswords: true, HashCost: 4, OnOutcome: func(o bulk.ImportOutcome) { got = o }})
	require.NoError(t, err)
	assert.Equal(t, bulk.ImportAlreadyPresent, got.Status, "%v", got.Err)
	assert.True(t, got.PasswordUnverified)

	// The attacker's password still is the one stored: nothing was changed.
	idn, err := c.Identities.Get(ctx, existing.ID, &client.GetIdentityParams{IncludeCredential: []client.IdentityCredentialsType{client.CredentialsTypePassword}})
	require.NoError(t, err)
	assert.Contains(t, string(idn.Credentials["password"].Config), string(attackerHash))
}
