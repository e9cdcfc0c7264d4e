package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Option configures a Client. Options validate their arguments: New returns
// the first error an option reports.
type Option func(*config) error

// Doer sends one HTTP request. *http.Client is a Doer.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// RequestEditorFn changes every request just before it is sent, after the
// client has set its own headers. It runs again for each retry.
type RequestEditorFn func(ctx context.Context, req *http.Request) error

// Defaults.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 32 << 20
	defaultUserAgent        = "kratosadmin-go/" + Version
)

// Version is the SDK's version, sent in the default User-Agent.
const Version = "0.1.0"

// WithBearerToken authenticates every request to the configured origins
// with `Authorization: Bearer <token>` (an Ory Network API key, or whatever
// a gateway in front of a self-hosted admin port expects). The token is
// never sent to another origin, never logged and never printed.
func WithBearerToken(token string) Option {
	return func(c *config) error {
		token = strings.TrimSpace(token)
		if token == "" {
			return errors.New("WithBearerToken: empty token")
		}
		if strings.ContainsAny(token, "\r\n") {
			return errors.New("WithBearerToken: token contains a line break")
		}
		c.auth = newSecret("Bearer " + token)
		return nil
	}
}

// WithCleartextToken lets the bearer token travel in clear text: to an
// http:// admin URL whose host is not loopback, or through an HTTP proxy.
// Without it, New refuses that combination: anyone on the path could read
// the token. Use it only on a network you trust.
func WithCleartextToken() Option {
	return func(c *config) error {
		c.cleartext = true
		return nil
	}
}

// WithHTTPClient sends requests with hc (its Transport, Jar and Timeout).
// The client handles redirects itself, so hc's CheckRedirect is not used.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		cp := *hc
		cp.CheckRedirect = noRedirects
		c.doer = &cp
		return nil
	}
}

// WithDoer sends requests with any Doer, for example an instrumented client.
// The client follows redirects itself; d should not follow them.
func WithDoer(d Doer) Option {
	return func(c *config) error {
		if d == nil {
			return errors.New("WithDoer: nil Doer")
		}
		if hc, ok := d.(*http.Client); ok {
			return WithHTTPClient(hc)(c)
		}
		c.doer = d
		return nil
	}
}

// WithUserAgent replaces the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if ua == "" || strings.ContainsAny(ua, "\r\n") {
			return fmt.Errorf("WithUserAgent: invalid user agent %q", ua)
		}
		c.userAgent = []string{ua}
		return nil
	}
}

// WithRetryPolicy replaces the retry policy (see RetryPolicy).
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if err := p.validate(); err != nil {
			return fmt.Errorf("WithRetryPolicy: %w", err)
		}
		c.retry = p
		return nil
	}
}

// WithoutRetries sends every request exactly once.
func WithoutRetries() Option {
	return func(c *config) error {
		c.retry = RetryPolicy{MaxAttempts: 1}
		return nil
	}
}

// WithRequestEditor adds a function that edits every request before it is
// sent (tracing headers, say). Editors run in the order they were added.
func WithRequestEditor(fn RequestEditorFn) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("WithRequestEditor: nil function")
		}
		c.editors = append(c.editors, fn)
		return nil
	}
}

// WithPublicURL sets the public URL of the Kratos server. The identity
// schema endpoints are served there; without it the client asks the admin
// URL and follows its redirect to the public port.
func WithPublicURL(publicURL string) Option {
	return func(c *config) error {
		ep, err := parseEndpoint(publicURL)
		if err != nil {
			return fmt.Errorf("WithPublicURL: %w", err)
		}
		c.public = ep
		return nil
	}
}

// WithTimeout bounds each attempt of a request (connecting, sending and
// reading the whole response). The default is 30 seconds; zero means no
// bound beyond the caller's context.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("WithTimeout: negative duration %s", d)
		}
		c.timeout = d
		return nil
	}
}

// WithMaxResponseBytes bounds the size of a response body the client reads
// (default 32 MiB). A larger body is an error, not a truncated result.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("WithMaxResponseBytes: %d is not positive", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithLogger logs every attempt at debug level: method, path, status,
// duration, attempt and request headers with Authorization redacted.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// secret holds a credential. The value lives in a closure, where neither
// fmt nor a reflection-based printer can reach it: they print the
// unexported fields of a config without calling their methods, and a
// string field would show the token (fmt.Sprintf("%s", *client) did).
// Where fmt can call its methods, a secret prints as [REDACTED].
type secret func() string

func newSecret(s string) secret { return func() string { return s } }

func (secret) String() string   { return "[REDACTED]" }
func (secret) GoString() string { return `"[REDACTED]"` }
func (s secret) Format(f fmt.State, verb rune) {
	_, _ = f.Write([]byte("[REDACTED]"))
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
