package client

// The generated codecs (gen/codecs.gen.go on internal/jsonwire) against
// encoding/json: the same bytes must give the same outcome and the same
// values, and a decoded value must encode to the same bytes.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/kratosadmin/sdk/gen"
	"github.com/kratosadmin/sdk/internal/exchange"
	"github.com/kratosadmin/sdk/internal/jsonwire"
)

// codecTargets are the types the client decodes and encodes, each as a
// constructor of a fresh pointer.
var codecTargets = []func() any{
	func() any { return new(Identity) },
	func() any { return new([]Identity) },
	func() any { return new(Session) },
	func() any { return new([]Session) },
	func() any { return new(gen.BatchPatchIdentitiesResponse) },
	func() any { return new([]gen.IdentitySchemaContainer) },
	func() any { return new(RecoveryCodeForIdentity) },
	func() any { return new(RecoveryLinkForIdentity) },
	func() any { return new(gen.ErrorGeneric) },
	func() any { return new(CreateIdentityBody) },
	func() any { return new(gen.PatchIdentitiesBody) },
	func() any { return new(UpdateIdentityBody) },
}

// codecSeeds are bodies that reach the corners of the fast path: each is
// either taken there or handed to encoding/json.
var codecSeeds = []string{
	`{"id":"9fce9890-b047-44b5-8b6d-dfeffddfaf02","traits":{"email":"a@example.org"},"metadata_public":null,"organization_id":null,"state_changed_at":"2026-11-27T05:51:43.251251Z"}`,
	`{"id":"a","ID":"b"}`,        // a case-folded duplicate: encoding/json's rules
	`{"Id":"a","SCHEMA_ID":"x"}`, // case-insensitive matching
	`{"id":"a","id":"b"}`,        // a duplicate key
	`{"verifiable_addresses":[{"id":"1"}],"verifiable_addresses":[{"value":"v"}]}`, // duplicate arrays merge in encoding/json
	`{"id":"\u00e9\ud83d\ude00\ud800x\\\/\b\f\n\r\t\"","schema_id":"\u0041"}`,
	"{\"id\":\"\xff\xfe\xed\xa0\x80\"}", // invalid UTF-8 becomes U+FFFD
	"{\"id\":\"a\x01\"}",                // a control character
	`{"id":"a\'"}`,                      // an escape JSON does not have
	`{"created_at":"2026-11-27T05:51:43.251886+01:00","updated_at":"2026-11-27T05:51:43Z"}`,
	`{"created_at":"2026-02-29T05:51:43Z"}`, // not a leap year
	`{"created_at":"2024-02-29T23:59:59.123456789Z","updated_at":"2024-02-29T23:59:59.1234567891Z"}`,
	`{"created_at":"2026-11-27t05:51:43z"}`,
	`{"created_at":"2026-11-27T05:51:60Z"}`,
	`{"created_at":"2026-11-27T05:51:43.Z"}`,
	`{"created_at":"\u0032026-11-27T05:51:43Z"}`,
	`{"created_at":null,"credentials":null,"recovery_addresses":null,"verifiable_addresses":[]}`,
	`{"credentials":{"password":{"type":"password","version":9223372036854775807,"identifiers":["a",null]},"password":{"version":-0}}}`,
	`{"credentials":{"x":{"version":1.0}}}`,
	`{"credentials":{"x":{"version":1e2}}}`,
	`{"credentials":{"x":{"version":92233720368547758070}}}`,
	`{"credentials":{"x":{"version":"1"}}}`,
	`{"traits":{"a":[1,-2.5e+3,true,false,null,{"b":"c"}]}, "metadata_admin" : 0 , "unknown":{"x":[[[]]]}}`,
	`{"traits":01}`,
	`{"traits":-}`,
	`{"traits":[1,]}`,
	`{"traits":{"a":1,}}`,
	`{"traits":tru}`,
	`{"traits":nul}`,
	`{"organization_id":1}`,
	`{"organization_id":"x","organization_id":null}`,
	`{"identity":null,"devices":[{"id":"d"}],"active":true,"authentication_methods":[{"aal":"aal1"}]}`,
	`{"identity":{"id":"i"},"identity":{"schema_id":"s"}}`,
	`{"identities":[null,{"action":"create","identity":"x"},{"action":"error","error":{"code":409,"details":{"a":1}}}]}`,
	`{"identities":[{"create":{"traits":{"a":"<&>\u2028"},"credentials":{"password":{"config":{"password":"p"}}}},"patch_id":"x"}]}`,
	`[{"id":"a"},{"id":"b"}]`,
	`[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d"}] `,
	`[{"id":"a"},{"id":"b"},{"id":1},{"id":"d"}]`,     // the third is not decoded here
	`[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d"}] x`, // a cut page is still checked to its end
	`[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d"}`,
	`[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d",}]`,
	`[{"id":"a","traits":{"a":[1,[2]],"b":"],"}},{"id":"b","traits":[[],[[]]]},{"id":"c"}]`,
	`[{"id":"a","id":"b"},{"id":"b"},{"id":"c"}]`, // encoding/json decides the first
	`[]`,
	`[null]`,
	`null`,
	` {"id":"a"} `,
	`{"id":"a"} x`,
	`{"id":"a"}{}`,
	`{"id":"a"`,
	`{"id":`,
	`{"id"`,
	`{`,
	`"x"`,
	`1`,
	`{"active":"true"}`,
	`{"active":nul}`,
	`{"schema":{"type":"object"},"id":"default"}`,
}

func FuzzCodecs(f *testing.F) {
	all, err := exchange.LoadAll(exchange.Dir())
	if err != nil {
		f.Fatal(err)
	}
	// Each recorded body once, against a type chosen in turn (the plain
	// test, TestCodecsMatchEncodingJSON, tries every pairing).
	for i, x := range all {
		if b := x.ResponseBody(); len(b) > 0 {
			f.Add(uint8(i), b)
		}
		if b := x.RequestBody(); len(b) > 0 {
			f.Add(uint8(i+1), b)
		}
	}
	for _, s := range codecSeeds {
		for i := range codecTargets {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		newV := codecTargets[int(which)%len(codecTargets)]
		checkCodec(t, newV, body)
		checkBounded(t, newV, body)
	})
}

// checkCodec decodes body with gen.DecodeJSON and json.Unmarshal into
// fresh values of newV's type and compares outcome, error text and value;
// a decoded value must then encode to json.Marshal's bytes (or error).
func checkCodec(t *testing.T, newV func() any, body []byte) {
	t.Helper()
	fast, std := newV(), newV()
	errFast, errStd := gen.DecodeJSON(body, fast), json.Unmarshal(body, std)
	if (errFast == nil) != (errStd == nil) || errFast != nil && errFast.Error() != errStd.Error() {
		t.Fatalf("%T from %q:\ngenerated: %v\nencoding/json: %v", fast, body, errFast, errStd)
	}
	if errStd != nil {
		return
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("%T from %q: values differ:\ngenerated:     %+v\nencoding/json: %+v", fast, body, fast, std)
	}
	if jsonwire.Valid(body) != json.Valid(body) {
		t.Fatalf("Valid(%q) = %v, json.Valid says %v", body, jsonwire.Valid(body), json.Valid(body))
	}
	v := reflect.ValueOf(std).Elem().Interface() // the value, as the client passes bodies
	encFast, errFast := gen.EncodeJSON(v)
	encStd, errStd := json.Marshal(v)
	if fmt.Sprint(errFast) != fmt.Sprint(errStd) || !bytes.Equal(encFast, encStd) {
		t.Fatalf("%T encoded differently:\ngenerated:     %s (%v)\nencoding/json: %s (%v)", v, encFast, errFast, encStd, errStd)
	}
}

// checkBounded decodes body as a list answer of at most max items (1 to
// 3, cut or refused past them) with decodeList, whose generated decoders
// count the items as they decode, and as the whole body counted by
// itemLimiter and then decoded by encoding/json: outcome, error text and
// value must agree. Only slices are bounded: other types are skipped.
func checkBounded(t *testing.T, newV func() any, body []byte) {
	t.Helper()
	if reflect.TypeOf(newV()).Elem().Kind() != reflect.Slice {
		return
	}
	for max := 1; max <= 3; max++ {
		for _, cut := range []bool{false, true} {
			b := &pageBound{max: max, cut: cut}
			fast, std := newV(), newV()
			errFast := decodeList(body, fast, b)
			kept, errStd := io.ReadAll(&itemLimiter{r: bytes.NewReader(body), bound: *b})
			if errStd == nil {
				errStd = json.Unmarshal(kept, std)
			}
			if (errFast == nil) != (errStd == nil) || errFast != nil && errFast.Error() != errStd.Error() {
				t.Fatalf("%T from %q, %+v:\nbounded decoders: %v\nlimiter, encoding/json: %v", fast, body, *b, errFast, errStd)
			}
			if errStd == nil && !reflect.DeepEqual(fast, std) {
				t.Fatalf("%T from %q, %+v: values differ:\nbounded decoders: %+v\nlimiter, encoding/json: %+v", fast, body, *b, fast, std)
			}
		}
	}
}

// TestCodecsMatchEncodingJSON runs the differential check over every
// recorded body and the seeds, for every type, in plain `go test`.
func TestCodecsMatchEncodingJSON(t *testing.T) {
	all, err := exchange.LoadAll(exchange.Dir())
	if err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{}
	for _, x := range all {
		bodies = append(bodies, x.ResponseBody(), x.RequestBody())
	}
	for _, s := range codecSeeds {
		bodies = append(bodies, []byte(s))
	}
	for _, b := range bodies {
		for _, newV := range codecTargets {
			checkCodec(t, newV, b)
			checkBounded(t, newV, b)
		}
	}
	// The server's own answers take the fast path: each success body of a
	// read decodes without encoding/json.
	fast := 0
	for _, x := range all {
		if x.Response.Status != 200 || (x.Operation != "getIdentity" && x.Operation != "listIdentities" && x.Operation != "getSession") {
			continue
		}
		var v any = new(Identity)
		switch x.Operation {
		case "listIdentities":
			v = new([]Identity)
		case "getSession":
			v = new(Session)
		}
		before := jsonwire.Fallbacks()
		if err := gen.DecodeJSON(x.ResponseBody(), v); err != nil {
			t.Fatalf("%s: %v", x.Case, err)
		}
		if jsonwire.Fallbacks() != before {
			t.Errorf("%s/%s: the recorded answer went to encoding/json, not the generated decoder", x.Operation, x.Case)
		}
		fast++
	}
	if fast < 10 {
		t.Fatalf("only %d recorded answers checked", fast)
	}
}
