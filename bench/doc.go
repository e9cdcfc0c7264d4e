// Package bench compares the SDK with github.com/ory/client-go and with
// hand-written net/http + encoding/json code (the floor) on the same work,
// against a server that answers with pre-encoded, realistic Kratos
// responses. It is a module of its own so that the SDK's go.mod does not
// depend on the comparison SDK. See README.md.
package bench
