package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/fakeprog"
	"github.com/kratosadmin/sdk/kratostest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadCommandLines(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	goodLine := `{"schema_id":"default","traits":{"email":"a@example.org"}}`
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"--nope"}, exitUsage, "flag provided but not defined: -nope"},
		{"argument", []string{"serve"}, exitUsage, `unexpected argument "serve"`},
		{"schema without id", []string{"--schema", "x.json"}, exitUsage, `--schema "x.json": want ID=FILE`},
		{"missing schema file", []string{"--schema", "s=" + filepath.Join(t.TempDir(), "none.json")}, exitUsage, "--schema s: open "},
		{"schema not json", []string{"--schema", "s=" + writeFile(t, "s.json", "{")}, exitUsage, "WithIdentitySchema"},
		{"unknown default schema", []string{"--default-schema", "other"}, exitUsage, `no schema "other"`},
		{"bad base url", []string{"--public-base-url", "ftp://x"}, exitUsage, `"ftp://x" is not an http(s) base URL`},
		{"bad identities line", []string{"--identities", writeFile(t, "ids.jsonl", goodLine+"\n{\"traits\":\n")}, exitUsage, "line 2: "},
		{"identity the server refuses", []string{"--identities", writeFile(t, "bad.jsonl", `{"schema_id":"default","traits":{"email":"not-an-email"}}`+"\n")}, exitUsage, `is not valid "email"`},
		{"duplicate seed identities", []string{"--identities", writeFile(t, "dup.jsonl", goodLine+"\n"+goodLine+"\n")}, exitUsage, "WithIdentities: identity 1"},
		{"admin port in use", []string{"--admin", busy.Addr().String(), "--public", "127.0.0.1:0"}, exitFailure, "kratos-fake: admin: listen tcp"},
		{"public port in use", []string{"--admin", "127.0.0.1:0", "--public", busy.Addr().String()}, exitFailure, "kratos-fake: public: listen tcp"},
		{"unknown method", []string{"--enabled-methods", "password,smoke"}, exitUsage, `WithEnabledMethods: unknown method "smoke"`},
		{"journal of no size", []string{"--journal-size", "0"}, exitUsage, "WithJournalSize: 0 is not positive"},
		{"relative recovery ui url", []string{"--recovery-ui-url", "/recovery"}, exitUsage, `WithRecoveryUIURL: "/recovery" is not an absolute http or https URL`},
		{"bcrypt cost too low", []string{"--bcrypt-cost", "3"}, exitUsage, "WithBcryptCost: 3 is not between 4 and 31"},
		{"help", []string{"--help"}, exitOK, "usage: kratos-fake [flags]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"--admin", "127.0.0.1:0", "--public", "127.0.0.1:0"}, tc.args...)
			ctx, cancel := context.WithCancel(t.Context())
			cancel() // a run that starts serving returns at once
			code := run(ctx, args, &stdout, &stderr, func(string) string { return "" })
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr.String())
			}
			if tc.code != exitOK && stdout.Len() > 0 {
				t.Errorf("ready line printed on failure: %q", stdout.String())
			}
		})
	}
}

// TestRunServesUntilCancelled runs the program in-process: ready line,
// the token from the environment, seed identities, then a clean stop.
func TestRunServesUntilCancelled(t *testing.T) {
	seed := writeFile(t, "seed.jsonl", `{"schema_id":"default","traits":{"email":"seed@example.org"}}`+"\n\n")
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"--admin", "127.0.0.1:0", "--public", "127.0.0.1:0", "--identities", seed}, pw, &stderr,
			func(k string) string {
				if k == envToken {
					return "env-token"
				}
				return ""
			})
		pw.Close()
	}()
	line, err := readLine(pr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "kratos-fake ready admin=http://127.0.0.1:") || !strings.HasSuffix(line, " identities=1") {
		t.Fatalf("ready line %q", line)
	}
	admin := strings.TrimPrefix(strings.Fields(line)[2], "admin=")
	resp, err := http.Get(admin + "/admin/identities")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token from %s: %d, want 401", envToken, resp.StatusCode)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit %d after cancel; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "kratos-fake: stopped") {
		t.Errorf("stderr %q", stderr.String())
	}
}

func readLine(r io.Reader) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		if _, err := r.Read(one); err != nil {
			return string(b), err
		}
		if one[0] == '\n' {
			return string(b), nil
		}
		b = append(b, one[0])
	}
}

// A schema with a username trait instead of the default email.
const usernameSchema = `{
  "$id": "https://example.org/username.schema.json",
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "traits": {
      "type": "object",
      "properties": {
        "username": {
          "type": "string", "minLength": 3,
          "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}
        }
      },
      "required": ["username"],
      "additionalProperties": false
    }
  }
}`

// TestProgram builds the command and runs it as a subprocess with every
// option: a token, two schemas, seed identities exported by the SDK, a
// public base URL; it signs a seeded identity in through the public login
// API and stops the program with SIGTERM.
func TestProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts cmd/kratos-fake")
	}
	bin := fakeprog.Build(t)

	// Seed identities as the exporter writes them: export them from an
	// embedded fake.
	src := kratostest.NewServer(t)
	ctx := t.Context()
	body := &client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"ada@example.org"}`),
		MetadataPublic: json.RawMessage(`{"plan":"pro"}`), ExternalID: "crm-1"}
	body.Credentials.Password.Config.Password = "a-long-secret-passphrase"
	if _, err := src.Client().Identities.Create(ctx, body); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Client().Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"bob@example.org"}`)}); err != nil {
		t.Fatal(err)
	}
	var export bytes.Buffer
	if n, err := bulk.ExportJSONL(ctx, src.Client(), &export, &bulk.ExportOptions{Credentials: true}); err != nil || n != 2 {
		t.Fatalf("export: %d %v", n, err)
	}
	seed := writeFile(t, "seed.jsonl", export.String())
	defSchema := writeFile(t, "default.json", string(kratostest.DefaultIdentitySchema()))
	userSchema := writeFile(t, "username.json", usernameSchema)

	// The public base URL is where clients would reach the public port;
	// it is only advertised, so the test logs in at the listening address.
	publicAddr := freeAddr(t)
	p := fakeprog.Start(t, bin, "--admin", "127.0.0.1:0", "--public", publicAddr,
		"--token", "secret-token", "--schema", "default="+defSchema, "--schema", "users="+userSchema,
		"--identities", seed, "--public-base-url", "http://kratos.test:4433", "--log-requests")
	if !strings.HasSuffix(p.ReadyLine, " public=http://kratos.test:4433 identities=2") {
		t.Errorf("ready line %q", p.ReadyLine)
	}
	c, err := client.New(p.AdminURL, client.WithBearerToken("secret-token"))
	if err != nil {
		t.Fatal(err)
	}
	ada, err := c.Identities.GetByExternalID(ctx, "crm-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(ada.MetadataPublic) != `{"plan":"pro"}` || ada.SchemaURL != "http://kratos.test:4433/schemas/ZGVmYXVsdA" {
		t.Errorf("seeded identity: metadata %s schema_url %s", ada.MetadataPublic, ada.SchemaURL)
	}
	// The second schema is there.
	u, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "users", Traits: json.RawMessage(`{"username":"grace"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if u.SchemaID != "users" {
		t.Errorf("schema %q", u.SchemaID)
	}
	// The token is required.
	noToken, _ := client.New(p.AdminURL)
	_, err = noToken.Identities.Get(ctx, ada.ID, nil)
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("without the token: %v", err)
	}

	// Sign the seeded identity in with the password it was exported with.
	public := "http://" + publicAddr
	sessionID := login(t, public, "ada@example.org", "a-long-secret-passphrase")
	sess, err := c.Sessions.Get(ctx, sessionID, &client.GetSessionParams{Expand: []client.SessionExpandable{client.SessionExpandIdentity}})
	if err != nil {
		t.Fatal(err)
	}
	if sess.Identity == nil || sess.Identity.ID != ada.ID || !sess.Active {
		t.Errorf("session %+v", sess)
	}
	if status := loginStatus(t, public, "ada@example.org", "wrong-password"); status != http.StatusBadRequest {
		t.Errorf("wrong password: %d, want 400", status)
	}

	// A faulted request is logged too, with its rule.
	req, _ := http.NewRequest(http.MethodPost, p.AdminURL+"/_fake/faults", strings.NewReader(`{"method":"GET","path":"/health/ready","status":503,"times":1}`))
	req.Header.Set("Authorization", "Bearer secret-token")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("add a fault: %v %v", err, resp)
	}
	if resp, err := http.Get(p.AdminURL + "/health/ready"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("faulted health check: %v %v", err, resp)
	}

	stderr := p.Stop(t)
	if !strings.Contains(stderr, `uri=/health/ready status=503 fault=1`) || strings.Contains(stderr, "uri=/_fake/") {
		t.Errorf("request log of the fault:\n%s", stderr)
	}
	if !strings.Contains(stderr, "kratos-fake: stopped") || !strings.Contains(stderr, `uri=/admin/identities/by/external/crm-1 status=200`) {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func loginStatus(t *testing.T, public, identifier, password string) int {
	t.Helper()
	status, _ := postLogin(t, public, identifier, password)
	return status
}

func login(t *testing.T, public, identifier, password string) string {
	t.Helper()
	status, b := postLogin(t, public, identifier, password)
	if status != http.StatusOK {
		t.Fatalf("login: %d %s", status, b)
	}
	var out struct {
		SessionToken string `json:"session_token"`
		Session      struct {
			ID string `json:"id"`
		} `json:"session"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Session.ID == "" || !strings.HasPrefix(out.SessionToken, "ory_st_") {
		t.Fatalf("login answer %s (%v)", b, err)
	}
	return out.Session.ID
}

func postLogin(t *testing.T, public, identifier, password string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(public + "/self-service/login/api")
	if err != nil {
		t.Fatal(err)
	}
	var flow struct {
		ID string `json:"id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&flow)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("login flow: %d %v", resp.StatusCode, err)
	}
	b, _ := json.Marshal(map[string]string{"method": "password", "identifier": identifier, "password": password})
	resp, err = http.Post(fmt.Sprintf("%s/self-service/login?flow=%s", public, flow.ID), "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestRecoveryUIURLAndBcryptCostFlags: --recovery-ui-url is the link of
// code-recovery answers, --bcrypt-cost the cost of the hashes made from
// plaintext passwords.
func TestRecoveryUIURLAndBcryptCostFlags(t *testing.T) {
	o := options{recoveryUIURL: "http://127.0.0.1:4455/recovery", bcryptCost: 6, journalSize: kratostest.DefaultJournalSize}
	opts, _, err := o.serverOptions(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := kratostest.NewServer(t, opts...)
	post := func(path, body string) map[string]any {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %v %v", path, resp.StatusCode, err, out)
		}
		return out
	}
	i := post("/admin/identities", `{"schema_id":"default","traits":{"email":"flags@example.org"},"credentials":{"password":{"config":{"password":"a-long-enough-password"}}}}`)
	code := post("/admin/recovery/code", fmt.Sprintf(`{"identity_id":%q}`, i["id"]))
	if link, _ := code["recovery_link"].(string); !strings.HasPrefix(link, "http://127.0.0.1:4455/recovery?flow=") {
		t.Errorf("recovery_link %q, want it on --recovery-ui-url", link)
	}
	resp, err := http.Get(srv.URL + "/admin/identities/" + i["id"].(string) + "?include_credential=password")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Credentials struct {
			Password struct {
				Config struct {
					HashedPassword string `json:"hashed_password"`
				} `json:"config"`
			} `json:"password"`
		} `json:"credentials"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if h := got.Credentials.Password.Config.HashedPassword; !strings.HasPrefix(h, "$2a$06$") {
		t.Errorf("hash %.7q..., want cost 6", h)
	}
}
