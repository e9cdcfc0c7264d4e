package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// DecodeJSON decodes free-form JSON (traits, metadata, a credential's
// configuration) into a value of your own type. JSON null or an absent
// field gives the zero value.
func DecodeJSON[T any](raw json.RawMessage) (T, error) {
	var v T
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return v, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("kratos: decoding JSON into %T: %w", v, err)
	}
	return v, nil
}

// DecodeTraits decodes an identity's traits into your own type:
//
//	type Traits struct{ Email string `json:"email"` }
//	t, err := client.DecodeTraits[Traits](identity)
func DecodeTraits[T any](i *Identity) (T, error) {
	if i == nil {
		var zero T
		return zero, errors.New("kratos: DecodeTraits: nil identity")
	}
	return DecodeJSON[T](i.Traits)
}

// DecodeMetadataPublic decodes an identity's metadata_public.
func DecodeMetadataPublic[T any](i *Identity) (T, error) {
	if i == nil {
		var zero T
		return zero, errors.New("kratos: DecodeMetadataPublic: nil identity")
	}
	return DecodeJSON[T](i.MetadataPublic)
}

// DecodeMetadataAdmin decodes an identity's metadata_admin.
func DecodeMetadataAdmin[T any](i *Identity) (T, error) {
	if i == nil {
		var zero T
		return zero, errors.New("kratos: DecodeMetadataAdmin: nil identity")
	}
	return DecodeJSON[T](i.MetadataAdmin)
}

// RawJSON encodes v for a free-form field (traits, metadata). nil encodes
// as JSON null, which clears metadata on update.
func RawJSON(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("kratos: encoding %T as JSON: %w", v, err)
	}
	return b, nil
}

// Null is the JSON null literal, for fields where null has a meaning
// (clearing metadata, a JSON Patch value).
var Null = json.RawMessage("null")

// PatchAdd returns a JSON Patch `add` of value (any JSON-encodable value;
// nil adds null) at path, a JSON Pointer such as "/metadata_public/tier".
func PatchAdd(path string, value any) JSONPatch {
	return JSONPatch{Op: JSONPatchOpAdd, Path: path, Value: patchValue(value)}
}

// PatchReplace returns a JSON Patch `replace`. A nil value replaces with
// JSON null and is sent as `"value": null` (clearing metadata_admin, say).
func PatchReplace(path string, value any) JSONPatch {
	return JSONPatch{Op: JSONPatchOpReplace, Path: path, Value: patchValue(value)}
}

// PatchRemove returns a JSON Patch `remove` of path.
func PatchRemove(path string) JSONPatch {
	return JSONPatch{Op: JSONPatchOpRemove, Path: path}
}

// badValuePrefix marks a value that could not be encoded; encodePatch turns
// it into an ArgumentError instead of sending anything.
const badValuePrefix = "\x00kratos: "

func patchValue(v any) json.RawMessage {
	if raw, ok := v.(json.RawMessage); ok {
		if raw == nil {
			return Null
		}
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(badValuePrefix + err.Error())
	}
	return b
}

// encodePatch writes a JSON Patch document. Unlike the generated type's
// omitempty encoding, add and replace always carry a value, and a nil or
// null value goes out as `"value": null`.
func encodePatch(op string, ops []JSONPatch) ([]byte, error) {
	// An empty patch is sent: Kratos answers it with the identity.
	var b bytes.Buffer
	b.WriteByte('[')
	for i, p := range ops {
		arg := fmt.Sprintf("ops[%d]", i)
		switch p.Op {
		case JSONPatchOpAdd, JSONPatchOpReplace, JSONPatchOpRemove:
		default:
			return nil, &ArgumentError{Op: op, Argument: arg + ".op", Reason: fmt.Sprintf("%q is not supported by Kratos (add, remove, replace)", p.Op)}
		}
		if !strings.HasPrefix(p.Path, "/") {
			return nil, &ArgumentError{Op: op, Argument: arg + ".path", Reason: fmt.Sprintf("%q is not a JSON Pointer (it must start with /)", p.Path)}
		}
		if strings.HasPrefix(string(p.Value), badValuePrefix) {
			return nil, &ArgumentError{Op: op, Argument: arg + ".value", Reason: strings.TrimPrefix(string(p.Value), badValuePrefix)}
		}
		if len(p.Value) > 0 && !json.Valid(p.Value) {
			return nil, &ArgumentError{Op: op, Argument: arg + ".value", Reason: "not valid JSON"}
		}
		if p.Op != JSONPatchOpRemove && writesPlaintextPassword(p.Path, p.Value) {
			return nil, &ArgumentError{Op: op, Argument: arg, Reason: fmt.Sprintf("%s %q writes a plaintext password, which Kratos stores as sent, unhashed, "+
				"readable with include_credential=password: use Identities.Update with Credentials.Password.Config.Password (the server hashes it), "+
				"or write a hash as hashed_password", p.Op, p.Path)}
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"op":`)
		writeJSONString(&b, string(p.Op))
		b.WriteString(`,"path":`)
		writeJSONString(&b, p.Path)
		if p.From != "" {
			b.WriteString(`,"from":`)
			writeJSONString(&b, p.From)
		}
		if p.Op != JSONPatchOpRemove {
			b.WriteString(`,"value":`)
			if len(p.Value) == 0 {
				b.WriteString("null")
			} else if err := json.Compact(&b, p.Value); err != nil {
				return nil, &ArgumentError{Op: op, Argument: arg + ".value", Reason: err.Error()}
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always encodes
	b.Write(enc)
}

// passwordPointer is where a plaintext password sits in an identity:
// /credentials/password/config/password.
var passwordPointer = []string{"credentials", "password", "config", "password"}

// writesPlaintextPassword reports whether a JSON Patch add or replace of
// value at path writes a plaintext password: at passwordPointer or below
// it, or a value (a credential, its configuration, all credentials) that
// carries one. Kratos applies a patch to the identity's JSON and decodes
// it with encoding/json, whose field names match in any case, so names are
// compared that way (Kratos v26.2.0 stores "/Credentials/password/config/password"
// as it stores the lower-case one).
func writesPlaintextPassword(path string, value json.RawMessage) bool {
	segs := strings.Split(path, "/")[1:]
	for i, seg := range segs {
		if i == len(passwordPointer) {
			break
		}
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		if !strings.EqualFold(seg, passwordPointer[i]) {
			return false
		}
	}
	if len(segs) >= len(passwordPointer) {
		return true
	}
	return carries(value, passwordPointer[len(segs):])
}

// carries reports whether the JSON value raw has a member at the path of
// names keys (matched in any case).
func carries(raw json.RawMessage, keys []string) bool {
	if len(keys) == 0 {
		return true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return false
	}
	for k, v := range obj {
		if strings.EqualFold(k, keys[0]) && carries(v, keys[1:]) {
			return true
		}
	}
	return false
}
