//lint:file-ignore ST1005 the messages are the library's own, capitals included, because Kratos returns them

package kratostest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
//   - error texts follow the library's ("...: missing value").

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

// splitPointer splits a JSON Pointer the way json-patch does (a path
// without a leading slash reaches no container).
func splitPointer(path string) []string {
	parts := strings.Split(path, "/")[1:]
	for i, p := range parts {
		parts[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(p)
	}
	return parts
}

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
	for _, op := range ops {
		path, _ := op.path()
		kind := op.kind()
		if kind == "replace" && !isElementAccess(path) {
			kind = "add"
		}
		var err error
		switch kind {
		case "add":
			doc, err = patchAdd(doc, op, path)
		case "replace":
			err = patchReplace(doc, op, path)
		case "remove":
			doc, err = patchRemove(doc, path)
		default:
			err = fmt.Errorf("Unexpected kind: %s", kind)
		}
		if err != nil {
			return nil, err
		}
	}
	return doc, nil
}

func patchAdd(doc any, op patchOp, path string) (any, error) {
	v, err := op.value()
	if err != nil {
		return nil, err
	}
	if path == "" {
		return v, nil
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("add operation does not apply: doc is missing path: %q: %w", path, errMissing)
	}
	parts := splitPointer(path)
	con, err := ensurePath(doc, parts)
	if err != nil {
		return nil, err
	}
	key := parts[len(parts)-1]
	if err := con.add(key, v); err != nil {
		return nil, fmt.Errorf("error in add for path: '%s': %w", path, err)
	}
	return doc, nil
}

func patchReplace(doc any, op patchOp, path string) error {
	v, err := op.value()
	if err != nil {
		return err
	}
	parts := splitPointer(path)
	con := findContainer(doc, parts)
	if con == nil {
		return fmt.Errorf("replace operation does not apply: doc is missing path: %s: %w", path, errMissing)
	}
	key := parts[len(parts)-1]
	if _, err := con.get(key); err != nil {
		return fmt.Errorf("replace operation does not apply: doc is missing key: %s: %w", path, errMissing)
	}
	return con.set(key, v)
}

func patchRemove(doc any, path string) (any, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("remove operation does not apply: doc is missing path: %q: %w", path, errMissing)
	}
	parts := splitPointer(path)
	con := findContainer(doc, parts)
	if con == nil {
		return nil, fmt.Errorf("remove operation does not apply: doc is missing path: %q: %w", path, errMissing)
	}
	if err := con.remove(parts[len(parts)-1]); err != nil {
		return nil, fmt.Errorf("error in remove for path: '%s': %w", path, err)
	}
	return doc, nil
}

// container is an object or an array inside the document, addressed by
// its parent so that arrays can grow.
type container interface {
	get(key string) (any, error)
	set(key string, v any) error
	add(key string, v any) error
	remove(key string) error
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

var errInvalidIndex = errors.New("invalid index referenced")

// arrayC is an array held in slot key of parent (an objectC or arrayC).
type arrayC struct {
	parent container
	key    string
	items  []any
}

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
		return a.store(append(a.items, v))
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
	items := make([]any, 0, n)
	items = append(append(append(items, a.items[:i]...), v), a.items[i:]...)
	return a.store(items)
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
	items := append(append([]any{}, a.items[:i]...), a.items[i+1:]...)
	return a.store(items)
}

func (a *arrayC) store(items []any) error {
	a.items = items
	return a.parent.set(a.key, items)
}

// root wraps the document so that its top level can be addressed.
type rootC struct{ doc *any }

func (r rootC) get(string) (any, error)   { return *r.doc, nil }
func (r rootC) set(_ string, v any) error { *r.doc = v; return nil }
func (r rootC) add(_ string, v any) error { *r.doc = v; return nil }
func (r rootC) remove(string) error       { return errors.New("cannot remove the document") }

// wrap turns a value found at parent[key] into a container.
func wrap(parent container, key string, v any) container {
	switch c := v.(type) {
	case map[string]any:
		return objectC(c)
	case []any:
		return &arrayC{parent: parent, key: key, items: c}
	}
	return nil
}

// findContainer returns the container of the last token of parts, or nil.
func findContainer(doc any, parts []string) container {
	var cur container = wrap(rootC{&doc}, "", doc)
	for _, p := range parts[:len(parts)-1] {
		if cur == nil {
			return nil
		}
		next, err := cur.get(p)
		if err != nil || next == nil {
			return nil
		}
		cur = wrap(cur, p, next)
	}
	return cur
}

// ensurePath returns the container of the last token, creating missing
// parents: an array when the following token is an index or "-", an
// object otherwise (json-patch's EnsurePathExistsOnAdd).
func ensurePath(doc any, parts []string) (container, error) {
	var cur container = wrap(rootC{&doc}, "", doc)
	for i, p := range parts[:len(parts)-1] {
		if cur == nil {
			return nil, fmt.Errorf("add operation does not apply: doc is missing path: %q: %w", "/"+strings.Join(parts, "/"), errMissing)
		}
		next, err := cur.get(p)
		if err != nil || next == nil {
			following := parts[i+1]
			if _, aerr := strconv.Atoi(following); aerr == nil || following == "-" {
				next = []any{}
			} else {
				next = map[string]any{}
			}
			if err := cur.add(p, next); err != nil {
				return nil, err
			}
		}
		cur = wrap(cur, p, next)
	}
	if cur == nil {
		return nil, fmt.Errorf("add operation does not apply: doc is missing path: %q: %w", "/"+strings.Join(parts, "/"), errMissing)
	}
	return cur, nil
}
