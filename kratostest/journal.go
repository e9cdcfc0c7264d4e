package kratostest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// The journal: every request the server answers, on both ports, oldest
// first, bounded (WithJournalSize; the oldest are dropped). Control
// requests (/_fake/) are not journaled. Server.Requests reads it, and GET
// /_fake/requests serves it to programs (control.go).

// DefaultJournalSize is how many requests the journal keeps by default.
const DefaultJournalSize = 1000

// journalBodyLimit bounds each body the journal keeps (the rest is cut
// and BodiesTruncated set).
const journalBodyLimit = 16 << 10

// Request is a request the server answered, as the journal keeps it.
type Request struct {
	// Time is when the request arrived.
	Time time.Time `json:"time"`
	// API is the port: "admin" or "public".
	API    string `json:"api"`
	Method string `json:"method"`
	// Path is the escaped path, Query the raw query ("" without one).
	Path  string `json:"path"`
	Query string `json:"query"`
	// Status is the answer's status; 0 when the connection was dropped
	// without one (a fault).
	Status int `json:"status"`
	// Fault is the id of the fault rule that changed the answer (0: none).
	Fault int `json:"fault,omitempty"`
	// RequestBody and ResponseBody are the bodies as sent, each cut at 16
	// KiB (BodiesTruncated), filled only when asked for (Requests(true),
	// ?bodies=true). They hold what clients sent and got, passwords and
	// session tokens included: the journal is for tests, on the admin
	// port, behind the bearer token when one is set.
	RequestBody     string `json:"request_body,omitempty"`
	ResponseBody    string `json:"response_body,omitempty"`
	BodiesTruncated bool   `json:"bodies_truncated,omitempty"`
}

// journal is the bounded list of requests.
type journal struct {
	mu      sync.Mutex
	size    int
	entries []Request // a ring once full: oldest at next
	next    int
	dropped int64
}

func (j *journal) add(r Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.entries) < j.size {
		j.entries = append(j.entries, r)
		return
	}
	j.entries[j.next] = r
	j.next = (j.next + 1) % j.size
	j.dropped++
}

// Requests returns the requests the server answered, oldest first: at
// most the journal's size (WithJournalSize, default DefaultJournalSize),
// the oldest dropped beyond it. With bodies, each request's body and its
// answer's (up to 16 KiB each) are included. It is GET /_fake/requests.
func (s *Server) Requests(bodies bool) []Request {
	j := &s.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Request, 0, len(j.entries))
	out = append(out, j.entries[j.next:]...)
	out = append(out, j.entries[:j.next]...)
	if !bodies {
		for k := range out {
			out[k].RequestBody, out[k].ResponseBody, out[k].BodiesTruncated = "", "", false
		}
	}
	return out
}

// RequestsDropped returns how many requests the journal dropped, oldest
// first, to stay within its size since it was last cleared.
func (s *Server) RequestsDropped() int64 {
	s.journal.mu.Lock()
	defer s.journal.mu.Unlock()
	return s.journal.dropped
}

// ClearRequests empties the journal. It is DELETE /_fake/requests.
func (s *Server) ClearRequests() {
	j := &s.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries, j.next, j.dropped = nil, 0, 0
}

// capBuffer keeps the first journalBodyLimit bytes written to it.
type capBuffer struct {
	b   bytes.Buffer
	cut bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	if room := journalBodyLimit - c.b.Len(); room < len(p) {
		c.cut = true
		p = p[:max(room, 0)]
	}
	c.b.Write(p)
	return len(p), nil
}

// teeBody copies what is read from a request body into a capBuffer.
type teeBody struct {
	io.ReadCloser
	buf *capBuffer
}

func (t teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	_, _ = t.buf.Write(p[:n])
	return n, err
}

// journalWriter records the status and the first bytes of an answer.
type journalWriter struct {
	http.ResponseWriter
	status int
	body   capBuffer
}

func (w *journalWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *journalWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_, _ = w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *journalWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// faultKey keys, in a request's context, where the fault layer notes the
// id of the rule it applied.
type faultKey struct{}

// journaling records each request that next answers in the journal, the
// dropped ones too (status 0).
func (s *Server) journaling(api string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := Request{Time: s.now(), API: api, Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery}
		reqBody := &capBuffer{}
		tee := teeBody{ReadCloser: r.Body, buf: reqBody}
		r.Body = tee
		fault := new(int)
		r = r.WithContext(context.WithValue(r.Context(), faultKey{}, fault))
		jw := &journalWriter{ResponseWriter: w}
		defer func() {
			e.Status, e.Fault = jw.status, *fault
			if e.Status == 0 {
				e.Status = http.StatusOK // nothing written: net/http's 200
			}
			if v := recover(); v != nil {
				e.Status = 0
				defer panic(v)
			}
			// What the handler did not read (a request failed before it
			// was applied) is journaled too, up to the limit.
			_, _ = io.Copy(io.Discard, io.LimitReader(tee, int64(journalBodyLimit-reqBody.b.Len()+1)))
			e.RequestBody, e.ResponseBody = reqBody.b.String(), jw.body.b.String()
			e.BodiesTruncated = reqBody.cut || jw.body.cut
			s.journal.add(e)
			if s.cfg.requestLog != nil {
				e.RequestBody, e.ResponseBody, e.BodiesTruncated = "", "", false
				s.cfg.requestLog(e)
			}
		}()
		next.ServeHTTP(jw, r)
	})
}
