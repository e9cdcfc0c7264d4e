package termsafe_test

import (
	"testing"
	"unicode"

	"github.com/kratosadmin/sdk/internal/termsafe"
)

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.org":                     "alice@example.org",
		"Jörg Müller 日本":                        "Jörg Müller 日本",
		"ext\x1b]0;PWNED\x07\x1b[2J":            `ext\x1b]0;PWNED\a\x1b[2J`,
		"line\nbreak\rreturn\ttab":              `line\nbreak\rreturn\ttab`,
		"c1 \u009b31m csi":                      `c1 \u009b31m csi`,
		"del\x7f":                               `del\x7f`,
		"bidi \u202egnp.exe":                    `bidi \u202egnp.exe`,
		"zero\u200bwidth\ufeff":                 `zero\u200bwidth\ufeff`,
		"bad utf-8 \xff\xc3":                    `bad utf-8 \xff\xc3`,
		`back\slash \x1b`:                       `back\slash \x1b`,
		"":                                      "",
		"\U0001F600 emoji":                      "\U0001F600 emoji",
		"nbsp\u00a0and line separator\u2028end": `nbsp\u00a0and line separator\u2028end`,
	} {
		if got := termsafe.Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzText: whatever goes in, nothing a terminal acts on comes out.
func FuzzText(f *testing.F) {
	f.Add("ext\x1b]0;PWNED\x07")
	f.Add("\u202e\xff\\")
	f.Fuzz(func(t *testing.T, s string) {
		out := termsafe.Text(s)
		if termsafe.Text(out) != out {
			t.Fatalf("Text is not idempotent on %q", s)
		}
		for _, r := range out {
			if r != ' ' && (r > unicode.MaxASCII || r < ' ' || r == 0x7f) && !unicode.IsPrint(r) {
				t.Fatalf("Text(%q) keeps %U", s, r)
			}
		}
	})
}
