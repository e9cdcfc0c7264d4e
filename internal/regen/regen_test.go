package regen_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/kratosadmin/sdk/internal/regen"
)

// newQueryParams are added to listIdentities in the copy's spec: a string
// and an exploded array, neither known to client/.
const newQueryParams = `        - name: regen_probe
          in: query
          description: Added by internal/regen's test.
          schema:
            type: string
        - name: regen_probe_tags
          in: query
          description: Added by internal/regen's test.
          style: form
          explode: true
          schema:
            type: array
            items:
              type: string
`

// newOperation is added to the copy's spec: an operation client/ has no
// method for.
const newOperation = `  /admin/regen-probe/{probeID}:
    get:
      operationId: getRegenProbe
      tags: [identity]
      summary: Added by internal/regen's test
      parameters:
        - name: probeID
          in: path
          required: true
          schema:
            type: string
        - name: level
          in: query
          schema:
            type: integer
            format: int64
      responses:
        '200':
          description: The probe.
          content:
            application/json:
              schema:
                type: object
                properties:
                  id:
                    type: string
        default:
          $ref: '#/components/responses/ErrorGeneric'
`

// newModelField is added to the Identity model in the copy's spec: the
// generated codecs must read it with no hand edit.
const newModelField = `        regen_probe_note:
          type: string
          description: Added by internal/regen's test.
`

// probeTest runs inside the regenerated copy. It uses only client's public
// types and the generated package: nothing in client/ knows the new
// parameters or the new operation.
const probeTest = `package regenprobe_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/gen"
	"github.com/kratosadmin/sdk/internal/jsonwire"
)

// TestNewModelFieldIsDecoded: a property added to a model is read by the
// regenerated codecs, on their own path (not handed to encoding/json).
func TestNewModelFieldIsDecoded(t *testing.T) {
	var id gen.Identity
	before := jsonwire.Fallbacks()
	if err := gen.DecodeJSON([]byte(` + "`" + `{"id":"probe-1","regen_probe_note":"hello"}` + "`" + `), &id); err != nil {
		t.Fatal(err)
	}
	if id.RegenProbeNote != "hello" || jsonwire.Fallbacks() != before {
		t.Fatalf("RegenProbeNote = %q, fallbacks %d -> %d", id.RegenProbeNote, before, jsonwire.Fallbacks())
	}
	b, err := gen.EncodeJSON(&id)
	if err != nil || !json.Valid(b) || !strings.Contains(string(b), ` + "`" + `"regen_probe_note":"hello"` + "`" + `) {
		t.Fatalf("encoded %s, %v", b, err)
	}
}

type recorder struct {
	mu    sync.Mutex
	lines []string
	auth  []string
}

func (rec *recorder) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.lines = append(rec.lines, r.Method+" "+r.RequestURI)
		rec.auth = append(rec.auth, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/admin/identities":
			w.Write([]byte("[]"))
		case r.URL.Path == "/admin/regen-probe/missing":
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(` + "`" + `{"error":{"code":404,"status":"Not Found","reason":"no such probe","message":"The requested resource could not be found"}}` + "`" + `))
		default:
			w.Write([]byte(` + "`" + `{"id":"probe-1"}` + "`" + `))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (rec *recorder) take() (lines, auth []string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	lines, auth = rec.lines, rec.auth
	rec.lines, rec.auth = nil, nil
	return lines, auth
}

func TestNewQueryParameterReachesTheWire(t *testing.T) {
	rec := &recorder{}
	c, err := client.New(rec.server(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	params := &client.ListIdentitiesParams{PageSize: 2, RegenProbe: "a b&c", RegenProbeTags: []string{"x", "y/z"}}
	if _, err := c.Identities.ListPage(ctx, params); err != nil {
		t.Fatal(err)
	}
	for _, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{RegenProbe: "walk"}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	lines, _ := rec.take()
	want := []string{
		"GET /admin/identities?regen_probe=a+b%26c&regen_probe_tags=x&regen_probe_tags=y%2Fz&page_size=2",
		"GET /admin/identities?regen_probe=walk",
	}
	if len(lines) != len(want) || lines[0] != want[0] || lines[1] != want[1] {
		t.Fatalf("request lines %q\nwant         %q", lines, want)
	}
}

func TestNewOperationIsCallable(t *testing.T) {
	rec := &recorder{}
	c, err := client.New(rec.server(t).URL, client.WithBearerToken("probe-token"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	resp, err := c.Generated().GetRegenProbe(ctx, "p 1/2", &gen.GetRegenProbeParams{Level: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.ID != "probe-1" {
		t.Fatalf("body %+v, %v", body, err)
	}

	_, err = c.Generated().GetRegenProbe(ctx, "missing", nil)
	var apiErr *client.Error
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Reason != "no such probe" {
		t.Fatalf("unknown probe: %v, want an *Error matching ErrNotFound", err)
	}
	if _, err := c.Generated().GetRegenProbe(ctx, "..", nil); !errors.Is(err, gen.ErrDotSegment) {
		t.Fatalf("dot segment: %v, want ErrDotSegment", err)
	}

	lines, auth := rec.take()
	want := []string{"GET /admin/regen-probe/p%201%2F2?level=3", "GET /admin/regen-probe/missing"}
	if len(lines) != 2 || lines[0] != want[0] || lines[1] != want[1] {
		t.Fatalf("request lines %q\nwant         %q", lines, want)
	}
	for i, a := range auth {
		if a != "Bearer probe-token" {
			t.Errorf("request %d: Authorization %q", i, a)
		}
	}
}
`

// TestSpecChangeReachesTheSDK changes a copy of the spec the way a user
// would (a new optional query parameter on listIdentities, a new
// operation), runs go generate in the copy, and shows with a test run in
// the copy that both reach the wire with client/ unchanged: the new
// parameter through the typed ListPage and List, the new operation
// through Client.Generated with the client's auth and error mapping; and
// that kratostest no longer builds until it implements the operation.
func TestSpecChangeReachesTheSDK(t *testing.T) {
	root := regen.Root(t)
	m := regen.Copy(t, root)
	m.InsertAfterFirst(t, regen.SpecPath, "operationId: listIdentities\n", "      parameters:\n", newQueryParams)
	m.InsertAfter(t, regen.SpecPath, "\npaths:\n", newOperation)
	m.InsertAfterFirst(t, regen.SpecPath, "\n    Identity:\n", "      properties:\n", newModelField)

	// The patched spec is valid and has what the probe expects.
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(m.Dir, regen.SpecPath))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("patched spec: %v", err)
	}
	list := doc.Paths.Find("/admin/identities").Get
	if list.Parameters.GetByInAndName("query", "regen_probe") == nil || doc.Paths.Find("/admin/regen-probe/{probeID}") == nil {
		t.Fatal("the patch did not land in the spec")
	}

	m.Write(t, "regenprobe/probe_test.go", probeTest)
	// Before regenerating, the probe cannot even compile: the fields and
	// the method it uses come from the spec change alone.
	if out, err := m.Go("vet", "./regenprobe/"); err == nil || !strings.Contains(out, "RegenProbe") {
		t.Fatalf("the probe compiled before go generate (err %v):\n%s", err, out)
	}

	m.Generate(t)
	out := m.MustGo(t, "test", "-count=1", "-v", "./regenprobe/")
	for _, name := range []string{"TestNewQueryParameterReachesTheWire", "TestNewOperationIsCallable", "TestNewModelFieldIsDecoded"} {
		if !strings.Contains(out, "--- PASS: "+name) {
			t.Errorf("%s did not pass in the copy:\n%s", name, out)
		}
	}

	// The fake implements the generated server interface, so make test
	// fails (kratostest does not build) until it implements the operation.
	if out, err := m.Go("build", "./kratostest/"); err == nil || !strings.Contains(out, "GetRegenProbe") {
		t.Errorf("kratostest built without implementing the new operation (err %v):\n%s", err, out)
	}

	// client/ is the original, byte for byte: no hand edit was needed.
	entries, err := os.ReadDir(filepath.Join(root, "client"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		rel := filepath.Join("client", e.Name())
		orig, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		if m.Read(t, rel) != string(orig) {
			t.Errorf("%s differs in the copy", rel)
		}
	}
	// And gen/ did change: the generator, not a hand, carried the change.
	if !strings.Contains(m.Read(t, "gen/models.gen.go"), "RegenProbeTags []string") || !strings.Contains(m.Read(t, "gen/client.gen.go"), "func NewGetRegenProbeRequest(") ||
		!strings.Contains(m.Read(t, "gen/codecs.gen.go"), `case "regen_probe_note":`) {
		t.Error("gen/ in the copy lacks the regenerated parameter or operation")
	}
}
