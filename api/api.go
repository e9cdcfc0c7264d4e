// Package api holds the OpenAPI 3.0 document of the Kratos identity-admin API
// that the SDK is generated from, embedded so that tests, the fake server and
// the validating transport check traffic against exactly this document.
package api

import _ "embed"

// Spec is api/kratos-admin.yaml as it was when the program was built.
//
//go:embed kratos-admin.yaml
var Spec []byte
