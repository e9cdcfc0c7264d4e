// Package termsafe is the one quoting of untrusted text for terminals:
// whatever the CLI prints that came from a server (error messages, traits,
// external ids) or from an input file (identifiers) goes through Text, so
// that no escape sequence, control character or bidirectional override
// reaches the terminal as such.
package termsafe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s with every rune a terminal would act on instead of print
// written as a visible Go escape: C0 and C1 controls and DEL (ESC is \x1b,
// a line break \n), Unicode format characters (bidirectional overrides such
// as U+202E, zero-width characters) and other non-printable runes, and
// bytes that are not UTF-8 (\xff). Printable text, spaces, backslashes and
// non-ASCII letters pass unchanged, so that Text is idempotent: a message
// quoted where it was made (the client's errors) and again where it is
// printed (the CLI) reads the same.
func Text(s string) string {
	if safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&15, 16))
		case r == ' ' || (unicode.IsPrint(r) && r != utf8.RuneError):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\u202e', '\n'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// safe reports whether s is printable ASCII, the common case, which Text
// returns as is.
func safe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return true
}
