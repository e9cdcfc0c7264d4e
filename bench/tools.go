//go:build tools

// Package bench pins the ogen generator in go.mod, so that `go generate` in
// this module uses exactly the version recorded there.
package bench

import (
	_ "github.com/ogen-go/ogen/cmd/ogen"
)
