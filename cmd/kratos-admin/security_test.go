package main

// The command line under attack (issue 19): files it writes, terminal
// escapes from the server and the input, and the API key.

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReportNeverOverwritesTheInput: `import --report users.jsonl
// users.jsonl` once emptied the input and exited 0 with "0 items".
func TestReportNeverOverwritesTheInput(t *testing.T) {
	f := newFake(t)
	in := writeFile(t, personLine(1), personLine(2))
	before, err := os.ReadFile(in)
	require.NoError(t, err)
	for _, report := range []string{in, filepath.Join(filepath.Dir(in), ".", filepath.Base(in))} {
		r := kratosAdmin(t, t.Context(), envFor(f), "", "import", "--report", report, in)
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, "also an input")
		after, err := os.ReadFile(in)
		require.NoError(t, err)
		assert.Equal(t, string(before), string(after), "the input is intact")
	}
	assert.Equal(t, 0, f.IdentityCount(), "nothing was imported")
}

// TestCLIFilesAreOwnerOnlyAndAtomic: export -o and --report write 0600
// files, an export that fails leaves the previous backup whole (it was
// truncated to 0 bytes before the first page), and a symbolic link at the
// path is refused, its target untouched.
func TestCLIFilesAreOwnerOnlyAndAtomic(t *testing.T) {
	f := newFake(t)
	in := writeFile(t, personLine(1), personLine(2))
	dir := t.TempDir()
	report := filepath.Join(dir, "report.jsonl")
	r := kratosAdmin(t, t.Context(), envFor(f), "", "import", "--report", report, in)
	require.Equal(t, exitOK, r.code, r.stderr)
	assertMode(t, report, 0o600)

	backup := filepath.Join(dir, "backup.jsonl")
	require.NoError(t, os.WriteFile(backup, []byte("previous backup\n"), 0o666))
	require.NoError(t, os.Chmod(backup, 0o666))
	r = kratosAdmin(t, t.Context(), envFor(f), "", "export", "--credentials", "-o", backup)
	require.Equal(t, exitOK, r.code, r.stderr)
	assertMode(t, backup, 0o600)
	b, _ := os.ReadFile(backup)
	assert.Equal(t, 2, strings.Count(string(b), "\n"))

	// The server is gone: the backup stays as it was.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	r = kratosAdmin(t, t.Context(), map[string]string{envURL: dead.URL}, "", "export", "-o", backup)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "left as it was")
	after, _ := os.ReadFile(backup)
	assert.Equal(t, string(b), string(after), "the previous backup survives a failed export")

	victim := filepath.Join(dir, "victim")
	require.NoError(t, os.WriteFile(victim, []byte("keep"), 0o600))
	link := filepath.Join(dir, "link.jsonl")
	require.NoError(t, os.Symlink(victim, link))
	r = kratosAdmin(t, t.Context(), envFor(f), "", "export", "-o", link)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "symbolic link")
	v, _ := os.ReadFile(victim)
	assert.Equal(t, "keep", string(v))
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		assert.False(t, strings.Contains(e.Name(), ".tmp-"), "temporary file left: %s", e.Name())
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, want, fi.Mode().Perm(), "%s", path)
}

// TestTerminalEscapesAreQuoted: an external id with an OSC title and a
// clear-screen sequence (created on real Kratos as
// "ext\u001b]0;PWNED\u0007\u001b[2J"), a server error message and an
// identifier from the input file reach the terminal as visible escapes.
func TestTerminalEscapesAreQuoted(t *testing.T) {
	f := newFake(t)
	in := writeFile(t, `{"schema_id":"default","external_id":"ext\u001b]0;PWNED\u0007\u001b[2J","traits":{"email":"a@example.org","name":{"first":"\u001b[31mred\u202e"}}}`)
	r := kratosAdmin(t, t.Context(), envFor(f), "", "import", in)
	require.Equal(t, exitOK, r.code, r.stderr)
	r = kratosAdmin(t, t.Context(), envFor(f), "", "list")
	require.Equal(t, exitOK, r.code, r.stderr)
	assertNoRawControls(t, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `ext\x1b]0;PWNED\a\x1b[2J`)
	assert.Contains(t, r.stdout, `\u001b[31mred\u202e`) // JSON's escape, then ours

	// An item that fails: its line names it by its (hostile) external id
	// and identifier, and carries the server's message.
	r = kratosAdmin(t, t.Context(), envFor(f), "", "import", writeFile(t, `{"schema_id":"default","external_id":"x\u001b[2J","traits":{"email":"b\u001b[31m@example.org"}}`))
	assert.Equal(t, exitFailure, r.code)
	assertNoRawControls(t, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, `b\x1b[31m@example.org, external_id x\x1b[2J`)

	// A server whose error message carries escapes.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		_, _ = w.Write([]byte(`{"error":{"code":500,"message":"boom\u001b]0;PWNED\u0007\u001b[2J\u202e"}}`))
	}))
	defer evil.Close()
	r = kratosAdmin(t, t.Context(), map[string]string{envURL: evil.URL}, "", "get", "--timeout", "2s", "9fce9890-b047-44b5-8b6d-dfeffddfaf02")
	assert.Equal(t, exitFailure, r.code)
	assertNoRawControls(t, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, `boom\x1b]0;PWNED`)
}

func assertNoRawControls(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if (r < ' ' && r != '\n' && r != '\t' && r != '\r') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' {
			t.Fatalf("output keeps %U raw:\n%q", r, s)
		}
	}
}

// TestTokenFromFileOrEnvironment: --token-file and $ORY_API_KEY carry the
// API key off the command line; --token still works, with a warning that
// every local user can read it; a clear-text token to a remote host is
// refused unless --allow-cleartext-token.
func TestTokenFromFileOrEnvironment(t *testing.T) {
	f := newFake(t)
	tokFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokFile, []byte("s3cret-key\n"), 0o600))
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	_ = f
	r := kratosAdmin(t, t.Context(), map[string]string{envURL: srv.URL}, "", "list", "--token-file", tokFile)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "warning")
	r = kratosAdmin(t, t.Context(), map[string]string{envURL: srv.URL, envToken: "env-key"}, "", "list")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = kratosAdmin(t, t.Context(), map[string]string{envURL: srv.URL}, "", "list", "--token", "argv-key")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--token is readable by every local user")
	assert.NotContains(t, r.stderr, "argv-key")
	assert.Equal(t, []string{"Bearer s3cret-key", "Bearer env-key", "Bearer argv-key"}, seen)

	r = kratosAdmin(t, t.Context(), map[string]string{envURL: srv.URL}, "", "list", "--token-file", tokFile, "--token", "x")
	assert.Equal(t, exitUsage, r.code)

	// A remote http:// host: refused before anything is sent.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln.Close()
	r = kratosAdmin(t, t.Context(), map[string]string{envURL: "http://kratos.example:4434", envToken: "k"}, "", "list")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "clear text")
	assert.Contains(t, r.stderr, "WithCleartextToken")
}

// TestTamperedResumeReport: a resume report whose line was tampered with
// (an identity id that is not a UUID) stops the import, naming the line;
// it once skipped the item silently and copied the id into the new report.
func TestTamperedResumeReport(t *testing.T) {
	f := newFake(t)
	in := writeFile(t, personLine(1), personLine(2))
	dir := t.TempDir()
	report := filepath.Join(dir, "report.jsonl")
	r := kratosAdmin(t, t.Context(), envFor(f), "", "import", "--report", report, in)
	require.Equal(t, exitOK, r.code, r.stderr)
	b, err := os.ReadFile(report)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(b), "\n")
	require.GreaterOrEqual(t, len(lines), 2)
	var e map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &e))
	e["identity_id"] = "not-a-uuid/../../x"
	tampered, _ := json.Marshal(e)
	lines[1] = string(tampered) + "\n"
	require.NoError(t, os.WriteFile(report, []byte(strings.Join(lines, "")), 0o600))

	report2 := filepath.Join(dir, "report2.jsonl")
	r = kratosAdmin(t, t.Context(), envFor(f), "", "import", "--resume", report, "--report", report2, in)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "line 2")
	assert.Contains(t, r.stderr, "is not a UUID")
	_, err = os.Stat(report2)
	assert.True(t, os.IsNotExist(err), "no new report")
}
