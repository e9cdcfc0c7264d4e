package client

import (
	"net/http"
	"strings"
	"testing"
)

// TestErrorSnippetSurvivesInvalidUTF8: an error page that is not UTF-8 (a
// Latin-1 proxy page, binary garbage) still shows its text, with "?" for
// the bytes that cannot be shown, instead of a snippet cut at the first
// such byte.
func TestErrorSnippetSurvivesInvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		body string
		want string
	}{
		{"<html><body>Erreur \xe9chou\xe9e du serveur amont " + strings.Repeat("x", 300) + "</body></html>", `"<html><body>Erreur ?chou?e du serveur amont xxx`},
		{"\xff\xfe upstream reset " + strings.Repeat("y", 300), `"? upstream reset yyy`},
		{strings.Repeat("a", 199) + "é" + strings.Repeat("b", 10), `"` + strings.Repeat("a", 199) + `"`}, // é cut in half at byte 200
	} {
		e := newError(http.MethodGet, "/admin/identities", http.StatusBadGateway, http.Header{"Content-Type": {"text/html; charset=iso-8859-1"}}, []byte(tc.body))
		if msg := e.Error(); !strings.Contains(msg, tc.want) {
			t.Errorf("Error() = %q, want it to contain %q", msg, tc.want)
		}
	}
}

// TestErrorMessageIsOneLine: a server message with line breaks cannot
// forge extra lines in a log, and a huge one is cut.
func TestErrorMessageIsOneLine(t *testing.T) {
	body := `{"error":{"code":400,"message":"first\nlevel=ERROR msg=forged\r\n` + strings.Repeat("long ", 1000) + `"}}`
	e := newError(http.MethodPost, "/admin/identities", http.StatusBadRequest, http.Header{"Content-Type": {"application/json"}}, []byte(body))
	msg := e.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("Error() spans lines: %q", msg)
	}
	if !strings.HasPrefix(msg, "kratos: POST /admin/identities: 400 Bad Request: first level=ERROR msg=forged long long") || len(msg) > 400 {
		t.Errorf("Error() = %q (%d bytes)", msg, len(msg))
	}
	if !strings.HasPrefix(e.Message, "first\nlevel") {
		t.Errorf("Message field changed: %q", e.Message[:20])
	}
}

// TestErrorContentTypeIsPrintable: a Content-Type header with bytes that
// are not UTF-8 (headers may carry any) does not make Error() invalid
// UTF-8.
func TestErrorContentTypeIsPrintable(t *testing.T) {
	e := newError(http.MethodGet, "/admin/identities", http.StatusConflict, http.Header{"Content-Type": {"text/\xddhtml"}}, []byte("0"))
	if msg := e.Error(); msg != `kratos: GET /admin/identities: 409 Conflict: unexpected text/?html body: "0"` {
		t.Errorf("Error() = %q", msg)
	}
}
