package bench

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The server runs in a child process (this test binary, re-executed with
// serverEnv set), so that the benchmarks' B/op and allocs/op count the
// clients' allocations only, and the server's pre-encoded pages do not
// enlarge the clients' heap (and so change their GC pacing).
const serverEnv = "KRATOS_BENCH_SERVER"

// serverURL is the child server's base URL, set by TestMain.
var serverURL string

func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) == "1" {
		serveUntilStdinCloses()
		return
	}
	stop, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: starting the server process:", err)
		os.Exit(1)
	}
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		warmUp()
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func startServer() (stop func(), err error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("reading its address: %w", err)
	}
	serverURL = strings.TrimSpace(line)
	return func() {
		stdin.Close() // the child exits when its stdin closes
		_ = cmd.Wait()
	}, nil
}

func serveUntilStdinCloses() {
	srv := httptest.NewServer(newHandler())
	fmt.Println(srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
}

// handler answers the benchmarked calls with pre-encoded bytes:
//
//	GET  /admin/identities/{id}                 one identity, with credentials
//	GET  /admin/identities?page_size=250[&page_token=T]
//	                                            a page of the 10,000 identities
//	POST /admin/identities                      201, the created identity
//	GET  /admin/sessions/{id}?expand=identity&expand=devices
//	GET  /generated/{total}/admin/identities?...
//	                                            pages of total identities,
//	                                            encoded on request (memory test)
//
// Every request must carry the bearer token.
type handler struct {
	identity, created, session, batch []byte
	pages                             map[string]*page // by page_token ("" for the first)
}

type page struct {
	body []byte
	link []string
}

var (
	hdrJSON      = []string{"application/json; charset=utf-8"}
	hdrNoCache   = []string{"private, no-cache, no-store, must-revalidate"}
	hdrCreatedAt = []string{"http://127.0.0.1:4434/identities/" + createdIdentityID}
	wantAuth     = "Bearer " + benchToken
)

func newHandler() *handler {
	h := &handler{
		identity: appendIdentity(nil, getIdentityID, 7, true, true),
		created:  appendIdentity(nil, createdIdentityID, 8, true, true),
		session:  sessionJSON(),
		batch:    batchResponse(),
		pages:    make(map[string]*page),
	}
	token := ""
	for p := 0; ; p++ {
		body, next := identityPage(nil, p, walkTotal)
		h.pages[token] = &page{body: body, link: []string{linkHeader("", next)}}
		if next == "" {
			break
		}
		token = next
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != wantAuth {
		http.Error(w, `{"error":{"code":401,"status":"Unauthorized"}}`, http.StatusUnauthorized)
		return
	}
	path := r.URL.Path
	switch {
	case path == "/admin/identities" && r.Method == http.MethodGet:
		q := r.URL.Query()
		p, ok := h.pages[q.Get("page_token")]
		if !ok || q.Get("page_size") != strconv.Itoa(pageSize) {
			http.Error(w, `{"error":{"code":400,"status":"Bad Request"}}`, http.StatusBadRequest)
			return
		}
		w.Header()["Link"] = p.link
		h.write(w, http.StatusOK, p.body)
	case path == "/admin/identities" && r.Method == http.MethodPatch:
		if n, _ := io.Copy(io.Discard, r.Body); n == 0 {
			http.Error(w, `{"error":{"code":400,"status":"Bad Request"}}`, http.StatusBadRequest)
			return
		}
		h.write(w, http.StatusOK, h.batch)
	case path == "/admin/identities" && r.Method == http.MethodPost:
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header()["Location"] = hdrCreatedAt
		h.write(w, http.StatusCreated, h.created)
	case strings.HasPrefix(path, "/admin/identities/") && r.Method == http.MethodGet:
		if path[len("/admin/identities/"):] != getIdentityID {
			http.NotFound(w, r)
			return
		}
		h.write(w, http.StatusOK, h.identity)
	case strings.HasPrefix(path, "/admin/sessions/") && r.Method == http.MethodGet:
		if path[len("/admin/sessions/"):] != sessionID || r.URL.RawQuery != "expand=identity&expand=devices" {
			http.NotFound(w, r)
			return
		}
		h.write(w, http.StatusOK, h.session)
	case strings.HasPrefix(path, "/generated/") && r.Method == http.MethodGet:
		h.generated(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) write(w http.ResponseWriter, status int, body []byte) {
	hdr := w.Header()
	hdr["Content-Type"] = hdrJSON
	hdr["Cache-Control"] = hdrNoCache
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// generated serves /generated/{total}/admin/identities, encoding each page
// on request. Its page tokens are Kratos's: the id of the last identity
// served.
func (h *handler) generated(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/generated/")
	totalStr, tail, _ := strings.Cut(rest, "/")
	total, err := strconv.Atoi(totalStr)
	if err != nil || tail != "admin/identities" {
		http.NotFound(w, r)
		return
	}
	p := 0
	if tok := r.URL.Query().Get("page_token"); tok != "" {
		n, ok := indexOf(tok)
		if !ok || (n+1)%pageSize != 0 {
			http.Error(w, `{"error":{"code":400,"status":"Bad Request"}}`, http.StatusBadRequest)
			return
		}
		p = (n + 1) / pageSize
	}
	body, next := identityPage(nil, p, total)
	w.Header()["Link"] = []string{linkHeader("/generated/"+totalStr, next)}
	h.write(w, http.StatusOK, body)
}
