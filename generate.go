// Package sdk is the root of the Kratos identity-admin SDK. Import
// github.com/kratosadmin/sdk/client to call the API and
// github.com/kratosadmin/sdk/kratostest for an in-memory server in tests.
//
// The models, request builders and server interface in gen/ are generated from
// api/kratos-admin.yaml by oapi-codegen, and the models' JSON codecs
// (gen/codecs.gen.go) from those models by internal/codecgen:
//
//	go generate ./...
package sdk

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/oapi-codegen.yaml api/kratos-admin.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/oapi-codegen-client.yaml api/kratos-admin.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/oapi-codegen-server.yaml api/kratos-admin.yaml
//go:generate go run ./internal/codecgen -in gen/models.gen.go -out gen/codecs.gen.go
