package client_test

// The one table of the client's typed calls. The per-operation tests read
// it: FuzzResponses (every call against fuzzed answers), the retries by
// method, the arguments refused before sending, the no-panic test and the
// per-call options. Adding a typed method is the method plus one row here;
// TestTypedCallsCoverTheSpec fails until every operation of
// api/kratos-admin.yaml has one, with the spec's method.

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/kratosadmin/sdk/client"
)

// testSessionID is a session's id in the table's calls (testID is the
// identity's).
const testSessionID = "3410b62d-4f0a-4112-bbae-77a91e977f6d"

// typedCall is one typed method: a page call, an iterator or a plain call.
type typedCall struct {
	name      string // "Identities.Get"
	operation string // its operationId in api/kratos-admin.yaml
	method    string // the HTTP method it sends
	iterator  bool   // a List iterator: it may send several requests
	// call makes a valid call with opts and returns its value (for an
	// iterator, the number of items it yielded).
	call func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error)
	// bad makes the call with an argument the client refuses before
	// sending (an *ArgumentError).
	bad func(ctx context.Context, c *client.Client) error
	// zero makes the call with nil or zero arguments: refused or sent,
	// never a panic.
	zero func(ctx context.Context, c *client.Client) error
	// withID, for a call that takes a UUID (an identity's, a session's, a
	// patch id), makes it with id in that place; idArg is the argument an
	// *ArgumentError names when id is not one.
	idArg  string
	withID func(ctx context.Context, c *client.Client, id string) error
}

// count walks an iterator and returns how many items it yielded. It stops
// after maxCount items: a server that answers every page alike (the fuzz's)
// may lead a walk on for ever when the client computes the next token
// itself (Identities.ListSessions).
func count[T any](seq func(yield func(*T, error) bool)) (any, error) {
	const maxCount = 20
	n := 0
	for _, err := range seq {
		if err != nil {
			return nil, err
		}
		if n++; n == maxCount {
			break
		}
	}
	return n, nil
}

func errOf[T any](_ T, err error) error { return err }

var (
	tableBody  = client.CreateIdentityBody{SchemaID: "default", Traits: []byte(`{"email":"a@example.org"}`)}
	tableTrait = []byte(`{"email":"a@example.org"}`)
)

var typedCalls = []typedCall{
	{
		name: "Identities.Get", operation: "getIdentity", method: http.MethodGet,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Identities.Get(ctx, testID, &client.GetIdentityParams{IncludeCredential: []client.IdentityCredentialsType{client.CredentialsTypePassword}}, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Identities.Get(ctx, "../sessions", nil))
		},
		zero:  func(ctx context.Context, c *client.Client) error { return errOf(c.Identities.Get(ctx, "", nil)) },
		idArg: "id",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(c.Identities.Get(ctx, id, nil))
		},
	},
	{
		name: "Identities.GetByExternalID", operation: "getIdentityByExternalID", method: http.MethodGet,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Identities.GetByExternalID(ctx, "ext-alice-001", nil, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Identities.GetByExternalID(ctx, "..", nil))
		},
		zero: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Identities.GetByExternalID(ctx, "\x00", nil))
		},
	},
	{
		name: "Identities.ListPage", operation: "listIdentities", method: http.MethodGet,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Identities.ListPage(ctx, &client.ListIdentitiesParams{PageSize: 2}, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Identities.ListPage(ctx, &client.ListIdentitiesParams{IDs: []string{"x"}}))
		},
		zero:  func(ctx context.Context, c *client.Client) error { return errOf(c.Identities.ListPage(ctx, nil)) },
		idArg: "params.IDs[1]",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(c.Identities.ListPage(ctx, &client.ListIdentitiesParams{IDs: []string{testID, id}}))
		},
	},
	{
		name: "Identities.List", operation: "listIdentities", method: http.MethodGet, iterator: true,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return count(c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 2}, opts...))
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(count(c.Identities.List(ctx, &client.ListIdentitiesParams{OrganizationID: "org"})))
		},
		zero:  func(ctx context.Context, c *client.Client) error { return errOf(count(c.Identities.List(ctx, nil))) },
		idArg: "params.IDs[1]",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(count(c.Identities.List(ctx, &client.ListIdentitiesParams{IDs: []string{testID, id}})))
		},
	},
	{
		name: "Identities.Create", operation: "createIdentity", method: http.MethodPost,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Identities.Create(ctx, &tableBody, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: []byte("{")}))
		},
		zero: func(ctx context.Context, c *client.Client) error { return errOf(c.Identities.Create(ctx, nil)) },
	},
	{
		name: "Identities.Update", operation: "updateIdentity", method: http.MethodPut,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Identities.Update(ctx, testID, &client.UpdateIdentityBody{SchemaID: "default", Traits: tableTrait}, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Identities.Update(ctx, "x", &client.UpdateIdentityBody{}))
		},
		zero:  func(ctx context.Context, c *client.Client) error { return errOf(c.Identities.Update(ctx, testID, nil)) },
		idArg: "id",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(c.Identities.Update(ctx, id, &client.UpdateIdentityBody{SchemaID: "default", Traits: tableTrait}))
		},
	},
	{
		name: "Identities.Patch", operation: "patchIdentity", method: http.MethodPatch,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Identities.Patch(ctx, testID, []client.JSONPatch{client.PatchReplace("/metadata_public", nil)}, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Identities.Patch(ctx, testID, []client.JSONPatch{{Op: "move", Path: "/a"}}))
		},
		zero:  func(ctx context.Context, c *client.Client) error { return errOf(c.Identities.Patch(ctx, testID, nil)) },
		idArg: "id",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(c.Identities.Patch(ctx, id, []client.JSONPatch{client.PatchRemove("/x")}))
		},
	},
	{
		name: "Identities.Delete", operation: "deleteIdentity", method: http.MethodDelete,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return nil, c.Identities.Delete(ctx, testID, opts...)
		},
		bad:   func(ctx context.Context, c *client.Client) error { return c.Identities.Delete(ctx, "1") },
		zero:  func(ctx context.Context, c *client.Client) error { return c.Identities.Delete(ctx, "") },
		idArg: "id",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return c.Identities.Delete(ctx, id)
		},
	},
	{
		name: "Identities.BatchCreate", operation: "batchPatchIdentities", method: http.MethodPatch,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			body := client.CreateIdentityBody{SchemaID: "default", Traits: []byte(`{}`)}
			return c.Identities.BatchCreate(ctx, []client.IdentityPatch{{Create: body, PatchID: testID}, {Create: body}}, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Identities.BatchCreate(ctx, make([]client.IdentityPatch, client.MaxBatchSize+1)))
		},
		zero: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Identities.BatchCreate(ctx, make([]client.IdentityPatch, 2)))
		},
		idArg: "items[0].PatchID",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(c.Identities.BatchCreate(ctx, []client.IdentityPatch{{Create: tableBody, PatchID: id}}))
		},
	},
	{
		name: "Identities.DeleteCredentials", operation: "deleteIdentityCredentials", method: http.MethodDelete,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return nil, c.Identities.DeleteCredentials(ctx, testID, client.CredentialsTypeTOTP, nil, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return c.Identities.DeleteCredentials(ctx, testID, "magic", nil)
		},
		zero: func(ctx context.Context, c *client.Client) error {
			return c.Identities.DeleteCredentials(ctx, testID, "", nil)
		},
		idArg: "id",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return c.Identities.DeleteCredentials(ctx, id, client.CredentialsTypePassword, nil)
		},
	},
	{
		name: "Identities.ListSessionsPage", operation: "listIdentitySessions", method: http.MethodGet,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Identities.ListSessionsPage(ctx, testID, nil, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Identities.ListSessionsPage(ctx, "x", nil))
		},
		zero: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Identities.ListSessionsPage(ctx, "", nil))
		},
		idArg: "id",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(c.Identities.ListSessionsPage(ctx, id, nil))
		},
	},
	{
		name: "Identities.ListSessions", operation: "listIdentitySessions", method: http.MethodGet, iterator: true,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return count(c.Identities.ListSessions(ctx, testID, &client.ListIdentitySessionsParams{PageSize: 2}, opts...))
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(count(c.Identities.ListSessions(ctx, testID, &client.ListIdentitySessionsParams{Page: 2})))
		},
		zero: func(ctx context.Context, c *client.Client) error {
			return errOf(count(c.Identities.ListSessions(ctx, testID, nil)))
		},
		idArg: "id",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(count(c.Identities.ListSessions(ctx, id, nil)))
		},
	},
	{
		name: "Identities.DeleteSessions", operation: "deleteIdentitySessions", method: http.MethodDelete,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return nil, c.Identities.DeleteSessions(ctx, testID, opts...)
		},
		bad:   func(ctx context.Context, c *client.Client) error { return c.Identities.DeleteSessions(ctx, "x") },
		zero:  func(ctx context.Context, c *client.Client) error { return c.Identities.DeleteSessions(ctx, "") },
		idArg: "id",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return c.Identities.DeleteSessions(ctx, id)
		},
	},
	{
		name: "Sessions.Get", operation: "getSession", method: http.MethodGet,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Sessions.Get(ctx, testSessionID, &client.GetSessionParams{Expand: []client.SessionExpandable{client.SessionExpandIdentity}}, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Sessions.Get(ctx, testSessionID, &client.GetSessionParams{Expand: []client.SessionExpandable{"everything"}}))
		},
		zero: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Sessions.Get(ctx, testID, &client.GetSessionParams{}))
		},
		idArg: "id",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(c.Sessions.Get(ctx, id, nil))
		},
	},
	{
		name: "Sessions.ListPage", operation: "listSessions", method: http.MethodGet,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Sessions.ListPage(ctx, nil, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Sessions.ListPage(ctx, &client.ListSessionsParams{Expand: []client.SessionExpandable{"all"}}))
		},
		zero: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Sessions.ListPage(ctx, &client.ListSessionsParams{}))
		},
	},
	{
		name: "Sessions.List", operation: "listSessions", method: http.MethodGet, iterator: true,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return count(c.Sessions.List(ctx, &client.ListSessionsParams{PageSize: 2}, opts...))
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(count(c.Sessions.List(ctx, &client.ListSessionsParams{Expand: []client.SessionExpandable{"all"}})))
		},
		zero: func(ctx context.Context, c *client.Client) error { return errOf(count(c.Sessions.List(ctx, nil))) },
	},
	{
		name: "Sessions.Disable", operation: "disableSession", method: http.MethodDelete,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return nil, c.Sessions.Disable(ctx, testSessionID, opts...)
		},
		bad:   func(ctx context.Context, c *client.Client) error { return c.Sessions.Disable(ctx, "1") },
		zero:  func(ctx context.Context, c *client.Client) error { return c.Sessions.Disable(ctx, "") },
		idArg: "id",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return c.Sessions.Disable(ctx, id)
		},
	},
	{
		name: "Sessions.Extend", operation: "extendSession", method: http.MethodPatch,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Sessions.Extend(ctx, testSessionID, opts...)
		},
		bad:   func(ctx context.Context, c *client.Client) error { return errOf(c.Sessions.Extend(ctx, "not-a-uuid")) },
		zero:  func(ctx context.Context, c *client.Client) error { return errOf(c.Sessions.Extend(ctx, "")) },
		idArg: "id",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(c.Sessions.Extend(ctx, id))
		},
	},
	{
		name: "Recovery.CreateCode", operation: "createRecoveryCodeForIdentity", method: http.MethodPost,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: testID, ExpiresIn: "15m"}, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: testID, ExpiresIn: "tomorrow"}))
		},
		zero:  func(ctx context.Context, c *client.Client) error { return errOf(c.Recovery.CreateCode(ctx, nil)) },
		idArg: "body.IdentityID",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: id}))
		},
	},
	{
		name: "Recovery.CreateLink", operation: "createRecoveryLinkForIdentity", method: http.MethodPost,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: testID}, nil, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: testID, ExpiresIn: "1d"}, nil))
		},
		zero:  func(ctx context.Context, c *client.Client) error { return errOf(c.Recovery.CreateLink(ctx, nil, nil)) },
		idArg: "body.IdentityID",
		withID: func(ctx context.Context, c *client.Client, id string) error {
			return errOf(c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: id}, nil))
		},
	},
	{
		name: "Schemas.Get", operation: "getIdentitySchema", method: http.MethodGet,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Schemas.Get(ctx, "default", opts...)
		},
		bad:  func(ctx context.Context, c *client.Client) error { return errOf(c.Schemas.Get(ctx, ".")) },
		zero: func(ctx context.Context, c *client.Client) error { return errOf(c.Schemas.Get(ctx, "\xff")) },
	},
	{
		name: "Schemas.ListPage", operation: "listIdentitySchemas", method: http.MethodGet,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return c.Schemas.ListPage(ctx, nil, opts...)
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Schemas.ListPage(ctx, nil, client.WithHeader("Bad Name", "x")))
		},
		zero: func(ctx context.Context, c *client.Client) error {
			return errOf(c.Schemas.ListPage(ctx, &client.ListIdentitySchemasParams{}))
		},
	},
	{
		name: "Schemas.List", operation: "listIdentitySchemas", method: http.MethodGet, iterator: true,
		call: func(ctx context.Context, c *client.Client, opts ...client.CallOption) (any, error) {
			return count(c.Schemas.List(ctx, &client.ListIdentitySchemasParams{PageSize: 2}, opts...))
		},
		bad: func(ctx context.Context, c *client.Client) error {
			return errOf(count(c.Schemas.List(ctx, &client.ListIdentitySchemasParams{PerPage: 2})))
		},
		zero: func(ctx context.Context, c *client.Client) error { return errOf(count(c.Schemas.List(ctx, nil))) },
	},
}

// TestTypedCallsCoverTheSpec: every operation of the spec has a row in
// typedCalls with the spec's method, every row names an operation of the
// spec, and every call with a UUID in its path can be given a bad one.
func TestTypedCallsCoverTheSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("../api/kratos-admin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]string{} // operationId -> method
	paths := map[string]string{}   // operationId -> path
	for path, item := range doc.Paths.Map() {
		for m, op := range item.Operations() {
			methods[op.OperationID] = strings.ToUpper(m)
			paths[op.OperationID] = path
		}
	}
	rows := map[string]bool{}
	names := map[string]bool{}
	for _, tc := range typedCalls {
		if names[tc.name] {
			t.Errorf("%s has two rows", tc.name)
		}
		names[tc.name] = true
		m, ok := methods[tc.operation]
		switch {
		case !ok:
			t.Errorf("%s: operation %q is not in the spec", tc.name, tc.operation)
		case m != tc.method:
			t.Errorf("%s: method %s, the spec says %s for %s", tc.name, tc.method, m, tc.operation)
		}
		if tc.call == nil || tc.bad == nil || tc.zero == nil {
			t.Errorf("%s: call, bad and zero are all needed", tc.name)
		}
		// An identity's or a session's id in the path is a UUID the
		// client checks: the ids test needs the call's withID.
		if p := paths[tc.operation]; strings.Contains(p, "{id}") && !strings.HasPrefix(p, "/schemas") && (tc.withID == nil || tc.idArg == "") {
			t.Errorf("%s: %s takes a UUID; give the row withID and idArg", tc.name, p)
		}
		rows[tc.operation] = true
	}
	// getVersion is Client.KratosVersion: asked once and cached, it takes
	// no per-call options (releases_test.go tests it).
	rows["getVersion"] = true
	for op := range methods {
		if !rows[op] {
			t.Errorf("operation %s has no row in typedCalls", op)
		}
	}
	if len(methods) != 20 {
		t.Errorf("the spec has %d operations; the client documents 19 and getVersion", len(methods))
	}
}
