package kratostest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/client"
	"github.com/kratosadmin/sdk/kratostest"
)

// Recovery codes and links.

func TestRecoveryLifetimeNotInTheFuture(t *testing.T) {
	srv := kratostest.NewServer(t)
	id := createRaw(t, srv, `{"schema_id":"default","traits":{"email":"r@example.org"}}`)
	for _, tc := range []struct{ endpoint, in, want string }{
		{"code", "-90m", `must result to a future time: -1h30m0s`},
		{"code", "0", `must result to a future time: 0s`},
		{"link", "-90m", `must be result to a future time: -90m`},
	} {
		st, _, got := send(t, http.MethodPost, srv.URL+"/admin/recovery/"+tc.endpoint, `{"identity_id":"`+id+`","expires_in":"`+tc.in+`"}`)
		if st != 400 || !strings.Contains(got, tc.want) {
			t.Errorf("%s %s: %d %s", tc.endpoint, tc.in, st, got)
		}
	}
}

func TestRecoveryRules(t *testing.T) {
	noRecovery := `{"type":"object","properties":{"traits":{"type":"object","properties":{"username":{"type":"string","ory.sh/kratos":{"credentials":{"password":{"identifier":true}}}}}}}}`
	srv := kratostest.NewServer(t,
		kratostest.WithIdentitySchema("plain", []byte(noRecovery)),
		kratostest.WithIdentitySchema("default", kratostest.DefaultIdentitySchema()),
		kratostest.WithAllowedReturnURLs("https://app.example.org/"),
		kratostest.WithRecoveryUIURL("https://app.example.org/recovery"),
	)
	c := srv.Client()
	ctx := t.Context()
	withEmail := mustCreate(t, c, "rec@example.org")
	plain, err := c.Identities.Create(ctx, &client.CreateIdentityBody{SchemaID: "plain", Traits: json.RawMessage(`{"username":"u"}`)})
	if err != nil {
		t.Fatal(err)
	}
	code, err := c.Recovery.CreateCode(ctx, &client.CreateRecoveryCodeForIdentityBody{IdentityID: plain.ID, FlowType: client.RecoveryFlowTypeAPI})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(code.RecoveryLink, "https://app.example.org/recovery?flow=") {
		t.Errorf("link %q", code.RecoveryLink)
	}
	_, err = c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: plain.ID}, nil)
	e := apiError(t, err, 400, "")
	if e.Reason != "The identity does not have any recovery addresses set." {
		t.Errorf("reason %q", e.Reason)
	}
	for rt, ok := range map[string]bool{
		"https://app.example.org/done":   true,
		srv.PublicURL + "/anywhere":      true,
		"https://evil.example.org/phish": false,
	} {
		_, err := c.Recovery.CreateLink(ctx, &client.CreateRecoveryLinkForIdentityBody{IdentityID: withEmail.ID}, &client.CreateRecoveryLinkForIdentityParams{ReturnTo: rt})
		if ok != (err == nil) {
			t.Errorf("return_to %s: %v", rt, err)
		}
	}
	status, _, body := send(t, http.MethodPost, srv.URL+"/admin/recovery/link", `{"identity_id":"`+withEmail.ID+`","expires_in":"1h30m"}`)
	if status != 200 {
		t.Errorf("compound expires_in on the link (outside the spec, accepted by Kratos): %d %s", status, body)
	}
}
