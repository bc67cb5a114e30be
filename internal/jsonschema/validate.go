package jsonschema

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Violation is one failed assertion: where in the instance
// (InstanceLocation, a JSON pointer) and which keyword of the schema, by
// the path evaluation took to it (KeywordLocation: "/properties/a/$ref/type").
type Violation struct {
	InstanceLocation string
	KeywordLocation  string
}

// path is a JSON pointer built only when a violation needs it.
type path struct {
	parent *path
	tok    string
	name   bool // a property name of the parent's object: no token of its own
}

func (p *path) add(tok string) *path { return &path{parent: p, tok: tok} }

func (p *path) String() string {
	var toks []string
	for ; p != nil; p = p.parent {
		if !p.name {
			toks = append(toks, p.tok)
		}
	}
	var b strings.Builder
	for i := len(toks) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(escape(toks[i]))
	}
	return b.String()
}

// Validate reports whether inst (as Decode returns it) is valid, and up to
// max of its violations (the deepest failures: for a failed anyOf, those of
// its subschemas).
func (s *Schema) Validate(inst any, max int) (bool, []Violation) {
	v := &validator{max: max}
	ok, _ := v.validate(s.root, inst, nil, nil)
	if v.exhausted {
		return false, []Violation{{}} // too costly to tell: refused
	}
	if ok {
		return true, nil
	}
	return false, v.out
}

type validator struct {
	out       []Violation
	max       int
	scope     []*schema // the schema resources entered, outermost first
	active    map[loopKey]bool
	steps     int
	exhausted bool
	dig       digester // the instance's digests (enum, const, uniqueItems)
	hashed    int      // dig.hashed already charged
}

// loopKey is a reference followed: its target and the instance location
// (the same *path while evaluation stays at one location).
type loopKey struct {
	s  *schema
	ip *path
}

// maxSteps bounds the work of one Validate (a schema whose applicators
// nest references can cost exponential time; a pattern, a long number or
// a digest costs by its input): past it the instance is refused. A step
// is a schema applied, or about as much work elsewhere: 25 bytes of
// input times instructions of a pattern, 256 bytes hashed, a number's
// digits (numberCost). A 256 KiB payload of 100,000 items checked against
// ten alternatives each takes about 1.1 million.
const maxSteps = 4_000_000

// charge counts n steps of work about to be done, and reports whether
// the budget allows it (if not, Validate answers invalid: too costly).
func (v *validator) charge(n int) bool {
	if v.steps += n; v.steps > maxSteps {
		v.exhausted = true
	}
	return !v.exhausted
}

// digest is the digest of inst, its hashing charged.
func (v *validator) digest(inst any) digest {
	d := v.dig.of(inst)
	v.charge((v.dig.hashed - v.hashed) / 256)
	v.hashed = v.dig.hashed
	return d
}

// match runs re (of cost instructions) on str, if the budget allows.
func (v *validator) match(re *regexp.Regexp, cost int, str string) bool {
	if !v.charge(1 + len(str)*cost/25) {
		return false
	}
	return re.MatchString(str)
}

func (v *validator) fail(ip, kp *path, kw string) {
	if len(v.out) >= v.max {
		return
	}
	if kw != "" {
		kp = kp.add(kw)
	}
	v.out = append(v.out, Violation{InstanceLocation: ip.String(), KeywordLocation: kp.String()})
}

// evaluated is what a valid schema evaluated of the instance, for
// unevaluatedProperties and unevaluatedItems.
type evaluated struct {
	allProps bool
	props    map[string]bool
	allItems bool
	nItems   int // items [0, nItems) evaluated
	items    map[int]bool
}

func (e *evaluated) merge(o *evaluated) {
	if o == nil {
		return
	}
	e.allProps = e.allProps || o.allProps
	for k := range o.props {
		e.prop(k)
	}
	e.allItems = e.allItems || o.allItems
	e.nItems = max(e.nItems, o.nItems)
	for i := range o.items {
		e.item(i)
	}
}

func (e *evaluated) prop(k string) {
	if e.props == nil {
		e.props = map[string]bool{}
	}
	e.props[k] = true
}

func (e *evaluated) item(i int) {
	if e.items == nil {
		e.items = map[int]bool{}
	}
	e.items[i] = true
}

// validate validates inst, at instance location ip, against s, reached by
// keyword path kp.
func (v *validator) validate(s *schema, inst any, ip, kp *path) (bool, *evaluated) {
	if v.steps++; v.steps > maxSteps {
		v.exhausted = true // sticky: Validate then answers invalid
		return false, nil
	}
	if s.always != nil {
		if !*s.always {
			v.fail(ip, kp, "")
			return false, nil
		}
		return true, &evaluated{}
	}
	if n := len(v.scope); n == 0 || v.scope[n-1] != s.res {
		v.scope = append(v.scope, s.res) // entering another schema resource
		defer func() { v.scope = v.scope[:n] }()
	}
	ev := &evaluated{}
	ok := true
	bad := func(kw string) {
		v.fail(ip, kp, kw)
		ok = false
	}
	follow := func(kw string, t *schema) {
		// A reference back to a schema already applied, on this path, to
		// this very instance location loops forever: it fails.
		key := loopKey{t, ip}
		if v.active[key] {
			bad(kw)
			return
		}
		if v.active == nil {
			v.active = map[loopKey]bool{}
		}
		v.active[key] = true
		sok, sev := v.validate(t, inst, ip, kp.add(kw))
		delete(v.active, key)
		if sok {
			ev.merge(sev)
		} else {
			ok = false
		}
	}
	if s.ref != nil {
		follow("$ref", s.ref)
		if s.draft <= draft7 {
			return ok, ev
		}
	}
	if s.recRef != nil {
		t := s.recRef
		if t.recursiveAnchor {
			for _, r := range v.scope {
				if r.recursiveAnchor {
					t = r
					break
				}
			}
		}
		follow("$recursiveRef", t)
	}
	if s.dynRef != nil {
		t := s.dynRef
		if s.dynRefName != "" {
			for _, r := range v.scope {
				if a, found := r.dynAnchors[s.dynRefName]; found {
					t = a
					break
				}
			}
		}
		follow("$dynamicRef", t)
	}

	if len(s.types) > 0 && !hasType(inst, s.types) {
		bad("type")
	}
	if s.hasEnum && !s.enum[v.digest(inst)] {
		bad("enum")
	}
	if s.hasConst && v.digest(inst) != s.constD {
		bad("const")
	}

	switch x := inst.(type) {
	case json.Number:
		n := x.String()
		v.charge(len(n) / 1000) // read once, for every keyword below
		d := parseDec(n)
		if s.multipleOf != nil && (!v.charge(numberCost(len(n))) || !isMultiple(d, s.multipleOf)) {
			bad("multipleOf")
		}
		if s.maximum != nil && cmpDec(d, *s.maximum) > 0 {
			bad("maximum")
		}
		if s.minimum != nil && cmpDec(d, *s.minimum) < 0 {
			bad("minimum")
		}
		if s.exclMaximum != nil && cmpDec(d, *s.exclMaximum) >= 0 {
			if s.draft == draft4 {
				bad("maximum")
			} else {
				bad("exclusiveMaximum")
			}
		}
		if s.exclMinimum != nil && cmpDec(d, *s.exclMinimum) <= 0 {
			if s.draft == draft4 {
				bad("minimum")
			} else {
				bad("exclusiveMinimum")
			}
		}
	case string:
		if s.maxLength >= 0 || s.minLength >= 0 {
			n := utf8.RuneCountInString(x)
			if s.maxLength >= 0 && n > s.maxLength {
				bad("maxLength")
			}
			if s.minLength >= 0 && n < s.minLength {
				bad("minLength")
			}
		}
		if s.pattern != nil && !v.match(s.pattern, s.patternCost, x) {
			bad("pattern")
		}
		if s.format != nil && (!v.charge(1+len(x)/64) || !s.format(x)) {
			bad("format")
		}
	case []any:
		if !v.array(s, x, ip, kp, ev) {
			ok = false
		}
	case map[string]any:
		if !v.object(s, x, ip, kp, ev) {
			ok = false
		}
	}

	for i, sub := range s.allOf {
		sok, sev := v.validate(sub, inst, ip, kp.add("allOf").add(strconv.Itoa(i)))
		if sok {
			ev.merge(sev)
		} else {
			ok = false
		}
	}
	if len(s.anyOf) > 0 {
		mark, passed := len(v.out), false
		for i, sub := range s.anyOf { // every branch: each valid one's annotations count
			if sok, sev := v.validate(sub, inst, ip, kp.add("anyOf").add(strconv.Itoa(i))); sok {
				passed = true
				ev.merge(sev)
			}
		}
		if passed {
			v.out = v.out[:mark]
		} else {
			ok = false
			if len(v.out) == mark {
				v.fail(ip, kp, "anyOf")
			}
		}
	}
	if len(s.oneOf) > 0 {
		mark, valid := len(v.out), 0
		var first *evaluated
		for i, sub := range s.oneOf {
			if sok, sev := v.validate(sub, inst, ip, kp.add("oneOf").add(strconv.Itoa(i))); sok {
				valid++
				first = sev
			}
		}
		switch {
		case valid == 1:
			v.out = v.out[:mark]
			ev.merge(first)
		case valid > 1:
			v.out = v.out[:mark]
			bad("oneOf")
		default:
			ok = false
			if len(v.out) == mark {
				v.fail(ip, kp, "oneOf")
			}
		}
	}
	if s.not != nil {
		mark := len(v.out)
		nok, _ := v.validate(s.not, inst, ip, kp.add("not"))
		v.out = v.out[:mark]
		if nok {
			bad("not")
		}
	}
	if s.ifS != nil {
		mark := len(v.out)
		iok, iev := v.validate(s.ifS, inst, ip, kp.add("if"))
		v.out = v.out[:mark]
		if iok {
			ev.merge(iev)
			if s.thenS != nil {
				if tok, tev := v.validate(s.thenS, inst, ip, kp.add("then")); tok {
					ev.merge(tev)
				} else {
					ok = false
				}
			}
		} else if s.elseS != nil {
			if eok, eev := v.validate(s.elseS, inst, ip, kp.add("else")); eok {
				ev.merge(eev)
			} else {
				ok = false
			}
		}
	}

	// unevaluated* last: they see what every other keyword evaluated.
	switch x := inst.(type) {
	case []any:
		if s.unevalItems != nil && !ev.allItems {
			for i := ev.nItems; i < len(x); i++ {
				if ev.items[i] {
					continue
				}
				if !v.each(s.unevalItems, x[i], ip.add(strconv.Itoa(i)), kp, "unevaluatedItems", ip) {
					ok = false
				}
			}
			ev.allItems = true
		}
	case map[string]any:
		if s.unevalProps != nil && !ev.allProps {
			for _, k := range sortedKeys(x) {
				if ev.props[k] {
					continue
				}
				if !v.each(s.unevalProps, x[k], ip.add(k), kp, "unevaluatedProperties", ip) {
					ok = false
				}
			}
			ev.allProps = true
		}
	}
	if !ok {
		return false, nil
	}
	return true, ev
}

// each validates one item or property against the schema of keyword kw; a
// false schema fails at the container (parent), naming no member.
func (v *validator) each(s *schema, inst any, ip, kp *path, kw string, parent *path) bool {
	if s.always != nil {
		if !*s.always {
			v.fail(parent, kp, kw)
			return false
		}
		return true
	}
	ok, _ := v.validate(s, inst, ip, kp.add(kw))
	return ok
}

func (v *validator) array(s *schema, a []any, ip, kp *path, ev *evaluated) bool {
	ok := true
	if s.maxItems >= 0 && len(a) > s.maxItems {
		v.fail(ip, kp, "maxItems")
		ok = false
	}
	if s.minItems >= 0 && len(a) < s.minItems {
		v.fail(ip, kp, "minItems")
		ok = false
	}
	if s.uniqueItems && !v.unique(a) {
		v.fail(ip, kp, "uniqueItems")
		ok = false
	}
	prefixKw := "prefixItems"
	if s.draft <= draft2019 {
		prefixKw = "items"
	}
	for i, p := range s.prefix {
		if i >= len(a) {
			break
		}
		if pok, _ := v.validate(p, a[i], ip.add(strconv.Itoa(i)), kp.add(prefixKw).add(strconv.Itoa(i))); !pok {
			ok = false
		}
	}
	ev.nItems = max(ev.nItems, min(len(s.prefix), len(a)))
	rest := s.items
	restKw := "items"
	if len(s.prefix) > 0 && s.draft <= draft2019 {
		rest, restKw = s.additionalItem, "additionalItems"
	}
	if rest != nil && len(a) > len(s.prefix) {
		if rest.always != nil && !*rest.always {
			v.fail(ip, kp, restKw)
			ok = false
		} else {
			for i := len(s.prefix); i < len(a); i++ {
				if rok, _ := v.validate(rest, a[i], ip.add(strconv.Itoa(i)), kp.add(restKw)); !rok {
					ok = false
				}
			}
		}
		ev.allItems = true
	} else if rest != nil {
		ev.allItems = true
	}
	if s.contains != nil {
		n := 0
		mark := len(v.out)
		for i, item := range a {
			if cok, _ := v.validate(s.contains, item, ip.add(strconv.Itoa(i)), kp.add("contains")); cok {
				n++
				if s.draft >= draft2020 {
					ev.item(i)
				}
			}
		}
		v.out = v.out[:mark]
		switch {
		case n < s.minContains:
			if s.minContains == 1 || s.draft < draft2019 {
				v.fail(ip, kp, "contains")
			} else {
				v.fail(ip, kp, "minContains")
			}
			ok = false
		case s.maxContains >= 0 && n > s.maxContains:
			v.fail(ip, kp, "maxContains")
			ok = false
		}
	}
	return ok
}

func (v *validator) object(s *schema, o map[string]any, ip, kp *path, ev *evaluated) bool {
	ok := true
	if s.maxProps >= 0 && len(o) > s.maxProps {
		v.fail(ip, kp, "maxProperties")
		ok = false
	}
	if s.minProps >= 0 && len(o) < s.minProps {
		v.fail(ip, kp, "minProperties")
		ok = false
	}
	for _, r := range s.required {
		if _, has := o[r]; !has {
			v.fail(ip, kp, "required")
			ok = false
			break
		}
	}
	for _, k := range s.depKeys {
		if _, has := o[k]; !has {
			continue
		}
		if dep, isReq := s.depRequired[k]; isReq {
			for _, n := range dep.names {
				if _, has := o[n]; !has {
					v.fail(ip, kp.add(dep.kw), k)
					ok = false
					break
				}
			}
		}
		if dep, isSchema := s.depSchemas[k]; isSchema {
			dok, dev := v.validate(dep.s, o, ip, kp.add(dep.kw).add(k))
			if dok {
				ev.merge(dev)
			} else {
				ok = false
			}
		}
	}
	if s.propertyNames != nil {
		mark := len(v.out)
		for _, k := range sortedKeys(o) {
			// At a location of its own (that prints as the object's): the
			// name is another instance than the object, so a reference
			// followed again for it is no loop.
			if pok, _ := v.validate(s.propertyNames, k, &path{parent: ip, name: true}, kp.add("propertyNames")); !pok {
				v.out = v.out[:mark]
				v.fail(ip, kp, "propertyNames") // the name is the payload's: not repeated
				ok = false
				break
			}
		}
	}
	if s.properties == nil && s.patternProps == nil && s.additionalProp == nil {
		return ok
	}
	var extra bool
	for _, k := range sortedKeys(o) {
		matched := false
		if p, has := s.properties[k]; has {
			matched = true
			ev.prop(k)
			if pok, _ := v.validate(p, o[k], ip.add(k), kp.add("properties").add(k)); !pok {
				ok = false
			}
		}
		for _, pp := range s.patternProps {
			if v.match(pp.re, pp.cost, k) {
				matched = true
				ev.prop(k)
				if pok, _ := v.validate(pp.s, o[k], ip.add(k), kp.add("patternProperties").add(pp.src)); !pok {
					ok = false
				}
			}
		}
		if matched || s.additionalProp == nil {
			continue
		}
		ev.prop(k)
		if a := s.additionalProp; a.always != nil && !*a.always {
			extra = true // reported once, at the object: the key is the payload's
			continue
		}
		if aok, _ := v.validate(s.additionalProp, o[k], ip.add(k), kp.add("additionalProperties")); !aok {
			ok = false
		}
	}
	if extra {
		v.fail(ip, kp, "additionalProperties")
		ok = false
	}
	return ok
}

func hasType(inst any, types []string) bool {
	for _, t := range types {
		switch x := inst.(type) {
		case nil:
			if t == "null" {
				return true
			}
		case bool:
			if t == "boolean" {
				return true
			}
		case string:
			if t == "string" {
				return true
			}
		case []any:
			if t == "array" {
				return true
			}
		case map[string]any:
			if t == "object" {
				return true
			}
		case json.Number:
			if t == "number" || t == "integer" && isInteger(x.String()) {
				return true
			}
		}
	}
	return false
}

// unique reports whether no two items of a are equal, by their digests
// (each container hashed once per Validate, however deep it nests).
func (v *validator) unique(a []any) bool {
	seen := make(map[digest]bool, len(a))
	for _, item := range a {
		d := v.digest(item)
		if seen[d] {
			return false
		}
		seen[d] = true
	}
	return true
}
