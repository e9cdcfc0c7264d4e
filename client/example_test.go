package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// The examples run against kratostest, the SDK's in-memory Kratos; with a
// real server only the URL (and token) differ.
func startFake() (*kratostest.Server, *client.Client) {
	srv, err := kratostest.Start()
	if err != nil {
		log.Fatal(err)
	}
	return srv, srv.Client()
}

func traitsOf(email string) json.RawMessage {
	return json.RawMessage(`{"email":"` + email + `"}`)
}

func ExampleNew() {
	c, err := client.New("https://example.projects.oryapis.com",
		client.WithBearerToken("ory_pat_example"), // an Ory Network API key
		client.WithUserAgent("billing-service/2.1"),
		client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 3, MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, MaxRetryAfter: 10 * time.Second}),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c) // the token never prints

	_, err = client.New("127.0.0.1:4434")
	fmt.Println(err)
	// Output:
	// kratos.Client{admin: https://example.projects.oryapis.com, auth: bearer [REDACTED]}
	// kratos: New: URL "127.0.0.1:4434": scheme must be http or https (like http://127.0.0.1:4434)
}

func ExampleIdentitiesService_Create() {
	srv, c := startFake()
	defer srv.Close()
	ctx := context.Background()

	body := &client.CreateIdentityBody{
		SchemaID:   "default",
		Traits:     json.RawMessage(`{"email":"ada@example.org","name":{"first":"Ada","last":"Lovelace"}}`),
		ExternalID: "crm-1815",
		State:      client.IdentityStateActive,
	}
	body.Credentials.Password.Config.Password = "correct horse battery staple"
	ada, err := c.Identities.Create(ctx, body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ada.State, ada.ExternalID, ada.Credentials["password"].Identifiers)

	// The same email again is a conflict.
	_, err = c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traitsOf("ada@example.org")})
	fmt.Println(errors.Is(err, client.ErrConflict))
	// Output:
	// active crm-1815 [ada@example.org]
	// true
}

func ExampleIdentitiesService_List() {
	srv, c := startFake()
	defer srv.Close()
	ctx := context.Background()
	for i := range 7 {
		if _, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traitsOf(fmt.Sprintf("user%d@example.org", i))}); err != nil {
			log.Fatal(err)
		}
	}

	// Walk every identity, three per request.
	n := 0
	for identity, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 3}) {
		if err != nil {
			log.Fatal(err)
		}
		if identity.State == client.IdentityStateActive {
			n++
		}
	}
	fmt.Println(n, "active identities")
	// Output: 7 active identities
}

func ExampleIdentitiesService_ListPage() {
	srv, c := startFake()
	defer srv.Close()
	ctx := context.Background()
	for i := range 5 {
		if _, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traitsOf(fmt.Sprintf("user%d@example.org", i))}); err != nil {
			log.Fatal(err)
		}
	}

	// Fetch page by page; keep NextPageToken to resume later.
	params := &client.ListIdentitiesParams{PageSize: 2}
	for {
		page, err := c.Identities.ListPage(ctx, params)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(len(page.Items), "identities, more:", page.NextPageToken != "")
		if page.NextPageToken == "" {
			break
		}
		params.PageToken = page.NextPageToken
	}
	// Output:
	// 2 identities, more: true
	// 2 identities, more: true
	// 1 identities, more: false
}

func ExampleIdentitiesService_Patch() {
	srv, c := startFake()
	defer srv.Close()
	ctx := context.Background()
	ada, err := c.Identities.Create(ctx, &client.CreateIdentityBody{
		SchemaID:      "default",
		Traits:        traitsOf("ada@example.org"),
		MetadataAdmin: json.RawMessage(`{"crm_id":4711}`),
	})
	if err != nil {
		log.Fatal(err)
	}

	patched, err := c.Identities.Patch(ctx, ada.ID, []client.JSONPatch{
		client.PatchAdd("/metadata_public", map[string]string{"plan": "pro"}),
		client.PatchReplace("/metadata_admin", nil), // goes out as "value": null
		client.PatchReplace("/state", client.IdentityStateInactive),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(patched.MetadataPublic), patched.State)

	got, err := c.Identities.Get(ctx, ada.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("metadata_admin:", string(got.MetadataAdmin))
	// Output:
	// {"plan":"pro"} inactive
	// metadata_admin: null
}

func ExampleIdentitiesService_BatchCreate() {
	srv, c := startFake()
	defer srv.Close()
	ctx := context.Background()

	items := []client.IdentityPatch{
		{Create: client.CreateIdentityBody{SchemaID: "default", Traits: traitsOf("erin@example.org")}},
		{Create: client.CreateIdentityBody{SchemaID: "default", Traits: traitsOf("frank@example.org")}},
		{Create: client.CreateIdentityBody{SchemaID: "default", Traits: traitsOf("erin@example.org")}}, // duplicate
	}
	res, err := c.Identities.BatchCreate(ctx, items)
	var batchErr *client.BatchError
	fmt.Println(errors.As(err, &batchErr), res.CreatedCount(), res.FailedCount())
	for _, item := range res.Items {
		fmt.Println(item.Index, item.Created(), errors.Is(item.Err, client.ErrConflict))
	}
	// Output:
	// true 2 1
	// 0 true false
	// 1 true false
	// 2 false true
}

func ExampleError() {
	srv, c := startFake()
	defer srv.Close()

	_, err := c.Identities.Get(context.Background(), "9f7b2c3e-1111-4222-8333-444455556666", nil)
	fmt.Println(errors.Is(err, client.ErrNotFound))
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Status, apiErr.Message)
	}

	_, err = c.Identities.Get(context.Background(), "not-a-uuid", nil)
	fmt.Println(errors.Is(err, client.ErrInvalidArgument), err)
	// Output:
	// true
	// 404 Not Found Unable to locate the resource
	// true kratos: Identities.Get: invalid id: "not-a-uuid" is not a UUID
}

func ExampleDecodeTraits() {
	srv, c := startFake()
	defer srv.Close()
	ctx := context.Background()

	type Traits struct {
		Email string `json:"email"`
		Name  struct {
			First string `json:"first"`
			Last  string `json:"last"`
		} `json:"name"`
	}
	ada, err := c.Identities.Create(ctx, &client.CreateIdentityBody{
		SchemaID: "default",
		Traits:   json.RawMessage(`{"email":"ada@example.org","name":{"first":"Ada","last":"Lovelace"}}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	t, err := client.DecodeTraits[Traits](ada)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Name.First, t.Name.Last, t.Email)
	// Output: Ada Lovelace ada@example.org
}

func ExampleSessionsService_Extend() {
	srv, c := startFake()
	defer srv.Close()
	ctx := context.Background()
	ada, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traitsOf("ada@example.org")})
	if err != nil {
		log.Fatal(err)
	}
	// Sessions come from login flows; the fake makes one directly.
	s, err := srv.CreateSession(ada.ID)
	if err != nil {
		log.Fatal(err)
	}

	extended, err := c.Sessions.Extend(ctx, s.ID)
	if err != nil {
		log.Fatal(err)
	}
	// Servers with faster_session_extend answer 204: extended is nil then.
	fmt.Println(extended != nil && extended.Active)

	if err := c.Sessions.Disable(ctx, s.ID); err != nil {
		log.Fatal(err)
	}
	got, err := c.Sessions.Get(ctx, s.ID, &client.GetSessionParams{Expand: []client.SessionExpandable{client.SessionExpandIdentity}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Active, got.Identity.ID == ada.ID)
	// Output:
	// true
	// false true
}

// Every operation of the spec is also reachable through the generated
// client, with the client's auth, retries, limits and error mapping: an
// operation added to api/kratos-admin.yaml is callable this way as soon as
// `go generate ./...` has run, before it gets a typed method.
func ExampleClient_Generated() {
	srv, c := startFake()
	defer srv.Close()
	ctx := context.Background()

	ada, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "default", Traits: traitsOf("ada@example.org")})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.Generated().GetIdentity(ctx, ada.ID, &client.GetIdentityParams{})
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var got client.Identity
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, got.ID == ada.ID)

	// Answers that are not 2xx are errors, as from the typed methods.
	_, err = c.Generated().GetIdentity(ctx, "00000000-0000-0000-0000-000000000000", nil)
	fmt.Println(errors.Is(err, client.ErrNotFound))
	// Output:
	// 200 true
	// true
}
