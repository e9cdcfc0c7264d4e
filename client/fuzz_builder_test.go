package client_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/kratosadmin/sdk/gen"
)

// FuzzGeneratedRequestURL: the generated builders (api/templates/client.tmpl)
// join an operation's path to the server URL without url.ResolveReference
// when neither has a dot segment. For any path parameter and base path the
// result must be exactly what serverURL.Parse("./" + path) gives, the
// parameter must stay one segment, and "." and ".." must be refused.
func FuzzGeneratedRequestURL(f *testing.F) {
	for _, seed := range []struct{ base, seg string }{
		{"http://127.0.0.1:4434/", "crm-1815"},
		{"http://127.0.0.1:4434", "a/b?c#d"},
		{"https://h.example/kratos%20admin/v1/", "..%2F..%2Fx"},
		{"https://h.example/a/b", "ü %25 +;,=&@:"},
		{"http://h/./x/../y/", "..."},
		{"http://h/", ".."},
		{"http://h/", "."},
		{"http://h/%zz/", "x"},
		{"http://h/", "\xff\xfe\r\n\x00"},
	} {
		f.Add(seed.base, seed.seg)
	}
	f.Fuzz(func(t *testing.T, base, seg string) {
		server, err := url.Parse(base)
		if err != nil {
			return
		}
		req, err := gen.NewGetIdentityByExternalIDRequest(base, seg, nil)
		if seg == "." || seg == ".." {
			if !errors.Is(err, gen.ErrDotSegment) {
				t.Fatalf("segment %q: err %v, want ErrDotSegment", seg, err)
			}
			return
		}
		want, wantErr := server.Parse("./admin/identities/by/external/" + url.PathEscape(seg))
		if wantErr != nil {
			if err == nil {
				t.Fatalf("base %q segment %q: built %s, url.Parse fails with %v", base, seg, req.URL, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("base %q segment %q: %v, url.Parse gives %s", base, seg, err, want)
		}
		if got := req.URL.String(); got != want.String() || req.URL.Path != want.Path || req.URL.EscapedPath() != want.EscapedPath() {
			t.Fatalf("base %q segment %q:\n got  %s (path %q)\n want %s (path %q)", base, seg, got, req.URL.Path, want, want.Path)
		}
		if req.Host != want.Host && req.Host+":" != want.Host {
			t.Fatalf("Host %q, URL host %q", req.Host, want.Host)
		}
	})
}
