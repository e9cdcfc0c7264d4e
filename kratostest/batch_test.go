package kratostest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/kratostest"
)

// The batch endpoint: limits, per-item results, conflicts.

func TestBatchWithOneValidItemThatConflicts(t *testing.T) {
	srv := kratostest.NewServer(t)
	if st, _, b := send(t, http.MethodPost, srv.URL+"/admin/identities", `{"schema_id":"default","traits":{"email":"t1@example.org"}}`); st != 201 {
		t.Fatalf("%d %s", st, b)
	}
	dup := `{"create":{"schema_id":"default","traits":{"email":"t1@example.org"}}}`
	bad := `{"create":{"schema_id":"default","traits":{"email":"nope"}}}`
	whole := `{"error":{"code":409,"status":"Conflict","message":"Unable to insert or update resource because a resource with that value exists already"}}` + "\n"
	for _, tc := range []struct {
		items  string
		status int
		want   string
	}{
		{dup, 409, whole},
		{bad + "," + dup, 409, whole},
		{dup + "," + bad + "," + dup, 200, `"action":"error","error":{"code":409`},
		{dup + "," + dup, 200, `"action":"error","error":{"code":409`},
	} {
		st, _, b := send(t, http.MethodPatch, srv.URL+"/admin/identities", `{"identities":[`+tc.items+`]}`)
		if st != tc.status || !strings.Contains(b, tc.want) {
			t.Errorf("batch %s: %d %s, want %d with %s", tc.items, st, b, tc.status, tc.want)
		}
	}
	if n := srv.IdentityCount(); n != 1 {
		t.Errorf("%d identities", n)
	}
}

func TestBatchLimits(t *testing.T) {
	srv := kratostest.NewServer(t)
	items := func(n int, pw bool) string {
		var b strings.Builder
		b.WriteString(`{"identities":[`)
		for k := range n {
			if k > 0 {
				b.WriteByte(',')
			}
			cred := ""
			if pw {
				cred = `,"credentials":{"password":{"config":{"password":"pw"}}}`
			}
			fmt.Fprintf(&b, `{"create":{"schema_id":"default","traits":{"email":"b%d@example.org"}%s}}`, k, cred)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities", items(1001, false))
	if status != 400 || !strings.Contains(body, "The maximum number of identities per request that can be created or deleted at once is 1000.") {
		t.Errorf("1001 items: %d %s", status, body)
	}
	status, _, body = send(t, http.MethodPatch, srv.URL+"/admin/identities", items(201, true))
	if status != 400 || !strings.Contains(body, "with a plaintext password is 200.") {
		t.Errorf("201 plaintext passwords: %d %s", status, body)
	}
	if srv.IdentityCount() != 0 {
		t.Fatalf("a refused batch created %d identities", srv.IdentityCount())
	}
	// A whole batch fails on one bad state, before anything is created.
	status, _, body = send(t, http.MethodPatch, srv.URL+"/admin/identities",
		`{"identities":[{"create":{"schema_id":"default","traits":{"email":"ok@example.org"}}},{"create":{"schema_id":"default","traits":{"email":"x@example.org"},"state":"sleeping"}}]}`)
	if status != 400 || !strings.Contains(body, "identity state is not valid") || srv.IdentityCount() != 0 {
		t.Errorf("bad state: %d %s", status, body)
	}
	// 1000 items with pre-hashed passwords are fine; so are two items
	// with the same email, the second of which conflicts.
	status, _, body = send(t, http.MethodPatch, srv.URL+"/admin/identities", items(1000, false))
	if status != 200 || strings.Count(body, `"action":"create"`) != 1000 || srv.IdentityCount() != 1000 {
		t.Errorf("1000 items: %d, %d identities", status, srv.IdentityCount())
	}
	status, _, body = send(t, http.MethodPatch, srv.URL+"/admin/identities",
		`{"identities":[{"create":{"schema_id":"default","traits":{"email":"twin@example.org"}}},{"create":{"schema_id":"default","traits":{"email":"TWIN@example.org"}}},{"patch_id":"11111111-aaaa-4bbb-8ccc-000000000009"}]}`)
	want := `{"action":"error","error":{"code":409,"status":"Conflict","message":"Unable to insert or update resource because a resource with that value exists already"}},null]}`
	if status != 200 || !strings.HasSuffix(strings.TrimSpace(body), want) {
		t.Errorf("twins: %d %s", status, body)
	}
}
