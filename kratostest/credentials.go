package kratostest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// identityWithCredentials is the credentials part of create and update
// bodies. Kratos v26.2 imports password, oidc and saml only: a create or
// batch naming another type (totp, webauthn, lookup_secret, passkey,
// code) is refused as an unknown field, an update ignores it. Other
// credentials reach an identity through a JSON Patch below /credentials.
type identityWithCredentials struct {
	Password *struct {
		Config passwordImportConfig `json:"config"`
	} `json:"password"`
	OIDC *providersImport `json:"oidc"`
	SAML *providersImport `json:"saml"`
}

type passwordImportConfig struct {
	HashedPassword           string `json:"hashed_password"`
	Password                 string `json:"password"`
	UsePasswordMigrationHook bool   `json:"use_password_migration_hook"`
}

type providersImport struct {
	Config struct {
		Providers []providerImport `json:"providers"`
	} `json:"config"`
}

type providerImport struct {
	Subject      string   `json:"subject"`
	Provider     string   `json:"provider"`
	UseAutoLink  bool     `json:"use_auto_link"`
	Organization nullUUID `json:"organization"`
}

// knownHashFormat matches the password hash formats Kratos v26.2.0
// imports (its hash.IsValidHashFormat, checked one by one against the
// real server); the fake checks the format's prefix only, as Kratos does.
var knownHashFormat = regexp.MustCompile(`^(\$2[abzy]?\$|\$argon2id?\$|\$pbkdf2-sha[0-9]{1,3}\$|\$scrypt\$|\$firescrypt\$|` +
	`\{SSHA(256|512)?\}|\$sha(1|256|512)\$|\$md5\$|\$md5-crypt\$|\$sha(256|512)-crypt\$|` +
	`\$hmac-(md4|md5|sha1|sha224|sha256|sha384|sha512)\$)`)

func validHashFormat(h string) bool { return knownHashFormat.MatchString(h) }

// checkPassword is the part of the password import that can fail, without
// the (slow) hashing: Kratos refuses passwords bcrypt cannot hash, and
// hashes in no known format.
func checkPassword(c *passwordImportConfig) *apiError {
	if c.Password != "" {
		if len(c.Password) > 72 {
			return errInternal(http.StatusInternalServerError, "passwords are limited to a maximum length of 72 characters")
		}
		return nil
	}
	if !(validHashFormat(c.HashedPassword) || c.HashedPassword == "" && c.UsePasswordMigrationHook) {
		return errBadRequest("The imported password does not match any known hash format. For more information see https://www.ory.sh/dr/2")
	}
	return nil
}

// hashPassword replaces a plaintext password by its bcrypt hash at cost.
func hashPassword(c *passwordImportConfig, cost int) *apiError {
	if c.Password == "" {
		return nil
	}
	h, err := bcrypt.GenerateFromPassword([]byte(c.Password), cost)
	if err != nil {
		return errInternal(http.StatusInternalServerError, err.Error())
	}
	c.HashedPassword, c.Password = string(h), ""
	return nil
}

// importCredentials checks, hashes and merges imported credentials into i,
// as Kratos' importCredentials does.
func (s *Server) importCredentials(i *identity, creds *identityWithCredentials, now time.Time) *apiError {
	if creds.Password != nil {
		if err := checkPassword(&creds.Password.Config); err != nil {
			return err
		}
		if err := hashPassword(&creds.Password.Config, s.cfg.bcryptCost); err != nil {
			return err
		}
	}
	mergeCredentials(i, creds, now)
	return nil
}

// mergeCredentials merges already checked and hashed credentials into i.
func mergeCredentials(i *identity, creds *identityWithCredentials, now time.Time) {
	micro := now.Truncate(time.Microsecond)
	get := func(typ string, version int) *credential {
		c := i.Credentials[typ]
		if c == nil {
			c = &credential{Type: typ, Config: json.RawMessage("{}"), Version: version, CreatedAt: micro, UpdatedAt: micro}
			i.Credentials[typ] = c
		} else {
			c.UpdatedAt = micro
		}
		return c
	}
	if p := creds.Password; p != nil {
		cfg, _ := json.Marshal(struct {
			HashedPassword           string `json:"hashed_password"`
			UsePasswordMigrationHook bool   `json:"use_password_migration_hook,omitempty"`
		}{p.Config.HashedPassword, p.Config.UsePasswordMigrationHook})
		get("password", 0).Config = cfg
	}
	for typ, imp := range map[string]*providersImport{"oidc": creds.OIDC, "saml": creds.SAML} {
		if imp == nil {
			continue
		}
		c := get(typ, 0)
		var cfg oidcConfig
		_ = json.Unmarshal(c.Config, &cfg)
		for _, p := range imp.Config.Providers {
			cfg.Providers = append(cfg.Providers, oidcProvider{
				Subject: p.Subject, Provider: p.Provider, UseAutoLink: p.UseAutoLink,
				Organization: deref(p.Organization.ptr()),
			})
			if id := p.Provider + ":" + p.Subject; !slices.Contains(c.Identifiers, id) {
				c.Identifiers = append(c.Identifiers, id)
			}
		}
		if typ == "saml" {
			saml := struct {
				Providers []samlProvider `json:"providers"`
			}{}
			for _, p := range cfg.Providers {
				saml.Providers = append(saml.Providers, samlProvider{Subject: p.Subject, Provider: p.Provider, Organization: p.Organization})
			}
			c.Config, _ = json.Marshal(saml)
			continue
		}
		c.Config, _ = json.Marshal(cfg)
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Stored credential configurations, in Kratos' formats.
type (
	oidcConfig struct {
		Providers []oidcProvider `json:"providers"`
	}
	// oidcProvider is an oidc link as Kratos stores it: the tokens first
	// (recorded 173).
	oidcProvider struct {
		InitialIDToken      string `json:"initial_id_token"`
		InitialAccessToken  string `json:"initial_access_token"`
		InitialRefreshToken string `json:"initial_refresh_token"`
		Subject             string `json:"subject"`
		Provider            string `json:"provider"`
		Organization        string `json:"organization,omitempty"`
		UseAutoLink         bool   `json:"use_auto_link,omitempty"`
	}
	// samlProvider is a saml link: no tokens (recorded 191).
	samlProvider struct {
		Subject      string `json:"subject"`
		Provider     string `json:"provider"`
		Organization string `json:"organization,omitempty"`
	}
	webAuthnConfig struct {
		Credentials []json.RawMessage `json:"credentials"`
		UserHandle  string            `json:"user_handle,omitempty"`
	}
)

// webAuthnStored is a WebAuthn key as Kratos encodes it.
type webAuthnStored struct {
	ID              string `json:"id"`
	PublicKey       string `json:"public_key"`
	AttestationType string `json:"attestation_type"`
	Authenticator   struct {
		AAGUID       string `json:"aaguid"`
		SignCount    int64  `json:"sign_count"`
		CloneWarning bool   `json:"clone_warning"`
	} `json:"authenticator"`
	DisplayName    string    `json:"display_name"`
	AddedAt        time.Time `json:"added_at"`
	IsPasswordless bool      `json:"is_passwordless"`
}

func reencodeWebAuthn(raw json.RawMessage) json.RawMessage {
	var w webAuthnStored
	if err := json.Unmarshal(raw, &w); err != nil {
		return raw
	}
	b, _ := json.Marshal(w)
	return b
}

func webAuthnPasswordless(raw json.RawMessage) bool {
	var c struct {
		IsPasswordless bool `json:"is_passwordless"`
	}
	_ = json.Unmarshal(raw, &c)
	return c.IsPasswordless
}

// firstFactors counts the identity's usable first-factor credentials the
// way Kratos' CountActiveFirstFactorCredentials does on a server with
// password, passwordless code, social sign-in, passkeys and passwordless
// WebAuthn enabled. TOTP and lookup secrets are second factors.
func firstFactors(i *identity, enabled func(typ string) bool) int {
	n := 0
	for typ, c := range i.Credentials {
		if !enabled(typ) {
			continue
		}
		switch typ {
		case "password":
			// Only a password with a hash counts: one imported with
			// use_password_migration_hook and no hash does not (seen on
			// v26.2.0 without a migration hook configured: deleting it
			// while a code credential is left is "the last first factor").
			var cfg struct {
				HashedPassword string `json:"hashed_password"`
			}
			_ = json.Unmarshal(c.Config, &cfg)
			if cfg.HashedPassword != "" && len(c.Identifiers) > 0 {
				n++
			}
		case "code":
			if len(c.Identifiers) > 0 {
				n++
			}
		case "oidc", "saml":
			var cfg oidcConfig
			_ = json.Unmarshal(c.Config, &cfg)
			for _, p := range cfg.Providers {
				// An OIDC link to an organization (B2B SSO) is no first
				// factor of its own (seen on Kratos v26.2.0).
				if typ == "saml" || p.Organization == "" {
					n++
				}
			}
		case "webauthn":
			var cfg webAuthnConfig
			_ = json.Unmarshal(c.Config, &cfg)
			for _, wc := range cfg.Credentials {
				if webAuthnPasswordless(wc) {
					n++
				}
			}
		case "passkey":
			var cfg webAuthnConfig
			_ = json.Unmarshal(c.Config, &cfg)
			n += len(cfg.Credentials)
		}
	}
	return n
}

// deleteCredential is Kratos' deleteIdentityCredentials on a copy of i.
func deleteCredential(i *identity, typ, identifier string, now time.Time, enabled func(typ string) bool) *apiError {
	c := i.Credentials[typ]
	if c == nil {
		return errNotFound("You tried to remove a " + typ + " but this user have no " + typ + " set up.")
	}
	micro := now.Truncate(time.Microsecond)
	switch typ {
	case "lookup_secret", "totp":
		delete(i.Credentials, typ)
	case "webauthn":
		// Kratos keeps the passwordless keys and writes them back through
		// its own struct (recorded 490, 491).
		var cfg webAuthnConfig
		_ = json.Unmarshal(c.Config, &cfg)
		kept := []json.RawMessage{}
		for _, wc := range cfg.Credentials {
			if webAuthnPasswordless(wc) {
				kept = append(kept, reencodeWebAuthn(wc))
			}
		}
		if len(kept) == 0 {
			delete(i.Credentials, typ)
		} else {
			cfg.Credentials = kept
			c.Config, _ = json.Marshal(cfg)
			c.UpdatedAt = micro
		}
	case "password", "oidc", "saml":
		if firstFactors(i, enabled) < 2 {
			return errBadRequest("You cannot remove the last first factor credential.")
		}
		if typ == "password" {
			c.Config = json.RawMessage("{}")
			c.UpdatedAt = micro
			break
		}
		if identifier == "" {
			return errBadRequest("You must provide an identifier to delete this credential.")
		}
		var cfg oidcConfig
		_ = json.Unmarshal(c.Config, &cfg)
		kept := cfg.Providers[:0]
		for _, p := range cfg.Providers {
			if p.Provider+":"+p.Subject != identifier {
				kept = append(kept, p)
			}
		}
		if len(kept) == len(cfg.Providers) {
			// "OIDC" for saml too (recorded 498).
			return errNotFound("The identifier `" + identifier + "` was not found among OIDC credentials.")
		}
		// The credential stays, without identifiers once the last link is
		// gone (recorded 260).
		c.Identifiers = slices.DeleteFunc(c.Identifiers, func(id string) bool { return id == identifier })
		if c.Identifiers == nil {
			c.Identifiers = []string{}
		}
		cfg.Providers = kept
		c.Config, _ = json.Marshal(cfg)
		c.UpdatedAt = micro
	default:
		return errBadRequest("Credentials type " + typ + " cannot be deleted.")
	}
	i.UpdatedAt = micro
	return nil
}
