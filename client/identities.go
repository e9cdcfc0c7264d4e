package client

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/kratosadmin/sdk/gen"
)

// IdentitiesService manages identities. Reach it as Client.Identities.
type IdentitiesService struct{ c *Client }

const identitiesPath = "/admin/identities"

// jsonContentType is what the WithBody builders are given; the client
// sets the body and its Content-Type per attempt.
const jsonContentType = "application/json"

// Get returns the identity with the given id. params may be nil; set
// IncludeCredential to receive credential configurations (for password,
// the hash). A malformed id is refused before sending; an unknown one is
// an *Error matching ErrNotFound.
//
// It corresponds to GET /admin/identities/{id}.
func (s *IdentitiesService) Get(ctx context.Context, id string, params *GetIdentityParams, opts ...CallOption) (*Identity, error) {
	const op = "Identities.Get"
	if err := checkUUID(op, "id", id); err != nil {
		return nil, err
	}
	if params != nil {
		if err := checkCredentialTypes(op, "params.IncludeCredential", params.IncludeCredential); err != nil {
			return nil, err
		}
		types, err := s.c.includable(ctx, params.IncludeCredential)
		if err != nil {
			return nil, err
		}
		q := *params
		q.IncludeCredential = types
		params = &q
	}
	req, err := gen.NewGetIdentityRequest(s.c.server(false), id, params)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	out := new(Identity)
	if err := s.c.invoke(ctx, cl, out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetByExternalID returns the identity with the given external id. The id
// is escaped as one path segment, whatever it contains; "." and ".." are
// refused (ErrInvalidArgument), as they would address another endpoint.
//
// It corresponds to GET /admin/identities/by/external/{externalID}.
func (s *IdentitiesService) GetByExternalID(ctx context.Context, externalID string, params *GetIdentityByExternalIDParams, opts ...CallOption) (*Identity, error) {
	const op = "Identities.GetByExternalID"
	if err := checkSegment(op, "externalID", externalID); err != nil {
		return nil, err
	}
	if params != nil {
		if err := checkCredentialTypes(op, "params.IncludeCredential", params.IncludeCredential); err != nil {
			return nil, err
		}
	}
	req, err := gen.NewGetIdentityByExternalIDRequest(s.c.server(false), externalID, params)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	if err := s.c.require(ctx, op, FeatureGetByExternalID); err != nil {
		return nil, err
	}
	out := new(Identity)
	if err := s.c.invoke(ctx, cl, out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListPage returns one page of identities; pass the returned NextPageToken
// as params.PageToken for the next one. params may be nil. Filters (IDs,
// CredentialsIdentifier, PreviewCredentialsIdentifierSimilar,
// OrganizationID) cannot be combined: the server answers 400.
//
// It corresponds to GET /admin/identities.
func (s *IdentitiesService) ListPage(ctx context.Context, params *ListIdentitiesParams, opts ...CallOption) (*Page[Identity], error) {
	const op = "Identities.ListPage"
	cl, err := s.c.listIdentitiesCall(op, params, opts...) // checks the arguments
	if err != nil {
		return nil, err
	}
	if params != nil {
		if cl, err = s.c.listIdentitiesIncludable(ctx, op, cl, *params, opts); err != nil {
			return nil, err
		}
	}
	if params != nil && params.OrganizationID != "" {
		if err := s.c.require(ctx, op, FeatureOrganizationID); err != nil {
			return nil, err
		}
	}
	return listPage[Identity](ctx, s.c, cl)
}

// List walks all identities matching params (nil for all), page by page,
// starting at params.PageToken. It stops early when the loop breaks, and
// yields a failure once, as a *PageError whose PageToken resumes the walk:
//
//	for identity, err := range c.Identities.List(ctx, nil) {
//		if err != nil { return err }
//		fmt.Println(identity.ID)
//	}
//
// The yielded pointer is only valid until the next iteration; copy the
// identity to keep it.
func (s *IdentitiesService) List(ctx context.Context, params *ListIdentitiesParams, opts ...CallOption) iter.Seq2[*Identity, error] {
	const op = "Identities.List"
	var p ListIdentitiesParams
	if params != nil {
		p = *params
	}
	return listAll[Identity](ctx, s.c, op, p.Page != 0 || p.PerPage != 0, &p.PageToken,
		func() (*call, error) {
			cl, err := s.c.listIdentitiesCall(op, &p, opts...)
			if err == nil {
				cl, err = s.c.listIdentitiesIncludable(ctx, op, cl, p, opts)
			}
			if err == nil && p.OrganizationID != "" {
				err = s.c.require(ctx, op, FeatureOrganizationID)
			}
			return cl, err
		})
}

// listIdentitiesIncludable is cl, or when the release cannot serve all of
// p's include_credential types (see includable) the call without them.
func (c *Client) listIdentitiesIncludable(ctx context.Context, op string, cl *call, p ListIdentitiesParams, opts []CallOption) (*call, error) {
	types, err := c.includable(ctx, p.IncludeCredential)
	if err != nil || len(types) == len(p.IncludeCredential) {
		return cl, err
	}
	p.IncludeCredential = types
	return c.listIdentitiesCall(op, &p, opts...)
}

func (c *Client) listIdentitiesCall(op string, p *ListIdentitiesParams, opts ...CallOption) (*call, error) {
	bound := &pageBound{max: MaxIdentitiesPageSize}
	if p != nil {
		// The same page on every release (see pageSizes): v25.4 and later
		// read a negative size as the default and clamp above 500; v1.3.1
		// honours any size and its handler dies on a negative one.
		q := *p
		pageSizes(MaxIdentitiesPageSize, &q.PageSize, &q.PerPage)
		p = &q
		// A page holds what was asked for; a list of ids may be longer.
		bound.max = int(max(pageLimit(q.PageSize, q.PerPage, MaxIdentitiesPageSize), int64(len(q.IDs))))
		// Consistency is sent as given: Kratos ignores levels it does
		// not know (and self-hosted servers all of them).
		if len(p.IDs) > 500 {
			return nil, &ArgumentError{Op: op, Argument: "params.IDs", Reason: fmt.Sprintf("%d ids, the server takes at most 500", len(p.IDs))}
		}
		for i, id := range p.IDs {
			if err := checkUUID(op, fmt.Sprintf("params.IDs[%d]", i), id); err != nil {
				return nil, err
			}
		}
		if p.OrganizationID != "" {
			if err := checkUUID(op, "params.OrganizationID", p.OrganizationID); err != nil {
				return nil, err
			}
		}
		if err := checkCredentialTypes(op, "params.IncludeCredential", p.IncludeCredential); err != nil {
			return nil, err
		}
	}
	req, err := gen.NewListIdentitiesRequest(c.server(false), p)
	cl, err := c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	cl.bound = bound
	return cl, nil
}

// Create creates an identity, importing any credentials in body. An empty
// SchemaID selects the server's default schema. A duplicate credential
// identifier or external id is an *Error matching ErrConflict; a body the
// identity schema refuses matches ErrBadRequest.
//
// It corresponds to POST /admin/identities.
func (s *IdentitiesService) Create(ctx context.Context, body *CreateIdentityBody, opts ...CallOption) (*Identity, error) {
	const op = "Identities.Create"
	if err := checkCreateBody(op, "body", body); err != nil {
		return nil, err
	}
	b, err := marshal(op, "body", body)
	if err != nil {
		return nil, err
	}
	req, err := gen.NewCreateIdentityRequestWithBody(s.c.server(false), jsonContentType, nil)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	if err := s.c.requireCreateFeatures(ctx, op, body); err != nil {
		return nil, err
	}
	cl.body = b
	out := new(Identity)
	if err := s.c.invoke(ctx, cl, out); err != nil {
		return nil, err
	}
	return out, nil
}

// requireCreateFeatures checks a create body's fields against the
// connected release.
func (c *Client) requireCreateFeatures(ctx context.Context, op string, body *CreateIdentityBody) error {
	if body.ExternalID != "" {
		if err := c.require(ctx, op, FeatureExternalID); err != nil {
			return err
		}
	}
	if body.OrganizationID.IsSpecified() {
		if err := c.require(ctx, op, FeatureOrganizationID); err != nil {
			return err
		}
	}
	if len(body.Credentials.SAML.Config.Providers) > 0 {
		return c.require(ctx, op, FeatureSAMLImport)
	}
	return nil
}

// CheckCreateIdentityBody checks body as Create and BatchCreate do before
// sending anything, and returns the *ArgumentError they would (for
// callers that prepare many bodies, such as the bulk importer, and want
// to refuse a bad one alone).
func CheckCreateIdentityBody(body *CreateIdentityBody) error {
	return checkCreateBody("CheckCreateIdentityBody", "body", body)
}

func checkCreateBody(op, arg string, body *CreateIdentityBody) error {
	if body == nil {
		return &ArgumentError{Op: op, Argument: arg, Reason: "nil"}
	}
	// SchemaID and Traits may be left out: Kratos then uses the default
	// schema, and validates the traits as {}. The argument names are built
	// only for an error: a batch checks a thousand bodies.
	if checkOptionalJSON(op, "", body.Traits) != nil {
		return checkOptionalJSON(op, arg+".Traits", body.Traits)
	}
	if checkOptionalJSON(op, "", body.MetadataPublic) != nil {
		return checkOptionalJSON(op, arg+".MetadataPublic", body.MetadataPublic)
	}
	if checkOptionalJSON(op, "", body.MetadataAdmin) != nil {
		return checkOptionalJSON(op, arg+".MetadataAdmin", body.MetadataAdmin)
	}
	if org, err := body.OrganizationID.Get(); err == nil && org != "" {
		if err := checkUUID(op, arg+".OrganizationID", org); err != nil {
			return err
		}
	}
	if checkState(op, "", body.State) != nil {
		return checkState(op, arg+".State", body.State)
	}
	return nil
}

// Update replaces an identity's traits, metadata, state and external id
// (PUT semantics: traits and metadata left nil are cleared, traits to {};
// an empty SchemaID keeps the identity's schema and an empty State its
// state) and imports any credentials in body.
//
// It corresponds to PUT /admin/identities/{id}.
func (s *IdentitiesService) Update(ctx context.Context, id string, body *UpdateIdentityBody, opts ...CallOption) (*Identity, error) {
	const op = "Identities.Update"
	if err := checkUUID(op, "id", id); err != nil {
		return nil, err
	}
	if body == nil {
		return nil, &ArgumentError{Op: op, Argument: "body", Reason: "nil"}
	}
	if err := checkOptionalJSON(op, "body.Traits", body.Traits); err != nil {
		return nil, err
	}
	if err := checkOptionalJSON(op, "body.MetadataPublic", body.MetadataPublic); err != nil {
		return nil, err
	}
	if err := checkOptionalJSON(op, "body.MetadataAdmin", body.MetadataAdmin); err != nil {
		return nil, err
	}
	if err := checkState(op, "body.State", body.State); err != nil {
		return nil, err
	}
	b, err := marshal(op, "body", body)
	if err != nil {
		return nil, err
	}
	req, err := gen.NewUpdateIdentityRequestWithBody(s.c.server(false), id, jsonContentType, nil)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	if body.ExternalID != "" {
		if err := s.c.require(ctx, op, FeatureExternalID); err != nil {
			return nil, err
		}
	}
	if len(body.Credentials.SAML.Config.Providers) > 0 {
		if err := s.c.require(ctx, op, FeatureSAMLImport); err != nil {
			return nil, err
		}
	}
	cl.body = b
	out := new(Identity)
	if err := s.c.invoke(ctx, cl, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Patch applies a JSON Patch (add, remove and replace; see PatchAdd,
// PatchReplace, PatchRemove) to an identity and returns the result. A
// replace or add with a nil value sends `"value": null`. An operation that
// writes a plaintext password (/credentials/password/config/password, or a
// value carrying one) is refused before sending: Kratos would store it
// unhashed. Set a password with Update, or write hashed_password.
//
// It corresponds to PATCH /admin/identities/{id}.
func (s *IdentitiesService) Patch(ctx context.Context, id string, ops []JSONPatch, opts ...CallOption) (*Identity, error) {
	const op = "Identities.Patch"
	if err := checkUUID(op, "id", id); err != nil {
		return nil, err
	}
	b, err := encodePatch(op, ops)
	if err != nil {
		return nil, err
	}
	req, err := gen.NewPatchIdentityRequestWithBody(s.c.server(false), id, jsonContentType, nil)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	for _, o := range ops {
		if o.Path == "/external_id" || strings.HasPrefix(o.Path, "/external_id/") {
			if err := s.c.require(ctx, op, FeatureExternalID); err != nil {
				return nil, err
			}
			break
		}
	}
	cl.body = b
	out := new(Identity)
	if err := s.c.invoke(ctx, cl, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Delete deletes an identity permanently. Deleting an unknown identity is
// an *Error matching ErrNotFound.
//
// It corresponds to DELETE /admin/identities/{id}.
func (s *IdentitiesService) Delete(ctx context.Context, id string, opts ...CallOption) error {
	const op = "Identities.Delete"
	if err := checkUUID(op, "id", id); err != nil {
		return err
	}
	req, err := gen.NewDeleteIdentityRequest(s.c.server(false), id)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return err
	}
	return s.c.invoke(ctx, cl, nil)
}

// DeleteCredentials deletes one credential type of an identity. For oidc
// and saml, params.Identifier selects the provider link to remove. The
// server refuses to delete code credentials and the last first factor
// (ErrBadRequest) and answers ErrNotFound for a type the identity lacks.
//
// It corresponds to DELETE /admin/identities/{id}/credentials/{type}.
func (s *IdentitiesService) DeleteCredentials(ctx context.Context, id string, typ IdentityCredentialsType, params *DeleteIdentityCredentialsParams, opts ...CallOption) error {
	const op = "Identities.DeleteCredentials"
	if err := checkUUID(op, "id", id); err != nil {
		return err
	}
	if !typ.Valid() {
		return &ArgumentError{Op: op, Argument: "type", Reason: fmt.Sprintf("unknown credential type %q", typ)}
	}
	req, err := gen.NewDeleteIdentityCredentialsRequest(s.c.server(false), id, typ, params)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return err
	}
	if typ == CredentialsTypePassword {
		if err := s.c.require(ctx, op, FeatureDeleteFirstFactor); err != nil {
			return err
		}
	}
	return s.c.invoke(ctx, cl, nil)
}

// ListSessionsPage returns one page of an identity's sessions (newest
// first). An unknown identity has no sessions, not an error.
//
// Kratos v26.2.0 pages this list off by one (see "Paging flaws of Kratos"
// in the package documentation): with PageSize and PageToken the client
// corrects it, so NextPageToken leads to the page that follows, and is
// empty on the last page; pass it with the same PageSize. The deprecated
// Page and PerPage are sent as given; the server counts them from 1 (pages
// 0 and 1 are both the first).
//
// It corresponds to GET /admin/identities/{id}/sessions.
func (s *IdentitiesService) ListSessionsPage(ctx context.Context, id string, params *ListIdentitySessionsParams, opts ...CallOption) (*Page[Session], error) {
	cl, err := s.c.listIdentitySessionsCall("Identities.ListSessionsPage", id, params, opts...)
	if err != nil {
		return nil, err
	}
	return listPage[Session](ctx, s.c, cl)
}

// ListSessions walks all sessions of an identity, like List.
func (s *IdentitiesService) ListSessions(ctx context.Context, id string, params *ListIdentitySessionsParams, opts ...CallOption) iter.Seq2[*Session, error] {
	const op = "Identities.ListSessions"
	var p ListIdentitySessionsParams
	if params != nil {
		p = *params
	}
	return listAll[Session](ctx, s.c, op, p.Page != 0 || p.PerPage != 0, &p.PageToken,
		func() (*call, error) { return s.c.listIdentitySessionsCall(op, id, &p, opts...) })
}

func (c *Client) listIdentitySessionsCall(op, id string, p *ListIdentitySessionsParams, opts ...CallOption) (*call, error) {
	if err := checkUUID(op, "id", id); err != nil {
		return nil, err
	}
	bound := &pageBound{max: MaxPageSize}
	if p != nil {
		q := *p // the sizes sent may differ from the caller's
		pageSizes(MaxPageSize, &q.PageSize, &q.PerPage)
		p = &q
		bound.max = int(pageLimit(q.PageSize, q.PerPage, MaxPageSize))
	}
	req, err := gen.NewListIdentitySessionsRequest(c.server(false), id, p)
	cl, err := c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	cl.bound = bound
	// The deprecated page and per_page are sent as given; with the
	// others the client corrects the server's off-by-one page.
	if p == nil {
		cl.fix = &pageFix{flaw: flawOneBased}
	} else if p.Page == 0 && p.PerPage == 0 {
		cl.fix = &pageFix{flaw: flawOneBased, size: p.PageSize, token: p.PageToken}
	}
	return cl, nil
}

// DeleteSessions deletes and invalidates all sessions of an identity. The
// server answers ErrNotFound when the identity has no sessions.
//
// It corresponds to DELETE /admin/identities/{id}/sessions.
func (s *IdentitiesService) DeleteSessions(ctx context.Context, id string, opts ...CallOption) error {
	const op = "Identities.DeleteSessions"
	if err := checkUUID(op, "id", id); err != nil {
		return err
	}
	req, err := gen.NewDeleteIdentitySessionsRequest(s.c.server(false), id)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return err
	}
	return s.c.invoke(ctx, cl, nil)
}
