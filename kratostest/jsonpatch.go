package kratostest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A minimal RFC 6902 implementation of the operations Kratos applies (add,
// remove, replace), with error messages in the style of the library Kratos
// uses (github.com/evanphx/json-patch).

type patchOp map[string]*json.RawMessage

// decodePatch decodes a JSON Patch document like jsonpatch.DecodePatch.
func decodePatch(body []byte) ([]patchOp, error) {
	var ops []patchOp
	if err := json.Unmarshal(body, &ops); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field == "" {
			return nil, fmt.Errorf("json: cannot unmarshal %s into Go value of type jsonpatch.Patch", ute.Value)
		}
		return nil, err
	}
	return ops, nil
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
	return "", errors.New("operation missing path field: missing value")
}

func (o patchOp) value() (any, error) {
	raw := o["value"]
	if raw == nil {
		return nil, errors.New("no value field: missing value")
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

func splitPointer(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("invalid path %q: it must start with a slash", path)
	}
	parts := strings.Split(path[1:], "/")
	for i, p := range parts {
		parts[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(p)
	}
	return parts, nil
}

// applyPatch applies ops to doc (which it may modify) and returns the result.
func applyPatch(doc any, ops []patchOp) (any, error) {
	for _, op := range ops {
		path, _ := op.path()
		parts, err := splitPointer(path)
		if err != nil {
			return nil, err
		}
		kind := op.kind()
		switch kind {
		case "add", "replace":
			v, err := op.value()
			if err != nil {
				return nil, fmt.Errorf("%s operation failed to decode value: %w", kind, err)
			}
			if len(parts) == 0 {
				doc = v
				continue
			}
			if err := setAt(doc, parts, v, kind, path); err != nil {
				return nil, err
			}
		case "remove":
			if len(parts) == 0 {
				return nil, fmt.Errorf("remove operation does not apply: doc is missing path: %q: missing value", path)
			}
			if err := removeAt(doc, parts, path); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("Unexpected kind: %s", kind)
		}
	}
	return doc, nil
}

// parent walks to the container of the last token.
func parent(doc any, parts []string) (any, bool) {
	cur := doc
	for _, p := range parts[:len(parts)-1] {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[p]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func setAt(doc any, parts []string, v any, kind, path string) error {
	con, ok := parent(doc, parts)
	if !ok {
		return fmt.Errorf("%s operation does not apply: doc is missing path: %q: missing value", kind, path)
	}
	last := parts[len(parts)-1]
	switch c := con.(type) {
	case map[string]any:
		if kind == "replace" {
			if _, ok := c[last]; !ok {
				return fmt.Errorf("replace operation does not apply: doc is missing key: %s: missing value", path)
			}
		}
		c[last] = v
		return nil
	case []any:
		if kind == "add" && last == "-" {
			return setSlice(doc, parts[:len(parts)-1], append(c, v))
		}
		i, err := strconv.Atoi(last)
		if err != nil {
			return fmt.Errorf("Unable to access invalid index: %s: invalid index referenced", last)
		}
		if kind == "replace" {
			if i < 0 || i >= len(c) {
				return fmt.Errorf("replace operation does not apply: doc is missing key: %s: missing value", path)
			}
			c[i] = v
			return nil
		}
		if i < 0 || i > len(c) {
			return fmt.Errorf("Unable to access invalid index: %d: invalid index referenced", i)
		}
		n := make([]any, 0, len(c)+1)
		n = append(append(append(n, c[:i]...), v), c[i:]...)
		return setSlice(doc, parts[:len(parts)-1], n)
	}
	return fmt.Errorf("%s operation does not apply: doc is missing path: %q: missing value", kind, path)
}

func removeAt(doc any, parts []string, path string) error {
	con, ok := parent(doc, parts)
	if !ok {
		return fmt.Errorf("remove operation does not apply: doc is missing path: %q: missing value", path)
	}
	last := parts[len(parts)-1]
	switch c := con.(type) {
	case map[string]any:
		if _, ok := c[last]; !ok {
			return fmt.Errorf("unable to remove nonexistent key: %s: missing value", last)
		}
		delete(c, last)
		return nil
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i < 0 || i >= len(c) {
			return fmt.Errorf("Unable to remove invalid index: %s: invalid index referenced", last)
		}
		n := append(append([]any{}, c[:i]...), c[i+1:]...)
		return setSlice(doc, parts[:len(parts)-1], n)
	}
	return fmt.Errorf("remove operation does not apply: doc is missing path: %q: missing value", path)
}

// setSlice stores a resized array at the pointer parts.
func setSlice(doc any, parts []string, n []any) error {
	if len(parts) == 0 {
		return errors.New("cannot resize the document root")
	}
	con, ok := parent(doc, parts)
	if !ok {
		return errors.New("missing value")
	}
	last := parts[len(parts)-1]
	switch c := con.(type) {
	case map[string]any:
		c[last] = n
	case []any:
		i, _ := strconv.Atoi(last)
		c[i] = n
	}
	return nil
}
