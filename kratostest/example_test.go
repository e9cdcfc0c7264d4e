package kratostest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// In a test, NewServer starts the fake and closes it when the test ends;
// an answer of the fake that breaks the API spec fails the test.
func ExampleNewServer() {
	testSignup := func(t *testing.T) {
		srv := kratostest.NewServer(t)
		c := srv.Client()

		// The code under test would receive c (or srv.URL).
		_, err := c.Identities.Create(t.Context(), &client.CreateIdentityBody{
			SchemaID: "default",
			Traits:   json.RawMessage(`{"email":"ada@example.org"}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		if srv.IdentityCount() != 1 {
			t.Errorf("%d identities", srv.IdentityCount())
		}
	}
	_ = testSignup
}

// Start runs the fake outside of tests, for example behind a local
// development setup.
func ExampleStart() {
	srv, err := kratostest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	created, err := c.Identities.Create(ctx, &client.CreateIdentityBody{
		SchemaID: "default",
		Traits:   json.RawMessage(`{"email":"Ada@Example.org","name":{"first":"Ada"}}`),
		Credentials: client.IdentityWithCredentials{Password: client.ImportPasswordCredentials{
			Config: client.ImportPasswordConfig{Password: "correct horse battery staple"},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(created.State, created.Credentials["password"].Identifiers, created.VerifiableAddresses[0].Status)

	_, err = c.Identities.Create(ctx, &client.CreateIdentityBody{
		SchemaID: "default",
		Traits:   json.RawMessage(`{"email":"ada@example.org"}`),
	})
	fmt.Println(errors.Is(err, client.ErrConflict))

	_, err = c.Identities.Create(ctx, &client.CreateIdentityBody{
		SchemaID: "default",
		Traits:   json.RawMessage(`{"email":"not-an-email"}`),
	})
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Message)
	}
	// Output:
	// active [ada@example.org] pending
	// true
	// 400 The request was malformed or contained invalid parameters
}

// Sessions come from logins on a real server; the fake makes them with
// CreateSession.
func ExampleServer_CreateSession() {
	srv, err := kratostest.Start(kratostest.WithIdentities(client.CreateIdentityBody{
		SchemaID:   "default",
		Traits:     json.RawMessage(`{"email":"grace@example.org"}`),
		ExternalID: "crm-1906",
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	grace, err := c.Identities.GetByExternalID(ctx, "crm-1906", nil)
	if err != nil {
		log.Fatal(err)
	}
	session, err := srv.CreateSession(grace.ID, kratostest.WithSessionDevice("203.0.113.9", "Mozilla/5.0", "Arlington, US"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(session.Active, session.AuthenticatorAssuranceLevel, session.Devices[0].Location)

	if err := c.Sessions.Disable(ctx, session.ID); err != nil {
		log.Fatal(err)
	}
	for s, err := range c.Identities.ListSessions(ctx, grace.ID, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s.ID == session.ID, s.Active)
	}
	// Output:
	// true aal1 Arlington, US
	// true false
}

// WithBearerToken makes the fake require an API key, as Ory Network does;
// Server.Client sends it.
func ExampleWithBearerToken() {
	srv, err := kratostest.Start(kratostest.WithBearerToken("ory_pat_example"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/admin/identities")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)

	page, err := srv.Client().Identities.ListPage(context.Background(), nil)
	fmt.Println(len(page.Items), err)
	// Output:
	// 401
	// 0 <nil>
}

// WithMiddleware injects faults, here one 503 that the client retries.
func ExampleWithMiddleware() {
	var calls atomic.Int32
	srv, err := kratostest.Start(kratostest.WithMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client(client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 3}))
	_, err = c.Identities.ListPage(context.Background(), nil)
	fmt.Println(err, calls.Load())
	// Output:
	// <nil> 2
}

// A ValidatingTransport under the client checks the traffic with a server,
// real or fake, against the API spec the SDK is generated from.
func ExampleNewValidatingTransport() {
	srv, err := kratostest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	var violations []error
	tr := kratostest.NewValidatingTransport(nil, func(err error) { violations = append(violations, err) })
	c, err := client.New(srv.URL, client.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Identities.Create(context.Background(), &client.CreateIdentityBody{
		SchemaID: "default",
		Traits:   json.RawMessage(`{"email":"checked@example.org"}`),
	})
	fmt.Println(err, len(violations))
	// Output:
	// <nil> 0
}

// A fault fails the first list with a 503; the client retries, and the
// journal shows both requests.
func ExampleServer_AddFault() {
	srv, err := kratostest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if _, err := srv.AddFault(kratostest.Fault{Method: "GET", Path: "/admin/identities", Status: 503, Times: 1}); err != nil {
		log.Fatal(err)
	}
	c := srv.Client(client.WithRetryPolicy(client.RetryPolicy{MaxAttempts: 3}))
	_, err = c.Identities.ListPage(context.Background(), nil)
	fmt.Println(err)
	for _, r := range srv.Requests(false) {
		fmt.Println(r.Method, r.Path, r.Status, r.Fault)
	}
	// Output:
	// <nil>
	// GET /admin/identities 503 1
	// GET /admin/identities 200 0
}
