// Package ogen is github.com/ogen-go/ogen's client for the Kratos admin API,
// generated from the SDK's own spec (../../api/kratos-admin.yaml) by
// `go generate ./...` in the bench module. It is the fourth implementation
// the benchmarks compare (README.md).
package ogen

//go:generate go run github.com/ogen-go/ogen/cmd/ogen --target . --package ogen --clean ../../api/kratos-admin.yaml
