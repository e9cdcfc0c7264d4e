// Command kratos-admin manages identities on an Ory Kratos admin API:
// bulk import and export as JSON Lines, list, get, delete, and an
// identity's sessions. Run it with --help for usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first interrupt the import winds down cleanly; a second
	// one kills the process.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
