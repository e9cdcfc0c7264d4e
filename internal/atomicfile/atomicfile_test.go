package atomicfile_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/internal/atomicfile"
)

func TestCommitReplacesWithOwnerOnlyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.jsonl")
	if err := os.WriteFile(path, []byte("old\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(path, 0o666)
	f, err := atomicfile.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, _ := os.ReadFile(path); string(b) != "old\n" {
		t.Fatalf("target changed before Commit: %q", b)
	}
	_, _ = io.WriteString(f, "new\n")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new\n" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("after Commit: %q, mode %v", b, fi.Mode())
	}
	assertOnly(t, dir, "backup.jsonl")
}

func TestAbortKeepsThePreviousFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.jsonl")
	_ = os.WriteFile(path, []byte("previous backup\n"), 0o600)
	f, err := atomicfile.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(f, "half")
	_ = f.Close() // the run failed
	if b, _ := os.ReadFile(path); string(b) != "previous backup\n" {
		t.Fatalf("previous file lost: %q", b)
	}
	assertOnly(t, dir, "backup.jsonl")
}

func TestRefusesSymlinksAndInputs(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	_ = os.WriteFile(victim, []byte("keep"), 0o600)
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if _, err := atomicfile.Create(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("symlink: %v", err)
	}
	in := filepath.Join(dir, "users.jsonl")
	_ = os.WriteFile(in, []byte("{}\n"), 0o600)
	for _, target := range []string{in, filepath.Join(dir, ".", "users.jsonl")} {
		if _, err := atomicfile.Create(target, in); err == nil || !strings.Contains(err.Error(), "also an input") {
			t.Fatalf("input as output %s: %v", target, err)
		}
	}
	hard := filepath.Join(dir, "hard.jsonl")
	if err := os.Link(in, hard); err == nil {
		if _, err := atomicfile.Create(hard, in); err == nil {
			t.Fatal("a hard link to the input was accepted")
		}
	}
	if _, err := atomicfile.Create(dir); err == nil {
		t.Fatal("a directory was accepted")
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatal("the link's target changed")
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("dir holds %v, want %v (a temporary file left?)", got, names)
	}
}
