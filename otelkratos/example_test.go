package otelkratos_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
	"github.com/kratosadmin/sdk/otelkratos"
)

// Every call of the client is a span named by its operation. Here the
// spans go to memory; a service passes its own TracerProvider (or sets the
// global one) and MeterProvider.
func Example() {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	defer tp.Shutdown(context.Background())

	hooks, err := otelkratos.NewHooks(otelkratos.WithTracerProvider(tp))
	if err != nil {
		log.Fatal(err)
	}
	srv, err := kratostest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client(client.WithHooks(hooks))

	ctx := context.Background()
	created, err := c.Identities.Create(ctx, &client.CreateIdentityBody{
		SchemaID: "default",
		Traits:   json.RawMessage(`{"email":"ada@example.org"}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Identities.Get(ctx, created.ID, nil); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Sessions.Get(ctx, "00000000-0000-4000-8000-000000000000", nil); err == nil {
		log.Fatal("a session that does not exist was found")
	}

	for _, s := range exporter.GetSpans() {
		var status, route string
		for _, a := range s.Attributes {
			switch a.Key {
			case "http.response.status_code":
				status = a.Value.String()
			case "url.template":
				route = a.Value.String()
			}
		}
		fmt.Println(s.Name, route, status, s.Status.Code, len(s.Events), "attempt(s)")
	}
	// Output:
	// createIdentity /admin/identities 201 Unset 1 attempt(s)
	// getIdentity /admin/identities/{id} 200 Unset 1 attempt(s)
	// getSession /admin/sessions/{id} 404 Error 1 attempt(s)
}
