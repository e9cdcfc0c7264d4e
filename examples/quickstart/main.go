package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
)

func main() {
	ctx := context.Background()
	var opts []client.Option
	if key := os.Getenv("ORY_API_KEY"); key != "" { // Ory Network; a self-hosted admin port needs none
		opts = append(opts, client.WithBearerToken(key))
	}
	c, err := client.New(os.Getenv("KRATOS_ADMIN_URL"), opts...)
	if err != nil {
		log.Fatal(err)
	}

	// Create an identity with a password.
	body := &client.CreateIdentityBody{
		SchemaID: "default",
		Traits:   json.RawMessage(`{"email":"ada@example.org"}`),
	}
	body.Credentials.Password.Config.Password = "a-long-secret-passphrase"
	created, err := c.Identities.Create(ctx, body)
	if errors.Is(err, client.ErrConflict) {
		log.Fatal("an identity with this email exists already")
	} else if err != nil {
		log.Fatal(err)
	}

	// Patch it: JSON null is sent as null.
	_, err = c.Identities.Patch(ctx, created.ID, []client.JSONPatch{
		client.PatchAdd("/metadata_public", map[string]string{"plan": "pro"}),
		client.PatchReplace("/metadata_admin", nil),
	})
	if err != nil {
		log.Fatal(err)
	}

	// One call with its own timeout, no retries, and its raw answer.
	var resp *http.Response
	_, err = c.Identities.Get(ctx, created.ID, nil,
		client.WithRequestTimeout(5*time.Second), client.WithMaxRetries(0), client.WithResponseInto(&resp))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("get:", resp.StatusCode)

	// Import many identities (package bulk): batched, every line accounted
	// for; ada is found already present, not created twice.
	var imported []string
	sum, err := bulk.ImportJSONL(ctx, c, strings.NewReader(
		`{"schema_id":"default","traits":{"email":"lin@example.org"}}`+"\n"+
			`{"schema_id":"default","traits":{"email":"ada@example.org"}}`+"\n"),
		&bulk.ImportOptions{OnOutcome: func(o bulk.ImportOutcome) {
			if o.Status == bulk.ImportCreated {
				imported = append(imported, o.IdentityID)
			}
		}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("import:", sum.Created, "created,", sum.AlreadyPresent, "already present")

	// Walk every identity, page by page (250 per request here).
	for identity, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 250}) {
		if err != nil {
			log.Fatal(err)
		}
		traits, _ := client.DecodeTraits[struct{ Email string }](identity)
		fmt.Println(identity.ID, traits.Email)
	}

	// Sessions of the identity, then delete what was created.
	for s, err := range c.Identities.ListSessions(ctx, created.ID, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s.ID, s.Active)
	}
	for _, id := range append(imported, created.ID) {
		if err := c.Identities.Delete(ctx, id); err != nil {
			log.Fatal(err)
		}
	}
}
