package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"slices"
	"time"

	"github.com/kratosadmin/sdk/client"
)

// ExportOptions tune Export and ExportJSONL.
type ExportOptions struct {
	// Credentials includes password hashes (hashed_password) and OIDC and
	// SAML provider links, so that imported identities can sign in as
	// before. The list asks for them (include_credential), which current
	// Kratos honours; identities listed without them (older servers list
	// credentials only when filtering by credentials identifier) are
	// fetched one by one (Concurrency at a time).
	Credentials bool
	// Filter selects the identities (nil: all): IDs, OrganizationID,
	// CredentialsIdentifier, PreviewCredentialsIdentifierSimilar,
	// Consistency and PageSize, as Identities.List takes them.
	Filter *client.ListIdentitiesParams
	// Concurrency is the number of identities fetched at once for their
	// credentials (0: 4).
	Concurrency int
}

// exportCredentialTypes are the credentials Export carries over.
var exportCredentialTypes = []client.IdentityCredentialsType{client.CredentialsTypePassword, client.CredentialsTypeOIDC, client.CredentialsTypeSAML}

// Export walks the identities of c page by page and yields each as the body that
// creates it again (see CreateBodyFromIdentity), in the server's order.
// Memory use does not depend on the number of identities. It yields an
// error once and stops; break out of the loop to stop early.
func Export(ctx context.Context, c *client.Client, opts *ExportOptions) iter.Seq2[*client.CreateIdentityBody, error] {
	if c == nil {
		return failSeq[client.CreateIdentityBody](&client.ArgumentError{Op: "bulk.Export", Argument: "c", Reason: "nil client"})
	}
	s := c.Identities
	var o ExportOptions
	if opts != nil {
		o = *opts
	}
	var params client.ListIdentitiesParams
	if o.Filter != nil {
		params = *o.Filter
	}
	if o.Concurrency < 0 {
		return failSeq[client.CreateIdentityBody](&client.ArgumentError{Op: "bulk.Export", Argument: "opts.Concurrency", Reason: "negative"})
	}
	if o.Concurrency == 0 {
		o.Concurrency = 4
	}
	if o.Credentials {
		params.IncludeCredential = slices.Clone(params.IncludeCredential)
		for _, t := range exportCredentialTypes {
			if !slices.Contains(params.IncludeCredential, t) {
				params.IncludeCredential = append(params.IncludeCredential, t)
			}
		}
	}
	return func(yield func(*client.CreateIdentityBody, error) bool) {
		if !o.Credentials {
			for identity, err := range s.List(ctx, &params) {
				if err != nil {
					yield(nil, err)
					return
				}
				body := CreateBodyFromIdentity(identity)
				if !yield(&body, nil) {
					return
				}
			}
			return
		}
		exportWithCredentials(ctx, s, &params, o.Concurrency, yield)
	}
}

// exportReadAhead is how many listed identities may wait for the caller:
// a page of the largest size the server pages identities by.
const exportReadAhead = client.MaxIdentitiesPageSize

type exportResult struct {
	body *client.CreateIdentityBody // nil: skip (deleted meanwhile)
	err  error
}

// exportWithCredentials fetches identities whose list entry lacks their
// credentials, up to conc at a time, and yields them in list order.
func exportWithCredentials(ctx context.Context, s *client.IdentitiesService, params *client.ListIdentitiesParams, conc int, yield func(*client.CreateIdentityBody, error) bool) {
	ctx, cancel := context.WithCancel(ctx)
	// In order: one future per identity. Its capacity bounds how far the
	// listing runs ahead of the caller: a page, so that the next page is
	// fetched while the caller works through this one, and memory stays
	// that of two pages.
	futures := make(chan chan exportResult, conc+exportReadAhead)
	defer func() {
		cancel()
		for f := range futures { // let every fetch finish: no goroutine outlives Export
			<-f
		}
	}()
	go func() {
		defer close(futures)
		sem := make(chan struct{}, conc)
		getParams := &client.GetIdentityParams{IncludeCredential: exportCredentialTypes}
		for identity, err := range s.List(ctx, params) {
			f := make(chan exportResult, 1)
			select {
			case futures <- f:
			case <-ctx.Done():
				return
			}
			if err != nil {
				f <- exportResult{err: err}
				return
			}
			if !needsCredentials(identity) {
				body := CreateBodyFromIdentity(identity)
				f <- exportResult{body: &body}
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				f <- exportResult{err: ctx.Err()}
				return
			}
			id := identity.ID
			go func() {
				defer func() { <-sem }()
				full, err := s.Get(ctx, id, getParams)
				switch {
				case errors.Is(err, client.ErrNotFound):
					f <- exportResult{} // deleted since it was listed
				case err != nil:
					f <- exportResult{err: err}
				default:
					body := CreateBodyFromIdentity(full)
					f <- exportResult{body: &body}
				}
			}()
		}
	}()
	for f := range futures {
		r := <-f
		if r.err != nil {
			yield(nil, r.err)
			return
		}
		if r.body != nil && !yield(r.body, nil) {
			return
		}
	}
}

// needsCredentials reports whether a listed identity lacks the credential
// configurations Export carries over.
func needsCredentials(i *client.Identity) bool {
	if i.Credentials == nil {
		return true
	}
	for _, t := range exportCredentialTypes {
		if c, ok := i.Credentials[string(t)]; ok && len(bytes.TrimSpace(c.Config)) == 0 {
			return true
		}
	}
	return false
}

// ExportJSONL writes identities as JSON Lines, one client.CreateIdentityBody per
// line (the input ReadJSONL and ImportJSONL take), and returns how many it
// wrote.
func ExportJSONL(ctx context.Context, c *client.Client, w io.Writer, opts *ExportOptions) (int, error) {
	if w == nil {
		return 0, &client.ArgumentError{Op: "bulk.ExportJSONL", Argument: "w", Reason: "nil"}
	}
	jw := newJSONLWriter(w)
	n := 0
	for body, err := range Export(ctx, c, opts) {
		if err != nil {
			_ = jw.flush()
			return n, err
		}
		if err := jw.write(body); err != nil {
			return n, err
		}
		n++
	}
	return n, jw.flush()
}

// CreateBodyFromIdentity returns the body that creates identity again:
// schema, traits, state, external id, organization, metadata, addresses
// (with their verification state) and, when identity carries them with
// their configuration, the password hash and OIDC and SAML provider links.
// Server-assigned ids and timestamps are left out.
func CreateBodyFromIdentity(identity *client.Identity) client.CreateIdentityBody {
	b := client.CreateIdentityBody{
		SchemaID:       identity.SchemaID,
		Traits:         identity.Traits,
		ExternalID:     identity.ExternalID,
		State:          identity.State,
		MetadataPublic: nonNullJSON(identity.MetadataPublic),
		MetadataAdmin:  nonNullJSON(identity.MetadataAdmin),
	}
	if org, err := identity.OrganizationID.Get(); err == nil && org != "" {
		b.OrganizationID = client.NewNullable(org)
	}
	for _, a := range identity.VerifiableAddresses {
		a.ID, a.CreatedAt, a.UpdatedAt = "", time.Time{}, time.Time{}
		b.VerifiableAddresses = append(b.VerifiableAddresses, a)
	}
	for _, a := range identity.RecoveryAddresses {
		b.RecoveryAddresses = append(b.RecoveryAddresses, client.RecoveryIdentityAddress{Value: a.Value, Via: a.Via})
	}
	if c, ok := identity.Credentials[string(client.CredentialsTypePassword)]; ok {
		var cfg struct {
			HashedPassword           string `json:"hashed_password"`
			UsePasswordMigrationHook bool   `json:"use_password_migration_hook"`
		}
		if json.Unmarshal(c.Config, &cfg) == nil {
			b.Credentials.Password.Config = client.ImportPasswordConfig{HashedPassword: cfg.HashedPassword, UsePasswordMigrationHook: cfg.UsePasswordMigrationHook}
		}
	}
	for _, p := range storedProviders(identity, client.CredentialsTypeOIDC) {
		b.Credentials.OIDC.Config.Providers = append(b.Credentials.OIDC.Config.Providers, client.ImportOIDCProvider{Provider: p.Provider, Subject: p.Subject, UseAutoLink: p.UseAutoLink, Organization: p.organization()})
	}
	for _, p := range storedProviders(identity, client.CredentialsTypeSAML) {
		b.Credentials.SAML.Config.Providers = append(b.Credentials.SAML.Config.Providers, client.ImportSAMLProvider{Provider: p.Provider, Subject: p.Subject, Organization: p.organization()})
	}
	return b
}

// storedProvider is a provider link in a stored oidc or saml configuration.
type storedProvider struct {
	Provider     string  `json:"provider"`
	Subject      string  `json:"subject"`
	Organization *string `json:"organization"`
	UseAutoLink  bool    `json:"use_auto_link"`
}

func (p storedProvider) organization() client.Nullable[string] {
	if p.Organization == nil || *p.Organization == "" {
		return client.Nullable[string]{}
	}
	return client.NewNullable(*p.Organization)
}

func storedProviders(identity *client.Identity, t client.IdentityCredentialsType) []storedProvider {
	c, ok := identity.Credentials[string(t)]
	if !ok {
		return nil
	}
	var cfg struct {
		Providers []storedProvider `json:"providers"`
	}
	if json.Unmarshal(c.Config, &cfg) != nil {
		return nil
	}
	out := cfg.Providers[:0]
	for _, p := range cfg.Providers {
		if p.Provider != "" && p.Subject != "" {
			out = append(out, p)
		}
	}
	return out
}

func nonNullJSON(raw json.RawMessage) json.RawMessage {
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, client.Null) {
		return nil
	}
	return raw
}

// failSeq is an iterator that yields one error.
func failSeq[T any](err error) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) { yield(nil, err) }
}
