// Command codecgen writes gen/codecs.gen.go: a JSON decoder and encoder for
// every model in gen/models.gen.go, on the scanner and appenders of
// internal/jsonwire. It reads the models oapi-codegen generated from
// api/kratos-admin.yaml (the Go names, types and json tags are theirs), so
// it runs after oapi-codegen in `go generate ./...` (generate.go):
//
//	go run ./internal/codecgen -in gen/models.gen.go -out gen/codecs.gen.go
//
// The generated DecodeJSON and EncodeJSON give what encoding/json gives for
// the same value or bytes: the fast path takes the common forms and hands
// anything else back to encoding/json (see internal/jsonwire).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "gen/models.gen.go", "the models oapi-codegen generated")
	out := flag.String("out", "gen/codecs.gen.go", "the file to write")
	flag.Parse()
	src, err := generate(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "codecgen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "codecgen:", err)
		os.Exit(1)
	}
}

// kind is how a Go type is read and written.
type kind int

const (
	kString kind = iota
	kBool
	kInt64
	kTime
	kRaw
	kNullable // Nullable[elem]
	kStruct
	kPtr   // *struct
	kSlice // []elem
	kMap   // map[string]elem
)

type typ struct {
	kind  kind
	name  string // Go spelling
	named bool   // a named type whose underlying is a basic type (a conversion is needed)
	elem  *typ
}

type field struct {
	goName, jsonName    string
	omitEmpty, omitZero bool
	t                   *typ
}

type model struct {
	name   string
	fields []field
}

type gen struct {
	basics  map[string]string   // named basic types: name -> underlying
	aliases map[string]ast.Expr // type X = Y
	structs map[string]*ast.StructType
	models  []*model
	slices  map[string]*typ // element spelling -> element type, for the slice decoders
	buf     bytes.Buffer
}

func generate(path string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return nil, err
	}
	g := &gen{basics: map[string]string{}, aliases: map[string]ast.Expr{}, structs: map[string]*ast.StructType{}, slices: map[string]*typ{}}
	var order []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			ts := s.(*ast.TypeSpec)
			name := ts.Name.Name
			switch t := ts.Type.(type) {
			case *ast.StructType:
				if ts.Assign.IsValid() {
					return nil, fmt.Errorf("%s: struct alias not supported", name)
				}
				g.structs[name] = t
				order = append(order, name)
			default:
				if ts.Assign.IsValid() {
					g.aliases[name] = ts.Type
				} else if id, ok := t.(*ast.Ident); ok {
					g.basics[name] = id.Name
				}
			}
		}
	}
	for _, name := range order {
		// Query parameters travel in URLs, never as JSON.
		if strings.HasSuffix(name, "Params") {
			continue
		}
		m := &model{name: name}
		for _, fl := range g.structs[name].Fields.List {
			if len(fl.Names) != 1 || fl.Tag == nil {
				return nil, fmt.Errorf("%s: embedded or untagged field", name)
			}
			tag, _ := strconv.Unquote(fl.Tag.Value)
			jt, ok := reflect.StructTag(tag).Lookup("json")
			if !ok || jt == "-" {
				continue
			}
			parts := strings.Split(jt, ",")
			t, err := g.resolve(fl.Type)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", name, fl.Names[0].Name, err)
			}
			fd := field{goName: fl.Names[0].Name, jsonName: parts[0], t: t}
			if fd.jsonName == "" {
				fd.jsonName = fd.goName
			}
			for _, o := range parts[1:] {
				fd.omitEmpty = fd.omitEmpty || o == "omitempty"
				fd.omitZero = fd.omitZero || o == "omitzero"
			}
			m.fields = append(m.fields, fd)
		}
		if len(m.fields) > 64 {
			return nil, fmt.Errorf("%s: more than 64 fields", name)
		}
		g.models = append(g.models, m)
	}
	g.write()
	src, err := format.Source(g.buf.Bytes())
	if err != nil {
		return g.buf.Bytes(), fmt.Errorf("formatting the output: %w", err)
	}
	return src, nil
}

func spell(e ast.Expr) string {
	var b bytes.Buffer
	_ = format.Node(&b, token.NewFileSet(), e)
	return b.String()
}

func (g *gen) resolve(e ast.Expr) (*typ, error) {
	switch t := e.(type) {
	case *ast.Ident:
		switch t.Name {
		case "string":
			return &typ{kind: kString, name: "string"}, nil
		case "bool":
			return &typ{kind: kBool, name: "bool"}, nil
		case "int64":
			return &typ{kind: kInt64, name: "int64"}, nil
		}
		if u, ok := g.basics[t.Name]; ok {
			bt, err := g.resolve(ast.NewIdent(u))
			if err != nil {
				return nil, err
			}
			return &typ{kind: bt.kind, name: t.Name, named: true}, nil
		}
		if a, ok := g.aliases[t.Name]; ok {
			return g.resolve(a)
		}
		if _, ok := g.structs[t.Name]; ok {
			return &typ{kind: kStruct, name: t.Name}, nil
		}
	case *ast.SelectorExpr:
		switch spell(t) {
		case "time.Time":
			return &typ{kind: kTime, name: "time.Time"}, nil
		case "json.RawMessage":
			return &typ{kind: kRaw, name: "json.RawMessage"}, nil
		}
	case *ast.IndexExpr:
		if spell(t.X) == "nullable.Nullable" {
			el, err := g.resolve(t.Index)
			if err != nil {
				return nil, err
			}
			if el.kind != kString && el.kind != kTime {
				return nil, fmt.Errorf("nullable of %s not supported", el.name)
			}
			return &typ{kind: kNullable, name: spell(t), elem: el}, nil
		}
	case *ast.StarExpr:
		el, err := g.resolve(t.X)
		if err != nil {
			return nil, err
		}
		if el.kind != kStruct {
			return nil, fmt.Errorf("pointer to %s not supported", el.name)
		}
		return &typ{kind: kPtr, name: "*" + el.name, elem: el}, nil
	case *ast.ArrayType:
		if t.Len != nil {
			break
		}
		el, err := g.resolve(t.Elt)
		if err != nil {
			return nil, err
		}
		st := &typ{kind: kSlice, name: "[]" + el.name, elem: el}
		g.slices[el.name] = el
		return st, nil
	case *ast.MapType:
		if spell(t.Key) != "string" {
			break
		}
		el, err := g.resolve(t.Value)
		if err != nil {
			return nil, err
		}
		return &typ{kind: kMap, name: "map[string]" + el.name, elem: el}, nil
	}
	return nil, fmt.Errorf("type %s not supported", spell(e))
}

func (g *gen) p(format string, args ...any) {
	fmt.Fprintf(&g.buf, format, args...)
	g.buf.WriteByte('\n')
}

// ident turns a type spelling into a piece of a Go identifier.
func ident(name string) string {
	r := strings.NewReplacer("*", "Ptr", "[]", "Slice", ".", "", "[", "Of", "]", "")
	return r.Replace(name)
}

func lower(s string) string { return strings.ToLower(s[:1]) + s[1:] }

func (g *gen) write() {
	g.writeEntryPoints()
	for _, m := range g.models {
		g.writeDecoder(m)
		g.writeEncoder(m)
		g.writeIsZero(m)
	}
	names := make([]string, 0, len(g.slices))
	for n := range g.slices {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		g.writeSliceDecoder(g.slices[n])
	}
	body := g.buf.String()
	g.buf.Reset()
	g.p("// Code generated by internal/codecgen from models.gen.go. DO NOT EDIT.")
	g.p("")
	g.p("package gen")
	g.p("")
	g.p("import (")
	for _, imp := range []string{"bytes", "encoding/json", "maps", "slices", "sync", "time"} {
		if strings.Contains(body, imp[strings.LastIndex(imp, "/")+1:]+".") {
			g.p("%q", imp)
		}
	}
	g.p("")
	g.p(`"github.com/kratosadmin/sdk/internal/jsonwire"`)
	g.p(")")
	g.buf.WriteString(body)
}

func (g *gen) writeEntryPoints() {
	g.p("")
	g.p("// DecodeJSON decodes data into v as json.Unmarshal does, with the same")
	g.p("// result and the same error. For a pointer to a model of this package, or")
	g.p("// to a slice of them, it reads the body once with the generated decoders;")
	g.p("// input they do not take (a wrong type, a duplicate or case-folded key, a")
	g.p("// malformed body) and any other v go to json.Unmarshal.")
	g.p("func DecodeJSON(data []byte, v any) error {")
	g.p("if err := decodeJSON(data, v, 0, false); err != jsonwire.ErrFallback { return err }")
	g.p("return json.Unmarshal(data, v)")
	g.p("}")
	g.p("")
	g.p("// DecodeJSONBounded decodes a list answer into v, a pointer to a slice of")
	g.p("// models, as DecodeJSON does, with its top-level array held to at most max")
	g.p("// elements (max > 0): the element after them is refused with")
	g.p("// jsonwire.ErrTooManyItems before it is decoded or, with cut, dropped with")
	g.p("// the rest of the array. Input the generated decoders do not take, and any")
	g.p("// other v, give jsonwire.ErrFallback with v unset: the caller bounds the")
	g.p("// array itself and decodes with encoding/json.")
	g.p("func DecodeJSONBounded(data []byte, v any, max int, cut bool) error {")
	g.p("return decodeJSON(data, v, max, cut)")
	g.p("}")
	g.p("")
	g.p("// decodeJSON decodes data into v with the generated decoders, with the")
	g.p("// top-level array bounded by max (0: none), or gives jsonwire.ErrFallback.")
	g.p("func decodeJSON(data []byte, v any, max int, cut bool) error {")
	g.p("d := jsonwire.GetDecoder(data)")
	g.p("defer jsonwire.PutDecoder(d)")
	g.p("d.Bound(max, cut)")
	g.p("switch p := v.(type) {")
	for _, m := range g.models {
		g.p("case *%s:", m.name)
		g.p("*p = %s{}", m.name)
		g.p("if p.decodeJSON(d) == nil && d.End() == nil { d.Flush(jsonwire.Mark{}); return nil }")
		g.p("*p = %s{}", m.name)
		g.p("jsonwire.NoteFallback()")
		if _, ok := g.slices[m.name]; !ok {
			g.slices[m.name] = &typ{kind: kStruct, name: m.name}
		}
		// A list is decoded into a pooled slice and copied out at its
		// exact length: one allocation instead of a doubling series.
		g.p("case *[]%s:", m.name)
		g.p("*p = nil")
		g.p("sp := %sScratch.Get().(*[]%s)", lower(m.name), m.name)
		g.p("err := decode%s(d, sp)", ident("[]"+m.name))
		g.p("ok := err == nil && d.End() == nil")
		g.p("if ok { d.Flush(jsonwire.Mark{}) }")
		g.p("if ok && *sp != nil { *p = slices.Clone(*sp) }")
		g.p("if cap(*sp) <= maxScratch { clear((*sp)[:cap(*sp)]); *sp = (*sp)[:0]; %sScratch.Put(sp) }", lower(m.name))
		g.p("if ok { return nil }")
		g.p("*p = nil")
		g.p("if err == jsonwire.ErrTooManyItems { return err }")
		g.p("jsonwire.NoteFallback()")
	}
	g.p("}")
	g.p("return jsonwire.ErrFallback")
	g.p("}")
	g.p("")
	g.p("// maxScratch bounds the pooled slices lists are decoded into.")
	g.p("const maxScratch = 1024")
	g.p("")
	g.p("var (")
	for _, m := range g.models {
		g.p("%sScratch = sync.Pool{New: func() any { return new([]%s) }}", lower(m.name), m.name)
	}
	g.p(")")
	g.p("")
	g.p("// EncodeJSON encodes v as json.Marshal does, with the same bytes and the")
	g.p("// same error. Models of this package and pointers to them are written by")
	g.p("// the generated encoders; values they leave alone go to json.Marshal.")
	g.p("func EncodeJSON(v any) ([]byte, error) {")
	g.p("buf := jsonwire.GetBuffer()")
	g.p("defer jsonwire.PutBuffer(buf)")
	g.p("var err error")
	g.p("switch p := v.(type) {")
	for _, m := range g.models {
		g.p("case *%s:", m.name)
		g.p("if p == nil { return []byte(\"null\"), nil }")
		g.p("*buf, err = p.appendJSON((*buf)[:0])")
		g.p("case %s:", m.name)
		g.p("*buf, err = p.appendJSON((*buf)[:0])")
	}
	g.p("default:")
	g.p("return json.Marshal(v)")
	g.p("}")
	g.p("if err != nil { return json.Marshal(v) }")
	g.p("return bytes.Clone(*buf), nil")
	g.p("}")
}

func (g *gen) writeDecoder(m *model) {
	names := lower(m.name) + "JSONNames"
	g.p("")
	g.p("var %s = []string{", names)
	for _, f := range m.fields {
		g.p("%q,", f.jsonName)
	}
	g.p("}")
	g.p("")
	g.p("func (v *%s) decodeJSON(d *jsonwire.Decoder) error {", m.name)
	g.p("if d.Null() { return nil }")
	g.p("empty, err := d.ObjectStart()")
	g.p("if err != nil || empty { return err }")
	if len(m.fields) > 0 {
		g.p("var seen uint64")
	}
	g.p("for {")
	g.p("k, err := d.Key()")
	g.p("if err != nil { return err }")
	g.p("switch string(k) {")
	for i, f := range m.fields {
		g.p("case %q:", f.jsonName)
		g.p("if seen&(1<<%d) != 0 { return jsonwire.ErrFallback }", i)
		g.p("seen |= 1 << %d", i)
		g.decodeInto("v."+f.goName, f.t)
	}
	g.p("default:")
	g.p("if jsonwire.FoldsToAny(k, %s) { return jsonwire.ErrFallback }", names)
	g.p("err = d.Skip()")
	g.p("}")
	g.p("if err != nil { return err }")
	g.p("more, err := d.ObjectNext()")
	g.p("if err != nil { return err }")
	g.p("if !more { return nil }")
	g.p("}")
	g.p("}")
}

// decodeInto writes statements that decode the next value into the
// addressable x, setting err.
func (g *gen) decodeInto(x string, t *typ) {
	conv := func(basic string) string {
		if t.named {
			return fmt.Sprintf("(*%s)(&%s)", basic, x)
		}
		return "&" + x
	}
	switch t.kind {
	case kString:
		if strings.HasPrefix(x, "v.") { // a field of the object: allocated with its others
			g.p("err = d.StringLater(%s)", conv("string"))
		} else {
			g.p("err = d.String(%s)", conv("string"))
		}
	case kBool:
		g.p("err = d.Bool(%s)", conv("bool"))
	case kInt64:
		g.p("err = d.Int64(%s)", conv("int64"))
	case kTime:
		g.p("err = d.Time(&%s)", x)
	case kRaw:
		if strings.HasPrefix(x, "v.") {
			g.p("err = d.RawLater((*[]byte)(&%s))", x)
		} else {
			g.p("err = d.Raw((*[]byte)(&%s))", x)
		}
	case kNullable:
		g.p("if d.Null() { %s.SetNull() } else {", x)
		switch t.elem.kind {
		case kString:
			g.p("var s string")
			g.p("if err = d.StringValue(&s); err == nil { %s.Set(s) }", x)
		case kTime:
			g.p("var t time.Time")
			g.p("if err = d.TimeValue(&t); err == nil { %s.Set(t) }", x)
		}
		g.p("}")
	case kStruct:
		g.p("err = %s.decodeJSON(d)", x)
	case kPtr:
		g.p("if d.Null() { %s = nil } else {", x)
		g.p("if %s == nil { %s = new(%s) }", x, x, t.elem.name)
		g.p("err = %s.decodeJSON(d)", x)
		g.p("}")
	case kSlice:
		g.p("err = decode%s(d, &%s)", ident(t.name), x)
	case kMap:
		g.p("if d.Null() { %s = nil } else {", x)
		g.p("var empty bool")
		g.p("if empty, err = d.ObjectStart(); err != nil { return err }")
		g.p("m := map[string]%s{}", t.elem.name)
		g.p("for !empty {")
		g.p("k, err := d.Key()")
		g.p("if err != nil { return err }")
		g.p("key := d.Intern(k)")
		g.p("var e %s", t.elem.name)
		g.p("mark := d.Mark()")
		g.decodeInto("e", t.elem)
		g.p("if err != nil { return err }")
		g.p("d.Flush(mark) // e's pending values, before e is copied")
		g.p("m[key] = e")
		g.p("more, err := d.ObjectNext()")
		g.p("if err != nil { return err }")
		g.p("empty = !more")
		g.p("}")
		g.p("%s = m", x)
		g.p("}")
	}
}

func (g *gen) writeSliceDecoder(el *typ) {
	g.p("")
	g.p("func decode%s(d *jsonwire.Decoder, p *[]%s) error {", ident("[]"+el.name), el.name)
	g.p("if d.Null() { *p = nil; return nil }")
	g.p("empty, err := d.ArrayStart()")
	g.p("if err != nil { return err }")
	g.p("if empty { *p = []%s{}; return nil }", el.name)
	g.p("s := *p")
	if el.kind == kPtr {
		// Elements come from blocks that are never grown in place, so
		// their addresses hold while their strings wait for the flush.
		g.p("var block []%s", el.elem.name)
		g.p("for {")
		g.p("if d.Null() { s = append(s, nil) } else {")
		g.p("if len(block) == cap(block) { block = make([]%s, 0, min(max(len(s), 8), 256)) }", el.elem.name)
		g.p("block = append(block, %s{})", el.elem.name)
		g.p("e := &block[len(block)-1]")
		g.p("if err := e.decodeJSON(d); err != nil { *p = s; return err }")
		g.p("s = append(s, e)")
		g.p("}")
	} else {
		g.p("for {")
		g.p("s = append(s, %s)", zero(el))
		if el.kind == kStruct {
			// The slice may move when it grows: the element's pending
			// values are set first.
			g.p("mark := d.Mark()")
			g.decodeInto("s[len(s)-1]", el)
			g.p("if err != nil { *p = s; return err }")
			g.p("d.Flush(mark)")
		} else {
			g.decodeInto("s[len(s)-1]", el)
			g.p("if err != nil { *p = s; return err }")
		}
	}
	g.p("more, err := d.ArrayNext()")
	g.p("if err != nil || !more { *p = s; return err }")
	g.p("}")
	g.p("}")
}

func zero(t *typ) string {
	switch t.kind {
	case kString:
		return `""`
	case kBool:
		return "false"
	case kInt64:
		return "0"
	case kStruct, kTime:
		return t.name + "{}"
	}
	return "nil"
}

func (g *gen) writeEncoder(m *model) {
	g.p("")
	g.p("func (v *%s) appendJSON(b []byte) ([]byte, error) {", m.name)
	g.p("var err error")
	g.p("_ = err")
	g.p("c := byte('{')")
	for _, f := range m.fields {
		x := "v." + f.goName
		cond := omitCond(x, f)
		if cond == "!"+x { // a bool: written when true
			g.p("if %s {", x)
		} else if cond != "" {
			g.p("if !(%s) {", cond)
		} else {
			g.p("{")
		}
		g.p("b = append(b, c)")
		g.p("c = ','")
		g.p("b = append(b, %q...)", strconv.Quote(f.jsonName)+":")
		g.encode(x, f.t)
		g.p("}")
	}
	g.p("if c == '{' { b = append(b, '{') }")
	g.p("return append(b, '}'), nil")
	g.p("}")
}

// omitCond is the condition under which encoding/json leaves the field out.
func omitCond(x string, f field) string {
	var conds []string
	if f.omitEmpty {
		switch f.t.kind {
		case kString:
			conds = append(conds, x+` == ""`)
		case kBool:
			conds = append(conds, "!"+x)
		case kInt64:
			conds = append(conds, x+" == 0")
		case kRaw, kSlice, kMap, kNullable:
			conds = append(conds, "len("+x+") == 0")
		case kPtr:
			conds = append(conds, x+" == nil")
		}
	}
	if z := isZero(x, f.t, true); f.omitZero && !slices.Contains(conds, z) {
		conds = append(conds, z)
	}
	return strings.Join(conds, " || ")
}

// isZero is the condition for reflect.Value.IsZero, or the type's IsZero
// method where encoding/json's omitzero calls it (method is true at the
// field's own level).
func isZero(x string, t *typ, method bool) string {
	switch t.kind {
	case kString:
		return x + ` == ""`
	case kBool:
		return "!" + x
	case kInt64:
		return x + " == 0"
	case kTime:
		if method {
			return x + ".IsZero()"
		}
		return x + " == (time.Time{})"
	case kStruct:
		return x + ".isZeroJSON()"
	}
	return x + " == nil"
}

// encode writes statements that append the value x.
func (g *gen) encode(x string, t *typ) {
	switch t.kind {
	case kString:
		g.p("b = jsonwire.AppendString(b, string(%s))", x)
	case kBool:
		g.p("b = jsonwire.AppendBool(b, bool(%s))", x)
	case kInt64:
		g.p("b = jsonwire.AppendInt64(b, int64(%s))", x)
	case kTime:
		g.p("if b, err = jsonwire.AppendTime(b, %s); err != nil { return b, err }", x)
	case kRaw:
		g.p("if b, err = jsonwire.AppendRaw(b, %s); err != nil { return b, err }", x)
	case kNullable:
		g.p("if %s.IsNull() { b = append(b, \"null\"...) } else {", x)
		g.p("nv := %s[true]", x)
		g.encode("nv", t.elem)
		g.p("}")
	case kStruct:
		g.p("if b, err = %s.appendJSON(b); err != nil { return b, err }", x)
	case kPtr:
		g.p("if %s == nil { b = append(b, \"null\"...) } else if b, err = %s.appendJSON(b); err != nil { return b, err }", x, x)
	case kSlice:
		g.p("if %s == nil { b = append(b, \"null\"...) } else {", x)
		g.p("b = append(b, '[')")
		g.p("for i := range %s {", x)
		g.p("if i > 0 { b = append(b, ',') }")
		g.encode(x+"[i]", t.elem)
		g.p("}")
		g.p("b = append(b, ']')")
		g.p("}")
	case kMap:
		g.p("if %s == nil { b = append(b, \"null\"...) } else {", x)
		g.p("b = append(b, '{')")
		g.p("for i, k := range slices.Sorted(maps.Keys(%s)) {", x)
		g.p("if i > 0 { b = append(b, ',') }")
		g.p("b = jsonwire.AppendString(b, k)")
		g.p("b = append(b, ':')")
		g.p("mv := %s[k]", x)
		g.encode("mv", t.elem)
		g.p("}")
		g.p("b = append(b, '}')")
		g.p("}")
	}
}

func (g *gen) writeIsZero(m *model) {
	g.p("")
	g.p("func (v *%s) isZeroJSON() bool {", m.name)
	if len(m.fields) == 0 {
		g.p("return true")
	} else {
		var conds []string
		for _, f := range m.fields {
			conds = append(conds, isZero("v."+f.goName, f.t, false))
		}
		g.p("return %s", strings.Join(conds, " &&\n"))
	}
	g.p("}")
}
