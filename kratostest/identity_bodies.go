package kratostest

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Request bodies of the identity endpoints, decoded as Kratos does.

// createIdentityBody mirrors Kratos' CreateIdentityBody; it is decoded
// strictly (unknown fields are refused) as Kratos does.
type createIdentityBody struct {
	SchemaID            string                   `json:"schema_id"`
	Traits              json.RawMessage          `json:"traits"`
	Credentials         *identityWithCredentials `json:"credentials"`
	VerifiableAddresses []verifiableAddressIn    `json:"verifiable_addresses"`
	RecoveryAddresses   []recoveryAddressIn      `json:"recovery_addresses"`
	MetadataPublic      json.RawMessage          `json:"metadata_public"`
	MetadataAdmin       json.RawMessage          `json:"metadata_admin,omitempty"`
	State               string                   `json:"state"`
	OrganizationID      nullUUID                 `json:"organization_id"`
	ExternalID          string                   `json:"external_id,omitempty"`
}

// verifiableAddressIn is a verifiable address in a request body.
type verifiableAddressIn struct {
	ID         string     `json:"id"`
	Value      string     `json:"value"`
	Verified   bool       `json:"verified"`
	Via        string     `json:"via"`
	Status     string     `json:"status"`
	VerifiedAt *time.Time `json:"verified_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// recoveryAddressIn is a recovery address in a request body.
type recoveryAddressIn struct {
	ID        string    `json:"id"`
	Value     string    `json:"value"`
	Via       string    `json:"via"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// nullUUID decodes like gofrs' uuid.NullUUID: null or a UUID string.
type nullUUID struct {
	set   bool
	value string
}

func (n *nullUUID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = nullUUID{}
		return nil
	}
	// Like uuid.NullUUID: a string's content, or any other JSON value's
	// text, is parsed as a UUID ("uuid: incorrect UUID length 1 in
	// string \"5\"" for 5).
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	id, err := parseUUID(s)
	if err != nil {
		return err
	}
	*n = nullUUID{set: true, value: id}
	return nil
}

func (n nullUUID) ptr() *string {
	if !n.set || n.value == nilUUID {
		return nil
	}
	v := n.value
	return &v
}

// identityFromCreateBody is Kratos' identityFromCreateIdentityBody: state
// check, address normalisation and credential import (passwords hashed).
// It needs no lock.
func (s *Server) identityFromCreateBody(cr *createIdentityBody, now time.Time) (*identity, *apiError) {
	state := "active"
	if cr.State != "" {
		if cr.State != "active" && cr.State != "inactive" {
			return nil, errBadRequest("identity state is not valid")
		}
		state = cr.State
	}
	changed := now
	i := &identity{
		SchemaID:       cr.SchemaID,
		Traits:         traitsOrEmpty(cr.Traits),
		State:          state,
		StateChangedAt: &changed,
		MetadataPublic: nullIfEmpty(cr.MetadataPublic),
		MetadataAdmin:  nullIfEmpty(cr.MetadataAdmin),
		adminMetaKey:   cr.MetadataAdmin != nil,
		OrganizationID: cr.OrganizationID.ptr(),
		ExternalID:     cr.ExternalID,
		Credentials:    map[string]*credential{},
	}
	micro := now.Truncate(time.Microsecond)
	for _, a := range cr.VerifiableAddresses {
		va := &verifiableAddress{
			Value: strings.ToLower(a.Value), Verified: a.Verified, Via: a.Via, Status: a.Status,
			VerifiedAt: a.VerifiedAt, CreatedAt: micro, UpdatedAt: micro,
		}
		addressRules(va, now)
		if id, err := parseUUID(a.ID); err == nil && id != nilUUID {
			va.ID = id
		}
		i.Verifiable = append(i.Verifiable, va)
	}
	for _, a := range cr.RecoveryAddresses {
		ra := &recoveryAddress{Value: strings.ToLower(a.Value), Via: a.Via, CreatedAt: micro, UpdatedAt: micro}
		if id, err := parseUUID(a.ID); err == nil && id != nilUUID {
			ra.ID = id
		}
		i.Recovery = append(i.Recovery, ra)
	}
	if cr.Credentials != nil {
		if err := s.importCredentials(i, cr.Credentials, now); err != nil {
			return nil, err
		}
	}
	return i, nil
}

// nullIfEmpty normalises free-form JSON: absent and null are both nil.
func nullIfEmpty(raw json.RawMessage) json.RawMessage {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, t) != nil {
		return bytes.Clone(t)
	}
	return b.Bytes()
}
