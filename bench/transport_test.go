package bench

import (
	"bytes"
	"flag"
	"io"
	"net/http"
)

// inMemory replaces the network with memoryTransport for all three
// implementations (run.sh: TRANSPORT=memory).
var inMemory = flag.Bool("inmemory", false, "answer requests in-process, without a network")

// memoryTransport answers requests in the client's process by calling the
// benchmark handler directly: no sockets, no server process, no scheduling
// between them. The figures are then the clients' own work (building the
// request, the http.Client machinery, reading and decoding), plus the
// handler's small share, which is the same for all three.
type memoryTransport struct{ h http.Handler }

func (t memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	w := &memoryResponse{header: make(http.Header)}
	t.h.ServeHTTP(w, req)
	if req.Body != nil {
		req.Body.Close() // a RoundTripper closes the request body
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{
		Status:        http.StatusText(w.status),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(bytes.NewReader(w.body)),
		ContentLength: int64(len(w.body)),
		Request:       req,
	}, nil
}

type memoryResponse struct {
	header http.Header
	status int
	body   []byte
}

func (w *memoryResponse) Header() http.Header { return w.header }

func (w *memoryResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *memoryResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.body == nil {
		w.body = b[:len(b):len(b)] // the handler's pre-encoded bytes, not copied
	} else {
		w.body = append(w.body, b...)
	}
	return len(b), nil
}
