package kratostest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kratosadmin/sdk/gen"
)

// The Kratos releases the fake emulates (docs/compatibility.md lists what
// differs between them).
const (
	ReleaseV1_3  = "v1.3.1"
	ReleaseV25_4 = "v25.4.0"
	ReleaseV26_2 = "v26.2.0" // the default
)

// WithVersion makes the fake answer as that Kratos release does: its
// GET /admin/version, and on v1.3.1 and v25.4.0 the differences recorded
// from the real servers (testdata/exchanges/<release>/).
func WithVersion(release string) Option {
	return func(c *config) {
		switch release {
		case ReleaseV1_3, ReleaseV25_4, ReleaseV26_2:
			c.release = release
		default:
			c.errs = append(c.errs, fmt.Errorf("kratostest: WithVersion(%q): want %s, %s or %s", release, ReleaseV1_3, ReleaseV25_4, ReleaseV26_2))
		}
	}
}

// Version is the Kratos release the fake emulates.
func (s *Server) Version() string { return s.cfg.release }

// before reports whether the emulated release is older than rel.
func (s *Server) before(rel string) bool {
	order := map[string]int{ReleaseV1_3: 0, ReleaseV25_4: 1, ReleaseV26_2: 2}
	return order[s.cfg.release] < order[rel]
}

func (o operations) GetVersion(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, gen.Version{Version: o.s.cfg.release})
}

// serveOlderRelease answers what v1.3.1 and v25.4.0 answer differently
// (docs/compatibility.md, testdata/exchanges/<release>/), and reports
// whether it did; otherwise it may rewrite r for the v26.2 handlers.
func (s *Server) serveOlderRelease(w http.ResponseWriter, r *http.Request, seg []string) bool {
	p := r.URL.Path
	if r.Method == http.MethodGet && (p == "/admin/identities/" || p == "/admin/sessions/") {
		if s.before(ReleaseV25_4) {
			http.Redirect(w, r, strings.TrimSuffix(p, "/"), http.StatusMovedPermanently)
			return true
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimSuffix(p, "/")
		r2.URL.RawPath = ""
		// v25.4.0 serves the list there, and links its pages there (the
		// differential test on a real v25.4.0).
		rec := httptest.NewRecorder()
		s.routes.serve(rec, r2, segments(r2))
		if l := rec.Header().Get("Link"); l != "" {
			rec.Header().Set("Link", strings.ReplaceAll(l, "<"+r2.URL.Path+"?", "<"+p+"?"))
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return true
	}
	if r.Method == http.MethodPatch && p == "/admin/identities" && !s.before(ReleaseV25_4) {
		s.batchWithRollback(w, r, seg)
		return true
	}
	if !s.before(ReleaseV25_4) {
		return false
	}
	// v1.3.1.
	switch {
	case len(seg) >= 3 && seg[1] == "identities" && seg[2] == "by":
		http.NotFound(w, r) // no such route: text/plain
		return true
	case r.Method == http.MethodPost && p == "/admin/identities":
		return s.refuseNewFields(w, r, false)
	case r.Method == http.MethodPatch && p == "/admin/identities":
		if s.refuseNewFields(w, r, true) {
			return true
		}
		s.batchWithRollback(w, r, seg)
		return true
	case r.Method == http.MethodGet && (p == "/admin/identities" || len(seg) == 3 && seg[1] == "identities") && refuseIncludeV13(w, r):
		return true
	case r.Method == http.MethodGet && p == "/admin/identities":
		s.listV13(w, r, seg)
		return true
	case r.Method == http.MethodGet && p == "/admin/sessions":
		// v1.3.1 counts the sessions the filter selects in X-Total-Count.
		active := r.URL.Query().Get("active")
		s.mu.Lock()
		n := 0
		for _, ss := range s.sessions {
			if active == "" || (active == "true") == ss.Active {
				n++
			}
		}
		s.mu.Unlock()
		rec := httptest.NewRecorder()
		s.routes.serve(rec, r, seg)
		if rec.Code == http.StatusOK {
			rec.Header().Set("X-Total-Count", strconv.Itoa(n))
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return true
	case r.Method == http.MethodPut && len(seg) == 3 && seg[1] == "identities":
		// v1.3.1 keeps no external id and no saml credentials from an
		// update, and answers 200 (the differential test on a real v1.3.1).
		s.serveWithBody(w, r, seg, func(b []byte) []byte { return dropSAMLCredentials(dropKey(b, "external_id")) })
		return true
	case r.Method == http.MethodPatch && len(seg) == 3 && seg[1] == "identities":
		s.serveWithBody(w, r, seg, dropExternalIDOps)
		return true
	case r.Method == http.MethodDelete && len(seg) == 5 && seg[1] == "identities" && seg[3] == "credentials" && (seg[4] == "password" || seg[4] == "code"):
		s.mu.Lock()
		_, ok := s.identities[parseUUIDOrNil(seg[2])]
		s.mu.Unlock()
		if !ok {
			return false
		}
		writeError(w, errBadRequest("You cannot remove first factor credentials."))
		return true
	}
	return false
}

// refuseIncludeV13 answers v1.3.1's 400 for include_credential=saml (it
// has no saml credentials) or another type it does not know, on
// getIdentity and listIdentities alike, parsed as v26.2's getIdentity
// parses it (listIdentities of v26.2 names the bad value instead).
func refuseIncludeV13(w http.ResponseWriter, r *http.Request) bool {
	if _, apiErr := parseIncludeCredentialOf(r.URL.Query()["include_credential"], credentialTypesV13); apiErr != nil {
		writeError(w, apiErr)
		return true
	}
	return false
}

// credentialTypesV13 are the types v1.3.1's include_credential accepts:
// v26.2's but saml.
var credentialTypesV13 = func() map[string]bool {
	m := maps.Clone(credentialTypes)
	delete(m, "saml")
	return m
}()

// refuseNewFields answers v1.3.1's 400 for a create body (or a batch
// item's) naming a field v1.3.1 does not know: external_id,
// organization_id (even null) or saml credentials.
func (s *Server) refuseNewFields(w http.ResponseWriter, r *http.Request, batch bool) bool {
	b, err := body(r)
	if err != nil {
		return false
	}
	field := firstFieldUnknownToV13(b, batch)
	if field != "" {
		msg := fmt.Sprintf("json: unknown field %q", field)
		if batch {
			writeError(w, errInternal(http.StatusBadRequest, msg)) // HTTP 400, "code":500
		} else {
			writeError(w, errBadRequestMessage(msg))
		}
		return true
	}
	return false
}

// v13Unknown reports a field of a create body v1.3.1 does not know, by its
// place: its decoder refuses the first it meets in document order
// (encoding/json with DisallowUnknownFields keeps the first error), nested
// ones included: external_id, organization_id, any credentials but
// password and oidc, and an OIDC provider link's organization (even null)
// and use_auto_link.
func v13Unknown(path string) bool {
	switch path {
	case "/external_id", "/organization_id",
		"/credentials/oidc/config/providers/*/organization",
		"/credentials/oidc/config/providers/*/use_auto_link":
		return true
	}
	typ, ok := strings.CutPrefix(path, "/credentials/")
	return ok && !strings.Contains(typ, "/") && typ != "password" && typ != "oidc"
}

// firstFieldUnknownToV13 is the first field of a create body (or of any
// item of a batch body) that v1.3.1 does not know, "" when none is or the
// body is not JSON (the handler reports that).
func firstFieldUnknownToV13(b []byte, batch bool) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func(path string, item bool) (string, bool)
	// walk reads one value at path; item: path is inside a batch item's
	// create body (or the create body itself).
	walk = func(path string, item bool) (string, bool) {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return "", true
		}
		switch d {
		case '{':
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return "", false
				}
				k, _ := kt.(string)
				sub := path + "/" + k
				if batch && !item && (sub == "/identities/*/create") {
					if f, ok := walk("", true); f != "" || !ok {
						return f, ok
					}
					continue
				}
				if (item || !batch) && v13Unknown(sub) {
					return k, true
				}
				if f, ok := walk(sub, item); f != "" || !ok {
					return f, ok
				}
			}
		case '[':
			for dec.More() {
				if f, ok := walk(path+"/*", item); f != "" || !ok {
					return f, ok
				}
			}
		}
		_, err = dec.Token() // the closing delimiter
		return "", err == nil
	}
	f, _ := walk("", !batch)
	return f
}

// batchWithRollback serves a batch as v1.3.1 and v25.4.0 do: an item the
// schema refuses has the generic reason, and on v1.3.1, when an item
// conflicts, the whole request is rolled back, yet the other items still
// answer "create" with an id.
func (s *Server) batchWithRollback(w http.ResponseWriter, r *http.Request, seg []string) {
	rec := httptest.NewRecorder()
	s.routes.serve(rec, r, seg)
	var out gen.BatchPatchIdentitiesResponse
	if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &out) == nil {
		conflict := false
		for _, it := range out.Identities {
			if it != nil && it.Action == gen.IdentityPatchResponseActionError && it.Error.Code == http.StatusConflict {
				conflict = true
			}
			if it != nil && it.Action == gen.IdentityPatchResponseActionError && it.Error.Code == http.StatusBadRequest && strings.HasPrefix(it.Error.Reason, "I[#") {
				it.Error.Reason = msgBadRequest
			}
		}
		if b, err := json.Marshal(out); err == nil {
			if len(out.Identities) == 0 && s.before(ReleaseV25_4) {
				b = []byte(`{"identities":[]}`) // v1.3.1 names the empty list (a body of {} or null)
			}
			rec.Body = bytes.NewBuffer(b)
			rec.Header().Del("Content-Length")
		}
		if conflict && s.before(ReleaseV25_4) {
			s.mu.Lock()
			for _, it := range out.Identities {
				if it != nil && it.Action == gen.IdentityPatchResponseActionCreate {
					s.remove(it.Identity)
				}
			}
			s.mu.Unlock()
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// listV13 serves listIdentities as v1.3.1 does: organization_id is
// ignored, and filters combine (the ids filter narrows the others).
func (s *Server) listV13(w http.ResponseWriter, r *http.Request, seg []string) {
	q := r.URL.Query()
	org, hasOrg := q["organization_id"]
	q.Del("organization_id")
	ids := q["ids"]
	combined := len(ids) > 0 && (q.Get("credentials_identifier") != "" || q.Get("preview_credentials_identifier_similar") != "")
	if combined {
		q.Del("ids")
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	size, err := strconv.Atoi(q.Get("page_size"))
	overSize := err == nil && size > 500
	if !combined && !hasOrg && !overSize {
		s.routes.serve(w, r2, seg)
		return
	}
	rec := httptest.NewRecorder()
	s.routes.serve(rec, r2, seg)
	if l := rec.Header().Get("Link"); l != "" {
		if hasOrg {
			// v1.3.1 ignores the filter but keeps it in its links (v1.3.1
			// recording 011).
			l = linksWith(l, "organization_id", org)
		}
		if overSize {
			// v1.3.1 serves a page of any size and links it as asked.
			l = linksWith(l, "page_size", q["page_size"])
		}
		rec.Header().Set("Link", l)
	}
	if !combined {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	var items []map[string]json.RawMessage
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &items) != nil {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	keep := map[string]bool{}
	for _, id := range ids {
		keep[parseUUIDOrNil(id)] = true
	}
	link := r.URL.Query()
	if link.Get("page_size") == "" {
		link.Set("page_size", "250")
	}
	link.Set("page_token", "00000000-0000-0000-0000-000000000000")
	w.Header().Set("Link", "</admin/identities?"+link.Encode()+`>; rel="first"`)
	out := []map[string]json.RawMessage{}
	for _, it := range items {
		var id string
		if json.Unmarshal(it["id"], &id) == nil && keep[id] {
			out = append(out, it)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// linksWith is a Link header whose targets also carry key=values.
func linksWith(header, key string, values []string) string {
	parts := strings.Split(header, ",")
	for i, part := range parts {
		start, end := strings.Index(part, "<"), strings.Index(part, ">")
		if start < 0 || end < start {
			continue
		}
		target, err := url.Parse(part[start+1 : end])
		if err != nil {
			continue
		}
		q := target.Query()
		q[key] = values
		target.RawQuery = q.Encode()
		parts[i] = part[:start+1] + target.String() + part[end:]
	}
	return strings.Join(parts, ",")
}

// serveWithBody serves r with its body rewritten by fix.
func (s *Server) serveWithBody(w http.ResponseWriter, r *http.Request, seg []string, fix func([]byte) []byte) {
	b, err := body(r)
	if err == nil {
		b = fix(b)
		r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, bodyResult{b, nil}))
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	s.routes.serve(w, r, seg)
}

// dropKey removes a top-level key from a JSON object (v1.3.1 ignores
// external_id in an update).
func dropKey(b []byte, key string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	if _, ok := m[key]; !ok {
		return b
	}
	delete(m, key)
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}

// dropSAMLCredentials removes credentials.saml from a body.
func dropSAMLCredentials(b []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || m["credentials"] == nil {
		return b
	}
	creds := dropKey(m["credentials"], "saml")
	if len(creds) == len(m["credentials"]) {
		return b
	}
	m["credentials"] = creds
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}

// dropExternalIDOps removes the JSON Patch operations on /external_id
// (v1.3.1 answers 200 and keeps no external id).
func dropExternalIDOps(b []byte) []byte {
	var ops []map[string]json.RawMessage
	if json.Unmarshal(b, &ops) != nil {
		return b
	}
	keep := ops[:0]
	for _, o := range ops {
		var path string
		_ = json.Unmarshal(o["path"], &path)
		if path == "/external_id" || strings.HasPrefix(path, "/external_id/") {
			continue
		}
		keep = append(keep, o)
	}
	out, err := json.Marshal(keep)
	if err != nil {
		return b
	}
	return out
}

// olderReleaseHeaders writes the headers as v1.3.1 and v25.4.0 do on the
// admin port: Cache-Control on every answer (v26.2: on GETs), and on
// v1.3.1 no Ory-Error-Id on errors.
func (s *Server) olderReleaseHeaders(w http.ResponseWriter) http.ResponseWriter {
	w.Header().Set("Cache-Control", "private, no-cache, no-store, must-revalidate")
	if !s.before(ReleaseV25_4) {
		return &routerAnswerWriter{w}
	}
	return &noErrorIDWriter{ResponseWriter: w}
}

type noErrorIDWriter struct{ http.ResponseWriter }

func (w *noErrorIDWriter) WriteHeader(status int) {
	w.Header().Del("Ory-Error-Id")
	routerAnswer(w.Header(), status)
	w.ResponseWriter.WriteHeader(status)
}

func (w *noErrorIDWriter) Write(b []byte) (int, error) {
	w.Header().Del("Ory-Error-Id")
	return w.ResponseWriter.Write(b)
}

// routerAnswer drops Cache-Control from what the router answers itself
// (a text/plain 404, a redirect): only the handlers set it.
func routerAnswer(h http.Header, status int) {
	if strings.HasPrefix(h.Get("Content-Type"), "text/plain") || status == http.StatusMovedPermanently {
		h.Del("Cache-Control")
	}
}

type routerAnswerWriter struct{ http.ResponseWriter }

func (w *routerAnswerWriter) WriteHeader(status int) {
	routerAnswer(w.Header(), status)
	w.ResponseWriter.WriteHeader(status)
}

// invalidBytesReplaced replaces each byte that is not valid UTF-8 with
// U+FFFD, as Kratos' JSON encoder does.
func invalidBytesReplaced(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

// publicV13Writer writes the public port's headers as v1.3.1 does: an
// identity schema is plain application/json, errors carry no Ory-Error-Id.
type publicV13Writer struct {
	http.ResponseWriter
	schema bool
	wrote  bool
}

func (w *publicV13Writer) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	w.Header().Del("Ory-Error-Id")
	w.Header().Set("Cache-Control", "private, no-cache, no-store, must-revalidate")
	if w.schema && status == http.StatusOK && w.Header().Get("Content-Type") == "application/json; charset=utf-8" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *publicV13Writer) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK) // once: later calls do nothing
	return w.ResponseWriter.Write(b)
}
