package client

import (
	"context"
	"iter"
	"net/http"

	"github.com/kratosadmin/sdk/gen"
)

// SessionsService manages sessions. Reach it as Client.Sessions. Sessions
// of one identity are listed by Client.Identities.ListSessions.
type SessionsService struct{ c *Client }

// Get returns a session. params may be nil; set Expand to include the
// identity or the devices (without it, Identity is nil).
//
// It corresponds to GET /admin/sessions/{id}.
func (s *SessionsService) Get(ctx context.Context, id string, params *GetSessionParams, opts ...CallOption) (*Session, error) {
	const op = "Sessions.Get"
	if err := checkUUID(op, "id", id); err != nil {
		return nil, err
	}
	if params != nil {
		if err := checkExpand(op, params.Expand); err != nil {
			return nil, err
		}
	}
	req, err := gen.NewGetSessionRequest(s.c.server(false), id, params)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	out := new(Session)
	if err := s.c.invoke(ctx, cl, out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListPage returns one page of all sessions, newest first.
//
// It corresponds to GET /admin/sessions.
func (s *SessionsService) ListPage(ctx context.Context, params *ListSessionsParams, opts ...CallOption) (*Page[Session], error) {
	cl, err := s.c.listSessionsCall("Sessions.ListPage", params, opts...)
	if err != nil {
		return nil, err
	}
	return listPage[Session](ctx, s.c, cl)
}

// List walks all sessions, like Identities.List.
func (s *SessionsService) List(ctx context.Context, params *ListSessionsParams, opts ...CallOption) iter.Seq2[*Session, error] {
	const op = "Sessions.List"
	var p ListSessionsParams
	if params != nil {
		p = *params
	}
	return listAll[Session](ctx, s.c, op, false, &p.PageToken,
		func() (*call, error) { return s.c.listSessionsCall(op, &p, opts...) })
}

func (c *Client) listSessionsCall(op string, p *ListSessionsParams, opts ...CallOption) (*call, error) {
	if p != nil {
		if err := checkExpand(op, p.Expand); err != nil {
			return nil, err
		}
	}
	req, err := gen.NewListSessionsRequest(c.server(false), p)
	return c.newCall(op, false, req, err, opts...)
}

// Disable deactivates a session; its data is kept. Disabling it again
// succeeds too.
//
// It corresponds to DELETE /admin/sessions/{id}.
func (s *SessionsService) Disable(ctx context.Context, id string, opts ...CallOption) error {
	const op = "Sessions.Disable"
	if err := checkUUID(op, "id", id); err != nil {
		return err
	}
	req, err := gen.NewDisableSessionRequest(s.c.server(false), id)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return err
	}
	return s.c.invoke(ctx, cl, nil)
}

// Extend extends a session's expiry. Servers with the
// faster_session_extend feature flag answer 204 without a body: Extend then
// returns (nil, nil). Others answer 200 with the session, which it returns.
//
// It corresponds to PATCH /admin/sessions/{id}/extend.
func (s *SessionsService) Extend(ctx context.Context, id string, opts ...CallOption) (*Session, error) {
	const op = "Sessions.Extend"
	if err := checkUUID(op, "id", id); err != nil {
		return nil, err
	}
	req, err := gen.NewExtendSessionRequest(s.c.server(false), id)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	resp, err := s.c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	defer resp.release()
	if resp.status == http.StatusNoContent {
		return nil, nil
	}
	out := new(Session)
	if err := s.c.decode(cl, resp, out); err != nil {
		return nil, err
	}
	return out, nil
}
