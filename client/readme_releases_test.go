package client_test

import (
	"os"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
)

// TestReadmeCompatibilityTable keeps README.md's compatibility table and the
// capability table together: every feature has a row whose cells say
// ErrUnsupported (or how it differs) on the releases before the one that
// introduced it and "works" from it on.
func TestReadmeCompatibilityTable(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "<!-- compatibility table")
	end := strings.Index(text, "<!-- end of compatibility table -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no compatibility table")
	}
	var releases []string
	rows := map[string][]string{}
	for _, line := range strings.Split(text[start:end], "\n") {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if releases == nil {
			releases = cells[1:]
			continue
		}
		rows[cells[0]] = cells[1:]
	}
	if strings.Join(releases, " ") != strings.Join([]string{client.KratosV1_3, client.KratosV25_4, client.KratosV26_2}, " ") {
		t.Fatalf("table columns %v", releases)
	}
	for _, c := range client.Capabilities() {
		var cells []string
		for name, r := range rows {
			if strings.Contains(name, "`"+string(c.Feature)+"`") {
				cells = r
			}
		}
		if cells == nil {
			t.Errorf("no README row names `%s`", c.Feature)
			continue
		}
		for i, rel := range releases {
			before := releaseBefore(rel, c.Since)
			switch {
			case before && cells[i] != "ErrUnsupported" && !strings.HasPrefix(cells[i], "differs"):
				t.Errorf("%s on %s: README says %q, the capability table: introduced in %s", c.Feature, rel, cells[i], c.Since)
			case !before && cells[i] != "works":
				t.Errorf("%s on %s: README says %q, the capability table: works since %s", c.Feature, rel, cells[i], c.Since)
			}
		}
	}
}

// releaseBefore compares the three known releases by their order.
func releaseBefore(rel, since string) bool {
	order := map[string]int{client.KratosV1_3: 0, client.KratosV25_4: 1, client.KratosV26_2: 2}
	return order[rel] < order[since]
}
