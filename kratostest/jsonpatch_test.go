package kratostest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kratosadmin/sdk/kratostest"
)

// TestPatchCornerCasesAnswerAsKratos pins JSON Patch paths at the edges of
// json-patch (no leading slash, "-", padding with nulls, "" tokens, a null
// or scalar document) to what Kratos v26.2.0 answered for each, on
// ../shared/kratos: a 400 with the library's message, or a 200 with the
// metadata_public it stored. None may break the connection (a replace at
// "5" or "-" once panicked the handler).
func TestPatchCornerCasesAnswerAsKratos(t *testing.T) {
	const applyFailed = "An error occured when applying the JSON patch"
	cases := []struct {
		patch   string
		message string // the 400's message; "" for a 200
		public  string // metadata_public after a 200
	}{
		{`[{"op":"replace","path":"5","value":1}]`, `replace operation does not apply: doc is missing path: 5: missing value`, ""},
		{`[{"op":"replace","path":"-","value":1}]`, `replace operation does not apply: doc is missing path: -: missing value`, ""},
		{`[{"op":"replace","path":"0","value":1}]`, `replace operation does not apply: doc is missing path: 0: missing value`, ""},
		{`[{"op":"add","path":"5","value":1}]`, `add operation does not apply: doc is missing path: "5": missing value`, ""},
		{`[{"op":"remove","path":"-"}]`, `remove operation does not apply: doc is missing path: "-": missing value`, ""},
		{`[{"op":"remove","path":""}]`, `error in remove for path: '': unable to remove nonexistent key: : missing value`, ""},
		{`[{"op":"replace","path":"x","value":1}]`, `add operation does not apply: doc is missing path: "x": missing value`, ""},
		{`[{"op":"replace","path":"","value":"s"}]`, `json: cannot unmarshal string into Go value of type map[string]*jsonpatch.lazyNode`, ""},
		{`[{"op":"replace","path":"","value":true}]`, `json: cannot unmarshal bool into Go value of type map[string]*jsonpatch.lazyNode`, ""},
		{`[{"op":"replace","path":"","value":[1]}]`, `json: cannot unmarshal array into Go value of type identity.WithCredentialsAndAdminMetadataInJSON`, ""},
		{`[{"op":"replace","path":"","value":null}]`, `json: error calling MarshalJSON for type *jsonpatch.partialDoc: invalid value, expected object`, ""},
		{`[{"op":"add","path":"","value":null},{"op":"add","path":"/x","value":1}]`, `error in add for path: '/x': invalid value, expected object`, ""},
		{`[{"op":"replace","path":"/verifiable_addresses/-","value":1}]`, `replace operation does not apply: doc is missing key: /verifiable_addresses/-: missing value`, ""},
		{`[{"op":"remove","path":"/verifiable_addresses/-"}]`, `error in remove for path: '/verifiable_addresses/-': strconv.Atoi: parsing "-": invalid syntax`, ""},
		{`[{"op":"add","path":"/verifiable_addresses/99","value":{}}]`, `error in add for path: '/verifiable_addresses/99': Unable to access invalid index: 99: invalid index referenced`, ""},
		{`[{"op":"add","path":"/metadata_public/a/-/b","value":1}]`, `add operation does not apply: doc is missing path: "/metadata_public/a/-/b": missing value`, ""},
		{`[{"op":"add","path":"/metadata_public/a/-2/b","value":1}]`, `Unable to ensure path for negative index other than -1: -2: invalid index referenced`, ""},
		{`[{"op":"add","path":"/traits/email/0","value":1}]`, `invalid state detected`, ""},
		{`[{"op":"add","path":"/metadata_public","value":{"a":true}},{"op":"add","path":"/metadata_public/a/x","value":1}]`, `invalid state detected`, ""},
		{`[{"op":"add","path":"/metadata_public","value":{"a":[]}},{"op":"add","path":"/metadata_public/a/x/y","value":1}]`, `add operation does not apply: doc is missing path: "/metadata_public/a/x/y": missing value`, ""},
		{`[{"op":"add","path":"/metadata_public","value":{"a":1}},{"op":"add","path":"/metadata_public//x","value":1}]`, `add operation does not apply: doc is missing path: "/metadata_public//x": missing value`, ""},
		{`[{"op":"add","path":"/metadata_public","value":[1]},{"op":"add","path":"/metadata_public/-5/x","value":1}]`, `add operation does not apply: doc is missing path: "/metadata_public/-5/x": missing value`, ""},
		{`[{"op":"add","path":"/metadata_public/a/1/b","value":1}]`, "", `{"a":[null,{"b":1}]}`},
		{`[{"op":"add","path":"/metadata_public/a/3","value":1}]`, "", `{"a":[null,null,null,1]}`},
		{`[{"op":"add","path":"/metadata_public/a/-1/b","value":1}]`, "", `{"a":[{"b":1}]}`},
		{`[{"op":"add","path":"/metadata_public","value":[1]},{"op":"add","path":"/metadata_public/5/x","value":1}]`, "", `[1,null,null,null,null,{"x":1}]`},
		{`[{"op":"add","path":"/metadata_public","value":[null]},{"op":"add","path":"/metadata_public/0/x","value":1}]`, "", `[{"x":1},null]`},
		{`[{"op":"add","path":"/metadata_public","value":{"a":null}},{"op":"add","path":"/metadata_public/a/x","value":1}]`, "", `{"a":{"x":1}}`},
		{`[{"op":"add","path":"/metadata_public","value":[1,2]},{"op":"replace","path":"/metadata_public/-1","value":3}]`, "", `[1,3]`},
		{`[{"op":"add","path":"//x","value":1}]`, "", `null`},
		{`[{"op":"replace","path":"/","value":1}]`, "", `null`},
	}
	srv := kratostest.NewServer(t)
	c := srv.Client()
	id := mustCreate(t, c, "corners@example.org").ID
	for _, tc := range cases {
		status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, tc.patch)
		if tc.message != "" {
			var e struct {
				Error struct{ Reason, Message string }
			}
			_ = json.Unmarshal([]byte(body), &e)
			if status != http.StatusBadRequest || e.Error.Reason != applyFailed || e.Error.Message != tc.message {
				t.Errorf("%s: %d %s\nwant 400 with message %s", tc.patch, status, strings.TrimSpace(body), tc.message)
			}
			continue
		}
		var got struct {
			MetadataPublic json.RawMessage `json:"metadata_public"`
		}
		if err := json.Unmarshal([]byte(body), &got); status != http.StatusOK || err != nil || string(got.MetadataPublic) != tc.public {
			t.Errorf("%s: %d %s\nwant 200 with metadata_public %s", tc.patch, status, strings.TrimSpace(body), tc.public)
		}
		// Back to the start for the next case.
		if status, _, body := send(t, http.MethodPatch, srv.URL+"/admin/identities/"+id, `[{"op":"replace","path":"/metadata_public","value":null}]`); status != http.StatusOK {
			t.Fatalf("reset metadata_public: %d %s", status, body)
		}
	}
}
