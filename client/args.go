package client

import (
	"encoding/json"
	"fmt"
	"strings"
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

// checkJSON validates a free-form JSON field that must be present.
func checkRequiredJSON(op, arg string, raw json.RawMessage) error {
	if len(raw) == 0 {
		return &ArgumentError{Op: op, Argument: arg, Reason: "required"}
	}
	return checkOptionalJSON(op, arg, raw)
}

func checkOptionalJSON(op, arg string, raw json.RawMessage) error {
	if len(raw) > 0 && !json.Valid(raw) {
		return &ArgumentError{Op: op, Argument: arg, Reason: "not valid JSON"}
	}
	return nil
}

func checkNotBlank(op, arg, v string) error {
	if strings.TrimSpace(v) == "" {
		return &ArgumentError{Op: op, Argument: arg, Reason: "required"}
	}
	return nil
}

// checkDuration validates a Kratos expires_in value ("15m", "1h30m" when
// compound is true).
func checkDuration(op, arg, v string, compound bool) error {
	if v == "" {
		return nil
	}
	units := 0
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		if j == i {
			return badDuration(op, arg, v, compound)
		}
		k := j
		for k < len(v) && (v[k] < '0' || v[k] > '9') {
			k++
		}
		switch v[j:k] {
		case "ns", "us", "ms", "s", "m", "h":
		default:
			return badDuration(op, arg, v, compound)
		}
		if strings.Trim(v[i:j], "0") != "" {
			units++
		}
		i = k
		if !compound && i < len(v) {
			return badDuration(op, arg, v, compound)
		}
	}
	if units == 0 {
		return &ArgumentError{Op: op, Argument: arg, Reason: fmt.Sprintf("%q is not a positive duration", v)}
	}
	return nil
}

func badDuration(op, arg, v string, compound bool) error {
	want := `a number and a unit (ns, us, ms, s, m, h), like "15m"`
	if compound {
		want += ` or "1h30m"`
	}
	return &ArgumentError{Op: op, Argument: arg, Reason: fmt.Sprintf("%q is not %s", snippet([]byte(v), 64), want)}
}
