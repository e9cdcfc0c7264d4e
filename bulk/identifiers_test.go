package bulk_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kratosadmin/sdk/bulk"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

func TestIdentifierPaths(t *testing.T) {
	paths, err := bulk.IdentifierPaths(kratostest.DefaultIdentitySchema()) // the recorded schema
	require.NoError(t, err)
	assert.Equal(t, []string{"traits.email"}, paths)

	schema := json.RawMessage(`{
	  "definitions": {
	    "login": {"type": "string", "ory.sh/kratos": {"credentials": {"webauthn": {"identifier": true}}}},
	    "node": {"type": "object", "properties": {"child": {"$ref": "#/definitions/node"}}}
	  },
	  "properties": {
	    "metadata": {"properties": {"x": {"ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}}}},
	    "traits": {
	      "allOf": [{"properties": {"username": {"type": "string", "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}}}}],
	      "properties": {
	        "emails": {"type": "array", "items": {"type": "string", "ory.sh/kratos": {"credentials": {"code": {"identifier": true, "via": "email"}}}}},
	        "phone": {"type": "string", "ory.sh/kratos": {"credentials": {"code": {"identifier": false}}}},
	        "login": {"$ref": "#/definitions/login"},
	        "tree": {"$ref": "#/definitions/node"},
	        "name": {"type": "object", "properties": {"nick": {"ory.sh/kratos": {"credentials": {"passkey": {"identifier": true}}}}}}
	      }
	    }
	  }
	}`)
	paths, err = bulk.IdentifierPaths(schema)
	require.NoError(t, err)
	assert.Equal(t, []string{"traits.emails[]", "traits.login", "traits.name.nick", "traits.username"}, paths)

	_, err = bulk.IdentifierPaths(json.RawMessage(`{`))
	assert.Error(t, err)
}

func TestImportDerivesIdentifiersFromTheSchema(t *testing.T) {
	srv, obs := importFake(t)
	c := fakeClient(srv)
	multi := func(traits string) client.CreateIdentityBody {
		return client.CreateIdentityBody{SchemaID: "multi", Traits: json.RawMessage(traits)}
	}
	items := seqOf(
		multi(`{"emails":["A@x.org"," b@x.org "],"username":"Ann"}`),
		multi(`{"emails":["c@x.org"],"username":"bob"}`),
		multi(`{"emails":["d@x.org","B@X.ORG"],"username":"dan"}`), // shares b@x.org with the first
		multi(`{"emails":[],"username":"ANN"}`),                    // shares ann with the first
		multi(`{"emails":["e@x.org"],"email":"c@x.org"}`),          // traits.email is no identifier here
	)
	sum, o, err := runImport(t, c, t.Context(), items, bulk.ImportOptions{DryRun: true})
	require.NoError(t, err)
	m := accounted(t, 5, sum, o)
	assert.Equal(t, []string{"a@x.org", "ann", "b@x.org"}, m[0].Identifiers)
	assert.ErrorIs(t, m[2].Err, bulk.ErrDuplicateInput)
	assert.Contains(t, m[2].Err.Error(), "b@x.org")
	assert.ErrorIs(t, m[3].Err, bulk.ErrDuplicateInput)
	assert.Equal(t, bulk.ImportValid, m[4].Status)
	assert.Equal(t, []string{"e@x.org"}, m[4].Identifiers)
	assert.Empty(t, obs.served(), "a dry run sends nothing")

	// The identifiers are the ones the server derives from the schema: the
	// valid items are created, and found by each of them.
	sum, o, err = runImport(t, c, t.Context(), seqOf(
		multi(`{"emails":["A@x.org"," b@x.org "],"username":"Ann"}`),
		multi(`{"emails":["c@x.org"],"username":"bob"}`),
		multi(`{"emails":["e@x.org"],"email":"c@x.org"}`),
	), bulk.ImportOptions{})
	require.NoError(t, err)
	m = accounted(t, 3, sum, o)
	require.Equal(t, 3, sum.Created)
	for k, x := range m {
		for _, id := range x.Identifiers {
			page, err := c.Identities.ListPage(t.Context(), &client.ListIdentitiesParams{CredentialsIdentifier: id})
			require.NoError(t, err)
			require.Len(t, page.Items, 1, "item %d: %s", k, id)
			assert.Equal(t, x.IdentityID, page.Items[0].ID, "item %d: %s", k, id)
		}
	}
}
