package client

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// isUUID reports whether s is a UUID in canonical 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
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

// escapeSegment escapes one path segment so that no value can reach
// another path: "/", "?", "#" and "%" are escaped, and the dot segments
// "." and ".." (which URL resolution would collapse) become %2E.
func escapeSegment(s string) string {
	switch s {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}

// pathWith returns the decoded and escaped forms of prefix+segment+suffix
// (rawPath is "" when both are the same).
func pathWith(prefix, segment, suffix string) (path, rawPath string) {
	esc := escapeSegment(segment)
	path = prefix + segment + suffix
	if esc == segment {
		return path, ""
	}
	return path, prefix + esc + suffix
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
		if !e.Valid() {
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
	if len(raw) > 0 && !json.Valid(raw) {
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
