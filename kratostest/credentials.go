package kratostest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// identityWithCredentials is the credentials part of create and update
// bodies (the import formats of the spec).
type identityWithCredentials struct {
	Password *struct {
		Config passwordImportConfig `json:"config"`
	} `json:"password"`
	OIDC         *providersImport `json:"oidc"`
	SAML         *providersImport `json:"saml"`
	TOTP         *totpImport      `json:"totp"`
	LookupSecret *lookupImport    `json:"lookup_secret"`
	WebAuthn     *webAuthnImport  `json:"webauthn"`
	Passkey      *webAuthnImport  `json:"passkey"`
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

type totpImport struct {
	Config struct {
		TOTPURL string `json:"totp_url"`
	} `json:"config"`
}

type lookupImport struct {
	Config struct {
		Codes []struct {
			Code   string     `json:"code"`
			UsedAt *time.Time `json:"used_at"`
		} `json:"codes"`
	} `json:"config"`
}

type webAuthnImport struct {
	Config struct {
		Credentials []json.RawMessage `json:"credentials"`
		UserHandle  string            `json:"user_handle"`
	} `json:"config"`
}

// bcryptCost is the cost of the hashes the fake makes from plaintext
// passwords: the minimum, it is a test double.
const bcryptCost = bcrypt.MinCost

// knownHashPrefixes are the password hash formats Kratos imports
// (hash.IsValidHashFormat); the fake checks the prefix only.
var knownHashPrefixes = []string{
	"$2a$", "$2b$", "$2y$", "$argon2id$", "$argon2i$", "$pbkdf2-sha1$", "$pbkdf2-sha256$", "$pbkdf2-sha512$",
	"$scrypt$", "$sscrypt$", "$firescrypt$", "{SSHA}", "{SSHA256}", "{SSHA512}", "$sha1$", "$sha256$", "$sha512$",
	"$md5$", "$md5-crypt$", "$sha256-crypt$", "$sha512-crypt$", "$hmac-md5$", "$hmac-sha1$", "$hmac-sha256$",
	"$hmac-sha512$", "$1$", "$5$", "$6$",
}

func validHashFormat(h string) bool {
	for _, p := range knownHashPrefixes {
		if strings.HasPrefix(h, p) {
			return true
		}
	}
	return false
}

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

// hashPassword replaces a plaintext password by its bcrypt hash.
func hashPassword(c *passwordImportConfig) *apiError {
	if c.Password == "" {
		return nil
	}
	h, err := bcrypt.GenerateFromPassword([]byte(c.Password), bcryptCost)
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
		if err := hashPassword(&creds.Password.Config); err != nil {
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
		if imp == nil || len(imp.Config.Providers) == 0 {
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
		c.Config, _ = json.Marshal(cfg)
		if typ == "saml" {
			// Kratos stores SAML links without the OIDC tokens.
			saml := struct {
				Providers []samlProvider `json:"providers"`
			}{}
			for _, p := range cfg.Providers {
				saml.Providers = append(saml.Providers, samlProvider{Subject: p.Subject, Provider: p.Provider, Organization: p.Organization})
			}
			c.Config, _ = json.Marshal(saml)
		}
	}
	if t := creds.TOTP; t != nil {
		c := get("totp", 0)
		c.ownID = true
		c.Identifiers = []string{i.ID}
		c.Config, _ = json.Marshal(struct {
			TOTPURL string `json:"totp_url"`
		}{t.Config.TOTPURL})
	}
	if l := creds.LookupSecret; l != nil {
		c := get("lookup_secret", 0)
		c.ownID = true
		c.Identifiers = []string{i.ID}
		var cfg lookupConfig
		_ = json.Unmarshal(c.Config, &cfg)
		for _, code := range l.Config.Codes {
			cfg.RecoveryCodes = append(cfg.RecoveryCodes, lookupCode{Code: code.Code, UsedAt: code.UsedAt})
		}
		c.Config, _ = json.Marshal(cfg)
	}
	for typ, w := range map[string]*webAuthnImport{"webauthn": creds.WebAuthn, "passkey": creds.Passkey} {
		if w == nil {
			continue
		}
		c := get(typ, 1)
		var cfg webAuthnConfig
		_ = json.Unmarshal(c.Config, &cfg)
		for _, raw := range w.Config.Credentials {
			id := webAuthnCredentialID(raw)
			replaced := false
			for k, old := range cfg.Credentials {
				if id != "" && webAuthnCredentialID(old) == id {
					cfg.Credentials[k], replaced = raw, true
				}
			}
			if !replaced {
				cfg.Credentials = append(cfg.Credentials, raw)
			}
		}
		if w.Config.UserHandle != "" {
			cfg.UserHandle = w.Config.UserHandle
			if typ == "passkey" && !slices.Contains(c.Identifiers, cfg.UserHandle) {
				c.Identifiers = append(c.Identifiers, cfg.UserHandle)
			}
		}
		if typ == "webauthn" && len(c.Identifiers) == 0 {
			c.ownID = true
			c.Identifiers = []string{i.ID}
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
	oidcProvider struct {
		Subject             string `json:"subject"`
		Provider            string `json:"provider"`
		InitialIDToken      string `json:"initial_id_token"`
		InitialAccessToken  string `json:"initial_access_token"`
		InitialRefreshToken string `json:"initial_refresh_token"`
		Organization        string `json:"organization,omitempty"`
		UseAutoLink         bool   `json:"use_auto_link,omitempty"`
	}
	samlProvider struct {
		Subject      string `json:"subject"`
		Provider     string `json:"provider"`
		Organization string `json:"organization,omitempty"`
	}
	lookupConfig struct {
		RecoveryCodes []lookupCode `json:"recovery_codes"`
	}
	lookupCode struct {
		Code   string     `json:"code"`
		UsedAt *time.Time `json:"used_at,omitempty"`
	}
	webAuthnConfig struct {
		Credentials []json.RawMessage `json:"credentials"`
		UserHandle  string            `json:"user_handle,omitempty"`
	}
)

func webAuthnCredentialID(raw json.RawMessage) string {
	var c struct {
		ID             string `json:"id"`
		IsPasswordless bool   `json:"is_passwordless"`
	}
	_ = json.Unmarshal(raw, &c)
	return c.ID
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
			var cfg struct {
				HashedPassword           string `json:"hashed_password"`
				UsePasswordMigrationHook bool   `json:"use_password_migration_hook"`
			}
			_ = json.Unmarshal(c.Config, &cfg)
			if (cfg.HashedPassword != "" || cfg.UsePasswordMigrationHook) && len(c.Identifiers) > 0 {
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
		var cfg webAuthnConfig
		_ = json.Unmarshal(c.Config, &cfg)
		kept := cfg.Credentials[:0]
		for _, wc := range cfg.Credentials {
			if webAuthnPasswordless(wc) {
				kept = append(kept, wc)
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
			return errBadRequest("The identifier of the " + typ + " credential to delete is missing.")
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
			return errNotFound("The " + typ + " credential with identifier " + identifier + " was not found.")
		}
		c.Identifiers = slices.DeleteFunc(c.Identifiers, func(id string) bool { return id == identifier })
		if len(kept) == 0 {
			delete(i.Credentials, typ)
		} else {
			cfg.Providers = kept
			c.Config, _ = json.Marshal(cfg)
			c.UpdatedAt = micro
		}
	default:
		return errBadRequest("Credentials type " + typ + " cannot be deleted.")
	}
	i.UpdatedAt = micro
	return nil
}
