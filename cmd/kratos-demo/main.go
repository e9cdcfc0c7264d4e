// Command kratos-demo runs the SDK end to end and prints a short report of
// each step: a batch import of a few hundred identities, a walk through
// them with the iterator, a lookup by external id, a patch, a recovery code
// and link, sessions (listed, extended, disabled), deletion, and an error
// mapped to a sentinel.
//
// With nothing configured it starts the in-memory fake server
// (kratostest) in the process. With KRATOS_ADMIN_URL (and ORY_API_KEY for
// Ory Network) it runs against that server instead; KRATOS_PUBLIC_URL lets
// it log in through the public API to create real sessions.
//
//	go run ./cmd/kratos-demo
//	KRATOS_ADMIN_URL=http://127.0.0.1:4434 go run ./cmd/kratos-demo
//
// It exits with status 1, and says why, when a step fails or the server
// cannot be reached.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Stdout, os.Stderr, os.Getenv))
}

func run(ctx context.Context, stdout, stderr io.Writer, env func(string) string) int {
	cfg := config{
		adminURL:  env("KRATOS_ADMIN_URL"),
		publicURL: env("KRATOS_PUBLIC_URL"),
		apiKey:    env("ORY_API_KEY"),
		schemaID:  env("KRATOS_SCHEMA_ID"),
		count:     300,
		batchSize: 100,
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	d, err := newDemo(ctx, cfg, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "kratos-demo: %v\n", err)
		return 1
	}
	defer d.close()
	if err := d.run(ctx); err != nil {
		fmt.Fprintf(stderr, "kratos-demo: %v\n", err)
		return 1
	}
	return 0
}
