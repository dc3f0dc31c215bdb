package grammar

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Bounds on a schema, so that a hostile one costs bounded time and memory.
const (
	MaxSchemaBytes = 1 << 20 // the schema's JSON text
	maxSchemaNest  = 64      // nesting of the schema's JSON
	maxNodes       = 10000   // compiled nodes
	maxLiterals    = 4096    // enum and const values, all told
	maxLitBytes    = 1 << 16 // their JSON text, all told
	maxProps       = 1000    // properties of one object
	maxMinBound    = 4096    // minLength and minItems
)

// SchemaError is a schema the compiler refuses; Path is a JSON pointer to
// the offending part ("#/properties/a").
type SchemaError struct {
	Path, Msg string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("grammar: schema at %s: %s", e.Path, e.Msg)
}

// keywords the compiler applies; annotations it ignores.
var (
	applied = map[string]bool{
		"type": true, "properties": true, "required": true, "additionalProperties": true,
		"items": true, "enum": true, "const": true, "anyOf": true, "oneOf": true,
		"minItems": true, "maxItems": true, "minLength": true, "maxLength": true,
		"$defs": true, "definitions": true, "$ref": true,
	}
	annotation = map[string]bool{
		"title": true, "description": true, "default": true, "examples": true,
		"$schema": true, "$id": true, "$comment": true, "deprecated": true,
		"readOnly": true, "writeOnly": true,
	}
)

// Schema compiles a JSON schema (the common subset: type, properties,
// required, additionalProperties, items, enum, const, anyOf/oneOf of
// distinct types, minItems/maxItems, minLength/maxLength, local $ref to
// $defs/definitions) into the grammar of its instances. Properties are
// generated in the schema's order; properties it does not declare only
// when additionalProperties allows them explicitly (or when it declares
// none: {"type": "object"} is any object). Other keywords that
// constrain values are refused with a SchemaError naming them.
func Schema(data []byte) (*Grammar, error) {
	if len(data) > MaxSchemaBytes {
		return nil, &SchemaError{"#", fmt.Sprintf("%d bytes; at most %d", len(data), MaxSchemaBytes)}
	}
	v, err := parseJSON(data, maxSchemaNest)
	if err != nil {
		return nil, &SchemaError{"#", "not JSON: " + err.Error()}
	}
	c := &compiler{doc: v, refs: map[string]*node{}, busy: map[*node]bool{}}
	root, err := c.compile(v, "#", 0)
	if err != nil {
		return nil, err
	}
	for _, n := range c.all {
		if n.kind == kUnion && n.first == nil {
			if err := n.resolve(&c.all); err != nil {
				return nil, &SchemaError{n.path, err.Error()}
			}
		}
	}
	g := finish(root, c.all)
	if root.min >= infinite {
		return nil, &SchemaError{"#", "the schema has no instance shorter than 1 GiB (a required property or item refers back to itself, or minItems and minLength multiply past it)"}
	}
	return g, nil
}

type compiler struct {
	doc      any
	refs     map[string]*node // compiled $ref targets
	busy     map[*node]bool   // $ref targets being compiled
	all      []*node
	any      *node
	lits     int
	litBytes int
}

func (c *compiler) newNode(n node, path string) (*node, error) {
	if len(c.all) >= maxNodes {
		return nil, &SchemaError{path, fmt.Sprintf("the schema needs more than %d nodes", maxNodes)}
	}
	p := &n
	c.all = append(c.all, p)
	return p, nil
}

// anyNode is the shared node of any JSON value.
func (c *compiler) anyNode() *node {
	if c.any == nil {
		c.any = anyValue(maxAnyDepth-1, &c.all)
	}
	return c.any
}

func (c *compiler) compile(s any, path string, depth int) (*node, error) {
	if depth > maxSchemaNest {
		return nil, &SchemaError{path, fmt.Sprintf("schemas nested deeper than %d", maxSchemaNest)}
	}
	switch s := s.(type) {
	case bool:
		if !s {
			return nil, &SchemaError{path, "the schema false matches nothing"}
		}
		return c.anyNode(), nil
	case *object:
		return c.compileObject(s, path, depth)
	}
	return nil, &SchemaError{path, "a schema must be an object or a boolean"}
}

func (c *compiler) compileObject(s *object, path string, depth int) (*node, error) {
	var unsupported []string
	assertions := 0
	for _, k := range s.keys {
		switch {
		case applied[k]:
			if k != "$defs" && k != "definitions" {
				assertions++
			}
		case !annotation[k]:
			unsupported = append(unsupported, strconv.Quote(k))
		}
	}
	if len(unsupported) > 0 {
		return nil, &SchemaError{path, fmt.Sprintf("keyword %s is not supported", strings.Join(unsupported, ", "))}
	}
	if ref, ok := s.get("$ref"); ok {
		if assertions > 1 {
			return nil, &SchemaError{path, "$ref beside other keywords is not supported"}
		}
		r, ok := ref.(string)
		if !ok {
			return nil, &SchemaError{path + "/$ref", "must be a string"}
		}
		return c.ref(r, path, depth)
	}
	_, hasEnum := s.get("enum")
	_, hasConst := s.get("const")
	if hasEnum || hasConst {
		return c.literals(s, path)
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := s.get(k); ok {
			if assertions > 1 {
				return nil, &SchemaError{path, k + " beside other keywords is not supported"}
			}
			return c.alternatives(alts, k, path, depth)
		}
	}
	types, err := schemaTypes(s, path)
	if err != nil {
		return nil, err
	}
	if types == nil {
		switch {
		case has(s, "properties", "required", "additionalProperties"):
			types = []string{"object"}
		case has(s, "items", "minItems", "maxItems"):
			types = []string{"array"}
		case has(s, "minLength", "maxLength"):
			types = []string{"string"}
		default:
			return c.anyNode(), nil
		}
	}
	var alts []*node
	for _, t := range types {
		n, err := c.typed(s, t, path, depth)
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	return c.union(alts, false, path)
}

func has(s *object, keys ...string) bool {
	for _, k := range keys {
		if _, ok := s.get(k); ok {
			return true
		}
	}
	return false
}

// schemaTypes reads "type": a name or an array of names; nil when absent.
func schemaTypes(s *object, path string) ([]string, error) {
	t, ok := s.get("type")
	if !ok {
		return nil, nil
	}
	var names []string
	switch t := t.(type) {
	case string:
		names = []string{t}
	case []any:
		for _, x := range t {
			name, ok := x.(string)
			if !ok {
				return nil, &SchemaError{path + "/type", "must be a string or an array of strings"}
			}
			names = append(names, name)
		}
	default:
		return nil, &SchemaError{path + "/type", "must be a string or an array of strings"}
	}
	if len(names) == 0 {
		return nil, &SchemaError{path + "/type", "no type"}
	}
	for _, n := range names {
		switch n {
		case "object", "array", "string", "number", "integer", "boolean", "null":
		default:
			return nil, &SchemaError{path + "/type", fmt.Sprintf("unknown type %q", n)}
		}
	}
	return names, nil
}

// typed compiles s for one of its types.
func (c *compiler) typed(s *object, t, path string, depth int) (*node, error) {
	switch t {
	case "object":
		return c.objectNode(s, path, depth)
	case "array":
		n := node{kind: kArray, maxItems: -1}
		var err error
		if n.minItems, err = bound(s, "minItems", path, maxMinBound, 0); err != nil {
			return nil, err
		}
		if n.maxItems, err = bound(s, "maxItems", path, 1<<30, -1); err != nil {
			return nil, err
		}
		if n.maxItems >= 0 && n.minItems > n.maxItems {
			return nil, &SchemaError{path, fmt.Sprintf("minItems %d above maxItems %d", n.minItems, n.maxItems)}
		}
		items, ok := s.get("items")
		switch {
		case !ok:
			n.items = c.anyNode()
		case isArray(items):
			return nil, &SchemaError{path + "/items", "items as an array (tuple) is not supported"}
		default:
			if n.items, err = c.compile(items, path+"/items", depth+1); err != nil {
				return nil, err
			}
		}
		return c.newNode(n, path)
	case "string":
		n := node{kind: kString}
		var err error
		if n.minLen, err = bound(s, "minLength", path, maxMinBound, 0); err != nil {
			return nil, err
		}
		if n.maxLen, err = bound(s, "maxLength", path, 1<<30, -1); err != nil {
			return nil, err
		}
		if n.maxLen >= 0 && n.minLen > n.maxLen {
			return nil, &SchemaError{path, fmt.Sprintf("minLength %d above maxLength %d", n.minLen, n.maxLen)}
		}
		return c.newNode(n, path)
	case "number", "integer":
		return c.newNode(node{kind: kNumber, integer: t == "integer"}, path)
	case "boolean":
		return c.newNode(node{kind: kChoice, lits: []string{"false", "true"}}, path)
	}
	return c.newNode(node{kind: kChoice, lits: []string{"null"}}, path)
}

func isArray(v any) bool {
	_, ok := v.([]any)
	return ok
}

// bound reads a non-negative integer keyword, at most hi; def when absent.
func bound(s *object, k, path string, hi, def int) (int, error) {
	v, ok := s.get(k)
	if !ok {
		return def, nil
	}
	num, ok := v.(json.Number)
	i, err := num.Int64()
	if !ok || err != nil || i < 0 {
		return 0, &SchemaError{path + "/" + k, "must be a non-negative integer"}
	}
	if i > int64(hi) {
		return 0, &SchemaError{path + "/" + k, fmt.Sprintf("%d is above the supported %d", i, hi)}
	}
	return int(i), nil
}

func (c *compiler) objectNode(s *object, path string, depth int) (*node, error) {
	n := node{kind: kObject}
	if p, ok := s.get("properties"); ok {
		props, ok := p.(*object)
		if !ok {
			return nil, &SchemaError{path + "/properties", "must be an object"}
		}
		if len(props.keys) > maxProps {
			return nil, &SchemaError{path + "/properties", fmt.Sprintf("%d properties; at most %d", len(props.keys), maxProps)}
		}
		for _, k := range props.keys {
			pn, err := c.compile(props.vals[k], path+"/properties/"+pointerEscape(k), depth+1)
			if err != nil {
				return nil, err
			}
			n.props = append(n.props, prop{name: keyText(k), node: pn})
		}
	}
	a, ok := s.get("additionalProperties")
	if _, declared := s.get("properties"); !ok && !declared {
		a, ok = true, true // no properties declared: any object
	}
	if ok {
		switch a := a.(type) {
		case bool:
			if a {
				n.add = c.anyNode()
			}
		default:
			add, err := c.compile(a, path+"/additionalProperties", depth+1)
			if err != nil {
				return nil, err
			}
			n.add = add
		}
	}
	if r, ok := s.get("required"); ok {
		list, ok := r.([]any)
		if !ok {
			return nil, &SchemaError{path + "/required", "must be an array of strings"}
		}
		for _, x := range list {
			name, ok := x.(string)
			if !ok {
				return nil, &SchemaError{path + "/required", "must be an array of strings"}
			}
			text := keyText(name)
			found := false
			for i := range n.props {
				if n.props[i].name == text {
					n.props[i].required, found = true, true
				}
			}
			if !found {
				if n.add == nil {
					return nil, &SchemaError{path + "/required", fmt.Sprintf("property %q is required but not declared, and additionalProperties does not allow it", name)}
				}
				if len(n.props) >= maxProps {
					return nil, &SchemaError{path + "/required", "too many properties"}
				}
				n.props = append(n.props, prop{name: text, node: n.add, required: true})
			}
		}
	}
	return c.newNode(n, path)
}

// keyText returns a property name as JSON writes it between its quotes.
// (Trimming the quotes would also eat an escaped quote that ends it.)
func keyText(name string) string {
	q := quote(name)
	return q[1 : len(q)-1]
}

// pointerEscape escapes a key for a JSON pointer.
func pointerEscape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

// literals compiles enum or const (with type, when present, filtering the
// values).
func (c *compiler) literals(s *object, path string) (*node, error) {
	var vals []any
	if e, ok := s.get("enum"); ok {
		list, ok := e.([]any)
		if !ok || len(list) == 0 {
			return nil, &SchemaError{path + "/enum", "must be a non-empty array"}
		}
		vals = list
	}
	if k, ok := s.get("const"); ok {
		vals = []any{k}
	}
	types, err := schemaTypes(s, path)
	if err != nil {
		return nil, err
	}
	n := node{kind: kChoice}
	for _, v := range vals {
		if types != nil && !typeAllows(types, jsonType(v)) {
			continue
		}
		var sb strings.Builder
		canonical(&sb, v)
		c.lits++
		c.litBytes += sb.Len()
		if c.lits > maxLiterals || c.litBytes > maxLitBytes {
			return nil, &SchemaError{path, fmt.Sprintf("more than %d enum values or %d bytes of them", maxLiterals, maxLitBytes)}
		}
		n.lits = append(n.lits, sb.String())
	}
	if len(n.lits) == 0 {
		return nil, &SchemaError{path, "no enum value has the schema's type"}
	}
	sort.Strings(n.lits)
	n.lits = slicesCompact(n.lits)
	return c.newNode(n, path)
}

func typeAllows(types []string, t string) bool {
	for _, x := range types {
		if x == t || x == "number" && t == "integer" {
			return true
		}
	}
	return false
}

// alternatives compiles anyOf or oneOf.
func (c *compiler) alternatives(v any, k, path string, depth int) (*node, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, &SchemaError{path + "/" + k, "must be a non-empty array of schemas"}
	}
	var alts []*node
	for i, s := range list {
		n, err := c.compile(s, fmt.Sprintf("%s/%s/%d", path, k, i), depth+1)
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	return c.union(alts, k == "oneOf", path+"/"+k)
}

// union joins alternatives; resolve checks and tables them once every
// reference is compiled.
func (c *compiler) union(alts []*node, oneOf bool, path string) (*node, error) {
	if len(alts) == 1 {
		return alts[0], nil
	}
	return c.newNode(node{kind: kUnion, alts: alts, oneOf: oneOf, path: path}, path)
}

// ref compiles the target of a local $ref ("#", "#/$defs/name", any JSON
// pointer into the document). Each target is compiled once, so recursive
// schemas make cyclic grammars.
func (c *compiler) ref(r, path string, depth int) (*node, error) {
	if n, ok := c.refs[r]; ok {
		return n, nil // maybe still being compiled: a recursive reference
	}
	target, err := resolvePointer(c.doc, r)
	if err != nil {
		return nil, &SchemaError{path + "/$ref", err.Error()}
	}
	ph, err := c.newNode(node{}, path)
	if err != nil {
		return nil, err
	}
	c.refs[r] = ph
	c.busy[ph] = true
	n, err := c.compile(target, r, depth+1)
	if err != nil {
		return nil, err
	}
	delete(c.busy, ph)
	if c.busy[n] || n == ph {
		return nil, &SchemaError{path + "/$ref", fmt.Sprintf("%q refers to itself with no schema between", r)}
	}
	*ph = *n
	return ph, nil
}

// resolvePointer finds a local JSON pointer reference in doc.
func resolvePointer(doc any, r string) (any, error) {
	rest, ok := strings.CutPrefix(r, "#")
	if !ok {
		return nil, fmt.Errorf("only local references (#...) are supported, got %q", r)
	}
	if rest == "" {
		return doc, nil
	}
	if !strings.HasPrefix(rest, "/") {
		return nil, fmt.Errorf("reference %q is not a JSON pointer", r)
	}
	cur := doc
	for _, tok := range strings.Split(rest[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v := cur.(type) {
		case *object:
			next, ok := v.get(tok)
			if !ok {
				return nil, fmt.Errorf("reference %q: no %q", r, tok)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil, fmt.Errorf("reference %q: no item %q", r, tok)
			}
			cur = v[i]
		default:
			return nil, fmt.Errorf("reference %q: %q is not in an object or array", r, tok)
		}
	}
	return cur, nil
}
