// Command kratos-fake serves the kratostest fake of Ory Kratos as a
// program, so that services written in any language, or run under docker
// compose, can be tested against it without a Kratos deployment (the way
// stripe-mock stands in for Stripe).
//
// It serves, in memory:
//
//   - on the admin address, the 19 identity-admin operations of
//     api/kratos-admin.yaml (/admin/identities, /admin/sessions,
//     /admin/recovery/..., the /schemas redirects), answered as Kratos
//     v26.2.0 answers them;
//   - on the public address, /schemas and /schemas/{id}, and the native
//     login flow with the password method (GET /self-service/login/api,
//     then POST /self-service/login?flow=ID with
//     {"method":"password","identifier":...,"password":...}), which
//     answers a session as Kratos does;
//   - on both, /health/alive and /health/ready.
//
// Usage:
//
//	kratos-fake [flags]
//
//	kratos-fake --admin 127.0.0.1:4434 --public 127.0.0.1:4433 \
//	    --schema default=identity.schema.json --identities users.jsonl
//
// Flags:
//
//	--admin ADDR             admin API address (default 127.0.0.1:4434; port 0 picks a free port)
//	--public ADDR            public API address (default 127.0.0.1:4433)
//	--admin-base-url URL     URL clients reach the admin API at (default from --admin)
//	--public-base-url URL    URL clients reach the public API at; used in schema_url,
//	                         redirects, recovery links (default from --public)
//	--token TOKEN            require "Authorization: Bearer TOKEN" on the admin API
//	                         (also $KRATOS_FAKE_TOKEN), as Ory Network does
//	--schema ID=FILE         an identity schema; repeat for several; the first is the
//	                         default unless --default-schema says otherwise (default:
//	                         kratostest's "default" schema, an email trait)
//	--default-schema ID      the schema of identities created without schema_id
//	--identities FILE        seed identities from JSON Lines, one create body per line,
//	                         as "kratos-admin export" writes and "kratos-admin import" reads
//	--allowed-return-url URL a return_to URL prefix recovery links accept (repeatable)
//	--enabled-methods LIST   sign-in methods enabled, e.g. password,code (default: all);
//	                         only credentials of these count as first factors
//	--faster-session-extend  extendSession answers 204, as with Kratos' feature flag
//	--recovery-ui-url URL    the recovery UI code-recovery answers link to (Kratos'
//	                         selfservice.flows.recovery.ui_url; default PUBLIC/ui/recovery)
//	--bcrypt-cost N          bcrypt cost of the hashes it makes (Kratos' hashers.bcrypt.cost;
//	                         default 4, fast; ../shared/kratos uses 8)
//	--log-requests           log every request on stderr
//	--journal-size N         requests the journal keeps (default 1000)
//
// When both ports listen it prints one line on stdout, then serves until
// SIGINT or SIGTERM:
//
//	kratos-fake ready admin=http://127.0.0.1:4434 public=http://127.0.0.1:4433 identities=3
//
// Scripts and docker compose health checks can wait for that line or poll
// /health/ready. On a signal it stops accepting connections, finishes the
// requests in flight and exits 0. A bad flag or file exits 2, a port that
// cannot be opened 1. Answers of the fake that break the API spec (bugs of
// kratostest) are logged on stderr and answered 500.
//
// # Control API
//
// Test suites in any language steer the fake over HTTP on the admin
// address, under /_fake/ (no Kratos route starts with it), JSON in and
// out, errors in Kratos' shape ({"error":{"code","status","message"}}).
// With --token, these need the token too (401 without it). Each is a
// method of kratostest.Server, which Go tests call directly:
//
//	POST   /_fake/reset     back to the start state: the --identities seeded as they
//	                        were (same ids), no other identity, no session, no login
//	                        flow; answers {"identities":N}. Faults and journal stay.
//	GET    /_fake/requests  the journal of requests served on both ports, oldest first:
//	                        {"requests":[{"time","api","method","path","query","status",
//	                        "fault"}...],"dropped":N,"capacity":N}; ?bodies=true adds
//	                        "request_body" and "response_body" (16 KiB each at most).
//	                        Status 0: the connection was dropped. At most --journal-size
//	                        requests, the oldest dropped; /_fake/ requests are not in it.
//	DELETE /_fake/requests  empties the journal.
//	POST   /_fake/faults    adds a fault rule, or an array of them (all or none):
//	                        {"method":"GET","path":"/admin/identities/*","status":503,
//	                         "message":"...","headers":{"Retry-After":"1"},
//	                         "latency":"250ms","drop":false,"after_apply":false,"times":1}
//	                        method empty: any; path: segments matched as path.Match,
//	                        a last "**" matches any rest; status (400-599) answers a
//	                        Kratos error body; drop closes the connection unanswered;
//	                        latency delays; after_apply applies the request first and
//	                        then answers the status or drops (a write whose answer is
//	                        lost); times 0: every match. The first matching rule with
//	                        times left applies. Answers 201 {"faults":[rule...]}.
//	GET    /_fake/faults    the rules with "id", "hits" and "remaining" (-1: no limit).
//	DELETE /_fake/faults    removes every rule.
//	POST   /_fake/sessions  a session without a login, for an active identity:
//	                        {"identity_id","active":true,"aal":"aal1",
//	                         "authenticated_at","expires_at","methods":[{"method","aal"}],
//	                         "devices":[{"ip_address","user_agent","location"}]}
//	                        (all but identity_id optional); answers 201
//	                        {"session_token","session"} as the login does. The session
//	                        is read, listed and disabled through the admin API.
//
// For example, with curl:
//
//	curl -X POST $ADMIN/_fake/faults -d '{"method":"POST","path":"/admin/identities","status":503,"times":1}'
//	curl "$ADMIN/_fake/requests?bodies=true"
//	curl -X POST $ADMIN/_fake/reset
//
// Limits: request bodies of 1 MiB; request headers must arrive within 10
// s and a body within a minute; idle keep-alive connections close after 2
// minutes; at most 10,000 unfinished login flows are kept (the oldest is
// forgotten). The token is compared in constant time.
//
// All state is in memory and lost at exit. The fake's known differences
// from Kratos are listed in the kratostest package documentation.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal the server winds down; a second one kills
	// the process.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
