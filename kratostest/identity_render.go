package kratostest

import (
	"encoding/json"
	"slices"
	"time"
)

// Rendering: an identity as each endpoint shows it (identityView).

// identityOut is an identity on the wire, fields in Kratos' order.
type identityOut struct {
	ID                  string                   `json:"id"`
	ExternalID          string                   `json:"external_id,omitempty"`
	Credentials         map[string]credentialOut `json:"credentials,omitempty"`
	SchemaID            string                   `json:"schema_id"`
	SchemaURL           string                   `json:"schema_url"`
	State               string                   `json:"state"`
	StateChangedAt      *time.Time               `json:"state_changed_at,omitempty"`
	Traits              json.RawMessage          `json:"traits"`
	VerifiableAddresses []verifiableOut          `json:"verifiable_addresses,omitempty"`
	RecoveryAddresses   []recoveryOut            `json:"recovery_addresses,omitempty"`
	MetadataPublic      json.RawMessage          `json:"metadata_public"`
	MetadataAdmin       *json.RawMessage         `json:"metadata_admin,omitempty"`
	CreatedAt           time.Time                `json:"created_at"`
	UpdatedAt           time.Time                `json:"updated_at"`
	OrganizationID      *string                  `json:"organization_id"`
}

type credentialOut struct {
	Type        string          `json:"type"`
	Identifiers []string        `json:"identifiers"`
	Config      json.RawMessage `json:"config,omitempty"`
	Version     int             `json:"version"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

type verifiableOut struct {
	ID         string     `json:"id"`
	Value      string     `json:"value"`
	Verified   bool       `json:"verified"`
	Via        string     `json:"via"`
	Status     string     `json:"status"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

type recoveryOut struct {
	ID        string    `json:"id"`
	Value     string    `json:"value"`
	Via       string    `json:"via"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// metadataAdmin says how metadata_admin is rendered.
type metadataAdmin int

const (
	adminMetaNever     metadataAdmin = iota // plain identity (sessions)
	adminMetaOmitEmpty                      // create, update, patch responses: when the request had the key
	adminMetaAlways                         // get and list: null when unset
)

// identityView selects one of the identity's JSON forms; the recordings
// show a different one per endpoint.
type identityView struct {
	// storedOrder shows OIDC and SAML identifiers in the order they were
	// added (the create and update answers, made from memory); reads
	// show them sorted, as Kratos loads them.
	storedOrder bool
	credentials bool
	declassify  map[string]bool // credential types whose config is shown
	zeroTimes   map[string]bool // credential types shown with zero timestamps
	adminMeta   metadataAdmin
	noAddresses bool
	noSchemaURL bool
}

var (
	// POST /admin/identities: credentials without config and with zero
	// timestamps (Kratos answers with the in-memory value before the
	// database set them).
	viewCreate = identityView{credentials: true, adminMeta: adminMetaOmitEmpty, storedOrder: true}
	// PUT and PATCH.
	viewUpdate = identityView{credentials: true, adminMeta: adminMetaOmitEmpty, storedOrder: true}
	// GET /admin/sessions/{id}?expand=identity, extendSession, login.
	viewSession = identityView{}
	// GET /admin/sessions?expand=identity.
	viewSessionList = identityView{noAddresses: true}
	// GET /admin/identities/{id}/sessions.
	viewIdentitySessions = identityView{noAddresses: true, noSchemaURL: true}
)

func viewGet(declassify map[string]bool) identityView {
	return identityView{credentials: true, declassify: declassify, adminMeta: adminMetaAlways}
}

func viewList(credentials bool, declassify map[string]bool) identityView {
	return identityView{credentials: credentials, declassify: declassify, adminMeta: adminMetaAlways}
}

func (s *Server) render(i *identity, v identityView) *identityOut {
	out := &identityOut{
		ID:             i.ID,
		ExternalID:     i.ExternalID,
		SchemaID:       i.SchemaID,
		State:          i.State,
		StateChangedAt: i.StateChangedAt,
		Traits:         i.Traits,
		MetadataPublic: i.MetadataPublic,
		CreatedAt:      i.CreatedAt,
		UpdatedAt:      i.UpdatedAt,
		OrganizationID: i.OrganizationID,
	}
	if len(out.Traits) == 0 {
		out.Traits = json.RawMessage("null")
	}
	if !v.noSchemaURL {
		out.SchemaURL = s.PublicURL + schemaURLPath(i.SchemaID)
		if i.schemaURLEcho != "" {
			out.SchemaURL = i.schemaURLEcho
		}
	}
	switch v.adminMeta {
	case adminMetaAlways:
		m := i.MetadataAdmin
		if len(m) == 0 {
			m = json.RawMessage("null")
		}
		out.MetadataAdmin = &m
	case adminMetaOmitEmpty:
		// Kratos answers with the decoded request, where an explicit null
		// is a non-empty raw message: present, even as null, when the
		// body (or patched document) had the key.
		if i.adminMetaKey {
			m := i.MetadataAdmin
			if len(m) == 0 {
				m = json.RawMessage("null")
			}
			out.MetadataAdmin = &m
		}
	}
	if v.credentials && len(i.Credentials) > 0 {
		out.Credentials = make(map[string]credentialOut, len(i.Credentials))
		for typ, c := range i.Credentials {
			// A credential without identifiers (a password imported under a
			// schema that names none) has "identifiers": null, as in Kratos.
			co := credentialOut{Type: c.Type, Identifiers: c.Identifiers, Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
			if !v.storedOrder && sortedOnRead(typ) && !slices.IsSorted(co.Identifiers) {
				co.Identifiers = slices.Sorted(slices.Values(co.Identifiers))
			}
			if v.declassify[typ] && !noLinks(typ, c.Config) {
				co.Config = c.Config
				if len(co.Config) == 0 {
					co.Config = json.RawMessage("{}")
				}
				if typ == "oidc" && s.before(ReleaseV25_4) {
					co.Config = oidcConfigV13(co.Config)
				}
			}
			if v.zeroTimes[typ] {
				co.CreatedAt, co.UpdatedAt = time.Time{}, time.Time{}
			}
			out.Credentials[typ] = co
		}
	}
	if !v.noAddresses {
		for _, a := range i.Verifiable {
			out.VerifiableAddresses = append(out.VerifiableAddresses, verifiableOut(*a))
		}
		for _, a := range i.Recovery {
			out.RecoveryAddresses = append(out.RecoveryAddresses, recoveryOut(*a))
		}
	}
	return out
}

// oidcConfigV13 is an oidc configuration as v1.3.1 renders it: every
// provider link has "organization", "" when it has none (v1.3.1 recording
// 038; later releases leave it out).
func oidcConfigV13(config json.RawMessage) json.RawMessage {
	var cfg oidcConfig
	if json.Unmarshal(config, &cfg) != nil {
		return config
	}
	type providerV13 struct {
		InitialIDToken      string `json:"initial_id_token"`
		InitialAccessToken  string `json:"initial_access_token"`
		InitialRefreshToken string `json:"initial_refresh_token"`
		Subject             string `json:"subject"`
		Provider            string `json:"provider"`
		Organization        string `json:"organization"`
		UseAutoLink         bool   `json:"use_auto_link,omitempty"`
	}
	out := struct {
		Providers []providerV13 `json:"providers"`
	}{Providers: []providerV13{}}
	for _, p := range cfg.Providers {
		out.Providers = append(out.Providers, providerV13(p))
	}
	b, _ := json.Marshal(out)
	return b
}

// normalizeLinks writes a patched oidc or saml config back in Kratos'
// struct order (saml: subject, provider; recorded 488); other configs keep
// the patched document's (sorted) order, as Kratos stores them as JSON.
func normalizeLinks(typ string, config json.RawMessage) json.RawMessage {
	var cfg oidcConfig
	if typ != "oidc" && typ != "saml" || json.Unmarshal(config, &cfg) != nil {
		return config
	}
	if typ == "oidc" {
		b, _ := json.Marshal(cfg)
		return b
	}
	saml := struct {
		Providers []samlProvider `json:"providers"`
	}{}
	for _, p := range cfg.Providers {
		saml.Providers = append(saml.Providers, samlProvider{Subject: p.Subject, Provider: p.Provider, Organization: p.Organization})
	}
	b, _ := json.Marshal(saml)
	return b
}

// noLinks reports an oidc or saml credential without provider links:
// Kratos shows it without a config even when asked for it (260).
func noLinks(typ string, config json.RawMessage) bool {
	if typ != "oidc" && typ != "saml" {
		return false
	}
	var cfg struct {
		Providers []json.RawMessage `json:"providers"`
	}
	_ = json.Unmarshal(config, &cfg)
	return len(cfg.Providers) == 0
}

// credentialTypes lists the credential types include_credential accepts
// (Kratos' ParseCredentialsType): profile is refused though the spec's
// enum has it.
var credentialTypes = map[string]bool{
	"password": true, "oidc": true, "saml": true, "totp": true, "lookup_secret": true,
	"webauthn": true, "code": true, "link_recovery": true, "code_recovery": true, "passkey": true,
}
