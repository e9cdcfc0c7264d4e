package client_test

// Per-call options (CallOption) on every typed call of typedCalls: plain
// calls, page calls and iterators.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// answerOK answers each typed call with a success of the right shape, and
// an X-Answer header naming the path.
func answerOK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Answer", r.Method+" "+r.URL.Path)
	p := r.URL.Path
	switch {
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPatch && p == "/admin/identities":
		writeJSON(w, 200, `{"identities":[{"action":"create","identity":"`+testID+`","patch_id":"`+testID+`"},{"action":"create","identity":"`+testSessionID+`"}]}`)
	case strings.HasPrefix(p, "/schemas/"):
		writeJSON(w, 200, `{"type":"object"}`)
	case r.Method == http.MethodGet && (strings.HasSuffix(p, "/sessions") || strings.HasSuffix(p, "/identities") || p == "/schemas"):
		writeJSON(w, 200, `[]`)
	case strings.HasPrefix(p, "/admin/recovery/"):
		writeJSON(w, 200, `{"recovery_link":"http://x/","recovery_code":"123456","expires_at":"2025-01-02T03:04:05Z"}`)
	case strings.HasPrefix(p, "/admin/sessions/"):
		writeJSON(w, 200, `{"id":"`+testSessionID+`"}`)
	default:
		writeJSON(w, 200, identityJS)
	}
}

// headerLog keeps the values of one request header, request by request.
type headerLog struct {
	mu     sync.Mutex
	name   string
	values []string
}

func (l *headerLog) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.values = append(l.values, r.Header.Get(l.name))
		l.mu.Unlock()
		h(w, r)
	}
}

func (l *headerLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := l.values
	l.values = nil
	return v
}

// TestWithHeaderReachesTheServer: WithHeader sets the header on the
// request of every typed call (every page of an iterator), replaces the
// client's own value (User-Agent), and stays on that call.
func TestWithHeaderReachesTheServer(t *testing.T) {
	trace := &headerLog{name: "X-Trace"}
	ua := &headerLog{name: "User-Agent"}
	srv, _ := serve(t, ua.wrap(trace.wrap(answerOK)))
	c := newClient(t, srv.URL, client.WithPublicURL(srv.URL))
	for _, tc := range typedCalls {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxTimeout(t, 5*time.Second)
			if _, err := tc.call(ctx, c, client.WithHeader("x-trace", "abc-123"), client.WithHeader("User-Agent", "job/1")); err != nil {
				t.Fatal(err)
			}
			got, agents := trace.take(), ua.take()
			if len(got) == 0 {
				t.Fatal("no request")
			}
			for i := range got {
				if got[i] != "abc-123" || agents[i] != "job/1" {
					t.Errorf("request %d: X-Trace %q, User-Agent %q", i, got[i], agents[i])
				}
			}
			if _, err := tc.call(ctx, c); err != nil {
				t.Fatal(err)
			}
			if got, agents := trace.take(), ua.take(); got[0] != "" || !strings.HasPrefix(agents[0], "kratosadmin-go/") {
				t.Errorf("without the option: X-Trace %q, User-Agent %q", got[0], agents[0])
			}
		})
	}
}

// TestWithResponseIntoOnSuccessAndOnError: WithResponseInto hands over the
// final attempt's response of every typed call, with its status and
// headers, on a success and on an error answer (after the retries), its
// body already read and its request without the token.
func TestWithResponseIntoOnSuccessAndOnError(t *testing.T) {
	var fail sync.Map // path -> remaining 503s before a 404
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Fail") == "" {
			answerOK(w, r)
			return
		}
		n, _ := fail.LoadOrStore(r.URL.Path, new(int))
		w.Header().Set("X-Attempt", fmt.Sprint(*n.(*int)))
		if *n.(*int)++; *n.(*int) == 1 && r.Method == http.MethodGet {
			writeJSON(w, 503, `{"error":{"code":503,"message":"busy"}}`)
			return
		}
		writeJSON(w, 404, `{"error":{"code":404,"message":"gone"}}`)
	})
	c := newClient(t, srv.URL, client.WithPublicURL(srv.URL), fastRetries(3))
	for _, tc := range typedCalls {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxTimeout(t, 5*time.Second)
			var resp *http.Response
			if _, err := tc.call(ctx, c, client.WithResponseInto(&resp)); err != nil {
				t.Fatal(err)
			}
			if resp == nil || resp.StatusCode/100 != 2 || !strings.HasSuffix(resp.Header.Get("X-Answer"), resp.Request.URL.Path) {
				t.Fatalf("success: response %+v", resp)
			}
			if b, err := io.ReadAll(resp.Body); err != nil || len(b) != 0 {
				t.Errorf("body still readable: %q, %v", b, err)
			}
			if resp.Request.Header.Get("Authorization") != "" {
				t.Error("the response's request carries the token")
			}

			fail.Clear()
			resp = nil
			_, err := tc.call(ctx, c, client.WithResponseInto(&resp), client.WithHeader("X-Fail", "1"))
			if !errors.Is(err, client.ErrNotFound) {
				t.Fatalf("error answer: %v", err)
			}
			want := "0"
			if tc.method == http.MethodGet {
				want = "1" // the 503 was retried: the final attempt's answer
			}
			if resp == nil || resp.StatusCode != 404 || resp.Header.Get("X-Attempt") != want {
				t.Fatalf("error: response %+v, want 404 from attempt %s", resp, want)
			}
		})
	}
}

// TestWithMaxRetries: WithMaxRetries(0) sends every typed call exactly
// once whatever the client's policy; WithMaxRetries(n) allows n resends of
// the calls the policy retries (GET, PUT, DELETE) and still none of POST
// and PATCH.
func TestWithMaxRetries(t *testing.T) {
	srv, h := serve(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 503, `{"error":{"code":503,"message":"overloaded"}}`)
	})
	c := newClient(t, srv.URL, client.WithPublicURL(srv.URL), fastRetries(4))
	for _, tc := range typedCalls {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxTimeout(t, 5*time.Second)
			before := h.count()
			_, err := tc.call(ctx, c, client.WithMaxRetries(0))
			if e := asError(t, err); e.StatusCode != 503 || h.count()-before != 1 {
				t.Errorf("WithMaxRetries(0): sent %d times (%v)", h.count()-before, err)
			}
			before = h.count()
			_, _ = tc.call(ctx, c, client.WithMaxRetries(1))
			want := 1
			switch tc.method {
			case http.MethodGet, http.MethodPut, http.MethodDelete:
				want = 2
			}
			if got := h.count() - before; got != want {
				t.Errorf("WithMaxRetries(1): sent %d times, want %d", got, want)
			}
		})
	}
}

// TestWithRequestTimeout: WithRequestTimeout bounds each attempt of the
// call in place of the client's timeout, both ways: shorter (a
// *TimeoutError naming it) and off (0) where the client's would fire.
func TestWithRequestTimeout(t *testing.T) {
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Slow") != "" {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
		answerOK(w, r)
	})
	slow := client.WithHeader("X-Slow", "1")
	fast := newClient(t, srv.URL, client.WithPublicURL(srv.URL), client.WithoutRetries())
	short := newClient(t, srv.URL, client.WithPublicURL(srv.URL), client.WithoutRetries(), client.WithTimeout(50*time.Millisecond))
	for _, tc := range typedCalls {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxTimeout(t, 5*time.Second)
			_, err := tc.call(ctx, fast, slow, client.WithRequestTimeout(50*time.Millisecond))
			var te *client.TimeoutError
			if !errors.As(err, &te) || te.After != 50*time.Millisecond || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("shorter timeout: %v", err)
			}
			if _, err := tc.call(ctx, short, slow, client.WithRequestTimeout(0)); err != nil {
				t.Errorf("timeout off: %v", err)
			}
		})
	}
}

// TestBadCallOptionsAreRefusedBeforeSending: an option with a bad argument
// refuses the call with an *ArgumentError naming it; nothing is sent.
func TestBadCallOptionsAreRefusedBeforeSending(t *testing.T) {
	srv, h := serve(t, answerOK)
	c := newClient(t, srv.URL, client.WithPublicURL(srv.URL))
	for name, opt := range map[string]client.CallOption{
		"WithResponseInto(nil)":    client.WithResponseInto(nil),
		"negative timeout":         client.WithRequestTimeout(-time.Second),
		"negative retries":         client.WithMaxRetries(-1),
		"header name with a space": client.WithHeader("X Trace", "1"),
		"empty header name":        client.WithHeader("", "1"),
		"header value with CRLF":   client.WithHeader("X-Trace", "1\r\nHost: evil"),
	} {
		for _, tc := range typedCalls {
			_, err := tc.call(ctxTimeout(t, 5*time.Second), c, opt)
			var ae *client.ArgumentError
			if !errors.As(err, &ae) || ae.Argument != "opts" || ae.Op != tc.name && !tc.iterator {
				t.Errorf("%s with %s: %v", tc.name, name, err)
			}
		}
	}
	if h.count() != 0 {
		t.Errorf("%d requests sent", h.count())
	}
}

// ExampleWithResponseInto reads the status and headers of a typed call's
// answer, and changes one call's retries, timeout and headers.
func ExampleWithResponseInto() {
	srv, c := startFake()
	defer srv.Close()
	ctx := context.Background()
	created, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traitsOf("grace@example.org")})
	if err != nil {
		log.Fatal(err)
	}

	var resp *http.Response
	identity, err := c.Identities.Get(ctx, created.ID, nil,
		client.WithResponseInto(&resp),
		client.WithRequestTimeout(5*time.Second), // this call only
		client.WithMaxRetries(0),                 // sent once
		client.WithHeader("X-Request-Id", "audit-42"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(identity.ID == created.ID, resp.StatusCode, resp.Header.Get("Content-Type"))

	// An error answer is handed over too.
	err = c.Identities.Delete(ctx, "00000000-0000-0000-0000-000000000000", client.WithResponseInto(&resp))
	fmt.Println(errors.Is(err, client.ErrNotFound), resp.StatusCode)
	// Output:
	// true 200 application/json; charset=utf-8
	// true 404
}
