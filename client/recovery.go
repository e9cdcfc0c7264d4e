package client

import (
	"context"
	"fmt"

	"github.com/kratosadmin/sdk/gen"
)

// RecoveryService creates account recovery codes and links for identities.
// Reach it as Client.Recovery.
type RecoveryService struct{ c *Client }

// CreateCode creates a recovery flow and a one-time code for the identity,
// to hand to its owner together with RecoveryLink. ExpiresIn is a Go
// duration ("15m", "1h30m"); empty uses the server's default. An unknown
// identity is an *Error matching ErrNotFound.
//
// It corresponds to POST /admin/recovery/code.
func (s *RecoveryService) CreateCode(ctx context.Context, body *CreateRecoveryCodeForIdentityBody, opts ...CallOption) (*RecoveryCodeForIdentity, error) {
	const op = "Recovery.CreateCode"
	if body == nil {
		return nil, &ArgumentError{Op: op, Argument: "body", Reason: "nil"}
	}
	if err := checkUUID(op, "body.IdentityID", body.IdentityID); err != nil {
		return nil, err
	}
	if err := checkDuration(op, "body.ExpiresIn", body.ExpiresIn); err != nil {
		return nil, err
	}
	if body.FlowType != "" && !body.FlowType.Valid() {
		return nil, &ArgumentError{Op: op, Argument: "body.FlowType", Reason: fmt.Sprintf("unknown flow type %q, want browser or api", body.FlowType)}
	}
	b, err := marshal(op, "body", body)
	if err != nil {
		return nil, err
	}
	req, err := gen.NewCreateRecoveryCodeForIdentityRequestWithBody(s.c.server(false), jsonContentType, nil)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	cl.body = b
	out := new(RecoveryCodeForIdentity)
	if err := s.c.invoke(ctx, cl, out); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateLink creates a one-time recovery link for the identity. params may
// be nil; ReturnTo must be one of the server's allowed return URLs. Unlike
// CreateCode, an unknown identity is an *Error matching ErrBadRequest.
//
// It corresponds to POST /admin/recovery/link.
func (s *RecoveryService) CreateLink(ctx context.Context, body *CreateRecoveryLinkForIdentityBody, params *CreateRecoveryLinkForIdentityParams, opts ...CallOption) (*RecoveryLinkForIdentity, error) {
	const op = "Recovery.CreateLink"
	if body == nil {
		return nil, &ArgumentError{Op: op, Argument: "body", Reason: "nil"}
	}
	if err := checkUUID(op, "body.IdentityID", body.IdentityID); err != nil {
		return nil, err
	}
	if err := checkDuration(op, "body.ExpiresIn", body.ExpiresIn); err != nil {
		return nil, err
	}
	b, err := marshal(op, "body", body)
	if err != nil {
		return nil, err
	}
	req, err := gen.NewCreateRecoveryLinkForIdentityRequestWithBody(s.c.server(false), params, jsonContentType, nil)
	cl, err := s.c.newCall(op, false, req, err, opts...)
	if err != nil {
		return nil, err
	}
	cl.body = b
	out := new(RecoveryLinkForIdentity)
	if err := s.c.invoke(ctx, cl, out); err != nil {
		return nil, err
	}
	return out, nil
}
