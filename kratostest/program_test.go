package kratostest_test

import (
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/fakeprog"
	"github.com/kratosadmin/sdk/kratostest"
)

// TestContractProgram runs the contract suite against cmd/kratos-fake,
// built and started as a subprocess on free loopback ports, the way a
// service in another language or under docker compose meets it: over
// HTTP only, sessions through the public login API.
func TestContractProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts cmd/kratos-fake")
	}
	p := fakeprog.Start(t, fakeprog.Build(t), "--admin", "127.0.0.1:0", "--public", "127.0.0.1:0")
	opts := []client.Option{client.WithPublicURL(p.PublicURL)}
	c, err := client.New(p.AdminURL, append([]client.Option{kratostest.ValidateWith(t)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := client.New(p.AdminURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	runContract(t, c, target{
		name: "program", rawClient: raw, adminURL: p.AdminURL, publicURL: p.PublicURL, schemaID: kratostest.DefaultSchemaID,
		newSession: func(t *testing.T, _, email, password string) string {
			return loginWithPassword(t, p.PublicURL, email, password)
		},
	})
	// The fake broke the spec nowhere (it logs such answers on stderr).
	if out := p.Stop(t); containsViolation(out) {
		t.Errorf("kratos-fake reported answers outside the spec:\n%s", out)
	}
}

func containsViolation(stderr string) bool {
	return strings.Contains(stderr, "the fake broke the API spec") || strings.Contains(stderr, "level=ERROR")
}
