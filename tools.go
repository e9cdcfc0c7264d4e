//go:build tools

// Package tools pins build-time tools in go.mod so that `go generate` uses
// exactly the versions recorded there.
package tools

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
