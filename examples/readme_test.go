// Package examples holds runnable programs that use only the SDK's public
// API. The quickstart is the README's code, kept compiling by this test.
package examples

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

func TestREADMEQuickstartIsTheCompiledExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Quickstart\n\n```go\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no Quickstart Go block")
	}
	prog, err := os.ReadFile("quickstart/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(m[1]) != string(prog) {
		t.Fatal("README quickstart and examples/quickstart/main.go differ; keep them identical")
	}
}

// TestQuickstartRunsAgainstTheFake runs the README's program, as a user
// would, against kratostest: it creates, patches, pages through, lists
// sessions of and deletes an identity.
func TestQuickstartRunsAgainstTheFake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	srv := kratostest.NewServer(t, kratostest.WithBearerToken("ory_pat_quickstart"))
	seed, err := srv.Client().Identities.Create(t.Context(), &client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"grace@example.org"}`)})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "run", "./quickstart")
	cmd.Env = append(os.Environ(), "KRATOS_ADMIN_URL="+srv.URL, "ORY_API_KEY=ory_pat_quickstart")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quickstart failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), seed.ID+" grace@example.org") || !strings.Contains(string(out), "ada@example.org") {
		t.Errorf("quickstart did not list the identities:\n%s", out)
	}
	if n := srv.IdentityCount(); n != 1 {
		t.Errorf("%d identities left, want only the seeded one (the quickstart deletes its own)", n)
	}
}
