// Package contract checks HTTP traffic against the embedded OpenAPI document
// with kin-openapi. The contract tests, the fake server and the validating
// transport all use it, so none of them can drift from the spec the client
// is generated from.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/kratosadmin/sdk/api"
)

// Validator validates requests and responses against the spec. It is safe
// for concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
	// reqOpts validates requests: as opts, with requestUUIDFormat.
	reqOpts *openapi3filter.Options
}

var (
	loadOnce sync.Once
	loaded   *Validator
	loadErr  error
)

// Default returns the validator for the embedded spec, loading it once.
func Default() (*Validator, error) {
	loadOnce.Do(func() { loaded, loadErr = New(api.Spec) })
	return loaded, loadErr
}

// uuidFormat accepts any RFC 9562 UUID (Kratos ids are version 4; the nil
// UUID appears in page tokens). Answers use this canonical form.
var uuidFormat = openapi3.NewRegexpFormatValidator(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// requestUUIDFormat is "uuid" in requests: every text form Kratos parses
// (gofrs/uuid) and answers with a 2xx, the canonical form and 32 hex
// digits, either in braces or after "urn:uuid:" (see the spec's info), but
// not both and not one brace alone: Kratos v26.2.0 answers those 404.
var requestUUIDFormat = openapi3.NewRegexpFormatValidator(`^(urn:uuid:` + uuidForms + `|\{` + uuidForms + `\}|` + uuidForms + `)$`)

// uuidForms is the canonical form or 32 hex digits.
const uuidForms = `([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})`

// New loads and validates an OpenAPI document and prepares a router that
// matches on path alone, whatever host and port the traffic used.
func New(spec []byte) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("contract: load spec: %w", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableSchemaFormatValidation()); err != nil {
		return nil, fmt.Errorf("contract: invalid spec: %w", err)
	}
	// Route on the path alone: the admin API and the public schema
	// endpoints live on different hosts and ports.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: router: %w", err)
	}
	opts := func(uuid openapi3.FormatValidator[string]) *openapi3filter.Options {
		return &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
			SkipSettingDefaults:   true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.WithStringFormatValidator("uuid", uuid),
				openapi3.EnableFormatValidation(),
			},
		}
	}
	return &Validator{doc: doc, router: router, opts: opts(uuidFormat), reqOpts: opts(requestUUIDFormat)}, nil
}

// Doc is the loaded document.
func (v *Validator) Doc() *openapi3.T { return v.doc }

// ErrNoRoute is returned for a request the spec has no operation for.
var ErrNoRoute = errors.New("no operation in the spec for this method and path")

// Exchange is a request matched to its operation, ready to check the response.
type Exchange struct {
	input *openapi3filter.RequestValidationInput
}

// OperationID is the operation the request was routed to.
func (e *Exchange) OperationID() string { return e.input.Route.Operation.OperationID }

// Route finds the operation for req without validating it.
func (v *Validator) Route(req *http.Request) (*Exchange, error) {
	if p := req.URL.EscapedPath(); strings.Contains(p, "//") || len(p) > 1 && strings.HasSuffix(p, "/") {
		// kin-openapi's router ignores empty segments; Kratos' router
		// routes no path with one to an operation (a trailing "/" is a
		// text/plain 404, "//" a redirect to the cleaned path).
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, ErrNoRoute)
	}
	routed := req
	if req.URL.RawPath != "" {
		// An escaped "/" in a path parameter must not split the segment:
		// route on the escaped path.
		u := *req.URL
		u.Path, u.RawPath = req.URL.RawPath, ""
		routed = req.Clone(req.Context())
		routed.URL = &u
	}
	route, params, err := v.router.FindRoute(routed)
	if err != nil {
		var re *routers.RouteError
		if errors.As(err, &re) {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, ErrNoRoute)
		}
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return &Exchange{input: &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options:    v.reqOpts,
	}}, nil
}

// ValidateRequest routes req and validates its parameters and body. body is
// the request body (req.Body is not read). The returned Exchange is usable
// for ValidateResponse even when the request itself is invalid.
func (v *Validator) ValidateRequest(ctx context.Context, req *http.Request, body []byte) (*Exchange, error) {
	x, err := v.Route(req)
	if err != nil {
		return nil, err
	}
	// Validate a shallow copy whose body the validator may consume.
	r := req.Clone(ctx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if body == nil {
		r.Body = http.NoBody
	}
	in := *x.input
	in.Request = r
	if err := openapi3filter.ValidateRequest(ctx, &in); err != nil {
		return x, &Violation{Op: x.OperationID(), Side: "request", Method: req.Method, Path: req.URL.Path, Err: err}
	}
	return x, nil
}

// ValidateResponse validates a response to the exchange's request.
func (v *Validator) ValidateResponse(ctx context.Context, x *Exchange, status int, header http.Header, body []byte) error {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: x.input,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                v.opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return &Violation{Op: x.OperationID(), Side: "response", Status: status, Method: x.input.Request.Method, Path: x.input.Request.URL.Path, Err: err}
	}
	if status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect {
		// kin-openapi never validates redirects; the spec documents a Location.
		if header.Get("Location") == "" {
			return &Violation{Op: x.OperationID(), Side: "response", Status: status, Method: x.input.Request.Method, Path: x.input.Request.URL.Path, Err: errors.New("redirect without a Location header")}
		}
	}
	return nil
}

// Violation is traffic the spec does not allow.
type Violation struct {
	Op     string // operationId
	Side   string // "request" or "response"
	Method string
	Path   string
	Status int // response status, for Side == "response"
	Err    error
}

var spaces = regexp.MustCompile(`\s+`)

func (e *Violation) Error() string {
	msg := spaces.ReplaceAllString(strings.TrimSpace(e.Err.Error()), " ")
	if len(msg) > 2000 {
		msg = msg[:2000] + "..."
	}
	if e.Side == "response" {
		return fmt.Sprintf("spec violation in %s response %d to %s %s: %s", e.Op, e.Status, e.Method, e.Path, msg)
	}
	return fmt.Sprintf("spec violation in %s request %s %s: %s", e.Op, e.Method, e.Path, msg)
}

func (e *Violation) Unwrap() error { return e.Err }
