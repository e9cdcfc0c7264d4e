package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Page is one page of a list.
type Page[T any] struct {
	// Items on this page, in server order.
	Items []T
	// NextPageToken fetches the following page when passed as the
	// PageToken parameter. It is empty on the last page. An empty page has
	// no next page, even when the server sent a next link (some Kratos
	// lists always do).
	NextPageToken string
	// TotalCount is the X-Total-Count header, or -1 when the server did not
	// send one (keyset-paginated identities and sessions).
	TotalCount int64
}

// MaxPageSize is the largest page size the server honours for sessions,
// identity sessions and schemas; larger sizes are sent but get pages of
// this size.
const MaxPageSize = 1000

// MaxIdentitiesPageSize is the largest page size Kratos honours for
// identities (listIdentities clamps page_size and per_page to it).
const MaxIdentitiesPageSize = 500

// listPage fetches one page of a list endpoint.
func listPage[T any](ctx context.Context, c *Client, cl *call) (*Page[T], error) {
	resp, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	defer resp.release()
	page := &Page[T]{TotalCount: -1}
	if err := c.decode(cl, resp, &page.Items); err != nil {
		return nil, err
	}
	if tc := resp.header.Get("X-Total-Count"); tc != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(tc), 10, 64)
		if err != nil || n < 0 {
			return nil, &ResponseError{Method: cl.method, Path: cl.path, StatusCode: resp.status, ContentType: resp.header.Get("Content-Type"), Err: fmt.Errorf("invalid X-Total-Count header %q", tc)}
		}
		page.TotalCount = n
	}
	next, err := nextPageToken(resp.header)
	if err != nil {
		return nil, &ResponseError{Method: cl.method, Path: cl.path, StatusCode: resp.status, ContentType: resp.header.Get("Content-Type"), Err: err}
	}
	if len(page.Items) > 0 {
		page.NextPageToken = next
	}
	if cl.fix != nil {
		fixPage(cl.fix, page)
	}
	return page, nil
}

// defaultPageSize is the server's page size when none is given.
const defaultPageSize = 250

// pageFlaw names a way in which Kratos v26.2.0 pages a list wrongly (see
// the package documentation, "Paging flaws of Kratos").
type pageFlaw uint8

const (
	// flawOneBased is listIdentitySessions': the server reads the page
	// number (page_token's offset divided by page_size) as 1-based, page 0
	// being page 1 as well, but writes its Link header 0-based. Its next
	// link from the first page leads to the first page again, and the
	// last page is never linked to.
	flawOneBased pageFlaw = iota + 1
	// flawOverlong is listIdentitySchemas': page p holds up to (p+1)*size
	// items from offset p*size, so pages after the first overlap the
	// following ones. The links are right.
	flawOverlong
)

// pageFix corrects one page of a list with a paging flaw.
type pageFix struct {
	flaw  pageFlaw
	size  int64  // the page size asked for, 0 for the server default
	token string // the page token sent, "" for the first page
}

// fixPage corrects page, fetched with f's parameters, in place.
func fixPage[T any](f *pageFix, page *Page[T]) {
	// The size the server pages with: the default when none was sent,
	// otherwise the one sent, clamped to 1..MaxPageSize.
	size := f.size
	if size == 0 {
		size = defaultPageSize
	}
	size = max(1, min(size, MaxPageSize))
	switch f.flaw {
	case flawOverlong:
		// Items past the page size belong to the following pages, which
		// the next link reaches.
		if int64(len(page.Items)) > size {
			clear(page.Items[size:])
			page.Items = page.Items[:size]
		}
	case flawOneBased:
		var offset int64
		if f.token != "" {
			o, ok := parseOffsetToken(f.token)
			if !ok {
				return // not a token of this server's: keep its link
			}
			offset = o
		}
		// The page the server answered with (0-based), and the token it
		// needs to answer with the one after it.
		served := max(offset/size-1, 0)
		end := served*size + int64(len(page.Items))
		more := int64(len(page.Items)) >= size
		if page.TotalCount >= 0 {
			more = end < page.TotalCount
		}
		page.NextPageToken = ""
		if more && len(page.Items) > 0 {
			page.NextPageToken = offsetToken((served + 2) * size)
		}
	}
}

// offsetToken is the page token of Kratos' hybrid (migration) pagination
// for an offset: base64url of {"offset":"N","v":2}, as its Link headers
// carry it.
func offsetToken(offset int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(`{"offset":"` + strconv.FormatInt(offset, 10) + `","v":2}`))
}

// parseOffsetToken reads the offset of an offsetToken.
func parseOffsetToken(tok string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(tok, "="))
	if err != nil {
		return 0, false
	}
	var t struct {
		Offset json.Number `json:"offset"`
		V      int         `json:"v"`
	}
	if json.Unmarshal(b, &t) != nil || t.V != 2 {
		return 0, false
	}
	n, err := strconv.ParseInt(t.Offset.String(), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// listAll is the body of the List iterators. legacy reports deprecated
// page/per_page parameters, which cannot walk; build makes the call for
// the current parameters, whose page token lives in *token. The parameters
// are checked once before the walk starts.
func listAll[T any](ctx context.Context, c *Client, op string, legacy bool, token *string, build func() (*call, error)) iter.Seq2[*T, error] {
	if legacy {
		return failSeq[T](errLegacyWalk(op))
	}
	if _, err := build(); err != nil {
		return failSeq[T](err)
	}
	return walk(*token, func(t string, page int) (*Page[T], error) {
		*token = t
		cl, err := build()
		if err != nil {
			return nil, err
		}
		cl.page = int32(min(page, 1<<31-1))
		return listPage[T](ctx, c, cl)
	})
}

// failSeq is an iterator that yields one error.
func failSeq[T any](err error) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) { yield(nil, err) }
}

// walk yields every item of every page, starting at token; fetch gets the
// page's token and its number in this walk (from 1). It stops when
// yield returns false, after an empty page or a page without a next token,
// and after yielding an error once. A token the server already handed out
// ends the walk with ErrPaginationLoop instead of looping forever.
func walk[T any](token string, fetch func(token string, n int) (*Page[T], error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		seen := map[string]struct{}{token: {}}
		for n := 1; ; n++ {
			page, err := fetch(token, n)
			if err != nil {
				yield(nil, &PageError{PageToken: token, Err: err})
				return
			}
			for i := range page.Items {
				if !yield(&page.Items[i], nil) {
					return
				}
			}
			next := page.NextPageToken
			if next == "" {
				return
			}
			if _, dup := seen[next]; dup {
				yield(nil, &PageError{PageToken: next, Err: fmt.Errorf("%w: %q came back after the page it leads to", ErrPaginationLoop, next)})
				return
			}
			seen[next] = struct{}{}
			token = next
		}
	}
}

// nextPageToken returns the page_token of the Link header's rel="next"
// entry ("" when there is none). Only the token is taken from the link,
// never its URL: a link pointing at another host changes nothing.
func nextPageToken(h http.Header) (string, error) {
	for _, v := range h.Values("Link") {
		links, err := parseLinkHeader(v)
		if err != nil {
			return "", err
		}
		for _, l := range links {
			if !l.hasRel("next") {
				continue
			}
			return pageTokenOf(l.target)
		}
	}
	return "", nil
}

func pageTokenOf(target string) (string, error) {
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	i := strings.IndexByte(target, '?')
	if i < 0 {
		return "", nil
	}
	q, err := url.ParseQuery(target[i+1:])
	if err != nil {
		return "", fmt.Errorf("malformed query in Link next target %q: %w", snippet([]byte(target), 200), err)
	}
	// A copy: the token would otherwise keep the whole Link header alive,
	// which matters where tokens are kept (walk remembers every one).
	return strings.Clone(q.Get("page_token")), nil
}

type link struct {
	target string
	rels   string // space-separated relation types
}

func (l link) hasRel(rel string) bool {
	for _, r := range strings.Fields(l.rels) {
		if strings.EqualFold(r, rel) {
			return true
		}
	}
	return false
}

var errMalformedLink = errors.New("malformed Link header")

// parseLinkHeader parses an RFC 8288 Link header value:
//
//	<uri>; rel="next"; title="x", <uri2>; rel=first
func parseLinkHeader(v string) ([]link, error) {
	var links []link
	s := v
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return links, nil
		}
		if s[0] != '<' {
			return nil, fmt.Errorf("%w %q: expected '<' at %q", errMalformedLink, snippet([]byte(v), 200), snippet([]byte(s), 40))
		}
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return nil, fmt.Errorf("%w %q: unterminated '<'", errMalformedLink, snippet([]byte(v), 200))
		}
		l := link{target: strings.TrimSpace(s[1:end])}
		s = s[end+1:]
		// Parameters up to the next top-level comma.
		for {
			s = strings.TrimLeft(s, " \t")
			if s == "" || s[0] == ',' {
				break
			}
			if s[0] != ';' {
				return nil, fmt.Errorf("%w %q: expected ';' or ',' at %q", errMalformedLink, snippet([]byte(v), 200), snippet([]byte(s), 40))
			}
			s = strings.TrimLeft(s[1:], " \t")
			eq := strings.IndexAny(s, "=;,")
			name := s
			if eq >= 0 {
				name = s[:eq]
			}
			name = strings.TrimSpace(name)
			var value string
			if eq >= 0 && s[eq] == '=' {
				s = strings.TrimLeft(s[eq+1:], " \t")
				if strings.HasPrefix(s, `"`) {
					val, rest, ok := unquote(s)
					if !ok {
						return nil, fmt.Errorf("%w %q: unterminated quoted parameter", errMalformedLink, snippet([]byte(v), 200))
					}
					value, s = val, rest
				} else {
					stop := strings.IndexAny(s, ";,")
					if stop < 0 {
						stop = len(s)
					}
					value, s = strings.TrimSpace(s[:stop]), s[stop:]
				}
			} else if eq >= 0 {
				s = s[eq:]
			} else {
				s = ""
			}
			if strings.EqualFold(name, "rel") && l.rels == "" {
				l.rels = value
			}
		}
		links = append(links, l)
	}
}

// unquote reads a quoted-string at the start of s.
func unquote(s string) (val, rest string, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", false
}

// errLegacyWalk refuses deprecated page/per_page parameters in iterators,
// which page with page_token and would otherwise silently stop early.
func errLegacyWalk(op string) error {
	return &ArgumentError{Op: op, Argument: "params", Reason: "Page and PerPage (deprecated) cannot be used to walk all pages; use PageSize and PageToken"}
}
