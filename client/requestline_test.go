package client_test

// Arguments: what reaches the server is exactly the request line the call
// stands for. Ids that must be UUIDs, enums and sizes are checked before
// anything is sent; every free-form path parameter is escaped as one
// segment, so no value reaches another path or endpoint; query values are
// escaped as values.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// lineRecorder records the request line of every request (method and
// RequestURI exactly as the server read them) and answers with a body that
// suits the path.
type lineRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.lines = append(l.lines, r.Method+" "+r.RequestURI)
	l.mu.Unlock()
	switch {
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(r.URL.Path, "/schemas/") || strings.Contains(r.URL.Path, "/schemas/"):
		writeJSON(w, 200, `{"type":"object"}`)
	case strings.HasSuffix(r.URL.Path, "/sessions"), strings.HasSuffix(r.URL.Path, "/identities"), strings.HasSuffix(r.URL.Path, "/schemas"):
		writeJSON(w, 200, `[]`)
	case strings.Contains(r.URL.Path, "/recovery/"):
		writeJSON(w, 200, `{"recovery_link":"http://x/","recovery_code":"123456","expires_at":"2025-01-02T03:04:05Z"}`)
	case strings.HasPrefix(r.URL.Path, "/admin/sessions/") || strings.HasSuffix(r.URL.Path, "/extend"):
		writeJSON(w, 200, `{"id":"`+testID+`"}`)
	default:
		writeJSON(w, 200, identityJS)
	}
}

func (l *lineRecorder) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

// TestRequestLineEscaping: for every path parameter a caller may choose
// freely (an external id, a schema id) and every query value, the exact
// request line the server sees. ("." and ".." are refused before sending:
// TestArgumentsAreCheckedBeforeSending.)
func TestRequestLineEscaping(t *testing.T) {
	rec := &lineRecorder{}
	srv, _ := serve(t, rec.ServeHTTP)
	c := newClient(t, srv.URL, client.WithPublicURL(srv.URL))
	long := strings.Repeat("ü/", 3000)
	byExt := func(id string) func(ctx context.Context) error {
		return func(ctx context.Context) error { _, err := c.Identities.GetByExternalID(ctx, id, nil); return err }
	}
	schema := func(id string) func(ctx context.Context) error {
		return func(ctx context.Context) error { _, err := c.Schemas.Get(ctx, id); return err }
	}
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
		want string
	}{
		// Every UUID form Kratos parses (gofrs/uuid) stays one segment.
		{"braced id", func(ctx context.Context) error {
			_, err := c.Identities.Get(ctx, "{"+testID+"}", nil)
			return err
		}, "GET /admin/identities/%7B" + testID + "%7D"},
		{"urn id", func(ctx context.Context) error {
			_, err := c.Sessions.Get(ctx, "urn:uuid:"+testID, nil)
			return err
		}, "GET /admin/sessions/urn:uuid:" + testID},
		{"external id ...", byExt("..."), "GET /admin/identities/by/external/..."},
		{"external id /", byExt("/"), "GET /admin/identities/by/external/%2F"},
		{"external id traversal", byExt("../../sessions/" + testID), "GET /admin/identities/by/external/..%2F..%2Fsessions%2F" + testID},
		{"external id ?", byExt("?include_credential=password"), "GET /admin/identities/by/external/%3Finclude_credential=password"},
		{"external id #", byExt("#frag"), "GET /admin/identities/by/external/%23frag"},
		{"external id %2F", byExt("a%2Fb"), "GET /admin/identities/by/external/a%252Fb"},
		{"external id %", byExt("100%"), "GET /admin/identities/by/external/100%25"},
		{"external id spaces", byExt(" a b "), "GET /admin/identities/by/external/%20a%20b%20"},
		{"external id plus and semicolon", byExt("a+b;c,d=e&f@g:h"), "GET /admin/identities/by/external/a+b%3Bc%2Cd=e&f@g:h"},
		{"external id unicode", byExt("ユーザー-é"), "GET /admin/identities/by/external/%E3%83%A6%E3%83%BC%E3%82%B6%E3%83%BC-%C3%A9"},
		{"external id control bytes", byExt("a\r\nHost: evil\x00"), "GET /admin/identities/by/external/a%0D%0AHost:%20evil%00"},
		{"external id invalid UTF-8", byExt("\xff\xfe"), "GET /admin/identities/by/external/%FF%FE"},
		{"external id backslash", byExt(`..\..\x`), "GET /admin/identities/by/external/..%5C..%5Cx"},
		{"external id very long", byExt(long), "GET /admin/identities/by/external/" + strings.Repeat("%C3%BC%2F", 3000)},
		{"schema id a/b?c#d", schema("a/b?c#d"), "GET /schemas/a%2Fb%3Fc%23d"},
		{"schema id %", schema("%zz"), "GET /schemas/%25zz"},
		{"schema id base64url", schema("ZGVmYXVsdA"), "GET /schemas/ZGVmYXVsdA"},
		{"credentials identifier", func(ctx context.Context) error {
			_, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{CredentialsIdentifier: "a+b@x.org&page_size=1000#f", PageToken: "t/=&?"})
			return err
		}, "GET /admin/identities?page_token=t%2F%3D%26%3F&credentials_identifier=a%2Bb%40x.org%26page_size%3D1000%23f"},
		{"return_to", func(ctx context.Context) error {
			_, err := c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: testID}, &client.CreateRecoveryLinkForIdentityParams{ReturnTo: "https://app.example/cb?a=1&b=2#x"})
			return err
		}, "POST /admin/recovery/link?return_to=https%3A%2F%2Fapp.example%2Fcb%3Fa%3D1%26b%3D2%23x"},
		{"credential identifier", func(ctx context.Context) error {
			return c.Identities.DeleteCredentials(ctx, testID, client.CredentialsTypeOIDC, &client.DeleteIdentityCredentialsParams{Identifier: "google:123&type=password"})
		}, "DELETE /admin/identities/" + testID + "/credentials/oidc?identifier=google%3A123%26type%3Dpassword"},
		{"uppercase UUID", func(ctx context.Context) error {
			_, err := c.Identities.Get(ctx, strings.ToUpper(testID), nil)
			return err
		}, "GET /admin/identities/" + strings.ToUpper(testID)},
		{"enums in the query", func(ctx context.Context) error {
			_, err := c.Sessions.Get(ctx, testID, &client.GetSessionParams{Expand: []client.SessionExpandable{client.SessionExpandIdentity, client.SessionExpandDevices}})
			return err
		}, "GET /admin/sessions/" + testID + "?expand=identity&expand=devices"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(ctxTimeout(t, 5*time.Second)); err != nil {
				t.Fatal(err)
			}
			lines := rec.take()
			if len(lines) != 1 || lines[0] != tc.want {
				t.Errorf("request lines %q\nwant         %q", lines, tc.want)
			}
		})
	}
}

// TestRequestLineBasePath: a base URL with a path (escaped characters
// included) prefixes every request, and escaped parameters stay escaped
// under it.
func TestRequestLineBasePath(t *testing.T) {
	rec := &lineRecorder{}
	srv, _ := serve(t, rec.ServeHTTP)
	c := newClient(t, srv.URL+"/kratos%20admin/v1/")
	ctx := ctxTimeout(t, 5*time.Second)
	if _, err := c.Identities.GetByExternalID(ctx, "../x", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Identities.Get(ctx, testID, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /kratos%20admin/v1/admin/identities/by/external/..%2Fx",
		"GET /kratos%20admin/v1/admin/identities/" + testID,
	}
	if got := rec.take(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("request lines %q\nwant         %q", got, want)
	}
}

// testIDsAndSegmentsAreChecked: every id that must be a UUID, in every
// call that takes one (typedCalls' withID), and every free-form path segment that is empty or a
// dot segment, is refused with an *ArgumentError naming the argument, and
// nothing is sent.
func testIDsAndSegmentsAreChecked(t *testing.T) {
	rec := &lineRecorder{}
	srv, _ := serve(t, rec.ServeHTTP)
	c := newClient(t, srv.URL)
	ctx := ctxTimeout(t, 5*time.Second)
	bad := []string{"", "..", ".", "/", testID + "/sessions", testID + "?x", testID + "#", "%2E%2E", " " + testID, testID[:35], testID + "0", strings.Replace(testID, "-", "_", 1), strings.Replace(testID, "9", "g", 1)}
	body := client.CreateIdentityBody{SchemaID: "default", Traits: []byte(`{}`)}
	type argCall struct {
		arg  string
		call func() error
	}
	var calls []argCall
	for _, id := range bad {
		for _, tc := range typedCalls {
			if tc.withID == nil || id == "" && tc.idArg == "items[0].PatchID" { // an empty patch id means none
				continue
			}
			calls = append(calls, argCall{tc.idArg, func() error { return tc.withID(ctx, c, id) }})
		}
	}
	calls = append(calls,
		argCall{"externalID", func() error { _, err := c.Identities.GetByExternalID(ctx, "", nil); return err }},
		argCall{"id", func() error { _, err := c.Schemas.Get(ctx, ""); return err }},
		// The generated builders resolve the path against the server URL,
		// which would collapse a dot segment onto another endpoint.
		argCall{"externalID", func() error { _, err := c.Identities.GetByExternalID(ctx, "..", nil); return err }},
		argCall{"externalID", func() error { _, err := c.Identities.GetByExternalID(ctx, ".", nil); return err }},
		argCall{"id", func() error { _, err := c.Schemas.Get(ctx, ".."); return err }},
		argCall{"id", func() error { _, err := c.Schemas.Get(ctx, "."); return err }},
		argCall{"type", func() error {
			return c.Identities.DeleteCredentials(ctx, testID, "../../sessions", nil)
		}},
		argCall{"type", func() error { return c.Identities.DeleteCredentials(ctx, testID, "Password", nil) }},
		argCall{"params.IncludeCredential[0]", func() error {
			_, err := c.Identities.Get(ctx, testID, &client.GetIdentityParams{IncludeCredential: []client.IdentityCredentialsType{"password&x=y"}})
			return err
		}},
		argCall{"params.IncludeCredential[1]", func() error {
			_, err := c.Identities.GetByExternalID(ctx, "x", &client.GetIdentityByExternalIDParams{IncludeCredential: []client.IdentityCredentialsType{"oidc", ""}})
			return err
		}},
		argCall{"params.Expand[0]", func() error {
			_, err := c.Sessions.Get(ctx, testID, &client.GetSessionParams{Expand: []client.SessionExpandable{"identity,devices"}})
			return err
		}},
		argCall{"params.Expand[0]", func() error {
			_, err := c.Sessions.ListPage(ctx, &client.ListSessionsParams{Expand: []client.SessionExpandable{"identities"}})
			return err
		}},
		argCall{"params.OrganizationID", func() error {
			_, err := c.Identities.ListPage(ctx, &client.ListIdentitiesParams{OrganizationID: "../x"})
			return err
		}},
		argCall{"body.State", func() error {
			b := body
			b.State = "deleted"
			_, err := c.Identities.Create(ctx, &b)
			return err
		}},
		argCall{"body.FlowType", func() error {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: testID, FlowType: "native"})
			return err
		}},
		argCall{"body.ExpiresIn", func() error {
			_, err := c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: testID, ExpiresIn: "0s"}, nil)
			return err
		}},
		argCall{"ops[0].op", func() error {
			_, err := c.Identities.Patch(ctx, testID, []client.JSONPatch{{Op: "move", Path: "/a"}})
			return err
		}},
		argCall{"ops[0].path", func() error {
			_, err := c.Identities.Patch(ctx, testID, []client.JSONPatch{client.PatchRemove("traits")})
			return err
		}},
	)
	for i, ac := range calls {
		err := ac.call()
		var ae *client.ArgumentError
		if !errors.As(err, &ae) || ae.Argument != ac.arg {
			t.Errorf("call %d: want an *ArgumentError for %s, got %v", i, ac.arg, err)
			continue
		}
		if !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("call %d: %v does not match ErrInvalidArgument", i, err)
		}
	}
	if lines := rec.take(); len(lines) != 0 {
		t.Errorf("refused calls sent %q", lines)
	}
}

// TestArgumentsAreCheckedBeforeSending: ids that must be UUIDs, enum
// values, sizes and required fields are refused with an *ArgumentError
// (matching ErrInvalidArgument) that names the argument, and nothing is
// sent: ids and path segments in every call, a bad argument of every
// typed call (typedCalls), and values each call checks.
func TestArgumentsAreCheckedBeforeSending(t *testing.T) {
	t.Run("ids and path segments", testIDsAndSegmentsAreChecked)
	var hits atomic.Int32
	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	ctx := context.Background()
	traits := json.RawMessage(`{"email":"a@b.c"}`)
	calls := map[string]func() error{
		"get: not a uuid":    func() error { _, err := c.Identities.Get(ctx, "../sessions", nil); return err },
		"get: empty id":      func() error { _, err := c.Identities.Get(ctx, "", nil); return err },
		"external id: empty": func() error { _, err := c.Identities.GetByExternalID(ctx, "", nil); return err },
		"create: nil body":   func() error { _, err := c.Identities.Create(ctx, nil); return err },
		"create: bad json traits": func() error {
			_, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage("{")})
			return err
		},
		"create: bad state": func() error {
			_, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traits, State: "sleeping"})
			return err
		},
		"update: bad id":         func() error { _, err := c.Identities.Update(ctx, "x", &client.UpdateIdentityBody{}); return err },
		"delete creds: bad type": func() error { return c.Identities.DeleteCredentials(ctx, testID, "magic", nil) },
		"sessions: bad id":       func() error { _, err := c.Sessions.Get(ctx, "not-a-uuid", nil); return err },
		"sessions: bad expand": func() error {
			_, err := c.Sessions.Get(ctx, testID, &client.GetSessionParams{Expand: []client.SessionExpandable{"everything"}})
			return err
		},
		"disable: bad id": func() error { return c.Sessions.Disable(ctx, "1") },
		"recovery: bad duration": func() error {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: testID, ExpiresIn: "tomorrow"})
			return err
		},
		"recovery: zero duration": func() error {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: testID, ExpiresIn: "0s"})
			return err
		},
		"recovery: negative duration": func() error {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: testID, ExpiresIn: "-1m"})
			return err
		},
		"recovery: a number without unit": func() error {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: testID, ExpiresIn: "90"})
			return err
		},
		"link: days": func() error {
			_, err := c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: testID, ExpiresIn: "1d"}, nil)
			return err
		},
		"recovery: flow type": func() error {
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: testID, FlowType: "pigeon"})
			return err
		},
		"batch: too many": func() error {
			_, err := c.Identities.BatchCreate(ctx, make([]client.IdentityPatch, client.MaxBatchSize+1))
			return err
		},
		"batch: too many plaintext passwords": func() error {
			items := make([]client.IdentityPatch, client.MaxBatchPlaintextPassword+1)
			for i := range items {
				items[i].Create = client.CreateIdentityBody{SchemaID: "default", Traits: traits}
				items[i].Create.Credentials.Password.Config.Password = "secret-password"
			}
			_, err := c.Identities.BatchCreate(ctx, items)
			return err
		},
		"nil context": func() error {
			//lint:ignore SA1012 a nil context is exactly what is tested
			_, err := c.Identities.Get(nil, testID, nil) //nolint:staticcheck
			return err
		},
	}
	for _, tc := range typedCalls {
		calls["table: "+tc.name] = func() error { return tc.bad(ctx, c) }
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if !errors.Is(err, client.ErrInvalidArgument) {
				t.Fatalf("%v, want %v", err, client.ErrInvalidArgument)
			}
			var ae *client.ArgumentError
			if !errors.As(err, &ae) {
				t.Fatalf("%v: want a %T", err, ae)
			}
			if ae.Argument == "" {
				t.Errorf("empty")
			}
			if !strings.Contains(err.Error(), "invalid "+ae.Argument) {
				t.Errorf("%q does not contain %q", err.Error(), "invalid "+ae.Argument)
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("%v, want 0: %s", hits.Load(), "no refused call may reach the server")
	}
}
