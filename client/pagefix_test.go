package client

import (
	"slices"
	"testing"
)

// TestFixPageOneBased pins the correction of listIdentitySessions' paging
// (package doc, "Paging flaws of Kratos") for the tokens it can meet.
func TestFixPageOneBased(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size      int64
		token     string
		items     int
		total     int64
		serverTok string // the server's next token
		want      string
	}{
		{"first page, more", 2, "", 2, 5, offsetToken(2), offsetToken(4)},
		{"second page, more", 2, offsetToken(4), 2, 5, offsetToken(6), offsetToken(6)},
		// The server sends no next link here (its links are 0-based).
		{"second to last page", 2, offsetToken(4), 2, 5, "", offsetToken(6)},
		{"last page", 2, offsetToken(6), 1, 5, "", ""},
		{"exact fit", 5, "", 5, 5, "", ""},
		{"default size", 0, "", 250, 251, offsetToken(250), offsetToken(500)},
		// A real Kratos v26.2.0 pages a negative page_size by 1 (its
		// first page's next link is offset 1, as for page_size=1).
		{"negative size pages by 1", -3, "", 1, 3, offsetToken(1), offsetToken(2)},
		{"no total: full page", 2, "", 2, -1, offsetToken(2), offsetToken(4)},
		{"no total: short page", 2, offsetToken(4), 1, -1, "", ""},
		{"empty page", 2, offsetToken(8), 0, 5, "x", ""},
		{"the server's own first-page token", 1, offsetToken(1), 1, 3, offsetToken(2), offsetToken(2)},
		{"foreign token keeps the server's link", 2, "not-a-token", 2, 5, "srv", "srv"},
		{"other version keeps the server's link", 2, "eyJvZmZzZXQiOiIyIiwidiI6M30", 2, 5, "srv", "srv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Page[int]{Items: make([]int, tc.items), TotalCount: tc.total, NextPageToken: tc.serverTok}
			fixPage(&pageFix{flaw: flawOneBased, size: tc.size, token: tc.token}, p)
			if p.NextPageToken != tc.want {
				t.Errorf("next token %q, want %q", p.NextPageToken, tc.want)
			}
			if len(p.Items) != tc.items {
				t.Errorf("%d items, want %d", len(p.Items), tc.items)
			}
		})
	}
}

func TestFixPageOverlong(t *testing.T) {
	p := &Page[int]{Items: []int{2, 3, 4}, NextPageToken: "next"}
	fixPage(&pageFix{flaw: flawOverlong, size: 1}, p)
	if !slices.Equal(p.Items, []int{2}) || p.NextPageToken != "next" {
		t.Errorf("page %v next %q, want [2] next", p.Items, p.NextPageToken)
	}
	p = &Page[int]{Items: []int{0, 1}}
	fixPage(&pageFix{flaw: flawOverlong, size: 0}, p)
	if len(p.Items) != 2 {
		t.Errorf("default size cut %v", p.Items)
	}
}

func TestOffsetToken(t *testing.T) {
	// The token Kratos writes in its Link headers for offset 1.
	if got := offsetToken(1); got != "eyJvZmZzZXQiOiIxIiwidiI6Mn0" {
		t.Errorf("offsetToken(1) = %q", got)
	}
	for _, bad := range []string{"", "!!", "bnVsbA", offsetToken(-1), "eyJvZmZzZXQiOiJ4IiwidiI6Mn0"} {
		if n, ok := parseOffsetToken(bad); ok {
			t.Errorf("parseOffsetToken(%q) = %d, ok", bad, n)
		}
	}
	if n, ok := parseOffsetToken(offsetToken(750)); !ok || n != 750 {
		t.Errorf("round trip: %d %v", n, ok)
	}
}
