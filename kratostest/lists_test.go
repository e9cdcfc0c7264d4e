package kratostest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Identity lists: keyset and page order, the ids filter, the page bound.

// TestIdentityPagesAreAtMost500 pins Kratos' clamp of listIdentities'
// page size (measured on v26.2.0 with 1040 identities: page_size 501,
// 1000 and 5000 and per_page 1000 all answer 500 identities and links
// with page_size=500).
func TestIdentityPagesAreAtMost500(t *testing.T) {
	bodies := make([]client.CreateIdentityBody, 501)
	for i := range bodies {
		bodies[i] = client.CreateIdentityBody{Traits: traits(fmt.Sprintf("clamp-%d@example.org", i))}
	}
	srv := kratostest.NewServer(t, kratostest.WithIdentities(bodies...))
	c := srv.Client(kratostest.ValidateWith(t))
	for _, size := range []int64{501, 1000} {
		page, err := c.Identities.ListPage(t.Context(), &client.ListIdentitiesParams{PageSize: size})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != client.MaxIdentitiesPageSize || page.NextPageToken == "" {
			t.Errorf("page size %d: %d identities, next %q; want 500 and a next page", size, len(page.Items), page.NextPageToken)
		}
	}
	n := 0
	for _, err := range c.Identities.List(t.Context(), &client.ListIdentitiesParams{PageSize: 1000}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 501 {
		t.Errorf("walked %d identities, want 501", n)
	}
}

// Seen on Kratos v26.2.0: the ids filter pages like the unfiltered list.
// With three matching ids and page_size 1 or 2 the first page holds the
// lowest ids and a next link whose page_token is the last id on it; the
// last page has no next link; all pages keep the ids in the links.
func TestListIdentitiesIdsFilterPages(t *testing.T) {
	srv := kratostest.NewServer(t)
	var ids []string
	for k := range 4 {
		ids = append(ids, createRaw(t, srv, `{"schema_id":"default","traits":{"email":"page`+strconv.Itoa(k)+`@example.org"}}`))
	}
	slices.Sort(ids)
	filter := "ids=" + ids[3] + "&ids=" + ids[0] + "&ids=" + ids[2]
	want := []string{ids[0], ids[2], ids[3]}
	for _, size := range []int{1, 2, 3, 250} {
		var walked []string
		token := ""
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatalf("page_size %d: no end after %d pages", size, pages)
			}
			url := srv.URL + "/admin/identities?" + filter + "&page_size=" + strconv.Itoa(size)
			if token != "" {
				url += "&page_token=" + token
			}
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			var page []struct{ ID string }
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > size {
				t.Errorf("page_size %d: %d items", size, len(page))
			}
			for _, i := range page {
				walked = append(walked, i.ID)
			}
			link := resp.Header.Get("Link")
			if !strings.Contains(link, filter) {
				t.Errorf("page_size %d: Link %q lost the ids", size, link)
			}
			_, next, ok := strings.Cut(link, `rel="first",`)
			if !ok {
				if len(walked) < len(want) {
					t.Errorf("page_size %d: no next link after %v", size, walked)
				}
				break
			}
			token = next[strings.Index(next, "page_token=")+len("page_token=") : strings.Index(next, ">")]
			if token != page[len(page)-1].ID {
				t.Errorf("page_size %d: next token %s, want the last id of the page", size, token)
			}
		}
		if !slices.Equal(walked, want) {
			t.Errorf("page_size %d: walked %v, want %v", size, walked, want)
		}
	}
}

func TestIdentityKeysetPagination(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client()
	var ids []string
	for k := range 20 {
		ids = append(ids, mustCreate(t, c, fmt.Sprintf("page%02d@example.org", k)).ID)
	}
	slices.Sort(ids)
	var walked []string
	token, pages := "", 0
	for {
		p, err := c.Identities.ListPage(t.Context(), &client.ListIdentitiesParams{PageSize: 5, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, i := range p.Items {
			walked = append(walked, i.ID)
		}
		if p.NextPageToken == "" {
			break
		}
		token = p.NextPageToken
	}
	if !slices.Equal(walked, ids) || pages != 4 {
		t.Errorf("%d pages, ids %v, want %v", pages, walked, ids)
	}
	// The last full page has no next link: the server looks one further.
	_, h, _ := send(t, http.MethodGet, srv.URL+"/admin/identities?page_size=5&page_token="+ids[14], "")
	if strings.Contains(h.Get("Link"), `rel="next"`) {
		t.Errorf("next link on the last page: %s", h.Get("Link"))
	}
	// A lone per_page is read as page_size.
	_, h, body := send(t, http.MethodGet, srv.URL+"/admin/identities?per_page=3", "")
	want := fmt.Sprintf(`</admin/identities?page_size=3&page_token=00000000-0000-0000-0000-000000000000>; rel="first",</admin/identities?page_size=3&page_token=%s>; rel="next"`, ids[2])
	if h.Get("Link") != want || strings.Count(body, `"schema_id"`) != 3 {
		t.Errorf("per_page: Link %s", h.Get("Link"))
	}
	// Legacy pagination: page numbers from 0, X-Total-Count, at most 1000 items.
	_, h, body = send(t, http.MethodGet, srv.URL+"/admin/identities?page=1&per_page=8", "")
	if h.Get("X-Total-Count") != "20" || strings.Count(body, `"schema_id"`) != 8 || !strings.Contains(body, ids[8]) {
		t.Errorf("legacy page: total %q", h.Get("X-Total-Count"))
	}
	if h.Get("Link") != `</admin/identities?page=0&per_page=8>; rel="first",</admin/identities?page=2&per_page=8>; rel="next",</admin/identities?page=0&per_page=8>; rel="prev",</admin/identities?page=2&per_page=8>; rel="last"` {
		t.Errorf("legacy Link %s", h.Get("Link"))
	}
	status, _, body := send(t, http.MethodGet, srv.URL+"/admin/identities?page=11&per_page=100", "")
	if status != 400 || !strings.Contains(body, "Legacy pagination is not supported for enumerating over 1000 items") {
		t.Errorf("legacy over 1000: %d %s", status, body)
	}
	var many []string
	for range 501 {
		many = append(many, "ids="+ids[0])
	}
	status, _, body = send(t, http.MethodGet, srv.URL+"/admin/identities?"+strings.Join(many, "&"), "")
	if status != 400 || !strings.Contains(body, "The number of ids to filter must not exceed 500.") {
		t.Errorf("501 ids: %d %s", status, body)
	}
	status, _, body = send(t, http.MethodGet, srv.URL+"/admin/identities?include_credential=profile", "")
	if status != 400 || !strings.Contains(body, "Invalid value `profile` for parameter `include_credential`.") {
		t.Errorf("include_credential=profile: %d %s", status, body)
	}
}

// TestIdentityOrderAfterBulkWrites lists identities in id order after
// batches, single creates and deletes interleaved with reads.
func TestIdentityOrderAfterBulkWrites(t *testing.T) {
	srv := kratostest.NewServer(t)
	c := srv.Client()
	want := map[string]bool{}
	batch := func(from, n int) {
		t.Helper()
		items := make([]client.IdentityPatch, n)
		for k := range items {
			items[k].Create = client.CreateIdentityBody{SchemaID: "default", Traits: traits(fmt.Sprintf("bulk%04d@example.org", from+k))}
		}
		res, err := c.Identities.BatchCreate(t.Context(), items)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			want[it.IdentityID] = true
		}
	}
	walk := func() []string {
		t.Helper()
		var ids []string
		for i, err := range c.Identities.List(t.Context(), &client.ListIdentitiesParams{PageSize: 50}) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, i.ID)
		}
		return ids
	}
	batch(0, 300)
	walk()
	for k := range 5 {
		want[mustCreate(t, c, fmt.Sprintf("single%d@example.org", k)).ID] = true
	}
	var gone []string
	for id := range want {
		if len(gone) == 3 {
			break
		}
		if err := c.Identities.Delete(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		delete(want, id)
		gone = append(gone, id)
	}
	batch(1000, 100)
	got := walk()
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("not in strictly ascending id order")
	}
	if len(got) != len(want) || srv.IdentityCount() != len(want) {
		t.Fatalf("listed %d, count %d, want %d", len(got), srv.IdentityCount(), len(want))
	}
	for _, id := range got {
		if !want[id] {
			t.Errorf("listed %s, deleted or never created", id)
		}
	}
}
