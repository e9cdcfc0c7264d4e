//lint:file-ignore ST1005 the messages are the library's own, capitals included, because Kratos returns them

package kratostest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// JSON Patch as Kratos applies it: github.com/ory/x/jsonx.ApplyJSONPatch
// on top of github.com/evanphx/json-patch/v5. In particular:
//   - the patch is decoded and validated first: add and replace need a
//     "value" key (JSON null is a value), move and copy a "from";
//   - only add, remove and replace are applied ("unsupported operation");
//   - a replace whose path does not end in an array index becomes an add,
//     and adds create missing parent objects (EnsurePathExistsOnAdd), so
//     replacing an absent key works;
//   - error texts follow the library's ("...: missing value"), and so do
//     its corner cases: a path without a leading slash reaches nothing,
//     adds pad arrays with nulls up to the index they name, "" below the
//     top level reaches nothing, a null document refuses every change.
//
// Every input is answered, none panics: FuzzPatchIdentity (fuzz_test.go)
// runs the patch handler over arbitrary documents.

type patchOp map[string]*json.RawMessage

var errMissing = errors.New("missing value")

// decodePatch decodes and validates a JSON Patch document like
// jsonpatch.DecodePatch.
func decodePatch(body []byte) ([]patchOp, error) {
	if !json.Valid(body) {
		return nil, errors.New("invalid state detected")
	}
	var ops []patchOp
	if err := json.Unmarshal(body, &ops); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field == "" {
			return nil, fmt.Errorf("json: cannot unmarshal %s into Go value of type jsonpatch.Patch", ute.Value)
		}
		return nil, err
	}
	for _, op := range ops {
		if err := validateOp(op); err != nil {
			data, _ := json.Marshal(op)
			return nil, fmt.Errorf("invalid operation %s: %w", data, err)
		}
	}
	return ops, nil
}

func validateOp(op patchOp) error {
	switch op.kind() {
	case "add", "replace":
		if _, ok := op["value"]; !ok {
			return fmt.Errorf("failed to decode 'value': operation, missing value field: %w", errMissing)
		}
	case "move", "copy":
		if _, ok := op.str("from"); !ok {
			return fmt.Errorf("failed to decode 'from': operation, missing from field: %w", errMissing)
		}
	case "remove", "test":
	default:
		return errors.New("unsupported operation")
	}
	if _, err := op.path(); err != nil {
		return fmt.Errorf("failed to decode 'path': %w", err)
	}
	return nil
}

func (o patchOp) str(key string) (string, bool) {
	raw := o[key]
	if raw == nil {
		return "", false
	}
	var s string
	if json.Unmarshal(*raw, &s) != nil {
		return "", false
	}
	return s, true
}

func (o patchOp) kind() string {
	if k, ok := o.str("op"); ok {
		return k
	}
	return "unknown"
}

func (o patchOp) path() (string, error) {
	if p, ok := o.str("path"); ok {
		return p, nil
	}
	return "unknown", fmt.Errorf("operation missing path field: %w", errMissing)
}

// value is the operation's value; JSON null (and a missing value, which
// decodePatch already refused for add and replace) is nil.
func (o patchOp) value() (any, error) {
	raw := o["value"]
	if raw == nil {
		return nil, nil
	}
	return decodeValue(*raw)
}

// decodeValue decodes JSON keeping numbers as json.Number.
func decodeValue(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeKey unescapes a JSON Pointer token as json-patch does.
var decodeKey = strings.NewReplacer("~1", "/", "~0", "~").Replace

// The patched document is a tree of decoded JSON (map[string]any, string,
// json.Number, bool, nil for null) whose arrays are *jarray, so that an
// array grown in place is seen by its parent, as json-patch's are.
type jarray struct{ items []any }

func (a *jarray) MarshalJSON() ([]byte, error) {
	if a.items == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(a.items)
}

// toTree turns decoded JSON into the patch tree (arrays as *jarray).
func toTree(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = toTree(e)
		}
		return x
	case []any:
		for k, e := range x {
			x[k] = toTree(e)
		}
		return &jarray{items: x}
	}
	return v
}

// deepCopy copies a patch tree.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case *jarray:
		a := &jarray{items: make([]any, len(x.items))}
		for k, e := range x.items {
			a.items[k] = deepCopy(e)
		}
		return a
	}
	return v
}

// document is the patched document. root is nil once a patch has made it
// null (add at "" with null), which json-patch keeps until it is written.
type document struct{ root any }

var (
	errInvalidState   = errors.New("invalid state detected")
	errExpectedObject = errors.New("invalid value, expected object")
)

// isElementAccess reports whether a path ends in an array index or "-".
func isElementAccess(path string) bool {
	if path == "" {
		return false
	}
	last := path[strings.LastIndexByte(path, '/')+1:]
	if last == "-" {
		return true
	}
	_, err := strconv.Atoi(last)
	return err == nil
}

// applyPatch applies validated ops to doc (which it may modify) and returns
// the result. Only add, remove and replace reach it.
func applyPatch(doc any, ops []patchOp) (any, error) {
	d := &document{root: toTree(doc)}
	for _, op := range ops {
		path, _ := op.path()
		kind := op.kind()
		if kind == "replace" && !isElementAccess(path) {
			kind = "add"
		}
		var err error
		switch kind {
		case "add":
			err = d.add(op, path)
		case "replace":
			err = d.replace(op, path)
		case "remove":
			err = d.remove(path)
		default:
			err = fmt.Errorf("Unexpected kind: %s", kind)
		}
		if err != nil {
			return nil, err
		}
	}
	if d.root == nil {
		return nil, errors.New("json: error calling MarshalJSON for type *jsonpatch.partialDoc: invalid value, expected object")
	}
	return d.root, nil
}

func (d *document) add(op patchOp, path string) error {
	v, err := op.value()
	if err != nil {
		return err
	}
	v = toTree(v)
	if path == "" {
		// The whole document: an object or an array; null is kept and
		// refused later; other values cannot be a document.
		switch v.(type) {
		case map[string]any, *jarray, nil:
			d.root = v
			return nil
		}
		return fmt.Errorf("json: cannot unmarshal %s into Go value of type map[string]*jsonpatch.lazyNode", jsonKind(v))
	}
	if err := d.ensurePath(path); err != nil {
		return err
	}
	con, key := d.find(path)
	if con == nil {
		return fmt.Errorf("add operation does not apply: doc is missing path: \"%s\": %w", path, errMissing)
	}
	if err := con.add(key, v); err != nil {
		return fmt.Errorf("error in add for path: '%s': %w", path, err)
	}
	return nil
}

func (d *document) replace(op patchOp, path string) error {
	v, err := op.value()
	if err != nil {
		return err
	}
	con, key := d.find(path)
	if con == nil {
		return fmt.Errorf("replace operation does not apply: doc is missing path: %s: %w", path, errMissing)
	}
	if _, err := con.get(key); err != nil {
		return fmt.Errorf("replace operation does not apply: doc is missing key: %s: %w", path, errMissing)
	}
	if err := con.set(key, toTree(v)); err != nil {
		return fmt.Errorf("error in remove for path: '%s': %w", path, err)
	}
	return nil
}

func (d *document) remove(path string) error {
	con, key := d.find(path)
	if con == nil {
		return fmt.Errorf("remove operation does not apply: doc is missing path: \"%s\": %w", path, errMissing)
	}
	if err := con.remove(key); err != nil {
		return fmt.Errorf("error in remove for path: '%s': %w", path, err)
	}
	return nil
}

// jsonKind names a value's JSON type as encoding/json's errors do.
func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case json.Number:
		return "number"
	case *jarray:
		return "array"
	case nil:
		return "null"
	}
	return "object"
}

// container is an object or an array inside the document.
type container interface {
	get(key string) (any, error)
	set(key string, v any) error
	add(key string, v any) error
	remove(key string) error
}

// containerOf is the container a value is, or nil for a scalar.
func containerOf(v any) container {
	switch c := v.(type) {
	case map[string]any:
		return objectC(c)
	case *jarray:
		return (*arrayC)(c)
	}
	return nil
}

// rootContainer is the document's top level (a null one refuses all).
func (d *document) rootContainer() container {
	if d.root == nil {
		return nullC{}
	}
	return containerOf(d.root)
}

// child is what token key of cur holds, as json-patch's get sees it: ""
// is the container itself, which only the top level knows (a copy: what
// is done to it is lost); a JSON null is nothing.
func (d *document) child(cur container, atRoot bool, key string) (any, error) {
	if key == "" {
		if atRoot && d.root != nil {
			return deepCopy(d.root), nil
		}
		return nil, nil
	}
	return cur.get(key)
}

// find returns the container of the path's last token and that token
// (json-patch's findObject), or nil.
func (d *document) find(path string) (container, string) {
	split := strings.Split(path, "/")
	if len(split) < 2 {
		if path == "" {
			return d.rootContainer(), ""
		}
		return nil, ""
	}
	cur := d.rootContainer()
	for k, part := range split[1 : len(split)-1] {
		next, err := d.child(cur, k == 0, decodeKey(part))
		if err != nil || next == nil {
			return nil, ""
		}
		if cur = containerOf(next); cur == nil {
			return nil, ""
		}
	}
	return cur, decodeKey(split[len(split)-1])
}

// ensurePath creates the missing parents of path's last token
// (json-patch's ensurePathExists with EnsurePathExistsOnAdd): an array,
// padded with nulls up to the index, when the following token is an index
// or "-", an object otherwise. As there, a parent that cannot be added is
// left detached (the add then finds no path), and an existing scalar on
// the way is an invalid state.
func (d *document) ensurePath(path string) error {
	split := strings.Split(path, "/")
	if len(split) < 2 {
		return nil
	}
	parts := split[1:]
	cur := d.rootContainer()
	for k, part := range parts[:len(parts)-1] {
		target, err := d.child(cur, k == 0, decodeKey(part))
		if target != nil && err == nil {
			if cur = containerOf(target); cur == nil {
				return errInvalidState
			}
			continue
		}
		if n, err := strconv.Atoi(part); err == nil {
			if a, ok := cur.(*arrayC); ok && n >= len(a.items)+1 {
				for i := len(a.items); i <= n-1; i++ {
					_ = a.add(strconv.Itoa(i), nil)
				}
			}
		}
		following := parts[k+1]
		if n, err := strconv.Atoi(following); err == nil || following == "-" {
			if n < -1 {
				return fmt.Errorf("Unable to ensure path for negative index other than -1: %d: %w", n, errInvalidIndex)
			}
			a := &jarray{items: []any{}}
			_ = cur.add(part, a) // as json-patch: an error leaves it detached
			for i := 0; i < max(n, 0); i++ {
				_ = (*arrayC)(a).add(strconv.Itoa(i), nil)
			}
			cur = (*arrayC)(a)
		} else {
			m := map[string]any{}
			_ = cur.add(part, m)
			cur = objectC(m)
		}
	}
	return nil
}

type objectC map[string]any

func (o objectC) get(key string) (any, error) {
	v, ok := o[key]
	if !ok {
		return nil, fmt.Errorf("unable to get nonexistent key: %s: %w", key, errMissing)
	}
	return v, nil
}
func (o objectC) set(key string, v any) error { o[key] = v; return nil }
func (o objectC) add(key string, v any) error { o[key] = v; return nil }
func (o objectC) remove(key string) error {
	if _, ok := o[key]; !ok {
		return fmt.Errorf("unable to remove nonexistent key: %s: %w", key, errMissing)
	}
	delete(o, key)
	return nil
}

// nullC is a document made null: json-patch's partialDoc without object.
type nullC struct{}

func (nullC) get(string) (any, error) { return nil, errExpectedObject }
func (nullC) set(string, any) error   { return errExpectedObject }
func (nullC) add(string, any) error   { return errExpectedObject }
func (nullC) remove(string) error     { return errExpectedObject }

var errInvalidIndex = errors.New("invalid index referenced")

// arrayC is an array of the document, grown and shrunk in place.
type arrayC jarray

// index resolves an index token; negative ones count from the end.
func (a *arrayC) index(key string, limit int) (int, error) {
	i, err := strconv.Atoi(key)
	if err != nil {
		return 0, err
	}
	if i < 0 {
		if i < -limit {
			return 0, fmt.Errorf("Unable to access invalid index: %d: %w", i, errInvalidIndex)
		}
		i += limit
	}
	return i, nil
}

func (a *arrayC) get(key string) (any, error) {
	i, err := a.index(key, len(a.items))
	if err != nil {
		return nil, err
	}
	if i >= len(a.items) {
		return nil, fmt.Errorf("Unable to access invalid index: %d: %w", i, errInvalidIndex)
	}
	return a.items[i], nil
}

func (a *arrayC) set(key string, v any) error {
	i, err := a.index(key, len(a.items))
	if err != nil {
		return err
	}
	if i >= len(a.items) {
		return fmt.Errorf("Unable to access invalid index: %d: %w", i, errInvalidIndex)
	}
	a.items[i] = v
	return nil
}

func (a *arrayC) add(key string, v any) error {
	if key == "-" {
		a.items = append(a.items, v)
		return nil
	}
	i, err := strconv.Atoi(key)
	if err != nil {
		return fmt.Errorf("value was not a proper array index: '%s': %w", key, err)
	}
	n := len(a.items) + 1
	if i >= n {
		return fmt.Errorf("Unable to access invalid index: %d: %w", i, errInvalidIndex)
	}
	if i < 0 {
		if i < -n {
			return fmt.Errorf("Unable to access invalid index: %d: %w", i, errInvalidIndex)
		}
		i += n
	}
	a.items = slices.Insert(a.items, i, v)
	return nil
}

func (a *arrayC) remove(key string) error {
	i, err := strconv.Atoi(key)
	if err != nil {
		return err
	}
	if i >= len(a.items) {
		return fmt.Errorf("Unable to access invalid index: %d: %w", i, errInvalidIndex)
	}
	if i < 0 {
		if i < -len(a.items) {
			return fmt.Errorf("Unable to access invalid index: %d: %w", i, errInvalidIndex)
		}
		i += len(a.items)
	}
	a.items = slices.Delete(a.items, i, i+1)
	return nil
}
