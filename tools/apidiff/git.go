package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// git runs git in dir and returns its trimmed standard output.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// revision is a resolved git revision.
type revision struct {
	Name   string // as asked, or the default chosen
	Commit string // full hash
}

// resolveBase resolves the base revision: name, or when it is empty the
// last release tag reachable from HEAD, else HEAD.
func resolveBase(repo, name string) (revision, error) {
	if name == "" {
		tag, err := git(repo, "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*")
		if err == nil && tag != "" {
			name = tag
		} else {
			name = "HEAD"
		}
	}
	commit, err := git(repo, "rev-parse", "--verify", "--quiet", name+"^{commit}")
	if err != nil {
		return revision{}, fmt.Errorf("base %q is not a commit of %s", name, repo)
	}
	return revision{Name: name, Commit: commit}, nil
}

// extract writes the tree of commit into dir/<commit> and returns that
// directory. A complete extraction from an earlier run is reused (the
// stable path lets the Go build cache serve its packages); other commits'
// trees in dir are removed.
func extract(repo, commit, dir string) (string, error) {
	tree := filepath.Join(dir, commit)
	done := filepath.Join(dir, commit+".done")
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	for _, e := range entries {
		if name := e.Name(); name != commit && name != commit+".done" {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				return "", err
			}
		}
	}
	if _, err := os.Stat(done); err == nil {
		return tree, nil
	}
	if err := os.RemoveAll(tree); err != nil {
		return "", err
	}
	if err := os.MkdirAll(tree, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("git", "archive", "--format=tar", commit)
	cmd.Dir = repo
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	untarErr := untar(out, tree)
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return "", fmt.Errorf("git archive %s: %v: %s", commit, err, strings.TrimSpace(errOut.String()))
	}
	if untarErr != nil {
		return "", fmt.Errorf("extracting %s: %w", commit, untarErr)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		return "", err
	}
	return tree, nil
}

// untar writes the regular files and directories of a tar stream under
// dir. Names that would leave dir are refused.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeDir && h.Typeflag != tar.TypeReg {
			continue // git archive's global header; the SDK has no links
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("entry %q leaves the tree", h.Name)
		}
		path := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}
