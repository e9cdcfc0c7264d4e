package interop

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	ory "github.com/ory/client-go"
	"golang.org/x/crypto/pbkdf2"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

var update = flag.Bool("update", false, "rewrite testdata/transcript.txt from the real server (KRATOS_ADMIN_URL, KRATOS_PUBLIC_URL)")

const golden = "testdata/transcript.txt"

// fakeFor returns the fake configured as ../shared/kratos is: bcrypt cost
// 8, the recovery UI at http://127.0.0.1:4455/recovery, password, code
// and oidc enabled.
func fakeFor(t *testing.T) *kratostest.Server {
	return kratostest.NewServer(t,
		kratostest.WithBcryptCost(8),
		kratostest.WithRecoveryUIURL("http://127.0.0.1:4455/recovery"),
		kratostest.WithAllowedReturnURLs("http://127.0.0.1:4455"),
		kratostest.WithEnabledMethods(client.CredentialsTypePassword, client.CredentialsTypeCode, client.CredentialsTypeOIDC))
}

// TestClientGo runs the scenario with github.com/ory/client-go against the
// fake and compares its transcript with the one a real Kratos v26.2.0
// gave (testdata/transcript.txt); with KRATOS_ADMIN_URL and
// KRATOS_PUBLIC_URL set it runs against that server too and compares
// live. -update rewrites the golden transcript from the real server.
func TestClientGo(t *testing.T) {
	srv := fakeFor(t)
	fake := scenario(t, srv.URL, srv.PublicURL)
	admin, public := os.Getenv("KRATOS_ADMIN_URL"), os.Getenv("KRATOS_PUBLIC_URL")
	var want []string
	if admin != "" && public != "" {
		want = scenario(t, admin, public)
		if *update {
			if err := os.WriteFile(golden, []byte(strings.Join(want, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		b, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		want = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	compareTranscripts(t, "fake (client-go)", fake, want)
}

func compareTranscripts(t *testing.T, name string, got, want []string) {
	t.Helper()
	for k := range max(len(got), len(want)) {
		var g, w string
		if k < len(got) {
			g = got[k]
		}
		if k < len(want) {
			w = want[k]
		}
		if g != w {
			t.Errorf("%s step %d:\n got  %s\n want %s", name, k+1, g, w)
		}
	}
}

// transcript collects one line per step: the step, the status, and what
// the SDK decoded (or the error body's code, id, reason, message).
type transcript struct {
	t     *testing.T
	lines []string
	run   string
}

func (tr *transcript) add(step string, resp *http.Response, err error, summary string) {
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	line := fmt.Sprintf("%s | %d | ", step, status)
	var oerr *ory.GenericOpenAPIError
	switch {
	case errors.As(err, &oerr) && status >= 400:
		var body struct {
			Error struct {
				Code    int               `json:"code"`
				ID      string            `json:"id"`
				Reason  string            `json:"reason"`
				Message string            `json:"message"`
				Details map[string]string `json:"details"`
			} `json:"error"`
			UI struct {
				Messages []struct{ ID int } `json:"messages"`
			} `json:"ui"`
		}
		_ = json.Unmarshal(oerr.Body(), &body)
		e := body.Error
		reason, _, _ := strings.Cut(e.Reason, "\n")
		line += fmt.Sprintf("error code=%d id=%q reason=%q message=%q details=%v", e.Code, e.ID, reason, e.Message, slices.Sorted(mapKeys(e.Details)))
		for _, m := range body.UI.Messages {
			line += fmt.Sprintf(" ui=%d", m.ID)
		}
	case err != nil:
		line += "sdk error: " + err.Error()
	default:
		line += summary
	}
	tr.lines = append(tr.lines, strings.ReplaceAll(line, tr.run, "RUN"))
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func identitySummary(i *ory.Identity) string {
	if i == nil {
		return "nil"
	}
	traits, _ := json.Marshal(i.GetTraits())
	creds := slices.Sorted(func(yield func(string) bool) {
		for k := range i.GetCredentials() {
			if !yield(k) {
				return
			}
		}
	})
	var addrs []string
	for _, a := range i.GetVerifiableAddresses() {
		addrs = append(addrs, fmt.Sprintf("%s/%s/%v", a.Value, a.Status, a.Verified))
	}
	s := fmt.Sprintf("state=%s schema=%s traits=%s credentials=%v addresses=%v", i.GetState(), i.GetSchemaId(), traits, creds, addrs)
	if p, ok := i.GetCredentials()["password"]; ok && p.Config != nil {
		if h, _ := p.Config["hashed_password"].(string); h != "" {
			s += " hash=" + h[:min(7, len(h))]
		}
	}
	return s
}

func body[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

const pw = "correct-horse-battery-staple-42"

// Hashes of pw in two imported formats.
func pbkdf2Hash() string {
	salt := []byte("interop-salt")
	return fmt.Sprintf("$pbkdf2-sha256$i=1000,l=32$%s$%s", base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(pbkdf2.Key([]byte(pw), salt, 1000, 32, sha256.New)))
}

func sshaHash() string {
	salt := []byte("saltsalt")
	d := sha1.Sum(append([]byte(pw), salt...))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(d[:], salt...))
}

// scenario runs the same steps as node/scenario.mjs and returns the
// transcript. It deletes what it creates.
func scenario(t *testing.T, adminURL, publicURL string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	newAPI := func(u string) *ory.APIClient {
		cfg := ory.NewConfiguration()
		cfg.Servers = ory.ServerConfigurations{{URL: u}}
		return ory.NewAPIClient(cfg)
	}
	adm, pub := newAPI(adminURL).IdentityAPI, newAPI(publicURL).FrontendAPI
	tr := &transcript{t: t, run: fmt.Sprintf("r%d", time.Now().UnixNano())}
	email := func(name string) string { return name + "-" + tr.run + "@example.org" }
	var ids []string
	defer func() {
		for _, id := range ids {
			_, _ = adm.DeleteIdentity(context.Background(), id).Execute()
		}
	}()
	create := func(step, b string) *ory.Identity {
		i, resp, err := adm.CreateIdentity(ctx).CreateIdentityBody(body[ory.CreateIdentityBody](t, b)).Execute()
		tr.add(step, resp, err, identitySummary(i))
		if i != nil {
			ids = append(ids, i.Id)
		}
		return i
	}
	withPw := fmt.Sprintf(`"credentials":{"password":{"config":{"password":%q}}}`, pw)
	a := create("create a", fmt.Sprintf(`{"schema_id":"default","external_id":"ext-%s","traits":{"email":%q},"metadata_public":{"plan":"free"},%s}`, tr.run, email("a"), withPw))
	create("create a again", fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q}}`, email("a")))
	create("create invalid email", `{"schema_id":"default","traits":{"email":"not-an-email"}}`)
	b := create("create b pbkdf2", fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q},"credentials":{"password":{"config":{"hashed_password":%q}}}}`, email("b"), pbkdf2Hash()))
	c := create("create c inactive ssha", fmt.Sprintf(`{"schema_id":"default","state":"inactive","traits":{"email":%q},"credentials":{"password":{"config":{"hashed_password":%q}}}}`, email("c"), sshaHash()))
	d := create("create d quoted", fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q},%s}`, `"d `+tr.run+`"@example.org`, withPw))
	create("create e leading space", fmt.Sprintf(`{"schema_id":"default","traits":{"email":%q}}`, " "+email("e")))
	if a == nil || b == nil || c == nil || d == nil {
		t.Fatalf("creates failed:\n%s", strings.Join(tr.lines, "\n"))
	}

	i, resp, err := adm.GetIdentity(ctx, a.Id).IncludeCredential([]string{"password"}).Execute()
	tr.add("get a with password", resp, err, identitySummary(i))
	list, resp, err := adm.ListIdentities(ctx).CredentialsIdentifier(email("a")).Execute()
	tr.add("list by identifier", resp, err, fmt.Sprintf("n=%d", len(list)))
	list, resp, err = adm.ListIdentities(ctx).Ids([]string{a.Id, b.Id}).Execute()
	tr.add("list by ids", resp, err, fmt.Sprintf("n=%d", len(list)))
	i, resp, err = adm.GetIdentityByExternalID(ctx, "ext-"+tr.run).Execute()
	tr.add("get by external id", resp, err, identitySummary(i))
	_, resp, err = adm.GetIdentityByExternalID(ctx, "none-"+tr.run).Execute()
	tr.add("get by unknown external id", resp, err, "")
	i, resp, err = adm.PatchIdentity(ctx, a.Id).JsonPatch([]ory.JsonPatch{*ory.NewJsonPatch("replace", "/metadata_public")}).Execute()
	tr.add("patch replace without value", resp, err, identitySummary(i))
	jp := ory.NewJsonPatch("replace", "/metadata_public")
	jp.Value = map[string]any{"plan": "pro"}
	i, resp, err = adm.PatchIdentity(ctx, a.Id).JsonPatch([]ory.JsonPatch{*jp}).Execute()
	tr.add("patch metadata", resp, err, identitySummary(i)+fmt.Sprintf(" metadata=%v", i.GetMetadataPublic()))
	i, resp, err = adm.UpdateIdentity(ctx, d.Id).UpdateIdentityBody(body[ory.UpdateIdentityBody](t, fmt.Sprintf(`{"schema_id":"default","state":"active","traits":{"email":%q}}`, `"D `+tr.run+`"@example.org`))).Execute()
	tr.add("update d", resp, err, identitySummary(i))
	batch, resp, err := adm.BatchPatchIdentities(ctx).PatchIdentitiesBody(body[ory.PatchIdentitiesBody](t, fmt.Sprintf(
		`{"identities":[{"create":{"schema_id":"default","traits":{"email":%q}}},{"create":{"schema_id":"default","traits":{"email":%q}}}]}`, email("f"), email("a")))).Execute()
	var actions []string
	for _, r := range batch.GetIdentities() {
		actions = append(actions, r.GetAction())
		if r.Identity != nil {
			ids = append(ids, r.GetIdentity())
		}
	}
	tr.add("batch new and duplicate", resp, err, fmt.Sprintf("actions=%v", actions))

	login := func(step, identifier, password string) *ory.SuccessfulNativeLogin {
		flow, resp, err := pub.CreateNativeLoginFlow(ctx).Execute()
		if err != nil {
			tr.add(step+" (flow)", resp, err, "")
			return nil
		}
		m := ory.NewUpdateLoginFlowWithPasswordMethod(identifier, "password", password)
		s, resp, err := pub.UpdateLoginFlow(ctx).Flow(flow.Id).UpdateLoginFlowBody(ory.UpdateLoginFlowWithPasswordMethodAsUpdateLoginFlowBody(m)).Execute()
		sum := ""
		if s != nil {
			sess := s.Session
			sum = fmt.Sprintf("token=%v active=%v aal=%s methods=%d identity=%s", s.SessionToken != nil, sess.GetActive(), sess.GetAuthenticatorAssuranceLevel(), len(sess.AuthenticationMethods), identitySummary(sess.Identity))
		}
		tr.add(step, resp, err, sum)
		return s
	}
	sa := login("login a", email("a"), pw)
	login("login a wrong password", email("a"), "wrong-"+pw)
	login("login b pbkdf2", email("b"), pw)
	i, resp, err = adm.GetIdentity(ctx, b.Id).IncludeCredential([]string{"password"}).Execute()
	tr.add("get b after login", resp, err, identitySummary(i))
	login("login c inactive", email("c"), pw)
	i, resp, err = adm.GetIdentity(ctx, c.Id).IncludeCredential([]string{"password"}).Execute()
	tr.add("get c after login", resp, err, identitySummary(i))
	login("login d quoted", `"d `+tr.run+`"@example.org`, pw)
	login("login unknown", email("nobody"), pw)

	if sa != nil {
		sid := sa.Session.Id
		sessions, resp, err := adm.ListIdentitySessions(ctx, a.Id).Execute()
		tr.add("list a's sessions", resp, err, fmt.Sprintf("n=%d", len(sessions)))
		s, resp, err := adm.GetSession(ctx, sid).Expand([]string{"identity"}).Execute()
		tr.add("get session", resp, err, fmt.Sprintf("active=%v identity=%v", s.GetActive(), s.Identity != nil))
		s, resp, err = adm.ExtendSession(ctx, sid).Execute()
		tr.add("extend session", resp, err, fmt.Sprintf("active=%v", s.GetActive()))
		all, resp, err := adm.ListSessions(ctx).Active(true).Expand([]string{"identity"}).Execute()
		found := false
		for _, x := range all {
			found = found || x.Id == sid && x.Identity != nil
		}
		tr.add("list active sessions", resp, err, fmt.Sprintf("has a's with identity=%v", found))
		resp, err = adm.DisableSession(ctx, sid).Execute()
		tr.add("disable session", resp, err, "")
		s, resp, err = adm.GetSession(ctx, sid).Execute()
		tr.add("get disabled session", resp, err, fmt.Sprintf("active=%v", s.GetActive()))
		resp, err = adm.DeleteIdentitySessions(ctx, a.Id).Execute()
		tr.add("delete a's sessions", resp, err, "")
	}

	code, resp, err := adm.CreateRecoveryCodeForIdentity(ctx).CreateRecoveryCodeForIdentityBody(*ory.NewCreateRecoveryCodeForIdentityBody(a.Id)).Execute()
	if code != nil {
		link, _, _ := strings.Cut(code.RecoveryLink, "?")
		tr.add("recovery code", resp, err, fmt.Sprintf("link=%s code=%d digits", link, len(code.RecoveryCode)))
	} else {
		tr.add("recovery code", resp, err, "")
	}
	rl, resp, err := adm.CreateRecoveryLinkForIdentity(ctx).CreateRecoveryLinkForIdentityBody(*ory.NewCreateRecoveryLinkForIdentityBody(a.Id)).Execute()
	if rl != nil {
		u, _, _ := strings.Cut(strings.TrimPrefix(rl.RecoveryLink, publicURL), "?")
		tr.add("recovery link", resp, err, "link=PUBLIC"+u)
	} else {
		tr.add("recovery link", resp, err, "")
	}
	_, resp, err = adm.CreateRecoveryLinkForIdentity(ctx).ReturnTo("https://evil.example/").CreateRecoveryLinkForIdentityBody(*ory.NewCreateRecoveryLinkForIdentityBody(a.Id)).Execute()
	tr.add("recovery link bad return_to", resp, err, "")

	schemas, resp, err := adm.ListIdentitySchemas(ctx).Execute()
	var sids []string
	for _, s := range schemas {
		sids = append(sids, s.Id)
	}
	tr.add("list schemas", resp, err, fmt.Sprintf("ids=%v", sids))
	sc, resp, err := adm.GetIdentitySchema(ctx, "default").Execute()
	tr.add("get schema", resp, err, fmt.Sprintf("keys=%d", len(sc)))
	_, resp, err = adm.GetIdentitySchema(ctx, "nope").Execute()
	tr.add("get unknown schema", resp, err, "")

	resp, err = adm.DeleteIdentityCredentials(ctx, a.Id, "password").Execute()
	tr.add("delete a's password", resp, err, "")
	resp, err = adm.DeleteIdentityCredentials(ctx, a.Id, "totp").Execute()
	tr.add("delete a's missing totp", resp, err, "")
	resp, err = adm.DeleteIdentity(ctx, a.Id).Execute()
	tr.add("delete a", resp, err, "")
	_, resp, err = adm.GetIdentity(ctx, a.Id).Execute()
	tr.add("get deleted a", resp, err, "")
	return tr.lines
}
