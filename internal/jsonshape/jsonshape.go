// Package jsonshape checks JSON documents against documented examples of their shape, so
// that a tool's --json output and its documentation (docs/json.md) cannot drift apart.
//
// An example is real JSON. A document matches it when it has the same shape: an object
// has exactly the example's keys (none missing, none extra), each value matching the
// example's; an array's every element matches one of the example's elements (an example
// with two elements documents two forms; an empty example array takes any elements); strings, numbers and booleans match their own kind
// only; an example null takes any value. Objects named as open take any keys and values
// (a model's metadata, say).
//
// Examples are found in Markdown by a comment naming them just before a json code block:
//
//	<!-- shape: NAME -->
//	```json
//	{"file": "shirt.png", "class": "Shirt"}
//	```
//
// or, for an object whose keys vary, <!-- shape: NAME open: metadata,labels -->, naming
// the open objects by their dotted paths, and for keys that may be absent,
// <!-- shape: NAME optional: providers.cuda.reason -->, and for values that may be null
// besides the example's kind (a difference that is infinite), <!-- shape: NAME nullable:
// max_abs_diff -->, in that order. "[]" in an optional or nullable path stands for any
// element of an array (data_sets[].outputs[].reason).
package jsonshape

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Shape is one named example.
type Shape struct {
	Name    string
	Example any      // the example, decoded
	Open    []string // dotted paths of the objects that take any keys
	// Optional holds the dotted paths of keys that a document may lack.
	Optional []string
	// Nullable holds the dotted paths of values that may be null.
	Nullable []string
}

// blockRE finds a shape comment and the json code block after it.
var blockRE = regexp.MustCompile("(?s)<!--\\s*shape:\\s*([A-Za-z0-9_./-]+)(?:\\s+open:\\s*([A-Za-z0-9_.,-]+))?(?:\\s+optional:\\s*([A-Za-z0-9_.,\\[\\]-]+))?(?:\\s+nullable:\\s*([A-Za-z0-9_.,\\[\\]-]+))?\\s*-->\\s*```json\\n(.*?)\\n```")

// Parse returns the named examples of a Markdown document. A name used twice or an
// example that is not JSON is an error.
func Parse(markdown []byte) (map[string]Shape, error) {
	shapes := map[string]Shape{}
	for _, m := range blockRE.FindAllSubmatch(markdown, -1) {
		name := string(m[1])
		if _, dup := shapes[name]; dup {
			return nil, fmt.Errorf("shape %q is documented twice", name)
		}
		var ex any
		if err := json.Unmarshal(m[5], &ex); err != nil {
			return nil, fmt.Errorf("shape %q: the example is not JSON: %v", name, err)
		}
		s := Shape{Name: name, Example: ex}
		if len(m[2]) > 0 {
			s.Open = strings.Split(string(m[2]), ",")
		}
		if len(m[3]) > 0 {
			s.Optional = strings.Split(string(m[3]), ",")
		}
		if len(m[4]) > 0 {
			s.Nullable = strings.Split(string(m[4]), ",")
		}
		shapes[name] = s
	}
	return shapes, nil
}

// Match checks one JSON document against the shape and returns the first difference,
// naming its path (e.g. "classes[3].recall"), or nil.
func (s Shape) Match(doc []byte) error {
	var v any
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if d.More() {
		return fmt.Errorf("more than one JSON value")
	}
	return s.match("", s.Example, v)
}

// kind names a decoded JSON value's kind.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64, json.Number:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func (s Shape) match(path string, ex, v any) error {
	where := path
	if where == "" {
		where = "the document"
	}
	if ex == nil || v == nil && listed(s.Nullable, path) {
		return nil
	}
	if kind(ex) != kind(v) {
		return fmt.Errorf("%s is %s, want %s", where, kind(v), kind(ex))
	}
	switch ex := ex.(type) {
	case map[string]any:
		if slices.Contains(s.Open, path) {
			return nil
		}
		obj := v.(map[string]any)
		for _, k := range sortedKeys(ex) {
			if _, ok := obj[k]; !ok && !listed(s.Optional, join(path, k)) {
				return fmt.Errorf("%s lacks the key %q", where, k)
			}
		}
		for _, k := range sortedKeys(obj) {
			if _, ok := ex[k]; !ok {
				return fmt.Errorf("%s has the undocumented key %q", where, k)
			}
			if err := s.match(join(path, k), ex[k], obj[k]); err != nil {
				return err
			}
		}
	case []any:
		if len(ex) == 0 {
			return nil
		}
		for i, e := range v.([]any) {
			// The first form's difference is the one reported when no form matches.
			p := fmt.Sprintf("%s[%d]", path, i)
			first := s.match(p, ex[0], e)
			for _, form := range ex[1:] {
				if first == nil {
					break
				}
				if s.match(p, form, e) == nil {
					first = nil
				}
			}
			if first != nil {
				return first
			}
		}
	}
	return nil
}

// indexRE matches an array index in a path.
var indexRE = regexp.MustCompile(`\[[0-9]+\]`)

// listed reports whether paths holds path as it is, or with each array index written "[]".
func listed(paths []string, path string) bool {
	return slices.Contains(paths, path) || slices.Contains(paths, indexRE.ReplaceAllString(path, "[]"))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
