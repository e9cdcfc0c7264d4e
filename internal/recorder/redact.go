package recorder

import "regexp"

// redactions are what Redact replaces in a recorded exchange file (indented
// JSON as Do writes it): credentials a recording must not keep, from a
// throwaway server or a user's own.
var redactions = []struct {
	re   *regexp.Regexp
	repl string
}{
	// Cookies and credentials in headers, request or response.
	{regexp.MustCompile(`("(?i:set-cookie|cookie|authorization|x-session-token)":\s*)"(?:[^"\\]|\\.)*"`), `${1}"[REDACTED]"`},
	// Members whose string value is a secret: session tokens, CSRF tokens,
	// recovery codes and lookup-secret codes, tokens.
	{regexp.MustCompile(`("(?:session_token|csrf_token|recovery_code|code|token)":\s*)"(?:[^"\\]|\\.)+"`), `${1}"[REDACTED]"`},
	// A login form's CSRF field (a UI node named csrf_token) with a value.
	{regexp.MustCompile(`("name":\s*"csrf_token",\s*"type":\s*"hidden",\s*"value":\s*)"(?:[^"\\]|\\.)+"`), `${1}"[REDACTED]"`},
	// The token of a recovery (or any) link: ?token= or &token=.
	{regexp.MustCompile(`([?&]token=)[^&"\s\\#]+`), `${1}REDACTED`},
}

// Redact returns a recorded exchange file (as Do writes it) with session
// tokens, cookies, CSRF tokens, recovery and lookup codes and link tokens
// replaced by [REDACTED] (REDACTED inside a URL). Everything else, key
// order and layout included, is kept, so the file replays as before: the
// fake and the client take a redacted value for what it stands for. Applying
// it twice changes nothing.
func Redact(file []byte) []byte {
	for _, r := range redactions {
		file = r.re.ReplaceAll(file, []byte(r.repl))
	}
	return file
}
