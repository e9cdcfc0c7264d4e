package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

type result struct {
	code           int
	stdout, stderr string
}

// kratosAdmin runs the command with the given environment and stdin.
func kratosAdmin(t *testing.T, ctx context.Context, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return env[k] })
	return result{code, out.String(), errOut.String()}
}

// fakeKratos is kratostest, the project's fake Kratos, for the command's
// end-to-end tests: its clock stands still at clockAt and its ids count
// up in creation order (identities 00000000-0000-4000-8000-000000000001,
// ..., sessions 5f1e0e1c-0000-4000-8000-000000000001, ...), so that lists
// come in creation order. It records the Authorization headers it gets.
type fakeKratos struct {
	*kratostest.Server
	mu   sync.Mutex
	auth []string
}

var clockAt = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

func newFake(t *testing.T, opts ...kratostest.Option) *fakeKratos {
	t.Helper()
	f := &fakeKratos{}
	var mu sync.Mutex
	next := map[string]int{}
	prefix := map[string]string{
		kratostest.IDKindIdentity: "00000000-0000-4000-8000-",
		kratostest.IDKindSession:  "5f1e0e1c-0000-4000-8000-",
		kratostest.IDKindDevice:   "de71ce00-0000-4000-8000-",
		kratostest.IDKindAddress:  "add7e550-0000-4000-8000-",
		kratostest.IDKindFlow:     "f1000000-0000-4000-8000-",
	}
	base := []kratostest.Option{
		kratostest.WithClock(func() time.Time { return clockAt }),
		kratostest.WithIDGenerator(func(kind string) string {
			mu.Lock()
			defer mu.Unlock()
			next[kind]++
			return fmt.Sprintf("%s%012d", prefix[kind], next[kind])
		}),
		kratostest.WithMiddleware(func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				f.mu.Lock()
				f.auth = append(f.auth, r.Header.Get("Authorization"))
				f.mu.Unlock()
				h.ServeHTTP(w, r)
			})
		}),
	}
	f.Server = kratostest.NewServer(t, append(base, opts...)...)
	return f
}

func (f *fakeKratos) authHeaders() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.auth)
}

// ids lists the identities' ids in the server's order.
func (f *fakeKratos) ids(t *testing.T) []string {
	t.Helper()
	var ids []string
	for i, err := range f.Client().Identities.List(t.Context(), nil) {
		require.NoError(t, err)
		ids = append(ids, i.ID)
	}
	return ids
}

// password returns the stored password hash of the identity with this
// email, read through the API.
func (f *fakeKratos) password(t *testing.T, email string) string {
	t.Helper()
	c := f.Client()
	page, err := c.Identities.ListPage(t.Context(), &client.ListIdentitiesParams{CredentialsIdentifier: email})
	require.NoError(t, err)
	require.Len(t, page.Items, 1, email)
	i, err := c.Identities.Get(t.Context(), page.Items[0].ID, &client.GetIdentityParams{IncludeCredential: []client.IdentityCredentialsType{client.CredentialsTypePassword}})
	require.NoError(t, err)
	var cfg struct {
		HashedPassword string `json:"hashed_password"`
	}
	require.NoError(t, json.Unmarshal(i.Credentials[string(client.CredentialsTypePassword)].Config, &cfg))
	return cfg.HashedPassword
}

func envFor(f *fakeKratos) map[string]string {
	return map[string]string{envURL: f.URL}
}

func writeFile(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.jsonl")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return p
}

func personLine(i int) string {
	return fmt.Sprintf(`{"schema_id":"default","traits":{"email":"user%04d@example.org"}}`, i)
}

func readReport(t *testing.T, path string) []bulk.ImportReportEntry {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []bulk.ImportReportEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e bulk.ImportReportEntry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		out = append(out, e)
	}
	return out
}

func TestHelp(t *testing.T) {
	r := kratosAdmin(t, t.Context(), nil, "", "--help")
	assert.Equal(t, exitOK, r.code)
	for _, want := range []string{"Usage: kratos-admin", "import FILE.jsonl|-", "export", "list", "get ID", "delete ID...", "sessions IDENTITY_ID", "KRATOS_ADMIN_URL", "ORY_API_KEY", "Examples:", "Exit status"} {
		assert.Contains(t, r.stdout, want)
	}
	assert.Empty(t, r.stderr)

	for _, args := range [][]string{{"import", "--help"}, {"help", "import"}, {"import", "-h"}} {
		r = kratosAdmin(t, t.Context(), nil, "", args...)
		assert.Equal(t, exitOK, r.code, args)
		for _, want := range []string{"Usage: kratos-admin import [flags] FILE.jsonl|-", "--batch-size", "(default 1000)", "--hash-passwords", "--hash-cost COST", "--dry-run", "--report FILE", "--resume FILE", "--concurrency", "--window N", "--url URL", "Examples:"} {
			assert.Contains(t, r.stdout, want, args)
		}
	}
	// A token given before the command is never echoed by help.
	r = kratosAdmin(t, t.Context(), nil, "", "--token", "s3cr3t", "export", "--help")
	assert.Equal(t, exitOK, r.code)
	assert.NotContains(t, r.stdout, "s3cr3t")
	assert.Contains(t, r.stdout, "--credentials")
}

func TestUsageErrors(t *testing.T) {
	f := newFake(t)
	env := envFor(f)
	cases := map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"no command":        {env, nil, "Usage: kratos-admin"},
		"unknown command":   {env, []string{"frobnicate"}, `unknown command "frobnicate"`},
		"unknown flag":      {env, []string{"list", "--nope"}, "flag provided but not defined: -nope"},
		"missing file":      {env, []string{"import"}, "import: missing FILE.jsonl|-"},
		"two files":         {env, []string{"import", "a", "b"}, `unexpected argument "b"`},
		"missing id":        {env, []string{"get"}, "get: missing ID"},
		"no URL":            {nil, []string{"list"}, "set KRATOS_ADMIN_URL or pass --url"},
		"bad URL":           {map[string]string{envURL: "localhost:4434"}, []string{"list"}, "scheme"},
		"batch too big":     {env, []string{"import", "--batch-size", "5000", "x.jsonl"}, "--batch-size 5000 is outside 1..1000"},
		"bad cost":          {env, []string{"import", "--hash-cost", "2", "x.jsonl"}, "--hash-cost 2"},
		"no window":         {env, []string{"import", "--window", "0", "x.jsonl"}, "--window must be at least 1"},
		"malformed id":      {env, []string{"get", "not-a-uuid"}, `id "not-a-uuid" is not a UUID`},
		"bad active":        {env, []string{"sessions", "--active", "maybe", "00000000-0000-4000-8000-000000000001"}, "want true or false"},
		"export takes none": {env, []string{"export", "extra"}, `unexpected argument "extra"`},
		"too many ids":      {env, []string{"export", "--ids", strings.Repeat("x,", 501)}, "--ids: 501 ids"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := kratosAdmin(t, t.Context(), tc.env, "", tc.args...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.stdout)
		})
	}
}

func TestImportEndToEnd(t *testing.T) {
	f := newFake(t)
	dir := t.TempDir()
	report := filepath.Join(dir, "report.jsonl")
	in := writeFile(t,
		personLine(1),
		`{"schema_id":"default","traits":{"email":"user0002@example.org"}`, // cut off
		personLine(3),
		`{"schema_id":"default","traits":{"email":"user0004@example.org"},"foo":1}`,
		``,
		`{"schema_id":"default","traits":{"email":"USER0001@example.org"}}`, // duplicate of line 1
		`{"traits":{"email":"user0007@example.org"}}`,
		personLine(8),
	)
	r := kratosAdmin(t, t.Context(), envFor(f), "", "import", "--report", report, in)
	assert.Equal(t, exitFailure, r.code, "items failed")
	assert.Contains(t, r.stdout, "7 items: 3 created, 0 already present, 0 skipped, 4 failed, 0 not attempted")
	for _, want := range []string{
		"line 2: invalid JSON",
		`line 4: unknown field "foo"`,
		"line 6 (user0001@example.org): duplicate of line 1: same identifier user0001@example.org",
		"line 7: missing schema_id",
	} {
		assert.Contains(t, r.stderr, want)
	}
	assert.Equal(t, 3, f.IdentityCount())

	entries := readReport(t, report)
	require.Len(t, entries, 7, "one report line per input item")
	byLine := map[int]bulk.ImportReportEntry{}
	for _, e := range entries {
		byLine[e.Line] = e
	}
	assert.Equal(t, bulk.ImportCreated, byLine[1].Status)
	assert.NotEmpty(t, byLine[1].IdentityID)
	assert.Equal(t, []string{"user0001@example.org"}, byLine[1].Identifiers)
	assert.Equal(t, bulk.ImportFailed, byLine[2].Status)
	assert.Contains(t, byLine[2].Error, "invalid JSON")
	assert.Equal(t, bulk.ImportFailed, byLine[6].Status)

	// Importing the same file again: everything good is already there.
	r = kratosAdmin(t, t.Context(), envFor(f), "", "import", "--max-errors", "1", in)
	assert.Contains(t, r.stdout, "0 created, 3 already present")
	// and how they were found, with the measured reason.
	assert.Regexp(t, `settled by (walk|lookups) \(\d+ lookups, \d+ walks\): (walk|lookups) for \d+ items: a lookup takes`, r.stdout)
	assert.Equal(t, 2, strings.Count(r.stderr, "\n"), "one failure shown, then a count: %s", r.stderr)
	assert.Contains(t, r.stderr, "... and 3 more failed items (use --report to see them all)")
	assert.Equal(t, 3, f.IdentityCount())
}

func TestImportAllGoodExitsZero(t *testing.T) {
	f := newFake(t)
	var lines []string
	for i := range 250 {
		lines = append(lines, personLine(i))
	}
	in := writeFile(t, lines...)
	r := kratosAdmin(t, t.Context(), envFor(f), "", "import", "--batch-size", "100", "--concurrency", "2", in)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "250 items: 250 created")
	assert.Contains(t, r.stdout, "(3 requests,")
	assert.Empty(t, r.stderr, "quiet when stderr is not a terminal")
	assert.Equal(t, 250, f.IdentityCount())
}

func TestImportFromStdinDryRun(t *testing.T) {
	f := newFake(t)
	var lines []string
	for i := range 1500 {
		lines = append(lines, fmt.Sprintf(`{"schema_id":"default","traits":{"email":"user%04d@example.org"},"credentials":{"password":{"config":{"password":"pw-%d"}}}}`, i, i))
	}
	stdin := strings.Join(lines, "\n")
	r := kratosAdmin(t, t.Context(), envFor(f), stdin, "import", "--dry-run", "-")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "dry run: 1,500 items: 1,500 valid, 0 skipped, 0 failed; would send 8 batches\n", r.stdout)
	r = kratosAdmin(t, t.Context(), nil, stdin, "--url", f.URL, "import", "-", "--dry-run", "--hash-passwords")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "would send 2 batches")
	assert.Equal(t, 0, f.IdentityCount(), "a dry run sends nothing")
}

func TestImportHashesPasswords(t *testing.T) {
	f := newFake(t)
	in := writeFile(t,
		`{"schema_id":"default","traits":{"email":"a@example.org"},"credentials":{"password":{"config":{"password":"correct horse"}}}}`,
		`{"schema_id":"default","traits":{"email":"b@example.org"},"credentials":{"password":{"config":{"hashed_password":"$2a$04$abcdefghijklmnopqrstuuJ0xLhVfvVb8y6PZ/CEBC6Ff4NsqE/6y"}}}}`,
	)
	r := kratosAdmin(t, t.Context(), envFor(f), "", "import", "--hash-passwords", "--hash-cost", "4", in)
	require.Equal(t, exitOK, r.code, r.stderr)
	hash := f.password(t, "a@example.org")
	require.True(t, strings.HasPrefix(hash, "$2a$04$"), hash)
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse")))
	assert.Equal(t, "$2a$04$abcdefghijklmnopqrstuuJ0xLhVfvVb8y6PZ/CEBC6Ff4NsqE/6y", f.password(t, "b@example.org"))
}

func TestImportInterruptedThenResumed(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var batches atomic.Int32
	f := newFake(t, kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			if r.Method == http.MethodPatch && batches.Add(1) == 2 {
				cancel() // Ctrl-C during the run
			}
		})
	}))
	var lines []string
	for i := range 1000 {
		lines = append(lines, personLine(i))
	}
	in := writeFile(t, lines...)
	report := filepath.Join(t.TempDir(), "report.jsonl")
	r := kratosAdmin(t, ctx, envFor(f), "", "import", "--batch-size", "100", "--concurrency", "1", "--report", report, in)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "kratos-admin: interrupted")
	assert.Contains(t, r.stderr, "--resume "+report)
	assert.Contains(t, r.stdout, "1,000 items: 200 created")
	assert.Contains(t, r.stdout, "800 not attempted")
	assert.Len(t, readReport(t, report), 1000)

	report2 := filepath.Join(t.TempDir(), "report2.jsonl")
	r = kratosAdmin(t, t.Context(), envFor(f), "", "import", "--resume", report, "--report", report2, in)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "1,000 items: 800 created, 0 already present, 200 skipped, 0 failed")
	assert.Equal(t, 1000, f.IdentityCount())
	assert.Len(t, readReport(t, report2), 1000)

	// Resuming in place, with the same file as report and resume.
	r = kratosAdmin(t, t.Context(), envFor(f), "", "import", "--resume", report2, "--report", report2, in)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "1,000 skipped")
	assert.Len(t, readReport(t, report2), 1000)
}

func TestImportStopsOnUnauthorized(t *testing.T) {
	f := newFake(t, kratostest.WithBearerToken("good"))
	in := writeFile(t, personLine(1), personLine(2))
	r := kratosAdmin(t, t.Context(), map[string]string{envURL: f.URL, envToken: "bad"}, "", "import", in)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "401 Unauthorized")
	assert.Equal(t, 0, f.IdentityCount())
	r = kratosAdmin(t, t.Context(), map[string]string{envURL: f.URL, envToken: "bad"}, "", "import", "--token", "good", in)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 2, f.IdentityCount())
	for _, h := range f.authHeaders() {
		assert.Contains(t, []string{"Bearer bad", "Bearer good", ""}, h)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	src := newFake(t)
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf(`{"schema_id":"default","traits":{"email":"user%04d@example.org"},"external_id":"ext-%d","state":"inactive","metadata_public":{"n":%d},"credentials":{"password":{"config":{"hashed_password":"$2a$04$abcdefghijklmnopqrstuuJ0xLhVfvVb8y6PZ/CEBC6Ff4NsqE/6y"}}}}`, i, i, i))
	}
	r := kratosAdmin(t, t.Context(), envFor(src), "", "import", writeFile(t, lines...))
	require.Equal(t, exitOK, r.code, r.stderr)

	out := filepath.Join(t.TempDir(), "export.jsonl")
	r = kratosAdmin(t, t.Context(), envFor(src), "", "export", "--credentials", "--page-size", "7", "-o", out)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "exported 30 identities\n", r.stderr)
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, 30, bytes.Count(raw, []byte("\n")))
	assert.Contains(t, string(raw), `"hashed_password":"$2a$04$`)

	dst := newFake(t)
	r = kratosAdmin(t, t.Context(), envFor(dst), "", "import", out)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "30 items: 30 created")
	assert.Equal(t, src.password(t, "user0007@example.org"), dst.password(t, "user0007@example.org"))

	// Export to stdout.
	r = kratosAdmin(t, t.Context(), envFor(dst), "", "export")
	require.Equal(t, exitOK, r.code)
	assert.Equal(t, 30, strings.Count(r.stdout, "\n"))
	assert.NotContains(t, r.stdout, "hashed_password", "no credentials without --credentials")
}

func TestListGetDeleteSessions(t *testing.T) {
	f := newFake(t)
	var lines []string
	for i := range 5 {
		lines = append(lines, personLine(i))
	}
	require.Equal(t, exitOK, kratosAdmin(t, t.Context(), envFor(f), "", "import", writeFile(t, lines...)).code)
	ids := f.ids(t)
	require.Len(t, ids, 5)
	_, err := f.CreateSession(ids[1], kratostest.WithSessionAuthenticatedAt(clockAt))
	require.NoError(t, err)

	// Any page size is sent as the client sends it; the server clamps it
	// (0 or less: its default, above 500: 500).
	for _, size := range []string{"0", "-1", "5000"} {
		r := kratosAdmin(t, t.Context(), envFor(f), "", "list", "--page-size", size)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Len(t, strings.Split(strings.TrimSpace(r.stdout), "\n"), 6, "--page-size %s", size)
	}
	r := kratosAdmin(t, t.Context(), envFor(f), "", "list", "--page-size", "2")
	require.Equal(t, exitOK, r.code, r.stderr)
	rows := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, rows, 6)
	assert.Regexp(t, `^ID\s+STATE\s+SCHEMA\s+EXTERNAL ID\s+TRAITS$`, rows[0])
	assert.Contains(t, rows[1], ids[0])
	assert.Contains(t, rows[1], `{"email":"user0000@example.org"}`)

	r = kratosAdmin(t, t.Context(), envFor(f), "", "list", "--json", "--limit", "2")
	require.Equal(t, exitOK, r.code)
	assert.Equal(t, 2, strings.Count(r.stdout, "\n"))
	var first client.Identity
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(r.stdout, "\n", 2)[0]), &first))
	assert.Equal(t, ids[0], first.ID)

	r = kratosAdmin(t, t.Context(), envFor(f), "", "get", ids[1])
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"id": "`+ids[1]+`"`)

	r = kratosAdmin(t, t.Context(), envFor(f), "", "sessions", ids[1])
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `ID\s+ACTIVE\s+AAL\s+AUTHENTICATED AT\s+EXPIRES AT\n5f1e0e1c-0000-4000-8000-000000000001\s+true\s+aal1\s+2026-11-27T08:00:00Z`, r.stdout)

	missing := "00000000-0000-4000-8000-000000000999"
	r = kratosAdmin(t, t.Context(), envFor(f), "", "delete", ids[0], missing, ids[2])
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, "deleted "+ids[0]+"\ndeleted "+ids[2]+"\n", r.stdout)
	assert.Contains(t, r.stderr, "delete "+missing+": kratos: DELETE /admin/identities/"+missing+": 404 Not Found")
	assert.Equal(t, 3, f.IdentityCount())
	assert.Equal(t, []string{ids[1], ids[3], ids[4]}, f.ids(t))

	r = kratosAdmin(t, t.Context(), envFor(f), "", "get", ids[0])
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "404 Not Found")
}

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgress(&buf, true, "done", 10000)
	p.now = func() time.Time { return now }
	p.start = now
	for i := range 2500 {
		if i == 1000 {
			now = now.Add(time.Second)
		}
		p.add(i%1000 == 999)
	}
	now = now.Add(time.Second)
	assert.Equal(t, "2,500/10,000 done (25%), 1,250/s, ETA 6s, 2 failed", p.line(now))
	assert.Equal(t, "\r\033[K1/10,000 done (0%)\r\033[K1,001/10,000 done (10%), 1,001/s, ETA 9s, 1 failed", buf.String(), "redrawn at most every 200ms")
	p.printf("line 7: boom\n")
	assert.True(t, strings.HasSuffix(buf.String(), "\r\033[Kline 7: boom\n"))
	p.finish()

	buf.Reset()
	quiet := newProgress(&buf, false, "exported", 0)
	quiet.add(false)
	quiet.printf("x\n")
	quiet.finish()
	assert.Equal(t, "x\n", buf.String(), "no status line when not a terminal")
	assert.Equal(t, "1,234,567", thousands(1234567))
	assert.Equal(t, "999", thousands(999))
	assert.False(t, isTerminal(&buf))
}

func TestProgressLineShowsImportPhase(t *testing.T) {
	var mu sync.Mutex
	var walkLines []string
	var p *progress
	srv := kratostest.NewServer(t, kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/admin/identities" {
				mu.Lock()
				walkLines = append(walkLines, p.line(time.Now()))
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}))
	c := srv.Client()
	ip := &bulk.ImportProgress{}
	p = newProgress(io.Discard, true, "done", 40)
	p.imp = ip
	assert.True(t, strings.HasPrefix(p.line(time.Now()), "sending: 0/40 done"), p.line(time.Now()))

	var hashingLine string
	items := func(yield func(client.CreateIdentityBody, error) bool) {
		for i := range 40 {
			if i == 39 {
				time.Sleep(50 * time.Millisecond) // let the hashers catch up
				mu.Lock()
				hashingLine = p.line(time.Now())
				mu.Unlock()
			}
			b := client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(fmt.Sprintf(`{"email":"p%d@example.org"}`, i))}
			b.Credentials.Password.Config.Password = fmt.Sprintf("secret-%d-password", i)
			if !yield(b, nil) {
				return
			}
		}
	}
	opts := &bulk.ImportOptions{HashPasswords: true, HashCost: 4, Progress: ip, OnOutcome: func(bulk.ImportOutcome) {
		mu.Lock()
		p.add(false)
		mu.Unlock()
	}}
	sum, err := bulk.Import(t.Context(), c, items, opts)
	require.NoError(t, err)
	require.Equal(t, 40, sum.Created)
	assert.Regexp(t, `^hashing: 0/40 done \(0%\); \d+ hashed, [\d,]+/s$`, hashingLine)
	assert.Equal(t, 40, ip.Hashed())
	assert.Equal(t, 40, ip.Sent())
	assert.Equal(t, bulk.ImportPhaseSending, ip.Phase())

	// Again: every item conflicts, and a walk settles them.
	ip2 := &bulk.ImportProgress{}
	mu.Lock()
	p = newProgress(io.Discard, true, "done", 40)
	p.imp = ip2
	walkLines = nil
	mu.Unlock()
	opts.Progress = ip2
	sum, err = bulk.Import(t.Context(), c, items, opts)
	require.NoError(t, err)
	require.Equal(t, 40, sum.AlreadyPresent)
	require.NotEmpty(t, walkLines)
	assert.Regexp(t, `^settling: 0/40 done \(0%\); 40 to settle$`, walkLines[0])
	// Once measured, the line says how the items are looked for.
	assert.Regexp(t, `^settling: 0/40 done \(0%\); 40 to settle by (walk|lookups)$`, walkLines[len(walkLines)-1])
	assert.Equal(t, sum.Settling.Method, ip2.SettleMethod())
	assert.Zero(t, ip2.Settling())
}
