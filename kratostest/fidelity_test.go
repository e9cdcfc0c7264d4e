package kratostest_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	//lint:ignore SA1019 Kratos imports $hmac-md4$ hashes; the test makes one
	"golang.org/x/crypto/md4"
	"golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/scrypt"

	"github.com/kratosadmin/sdk/kratostest"
)

// The fake as a program in any language sees it: the public login flow
// and the admin answers it depends on, sent as raw HTTP to the fake and,
// when KRATOS_ADMIN_URL and KRATOS_PUBLIC_URL are set, to that real Kratos
// (v26.2.0 of ../shared/kratos: bcrypt cost 8, the default schema). The
// expectations are what the real server answered; each test checks both
// targets against them, so that the fake cannot drift from the recorded
// truth and a later Kratos release that changes it fails here.
//
//	eval "$(../shared/kratos/start.sh)"
//	go test ./kratostest -run 'TestPasswordHashFormats|TestLoginInactive|TestEmailFormats' -v
//	../shared/kratos/stop.sh "$KRATOS_STATE"

// realBcryptCost is hashers.bcrypt.cost of ../shared/kratos.
const realBcryptCost = 8

type loginTarget struct {
	name          string
	admin, public string
}

func loginTargets(t *testing.T) []loginTarget {
	t.Helper()
	srv := kratostest.NewServer(t, kratostest.WithBcryptCost(realBcryptCost))
	out := []loginTarget{{"fake", srv.URL, srv.PublicURL}}
	admin, public := os.Getenv("KRATOS_ADMIN_URL"), os.Getenv("KRATOS_PUBLIC_URL")
	if admin != "" && public != "" {
		out = append(out, loginTarget{"real", admin, public})
	} else {
		t.Log("fake only: set KRATOS_ADMIN_URL and KRATOS_PUBLIC_URL to check a real Kratos too")
	}
	return out
}

// login runs the native login flow and returns the status and body of the
// submission.
func (tg loginTarget) login(t *testing.T, identifier, pw string) (int, string) {
	t.Helper()
	st, _, b := send(t, http.MethodGet, tg.public+"/self-service/login/api", "")
	var flow struct{ ID string }
	if st != http.StatusOK || json.Unmarshal([]byte(b), &flow) != nil {
		t.Fatalf("%s: login flow: %d %s", tg.name, st, b)
	}
	body, _ := json.Marshal(map[string]string{"method": "password", "identifier": identifier, "password": pw})
	st, _, b = send(t, http.MethodPost, tg.public+"/self-service/login?flow="+flow.ID, string(body))
	return st, b
}

func (tg loginTarget) storedHash(t *testing.T, id string) string {
	t.Helper()
	st, _, b := send(t, http.MethodGet, tg.admin+"/admin/identities/"+id+"?include_credential=password", "")
	var i struct {
		Credentials struct {
			Password struct {
				Config struct {
					HashedPassword string `json:"hashed_password"`
				} `json:"config"`
			} `json:"password"`
		} `json:"credentials"`
	}
	if st != http.StatusOK || json.Unmarshal([]byte(b), &i) != nil {
		t.Fatalf("%s: get %s: %d", tg.name, id, st)
	}
	return i.Credentials.Password.Config.HashedPassword
}

// importHashed creates an identity of email in state with the password
// hash imported and returns its id (the caller deletes it).
func (tg loginTarget) importHashed(t *testing.T, email, state, imported string) string {
	t.Helper()
	body := fmt.Sprintf(`{"schema_id":"default","state":%q,"traits":{"email":%q},"credentials":{"password":{"config":{"hashed_password":%q}}}}`, state, email, imported)
	st, _, b := send(t, http.MethodPost, tg.admin+"/admin/identities", body)
	if st != http.StatusCreated {
		t.Fatalf("import: %d %s", st, b)
	}
	var created struct{ ID string }
	_ = json.Unmarshal([]byte(b), &created)
	return created.ID
}

func (tg loginTarget) deleteIdentity(t *testing.T, id string) {
	t.Helper()
	if st, _, b := send(t, http.MethodDelete, tg.admin+"/admin/identities/"+id, ""); st != http.StatusNoContent {
		t.Errorf("%s: delete %s: %d %s", tg.name, id, st, b)
	}
}

func uniqueEmail(prefix string) string {
	return fmt.Sprintf("%s-%d@example.org", prefix, time.Now().UnixNano())
}

// Hashes in each format Kratos imports, made with the standard library
// and golang.org/x/crypto from small parameters.
var (
	b64    = base64.StdEncoding.EncodeToString
	rawB64 = base64.RawStdEncoding.EncodeToString
	salt   = []byte("NaCl-salt-16byte")
)

func digest(h func() hash.Hash, parts ...[]byte) []byte {
	d := h()
	for _, p := range parts {
		d.Write(p)
	}
	return d.Sum(nil)
}

func hmacHex(h func() hash.Hash, key, pw []byte) string {
	m := hmac.New(h, key)
	m.Write(pw)
	return b64([]byte(hex.EncodeToString(m.Sum(nil))))
}

func firebaseScrypt(pw []byte) string {
	sep, signer := []byte("Bw=="), []byte("signer-key-bytes-for-the-project")
	key, _ := scrypt.Key(pw, append(salt[:8:8], sep...), 1<<4, 8, 1, 32)
	block, _ := aes.NewCipher(key)
	out := make([]byte, len(signer))
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(out, signer)
	return fmt.Sprintf("$firescrypt$ln=4,r=8,p=1$%s$%s$%s$%s", b64(salt[:8]), b64(out), b64(sep), b64(signer))
}

var hashFormats = []struct {
	name string
	make func(pw []byte) string
}{
	{"bcrypt-2a-cost4", func(pw []byte) string { h, _ := bcrypt.GenerateFromPassword(pw, 4); return string(h) }},
	{"bcrypt-2y", func(pw []byte) string {
		h, _ := bcrypt.GenerateFromPassword(pw, 4)
		return "$2y$" + string(h[4:])
	}},
	{"argon2id", func(pw []byte) string {
		return fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s", rawB64(salt), rawB64(argon2.IDKey(pw, salt, 1, 64, 1, 32)))
	}},
	{"argon2i", func(pw []byte) string {
		return fmt.Sprintf("$argon2i$v=19$m=64,t=2,p=1$%s$%s", rawB64(salt), rawB64(argon2.Key(pw, salt, 2, 64, 1, 16)))
	}},
	{"pbkdf2-sha1", func(pw []byte) string {
		return fmt.Sprintf("$pbkdf2-sha1$i=1000,l=20$%s$%s", rawB64(salt), rawB64(pbkdf2.Key(pw, salt, 1000, 20, sha1.New)))
	}},
	{"pbkdf2-sha256", func(pw []byte) string {
		return fmt.Sprintf("$pbkdf2-sha256$i=1000,l=32$%s$%s", rawB64(salt), rawB64(pbkdf2.Key(pw, salt, 1000, 32, sha256.New)))
	}},
	{"pbkdf2-sha512", func(pw []byte) string {
		return fmt.Sprintf("$pbkdf2-sha512$i=1000,l=64$%s$%s", rawB64(salt), rawB64(pbkdf2.Key(pw, salt, 1000, 64, sha512.New)))
	}},
	{"scrypt", func(pw []byte) string {
		k, _ := scrypt.Key(pw, salt, 16, 8, 1, 32)
		return fmt.Sprintf("$scrypt$ln=16,r=8,p=1$%s$%s", b64(salt), b64(k))
	}},
	{"firescrypt", firebaseScrypt},
	{"ssha", func(pw []byte) string { return "{SSHA}" + b64(append(digest(sha1.New, pw, salt[:8]), salt[:8]...)) }},
	{"ssha256", func(pw []byte) string {
		return "{SSHA256}" + b64(append(digest(sha256.New, pw, salt[:8]), salt[:8]...))
	}},
	{"ssha512", func(pw []byte) string {
		return "{SSHA512}" + b64(append(digest(sha512.New, pw, salt[:8]), salt[:8]...))
	}},
	{"sha1-pattern", func(pw []byte) string {
		return fmt.Sprintf("$sha1$pf=%s$%s$%s", b64([]byte("{SALT}{PASSWORD}")), b64(salt), b64(digest(sha1.New, salt, pw)))
	}},
	{"sha256-pattern", func(pw []byte) string {
		return fmt.Sprintf("$sha256$pf=%s$%s$%s", b64([]byte("{PASSWORD}.{SALT}")), b64(salt), b64(digest(sha256.New, pw, []byte("."), salt)))
	}},
	{"sha512-pattern", func(pw []byte) string {
		return fmt.Sprintf("$sha512$pf=%s$%s$%s", b64([]byte("{PASSWORD}{SALT}")), b64(salt), b64(digest(sha512.New, pw, salt)))
	}},
	{"md5", func(pw []byte) string { s := md5.Sum(pw); return "$md5$" + b64(s[:]) }},
	{"md5-pattern", func(pw []byte) string {
		s := md5.Sum(append(append([]byte{}, salt...), pw...))
		return fmt.Sprintf("$md5$pf=%s$%s$%s", b64([]byte("{SALT}{PASSWORD}")), b64(salt), b64(s[:]))
	}},
	{"hmac-md4", func(pw []byte) string { return "$hmac-md4$" + hmacHex(md4.New, salt, pw) + "$" + b64(salt) }},
	{"hmac-md5", func(pw []byte) string { return "$hmac-md5$" + hmacHex(md5.New, salt, pw) + "$" + b64(salt) }},
	{"hmac-sha1", func(pw []byte) string { return "$hmac-sha1$" + hmacHex(sha1.New, salt, pw) + "$" + b64(salt) }},
	{"hmac-sha256", func(pw []byte) string { return "$hmac-sha256$" + hmacHex(sha256.New, salt, pw) + "$" + b64(salt) }},
	{"hmac-sha512", func(pw []byte) string { return "$hmac-sha512$" + hmacHex(sha512.New, salt, pw) + "$" + b64(salt) }},
	// crypt(3), made by openssl passwd -1, -5, -6 from the test's password.
	{"md5-crypt", func([]byte) string { return "$md5-crypt$saltsalt$F1R1z6/Ylozj9nD508owb1" }},
	{"sha256-crypt", func([]byte) string { return "$sha256-crypt$saltsalt$k1WI84mb73gwQUusci20rZmeNdfhGjvIgsC8QKSW4Y2" }},
	{"sha256-crypt-rounds", func([]byte) string {
		return "$sha256-crypt$rounds=1000$saltsalt$PPXII2ytlwvctDuAzh5sJ.8dD2gRVf1NegCD8EJxvT3"
	}},
	{"sha512-crypt", func([]byte) string {
		return "$sha512-crypt$saltsalt$hLhwVO90IlfFbcvJHOG9M/WyvWaUmf9mtM9LSsh65JOSiax2mCWS9IVNzTLtp7memoMWS9InjLUZ334hWojvu0"
	}},
}

// TestPasswordHashFormats imports a password in each hash format, signs
// in with it, and checks what Kratos v26.2.0 does: a wrong password is a
// 400, the right one a 200, after which the stored hash is bcrypt at the
// server's cost (a non-bcrypt hash is replaced; a bcrypt hash of another
// cost is kept as it is).
func TestPasswordHashFormats(t *testing.T) {
	for _, tg := range loginTargets(t) {
		for _, f := range hashFormats {
			t.Run(tg.name+"/"+f.name, func(t *testing.T) {
				email := uniqueEmail("hash-" + f.name)
				imported := f.make([]byte(password))
				id := tg.importHashed(t, email, "active", imported)
				defer tg.deleteIdentity(t, id)

				if st, b := tg.login(t, email, "not-"+password); st != http.StatusBadRequest || !strings.Contains(b, `"id":4000006`) {
					t.Errorf("wrong password: %d, want 400 with message 4000006: %.300s", st, b)
				}
				if got := tg.storedHash(t, id); got != imported {
					t.Errorf("stored hash after a failed login %.20q, want the imported one", got)
				}
				if st, b := tg.login(t, email, password); st != http.StatusOK || !strings.Contains(b, `"session_token"`) {
					t.Fatalf("right password: %d, want 200 with a session: %.300s", st, b)
				}
				got := tg.storedHash(t, id)
				if strings.HasPrefix(imported, "$2") {
					if got != imported {
						t.Errorf("a bcrypt hash changed at login: %.7q -> %.7q", imported, got)
					}
					return
				}
				if want := fmt.Sprintf("$2a$%02d$", realBcryptCost); !strings.HasPrefix(got, want) {
					t.Errorf("stored hash after login %.7q..., want a rehash %s...", got, want)
				}
				if bcrypt.CompareHashAndPassword([]byte(got), []byte(password)) != nil {
					t.Error("the rehashed password does not match")
				}
				if st, _ := tg.login(t, email, password); st != http.StatusOK {
					t.Errorf("second login with the rehashed password: %d", st)
				}
			})
		}
	}
}

// TestLoginInactiveIdentity: Kratos v26.2.0 answers the right password of
// an inactive identity with a 401 "identity is disabled" naming it, and a
// wrong one with the usual 400; the flow stays usable, and a hash in
// another format is rehashed before the state is looked at.
func TestLoginInactiveIdentity(t *testing.T) {
	for _, tg := range loginTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			email := uniqueEmail("inactive")
			imported := "{SSHA256}" + b64(append(digest(sha256.New, []byte(password), salt[:8]), salt[:8]...))
			id := tg.importHashed(t, email, "inactive", imported)
			defer tg.deleteIdentity(t, id)

			if st, b := tg.login(t, email, "not-"+password); st != http.StatusBadRequest || !strings.Contains(b, `"id":4000006`) {
				t.Errorf("wrong password: %d, want 400 with message 4000006: %.300s", st, b)
			}
			st, _, b := send(t, http.MethodGet, tg.public+"/self-service/login/api", "")
			var flow struct{ ID string }
			if st != http.StatusOK || json.Unmarshal([]byte(b), &flow) != nil {
				t.Fatalf("login flow: %d %s", st, b)
			}
			submit := fmt.Sprintf(`{"method":"password","identifier":%q,"password":%q}`, email, password)
			st, h, b := send(t, http.MethodPost, tg.public+"/self-service/login?flow="+flow.ID, submit)
			want := `{"error":{"code":401,"status":"Unauthorized","reason":"This account was disabled.","details":{"identity_id":"` + id + `"},"message":"identity is disabled"}}` + "\n"
			if st != http.StatusUnauthorized || b != want || h.Get("Content-Type") != "application/json" {
				t.Errorf("right password: %d %s %q\nwant 401 application/json %q", st, h.Get("Content-Type"), b, want)
			}
			if got := tg.storedHash(t, id); !strings.HasPrefix(got, fmt.Sprintf("$2a$%02d$", realBcryptCost)) {
				t.Errorf("hash after the 401 %.7q..., want the bcrypt rehash", got)
			}
			if st, _, b := send(t, http.MethodPatch, tg.admin+"/admin/identities/"+id, `[{"op":"replace","path":"/state","value":"active"}]`); st != http.StatusOK {
				t.Fatalf("activate: %d %s", st, b)
			}
			if st, _, b := send(t, http.MethodPost, tg.public+"/self-service/login?flow="+flow.ID, submit); st != http.StatusOK {
				t.Errorf("the same flow after activation: %d %.300s", st, b)
			}
		})
	}
}

// TestEmailFormats: what the email format of Kratos v26.2.0's schema
// validation accepts and refuses, and the address it derives from an
// accepted one (trimmed, lower-cased; the trait itself is kept as sent).
func TestEmailFormats(t *testing.T) {
	cases := []struct {
		email   string
		address string // "" when refused
	}{
		{`"quoted"@example.org`, `"quoted"@example.org`},
		{`"Quoted Local"@example.org`, `"quoted local"@example.org`},
		{`"a\"b"@example.org`, `"a\"b"@example.org`},
		{`"x@y"@example.org`, `"x@y"@example.org`},
		{`""@example.org`, ""},
		{" lead@example.org", "lead@example.org"},
		{"\t tab@example.org", "tab@example.org"},
		{"trail@example.org ", ""},
		{"  both@example.org  ", ""},
		{"a b@example.org", ""},
		{"A@Example.ORG", "a@example.org"},
		{"x@localhost", "x@localhost"},
		{"x@123", "x@123"},
		{"x@e", "x@e"},
		{"x@[127.0.0.1]", ""},
		{"x@-bad.org", ""},
		{"x@a.-b.org", "x@a.-b.org"},
		{"x@a.b-.org", ""},
		{"x@a..b.org", ""},
		{"x@A-B.org", "x@a-b.org"},
		{"x@" + strings.Repeat("b", 63) + ".org", "x@" + strings.Repeat("b", 63) + ".org"},
		{"x@" + strings.Repeat("b", 64) + ".org", ""},
		{"x@exa_mple.org", ""},
		{"user+tag@example.org", "user+tag@example.org"},
		{"John <j@example.org>", ""},
		{"<j@example.org>", ""},
		{"x@example.org.", ""},
		{".x@example.org", ""},
		{"x.@example.org", ""},
		{"x..y@example.org", ""},
		{"x@ex ample.org", ""},
		{"jörg@example.org", "jörg@example.org"},
		{"x@bücher.de", ""},
		{"(comment)x@example.org", ""},
		{"x(comment)@example.org", ""},
		{"x@example.org\n", ""},
	}
	for _, tg := range loginTargets(t) {
		for _, c := range cases {
			t.Run(tg.name+"/"+c.email, func(t *testing.T) {
				// A unique domain label keeps runs apart on a real server.
				label := fmt.Sprintf("u%d.", time.Now().UnixNano())
				email, address := c.email, c.address
				if !strings.HasSuffix(email, "@localhost") && !strings.HasSuffix(email, "@123") && !strings.HasSuffix(email, "@e") && !strings.Contains(email, "@-") {
					email = afterLastAt(email, label)
					address = afterLastAt(address, label)
				} // else the same address on every run: a 409 the second time
				body, _ := json.Marshal(map[string]any{"schema_id": "default", "traits": map[string]string{"email": email}})
				st, _, b := send(t, http.MethodPost, tg.admin+"/admin/identities", string(body))
				var out struct {
					ID     string
					Traits struct{ Email string }
					VA     []struct{ Value string } `json:"verifiable_addresses"`
					Error  struct{ Reason string }
				}
				_ = json.Unmarshal([]byte(b), &out)
				if c.address == "" {
					want := fmt.Sprintf("I[#/traits/email] S[#/properties/traits/properties/email/format] %q is not valid \"email\"", email)
					if st != http.StatusBadRequest || !strings.Contains(out.Error.Reason, want) {
						t.Errorf("%q: %d %.300s, want 400 with %s", email, st, b, want)
					}
					return
				}
				if st == http.StatusConflict && address == c.address {
					return // a fixed address already there from an earlier run
				}
				if st != http.StatusCreated {
					t.Fatalf("%q: %d %.300s, want 201", email, st, b)
				}
				defer tg.deleteIdentity(t, out.ID)
				if out.Traits.Email != email || len(out.VA) != 1 || out.VA[0].Value != address {
					t.Errorf("%q: trait %q, addresses %+v; want the trait as sent and the address %q", email, out.Traits.Email, out.VA, address)
				}
				if st, b := tg.login(t, address, password); st != http.StatusBadRequest {
					t.Errorf("login of an identity without a password: %d %.200s", st, b)
				}
			})
		}
	}
}

// afterLastAt inserts s after the last @ of email ("" stays "").
func afterLastAt(email, s string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return email
	}
	return email[:at+1] + s + email[at+1:]
}
