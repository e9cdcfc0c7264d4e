package kratostest

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// DefaultSchemaID is the id of the identity schema a server has when no
// WithIdentitySchema option is given.
const DefaultSchemaID = "default"

//go:embed identity.schema.json
var defaultSchema []byte

// DefaultIdentitySchema returns a copy of the identity schema a server uses
// when no WithIdentitySchema option is given: the schema the recordings in
// testdata/exchanges were made with. Its traits are an email (required,
// format email, at least 3 characters; the password and code identifier,
// verified and recovered by email) and an optional name with first and
// last; no other traits are allowed.
func DefaultIdentitySchema() []byte { return bytes.Clone(defaultSchema) }

// identitySchema is one configured identity schema.
type identitySchema struct {
	id       string
	raw      []byte // served as is by GET /schemas/{id}
	doc      any    // parsed, for the ory.sh/kratos extension
	compiled *jsonschema.Schema
}

// compileSchema compiles an identity schema (draft-07 unless it says
// otherwise). Unknown keywords such as ory.sh/kratos are ignored by the
// validator; formats (email, uri, ...) are asserted. Remote references are
// refused: the fake never goes to the network.
func compileSchema(id string, raw []byte) (*identitySchema, error) {
	if id == "" {
		return nil, errors.New("empty schema id")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema %q is not JSON: %w", id, err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, fmt.Errorf("schema %q is not a JSON object", id)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "email", Validate: validateEmail})
	c.UseLoader(noRemoteLoader{})
	loc := "urn:kratostest:schema:" + url.PathEscape(id)
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("schema %q: %w", id, err)
	}
	compiled, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("schema %q: %w", id, err)
	}
	return &identitySchema{id: id, raw: bytes.Clone(raw), doc: doc, compiled: compiled}, nil
}

// validateEmail is the email format of Kratos' ory/jsonschema: at most
// 254 bytes, a local part of at most 64, a host name after the last @, and
// an address net/mail parses. Unlike santhosh-tekuri's,
// it takes non-ASCII local parts ("jörg@example.org", recorded 312).
func validateEmail(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	at := strings.LastIndexByte(s, '@')
	switch {
	case len(s) > 254:
		return errors.New("more than 254 characters long")
	case at < 0:
		return errors.New("missing @")
	case at > 64:
		return errors.New("local part more than 64 characters long")
	case !isHostname(s[at+1:]):
		return errors.New("invalid domain")
	}
	// Whatever net/mail parses: a quoted local part ("a b"@example.org),
	// leading white space, as Kratos v26.2.0 (TestEmailFormats). A display
	// name or angle brackets never get here: the domain check refuses them.
	_, err := mail.ParseAddress(s)
	return err
}

// isHostname is the host name check of Kratos v26.2.0's email format:
// labels of 1 to 63 letters, digits and hyphens, none ending with a
// hyphen, and only the first one refused for starting with one
// ("x@a.-b.org" is a valid email there, "x@-b.org" is not).
func isHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 || h[0] == '-' {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[len(label)-1] == '-' {
			return false
		}
		for _, ch := range label {
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
				return false
			}
		}
	}
	return true
}

type noRemoteLoader struct{}

func (noRemoteLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("kratostest does not load remote schemas (%s): inline it or register it with WithIdentitySchema", u)
}

// schemaURLPath is the path of the schema on the public port, with the id
// base64url-encoded as Kratos does ("default" is ZGVmYXVsdA).
func schemaURLPath(id string) string {
	return "/schemas/" + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// traitsOrEmpty is the traits of a create or update body: Kratos takes
// traits left out as {} (and an explicit null as null, which no schema
// with "type": "object" accepts).
func traitsOrEmpty(traits json.RawMessage) json.RawMessage {
	if len(traits) == 0 {
		return json.RawMessage("{}")
	}
	return traits
}

// validateTraits validates {"traits": traits} against the schema and
// returns Kratos' 400 with a reason in its I[...] S[...] format.
func (s *identitySchema) validateTraits(traits json.RawMessage) *apiError {
	if len(traits) == 0 {
		traits = json.RawMessage("null")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(append(append([]byte(`{"traits":`), traits...), '}')))
	if err != nil {
		return errBadRequest("traits are not valid JSON: " + err.Error())
	}
	err = s.compiled.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return errBadRequest(err.Error())
	}
	return errBadRequest(formatValidationError(ve, s.doc))
}

// formatValidationError renders a validation error tree the way Kratos
// (ory/jsonschema) does:
//
//	I[#/traits] S[#/properties/traits] validation failed
//	  I[#/traits/email] S[#/properties/traits/properties/email/format] "x" is not valid "email"
//
// A node with one error collapses into that error; the root "doesn't
// validate" line is not shown. ory/jsonschema reports a failed format twice
// (see recordings 007, 050, 056, 061); so does this.
func formatValidationError(root *jsonschema.ValidationError, doc any) string {
	var b strings.Builder
	causes := root.Causes
	if _, ok := root.ErrorKind.(*kind.Schema); !ok {
		causes = []*jsonschema.ValidationError{root}
	}
	if len(causes) == 1 {
		writeVE(&b, causes[0], 0, doc)
		return b.String()
	}
	// The validator merges the group of the first node with several
	// errors into the root; its location is what the causes share.
	inst := causes[0].InstanceLocation
	frag := strings.Split(schemaFragment(causes[0].SchemaURL), "/")
	for _, c := range causes[1:] {
		inst = commonPrefix(inst, c.InstanceLocation)
		frag = commonPrefix(frag, strings.Split(schemaFragment(c.SchemaURL), "/"))
	}
	if len(frag) > 1 && frag[len(frag)-1] == "properties" {
		// Errors in two properties are grouped under their object's
		// schema, not its "properties" keyword (seen on v26.2.0:
		// S[#/properties/traits] for errors in traits.email and
		// traits.name.first).
		frag = frag[:len(frag)-1]
	}
	fmt.Fprintf(&b, "I[%s] S[%s] validation failed", instancePtr(inst), strings.Join(frag, "/"))
	for _, c := range causes {
		writeVE(&b, c, 2, doc)
	}
	return b.String()
}

func commonPrefix(a, b []string) []string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}

func writeVE(b *strings.Builder, e *jsonschema.ValidationError, indent int, doc any) {
	inst := instancePtr(e.InstanceLocation)
	base := schemaFragment(e.SchemaURL)
	line := func(indent int, schemaPtr, msg string) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.Repeat(" ", indent))
		fmt.Fprintf(b, "I[%s] S[%s] %s", inst, schemaPtr, msg)
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Group, *kind.Schema:
		line(indent, base, "validation failed")
		for _, c := range e.Causes {
			writeVE(b, c, indent+2, doc)
		}
		return
	case *kind.Format:
		// ory/jsonschema reports a failed format twice under a group,
		// with a failed minLength between the two (seen on v26.2.0 for
		// "a" as an email of at least 3 characters). The validator here
		// stops at the format, so minLength is checked from the schema.
		line(indent, base, "validation failed")
		p := joinPtr(base, k.KeywordPath())
		line(indent+2, p, oryMessage(e))
		if str, ok := k.Got.(string); ok {
			if n, err := strconv.Atoi(fmt.Sprint(schemaAt(doc, base)["minLength"])); err == nil && utf8.RuneCountInString(str) < n {
				line(indent+2, base+"/minLength", fmt.Sprintf("length must be >= %d, but got %d", n, utf8.RuneCountInString(str)))
			}
		}
		line(indent+2, p, oryMessage(e))
		return
	}
	line(indent, joinPtr(base, e.ErrorKind.KeywordPath()), oryMessage(e))
	for _, c := range e.Causes {
		writeVE(b, c, indent+2, doc)
	}
}

// schemaAt is the schema object at a "#/..." fragment of doc, or nil.
func schemaAt(doc any, frag string) map[string]any {
	cur := doc
	if rest := strings.TrimPrefix(frag, "#"); rest != "" {
		for _, tok := range strings.Split(strings.TrimPrefix(rest, "/"), "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = m[strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)]
		}
	}
	m, _ := cur.(map[string]any)
	return m
}

func instancePtr(loc []string) string {
	var b strings.Builder
	b.WriteByte('#')
	for _, tok := range loc {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(tok))
	}
	return b.String()
}

// schemaFragment turns an absolute schema location into the "#/..." form.
func schemaFragment(loc string) string {
	if i := strings.IndexByte(loc, '#'); i >= 0 {
		if f := loc[i+1:]; f != "" {
			if u, err := url.PathUnescape(f); err == nil {
				f = u
			}
			return "#" + f
		}
	}
	return "#"
}

func joinPtr(base string, kw []string) string {
	for _, k := range kw {
		base += "/" + k
	}
	return base
}

// oryMessage is the message ory/jsonschema gives for an error kind.
func oryMessage(e *jsonschema.ValidationError) string {
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		return fmt.Sprintf("expected %s, but got %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Required:
		return "missing properties: " + quoteAll(k.Missing)
	case *kind.AdditionalProperties:
		return "additionalProperties " + quoteAll(k.Properties) + " not allowed"
	case *kind.Format:
		return fmt.Sprintf("%s is not valid %q", displayValue(k.Got), k.Want)
	case *kind.MinLength:
		return fmt.Sprintf("length must be >= %d, but got %d", k.Want, k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("length must be <= %d, but got %d", k.Want, k.Got)
	case *kind.Pattern:
		return fmt.Sprintf("does not match pattern %q", k.Want)
	case *kind.Enum:
		vals := make([]string, len(k.Want))
		for i, v := range k.Want {
			vals[i] = displayValue(v)
		}
		return "value must be one of " + strings.Join(vals, ", ")
	case *kind.Const:
		return "value must be " + displayValue(k.Want)
	case *kind.Minimum:
		return fmt.Sprintf("must be >= %s but found %s", ratString(k.Want), ratString(k.Got))
	case *kind.Maximum:
		return fmt.Sprintf("must be <= %s but found %s", ratString(k.Want), ratString(k.Got))
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("must be > %s but found %s", ratString(k.Want), ratString(k.Got))
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("must be < %s but found %s", ratString(k.Want), ratString(k.Got))
	case *kind.MultipleOf:
		return fmt.Sprintf("%s not multipleOf %s", ratString(k.Got), ratString(k.Want))
	case *kind.MinItems:
		return fmt.Sprintf("minimum %d items allowed, but found %d items", k.Want, k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("maximum %d items allowed, but found %d items", k.Want, k.Got)
	case *kind.MinProperties:
		return fmt.Sprintf("minimum %d properties allowed, but found %d properties", k.Want, k.Got)
	case *kind.MaxProperties:
		return fmt.Sprintf("maximum %d properties allowed, but found %d properties", k.Want, k.Got)
	case *kind.UniqueItems:
		return fmt.Sprintf("items at index %d and %d are equal", k.Duplicates[0], k.Duplicates[1])
	case *kind.Dependency:
		return fmt.Sprintf("property %s is required, if %q property exists", quoteAll(k.Missing), k.Prop)
	case *kind.DependentRequired:
		return fmt.Sprintf("property %s is required, if %q property exists", quoteAll(k.Missing), k.Prop)
	case *kind.Not:
		return "not failed"
	case *kind.AllOf:
		return "allOf failed"
	case *kind.AnyOf:
		return "anyOf failed"
	case *kind.OneOf:
		if len(k.Subschemas) >= 2 {
			return fmt.Sprintf("valid against schemas at indexes %d and %d", k.Subschemas[0], k.Subschemas[1])
		}
		return "oneOf failed"
	case *kind.FalseSchema:
		return "not allowed"
	case *kind.Reference:
		// A reference into the same document shows as its fragment.
		ref := k.URL
		if base, _, _ := strings.Cut(e.SchemaURL, "#"); strings.HasPrefix(ref, base+"#") {
			ref = schemaFragment(ref)
		}
		return "doesn't validate with " + strconv.Quote(ref)
	case *kind.AdditionalItems:
		return fmt.Sprintf("only %d items are allowed", k.Count)
	case *kind.PropertyNames:
		return fmt.Sprintf("invalid propertyName %q", k.Property)
	case *kind.Contains, *kind.MinContains, *kind.MaxContains:
		return "does not contain required items"
	case *kind.ContentEncoding:
		return fmt.Sprintf("value is not %s encoded", k.Want)
	case *kind.ContentMediaType:
		return fmt.Sprintf("value is not of mediatype %q", k.Want)
	}
	if kw := e.ErrorKind.KeywordPath(); len(kw) > 0 {
		return strings.Join(kw, "/") + " failed"
	}
	return "validation failed"
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func displayValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case json.Number:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// --- the ory.sh/kratos schema extension ---

// address is a value taken from the traits for verification, recovery or
// the code credential.
type address struct {
	via, value string
}

// extensionResult is what the ory.sh/kratos extension of a schema derives
// from an identity's traits.
type extensionResult struct {
	passwordIdentifiers []string
	webauthnIdentifiers []string
	code                []address // code credential identifiers
	verification        []address
	recovery            []address
}

// extensions walks the traits alongside the schema and collects the
// values marked by "ory.sh/kratos" (credentials identifiers, verification
// and recovery addresses). Values are trimmed and lower-cased as Kratos
// does. It follows properties, items, local $refs and allOf/anyOf/oneOf.
func (s *identitySchema) extensions(traits json.RawMessage) extensionResult {
	var res extensionResult
	root, ok := s.doc.(map[string]any)
	if !ok {
		return res
	}
	var tv any
	if len(traits) > 0 {
		d := json.NewDecoder(bytes.NewReader(traits))
		d.UseNumber()
		if d.Decode(&tv) != nil {
			return res
		}
	}
	props, _ := root["properties"].(map[string]any)
	if ts, ok := props["traits"]; ok {
		walkExtension(root, ts, tv, &res, 0)
	}
	res.passwordIdentifiers = dedupe(res.passwordIdentifiers)
	res.webauthnIdentifiers = dedupe(res.webauthnIdentifiers)
	res.code = dedupeAddr(res.code)
	res.verification = dedupeAddr(res.verification)
	res.recovery = dedupeAddr(res.recovery)
	return res
}

func walkExtension(root map[string]any, node any, value any, res *extensionResult, depth int) {
	n, ok := node.(map[string]any)
	if !ok || depth > 32 || value == nil {
		return
	}
	if ref, ok := n["$ref"].(string); ok {
		if target := resolveLocalRef(root, ref); target != nil {
			walkExtension(root, target, value, res, depth+1)
		}
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
		if subs, ok := n[kw].([]any); ok {
			for _, sub := range subs {
				walkExtension(root, sub, value, res, depth+1)
			}
		}
	}
	if ext, ok := n["ory.sh/kratos"].(map[string]any); ok {
		applyExtension(ext, value, res)
	}
	switch v := value.(type) {
	case map[string]any:
		props, _ := n["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if child, ok := v[name]; ok {
				walkExtension(root, props[name], child, res, depth+1)
			}
		}
	case []any:
		switch items := n["items"].(type) {
		case map[string]any:
			for _, el := range v {
				walkExtension(root, items, el, res, depth+1)
			}
		case []any:
			for i, el := range v {
				if i < len(items) {
					walkExtension(root, items[i], el, res, depth+1)
				}
			}
		}
	}
}

func resolveLocalRef(root map[string]any, ref string) any {
	if !strings.HasPrefix(ref, "#") {
		return nil
	}
	var cur any = root
	ptr := strings.TrimPrefix(ref, "#")
	if ptr == "" {
		return root
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		if u, err := url.PathUnescape(tok); err == nil {
			tok = u
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[tok]; !ok {
			return nil
		}
	}
	return cur
}

func applyExtension(ext map[string]any, value any, res *extensionResult) {
	s, ok := value.(string)
	if !ok {
		return
	}
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "" {
		return
	}
	if creds, ok := ext["credentials"].(map[string]any); ok {
		// Password identifiers keep their white space, lower-cased; code
		// identifiers and addresses are trimmed (recorded 543). Lookups
		// and uniqueness use the trimmed value on both (uniqueKeys).
		if isIdentifier(creds["password"]) {
			res.passwordIdentifiers = append(res.passwordIdentifiers, strings.ToLower(s))
		}
		if isIdentifier(creds["webauthn"]) {
			res.webauthnIdentifiers = append(res.webauthnIdentifiers, v) // trimmed: not observed
		}
		if c, ok := creds["code"].(map[string]any); ok && c["identifier"] == true {
			via, _ := c["via"].(string)
			if via == "" {
				via = "email"
			}
			res.code = append(res.code, address{via: via, value: v})
		}
	}
	if ver, ok := ext["verification"].(map[string]any); ok {
		if via, _ := ver["via"].(string); via != "" {
			res.verification = append(res.verification, address{via: via, value: v})
		}
	}
	if rec, ok := ext["recovery"].(map[string]any); ok {
		if via, _ := rec["via"].(string); via != "" {
			res.recovery = append(res.recovery, address{via: via, value: v})
		}
	}
}

func isIdentifier(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m["identifier"] == true
}

func dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func dedupeAddr(as []address) []address {
	seen := make(map[address]bool, len(as))
	out := as[:0]
	for _, a := range as {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
