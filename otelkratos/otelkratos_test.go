package otelkratos_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
	"github.com/kratosadmin/sdk/otelkratos"
)

const (
	testID    = "9fce9890-b047-44b5-8b6d-dfeffddfaf02"
	testToken = "ory_pat_OTEL-SECRET-4c2e9d7a1b"
	identity  = `{"id":"` + testID + `","schema_id":"default","schema_url":"http://127.0.0.1:4433/schemas/ZGVmYXVsdA","state":"active","traits":{"email":"alice@example.org"},"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`
)

// telemetry is an SDK pipeline into memory: spans as they end, metrics on
// demand.
type telemetry struct {
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	hooks  *client.Hooks
}

func newTelemetry(t testing.TB) *telemetry {
	t.Helper()
	tel := &telemetry{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tel.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	var err error
	tel.hooks, err = otelkratos.NewHooks(otelkratos.WithTracerProvider(tp), otelkratos.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	return tel
}

func (tel *telemetry) histograms(t *testing.T) map[string]metricdata.Histogram[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Histogram[float64]{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
				out[m.Name] = h
			}
		}
	}
	return out
}

func attrs(kvs []attribute.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value.String()
	}
	return out
}

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, url string, tel *telemetry) *client.Client {
	t.Helper()
	// The release is stated, so that no getVersion call adds a span the
	// tests do not count.
	c, err := client.New(url, client.WithBearerToken(testToken), client.WithHooks(tel.hooks), client.WithKratosVersion("v26.2.0"),
		client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOneSpanPerOperationWithItsRetries: a call retried after a 503 is one
// span named by its operation, with the semantic-convention HTTP
// attributes and one event per attempt; the attempts and the call are in
// their histograms.
func TestOneSpanPerOperationWithItsRetries(t *testing.T) {
	var n atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if n.Add(1) == 1 {
			w.WriteHeader(503)
			_, _ = w.Write([]byte(`{"error":{"code":503,"message":"busy"}}`))
			return
		}
		_, _ = w.Write([]byte(identity))
	})
	tel := newTelemetry(t)
	c := newClient(t, srv.URL, tel)
	if _, err := c.Identities.Get(t.Context(), testID, nil); err != nil {
		t.Fatal(err)
	}

	spans := tel.spans.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	want := map[string]string{
		"http.request.method":       "GET",
		"server.address":            "127.0.0.1",
		"server.port":               port,
		"url.full":                  srv.URL + "/admin/identities/" + testID,
		"url.template":              "/admin/identities/{id}",
		"http.response.status_code": "200",
		"http.request.resend_count": "1",
		"kratos.operation":          "getIdentity",
	}
	if got := attrs(s.Attributes); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("attributes %v\nwant       %v", got, want)
	}
	if s.Name != "getIdentity" || s.SpanKind != trace.SpanKindClient || s.Status.Code != codes.Unset {
		t.Errorf("span %q kind %v status %v", s.Name, s.SpanKind, s.Status)
	}
	var events []string
	for _, e := range s.Events {
		a := attrs(e.Attributes)
		events = append(events, fmt.Sprintf("%s %s: %s %s", e.Name, a["kratos.attempt.number"], a["http.response.status_code"], a["error.type"]))
		if d := e.Attributes; len(d) == 0 || a["kratos.attempt.duration"] == "" {
			t.Errorf("event without a duration: %v", a)
		}
	}
	if strings.Join(events, "; ") != "kratos.attempt 1: 503 503; kratos.attempt 2: 200 " {
		t.Errorf("events %q", events)
	}

	h := tel.histograms(t)
	perAttempt, perCall := h["http.client.request.duration"], h["kratos.client.operation.duration"]
	statuses := map[string]uint64{}
	for _, dp := range perAttempt.DataPoints {
		a := attrs(dp.Attributes.ToSlice())
		if a["kratos.operation"] != "getIdentity" || a["http.request.method"] != "GET" || a["url.template"] != "/admin/identities/{id}" {
			t.Errorf("attempt data point %v", a)
		}
		statuses[a["http.response.status_code"]] += dp.Count
	}
	if statuses["503"] != 1 || statuses["200"] != 1 || len(statuses) != 2 {
		t.Errorf("attempts by status %v, want one 503 and one 200", statuses)
	}
	if len(perCall.DataPoints) != 1 || perCall.DataPoints[0].Count != 1 || perCall.DataPoints[0].Sum <= 0 {
		t.Errorf("call data points %+v", perCall.DataPoints)
	}
}

// TestFailedCallsAreErrors: a 404 and a transport error end their spans
// with status Error and error.type set.
func TestFailedCallsAreErrors(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"error":{"code":404,"message":"Unable to locate the resource"}}`))
	})
	tel := newTelemetry(t)
	c := newClient(t, srv.URL, tel)
	if _, err := c.Sessions.Get(t.Context(), testID, nil); !errors.Is(err, client.ErrNotFound) {
		t.Fatal(err)
	}
	srv.Close()
	if err := c.Sessions.Disable(t.Context(), testID); err == nil {
		t.Fatal("want a transport error")
	}
	spans := tel.spans.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	notFound, refused := attrs(spans[0].Attributes), attrs(spans[1].Attributes)
	if spans[0].Name != "getSession" || spans[0].Status.Code != codes.Error || notFound["error.type"] != "404" || len(spans[0].Events) != 1 {
		t.Errorf("404: %q %v %v, %d events", spans[0].Name, spans[0].Status, notFound, len(spans[0].Events))
	}
	if spans[1].Name != "disableSession" || spans[1].Status.Code != codes.Error || refused["error.type"] == "" ||
		refused["http.response.status_code"] != "" || refused["http.request.resend_count"] != "2" || len(spans[1].Events) != 3 {
		t.Errorf("refused: %q %v %v, %d events", spans[1].Name, spans[1].Status, refused, len(spans[1].Events))
	}
}

// TestPagesAreSpans: an iterator's walk is one span per page, numbered.
func TestPagesAreSpans(t *testing.T) {
	fake := kratostest.NewServer(t)
	tel := newTelemetry(t)
	c := fake.Client(client.WithHooks(tel.hooks))
	for i := range 3 {
		if _, err := c.Identities.Create(t.Context(), &client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(fmt.Sprintf(`{"email":"p%d@example.org"}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	tel.spans.Reset()
	n := 0
	for _, err := range c.Identities.List(t.Context(), &client.ListIdentitiesParams{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	var pages []string
	for _, s := range tel.spans.GetSpans() {
		a := attrs(s.Attributes)
		pages = append(pages, s.Name+" page "+a["kratos.page"])
		if !strings.Contains(a["url.full"], "page_size=REDACTED") {
			t.Errorf("url.full %q", a["url.full"])
		}
	}
	if n != 3 || strings.Join(pages, ", ") != "listIdentities page 1, listIdentities page 2" {
		t.Errorf("%d identities, spans %q", n, pages)
	}
}

// TestTokenNeverRecorded: whatever happens (successes, retries, a 401, a
// refused connection, a filter holding an email), neither the token nor
// the email reaches a span's name, attributes, events or status, nor a
// metric's attributes.
func TestTokenNeverRecorded(t *testing.T) {
	const email = "carol.secret@example.org"
	var n atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/admin/identities" && r.URL.Query().Get("credentials_identifier") != "":
			_, _ = w.Write([]byte("[]"))
		case strings.HasSuffix(r.URL.Path, "/unauthorized"):
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":{"code":401,"status":"Unauthorized","message":"The request could not be authorized"}}`))
		case n.Add(1)%2 == 1:
			w.WriteHeader(503)
		default:
			_, _ = w.Write([]byte(identity))
		}
	})
	tel := newTelemetry(t)
	c := newClient(t, srv.URL, tel)
	ctx := t.Context()
	_, _ = c.Identities.Get(ctx, testID, nil)
	_, _ = c.Identities.GetByExternalID(ctx, "unauthorized", nil)
	for _, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{CredentialsIdentifier: email}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	refused := newClient(t, "http://"+closedAddr(t), tel)
	_, _ = refused.Identities.Get(ctx, testID, nil)

	var all []string
	spans := tel.spans.GetSpans()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4", len(spans))
	}
	for _, s := range spans {
		all = append(all, s.Name, s.Status.Description, fmt.Sprint(attrs(s.Attributes)))
		for _, e := range s.Events {
			all = append(all, e.Name, fmt.Sprint(attrs(e.Attributes)))
		}
	}
	for name, h := range tel.histograms(t) {
		for _, dp := range h.DataPoints {
			all = append(all, name, fmt.Sprint(attrs(dp.Attributes.ToSlice())))
		}
	}
	recorded := strings.Join(all, "\n")
	for _, secret := range []string{testToken, "OTEL-SECRET", email, "carol.secret"} {
		if strings.Contains(recorded, secret) {
			t.Errorf("%q was recorded:\n%s", secret, recorded)
		}
	}
	if !strings.Contains(recorded, "credentials_identifier=REDACTED") {
		t.Errorf("the filter's key is not in url.full:\n%s", recorded)
	}
}

func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
