package kratostest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// patchedIdentity receives the patched document. Its field set is that of
// the identity JSON; id and updated_at are not taken from it, schema_url
// only for the answer.
type patchedIdentity struct {
	SchemaID            string                `json:"schema_id"`
	ExternalID          string                `json:"external_id"`
	State               string                `json:"state"`
	StateChangedAt      *time.Time            `json:"state_changed_at"`
	Traits              json.RawMessage       `json:"traits"`
	VerifiableAddresses []verifiableAddressIn `json:"verifiable_addresses"`
	RecoveryAddresses   []recoveryAddressIn   `json:"recovery_addresses"`
	MetadataPublic      json.RawMessage       `json:"metadata_public"`
	MetadataAdmin       json.RawMessage       `json:"metadata_admin"`
	OrganizationID      nullUUID              `json:"organization_id"`
	// Credentials, configs included: Kratos patches the confidential
	// identity, so paths below /credentials (but /credentials/oidc/**)
	// change the stored credentials.
	Credentials map[string]patchedCredential `json:"credentials"`
	SchemaURL   string                       `json:"schema_url"`
	// Decoded as Kratos does: a patch that makes them other than times is
	// refused.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// patchDecodeMessage is the message of an error decoding the patched
// document, in the words of Kratos, whose Go types have other names.
func patchDecodeMessage(err error) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return kratosTypeNames.Replace(err.Error())
	}
	if te.Field == "external_id" { // a sqlxx.NullString in Kratos
		return "json: cannot unmarshal " + te.Value + " into Go value of type string"
	}
	return kratosTypeNames.Replace("json: cannot unmarshal " + te.Value + " into Go struct field " + te.Struct + "." + te.Field + " of type " + te.Type.String())
}

// patchDenied is the deny list of Kratos' patchIdentity, matched
// case-insensitively: "/id", "/stateChangedAt", "/credentials" and
// "/credentials/oidc/**".
//
// Note the camelCase "/stateChangedAt": the JSON field is state_changed_at,
// so the real server does NOT refuse a patch of "/state_changed_at" and the
// fake mimics that (the value is applied unless the state changes too).
//
// Other paths below "/credentials" (for example
// "/credentials/password/config") are applied to the stored credentials,
// on the real server and in the fake (see patchedIdentity.Credentials).
func patchDenied(path string) bool {
	p := strings.ToLower(path)
	switch p {
	case "/id", "/statechangedat", "/credentials":
		return true
	}
	return strings.HasPrefix(p, "/credentials/oidc/")
}

// patchedCredential is a credential of the patched document.
type patchedCredential struct {
	Identifiers []string        `json:"identifiers"`
	Config      json.RawMessage `json:"config"`
	Version     int             `json:"version"`
}

// applyIdentityPatch applies a JSON Patch document to a copy of i as
// Kratos' patchIdentity does and returns the patched copy (not validated).
func (s *Server) applyIdentityPatch(i *identity, body []byte, now time.Time) (*identity, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 && s.before(ReleaseV25_4) {
		// v1.3.1 reads the body as JSON first (seen by the differential
		// test on a real v1.3.1; later releases: "invalid state detected").
		return nil, patchError("unexpected end of JSON input")
	}
	ops, err := decodePatch(body)
	if err != nil {
		return nil, patchError(err.Error())
	}
	if apiErr := checkPatchOps(ops); apiErr != nil {
		return nil, apiErr
	}
	p, apiErr := s.patchedDocument(i, ops)
	if apiErr != nil {
		return nil, apiErr
	}
	out, apiErr := fromPatched(i, p, now)
	if apiErr == nil && s.before(ReleaseV25_4) {
		// v1.3.1 answers a credential an operation wrote as a new one,
		// with zero timestamps (the differential test on a real v1.3.1).
		for _, op := range ops {
			path, _ := op.path()
			if typ, ok := strings.CutPrefix(path, "/credentials/"); ok {
				typ, _, _ = strings.Cut(typ, "/")
				if out.Credentials[typ] != nil {
					out.dropped[typ] = true
				}
			}
		}
	}
	return out, apiErr
}

// patchError is the 400 of a patch that cannot be applied.
func patchError(msg string) *apiError {
	return &apiError{httpStatus: 400, code: 400, reason: "An error occured when applying the JSON patch", message: msg}
}

// checkPatchOps refuses operations other than add, remove and replace,
// and paths on the deny list.
func checkPatchOps(ops []patchOp) *apiError {
	for _, op := range ops {
		switch op.kind() {
		case "add", "remove", "replace":
		default:
			return patchError("unsupported operation: " + op.kind())
		}
		path, err := op.path()
		if err != nil {
			return patchError("error parsing patch operations: " + err.Error())
		}
		if patchDenied(path) {
			return patchError("patch includes denied path: " + path)
		}
	}
	return nil
}

// patchedDocument applies ops to i as Kratos renders it with every
// credential's configuration, and decodes the result.
func (s *Server) patchedDocument(i *identity, ops []patchOp) (*patchedIdentity, *apiError) {
	all := map[string]bool{}
	for typ := range i.Credentials {
		all[typ] = true
	}
	docJSON, _ := json.Marshal(s.render(i, viewGet(all)))
	doc, err := decodeValue(docJSON)
	if err != nil {
		return nil, patchError(err.Error())
	}
	doc, err = applyPatch(doc, ops)
	if err != nil {
		return nil, patchError(err.Error())
	}
	patchedJSON, _ := json.Marshal(doc)
	var p patchedIdentity
	if err := json.Unmarshal(patchedJSON, &p); err != nil {
		return nil, patchError(patchDecodeMessage(err))
	}
	return &p, nil
}

// fromPatched makes the identity a patched document describes, from a copy
// of i: what the patch may change, a state change with its time, the
// credentials and the addresses.
func fromPatched(i *identity, p *patchedIdentity, now time.Time) (*identity, *apiError) {
	out := i.clone()
	out.SchemaID = p.SchemaID
	out.ExternalID = p.ExternalID
	out.Traits = p.Traits
	out.MetadataPublic = nullIfEmpty(p.MetadataPublic)
	out.MetadataAdmin = nullIfEmpty(p.MetadataAdmin)
	out.adminMetaKey = p.MetadataAdmin != nil
	out.schemaURLEcho = p.SchemaURL
	if !p.CreatedAt.IsZero() {
		// Kratos keeps a patched created_at (recorded 383, 389).
		out.CreatedAt = p.CreatedAt
	}
	out.OrganizationID = p.OrganizationID.ptr()
	out.StateChangedAt = p.StateChangedAt
	out.State = p.State
	if p.State != i.State {
		if p.State != "active" && p.State != "inactive" {
			return nil, &apiError{httpStatus: 400, code: 400,
				reason:  fmt.Sprintf("The supplied state ('%s') was not valid. Valid states are ('active', 'inactive').", p.State),
				message: "identity state is not valid"}
		}
		t := now
		out.StateChangedAt = &t
	}
	micro := now.Truncate(time.Microsecond)
	creds, apiErr := patchedCredentials(i, p.Credentials, micro)
	if apiErr != nil {
		return nil, apiErr
	}
	out.Credentials = creds
	out.dropped = map[string]bool{}
	for typ := range i.Credentials {
		if _, ok := p.Credentials[typ]; !ok {
			out.dropped[typ] = true
		}
	}
	out.Verifiable, out.Recovery = patchedAddresses(p, micro)
	return out, nil
}

// patchedCredentials are the credentials of a patched document: a type
// Kratos cannot store is its 500; one the identity had keeps its times.
func patchedCredentials(i *identity, in map[string]patchedCredential, micro time.Time) (map[string]*credential, *apiError) {
	out := make(map[string]*credential, len(in))
	for typ, pc := range in {
		if !credentialTypes[typ] || typ == "link_recovery" || typ == "code_recovery" {
			return nil, &apiError{httpStatus: 500, code: 500,
				reason:  fmt.Sprintf("The SQL adapter failed to return the appropriate credentials_type for name %q. This is a bug in the code.", typ),
				message: "An internal server error occurred, please contact the system administrator"}
		}
		c := &credential{Type: typ, CreatedAt: micro, UpdatedAt: micro}
		if old := i.Credentials[typ]; old != nil {
			cp := *old
			c = &cp
		}
		c.Identifiers = slices.Clone(pc.Identifiers)
		c.Config = bytes.Clone(pc.Config)
		if len(c.Config) == 0 || string(c.Config) == "null" {
			c.Config = json.RawMessage("{}")
		}
		c.Version = pc.Version
		c.Config = normalizeLinks(typ, c.Config)
		out[typ] = c
	}
	return out, nil
}

// patchedAddresses are the addresses of a patched document; new ones are
// created now.
func patchedAddresses(p *patchedIdentity, micro time.Time) ([]*verifiableAddress, []*recoveryAddress) {
	var verifiable []*verifiableAddress
	for _, a := range p.VerifiableAddresses {
		va := &verifiableAddress{Value: a.Value, Verified: a.Verified, Via: a.Via, Status: a.Status, VerifiedAt: a.VerifiedAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
		if id, err := parseUUID(a.ID); err == nil && id != nilUUID {
			va.ID = id
		}
		if va.CreatedAt.IsZero() {
			va.CreatedAt, va.UpdatedAt = micro, micro
		}
		verifiable = append(verifiable, va)
	}
	var recovery []*recoveryAddress
	for _, a := range p.RecoveryAddresses {
		ra := &recoveryAddress{Value: a.Value, Via: a.Via, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
		if id, err := parseUUID(a.ID); err == nil && id != nilUUID {
			ra.ID = id
		}
		if ra.CreatedAt.IsZero() {
			ra.CreatedAt, ra.UpdatedAt = micro, micro
		}
		recovery = append(recovery, ra)
	}
	return verifiable, recovery
}
