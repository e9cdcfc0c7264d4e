package kratostest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/gen"
)

type session struct {
	ID              string
	IdentityID      string
	Active          bool
	ExpiresAt       time.Time
	AuthenticatedAt time.Time
	IssuedAt        time.Time
	CreatedAt       time.Time // orders lists; 10µs precision, as page tokens carry it
	AAL             string
	Methods         []authMethod
	Devices         []device
	token           string // the session token; only SeedSession shows it
}

type authMethod struct {
	Method      string    `json:"method"`
	AAL         string    `json:"aal"`
	CompletedAt time.Time `json:"completed_at"`
}

type device struct {
	ID        string
	IPAddress string
	UserAgent string
	Location  string
}

type sessionOut struct {
	ID              string       `json:"id"`
	Active          bool         `json:"active"`
	ExpiresAt       time.Time    `json:"expires_at"`
	AuthenticatedAt time.Time    `json:"authenticated_at"`
	AAL             string       `json:"authenticator_assurance_level"`
	Methods         []authMethod `json:"authentication_methods"`
	IssuedAt        time.Time    `json:"issued_at"`
	Identity        *identityOut `json:"identity"`
	Devices         []deviceOut  `json:"devices"`
}

type deviceOut struct {
	ID        string  `json:"id"`
	IPAddress *string `json:"ip_address"`
	UserAgent *string `json:"user_agent"`
	Location  *string `json:"location"`
}

// sessionView selects what a session answer embeds; the recordings differ
// per endpoint.
type sessionView struct {
	identity     *identityView // nil: "identity": null
	devices      bool          // include the devices
	emptyDevices bool          // "devices": [] instead of null when not included
}

// renderSession renders a session. The caller holds s.mu.
func (s *Server) renderSession(sess *session, v sessionView, now time.Time) *sessionOut {
	out := &sessionOut{
		ID:              sess.ID,
		Active:          sess.Active && now.Before(sess.ExpiresAt),
		ExpiresAt:       sess.ExpiresAt,
		AuthenticatedAt: sess.AuthenticatedAt,
		AAL:             sess.AAL,
		Methods:         sess.Methods,
		IssuedAt:        sess.IssuedAt,
	}
	if v.identity != nil {
		if i := s.identities[sess.IdentityID]; i != nil {
			out.Identity = s.render(i, *v.identity)
			if i.State != "active" {
				out.Active = false
			}
		}
	}
	switch {
	case v.devices:
		out.Devices = make([]deviceOut, len(sess.Devices))
		for k, d := range sess.Devices {
			out.Devices[k] = deviceOut{ID: d.ID, IPAddress: &d.IPAddress, UserAgent: &d.UserAgent, Location: &d.Location}
		}
	case v.emptyDevices:
		out.Devices = []deviceOut{}
	}
	return out
}

// CreateSession creates a session for the identity, as a successful login
// on the real server's public API would: active, authenticated now with a
// password at aal1, expiring after the session lifespan (24h by default),
// with one device. It returns the session with its identity and devices,
// as the login answer has them. Kratos does not sign in inactive
// identities; neither does this. It is SeedSession without the token.
func (s *Server) CreateSession(identityID string, opts ...SessionOption) (*client.Session, error) {
	seeded, err := s.SeedSession(identityID, opts...)
	if err != nil {
		return nil, err
	}
	return seeded.Session, nil
}

// SeededSession is a session made without a login, with its token, as
// Kratos' login API answers: {"session_token", "session"}.
type SeededSession struct {
	SessionToken string          `json:"session_token"`
	Session      *client.Session `json:"session"`
}

// SeedSession creates a session for an active identity without a login
// (see CreateSession for the defaults; WithSessionActive(false) makes a
// disabled one) and returns it with a new session token. The session is
// read, listed, extended and disabled through the admin API like any
// other. It is POST /_fake/sessions.
func (s *Server) SeedSession(identityID string, opts ...SessionOption) (*SeededSession, error) {
	cfg := sessionConfig{active: true}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	id, err := parseUUID(identityID)
	if err != nil {
		return nil, fmt.Errorf("kratostest: SeedSession: identity id: %w", err)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.identities[id]
	if i == nil {
		return nil, fmt.Errorf("kratostest: SeedSession: no identity %s", id)
	}
	if i.State != "active" {
		return nil, fmt.Errorf("kratostest: SeedSession: identity %s is %s; Kratos does not sign it in", id, i.State)
	}
	sess := &session{
		ID:              s.newID(IDKindSession),
		IdentityID:      id,
		Active:          cfg.active,
		AuthenticatedAt: now,
		IssuedAt:        now,
		ExpiresAt:       now.Add(s.cfg.sessionLifespan),
		CreatedAt:       s.nextSessionTime(now),
		AAL:             cfg.aal,
		Methods:         slices.Clone(cfg.methods),
		Devices:         slices.Clone(cfg.devices),
		token:           "ory_st_" + rand.Text(),
	}
	if !cfg.authenticatedAt.IsZero() {
		sess.AuthenticatedAt = cfg.authenticatedAt.UTC()
	}
	if !cfg.expiresAt.IsZero() {
		sess.ExpiresAt = cfg.expiresAt.UTC()
	}
	if len(sess.Methods) == 0 {
		sess.Methods = []authMethod{{Method: "password", AAL: "aal1"}}
	}
	for k := range sess.Methods {
		if sess.Methods[k].CompletedAt.IsZero() {
			sess.Methods[k].CompletedAt = sess.AuthenticatedAt
		}
		if cfg.aal == "" && sess.Methods[k].AAL > sess.AAL {
			sess.AAL = sess.Methods[k].AAL
		}
	}
	if len(sess.Devices) == 0 {
		sess.Devices = []device{{IPAddress: "127.0.0.1", UserAgent: "kratostest/1.0"}}
	}
	for k := range sess.Devices {
		sess.Devices[k].ID = s.newID(IDKindDevice)
	}
	s.sessions[sess.ID] = sess
	out := s.renderSession(sess, sessionView{identity: &viewSession, devices: true}, now)
	b, _ := json.Marshal(out)
	var cs client.Session
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, fmt.Errorf("kratostest: SeedSession: %w", err)
	}
	return &SeededSession{SessionToken: sess.token, Session: &cs}, nil
}

// nextSessionTime is the creation time of a new session: now at the
// precision page tokens carry, but always after the previous session's, so
// that "newest first" is the order of creation even for sessions made in
// the same instant (or under a fixed WithClock). The caller holds s.mu.
func (s *Server) nextSessionTime(now time.Time) time.Time {
	t := now.Truncate(10 * time.Microsecond)
	if !t.After(s.lastSession) {
		t = s.lastSession.Add(10 * time.Microsecond)
	}
	s.lastSession = t
	return t
}

// parseExpand reads expand as Kratos does: identity and devices, any case.
func parseExpand(expand gen.Expand) (identity, devices bool, err *apiError) {
	for _, se := range expand {
		e := string(se)
		switch strings.ToLower(e) {
		case "identity":
			identity = true
		case "devices":
			devices = true
		default:
			return false, false, errBadRequest("Could not parse expand option: " + e)
		}
	}
	return identity, devices, nil
}

// parseActive reads the active filter from the query as sent: an
// unparsable value is Kratos' 400, which the refused binding cannot show.
func parseActive(q url.Values) (*bool, *apiError) {
	raw := q.Get("active")
	if raw == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return nil, errBadRequestMessage("could not parse parameter active")
	}
	return &b, nil
}

func activeMatches(sess *session, active *bool, now time.Time) bool {
	if active == nil {
		return true
	}
	isActive := sess.Active && now.Before(sess.ExpiresAt)
	return isActive == *active
}

// sessionUUID parses a session id; a malformed one is a 400 (069).
func sessionUUID(w http.ResponseWriter, raw string) (string, bool) {
	id, err := parseUUID(raw)
	if err != nil {
		writeError(w, errBadRequestMessage(err.Error()))
		return "", false
	}
	return id, true
}

// newestFirst orders sessions as Kratos lists them.
func newestFirst(a, b *session) int {
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}

// GET /admin/sessions
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, p gen.ListSessionsParams) {
	q := r.URL.Query() // raw: an unparsable active or page_size is Kratos' 400, an empty page_size the default
	active, apiErr := parseActive(q)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	size := defaultPageSize
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, errBadRequestMessage("could not parse parameter page_size"))
			return
		}
		if n > 0 {
			size = min(n, s.cfg.maxPageSize)
		}
	}
	withIdentity, withDevices, apiErr := parseExpand(p.Expand)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	var afterID string
	var afterTime time.Time
	if v := p.PageToken; v != "" {
		var ok bool
		if afterID, afterTime, ok = parseSessionToken(v); !ok {
			writeError(w, errBadRequest("The page token is invalid, do not craft your own page tokens"))
			return
		}
	}
	view := sessionView{devices: withDevices}
	if withIdentity {
		view.identity = &viewSessionList
	}
	now := s.now()
	s.mu.Lock()
	all := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		all = append(all, sess)
	}
	slices.SortFunc(all, newestFirst)
	out := []*sessionOut{}
	next := ""
	for _, sess := range all {
		if afterID != "" && !sessionAfter(sess, afterID, afterTime) {
			continue
		}
		if !activeMatches(sess, active, now) {
			continue
		}
		if len(out) == size {
			last := out[len(out)-1]
			next = sessionToken(last.ID, s.sessions[last.ID].CreatedAt)
			break
		}
		out = append(out, s.renderSession(sess, view, now))
	}
	s.mu.Unlock()
	keysetLink(w, *r.URL, size, sessionFirstToken, next)
	writeJSON(w, http.StatusOK, out)
}

// sessionAfter reports whether sess comes after the token's position in
// newest-first order.
func sessionAfter(sess *session, id string, createdAt time.Time) bool {
	if c := sess.CreatedAt.Compare(createdAt); c != 0 {
		return c < 0
	}
	return sess.ID < id
}

// GET /admin/sessions/{id}
func (s *Server) getSession(w http.ResponseWriter, rawID string, expand gen.Expand) {
	id, ok := sessionUUID(w, rawID)
	if !ok {
		return
	}
	withIdentity, withDevices, apiErr := parseExpand(expand)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	if sess == nil {
		writeError(w, errNoRows())
		return
	}
	view := sessionView{devices: withDevices, emptyDevices: true}
	if withIdentity {
		view.identity = &viewSession
	}
	writeJSON(w, http.StatusOK, s.renderSession(sess, view, now))
}

// DELETE /admin/sessions/{id}
func (s *Server) disableSession(w http.ResponseWriter, _ *http.Request, rawID string) {
	id, ok := sessionUUID(w, rawID)
	if !ok {
		return
	}
	s.mu.Lock()
	sess := s.sessions[id]
	if sess != nil {
		sess.Active = false
	}
	s.mu.Unlock()
	if sess == nil {
		writeError(w, errNoRows())
		return
	}
	// herodot's WriteCode(204, nil) sets a JSON content type (082).
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusNoContent)
}

// PATCH /admin/sessions/{id}/extend
func (s *Server) extendSession(w http.ResponseWriter, _ *http.Request, rawID string) {
	id, ok := sessionUUID(w, rawID)
	if !ok {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	if sess == nil {
		writeError(w, errNoRows())
		return
	}
	// Disabled sessions are extended too (085).
	sess.ExpiresAt = now.Add(s.cfg.sessionLifespan)
	if s.cfg.fasterExtend {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, s.renderSession(sess, sessionView{identity: &viewSession, emptyDevices: true}, now))
}

// GET /admin/identities/{id}/sessions
func (s *Server) listIdentitySessions(w http.ResponseWriter, r *http.Request, rawID string) {
	id, ok := sessionUUID(w, rawID)
	if !ok {
		return
	}
	q := r.URL.Query() // raw: an unparsable active is Kratos' 400; paging is lenient and absent, empty, unparsable differ
	active, apiErr := parseActive(q)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	page, perPage := parseMigrationPagination(q, s.cfg.maxPageSize)
	now := s.now()
	s.mu.Lock()
	var matched []*session
	for _, sess := range s.sessions {
		if sess.IdentityID == id && activeMatches(sess, active, now) {
			matched = append(matched, sess)
		}
	}
	slices.SortFunc(matched, newestFirst)
	start, end := oneBasedPage(page, perPage, len(matched))
	out := make([]*sessionOut, 0, end-start)
	for _, sess := range matched[start:end] {
		out = append(out, s.renderSession(sess, sessionView{identity: &viewIdentitySessions, devices: true}, now))
	}
	s.mu.Unlock()
	offsetHeader(w, *r.URL, int64(len(matched)), page, perPage, migrationLink)
	writeJSON(w, http.StatusOK, out)
}

// DELETE /admin/identities/{id}/sessions
func (s *Server) deleteIdentitySessions(w http.ResponseWriter, _ *http.Request, rawID string) {
	id, ok := sessionUUID(w, rawID)
	if !ok {
		return
	}
	s.mu.Lock()
	n := 0
	for sid, sess := range s.sessions {
		if sess.IdentityID == id {
			delete(s.sessions, sid)
			n++
		}
	}
	s.mu.Unlock()
	if n == 0 {
		writeError(w, errNoRows())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
