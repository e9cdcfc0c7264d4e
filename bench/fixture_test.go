package bench

import (
	"fmt"
	"strconv"
	"time"
)

// The fixtures follow the recorded Kratos answers in ../testdata/exchanges
// (016 getIdentity, 027/028 listIdentities, 001 createIdentity, 066
// getSession): compact JSON, Kratos's field order, traits with an email and
// a name, one verifiable and one recovery address, public and admin
// metadata, credentials (without config) only on single-identity reads.

const (
	benchToken  = "ory_pat_bench0123456789abcdefghijklmnopqrstuvwxyz"
	schemaURL   = "http://127.0.0.1:4433/schemas/ZGVmYXVsdA"
	pageSize    = 250
	walkTotal   = 10_000
	firstCursor = "00000000-0000-0000-0000-000000000000"
)

// getIdentityID, createdIdentityID and sessionID name the single objects.
var (
	getIdentityID     = uuidFor(0x1d, 7)
	createdIdentityID = uuidFor(0x1d, 8)
	sessionID         = uuidFor(0x5e, 1)
)

// uuidFor returns a version-4-shaped UUID that sorts by (kind, n), as
// Kratos's keyset pagination orders identities by id.
func uuidFor(kind, n int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", kind<<24|n>>8, n&0xffff, n%0xfff, (n*7)%0xfff, n*2654435761%(1<<48))
}

// indexOf inverts uuidFor(1, n).
func indexOf(id string) (int, bool) {
	var hi, lo int
	if len(id) != 36 {
		return 0, false
	}
	if _, err := fmt.Sscanf(id[:13], "%08x-%04x", &hi, &lo); err != nil {
		return 0, false
	}
	n := (hi&0xffffff)<<8 | lo&0xff
	return n, uuidFor(1, n) == id
}

var baseTime = time.Date(2026, 11, 27, 5, 51, 44, 251886000, time.UTC)

func ts(i int, offset time.Duration) string {
	return baseTime.Add(time.Duration(i)*time.Second + offset).Format(time.RFC3339Nano)
}

var firstNames = []string{"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi"}
var lastNames = []string{"Liddell", "Builder", "Danvers", "Lister", "Brockovich", "Castle", "Hopper", "Klum"}

// appendIdentity appends identity n (id uuidFor(1, n) unless id is set) as
// Kratos encodes it. withCredentials adds the credentials object a single
// read returns; withAdmin adds metadata_admin, which session embeds lack.
func appendIdentity(b []byte, id string, n int, withCredentials, withAdmin bool) []byte {
	if id == "" {
		id = uuidFor(1, n)
	}
	email := "user" + strconv.Itoa(n) + "@example.org"
	first, last := firstNames[n%len(firstNames)], lastNames[(n/len(firstNames))%len(lastNames)]
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","external_id":"ext-`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, '"')
	if withCredentials {
		b = fmt.Appendf(b, `,"credentials":{"code":{"type":"code","identifiers":[%q],"version":1,"created_at":%q,"updated_at":%q},"password":{"type":"password","identifiers":[%q],"version":0,"created_at":%q,"updated_at":%q}}`,
			email, ts(n, 2*time.Millisecond), ts(n, 2*time.Millisecond), email, ts(n, 3*time.Millisecond), ts(n, 3*time.Millisecond))
	}
	state := "active"
	if n%10 == 9 {
		state = "inactive"
	}
	b = fmt.Appendf(b, `,"schema_id":"default","schema_url":%q,"state":%q,"state_changed_at":%q`, schemaURL, state, ts(n, -635*time.Microsecond))
	b = fmt.Appendf(b, `,"traits":{"email":%q,"name":{"first":%q,"last":%q}}`, email, first, last)
	verified := ""
	status := "pending"
	if n%2 == 0 {
		verified = fmt.Sprintf(`,"verified_at":%q`, ts(n, time.Hour))
		status = "completed"
	}
	b = fmt.Appendf(b, `,"verifiable_addresses":[{"id":%q,"value":%q,"verified":%t,"via":"email","status":%q%s,"created_at":%q,"updated_at":%q}]`,
		uuidFor(0xa1, n), email, n%2 == 0, status, verified, ts(n, time.Millisecond), ts(n, time.Millisecond))
	b = fmt.Appendf(b, `,"recovery_addresses":[{"id":%q,"value":%q,"via":"email","created_at":%q,"updated_at":%q}]`,
		uuidFor(0xa2, n), email, ts(n, 2*time.Millisecond), ts(n, 2*time.Millisecond))
	b = fmt.Appendf(b, `,"metadata_public":{"plan":"pro","tier":"gold","locale":"en-GB"}`)
	if withAdmin {
		b = fmt.Appendf(b, `,"metadata_admin":{"crm_id":%d,"segment":"enterprise","flags":["beta","sso"]}`, 4711+n)
	}
	b = fmt.Appendf(b, `,"created_at":%q,"updated_at":%q,"organization_id":null}`, ts(n, 0), ts(n, 0))
	return b
}

// identityPage is page p (from 0) of a list of total identities, and the
// token of the page after it ("" on the last page).
func identityPage(b []byte, p, total int) ([]byte, string) {
	start, end := p*pageSize, min((p+1)*pageSize, total)
	b = append(b, '[')
	for n := start; n < end; n++ {
		if n > start {
			b = append(b, ',')
		}
		b = appendIdentity(b, "", n, false, true)
	}
	b = append(b, ']')
	if end >= total {
		return b, ""
	}
	return b, uuidFor(1, end-1) // Kratos's next token: the last id served
}

// linkHeader is Kratos's Link header for a page whose next token is next.
func linkHeader(prefix, next string) string {
	first := "<" + prefix + "/admin/identities?page_size=" + strconv.Itoa(pageSize) + "&page_token=" + firstCursor + `>; rel="first"`
	if next == "" {
		return first
	}
	return first + ",<" + prefix + "/admin/identities?page_size=" + strconv.Itoa(pageSize) + "&page_token=" + next + `>; rel="next"`
}

// sessionJSON is a session with the identity and devices expanded (066).
func sessionJSON() []byte {
	b := fmt.Appendf(nil, `{"id":%q,"active":true,"expires_at":%q,"authenticated_at":%q,"authenticator_assurance_level":"aal2","authentication_methods":[{"method":"password","aal":"aal1","completed_at":%q},{"method":"totp","aal":"aal2","completed_at":%q}],"issued_at":%q,"identity":`,
		sessionID, ts(0, 24*time.Hour), ts(0, time.Minute), ts(0, 59*time.Second), ts(0, time.Minute), ts(0, time.Minute))
	b = appendIdentity(b, getIdentityID, 7, false, false)
	b = fmt.Appendf(b, `,"devices":[{"id":%q,"ip_address":"203.0.113.7:37272","user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0","location":"Berlin, DE"},{"id":%q,"ip_address":"198.51.100.23","user_agent":"kratos-live-recorder/1.0","location":""}]}`,
		uuidFor(0xde, 1), uuidFor(0xde, 2))
	return b
}

// createBody is the identity created by the create case (as in 001).
const (
	createEmail    = "alice@example.org"
	createTraits   = `{"email":"alice@example.org","name":{"first":"Alice","last":"Liddell"}}`
	createPassword = "alice-secret-password-123"
)
