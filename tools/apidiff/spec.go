package main

import (
	"fmt"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"
)

// specPath is the spec's path in the repository.
const specPath = "api/kratos-admin.yaml"

// Levels of a change, as the report names them.
const (
	levelBreaking = "BREAKING" // breaks callers: fails the check
	levelWarning  = "warning"  // may break some callers (oasdiff's WARN)
	levelInfo     = "info"     // compatible
)

// raisedLevels are oasdiff checks whose level is raised to breaking for a
// generated SDK. oasdiff rates them for a caller that writes HTTP by hand:
// a server ignores a parameter or request property it no longer knows
// (WARN), and a client copes with an optional response property that never
// comes (INFO). Here each is a field of a generated struct, and its removal
// is a compile error for the callers that set or read it.
var raisedLevels = map[string]checker.Level{
	"request-parameter-removed":          checker.ERR,
	"request-property-removed":           checker.ERR,
	"response-optional-property-removed": checker.ERR,
}

// specChange is one change of the spec.
type specChange struct {
	Level string
	ID    string // oasdiff's check id, e.g. request-parameter-removed
	Where string // METHOD /path, or the section for a change not about an operation
	Text  string
}

// key is the change's report line after its level, which is also how
// api/apidiff-accept.txt names it.
func (c specChange) key() string {
	return "spec " + c.Where + ": " + c.Text
}

// diffSpecs compares two spec files with oasdiff's checks (all of them,
// levels as oasdiff ships them) and returns every change, breaking ones
// first.
func diffSpecs(basePath, revPath string) ([]specChange, error) {
	base, err := load.NewSpecInfo(newLoader(), load.NewFileSource(basePath))
	if err != nil {
		return nil, fmt.Errorf("loading the base spec: %w", err)
	}
	rev, err := load.NewSpecInfo(newLoader(), load.NewFileSource(revPath))
	if err != nil {
		return nil, fmt.Errorf("loading the revision's spec: %w", err)
	}
	d, sources, err := diff.GetWithOperationsSourcesMap(diff.NewConfig(), base, rev)
	if err != nil {
		return nil, fmt.Errorf("comparing the specs: %w", err)
	}
	config := checker.NewConfig(checker.GetAllChecks(), checker.WithSeverityLevels(raisedLevels))
	changes := checker.CheckBackwardCompatibilityUntilLevel(config, d, sources, checker.INFO)
	l := checker.NewDefaultLocalizer()
	out := make([]specChange, 0, len(changes))
	for _, c := range changes {
		level := levelInfo
		switch c.GetLevel() {
		case checker.ERR:
			level = levelBreaking
		case checker.WARN:
			level = levelWarning
		}
		section, element := c.Subject()
		where := element
		if where == "" {
			where = section
		}
		out = append(out, specChange{Level: level, ID: c.GetId(), Where: where, Text: c.GetUncolorizedText(l)})
	}
	sort.SliceStable(out, func(i, j int) bool { return levelRank(out[i].Level) < levelRank(out[j].Level) })
	return out, nil
}

// newLoader returns a spec loader that reads local files only, and reads
// them each time (kin-openapi's default reader also fetches URLs and
// caches what it read for the life of the process).
func newLoader() *openapi3.Loader {
	loader := openapi3.NewLoader()
	loader.ReadFromURIFunc = openapi3.ReadFromFile
	return loader
}

func levelRank(level string) int {
	switch level {
	case levelBreaking:
		return 0
	case levelWarning:
		return 1
	}
	return 2
}
