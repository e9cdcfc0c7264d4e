package main

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/kratostest"
)

func TestDemoSucceedsAgainstTheEmbeddedFake(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), &out, &errOut, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	for _, want := range []string{
		"embedded fake server",
		"300 identities created in 3 batches",
		"found all 300 imported",
		"2 sessions listed",
		"300 identities deleted",
		"errors.Is(err, ErrNotFound), status 404",
		"all 10 steps succeeded",
		"neither shown",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, &out)
		}
	}
	// A recovery code or link grants access to the identity: never printed.
	if regexp.MustCompile(`\b\d{6}\b|self-service/recovery`).MatchString(out.String()) {
		t.Errorf("report shows a recovery code or link:\n%s", &out)
	}
}

func TestDemoAgainstAConfiguredServer(t *testing.T) {
	srv := kratostest.NewServer(t, kratostest.WithBearerToken("demo-key"))
	env := map[string]string{"KRATOS_ADMIN_URL": srv.URL, "ORY_API_KEY": "demo-key"}
	var out, errOut bytes.Buffer
	code := run(context.Background(), &out, &errOut, func(k string) string { return env[k] })
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, &out, &errOut)
	}
	if !strings.Contains(out.String(), "target: Kratos at "+srv.URL) || !strings.Contains(out.String(), "skipped: sessions come from login flows") {
		t.Errorf("unexpected report:\n%s", &out)
	}
	if srv.IdentityCount() != 0 {
		t.Errorf("demo left %d identities behind", srv.IdentityCount())
	}
}

func TestDemoFailsClearlyWhenTheServerIsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var out, errOut bytes.Buffer
	env := map[string]string{"KRATOS_ADMIN_URL": "http://" + addr}
	code := run(context.Background(), &out, &errOut, func(k string) string { return env[k] })
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if msg := errOut.String(); !strings.Contains(msg, "cannot reach the Kratos admin API") || !strings.Contains(msg, "connection refused") {
		t.Errorf("stderr: %s", msg)
	}
}

func TestDemoFailsClearlyWhenTheTokenIsWrong(t *testing.T) {
	srv := kratostest.NewServer(t, kratostest.WithBearerToken("right"))
	env := map[string]string{"KRATOS_ADMIN_URL": srv.URL, "ORY_API_KEY": "wrong"}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), &out, &errOut, func(k string) string { return env[k] }); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(errOut.String(), "401") {
		t.Errorf("stderr: %s", &errOut)
	}
}
