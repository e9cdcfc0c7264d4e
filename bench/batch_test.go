package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	ory "github.com/ory/client-go"

	ogen "github.com/kratosadmin/sdk/bench/ogen"
	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/gen"
)

// The importer's request: one PATCH /admin/identities of MaxBatchSize
// identities, each with a patch_id, traits, an external id, public
// metadata and a pre-hashed password (plaintext passwords are capped at
// 200 a batch), answered with one result per item.

const (
	batchSize = client.MaxBatchSize
	// batchHash is a bcrypt hash as an importer carries it over.
	batchHash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
)

// batchItems is the batch as the SDK's users build it.
func batchItems() []client.IdentityPatch {
	items := make([]client.IdentityPatch, batchSize)
	for n := range items {
		email := "import" + strconv.Itoa(n) + "@example.org"
		it := &items[n]
		it.PatchID = uuidFor(0xba, n)
		it.Create = client.CreateIdentityBody{
			SchemaID:       "default",
			ExternalID:     "legacy-" + strconv.Itoa(n),
			Traits:         json.RawMessage(`{"email":"` + email + `","name":{"first":"` + firstNames[n%len(firstNames)] + `","last":"` + lastNames[n%len(lastNames)] + `"}}`),
			MetadataPublic: json.RawMessage(`{"source":"legacy","cohort":` + strconv.Itoa(n%12) + `}`),
		}
		it.Create.Credentials.Password.Config.HashedPassword = batchHash
	}
	return items
}

// batchResponse is Kratos's answer to the batch: every item created.
func batchResponse() []byte {
	b := []byte(`{"identities":[`)
	for n := range batchSize {
		if n > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"action":"create","identity":%q,"patch_id":%q}`, uuidFor(0xb0, n), uuidFor(0xba, n))
	}
	return append(b, "]}"...)
}

func batchCase(c *clients) benchCase {
	items := batchItems()
	oryBody := oryBatchBody(items)
	ogenBody := ogenBatchBody()
	return benchCase{
		want: summary{ID: uuidFor(0xb0, batchSize-1), N: batchSize},
		sdk: func() (summary, error) {
			r, err := c.sdk.Identities.BatchCreate(c.ctx, items)
			if err != nil {
				return summary{}, err
			}
			return summary{ID: r.Items[len(r.Items)-1].IdentityID, N: r.CreatedCount()}, nil
		},
		oryclient: func() (summary, error) {
			r, _, err := c.ory.IdentityAPI.BatchPatchIdentities(c.oryCtx).PatchIdentitiesBody(oryBody).Execute()
			if err != nil {
				return summary{}, err
			}
			var s summary
			for _, it := range r.Identities {
				if it.Action != nil && *it.Action == "create" && it.Identity != nil {
					s.ID, s.N = *it.Identity, s.N+1
				}
			}
			return s, nil
		},
		ogen: func() (summary, error) {
			res, err := c.ogen.BatchPatchIdentities(c.ctx, ogenBody)
			if err != nil {
				return summary{}, err
			}
			r, ok := res.(*ogen.BatchPatchIdentitiesResponse)
			if !ok {
				return summary{}, fmt.Errorf("ogen: batchPatchIdentities answered %T", res)
			}
			var s summary
			for _, it := range r.Identities {
				if !it.Null && it.Value.Action == ogen.IdentityPatchResponseActionCreate && it.Value.Identity.Set {
					s.N++
				}
			}
			if n := len(r.Identities); n > 0 {
				s.ID = r.Identities[n-1].Value.Identity.Value.String()
			}
			return s, nil
		},
		floor: func() (summary, error) {
			r, err := c.floor.batchCreate(c.ctx, items)
			if err != nil {
				return summary{}, err
			}
			var s summary
			for _, it := range r.Identities {
				if it != nil && it.Action == gen.IdentityPatchResponseActionCreate {
					s.ID, s.N = it.Identity, s.N+1
				}
			}
			return s, nil
		},
	}
}

func oryBatchBody(items []client.IdentityPatch) ory.PatchIdentitiesBody {
	out := make([]ory.IdentityPatch, len(items))
	for i, it := range items {
		var traits, meta map[string]any
		if err := json.Unmarshal(it.Create.Traits, &traits); err != nil {
			panic(err)
		}
		if err := json.Unmarshal(it.Create.MetadataPublic, &meta); err != nil {
			panic(err)
		}
		out[i] = ory.IdentityPatch{
			PatchId: ory.PtrString(it.PatchID),
			Create: &ory.CreateIdentityBody{
				SchemaId:       it.Create.SchemaID,
				ExternalId:     ory.PtrString(it.Create.ExternalID),
				Traits:         traits,
				MetadataPublic: meta,
				Credentials: &ory.IdentityWithCredentials{Password: &ory.IdentityWithCredentialsPassword{
					Config: &ory.IdentityWithCredentialsPasswordConfig{HashedPassword: ory.PtrString(it.Create.Credentials.Password.Config.HashedPassword)},
				}},
			},
		}
	}
	return ory.PatchIdentitiesBody{Identities: out}
}

func (f *floor) batchCreate(ctx context.Context, items []client.IdentityPatch) (*gen.BatchPatchIdentitiesResponse, error) {
	b, err := json.Marshal(gen.PatchIdentitiesBody{Identities: items})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, f.base+"/admin/identities", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	var out gen.BatchPatchIdentitiesResponse
	if _, err := f.do(req, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
