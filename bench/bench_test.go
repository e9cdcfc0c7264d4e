package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	ory "github.com/ory/client-go"

	ogen "github.com/kratosadmin/sdk/bench/ogen"
	"github.com/kratosadmin/sdk/client"
)

// Each benchmark runs one case four ways, as sub-benchmarks:
//
//	sdk        this SDK (github.com/kratosadmin/sdk/client), default options
//	oryclient  github.com/ory/client-go, the official generated SDK
//	ogen       the client github.com/ogen-go/ogen generates from the SDK's
//	           spec, with its own generated jx codecs (package ./ogen)
//	floor      hand-written net/http + encoding/json into the SDK's structs
//
// All four authenticate with the same bearer token against the same
// server process and must return the same result on every iteration.

func BenchmarkGetIdentity(b *testing.B)        { run(b, getIdentityCase) }
func BenchmarkListIdentitiesPage(b *testing.B) { run(b, listPageCase) }
func BenchmarkWalkIdentities(b *testing.B)     { run(b, walkCase) }
func BenchmarkCreateIdentity(b *testing.B)     { run(b, createCase) }
func BenchmarkGetSession(b *testing.B)         { run(b, getSessionCase) }
func BenchmarkBatchCreate(b *testing.B)        { run(b, batchCase) }

// summary is what a call returned, enough to check that every
// implementation did the whole work: the object's id (the last item's for
// lists), the number of items and the next page token.
type summary struct {
	ID   string
	N    int
	Next string
}

type op func() (summary, error)

type benchCase struct {
	sdk, oryclient, ogen, floor op
	want                        summary
}

// impls are the implementations of c in the order they run.
func (c benchCase) impls() []struct {
	name string
	op   op
} {
	return []struct {
		name string
		op   op
	}{{"sdk", c.sdk}, {"oryclient", c.oryclient}, {"ogen", c.ogen}, {"floor", c.floor}}
}

// clients are the four implementations, set up as their users would.
type clients struct {
	sdk    *client.Client
	ory    *ory.APIClient
	oryCtx context.Context // carries ory's bearer token
	ogen   *ogen.Client
	floor  *floor
	ctx    context.Context
}

// With -inmemory all four get an *http.Client whose transport answers
// in-process; otherwise each uses its default: the SDK its own pooled
// transport, ory/client-go, ogen and the floor http.DefaultTransport.
func newClients() *clients {
	opts := []client.Option{client.WithBearerToken(benchToken)}
	cfg := ory.NewConfiguration()
	cfg.Servers = ory.ServerConfigurations{{URL: serverURL}}
	fl := newFloor(serverURL, benchToken)
	var ogenHC *http.Client
	if *inMemory {
		hc := &http.Client{Transport: memoryTransport{memoryHandler()}}
		opts = append(opts, client.WithHTTPClient(hc))
		cfg.HTTPClient = hc
		fl.hc = hc
		ogenHC = hc
	}
	sdk, err := client.New(serverURL, opts...)
	if err != nil {
		panic(err) // the arguments are constants
	}
	ctx := context.Background()
	return &clients{
		sdk:    sdk,
		ory:    ory.NewAPIClient(cfg),
		oryCtx: context.WithValue(ctx, ory.ContextAccessToken, benchToken),
		ogen:   newOgen(ogenHC),
		floor:  fl,
		ctx:    ctx,
	}
}

var memoryHandler = sync.OnceValue(func() http.Handler { return newHandler() })

// reverse runs the implementations in the opposite order (floor first);
// run.sh sets it on every other round so that drift on the machine and the
// position within a case favour neither side.
var reverse = flag.Bool("reverse", false, "run floor, ogen, oryclient, sdk instead of sdk, oryclient, ogen, floor")

func run(b *testing.B, newCase func(*clients) benchCase) {
	c := newCase(newClients())
	impls := c.impls()
	if *reverse {
		slices.Reverse(impls)
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				got, err := impl.op()
				if err != nil {
					b.Fatal(err)
				}
				if got != c.want {
					b.Fatalf("got %+v, want %+v", got, c.want)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time this process has used, user and system, in
// nanoseconds. The server runs in another process, so per operation it is
// the client's own cost (the garbage collector's included), which the
// wall-clock ns/op buries under loopback and scheduling latency.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// warmUp runs every case of every implementation for a while before the
// benchmarks, so that the first benchmark of a run does not pay for a cold
// server process, cold caches and connections that the others find warm.
func warmUp() {
	c := newClients()
	for _, newCase := range allCases {
		bc := newCase(c)
		for _, impl := range bc.impls() {
			op := impl.op
			for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
				if _, err := op(); err != nil {
					panic(err)
				}
			}
		}
	}
}

var allCases = map[string]func(*clients) benchCase{
	"GetIdentity": getIdentityCase, "ListIdentitiesPage": listPageCase,
	"WalkIdentities": walkCase, "CreateIdentity": createCase, "GetSession": getSessionCase,
	"BatchCreate": batchCase,
}

// TestCasesAgree runs every case once per implementation and checks the
// summaries, so a broken benchmark fails `go test` rather than timing
// something else.
func TestCasesAgree(t *testing.T) {
	for name, newCase := range allCases {
		c := newCase(newClients())
		for _, impl := range c.impls() {
			got, err := impl.op()
			if err != nil {
				t.Errorf("%s/%s: %v", name, impl.name, err)
			} else if got != c.want {
				t.Errorf("%s/%s: got %+v, want %+v", name, impl.name, got, c.want)
			}
		}
	}
}

func getIdentityCase(c *clients) benchCase {
	return benchCase{
		want: summary{ID: getIdentityID, N: 2}, // two credentials
		sdk: func() (summary, error) {
			id, err := c.sdk.Identities.Get(c.ctx, getIdentityID, nil)
			if err != nil {
				return summary{}, err
			}
			return summary{ID: id.ID, N: len(id.Credentials)}, nil
		},
		oryclient: func() (summary, error) {
			id, _, err := c.ory.IdentityAPI.GetIdentity(c.oryCtx, getIdentityID).Execute()
			if err != nil {
				return summary{}, err
			}
			return summary{ID: id.Id, N: len(*id.Credentials)}, nil
		},
		ogen: func() (summary, error) {
			id, err := ogenGetIdentity(c)
			if err != nil {
				return summary{}, err
			}
			return summary{ID: id.ID.String(), N: len(id.Credentials.Value)}, nil
		},
		floor: func() (summary, error) {
			id, err := c.floor.getIdentity(c.ctx, getIdentityID)
			if err != nil {
				return summary{}, err
			}
			return summary{ID: id.ID, N: len(id.Credentials)}, nil
		},
	}
}

func listPageCase(c *clients) benchCase {
	_, next := identityPage(nil, 0, walkTotal)
	return benchCase{
		want: summary{ID: uuidFor(1, pageSize-1), N: pageSize, Next: next},
		sdk: func() (summary, error) {
			p, err := c.sdk.Identities.ListPage(c.ctx, &client.ListIdentitiesParams{PageSize: pageSize})
			if err != nil {
				return summary{}, err
			}
			return summarize(p.Items, func(i *client.Identity) string { return i.ID }, p.NextPageToken), nil
		},
		oryclient: func() (summary, error) {
			items, resp, err := c.ory.IdentityAPI.ListIdentities(c.oryCtx).PageSize(pageSize).Execute()
			if err != nil {
				return summary{}, err
			}
			return summarize(items, func(i *ory.Identity) string { return i.Id }, nextPageToken(resp.Header)), nil
		},
		ogen: func() (summary, error) {
			items, next, err := ogenListPage(c, "")
			if err != nil {
				return summary{}, err
			}
			return summarize(items, func(i *ogen.Identity) string { return i.ID.String() }, next), nil
		},
		floor: func() (summary, error) {
			items, next, err := c.floor.listIdentities(c.ctx, pageSize, "")
			if err != nil {
				return summary{}, err
			}
			return summarize(items, func(i *client.Identity) string { return i.ID }, next), nil
		},
	}
}

func summarize[T any](items []T, id func(*T) string, next string) summary {
	s := summary{N: len(items), Next: next}
	if len(items) > 0 {
		s.ID = id(&items[len(items)-1])
	}
	return s
}

func walkCase(c *clients) benchCase {
	return benchCase{
		want: summary{ID: uuidFor(1, walkTotal-1), N: walkTotal},
		sdk: func() (summary, error) {
			var s summary
			for id, err := range c.sdk.Identities.List(c.ctx, &client.ListIdentitiesParams{PageSize: pageSize}) {
				if err != nil {
					return s, err
				}
				s.ID, s.N = id.ID, s.N+1
			}
			return s, nil
		},
		oryclient: func() (summary, error) {
			var s summary
			token := ""
			for {
				req := c.ory.IdentityAPI.ListIdentities(c.oryCtx).PageSize(pageSize)
				if token != "" {
					req = req.PageToken(token)
				}
				items, resp, err := req.Execute()
				if err != nil {
					return s, err
				}
				for i := range items {
					s.ID, s.N = items[i].Id, s.N+1
				}
				if token = nextPageToken(resp.Header); token == "" || len(items) == 0 {
					return s, nil
				}
			}
		},
		ogen: func() (summary, error) {
			var s summary
			var last uuid.UUID // converted once at the end: ogen's ids are uuid.UUID
			token := ""
			for {
				items, next, err := ogenListPage(c, token)
				if err != nil {
					return s, err
				}
				for i := range items {
					last, s.N = items[i].ID, s.N+1
				}
				if token = next; token == "" || len(items) == 0 {
					s.ID = last.String()
					return s, nil
				}
			}
		},
		floor: func() (summary, error) {
			var s summary
			token := ""
			for {
				items, next, err := c.floor.listIdentities(c.ctx, pageSize, token)
				if err != nil {
					return s, err
				}
				for i := range items {
					s.ID, s.N = items[i].ID, s.N+1
				}
				if token = next; token == "" || len(items) == 0 {
					return s, nil
				}
			}
		},
	}
}

func createCase(c *clients) benchCase {
	// The same identity, as each SDK's users build it.
	body := &client.CreateIdentityBody{
		SchemaID:       "default",
		ExternalID:     "ext-alice-001",
		Traits:         json.RawMessage(createTraits),
		MetadataPublic: json.RawMessage(`{"plan":"free"}`),
		MetadataAdmin:  json.RawMessage(`{"crm_id":4711}`),
		State:          client.IdentityStateActive,
	}
	body.Credentials.Password.Config.Password = createPassword
	var oryTraits map[string]any
	if err := json.Unmarshal([]byte(createTraits), &oryTraits); err != nil {
		panic(err)
	}
	oryBody := ory.CreateIdentityBody{
		SchemaId:       "default",
		ExternalId:     ory.PtrString("ext-alice-001"),
		Traits:         oryTraits,
		MetadataPublic: map[string]any{"plan": "free"},
		MetadataAdmin:  map[string]any{"crm_id": 4711},
		State:          ory.PtrString("active"),
		Credentials: &ory.IdentityWithCredentials{Password: &ory.IdentityWithCredentialsPassword{
			Config: &ory.IdentityWithCredentialsPasswordConfig{Password: ory.PtrString(createPassword)},
		}},
	}
	ogenBody := ogenCreateBody()
	return benchCase{
		want: summary{ID: createdIdentityID, N: 2},
		sdk: func() (summary, error) {
			id, err := c.sdk.Identities.Create(c.ctx, body)
			if err != nil {
				return summary{}, err
			}
			return summary{ID: id.ID, N: len(id.Credentials)}, nil
		},
		oryclient: func() (summary, error) {
			id, _, err := c.ory.IdentityAPI.CreateIdentity(c.oryCtx).CreateIdentityBody(oryBody).Execute()
			if err != nil {
				return summary{}, err
			}
			return summary{ID: id.Id, N: len(*id.Credentials)}, nil
		},
		ogen: func() (summary, error) {
			res, err := c.ogen.CreateIdentity(c.ctx, ogenBody)
			if err != nil {
				return summary{}, err
			}
			id, ok := res.(*ogen.IdentityHeaders)
			if !ok {
				return summary{}, fmt.Errorf("ogen: createIdentity answered %T", res)
			}
			return summary{ID: id.Response.ID.String(), N: len(id.Response.Credentials.Value)}, nil
		},
		floor: func() (summary, error) {
			id, err := c.floor.createIdentity(c.ctx, body)
			if err != nil {
				return summary{}, err
			}
			return summary{ID: id.ID, N: len(id.Credentials)}, nil
		},
	}
}

func getSessionCase(c *clients) benchCase {
	params := &client.GetSessionParams{Expand: []client.SessionExpandable{client.SessionExpandIdentity, client.SessionExpandDevices}}
	return benchCase{
		want: summary{ID: sessionID, N: 2, Next: getIdentityID}, // two devices; Next holds the identity's id
		sdk: func() (summary, error) {
			s, err := c.sdk.Sessions.Get(c.ctx, sessionID, params)
			if err != nil {
				return summary{}, err
			}
			if s.Identity == nil {
				return summary{}, fmt.Errorf("identity not expanded")
			}
			return summary{ID: s.ID, N: len(s.Devices), Next: s.Identity.ID}, nil
		},
		oryclient: func() (summary, error) {
			s, _, err := c.ory.IdentityAPI.GetSession(c.oryCtx, sessionID).Expand([]string{"identity", "devices"}).Execute()
			if err != nil {
				return summary{}, err
			}
			if s.Identity == nil {
				return summary{}, fmt.Errorf("identity not expanded")
			}
			return summary{ID: s.Id, N: len(s.Devices), Next: s.Identity.Id}, nil
		},
		ogen: func() (summary, error) {
			s, err := ogenGetSession(c)
			if err != nil {
				return summary{}, err
			}
			if s.Identity.Null {
				return summary{}, fmt.Errorf("identity not expanded")
			}
			return summary{ID: s.ID.String(), N: len(s.Devices), Next: s.Identity.Value.ID.String()}, nil
		},
		floor: func() (summary, error) {
			s, err := c.floor.getSession(c.ctx, sessionID)
			if err != nil {
				return summary{}, err
			}
			if s.Identity == nil {
				return summary{}, fmt.Errorf("identity not expanded")
			}
			return summary{ID: s.ID, N: len(s.Devices), Next: s.Identity.ID}, nil
		},
	}
}

// TestFloorDecodesLikeSDK checks that the floor does the SDK's work: the
// same values, field for field, for every case.
func TestFloorDecodesLikeSDK(t *testing.T) {
	c := newClients()
	check := func(name string, sdk, floor any, errs ...error) {
		t.Helper()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if !reflect.DeepEqual(sdk, floor) {
			t.Errorf("%s: the SDK and the floor decoded different values:\nsdk:   %+v\nfloor: %+v", name, sdk, floor)
		}
	}
	si, err1 := c.sdk.Identities.Get(c.ctx, getIdentityID, nil)
	fi, err2 := c.floor.getIdentity(c.ctx, getIdentityID)
	check("GetIdentity", si, fi, err1, err2)

	sp, err1 := c.sdk.Identities.ListPage(c.ctx, &client.ListIdentitiesParams{PageSize: pageSize})
	items, next, err2 := c.floor.listIdentities(c.ctx, pageSize, "")
	check("ListIdentitiesPage", sp, &client.Page[client.Identity]{Items: items, NextPageToken: next, TotalCount: -1}, err1, err2)

	ss, err1 := c.sdk.Sessions.Get(c.ctx, sessionID, &client.GetSessionParams{Expand: []client.SessionExpandable{client.SessionExpandIdentity, client.SessionExpandDevices}})
	fs, err2 := c.floor.getSession(c.ctx, sessionID)
	check("GetSession", ss, fs, err1, err2)
	if ss != nil && (ss.Identity == nil || len(ss.Identity.VerifiableAddresses) != 1 || len(ss.Devices) != 2) {
		t.Errorf("GetSession: the session lacks its expanded identity or devices: %+v", ss)
	}
	if si != nil && (len(si.Traits) == 0 || len(si.MetadataAdmin) == 0 || len(si.RecoveryAddresses) != 1) {
		t.Errorf("GetIdentity: the identity lacks traits, metadata or addresses: %+v", si)
	}
}
