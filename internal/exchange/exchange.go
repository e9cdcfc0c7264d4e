// Package exchange loads the request/response pairs recorded from a real
// Kratos server (testdata/exchanges) so that tests can replay them.
package exchange

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Exchange is one recorded request and the server's answer. Its fields
// are in the files' order: internal/recorder writes files by encoding it.
type Exchange struct {
	File      string `json:"-"`
	Operation string `json:"operation"`
	Case      string `json:"case"`
	Note      string `json:"note,omitempty"`
	Request   struct {
		Method     string              `json:"method"`
		BaseURL    string              `json:"base_url"`
		Path       string              `json:"path"`
		RawQuery   string              `json:"raw_query"`
		Query      map[string][]string `json:"query"`
		Headers    map[string]string   `json:"headers"`
		Body       json.RawMessage     `json:"body"`
		BodyIsText bool                `json:"body_is_text,omitempty"`
	} `json:"request"`
	Response struct {
		Status     int               `json:"status"`
		Headers    map[string]string `json:"headers"`
		Body       json.RawMessage   `json:"body"`
		BodyIsText bool              `json:"body_is_text,omitempty"`
	} `json:"response"`
}

// Dir is the absolute path of testdata/exchanges in this module.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "exchanges")
}

// Releases lists the Kratos releases with recordings of their own in
// testdata/exchanges/<release>/ (internal/recorder's TestRecordRelease),
// sorted; the recordings in Dir itself are v26.2.0's.
func Releases() []string {
	dirs, _ := filepath.Glob(filepath.Join(Dir(), "v*"))
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			out = append(out, filepath.Base(d))
		}
	}
	sort.Strings(out)
	return out
}

// ReleaseDir is the folder of one release's recordings.
func ReleaseDir(release string) string { return filepath.Join(Dir(), release) }

// LoadAll reads every NNN-*.json exchange in dir, in file order.
func LoadAll(dir string) ([]*Exchange, error) {
	names, err := filepath.Glob(filepath.Join(dir, "[0-9][0-9][0-9]-*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]*Exchange, 0, len(names))
	for _, name := range names {
		x, err := Load(name)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("exchange: no recordings in %s", dir)
	}
	return out, nil
}

// Load reads one exchange file.
func Load(name string) (*Exchange, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	x := new(Exchange)
	if err := json.Unmarshal(b, x); err != nil {
		return nil, fmt.Errorf("exchange %s: %w", name, err)
	}
	x.File = filepath.Base(name)
	return x, nil
}

// Name is the file name without its extension.
func (x *Exchange) Name() string { return strings.TrimSuffix(x.File, ".json") }

// Key is the name without its number ("createIdentity-invalid-json-400"):
// it stays the same when a re-recording renumbers the files.
func (x *Exchange) Key() string {
	name := x.Name()
	if i := strings.IndexByte(name, '-'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// RequestBody is the exact bytes the recorder sent: text bodies verbatim,
// JSON bodies re-encoded, nil when there was none.
func (x *Exchange) RequestBody() []byte { return rawBody(x.Request.Body, x.Request.BodyIsText) }

// ResponseBody is the exact bytes the server answered with (JSON bodies
// re-encoded compactly), nil when there was none.
func (x *Exchange) ResponseBody() []byte { return rawBody(x.Response.Body, x.Response.BodyIsText) }

func rawBody(b json.RawMessage, isText bool) []byte {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if isText {
		var s string
		if err := json.Unmarshal(b, &s); err == nil {
			return []byte(s)
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

// HTTPRequest rebuilds the recorded request against baseURL (the recorded
// base URL when empty).
func (x *Exchange) HTTPRequest(baseURL string) (*http.Request, error) {
	if baseURL == "" {
		baseURL = x.Request.BaseURL
	}
	u := strings.TrimSuffix(baseURL, "/") + x.Request.Path
	if x.Request.RawQuery != "" {
		u += "?" + x.Request.RawQuery
	}
	var body io.Reader
	if b := x.RequestBody(); b != nil {
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(x.Request.Method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range x.Request.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// HTTPResponse rebuilds the recorded response (headers, status and body).
func (x *Exchange) HTTPResponse(req *http.Request) *http.Response {
	h := make(http.Header, len(x.Response.Headers))
	for k, v := range x.Response.Headers {
		h.Set(k, v)
	}
	b := x.ResponseBody()
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", x.Response.Status, http.StatusText(x.Response.Status)),
		StatusCode:    x.Response.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)),
		Request:       req,
	}
}

// IsAdminAPI reports whether the exchange is one of the identity-admin
// operations (012-015 are public login calls used to obtain sessions).
func (x *Exchange) IsAdminAPI() bool {
	switch x.Operation {
	case "createNativeLoginFlow", "updateLoginFlow":
		return false
	}
	return true
}
