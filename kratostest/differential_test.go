package kratostest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// The differential test runs the same operation sequences against the
// fake and a real Kratos side by side and compares the answers: status,
// the relevant headers (Content-Type, Cache-Control, Vary, Location, the shape of
// Link, X-Total-Count) and the bodies, key by key with their JSON types and
// values. It runs the contract suite's sequences and generated variations
// of them (random traits, metadata of every JSON type, nulls, states,
// external ids, credential imports of every type, page sizes and page
// walks, batches, patches, sessions, recovery, credential deletion,
// schemas), from a seed that is printed and can be set again:
//
//	eval "$(../shared/kratos/start.sh)"
//	go test ./kratostest -run TestDifferential -v [-args -seed=N]   # or KRATOS_DIFF_SEED=N
//	../shared/kratos/stop.sh
//
// It skips unless KRATOS_ADMIN_URL and KRATOS_PUBLIC_URL are set, and
// needs a real server configured like ../shared/kratos (the "default"
// schema, allowed return URL http://127.0.0.1:4455, recovery UI
// http://127.0.0.1:4455/recovery, the password and code methods enabled;
// the fake is configured the same way) that holds no identities: lists
// are compared whole. KRATOS_DIFF_SCENARIOS sets the number of generated
// scenarios (150), KRATOS_DIFF_VERBOSE=1 logs every exchange.
//
// What is normalised before comparing, and why (everything else must be
// equal):
//   - UUIDs: each side's are replaced by placeholders in order of first
//     appearance, so the same object has the same placeholder on both
//     sides. Identity ids are made equal outright: the fake's
//     WithIDGenerator hands out the ids the real server gave, so that
//     lists ordered by id come in the same order.
//   - Timestamps (RFC 3339 strings): the moment differs, so only the type
//     (a time, Go's zero time, or null) is compared.
//   - The servers' own base URLs (their ports differ), ports of client
//     addresses in session devices, page tokens in Link headers (opaque,
//     and they carry ids and times), recovery codes and tokens, session
//     tokens: random or per-server by nature.
//   - bcrypt hashes the servers make from plaintext passwords: the fake
//     hashes at cost 4, the real server at 8 (a test double has no reason to
//     be slow); imported hashes are compared verbatim.
//   - The run id in this test's emails and external ids.

// diffSeed is the differential test's seed (0: from the clock).
var diffSeed = func() int64 {
	if v := os.Getenv("KRATOS_DIFF_SEED"); v != "" {
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}()

// diffSide is one server under comparison.
type diffSide struct {
	name          string
	admin, public string
	hc            *http.Client
	ph            map[string]string // UUID -> placeholder
	vars          map[string]string // per-side values named by scenarios
}

// diffExchange is one recorded request and its answer.
type diffExchange struct {
	method, url string
	reqBody     []byte
	status      int
	header      http.Header
	body        []byte
}

// recordingTransport records every exchange of a client.
type recordingTransport struct {
	mu  sync.Mutex
	got []diffExchange
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	rt.mu.Lock()
	rt.got = append(rt.got, diffExchange{method: req.Method, url: req.URL.String(), reqBody: reqBody, status: resp.StatusCode, header: resp.Header.Clone(), body: b})
	rt.mu.Unlock()
	return resp, nil
}

// idFeed gives the fake the identity ids the real server gave.
type idFeed struct {
	mu    sync.Mutex
	queue []string
}

func (f *idFeed) push(ids ...string) {
	f.mu.Lock()
	f.queue = append(f.queue, ids...)
	f.mu.Unlock()
}

// drain empties the queue and returns how many ids were left in it.
func (f *idFeed) drain() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.queue)
	f.queue = nil
	return n
}

func (f *idFeed) next(kind string) string {
	if kind != kratostest.IDKindIdentity {
		return randomUUID()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) == 0 {
		return randomUUID()
	}
	id := f.queue[0]
	f.queue = f.queue[1:]
	return id
}

// createdIdentityIDs are the ids of identities an answer reports created.
func createdIdentityIDs(method, path string, status int, body []byte) []string {
	switch {
	case method == http.MethodPost && path == "/admin/identities" && status == http.StatusCreated:
		var i struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &i) == nil && i.ID != "" {
			return []string{i.ID}
		}
	case method == http.MethodPatch && path == "/admin/identities" && status == http.StatusOK:
		var r struct {
			Identities []struct {
				Identity string `json:"identity"`
			} `json:"identities"`
		}
		_ = json.Unmarshal(body, &r)
		var ids []string
		for _, it := range r.Identities {
			if it.Identity != "" {
				ids = append(ids, it.Identity)
			}
		}
		return ids
	}
	return nil
}

// differ holds a differential run.
type differ struct {
	t          *testing.T
	release    string // the real server's
	seed       int64
	rnd        *rand.Rand
	runID      string
	fake, real *diffSide
	feed       *idFeed
	diffs      []string
	steps      int
	emails     int            // emails made so far
	kinds      map[string]int // differences by kind, for the summary
	// bareNumber is set when a create body had a bare number as
	// metadata (see metadata).
	bareNumber bool
	// identityPH names the identity ids the real server gave (and the
	// fake was given): the same placeholder on both sides, whatever came
	// before. Other ids get placeholders per side and per scenario.
	identityPH map[string]string
}

func TestDifferential(t *testing.T) {
	admin, public := os.Getenv("KRATOS_ADMIN_URL"), os.Getenv("KRATOS_PUBLIC_URL")
	if admin == "" || public == "" {
		t.Skip("set KRATOS_ADMIN_URL and KRATOS_PUBLIC_URL (a fresh ../shared/kratos server) to compare the fake with a real Kratos")
	}
	if os.Getenv("ORY_API_KEY") != "" {
		t.Skip("the differential test compares with a self-hosted Kratos configured like ../shared/kratos, not Ory Network")
	}
	seed := diffSeed
	if seed == 0 {
		seed = time.Now().UnixNano() % 1_000_000_000
	}
	t.Logf("differential seed %d (rerun with KRATOS_DIFF_SEED=%d)", seed, seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("differential seed was %d: rerun with KRATOS_DIFF_SEED=%d go test ./kratostest -run TestDifferential", seed, seed)
		}
	})
	realSide := &diffSide{name: "real", admin: strings.TrimSuffix(admin, "/"), public: strings.TrimSuffix(public, "/"), hc: &http.Client{CheckRedirect: noRedirect}}
	// The real server must be empty: lists are compared whole.
	if n := countIdentities(t, realSide); n != 0 {
		t.Fatalf("the real server holds %d identities; the differential test needs an empty one (a fresh ../shared/kratos/start.sh)", n)
	}
	// The fake emulates the real server's release.
	release := realRelease(t, realSide.admin)
	t.Logf("real server: Kratos %s; the fake emulates it", release)
	feed := &idFeed{}
	srv := kratostest.NewServer(t,
		kratostest.WithVersion(release),
		kratostest.WithIDGenerator(feed.next),
		kratostest.WithRecoveryUIURL("http://127.0.0.1:4455/recovery"),
		kratostest.WithAllowedReturnURLs("http://127.0.0.1:4455"),
		// ../shared/kratos enables the password, code and link methods;
		// it counts OIDC links as first factors all the same (seen here:
		// a password without a hash can be deleted when an OIDC link and
		// the code credential remain), SAML links not.
		kratostest.WithEnabledMethods(client.CredentialsTypePassword, client.CredentialsTypeCode, client.CredentialsTypeOIDC),
	)
	fakeSide := &diffSide{name: "fake", admin: srv.URL, public: srv.PublicURL, hc: &http.Client{CheckRedirect: noRedirect}}
	for _, s := range []*diffSide{realSide, fakeSide} {
		s.ph, s.vars = map[string]string{}, map[string]string{}
	}
	d := &differ{t: t, release: release, identityPH: map[string]string{}, seed: seed, rnd: rand.New(rand.NewPCG(uint64(seed), 0x6b7261746f73)), fake: fakeSide, real: realSide, feed: feed}
	d.runID = fmt.Sprintf("%08x", d.rnd.Uint32())

	t.Run("contract-suite", func(t *testing.T) { d.contractSuite(t, srv) })
	t.Run("generated", func(t *testing.T) { d.generated(t) })
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func countIdentities(t *testing.T, s *diffSide) int {
	t.Helper()
	resp, err := s.hc.Get(s.admin + "/admin/identities?page_size=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ids []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&ids); err != nil {
		t.Fatalf("listing the real server's identities: %d %v", resp.StatusCode, err)
	}
	return len(ids)
}

// --- the contract suite, recorded on both sides ---

// contractSuite runs the contract suite against the real server, then
// against the fake (fed the real server's identity ids in creation order),
// and compares the two recordings exchange by exchange.
func (d *differ) contractSuite(t *testing.T, srv *kratostest.Server) {
	run := func(s *diffSide) []diffExchange {
		rec := &recordingTransport{}
		hc := &http.Client{Transport: rec}
		opts := []client.Option{client.WithHTTPClient(hc), client.WithPublicURL(s.public), client.WithoutRetries()}
		c, err := client.New(s.admin, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(s.name, func(t *testing.T) {
			runContract(t, c, target{
				name: s.name, rawClient: c, adminURL: s.admin, publicURL: s.public, schemaID: kratostest.DefaultSchemaID, runID: d.runID,
				newSession: func(t *testing.T, _, email, password string) string {
					return loginWithPassword(t, s.public, email, password)
				},
			})
		})
		return rec.got
	}
	realEx := run(d.real)
	for _, ex := range realEx {
		u := strings.TrimPrefix(ex.url, d.real.admin)
		path, _, _ := strings.Cut(u, "?")
		ids := createdIdentityIDs(ex.method, path, ex.status, ex.body)
		d.feed.push(ids...)
		d.nameIdentities(ids)
	}
	fakeEx := run(d.fake)
	srv.Reset()
	if n := d.feed.drain(); n > 0 {
		d.diff("contract suite", "the fake created %d identities fewer than the real server", n)
	}
	// The suite's run id differs per run: find each side's.
	runIDOf := func(ex []diffExchange) string {
		re := regexp.MustCompile(`kt-([0-9a-f]{8})-`)
		for _, e := range ex {
			if m := re.FindSubmatch(e.reqBody); m != nil {
				return string(m[1])
			}
		}
		return ""
	}
	rr, fr := runIDOf(realEx), runIDOf(fakeEx)
	n := min(len(realEx), len(fakeEx))
	for k := range n {
		f, r := fakeEx[k], realEx[k]
		fReq := d.normRequest(d.fake, f, fr)
		rReq := d.normRequest(d.real, r, rr)
		if fReq != rReq {
			d.diff(fmt.Sprintf("contract exchange %d", k), "the sequences diverge: fake sent %s, real %s", fReq, rReq)
			break
		}
		d.compare(fmt.Sprintf("contract exchange %d: %s", k, rReq), f.status, f.header, f.body, fr, r.status, r.header, r.body, rr)
	}
	if len(realEx) != len(fakeEx) {
		d.diff("contract suite", "%d exchanges on the fake, %d on the real server", len(fakeEx), len(realEx))
	}
	d.report(t)
}

func (d *differ) nameIdentities(ids []string) {
	for _, id := range ids {
		id = strings.ToLower(id)
		if _, ok := d.identityPH[id]; !ok {
			d.identityPH[id] = fmt.Sprintf("<identity%d>", len(d.identityPH)+1)
		}
	}
}

func (d *differ) normRequest(s *diffSide, e diffExchange, runID string) string {
	u := strings.TrimPrefix(strings.TrimPrefix(e.url, s.admin), s.public)
	return e.method + " " + d.normString(s, u, runID) + " " + d.normString(s, string(e.reqBody), runID)
}

// --- comparison ---

var (
	uuidRe      = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	timeRe      = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`)
	pageTokenRe = regexp.MustCompile(`page_token=[^&>;"\s]+`)
	recTokenRe  = regexp.MustCompile(`token=[^&>;"\s]+`)
	madeHashRe  = regexp.MustCompile(`^\$2a\$(04|08)\$[./A-Za-z0-9]{53}$`)
	ipPortRe    = regexp.MustCompile(`^(127\.0\.0\.1|\[::1\]):\d+$`)
)

func (d *differ) placeholder(s *diffSide, id string) string {
	id = strings.ToLower(id)
	if p, ok := d.identityPH[id]; ok {
		return p
	}
	p, ok := s.ph[id]
	if !ok {
		p = fmt.Sprintf("<uuid%d>", len(s.ph)+1)
		s.ph[id] = p
	}
	return p
}

// normString normalises a string value or a URL (see the list at the top).
func (d *differ) normString(s *diffSide, v, runID string) string {
	v = strings.ReplaceAll(v, s.admin, "<admin>")
	v = strings.ReplaceAll(v, s.public, "<public>")
	if runID != "" {
		v = regexp.MustCompile(`(?i)`+runID).ReplaceAllString(v, "RUN")
	}
	v = pageTokenRe.ReplaceAllString(v, "page_token=<token>")
	v = recTokenRe.ReplaceAllStringFunc(v, func(m string) string {
		if strings.HasPrefix(m, "token=<") {
			return m
		}
		return "token=<token>"
	})
	v = uuidRe.ReplaceAllStringFunc(v, func(id string) string { return d.placeholder(s, id) })
	switch {
	case strings.HasPrefix(v, "0001-01-01T00:00:00"):
		return "<zero time>"
	case timeRe.MatchString(v):
		return "<time>"
	case madeHashRe.MatchString(v):
		return "<bcrypt hash made by the server>"
	case ipPortRe.MatchString(v):
		return "<loopback:port>"
	}
	return v
}

// normJSON normalises a decoded JSON value.
func (d *differ) normJSON(s *diffSide, v any, key, runID string) any {
	switch x := v.(type) {
	case map[string]any:
		// Keys in order, so that placeholders are given in the same order
		// on both sides.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string]any, len(x))
		for _, k := range keys {
			out[k] = d.normJSON(s, x[k], k, runID)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for k, e := range x {
			out[k] = d.normJSON(s, e, key, runID)
		}
		return out
	case string:
		switch key {
		case "recovery_code", "session_token":
			return "<" + key + ">"
		}
		return d.normString(s, x, runID)
	}
	return v
}

// linkShape is a Link header reduced to its links' rel and query keys and
// values, tokens normalised.
func (d *differ) linkShape(s *diffSide, h, runID string) string {
	if h == "" {
		return ""
	}
	var parts []string
	for _, l := range strings.Split(h, ",") {
		parts = append(parts, d.normString(s, strings.TrimSpace(l), runID))
	}
	return strings.Join(parts, ",")
}

func (d *differ) diff(where, format string, args ...any) {
	detail := fmt.Sprintf(format, args...)
	d.diffs = append(d.diffs, where+": "+detail)
	// The kind: a body path, "status", "header X", ...
	kind, _, _ := strings.Cut(detail, ": ")
	kind = regexp.MustCompile(`/\d+(/|$)`).ReplaceAllString(kind, "/N$1")
	if d.kinds == nil {
		d.kinds = map[string]int{}
	}
	d.kinds[kind]++
}

// compare compares one answer of each side.
func (d *differ) compare(where string, fs int, fh http.Header, fb []byte, frun string, rs int, rh http.Header, rb []byte, rrun string) {
	d.steps++
	if fs != rs {
		d.diff(where, "status: fake %d, real %d\n    fake: %s\n    real: %s", fs, rs, clip(fb), clip(rb))
		return
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "Vary", "X-Total-Count", "Ory-Error-Id"} {
		fv, fok := fh[h]
		rv, rok := rh[h]
		if fok != rok || !slices.Equal(fv, rv) {
			d.diff(where, "header %s: fake %q, real %q", h, fv, rv)
		}
	}
	if f, r := d.normString(d.fake, fh.Get("Location"), frun), d.normString(d.real, rh.Get("Location"), rrun); f != r {
		d.diff(where, "header Location: fake %q, real %q", f, r)
	}
	if f, r := d.linkShape(d.fake, fh.Get("Link"), frun), d.linkShape(d.real, rh.Get("Link"), rrun); f != r {
		d.diff(where, "header Link: fake %q, real %q", f, r)
	}
	if len(fb) == 0 || len(rb) == 0 {
		if len(bytes.TrimSpace(fb)) != len(bytes.TrimSpace(rb)) {
			d.diff(where, "body: fake %q, real %q", clip(fb), clip(rb))
		}
		return
	}
	var fv, rv any
	fErr, rErr := json.Unmarshal(fb, &fv), json.Unmarshal(rb, &rv)
	if fErr != nil || rErr != nil {
		if d.normString(d.fake, string(fb), frun) != d.normString(d.real, string(rb), rrun) {
			d.diff(where, "non-JSON body: fake %q, real %q", clip(fb), clip(rb))
		}
		return
	}
	fn, rn := d.normJSON(d.fake, fv, "", frun), d.normJSON(d.real, rv, "", rrun)
	var out []string
	compareJSON("", fn, rn, &out)
	for k, o := range out {
		if k == 8 {
			d.diff(where, "... and %d more differences in this body", len(out)-k)
			break
		}
		d.diff(where, "%s", o)
	}
}

// diffVerbose (KRATOS_DIFF_VERBOSE=1) shows requests and bodies whole.
var diffVerbose = os.Getenv("KRATOS_DIFF_VERBOSE") != ""

func clip(b []byte) string {
	if len(b) > 400 && !diffVerbose {
		return string(b[:400]) + "..."
	}
	return string(b)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// compareJSON lists the differences between f (fake) and r (real).
func compareJSON(path string, f, r any, out *[]string) {
	if jsonType(f) != jsonType(r) {
		*out = append(*out, fmt.Sprintf("%s: fake has %s %s, real %s %s", orRoot(path), jsonType(f), shortJSON(f), jsonType(r), shortJSON(r)))
		return
	}
	switch fx := f.(type) {
	case map[string]any:
		rx := r.(map[string]any)
		keys := map[string]bool{}
		for k := range fx {
			keys[k] = true
		}
		for k := range rx {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			fe, fok := fx[k]
			re, rok := rx[k]
			switch {
			case !rok:
				*out = append(*out, fmt.Sprintf("%s/%s: only the fake has it (%s)", path, k, shortJSON(fe)))
			case !fok:
				*out = append(*out, fmt.Sprintf("%s/%s: only the real server has it (%s)", path, k, shortJSON(re)))
			default:
				compareJSON(path+"/"+k, fe, re, out)
			}
		}
	case []any:
		rx := r.([]any)
		if len(fx) != len(rx) {
			*out = append(*out, fmt.Sprintf("%s: fake has %d elements, real %d (fake %s, real %s)", orRoot(path), len(fx), len(rx), shortJSON(f), shortJSON(r)))
			return
		}
		for k := range fx {
			compareJSON(fmt.Sprintf("%s/%d", path, k), fx[k], rx[k], out)
		}
	default:
		if f != r {
			*out = append(*out, fmt.Sprintf("%s: fake %s, real %s", orRoot(path), shortJSON(f), shortJSON(r)))
		}
	}
}

func orRoot(p string) string {
	if p == "" {
		return "(body)"
	}
	return p
}

func shortJSON(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// report fails the test with the differences found so far.
func (d *differ) report(t *testing.T) {
	t.Helper()
	t.Logf("%d answers compared", d.steps)
	if len(d.diffs) == 0 {
		return
	}
	const maxShown = 150
	for k, s := range d.diffs {
		if k == maxShown {
			t.Errorf("... and %d more differences", len(d.diffs)-maxShown)
			break
		}
		t.Errorf("difference: %s", s)
	}
	kinds := make([]string, 0, len(d.kinds))
	for k := range d.kinds {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(a, b int) bool {
		return d.kinds[kinds[a]] > d.kinds[kinds[b]] || d.kinds[kinds[a]] == d.kinds[kinds[b]] && kinds[a] < kinds[b]
	})
	var sum strings.Builder
	for _, k := range kinds {
		fmt.Fprintf(&sum, "\n  %4d  %s", d.kinds[k], k)
	}
	t.Errorf("%d differences between the fake and the real server (seed %d), by kind:%s", len(d.diffs), d.seed, sum.String())
	d.diffs, d.kinds = nil, nil
	d.steps = 0
}

// --- generated variations ---

// answer is one side's answer to a step.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a *answer) json() any {
	var v any
	_ = json.Unmarshal(a.body, &v)
	return v
}

// field returns a string field of a JSON object answer ("" if none).
func (a *answer) field(name string) string {
	m, _ := a.json().(map[string]any)
	s, _ := m[name].(string)
	return s
}

// expand replaces {name} by the side's value of name.
func (s *diffSide) expand(tmpl string) string {
	for k, v := range s.vars {
		tmpl = strings.ReplaceAll(tmpl, "{"+k+"}", v)
	}
	return tmpl
}

func (d *differ) send(s *diffSide, method, path, body string, public bool) *answer {
	return d.sendCT(s, method, path, body, public, "application/json")
}

func (d *differ) sendCT(s *diffSide, method, path, body string, public bool, contentType string) *answer {
	d.t.Helper()
	base := s.admin
	if public {
		base = s.public
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(s.expand(body))
	}
	req, err := http.NewRequestWithContext(d.t.Context(), method, base+s.expand(path), rd)
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s on the %s server: %v", method, path, s.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatalf("%s %s on the %s server: %v", method, path, s.name, err)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// step sends the request to the real server, then to the fake (with the
// identity ids the real one gave), and compares the answers. path and
// body may name per-side values as {name}.
func (d *differ) step(where, method, path, body string) (f, r *answer) {
	return d.stepOn(where, method, path, body, false)
}

// stepHeader is step with another Content-Type.
func (d *differ) stepHeader(where, method, path, body, contentType string) (f, r *answer) {
	d.t.Helper()
	return d.stepFull(where, method, path, body, false, contentType)
}

func (d *differ) stepOn(where, method, path, body string, public bool) (f, r *answer) {
	d.t.Helper()
	return d.stepFull(where, method, path, body, public, "application/json")
}

func (d *differ) stepFull(where, method, path, body string, public bool, contentType string) (f, r *answer) {
	d.t.Helper()
	r = d.sendCT(d.real, method, path, body, public, contentType)
	p, _, _ := strings.Cut(path, "?")
	ids := createdIdentityIDs(method, p, r.status, r.body)
	d.feed.push(ids...)
	d.nameIdentities(ids)
	f = d.sendCT(d.fake, method, path, body, public, contentType)
	if diffVerbose {
		d.t.Logf("%s: %s %s %s\n  fake %d %s\n  real %d %s", where, method, d.real.expand(path), d.real.expand(body), f.status, f.body, r.status, r.body)
	}
	if n := d.feed.drain(); n > 0 {
		d.diff(where, "the fake created %d identities fewer than the real server", n)
	}
	d.compare(fmt.Sprintf("%s: %s %s %s", where, method, path, clip([]byte(body))), f.status, f.header, f.body, d.runID, r.status, r.header, r.body, d.runID)
	return f, r
}

// bind names a value of each side's answer for later steps.
func (d *differ) bind(name string, f, r *answer, get func(*answer) string) {
	d.fake.vars[name], d.real.vars[name] = get(f), get(r)
}

func (d *differ) pick(options ...string) string { return options[d.rnd.IntN(len(options))] }

func (d *differ) chance(p float64) bool { return d.rnd.Float64() < p }

func (d *differ) email() string {
	d.emails++
	e := fmt.Sprintf("g-%s-%d@example.org", d.runID, d.emails)
	switch d.rnd.IntN(4) {
	case 0:
		e = strings.ToUpper(e[:1]) + e[1:]
	case 1:
		e = strings.Replace(e, "example.org", "Example.ORG", 1)
	}
	return e
}

// randString is a string with unicode, escapes or nothing in it.
func (d *differ) randString() string {
	return d.pick("", "x", "Ada Lovelace", "Zoë Ωmega 日本", "tab\there", `quote"back\slash`, "emoji 🙂", "<b>html</b> & co", strings.Repeat("long", 40))
}

// randJSON is a JSON value of any type, nested up to depth.
func (d *differ) randJSON(depth int) string {
	n := 7
	if depth <= 0 {
		n = 5
	}
	switch d.rnd.IntN(n) {
	case 0:
		return "null"
	case 1:
		return d.pick("true", "false")
	case 2:
		return d.pick("0", "-1", "42", "3.25", "1e3", "-0.5", "9007199254740993", "123456789012")
	case 3, 4:
		b, _ := json.Marshal(d.randString())
		return string(b)
	case 5:
		var els []string
		for range d.rnd.IntN(4) {
			els = append(els, d.randJSON(depth-1))
		}
		return "[" + strings.Join(els, ",") + "]"
	default:
		var els []string
		for k := range d.rnd.IntN(4) {
			els = append(els, fmt.Sprintf(`"k%d":%s`, k, d.randJSON(depth-1)))
		}
		return "{" + strings.Join(els, ",") + "}"
	}
}

// metadata is a metadata member: absent, null or any JSON value.
//
// A bare number as metadata is sent, but the identity is not read back
// afterwards (bareNumber is set): Kratos on SQLite, the test server,
// stores it and then fails every read of that identity with a 500 ("sql:
// Scan error on column index 4, name \"metadata_admin\": cannot scan
// float64 into JSONRawMessage"), a bug of that storage backend, not
// behaviour of the API to reproduce.
func (d *differ) metadata(name string) string {
	switch d.rnd.IntN(5) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(`,%q:null`, name)
	default:
		v := d.randJSON(2)
		if isBareNumber(v) {
			d.bareNumber = true
		}
		return fmt.Sprintf(`,%q:%s`, name, v)
	}
}

func isBareNumber(v string) bool {
	_, err := strconv.ParseFloat(v, 64)
	return err == nil
}

// metadataValue is a value for a metadata patch: any JSON value but a bare
// number (see metadata).
func (d *differ) metadataValue() string {
	for {
		if v := d.randJSON(2); !isBareNumber(v) {
			return v
		}
	}
}

// traits returns traits for email; invalid now and then.
func (d *differ) traits(email string) string {
	e, _ := json.Marshal(email)
	switch d.rnd.IntN(12) {
	case 0:
		return `{"email":"not-an-email"}`
	case 1:
		return `{"name":{"first":"x"}}`
	case 2:
		return fmt.Sprintf(`{"email":%s,"nickname":"x"}`, e)
	case 3:
		return fmt.Sprintf(`{"email":%s,"name":{"first":7}}`, e)
	case 4, 5, 6:
		f, _ := json.Marshal(d.randString())
		l, _ := json.Marshal(d.randString())
		return fmt.Sprintf(`{"email":%s,"name":{"first":%s,"last":%s}}`, e, f, l)
	case 7:
		return fmt.Sprintf(`{"email":%s,"name":null}`, e)
	default:
		return fmt.Sprintf(`{"email":%s}`, e)
	}
}

// importedHash is a bcrypt hash (cost 5: not one the servers make) of
// diffPassword.
var importedHash = "$2a$05$Mrtd1.OBMaS2hxJvUDlJ7OkaJNYCWdbZoMYu/Y0Ml3NuAmqVQRxFW"

const diffPassword = "correct-horse-battery-staple-42"

// credentials is a credentials member with random imports, or "".
func (d *differ) credentials(email string) string {
	if d.chance(0.35) {
		return ""
	}
	var parts []string
	if d.chance(0.6) {
		switch d.rnd.IntN(6) {
		case 0, 1:
			parts = append(parts, fmt.Sprintf(`"password":{"config":{"password":%q}}`, diffPassword))
		case 2:
			parts = append(parts, fmt.Sprintf(`"password":{"config":{"hashed_password":%q}}`, importedHash))
		case 3:
			parts = append(parts, `"password":{"config":{"hashed_password":"$argon2id$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcA"}}`)
		case 4:
			parts = append(parts, `"password":{"config":{"hashed_password":"not-a-hash"}}`)
		default:
			parts = append(parts, `"password":{"config":{"use_password_migration_hook":true}}`)
		}
	}
	if d.chance(0.3) {
		parts = append(parts, fmt.Sprintf(`"oidc":{"config":{"providers":[{"provider":%q,"subject":"sub-%d"%s}]}}`, d.pick("google", "github"), d.rnd.IntN(1000000),
			d.pick("", "", `,"use_auto_link":true`, `,"organization":null`, `,"organization":"9f7b2c3e-1111-4222-8333-444455556666"`)))
	}
	if d.chance(0.2) {
		parts = append(parts, fmt.Sprintf(`"saml":{"config":{"providers":[{"provider":"okta","subject":"saml-%d"%s}]}}`, d.rnd.IntN(1000000),
			d.pick("", "", `,"organization":"9f7b2c3e-1111-4222-8333-444455556666"`)))
	}
	// Kratos v26.2.0 refuses the other types in a create body (unknown
	// field); they are sent now and then to see that.
	if d.chance(0.05) {
		parts = append(parts, `"totp":{"config":{"totp_url":"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example"}}`)
	}
	if d.chance(0.05) {
		parts = append(parts, `"lookup_secret":{"config":{"codes":[{"code":"abcd1234"},{"code":"efgh5678","used_at":"2026-01-01T00:00:00Z"}]}}`)
	}
	if d.chance(0.05) {
		parts = append(parts, fmt.Sprintf(`"webauthn":{"config":{"credentials":[{"id":"Y3JlZC0%d","is_passwordless":%v,"display_name":"key"}],"user_handle":"dXNlcg"}}`, d.rnd.IntN(1000), d.chance(0.5)))
	}
	if d.chance(0.03) {
		parts = append(parts, d.pick(`"code":{"config":{}}`, `"passkey":{"config":{"credentials":[{"id":"cGsx","display_name":"k"}],"user_handle":"dXNlcg"}}`))
	}
	if len(parts) == 0 {
		return ""
	}
	return `,"credentials":{` + strings.Join(parts, ",") + `}`
}

// createBody is a random create body for email.
func (d *differ) createBody(email string) string {
	var b strings.Builder
	b.WriteString("{")
	if d.chance(0.85) {
		b.WriteString(`"schema_id":"default",`)
	}
	fmt.Fprintf(&b, `"traits":%s`, d.traits(email))
	b.WriteString(d.metadata("metadata_public"))
	b.WriteString(d.metadata("metadata_admin"))
	switch d.rnd.IntN(8) {
	case 0:
		b.WriteString(`,"state":"inactive"`)
	case 1:
		b.WriteString(`,"state":"active"`)
	case 2:
		b.WriteString(`,"state":"sleeping"`)
	}
	switch d.rnd.IntN(6) {
	case 0:
		fmt.Fprintf(&b, `,"external_id":"ext-%s-%d"`, d.runID, d.emails)
	case 1:
		fmt.Fprintf(&b, `,"external_id":"ext/%s/%d with space"`, d.runID, d.emails)
	case 2:
		b.WriteString(`,"external_id":""`)
	}
	if d.chance(0.1) {
		addr, _ := json.Marshal(strings.ToLower(email))
		fmt.Fprintf(&b, `,"verifiable_addresses":[{"value":%s,"via":"email","verified":%v,"status":%q}]`, addr, d.chance(0.5), d.pick("completed", "pending"))
	}
	if d.chance(0.05) {
		b.WriteString(`,"organization_id":null`)
	}
	b.WriteString(d.credentials(email))
	b.WriteString("}")
	return b.String()
}

// create creates an identity on both sides; it returns the variable
// naming it ("" when the real server refused it).
func (d *differ) create(where, body string) string {
	f, r := d.step(where, http.MethodPost, "/admin/identities", body)
	if r.status != http.StatusCreated || f.status != http.StatusCreated {
		return ""
	}
	name := fmt.Sprintf("id%d", len(d.real.vars))
	d.bind(name, f, r, func(a *answer) string { return a.field("id") })
	return name
}

func (d *differ) deleteIdentity(where, v string) {
	d.step(where+" cleanup", http.MethodDelete, "/admin/identities/{"+v+"}", "")
}

var credentialTypes = []string{"password", "oidc", "saml", "totp", "lookup_secret", "webauthn", "passkey", "code"}

func (d *differ) includeCredential() string {
	var q []string
	for _, t := range credentialTypes {
		if d.chance(0.25) {
			q = append(q, "include_credential="+t)
		}
	}
	return strings.Join(q, "&")
}

// generated runs random scenarios until the budget is spent.
func (d *differ) generated(t *testing.T) {
	d.t = t
	scenarios := []struct {
		name   string
		weight int
		run    func(where string)
	}{
		{"identity-lifecycle", 6, d.identityLifecycle},
		{"page-walk", 3, d.pageWalk},
		{"batch", 3, d.batch},
		{"sessions", 2, d.sessions},
		{"recovery", 2, d.recovery},
		{"credential-deletion", 2, d.credentialDeletion},
		{"schemas", 1, d.schemasScenario},
		{"list-parameters", 2, d.listParameters},
		{"session-walk", 1, d.sessionWalk},
		{"odd-requests", 2, d.oddRequests},
	}
	total := 0
	for _, s := range scenarios {
		total += s.weight
	}
	n := 150
	if v, err := strconv.Atoi(os.Getenv("KRATOS_DIFF_SCENARIOS")); err == nil && v > 0 {
		n = v
	}
	start := time.Now()
	for k := range n {
		if time.Since(start) > 90*time.Second {
			t.Logf("stopping after %d scenarios: time budget spent", k)
			break
		}
		w := d.rnd.IntN(total)
		for _, s := range scenarios {
			if w < s.weight {
				for _, side := range []*diffSide{d.fake, d.real} {
					side.ph = map[string]string{}
				}
				s.run(fmt.Sprintf("scenario %d (%s)", k, s.name))
				break
			}
			w -= s.weight
		}
		// Identities one side created and the other did not (reported
		// where they were created) must not spill into the next
		// scenario's lists.
		d.deleteAll(d.fake)
		d.deleteAll(d.real)
	}
	t.Logf("%d scenarios in %s", n, time.Since(start).Round(time.Millisecond))
	d.report(t)
}

func (d *differ) identityLifecycle(where string) {
	email := d.email()
	d.bareNumber = false
	v := d.create(where+" create", d.createBody(email))
	if v == "" {
		return
	}
	defer d.deleteIdentity(where, v)
	if d.bareNumber {
		return // not readable on the SQLite test server (see metadata)
	}
	q := d.includeCredential()
	d.step(where+" get", http.MethodGet, "/admin/identities/{"+v+"}?"+q, "")
	for range 1 + d.rnd.IntN(3) {
		switch d.rnd.IntN(5) {
		case 0: // update, sometimes without schema_id (the server keeps it)
			d.bareNumber = false
			body := d.createBody(email)
			if d.chance(0.3) {
				body = strings.Replace(body, `"schema_id":"default",`, "", 1)
			}
			d.step(where+" update", http.MethodPut, "/admin/identities/{"+v+"}", body)
			if d.bareNumber {
				return // not readable on the SQLite test server (see metadata)
			}
		case 1, 2: // patch
			d.step(where+" patch", http.MethodPatch, "/admin/identities/{"+v+"}", d.patchOps())
		case 3: // filters
			id := d.real.vars[v]
			d.step(where+" list ids", http.MethodGet, "/admin/identities?ids="+id+"&page_size="+strconv.Itoa(1+d.rnd.IntN(3)), "")
			d.step(where+" list identifier", http.MethodGet, "/admin/identities?credentials_identifier="+strings.ToLower(email)+"&"+d.includeCredential(), "")
		default:
			d.step(where+" get", http.MethodGet, "/admin/identities/{"+v+"}?"+d.includeCredential(), "")
		}
	}
	d.step(where+" get after", http.MethodGet, "/admin/identities/{"+v+"}", "")
}

// deleteAll deletes every identity of a side, without comparing.
func (d *differ) deleteAll(s *diffSide) {
	d.t.Helper()
	a := d.send(s, http.MethodGet, "/admin/identities?page_size=1000", "", false)
	var ids []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a.body, &ids); err != nil {
		d.t.Fatalf("listing the %s server's identities: %d %v", s.name, a.status, err)
	}
	for _, i := range ids {
		d.send(s, http.MethodDelete, "/admin/identities/"+i.ID, "", false)
	}
}

// patchOps is a random JSON Patch document.
func (d *differ) patchOps() string {
	var ops []string
	for range 1 + d.rnd.IntN(3) {
		switch d.rnd.IntN(11) {
		case 0:
			ops = append(ops, fmt.Sprintf(`{"op":"add","path":"/metadata_public","value":%s}`, d.metadataValue()))
		case 9: // json-patch's corners: no leading slash, "-", padding, "" tokens, a null document
			ops = append(ops, d.pick(
				`{"op":"replace","path":"5","value":1}`,
				`{"op":"replace","path":"-","value":1}`,
				`{"op":"remove","path":""}`,
				`{"op":"add","path":"/metadata_public/a/2/b","value":1}`,
				`{"op":"add","path":"/metadata_public/a/-/b","value":1}`,
				`{"op":"add","path":"/traits/email/0","value":1}`,
				`{"op":"add","path":"//x","value":1}`,
				`{"op":"replace","path":"","value":null}`))
		case 1:
			ops = append(ops, fmt.Sprintf(`{"op":"replace","path":"/metadata_admin","value":%s}`, d.metadataValue()))
		case 2:
			ops = append(ops, `{"op":"remove","path":"/metadata_public"}`)
		case 3:
			ops = append(ops, fmt.Sprintf(`{"op":"replace","path":"/state","value":%q}`, d.pick("active", "inactive", "sleeping")))
		case 4:
			f, _ := json.Marshal(d.randString())
			ops = append(ops, fmt.Sprintf(`{"op":"add","path":"/traits/name","value":{"first":%s}}`, f))
		case 5:
			ops = append(ops, fmt.Sprintf(`{"op":"replace","path":"/verifiable_addresses/0/verified","value":%v}`, d.chance(0.5)))
		case 6:
			ops = append(ops, fmt.Sprintf(`{"op":"add","path":"/external_id","value":"ext-%s-p%d"}`, d.runID, d.rnd.IntN(1000)))
		case 7:
			ops = append(ops, `{"op":"replace","path":"/metadata_public","value":null}`)
		case 8:
			ops = append(ops, fmt.Sprintf(`{"op":"replace","path":"%s","value":"x"}`, d.pick("/id", "/schema_id", "/credentials", "/created_at", "/nope")))
		default: // writes below /credentials
			ops = append(ops, d.pick(
				`{"op":"add","path":"/credentials/password/config","value":{"hashed_password":"`+importedHash+`"}}`,
				`{"op":"replace","path":"/credentials/password/identifiers","value":["patched@example.org"]}`,
				`{"op":"remove","path":"/credentials/code"}`,
				`{"op":"add","path":"/credentials/oidc/config","value":{"providers":[]}}`))
		}
	}
	return "[" + strings.Join(ops, ",") + "]"
}

// pageWalk creates a few identities and walks the list with a random page
// size, each side following its own Link next.
func (d *differ) pageWalk(where string) {
	k := 1 + d.rnd.IntN(6)
	var vs []string
	for range k {
		if v := d.create(where+" create", fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q}}`, d.email())); v != "" {
			vs = append(vs, v)
		}
	}
	defer func() {
		for _, v := range vs {
			d.deleteIdentity(where, v)
		}
	}()
	size := 1 + d.rnd.IntN(k+1)
	extra := d.pick("", "&"+d.includeCredential())
	d.fake.vars["next"], d.real.vars["next"] = fmt.Sprintf("/admin/identities?page_size=%d%s", size, extra), fmt.Sprintf("/admin/identities?page_size=%d%s", size, extra)
	for page := 0; page < k+3; page++ {
		f, r := d.step(fmt.Sprintf("%s page %d (size %d)", where, page, size), http.MethodGet, "{next}", "")
		fn, rn := nextLink(f.header.Get("Link")), nextLink(r.header.Get("Link"))
		if fn == "" || rn == "" || string(f.body) == "[]" || string(r.body) == "[]\n" || string(r.body) == "[]" {
			break
		}
		d.fake.vars["next"], d.real.vars["next"] = fn, rn
	}
	// The deprecated page/per_page mode.
	per := 1 + d.rnd.IntN(k+1)
	for page := 0; page <= k/per+1; page++ {
		d.step(where+" legacy page", http.MethodGet, fmt.Sprintf("/admin/identities?page=%d&per_page=%d", page, per), "")
	}
}

// nextLink returns the path and query of a Link header's rel="next".
func nextLink(h string) string {
	for _, l := range strings.Split(h, ",") {
		l = strings.TrimSpace(l)
		if strings.Contains(l, `rel="next"`) {
			u := l[strings.Index(l, "<")+1 : strings.Index(l, ">")]
			if i := strings.Index(u, "/admin/"); i >= 0 {
				return u[i:]
			}
			if i := strings.Index(u, "/schemas"); i >= 0 {
				return u[i:]
			}
			return u
		}
	}
	return ""
}

func (d *differ) batch(where string) {
	taken := d.email()
	tv := d.create(where+" create taken", fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q}}`, taken))
	var items []string
	for k := range 1 + d.rnd.IntN(6) {
		var body string
		switch d.rnd.IntN(6) {
		case 0:
			body = fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q}}`, taken)
		case 1:
			body = `{"schema_id":"default","traits":{"email":"not-an-email"}}`
		default:
			body = d.createBody(d.email())
		}
		patchID := ""
		if d.chance(0.6) {
			patchID = fmt.Sprintf(`"patch_id":"11111111-aaaa-4bbb-8ccc-%s%04d",`, d.runID, k)
		}
		items = append(items, fmt.Sprintf(`{%s"create":%s}`, patchID, body))
	}
	_, r := d.step(where+" batch", http.MethodPatch, "/admin/identities", `{"identities":[`+strings.Join(items, ",")+`]}`)
	// Identity ids are the same on both sides.
	for _, id := range createdIdentityIDs(http.MethodPatch, "/admin/identities", r.status, r.body) {
		d.step(where+" cleanup", http.MethodDelete, "/admin/identities/"+id, "")
	}
	if tv != "" {
		d.deleteIdentity(where, tv)
	}
}

// login signs in on both sides through the public login API.
func (d *differ) login(where, email, password string) (f, r *answer) {
	f, r = d.stepOn(where+" login flow", http.MethodGet, "/self-service/login/api", "", true)
	d.bind("flow", f, r, func(a *answer) string { return a.field("id") })
	body, _ := json.Marshal(map[string]string{"method": "password", "identifier": email, "password": password})
	return d.stepOn(where+" login", http.MethodPost, "/self-service/login?flow={flow}", string(body), true)
}

func (d *differ) sessions(where string) {
	email := d.email()
	v := d.create(where+" create", fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q},"credentials":{"password":{"config":{"password":%q}}}}`, email, diffPassword))
	if v == "" {
		return
	}
	defer d.deleteIdentity(where, v)
	n := 1 + d.rnd.IntN(3)
	var sv []string
	for k := range n {
		f, r := d.login(where, email, diffPassword)
		name := fmt.Sprintf("sess%d", k)
		d.bind(name, f, r, func(a *answer) string {
			m, _ := a.json().(map[string]any)
			s, _ := m["session"].(map[string]any)
			id, _ := s["id"].(string)
			return id
		})
		sv = append(sv, name)
	}
	if d.chance(0.3) {
		d.login(where+" wrong password", email, "wrong-password")
	}
	size := 1 + d.rnd.IntN(n+1)
	d.step(where+" identity sessions", http.MethodGet, fmt.Sprintf("/admin/identities/{%s}/sessions?page_size=%d", v, size), "")
	d.step(where+" sessions", http.MethodGet, fmt.Sprintf("/admin/sessions?page_size=%d&%s", size,
		d.pick("", "active=true", "active=false", "expand=identity", "expand=devices", "expand=identity&expand=devices")), "")
	s := sv[d.rnd.IntN(len(sv))]
	d.step(where+" get", http.MethodGet, "/admin/sessions/{"+s+"}?"+d.pick("", "expand=identity", "expand=devices", "expand=identity&expand=devices"), "")
	if d.chance(0.5) {
		d.step(where+" extend", http.MethodPatch, "/admin/sessions/{"+s+"}/extend", "")
	}
	d.step(where+" disable", http.MethodDelete, "/admin/sessions/{"+s+"}", "")
	d.step(where+" inactive", http.MethodGet, fmt.Sprintf("/admin/identities/{%s}/sessions?active=false", v), "")
	d.step(where+" get disabled", http.MethodGet, "/admin/sessions/{"+s+"}", "")
	d.step(where+" delete sessions", http.MethodDelete, "/admin/identities/{"+v+"}/sessions", "")
	d.step(where+" delete sessions again", http.MethodDelete, "/admin/identities/{"+v+"}/sessions", "")
}

func (d *differ) recovery(where string) {
	v := d.create(where+" create", fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q}}`, d.email()))
	if v == "" {
		return
	}
	defer d.deleteIdentity(where, v)
	exp := d.pick("", `,"expires_in":"15m"`, `,"expires_in":"1h"`, `,"expires_in":"2h30m"`, `,"expires_in":"abc"`, `,"expires_in":"-1m"`)
	d.step(where+" code", http.MethodPost, "/admin/recovery/code", `{"identity_id":"{`+v+`}"`+exp+`}`)
	rt := d.pick("", "?return_to=http://127.0.0.1:4455/after", "?return_to=https://evil.example/")
	d.step(where+" link", http.MethodPost, "/admin/recovery/link"+rt, `{"identity_id":"{`+v+`}"`+exp+`}`)
	d.step(where+" code unknown", http.MethodPost, "/admin/recovery/code", `{"identity_id":"9f7b2c3e-1111-4222-8333-444455556666"}`)
}

func (d *differ) credentialDeletion(where string) {
	email := d.email()
	body := fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q}%s}`, email, d.credentials(email))
	v := d.create(where+" create", body)
	if v == "" {
		return
	}
	defer d.deleteIdentity(where, v)
	for range 1 + d.rnd.IntN(2) {
		typ := d.pick(append(credentialTypes, "unknown")...)
		q := ""
		if typ == "oidc" || typ == "saml" {
			q = "?identifier=" + d.pick("google:sub-1", "okta:saml-1", "nope")
		}
		d.step(where+" delete "+typ, http.MethodDelete, "/admin/identities/{"+v+"}/credentials/"+typ+q, "")
		d.step(where+" get", http.MethodGet, "/admin/identities/{"+v+"}?include_credential=password&include_credential=oidc", "")
	}
}

func (d *differ) schemasScenario(where string) {
	d.stepOn(where+" list", http.MethodGet, fmt.Sprintf("/schemas?page_size=%d", 1+d.rnd.IntN(3)), "", true)
	d.stepOn(where+" get", http.MethodGet, "/schemas/"+d.pick("default", "ZGVmYXVsdA", "unknown"), "", true)
	d.step(where+" admin redirect", http.MethodGet, d.pick("/schemas", "/admin/schemas", "/schemas/default"), "")
}

// listParameters sends list parameters with edge values.
func (d *differ) listParameters(where string) {
	var vs []string
	for range 1 + d.rnd.IntN(3) {
		email := d.email()
		if v := d.create(where+" create", fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q},"external_id":"x-%s-%d"}`, email, d.runID, d.emails)); v != "" {
			vs = append(vs, v)
		}
	}
	defer func() {
		for _, v := range vs {
			d.deleteIdentity(where, v)
		}
	}()
	q := d.pick("page_size=0", "page_size=-1", "page_size=1001", "page_size=abc", "page_size=1&page_token=", "page_token=00000000-0000-0000-0000-000000000000",
		"per_page=0", "page=-1&per_page=2", "page=abc", "ids=not-a-uuid", "ids=9f7b2c3e-1111-4222-8333-444455556666",
		"credentials_identifier=", "credentials_identifier=NOBODY@example.org", "preview_credentials_identifier_similar=g-", "organization_id=9f7b2c3e-1111-4222-8333-444455556666",
		"organization_id=nope", "consistency=strong", "consistency=eventual", "consistency=bogus", "include_credential=password", "include_credential=bogus")
	if q == "page_size=-1" && d.release == kratostest.ReleaseV1_3 {
		// v1.3.1's handler dies on it (the connection closes without an
		// answer); the client never sends it (docs/compatibility.md).
		q = "page_size=0"
	}
	d.step(where+" list", http.MethodGet, "/admin/identities?"+q, "")
	if len(vs) > 0 {
		ids := ""
		for _, v := range vs {
			ids += "&ids=" + d.real.vars[v]
		}
		d.step(where+" list ids", http.MethodGet, "/admin/identities?page_size="+strconv.Itoa(1+d.rnd.IntN(3))+ids, "")
		ext := fmt.Sprintf("x-%s-%d", d.runID, d.emails)
		d.step(where+" by external id", http.MethodGet, "/admin/identities/by/external/"+d.pick(ext, "nope", "a%2Fb")+"?"+d.pick("", "include_credential=password"), "")
	}
	d.step(where+" sessions list", http.MethodGet, "/admin/sessions?"+d.pick("page_size=0", "page_size=1001", "page_token=garbage", "active=maybe", "expand=bogus"), "")
}

// sessionWalk walks all sessions page by page, each side following its
// own Link next.
func (d *differ) sessionWalk(where string) {
	email := d.email()
	v := d.create(where+" create", fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q},"credentials":{"password":{"config":{"password":%q}}}}`, email, diffPassword))
	if v == "" {
		return
	}
	defer d.deleteIdentity(where, v)
	n := 1 + d.rnd.IntN(4)
	for range n {
		d.login(where, email, diffPassword)
	}
	size := 1 + d.rnd.IntN(n+1)
	d.fake.vars["next"], d.real.vars["next"] = fmt.Sprintf("/admin/sessions?page_size=%d", size), fmt.Sprintf("/admin/sessions?page_size=%d", size)
	for page := 0; page < n+3; page++ {
		f, r := d.step(fmt.Sprintf("%s page %d (size %d)", where, page, size), http.MethodGet, "{next}", "")
		fn, rn := nextLink(f.header.Get("Link")), nextLink(r.header.Get("Link"))
		if fn == "" || rn == "" || strings.TrimSpace(string(r.body)) == "[]" {
			break
		}
		d.fake.vars["next"], d.real.vars["next"] = fn, rn
	}
}

// oddRequests sends requests a careless client sends: wrong content
// types, empty and broken bodies, unknown ids, wrong methods.
func (d *differ) oddRequests(where string) {
	v := d.create(where+" create", fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q}}`, d.email()))
	if v == "" {
		return
	}
	defer d.deleteIdentity(where, v)
	switch d.rnd.IntN(6) {
	case 0:
		d.stepHeader(where+" form content type", http.MethodPost, "/admin/recovery/"+d.pick("code", "link"), `{"identity_id":"{`+v+`}"}`, "application/x-www-form-urlencoded")
	case 1:
		d.step(where+" empty body", d.pick(http.MethodPost, http.MethodPut, http.MethodPatch), d.pick("/admin/identities", "/admin/identities/{"+v+"}"), d.pick(" ", "{}", "[]", "null", "{"))
	case 2:
		d.step(where+" unknown id", d.pick(http.MethodGet, http.MethodDelete, http.MethodPatch), "/admin/identities/9f7b2c3e-1111-4222-8333-444455556666", d.pick("", "[]"))
	case 3:
		d.step(where+" delete twice", http.MethodDelete, "/admin/identities/{"+v+"}", "")
		d.step(where+" delete twice", http.MethodDelete, "/admin/identities/{"+v+"}", "")
	case 4:
		d.step(where+" sessions of", http.MethodGet, "/admin/identities/{"+v+"}/sessions?"+d.pick("", "active=true", "page_size=1"), "")
		d.step(where+" delete sessions of", http.MethodDelete, "/admin/identities/{"+v+"}/sessions", "")
	default:
		d.step(where+" extend unknown", http.MethodPatch, "/admin/sessions/9f7b2c3e-1111-4222-8333-444455556666/extend", "")
		d.step(where+" disable unknown", http.MethodDelete, "/admin/sessions/"+d.pick("9f7b2c3e-1111-4222-8333-444455556666", "nope"), "")
	}
}

// realRelease asks the real server's GET /admin/version.
func realRelease(t *testing.T, admin string) string {
	t.Helper()
	resp, err := http.Get(admin + "/admin/version")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Version string `json:"version"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Version == "" {
		t.Fatalf("GET /admin/version: %d %v", resp.StatusCode, err)
	}
	return v.Version
}
