package client_test

// Security checks against a real Kratos (issue 19, items 2 and 3): point
// KRATOS_ADMIN_URL (and KRATOS_PUBLIC_URL) at a fresh server, any release
// (v1.3.1, v25.4.0, v26.2.0), and run `make live-security`.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

func liveSecurityClient(t *testing.T) (*client.Client, string) {
	t.Helper()
	admin := os.Getenv("KRATOS_ADMIN_URL")
	if admin == "" || os.Getenv("LIVE_SECURITY") == "" {
		t.Skip("set KRATOS_ADMIN_URL and LIVE_SECURITY=1 (make live-security)")
	}
	opts := []client.Option{}
	if pub := os.Getenv("KRATOS_PUBLIC_URL"); pub != "" {
		opts = append(opts, client.WithPublicURL(pub))
	}
	c, err := client.New(admin, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, admin
}

// TestLiveSecurityPathCleaningRedirect: an external id of "../../" + the
// id of an identity does not read that identity on any release (v1.3.1
// answers 301 to /admin/identities/ID: the client refuses to follow; later
// releases answer 404).
func TestLiveSecurityPathCleaningRedirect(t *testing.T) {
	c, admin := liveSecurityClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	victim, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: []byte(`{"email":"victim-redirect@example.org"}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Identities.Delete(context.Background(), victim.ID) }()
	for _, ext := range []string{"../../" + victim.ID, "../" + victim.ID, "x/../../" + victim.ID, "..%2F..%2F" + victim.ID} {
		got, err := c.Identities.GetByExternalID(ctx, ext, nil)
		if got != nil && got.ID == victim.ID {
			t.Fatalf("GetByExternalID(%q) returned identity %s", ext, victim.ID)
		}
		var re *client.RedirectError
		if err == nil || !(errors.As(err, &re) || errors.Is(err, client.ErrNotFound) || errors.Is(err, errors.ErrUnsupported)) {
			t.Fatalf("GetByExternalID(%q): want a refused redirect, ErrNotFound or (v1.3.1, no external ids) ErrUnsupported, got %v", ext, err)
		}
		t.Logf("GetByExternalID(%q): %v", ext, err)

		// The same request line through Do, on every release (v1.3.1
		// cleans the path and redirects to the identity).
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/admin/identities/by/external/"+url.PathEscape(ext), nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatalf("Do GET by external id %q: 200", ext)
			}
		} else if !errors.As(err, &re) {
			t.Fatalf("Do GET by external id %q: %v", ext, err)
		}
	}
}

// TestLiveSecurityPageSizes: every paged operation answers the same on
// every release: a negative size gets the default page (none is sent), a size above
// the server's maximum gets at most that maximum (v1.3.1 would serve any
// size), and a raw request with page_size=-1 either gets the default page
// (v25.4, v26.2) or an error that says the server closed the connection
// (v1.3.1, whose handler panics).
func TestLiveSecurityPageSizes(t *testing.T) {
	c, admin := liveSecurityClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = client.MaxIdentitiesPageSize + 10
	items := make([]client.IdentityPatch, n)
	for i := range items {
		items[i].Create = client.CreateIdentityBody{SchemaID: "default", Traits: []byte(fmt.Sprintf(`{"email":"page-%d@example.org"}`, i))}
	}
	res, err := c.Identities.BatchCreate(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, it := range res.Items {
			if it.IdentityID != "" {
				_ = c.Identities.Delete(context.Background(), it.IdentityID)
			}
		}
	}()
	some := res.Items[0].IdentityID

	for name, call := range map[string]func(size int64) (int, error){
		"Identities.ListPage": func(size int64) (int, error) {
			p, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: size})
			return pageLen(p), err
		},
		"Identities.ListPage per_page": func(size int64) (int, error) {
			p, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PerPage: size})
			return pageLen(p), err
		},
		"Identities.ListSessionsPage": func(size int64) (int, error) {
			p, err := c.Identities.ListSessionsPage(ctx, some, &client.ListIdentitySessionsParams{PageSize: size})
			return pageLen(p), err
		},
		"Sessions.ListPage": func(size int64) (int, error) {
			p, err := c.Sessions.ListPage(ctx, &client.ListSessionsParams{PageSize: size})
			return pageLen(p), err
		},
		"Schemas.ListPage": func(size int64) (int, error) {
			p, err := c.Schemas.ListPage(ctx, &client.ListIdentitySchemasParams{PageSize: size})
			return pageLen(p), err
		},
	} {
		def, err := call(0)
		if err != nil {
			t.Errorf("%s default page: %v", name, err)
		}
		if got, err := call(-1); err != nil || got != def {
			t.Errorf("%s page size -1: %d items, %v; want the default page's %d", name, got, err, def)
		}
		got, err := call(100_000)
		if err != nil || got > client.MaxPageSize || (strings.HasPrefix(name, "Identities.ListPage") && got != client.MaxIdentitiesPageSize) {
			t.Errorf("%s page size 100000: %d items, %v", name, got, err)
		}
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/admin/identities?page_size=-1", nil)
	resp, err := c.Do(req)
	switch {
	case err == nil:
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("raw page_size=-1: status %d", resp.StatusCode)
		}
		t.Log("raw page_size=-1: this release serves its default page")
	case strings.Contains(err.Error(), "the server closed the connection without answering"):
		t.Logf("raw page_size=-1: %v", err)
	default:
		t.Fatalf("raw page_size=-1: want the default page or a closed connection named, got %v", err)
	}
}

// TestLiveSecuritySchemaRedirects: the redirects the redirect rule keeps
// are those real servers send: the admin port sends the schema routes to
// the public port (v1.3.1 and v25.4.0 by way of /admin/schemas/...).
func TestLiveSecuritySchemaRedirects(t *testing.T) {
	_, admin := liveSecurityClient(t)
	c, err := client.New(admin) // no public URL: follow the admin port's redirect
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Schemas.Get(ctx, "default"); err != nil {
		t.Fatalf("Schemas.Get through the admin port: %v", err)
	}
	if p, err := c.Schemas.ListPage(ctx, &client.ListIdentitySchemasParams{PageSize: 5}); err != nil || len(p.Items) == 0 {
		t.Fatalf("Schemas.ListPage through the admin port: %d, %v", pageLen(p), err)
	}
}
