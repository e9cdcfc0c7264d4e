package client

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/kratosadmin/sdk/internal/jsonwire"
)

// isUUID reports whether s is a UUID in one of the text forms Kratos
// parses (gofrs/uuid): canonical 8-4-4-4-12 hex, 32 hex digits, either of
// those in braces or after "urn:uuid:". Hex digits may be upper case.
func isUUID(s string) bool {
	if rest, ok := strings.CutPrefix(s, "urn:uuid:"); ok {
		return isPlainUUID(rest)
	}
	if len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' {
		return isPlainUUID(s[1 : len(s)-1])
	}
	return isPlainUUID(s)
}

// isPlainUUID reports whether s is 8-4-4-4-12 or 32 hex digits.
func isPlainUUID(s string) bool {
	switch len(s) {
	case 32:
		return isHex(s)
	case 36:
		for _, i := range []int{8, 13, 18, 23} {
			if s[i] != '-' {
				return false
			}
		}
		return isHex(s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	}
	return false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func checkUUID(op, arg, v string) error {
	if v == "" {
		return &ArgumentError{Op: op, Argument: arg, Reason: "empty, want a UUID"}
	}
	if !isUUID(v) {
		return &ArgumentError{Op: op, Argument: arg, Reason: fmt.Sprintf("%q is not a UUID", snippet([]byte(v), 64))}
	}
	return nil
}

// checkSegment validates a free-form path parameter (an external id, a
// schema id). The generated builders escape it as one path segment ("/",
// "?", "#" and "%" included), but they resolve the path against the server
// URL, which collapses the dot segments "." and "..": those would address
// another endpoint and are refused, as is an empty value.
func checkSegment(op, arg, v string) error {
	switch v {
	case "":
		return &ArgumentError{Op: op, Argument: arg, Reason: "empty"}
	case ".", "..":
		return &ArgumentError{Op: op, Argument: arg, Reason: fmt.Sprintf("%q is a dot segment: it would address another endpoint", v)}
	}
	return nil
}

func checkCredentialTypes(op, arg string, types []IdentityCredentialsType) error {
	for i, t := range types {
		if !t.Valid() {
			return &ArgumentError{Op: op, Argument: fmt.Sprintf("%s[%d]", arg, i), Reason: fmt.Sprintf("unknown credential type %q", t)}
		}
	}
	return nil
}

func checkExpand(op string, expand []SessionExpandable) error {
	for i, e := range expand {
		// Kratos matches the names without regard to case.
		if !strings.EqualFold(string(e), string(SessionExpandIdentity)) && !strings.EqualFold(string(e), string(SessionExpandDevices)) {
			return &ArgumentError{Op: op, Argument: fmt.Sprintf("params.Expand[%d]", i), Reason: fmt.Sprintf("unknown expandable %q, want identity or devices", e)}
		}
	}
	return nil
}

func checkState(op, arg string, s IdentityState) error {
	if s != "" && !s.Valid() {
		return &ArgumentError{Op: op, Argument: arg, Reason: fmt.Sprintf("unknown state %q, want active or inactive", s)}
	}
	return nil
}

func checkOptionalJSON(op, arg string, raw json.RawMessage) error {
	if len(raw) > 0 && !jsonwire.Valid(raw) { // json.Valid's answer, faster
		return &ArgumentError{Op: op, Argument: arg, Reason: "not valid JSON"}
	}
	return nil
}

// durationPattern is the pattern Kratos looks for in an expires_in value
// (anywhere in it) before it parses the value with time.ParseDuration.
var durationPattern = regexp.MustCompile(`[0-9]+(ns|us|ms|s|m|h)`)

// checkDuration validates a Kratos expires_in value as the server does: it
// must contain a number and a unit, parse as a Go duration ("15m",
// "1h30m", "1.5h") and be positive.
func checkDuration(op, arg, v string) error {
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || !durationPattern.MatchString(v) {
		return &ArgumentError{Op: op, Argument: arg, Reason: fmt.Sprintf(`%q is not a Go duration like "15m" or "1h30m"`, snippet([]byte(v), 64))}
	}
	if d <= 0 {
		return &ArgumentError{Op: op, Argument: arg, Reason: fmt.Sprintf("%q is not a positive duration", v)}
	}
	return nil
}
