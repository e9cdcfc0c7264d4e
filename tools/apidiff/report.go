package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
)

// acceptPath lists breaking changes accepted on purpose, one report line
// (without "BREAKING ") per line; # starts a comment.
const acceptPath = "api/apidiff-accept.txt"

// levelAccepted marks a breaking change listed in acceptPath.
const levelAccepted = "accepted"

// result is a comparison, ready to be written.
type result struct {
	Base     revision
	Head     string // HEAD's commit in the repository
	Dirty    bool   // the working tree has uncommitted changes
	Spec     []specChange
	Go       []packageDiff
	Unused   []string // accepted lines that matched no change
	Versions string
}

// compare compares the base revision of repo with its working tree.
func compare(repo, baseName string) (*result, error) {
	repo, err := filepath.Abs(repo)
	if err != nil {
		return nil, err
	}
	top, err := git(repo, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("%s is not in a git repository: %w", repo, err)
	}
	repo = top
	base, err := resolveBase(repo, baseName)
	if err != nil {
		return nil, err
	}
	res := &result{Base: base, Versions: versions()}
	if head, err := git(repo, "rev-parse", "--verify", "--quiet", "HEAD"); err == nil {
		res.Head = head
	}
	if st, err := git(repo, "status", "--porcelain", "--untracked-files=no"); err == nil && st != "" {
		res.Dirty = true
	}
	baseTree, err := extract(repo, base.Commit, filepath.Join(repo, "bin", "apidiff"))
	if err != nil {
		return nil, err
	}

	revSpec := filepath.Join(repo, specPath)
	baseSpec := filepath.Join(baseTree, specPath)
	if _, err := os.Stat(baseSpec); err != nil {
		return nil, fmt.Errorf("base %s has no %s", base.Name, specPath)
	}
	if res.Spec, err = diffSpecs(baseSpec, revSpec); err != nil {
		return nil, err
	}

	oldAPI, err := loadAPI(baseTree, goPackages)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", base.Name, err)
	}
	newAPI, err := loadAPI(repo, goPackages)
	if err != nil {
		return nil, fmt.Errorf("working tree: %w", err)
	}
	res.Go = diffAPI(oldAPI, newAPI, goPackages)

	accepted, err := readAccepted(filepath.Join(repo, acceptPath))
	if err != nil {
		return nil, err
	}
	res.accept(accepted)
	return res, nil
}

// readAccepted reads the accepted lines; a missing file accepts nothing.
func readAccepted(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out[line] = true
	}
	return out, sc.Err()
}

// accept marks the breaking changes listed in accepted, and records the
// listed lines that matched none.
func (r *result) accept(accepted map[string]bool) {
	used := map[string]bool{}
	for i, c := range r.Spec {
		if c.Level == levelBreaking && accepted[c.key()] {
			r.Spec[i].Level = levelAccepted
			used[c.key()] = true
		}
	}
	for _, pd := range r.Go {
		for i, c := range pd.Changes {
			if c.Level == levelBreaking && accepted[c.key()] {
				pd.Changes[i].Level = levelAccepted
				used[c.key()] = true
			}
		}
	}
	for line := range accepted {
		if !used[line] {
			r.Unused = append(r.Unused, line)
		}
	}
	sort.Strings(r.Unused)
}

// breaking counts the changes that break callers and are not accepted.
func (r *result) breaking() int {
	n := 0
	for _, c := range r.Spec {
		if c.Level == levelBreaking {
			n++
		}
	}
	for _, pd := range r.Go {
		for _, c := range pd.Changes {
			if c.Level == levelBreaking {
				n++
			}
		}
	}
	return n
}

// versions names the comparing tools' versions, from the build info.
func versions() string {
	want := map[string]string{"github.com/oasdiff/oasdiff": "oasdiff", "golang.org/x/exp": "x/exp/apidiff"}
	var parts []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if name, ok := want[d.Path]; ok {
				parts = append(parts, name+" "+d.Version)
			}
		}
	}
	return strings.Join(parts, ", ")
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// write renders the report.
func (r *result) write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	head := "HEAD " + short(r.Head)
	if r.Dirty {
		head += " + uncommitted changes"
	}
	p("API changes from %s (%s) to the working tree (%s)\n", r.Base.Name, short(r.Base.Commit), head)
	if r.Versions != "" {
		p("compared by %s\n", r.Versions)
	}

	p("\n## Spec (%s)\n\n", specPath)
	if len(r.Spec) == 0 {
		p("no changes\n")
	}
	for _, c := range r.Spec {
		p("%-9s %s  [%s]\n", c.Level, c.key(), c.ID)
	}

	p("\n## Go API\n")
	for _, pd := range r.Go {
		p("\n### %s\n\n", pd.Package)
		if len(pd.Changes) == 0 {
			p("no changes\n")
		}
		for _, c := range pd.Changes {
			p("%-9s %s\n", c.Level, c.key())
		}
	}

	if len(r.Unused) > 0 {
		p("\n%d line(s) of %s match no change (stale once the base is past them):\n", len(r.Unused), acceptPath)
		const shown = 5
		for _, line := range r.Unused[:min(shown, len(r.Unused))] {
			p("  %s\n", line)
		}
		if len(r.Unused) > shown {
			p("  …\n")
		}
	}

	p("\n## Verdict\n\n")
	if n := r.breaking(); n > 0 {
		p("%d change(s) break callers. If that is intended, add each line after \"BREAKING \" to %s.\n", n, acceptPath)
	} else {
		p("no change breaks callers.\n")
	}
	p("Levels: BREAKING breaks callers; accepted: a BREAKING listed in %s;\n"+
		"warning: may break some callers (oasdiff's WARN); implementers: breaks only your own\n"+
		"implementations of gen's interfaces, which gain a method per new operation; info: compatible.\n", acceptPath)
	return bw.Flush()
}
