package kratostest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// The control API: what Go callers do with Server's methods, programs in
// any language do over HTTP on the admin port, under /_fake/ (a prefix no
// Kratos route has), JSON in and out:
//
//	POST   /_fake/reset     Reset: back to the seeded start state
//	GET    /_fake/requests  Requests: the journal, oldest first (?bodies=true: with bodies)
//	DELETE /_fake/requests  ClearRequests
//	GET    /_fake/faults    Faults: the fault rules and their hits
//	POST   /_fake/faults    AddFault: a Fault, or an array of them
//	DELETE /_fake/faults    ClearFaults
//	POST   /_fake/sessions  SeedSession: {"identity_id", "active", "aal", ...}
//
// Each handler calls the method named, so the two are one API. With
// WithBearerToken the control API needs the token too (a 401 without it).
// Errors are Kratos-shaped: {"error":{"code","status","message"}}.

// controlPrefix is the control API's path prefix on the admin port.
const controlPrefix = "/_fake/"

// isControl reports whether r is for the control API.
func isControl(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, controlPrefix)
}

// controlling serves the control API in front of next (the admin API).
func (s *Server) controlling(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isControl(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if !s.authorized(r) {
			writeError(w, errUnauthorized("The request did not carry a valid bearer token in the Authorization header."))
			return
		}
		s.serveControl(w, r)
	})
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes)
	switch strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, controlPrefix), "/") {
	case "reset":
		if allowed(w, r, http.MethodPost) {
			s.Reset()
			s.mu.Lock()
			n := len(s.identities)
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]int{"identities": n})
		}
	case "requests":
		if allowed(w, r, http.MethodGet, http.MethodDelete) {
			if r.Method == http.MethodDelete {
				s.ClearRequests()
				w.WriteHeader(http.StatusNoContent)
				return
			}
			bodies := r.URL.Query().Get("bodies") == "true"
			writeJSON(w, http.StatusOK, struct {
				Requests []Request `json:"requests"`
				Dropped  int64     `json:"dropped"`
				Capacity int       `json:"capacity"`
			}{s.Requests(bodies), s.RequestsDropped(), s.cfg.journalSize})
		}
	case "faults":
		if allowed(w, r, http.MethodGet, http.MethodPost, http.MethodDelete) {
			switch r.Method {
			case http.MethodGet:
				writeJSON(w, http.StatusOK, struct {
					Faults []FaultRule `json:"faults"`
				}{s.Faults()})
			case http.MethodDelete:
				s.ClearFaults()
				w.WriteHeader(http.StatusNoContent)
			default:
				s.postFaults(w, r)
			}
		}
	case "sessions":
		if allowed(w, r, http.MethodPost) {
			s.postSession(w, r)
		}
	default:
		writeError(w, errNotFound("kratostest: no control endpoint "+r.URL.Path+"; see go doc github.com/kratosadmin/sdk/cmd/kratos-fake"))
	}
}

// allowed answers 405 unless r's method is one of methods.
func allowed(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	methodNotAllowed(w, methods...)
	return false
}

// postFaults adds a fault or an array of them, all or none.
func (s *Server) postFaults(w http.ResponseWriter, r *http.Request) {
	var b json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		writeError(w, errBadRequestMessage("kratostest: faults: "+err.Error()))
		return
	}
	var fs []Fault
	if trimmed := strings.TrimSpace(string(b)); strings.HasPrefix(trimmed, "[") {
		if err := json.Unmarshal(b, &fs); err != nil {
			writeError(w, errBadRequestMessage("kratostest: faults: "+err.Error()))
			return
		}
	} else {
		var f Fault
		if err := json.Unmarshal(b, &f); err != nil {
			writeError(w, errBadRequestMessage("kratostest: fault: "+err.Error()))
			return
		}
		fs = []Fault{f}
	}
	for k := range fs {
		if err := fs[k].check(); err != nil {
			writeError(w, errBadRequestMessage(fmt.Sprintf("%v (fault %d)", err, k)))
			return
		}
	}
	ids := map[int]bool{}
	for _, f := range fs {
		id, _ := s.AddFault(f) // checked above
		ids[id] = true
	}
	var added []FaultRule
	for _, rule := range s.Faults() {
		if ids[rule.ID] {
			added = append(added, rule)
		}
	}
	writeJSON(w, http.StatusCreated, struct {
		Faults []FaultRule `json:"faults"`
	}{added})
}

// seedSessionBody is POST /_fake/sessions' body: SeedSession's arguments.
type seedSessionBody struct {
	IdentityID      string     `json:"identity_id"`
	Active          *bool      `json:"active"`
	AAL             string     `json:"aal"`
	AuthenticatedAt *time.Time `json:"authenticated_at"`
	ExpiresAt       *time.Time `json:"expires_at"`
	Methods         []struct {
		Method string `json:"method"`
		AAL    string `json:"aal"`
	} `json:"methods"`
	Devices []struct {
		IPAddress string `json:"ip_address"`
		UserAgent string `json:"user_agent"`
		Location  string `json:"location"`
	} `json:"devices"`
}

// postSession seeds a session and answers it with its token, as the login
// API does.
func (s *Server) postSession(w http.ResponseWriter, r *http.Request) {
	var in seedSessionBody
	b, err := io.ReadAll(r.Body)
	if err == nil {
		err = strictDecode(b, &in)
	}
	if err != nil {
		writeError(w, errBadRequestMessage("kratostest: session: "+err.Error()))
		return
	}
	var opts []SessionOption
	if in.Active != nil {
		opts = append(opts, WithSessionActive(*in.Active))
	}
	if in.AAL != "" {
		opts = append(opts, WithSessionAAL(client.AuthenticatorAssuranceLevel(in.AAL)))
	}
	if in.AuthenticatedAt != nil {
		opts = append(opts, WithSessionAuthenticatedAt(*in.AuthenticatedAt))
	}
	if in.ExpiresAt != nil {
		opts = append(opts, WithSessionExpiresAt(*in.ExpiresAt))
	}
	for _, m := range in.Methods {
		opts = append(opts, WithSessionMethod(client.IdentityCredentialsType(m.Method), client.AuthenticatorAssuranceLevel(m.AAL)))
	}
	for _, d := range in.Devices {
		opts = append(opts, WithSessionDevice(d.IPAddress, d.UserAgent, d.Location))
	}
	seeded, err := s.SeedSession(in.IdentityID, opts...)
	if err != nil {
		writeError(w, errBadRequestMessage(err.Error()))
		return
	}
	writeJSON(w, http.StatusCreated, seeded)
}
