package kratostest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The three pagination styles of the real server, reproduced with the
// Link and X-Total-Count headers it sends (testdata/exchanges/README.md).

const defaultPageSize = 250

// identitiesMaxPageSize is the largest page of listIdentities, keyset and
// legacy alike.
const identitiesMaxPageSize = 500

// keysetLink is ory/x keysetpagination.Header: a "first" link with the
// default token and, unless this is the last page, a "next" link; relative
// URLs joined by "," without a space.
func keysetLink(w http.ResponseWriter, u url.URL, size int, firstToken, nextToken string) {
	link := func(rel, token string) string {
		q := u.Query()
		q.Set("page_token", token)
		q.Set("page_size", strconv.Itoa(size))
		v := u
		v.RawQuery = q.Encode()
		return fmt.Sprintf("<%s>; rel=%q", v.String(), rel)
	}
	links := []string{link("first", firstToken)}
	if nextToken != "" {
		links = append(links, link("next", nextToken))
	}
	w.Header().Set("Link", strings.Join(links, ","))
}

// formatter writes one link for offset-based pagination.
type formatter func(u url.URL, rel string, itemsPerPage, offset int64) string

// pagePaginationLink is the formatter of ory/x pagepagination, used by the
// deprecated page/per_page mode of listIdentities (036).
func pagePaginationLink(u url.URL, rel string, limit, offset int64) string {
	q := u.Query()
	q.Set("per_page", strconv.FormatInt(limit, 10))
	q.Set("page", strconv.FormatInt(offset/limit, 10))
	u.RawQuery = q.Encode()
	return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
}

// migrationLink is the formatter of ory/x migrationpagination, the hybrid
// format of listIdentitySessions and listIdentitySchemas (074-078, 041).
func migrationLink(u url.URL, rel string, itemsPerPage, offset int64) string {
	q := u.Query()
	q.Set("page_size", strconv.FormatInt(itemsPerPage, 10))
	q.Set("page_token", offsetToken(offset))
	q.Set("per_page", strconv.FormatInt(itemsPerPage, 10))
	q.Set("page", strconv.FormatInt(offset/itemsPerPage, 10))
	u.RawQuery = q.Encode()
	return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
}

func offsetToken(offset int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"offset":"%d","v":2}`, offset)))
}

// offsetHeader is ory/x pagination.HeaderWithFormatter, quirks included: a
// "next" and a "prev" link on an empty result, and a single "first" link
// whose page size is the total when everything fits on one page.
func offsetHeader(w http.ResponseWriter, u url.URL, total int64, page, itemsPerPage int, f formatter) {
	if itemsPerPage <= 0 {
		itemsPerPage = 1
	}
	ipp := int64(itemsPerPage)
	offset := int64(page) * ipp
	var lastOffset int64
	if total%ipp == 0 {
		lastOffset = total - ipp
	} else {
		lastOffset = (total / ipp) * ipp
	}
	h := w.Header()
	h.Set("X-Total-Count", strconv.FormatInt(total, 10))
	join := func(links ...string) string { return strings.Join(links, ",") }
	if offset >= lastOffset {
		switch {
		case total == 0:
			h.Set("Link", join(
				f(u, "first", ipp, 0),
				f(u, "next", ipp, ((offset/ipp)+1)*ipp),
				f(u, "prev", ipp, ((offset/ipp)-1)*ipp)))
		case total <= ipp:
			h.Set("Link", f(u, "first", total, 0))
		default:
			h.Set("Link", join(f(u, "first", ipp, 0), f(u, "prev", ipp, lastOffset-ipp)))
		}
		return
	}
	if offset < ipp {
		h.Set("Link", join(f(u, "next", ipp, ipp), f(u, "last", ipp, lastOffset)))
		return
	}
	h.Set("Link", join(
		f(u, "first", ipp, 0),
		f(u, "next", ipp, ((offset/ipp)+1)*ipp),
		f(u, "prev", ipp, ((offset/ipp)-1)*ipp),
		f(u, "last", ipp, lastOffset)))
}

// oneBasedPage is the slice [start:end] of n items that Kratos answers
// listIdentitySessions' page (0-based, as parsed) with: its persister
// hands the page number to a 1-based paginator, which takes page 0 as 1.
// Page p >= 1 thus holds the items of page p-1, while offsetHeader writes
// the links 0-based: the first page's next link leads to the first page
// again and the last page is never linked to. The client corrects this.
func oneBasedPage(page, perPage, n int) (start, end int) {
	start = min(max(page-1, 0)*perPage, n)
	return start, min(start+perPage, n)
}

// overlongPage is the slice [start:end] of n items that Kratos answers
// listIdentitySchemas' page with: it passes (page+1)*perPage as the limit
// for the offset page*perPage, so page p holds up to (p+1)*perPage items
// and overlaps the pages after it; the links are right. The client keeps
// the first perPage items of each page.
func overlongPage(page, perPage, n int) (start, end int) {
	start = min(page*perPage, n)
	return start, min(start+(page+1)*perPage, n)
}

// parseMigrationPagination is ory/x migrationpagination.ParsePagination:
// with page_token or page_size the token paginator, otherwise page and
// per_page. It never fails: bad values fall back to the defaults.
func parseMigrationPagination(q url.Values, max int) (page, perPage int) {
	if q.Has("page_token") || q.Has("page_size") {
		offset := 0
		if t := q.Get("page_token"); t != "" {
			if b, err := base64.RawURLEncoding.DecodeString(t); err == nil {
				offset = jsonOffset(string(b))
			}
		}
		perPage = parseIntOr(q.Get("page_size"), defaultPageSize)
		perPage = clamp(perPage, 1, max)
		if offset > 0 {
			page = offset / perPage
		}
		return max0(page), perPage
	}
	page = parseIntOr(q.Get("page"), 0)
	perPage = clamp(parseIntOr(q.Get("per_page"), defaultPageSize), 1, max)
	return max0(page), perPage
}

// jsonOffset reads the "offset" of a {"offset":"250","v":2} token.
func jsonOffset(s string) int {
	i := strings.Index(s, `"offset"`)
	if i < 0 {
		return 0
	}
	rest := strings.TrimLeft(s[i+len(`"offset"`):], " :\"")
	end := 0
	for end < len(rest) && (rest[end] == '-' || rest[end] >= '0' && rest[end] <= '9') {
		end++
	}
	n, _ := strconv.Atoi(rest[:end])
	return n
}

func parseIntOr(s string, def int) int {
	n, err := strconv.ParseInt(s, 10, 0)
	if err != nil {
		return def
	}
	return int(n)
}

func clamp(n, lo, hi int) int {
	return max(lo, min(n, hi))
}

func max0(n int) int { return max(n, 0) }

// --- session keyset tokens ---

// sessionTokenTimeFormat is Kratos' MapPaginationDateFormat.
const sessionTokenTimeFormat = "2006-01-02 15:04:05.99999"

var sessionFirstToken = sessionToken(nilUUID, time.Date(2200, 12, 31, 23, 59, 59, 0, time.UTC))

// sessionToken encodes a listSessions page token, as Kratos does:
// base64 of "id=<uuid>/created_at=<time>".
func sessionToken(id string, createdAt time.Time) string {
	return base64.RawURLEncoding.EncodeToString([]byte("id=" + id + "/created_at=" + createdAt.UTC().Format(sessionTokenTimeFormat)))
}

func parseSessionToken(tok string) (id string, createdAt time.Time, ok bool) {
	var b []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.StdEncoding} {
		if b, err = enc.DecodeString(tok); err == nil {
			break
		}
	}
	if err != nil {
		return "", time.Time{}, false
	}
	var gotID, gotTime bool
	for _, part := range strings.Split(string(b), "/") {
		k, v, found := strings.Cut(part, "=")
		if !found {
			return "", time.Time{}, false
		}
		switch k {
		case "id":
			if id, err = parseUUID(v); err != nil {
				return "", time.Time{}, false
			}
			gotID = true
		case "created_at":
			if createdAt, err = time.ParseInLocation("2006-01-02 15:04:05", v, time.UTC); err != nil {
				return "", time.Time{}, false
			}
			gotTime = true
		default:
			return "", time.Time{}, false
		}
	}
	return id, createdAt, gotID && gotTime
}
