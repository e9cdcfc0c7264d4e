package kratostest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/kratosadmin/sdk/gen"
)

// The fake's operations come from the spec: gen.HandlerWithOptions (made by
// oapi-codegen from api/kratos-admin.yaml, see api/oapi-codegen-server.yaml)
// registers one route per operation and binds its parameters with
// oapi-codegen/runtime; operations, below, implements gen.ServerInterface
// by calling the handler of each operation. An operation added to the spec
// adds a method to gen.ServerInterface, so this package does not compile
// until the fake implements it.

var _ gen.ServerInterface = operations{}

// operations is the fake's gen.ServerInterface: a thin adapter from the
// generated wrappers to the handlers. Path parameters and the query
// parameters whose bound value is all Kratos reads of them (ids,
// credentials_identifier, include_credential, expand, return_to, ...)
// come from the generated binding. The handlers read the rest from the
// query the client sent, each raw read with its reason, where Kratos'
// own parsing tells apart what the bound type cannot: the pagination
// parameters (absent, empty and unparsable differ: a default, a mode or
// an error with Kratos' own message) and active (an unparsable value is a
// 400 the refused binding cannot show). TestFakeReadsEveryQueryParameter
// lists which is which.
type operations struct{ s *Server }

func (o operations) ListIdentities(w http.ResponseWriter, r *http.Request, p gen.ListIdentitiesParams) {
	o.s.listIdentities(w, r, p)
}

func (o operations) BatchPatchIdentities(w http.ResponseWriter, r *http.Request) {
	o.s.batchPatchIdentities(w, r)
}

func (o operations) CreateIdentity(w http.ResponseWriter, r *http.Request) {
	o.s.createIdentity(w, r)
}

func (o operations) GetIdentityByExternalID(w http.ResponseWriter, _ *http.Request, externalID string, p gen.GetIdentityByExternalIDParams) {
	o.s.getIdentityByExternalID(w, externalID, p.IncludeCredential)
}

func (o operations) DeleteIdentity(w http.ResponseWriter, r *http.Request, id gen.IdentityID) {
	o.s.deleteIdentity(w, r, id)
}

func (o operations) GetIdentity(w http.ResponseWriter, _ *http.Request, id gen.IdentityID, p gen.GetIdentityParams) {
	o.s.getIdentity(w, id, p.IncludeCredential)
}

func (o operations) PatchIdentity(w http.ResponseWriter, r *http.Request, id gen.IdentityID) {
	o.s.patchIdentity(w, r, id)
}

func (o operations) UpdateIdentity(w http.ResponseWriter, r *http.Request, id gen.IdentityID) {
	o.s.updateIdentity(w, r, id)
}

func (o operations) DeleteIdentityCredentials(w http.ResponseWriter, _ *http.Request, id gen.IdentityID, typ gen.IdentityCredentialsType, p gen.DeleteIdentityCredentialsParams) {
	o.s.deleteIdentityCredentials(w, id, string(typ), p.Identifier)
}

func (o operations) DeleteIdentitySessions(w http.ResponseWriter, r *http.Request, id gen.IdentityID) {
	o.s.deleteIdentitySessions(w, r, id)
}

func (o operations) ListIdentitySessions(w http.ResponseWriter, r *http.Request, id gen.IdentityID, _ gen.ListIdentitySessionsParams) {
	o.s.listIdentitySessions(w, r, id)
}

func (o operations) CreateRecoveryCodeForIdentity(w http.ResponseWriter, r *http.Request) {
	o.s.createRecoveryCode(w, r)
}

func (o operations) CreateRecoveryLinkForIdentity(w http.ResponseWriter, r *http.Request, p gen.CreateRecoveryLinkForIdentityParams) {
	o.s.createRecoveryLink(w, r, p.ReturnTo)
}

func (o operations) ListSessions(w http.ResponseWriter, r *http.Request, p gen.ListSessionsParams) {
	o.s.listSessions(w, r, p)
}

func (o operations) DisableSession(w http.ResponseWriter, r *http.Request, id gen.SessionID) {
	o.s.disableSession(w, r, id)
}

func (o operations) GetSession(w http.ResponseWriter, _ *http.Request, id gen.SessionID, p gen.GetSessionParams) {
	o.s.getSession(w, id, p.Expand)
}

func (o operations) ExtendSession(w http.ResponseWriter, r *http.Request, id gen.SessionID) {
	o.s.extendSession(w, r, id)
}

func (o operations) ListIdentitySchemas(w http.ResponseWriter, r *http.Request, _ gen.ListIdentitySchemasParams) {
	o.s.listSchemas(w, r)
}

func (o operations) GetIdentitySchema(w http.ResponseWriter, r *http.Request, id string) {
	o.s.getSchema(w, r, id)
}

// newRoutes registers the spec's operations on a router.
func (s *Server) newRoutes() *router {
	rt := &router{byPattern: map[string]http.HandlerFunc{}}
	gen.HandlerWithOptions(operations{s}, gen.StdHTTPServerOptions{
		BaseRouter:       rt,
		Middlewares:      []gen.MiddlewareFunc{s.bound},
		ErrorHandlerFunc: s.paramError,
	})
	return rt
}

// rawURLKey keys the request's URL as the client sent it, when paramError
// has removed a query parameter, or all but its first value, for the
// generated binding.
type rawURLKey struct{}

// paramError answers a request whose parameters the generated binding
// refused. The binding is stricter than Kratos, which reads its query
// parameters leniently for some (a page_size of "abc" is the default page
// size for listIdentitySessions, a repeated value is its first) and with
// its own messages for others ("could not parse parameter page_size" for
// listSessions). So the binding is run again without the refusal: a
// repeated parameter keeps its first value, the one Kratos reads (and the
// handler takes from the binding), and a value the binding refuses is
// left out; the handler, which reads such a parameter from the query as
// the client sent it, answers as Kratos does.
func (s *Server) paramError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *gen.InvalidParamFormatError
	if errors.As(err, &fe) {
		if h := s.routes.byPattern[r.Pattern]; h != nil && r.URL.Query().Has(fe.ParamName) {
			ctx := r.Context()
			if _, ok := ctx.Value(rawURLKey{}).(*url.URL); !ok {
				ctx = context.WithValue(ctx, rawURLKey{}, r.URL)
			}
			u := *r.URL
			q := u.Query()
			if vs := q[fe.ParamName]; len(vs) > 1 {
				q[fe.ParamName] = vs[:1]
			} else {
				q.Del(fe.ParamName)
			}
			u.RawQuery = q.Encode()
			r2 := r.WithContext(ctx)
			r2.URL = &u
			h(w, r2)
			return
		}
	}
	writeError(w, errBadRequest(err.Error()))
}

// bound runs between the generated binding and the operation: it gives
// the handler the URL the client sent (see paramError) and tells the
// package's tests which operation was reached.
func (s *Server) bound(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := r.Context().Value(rawURLKey{}).(*url.URL); ok {
			r2 := *r
			r2.URL = u
			r = &r2
		}
		if s.cfg.onOperation != nil {
			s.cfg.onOperation(r)
		}
		next.ServeHTTP(w, r)
	})
}

// router is the gen.ServeMux the generated routes are registered on. It
// matches like the hand-written router it replaced, not like
// http.ServeMux: paths come to it cleaned by serveAdmin (a 307 for dot
// segments and "//", as Kratos answers), an escaped slash stays in its
// segment (an external id "a/b", escaped as "a%2Fb", reaches its
// operation), a method mismatch is a 405 with Allow, anything else a 404. A wildcard matches
// one non-empty segment, unescaped.
type router struct {
	routes    []route
	byPattern map[string]http.HandlerFunc
}

type route struct {
	pattern string
	method  string
	segs    []string // literal segments; wildcards are "{name}"
	h       http.HandlerFunc
}

// HandleFunc registers h for a pattern "METHOD /path/{wildcard}".
func (rt *router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		panic("kratostest: bad route pattern " + pattern)
	}
	rt.routes = append(rt.routes, route{
		pattern: pattern,
		method:  method,
		segs:    strings.Split(strings.TrimPrefix(path, "/"), "/"),
		h:       h,
	})
	rt.byPattern[pattern] = h
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.serve(w, r, segments(r))
}

// serve routes r, whose path is split into unescaped segments seg.
func (rt *router) serve(w http.ResponseWriter, r *http.Request, seg []string) {
	var allow map[string]bool
	for k := range rt.routes {
		rte := &rt.routes[k]
		if !rte.matches(seg) {
			continue
		}
		if rte.method != r.Method {
			if allow == nil {
				allow = map[string]bool{}
			}
			allow[rte.method] = true
			continue
		}
		for i, p := range rte.segs {
			if name, ok := wildcard(p); ok {
				r.SetPathValue(name, seg[i])
			}
		}
		r.Pattern = rte.pattern
		rte.h(w, r)
		return
	}
	if allow == nil {
		http.NotFound(w, r)
		return
	}
	var methods []string
	for m := range allow {
		methods = append(methods, m)
	}
	methodNotAllowed(w, methods...)
}

func (rte *route) matches(seg []string) bool {
	if len(seg) != len(rte.segs) {
		return false
	}
	for i, p := range rte.segs {
		if _, ok := wildcard(p); ok {
			if seg[i] == "" {
				return false
			}
		} else if seg[i] != p {
			return false
		}
	}
	return true
}

func wildcard(p string) (string, bool) {
	if len(p) > 2 && p[0] == '{' && p[len(p)-1] == '}' {
		return p[1 : len(p)-1], true
	}
	return "", false
}
