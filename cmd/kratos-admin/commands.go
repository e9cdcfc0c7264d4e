package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/atomicfile"
	"github.com/kratosadmin/sdk/internal/termsafe"
)

var importCommand = &command{
	name:    "import",
	args:    "FILE.jsonl|-",
	summary: "import identities from JSON Lines (- reads stdin)",
	about: `Imports identities from a JSON Lines file, one create-identity body per line
(schema_id, traits, credentials, ...), in batches through PATCH /admin/identities.
Timed-out batches are split and sent again, conflicts are checked against the
identities already there (re-running an import is harmless), duplicates in the
file (up to --window lines apart; --dry-run finds them anywhere) and bad lines
are reported with their line number and do not stop the rest. With --report every line's outcome is written to a JSON Lines report;
--resume with that report skips what an interrupted run already did.`,
	examples: []string{
		"kratos-admin import --dry-run users.jsonl",
		"kratos-admin import --hash-passwords --report report.jsonl users.jsonl",
		"kratos-admin import --resume report.jsonl --report report2.jsonl users.jsonl",
		"gunzip -c users.jsonl.gz | kratos-admin import -",
	},
	minArgs: 1, maxArgs: 1,
	flags: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		var (
			batchSize   = fs.Int("batch-size", client.MaxBatchSize, "at most `N` identities per request, 1..1000 (200 with plaintext passwords)")
			concurrency = fs.Int("concurrency", bulk.DefaultImportConcurrency, "`N` batch requests in flight")
			hash        = fs.Bool("hash-passwords", false, "bcrypt plaintext passwords here, on all cores, before sending")
			hashCost    = fs.Int("hash-cost", 10, "bcrypt `cost` for --hash-passwords")
			dryRun      = fs.Bool("dry-run", false, "validate, find duplicates anywhere in the file and count batches; send nothing")
			reportPath  = fs.String("report", "", "write every item's outcome to `FILE` (JSON Lines)")
			resumePath  = fs.String("resume", "", "skip the items the report `FILE` of an earlier run shows done")
			maxErrors   = fs.Int("max-errors", 100, "print the first `N` failed items on stderr (0: all; --report has them all)")
			window      = fs.Int("window", bulk.DefaultImportWindow, "keep `N` lines in view: duplicates are found this far apart, a re-run is checked this many lines a walk (memory: about 2 KiB a line)")
		)
		return func(ctx context.Context, a *app, args []string) int {
			o := importRun{
				path: args[0], opts: bulk.ImportOptions{
					BatchSize: *batchSize, Concurrency: *concurrency, HashPasswords: *hash,
					HashCost: *hashCost, DryRun: *dryRun, Window: *window,
				},
				reportPath: *reportPath, resumePath: *resumePath, maxErrors: *maxErrors,
			}
			switch {
			case *batchSize < 1 || *batchSize > client.MaxBatchSize:
				return a.usageError(fmt.Sprintf("--batch-size %d is outside 1..%d", *batchSize, client.MaxBatchSize), a.cmd)
			case *concurrency < 1:
				return a.usageError("--concurrency must be at least 1", a.cmd)
			case *hashCost < 4 || *hashCost > 31:
				return a.usageError(fmt.Sprintf("--hash-cost %d is outside bcrypt's 4..31", *hashCost), a.cmd)
			case *maxErrors < 0:
				return a.usageError("--max-errors must not be negative", a.cmd)
			case *window < 1:
				return a.usageError("--window must be at least 1", a.cmd)
			}
			return o.run(ctx, a)
		}
	},
}

type importRun struct {
	path       string
	opts       bulk.ImportOptions
	reportPath string
	resumePath string
	maxErrors  int
}

func (o *importRun) run(ctx context.Context, a *app) int {
	c, code := a.connect()
	if c == nil {
		return code
	}
	in, total, closeIn, err := openInput(o.path, a.stdin, isTerminal(a.stderr))
	if err != nil {
		return a.fail("%v", err)
	}
	defer closeIn()

	if o.resumePath != "" {
		f, err := os.Open(o.resumePath)
		if err != nil {
			return a.fail("--resume: %v", err)
		}
		o.opts.Resume, err = bulk.ReadImportReport(f)
		f.Close()
		if err != nil {
			return a.fail("--resume %s: %v", o.resumePath, err)
		}
	}
	var report *bulk.ImportReport
	var reportFile *atomicfile.File
	if o.reportPath != "" {
		// Never the input. It may be the resumed report (read whole
		// above): the new one replaces it when the run ends.
		if reportFile, err = atomicfile.Create(o.reportPath, o.path); err != nil {
			return a.fail("--report: %v", err)
		}
		defer reportFile.Close()
		report = bulk.NewImportReport(reportFile)
	}

	prog := newProgress(a.stderr, isTerminal(a.stderr), "done", total)
	o.opts.Progress = &bulk.ImportProgress{}
	prog.watch(o.opts.Progress)
	var reportErr error
	shown, failed, unverified := 0, 0, 0
	o.opts.OnOutcome = func(x bulk.ImportOutcome) {
		if x.PasswordUnverified {
			unverified++
		}
		if report != nil && reportErr == nil {
			reportErr = report.Write(x)
		}
		if x.Status == bulk.ImportFailed {
			failed++
			if o.maxErrors == 0 || shown < o.maxErrors {
				shown++
				err := x.Err
				var le *bulk.LineError
				if errors.As(err, &le) {
					err = le.Err // describeItem names the line
				}
				prog.printf("%s\n", termsafe.Text(fmt.Sprintf("%s: %v", describeItem(x), err)))
			}
		}
		prog.add(x.Status == bulk.ImportFailed)
	}
	sum, err := bulk.ImportJSONL(ctx, c, in, &o.opts)
	prog.finish()
	if report != nil {
		if ferr := report.Flush(); reportErr == nil {
			reportErr = ferr
		}
		// The report of a run that stopped early is what --resume needs:
		// it is put in place unless writing it failed.
		if reportErr == nil {
			reportErr = reportFile.Commit()
		}
	}
	if sum == nil {
		return a.fail("import: %v", err)
	}
	if failed > shown {
		fmt.Fprintf(a.stderr, "... and %d more failed items%s\n", failed-shown, map[bool]string{true: " (all are in " + termsafe.Text(o.reportPath) + ")", false: " (use --report to see them all)"}[o.reportPath != ""])
	}
	printImportSummary(a.stdout, sum, o.opts.DryRun)
	if unverified > 0 {
		fmt.Fprintf(a.stderr, "kratos-admin: %s already present with a password not compared with the input's (plaintext): its owner may have set another\n", thousands(unverified))
	}
	code = exitOK
	if !sum.OK() {
		code = exitFailure
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(a.stderr, "kratos-admin: interrupted")
		} else {
			fmt.Fprintf(a.stderr, "kratos-admin: %s\n", termsafe.Text(strings.TrimPrefix(err.Error(), "kratos: ")))
		}
		if sum.NotAttempted > 0 && o.reportPath != "" {
			fmt.Fprintf(a.stderr, "kratos-admin: to finish, run the same import with --resume %s (and a new --report)\n", termsafe.Text(o.reportPath))
		}
		code = exitFailure
	}
	if reportErr != nil {
		fmt.Fprintf(a.stderr, "kratos-admin: writing the report: %v\n", reportErr)
		code = exitFailure
	}
	return code
}

// openInput opens the import file (or stdin for "-"). total is the number
// of lines of a regular file when progress is shown, for the ETA.
func openInput(path string, stdin io.Reader, counting bool) (io.Reader, int, func(), error) {
	if path == "-" {
		return stdin, 0, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	total := 0
	if fi, err := f.Stat(); counting && err == nil && fi.Mode().IsRegular() {
		total, err = countLines(f)
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err != nil {
			f.Close()
			return nil, 0, nil, err
		}
	}
	return f, total, func() { f.Close() }, nil
}

func countLines(r io.Reader) (int, error) {
	buf := make([]byte, 256<<10)
	n, last := 0, byte('\n')
	for {
		k, err := r.Read(buf)
		if k > 0 {
			n += bytes.Count(buf[:k], []byte{'\n'})
			last = buf[k-1]
		}
		if err == io.EOF {
			if last != '\n' {
				n++
			}
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// describeItem names an item for a message: its line and keys.
func describeItem(x bulk.ImportOutcome) string {
	where := fmt.Sprintf("item %d", x.Index+1)
	if x.Line > 0 {
		where = fmt.Sprintf("line %d", x.Line)
	}
	keys := append([]string(nil), x.Identifiers...)
	if x.ExternalID != "" {
		keys = append(keys, "external_id "+x.ExternalID)
	}
	if len(keys) > 0 {
		where += " (" + strings.Join(keys, ", ") + ")"
	}
	return where
}

func printImportSummary(w io.Writer, s *bulk.ImportSummary, dryRun bool) {
	if dryRun {
		fmt.Fprintf(w, "dry run: %s items: %s valid, %s skipped, %s failed; would send %s batches\n",
			thousands(s.Total), thousands(s.Valid), thousands(s.Skipped), thousands(s.Failed), thousands(s.Batches))
		return
	}
	fmt.Fprintf(w, "%s items: %s created, %s already present, %s skipped, %s failed, %s not attempted (%s requests, %s)\n",
		thousands(s.Total), thousands(s.Created), thousands(s.AlreadyPresent), thousands(s.Skipped),
		thousands(s.Failed), thousands(s.NotAttempted), thousands(s.Batches), s.Duration.Round(time.Millisecond))
	if st := s.Settling; st.Method != "" {
		fmt.Fprintf(w, "settled by %s (%s lookups, %s walks): %s\n", st.Method, thousands(st.Lookups), thousands(st.Walks), st.Reason)
	}
}

var exportCommand = &command{
	name:    "export",
	summary: "write identities as JSON Lines that import takes back",
	about: `Writes every identity (or those the filters select) as one create-identity body
per line: schema, traits, state, external id, metadata and addresses, plus,
with --credentials, password hashes and OIDC/SAML links. The output can be fed
to 'kratos-admin import' on another project. Memory use does not grow with the
number of identities.`,
	examples: []string{
		"kratos-admin export --credentials > backup.jsonl",
		"kratos-admin export --organization 9fce9890-b047-44b5-8b6d-dfeffddfaf02 -o org.jsonl",
	},
	maxArgs: 0,
	flags: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		var (
			output      = new(string)
			credentials = fs.Bool("credentials", false, "include password hashes and OIDC/SAML links (one extra request per identity on servers whose lists leave them out)")
			pageSize    = fs.Int("page-size", client.MaxIdentitiesPageSize, "`N` identities per list request; the server pages by at most 500 (0 or less: its default, 250)")
			ids         = fs.String("ids", "", "only these identity `IDS` (comma-separated, at most 500)")
			org         = fs.String("organization", "", "only identities of organization `ID`")
			identifier  = fs.String("identifier", "", "only the identity with this credentials identifier (`EMAIL` or username)")
		)
		fs.StringVar(output, "o", "", "write to `FILE` instead of stdout")
		fs.StringVar(output, "output", "", "write to `FILE` instead of stdout")
		return func(ctx context.Context, a *app, _ []string) int {
			filter := &client.ListIdentitiesParams{PageSize: int64(*pageSize), OrganizationID: *org, CredentialsIdentifier: *identifier}
			if *ids != "" {
				if filter.IDs = splitList(*ids); len(filter.IDs) > 500 {
					return a.usageError(fmt.Sprintf("--ids: %d ids, the server takes at most 500", len(filter.IDs)), a.cmd)
				}
			}
			c, code := a.connect()
			if c == nil {
				return code
			}
			out := a.stdout
			var file *atomicfile.File
			if *output != "" && *output != "-" {
				// A temporary file, 0600 (it may hold password hashes),
				// renamed over the target only once the export is whole:
				// a failed export leaves the previous backup as it was.
				f, err := atomicfile.Create(*output)
				if err != nil {
					return a.fail("-o: %v", err)
				}
				defer f.Close()
				file, out = f, f
			}
			bw := bufio.NewWriterSize(out, 64<<10)
			prog := newProgress(a.stderr, isTerminal(a.stderr), "exported", 0)
			n := 0
			var exportErr error
			for body, err := range bulk.Export(ctx, c, &bulk.ExportOptions{Credentials: *credentials, Filter: filter}) {
				if err != nil {
					exportErr = err
					break
				}
				line, err := json.Marshal(body)
				if err != nil {
					exportErr = err
					break
				}
				bw.Write(line)
				if err := bw.WriteByte('\n'); err != nil {
					exportErr = err
					break
				}
				n++
				prog.add(false)
			}
			prog.finish()
			if err := bw.Flush(); err != nil && exportErr == nil {
				exportErr = err
			}
			if exportErr == nil && file != nil {
				exportErr = file.Commit()
			}
			if exportErr != nil {
				if file != nil {
					return a.fail("export stopped after %s identities: %v (%s left as it was)", thousands(n), exportErr, *output)
				}
				return a.fail("export stopped after %s identities: %v", thousands(n), exportErr)
			}
			fmt.Fprintf(a.stderr, "exported %s identities\n", thousands(n))
			return exitOK
		}
	},
}

var listCommand = &command{
	name:    "list",
	summary: "list identities",
	about:   "Lists identities, newest first as the server orders them, as a table or as JSON Lines.",
	examples: []string{
		"kratos-admin list --limit 20",
		"kratos-admin list --identifier alice@example.org --json",
	},
	maxArgs: 0,
	flags: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		var (
			limit      = fs.Int("limit", 0, "stop after `N` identities (0: all)")
			pageSize   = fs.Int("page-size", 250, "`N` identities per request; the server pages by at most 500 (0 or less: its default, 250)")
			asJSON     = fs.Bool("json", false, "print each identity as a JSON line")
			identifier = fs.String("identifier", "", "only the identity with this credentials identifier (`EMAIL` or username)")
		)
		return func(ctx context.Context, a *app, _ []string) int {
			if *limit < 0 {
				return a.usageError("--limit must not be negative", a.cmd)
			}
			c, code := a.connect()
			if c == nil {
				return code
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			if !*asJSON {
				fmt.Fprintln(tw, "ID\tSTATE\tSCHEMA\tEXTERNAL ID\tTRAITS")
			}
			n := 0
			params := &client.ListIdentitiesParams{PageSize: int64(*pageSize), CredentialsIdentifier: *identifier}
			for identity, err := range c.Identities.List(ctx, params) {
				if err != nil {
					tw.Flush()
					return a.fail("list: %v", err)
				}
				if *asJSON {
					line, _ := json.Marshal(identity)
					fmt.Fprintf(tw, "%s\n", line)
				} else {
					// Every cell is the server's text: quoted for the terminal.
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", termsafe.Text(identity.ID), termsafe.Text(string(identity.State)), termsafe.Text(identity.SchemaID),
						termsafe.Text(orDash(identity.ExternalID)), termsafe.Text(compactJSON(identity.Traits, 70)))
				}
				if n++; *limit > 0 && n >= *limit {
					break
				}
			}
			tw.Flush()
			return exitOK
		}
	},
}

var getCommand = &command{
	name:     "get",
	args:     "ID",
	summary:  "show an identity as JSON",
	about:    "Shows one identity as indented JSON.",
	examples: []string{"kratos-admin get --include-credential password,oidc 9fce9890-b047-44b5-8b6d-dfeffddfaf02"},
	minArgs:  1, maxArgs: 1,
	flags: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		include := fs.String("include-credential", "", "include the configuration of these credential `TYPES` (comma-separated: password, oidc, ...)")
		return func(ctx context.Context, a *app, args []string) int {
			c, code := a.connect()
			if c == nil {
				return code
			}
			var params *client.GetIdentityParams
			if *include != "" {
				params = &client.GetIdentityParams{}
				for _, t := range splitList(*include) {
					params.IncludeCredential = append(params.IncludeCredential, client.IdentityCredentialsType(t))
				}
			}
			identity, err := c.Identities.Get(ctx, args[0], params)
			if err != nil {
				return a.failCall(err, "get %s", args[0])
			}
			out, _ := json.MarshalIndent(identity, "", "  ")
			fmt.Fprintf(a.stdout, "%s\n", out)
			return exitOK
		}
	},
}

var deleteCommand = &command{
	name:     "delete",
	args:     "ID...",
	summary:  "delete identities",
	about:    "Deletes identities permanently, one request each. The exit status is 1 when any could not be deleted.",
	examples: []string{"kratos-admin delete 9fce9890-b047-44b5-8b6d-dfeffddfaf02 3410b62d-4f0a-4112-bbae-77a91e977f6d"},
	minArgs:  1, maxArgs: -1,
	flags: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		return func(ctx context.Context, a *app, args []string) int {
			c, code := a.connect()
			if c == nil {
				return code
			}
			code = exitOK
			for _, id := range args {
				if err := c.Identities.Delete(ctx, id); err != nil {
					a.failCall(err, "delete %s", id)
					code = exitFailure
					continue
				}
				fmt.Fprintf(a.stdout, "deleted %s\n", id)
			}
			return code
		}
	},
}

var sessionsCommand = &command{
	name:     "sessions",
	args:     "IDENTITY_ID",
	summary:  "list an identity's sessions",
	about:    "Lists the sessions of an identity, newest first.",
	examples: []string{"kratos-admin sessions --active=true 9fce9890-b047-44b5-8b6d-dfeffddfaf02"},
	minArgs:  1, maxArgs: 1,
	flags: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		var (
			active = fs.String("active", "", "`BOOL`: true for active sessions only, false for inactive ones")
			asJSON = fs.Bool("json", false, "print each session as a JSON line")
		)
		return func(ctx context.Context, a *app, args []string) int {
			params := &client.ListIdentitySessionsParams{}
			switch *active {
			case "":
			case "true", "false":
				v := *active == "true"
				params.Active = &v
			default:
				return a.usageError(fmt.Sprintf("--active %q: want true or false", *active), a.cmd)
			}
			c, code := a.connect()
			if c == nil {
				return code
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			if !*asJSON {
				fmt.Fprintln(tw, "ID\tACTIVE\tAAL\tAUTHENTICATED AT\tEXPIRES AT")
			}
			for s, err := range c.Identities.ListSessions(ctx, args[0], params) {
				if err != nil {
					tw.Flush()
					return a.failCall(err, "sessions %s", args[0])
				}
				if *asJSON {
					line, _ := json.Marshal(s)
					fmt.Fprintf(tw, "%s\n", line)
					continue
				}
				fmt.Fprintf(tw, "%s\t%t\t%s\t%s\t%s\n", termsafe.Text(s.ID), s.Active, termsafe.Text(string(s.AuthenticatorAssuranceLevel)),
					s.AuthenticatedAt.Format(time.RFC3339), s.ExpiresAt.Format(time.RFC3339))
			}
			tw.Flush()
			return exitOK
		}
	},
}

// failCall reports a failed API call; invalid arguments (a malformed id)
// are usage errors.
func (a *app) failCall(err error, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	if errors.Is(err, client.ErrInvalidArgument) {
		var ae *client.ArgumentError
		if errors.As(err, &ae) {
			return a.usageError(fmt.Sprintf("%s: %s %s", msg, ae.Argument, ae.Reason), nil)
		}
	}
	return a.fail("%s: %v", msg, err)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// compactJSON is raw JSON on one line, cut to n bytes.
func compactJSON(raw json.RawMessage, n int) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	s := b.String()
	if len(s) > n {
		s = s[:n-3] + "..."
	}
	return s
}
