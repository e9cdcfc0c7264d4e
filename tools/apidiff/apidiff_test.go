package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/internal/regen"
)

// The tests run the go command and git on temporary copies only, with the
// module proxy off: everything they build is in the module cache already.
func offline(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"go", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s on PATH", tool)
		}
	}
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=readonly -buildvcs=false")
	t.Setenv("GOTOOLCHAIN", "local")
	// git finds its repository from the working directory only.
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"} {
		if _, ok := os.LookupEnv(k); ok {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

const specHead = `openapi: 3.0.3
info:
  title: probe
  version: "1"
paths:
  /admin/identities:
    get:
      operationId: listIdentities
      parameters:
        - name: page_size
          in: query
          schema:
            type: integer
`

const specTail = `      responses:
        '200':
          description: the page
`

const probeParam = `        - name: probe
          in: query
          schema:
            type: string
`

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func findSpec(changes []specChange, id string) *specChange {
	for i := range changes {
		if changes[i].ID == id {
			return &changes[i]
		}
	}
	return nil
}

func TestSpecRemovedParameterBreaks(t *testing.T) {
	dir := t.TempDir()
	with, without := filepath.Join(dir, "with.yaml"), filepath.Join(dir, "without.yaml")
	writeFile(t, with, specHead+probeParam+specTail)
	writeFile(t, without, specHead+specTail)

	changes, err := diffSpecs(with, without)
	if err != nil {
		t.Fatal(err)
	}
	c := findSpec(changes, "request-parameter-removed")
	if c == nil || c.Level != levelBreaking || c.Where != "GET /admin/identities" || !strings.Contains(c.Text, "`probe`") {
		t.Fatalf("changes %+v: want the removed parameter probe as breaking", changes)
	}
}

func TestSpecAddedOptionalParameterPasses(t *testing.T) {
	dir := t.TempDir()
	with, without := filepath.Join(dir, "with.yaml"), filepath.Join(dir, "without.yaml")
	writeFile(t, with, specHead+probeParam+specTail)
	writeFile(t, without, specHead+specTail)

	changes, err := diffSpecs(without, with)
	if err != nil {
		t.Fatal(err)
	}
	c := findSpec(changes, "new-optional-request-parameter")
	if c == nil || c.Level != levelInfo || !strings.Contains(c.Text, "`probe`") {
		t.Fatalf("changes %+v: want the new optional parameter probe as info", changes)
	}
	for _, c := range changes {
		if c.Level == levelBreaking {
			t.Errorf("breaking: %+v", c)
		}
	}

	// A required one breaks callers, which do not send it.
	required := strings.Replace(probeParam, "in: query\n", "in: query\n          required: true\n", 1)
	writeFile(t, with, specHead+required+specTail)
	changes, err = diffSpecs(without, with)
	if err != nil {
		t.Fatal(err)
	}
	if c := findSpec(changes, "new-required-request-parameter"); c == nil || c.Level != levelBreaking {
		t.Fatalf("changes %+v: want the new required parameter as breaking", changes)
	}
}

// goModule writes a small module with packages gen and client.
func goModule(t *testing.T, genSrc, clientSrc string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/sdk\n\ngo 1.26.0\n")
	writeFile(t, filepath.Join(dir, "gen", "gen.go"), "package gen\n\n"+genSrc)
	writeFile(t, filepath.Join(dir, "client", "client.go"), "package client\n\n"+clientSrc)
	return dir
}

func TestGoAPIChanges(t *testing.T) {
	offline(t)
	oldDir := goModule(t,
		"type ServerInterface interface{ ListIdentities() }\n\ntype Params struct{ Probe string }\n",
		"type Logger interface{ Log(string) }\n")
	newDir := goModule(t,
		"type ServerInterface interface {\n\tListIdentities()\n\tGetProbe()\n}\n\ntype Params struct{ PageSize int }\n",
		"type Logger interface {\n\tLog(string)\n\tFlush()\n}\n\nfunc New() {}\n")
	rels := []string{"client", "gen", "kratostest"}
	oldAPI, err := loadAPI(oldDir, rels)
	if err != nil {
		t.Fatal(err)
	}
	newAPI, err := loadAPI(newDir, rels)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	diffs := diffAPI(oldAPI, newAPI, rels)
	for _, pd := range diffs {
		for _, c := range pd.Changes {
			got[c.key()] = c.Level
		}
	}
	want := map[string]string{
		// a method added to an interface of gen breaks implementers only
		"gen: ServerInterface.GetProbe: added": levelImplementers,
		"gen: Params.Probe: removed":           levelBreaking,
		"gen: Params.PageSize: added":          levelInfo,
		// elsewhere, callers implement interfaces (a logger): it breaks
		"client: Logger.Flush: added": levelBreaking,
		"client: New: added":          levelInfo,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: level %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	if len(diffs) != 2 {
		t.Errorf("%d packages compared, want client and gen (kratostest is in neither)", len(diffs))
	}

	// A package that goes away breaks its callers.
	if err := os.RemoveAll(filepath.Join(newDir, "client")); err != nil {
		t.Fatal(err)
	}
	newAPI, err = loadAPI(newDir, rels)
	if err != nil {
		t.Fatal(err)
	}
	for _, pd := range diffAPI(oldAPI, newAPI, rels) {
		if pd.Package == "client" && (len(pd.Changes) != 1 || pd.Changes[0].Level != levelBreaking || pd.Changes[0].Message != "package removed") {
			t.Errorf("client removed: %+v", pd.Changes)
		}
	}
}

func TestBaseThatDoesNotTypeCheckIsAnError(t *testing.T) {
	offline(t)
	dir := goModule(t, "type T struct{ X Undefined }\n", "")
	if _, err := loadAPI(dir, []string{"gen"}); err == nil || !strings.Contains(err.Error(), "Undefined") {
		t.Fatalf("err = %v, want the type error", err)
	}
}

func TestAccepted(t *testing.T) {
	r := &result{
		Spec: []specChange{{Level: levelBreaking, Where: "GET /x", Text: "removed p"}, {Level: levelInfo, Where: "GET /x", Text: "added q"}},
		Go:   []packageDiff{{Package: "gen", Changes: []goChange{{Level: levelBreaking, Package: "gen", Message: "P.X: removed"}}}},
	}
	if r.breaking() != 2 {
		t.Fatalf("breaking %d, want 2", r.breaking())
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "accept.txt")
	writeFile(t, path, "# intended in v2\nspec GET /x: removed p\n\n  gen: P.X: removed  \nspec GET /x: added q\ngen: P.Y: removed\n")
	accepted, err := readAccepted(path)
	if err != nil {
		t.Fatal(err)
	}
	r.accept(accepted)
	if r.breaking() != 0 || r.Spec[0].Level != levelAccepted || r.Go[0].Changes[0].Level != levelAccepted {
		t.Fatalf("after accept: %+v", r)
	}
	// Only breaking changes are accepted; other lines are reported unused.
	if r.Spec[1].Level != levelInfo || strings.Join(r.Unused, "|") != "gen: P.Y: removed|spec GET /x: added q" {
		t.Fatalf("info %q, unused %q", r.Spec[1].Level, r.Unused)
	}
	if m, err := readAccepted(filepath.Join(dir, "missing.txt")); err != nil || len(m) != 0 {
		t.Fatalf("missing file: %v, %v", m, err)
	}
}

func TestFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"extra"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "extra") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"-repo", t.TempDir()}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "not in a git repository") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

// probeParameter is added to listIdentities in a copy of the SDK.
const probeParameter = `        - name: apidiff_probe
          in: query
          description: Added by tools/apidiff's test.
          schema:
            type: string
`

// TestSDKRegeneration runs the check on a copy of the SDK in a git
// repository of its own, as a user regenerating would: an optional
// parameter added to the spec (and regenerated) passes, its removal
// breaks callers in the spec and in the Go API, and accepting the printed
// lines lets it pass.
func TestSDKRegeneration(t *testing.T) {
	offline(t)
	sdk, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	m := regen.Copy(t, sdk)
	gitIn := func(args ...string) string {
		t.Helper()
		out, err := git(m.Dir, append([]string{"-c", "user.name=apidiff", "-c", "user.email=apidiff@example.invalid", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	gitIn("init", "-q")
	// The commits below must land in the copy's own repository, never in
	// the one the SDK was copied from.
	if top := gitIn("rev-parse", "--show-toplevel"); top != m.Dir {
		t.Fatalf("the copy's repository is %s, want %s", top, m.Dir)
	}
	gitIn("add", "-A")
	gitIn("commit", "-q", "-m", "release")
	gitIn("tag", "v0.1.0")
	check := func(wantCode int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(append([]string{"-repo", m.Dir}, args...), &out, &errOut)
		if code != wantCode {
			t.Fatalf("exit %d, want %d; stderr:\n%s\nreport:\n%s", code, wantCode, errOut.String(), out.String())
		}
		return out.String()
	}
	contains := func(report string, lines ...string) {
		t.Helper()
		for _, l := range lines {
			if !strings.Contains("\n"+report, "\n"+l) {
				t.Errorf("report has no line %q:\n%s", l, report)
			}
		}
	}

	// Nothing changed since the release: nothing to report.
	report := check(0)
	contains(report, "API changes from v0.1.0 ", "no change breaks callers.")

	// Added: an optional parameter, regenerated. The base is the last
	// release tag by default.
	m.InsertAfterFirst(t, regen.SpecPath, "operationId: listIdentities\n", "      parameters:\n", probeParameter)
	m.Generate(t)
	report = check(0)
	contains(report,
		"info      spec GET /admin/identities: added the new optional `query` request parameter `apidiff_probe`  [new-optional-request-parameter]",
		"info      gen: ListIdentitiesParams.ApidiffProbe: added",
		"no change breaks callers.")

	// Removed: the same parameter, against the commit that has it.
	gitIn("add", "-A")
	gitIn("commit", "-q", "-m", "probe")
	gitIn("checkout", "v0.1.0", "--", "api", "gen")
	report = check(1, "-base", "HEAD")
	t.Log(report)
	contains(report,
		"BREAKING  spec GET /admin/identities: deleted the `query` request parameter `apidiff_probe`  [request-parameter-removed]",
		"BREAKING  gen: ListIdentitiesParams.ApidiffProbe: removed")

	// Accepted on purpose: the lines as printed.
	var accept []string
	for _, line := range strings.Split(report, "\n") {
		if rest, ok := strings.CutPrefix(line, levelBreaking+"  "); ok {
			rest, _, _ = strings.Cut(rest, "  [")
			accept = append(accept, rest)
		}
	}
	m.Write(t, acceptPath, "# removed on purpose\n"+strings.Join(accept, "\n")+"\n")
	report = check(0, "-base", "HEAD")
	contains(report,
		"accepted  spec GET /admin/identities: deleted the `query` request parameter `apidiff_probe`  [request-parameter-removed]",
		"accepted  gen: ListIdentitiesParams.ApidiffProbe: removed",
		"no change breaks callers.")
}
