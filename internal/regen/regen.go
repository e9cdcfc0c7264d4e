// Package regen proves properties of the code generation on a throw-away
// copy of the module: copy it, change the copy's spec, run `go generate
// ./...` there, and build or test the copy. Tests use it to show that a
// change to api/kratos-admin.yaml reaches the SDK with no hand-written edit
// (internal/regen/regen_test.go).
//
// The copy uses the same module cache and build cache as the caller and
// never the network (GOPROXY=off, GOFLAGS=-mod=readonly): everything it
// needs is what the module itself needs.
package regen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// SpecPath is the spec's path inside the module.
const SpecPath = "api/kratos-admin.yaml"

// Module is a copy of the SDK module in a temporary directory.
type Module struct {
	Dir string
}

// skipped are the top-level entries not copied: VCS data, installed
// tools, and the bench module (a module of its own).
var skipped = map[string]bool{".git": true, "bin": true, "bench": true}

// Root returns the directory of the module that holds the calling test's
// package: the nearest parent with a go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("regen: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Copy copies the module at root into a new temporary directory, removed
// when the test ends.
func Copy(t testing.TB, root string) *Module {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("regen: no go command on PATH")
	}
	dst := t.TempDir()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		if skipped[rel] {
			// .git is a file in a git worktree (it names the repository's
			// directory): a copy that kept it would run git commands
			// against the original repository.
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("regen: copying %s: %v", root, err)
	}
	return &Module{Dir: dst}
}

// Read returns a file of the copy.
func (m *Module) Read(t testing.TB, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(m.Dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// Write creates or replaces a file of the copy.
func (m *Module) Write(t testing.TB, rel, content string) {
	t.Helper()
	path := filepath.Join(m.Dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// InsertAfter inserts text right after the one occurrence of anchor in the
// file rel. It fails the test when anchor is missing or not unique, so a
// reworded spec breaks the test loudly instead of silently patching
// nothing.
func (m *Module) InsertAfter(t testing.TB, rel, anchor, text string) {
	t.Helper()
	s := m.Read(t, rel)
	if n := strings.Count(s, anchor); n != 1 {
		t.Fatalf("regen: %s has %d occurrences of the anchor %q, want 1", rel, n, anchor)
	}
	i := strings.Index(s, anchor) + len(anchor)
	m.Write(t, rel, s[:i]+text+s[i:])
}

// InsertAfterFirst inserts text right after the first occurrence of anchor
// that follows the one occurrence of scope in the file rel (for example
// the first "parameters:" line after an operationId). It fails the test
// when either is missing or scope is not unique.
func (m *Module) InsertAfterFirst(t testing.TB, rel, scope, anchor, text string) {
	t.Helper()
	s := m.Read(t, rel)
	if n := strings.Count(s, scope); n != 1 {
		t.Fatalf("regen: %s has %d occurrences of the scope %q, want 1", rel, n, scope)
	}
	start := strings.Index(s, scope) + len(scope)
	j := strings.Index(s[start:], anchor)
	if j < 0 {
		t.Fatalf("regen: %s has no %q after %q", rel, anchor, scope)
	}
	i := start + j + len(anchor)
	m.Write(t, rel, s[:i]+text+s[i:])
}

// Go runs the go command in the copy and returns its combined output. The
// error is non-nil when the command failed.
func (m *Module) Go(args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = m.Dir
	cmd.Env = append(os.Environ(),
		"GOFLAGS=-mod=readonly -buildvcs=false",
		"GOPROXY=off",
		"GOWORK=off",
		"GOTOOLCHAIN=local",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return out.String(), fmt.Errorf("regen: go %s: %w", strings.Join(args, " "), err)
	}
	if err != nil {
		return out.String(), fmt.Errorf("regen: go %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// MustGo runs the go command in the copy and fails the test if it fails.
func (m *Module) MustGo(t testing.TB, args ...string) string {
	t.Helper()
	out, err := m.Go(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Generate runs `go generate ./...` in the copy.
func (m *Module) Generate(t testing.TB) {
	t.Helper()
	m.MustGo(t, "generate", "./...")
}
