package bulk

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/kratosadmin/sdk/client"
)

// Password hash formats Kratos imports as hashed_password (its hash
// comparator recognises them by these prefixes). The patterns here also
// check the shape after the prefix, so that a plaintext password that merely
// starts like a hash is not taken for one.
var passwordHashFormats = []*regexp.Regexp{
	regexp.MustCompile(`^\$2[abxyz]?\$[0-9]{2}\$[./A-Za-z0-9]{53}$`),                               // bcrypt
	regexp.MustCompile(`^\$argon2(id|i)\$v=[0-9]+\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[^$\s]+\$[^$\s]+$`), // argon2
	regexp.MustCompile(`^\$pbkdf2-sha[0-9]{1,3}\$i=[0-9]+,l=[0-9]+\$[^$\s]+\$[^$\s]+$`),            // pbkdf2
	regexp.MustCompile(`^\$scrypt\$ln=[0-9]+,r=[0-9]+,p=[0-9]+\$[^$\s]+\$[^$\s]+$`),                // scrypt
	regexp.MustCompile(`^\$firescrypt\$ln=[0-9]+,r=[0-9]+,p=[0-9]+(\$[^$\s]+){4}$`),                // Firebase scrypt
	regexp.MustCompile(`^\{SSHA(256|512)?\}[A-Za-z0-9+/]+=*$`),                                     // salted SHA (LDAP)
	regexp.MustCompile(`^\$sha(1|256|512)\$pf=[^$\s]+\$[^$\s]*\$[^$\s]+$`),                         // salted SHA (PHC-like)
	regexp.MustCompile(`^\$md5\$([^$\s]+|pf=[^$\s]+\$[^$\s]*\$[^$\s]+)$`),                          // MD5
	regexp.MustCompile(`^\$(md5|sha256|sha512)-crypt\$\S+$`),                                       // crypt(3) variants
	regexp.MustCompile(`^\$hmac-(md4|md5|sha1|sha224|sha256|sha384|sha512)\$[^$\s]+\$[^$\s]+$`),    // HMAC
}

// IsPasswordHash reports whether s is a password hash in one of the formats
// Kratos imports through hashed_password: bcrypt ($2a$, $2b$, $2y$),
// argon2 ($argon2id$, $argon2i$), $pbkdf2-sha…$, $scrypt$, $firescrypt$,
// {SSHA}, {SSHA256}, {SSHA512}, $sha1$, $sha256$, $sha512$, $md5$,
// $md5-crypt$, $sha256-crypt$, $sha512-crypt$ and $hmac-…$.
func IsPasswordHash(s string) bool {
	if len(s) < 8 || (s[0] != '$' && s[0] != '{') {
		return false
	}
	for _, re := range passwordHashFormats {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// errPasswordNotHashed marks a password the importer leaves for the server
// to hash (bcrypt refuses passwords over 72 bytes).
var errPasswordNotHashed = errors.New("password left in plaintext")

// prehashAction is what pre-hashing does with a body's password: the one
// place that decides it, for the import and for a dry run's batch count.
type prehashAction int

const (
	prehashNone  prehashAction = iota // no plaintext password, or a hashed_password is set: sent as it is
	prehashMove                       // the password already is a hash: it moves to hashed_password
	prehashHash                       // a plaintext password bcrypt takes: hashed
	prehashLeave                      // longer than bcrypt's 72 bytes: left for the server
)

func prehashDecision(cfg *client.ImportPasswordConfig) prehashAction {
	switch {
	case cfg.HashedPassword != "" || cfg.Password == "":
		return prehashNone
	case IsPasswordHash(cfg.Password):
		return prehashMove
	case len(cfg.Password) > 72:
		return prehashLeave
	}
	return prehashHash
}

// prehashPassword prepares an identity's password for import so that the
// server receives a hash (see prehashDecision): a hashed_password is left
// as it is, a password that already is a hash moves to hashed_password,
// and a plaintext password is hashed with bcrypt at the given cost. It
// returns errPasswordNotHashed (and leaves the body unchanged) for a
// password bcrypt cannot take.
func prehashPassword(body *client.CreateIdentityBody, cost int) error {
	cfg := &body.Credentials.Password.Config
	switch prehashDecision(cfg) {
	case prehashNone:
		return nil
	case prehashMove:
		cfg.HashedPassword, cfg.Password = cfg.Password, ""
		return nil
	case prehashLeave:
		return fmt.Errorf("%w: bcrypt takes at most 72 bytes", errPasswordNotHashed)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(cfg.Password), cost)
	if err != nil {
		return fmt.Errorf("%w: %v", errPasswordNotHashed, err)
	}
	cfg.HashedPassword, cfg.Password = string(h), ""
	return nil
}

// leftInPlaintext reports whether pre-hashing would leave body with a
// password the server must hash itself.
func leftInPlaintext(body *client.CreateIdentityBody) bool {
	cfg := &body.Credentials.Password.Config
	switch prehashDecision(cfg) {
	case prehashNone, prehashLeave:
		return hasPlaintextPassword(body)
	}
	return false
}

// hasPlaintextPassword reports whether body carries a password the server
// must hash itself (the batch endpoint takes fewer of those per request).
func hasPlaintextPassword(body *client.CreateIdentityBody) bool {
	return body.Credentials.Password.Config.Password != ""
}

// checkBcryptCost validates a bcrypt cost (0 means bcrypt.DefaultCost).
func checkBcryptCost(op, arg string, cost int) error {
	if cost != 0 && (cost < bcrypt.MinCost || cost > bcrypt.MaxCost) {
		return &client.ArgumentError{Op: op, Argument: arg, Reason: fmt.Sprintf("%d is outside bcrypt's %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)}
	}
	return nil
}

func trimLower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
