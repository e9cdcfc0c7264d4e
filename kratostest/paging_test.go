package kratostest_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// The paging suite walks each of the four lists at page sizes 1, 2, 3,
// total-1, total and total+1, with the iterator and with the page calls,
// and checks that every item comes exactly once. Against the fake it runs
// in make test; against a real Kratos when KRATOS_ADMIN_URL is set (make
// live-contract). Kratos v26.2.0 pages listIdentitySessions and
// listIdentitySchemas wrongly (package client, "Paging flaws of Kratos");
// the fake reproduces both flaws, so without the client's corrections this
// suite fails against the fake as it does against the real server.

// pagingSessions is how many sessions the suite's identity gets.
const pagingSessions = 5

func TestPagingExactlyOnceFake(t *testing.T) {
	// Six schemas, so that the schema list has pages to get wrong.
	opts := []kratostest.Option{kratostest.WithIdentitySchema(kratostest.DefaultSchemaID, kratostest.DefaultIdentitySchema())}
	for i := 1; i <= 5; i++ {
		opts = append(opts, kratostest.WithIdentitySchema(fmt.Sprintf("extra-%d", i), kratostest.DefaultIdentitySchema()))
	}
	srv := kratostest.NewServer(t, opts...)
	runPaging(t, srv.Client(kratostest.ValidateWith(t)), fakeTarget(srv))
}

func TestPagingExactlyOnceRealServer(t *testing.T) {
	admin := os.Getenv("KRATOS_ADMIN_URL")
	public := os.Getenv("KRATOS_PUBLIC_URL")
	if admin == "" || public == "" {
		t.Skip("set KRATOS_ADMIN_URL and KRATOS_PUBLIC_URL (and ORY_API_KEY) to walk the lists of a real Kratos")
	}
	c, tg := realTarget(t, admin, public)
	runPaging(t, c, tg)
}

func runPaging(t *testing.T, c *client.Client, tg target) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	s := &suite{target: tg, c: c, runID: hex.EncodeToString(b[:])}
	ctx := t.Context()

	// Five identities with a password; the first gets five sessions, the
	// second one more, so that the lists of all sessions and of one
	// identity's sessions differ.
	var ids []string
	for i := range 5 {
		email := s.email(fmt.Sprintf("paging-%d", i))
		created := s.create(t, &client.CreateIdentityBody{Traits: traits(email), Credentials: withPassword(password)})
		ids = append(ids, created.ID)
		n := map[int]int{0: pagingSessions, 1: 1}[i]
		for range n {
			s.newSession(t, created.ID, email, password)
		}
	}
	owner := ids[0]

	type list struct {
		name  string
		walk  func(size int64) iter.Seq2[string, error]
		pages func(size int64) ([]string, error)
		// mine are items the walk must contain (the list may hold more,
		// on a shared server).
		mine []string
	}
	lists := []list{
		{
			name: "listIdentities",
			walk: func(size int64) iter.Seq2[string, error] {
				return ids2(c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: size}), func(i *client.Identity) string { return i.ID })
			},
			pages: func(size int64) ([]string, error) {
				return walkPages(func(tok string) (*client.Page[client.Identity], error) {
					return c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: size, PageToken: tok})
				}, func(i *client.Identity) string { return i.ID })
			},
			mine: ids,
		},
		{
			name: "listSessions",
			walk: func(size int64) iter.Seq2[string, error] {
				return ids2(c.Sessions.List(ctx, &client.ListSessionsParams{PageSize: size}), func(s *client.Session) string { return s.ID })
			},
			pages: func(size int64) ([]string, error) {
				return walkPages(func(tok string) (*client.Page[client.Session], error) {
					return c.Sessions.ListPage(ctx, &client.ListSessionsParams{PageSize: size, PageToken: tok})
				}, func(s *client.Session) string { return s.ID })
			},
		},
		{
			name: "listIdentitySessions",
			walk: func(size int64) iter.Seq2[string, error] {
				return ids2(c.Identities.ListSessions(ctx, owner, &client.ListIdentitySessionsParams{PageSize: size}), func(s *client.Session) string { return s.ID })
			},
			pages: func(size int64) ([]string, error) {
				return walkPages(func(tok string) (*client.Page[client.Session], error) {
					return c.Identities.ListSessionsPage(ctx, owner, &client.ListIdentitySessionsParams{PageSize: size, PageToken: tok})
				}, func(s *client.Session) string { return s.ID })
			},
		},
		{
			name: "listIdentitySchemas",
			walk: func(size int64) iter.Seq2[string, error] {
				return ids2(c.Schemas.List(ctx, &client.ListIdentitySchemasParams{PageSize: size}), func(s *client.IdentitySchemaContainer) string { return s.ID })
			},
			pages: func(size int64) ([]string, error) {
				return walkPages(func(tok string) (*client.Page[client.IdentitySchemaContainer], error) {
					return c.Schemas.ListPage(ctx, &client.ListIdentitySchemasParams{PageSize: size, PageToken: tok})
				}, func(s *client.IdentitySchemaContainer) string { return s.ID })
			},
			mine: []string{tg.schemaID},
		},
	}
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			// The whole list in one page is the reference.
			want, err := l.pages(client.MaxPageSize)
			if err != nil {
				t.Fatal(err)
			}
			checkOnce(t, "one page of 1000", want, nil)
			for _, m := range l.mine {
				if !slices.Contains(want, m) {
					t.Fatalf("one page of 1000 lacks %s: %v", m, want)
				}
			}
			if l.name == "listIdentitySessions" && len(want) != pagingSessions {
				t.Fatalf("identity has %d sessions, want %d", len(want), pagingSessions)
			}
			total := int64(len(want))
			for _, size := range pageSizes(total) {
				var walked []string
				for id, err := range l.walk(size) {
					if err != nil {
						t.Fatalf("page size %d: %v", size, err)
					}
					walked = append(walked, id)
					if len(walked) > 3*len(want)+10 {
						break
					}
				}
				checkOnce(t, fmt.Sprintf("iterator, page size %d", size), walked, want)
				paged, err := l.pages(size)
				if err != nil {
					t.Fatalf("page size %d: %v", size, err)
				}
				checkOnce(t, fmt.Sprintf("page calls, page size %d", size), paged, want)
			}
		})
	}
	t.Run("flaws", func(t *testing.T) { pagingFlaws(t, tg, owner) })
}

// pagingFlaws pins the server's own answers, without the client: the
// flaws the client corrects are there (on the fake because it reproduces
// them, on the real server because they are its own).
func pagingFlaws(t *testing.T, tg target, owner string) {
	type page struct {
		ids   []string
		link  string
		total string
	}
	get := func(t *testing.T, base, path string) page {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := tg.rawClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		var items []struct {
			ID string `json:"id"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&items); err != nil {
			t.Fatal(err)
		}
		p := page{link: resp.Header.Get("Link"), total: resp.Header.Get("X-Total-Count")}
		for _, it := range items {
			p.ids = append(p.ids, it.ID)
		}
		t.Logf("GET %s -> %v\n\tLink: %s\n\tX-Total-Count: %s", path, p.ids, p.link, p.total)
		return p
	}
	token := func(offset int) string {
		return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"offset":"%d","v":2}`, offset))
	}

	t.Run("listIdentitySessions", func(t *testing.T) {
		path := "/admin/identities/" + owner + "/sessions"
		all := get(t, tg.adminURL, path+"?page_size=1000").ids
		if len(all) != pagingSessions {
			t.Fatalf("%d sessions", len(all))
		}
		first := get(t, tg.adminURL, path+"?page_size=1")
		if !slices.Equal(first.ids, all[:1]) || first.total != fmt.Sprint(pagingSessions) {
			t.Fatalf("first page %v total %s", first.ids, first.total)
		}
		if !strings.Contains(first.link, "page_token="+token(1)+"&") {
			t.Errorf("first page's next link %q, want the token of offset 1", first.link)
		}
		// The server's next token answers the first page again, and each
		// token answers the page before the one it names.
		for k := 1; k <= pagingSessions; k++ {
			got := get(t, tg.adminURL, fmt.Sprintf("%s?page_size=1&page_token=%s", path, token(k)))
			if !slices.Equal(got.ids, all[k-1:k]) {
				t.Errorf("token of offset %d answered %v, want %v", k, got.ids, all[k-1:k])
			}
			// The links are 0-based: no next link from the page that
			// holds the second-to-last session.
			hasNext := strings.Contains(got.link, `rel="next"`)
			if want := k < pagingSessions-1; hasNext != want {
				t.Errorf("token of offset %d: next link %v, want %v (%s)", k, hasNext, want, got.link)
			}
		}
		// The deprecated page counts from 1: pages 0 and 1 are the same.
		p0 := get(t, tg.adminURL, path+"?per_page=2&page=0")
		p1 := get(t, tg.adminURL, path+"?per_page=2&page=1")
		p2 := get(t, tg.adminURL, path+"?per_page=2&page=2")
		if !slices.Equal(p0.ids, all[:2]) || !slices.Equal(p1.ids, all[:2]) || !slices.Equal(p2.ids, all[2:4]) {
			t.Errorf("per_page=2 pages 0, 1, 2: %v %v %v; want %v %v %v", p0.ids, p1.ids, p2.ids, all[:2], all[:2], all[2:4])
		}
	})

	t.Run("listIdentitySchemas", func(t *testing.T) {
		base := tg.publicURL
		all := get(t, base, "/schemas?page_size=1000").ids
		n := len(all)
		if n < 3 {
			t.Skipf("%d schemas: too few to show the overlap", n)
		}
		// Page p holds (p+1)*size items from p*size.
		for p := range n {
			got := get(t, base, fmt.Sprintf("/schemas?page_size=1&page_token=%s", token(p)))
			want := all[p:min(p+p+1, n)]
			if !slices.Equal(got.ids, want) {
				t.Errorf("page %d of size 1: %v, want %v", p, got.ids, want)
			}
		}
		got := get(t, base, "/schemas?per_page=2&page=1")
		if want := all[2:min(6, n)]; !slices.Equal(got.ids, want) {
			t.Errorf("per_page=2 page=1: %v, want %v", got.ids, want)
		}
	})
}

// pageSizes are the sizes to walk a list of total items with.
func pageSizes(total int64) []int64 {
	var sizes []int64
	for _, n := range []int64{1, 2, 3, total - 1, total, total + 1} {
		if n >= 1 && n <= client.MaxPageSize && !slices.Contains(sizes, n) {
			sizes = append(sizes, n)
		}
	}
	return sizes
}

// checkOnce fails unless got holds each item once, and exactly the items
// of want when want is not nil.
func checkOnce(t *testing.T, what string, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s: %s came %d times", what, id, n)
		}
	}
	if want == nil {
		return
	}
	for _, id := range want {
		if seen[id] == 0 {
			t.Errorf("%s: %s never came", what, id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d items, want %d", what, len(got), len(want))
	}
}

func ids2[T any](seq iter.Seq2[*T, error], id func(*T) string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for v, err := range seq {
			if err != nil {
				yield("", err)
				return
			}
			if !yield(id(v), nil) {
				return
			}
		}
	}
}

// walkPages follows NextPageToken from the first page to the last.
func walkPages[T any](fetch func(token string) (*client.Page[T], error), id func(*T) string) ([]string, error) {
	var out []string
	token := ""
	for range 10000 {
		page, err := fetch(token)
		if err != nil {
			return out, err
		}
		for i := range page.Items {
			out = append(out, id(&page.Items[i]))
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		token = page.NextPageToken
	}
	return out, fmt.Errorf("more than 10000 pages")
}
