package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"

	ogen "github.com/kratosadmin/sdk/bench/ogen"
	"github.com/kratosadmin/sdk/client"
)

// The fourth implementation: the client ogen generates from the SDK's spec
// (package ./ogen, made by `go generate ./...` in this module), set up as its
// users would: a security source for the token, the default options (which
// include ogen's OpenTelemetry instrumentation with the global no-op
// providers).

type ogenToken struct{}

func (ogenToken) OryAccessToken(context.Context, ogen.OperationName) (ogen.OryAccessToken, error) {
	return ogen.OryAccessToken{Token: benchToken}, nil
}

func newOgen(hc *http.Client) *ogen.Client {
	var opts []ogen.ClientOption
	if hc != nil {
		opts = append(opts, ogen.WithClient(hc))
	}
	c, err := ogen.NewClient(serverURL, ogenToken{}, opts...)
	if err != nil {
		panic(err) // the arguments are constants
	}
	return c
}

func ogenGetIdentity(c *clients) (*ogen.Identity, error) {
	res, err := c.ogen.GetIdentity(c.ctx, ogen.GetIdentityParams{ID: getIdentityID})
	if err != nil {
		return nil, err
	}
	id, ok := res.(*ogen.Identity)
	if !ok {
		return nil, fmt.Errorf("ogen: getIdentity answered %T", res)
	}
	return id, nil
}

func ogenListPage(c *clients, token string) ([]ogen.Identity, string, error) {
	p := ogen.ListIdentitiesParams{PageSize: ogen.NewOptInt64(pageSize)}
	if token != "" {
		p.PageToken = ogen.NewOptString(token)
	}
	res, err := c.ogen.ListIdentities(c.ctx, p)
	if err != nil {
		return nil, "", err
	}
	ok, isOK := res.(*ogen.ListIdentitiesOKHeaders)
	if !isOK {
		return nil, "", fmt.Errorf("ogen: listIdentities answered %T", res)
	}
	return ok.Response, nextPageToken(http.Header{"Link": {ok.Link.Or("")}}), nil
}

func ogenGetSession(c *clients) (*ogen.Session, error) {
	res, err := c.ogen.GetSession(c.ctx, ogen.GetSessionParams{ID: uuid.MustParse(sessionID), Expand: []string{"identity", "devices"}})
	if err != nil {
		return nil, err
	}
	s, ok := res.(*ogen.Session)
	if !ok {
		return nil, fmt.Errorf("ogen: getSession answered %T", res)
	}
	return s, nil
}

// ogenCreateBody is createCase's identity as an ogen user builds it.
func ogenCreateBody() *ogen.CreateIdentityBody {
	return &ogen.CreateIdentityBody{
		SchemaID:       ogen.NewOptString("default"),
		ExternalID:     ogen.NewOptNilString("ext-alice-001"),
		Traits:         []byte(createTraits),
		MetadataPublic: []byte(`{"plan":"free"}`),
		MetadataAdmin:  []byte(`{"crm_id":4711}`),
		State:          ogen.NewOptNilIdentityState(ogen.IdentityStateActive),
		Credentials: ogen.NewOptNilIdentityWithCredentials(ogen.IdentityWithCredentials{
			Password: ogen.NewOptNilImportPasswordCredentials(ogen.ImportPasswordCredentials{
				Config: ogen.NewOptImportPasswordConfig(ogen.ImportPasswordConfig{Password: ogen.NewOptString(createPassword)}),
			}),
		}),
	}
}

// ogenBatchBody is batchItems as an ogen user builds them.
func ogenBatchBody() *ogen.PatchIdentitiesBody {
	items := batchItems()
	out := make([]ogen.IdentityPatch, len(items))
	for i, it := range items {
		cr := it.Create
		out[i] = ogen.IdentityPatch{
			PatchID: ogen.NewOptUUID(uuid.MustParse(it.PatchID)),
			Create: ogen.NewOptCreateIdentityBody(ogen.CreateIdentityBody{
				SchemaID:       ogen.NewOptString(cr.SchemaID),
				ExternalID:     ogen.NewOptNilString(cr.ExternalID),
				Traits:         []byte(cr.Traits),
				MetadataPublic: []byte(cr.MetadataPublic),
				Credentials: ogen.NewOptNilIdentityWithCredentials(ogen.IdentityWithCredentials{
					Password: ogen.NewOptNilImportPasswordCredentials(ogen.ImportPasswordCredentials{
						Config: ogen.NewOptImportPasswordConfig(ogen.ImportPasswordConfig{HashedPassword: ogen.NewOptString(cr.Credentials.Password.Config.HashedPassword)}),
					}),
				}),
			}),
		}
	}
	return &ogen.PatchIdentitiesBody{Identities: ogen.NewOptNilIdentityPatchArray(out)}
}

// The conversions below turn ogen's values into the SDK's, field for field,
// so that TestOgenDecodesLikeSDK can compare what the two decoded.

func fromOgenIdentity(o *ogen.Identity) client.Identity {
	id := client.Identity{
		ID:             o.ID.String(),
		ExternalID:     o.ExternalID.Or(""),
		SchemaID:       o.SchemaID,
		SchemaURL:      o.SchemaURL,
		State:          client.IdentityState(o.State.Value),
		Traits:         json.RawMessage(o.Traits),
		MetadataPublic: json.RawMessage(o.MetadataPublic),
		MetadataAdmin:  json.RawMessage(o.MetadataAdmin),
		CreatedAt:      o.CreatedAt,
		UpdatedAt:      o.UpdatedAt,
	}
	id.StateChangedAt = fromOgenTime(o.StateChangedAt)
	if o.OrganizationID.Null {
		id.OrganizationID = nullable.NewNullNullable[string]()
	} else {
		id.OrganizationID = nullable.NewNullableWithValue(o.OrganizationID.Value.String())
	}
	if o.Credentials.Set {
		id.Credentials = map[string]client.IdentityCredentials{}
		for k, c := range o.Credentials.Value {
			id.Credentials[k] = client.IdentityCredentials{
				Type: client.IdentityCredentialsType(c.Type), Identifiers: c.Identifiers, Config: json.RawMessage(c.Config),
				Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
			}
		}
	}
	for _, a := range o.VerifiableAddresses {
		id.VerifiableAddresses = append(id.VerifiableAddresses, client.VerifiableIdentityAddress{
			ID: optUUID(a.ID), Value: a.Value, Verified: a.Verified, Via: client.VerifiableAddressVia(a.Via),
			Status: a.Status.Or(""), VerifiedAt: fromOgenTime(a.VerifiedAt), CreatedAt: a.CreatedAt.Or(time.Time{}), UpdatedAt: a.UpdatedAt.Or(time.Time{}),
		})
	}
	for _, a := range o.RecoveryAddresses {
		id.RecoveryAddresses = append(id.RecoveryAddresses, client.RecoveryIdentityAddress{
			ID: optUUID(a.ID), Value: a.Value, Via: a.Via, CreatedAt: a.CreatedAt.Or(time.Time{}), UpdatedAt: a.UpdatedAt.Or(time.Time{}),
		})
	}
	return id
}

func fromOgenTime(t ogen.OptNilDateTime) nullable.Nullable[time.Time] {
	switch {
	case !t.Set:
		return nil
	case t.Null:
		return nullable.NewNullNullable[time.Time]()
	}
	return nullable.NewNullableWithValue(t.Value)
}

func optUUID(u ogen.OptUUID) string {
	if !u.Set {
		return ""
	}
	return u.Value.String()
}

func fromOgenSession(o *ogen.Session) client.Session {
	s := client.Session{
		ID: o.ID.String(), Active: o.Active, ExpiresAt: o.ExpiresAt, AuthenticatedAt: o.AuthenticatedAt, IssuedAt: o.IssuedAt,
		AuthenticatorAssuranceLevel: client.AuthenticatorAssuranceLevel(o.AuthenticatorAssuranceLevel), Tokenized: o.Tokenized.Or(""),
	}
	for _, m := range o.AuthenticationMethods {
		s.AuthenticationMethods = append(s.AuthenticationMethods, client.SessionAuthenticationMethod{
			Method: client.IdentityCredentialsType(m.Method), AAL: client.AuthenticatorAssuranceLevel(m.Aal), CompletedAt: m.CompletedAt,
			Provider: m.Provider.Or(""), Organization: m.Organization.Or(""),
		})
	}
	if !o.Identity.Null {
		id := fromOgenIdentity(&o.Identity.Value)
		s.Identity = &id
	}
	for _, d := range o.Devices {
		s.Devices = append(s.Devices, client.SessionDevice{ID: d.ID.String(), IPAddress: d.IPAddress.Value, UserAgent: d.UserAgent.Value, Location: d.Location.Value})
	}
	return s
}

// TestOgenDecodesLikeSDK checks that ogen does the SDK's work: converted
// field for field, what it decoded equals what the SDK decoded, for every
// case that reads a model.
func TestOgenDecodesLikeSDK(t *testing.T) {
	c := newClients()
	check := func(name string, sdk, og any, errs ...error) {
		t.Helper()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if !reflect.DeepEqual(sdk, og) {
			t.Errorf("%s: the SDK and ogen decoded different values:\nsdk:  %+v\nogen: %+v", name, sdk, og)
		}
	}
	si, err1 := c.sdk.Identities.Get(c.ctx, getIdentityID, nil)
	oi, err2 := ogenGetIdentity(c)
	if err2 == nil {
		check("GetIdentity", *si, fromOgenIdentity(oi), err1, err2)
	} else {
		t.Fatal(err2)
	}

	sp, err1 := c.sdk.Identities.ListPage(c.ctx, &client.ListIdentitiesParams{PageSize: pageSize})
	items, next, err2 := ogenListPage(c, "")
	var conv []client.Identity
	for i := range items {
		conv = append(conv, fromOgenIdentity(&items[i]))
	}
	check("ListIdentitiesPage", sp, &client.Page[client.Identity]{Items: conv, NextPageToken: next, TotalCount: -1}, err1, err2)

	ss, err1 := c.sdk.Sessions.Get(c.ctx, sessionID, &client.GetSessionParams{Expand: []client.SessionExpandable{client.SessionExpandIdentity, client.SessionExpandDevices}})
	os, err2 := ogenGetSession(c)
	if err2 != nil {
		t.Fatal(err2)
	}
	check("GetSession", *ss, fromOgenSession(os), err1, err2)
}
