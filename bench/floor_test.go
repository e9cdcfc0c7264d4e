package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kratosadmin/sdk/client"
)

// floor is what a careful engineer writes by hand with net/http and
// encoding/json, decoding into the SDK's own structs: build the URL, set
// Accept and Authorization, Do, check the status, read the body, Unmarshal,
// and take the next page token from the Link header. It is the baseline the
// SDK's overhead is measured against.
type floor struct {
	base string // http://host:port
	auth string // "Bearer <token>"
	hc   *http.Client
}

func newFloor(baseURL, token string) *floor {
	return &floor{base: baseURL, auth: "Bearer " + token, hc: &http.Client{}}
}

// do sends req and decodes a want-status JSON answer into out.
func (f *floor) do(req *http.Request, want int, out any) (http.Header, error) {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", f.auth)
	resp, err := f.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return nil, fmt.Errorf("%s %s: decoding: %w", req.Method, req.URL.Path, err)
	}
	return resp.Header, nil
}

func (f *floor) get(ctx context.Context, u string, out any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return f.do(req, http.StatusOK, out)
}

func (f *floor) getIdentity(ctx context.Context, id string) (*client.Identity, error) {
	var out client.Identity
	if _, err := f.get(ctx, f.base+"/admin/identities/"+url.PathEscape(id), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// listIdentities returns one page and the token of the next ("" at the end).
func (f *floor) listIdentities(ctx context.Context, size int, token string) ([]client.Identity, string, error) {
	q := url.Values{"page_size": {strconv.Itoa(size)}}
	if token != "" {
		q.Set("page_token", token)
	}
	var items []client.Identity
	h, err := f.get(ctx, f.base+"/admin/identities?"+q.Encode(), &items)
	if err != nil {
		return nil, "", err
	}
	return items, nextPageToken(h), nil
}

func (f *floor) createIdentity(ctx context.Context, body *client.CreateIdentityBody) (*client.Identity, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.base+"/admin/identities", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	var out client.Identity
	if _, err := f.do(req, http.StatusCreated, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (f *floor) getSession(ctx context.Context, id string) (*client.Session, error) {
	var out client.Session
	if _, err := f.get(ctx, f.base+"/admin/sessions/"+url.PathEscape(id)+"?expand=identity&expand=devices", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// nextPageToken takes page_token from the Link header's rel="next" target,
// as Kratos sends it: </admin/identities?page_size=250&page_token=X>;
// rel="next". The floor and the ory/client-go benchmarks share it: that
// SDK leaves the Link header to its users.
func nextPageToken(h http.Header) string {
	for _, l := range strings.Split(h.Get("Link"), ",") {
		target, params, _ := strings.Cut(l, ";")
		if !strings.Contains(params, `rel="next"`) {
			continue
		}
		u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
		if err != nil {
			return ""
		}
		return u.Query().Get("page_token")
	}
	return ""
}
