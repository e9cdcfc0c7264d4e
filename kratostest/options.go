package kratostest

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kratosadmin/sdk/client"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	schemas           []*identitySchema
	schemaByID        map[string]*identitySchema
	defaultSchemaID   string
	token             string
	clock             func() time.Time
	seed              []client.CreateIdentityBody
	middleware        []func(http.Handler) http.Handler
	maxPageSize       int
	maxBodyBytes      int64
	fasterExtend      bool
	sessionLifespan   time.Duration
	recoveryLifespan  time.Duration
	recoveryUIURL     string
	bcryptCost        int
	allowedReturnURLs []string
	idGen             func(kind string) string
	logger            *slog.Logger
	queryCost         QueryCosts
	adminListener     net.Listener
	publicListener    net.Listener
	adminBaseURL      string
	publicBaseURL     string
	methods           map[string]bool // nil: all enabled
	maxLoginFlows     int
	journalSize       int
	requestLog        func(Request)
	release           string // the Kratos release emulated (release.go)
	// Server timeouts (server.go); the package's tests shorten them.
	readHeaderTimeout, readTimeout, idleTimeout time.Duration
	errs                                        []error
	// onOperation, set by the package's tests, sees every request that
	// reaches an operation through the generated binding.
	onOperation func(*http.Request)
}

func defaultConfig() config {
	return config{
		schemaByID:        map[string]*identitySchema{},
		clock:             time.Now,
		maxPageSize:       1000,
		maxBodyBytes:      1 << 20,
		sessionLifespan:   24 * time.Hour,
		recoveryLifespan:  time.Hour,
		logger:            slog.Default(),
		maxLoginFlows:     DefaultMaxLoginFlows,
		bcryptCost:        DefaultBcryptCost,
		journalSize:       DefaultJournalSize,
		release:           ReleaseV26_2,
		readHeaderTimeout: readHeaderTimeout,
		readTimeout:       readTimeout,
		idleTimeout:       idleTimeout,
	}
}

// WithIdentitySchema adds an identity schema (a JSON Schema document with
// Kratos' "ory.sh/kratos" extension). Repeat it for several schemas; the
// first one is the default schema (used when a body names none) unless
// WithDefaultSchemaID says otherwise. Without this option the server has
// one schema, DefaultSchemaID, whose document is DefaultIdentitySchema().
//
// Schemas are compiled as draft-07 unless they say otherwise; formats such
// as email are enforced. References must be local: the fake loads nothing
// from the network.
func WithIdentitySchema(id string, schemaJSON []byte) Option {
	return func(c *config) {
		if _, dup := c.schemaByID[id]; dup {
			c.errs = append(c.errs, fmt.Errorf("WithIdentitySchema: schema %q given twice", id))
			return
		}
		s, err := compileSchema(id, schemaJSON)
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("WithIdentitySchema: %w", err))
			return
		}
		c.schemas = append(c.schemas, s)
		c.schemaByID[id] = s
	}
}

// WithDefaultSchemaID sets the schema used for identities created without
// a schema_id (by default the first schema).
func WithDefaultSchemaID(id string) Option {
	return func(c *config) { c.defaultSchemaID = id }
}

// WithBearerToken makes the admin endpoints require the header
// "Authorization: Bearer <token>", as Ory Network does with an API key.
// Requests without it are answered 401. Server.Client sends the token.
func WithBearerToken(token string) Option {
	return func(c *config) {
		if token == "" {
			c.errs = append(c.errs, errors.New("WithBearerToken: empty token"))
		}
		c.token = token
	}
}

// WithClock replaces time.Now for every timestamp the server sets
// (creation, state changes, session expiry, recovery expiry).
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			c.errs = append(c.errs, errors.New("WithClock: nil function"))
			return
		}
		c.clock = now
	}
}

// WithIdentities creates these identities when the server starts, as
// POST /admin/identities would (passwords are hashed, the schema is
// enforced). A body the real server would refuse makes the server fail to
// start.
func WithIdentities(bodies ...client.CreateIdentityBody) Option {
	return func(c *config) { c.seed = append(c.seed, bodies...) }
}

// WithMiddleware wraps the server's handler (admin and public ports) with
// mw, for example to inject faults: a 503, a delay, a dropped connection
// (Server.AddFault does these without code, and programs reach it over
// HTTP).
// The first middleware given is the outermost. Responses a middleware
// makes itself are not checked against the spec; the fake's are.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(c *config) {
		if mw == nil {
			c.errs = append(c.errs, errors.New("WithMiddleware: nil middleware"))
			return
		}
		c.middleware = append(c.middleware, mw)
	}
}

// WithMaxPageSize sets the largest page the lists return (default 1000,
// as Kratos clamps page_size; larger values are clamped, not refused).
// Identity lists never exceed 500, Kratos' own limit for them.
func WithMaxPageSize(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("WithMaxPageSize: %d is not positive", n))
			return
		}
		c.maxPageSize = n
	}
}

// WithMaxBodyBytes bounds request bodies (default 1 MiB). A larger body
// is refused the way the endpoint refuses unreadable JSON.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("WithMaxBodyBytes: %d is not positive", n))
			return
		}
		c.maxBodyBytes = n
	}
}

// WithFasterSessionExtend makes PATCH /admin/sessions/{id}/extend answer
// 204 without a body, like a server with the faster_session_extend
// feature flag (recording 114). By default it answers 200 with the
// session (079).
func WithFasterSessionExtend() Option {
	return func(c *config) { c.fasterExtend = true }
}

// WithSessionLifespan sets how long sessions last from their creation or
// extension (default 24h, session.lifespan).
func WithSessionLifespan(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithSessionLifespan: %s is not positive", d))
			return
		}
		c.sessionLifespan = d
	}
}

// WithRecoveryLifespan sets how long recovery codes and links last when
// the request has no expires_in (default 1h).
func WithRecoveryLifespan(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithRecoveryLifespan: %s is not positive", d))
			return
		}
		c.recoveryLifespan = d
	}
}

// WithRecoveryUIURL sets the recovery UI URL that recovery codes link to
// (selfservice.flows.recovery.ui_url), an absolute http or https URL; the
// default is the public URL followed by /ui/recovery.
func WithRecoveryUIURL(u string) Option {
	return func(c *config) {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			c.errs = append(c.errs, fmt.Errorf("WithRecoveryUIURL: %q is not an absolute http or https URL", u))
			return
		}
		c.recoveryUIURL = u
	}
}

// DefaultBcryptCost is the bcrypt cost of the hashes the fake makes from
// plaintext passwords (imported, or rehashed at login) unless
// WithBcryptCost says otherwise: the minimum, 4, so that tests importing
// hundreds of passwords stay fast (a hash at cost 8 takes 16 times as
// long). Kratos uses its hashers.bcrypt.cost (12 by default; 8 on
// ../shared/kratos), which shows in the hashes read back with
// include_credential=password ("$2a$04$" here, "$2a$08$" there).
const DefaultBcryptCost = bcrypt.MinCost

// WithBcryptCost sets the bcrypt cost of the hashes the fake makes
// (Kratos' hashers.bcrypt.cost), between 4 and 31.
func WithBcryptCost(cost int) Option {
	return func(c *config) {
		if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
			c.errs = append(c.errs, fmt.Errorf("WithBcryptCost: %d is not between %d and %d", cost, bcrypt.MinCost, bcrypt.MaxCost))
			return
		}
		c.bcryptCost = cost
	}
}

// WithAllowedReturnURLs sets the return_to URLs recovery links accept
// (selfservice.allowed_return_urls): a URL is allowed when it starts with
// one of them. URLs on the public URL's origin are always allowed.
func WithAllowedReturnURLs(urls ...string) Option {
	return func(c *config) { c.allowedReturnURLs = append(c.allowedReturnURLs, urls...) }
}

// ID kinds passed to the generator of WithIDGenerator.
const (
	IDKindIdentity = "identity" // identity ids
	IDKindSession  = "session"  // session ids
	IDKindDevice   = "device"   // session device ids
	IDKindAddress  = "address"  // verifiable and recovery address ids
	IDKindFlow     = "flow"     // recovery flow ids
)

// WithIDGenerator replaces the random UUIDs the server gives to new
// objects, for deterministic tests. gen receives the kind of object
// (IDKindIdentity, ...) and must return a UUID not used before. It is
// called with the server's lock held: it must not call the server. A
// malformed id, or an identity or session id already in use, is reported
// as an error of the test (logged without one) and replaced by a random id.
func WithIDGenerator(gen func(kind string) string) Option {
	return func(c *config) {
		if gen == nil {
			c.errs = append(c.errs, errors.New("WithIDGenerator: nil function"))
			return
		}
		c.idGen = gen
	}
}

// WithMaxLoginFlows bounds the unfinished login flows of the public login
// API the server keeps (default DefaultMaxLoginFlows). Starting a flow
// beyond it forgets the oldest; flows also end when they expire (10
// minutes) or are submitted successfully. A forgotten flow answers 404,
// as an expired one does, so that clients that start flows and never
// finish them cannot grow the server's memory without bound.
func WithMaxLoginFlows(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("WithMaxLoginFlows: %d is not positive", n))
			return
		}
		c.maxLoginFlows = n
	}
}

// WithJournalSize sets how many requests the journal keeps (default
// DefaultJournalSize); beyond it the oldest are dropped (Server.Requests).
func WithJournalSize(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("WithJournalSize: %d is not positive", n))
			return
		}
		c.journalSize = n
	}
}

// WithRequestLog calls log with each request the journal records (see
// Server.Requests), once it is answered, without its bodies: faulted and
// dropped requests included, control requests not. cmd/kratos-fake's
// --log-requests is this. log runs on the request's goroutine.
func WithRequestLog(log func(Request)) Option {
	return func(c *config) {
		if log == nil {
			c.errs = append(c.errs, errors.New("WithRequestLog: nil function"))
			return
		}
		c.requestLog = log
	}
}

// WithLogger sets where a server started with Start (without a
// testing.TB) reports responses that break the spec; the default is
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l == nil {
			c.errs = append(c.errs, errors.New("WithLogger: nil logger"))
			return
		}
		c.logger = l
	}
}

// SessionOption configures a session made by Server.CreateSession.
type SessionOption func(*sessionConfig)

type sessionConfig struct {
	active          bool
	devices         []device
	methods         []authMethod
	aal             string
	authenticatedAt time.Time
	expiresAt       time.Time
}

// WithSessionDevice sets the device the session was created from (by
// default ip 127.0.0.1, user agent "kratostest/1.0", empty location).
// Repeat it for several devices.
func WithSessionDevice(ipAddress, userAgent, location string) SessionOption {
	return func(c *sessionConfig) {
		c.devices = append(c.devices, device{IPAddress: ipAddress, UserAgent: userAgent, Location: location})
	}
}

// WithSessionMethod adds an authentication method (by default one
// password method at aal1). The session's assurance level is the highest
// of its methods unless WithSessionAAL says otherwise.
func WithSessionMethod(method client.IdentityCredentialsType, aal client.AuthenticatorAssuranceLevel) SessionOption {
	return func(c *sessionConfig) {
		c.methods = append(c.methods, authMethod{Method: string(method), AAL: string(aal)})
	}
}

// WithSessionAAL sets the session's authenticator assurance level.
func WithSessionAAL(aal client.AuthenticatorAssuranceLevel) SessionOption {
	return func(c *sessionConfig) { c.aal = string(aal) }
}

// WithSessionActive sets whether the session is active (default true); a
// session made inactive is as one disabled by DELETE /admin/sessions/{id}.
func WithSessionActive(active bool) SessionOption {
	return func(c *sessionConfig) { c.active = active }
}

// WithSessionAuthenticatedAt sets when the session was authenticated
// (default: now).
func WithSessionAuthenticatedAt(t time.Time) SessionOption {
	return func(c *sessionConfig) { c.authenticatedAt = t }
}

// WithSessionExpiresAt sets when the session expires (default: the
// server's session lifespan from now). An expired session is listed as
// inactive.
func WithSessionExpiresAt(t time.Time) SessionOption {
	return func(c *sessionConfig) { c.expiresAt = t }
}

// WithListeners serves the admin API on admin and the public API on
// public instead of on fresh loopback ports, for example listeners on
// fixed addresses (cmd/kratos-fake). The server closes them when it is
// closed, or when it fails to start. Server.URL and Server.PublicURL are
// made from their addresses unless WithBaseURLs says otherwise.
func WithListeners(admin, public net.Listener) Option {
	return func(c *config) {
		if admin == nil || public == nil {
			c.errs = append(c.errs, errors.New("WithListeners: nil listener"))
			return
		}
		c.adminListener, c.publicListener = admin, public
	}
}

// WithBaseURLs sets the URLs the server is reached at, like Kratos'
// serve.admin.base_url and serve.public.base_url: they become Server.URL
// and Server.PublicURL and appear in answers (schema_url, the admin port's
// redirects to the schemas, recovery links, login flows). Use it when
// clients reach the server under another name than its listening address
// (a docker compose service name, 0.0.0.0). They have no path. An empty
// string keeps the listener's address for that port.
func WithBaseURLs(admin, public string) Option {
	return func(c *config) {
		for _, u := range []*string{&admin, &public} {
			if *u == "" {
				continue
			}
			p, err := url.Parse(*u)
			if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || strings.Trim(p.Path, "/") != "" || p.RawQuery != "" || p.Fragment != "" {
				c.errs = append(c.errs, fmt.Errorf("WithBaseURLs: %q is not an http(s) base URL", *u))
				return
			}
			*u = strings.TrimSuffix(*u, "/")
		}
		c.adminBaseURL, c.publicBaseURL = admin, public
	}
}

// WithEnabledMethods says which sign-in methods the server has enabled
// (Kratos' selfservice.methods.<method>.enabled), for the rule that an
// identity's last first-factor credential cannot be deleted: only
// credentials of enabled methods count. By default all of them are:
// password, code (passwordless), oidc, saml, webauthn (passwordless keys)
// and passkey. ../shared/kratos enables password and code, and counts
// OIDC links too (WithEnabledMethods(password, code, oidc) behaves like
// it). Imports are not affected: Kratos stores credentials of methods it
// has not enabled.
func WithEnabledMethods(methods ...client.IdentityCredentialsType) Option {
	return func(c *config) {
		c.methods = map[string]bool{}
		for _, m := range methods {
			switch m {
			case client.CredentialsTypePassword, client.CredentialsTypeCode, client.CredentialsTypeOIDC, client.CredentialsTypeSAML,
				client.CredentialsTypeWebAuthn, client.CredentialsTypePasskey, client.CredentialsTypeTOTP, client.CredentialsTypeLookupSecret:
				c.methods[string(m)] = true
			default:
				c.errs = append(c.errs, fmt.Errorf("WithEnabledMethods: unknown method %q", m))
			}
		}
	}
}
