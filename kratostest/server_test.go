package kratostest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Server options and the server as a whole: the bearer token, seed
// identities and the body limit, middleware, Start without a test,
// concurrent clients.

func TestBearerToken(t *testing.T) {
	srv := kratostest.NewServer(t, kratostest.WithBearerToken("s3cret"))
	status, h, body := send(t, http.MethodGet, srv.URL+"/admin/identities", "")
	if status != 401 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("without token: %d %s", status, body)
	}
	var e struct {
		Error struct {
			Code   int    `json:"code"`
			Status string `json:"status"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != 401 || e.Error.Status != "Unauthorized" {
		t.Errorf("401 body %s", body)
	}
	// Only the whole token passes (compared in constant time): not a
	// prefix, an extension, another case or another scheme.
	for _, h := range []string{"Bearer wrong", "Bearer s3cre", "Bearer s3cret2", "Bearer S3CRET", "bearer s3cret", "Basic s3cret", "s3cret", "Bearer  s3cret", ""} {
		if status, _, _ := send(t, http.MethodGet, srv.URL+"/admin/identities", "", "Authorization", h); status != 401 {
			t.Errorf("Authorization %q: %d, want 401", h, status)
		}
	}
	if status, _, body := send(t, http.MethodGet, srv.URL+"/admin/identities", "", "Authorization", "Bearer s3cret"); status != 200 {
		t.Errorf("the right token: %d %s", status, body)
	}
	c := srv.Client()
	mustCreate(t, c, "token@example.org")
	if _, err := c.Schemas.Get(t.Context(), "default"); err != nil {
		t.Errorf("schemas with the token client: %v", err)
	}
	bad, _ := client.New(srv.URL, client.WithBearerToken("wrong"), client.WithoutRetries())
	if _, err := bad.Identities.ListPage(t.Context(), nil); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("wrong token through the client: %v", err)
	}
	// Schemas need no token, on either port.
	if status, _, _ := send(t, http.MethodGet, srv.PublicURL+"/schemas", ""); status != 200 {
		t.Errorf("public schemas: %d", status)
	}
	if status, _, _ := send(t, http.MethodGet, srv.URL+"/schemas", ""); status != 307 {
		t.Errorf("admin schemas redirect: %d", status)
	}
}

const customSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "definitions": {
    "email": {
      "type": "string", "format": "email",
      "ory.sh/kratos": {
        "credentials": {"password": {"identifier": true}, "code": {"identifier": true, "via": "email"}},
        "verification": {"via": "email"}, "recovery": {"via": "email"}
      }
    }
  },
  "properties": {
    "traits": {
      "type": "object",
      "properties": {
        "emails": {"type": "array", "items": {"$ref": "#/definitions/email"}, "minItems": 1},
        "username": {"type": "string", "minLength": 3, "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}},
        "phone": {"type": "string", "pattern": "^\\+[0-9]+$", "ory.sh/kratos": {"credentials": {"code": {"identifier": true, "via": "sms"}}, "verification": {"via": "sms"}}},
        "kind": {"enum": ["person", "robot"]}
      },
      "required": ["emails"],
      "if": {"properties": {"kind": {"const": "robot"}}, "required": ["kind"]},
      "then": {"required": ["username"]}
    }
  }
}`

func TestSeedAndBodyLimit(t *testing.T) {
	srv := kratostest.NewServer(t,
		kratostest.WithIdentities(
			client.CreateIdentityBody{SchemaID: "default", Traits: traits("seed1@example.org"), Credentials: withPassword("pw")},
			client.CreateIdentityBody{SchemaID: "default", Traits: traits("seed2@example.org"), ExternalID: "seed-2"},
		),
		kratostest.WithMaxBodyBytes(2048),
	)
	c := srv.Client()
	if srv.IdentityCount() != 2 {
		t.Fatalf("%d identities", srv.IdentityCount())
	}
	if _, err := c.Identities.GetByExternalID(t.Context(), "seed-2", nil); err != nil {
		t.Error(err)
	}
	big := json.RawMessage(`{"blob":"` + strings.Repeat("x", 4096) + `"}`)
	_, err := c.Identities.Create(t.Context(), &client.CreateIdentityBody{SchemaID: "default", Traits: traits("big@example.org"), MetadataPublic: big})
	apiError(t, err, 400, "http: request body too large")
	if _, err := kratostest.Start(kratostest.WithIdentities(client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"nope"}`)})); err == nil {
		t.Error("Start accepted an invalid seed identity")
	}
	if _, err := kratostest.Start(kratostest.WithMaxPageSize(0)); err == nil {
		t.Error("Start accepted WithMaxPageSize(0)")
	}
}

func TestMiddlewareInjectsFaults(t *testing.T) {
	var calls atomic.Int32
	srv := kratostest.NewServer(t, kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				// Not a spec answer; the fake does not check what
				// middleware writes.
				w.Header().Set("Retry-After", "0")
				http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	c := srv.Client(client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 2}))
	if _, err := c.Identities.ListPage(t.Context(), nil); err != nil {
		t.Fatalf("the retry did not get through: %v", err)
	}
	if calls.Load() != 2 {
		t.Errorf("%d calls", calls.Load())
	}
}

func TestStartWithoutTest(t *testing.T) {
	srv, err := kratostest.Start()
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client(client.WithoutRetries())
	mustCreate(t, c, "program@example.org")
	srv.Close()
	srv.Close() // twice is fine
	if _, err := c.Identities.ListPage(context.Background(), nil); err == nil {
		t.Error("a closed server answered")
	}
}

// TestConcurrentClients runs many clients at once (under -race in CI).
func TestConcurrentClients(t *testing.T) {
	srv := kratostest.NewServer(t)
	const workers, each = 8, 15
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := srv.Client()
			ctx := context.Background()
			for k := range each {
				email := fmt.Sprintf("w%d-%d@example.org", w, k)
				i, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits(email)})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := c.Identities.Patch(ctx, i.ID, []client.JSONPatch{client.PatchAdd("/metadata_public", map[string]int{"k": k})}); err != nil {
					t.Error(err)
				}
				if _, err := srv.CreateSession(i.ID); err != nil {
					t.Error(err)
				}
				if _, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: 5}); err != nil {
					t.Error(err)
				}
				if _, err := c.Sessions.ListPage(ctx, &client.ListSessionsParams{PageSize: 5, Expand: []client.SessionExpandable{client.SessionExpandIdentity}}); err != nil {
					t.Error(err)
				}
				// Everyone races for the same email; exactly one wins.
				_, _ = c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits("contested@example.org")})
				if k%3 == 0 {
					if err := c.Identities.Delete(ctx, i.ID); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	want := workers*each - workers*((each+2)/3) + 1
	if got := srv.IdentityCount(); got != want {
		t.Errorf("%d identities, want %d", got, want)
	}
	n := 0
	for _, err := range srv.Client().Identities.List(t.Context(), &client.ListIdentitiesParams{PageSize: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != want {
		t.Errorf("walked %d identities, want %d", n, want)
	}
}
