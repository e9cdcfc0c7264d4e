package contract

import "testing"

// TestRequestUUIDFormat: the request "uuid" format admits exactly the forms
// a real Kratos v26.2.0 answers with a 200 for an existing identity
// (GET /admin/identities/{id}); the refused ones it answers 404.
func TestRequestUUIDFormat(t *testing.T) {
	const id, hex = "4e3bd319-80a4-4da8-b654-16484bbf06fd", "4e3bd31980a44da8b65416484bbf06fd"
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{id, true},
		{"4E3BD319-80A4-4DA8-B654-16484BBF06FD", true},
		{hex, true},
		{"{" + id + "}", true},
		{"{" + hex + "}", true},
		{"urn:uuid:" + id, true},
		{"urn:uuid:" + hex, true},
		{"{" + id, false},
		{id + "}", false},
		{"urn:uuid:{" + id + "}", false},
		{"urn:uuid:", false},
		{"{}", false},
		{id[:35], false},
		{"4e3bd319-80a4-4da8-b654-16484bbf06fg", false},
		{"", false},
	} {
		if err := requestUUIDFormat.Validate(tc.v); (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want accepted %v", tc.v, err, tc.ok)
		}
	}
}
