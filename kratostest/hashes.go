package kratostest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	//lint:ignore SA1019 Kratos imports $hmac-md4$ hashes; verifying them needs MD4
	"golang.org/x/crypto/md4"
	"golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/scrypt"
)

// Password hashes as Kratos verifies them at login. Kratos imports hashes
// in many formats (checkPassword) and signs an identity in with any of
// them; after a successful login with a hash that is not bcrypt it stores
// a bcrypt hash of the password at its configured cost instead. The
// formats, each checked against Kratos v26.2.0 by TestPasswordHashFormats
// (hashes_test.go):
//
//	$2a$ $2b$ $2y$                           bcrypt
//	$argon2id$v=19$m=M,t=T,p=P$SALT$KEY      argon2id (RawStd base64)
//	$argon2i$v=19$m=M,t=T,p=P$SALT$KEY       argon2i
//	$pbkdf2-shaN$i=I,l=L$SALT$KEY            PBKDF2 with SHA-1/224/256/384/512 (RawStd)
//	$scrypt$ln=N,r=R,p=P$SALT$KEY            scrypt, N the cost itself (Std base64)
//	$firescrypt$ln=L,r=R,p=P$SALT$KEY$SEP$SIGNER   Firebase's scrypt
//	{SSHA}B64 {SSHA256}B64 {SSHA512}B64      salted SHA, base64 of digest+salt
//	$sha1$pf=PF$SALT$KEY (sha256, sha512)    SHA of the pattern PF with {SALT}, {PASSWORD}
//	$md5$KEY, $md5$pf=PF$SALT$KEY            MD5
//	$hmac-ALG$KEY$SECRET                     HMAC (md4, md5, sha1, sha224, sha256, sha384, sha512), KEY the hex digest in base64
//	$md5-crypt$SALT$HASH                     crypt(3) $1$ (crypt.go)
//	$sha256-crypt$[rounds=N$]SALT$HASH       crypt(3) $5$
//	$sha512-crypt$[rounds=N$]SALT$HASH       crypt(3) $6$

// hashMatches reports whether password matches the stored hash h, and
// whether the fake knows how to verify h at all.
func hashMatches(h, password string) (ok, known bool) {
	pw := []byte(password)
	switch {
	case isBcryptHash(h):
		return bcrypt.CompareHashAndPassword([]byte(h), pw) == nil, true
	case strings.HasPrefix(h, "$argon2id$"):
		return argon2Matches(h, pw, argon2.IDKey), true
	case strings.HasPrefix(h, "$argon2i$"):
		return argon2Matches(h, pw, argon2.Key), true
	case strings.HasPrefix(h, "$pbkdf2-sha"):
		return pbkdf2Matches(h, pw), true
	case strings.HasPrefix(h, "$scrypt$"):
		return scryptMatches(h, pw), true
	case strings.HasPrefix(h, "$firescrypt$"):
		return firebaseScryptMatches(h, pw), true
	case strings.HasPrefix(h, "{SSHA"):
		return sshaMatches(h, pw), true
	case strings.HasPrefix(h, "$sha1$"), strings.HasPrefix(h, "$sha256$"), strings.HasPrefix(h, "$sha512$"):
		return shaPatternMatches(h, pw), true
	case strings.HasPrefix(h, "$md5$"):
		return md5Matches(h, pw), true
	case strings.HasPrefix(h, "$hmac-"):
		return hmacMatches(h, pw), true
	case strings.HasPrefix(h, "$md5-crypt$"), strings.HasPrefix(h, "$sha256-crypt$"), strings.HasPrefix(h, "$sha512-crypt$"):
		return cryptMatches(h, pw), true
	}
	return false, false
}

// isBcryptHash is Kratos' test for a bcrypt hash: $2$, $2a$, $2b$, $2y$,
// $2z$.
func isBcryptHash(h string) bool {
	if !strings.HasPrefix(h, "$2") || len(h) < 3 {
		return false
	}
	if h[2] == '$' {
		return true
	}
	return len(h) > 3 && strings.IndexByte("abzy", h[2]) >= 0 && h[3] == '$'
}

func equalConstantTime(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

var (
	rawStd = base64.RawStdEncoding.Strict()
	std    = base64.StdEncoding.Strict()
)

func argon2Matches(h string, pw []byte, key func(pw, salt []byte, t, m uint32, p uint8, l uint32) []byte) bool {
	parts := strings.Split(h, "$")
	if len(parts) != 6 {
		return false
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || t == 0 || p == 0 {
		return false
	}
	salt, err1 := rawStd.DecodeString(parts[4])
	want, err2 := rawStd.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	return equalConstantTime(want, key(pw, salt, t, m, p, uint32(len(want))))
}

func shaByName(name string) func() hash.Hash {
	switch name {
	case "sha1":
		return sha1.New
	case "sha224":
		return sha256.New224
	case "sha256":
		return sha256.New
	case "sha384":
		return sha512.New384
	case "sha512":
		return sha512.New
	}
	return nil
}

func pbkdf2Matches(h string, pw []byte) bool {
	parts := strings.Split(h, "$")
	if len(parts) != 5 {
		return false
	}
	prf := shaByName(strings.TrimPrefix(parts[1], "pbkdf2-"))
	var iter, l int
	if _, err := fmt.Sscanf(parts[2], "i=%d,l=%d", &iter, &l); err != nil || prf == nil || iter <= 0 {
		return false
	}
	salt, err1 := rawStd.DecodeString(parts[3])
	want, err2 := rawStd.DecodeString(parts[4])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	return equalConstantTime(want, pbkdf2.Key(pw, salt, iter, len(want), prf))
}

// scryptParams reads "ln=N,r=R,p=P".
func scryptParams(s string) (n, r, p int, ok bool) {
	_, err := fmt.Sscanf(s, "ln=%d,r=%d,p=%d", &n, &r, &p)
	return n, r, p, err == nil
}

func scryptMatches(h string, pw []byte) bool {
	parts := strings.Split(h, "$")
	if len(parts) != 5 {
		return false
	}
	n, r, p, ok := scryptParams(parts[2])
	salt, err1 := std.DecodeString(parts[3])
	want, err2 := std.DecodeString(parts[4])
	if !ok || err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := scrypt.Key(pw, salt, n, r, p, len(want))
	return err == nil && equalConstantTime(want, got)
}

func firebaseScryptMatches(h string, pw []byte) bool {
	parts := strings.Split(h, "$")
	if len(parts) != 7 {
		return false
	}
	ln, r, p, ok := scryptParams(parts[2])
	if !ok || ln <= 0 || ln >= 31 {
		return false
	}
	var dec [4][]byte
	for k := range dec {
		var err error
		if dec[k], err = std.DecodeString(parts[3+k]); err != nil {
			return false
		}
	}
	salt, want, sep, signer := dec[0], dec[1], dec[2], dec[3]
	key, err := scrypt.Key(pw, append(salt, sep...), 1<<ln, r, p, 32)
	if err != nil {
		return false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return false
	}
	got := make([]byte, len(signer))
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(got, signer)
	return equalConstantTime(want, got)
}

func sshaMatches(h string, pw []byte) bool {
	var newHash func() hash.Hash
	var body string
	switch {
	case strings.HasPrefix(h, "{SSHA}"):
		newHash, body = sha1.New, h[len("{SSHA}"):]
	case strings.HasPrefix(h, "{SSHA256}"):
		newHash, body = sha256.New, h[len("{SSHA256}"):]
	case strings.HasPrefix(h, "{SSHA512}"):
		newHash, body = sha512.New, h[len("{SSHA512}"):]
	default:
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	size := newHash().Size()
	if err != nil || len(raw) <= size {
		return false
	}
	d := newHash()
	d.Write(pw)
	d.Write(raw[size:])
	return equalConstantTime(raw[:size], d.Sum(nil))
}

// saltedPattern reads "pf=B64$SALT" parts: the pattern with {SALT} and
// {PASSWORD}, and the salt.
func saltedPattern(pf, salt string) (pattern, s []byte, ok bool) {
	enc, found := strings.CutPrefix(pf, "pf=")
	if !found {
		return nil, nil, false
	}
	if i := strings.IndexAny(enc, " \t\n"); i >= 0 {
		enc = enc[:i]
	}
	pattern, err1 := std.DecodeString(enc)
	s, err2 := std.DecodeString(salt)
	return pattern, s, err1 == nil && err2 == nil
}

func fillPattern(pattern, salt, pw []byte) []byte {
	return []byte(strings.NewReplacer("{SALT}", string(salt), "{PASSWORD}", string(pw)).Replace(string(pattern)))
}

func shaPatternMatches(h string, pw []byte) bool {
	parts := strings.Split(h, "$")
	if len(parts) != 5 {
		return false
	}
	newHash := shaByName(parts[1])
	pattern, salt, ok := saltedPattern(parts[2], parts[3])
	want, err := std.DecodeString(parts[4])
	if newHash == nil || !ok || err != nil {
		return false
	}
	d := newHash()
	d.Write(fillPattern(pattern, salt, pw))
	return equalConstantTime(want, d.Sum(nil))
}

func md5Matches(h string, pw []byte) bool {
	parts := strings.Split(h, "$")
	arg := pw
	var enc string
	switch len(parts) {
	case 3:
		enc = parts[2]
	case 5:
		pattern, salt, ok := saltedPattern(parts[2], parts[3])
		if !ok {
			return false
		}
		arg, enc = fillPattern(pattern, salt, pw), parts[4]
	default:
		return false
	}
	want, err := std.DecodeString(enc)
	if err != nil {
		return false
	}
	sum := md5.Sum(arg)
	return equalConstantTime(want, sum[:])
}

func hmacMatches(h string, pw []byte) bool {
	parts := strings.Split(h, "$")
	if len(parts) != 4 {
		return false
	}
	var newHash func() hash.Hash
	switch alg := strings.TrimPrefix(parts[1], "hmac-"); alg {
	case "md4":
		newHash = md4.New
	case "md5":
		newHash = md5.New
	default:
		newHash = shaByName(alg)
	}
	want, err1 := std.DecodeString(parts[2])
	key, err2 := std.DecodeString(parts[3])
	if newHash == nil || err1 != nil || err2 != nil {
		return false
	}
	mac := hmac.New(newHash, key)
	mac.Write(pw)
	return equalConstantTime(want, []byte(hex.EncodeToString(mac.Sum(nil))))
}
