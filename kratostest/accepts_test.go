package kratostest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// The requests below are ones Kratos v26.2.0 answers with a 2xx (or, where
// it says so, with the identity schema's own 400) although an older client
// refused them before sending. Each runs through the validating transport,
// so the spec must accept it too; against the fake in make test, against a
// real Kratos when KRATOS_ADMIN_URL is set (make live-contract).

func TestAcceptedRequestsFake(t *testing.T) {
	srv := kratostest.NewServer(t,
		kratostest.WithIdentitySchema(kratostest.DefaultSchemaID, kratostest.DefaultIdentitySchema()),
		kratostest.WithIdentitySchema("second", kratostest.DefaultIdentitySchema()))
	runAccepted(t, srv.Client(kratostest.ValidateWith(t)), "second")
	open := kratostest.NewServer(t, kratostest.WithIdentitySchema("default", []byte(openSchema)))
	t.Run("traits left out", func(t *testing.T) { traitsLeftOut(t, open.Client(kratostest.ValidateWith(t))) })
}

// openSchema requires no trait.
const openSchema = `{"$id":"https://example.org/open.schema.json","$schema":"http://json-schema.org/draft-07/schema#",
"type":"object","properties":{"traits":{"type":"object","properties":{"email":{"type":"string"}}}}}`

// traitsLeftOut: with a default schema that requires no trait, a create
// and an update without traits succeed, and the traits are {}. Skipped on
// a server whose default schema requires traits (../shared/kratos; start
// it with KRATOS_SCHEMA pointing at a schema like openSchema to run it).
func traitsLeftOut(t *testing.T, c *client.Client) {
	ctx := t.Context()
	id, err := c.Identities.Create(ctx, &client.CreateIdentityBody{})
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.StatusCode == 400 {
		t.Skipf("the default schema requires traits: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Identities.Delete(context.Background(), id.ID) })
	if string(id.Traits) != "{}" {
		t.Errorf("created traits %s, want {}", id.Traits)
	}
	if _, err := c.Identities.Update(ctx, id.ID, &client.UpdateIdentityBody{Traits: json.RawMessage(`{"email":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Identities.Update(ctx, id.ID, &client.UpdateIdentityBody{})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Traits) != "{}" {
		t.Errorf("traits after an update without them %s, want {}", got.Traits)
	}
}

func TestAcceptedRequestsRealServer(t *testing.T) {
	admin := os.Getenv("KRATOS_ADMIN_URL")
	if admin == "" {
		t.Skip("set KRATOS_ADMIN_URL (and KRATOS_PUBLIC_URL, ORY_API_KEY) to run against a real Kratos")
	}
	opts := []client.Option{kratostest.ValidateWith(t)}
	if public := os.Getenv("KRATOS_PUBLIC_URL"); public != "" {
		opts = append(opts, client.WithPublicURL(public))
	}
	if key := os.Getenv("ORY_API_KEY"); key != "" {
		opts = append(opts, client.WithBearerToken(key))
	}
	c, err := client.New(admin, opts...)
	if err != nil {
		t.Fatal(err)
	}
	// A second schema only when the server has one (the one in
	// ../shared/kratos has "default" alone).
	second := ""
	for s, err := range c.Schemas.List(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if s.ID != "default" && second == "" {
			second = s.ID
		}
	}
	runAccepted(t, c, second)
	t.Run("traits left out", func(t *testing.T) { traitsLeftOut(t, c) })
}

// runAccepted runs the accepted requests; second names a schema other than
// the default one ("" when the server has none).
func runAccepted(t *testing.T, c *client.Client, second string) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	s := &suite{c: c, runID: hex.EncodeToString(b[:]), target: target{schemaID: "default"}}
	ctx := t.Context()

	t.Run("create without schema_id uses the default schema", func(t *testing.T) {
		id, err := c.Identities.Create(ctx, &client.CreateIdentityBody{Traits: traits(s.email("no-schema"))})
		if err != nil {
			t.Fatal(err)
		}
		s.cleanup(t, id.ID)
		if id.SchemaID != "default" {
			t.Errorf("schema %q, want default", id.SchemaID)
		}
	})
	t.Run("create without traits reaches the server", func(t *testing.T) {
		// The default schema requires an email: the server's 400, not
		// an ArgumentError.
		// With a schema that requires none, a 201 (traitsLeftOut).
		id, err := c.Identities.Create(ctx, &client.CreateIdentityBody{})
		if err == nil {
			s.cleanup(t, id.ID)
			return
		}
		e := apiError(t, err, 400, "")
		if !strings.Contains(e.Reason, "missing properties") {
			t.Errorf("reason %q, want the schema's missing properties (traits validated as {})", e.Reason)
		}
	})
	t.Run("update without schema_id keeps the schema", func(t *testing.T) {
		schema := "default"
		if second != "" {
			schema = second
		}
		email := s.email("keep-schema")
		id := s.create(t, &client.CreateIdentityBody{SchemaID: schema, Traits: traits(email)})
		got, err := c.Identities.Update(ctx, id.ID, &client.UpdateIdentityBody{Traits: traits(email, "Ada", "Lovelace")})
		if err != nil {
			t.Fatal(err)
		}
		if got.SchemaID != schema {
			t.Errorf("schema %q after an update without schema_id, want %q", got.SchemaID, schema)
		}
	})
	t.Run("addresses with only a value", func(t *testing.T) {
		email := s.email("address-value")
		id, err := c.Identities.Create(ctx, &client.CreateIdentityBody{
			Traits:              traits(email),
			VerifiableAddresses: []client.VerifiableIdentityAddress{{Value: email}},
			RecoveryAddresses:   []client.RecoveryIdentityAddress{{Value: email}},
		})
		if err != nil {
			t.Fatal(err)
		}
		s.cleanup(t, id.ID)
		if len(id.VerifiableAddresses) != 1 || id.VerifiableAddresses[0].Status != "pending" || id.VerifiableAddresses[0].Via != "email" {
			t.Errorf("verifiable addresses %+v, want one pending email address", id.VerifiableAddresses)
		}
	})
	t.Run("oidc and saml providers without subject or provider", func(t *testing.T) {
		body := &client.CreateIdentityBody{Traits: traits(s.email("providers"))}
		body.Credentials.OIDC.Config.Providers = []client.ImportOIDCProvider{{Provider: "p-" + s.runID}}
		body.Credentials.SAML.Config.Providers = []client.ImportSAMLProvider{{Subject: "s-" + s.runID}}
		id, err := c.Identities.Create(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		s.cleanup(t, id.ID)
	})
	t.Run("uuid forms", func(t *testing.T) {
		id := s.create(t, &client.CreateIdentityBody{Traits: traits(s.email("uuid-forms"))})
		plain := strings.ReplaceAll(id.ID, "-", "")
		for _, form := range []string{strings.ToUpper(id.ID), plain, "{" + id.ID + "}", "{" + plain + "}", "urn:uuid:" + id.ID, "urn:uuid:" + plain} {
			got, err := c.Identities.Get(ctx, form, nil)
			if err != nil {
				t.Errorf("get %s: %v", form, err)
				continue
			}
			if got.ID != id.ID {
				t.Errorf("get %s: identity %s", form, got.ID)
			}
		}
		page, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{IDs: []string{plain}})
		if err != nil || len(page.Items) != 1 {
			t.Errorf("ids filter with %s: %v, %v", plain, page, err)
		}
		if _, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: "{" + plain + "}"}); err != nil {
			t.Errorf("recovery code for %s: %v", "{"+plain+"}", err)
		}
		// Forms Kratos does not parse are refused before sending.
		for _, bad := range []string{"URN:UUID:" + id.ID, "{" + id.ID, id.ID[:35] + "x", id.ID[:8] + id.ID[9:]} {
			if _, err := c.Identities.Get(ctx, bad, nil); !errors.Is(err, client.ErrInvalidArgument) {
				t.Errorf("get %s: %v, want ErrInvalidArgument", bad, err)
			}
		}
	})
	t.Run("empty patch", func(t *testing.T) {
		id := s.create(t, &client.CreateIdentityBody{Traits: traits(s.email("empty-patch"))})
		got, err := c.Identities.Patch(ctx, id.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != id.ID {
			t.Errorf("patched %s", got.ID)
		}
	})
	t.Run("page sizes and pages out of range", func(t *testing.T) {
		for _, p := range []*client.ListIdentitiesParams{
			{PageSize: -1}, {PageSize: client.MaxPageSize + 1}, {PageSize: 100000},
			{PerPage: -1, Page: 0}, {PerPage: 2, Page: -1}, {Consistency: "sometimes"},
		} {
			if _, err := c.Identities.ListPage(ctx, p); err != nil {
				t.Errorf("%+v: %v", *p, err)
			}
		}
		for _, size := range []int64{-1, client.MaxPageSize + 1} {
			if _, err := c.Sessions.ListPage(ctx, &client.ListSessionsParams{PageSize: size}); err != nil {
				t.Errorf("sessions, page size %d: %v", size, err)
			}
			if _, err := c.Identities.ListSessionsPage(ctx, "9f7b2c3e-1111-4222-8333-444455556666", &client.ListIdentitySessionsParams{PageSize: size}); err != nil {
				t.Errorf("identity sessions, page size %d: %v", size, err)
			}
			if _, err := c.Schemas.ListPage(ctx, &client.ListIdentitySchemasParams{PageSize: size}); err != nil {
				t.Errorf("schemas, page size %d: %v", size, err)
			}
		}
	})
	t.Run("expand in any letter case", func(t *testing.T) {
		if _, err := c.Sessions.ListPage(ctx, &client.ListSessionsParams{Expand: []client.SessionExpandable{"Identity", "DEVICES"}}); err != nil {
			t.Error(err)
		}
	})
	t.Run("recovery durations", func(t *testing.T) {
		id := s.create(t, &client.CreateIdentityBody{Traits: traits(s.email("recovery"))})
		for _, d := range []string{"1.5h", "1h30m"} {
			if _, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: id.ID, ExpiresIn: d}); err != nil {
				t.Errorf("code, %s: %v", d, err)
			}
			if _, err := c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: id.ID, ExpiresIn: d}, nil); err != nil {
				t.Errorf("link, %s: %v", d, err)
			}
		}
		// Refused by the server too, so refused before sending.
		for _, d := range []string{"0s", "-1m", "90", "1d"} {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: id.ID, ExpiresIn: d})
			if !errors.Is(err, client.ErrInvalidArgument) {
				t.Errorf("code, %s: %v, want ErrInvalidArgument", d, err)
			}
		}
	})
}
