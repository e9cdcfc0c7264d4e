package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the server could not start
	exitUsage   = 2 // bad command line or input file
)

// envToken is the environment variable --token defaults to (a token on the
// command line is visible to other users of the machine).
const envToken = "KRATOS_FAKE_TOKEN"

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type options struct {
	admin, public               string
	adminBaseURL, publicBaseURL string
	token                       string
	schemas                     listFlag
	defaultSchema               string
	identities                  string
	returnURLs                  listFlag
	methods                     string
	fasterExtend                bool
	kratosVersion               string
	recoveryUIURL               string
	bcryptCost                  int
	logRequests                 bool
	journalSize                 int
}

const usage = `usage: kratos-fake [flags]

Serves an in-memory fake of Ory Kratos' identity-admin API (and the public
schema and password-login endpoints) until SIGINT or SIGTERM. Prints
"kratos-fake ready admin=URL public=URL identities=N" on stdout when it
listens. See "go doc github.com/kratosadmin/sdk/cmd/kratos-fake".

flags:
`

// run is the whole program: it parses args, serves until ctx ends and
// returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) int {
	var o options
	fs := flag.NewFlagSet("kratos-fake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.admin, "admin", "127.0.0.1:4434", "admin API `address` (port 0: a free port)")
	fs.StringVar(&o.public, "public", "127.0.0.1:4433", "public API `address` (port 0: a free port)")
	fs.StringVar(&o.adminBaseURL, "admin-base-url", "", "`URL` clients reach the admin API at (default: from --admin)")
	fs.StringVar(&o.publicBaseURL, "public-base-url", "", "`URL` clients reach the public API at, used in schema_url, redirects and links (default: from --public)")
	fs.StringVar(&o.token, "token", "", "require \"Authorization: Bearer `TOKEN`\" on the admin API (default $"+envToken+")")
	fs.Var(&o.schemas, "schema", "identity schema as `ID=FILE`; repeat for several; the first is the default (default: kratostest's \"default\" schema)")
	fs.StringVar(&o.defaultSchema, "default-schema", "", "schema `ID` of identities created without schema_id")
	fs.StringVar(&o.identities, "identities", "", "seed identities from a JSON Lines `FILE` (one create body per line, as kratos-admin export writes)")
	fs.Var(&o.returnURLs, "allowed-return-url", "`URL` prefix recovery links accept as return_to (repeatable)")
	fs.StringVar(&o.methods, "enabled-methods", "", "comma-separated sign-in `methods` the server has enabled, for the last-first-factor rule of credential deletion (default: all; ../shared/kratos behaves like password,code,oidc)")
	fs.BoolVar(&o.fasterExtend, "faster-session-extend", false, "extendSession answers 204, as with Kratos' faster_session_extend flag")
	fs.StringVar(&o.kratosVersion, "kratos-version", kratostest.ReleaseV26_2, "the Kratos `release` to emulate: v1.3.1, v25.4.0 or v26.2.0 (docs/compatibility.md)")
	fs.StringVar(&o.recoveryUIURL, "recovery-ui-url", "", "`URL` of the recovery UI that code-recovery answers link to, as Kratos' selfservice.flows.recovery.ui_url (default: the public URL + /ui/recovery)")
	fs.IntVar(&o.bcryptCost, "bcrypt-cost", kratostest.DefaultBcryptCost, "bcrypt `cost` of the hashes made from plaintext passwords and at login, as Kratos' hashers.bcrypt.cost (4 to 31)")
	fs.BoolVar(&o.logRequests, "log-requests", false, "log every request on stderr")
	fs.IntVar(&o.journalSize, "journal-size", kratostest.DefaultJournalSize, "requests the journal (GET /_fake/requests) keeps; the oldest are dropped beyond it")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if o.token == "" {
		o.token = env(envToken)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kratos-fake: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	opts, seeded, err := o.serverOptions(logger)
	if err != nil {
		fmt.Fprintf(stderr, "kratos-fake: %v\n", err)
		return exitUsage
	}

	adminL, err := net.Listen("tcp", o.admin)
	if err != nil {
		fmt.Fprintf(stderr, "kratos-fake: admin: %v\n", err)
		return exitFailure
	}
	publicL, err := net.Listen("tcp", o.public)
	if err != nil {
		adminL.Close()
		fmt.Fprintf(stderr, "kratos-fake: public: %v\n", err)
		return exitFailure
	}
	opts = append(opts, kratostest.WithListeners(adminL, publicL))
	srv, err := kratostest.Start(opts...)
	if err != nil {
		// Bad seed identities are found here: the server validates them.
		fmt.Fprintf(stderr, "kratos-fake: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "kratos-fake ready admin=%s public=%s identities=%d\n", srv.URL, srv.PublicURL, seeded)
	<-ctx.Done()
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		fmt.Fprintln(stderr, "kratos-fake: requests still in flight after 10s; exiting")
	}
	fmt.Fprintln(stderr, "kratos-fake: stopped")
	return exitOK
}

// serverOptions turns the flags into kratostest options, reading the
// schema and identity files. It returns how many identities are seeded.
func (o *options) serverOptions(logger *slog.Logger) ([]kratostest.Option, int, error) {
	opts := []kratostest.Option{kratostest.WithLogger(logger)}
	if o.token != "" {
		opts = append(opts, kratostest.WithBearerToken(o.token))
	}
	for _, s := range o.schemas {
		id, file, ok := strings.Cut(s, "=")
		if !ok || id == "" || file == "" {
			return nil, 0, fmt.Errorf("--schema %q: want ID=FILE", s)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, 0, fmt.Errorf("--schema %s: %w", id, err)
		}
		opts = append(opts, kratostest.WithIdentitySchema(id, b))
	}
	if o.defaultSchema != "" {
		opts = append(opts, kratostest.WithDefaultSchemaID(o.defaultSchema))
	}
	if o.adminBaseURL != "" || o.publicBaseURL != "" {
		opts = append(opts, kratostest.WithBaseURLs(o.adminBaseURL, o.publicBaseURL))
	}
	if len(o.returnURLs) > 0 {
		opts = append(opts, kratostest.WithAllowedReturnURLs(o.returnURLs...))
	}
	if o.methods != "" {
		var ms []client.IdentityCredentialsType
		for _, m := range strings.Split(o.methods, ",") {
			ms = append(ms, client.IdentityCredentialsType(strings.TrimSpace(m)))
		}
		opts = append(opts, kratostest.WithEnabledMethods(ms...))
	}
	if o.kratosVersion != "" { // the flag's default; empty in options built by hand
		opts = append(opts, kratostest.WithVersion(o.kratosVersion))
	}
	if o.fasterExtend {
		opts = append(opts, kratostest.WithFasterSessionExtend())
	}
	if o.recoveryUIURL != "" {
		opts = append(opts, kratostest.WithRecoveryUIURL(o.recoveryUIURL))
	}
	opts = append(opts, kratostest.WithBcryptCost(o.bcryptCost))
	opts = append(opts, kratostest.WithJournalSize(o.journalSize))
	if o.logRequests {
		opts = append(opts, kratostest.WithRequestLog(logRequest(logger)))
	}
	n := 0
	if o.identities != "" {
		bodies, err := readIdentities(o.identities)
		if err != nil {
			return nil, 0, err
		}
		n = len(bodies)
		opts = append(opts, kratostest.WithIdentities(bodies...))
	}
	return opts, n, nil
}

// readIdentities reads a JSON Lines file of create bodies; a bad line is
// an error naming it.
func readIdentities(name string) ([]client.CreateIdentityBody, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("--identities: %w", err)
	}
	defer f.Close()
	var bodies []client.CreateIdentityBody
	var errs []error
	for body, err := range bulk.ReadJSONL(f) {
		if err != nil {
			errs = append(errs, err)
			if len(errs) == 10 {
				errs = append(errs, errors.New("(more errors not shown)"))
				break
			}
			continue
		}
		bodies = append(bodies, body)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("--identities %s: %w", name, errors.Join(errs...))
	}
	return bodies, nil
}

// logRequest logs a request the journal recorded: the port, method,
// escaped path and query, status (0: dropped), the fault rule that changed
// it, and the time it took.
func logRequest(logger *slog.Logger) func(kratostest.Request) {
	return func(r kratostest.Request) {
		uri := r.Path
		if r.Query != "" {
			uri += "?" + r.Query
		}
		logger.Info("request", "api", r.API, "method", r.Method, "uri", uri, "status", r.Status, "fault", r.Fault, "duration", time.Since(r.Time))
	}
}
