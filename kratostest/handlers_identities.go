package kratostest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kratosadmin/sdk/gen"
)

// strictDecode decodes one JSON value refusing unknown fields, like ory/x
// jsonx.NewStrictDecoder; errors are encoding/json's.
func strictDecode(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return kratosNames(d.Decode(v))
}

// lenientDecode decodes like ory/x decoderx's JSON decoder (unknown fields
// are ignored). Type errors name Kratos' Go types, not the fake's.
func lenientDecode(b []byte, v any) error {
	return kratosNames(json.NewDecoder(bytes.NewReader(b)).Decode(v))
}

// kratosTypeNames maps the fake's body types to Kratos' own, which
// encoding/json names in its errors ("json: cannot unmarshal array into Go
// value of type identity.CreateIdentityBody").
var kratosTypeNames = strings.NewReplacer(
	"kratostest.createIdentityBody", "identity.CreateIdentityBody",
	"kratostest.updateIdentityBody", "identity.UpdateIdentityBody",
	"kratostest.batchPatchIdentitiesBody", "identity.BatchPatchIdentitiesBody",
	"kratostest.batchIdentityPatch", "identity.BatchIdentityPatch",
	"kratostest.identityWithCredentials", "identity.IdentityWithCredentials",
	"kratostest.recoveryCodeBody", "code.createRecoveryCodeForIdentityBody",
	"kratostest.recoveryLinkBody", "link.createRecoveryLinkForIdentityBody",
	"Go struct field createIdentityBody.", "Go struct field CreateIdentityBody.",
	"Go struct field updateIdentityBody.", "Go struct field UpdateIdentityBody.",
	"Go struct field batchPatchIdentitiesBody.", "Go struct field BatchPatchIdentitiesBody.",
	"Go struct field passwordImportConfig.", "Go struct field AdminIdentityImportCredentialsPasswordConfig.",
	"kratostest.verifiableAddressIn", "identity.VerifiableAddress",
	"kratostest.recoveryAddressIn", "identity.RecoveryAddress",
	"Go struct field verifiableAddressIn.", "Go struct field VerifiableAddress.",
	"Go struct field recoveryAddressIn.", "Go struct field RecoveryAddress.",
	"Go struct field recoveryCodeBody.", "Go struct field createRecoveryCodeForIdentityBody.",
	"Go struct field recoveryLinkBody.", "Go struct field createRecoveryLinkForIdentityBody.",
	"Go struct field patchedIdentity.", "Go struct field WithCredentialsAndAdminMetadataInJSON.",
	"kratostest.patchedIdentity", "identity.WithCredentialsAndAdminMetadataInJSON",
	// Kratos' types of fields the fake reads as strings (seen on v26.2.0).
	"state of type string", "state of type identity.State",
	"identity_id of type string", "identity_id of type uuid.UUID",
)

// renamedError is a decode error in Kratos' words, still matching the
// original with errors.Is and errors.As.
type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }

func kratosNames(err error) error {
	if err == nil {
		return nil
	}
	if msg := kratosTypeNames.Replace(err.Error()); msg != err.Error() {
		return &renamedError{msg: msg, err: err}
	}
	return err
}

// parseIncludeCredential reads include_credential as getIdentity does,
// including its quirk: the 400 names the types parsed so far, not the bad
// value (recording 020: "Invalid value `[]` ...").
func parseIncludeCredential(include gen.IncludeCredential) (map[string]bool, *apiError) {
	return parseIncludeCredentialOf(include, credentialTypes)
}

// parseIncludeCredentialOf is parseIncludeCredential for a release that
// knows the credential types known.
func parseIncludeCredentialOf[T ~string](include []T, known map[string]bool) (map[string]bool, *apiError) {
	var ok []string
	for _, t := range include {
		v := string(t)
		if !known[v] {
			return nil, errBadRequest(fmt.Sprintf("Invalid value `%s` for parameter `include_credential`.", ok))
		}
		ok = append(ok, v)
	}
	return setOf(ok), nil
}

func setOf(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// POST /admin/identities
func (s *Server) createIdentity(w http.ResponseWriter, r *http.Request) {
	b, err := body(r)
	if err != nil {
		writeError(w, errBadRequestMessage(err.Error()))
		return
	}
	var cr createIdentityBody
	if err := strictDecode(b, &cr); err != nil {
		writeError(w, errBadRequestMessage(err.Error()))
		return
	}
	now := s.now()
	i, apiErr := s.identityFromCreateBody(&cr, now)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	s.mu.Lock()
	apiErr = s.insert(i, now, errConflictCreate)
	var out *identityOut
	if apiErr == nil {
		v := viewCreate
		v.zeroTimes = map[string]bool{}
		for typ := range i.Credentials {
			v.zeroTimes[typ] = true
		}
		out = s.render(i, v)
	}
	s.mu.Unlock()
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	w.Header().Set("Location", s.URL+"/identities/"+i.ID)
	writeJSON(w, http.StatusCreated, out)
}

// GET /admin/identities/{id}
func (s *Server) getIdentity(w http.ResponseWriter, rawID string, include gen.IncludeCredential) {
	id := parseUUIDOrNil(rawID)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.identities[id]
	s.writeIdentity(w, i, include)
}

// writeIdentity answers a read of i (404 when nil), with the credential
// configurations include_credential asks for. The caller holds s.mu.
func (s *Server) writeIdentity(w http.ResponseWriter, i *identity, include gen.IncludeCredential) {
	if i == nil {
		writeError(w, errNoRows())
		return
	}
	declassify, apiErr := parseIncludeCredential(include)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	writeJSON(w, http.StatusOK, s.render(i, viewGet(declassify)))
}

// GET /admin/identities/by/external/{externalID}
func (s *Server) getIdentityByExternalID(w http.ResponseWriter, externalID string, include gen.IncludeCredential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.identities[s.unique["external_id\x00"+externalID]]
	s.writeIdentity(w, i, include)
}

// GET /admin/identities
func (s *Server) listIdentities(w http.ResponseWriter, r *http.Request, p gen.ListIdentitiesParams) {
	f, view, apiErr := parseIdentityFilter(p)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	// Raw for paging: absent, empty and unparsable page, per_page,
	// page_size, page_token differ. x.ParseKeysetOrPagePagination:
	q := r.URL.Query()
	if !q.Has("page_token") && !q.Has("page_size") && q.Has("page") {
		s.listIdentitiesByPage(w, r, q, f, view)
		return
	}
	s.listIdentitiesByKeyset(w, r, q, f, view)
}

// identityFilter is the one filter an identity list may have.
type identityFilter struct {
	ids                 []string // nil: no ids filter
	orgID               string
	identifier, similar string
}

// parseIdentityFilter reads the filters and the credentials to show as
// Kratos' parseListIdentitiesParameters does, in its order: a malformed id
// or organization, more than 500 ids, an unknown credential type or two
// filters at once is a 400.
func parseIdentityFilter(p gen.ListIdentitiesParams) (identityFilter, identityView, *apiError) {
	var f identityFilter
	filters := 0
	if len(p.IDs) > 0 {
		filters++
		for _, v := range p.IDs {
			id, err := parseUUID(v)
			if err != nil {
				return f, identityView{}, errBadRequest(fmt.Sprintf("Invalid UUID value `%s` for parameter `ids`.", v))
			}
			f.ids = append(f.ids, id)
		}
	}
	if len(f.ids) > 500 {
		return f, identityView{}, errBadRequest("The number of ids to filter must not exceed 500.")
	}
	if v := p.OrganizationID; v != "" {
		filters++
		id, err := parseUUID(v)
		if err != nil {
			return f, identityView{}, errBadRequest(fmt.Sprintf("Invalid UUID value `%s` for parameter `organization_id`.", v))
		}
		f.orgID = id
	}
	withCredentials := false
	if f.identifier = p.CredentialsIdentifier; f.identifier != "" {
		filters++
		withCredentials = true
	}
	if f.similar = p.PreviewCredentialsIdentifierSimilar; f.similar != "" {
		filters++
		withCredentials = true
	}
	declassify := map[string]bool{}
	for _, t := range p.IncludeCredential {
		v := string(t)
		withCredentials = true
		if !credentialTypes[v] {
			return f, identityView{}, errBadRequest(fmt.Sprintf("Invalid value `%s` for parameter `include_credential`.", v))
		}
		declassify[v] = true
	}
	if filters > 1 {
		return f, identityView{}, errBadRequest("You cannot combine multiple filters in this API")
	}
	return f, viewList(withCredentials, declassify), nil
}

// match reports whether i passes the filter.
func (f *identityFilter) match(i *identity) bool {
	switch {
	case f.ids != nil:
		return slices.Contains(f.ids, i.ID)
	case f.orgID != "":
		return i.OrganizationID != nil && *i.OrganizationID == f.orgID
	case f.identifier != "":
		want := strings.ToLower(strings.TrimSpace(f.identifier))
		for _, c := range i.Credentials {
			for _, id := range c.Identifiers {
				if strings.TrimSpace(id) == want {
					return true
				}
			}
		}
		return false
	case f.similar != "":
		want := strings.ToLower(f.similar)
		for _, c := range i.Credentials {
			for _, id := range c.Identifiers {
				if strings.Contains(strings.ToLower(id), want) {
					return true
				}
			}
		}
		return false
	}
	return true
}

// listIdentitiesByPage answers the deprecated page/per_page mode: offset
// pages over at most 1000 items, with X-Total-Count.
func (s *Server) listIdentitiesByPage(w http.ResponseWriter, r *http.Request, q url.Values, f identityFilter, view identityView) {
	page := max0(parseIntOr(q.Get("page"), 0))
	perPage := clamp(parseIntOr(q.Get("per_page"), defaultPageSize), 1, identitiesMaxPageSize)
	if page*perPage > 1000 {
		writeError(w, errBadRequest("Legacy pagination is not supported for enumerating over 1000 items. Please switch to using page_token and page_size."))
		return
	}
	s.mu.Lock()
	var matched []*identity
	for _, id := range s.sortedIDs() {
		if i := s.identities[id]; f.match(i) {
			matched = append(matched, i)
		}
	}
	total := int64(len(s.identities))
	start := min(page*perPage, len(matched))
	end := min(start+perPage, len(matched))
	out := make([]*identityOut, 0, end-start)
	for _, i := range matched[start:end] {
		out = append(out, s.render(i, view))
	}
	s.mu.Unlock()
	if f.identifier != "" {
		total = int64(len(out))
	}
	offsetHeader(w, *r.URL, total, page, perPage, pagePaginationLink)
	writeJSON(w, http.StatusOK, out)
}

// listIdentitiesByKeyset answers the keyset mode: pages of ids after the
// page token, per_page standing in for a missing page_size.
func (s *Server) listIdentitiesByKeyset(w http.ResponseWriter, r *http.Request, q url.Values, f identityFilter, view identityView) {
	u := *r.URL
	if !q.Has("page_size") && q.Has("per_page") {
		q.Set("page_size", q.Get("per_page"))
		q.Del("per_page")
		u.RawQuery = q.Encode()
	}
	size := defaultPageSize
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, errBadRequest(err.Error()))
			return
		}
		if n > 0 {
			// Kratos clamps identity pages to 500, whatever page_size
			// asks for (sessions and schemas go to 1000).
			size = min(n, s.cfg.maxPageSize, identitiesMaxPageSize)
		}
	}
	after := nilUUID
	if v := q.Get("page_token"); v != "" {
		id, err := parseUUID(v)
		if err != nil {
			writeError(w, errBadRequest("The page token is invalid, do not craft your own page tokens"))
			return
		}
		after = id
	}
	s.mu.Lock()
	var out []*identityOut
	next := ""
	order := s.sortedIDs()
	start, _ := slices.BinarySearch(order, after)
	for _, id := range order[start:] {
		if id == after {
			continue
		}
		i := s.identities[id]
		if !f.match(i) {
			continue
		}
		if len(out) == size {
			next = out[len(out)-1].ID
			break
		}
		out = append(out, s.render(i, view))
	}
	s.mu.Unlock()
	if out == nil {
		out = []*identityOut{}
	}
	keysetLink(w, u, size, nilUUID, next)
	writeJSON(w, http.StatusOK, out)
}

// updateIdentityBody mirrors Kratos' UpdateIdentityBody.
type updateIdentityBody struct {
	SchemaID       string                   `json:"schema_id"`
	Traits         json.RawMessage          `json:"traits"`
	Credentials    *identityWithCredentials `json:"credentials"`
	MetadataPublic json.RawMessage          `json:"metadata_public"`
	MetadataAdmin  json.RawMessage          `json:"metadata_admin"`
	State          string                   `json:"state"`
	ExternalID     string                   `json:"external_id"`
}

// PUT /admin/identities/{id}
func (s *Server) updateIdentity(w http.ResponseWriter, r *http.Request, rawID string) {
	b, err := body(r)
	if err == nil {
		var ur updateIdentityBody
		if err = lenientDecode(b, &ur); err == nil {
			s.update(w, r, rawID, &ur)
			return
		}
	}
	writeError(w, errBadRequest("Unable to decode JSON payload: "+err.Error()))
}

func (s *Server) update(w http.ResponseWriter, _ *http.Request, rawID string, ur *updateIdentityBody) {
	now := s.now()
	// Hash outside the lock; report import errors after the 404 check, in
	// Kratos' order.
	var importErr *apiError
	if ur.Credentials != nil && ur.Credentials.Password != nil {
		if importErr = checkPassword(&ur.Credentials.Password.Config); importErr == nil {
			importErr = hashPassword(&ur.Credentials.Password.Config, s.cfg.bcryptCost)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.identities[parseUUIDOrNil(rawID)]
	if cur == nil {
		writeError(w, errNoRows())
		return
	}
	i := cur.clone()
	if ur.SchemaID != "" {
		i.SchemaID = ur.SchemaID
	}
	if ur.State != "" && ur.State != i.State {
		if ur.State != "active" && ur.State != "inactive" {
			writeError(w, errBadRequest("identity state is not valid"))
			return
		}
		t := now
		i.State, i.StateChangedAt = ur.State, &t
	}
	i.Traits = traitsOrEmpty(ur.Traits)
	i.MetadataPublic = nullIfEmpty(ur.MetadataPublic)
	i.MetadataAdmin = nullIfEmpty(ur.MetadataAdmin)
	i.adminMetaKey = ur.MetadataAdmin != nil
	i.ExternalID = ur.ExternalID
	if ur.Credentials != nil {
		if importErr != nil {
			writeError(w, importErr)
			return
		}
		before := map[string]*credential{}
		for typ, c := range i.Credentials {
			cp := *c
			before[typ] = &cp
		}
		mergeCredentials(i, ur.Credentials, now)
		// Kratos answers with the imported credentials as new ones, with
		// zero timestamps (recorded 182-186), but for OIDC and SAML links
		// added to a credential the identity has, and a password whose
		// configuration is the stored one: those keep their times (seen
		// on v26.2.0).
		i.dropped = map[string]bool{}
		for typ, set := range map[string]bool{"password": ur.Credentials.Password != nil, "oidc": ur.Credentials.OIDC != nil, "saml": ur.Credentials.SAML != nil} {
			old := before[typ]
			switch {
			case !set:
			case old == nil:
				i.dropped[typ] = true
			case typ == "password" && (!jsonEqual(old.Config, i.Credentials[typ].Config) || s.before(ReleaseV25_4)):
				// v1.3.1 answers every password of an update as new
				// (the differential test on a real v1.3.1).
				i.dropped[typ] = true
			}
		}
	}
	var imported []string
	if ur.Credentials != nil {
		if ur.Credentials.OIDC != nil {
			imported = append(imported, "oidc")
		}
		if ur.Credentials.SAML != nil {
			imported = append(imported, "saml")
		}
	}
	s.commitUpdate(w, cur, i, now, imported)
}

// commitUpdate validates and stores an updated identity and answers with
// it (IdentityManager.Update). imported lists the OIDC and SAML credential
// types the update imported links into: those must not repeat one. The
// caller holds s.mu.
func (s *Server) commitUpdate(w http.ResponseWriter, cur, i *identity, now time.Time, imported []string) {
	if apiErr := s.validate(i, now); apiErr != nil {
		writeError(w, apiErr)
		return
	}
	if s.conflicts(i) || i.duplicateLinks(imported...) {
		writeError(w, errUniqueViolation())
		return
	}
	if old, c := cur.Credentials["code"], i.Credentials["code"]; i.dropped["code"] && old != nil && c != nil && slices.Equal(old.Identifiers, c.Identifiers) {
		// A patch that removes /credentials/code while the traits give
		// the same code identifiers keeps the stored credential, times
		// included (seen on v26.2.0); with other identifiers it is new.
		c.CreatedAt, c.UpdatedAt = old.CreatedAt, old.UpdatedAt
		delete(i.dropped, "code")
	}
	i.UpdatedAt = now.Truncate(time.Microsecond)
	s.assignAddressIDs(i)
	s.put(i)
	v := viewUpdate
	v.zeroTimes = map[string]bool{}
	for typ := range i.Credentials {
		if cur.Credentials[typ] == nil || i.dropped[typ] {
			v.zeroTimes[typ] = true
		}
	}
	out := s.render(i, v)
	i.dropped, i.schemaURLEcho = nil, ""
	if c := i.Credentials["webauthn"]; c != nil && c.Version == 0 {
		// Kratos answers with the version it was given but stores WebAuthn
		// credentials in version 1 (recorded 482, 488).
		c.Version = 1
	}
	writeJSON(w, http.StatusOK, out)
}

// PATCH /admin/identities/{id}
func (s *Server) patchIdentity(w http.ResponseWriter, r *http.Request, rawID string) {
	b, err := body(r)
	if err != nil {
		writeError(w, errBadRequestMessage(err.Error()))
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.identities[parseUUIDOrNil(rawID)]
	if cur == nil {
		writeError(w, errNoRows())
		return
	}
	i, apiErr := s.applyIdentityPatch(cur, b, now)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	s.commitUpdate(w, cur, i, now, nil)
}

// DELETE /admin/identities/{id}
func (s *Server) deleteIdentity(w http.ResponseWriter, _ *http.Request, rawID string) {
	s.mu.Lock()
	ok := s.remove(parseUUIDOrNil(rawID))
	s.mu.Unlock()
	if !ok {
		writeError(w, errNoRows())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// DELETE /admin/identities/{id}/credentials/{type}
func (s *Server) deleteIdentityCredentials(w http.ResponseWriter, rawID, typ, identifier string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.identities[parseUUIDOrNil(rawID)]
	if cur == nil {
		writeError(w, errNoRows())
		return
	}
	i := cur.clone()
	if apiErr := deleteCredential(i, typ, identifier, now, s.methodEnabled); apiErr != nil {
		writeError(w, apiErr)
		return
	}
	s.put(i)
	w.WriteHeader(http.StatusNoContent)
}

// batchPatchIdentitiesBody mirrors Kratos' BatchPatchIdentitiesBody.
type batchPatchIdentitiesBody struct {
	Identities []*batchIdentityPatch `json:"identities"`
}

type batchIdentityPatch struct {
	Create  *createIdentityBody `json:"create"`
	PatchID *nullUUID           `json:"patch_id"`
}

// batchItemResult is one item of the batch answer.
type batchItemResult struct {
	Action   string       `json:"action"`
	Identity string       `json:"identity,omitempty"`
	PatchID  string       `json:"patch_id,omitempty"`
	Error    *errorObject `json:"error,omitempty"`
}

// Server limits of the batch endpoint.
const (
	batchLimit         = 1000
	batchPasswordLimit = 200
)

// PATCH /admin/identities
func (s *Server) batchPatchIdentities(w http.ResponseWriter, r *http.Request) {
	b, err := body(r)
	var req batchPatchIdentitiesBody
	if err == nil {
		err = strictDecode(b, &req)
	}
	if err != nil {
		// Kratos passes the decoder's error to herodot unwrapped: HTTP 400
		// with "code":500 in the body (063, 064).
		writeError(w, errInternal(http.StatusBadRequest, err.Error()))
		return
	}
	// First the checks that can fail, in item order, then the limit on
	// plaintext passwords, then the (slow) hashing, then the inserts.
	if apiErr := checkBatch(req.Identities); apiErr != nil {
		writeError(w, apiErr)
		return
	}
	now := s.now()
	built, apiErr := s.buildBatch(req.Identities, now)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	results, created, conflicts := s.insertBatch(req.Identities, built, now)
	// Kratos inserts the valid items in bulk and, when that fails and
	// there are several, one by one. A single valid item that conflicts
	// is the whole request's error: a 409 without per-item results, even
	// among invalid items (seen on Kratos v26.2.0 by TestDifferential).
	if created == 0 && conflicts == 1 {
		writeError(w, errUniqueViolation())
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Identities []*batchItemResult `json:"identities"`
	}{results})
}

// checkBatch refuses a batch as a whole, before anything is hashed: too
// many items, an invalid state or password configuration (the first in
// item order), too many plaintext passwords.
func checkBatch(items []*batchIdentityPatch) *apiError {
	if len(items) > batchLimit {
		return errBadRequest(fmt.Sprintf("The maximum number of identities per request that can be created or deleted at once is %d.", batchLimit))
	}
	plaintext := 0
	for _, item := range items {
		if item == nil || item.Create == nil {
			continue
		}
		c := item.Create
		if c.State != "" && c.State != "active" && c.State != "inactive" {
			return errBadRequest("identity state is not valid")
		}
		if c.Credentials != nil && c.Credentials.Password != nil {
			if apiErr := checkPassword(&c.Credentials.Password.Config); apiErr != nil {
				return apiErr
			}
			if c.Credentials.Password.Config.Password != "" {
				plaintext++
			}
		}
	}
	if plaintext > batchPasswordLimit {
		return errBadRequest(fmt.Sprintf("The maximum number of identities per request that can be created with a plaintext password is %d.", batchPasswordLimit))
	}
	return nil
}

// buildBatch makes the identities of the items that create one (nil for
// the others); an item Kratos cannot build fails the whole batch.
func (s *Server) buildBatch(items []*batchIdentityPatch, now time.Time) ([]*identity, *apiError) {
	built := make([]*identity, len(items))
	for k, item := range items {
		if item == nil || item.Create == nil {
			continue
		}
		i, apiErr := s.identityFromCreateBody(item.Create, now)
		if apiErr != nil {
			return nil, apiErr
		}
		built[k] = i
	}
	return built, nil
}

// insertBatch stores the built identities one by one: each item's result
// is its identity or its error (nil for items without a create).
func (s *Server) insertBatch(items []*batchIdentityPatch, built []*identity, now time.Time) (results []*batchItemResult, created, conflicts int) {
	results = make([]*batchItemResult, len(items))
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, item := range items {
		if built[k] == nil {
			continue // Kratos leaves the item null
		}
		res := &batchItemResult{Action: "create"}
		if item.PatchID != nil && item.PatchID.set {
			res.PatchID = item.PatchID.value
		}
		if apiErr := s.insert(built[k], now, errUniqueViolation); apiErr != nil {
			obj := apiErr.object()
			res.Action, res.Error = "error", &obj
			if apiErr.httpStatus == http.StatusConflict {
				conflicts++
			}
		} else {
			res.Identity = built[k].ID
			created++
		}
		results[k] = res
	}
	return results, created, conflicts
}

// jsonEqual reports whether a and b are the same JSON value.
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}
