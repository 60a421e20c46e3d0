package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// explainDecode finds the first problem of a document that the strict
// decode refused, in document order, and names it by its key path
// (kafka.topic, alerts.rules[0].severity) rather than by Go type: an
// unknown key, or a value of the wrong kind (a duration, a number, true or
// false, a list, a mapping). It returns nil when it finds nothing (the
// caller then keeps the decoder's own message); it only reads, so the
// decoding itself stays yaml.v3's.
func explainDecode(data []byte, into any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil
	}
	w := &explainer{budget: maxExplainNodes}
	return w.node("", &doc, reflect.TypeOf(into))
}

// maxExplainNodes bounds the nodes explainDecode visits: aliases can make
// a small document a huge tree (yaml.v3 refuses to decode such a document;
// its explanation then stays the decoder's).
const maxExplainNodes = 100_000

// explainer walks a document beside the type it decodes into.
type explainer struct{ budget int }

var durationType = reflect.TypeOf(time.Duration(0))

func (w *explainer) node(path string, n *yaml.Node, t reflect.Type) error {
	if w.budget--; w.budget < 0 {
		return nil
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return w.node(path, n.Content[0], t)
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		if n.Kind != yaml.ScalarNode || n.Decode(new(time.Duration)) != nil {
			return kindError(path, n, "a duration like 1h, 15m or 90s")
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return kindError(path, n, "a mapping of keys")
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // a merge key: its mapping(s) hold keys of this one
				if err := w.merge(path, v, t); err != nil {
					return err
				}
				continue
			}
			f, ok := fields[k.Value]
			if !ok {
				return unknownKey(join(path, k.Value), k, fields)
			}
			if err := w.node(join(path, k.Value), v, f); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return kindError(path, n, "a mapping of keys")
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := w.node(join(path, n.Content[i].Value), n.Content[i+1], t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return kindError(path, n, "a list")
		}
		for i, v := range n.Content {
			if err := w.node(fmt.Sprintf("%s[%d]", path, i), v, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Interface:
	default:
		if n.Kind != yaml.ScalarNode || n.Decode(reflect.New(t).Interface()) != nil {
			return kindError(path, n, scalarKind(t))
		}
	}
	return nil
}

func (w *explainer) merge(path string, v *yaml.Node, t reflect.Type) error {
	for v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind == yaml.SequenceNode {
		for _, m := range v.Content {
			if err := w.node(path, m, t); err != nil {
				return err
			}
		}
		return nil
	}
	return w.node(path, v, t)
}

// yamlFields maps the YAML keys of struct type t to their field types, as
// yaml.v3 names them (the tag's name, else the lowercased field name;
// inline structs contribute their keys).
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func scalarKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return "a single value"
}

func kindError(path string, n *yaml.Node, want string) error {
	var got string
	switch n.Kind {
	case yaml.MappingNode:
		got = "a mapping"
	case yaml.SequenceNode:
		got = "a list"
	default:
		if strings.HasPrefix(want, "a list") || strings.HasPrefix(want, "a mapping") {
			got = "a single value"
		} else {
			got = fmt.Sprintf("%q", n.Value)
		}
	}
	if path == "" {
		path = "the document"
	}
	return fmt.Errorf("%s: must be %s, got %s (line %d)", path, want, got, n.Line)
}

// unknownKey names the key, suggests the nearest known one when it is a
// likely typo, and otherwise lists the keys its parent has.
func unknownKey(path string, k *yaml.Node, fields map[string]reflect.Type) error {
	known := make([]string, 0, len(fields))
	for name := range fields {
		known = append(known, name)
	}
	sort.Strings(known)
	best, bestDist := "", 3 // a typo: at most 2 edits away
	for _, name := range known {
		if d := editDistance(k.Value, name); d < bestDist {
			best, bestDist = name, d
		}
	}
	if best != "" {
		return fmt.Errorf("%s: unknown key at line %d (did you mean %s?)", path, k.Line, best)
	}
	return fmt.Errorf("%s: unknown key at line %d (known keys here: %s)", path, k.Line, strings.Join(known, ", "))
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
