package kratostest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Fault is a rule that fails requests matching it, on either port: an
// error status with a Kratos-shaped body, latency, a dropped connection,
// and with AfterApply the same once the request has been applied (a write
// that succeeded whose answer is lost or replaced). Add it with
// Server.AddFault, or POST /_fake/faults with its JSON form:
//
//	{"method":"POST","path":"/admin/identities","status":503,"times":1}
//	{"path":"/admin/identities/*","latency":"250ms"}
//	{"method":"PATCH","path":"/admin/identities","drop":true,"after_apply":true}
//
// The first rule (in the order added) that matches a request and has
// times left applies to it; control requests (/_fake/) are never failed.
type Fault struct {
	// Method matches the request's method (any case); empty matches all.
	Method string `json:"method,omitempty"`
	// Path is a pattern of the escaped path: segments are matched with
	// path.Match ("*" is one segment or part of one), and a last segment
	// "**" matches any rest, none included ("/admin/**"; elsewhere "**"
	// is one segment, as "*").
	Path string `json:"path"`
	// Status, 400 to 599, is answered with Kratos' error body
	// {"error":{"code","status","message"}}, Message as its message (by
	// default "kratostest: injected fault").
	Status  int    `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	// Headers are set on the Status answer (for example Retry-After).
	Headers map[string]string `json:"headers,omitempty"`
	// Latency delays the request before anything else (JSON: a Go
	// duration string such as "250ms").
	Latency time.Duration `json:"-"`
	// Drop closes the connection without an answer.
	Drop bool `json:"drop,omitempty"`
	// AfterApply applies the request first, then answers Status or drops
	// the connection instead of the server's answer.
	AfterApply bool `json:"after_apply,omitempty"`
	// Times is how many requests the rule fails; 0 is every one.
	Times int `json:"times,omitempty"`
}

// faultJSON is Fault's JSON form: Latency as a duration string.
type faultJSON struct {
	faultFields
	Latency string `json:"latency,omitempty"`
}

type faultFields Fault

// MarshalJSON writes Latency as a duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	out := faultJSON{faultFields: faultFields(f)}
	if f.Latency > 0 {
		out.Latency = f.Latency.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads Latency as a duration string ("250ms", "1.5s").
func (f *Fault) UnmarshalJSON(b []byte) error {
	var in faultJSON
	if err := strictDecode(b, &in); err != nil {
		return err
	}
	*f = Fault(in.faultFields)
	if in.Latency != "" {
		d, err := time.ParseDuration(in.Latency)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		f.Latency = d
	}
	return nil
}

// FaultRule is a fault the server holds: its id, what it does, and how
// many requests it has failed (Hits) and may still fail (Remaining, -1:
// no limit).
type FaultRule struct {
	ID int `json:"id"`
	Fault
	Hits      int `json:"hits"`
	Remaining int `json:"remaining"`
}

// MarshalJSON flattens the fault into the rule.
func (r FaultRule) MarshalJSON() ([]byte, error) {
	f, err := json.Marshal(r.Fault)
	if err != nil {
		return nil, err
	}
	head, _ := json.Marshal(struct {
		ID        int `json:"id"`
		Hits      int `json:"hits"`
		Remaining int `json:"remaining"`
	}{r.ID, r.Hits, r.Remaining})
	// {"id":..,"hits":..,"remaining":..} + {fault fields}
	if len(f) == 2 {
		return head, nil
	}
	return append(append(head[:len(head)-1], ','), f[1:]...), nil
}

// UnmarshalJSON reads a rule as MarshalJSON writes it.
func (r *FaultRule) UnmarshalJSON(b []byte) error {
	var head struct {
		ID        int `json:"id"`
		Hits      int `json:"hits"`
		Remaining int `json:"remaining"`
	}
	var f faultJSON
	if err := json.Unmarshal(b, &head); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	fault := Fault(f.faultFields)
	if f.Latency != "" {
		d, err := time.ParseDuration(f.Latency)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		fault.Latency = d
	}
	*r = FaultRule{ID: head.ID, Fault: fault, Hits: head.Hits, Remaining: head.Remaining}
	return nil
}

// check reports what makes a fault unusable.
func (f *Fault) check() error {
	var errs []error
	if f.Path == "" || !strings.HasPrefix(f.Path, "/") {
		errs = append(errs, fmt.Errorf("path %q: want a pattern starting with /", f.Path))
	} else if _, err := path.Match(f.Path, ""); err != nil {
		errs = append(errs, fmt.Errorf("path %q: %w", f.Path, err))
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		errs = append(errs, fmt.Errorf("status %d: want 400 to 599", f.Status))
	}
	if f.Status != 0 && f.Drop {
		errs = append(errs, errors.New("status and drop: choose one"))
	}
	if f.Status == 0 && !f.Drop && f.Latency <= 0 {
		errs = append(errs, errors.New("no effect: give a status, drop or a latency"))
	}
	if f.AfterApply && f.Status == 0 && !f.Drop {
		errs = append(errs, errors.New("after_apply needs a status or drop"))
	}
	if f.Latency < 0 || f.Times < 0 {
		errs = append(errs, errors.New("latency and times cannot be negative"))
	}
	for k := range f.Headers {
		if k == "" || strings.ContainsAny(k, " \r\n:") {
			errs = append(errs, fmt.Errorf("header name %q", k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kratostest: fault: %w", err)
	}
	return nil
}

// matches reports whether the rule applies to r.
func (f *Fault) matches(r *http.Request) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	return matchPath(f.Path, r.URL.EscapedPath())
}

// matchPath matches an escaped path against a pattern segment by segment
// (path.Match); a last pattern segment "**" matches any rest.
func matchPath(pattern, p string) bool {
	ps := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for k, pat := range ps {
		if pat == "**" && k == len(ps)-1 {
			return true
		}
		if k >= len(segs) {
			return false
		}
		if ok, _ := path.Match(pat, segs[k]); !ok {
			return false
		}
	}
	return len(segs) == len(ps)
}

// faults holds the fault rules.
type faults struct {
	mu     sync.Mutex
	rules  []*FaultRule
	nextID int
}

// AddFault adds a fault rule and returns its id, or an error naming what
// makes it unusable. It is POST /_fake/faults.
func (s *Server) AddFault(f Fault) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	f.Headers = cloneHeaders(f.Headers)
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.nextID++
	r := &FaultRule{ID: s.faults.nextID, Fault: f, Remaining: -1}
	if f.Times > 0 {
		r.Remaining = f.Times
	}
	s.faults.rules = append(s.faults.rules, r)
	return r.ID, nil
}

func cloneHeaders(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v
	}
	return out
}

// Faults returns the fault rules, in the order they were added, with
// their hits. It is GET /_fake/faults.
func (s *Server) Faults() []FaultRule {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := make([]FaultRule, len(s.faults.rules))
	for k, r := range s.faults.rules {
		out[k] = *r
		out[k].Headers = cloneHeaders(r.Headers)
	}
	return out
}

// ClearFaults removes every fault rule. It is DELETE /_fake/faults.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = nil
}

// take returns the first rule that applies to r, counting the hit.
func (fs *faults) take(r *http.Request) (FaultRule, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, rule := range fs.rules {
		if rule.Remaining == 0 || !rule.matches(r) {
			continue
		}
		rule.Hits++
		if rule.Remaining > 0 {
			rule.Remaining--
		}
		return *rule, true
	}
	return FaultRule{}, false
}

// faulting applies the fault rules to the requests next would answer.
func (s *Server) faulting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rule, ok := s.faults.take(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if id, ok := r.Context().Value(faultKey{}).(*int); ok {
			*id = rule.ID
		}
		if rule.Latency > 0 {
			t := time.NewTimer(rule.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch {
		case rule.AfterApply:
			// Applied, and the answer lost.
			next.ServeHTTP(&recorder{header: http.Header{}, status: http.StatusOK}, r)
		case rule.Status == 0 && !rule.Drop:
			next.ServeHTTP(w, r) // latency alone
			return
		}
		if rule.Drop {
			// net/http closes the connection without an answer.
			panic(http.ErrAbortHandler)
		}
		for k, v := range rule.Headers {
			w.Header().Set(k, v)
		}
		msg := rule.Message
		if msg == "" {
			msg = "kratostest: injected fault"
		}
		writeError(w, &apiError{httpStatus: rule.Status, code: rule.Status, message: msg})
	})
}
