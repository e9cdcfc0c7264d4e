// Package fakeprog builds and starts cmd/kratos-fake as a subprocess for
// tests: the program's own tests and the contract suite run against it.
package fakeprog

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build compiles cmd/kratos-fake into the test's temporary directory and
// returns its path (the build cache makes repeated builds cheap). It skips
// the test when there is no go command.
func Build(t testing.TB) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build cmd/kratos-fake")
	}
	bin := filepath.Join(t.TempDir(), "kratos-fake")
	out, err := exec.Command(goCmd, "build", "-o", bin, "github.com/kratosadmin/sdk/cmd/kratos-fake").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/kratos-fake: %v\n%s", err, out)
	}
	return bin
}

// Proc is a running kratos-fake.
type Proc struct {
	AdminURL, PublicURL string
	ReadyLine           string
	cmd                 *exec.Cmd
	stderr              *syncBuffer
	done                chan struct{}
	waitErr             error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Start runs the program with args (add "--admin 127.0.0.1:0 --public
// 127.0.0.1:0" for free ports) and waits for its ready line. The process
// is stopped with SIGTERM when the test ends.
func Start(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	go func() { p.waitErr = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.Stop(t) })
	select {
	case line := <-lines:
		p.ReadyLine = line
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "admin="); ok {
				p.AdminURL = v
			} else if v, ok := strings.CutPrefix(f, "public="); ok {
				p.PublicURL = v
			}
		}
		if !strings.HasPrefix(line, "kratos-fake ready ") || p.AdminURL == "" || p.PublicURL == "" {
			t.Fatalf("kratos-fake: unexpected first line %q; stderr:\n%s", line, p.stderr)
		}
	case <-p.done:
		t.Fatalf("kratos-fake exited before it was ready (%v); stderr:\n%s", p.waitErr, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("kratos-fake: no ready line after 30s; stderr:\n%s", p.stderr)
	}
	return p
}

// Stop sends SIGTERM and waits for the exit; it fails the test when the
// program does not exit cleanly with status 0 within 10s. It returns the
// program's stderr.
func (p *Proc) Stop(t testing.TB) string {
	t.Helper()
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		select {
		case <-p.done:
		case <-ctx.Done():
			_ = p.cmd.Process.Kill()
			<-p.done
			t.Errorf("kratos-fake did not stop within 10s of SIGTERM; stderr:\n%s", p.stderr)
			return p.stderr.String()
		}
		if p.waitErr != nil {
			t.Errorf("kratos-fake exited with %v after SIGTERM; stderr:\n%s", p.waitErr, p.stderr)
		}
	}
	return p.stderr.String()
}

// Stderr returns what the program wrote on stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }
