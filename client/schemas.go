package client

import (
	"context"
	"encoding/json"
	"iter"

	"github.com/kratosadmin/sdk/gen"
)

// SchemasService reads identity schemas. Reach it as Client.Schemas.
//
// Kratos serves schemas on its public port, without authentication. With
// WithPublicURL the client asks there; otherwise it asks the admin URL and
// follows the redirect the admin port answers with (without the token when
// the redirect leaves the admin origin).
type SchemasService struct{ c *Client }

// Get returns an identity schema (a JSON Schema document) by its id, or by
// the base64url form of the id found at the end of an identity's SchemaURL.
//
// It corresponds to GET /schemas/{id}.
func (s *SchemasService) Get(ctx context.Context, id string, opts ...CallOption) (json.RawMessage, error) {
	const op = "Schemas.Get"
	if err := checkSegment(op, "id", id); err != nil {
		return nil, err
	}
	req, err := gen.NewGetIdentitySchemaRequest(s.c.server(true), id)
	cl, err := s.c.newCall(op, true, req, err, opts...)
	if err != nil {
		return nil, err
	}
	var out json.RawMessage
	if err := s.c.invoke(ctx, cl, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListPage returns one page of identity schemas.
//
// Kratos v26.2.0 answers pages after the first with more items than asked
// for, overlapping the pages that follow (see "Paging flaws of Kratos" in
// the package documentation); the client keeps the page size's worth that
// belongs to the page, so no schema comes twice.
//
// It corresponds to GET /schemas.
func (s *SchemasService) ListPage(ctx context.Context, params *ListIdentitySchemasParams, opts ...CallOption) (*Page[IdentitySchemaContainer], error) {
	cl, err := s.c.listSchemasCall("Schemas.ListPage", params, opts...)
	if err != nil {
		return nil, err
	}
	return listPage[IdentitySchemaContainer](ctx, s.c, cl)
}

// List walks all identity schemas, like Identities.List.
func (s *SchemasService) List(ctx context.Context, params *ListIdentitySchemasParams, opts ...CallOption) iter.Seq2[*IdentitySchemaContainer, error] {
	const op = "Schemas.List"
	var p ListIdentitySchemasParams
	if params != nil {
		p = *params
	}
	return listAll[IdentitySchemaContainer](ctx, s.c, op, p.Page != 0 || p.PerPage != 0, &p.PageToken,
		func() (*call, error) { return s.c.listSchemasCall(op, &p, opts...) })
}

func (c *Client) listSchemasCall(op string, p *ListIdentitySchemasParams, opts ...CallOption) (*call, error) {
	fix := &pageFix{flaw: flawOverlong}
	if p != nil {
		// Which size the server uses: page_size when page_token or
		// page_size is sent, per_page otherwise.
		fix.size = p.PageSize
		if p.PageSize == 0 && p.PageToken == "" {
			fix.size = p.PerPage
		}
	}
	req, err := gen.NewListIdentitySchemasRequest(c.server(true), p)
	cl, err := c.newCall(op, true, req, err, opts...)
	if err != nil {
		return nil, err
	}
	cl.fix = fix
	return cl, nil
}
