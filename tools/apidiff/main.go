// Command apidiff reports what a change of the SDK's API did, for a
// reviewer: the changes of the spec (api/kratos-admin.yaml, compared by
// oasdiff) with the breaking ones marked, and the changes of the Go API of
// the packages client, bulk, gen and kratostest (compared by
// golang.org/x/exp/apidiff). It exits 1 when a change breaks callers.
//
// It compares a git revision of the repository (the base) with the
// repository's working tree, uncommitted changes included:
//
//	go run . -repo ../.. [-base REV]     (make api-diff [BASE=REV] from the root)
//
// The base defaults to the last release tag (v*), else HEAD. The base's
// tree is extracted into bin/apidiff/ of the repository (ignored by git,
// kept between runs so the Go build cache serves its packages).
//
// A change that breaks callers on purpose is accepted by adding its report
// line, without the leading "BREAKING ", to api/apidiff-accept.txt; it is
// then reported as accepted and does not fail the check.
//
// Exit status: 0 no breaking change (or all accepted), 1 a breaking change,
// 2 the comparison could not be made.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: flags in args, the report to stdout, failures to
// stderr; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apidiff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repo := fs.String("repo", ".", "the SDK `repository`; its working tree is the revision compared")
	base := fs.String("base", "", "git `revision` to compare against (default: the last release tag v*, else HEAD)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "apidiff: unexpected arguments %q\n", fs.Args())
		return 2
	}
	res, err := compare(*repo, *base)
	if err != nil {
		fmt.Fprintf(stderr, "apidiff: %v\n", err)
		return 2
	}
	if err := res.write(stdout); err != nil {
		fmt.Fprintf(stderr, "apidiff: %v\n", err)
		return 2
	}
	if res.breaking() > 0 {
		return 1
	}
	return 0
}
