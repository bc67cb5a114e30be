// Package jsonschema validates JSON values against a JSON Schema of draft
// 4, 6, 7, 2019-09 or 2020-12 (2020-12 unless the schema's $schema names
// another), written from the specifications for sfnhooks' hook schemas.
//
// It does nothing at package init: a Lambda function that imports it pays
// no cold start for it (its predecessor compiled the meta-schemas of five
// drafts on import, 3.5–4 ms). A schema is checked keyword by keyword
// against what its draft's meta-schema allows instead of being validated
// against the meta-schema document.
//
// A schema is self-contained: every $ref must resolve inside it (remote
// references, the meta-schemas included, are refused at Compile).
// "format" is asserted for drafts 4, 6 and 7 and is an annotation from
// 2019-09 on; content keywords are annotations. Violations carry where
// (instanceLocation, keywordLocation) and never a value of the instance.
package jsonschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// The drafts, by the year or number in their name.
const (
	draft4    = 4
	draft6    = 6
	draft7    = 7
	draft2019 = 2019
	draft2020 = 2020
)

// defaultBase is the base URI of a schema without an absolute $id: never
// fetched, it only makes relative references resolvable.
const defaultBase = "https://sfnhooks.invalid/schema.json"

// Decode reads one JSON value, numbers as json.Number, as Validate wants it.
func Decode(r io.Reader) (any, error) {
	d := json.NewDecoder(r)
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the value")
	}
	return v, nil
}

// draftOf returns the draft a $schema URI names.
func draftOf(u string) (int, bool) {
	u = strings.TrimSuffix(u, "#")
	if s, ok := strings.CutPrefix(u, "https://"); ok {
		u = s
	} else if s, ok := strings.CutPrefix(u, "http://"); ok {
		u = s
	} else {
		return 0, false
	}
	switch u {
	case "json-schema.org/draft-04/schema":
		return draft4, true
	case "json-schema.org/draft-06/schema":
		return draft6, true
	case "json-schema.org/draft-07/schema":
		return draft7, true
	case "json-schema.org/draft/2019-09/schema":
		return draft2019, true
	case "json-schema.org/draft/2020-12/schema", "json-schema.org/schema":
		return draft2020, true
	}
	return 0, false
}

// Schema is a compiled schema, safe for concurrent use.
type Schema struct {
	root *schema
}

// schema is one compiled (sub)schema.
type schema struct {
	ptr   string // JSON pointer in the document
	draft int
	// always is set for a boolean schema.
	always *bool

	// res is the root of its schema resource (the document, or a
	// subschema with an $id), where dynamic anchors are looked up.
	res             *schema
	recursiveAnchor bool
	dynAnchors      map[string]*schema

	ref        *schema
	recRef     *schema // $recursiveRef's static target
	dynRef     *schema // $dynamicRef's static target
	dynRefName string  // its anchor name when it is dynamic

	types          []string
	hasEnum        bool
	enum           map[digest]bool // the members' digests
	hasConst       bool
	constD         digest
	multipleOf     *divisor
	maximum        *dec // nil when absent; read once, here
	minimum        *dec
	exclMaximum    *dec
	exclMinimum    *dec
	maxLength      int
	minLength      int
	pattern        *regexp.Regexp
	patternCost    int // instructions of its program: the work of a match per byte
	format         func(string) bool
	items          *schema   // applies to every item past prefix
	prefix         []*schema // prefixItems, or items as an array (≤ 2019-09)
	additionalItem *schema   // additionalItems (≤ 2019-09, with an items array)
	contains       *schema
	minContains    int
	maxContains    int
	maxItems       int
	minItems       int
	uniqueItems    bool
	unevalItems    *schema

	properties     map[string]*schema
	propNames      []string // properties' keys, sorted
	patternProps   []patternSchema
	additionalProp *schema
	required       []string
	depRequired    map[string]dependency
	depSchemas     map[string]dependency
	depKeys        []string // keys of depRequired and depSchemas, sorted
	propertyNames  *schema
	maxProps       int
	minProps       int
	unevalProps    *schema

	allOf, anyOf, oneOf []*schema
	not                 *schema
	ifS, thenS, elseS   *schema
}

// dependency is what a property requires when present: other properties
// (names) or a schema (s), and the keyword that says so.
type dependency struct {
	kw    string
	names []string
	s     *schema
}

type patternSchema struct {
	src  string
	re   *regexp.Regexp
	cost int
	s    *schema
}

// place is what the index knows of a schema position.
type place struct {
	base     string // base URI, without fragment
	draft    int
	resource string // pointer of its resource's root
}

type compiler struct {
	doc       any
	places    map[string]place  // schema positions by pointer
	resources map[string]string // absolute URI → pointer
	anchors   map[string]string // absolute URI "#" name → pointer
	dynamic   map[string]map[string]string
	compiled  map[string]*schema
}

// Compile compiles a schema document (as Decode returns it). An error says
// what makes it no valid schema of its draft.
func Compile(doc any) (*Schema, error) {
	c := &compiler{doc: doc, places: map[string]place{}, resources: map[string]string{}, anchors: map[string]string{},
		dynamic: map[string]map[string]string{}, compiled: map[string]*schema{}}
	draft := draft2020
	if m, ok := doc.(map[string]any); ok {
		if v, ok := m["$schema"]; ok {
			s, ok := v.(string)
			if !ok {
				return nil, errors.New("$schema is not a string")
			}
			d, ok := draftOf(s)
			if !ok {
				return nil, fmt.Errorf("$schema %q names no supported draft (4, 6, 7, 2019-09, 2020-12)", s)
			}
			draft = d
		}
	}
	c.resources[defaultBase] = ""
	if err := c.walk(doc, "", defaultBase, draft, ""); err != nil {
		return nil, err
	}
	root, err := c.schemaAt("")
	if err != nil {
		return nil, err
	}
	// Every schema of the document must be valid, referenced or not;
	// compiling one may index more (a reference into an unknown keyword).
	for done := false; !done; {
		done = true
		for _, p := range sortedKeys(c.places) {
			if _, ok := c.compiled[p]; ok {
				continue
			}
			done = false
			if _, err := c.schemaAt(p); err != nil {
				return nil, err
			}
		}
	}
	for p, s := range c.compiled {
		s.res = c.compiled[c.places[p].resource]
	}
	for res, names := range c.dynamic {
		r := c.compiled[res]
		r.dynAnchors = map[string]*schema{}
		for name, p := range names {
			r.dynAnchors[name] = c.compiled[p]
		}
	}
	return &Schema{root: root}, nil
}

func escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

func unescape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
}

// resolve resolves ref against base; it returns the absolute URI without
// its fragment, and the fragment.
func resolve(base, ref string) (string, string, error) {
	if strings.HasPrefix(ref, "#") {
		f, err := url.PathUnescape(ref[1:])
		if err != nil {
			return "", "", fmt.Errorf("invalid fragment in %q", ref)
		}
		return base, f, nil
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", "", fmt.Errorf("invalid URI reference %q", ref)
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", "", fmt.Errorf("invalid base URI %q", base)
	}
	u := b.ResolveReference(r)
	if r.Scheme == "" && b.Opaque != "" && r.Path != "" {
		return "", "", fmt.Errorf("cannot resolve %q against %q", ref, base)
	}
	frag := u.EscapedFragment()
	u.Fragment, u.RawFragment = "", ""
	f, err := url.PathUnescape(frag)
	if err != nil {
		return "", "", fmt.Errorf("invalid fragment in %q", ref)
	}
	return u.String(), f, nil
}

// subschemas calls fn for each subschema position of object schema m.
func subschemas(m map[string]any, draft int, fn func(rel string, v any) error) error {
	one := func(kw string) error {
		if v, ok := m[kw]; ok {
			return fn(escape(kw), v)
		}
		return nil
	}
	list := func(kw string) error {
		if a, ok := m[kw].([]any); ok {
			for i, v := range a {
				if err := fn(kw+"/"+strconv.Itoa(i), v); err != nil {
					return err
				}
			}
		}
		return nil
	}
	dict := func(kw string, onlySchemas bool) error {
		if o, ok := m[kw].(map[string]any); ok {
			for _, k := range sortedKeys(o) {
				if _, isList := o[k].([]any); onlySchemas && isList {
					continue
				}
				if err := fn(escape(kw)+"/"+escape(k), o[k]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var kws []func() error
	kws = append(kws, func() error { return one("not") }, func() error { return one("additionalProperties") },
		func() error { return list("allOf") }, func() error { return list("anyOf") }, func() error { return list("oneOf") },
		func() error { return dict("properties", false) }, func() error { return dict("patternProperties", false) },
		func() error { return dict("definitions", false) })
	if _, isList := m["items"].([]any); isList && draft <= draft2019 {
		kws = append(kws, func() error { return list("items") })
	} else {
		kws = append(kws, func() error { return one("items") })
	}
	if draft <= draft2019 {
		kws = append(kws, func() error { return one("additionalItems") })
	}
	kws = append(kws, func() error { return dict("dependencies", true) }) // kept in 2019-09 and later for compatibility
	if draft >= draft6 {
		kws = append(kws, func() error { return one("contains") }, func() error { return one("propertyNames") })
	}
	if draft >= draft7 {
		kws = append(kws, func() error { return one("if") }, func() error { return one("then") }, func() error { return one("else") })
	}
	if draft >= draft2019 {
		kws = append(kws, func() error { return dict("$defs", false) }, func() error { return dict("dependentSchemas", false) },
			func() error { return one("unevaluatedItems") }, func() error { return one("unevaluatedProperties") },
			func() error { return one("contentSchema") })
	}
	if draft >= draft2020 {
		kws = append(kws, func() error { return list("prefixItems") })
	}
	for _, k := range kws {
		if err := k(); err != nil {
			return err
		}
	}
	return nil
}

func isAnchorName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r == '_':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// walk indexes the schema v at ptr: its base URI, draft and resource, and
// the ids and anchors it defines, then its subschemas.
func (c *compiler) walk(v any, ptr, base string, draft int, resource string) error {
	if _, ok := v.(bool); ok && (draft >= draft6 || strings.HasSuffix(ptr, "/additionalItems") || strings.HasSuffix(ptr, "/additionalProperties")) {
		c.places[ptr] = place{base: base, draft: draft, resource: resource}
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		if draft == draft4 {
			return fmt.Errorf("schema at %q is not an object", "#"+ptr)
		}
		return fmt.Errorf("schema at %q is not an object or a boolean", "#"+ptr)
	}
	idKey := "$id"
	if draft == draft4 {
		idKey = "id"
	}
	_, hasRef := m["$ref"]
	if id, ok := m[idKey]; ok && !(hasRef && draft <= draft7) {
		s, ok := id.(string)
		if !ok {
			return fmt.Errorf("%s at %q is not a string", idKey, "#"+ptr)
		}
		u, frag, err := resolve(base, s)
		if err != nil {
			return fmt.Errorf("%s at %q: %v", idKey, "#"+ptr, err)
		}
		switch {
		case frag != "" && draft >= draft2019:
			return fmt.Errorf("$id at %q has a fragment", "#"+ptr)
		case frag != "" && strings.HasPrefix(frag, "/"):
			return fmt.Errorf("%s at %q is a JSON pointer", idKey, "#"+ptr)
		}
		if u != base || ptr == "" {
			if old, dup := c.resources[u]; dup && old != ptr {
				return fmt.Errorf("%s %q is used twice", idKey, u)
			}
			c.resources[u] = ptr
			base, resource = u, ptr
			if sv, ok := m["$schema"].(string); ok && ptr != "" && draft >= draft2019 {
				if d, ok := draftOf(sv); ok {
					draft = d
				}
			}
		}
		if frag != "" {
			if err := c.anchor(u+"#"+frag, ptr); err != nil {
				return err
			}
		}
	}
	if draft >= draft2019 {
		if a, ok := m["$anchor"]; ok {
			s, ok := a.(string)
			if !ok || !isAnchorName(s) {
				return fmt.Errorf("$anchor at %q is not a valid name", "#"+ptr)
			}
			if err := c.anchor(base+"#"+s, ptr); err != nil {
				return err
			}
		}
	}
	if draft >= draft2020 {
		if a, ok := m["$dynamicAnchor"]; ok {
			s, ok := a.(string)
			if !ok || !isAnchorName(s) {
				return fmt.Errorf("$dynamicAnchor at %q is not a valid name", "#"+ptr)
			}
			if err := c.anchor(base+"#"+s, ptr); err != nil {
				return err
			}
			if c.dynamic[resource] == nil {
				c.dynamic[resource] = map[string]string{}
			}
			c.dynamic[resource][s] = ptr
		}
	}
	c.places[ptr] = place{base: base, draft: draft, resource: resource}
	return subschemas(m, draft, func(rel string, sub any) error {
		return c.walk(sub, ptr+"/"+rel, base, draft, resource)
	})
}

// anchor records anchor name (an absolute URI with a fragment) at ptr.
func (c *compiler) anchor(name, ptr string) error {
	if old, dup := c.anchors[name]; dup && old != ptr {
		return fmt.Errorf("anchor %q is defined twice (at %q and %q)", name, "#"+old, "#"+ptr)
	}
	c.anchors[name] = ptr
	return nil
}

// lookup returns the value at JSON pointer ptr of the document.
func (c *compiler) lookup(ptr string) (any, bool) {
	v := c.doc
	if ptr == "" {
		return v, true
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = unescape(tok)
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) || strconv.Itoa(i) != tok {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// placeOf returns the index entry of ptr; a position the index does not
// know (inside an unknown keyword) takes that of its closest known parent,
// and is indexed on the way.
func (c *compiler) placeOf(ptr string) (place, error) {
	if p, ok := c.places[ptr]; ok {
		return p, nil
	}
	parent := ptr
	for {
		i := strings.LastIndex(parent, "/")
		if i < 0 {
			parent = ""
		} else {
			parent = parent[:i]
		}
		if p, ok := c.places[parent]; ok {
			v, ok := c.lookup(ptr)
			if !ok {
				return place{}, fmt.Errorf("reference to %q: nothing there", "#"+ptr)
			}
			if err := c.walk(v, ptr, p.base, p.draft, p.resource); err != nil {
				return place{}, err
			}
			return c.places[ptr], nil
		}
		if parent == "" {
			return place{}, fmt.Errorf("reference to %q: nothing there", "#"+ptr)
		}
	}
}

// target resolves a reference found at a schema whose base is base to the
// pointer of the schema it names.
func (c *compiler) target(base, ref string) (string, string, error) {
	u, frag, err := resolve(base, ref)
	if err != nil {
		return "", "", err
	}
	res, ok := c.resources[u]
	if !ok {
		return "", "", fmt.Errorf("schema references %s: only references inside the schema are allowed", u)
	}
	switch {
	case frag == "":
		return res, "", nil
	case strings.HasPrefix(frag, "/"):
		return res + frag, "", nil
	}
	p, ok := c.anchors[u+"#"+frag]
	if !ok {
		return "", "", fmt.Errorf("schema references %s#%s: no such anchor", u, frag)
	}
	return p, frag, nil
}

func (c *compiler) schemaAt(ptr string) (*schema, error) {
	if s, ok := c.compiled[ptr]; ok {
		return s, nil
	}
	pl, err := c.placeOf(ptr)
	if err != nil {
		return nil, err
	}
	v, _ := c.lookup(ptr)
	s := &schema{ptr: ptr, draft: pl.draft, maxLength: -1, minLength: -1, maxItems: -1, minItems: -1,
		maxProps: -1, minProps: -1, minContains: 1, maxContains: -1}
	c.compiled[ptr] = s
	if err := c.compileInto(s, v, pl); err != nil {
		return nil, err
	}
	return s, nil
}

// errorf is a problem with keyword kw of the schema at s.ptr.
func (s *schema) errorf(kw, format string, args ...any) error {
	return fmt.Errorf("%s at %q: %s", kw, "#"+s.ptr, fmt.Sprintf(format, args...))
}

func (c *compiler) compileInto(s *schema, v any, pl place) error {
	if b, ok := v.(bool); ok {
		s.always = &b
		return nil
	}
	m := v.(map[string]any) // walk checked it
	d := pl.draft
	sub := func(rel string) (*schema, error) { return c.schemaAt(s.ptr + "/" + rel) }

	if r, ok := m["$ref"]; ok {
		ref, ok := r.(string)
		if !ok {
			return s.errorf("$ref", "not a string")
		}
		p, _, err := c.target(pl.base, ref)
		if err != nil {
			return s.errorf("$ref", "%v", err)
		}
		if s.ref, err = c.schemaAt(p); err != nil {
			return err
		}
		if d <= draft7 {
			return nil // the other keywords beside $ref are ignored
		}
	}
	if d == draft2019 {
		if r, ok := m["$recursiveRef"]; ok {
			if ref, ok := r.(string); !ok || ref != "#" {
				return s.errorf("$recursiveRef", `only "#" is supported`)
			}
			var err error
			if s.recRef, err = c.schemaAt(pl.resource); err != nil {
				return err
			}
		}
		if r, ok := m["$recursiveAnchor"]; ok {
			b, ok := r.(bool)
			if !ok {
				return s.errorf("$recursiveAnchor", "not a boolean")
			}
			s.recursiveAnchor = b
		}
	}
	if d >= draft2020 {
		if r, ok := m["$dynamicRef"]; ok {
			ref, ok := r.(string)
			if !ok {
				return s.errorf("$dynamicRef", "not a string")
			}
			p, frag, err := c.target(pl.base, ref)
			if err != nil {
				return s.errorf("$dynamicRef", "%v", err)
			}
			if s.dynRef, err = c.schemaAt(p); err != nil {
				return err
			}
			if t, ok := c.lookup(p); ok && frag != "" {
				if tm, ok := t.(map[string]any); ok && tm["$dynamicAnchor"] == frag {
					s.dynRefName = frag
				}
			}
		}
	}

	if t, ok := m["type"]; ok {
		var names []string
		switch t := t.(type) {
		case string:
			names = []string{t}
		case []any:
			if len(t) == 0 && d == draft4 {
				return s.errorf("type", "an empty list")
			}
			for _, n := range t {
				ns, ok := n.(string)
				if !ok {
					return s.errorf("type", "not a type name")
				}
				names = append(names, ns)
			}
		default:
			return s.errorf("type", "not a type name or a list of them")
		}
		seen := map[string]bool{}
		for _, n := range names {
			switch n {
			case "array", "boolean", "integer", "null", "number", "object", "string":
			default:
				return s.errorf("type", "%q is no JSON Schema type", n)
			}
			if seen[n] {
				return s.errorf("type", "%q is listed twice", n)
			}
			seen[n] = true
		}
		s.types = names
	}
	if e, ok := m["enum"]; ok {
		a, ok := e.([]any)
		if !ok {
			return s.errorf("enum", "not an array")
		}
		var g digester
		s.hasEnum, s.enum = true, make(map[digest]bool, len(a))
		for _, e := range a {
			s.enum[g.of(e)] = true
		}
	}
	if cv, ok := m["const"]; ok && d >= draft6 {
		var g digester
		s.hasConst, s.constD = true, g.of(cv)
	}

	num := func(kw string) (string, error) {
		v, ok := m[kw]
		if !ok {
			return "", nil
		}
		n, ok := v.(json.Number)
		if !ok {
			return "", s.errorf(kw, "not a number")
		}
		return n.String(), nil
	}
	count := func(kw string, dst *int) error {
		v, ok := m[kw]
		if !ok {
			return nil
		}
		n, ok := v.(json.Number)
		if !ok || !isInteger(n.String()) || cmpNum(n.String(), "0") < 0 {
			return s.errorf(kw, "not a non-negative integer")
		}
		i, err := strconv.Atoi(strings.Split(strings.Split(n.String(), ".")[0], "e")[0])
		if err != nil || strings.ContainsAny(n.String(), "eE") {
			i64, err := strconv.ParseFloat(n.String(), 64)
			if err != nil || i64 > 1<<31 {
				i = 1 << 31
			} else {
				i = int(i64)
			}
		}
		*dst = i
		return nil
	}
	mo, err := num("multipleOf")
	if err != nil {
		return err
	}
	if mo != "" {
		if cmpNum(mo, "0") <= 0 {
			return s.errorf("multipleOf", "not greater than 0")
		}
		s.multipleOf = newDivisor(mo)
	}
	// A bound is read into a dec once, here, not at each comparison.
	bound := func(kw string) (*dec, error) {
		n, err := num(kw)
		if n == "" || err != nil {
			return nil, err
		}
		d := parseDec(n)
		return &d, nil
	}
	if s.maximum, err = bound("maximum"); err != nil {
		return err
	}
	if s.minimum, err = bound("minimum"); err != nil {
		return err
	}
	if d == draft4 {
		for _, kw := range []string{"exclusiveMaximum", "exclusiveMinimum"} {
			v, ok := m[kw]
			if !ok {
				continue
			}
			b, ok := v.(bool)
			if !ok {
				return s.errorf(kw, "not a boolean")
			}
			if b && kw == "exclusiveMaximum" {
				s.exclMaximum, s.maximum = s.maximum, nil
			}
			if b && kw == "exclusiveMinimum" {
				s.exclMinimum, s.minimum = s.minimum, nil
			}
		}
	} else {
		if s.exclMaximum, err = bound("exclusiveMaximum"); err != nil {
			return err
		}
		if s.exclMinimum, err = bound("exclusiveMinimum"); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		kw  string
		dst *int
	}{{"maxLength", &s.maxLength}, {"minLength", &s.minLength}, {"maxItems", &s.maxItems},
		{"minItems", &s.minItems}, {"maxProperties", &s.maxProps}, {"minProperties", &s.minProps}} {
		if err := count(c.kw, c.dst); err != nil {
			return err
		}
	}
	if d >= draft2019 {
		if err := count("maxContains", &s.maxContains); err != nil {
			return err
		}
		if err := count("minContains", &s.minContains); err != nil {
			return err
		}
	}
	if p, ok := m["pattern"]; ok {
		ps, ok := p.(string)
		if !ok {
			return s.errorf("pattern", "not a string")
		}
		if s.pattern, s.patternCost, err = compilePattern(ps); err != nil {
			return s.errorf("pattern", "not a valid regular expression")
		}
	}
	if f, ok := m["format"]; ok {
		fs, ok := f.(string)
		if !ok {
			return s.errorf("format", "not a string")
		}
		if d <= draft7 {
			s.format = formatCheck(fs)
		}
	}
	if u, ok := m["uniqueItems"]; ok {
		b, ok := u.(bool)
		if !ok {
			return s.errorf("uniqueItems", "not a boolean")
		}
		s.uniqueItems = b
	}

	// Array keywords.
	if it, ok := m["items"]; ok {
		if a, isList := it.([]any); isList && d <= draft2019 {
			for i := range a {
				p, err := sub("items/" + strconv.Itoa(i))
				if err != nil {
					return err
				}
				s.prefix = append(s.prefix, p)
			}
			if _, ok := m["additionalItems"]; ok {
				if s.additionalItem, err = sub("additionalItems"); err != nil {
					return err
				}
			}
		} else if s.items, err = sub("items"); err != nil {
			return err
		}
	}
	if d >= draft2020 {
		if pi, ok := m["prefixItems"]; ok {
			a, ok := pi.([]any)
			if !ok || len(a) == 0 {
				return s.errorf("prefixItems", "not a non-empty array")
			}
			for i := range a {
				p, err := sub("prefixItems/" + strconv.Itoa(i))
				if err != nil {
					return err
				}
				s.prefix = append(s.prefix, p)
			}
		}
	}
	single := func(kw string, dst **schema, from int) error {
		if _, ok := m[kw]; !ok || d < from {
			return nil
		}
		var err error
		*dst, err = sub(escape(kw))
		return err
	}
	for _, k := range []struct {
		kw   string
		dst  **schema
		from int
	}{
		{"contains", &s.contains, draft6}, {"unevaluatedItems", &s.unevalItems, draft2019},
		{"additionalProperties", &s.additionalProp, draft4}, {"propertyNames", &s.propertyNames, draft6},
		{"unevaluatedProperties", &s.unevalProps, draft2019}, {"not", &s.not, draft4},
		{"if", &s.ifS, draft7}, {"then", &s.thenS, draft7}, {"else", &s.elseS, draft7},
	} {
		if err := single(k.kw, k.dst, k.from); err != nil {
			return err
		}
	}
	if _, ok := m["contentSchema"]; ok && d >= draft2019 {
		if _, err := sub("contentSchema"); err != nil {
			return err
		}
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
		v, ok := m[kw]
		if !ok {
			continue
		}
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return s.errorf(kw, "not a non-empty array")
		}
		var list []*schema
		for i := range a {
			p, err := sub(kw + "/" + strconv.Itoa(i))
			if err != nil {
				return err
			}
			list = append(list, p)
		}
		switch kw {
		case "allOf":
			s.allOf = list
		case "anyOf":
			s.anyOf = list
		default:
			s.oneOf = list
		}
	}

	// Object keywords.
	obj := func(kw string) (map[string]any, error) {
		v, ok := m[kw]
		if !ok {
			return nil, nil
		}
		o, ok := v.(map[string]any)
		if !ok {
			return nil, s.errorf(kw, "not an object")
		}
		return o, nil
	}
	props, err := obj("properties")
	if err != nil {
		return err
	}
	if props != nil {
		s.properties = map[string]*schema{}
		// In key order: compiling one may index a resource another refers
		// to, and the outcome must not depend on Go's map order.
		for _, k := range sortedKeys(props) {
			if s.properties[k], err = sub("properties/" + escape(k)); err != nil {
				return err
			}
			s.propNames = append(s.propNames, k) // sorted, as the loop goes
		}
	}
	pprops, err := obj("patternProperties")
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(pprops) {
		re, cost, err := compilePattern(k)
		if err != nil {
			return s.errorf("patternProperties", "a key is not a valid regular expression")
		}
		p, err := sub("patternProperties/" + escape(k))
		if err != nil {
			return err
		}
		s.patternProps = append(s.patternProps, patternSchema{src: k, re: re, cost: cost, s: p})
	}
	strList := func(kw string, v any) ([]string, error) {
		a, ok := v.([]any)
		if !ok {
			return nil, s.errorf(kw, "not an array of strings")
		}
		out := make([]string, 0, len(a))
		seen := map[string]bool{}
		for _, x := range a {
			xs, ok := x.(string)
			if !ok {
				return nil, s.errorf(kw, "not an array of strings")
			}
			if seen[xs] {
				return nil, s.errorf(kw, "a name is listed twice")
			}
			seen[xs] = true
			out = append(out, xs)
		}
		return out, nil
	}
	if r, ok := m["required"]; ok {
		if s.required, err = strList("required", r); err != nil {
			return err
		}
		if d == draft4 && len(s.required) == 0 {
			return s.errorf("required", "an empty array")
		}
	}
	depKeys := map[string]bool{}
	addReq := func(kw string, k string, v any) error {
		names, err := strList(kw, v)
		if err != nil {
			return err
		}
		if s.depRequired == nil {
			s.depRequired = map[string]dependency{}
		}
		s.depRequired[k] = dependency{kw: kw, names: names}
		depKeys[k] = true
		return nil
	}
	addSchema := func(kw, k string) error {
		p, err := sub(kw + "/" + escape(k))
		if err != nil {
			return err
		}
		if s.depSchemas == nil {
			s.depSchemas = map[string]dependency{}
		}
		s.depSchemas[k] = dependency{kw: kw, s: p}
		depKeys[k] = true
		return nil
	}
	deps, err := obj("dependencies") // kept in 2019-09 and later for compatibility
	if err != nil {
		return err
	}
	for _, k := range sortedKeys(deps) {
		if _, isList := deps[k].([]any); isList {
			err = addReq("dependencies", k, deps[k])
		} else {
			err = addSchema("dependencies", k)
		}
		if err != nil {
			return err
		}
	}
	if d >= draft2019 {
		dr, err := obj("dependentRequired")
		if err != nil {
			return err
		}
		for _, k := range sortedKeys(dr) {
			if err := addReq("dependentRequired", k, dr[k]); err != nil {
				return err
			}
		}
		ds, err := obj("dependentSchemas")
		if err != nil {
			return err
		}
		for _, k := range sortedKeys(ds) {
			if err := addSchema("dependentSchemas", k); err != nil {
				return err
			}
		}
	}
	s.depKeys = sortedKeys(depKeys)
	for _, kw := range []string{"definitions", "$defs"} {
		if _, err := obj(kw); err != nil {
			return err
		}
	}

	// Annotations: only their shape is checked.
	for _, kw := range []string{"title", "description", "$comment", "contentMediaType", "contentEncoding"} {
		if v, ok := m[kw]; ok {
			if _, ok := v.(string); !ok {
				return s.errorf(kw, "not a string")
			}
		}
	}
	for _, kw := range []string{"readOnly", "writeOnly", "deprecated"} {
		if v, ok := m[kw]; ok {
			if _, ok := v.(bool); !ok {
				return s.errorf(kw, "not a boolean")
			}
		}
	}
	if v, ok := m["examples"]; ok && d >= draft6 {
		if _, ok := v.([]any); !ok {
			return s.errorf("examples", "not an array")
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// ecmaSpace is ECMA-262's \s (WhiteSpace and LineTerminator), for a
// character class: RE2's \s is [\t\n\f\r ] only.
const ecmaSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

// compilePattern compiles a pattern of JSON Schema (an ECMA-262 regular
// expression) with Go's RE2, reading \s and \S as ECMA-262 does (but \S
// inside a character class, which RE2 cannot say: there it is RE2's), and
// returns the instructions of its program: matching costs about that
// much per byte of input (docs/limits.md, the validation work).
func compilePattern(p string) (*regexp.Regexp, int, error) {
	src := ecmaToRE2(p)
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, 0, err
	}
	parsed, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, 0, err
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return nil, 0, err
	}
	return re, len(prog.Inst), nil
}

// ecmaToRE2 rewrites \s and \S (outside a character class) and \s (inside
// one) as ECMA-262 means them; everything else is left as written.
func ecmaToRE2(p string) string {
	if !strings.Contains(p, `\s`) && !strings.Contains(p, `\S`) {
		return p
	}
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			i++
			switch {
			case n == 's' && inClass:
				b.WriteString(ecmaSpace)
				if i+1 < len(p) && p[i+1] == '-' {
					// [\s-a] is \s, '-' and 'a' (ECMA-262, Annex B); after
					// the expansion a bare '-' would make a range.
					b.WriteString(`\-`)
					i++
				}
			case n == 's':
				b.WriteString("[" + ecmaSpace + "]")
			case n == 'S' && !inClass:
				b.WriteString("[^" + ecmaSpace + "]")
			default:
				b.WriteByte(c)
				b.WriteByte(n)
			}
			continue
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			// As RE2 reads it: a ']' first in the class (after '^') is literal.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
			continue
		case c == ']' && inClass:
			inClass = false
		}
		b.WriteByte(c)
	}
	return b.String()
}
