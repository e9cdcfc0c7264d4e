package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"

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

	// Walk every identity, page by page (250 per request here).
	for identity, err := range c.Identities.List(ctx, &client.ListIdentitiesParams{PageSize: 250}) {
		if err != nil {
			log.Fatal(err)
		}
		traits, _ := client.DecodeTraits[struct{ Email string }](identity)
		fmt.Println(identity.ID, traits.Email)
	}

	// Sessions of the identity, then delete it.
	for s, err := range c.Identities.ListSessions(ctx, created.ID, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s.ID, s.Active)
	}
	if err := c.Identities.Delete(ctx, created.ID); err != nil {
		log.Fatal(err)
	}
}
