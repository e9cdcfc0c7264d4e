package client_test

// Pagination under faults: a failure in the middle of a walk, resuming
// from the failed page, a server that repeats a page token, and an empty
// page with a next link.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// pagedIDs are the identities the paging server lists, in order.
var pagedIDs = func() []string {
	ids := make([]string, 11)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
	}
	return ids
}()

// pager serves pagedIDs with keyset pagination like Kratos: the token of a
// page is the id of its first item. fail decides, per request, whether to
// answer with a fault instead.
type pager struct {
	mu     sync.Mutex
	tokens []string // page_token of every request, in order
	fail   func(token string, n int) (status int, fail bool)
	seen   map[string]int
}

func (p *pager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tok := q.Get("page_token")
	p.mu.Lock()
	p.tokens = append(p.tokens, tok)
	if p.seen == nil {
		p.seen = map[string]int{}
	}
	p.seen[tok]++
	n := p.seen[tok]
	p.mu.Unlock()
	if p.fail != nil {
		if status, ok := p.fail(tok, n); ok {
			writeJSON(w, status, fmt.Sprintf(`{"error":{"code":%d,"message":"injected"}}`, status))
			return
		}
	}
	size, _ := strconv.Atoi(q.Get("page_size"))
	if size <= 0 {
		size = 250
	}
	start := 0
	if tok != "" {
		start = slices.Index(pagedIDs, tok)
		if start < 0 {
			writeJSON(w, 400, `{"error":{"code":400,"message":"bad page token"}}`)
			return
		}
	}
	end := min(start+size, len(pagedIDs))
	if end < len(pagedIDs) {
		w.Header().Set("Link", fmt.Sprintf(`<%s?page_size=%d&page_token=%s>; rel="next"`, r.URL.Path, size, url.QueryEscape(pagedIDs[end])))
	}
	writeJSON(w, 200, identityPage(pagedIDs[start:end]...))
}

func (p *pager) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.tokens)
}

// collect ranges over seq and returns the ids it yielded and the errors.
// It checks that nothing is yielded after an error.
func collect[T any](t *testing.T, seq iter.Seq2[*T, error], id func(*T) string) (ids []string, errs []error) {
	t.Helper()
	for v, err := range seq {
		if len(errs) > 0 {
			t.Fatalf("yielded %v, %v after the error %v", v, err, errs[0])
		}
		if err != nil {
			if v != nil {
				t.Errorf("an error came with a value")
			}
			errs = append(errs, err)
			continue
		}
		ids = append(ids, id(v))
	}
	return ids, errs
}

func identityID(i *client.Identity) string { return i.ID }

// TestPaginationFailureMidWalkResumes: whatever breaks a page in the middle
// of a walk, the walk yields the items of the pages before it, then the
// error once, as a *PageError whose PageToken is the failed page's token,
// and stops. Resuming with that token yields exactly the rest: together
// every item once, in order.
func TestPaginationFailureMidWalkResumes(t *testing.T) {
	failAt := pagedIDs[6] // the token of the fourth page of 2
	for _, tc := range []struct {
		name   string
		status int
		times  int // how many requests for failAt fail
		check  func(t *testing.T, err error)
	}{
		{"500, not retried", 500, 1, func(t *testing.T, err error) {
			if asError(t, err).StatusCode != 500 {
				t.Error(err)
			}
		}},
		{"503 past the retries", 503, 3, func(t *testing.T, err error) {
			if !errors.Is(err, client.ErrServerError) {
				t.Error(err)
			}
		}},
		{"200 that is not JSON", 200, 1, func(t *testing.T, err error) { asResponseError(t, err) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &pager{fail: func(tok string, n int) (int, bool) {
				return tc.status, tok == failAt && n <= tc.times
			}}
			srv, _ := serve(t, p.ServeHTTP)
			c := newClient(t, srv.URL, fastRetries(3))
			ctx := ctxTimeout(t, 10*time.Second)

			got, errs := collect(t, c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 2}), identityID)
			if !slices.Equal(got, pagedIDs[:6]) {
				t.Errorf("before the failure: %q, want %q", got, pagedIDs[:6])
			}
			if len(errs) != 1 {
				t.Fatalf("%d errors, want 1", len(errs))
			}
			var pe *client.PageError
			if !errors.As(errs[0], &pe) || pe.PageToken != failAt {
				t.Fatalf("want a *PageError for page %q, got %v", failAt, errs[0])
			}
			if !strings.Contains(pe.Error(), strconv.Quote(failAt)) {
				t.Errorf("message %q does not name the page", pe.Error())
			}
			tc.check(t, pe.Err)

			rest, errs := collect(t, c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 2, PageToken: pe.PageToken}), identityID)
			if len(errs) != 0 {
				t.Fatalf("resumed walk failed: %v", errs)
			}
			if all := append(got, rest...); !slices.Equal(all, pagedIDs) {
				t.Errorf("walk then resume gave %q, want every item once: %q", all, pagedIDs)
			}
			// Every page was asked for once, but the failed one: once per
			// failed attempt, and once more on resuming.
			counts := map[string]int{}
			for _, tok := range p.requests() {
				counts[tok]++
			}
			for tok, n := range counts {
				if want := map[bool]int{true: tc.times + 1, false: 1}[tok == failAt]; n != want {
					t.Errorf("page %q fetched %d times, want %d", tok, n, want)
				}
			}
			if len(counts) != 6 {
				t.Errorf("%d distinct pages fetched, want 6", len(counts))
			}
		})
	}
}

// TestPaginationRepeatedToken: a server whose next link leads back to a
// page already fetched ends the walk with ErrPaginationLoop (once, as a
// *PageError naming the repeated token) instead of looping; every page's
// items are yielded once. Checked on the sessions walk; all walks share
// the code.
func TestPaginationRepeatedToken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start string
		next  map[string]string // page token -> next token
		reqs  []string          // page tokens requested
	}{
		{"back to an earlier page", "", map[string]string{"": "a", "a": "b", "b": "a"}, []string{"", "a", "b"}},
		{"to itself", "", map[string]string{"": "a", "a": "a"}, []string{"", "a"}},
		{"back to the resume token", "r", map[string]string{"r": "s", "s": "r"}, []string{"r", "s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var reqs []string
			srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
				tok := r.URL.Query().Get("page_token")
				mu.Lock()
				reqs = append(reqs, tok)
				mu.Unlock()
				w.Header().Set("Link", `</admin/sessions?page_token=`+tc.next[tok]+`>; rel="next"`)
				writeJSON(w, 200, `[{"id":"session-`+tok+`"}]`)
			})
			c := newClient(t, srv.URL, fastRetries(3))
			got, errs := collect(t, c.Sessions.List(ctxTimeout(t, 5*time.Second), &client.ListSessionsParams{PageToken: tc.start}),
				func(s *client.Session) string { return strings.TrimPrefix(s.ID, "session-") })
			if !slices.Equal(got, tc.reqs) || !slices.Equal(reqs, tc.reqs) {
				t.Errorf("items of pages %q after requests %q, want %q", got, reqs, tc.reqs)
			}
			if len(errs) != 1 || !errors.Is(errs[0], client.ErrPaginationLoop) {
				t.Fatalf("errors %v, want one ErrPaginationLoop", errs)
			}
			var pe *client.PageError
			if !errors.As(errs[0], &pe) || pe.PageToken != tc.next[tc.reqs[len(tc.reqs)-1]] {
				t.Errorf("want a *PageError for the repeated token, got %#v", errs[0])
			}
		})
	}
}

// TestPaginationEmptyPageEndsWalk: an empty page ends the walk even when
// it carries a next link (some Kratos lists always send one), and ListPage
// reports no next token for it.
func TestPaginationEmptyPageEndsWalk(t *testing.T) {
	var mu sync.Mutex
	var reqs []string
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("page_token")
		mu.Lock()
		reqs = append(reqs, tok)
		mu.Unlock()
		switch tok {
		case "":
			w.Header().Set("Link", `</admin/identities?page_token=t1>; rel="next"`)
			writeJSON(w, 200, identityPage(pagedIDs[:2]...))
		default:
			w.Header().Set("Link", `</admin/identities?page_token=t2>; rel="next"`)
			writeJSON(w, 200, `[]`)
		}
	})
	c := newClient(t, srv.URL, fastRetries(3))
	got, errs := collect(t, c.Identities.List(ctxTimeout(t, 5*time.Second), nil), identityID)
	if len(errs) != 0 || !slices.Equal(got, pagedIDs[:2]) || !slices.Equal(reqs, []string{"", "t1"}) {
		t.Errorf("items %q, errors %v, requests %q", got, errs, reqs)
	}
	page, err := c.Identities.ListPage(ctxTimeout(t, 5*time.Second), &client.ListIdentitiesParams{PageToken: "t1"})
	if err != nil || len(page.Items) != 0 || page.NextPageToken != "" {
		t.Errorf("empty page %+v, %v: want no next token", page, err)
	}
}

// TestPaginationBreakStopsFetching: a loop that breaks early fetches no
// further page.
func TestPaginationBreakStopsFetching(t *testing.T) {
	p := &pager{}
	srv, _ := serve(t, p.ServeHTTP)
	c := newClient(t, srv.URL)
	n := 0
	for _, err := range c.Identities.List(ctxTimeout(t, 5*time.Second), &client.ListIdentitiesParams{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	if reqs := p.requests(); len(reqs) != 2 {
		t.Errorf("requests %q, want the first two pages only", reqs)
	}
}

// TestPaginationCancelledContext: cancelling the context in the middle of
// a walk ends it with one *PageError matching context.Canceled.
func TestPaginationCancelledContext(t *testing.T) {
	p := &pager{}
	srv, _ := serve(t, p.ServeHTTP)
	c := newClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errs []error
	n := 0
	for _, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 2}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if n++; n == 2 {
			cancel()
		}
	}
	var pe *client.PageError
	if len(errs) != 1 || !errors.As(errs[0], &pe) || !errors.Is(errs[0], context.Canceled) || pe.PageToken != pagedIDs[2] {
		t.Errorf("errors %v, want one *PageError for %q matching context.Canceled", errs, pagedIDs[2])
	}
}
