package main

import (
	"errors"
	"fmt"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/exp/apidiff"
	"golang.org/x/tools/go/packages"
)

// goPackages are the packages whose API is compared, relative to the
// module root.
var goPackages = []string{"client", "bulk", "gen", "kratostest"}

// generatedInterfacesPackage holds interfaces that grow with the spec by
// design: gen.ServerInterface and gen.ClientInterface gain a method for
// every new operation. An added method breaks only a type that implements
// them; callers of their methods are unaffected, and the module's own
// implementations (kratostest, the generated client) fail to compile until
// they follow.
const generatedInterfacesPackage = "gen"

// goChange is one change of a package's Go API.
type goChange struct {
	Level   string // levelBreaking, levelImplementers or levelInfo
	Package string
	Message string // golang.org/x/exp/apidiff's, e.g. "ListIdentitiesParams.Foo: removed"
}

// levelImplementers marks a method added to one of gen's interfaces.
const levelImplementers = "implementers"

// key is the change's report line after its level, which is also how
// api/apidiff-accept.txt names it.
func (c goChange) key() string {
	return c.Package + ": " + c.Message
}

// packageDiff is the comparison of one package.
type packageDiff struct {
	Package string
	Changes []goChange
}

// loadAPI type-checks the packages of the module in dir that exist there
// (from export data, which the build cache keeps) and returns them by
// relative path.
func loadAPI(dir string, rels []string) (map[string]*types.Package, error) {
	var patterns []string
	for _, rel := range rels {
		if st, err := os.Stat(filepath.Join(dir, rel)); err == nil && st.IsDir() {
			patterns = append(patterns, "./"+rel)
		}
	}
	out := map[string]*types.Package{}
	if len(patterns) == 0 {
		return out, nil
	}
	cfg := &packages.Config{
		Dir:  dir,
		Fset: token.NewFileSet(),
		Mode: packages.NeedName | packages.NeedTypes,
		Env:  append(os.Environ(), "GOWORK=off"),
		// Without the directory in the build's cache keys, the base's
		// packages (extracted elsewhere) share the build cache with the
		// working tree's wherever their sources are the same.
		BuildFlags: []string{"-trimpath"},
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("loading %v in %s: %w", patterns, dir, err)
	}
	var errs []error
	for _, p := range pkgs {
		for _, e := range p.Errors {
			errs = append(errs, fmt.Errorf("%s: %v", p.PkgPath, e))
		}
		if len(p.Errors) > 0 {
			continue
		}
		rel := relPath(p.PkgPath, rels)
		if rel == "" {
			errs = append(errs, fmt.Errorf("%s: not one of %v", p.PkgPath, rels))
			continue
		}
		out[rel] = p.Types
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("type-checking %s: %w", dir, errors.Join(errs...))
	}
	return out, nil
}

// relPath returns the element of rels that is the module-relative path of
// the package pkgPath, or "".
func relPath(pkgPath string, rels []string) string {
	for _, rel := range rels {
		if strings.HasSuffix(pkgPath, "/"+rel) {
			return rel
		}
	}
	return ""
}

// addedMethod matches apidiff's message for a method added to a type:
// "Type.Method: added".
var addedMethod = regexp.MustCompile(`^(\w+)\.(\w+): added$`)

// diffAPI compares each package of rels between the two loaded sets.
func diffAPI(base, rev map[string]*types.Package, rels []string) []packageDiff {
	out := make([]packageDiff, 0, len(rels))
	for _, rel := range rels {
		pd := packageDiff{Package: rel}
		oldPkg, newPkg := base[rel], rev[rel]
		switch {
		case oldPkg == nil && newPkg == nil:
			continue
		case oldPkg == nil:
			pd.Changes = append(pd.Changes, goChange{Level: levelInfo, Package: rel, Message: "package added"})
		case newPkg == nil:
			pd.Changes = append(pd.Changes, goChange{Level: levelBreaking, Package: rel, Message: "package removed"})
		default:
			report := apidiff.Changes(oldPkg, newPkg)
			for _, c := range report.Changes {
				level := levelInfo
				if !c.Compatible {
					level = levelBreaking
					if rel == generatedInterfacesPackage && isAddedInterfaceMethod(newPkg, c.Message) {
						level = levelImplementers
					}
				}
				pd.Changes = append(pd.Changes, goChange{Level: level, Package: rel, Message: c.Message})
			}
		}
		out = append(out, pd)
	}
	return out
}

// isAddedInterfaceMethod reports whether msg says that a method was added
// to an interface type of pkg.
func isAddedInterfaceMethod(pkg *types.Package, msg string) bool {
	m := addedMethod.FindStringSubmatch(msg)
	if m == nil {
		return false
	}
	tn, ok := pkg.Scope().Lookup(m[1]).(*types.TypeName)
	if !ok {
		return false
	}
	iface, ok := tn.Type().Underlying().(*types.Interface)
	if !ok {
		return false
	}
	for meth := range iface.Methods() {
		if meth.Name() == m[2] {
			return true
		}
	}
	return false
}
