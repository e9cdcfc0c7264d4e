package bulk_test

import (
	"context"
	"log"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/leakcheck"
	"github.com/kratosadmin/sdk/kratostest"
)

// goroutines snapshots the running goroutines (see leakcheck).
var goroutines = leakcheck.Goroutines

// fastRetries retries up to attempts times in all, with millisecond
// backoffs so that the suite stays fast.
func fastRetries(attempts int) client.Option {
	return client.WithRetryPolicy(client.RetryPolicy{
		MaxAttempts:   attempts,
		MinBackoff:    time.Millisecond,
		MaxBackoff:    5 * time.Millisecond,
		MaxRetryAfter: 3 * time.Second,
	})
}

// The examples run against kratostest, the SDK's in-memory Kratos; with a
// real server only the URL (and token) differ.
func startFake() (*kratostest.Server, *client.Client) {
	srv, err := kratostest.Start()
	if err != nil {
		log.Fatal(err)
	}
	return srv, srv.Client()
}

// ctxTimeout is a context that ends after d or with the test.
func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// within fails the test when fn takes longer than limit, and returns how
// long it took.
func within(t *testing.T, limit time.Duration, fn func()) time.Duration {
	t.Helper()
	start := time.Now()
	fn()
	took := time.Since(start)
	if took > limit {
		t.Errorf("took %s, want at most %s", took, limit)
	}
	return took
}
