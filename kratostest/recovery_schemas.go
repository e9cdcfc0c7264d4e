package kratostest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// uuidField decodes like gofrs' uuid.UUID in a JSON body: a malformed
// value fails the whole decoding.
type uuidField string

func (u *uuidField) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	id, err := parseUUID(s)
	if err != nil {
		return err
	}
	*u = uuidField(id)
	return nil
}

type recoveryCodeBody struct {
	IdentityID uuidField `json:"identity_id"`
	ExpiresIn  string    `json:"expires_in"`
	FlowType   string    `json:"flow_type"`
}

type recoveryLinkBody struct {
	IdentityID uuidField `json:"identity_id"`
	ExpiresIn  string    `json:"expires_in"`
}

// recoveryExpiry parses expires_in as both recovery endpoints do. Their
// refusals of a past time differ: the code endpoint says "must result" and
// prints the parsed duration ("-5m0s"), the link endpoint says "must be
// result" and echoes the value sent (recorded 274, 275, 282, 283).
func (s *Server) recoveryExpiry(expiresIn string, code bool) (time.Duration, *apiError) {
	d := s.cfg.recoveryLifespan
	if expiresIn != "" {
		var err error
		if d, err = time.ParseDuration(expiresIn); err != nil {
			return 0, errBadRequest(`Unable to parse "expires_in" whose format should match "[0-9]+(ns|us|ms|s|m|h)" but did not: ` + expiresIn)
		}
		if d <= 0 && code {
			return 0, errBadRequest(`Value from "expires_in" must result to a future time: ` + d.String())
		}
		if d <= 0 {
			return 0, errBadRequest(`Value from "expires_in" must be result to a future time: ` + expiresIn)
		}
	}
	return d, nil
}

// decodeRecovery decodes a recovery body into req and returns the lifetime
// its expires_in asks for; on failure it has answered and returns false.
func (s *Server) decodeRecovery(w http.ResponseWriter, r *http.Request, req any, expiresIn *string) (time.Duration, bool) {
	// Both endpoints take JSON only (ory/x decoderx), whatever the
	// parameters and the case of the media type.
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
		writeError(w, errBadRequest(`HTTP POST Request used unknown HTTP Header "Content-Type: `+ct+`", only [application/json] are supported.`))
		return 0, false
	}
	b, err := body(r)
	if err == nil {
		err = lenientDecode(b, req)
	}
	if err != nil {
		writeError(w, errBadRequest("Unable to decode JSON payload: "+err.Error()))
		return 0, false
	}
	_, code := req.(*recoveryCodeBody)
	d, apiErr := s.recoveryExpiry(*expiresIn, code)
	if apiErr != nil {
		writeError(w, apiErr)
		return 0, false
	}
	return d, true
}

// POST /admin/recovery/code
func (s *Server) createRecoveryCode(w http.ResponseWriter, r *http.Request) {
	var req recoveryCodeBody
	d, ok := s.decodeRecovery(w, r, &req, &req.ExpiresIn)
	if !ok {
		return
	}
	switch req.FlowType {
	case "", "browser", "api":
	default:
		writeError(w, errBadRequest(fmt.Sprintf(`Value from "flow_type" is not valid: %q`, req.FlowType)))
		return
	}
	now := s.now()
	s.mu.Lock()
	found := s.identities[string(req.IdentityID)] != nil
	flowID := s.newID(IDKindFlow)
	s.mu.Unlock()
	if !found {
		writeError(w, &apiError{httpStatus: http.StatusNotFound, code: http.StatusNotFound, reason: "could not find identity", message: msgNoRows})
		return
	}
	link, err := url.Parse(s.cfg.recoveryUIURL)
	if err != nil {
		link = &url.URL{Path: s.cfg.recoveryUIURL}
	}
	q := link.Query()
	q.Set("flow", flowID)
	link.RawQuery = q.Encode()
	writeJSON(w, http.StatusCreated, struct {
		RecoveryLink string    `json:"recovery_link"`
		RecoveryCode string    `json:"recovery_code"`
		ExpiresAt    time.Time `json:"expires_at"`
	}{link.String(), randomDigits(6), now.Add(d)})
}

// POST /admin/recovery/link
func (s *Server) createRecoveryLink(w http.ResponseWriter, r *http.Request, returnTo string) {
	var req recoveryLinkBody
	d, ok := s.decodeRecovery(w, r, &req, &req.ExpiresIn)
	if !ok {
		return
	}
	if returnTo != "" && !s.returnToAllowed(returnTo) {
		e := errBadRequest(fmt.Sprintf("Requested return_to URL %q is not allowed.", returnTo))
		e.id = "self_service_flow_return_to_forbidden"
		writeError(w, e)
		return
	}
	now := s.now()
	s.mu.Lock()
	i := s.identities[string(req.IdentityID)]
	hasAddress := i != nil && len(i.Recovery) > 0
	flowID := s.newID(IDKindFlow)
	s.mu.Unlock()
	if i == nil {
		writeError(w, errBadRequest("The requested identity id does not exist."))
		return
	}
	if !hasAddress {
		writeError(w, errBadRequest("The identity does not have any recovery addresses set."))
		return
	}
	link := s.PublicURL + "/self-service/recovery?" + url.Values{"flow": {flowID}, "token": {randomToken(32)}}.Encode()
	writeJSON(w, http.StatusOK, struct {
		RecoveryLink string    `json:"recovery_link"`
		ExpiresAt    time.Time `json:"expires_at"`
	}{link, now.Add(d)})
}

// returnToAllowed checks return_to against the allowed return URLs: the
// public origin and WithAllowedReturnURLs prefixes.
func (s *Server) returnToAllowed(rt string) bool {
	u, err := url.Parse(rt)
	if err != nil {
		return false
	}
	if u.Scheme == "" && u.Host == "" {
		// Relative: resolved against the default return URL (268).
		return true
	}
	if strings.EqualFold(u.Scheme+"://"+u.Host, s.PublicURL) {
		return true
	}
	for _, allowed := range s.cfg.allowedReturnURLs {
		if strings.HasPrefix(rt, allowed) {
			return true
		}
	}
	return false
}

func randomDigits(n int) string {
	var b strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomToken(n int) string {
	var b strings.Builder
	for range n {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(tokenAlphabet))))
		b.WriteByte(tokenAlphabet[k.Int64()])
	}
	return b.String()
}

// --- schemas (public port) ---

// GET /schemas
func (s *Server) listSchemas(w http.ResponseWriter, r *http.Request) {
	page, perPage := parseMigrationPagination(r.URL.Query(), s.cfg.maxPageSize) // raw: lenient, absent, empty and unparsable differ
	all := s.cfg.schemas
	start, end := overlongPage(page, perPage, len(all))
	type container struct {
		ID     string          `json:"id"`
		Schema json.RawMessage `json:"schema"`
	}
	out := make([]container, 0, end-start)
	for _, sch := range all[start:end] {
		out = append(out, container{sch.id, sch.raw})
	}
	offsetHeader(w, *r.URL, int64(len(all)), page, perPage, migrationLink)
	writeJSON(w, http.StatusOK, out)
}

// GET /schemas/{id}; the id may be base64url-encoded, as in schema_url.
func (s *Server) getSchema(w http.ResponseWriter, _ *http.Request, id string) {
	sch := s.cfg.schemaByID[id]
	if sch == nil {
		// Unpadded base64url only: "ZGVmYXVsdA==" is a 404 (recorded 444).
		if dec, err := base64.RawURLEncoding.DecodeString(id); err == nil {
			sch = s.cfg.schemaByID[string(dec)]
		}
	}
	if sch == nil {
		name := id
		if dec, err := base64.RawURLEncoding.DecodeString(id); err == nil && s.before(ReleaseV26_2) {
			// Before v26.2 an id that is valid base64 is decoded first
			// and the reason names the decoded bytes.
			name = invalidBytesReplaced(dec)
		}
		writeError(w, errNotFound(fmt.Sprintf("Identity schema `%s` could not be found.", name)))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(sch.raw)
}
