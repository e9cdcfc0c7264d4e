package kratostest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// The identity store: identities as the fake keeps them, the rules the
// schema extension derives from their traits, and the indexes of unique
// values and of the list order. Rendering is in identity_render.go,
// request bodies in identity_bodies.go, JSON Patch in identity_patch.go.

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
			// Kratos indexes identifiers trimmed: " a@example.org" (a
			// password identifier shown untrimmed) is a@example.org.
			keys = append(keys, "identifier\x00"+typ+"\x00"+strings.TrimSpace(id))
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
// and recovery addresses (deriveAddresses).
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
	deriveAddresses(i, ext, now)
}

// deriveAddresses sets the verifiable and recovery addresses the traits
// name, keeping the existing ones that still match (their ids and times).
func deriveAddresses(i *identity, ext extensionResult, now time.Time) {
	micro := now.Truncate(time.Microsecond)
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

// sortedOnRead reports whether Kratos lists a credential type's
// identifiers sorted when it reads the identity (seen for OIDC links on
// v26.2.0: ["zeta:s","alpha:s"] is read back as ["alpha:s","zeta:s"]).
func sortedOnRead(typ string) bool { return typ == "oidc" || typ == "saml" }
