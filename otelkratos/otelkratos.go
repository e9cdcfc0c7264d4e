// Package otelkratos traces and measures the calls of a Kratos admin client
// (github.com/kratosadmin/sdk/client) with OpenTelemetry. It is built on the
// client's operation hooks (client.Hooks), in a module of its own, so the
// client's module depends on no part of OpenTelemetry:
//
//	hooks, err := otelkratos.NewHooks() // the global providers, or WithTracerProvider/WithMeterProvider
//	...
//	c, err := client.New(url, client.WithBearerToken(token), client.WithHooks(hooks))
//
// Each call is a span of kind client, named by the spec's operationId
// (getIdentity, listIdentities, ...; the HTTP method for a Do request that
// addresses no operation), with the semantic-convention HTTP client
// attributes (http.request.method, server.address, server.port, url.full,
// url.template, http.response.status_code, error.type,
// http.request.resend_count) and kratos.operation, and kratos.page for a
// page of an iterator's walk. Every attempt is an event named
// kratos.attempt on it (kratos.attempt.number, its status, duration and
// error.type), so a retried call is one span with its attempts. A call that
// fails, or ends with a status of 400 or more, has the span status Error.
// The span is the call's context while it runs: an instrumented transport
// (otelhttp) below it records its requests as children.
//
// Metrics: every attempt is recorded in the http.client.request.duration
// histogram (seconds) and every call, waits between attempts included, in
// kratos.client.operation.duration (seconds).
//
// Nothing recorded holds the bearer token: hooks see no headers. Nor does
// anything hold query values: url.full keeps the query's keys with their
// values replaced by REDACTED, because filters such as
// credentials_identifier carry personal data.
package otelkratos

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/kratosadmin/sdk/client"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/kratosadmin/sdk/otelkratos"

// Attribute keys of this package (the others are semantic conventions).
const (
	OperationKey     = attribute.Key("kratos.operation")      // the spec's operationId
	PageKey          = attribute.Key("kratos.page")           // a page's number in an iterator's walk
	AttemptKey       = attribute.Key("kratos.attempt.number") // on an attempt event
	AttemptDuration  = attribute.Key("kratos.attempt.duration")
	attemptEventName = "kratos.attempt"
	// OperationDurationName is the histogram of calls' durations.
	OperationDurationName = "kratos.client.operation.duration"
)

// Option configures NewHooks.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider records spans with tp instead of the global provider.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider records metrics with mp instead of the global provider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// NewHooks returns client hooks that record every call as a span and its
// attempts and calls in duration histograms (see the package doc). A nil
// provider given to an option means the global one.
func NewHooks(opts ...Option) (*client.Hooks, error) {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	meter := cfg.mp.Meter(ScopeName)
	attempts, err := httpconv.NewClientRequestDuration(meter)
	if err != nil {
		return nil, err
	}
	calls, err := meter.Float64Histogram(OperationDurationName,
		metric.WithDescription("Duration of Kratos admin API calls, retries and the waits between them included."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60))
	if err != nil {
		return nil, err
	}
	r := &recorder{tracer: cfg.tp.Tracer(ScopeName), attempts: attempts, calls: calls}
	return &client.Hooks{CallStart: r.start, AttemptDone: r.attempt, CallDone: r.done}, nil
}

type recorder struct {
	tracer   trace.Tracer
	attempts httpconv.ClientRequestDuration
	calls    metric.Float64Histogram
}

// spanName is the operationId, or the method for a request that addresses
// no operation (the semantic conventions' name for an HTTP client span).
func spanName(c client.CallInfo) string {
	if c.Operation != "" {
		return c.Operation
	}
	return c.Method
}

func (r *recorder) start(ctx context.Context, c client.CallInfo) context.Context {
	ctx, _ = r.tracer.Start(ctx, spanName(c),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(spanAttributes(c)...))
	return ctx
}

func (r *recorder) attempt(ctx context.Context, c client.CallInfo, a client.AttemptInfo) {
	span := trace.SpanFromContext(ctx)
	errType, failed := errorType(a.Status, a.Err)
	if span.IsRecording() {
		attrs := []attribute.KeyValue{AttemptKey.Int(a.Attempt), AttemptDuration.Float64(a.Duration.Seconds())}
		if a.Status > 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(a.Status))
		}
		if failed {
			attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		}
		span.AddEvent(attemptEventName, trace.WithAttributes(attrs...))
	}
	host, port := serverOf(c.URL)
	attrs := metricAttributes(c, a.Status, errType, failed)
	r.attempts.Record(ctx, a.Duration.Seconds(), httpconv.RequestMethodAttr(c.Method), host, port, attrs...)
}

func (r *recorder) done(ctx context.Context, c client.CallInfo, res client.CallResult) {
	errType, failed := errorType(res.Status, res.Err)
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		if res.Status > 0 {
			span.SetAttributes(semconv.HTTPResponseStatusCode(res.Status))
		}
		if res.Attempts > 1 {
			span.SetAttributes(semconv.HTTPRequestResendCount(res.Attempts - 1))
		}
		if failed {
			span.SetAttributes(semconv.ErrorTypeKey.String(errType))
			desc := errType
			if res.Err != nil {
				desc = res.Err.Error()
			}
			span.SetStatus(codes.Error, desc)
		}
		span.End()
	}
	host, port := serverOf(c.URL)
	attrs := append(metricAttributes(c, res.Status, errType, failed),
		semconv.HTTPRequestMethodKey.String(c.Method), semconv.ServerAddress(host), semconv.ServerPort(port))
	r.calls.Record(ctx, res.Duration.Seconds(), metric.WithAttributes(attrs...))
}

// errorType is the semantic conventions' error.type of an outcome: the
// status code for a status of 400 or more, otherwise the error's type; ok
// is false for a success.
func errorType(status int, err error) (string, bool) {
	switch {
	case status >= 400:
		return strconv.Itoa(status), true
	case err == nil:
		return "", false
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", true
	case errors.Is(err, context.Canceled):
		return "canceled", true
	}
	return semconv.ErrorType(err).Value.AsString(), true
}

// spanAttributes are a call span's attributes at its start.
func spanAttributes(c client.CallInfo) []attribute.KeyValue {
	host, port := serverOf(c.URL)
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(c.Method),
		semconv.ServerAddress(host),
		semconv.ServerPort(port),
		semconv.URLFull(redactedURL(c.URL)),
	}
	if c.Route != "" {
		attrs = append(attrs, semconv.URLTemplate(c.Route))
	}
	if c.Operation != "" {
		attrs = append(attrs, OperationKey.String(c.Operation))
	}
	if c.Page > 0 {
		attrs = append(attrs, PageKey.Int(c.Page))
	}
	return attrs
}

// metricAttributes are the histograms' attributes beyond the method and
// the server (low cardinality: no url.full, no page).
func metricAttributes(c client.CallInfo, status int, errType string, failed bool) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 4)
	if status > 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(status))
	}
	if failed {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	if c.Route != "" {
		attrs = append(attrs, semconv.URLTemplate(c.Route))
	}
	if c.Operation != "" {
		attrs = append(attrs, OperationKey.String(c.Operation))
	}
	return attrs
}

// serverOf is the URL's host and port, the scheme's default when the URL
// names none.
func serverOf(u *url.URL) (string, int) {
	if u == nil {
		return "", 0
	}
	host := u.Hostname()
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			return host, n
		}
	}
	if u.Scheme == "https" {
		return host, 443
	}
	return host, 80
}

// redactedURL is u without user information and with every query value
// replaced by REDACTED (the keys stay).
func redactedURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	v := *u
	v.User = nil
	v.Fragment, v.RawFragment = "", ""
	if v.RawQuery != "" {
		parts := strings.Split(v.RawQuery, "&")
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[i] = k + "=REDACTED"
			}
		}
		v.RawQuery = strings.Join(parts, "&")
	}
	return v.String()
}
