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

// identity is an identity as the fake stores it.
type identity struct {
	ID             string
	ExternalID     string
	SchemaID       string
	State          string
	StateChangedAt *time.Time
	Traits         json.RawMessage
	MetadataPublic json.RawMessage // nil is null
	MetadataAdmin  json.RawMessage // nil is null
	// adminMetaKey: the last create, update or patch carried the
	// metadata_admin key (even as null); its answer then shows the field.
	adminMetaKey bool
	// dropped lists the credential types a JSON Patch removed: recreated
	// by the schema extension, they are new in the patch's answer.
	dropped map[string]bool
	// schemaURLEcho is the schema_url of a patched document: the patch's
	// answer shows it, later reads compute it again (recorded 384, 389).
	schemaURLEcho  string
	OrganizationID *string
	Credentials    map[string]*credential
	Verifiable     []*verifiableAddress
	Recovery       []*recoveryAddress
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

type credential struct {
	Type        string
	Identifiers []string
	Config      json.RawMessage // never empty: "{}" at least
	Version     int
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// ownID marks credentials whose identifier is the identity's own id
	// (totp, lookup_secret); it is filled in when the id is known.
	ownID bool
}

type verifiableAddress struct {
	ID         string
	Value      string
	Verified   bool
	Via        string
	Status     string
	VerifiedAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

type recoveryAddress struct {
	ID        string
	Value     string
	Via       string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (i *identity) clone() *identity {
	c := *i
	c.Traits = bytes.Clone(i.Traits)
	c.MetadataPublic = bytes.Clone(i.MetadataPublic)
	c.MetadataAdmin = bytes.Clone(i.MetadataAdmin)
	if i.StateChangedAt != nil {
		t := *i.StateChangedAt
		c.StateChangedAt = &t
	}
	if i.OrganizationID != nil {
		o := *i.OrganizationID
		c.OrganizationID = &o
	}
	c.Credentials = make(map[string]*credential, len(i.Credentials))
	for k, cr := range i.Credentials {
		cc := *cr
		cc.Identifiers = slices.Clone(cr.Identifiers)
		if sortedOnRead(k) {
			// As Kratos loads them for a write: new links are appended
			// to the sorted ones.
			slices.Sort(cc.Identifiers)
		}
		cc.Config = bytes.Clone(cr.Config)
		c.Credentials[k] = &cc
	}
	c.Verifiable = make([]*verifiableAddress, len(i.Verifiable))
	for k, a := range i.Verifiable {
		ac := *a
		if a.VerifiedAt != nil {
			t := *a.VerifiedAt
			ac.VerifiedAt = &t
		}
		c.Verifiable[k] = &ac
	}
	c.Recovery = make([]*recoveryAddress, len(i.Recovery))
	for k, a := range i.Recovery {
		ac := *a
		c.Recovery[k] = &ac
	}
	return &c
}

// uniqueKeys are the values no two identities may share: Kratos has unique
// indexes on the external id, on credential identifiers per type, and on
// verifiable and recovery addresses per channel.
func (i *identity) uniqueKeys() []string {
	var keys []string
	if i.ExternalID != "" {
		keys = append(keys, "external_id\x00"+i.ExternalID)
	}
	for typ, c := range i.Credentials {
		if c.ownID {
			continue
		}
		for _, id := range c.Identifiers {
			keys = append(keys, "identifier\x00"+typ+"\x00"+id)
		}
	}
	for _, a := range i.Verifiable {
		keys = append(keys, "verifiable\x00"+a.Via+"\x00"+a.Value)
	}
	for _, a := range i.Recovery {
		keys = append(keys, "recovery\x00"+a.Via+"\x00"+a.Value)
	}
	return keys
}

// duplicateLinks reports whether an OIDC or SAML credential (of types) links the
// same provider and subject twice: Kratos stores each identifier once per
// credential type, so a create, update or batch item that repeats one, or
// an update that links one the identity already has, is a 409 (seen on
// v26.2.0). A JSON Patch that repeats a provider in the configuration is
// taken: it does not change the identifiers.
func (i *identity) duplicateLinks(types ...string) bool {
	for _, typ := range types {
		c := i.Credentials[typ]
		if c == nil {
			continue
		}
		var cfg oidcConfig
		_ = json.Unmarshal(c.Config, &cfg)
		seen := map[string]bool{}
		for _, p := range cfg.Providers {
			k := p.Provider + ":" + p.Subject
			if seen[k] {
				return true
			}
			seen[k] = true
		}
	}
	return false
}

// applyExtensions sets what the schema's ory.sh/kratos extension derives
// from the traits: credential identifiers (creating the password and code
// credentials as Kratos does, even without a password), and the verifiable
// and recovery addresses, keeping existing ones that still match.
func (s *Server) applyExtensions(i *identity, ext extensionResult, now time.Time) {
	micro := now.Truncate(time.Microsecond)
	setIdentifiers := func(typ string, version int, ids []string) *credential {
		c := i.Credentials[typ]
		if c == nil {
			c = &credential{Type: typ, Config: json.RawMessage("{}"), Version: version, CreatedAt: micro, UpdatedAt: micro}
			i.Credentials[typ] = c
		}
		if !slices.Equal(c.Identifiers, ids) {
			if c.Identifiers != nil {
				c.UpdatedAt = micro
			}
			c.Identifiers = slices.Clone(ids)
		}
		return c
	}
	if len(ext.passwordIdentifiers) > 0 {
		setIdentifiers("password", 0, ext.passwordIdentifiers)
	}
	if len(ext.code) > 0 {
		ids := make([]string, len(ext.code))
		type codeAddress struct {
			Channel string `json:"channel"`
			Address string `json:"address"`
		}
		addrs := make([]codeAddress, len(ext.code))
		for k, a := range ext.code {
			ids[k] = a.value
			addrs[k] = codeAddress{Channel: a.via, Address: a.value}
		}
		c := setIdentifiers("code", 1, ids)
		cfg, _ := json.Marshal(struct {
			Addresses []codeAddress `json:"addresses"`
		}{addrs})
		c.Config = cfg
	}
	if len(ext.webauthnIdentifiers) > 0 {
		if c := i.Credentials["webauthn"]; c != nil {
			c.Identifiers = slices.Clone(ext.webauthnIdentifiers)
		}
	}

	verifiable := make([]*verifiableAddress, 0, len(ext.verification))
	for _, a := range ext.verification {
		var found *verifiableAddress
		for _, old := range i.Verifiable {
			if old.Value == a.value && old.Via == a.via {
				found = old
				break
			}
		}
		if found == nil {
			found = &verifiableAddress{Value: a.value, Via: a.via, Status: "pending"}
		}
		if found.CreatedAt.IsZero() {
			found.CreatedAt, found.UpdatedAt = micro, micro
		}
		addressRules(found, now)
		verifiable = append(verifiable, found)
	}
	i.Verifiable = verifiable

	recovery := make([]*recoveryAddress, 0, len(ext.recovery))
	for _, a := range ext.recovery {
		var found *recoveryAddress
		for _, old := range i.Recovery {
			if old.Value == a.value && old.Via == a.via {
				found = old
				break
			}
		}
		if found == nil {
			found = &recoveryAddress{Value: a.value, Via: a.via}
		}
		if found.CreatedAt.IsZero() {
			found.CreatedAt, found.UpdatedAt = micro, micro
		}
		recovery = append(recovery, found)
	}
	i.Recovery = recovery
}

// addressRules applies Kratos' rules for a verifiable address on every
// write (create, batch, update and patch alike): verified_at is kept only
// on a verified address (now when none is given), and an address without
// a status is completed when verified, pending otherwise; any other status
// string is kept as sent. Seen on v26.2.0: a patch that replaces
// /verifiable_addresses/0/verified with true sets verified_at, one with
// false clears it, and one that empties the status makes it "completed".
func addressRules(va *verifiableAddress, now time.Time) {
	switch {
	case !va.Verified:
		va.VerifiedAt = nil
	case va.VerifiedAt == nil:
		t := now
		va.VerifiedAt = &t
	}
	if va.Status == "" {
		va.Status = "pending"
		if va.Verified {
			va.Status = "completed"
		}
	}
}

// assignAddressIDs gives new addresses their ids, once the identity is
// known to be stored.
func (s *Server) assignAddressIDs(i *identity) {
	for _, a := range i.Verifiable {
		if a.ID == "" {
			a.ID = s.newID(IDKindAddress)
		}
	}
	for _, a := range i.Recovery {
		if a.ID == "" {
			a.ID = s.newID(IDKindAddress)
		}
	}
}

// validate checks the identity against its schema (the default schema when
// it names none) and applies the schema extension.
func (s *Server) validate(i *identity, now time.Time) *apiError {
	if i.SchemaID == "" {
		i.SchemaID = s.cfg.defaultSchemaID
	}
	if len(i.Traits) == 0 {
		// Absent traits are an empty object to Kratos (an update without
		// traits: "missing properties", recorded 366); null stays null.
		i.Traits = json.RawMessage("{}")
	}
	sch := s.cfg.schemaByID[i.SchemaID]
	if sch == nil {
		return errBadRequest("Unable to find JSON Schema ID: " + i.SchemaID)
	}
	if err := sch.validateTraits(i.Traits); err != nil {
		return err
	}
	if i.Credentials == nil {
		i.Credentials = map[string]*credential{}
	}
	s.applyExtensions(i, sch.extensions(i.Traits), now)
	return nil
}

// conflicts reports whether i shares a unique value with another identity.
// The caller holds s.mu.
func (s *Server) conflicts(i *identity) bool {
	for _, k := range i.uniqueKeys() {
		if owner, ok := s.unique[k]; ok && owner != i.ID {
			return true
		}
	}
	return false
}

// put stores i (new or replacing the identity with its id) and indexes its
// unique values. The caller holds s.mu and checked conflicts.
func (s *Server) put(i *identity) {
	if old := s.identities[i.ID]; old != nil {
		for _, k := range old.uniqueKeys() {
			delete(s.unique, k)
		}
	} else {
		// Sorted in when the order is next read: inserting each id into
		// the sorted slice would make a bulk import quadratic.
		s.unsorted = append(s.unsorted, i.ID)
	}
	s.identities[i.ID] = i
	for _, k := range i.uniqueKeys() {
		s.unique[k] = i.ID
	}
}

// sortedIDs returns the ids of all identities, sorted (the order of the
// identity lists), merging in the ids added since the last call. The
// caller holds s.mu.
func (s *Server) sortedIDs() []string {
	if len(s.unsorted) == 0 {
		return s.order
	}
	slices.Sort(s.unsorted)
	merged := make([]string, 0, len(s.order)+len(s.unsorted))
	a, b := s.order, s.unsorted
	for len(a) > 0 && len(b) > 0 {
		if a[0] < b[0] {
			merged, a = append(merged, a[0]), a[1:]
		} else {
			merged, b = append(merged, b[0]), b[1:]
		}
	}
	merged = append(append(merged, a...), b...)
	s.order, s.unsorted = merged, nil
	return s.order
}

// remove deletes an identity and its sessions. The caller holds s.mu.
func (s *Server) remove(id string) bool {
	old := s.identities[id]
	if old == nil {
		return false
	}
	for _, k := range old.uniqueKeys() {
		delete(s.unique, k)
	}
	delete(s.identities, id)
	order := s.sortedIDs()
	if pos, ok := slices.BinarySearch(order, id); ok {
		s.order = slices.Delete(order, pos, pos+1)
	}
	for sid, sess := range s.sessions {
		if sess.IdentityID == id {
			delete(s.sessions, sid)
		}
	}
	return true
}

// insert validates a new identity and stores it under a fresh id. conflict
// is the error to answer when a unique value is taken (it differs between
// POST and the batch endpoint). The caller holds s.mu.
func (s *Server) insert(i *identity, now time.Time, conflict func() *apiError) *apiError {
	if err := s.validate(i, now); err != nil {
		return err
	}
	i.ID = "" // not known until stored; conflicts() must not match it
	if s.conflicts(i) || i.duplicateLinks("oidc", "saml") {
		return conflict()
	}
	i.ID = s.newID(IDKindIdentity)
	s.assignAddressIDs(i)
	for _, c := range i.Credentials {
		if c.ownID {
			c.Identifiers = []string{i.ID}
		}
	}
	micro := now.Truncate(time.Microsecond)
	i.CreatedAt, i.UpdatedAt = micro, micro
	s.put(i)
	return nil
}

// --- rendering ---

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

// --- request bodies ---

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
// sortedOnRead reports whether Kratos lists a credential type's
// identifiers sorted when it reads the identity (seen for OIDC links on
// v26.2.0: ["zeta:s","alpha:s"] is read back as ["alpha:s","zeta:s"]).
func sortedOnRead(typ string) bool { return typ == "oidc" || typ == "saml" }

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

// --- JSON Patch of an identity ---

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
	patchErr := func(msg string) *apiError {
		return &apiError{httpStatus: 400, code: 400, reason: "An error occured when applying the JSON patch", message: msg}
	}
	ops, err := decodePatch(body)
	if err != nil {
		return nil, patchErr(err.Error())
	}
	for _, op := range ops {
		switch op.kind() {
		case "add", "remove", "replace":
		default:
			return nil, patchErr("unsupported operation: " + op.kind())
		}
		path, err := op.path()
		if err != nil {
			return nil, patchErr("error parsing patch operations: " + err.Error())
		}
		if patchDenied(path) {
			return nil, patchErr("patch includes denied path: " + path)
		}
	}
	all := map[string]bool{}
	for typ := range i.Credentials {
		all[typ] = true
	}
	docJSON, _ := json.Marshal(s.render(i, viewGet(all)))
	doc, err := decodeValue(docJSON)
	if err != nil {
		return nil, patchErr(err.Error())
	}
	doc, err = applyPatch(doc, ops)
	if err != nil {
		return nil, patchErr(err.Error())
	}
	patchedJSON, _ := json.Marshal(doc)
	var p patchedIdentity
	if err := json.Unmarshal(patchedJSON, &p); err != nil {
		return nil, patchErr(patchDecodeMessage(err))
	}
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
	out.Credentials = make(map[string]*credential, len(p.Credentials))
	out.dropped = map[string]bool{}
	for typ := range i.Credentials {
		if _, ok := p.Credentials[typ]; !ok {
			out.dropped[typ] = true
		}
	}
	for typ, pc := range p.Credentials {
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
		out.Credentials[typ] = c
	}
	out.Verifiable = nil
	for _, a := range p.VerifiableAddresses {
		va := &verifiableAddress{Value: a.Value, Verified: a.Verified, Via: a.Via, Status: a.Status, VerifiedAt: a.VerifiedAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
		if id, err := parseUUID(a.ID); err == nil && id != nilUUID {
			va.ID = id
		}
		if va.CreatedAt.IsZero() {
			va.CreatedAt, va.UpdatedAt = micro, micro
		}
		out.Verifiable = append(out.Verifiable, va)
	}
	out.Recovery = nil
	for _, a := range p.RecoveryAddresses {
		ra := &recoveryAddress{Value: a.Value, Via: a.Via, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
		if id, err := parseUUID(a.ID); err == nil && id != nilUUID {
			ra.ID = id
		}
		if ra.CreatedAt.IsZero() {
			ra.CreatedAt, ra.UpdatedAt = micro, micro
		}
		out.Recovery = append(out.Recovery, ra)
	}
	return out, nil
}
