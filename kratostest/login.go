package kratostest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// The public login API, minimally: the native ("api") login flow with the
// password method, as Kratos serves it on the public port. It lets
// programs that cannot call Server.CreateSession (other languages, the
// kratos-fake command) sign identities in and get sessions:
//
//	GET  /self-service/login/api             -> 200, a login flow {"id": ...}
//	POST /self-service/login?flow=ID         {"method":"password","identifier":..,"password":..}
//	                                         -> 200 {"session_token","session","continue_with":null}
//
// Wrong credentials answer 400 with the flow and Kratos' message 4000006;
// an unknown flow 404; the right password of an inactive identity 401
// "identity is disabled" (the flow stays usable). The flow has the nodes
// of Kratos' password and code methods (the code method itself is not
// served). Every hash format Kratos imports signs in (hashes.go); a hash that is not bcrypt is replaced by a bcrypt hash
// at the server's cost once the password matched, as Kratos does.

// loginFlowLifespan is selfservice.flows.login.lifespan's default.
const loginFlowLifespan = 10 * time.Minute

// DefaultMaxLoginFlows is how many unfinished login flows the server keeps
// by default (WithMaxLoginFlows): beyond it, starting a flow forgets the
// oldest one, whose submission then answers 404 like an expired flow.
const DefaultMaxLoginFlows = 10000

// loginFlows holds the live login flows: a map for lookups and a queue in
// creation order, so that expired and surplus flows are dropped from its
// front without a scan. Submitted flows leave the map at once and the
// queue when they reach its front (or when the queue is compacted). The
// caller holds s.mu.
type loginFlows struct {
	byID  map[string]*loginFlow
	queue []string // ids, oldest first; may name flows already gone
}

// add stores f, first forgetting flows expired at now and the oldest ones
// beyond max-1.
func (l *loginFlows) add(f *loginFlow, now time.Time, max int) {
	if l.byID == nil {
		l.byID = map[string]*loginFlow{}
	}
	for len(l.queue) > 0 {
		old := l.byID[l.queue[0]]
		if old != nil && !now.After(old.ExpiresAt) && len(l.byID) < max {
			break
		}
		if old != nil {
			delete(l.byID, old.ID)
		}
		l.queue[0] = ""
		l.queue = l.queue[1:]
	}
	if len(l.queue) >= 2*max {
		// Mostly submitted flows: keep the live ones only.
		live := make([]string, 0, len(l.byID)+1)
		for _, id := range l.queue {
			if l.byID[id] != nil {
				live = append(live, id)
			}
		}
		l.queue = live
	}
	l.byID[f.ID] = f
	l.queue = append(l.queue, f.ID)
}

func (l *loginFlows) get(id string) *loginFlow { return l.byID[id] }

func (l *loginFlows) remove(id string) { delete(l.byID, id) }

type loginFlow struct {
	ID        string
	IssuedAt  time.Time
	ExpiresAt time.Time
	CreatedAt time.Time
}

type uiText struct {
	ID   int    `json:"id"`
	Text string `json:"text"`
	Type string `json:"type"`
}

type uiNode struct {
	Type       string         `json:"type"`
	Group      string         `json:"group"`
	Attributes map[string]any `json:"attributes"`
	Messages   []uiText       `json:"messages"`
	Meta       map[string]any `json:"meta"`
}

type loginFlowOut struct {
	ID             string    `json:"id"`
	OrganizationID *string   `json:"organization_id"`
	Type           string    `json:"type"`
	ExpiresAt      time.Time `json:"expires_at"`
	IssuedAt       time.Time `json:"issued_at"`
	RequestURL     string    `json:"request_url"`
	UI             struct {
		Action   string   `json:"action"`
		Method   string   `json:"method"`
		Nodes    []uiNode `json:"nodes"`
		Messages []uiText `json:"messages,omitempty"`
	} `json:"ui"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Refresh      bool      `json:"refresh"`
	RequestedAAL string    `json:"requested_aal"`
	State        string    `json:"state"`
}

func (s *Server) renderLoginFlow(f *loginFlow, identifier string, msgs []uiText) *loginFlowOut {
	out := &loginFlowOut{
		ID: f.ID, Type: "api", ExpiresAt: f.ExpiresAt, IssuedAt: f.IssuedAt,
		RequestURL:   s.PublicURL + "/self-service/login/api",
		CreatedAt:    f.CreatedAt.Truncate(time.Microsecond),
		UpdatedAt:    f.CreatedAt.Truncate(time.Microsecond),
		RequestedAAL: "aal1", State: "choose_method",
	}
	out.UI.Action = s.PublicURL + "/self-service/login?flow=" + f.ID
	out.UI.Method = http.MethodPost
	label := func(id int, text string) map[string]any {
		return map[string]any{"label": uiText{ID: id, Text: text, Type: "info"}}
	}
	idLabel := label(1070004, "ID")
	if name, title := s.identifierTrait(); title != "" {
		context := map[string]string{"name": "traits." + name, "title": title}
		if s.before(ReleaseV25_4) {
			delete(context, "name") // v1.3.1: the title only (recording 042 of v1.3.1)
		}
		idLabel = map[string]any{"label": map[string]any{"id": 1070002, "text": title, "type": "info", "context": context}}
	}
	out.UI.Nodes = []uiNode{
		{Type: "input", Group: "default", Attributes: map[string]any{"name": "csrf_token", "type": "hidden", "value": "", "required": true, "disabled": false, "node_type": "input"}, Messages: []uiText{}, Meta: map[string]any{}},
		{Type: "input", Group: "default", Attributes: map[string]any{"name": "identifier", "type": "text", "value": identifier, "required": true, "disabled": false, "node_type": "input"}, Messages: []uiText{}, Meta: idLabel},
		{Type: "input", Group: "code", Attributes: map[string]any{"name": "method", "type": "submit", "value": "code", "disabled": false, "node_type": "input"}, Messages: []uiText{}, Meta: label(1010015, "Send sign in code")},
		{Type: "input", Group: "password", Attributes: map[string]any{"name": "password", "type": "password", "required": true, "autocomplete": "current-password", "disabled": false, "node_type": "input"}, Messages: []uiText{}, Meta: label(1070001, "Password")},
		{Type: "input", Group: "password", Attributes: map[string]any{"name": "method", "type": "submit", "value": "password", "disabled": false, "node_type": "input"}, Messages: []uiText{}, Meta: label(1010022, "Sign in with password")},
	}
	out.UI.Messages = msgs
	return out
}

// identifierTrait returns the name and title of the default schema's
// first top-level trait that is a password identifier, which Kratos uses
// to label the identifier field.
func (s *Server) identifierTrait() (name, title string) {
	sc := s.cfg.schemaByID[s.cfg.defaultSchemaID]
	if sc == nil {
		return "", ""
	}
	root, _ := sc.doc.(map[string]any)
	props, _ := root["properties"].(map[string]any)
	traits, _ := props["traits"].(map[string]any)
	tprops, _ := traits["properties"].(map[string]any)
	names := make([]string, 0, len(tprops))
	for n := range tprops {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p, _ := tprops[n].(map[string]any)
		ext, _ := p["ory.sh/kratos"].(map[string]any)
		creds, _ := ext["credentials"].(map[string]any)
		pw, _ := creds["password"].(map[string]any)
		if id, _ := pw["identifier"].(bool); id {
			t, _ := p["title"].(string)
			return n, t
		}
	}
	return "", ""
}

// createLoginFlow serves GET /self-service/login/api.
func (s *Server) createLoginFlow(w http.ResponseWriter, _ *http.Request) {
	now := s.now()
	s.mu.Lock()
	f := &loginFlow{ID: s.newID(IDKindFlow), IssuedAt: now, ExpiresAt: now.Add(loginFlowLifespan), CreatedAt: now}
	// Expired flows and the oldest beyond the bound are forgotten, so that
	// a long-running fake stays small whatever its clients do.
	s.loginFlows.add(f, now, s.cfg.maxLoginFlows)
	out := s.renderLoginFlow(f, "", nil)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// msgInvalidCredentials is Kratos' ui message 4000006.
var msgInvalidCredentials = uiText{ID: 4000006, Text: "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.", Type: "error"}

// submitLoginFlow serves POST /self-service/login?flow=ID with the
// password method.
func (s *Server) submitLoginFlow(w http.ResponseWriter, r *http.Request) {
	flowID, err := parseUUID(r.URL.Query().Get("flow"))
	now := s.now()
	s.mu.Lock()
	f := s.loginFlows.get(flowID)
	s.mu.Unlock()
	if err != nil || f == nil || now.After(f.ExpiresAt) {
		writeError(w, errNoRows())
		return
	}
	b, _ := body(r)
	var in struct {
		Method     string `json:"method"`
		Identifier string `json:"identifier"`
		Password   string `json:"password"`
	}
	if err := json.Unmarshal(b, &in); err != nil || in.Method != "password" {
		writeError(w, errBadRequest("kratostest: the fake's login API supports only {\"method\":\"password\",\"identifier\":...,\"password\":...} as JSON"))
		return
	}
	identifier := strings.ToLower(strings.TrimSpace(in.Identifier))
	s.mu.Lock()
	var hash, identityID string
	active := false
	if id, ok := s.unique["identifier\x00password\x00"+identifier]; ok {
		if i := s.identities[id]; i != nil {
			if c := i.Credentials["password"]; c != nil {
				var cfg struct {
					HashedPassword string `json:"hashed_password"`
				}
				_ = json.Unmarshal(c.Config, &cfg)
				hash, identityID, active = cfg.HashedPassword, id, i.State == "active"
			}
		}
	}
	s.mu.Unlock()
	ok := false
	if identityID != "" {
		ok, _ = hashMatches(hash, in.Password)
	}
	if !ok {
		s.mu.Lock()
		out := s.renderLoginFlow(f, in.Identifier, []uiText{msgInvalidCredentials})
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, out)
		return
	}
	if !isBcryptHash(hash) {
		// Kratos replaces a hash its hasher does not use by its own, once
		// the password matched, and before it looks at the state.
		s.rehashPassword(identityID, hash, in.Password)
	}
	if !active {
		writeError(w, errIdentityDisabled(identityID))
		return
	}
	ip := r.RemoteAddr
	seeded, err := s.SeedSession(identityID, WithSessionDevice(ip, r.UserAgent(), ""))
	if err != nil {
		// Deleted or deactivated between the check and now.
		s.mu.Lock()
		out := s.renderLoginFlow(f, in.Identifier, []uiText{msgInvalidCredentials})
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, out)
		return
	}
	s.mu.Lock()
	s.loginFlows.remove(f.ID)
	var sessOut *sessionOut
	if sess := s.sessions[seeded.Session.ID]; sess != nil {
		sessOut = s.renderSession(sess, sessionView{identity: &viewSession, devices: true}, now)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		SessionToken string      `json:"session_token"`
		Session      *sessionOut `json:"session"`
		ContinueWith []any       `json:"continue_with"`
	}{seeded.SessionToken, sessOut, nil})
}

// serveHealth answers Kratos' /health/alive and /health/ready.
func serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// rehashPassword stores a bcrypt hash of password at the server's cost in
// place of the identity's password hash old, as Kratos does after a login
// with a hash in another format. The hash is made outside the lock; a
// credential changed meanwhile is left alone.
func (s *Server) rehashPassword(identityID, old, password string) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.bcryptCost)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.identities[identityID]
	if i == nil || i.Credentials["password"] == nil {
		return
	}
	c := i.Credentials["password"]
	var cfg map[string]any
	if json.Unmarshal(c.Config, &cfg) != nil || cfg["hashed_password"] != old {
		return
	}
	cfg["hashed_password"] = string(h)
	c.Config, _ = json.Marshal(cfg)
	// Both times move, as on Kratos v26.2.0.
	micro := s.now().Truncate(time.Microsecond)
	c.UpdatedAt, i.UpdatedAt = micro, micro
}
