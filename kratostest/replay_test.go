package kratostest_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/internal/exchange"
	"github.com/kratosadmin/sdk/kratostest"
)

// The recorded server's addresses. The second instance (faster session
// extend, 114 and 115) ran on 4443/4444.
const (
	recPublic  = "http://127.0.0.1:4433"
	recAdmin   = "http://127.0.0.1:4434"
	recPublic2 = "http://127.0.0.1:4443"
	recAdmin2  = "http://127.0.0.1:4444"
	recUI      = "http://127.0.0.1:4455/recovery"
)

// idQueues feeds the fake the ids the real server gave, so that lists
// sorted by id, page tokens and Link headers can be compared exactly.
type idQueues struct {
	mu sync.Mutex
	q  map[string][]string
}

func (g *idQueues) push(kind string, ids ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.q == nil {
		g.q = map[string][]string{}
	}
	g.q[kind] = append(g.q[kind], ids...)
}

func (g *idQueues) next(kind string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if q := g.q[kind]; len(q) > 0 {
		g.q[kind] = q[1:]
		return q[0]
	}
	return randomUUID()
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// TestReplayRecordedExchanges sends every recorded request, in order, to
// the fake and checks that it answers as the real server did: the status,
// the headers that matter (Content-Type, Cache-Control, Location, Link,
// X-Total-Count, Ory-Error-Id, Vary), error bodies field for field, and
// success bodies key for key and value for value (timestamps, hashes,
// codes and tokens only for their form). The fake is given the ids the real
// server chose, so that orders, page tokens and links are comparable.
//
// The public login calls (012-015, and the recorder's logins) are not
// replayed over HTTP (the flow ids they carry are the real server's): the
// fake creates those sessions (and the two the recorder made without
// recording them) with CreateSession instead, and its answer is compared
// with the login's. The fake's own login flow is tested in sessions_test.go
// and by the contract suite against cmd/kratos-fake (TestContractProgram).
func TestReplayRecordedExchanges(t *testing.T) {
	all, err := exchange.LoadAll(exchange.Dir())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*exchange.Exchange{}
	for _, x := range all {
		byName[x.Name()[:3]] = x
	}
	ids := &idQueues{}
	for _, x := range all {
		if instanceOf(x) != recAdmin {
			continue
		}
		var body any
		_ = json.Unmarshal(x.Response.Body, &body)
		switch {
		case x.Operation == "createIdentity" && x.Response.Status == 201:
			m := body.(map[string]any)
			ids.push(kratostest.IDKindIdentity, m["id"].(string))
			for _, key := range []string{"verifiable_addresses", "recovery_addresses"} {
				for _, a := range m[key].([]any) {
					ids.push(kratostest.IDKindAddress, a.(map[string]any)["id"].(string))
				}
			}
		case x.Operation == "batchPatchIdentities" && x.Response.Status == 200:
			for _, item := range body.(map[string]any)["identities"].([]any) {
				if id, ok := item.(map[string]any)["identity"].(string); ok {
					ids.push(kratostest.IDKindIdentity, id)
				}
			}
		}
	}
	// Sessions in creation order: alice's login (013), two more logins of
	// alice the recorder did not save (they show in 070-075), bob's (015).
	sessionDevices := [][2]string{
		{sessionOf(t, byName["013"]), deviceOf(t, byName["013"])},
		{"7cc9ad2c-6887-4799-8942-7e895068b1f7", "7c0f98c2-b96c-44b5-8375-3af51626b7d8"},
		{"6d0594a1-ad55-4922-b0f3-a219a21b9d0e", "22303d3c-c2aa-4d41-8b6b-f8b78428882a"},
		{sessionOf(t, byName["015"]), deviceOf(t, byName["015"])},
	}
	for _, sd := range sessionDevices {
		ids.push(kratostest.IDKindSession, sd[0])
		ids.push(kratostest.IDKindDevice, sd[1])
	}

	srv := kratostest.NewServer(t,
		kratostest.WithIDGenerator(ids.next),
		kratostest.WithRecoveryUIURL(recUI),
	)
	// The second instance, with faster_session_extend, and its session.
	ids2 := &idQueues{}
	ids2.push(kratostest.IDKindSession, "708a3aef-ad38-4039-800f-73358277082d")
	srv2 := kratostest.NewServer(t, kratostest.WithFasterSessionExtend(), kratostest.WithIDGenerator(ids2.next))
	c2 := srv2.Client()
	other, err := c2.Identities.Create(t.Context(), &client.CreateIdentityBody{SchemaID: "default", Traits: json.RawMessage(`{"email":"second@example.org"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv2.CreateSession(other.ID); err != nil {
		t.Fatal(err)
	}

	rep := &replacer{pairs: []string{recPublic, srv.PublicURL, recAdmin, srv.URL, recPublic2, srv2.PublicURL, recAdmin2, srv2.URL}}
	// Later recordings (internal/recorder) each ran on a fresh server of
	// their own, on another pair of ports: each pair gets its own fake.
	fakes := map[string]*kratostest.Server{recAdmin: srv, recAdmin2: srv2}
	for admin, public := range recorderInstances(all) {
		q := seedRecorderIDs(t, all, admin)
		// The recorder's server config (server/kratos.yml) allows 4455.
		f := kratostest.NewServer(t, kratostest.WithIDGenerator(q.next), kratostest.WithRecoveryUIURL(recUI), kratostest.WithAllowedReturnURLs("http://127.0.0.1:4455"))
		fakes[admin] = f
		rep.pairs = append(rep.pairs, public, f.PublicURL, admin, f.URL)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	recorderDevice := kratostest.WithSessionDevice("127.0.0.1:37272", "kratos-live-recorder/1.0", "")

	tokens := map[string]string{}
	for _, x := range all {
		t.Run(x.Name(), func(t *testing.T) {
			switch x.Operation {
			case "createNativeLoginFlow":
				t.Skip("public login flow: replayed as the session its updateLoginFlow makes")
			case "updateLoginFlow":
				var login struct {
					Session struct {
						Identity struct {
							ID string `json:"id"`
						} `json:"identity"`
					} `json:"session"`
				}
				if err := json.Unmarshal(x.Response.Body, &login); err != nil {
					t.Fatal(err)
				}
				identityID := login.Session.Identity.ID
				// compareSession compares the fake's session with the
				// one the login answered.
				compareSession := func(got *client.Session) {
					gotJSON, _ := json.Marshal(got)
					var want struct {
						Session json.RawMessage `json:"session"`
					}
					_ = json.Unmarshal(x.Response.Body, &want)
					compareBodies(t, rep, want.Session, gotJSON)
				}
				if inst := instanceOf(x); inst != recAdmin && x.Response.Status != http.StatusOK {
					// A refused recorder login: the same submission to a
					// flow of the fake answers the same.
					f := fakes[inst]
					st, _, b := send(t, http.MethodGet, f.PublicURL+"/self-service/login/api", "")
					var flow struct{ ID string }
					if st != http.StatusOK || json.Unmarshal([]byte(b), &flow) != nil {
						t.Fatalf("login flow: %d %s", st, b)
					}
					st, _, b = send(t, http.MethodPost, f.PublicURL+"/self-service/login?flow="+flow.ID, string(x.RequestBody()))
					if st != x.Response.Status {
						t.Fatalf("status %d, recorded %d: %s", st, x.Response.Status, b)
					}
					compareBodies(t, rep, x.ResponseBody(), []byte(b))
					return
				}
				if inst := instanceOf(x); inst != recAdmin {
					// A recorder login: the fake makes the same session,
					// with the device the real server saw.
					var dev struct {
						Session struct {
							Devices []struct {
								IPAddress string `json:"ip_address"`
								UserAgent string `json:"user_agent"`
								Location  string `json:"location"`
							} `json:"devices"`
						} `json:"session"`
					}
					_ = json.Unmarshal(x.Response.Body, &dev)
					var opts []kratostest.SessionOption
					for _, d := range dev.Session.Devices {
						opts = append(opts, kratostest.WithSessionDevice(d.IPAddress, d.UserAgent, d.Location))
					}
					got, err := fakes[inst].CreateSession(identityID, opts...)
					if err != nil {
						t.Fatal(err)
					}
					compareSession(got)
					return
				}
				if x.Name()[:3] == "015" {
					// The two unrecorded logins of alice happened before bob's.
					alice := sessionIdentityOf(t, byName["013"])
					for range 2 {
						if _, err := srv.CreateSession(alice, recorderDevice); err != nil {
							t.Fatal(err)
						}
					}
				}
				got, err := srv.CreateSession(identityID, recorderDevice)
				if err != nil {
					t.Fatal(err)
				}
				compareSession(got)
				return
			}
			base := rep.replace(x.Request.BaseURL)
			// A page token copied from an earlier Link header is the fake's
			// token for the same page.
			xc := *x
			for rec, fake := range tokens {
				xc.Request.RawQuery = strings.ReplaceAll(xc.Request.RawQuery, "page_token="+rec, "page_token="+fake)
			}
			req, err := xc.HTTPRequest(base)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			gotBody, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != x.Response.Status {
				t.Fatalf("status %d, recorded %d; body %s", resp.StatusCode, x.Response.Status, gotBody)
			}
			compareHeaders(t, rep, x, resp.Header)
			mapTokens(tokens, x.Response.Headers["Link"], resp.Header.Get("Link"))
			want := x.ResponseBody()
			if len(want) == 0 {
				if len(gotBody) != 0 {
					t.Errorf("body %q, recorded none", gotBody)
				}
				return
			}
			if x.Response.BodyIsText {
				if got, w := string(gotBody), rep.replace(string(want)); got != w {
					t.Errorf("body %q, recorded %q", got, w)
				}
				return
			}
			compareBodies(t, rep, want, gotBody)
			if w, g := keyOrder(want), keyOrder(gotBody); !slices.Equal(w, g) {
				t.Errorf("keys in another order:\n got  %v\n want %v", g, w)
			}
			if resp.StatusCode >= 400 {
				// Error bodies have nothing volatile: byte for byte, as
				// herodot writes them (with a newline).
				if w := rep.replace(string(want)) + "\n"; string(gotBody) != w {
					t.Errorf("error body\n got  %q\n want %q", gotBody, w)
				}
			}
		})
	}
}

// instanceOf is the admin URL of the server an exchange was recorded
// from: its own base URL, or for the public port (P) the admin port P+1.
func instanceOf(x *exchange.Exchange) string {
	return adminOf(x.Request.BaseURL)
}

func adminOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	switch base {
	case recAdmin, recAdmin2:
		return base
	case recPublic:
		return recAdmin
	case recPublic2:
		return recAdmin2
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		return base
	}
	if p%2 == 1 { // the recorder runs with admin = public + 1, public odd
		u.Host = u.Hostname() + ":" + strconv.Itoa(p+1)
	}
	return u.String()
}

// recorderInstances maps the admin URL of every server the recorder
// recorded from (other than the two of the first recordings) to its
// public URL.
func recorderInstances(all []*exchange.Exchange) map[string]string {
	out := map[string]string{}
	for _, x := range all {
		admin := instanceOf(x)
		if admin == recAdmin || admin == recAdmin2 {
			continue
		}
		u, _ := url.Parse(admin)
		p, _ := strconv.Atoi(u.Port())
		u.Host = u.Hostname() + ":" + strconv.Itoa(p-1)
		out[admin] = u.String()
	}
	return out
}

// seedRecorderIDs queues, for the fake standing in for one recorded
// server, the identity ids that server gave (creates and batches) and the
// session and device ids of its logins, in order. Address ids are not
// queued (batches and trait changes create addresses the answers do not
// always show): compareValue checks them as a consistent renaming.
func seedRecorderIDs(t *testing.T, all []*exchange.Exchange, admin string) *idQueues {
	t.Helper()
	q := &idQueues{}
	for _, x := range all {
		if instanceOf(x) != admin {
			continue
		}
		var body any
		_ = json.Unmarshal(x.Response.Body, &body)
		switch {
		case x.Operation == "createIdentity" && x.Response.Status == 201:
			q.push(kratostest.IDKindIdentity, body.(map[string]any)["id"].(string))
		case x.Operation == "batchPatchIdentities" && x.Response.Status == 200:
			items, _ := body.(map[string]any)["identities"].([]any)
			for _, item := range items {
				m, _ := item.(map[string]any)
				if id, ok := m["identity"].(string); ok {
					q.push(kratostest.IDKindIdentity, id)
				}
			}
		case x.Operation == "updateLoginFlow" && x.Response.Status == 200:
			q.push(kratostest.IDKindSession, sessionOf(t, x))
			q.push(kratostest.IDKindDevice, deviceOf(t, x))
		}
	}
	return q
}

// keyOrder lists the object keys of a JSON document in document order.
func keyOrder(b []byte) []string {
	type frame struct{ object, expectKey bool }
	d := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	var stack []frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].expectKey = true
		}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return keys
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, expectKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
			keys = append(keys, tok.(string))
			stack[n-1].expectKey = false
			continue
		}
		valueDone()
	}
}

func sessionOf(t *testing.T, x *exchange.Exchange) string {
	t.Helper()
	var v struct {
		Session struct {
			ID string `json:"id"`
		} `json:"session"`
	}
	if err := json.Unmarshal(x.Response.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Session.ID
}

func sessionIdentityOf(t *testing.T, x *exchange.Exchange) string {
	t.Helper()
	var v struct {
		Session struct {
			Identity struct {
				ID string `json:"id"`
			} `json:"identity"`
		} `json:"session"`
	}
	if err := json.Unmarshal(x.Response.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Session.Identity.ID
}

func deviceOf(t *testing.T, x *exchange.Exchange) string {
	t.Helper()
	var v struct {
		Session struct {
			Devices []struct {
				ID string `json:"id"`
			} `json:"devices"`
		} `json:"session"`
	}
	if err := json.Unmarshal(x.Response.Body, &v); err != nil || len(v.Session.Devices) == 0 {
		t.Fatalf("no device in %s: %v", x.Name(), err)
	}
	return v.Session.Devices[0].ID
}

// mapTokens pairs the page tokens of a recorded Link header with the
// fake's, link by link.
func mapTokens(tokens map[string]string, want, got string) {
	w, g := linkTokens(want), linkTokens(got)
	if len(w) != len(g) {
		return
	}
	for k := range w {
		if w[k] != "" && g[k] != "" {
			tokens[w[k]] = g[k]
		}
	}
}

var pageTokenRE = regexp.MustCompile(`page_token=([^&>]*)`)

func linkTokens(h string) []string {
	var out []string
	for _, m := range pageTokenRE.FindAllStringSubmatch(h, -1) {
		out = append(out, m[1])
	}
	return out
}

// replacer swaps the recorded servers' URLs for the fakes', and keeps
// the renaming of address ids (recorded id to the fake's) consistent.
type replacer struct {
	pairs      []string
	addr, back map[string]string
}

// sameAddress reports whether the fake's address id g can stand for the
// recorded w: the first time w is seen it is paired with g.
func (r *replacer) sameAddress(w, g string) bool {
	if r.addr == nil {
		r.addr, r.back = map[string]string{}, map[string]string{}
	}
	if m, ok := r.addr[w]; ok {
		return m == g
	}
	if _, ok := r.back[g]; ok {
		return false
	}
	r.addr[w], r.back[g] = g, w
	return true
}

func (r *replacer) replace(s string) string {
	return strings.NewReplacer(r.pairs...).Replace(s)
}

var comparedHeaders = []string{"Content-Type", "Cache-Control", "Location", "Link", "X-Total-Count", "Ory-Error-Id", "Vary"}

func compareHeaders(t *testing.T, rep *replacer, x *exchange.Exchange, got http.Header) {
	t.Helper()
	for _, name := range comparedHeaders {
		want, recorded := x.Response.Headers[name]
		values, sent := got[http.CanonicalHeaderKey(name)]
		switch {
		case recorded && !sent:
			t.Errorf("header %s missing, recorded %q", name, want)
		case !recorded && sent:
			t.Errorf("header %s: %q, not recorded", name, values)
		case recorded && sent:
			g := strings.Join(values, ",")
			if name == "Link" {
				compareLinks(t, rep.replace(want), g)
			} else if w := rep.replace(want); g != w {
				t.Errorf("header %s: %q, recorded %q", name, g, w)
			}
		}
	}
}

// compareLinks compares Link headers exactly, except that listSessions
// page tokens carry a creation time: only their session id is compared.
// Kratos encodes those tokens from a map, so "id=" and "created_at=" come
// in either order (the tokens start aWQ9 or Y3JlYXRlZF9hdD0).
func compareLinks(t *testing.T, want, got string) {
	t.Helper()
	norm := func(h string) string {
		return sessionTokenRE.ReplaceAllStringFunc(h, func(m string) string {
			tok := strings.TrimPrefix(m, "page_token=")
			b, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				return m
			}
			parts := strings.Split(string(b), "/")
			slices.Sort(parts)
			for k, p := range parts {
				if strings.HasPrefix(p, "created_at=") && !strings.Contains(p, "2200-12-31") {
					parts[k] = "created_at=<time>"
				}
			}
			return "page_token=" + strings.Join(parts, "/")
		})
	}
	if w, g := norm(want), norm(got); w != g {
		t.Errorf("Link header\n got  %s\n want %s", g, w)
	}
}

var sessionTokenRE = regexp.MustCompile(`page_token=(aWQ9|Y3JlYXRlZF9hdD0)[A-Za-z0-9_-]+`)

var (
	uuidRE  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	tokenRE = regexp.MustCompile(`token=[A-Za-z0-9]+`)
	codeRE  = regexp.MustCompile(`^[0-9]{6}$`)
)

var timestampKeys = map[string]bool{
	"created_at": true, "updated_at": true, "state_changed_at": true, "verified_at": true,
	"expires_at": true, "issued_at": true, "authenticated_at": true, "completed_at": true,
}

// compareBodies compares two JSON documents: same keys everywhere, same
// values except for the fields whose value the fake cannot reproduce.
func compareBodies(t *testing.T, rep *replacer, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("recorded body: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("fake body is not JSON: %v: %s", err, got)
	}
	var diffs []string
	compareValue(rep, "", "", w, g, &diffs)
	if len(diffs) > 0 {
		t.Errorf("body differs from the recording:\n  %s\nfake body: %s", strings.Join(diffs, "\n  "), got)
	}
}

func compareValue(rep *replacer, path, key string, want, got any, diffs *[]string) {
	fail := func(format string, args ...any) {
		*diffs = append(*diffs, path+": "+fmt.Sprintf(format, args...))
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			fail("got %T, recorded an object", got)
			return
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG:
				fail("field %q missing (recorded %v)", k, short(wv))
			case !inW:
				fail("field %q present (%v) but not recorded", k, short(gv))
			default:
				compareValue(rep, path+"/"+k, k, wv, gv, diffs)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			fail("got %T, recorded an array", got)
			return
		}
		if len(g) != len(w) {
			fail("%d items, recorded %d", len(g), len(w))
			return
		}
		for k := range w {
			compareValue(rep, fmt.Sprintf("%s/%d", path, k), key, w[k], g[k], diffs)
		}
	case string:
		g, ok := got.(string)
		if !ok {
			fail("got %v, recorded the string %q", short(got), w)
			return
		}
		switch {
		case key == "id" && (strings.Contains(path, "/verifiable_addresses/") || strings.Contains(path, "/recovery_addresses/")):
			if !rep.sameAddress(w, g) {
				fail("address id %q, recorded %q (seen as another id before)", g, w)
			}
		case timestampKeys[key]:
			if w == "0001-01-01T00:00:00Z" {
				if g != w {
					fail("%q, recorded the zero time", g)
				}
			} else if ts, err := time.Parse(time.RFC3339Nano, g); err != nil || ts.IsZero() {
				fail("%q is not a timestamp", g)
			}
		case key == "hashed_password":
			// Imported hashes come back verbatim; the fake's own are $2a$.
			if strings.HasPrefix(w, "$2a$08$") {
				if !strings.HasPrefix(g, "$2a$") {
					fail("%q is not a bcrypt hash", g)
				}
			} else if g != w {
				fail("%q, recorded %q", g, w)
			}
		case key == "recovery_code":
			if !codeRE.MatchString(g) {
				fail("%q is not a 6-digit code", g)
			}
		case key == "recovery_link":
			norm := func(s string) string {
				return tokenRE.ReplaceAllString(uuidRE.ReplaceAllString(s, "<uuid>"), "token=<token>")
			}
			if ng, nw := norm(g), norm(rep.replace(w)); ng != nw {
				fail("%q, recorded %q", ng, nw)
			}
		default:
			if r := rep.replace(w); g != r {
				fail("%q, recorded %q", g, r)
			}
		}
	default:
		if !equalJSON(want, got) {
			fail("%v, recorded %v", short(got), short(want))
		}
	}
}

func equalJSON(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return bytes.Equal(ab, bb)
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}
