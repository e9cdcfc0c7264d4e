// Package examples holds runnable programs that use only the SDK's public
// API. The quickstart is the README's code, kept compiling by this test.
package examples

import (
	"os"
	"regexp"
	"testing"
)

func TestREADMEQuickstartIsTheCompiledExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Quickstart\n\n```go\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no Quickstart Go block")
	}
	prog, err := os.ReadFile("quickstart/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(m[1]) != string(prog) {
		t.Fatal("README quickstart and examples/quickstart/main.go differ; keep them identical")
	}
}
