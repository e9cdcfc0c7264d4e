package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"

	"github.com/kratosadmin/sdk/gen"
)

// Kratos releases the SDK knows (docs/compatibility.md). The wire is
// v26.2.0's; older releases lack some features (see Capabilities) and
// behave differently in a few places the SDK evens out.
const (
	KratosV1_3  = "v1.3.1"
	KratosV25_4 = "v25.4.0"
	KratosV26_2 = "v26.2.0"
)

// Feature is something a Kratos release can or cannot serve.
type Feature string

// The features that not every supported release has. A call that needs one
// the connected release lacks fails before sending with an
// *UnsupportedError (errors.Is(err, errors.ErrUnsupported) holds).
const (
	// FeatureExternalID: external_id in a create, update or batch body,
	// and a JSON Patch of /external_id. v1.3.1 refuses it in create and
	// batch bodies (the whole batch) and silently drops it in updates.
	FeatureExternalID Feature = "external_id"
	// FeatureGetByExternalID: GET /admin/identities/by/external/{id}.
	FeatureGetByExternalID Feature = "Identities.GetByExternalID"
	// FeatureOrganizationID: organization_id in a create or batch body and
	// the organization_id list filter (v1.3.1 ignores the filter and lists
	// every identity).
	FeatureOrganizationID Feature = "organization_id"
	// FeatureSAMLImport: saml credentials in a create, update or batch body.
	FeatureSAMLImport Feature = "saml credentials import"
	// FeatureIncludeSAML: saml in include_credential of Identities.Get,
	// ListPage and List. v1.3.1 has no saml credentials and refuses the
	// whole request (400); there the client leaves saml out of what it
	// asks for instead, since no identity can hold one.
	FeatureIncludeSAML Feature = "include_credential=saml"
	// FeatureDeleteFirstFactor: deleting an identity's password
	// credentials (v1.3.1: 400 "You cannot remove first factor credentials.").
	FeatureDeleteFirstFactor Feature = "deleting password credentials"
	// FeatureBatchPerItem: a batch stores each item on its own. Without it
	// (v1.3.1) a conflicting item rolls the whole request back while the
	// others still answer "create"; BatchCreate then checks which items
	// the server holds and reports the rest as rolled back.
	FeatureBatchPerItem Feature = "batch items stored independently"
)

// Capability is one row of the capability table: a feature and the
// release that introduced it.
type Capability struct {
	Feature Feature
	Since   string // the first release that has it, "v25.4.0"
}

// capabilities is the one table of what each release can do.
var capabilities = []Capability{
	{FeatureExternalID, KratosV25_4},
	{FeatureGetByExternalID, KratosV25_4},
	{FeatureOrganizationID, KratosV25_4},
	{FeatureSAMLImport, KratosV25_4},
	{FeatureIncludeSAML, KratosV25_4},
	{FeatureDeleteFirstFactor, KratosV25_4},
	{FeatureBatchPerItem, KratosV25_4},
}

// Capabilities returns the capability table: each feature not every
// supported release has, and the release that introduced it.
func Capabilities() []Capability { return append([]Capability(nil), capabilities...) }

// ErrUnknownRelease is returned by Client.KratosVersion when the server did
// not say which release it is (its version endpoint is hidden or answers
// something else) and none was stated with WithKratosVersion.
var ErrUnknownRelease = errors.New("kratos: the server's release is unknown (state it with WithKratosVersion)")

// UnsupportedError is a call refused before sending because the connected
// Kratos release cannot serve it. It matches errors.ErrUnsupported.
type UnsupportedError struct {
	Op      string  // the call, "Identities.Create"
	Feature Feature // what the release lacks
	Release string  // the connected release, "v1.3.1"
	Since   string  // the release that introduced the feature
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("kratos: %s: %s needs Kratos %s or later; the server is %s", e.Op, e.Feature, e.Since, e.Release)
}

// Is makes errors.Is(err, errors.ErrUnsupported) hold.
func (e *UnsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

var releasePattern = regexp.MustCompile(`^v?([0-9]+)\.([0-9]+)\.([0-9]+)`)

// release is a parsed Kratos version; known is false when the server did
// not tell (then every feature is assumed, as on the newest release).
type release struct {
	name                string
	major, minor, patch int
	known               bool
}

func parseRelease(s string) (release, bool) {
	m := releasePattern.FindStringSubmatch(s)
	if m == nil {
		return release{}, false
	}
	r := release{name: s, known: true}
	r.major, _ = strconv.Atoi(m[1])
	r.minor, _ = strconv.Atoi(m[2])
	r.patch, _ = strconv.Atoi(m[3])
	return r, true
}

func (r release) atLeast(o release) bool {
	if r.major != o.major {
		return r.major > o.major
	}
	if r.minor != o.minor {
		return r.minor > o.minor
	}
	return r.patch >= o.patch
}

// has reports whether r has f; an unknown release is assumed to have
// everything (the server then decides).
func (r release) has(f Feature) bool {
	if !r.known {
		return true
	}
	for _, c := range capabilities {
		if c.Feature == f {
			since, _ := parseRelease(c.Since)
			return r.atLeast(since)
		}
	}
	return true
}

// WithKratosVersion states the server's release ("v1.3.1", "v25.4.0",
// "v26.2.0") instead of asking GET /admin/version: for servers that hide
// that endpoint, and to save the one request. "" is the default: ask.
func WithKratosVersion(version string) Option {
	return func(cfg *config) error {
		if version == "" {
			cfg.release = nil
			return nil
		}
		r, ok := parseRelease(version)
		if !ok {
			return &ArgumentError{Op: "WithKratosVersion", Argument: "version", Reason: fmt.Sprintf("%q is not a release like v1.3.1", version)}
		}
		cfg.release = &r
		return nil
	}
}

// versionState caches the server's release, learned once.
type versionState struct {
	mu      sync.Mutex
	r       *release
	pending chan struct{} // non-nil while one caller asks the server
}

// KratosVersion returns the server's release: the one stated with
// WithKratosVersion, or what GET /admin/version answers, asked once (on
// first need: the first call that depends on the release) and cached.
//
// When the server does not tell (the endpoint answers an error status, a
// redirect or no version: a proxy hides it), KratosVersion returns
// ErrUnknownRelease, cached too, and the client treats the server as the
// newest release it knows (v26.2.0): it sends every feature and lets the
// server decide, and it takes batch answers at their word. State an older
// release with WithKratosVersion in that case. A transport failure, a 5xx
// or a 429 is not cached: the call that needed the release fails with it,
// and the next one asks again.
func (c *Client) KratosVersion(ctx context.Context) (string, error) {
	r, err := c.release(ctx)
	if err != nil {
		return "", err
	}
	if !r.known {
		return "", ErrUnknownRelease
	}
	return r.name, nil
}

// release returns the connected release, asking the server on first need.
// Concurrent first callers share one request.
func (c *Client) release(ctx context.Context) (release, error) {
	if c.cfg.release != nil {
		return *c.cfg.release, nil
	}
	v := c.version
	for {
		v.mu.Lock()
		if v.r != nil {
			r := *v.r
			v.mu.Unlock()
			return r, nil
		}
		if ch := v.pending; ch != nil {
			v.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return release{}, ctx.Err()
			}
		}
		ch := make(chan struct{})
		v.pending = ch
		v.mu.Unlock()
		r, cache, err := c.askVersion(ctx)
		v.mu.Lock()
		if cache {
			v.r = &r
		}
		v.pending = nil
		close(ch)
		v.mu.Unlock()
		return r, err
	}
}

// askVersion sends GET /admin/version. cache is false for failures that may
// pass (transport, 5xx, 429, the context).
func (c *Client) askVersion(ctx context.Context) (r release, cache bool, err error) {
	const op = "Client.KratosVersion"
	req, err := gen.NewGetVersionRequest(c.server(false))
	cl, err := c.newCall(op, false, req, err)
	if err != nil {
		return release{}, false, err
	}
	var out gen.Version
	err = c.invoke(ctx, cl, &out)
	var apiErr *Error
	switch {
	case err == nil:
		if r, ok := parseRelease(out.Version); ok {
			return r, true, nil
		}
		return release{}, true, nil // no version in the answer: unknown
	case errors.As(err, &apiErr) && apiErr.StatusCode < 500 && apiErr.StatusCode != http.StatusTooManyRequests:
		return release{}, true, nil // hidden or refused: unknown
	case errors.Is(err, ErrMalformedResponse), errors.Is(err, ErrRedirect):
		return release{}, true, nil
	default:
		return release{}, false, fmt.Errorf("kratos: learning the server's release (GET /admin/version; WithKratosVersion states it): %w", err)
	}
}

// require fails with an *UnsupportedError when the connected release lacks
// f. It asks the server's release on first need.
func (c *Client) require(ctx context.Context, op string, f Feature) error {
	r, err := c.release(ctx)
	if err != nil {
		return err
	}
	if r.has(f) {
		return nil
	}
	e := &UnsupportedError{Op: op, Feature: f, Release: r.name}
	for _, cp := range capabilities {
		if cp.Feature == f {
			e.Since = cp.Since
		}
	}
	return e
}

// includable is types without saml when the connected release has no saml
// credentials (v1.3.1 refuses include_credential=saml with a 400, and no
// identity there can hold one); types as they are otherwise. It asks the
// server's release only when types has saml.
func (c *Client) includable(ctx context.Context, types []IdentityCredentialsType) ([]IdentityCredentialsType, error) {
	if !slices.Contains(types, CredentialsTypeSAML) {
		return types, nil
	}
	r, err := c.release(ctx)
	if err != nil {
		return nil, err
	}
	if r.has(FeatureIncludeSAML) {
		return types, nil
	}
	return slices.DeleteFunc(slices.Clone(types), func(t IdentityCredentialsType) bool { return t == CredentialsTypeSAML }), nil
}

// Supports reports whether the connected release has f, learning the
// release on first need (see KratosVersion; an unknown release is taken to
// have every feature). Calls that need f check it themselves: Supports is
// for callers that choose what to send, like a demo that leaves external
// ids out on v1.3.
func (c *Client) Supports(ctx context.Context, f Feature) (bool, error) {
	r, err := c.release(ctx)
	if err != nil {
		return false, err
	}
	return r.has(f), nil
}
