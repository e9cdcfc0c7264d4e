// Package recorder sends scripted requests to a real Kratos server and
// writes each request and answer as a file of testdata/exchanges, in the
// format package exchange loads (NNN-operationId-case.json).
//
// It is a development tool, not part of the SDK: TestRecord in this
// package runs the scripts when KRATOS_RECORD is set (see its doc). The
// recordings are the ground truth the spec (api), the client and the fake
// (kratostest) are checked against.
package recorder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kratosadmin/sdk/internal/exchange"
)

// UserAgent is sent on every request; the login calls' sessions record it
// as their device's user agent.
const UserAgent = "kratos-recorder/1.0"

// Recorder sends requests to one Kratos server and writes what it sends
// and gets back.
type Recorder struct {
	Admin  string // admin API base URL, e.g. http://127.0.0.1:4534
	Public string // public API base URL
	Dir    string // where the files go
	Next   int    // number of the next file
	HTTP   *http.Client
	// Written lists the files written so far, in order.
	Written []string
}

// New returns a recorder writing to dir, numbering from the first number
// after the highest NNN- file there (from start instead when start > 0;
// files numbered start or higher are then removed first).
func New(admin, public, dir string, start int) (*Recorder, error) {
	names, err := filepath.Glob(filepath.Join(dir, "[0-9][0-9][0-9]-*.json"))
	if err != nil {
		return nil, err
	}
	highest := 0
	for _, name := range names {
		n, _ := strconv.Atoi(filepath.Base(name)[:3])
		if start > 0 && n >= start {
			if err := os.Remove(name); err != nil {
				return nil, err
			}
			continue
		}
		highest = max(highest, n)
	}
	next := highest + 1
	if start > 0 {
		next = start
	}
	return &Recorder{
		Admin:  strings.TrimSuffix(admin, "/"),
		Public: strings.TrimSuffix(public, "/"),
		Dir:    dir,
		Next:   next,
		HTTP: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// Call is one request to record.
type Call struct {
	Op     string // operationId (or createNativeLoginFlow / updateLoginFlow)
	Case   string // what the file is about, becomes part of its name
	Note   string // optional explanation kept in the file
	Method string
	Public bool   // send to the public URL instead of the admin URL
	Path   string // escaped path, sent as written
	Query  string // raw query, sent as written
	// Body is marshalled to JSON unless it is a Raw, which is sent as is.
	Body any
	// NoRecord sends the request without writing a file.
	NoRecord bool
}

// Raw is a request body sent byte for byte (invalid JSON, odd spacing).
type Raw string

// Result is the server's answer.
type Result struct {
	File   string
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the answer into v (nil on success when the body is empty).
func (r *Result) JSON(v any) error {
	if len(r.Body) == 0 {
		return nil
	}
	return json.Unmarshal(r.Body, v)
}

// Map is the answer as a JSON object (nil when it is not one).
func (r *Result) Map() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Str returns the string at a slash-separated path of the JSON answer
// ("id", "identities/0/identity"), "" when there is none.
func (r *Result) Str(path string) string {
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return ""
	}
	for _, seg := range strings.Split(path, "/") {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			n, err := strconv.Atoi(seg)
			if err != nil || n < 0 || n >= len(x) {
				return ""
			}
			v = x[n]
		default:
			return ""
		}
	}
	s, _ := v.(string)
	return s
}

// Do sends c and, unless c.NoRecord, writes the exchange.
func (r *Recorder) Do(c Call) (*Result, error) {
	base := r.Admin
	if c.Public {
		base = r.Public
	}
	u := base + c.Path
	if c.Query != "" {
		u += "?" + c.Query
	}
	var body []byte
	switch b := c.Body.(type) {
	case nil:
	case Raw:
		body = []byte(b)
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(b); err != nil {
			return nil, fmt.Errorf("recorder: %s %s: body: %w", c.Op, c.Case, err)
		}
		body = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(c.Method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("recorder: %s %s: %w", c.Op, c.Case, err)
	}
	sent := map[string]string{"Accept": "application/json"}
	if body != nil {
		sent["Content-Type"] = "application/json"
	}
	for k, v := range sent {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", UserAgent)
	resp, err := r.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("recorder: %s %s: %w", c.Op, c.Case, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("recorder: %s %s: reading the answer: %w", c.Op, c.Case, err)
	}
	res := &Result{Status: resp.StatusCode, Header: resp.Header, Body: got}
	if c.NoRecord {
		return res, nil
	}

	query := map[string][]string{}
	if q, err := url.ParseQuery(c.Query); err == nil {
		query = q
	}
	headers := map[string]string{}
	for k, v := range resp.Header {
		if k == "Date" {
			continue // the one header that differs on every answer
		}
		headers[k] = strings.Join(v, ", ")
	}
	if resp.ContentLength >= 0 && headers["Content-Length"] == "" && len(got) > 0 {
		headers["Content-Length"] = strconv.FormatInt(resp.ContentLength, 10)
	}
	reqBody, reqText := encodeBody(body)
	if string(body) == "null" {
		// A JSON null body is recorded as text: the exchange format reads
		// a null body as none.
		reqBody, reqText = json.RawMessage(`"null"`), true
	}
	respBody, respText := encodeBody(got)
	var file exchange.Exchange
	file.Operation, file.Case, file.Note = c.Op, c.Case, c.Note
	file.Request.Method, file.Request.BaseURL, file.Request.Path = c.Method, base, c.Path
	file.Request.RawQuery, file.Request.Query, file.Request.Headers = c.Query, query, sent
	file.Request.Body, file.Request.BodyIsText = reqBody, reqText
	file.Response.Status, file.Response.Headers = resp.StatusCode, headers
	file.Response.Body, file.Response.BodyIsText = respBody, respText
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(file); err != nil {
		return nil, fmt.Errorf("recorder: %s %s: %w", c.Op, c.Case, err)
	}
	name := fmt.Sprintf("%03d-%s-%s.json", r.Next, c.Op, slug(c.Case))
	// The file keeps no session token, cookie, CSRF token or code (the
	// script's Result does: it needs them).
	if err := os.WriteFile(filepath.Join(r.Dir, name), Redact(out.Bytes()), 0o644); err != nil {
		return nil, err
	}
	r.Next++
	r.Written = append(r.Written, name)
	res.File = name
	return res, nil
}

// encodeBody returns b as JSON to embed: the document itself when b is
// JSON, a JSON string (and true) when it is not, null when empty.
func encodeBody(b []byte) (json.RawMessage, bool) {
	if len(b) == 0 {
		return json.RawMessage("null"), false
	}
	if json.Valid(b) {
		var buf bytes.Buffer
		if err := json.Indent(&buf, b, "", "  "); err == nil {
			return buf.Bytes(), false
		}
	}
	s, _ := json.Marshal(string(b))
	return s, true
}

var notSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(notSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// Login signs identifier in with a password through the public API (a
// native login flow) and records both calls. It returns the session id.
func (r *Recorder) Login(name, identifier, password string) (string, error) {
	flow, err := r.Do(Call{Op: "createNativeLoginFlow", Case: name + "-init", Note: "public API: login flow, to obtain a session",
		Method: http.MethodGet, Public: true, Path: "/self-service/login/api"})
	if err != nil {
		return "", err
	}
	id := flow.Str("id")
	if flow.Status != 200 || id == "" {
		return "", fmt.Errorf("recorder: login flow: %d %s", flow.Status, flow.Body)
	}
	res, err := r.Do(Call{Op: "updateLoginFlow", Case: name + "-password", Note: "public API: password login, creates a session",
		Method: http.MethodPost, Public: true, Path: "/self-service/login", Query: "flow=" + id,
		Body: map[string]string{"method": "password", "identifier": identifier, "password": password}})
	if err != nil {
		return "", err
	}
	sid := res.Str("session/id")
	if res.Status != 200 || sid == "" {
		return "", fmt.Errorf("recorder: login: %d %s", res.Status, res.Body)
	}
	return sid, nil
}

// Keys lists a JSON object's keys, sorted (for notes and checks).
func Keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
