package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/termsafe"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // some items or requests failed
	exitUsage   = 2 // bad command line
)

// Environment variables.
const (
	envURL   = "KRATOS_ADMIN_URL"
	envToken = "ORY_API_KEY"
)

// app holds what every command shares.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            func(string) string

	url       string
	token     string
	tokenFile string
	cleartext bool
	timeout   time.Duration

	cmd *command // the command being run
}

// command is a subcommand.
type command struct {
	name     string
	args     string // positional arguments, for the usage line
	summary  string
	about    string // paragraph under the usage line
	examples []string
	flags    func(fs *flag.FlagSet) func(ctx context.Context, a *app, args []string) int
	minArgs  int
	maxArgs  int // -1: any number
}

var commands = []*command{importCommand, exportCommand, listCommand, getCommand, deleteCommand, sessionsCommand}

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run is the whole program: it parses args, runs a command and returns
// the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if env == nil {
		env = func(string) string { return "" }
	}
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	global := flag.NewFlagSet("kratos-admin", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	a.commonFlags(global)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return exitOK
		}
		return a.usageError(err.Error(), nil)
	}
	rest := global.Args()
	if len(rest) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	name, rest := rest[0], rest[1:]
	if name == "help" {
		if len(rest) == 0 {
			printUsage(stdout)
			return exitOK
		}
		cmd := findCommand(rest[0])
		if cmd == nil {
			return a.usageError(fmt.Sprintf("unknown command %q", rest[0]), nil)
		}
		fs, _ := cmd.flagSet(a)
		cmd.printHelp(stdout, fs)
		return exitOK
	}
	cmd := findCommand(name)
	if cmd == nil {
		return a.usageError(fmt.Sprintf("unknown command %q", name), nil)
	}
	return cmd.execute(ctx, a, rest)
}

func (a *app) commonFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.url, "url", a.url, "admin API `URL`, like http://127.0.0.1:4434 (default $"+envURL+")")
	fs.StringVar(&a.token, "token", a.token, "API key sent as a bearer `token`; other local users can read it from the process list: prefer $"+envToken+" or --token-file")
	fs.StringVar(&a.tokenFile, "token-file", a.tokenFile, "read the API key from `FILE` (its first line)")
	fs.BoolVar(&a.cleartext, "allow-cleartext-token", a.cleartext, "send the API key over http:// to a host that is not loopback, or through an HTTP proxy")
	fs.DurationVar(&a.timeout, "timeout", a.timeout, "bound on each HTTP request (default 30s)")
}

// flagSet returns the command's flags and the function that runs it with
// their values.
func (c *command) flagSet(a *app) (*flag.FlagSet, func(context.Context, *app, []string) int) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.commonFlags(fs)
	return fs, c.flags(fs)
}

// execute parses the command's flags, which may come before, between or
// after its arguments ("--" ends them), and runs it.
func (c *command) execute(ctx context.Context, a *app, args []string) int {
	a.cmd = c
	fs, body := c.flagSet(a)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.printHelp(a.stdout, fs)
				return exitOK
			}
			return a.usageError(err.Error(), c)
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	switch {
	case len(pos) < c.minArgs:
		return a.usageError(fmt.Sprintf("%s: missing %s", c.name, c.args), c)
	case c.maxArgs >= 0 && len(pos) > c.maxArgs:
		return a.usageError(fmt.Sprintf("%s: unexpected argument %q", c.name, pos[c.maxArgs]), c)
	}
	return body(ctx, a, pos)
}

func (a *app) usageError(msg string, c *command) int {
	fmt.Fprintf(a.stderr, "kratos-admin: %s\n", termsafe.Text(msg))
	if c != nil {
		fmt.Fprintf(a.stderr, "Usage: kratos-admin %s\nRun 'kratos-admin %s --help' for more.\n", c.usageLine(), c.name)
	} else {
		fmt.Fprintln(a.stderr, "Run 'kratos-admin --help' for usage.")
	}
	return exitUsage
}

// fail reports an error that is not the user's command line.
//
// Messages carry untrusted text (the server's, the input's): they go
// through termsafe.Text, the CLI's one quoting for terminals.
func (a *app) fail(format string, args ...any) int {
	fmt.Fprintf(a.stderr, "kratos-admin: %s\n", termsafe.Text(fmt.Sprintf(format, args...)))
	return exitFailure
}

// client builds the SDK client from flags and environment.
func (a *app) client() (*client.Client, error) {
	url := a.url
	if url == "" {
		url = a.env(envURL)
	}
	if url == "" {
		return nil, fmt.Errorf("no server: set %s or pass --url", envURL)
	}
	var opts []client.Option
	token, err := a.apiToken()
	if err != nil {
		return nil, err
	}
	if token != "" {
		opts = append(opts, client.WithBearerToken(token))
	}
	if a.cleartext {
		opts = append(opts, client.WithCleartextToken())
	}
	if a.timeout < 0 {
		return nil, errors.New("--timeout must not be negative")
	}
	if a.timeout > 0 {
		opts = append(opts, client.WithTimeout(a.timeout))
	}
	opts = append(opts, client.WithUserAgent("kratos-admin/"+client.Version))
	return client.New(url, opts...)
}

// apiToken is the API key: from --token-file, --token (with a warning: the
// command line is readable by every local user) or $ORY_API_KEY.
func (a *app) apiToken() (string, error) {
	switch {
	case a.tokenFile != "" && a.token != "":
		return "", errors.New("--token and --token-file: give one")
	case a.tokenFile != "":
		b, err := os.ReadFile(a.tokenFile)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if line = strings.TrimSpace(line); line == "" {
			return "", fmt.Errorf("--token-file %s: empty", a.tokenFile)
		}
		return line, nil
	case a.token != "":
		fmt.Fprintf(a.stderr, "kratos-admin: warning: --token is readable by every local user (ps, /proc/PID/cmdline): use $%s or --token-file\n", envToken)
		return a.token, nil
	}
	return a.env(envToken), nil
}

// connect returns the client, or the exit status of a usage error.
func (a *app) connect() (*client.Client, int) {
	c, err := a.client()
	if err != nil {
		return nil, a.usageError(strings.TrimPrefix(err.Error(), "kratos: "), a.cmd)
	}
	return c, exitOK
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (c *command) usageLine() string {
	line := c.name + " [flags]"
	if c.args != "" {
		line += " " + c.args
	}
	return line
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: kratos-admin [--url URL] [--token TOKEN] COMMAND [flags] [ARGS]

Manage identities on an Ory Kratos admin API: bulk import and export as
JSON Lines (one identity per line, as the create-identity API takes it),
list, show and delete identities, and list an identity's sessions.

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-30s %s\n", c.name+" "+c.args, c.summary)
	}
	fmt.Fprintf(w, `
Flags for every command (before or after it):
  --url URL         admin API URL, like http://127.0.0.1:4434 (default $%s)
  --token-file FILE read the API key from FILE (default $%s)
  --token TOKEN     API key; readable by every local user: prefer the two above
  --allow-cleartext-token
                    send the API key over http:// to a host that is not
                    loopback, or through an HTTP proxy (refused otherwise)
  --timeout DUR     bound on each HTTP request (default 30s)

Examples:
  export %s=http://127.0.0.1:4434
  kratos-admin import --hash-passwords --report report.jsonl users.jsonl
  kratos-admin import --resume report.jsonl --report report2.jsonl users.jsonl
  kratos-admin export --credentials > backup.jsonl
  kratos-admin list --limit 20

Run 'kratos-admin COMMAND --help' for a command's flags.
Exit status: 0 success, 1 some items or requests failed, 2 usage error.
`, envURL, envToken, envURL)
}

func (c *command) printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: kratos-admin %s\n\n%s\n", c.usageLine(), c.about)
	var own, common []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		switch f.Name {
		case "url", "token", "token-file", "allow-cleartext-token", "timeout":
			common = append(common, f)
		default:
			own = append(own, f)
		}
	})
	if len(own) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		printFlags(w, own, true)
	}
	fmt.Fprintln(w, "\nConnection flags (also accepted before the command):")
	// Their current values may come from the command line: never print
	// them (one is a token).
	printFlags(w, common, false)
	if len(c.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

func printFlags(w io.Writer, flags []*flag.Flag, defaults bool) {
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	type row struct{ left, usage string }
	rows := make([]row, 0, len(flags))
	width := 0
	for _, f := range flags {
		name, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if len(f.Name) == 1 {
			left = "-" + f.Name
		}
		if name != "" {
			left += " " + strings.ToUpper(name)
		}
		if defaults && !isZeroDefault(f) {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		rows = append(rows, row{left, usage})
		width = max(width, len(left))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r.left, r.usage)
	}
}

func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s":
		return true
	}
	return false
}
