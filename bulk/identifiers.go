package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/kratosadmin/sdk/client"
)

// kratosExtension is the key of Kratos' extension in an identity schema.
const kratosExtension = "ory.sh/kratos"

// IdentifierPaths returns the trait paths that an identity schema marks as
// credential identifiers (`"ory.sh/kratos": {"credentials": {"password":
// {"identifier": true}}}` and likewise for other credential types), as
// dotted paths such as "traits.email". An array of identifiers ends in
// "[]" ("traits.emails[]"). Local $ref pointers and allOf/anyOf/oneOf are
// followed; remote references are not.
func IdentifierPaths(schema json.RawMessage) ([]string, error) {
	var root any
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil, err
	}
	w := schemaWalker{root: root, active: map[string]bool{}}
	w.walk(root, []string{}, 0)
	slices.Sort(w.paths)
	return slices.Compact(w.paths), nil
}

type schemaWalker struct {
	root   any
	paths  []string
	active map[string]bool // references being expanded: a recursive one stops
}

const maxSchemaDepth = 32

func (w *schemaWalker) walk(node any, path []string, depth int) {
	obj, ok := node.(map[string]any)
	if !ok || depth > maxSchemaDepth {
		return
	}
	if ref, ok := obj["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
		if !w.active[ref] {
			if target, ok := resolvePointer(w.root, ref[1:]); ok {
				w.active[ref] = true
				w.walk(target, path, depth+1)
				delete(w.active, ref)
			}
		}
	}
	if isIdentifier(obj[kratosExtension]) && len(path) > 0 && path[0] == "traits" {
		w.paths = append(w.paths, joinPath(path))
	}
	if props, ok := obj["properties"].(map[string]any); ok {
		for name, sub := range props {
			if len(path) == 0 && name != "traits" {
				continue // identifiers live in the traits
			}
			w.walk(sub, append(slices.Clip(path), name), depth+1)
		}
	}
	switch items := obj["items"].(type) {
	case map[string]any:
		w.walk(items, append(slices.Clip(path), "[]"), depth+1)
	case []any:
		for _, it := range items {
			w.walk(it, append(slices.Clip(path), "[]"), depth+1)
		}
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
		if subs, ok := obj[kw].([]any); ok {
			for _, sub := range subs {
				w.walk(sub, path, depth+1)
			}
		}
	}
}

// isIdentifier reports whether an ory.sh/kratos extension marks its field
// as an identifier of any credential type.
func isIdentifier(ext any) bool {
	e, ok := ext.(map[string]any)
	if !ok {
		return false
	}
	creds, ok := e["credentials"].(map[string]any)
	if !ok {
		return false
	}
	for _, c := range creds {
		if cm, ok := c.(map[string]any); ok && cm["identifier"] == true {
			return true
		}
	}
	return false
}

func joinPath(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if p != "[]" && i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// resolvePointer follows a JSON Pointer (RFC 6901) from root.
func resolvePointer(root any, ptr string) (any, bool) {
	if ptr == "" {
		return root, true
	}
	if ptr[0] != '/' {
		return nil, false
	}
	cur := root
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// identifierValues returns the normalised (trimmed, lower-cased) string
// values found in traits at the given paths.
func identifierValues(traits json.RawMessage, paths []string) []string {
	if len(paths) == 0 {
		return nil
	}
	var doc any
	if err := json.Unmarshal(traits, &doc); err != nil {
		return nil
	}
	var out []string
	for _, p := range paths {
		segs := splitPath(strings.TrimPrefix(p, "traits"))
		collectValues(doc, segs, &out)
	}
	return out
}

func splitPath(p string) []string {
	var segs []string
	for _, part := range strings.Split(strings.TrimPrefix(p, "."), ".") {
		if part == "" {
			continue
		}
		name, arrays := part, 0
		for strings.HasSuffix(name, "[]") {
			name, arrays = name[:len(name)-2], arrays+1
		}
		if name != "" {
			segs = append(segs, name)
		}
		for range arrays {
			segs = append(segs, "[]")
		}
	}
	return segs
}

func collectValues(v any, segs []string, out *[]string) {
	if len(segs) == 0 {
		if s, ok := v.(string); ok {
			if s = trimLower(s); s != "" {
				*out = append(*out, s)
			}
		}
		return
	}
	if segs[0] == "[]" {
		arr, _ := v.([]any)
		for _, el := range arr {
			collectValues(el, segs[1:], out)
		}
		return
	}
	if m, ok := v.(map[string]any); ok {
		collectValues(m[segs[0]], segs[1:], out)
	}
}

// fallbackIdentifierPaths are used when neither the schema nor the caller
// names the identifiers.
var fallbackIdentifierPaths = []string{"traits.email", "traits.username"}

// identifierResolver derives the credential identifiers of identities to
// import, fetching each identity schema once. Not safe for concurrent use.
type identifierResolver struct {
	schemas  *client.SchemasService
	keyFunc  func(*client.CreateIdentityBody) []string
	bySchema map[string][]string // schema id -> identifier paths (nil: none found)
}

func newIdentifierResolver(s *client.SchemasService, keyFunc func(*client.CreateIdentityBody) []string) *identifierResolver {
	return &identifierResolver{schemas: s, keyFunc: keyFunc, bySchema: map[string][]string{}}
}

// paths returns the identifier paths of a schema, fetching it the first
// time. A schema that cannot be fetched or parsed has none: the caller's
// key function and the fallbacks apply instead, and the server still
// decides about the schema when the identity is sent.
func (r *identifierResolver) paths(ctx context.Context, schemaID string) []string {
	if p, ok := r.bySchema[schemaID]; ok {
		return p
	}
	var paths []string
	if r.schemas != nil {
		if raw, err := r.schemas.Get(ctx, schemaID); err == nil {
			paths, _ = IdentifierPaths(raw)
		} else if ctx.Err() != nil {
			return nil // do not cache a cancelled fetch
		}
	}
	r.bySchema[schemaID] = paths
	return paths
}

// identifiers returns the sorted, de-duplicated identifiers of body: from
// its schema, else from the key function, else traits.email and
// traits.username; plus "provider:subject" of OIDC and SAML links, as the
// server stores them.
func (r *identifierResolver) identifiers(ctx context.Context, body *client.CreateIdentityBody) []string {
	ids := identifierValues(body.Traits, r.paths(ctx, body.SchemaID))
	if len(ids) == 0 && r.keyFunc != nil {
		for _, k := range r.keyFunc(body) {
			if k = trimLower(k); k != "" {
				ids = append(ids, k)
			}
		}
	}
	if len(ids) == 0 {
		ids = identifierValues(body.Traits, fallbackIdentifierPaths)
	}
	for _, p := range body.Credentials.OIDC.Config.Providers {
		if p.Provider != "" && p.Subject != "" {
			ids = append(ids, p.Provider+":"+p.Subject)
		}
	}
	for _, p := range body.Credentials.SAML.Config.Providers {
		if p.Provider != "" && p.Subject != "" {
			ids = append(ids, p.Provider+":"+p.Subject)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// jsonEqual reports whether two JSON documents hold the same value
// (whitespace and key order aside). Absent and null are equal.
func jsonEqual(a, b json.RawMessage) bool {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if len(a) == 0 {
		a = client.Null
	}
	if len(b) == 0 {
		b = client.Null
	}
	if bytes.Equal(a, b) {
		return true
	}
	va, errA := decodeUseNumber(a)
	vb, errB := decodeUseNumber(b)
	if errA != nil || errB != nil {
		return false
	}
	return deepEqualJSON(va, vb)
}

func decodeUseNumber(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func deepEqualJSON(a, b any) bool {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !deepEqualJSON(x, y) {
				return false
			}
		}
		return true
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !deepEqualJSON(av[i], bv[i]) {
				return false
			}
		}
		return true
	case json.Number:
		bv, ok := b.(json.Number)
		if !ok {
			return false
		}
		if av == bv {
			return true
		}
		fa, errA := av.Float64()
		fb, errB := bv.Float64()
		return errA == nil && errB == nil && fa == fb
	default:
		return a == b
	}
}
