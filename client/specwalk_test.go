package client_test

// The spec is the single source of what goes on the wire: for every
// operation of api/kratos-admin.yaml and every one of its parameters (path,
// query, header), the parameter is set through the SDK's public types and
// methods and must arrive at a recording server under the spec's name, in
// the spec's style. A parameter the spec gains that the SDK cannot set, and
// an operation with no SDK method, fail the test: there is no skip list.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/kratosadmin/sdk/client"
)

// walkArgs hands an operation's spec parameters to the SDK call and
// remembers which ones the call took.
type walkArgs struct {
	t      *testing.T
	op     string
	params openapi3.Parameters
	values map[string]any // by "in/name": string, int64, bool or []string
	used   map[string]bool
}

// path returns the value of the path parameter name.
func (a *walkArgs) path(name string) string {
	key := "path/" + name
	v, ok := a.values[key]
	if !ok {
		a.t.Fatalf("%s: the SDK call reads path parameter %q, which the spec does not have", a.op, name)
	}
	a.used[key] = true
	return v.(string)
}

// fill sets every query and header parameter of the operation on the
// fields of params (a pointer to the operation's *Params struct), found by
// their form or json tag: the names the generator gave them from the spec.
func (a *walkArgs) fill(params any) {
	rv := reflect.ValueOf(params).Elem()
	for _, p := range a.params {
		in, name := p.Value.In, p.Value.Name
		if in == openapi3.ParameterInPath {
			continue
		}
		f, ok := fieldByTag(rv, name)
		if !ok {
			a.t.Errorf("%s: %s parameter %q has no field in %s", a.op, in, name, rv.Type())
			continue
		}
		setField(a.t, f, a.values[in+"/"+name])
		a.used[in+"/"+name] = true
	}
}

func fieldByTag(rv reflect.Value, name string) (reflect.Value, bool) {
	rt := rv.Type()
	for i := range rt.NumField() {
		for _, tag := range []string{"form", "json"} {
			if n, _, _ := strings.Cut(rt.Field(i).Tag.Get(tag), ","); n == name {
				return rv.Field(i), true
			}
		}
	}
	return reflect.Value{}, false
}

func setField(t *testing.T, f reflect.Value, v any) {
	if f.Kind() == reflect.Pointer {
		f.Set(reflect.New(f.Type().Elem()))
		f = f.Elem()
	}
	switch val := v.(type) {
	case string:
		f.SetString(val)
	case int64:
		f.SetInt(val)
	case bool:
		f.SetBool(val)
	case []string:
		s := reflect.MakeSlice(f.Type(), len(val), len(val))
		for i, e := range val {
			s.Index(i).SetString(e)
		}
		f.Set(s)
	default:
		t.Fatalf("no value for field of type %s", f.Type())
	}
}

// walkValue makes a value the SDK accepts for a parameter schema: enum
// values, UUIDs where the format says so, and strings full of characters
// that need escaping otherwise.
func walkValue(name string, s *openapi3.Schema, i int) any {
	switch {
	case s.Type.Is("array"):
		return []string{walkValue(name, s.Items.Value, 0).(string), walkValue(name, s.Items.Value, 1).(string)}
	case s.Type.Is("integer"):
		return int64(7 + i)
	case s.Type.Is("boolean"):
		return true
	case len(s.Enum) > 0:
		return fmt.Sprint(s.Enum[(len(s.Enum)-1-i)%len(s.Enum)])
	case s.Format == "uuid":
		return fmt.Sprintf("%08x-9b4c-4d3a-8f1e-0a1b2c3d4e5f", 0x3f6a1c2b+i)
	case s.Pattern != "":
		// A patterned value comes from the schema's own example, which
		// must match the pattern.
		ex, ok := s.Example.(string)
		if !ok || !regexp.MustCompile(s.Pattern).MatchString(ex) {
			panic(fmt.Sprintf("parameter %s: pattern %q needs a string example that matches it", name, s.Pattern))
		}
		return ex
	}
	return name + strconv.Itoa(i) + " ü/?#&=+%"
}

// styled is how the spec says a parameter appears in a query: form style,
// exploded arrays as repeated keys, others joined by commas.
func styled(p *openapi3.Parameter, v any) string {
	esc := url.QueryEscape
	switch val := v.(type) {
	case []string:
		explode := p.Explode == nil || *p.Explode
		if p.Style != "" && p.Style != openapi3.SerializationForm {
			panic("style " + p.Style + " is not handled by this test")
		}
		parts := make([]string, len(val))
		for i, e := range val {
			parts[i] = esc(e)
		}
		if explode {
			return p.Name + "=" + strings.Join(parts, "&"+p.Name+"=")
		}
		return p.Name + "=" + strings.Join(parts, ",")
	case int64:
		return p.Name + "=" + strconv.FormatInt(val, 10)
	case bool:
		return p.Name + "=" + strconv.FormatBool(val)
	default:
		return p.Name + "=" + esc(fmt.Sprint(val))
	}
}

// walkCalls calls each operation through its typed SDK method.
func walkCalls(c *client.Client) map[string]func(context.Context, *walkArgs) error {
	body := func() *client.CreateIdentityBody {
		return &client.CreateIdentityBody{SchemaID: "default", Traits: []byte(`{"email":"a@example.org"}`)}
	}
	return map[string]func(context.Context, *walkArgs) error{
		"listIdentities": func(ctx context.Context, a *walkArgs) error {
			p := new(client.ListIdentitiesParams)
			a.fill(p)
			_, err := c.Identities.ListPage(ctx, p)
			return err
		},
		"batchPatchIdentities": func(ctx context.Context, a *walkArgs) error {
			a.fill(new(struct{}))
			_, err := c.Identities.BatchCreate(ctx, []client.IdentityPatch{{Create: *body()}})
			return err
		},
		"createIdentity": func(ctx context.Context, a *walkArgs) error {
			a.fill(new(struct{}))
			_, err := c.Identities.Create(ctx, body())
			return err
		},
		"getIdentityByExternalID": func(ctx context.Context, a *walkArgs) error {
			p := new(client.GetIdentityByExternalIDParams)
			a.fill(p)
			_, err := c.Identities.GetByExternalID(ctx, a.path("externalID"), p)
			return err
		},
		"deleteIdentity": func(ctx context.Context, a *walkArgs) error {
			a.fill(new(struct{}))
			return c.Identities.Delete(ctx, a.path("id"))
		},
		"getIdentity": func(ctx context.Context, a *walkArgs) error {
			p := new(client.GetIdentityParams)
			a.fill(p)
			_, err := c.Identities.Get(ctx, a.path("id"), p)
			return err
		},
		"patchIdentity": func(ctx context.Context, a *walkArgs) error {
			a.fill(new(struct{}))
			_, err := c.Identities.Patch(ctx, a.path("id"), []client.JSONPatch{client.PatchRemove("/metadata_admin")})
			return err
		},
		"updateIdentity": func(ctx context.Context, a *walkArgs) error {
			a.fill(new(struct{}))
			_, err := c.Identities.Update(ctx, a.path("id"), &client.UpdateIdentityBody{SchemaID: "default", Traits: []byte(`{}`)})
			return err
		},
		"deleteIdentityCredentials": func(ctx context.Context, a *walkArgs) error {
			p := new(client.DeleteIdentityCredentialsParams)
			a.fill(p)
			return c.Identities.DeleteCredentials(ctx, a.path("id"), client.IdentityCredentialsType(a.path("type")), p)
		},
		"deleteIdentitySessions": func(ctx context.Context, a *walkArgs) error {
			a.fill(new(struct{}))
			return c.Identities.DeleteSessions(ctx, a.path("id"))
		},
		"listIdentitySessions": func(ctx context.Context, a *walkArgs) error {
			p := new(client.ListIdentitySessionsParams)
			a.fill(p)
			_, err := c.Identities.ListSessionsPage(ctx, a.path("id"), p)
			return err
		},
		"createRecoveryCodeForIdentity": func(ctx context.Context, a *walkArgs) error {
			a.fill(new(struct{}))
			_, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: testID})
			return err
		},
		"createRecoveryLinkForIdentity": func(ctx context.Context, a *walkArgs) error {
			p := new(client.CreateRecoveryLinkForIdentityParams)
			a.fill(p)
			_, err := c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: testID}, p)
			return err
		},
		"listSessions": func(ctx context.Context, a *walkArgs) error {
			p := new(client.ListSessionsParams)
			a.fill(p)
			_, err := c.Sessions.ListPage(ctx, p)
			return err
		},
		"disableSession": func(ctx context.Context, a *walkArgs) error {
			a.fill(new(struct{}))
			return c.Sessions.Disable(ctx, a.path("id"))
		},
		"getSession": func(ctx context.Context, a *walkArgs) error {
			p := new(client.GetSessionParams)
			a.fill(p)
			_, err := c.Sessions.Get(ctx, a.path("id"), p)
			return err
		},
		"extendSession": func(ctx context.Context, a *walkArgs) error {
			a.fill(new(struct{}))
			_, err := c.Sessions.Extend(ctx, a.path("id"))
			return err
		},
		"listIdentitySchemas": func(ctx context.Context, a *walkArgs) error {
			p := new(client.ListIdentitySchemasParams)
			a.fill(p)
			_, err := c.Schemas.ListPage(ctx, p)
			return err
		},
		"getIdentitySchema": func(ctx context.Context, a *walkArgs) error {
			a.fill(new(struct{}))
			_, err := c.Schemas.Get(ctx, a.path("id"))
			return err
		},
	}
}

// walkRecorder records every request and answers it with a body the SDK
// decodes.
type walkRecorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (w *walkRecorder) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	w.reqs = append(w.reqs, r.Clone(context.Background()))
	w.mu.Unlock()
	p := r.URL.Path
	switch {
	case r.Method == http.MethodDelete:
		rw.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPatch && p == "/admin/identities":
		writeJSON(rw, 200, `{"identities":[{"action":"create","identity":"`+testID+`"}]}`)
	case strings.HasPrefix(p, "/admin/recovery/"):
		writeJSON(rw, 200, `{"recovery_link":"http://x/","recovery_code":"123456","expires_at":"2025-01-02T03:04:05Z"}`)
	case r.Method == http.MethodGet && (p == "/admin/identities" || p == "/admin/sessions" || p == "/schemas" || strings.HasSuffix(p, "/sessions")):
		writeJSON(rw, 200, `[]`)
	case strings.HasPrefix(p, "/schemas/"):
		writeJSON(rw, 200, `{"type":"object"}`)
	case strings.HasPrefix(p, "/admin/sessions/"):
		writeJSON(rw, 200, `{"id":"`+testID+`"}`)
	default:
		writeJSON(rw, 200, identityJS)
	}
}

func (w *walkRecorder) take() []*http.Request {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.reqs
	w.reqs = nil
	return out
}

func TestEveryParameterReachesTheWire(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../api/kratos-admin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec := &walkRecorder{}
	srv, _ := serve(t, rec.ServeHTTP)
	c := newClient(t, srv.URL, client.WithPublicURL(srv.URL))
	calls := walkCalls(c)
	// getVersion: a client that asks the release (newClient states it).
	asking := newClient(t, srv.URL, client.WithPublicURL(srv.URL), client.WithKratosVersion(""))
	calls["getVersion"] = func(ctx context.Context, a *walkArgs) error {
		a.fill(new(struct{}))
		if _, err := asking.KratosVersion(ctx); err != nil && !errors.Is(err, client.ErrUnknownRelease) {
			return err
		}
		return nil
	}
	seen := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			id := op.OperationID
			seen[id] = true
			t.Run(id, func(t *testing.T) {
				call, ok := calls[id]
				if !ok {
					t.Fatalf("operation %s (%s %s) has no SDK call in walkCalls", id, method, path)
				}
				// Path-item parameters and the operation's own, as the
				// generator combines them.
				params := append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...)
				a := &walkArgs{t: t, op: id, params: params, values: map[string]any{}, used: map[string]bool{}}
				for i, p := range params {
					a.values[p.Value.In+"/"+p.Value.Name] = walkValue(p.Value.Name, p.Value.Schema.Value, i%2)
				}
				err := call(ctxTimeout(t, 5*time.Second), a)
				var argErr *client.ArgumentError
				if errors.As(err, &argErr) {
					// The SDK checks ids the server reads as UUIDs even where
					// the spec types them as plain strings: give the path
					// parameters UUIDs, keep the rest.
					for i, p := range params {
						if p.Value.In == openapi3.ParameterInPath && len(p.Value.Schema.Value.Enum) == 0 {
							a.values["path/"+p.Value.Name] = walkValue(p.Value.Name, &openapi3.Schema{Type: &openapi3.Types{"string"}, Format: "uuid"}, i%2)
						}
					}
					err = call(ctxTimeout(t, 5*time.Second), a)
				}
				if err != nil {
					t.Fatalf("call: %v", err)
				}
				for key := range a.values {
					if !a.used[key] {
						t.Errorf("spec parameter %s is not set by the SDK call", key)
					}
				}
				reqs := rec.take()
				if len(reqs) != 1 {
					t.Fatalf("%d requests, want 1", len(reqs))
				}
				r := reqs[0]
				if r.Method != method {
					t.Errorf("method %s, want %s", r.Method, method)
				}
				wantPath := path
				var query []string
				for _, p := range params {
					v := a.values[p.Value.In+"/"+p.Value.Name]
					switch p.Value.In {
					case openapi3.ParameterInPath:
						wantPath = strings.Replace(wantPath, "{"+p.Value.Name+"}", url.PathEscape(v.(string)), 1)
					case openapi3.ParameterInQuery:
						query = append(query, styled(p.Value, v))
					case openapi3.ParameterInHeader:
						if got, want := r.Header.Get(p.Value.Name), fmt.Sprint(v); got != want {
							t.Errorf("header %s: %q, want %q", p.Value.Name, got, want)
						}
					default:
						t.Errorf("parameter %s in %s: not handled by this test", p.Value.Name, p.Value.In)
					}
				}
				want := wantPath
				if len(query) > 0 {
					want += "?" + strings.Join(query, "&")
				}
				if r.RequestURI != want {
					t.Errorf("request line %s %s\nwant              %s %s", r.Method, r.RequestURI, method, want)
				}
			})
		}
	}
	for id := range calls {
		if !seen[id] {
			t.Errorf("walkCalls has %s, which the spec does not have", id)
		}
	}
}
