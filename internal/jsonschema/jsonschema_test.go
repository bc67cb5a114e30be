package jsonschema

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustCompile(t *testing.T, schema string) *Schema {
	t.Helper()
	doc, err := Decode(strings.NewReader(schema))
	if err != nil {
		t.Fatalf("decode %s: %v", schema, err)
	}
	s, err := Compile(doc)
	if err != nil {
		t.Fatalf("compile %s: %v", schema, err)
	}
	return s
}

func valid(t *testing.T, s *Schema, inst string) bool {
	t.Helper()
	v, err := Decode(strings.NewReader(inst))
	if err != nil {
		t.Fatalf("decode %s: %v", inst, err)
	}
	ok, _ := s.Validate(v, 20)
	return ok
}

const (
	d4   = `"$schema":"http://json-schema.org/draft-04/schema#",`
	d6   = `"$schema":"http://json-schema.org/draft-06/schema#",`
	d7   = `"$schema":"http://json-schema.org/draft-07/schema#",`
	d201 = `"$schema":"https://json-schema.org/draft/2019-09/schema",`
)

// What differs between the drafts, each way; the JSON-Schema-Test-Suite
// covers the rest (go run ./internal/jsonschema/suite, docs/performance.md).
func TestDrafts(t *testing.T) {
	for _, c := range []struct {
		schema, inst string
		want         bool
	}{
		// Draft 4's boolean exclusiveMaximum; a number from draft 6 on.
		{`{` + d4 + `"maximum":3,"exclusiveMaximum":true}`, `3`, false},
		{`{` + d4 + `"maximum":3,"exclusiveMaximum":true}`, `2.5`, true},
		{`{` + d6 + `"exclusiveMaximum":3}`, `3`, false},
		// const and contains exist from draft 6 on: ignored by draft 4.
		{`{` + d4 + `"const":1}`, `2`, true},
		{`{` + d6 + `"const":1}`, `2`, false},
		{`{` + d6 + `"const":1}`, `1.0`, true},
		// Up to draft 7 the keywords beside $ref are ignored.
		{`{` + d7 + `"definitions":{"s":{"type":"string"}},"$ref":"#/definitions/s","maxLength":1}`, `"abc"`, true},
		{`{"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","maxLength":1}`, `"abc"`, false},
		// if/then/else from draft 7 on.
		{`{` + d6 + `"if":{"type":"string"},"then":{"maxLength":1}}`, `"abc"`, true},
		{`{` + d7 + `"if":{"type":"string"},"then":{"maxLength":1}}`, `"abc"`, false},
		// items as an array and additionalItems up to 2019-09; prefixItems in 2020-12.
		{`{` + d201 + `"items":[{"type":"string"}],"additionalItems":false}`, `["a",1]`, false},
		{`{` + d201 + `"items":[{"type":"string"}]}`, `["a",1]`, true},
		{`{"prefixItems":[{"type":"string"}],"items":false}`, `["a",1]`, false},
		{`{"prefixItems":[{"type":"string"}],"items":false}`, `["a"]`, true},
		// unevaluatedProperties sees through allOf and $ref.
		{`{"allOf":[{"properties":{"a":true}}],"unevaluatedProperties":false}`, `{"a":1}`, true},
		{`{"allOf":[{"properties":{"a":true}}],"unevaluatedProperties":false}`, `{"a":1,"b":2}`, false},
		{`{"$defs":{"a":{"properties":{"a":true}}},"$ref":"#/$defs/a","unevaluatedProperties":false}`, `{"a":1}`, true},
		// ...not through a failed anyOf branch.
		{`{"anyOf":[{"properties":{"a":true},"required":["a"]},{"properties":{"b":true},"required":["b"]}],"unevaluatedProperties":false}`, `{"b":1,"a":"x"}`, true},
		{`{"anyOf":[{"properties":{"a":{"type":"string"}},"required":["a"]},{"required":["b"]}],"unevaluatedProperties":false}`, `{"b":1,"a":2}`, false},
		// contains marks items evaluated in 2020-12 only.
		{`{"contains":{"type":"string"},"unevaluatedItems":false}`, `["a"]`, true},
		{`{` + d201 + `"contains":{"type":"string"},"unevaluatedItems":false}`, `["a"]`, false},
		// $recursiveRef (2019-09) and $dynamicRef (2020-12) extend a tree.
		{`{` + d201 + `"$id":"https://x.test/strict","$recursiveAnchor":true,"$ref":"tree","unevaluatedProperties":false,"$defs":{"tree":{"$id":"tree","$recursiveAnchor":true,"type":"object","properties":{"kids":{"type":"array","items":{"$recursiveRef":"#"}}}}}}`, `{"kids":[{"kids":[],"x":1}]}`, false},
		{`{` + d201 + `"$id":"https://x.test/strict","$recursiveAnchor":true,"$ref":"tree","unevaluatedProperties":false,"$defs":{"tree":{"$id":"tree","$recursiveAnchor":true,"type":"object","properties":{"kids":{"type":"array","items":{"$recursiveRef":"#"}}}}}}`, `{"kids":[{"kids":[]}]}`, true},
		{`{"$id":"https://x.test/strict","$dynamicAnchor":"node","$ref":"tree","unevaluatedProperties":false,"$defs":{"tree":{"$id":"tree","$dynamicAnchor":"node","type":"object","properties":{"kids":{"type":"array","items":{"$dynamicRef":"#node"}}}}}}`, `{"kids":[{"kids":[],"x":1}]}`, false},
		{`{"$id":"https://x.test/strict","$dynamicAnchor":"node","$ref":"tree","unevaluatedProperties":false,"$defs":{"tree":{"$id":"tree","$dynamicAnchor":"node","type":"object","properties":{"kids":{"type":"array","items":{"$dynamicRef":"#node"}}}}}}`, `{"kids":[{"kids":[]}]}`, true},
		// format is asserted up to draft 7, an annotation from 2019-09 on.
		{`{` + d7 + `"format":"email"}`, `"not an address"`, false},
		{`{` + d7 + `"format":"date-time"}`, `"2026-02-29T10:00:00Z"`, false},
		{`{` + d7 + `"format":"date-time"}`, `"2028-02-29T23:59:60Z"`, true},
		{`{"format":"email"}`, `"not an address"`, true},
		// Numbers by value, exactly.
		{`{"type":"integer"}`, `1.0`, true},
		{`{"multipleOf":0.01}`, `19.99`, true},
		{`{"multipleOf":0.01}`, `19.991`, false},
		{`{"maximum":1e400}`, `1e399`, true},
		{`{"maximum":1e400}`, `1e401`, false},
		{`{"enum":[[1,{"a":2}]]}`, `[1.0,{"a":2.00}]`, true},
		{`{"uniqueItems":true}`, `[{"a":1,"b":2},{"b":2,"a":1.0}]`, false},
		{`{"uniqueItems":true}`, `[1,"1",true,null,[1],{"1":1}]`, true},
		// Lengths count code points.
		{`{"maxLength":2}`, `"éé"`, true},
		// dependencies (draft 7) and dependentRequired (2019-09 on).
		{`{` + d7 + `"dependencies":{"a":["b"]}}`, `{"a":1}`, false},
		{`{"dependentRequired":{"a":["b"]}}`, `{"a":1}`, false},
		{`{"dependentRequired":{"a":["b"]}}`, `{"a":1,"b":2}`, true},
		// Anchors and ids.
		{`{"$defs":{"x":{"$anchor":"pos","minimum":0}},"$ref":"#pos"}`, `-1`, false},
		{`{` + d4 + `"definitions":{"x":{"id":"#pos","minimum":0}},"$ref":"#pos"}`, `-1`, false},
		{`{"$id":"https://x.test/a/root","$defs":{"b":{"$id":"b/leaf","type":"string"}},"properties":{"p":{"$ref":"b/leaf"}}}`, `{"p":1}`, false},
		{`{"$defs":{"a b":{"type":"string"}},"$ref":"#/$defs/a%20b"}`, `1`, false},
	} {
		s := mustCompile(t, c.schema)
		if got := valid(t, s, c.inst); got != c.want {
			t.Errorf("%s against %s: valid=%v, want %v", c.inst, c.schema, got, c.want)
		}
	}
}

// Violations say where, by the evaluation path, and never carry a value.
func TestViolations(t *testing.T) {
	for _, c := range []struct {
		schema, inst string
		want         []Violation
	}{
		{`{"type":"object","required":["approved"],"properties":{"approved":{"type":"boolean"},"by":{"type":"string"}}}`, `{"approved":"yes","by":1}`,
			[]Violation{{"/approved", "/properties/approved/type"}, {"/by", "/properties/by/type"}}},
		{`{"required":["approved"]}`, `{}`, []Violation{{"", "/required"}}},
		// additionalProperties false: one violation at the object, naming no key.
		{`{"properties":{"a":true},"additionalProperties":false}`, `{"a":1,"s3cret":2,"other":3}`, []Violation{{"", "/additionalProperties"}}},
		{`{"propertyNames":{"maxLength":2}}`, `{"s3cret":1}`, []Violation{{"", "/propertyNames"}}},
		{`{"$defs":{"n":{"maximum":5}},"properties":{"n":{"$ref":"#/$defs/n"}}}`, `{"n":987654}`, []Violation{{"/n", "/properties/n/$ref/maximum"}}},
		{`{"items":{"pattern":"^4"}}`, `["41","51"]`, []Violation{{"/1", "/items/pattern"}}},
		// A failed anyOf reports its branches' failures; a passed one nothing.
		{`{"anyOf":[{"type":"string"},{"minimum":3}]}`, `1`, []Violation{{"", "/anyOf/0/type"}, {"", "/anyOf/1/minimum"}}},
		{`{"anyOf":[{"type":"string"},{"minimum":3}],"maximum":0}`, `4`, []Violation{{"", "/maximum"}}},
		{`{"oneOf":[{"minimum":1},{"minimum":2}]}`, `3`, []Violation{{"", "/oneOf"}}},
		{`{"not":{"type":"number"}}`, `3`, []Violation{{"", "/not"}}},
		{`{"contains":{"const":1}}`, `[2]`, []Violation{{"", "/contains"}}},
		{`{"properties":{"a/b~c":{"type":"string"}}}`, `{"a/b~c":1}`, []Violation{{"/a~1b~0c", "/properties/a~1b~0c/type"}}},
	} {
		s := mustCompile(t, c.schema)
		inst, _ := Decode(strings.NewReader(c.inst))
		ok, got := s.Validate(inst, 20)
		if ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s against %s: %v %+v, want %+v", c.inst, c.schema, ok, got, c.want)
		}
	}
	// At most max violations.
	s := mustCompile(t, `{"items":{"type":"string"}}`)
	inst, _ := Decode(strings.NewReader(`[1,2,3,4,5]`))
	if _, got := s.Validate(inst, 3); len(got) != 3 {
		t.Errorf("%d violations, want the first 3", len(got))
	}
}

// A schema that is no valid schema of its draft, or reaches outside
// itself, is refused at Compile.
func TestCompileRefuses(t *testing.T) {
	for _, schema := range []string{
		`[1,2]`,
		`{"type":"nonsense"}`,
		`{"type":["string","string"]}`,
		`{"minimum":"3"}`,
		`{"minLength":-1}`,
		`{"minLength":1.5}`,
		`{"multipleOf":0}`,
		`{"pattern":"(unclosed"}`,
		`{"patternProperties":{"(":true}}`,
		`{"required":"a"}`,
		`{"properties":{"a":5}}`,
		`{"allOf":[]}`,
		`{"enum":1}`,
		`{"items":[true]}`,
		`{"$schema":"https://example.com/draft/99"}`,
		`{"$ref":"https://example.com/s.json"}`,
		`{"$ref":"other.json"}`,
		`{"$ref":"https://json-schema.org/draft/2020-12/schema"}`,
		`{"$ref":"#/$defs/missing"}`,
		`{"$ref":"#nowhere"}`,
		`{"$defs":{"a":{"$anchor":"x"},"b":{"$anchor":"x"}}}`,
		`{"$defs":{"a":{"$id":"https://x.test/a"},"b":{"$id":"https://x.test/a"}}}`,
		`{"$id":"https://x.test/a#frag"}`,
		`{` + d4 + `"properties":{"a":true}}`,
		`{"title":1}`,
	} {
		doc, err := Decode(strings.NewReader(schema))
		if err != nil {
			t.Fatalf("decode %s: %v", schema, err)
		}
		if _, err := Compile(doc); err == nil {
			t.Errorf("%s compiled, want it refused", schema)
		}
	}
	if _, err := Decode(strings.NewReader(`{} {}`)); err == nil {
		t.Error("two values decoded as one")
	}
}

// Loops, big arrays and huge numbers cost bounded time.
func TestCostBounded(t *testing.T) {
	start := time.Now()
	for _, schema := range []string{`{"$ref":"#"}`, `{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`,
		`{"allOf":[{"$ref":"#"}]}`, `{"not":{"$ref":"#"}}`, `{"anyOf":[{"$ref":"#"},{"$ref":"#"}]}`,
		`{"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/a"},{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}`} {
		if valid(t, mustCompile(t, schema), `1`) {
			t.Errorf("%s: a reference loop validated", schema)
		}
	}
	// A schema that recurses with the instance is no loop.
	if !valid(t, mustCompile(t, `{"items":{"$ref":"#"},"type":"array"}`), `[[[]],[]]`) {
		t.Error("a recursive schema refused a nested array")
	}
	// Exponential without a loop: refused past the step budget, never valid.
	var defs []string
	for i := 0; i < 40; i++ {
		defs = append(defs, fmt.Sprintf(`"a%d":{"anyOf":[{"$ref":"#/$defs/a%d"},{"$ref":"#/$defs/a%d"}]}`, i, i+1, i+1))
	}
	defs = append(defs, `"a40":{"type":"integer"}`)
	if valid(t, mustCompile(t, `{"$defs":{`+strings.Join(defs, ",")+`},"not":{"$ref":"#/$defs/a0"}}`), `"x"`) {
		t.Error("an exhausted budget under not validated")
	}
	items := make([]string, 50000)
	for i := range items {
		items[i] = fmt.Sprint(i)
	}
	if !valid(t, mustCompile(t, `{"uniqueItems":true}`), "["+strings.Join(items, ",")+"]") {
		t.Error("50,000 distinct numbers are not unique")
	}
	// -1e999999999999999999999 is an integer under 10: a multiple of 0.5.
	s := mustCompile(t, `{"maximum":10,"multipleOf":0.5}`)
	for n, want := range map[string]bool{`1e1000000000`: false, `-1e-1000000000`: false, `0e-1000000000`: true, `1e999999999999999999999`: false, `-1e999999999999999999999`: true, `1e-999999999999999999999`: false} {
		if got := valid(t, s, n); got != want {
			t.Errorf("%s against %s: valid=%v, want %v", n, `{"maximum":10,"multipleOf":0.5}`, got, want)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// A reference into an unknown keyword (from a definition compiled after
// the root) compiles, with the resources found there, and validates.
func TestReferenceIntoUnknownKeyword(t *testing.T) {
	s := mustCompile(t, `{"$defs":{"a":{"$ref":"#/x-lib/t"}},"properties":{"p":{"$ref":"#/$defs/a"}},`+
		`"x-lib":{"t":{"$ref":"https://x.test/d#/$defs/x","$defs":{"d":{"$id":"https://x.test/d","$defs":{"x":{"$dynamicRef":"#n"},"n":{"$dynamicAnchor":"n","type":"integer"}}}}}}}`)
	if !valid(t, s, `{"p":1}`) || valid(t, s, `{"p":"a"}`) {
		t.Error("a reference into an unknown keyword does not validate as its target")
	}
	// The same from a definition nothing references: it still compiles.
	mustCompile(t, `{"$defs":{"a":{"$ref":"#/x-lib/t"}},`+
		`"x-lib":{"t":{"$ref":"https://x.test/d#/$defs/x","$defs":{"d":{"$id":"https://x.test/d","$defs":{"x":{"$dynamicRef":"#n"},"n":{"$dynamicAnchor":"n","type":"integer"}}}}}}}`)
}

// Compile and Validate never panic, whatever the schema (a hook's creator
// writes it) and the instance (a caller's payload).
func FuzzCompileValidate(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"type":"object","required":["a"],"properties":{"a":{"type":"boolean"}},"additionalProperties":false}`, `{"a":true,"b":1}`},
		{`{"$defs":{"n":{"$dynamicAnchor":"n","items":{"$dynamicRef":"#n"}}},"$ref":"#/$defs/n","unevaluatedItems":false}`, `[[1],[[]]]`},
		{`{"$schema":"https://json-schema.org/draft/2019-09/schema","$recursiveAnchor":true,"items":{"$recursiveRef":"#"},"unevaluatedProperties":false}`, `[[{"a":1}]]`},
		{`{"$schema":"http://json-schema.org/draft-04/schema#","id":"http://x.test/","definitions":{"a":{"id":"#a","maximum":1,"exclusiveMaximum":true}},"items":[{"$ref":"#a"}],"additionalItems":false}`, `[1,2]`},
		{`{"$schema":"http://json-schema.org/draft-07/schema#","format":"uri","dependencies":{"a":["b"],"c":{"not":{}}},"if":{"minLength":2},"then":{"format":"date-time"}}`, `"http://x/ y"`},
		{`{"multipleOf":1e-1000,"uniqueItems":true,"contains":{"const":1e999},"minContains":2,"maxContains":3}`, `[1e999,1E+999,1e-1001]`},
		{`{"x":{"$id":"https://a.test/","$anchor":"z"},"$ref":"#/x","patternProperties":{"^a+$":{"enum":[null]}},"propertyNames":{"pattern":"^a"}}`, `{"aa":null,"b":0}`},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, schema, inst string) {
		doc, err := Decode(strings.NewReader(schema))
		if err != nil {
			return
		}
		s, err := Compile(doc)
		if err != nil {
			return
		}
		v, err := Decode(strings.NewReader(inst))
		if err != nil {
			return
		}
		ok, violations := s.Validate(v, 20)
		if ok != (len(violations) == 0) || len(violations) > 20 {
			t.Fatalf("valid=%v with %d violations", ok, len(violations))
		}
	})
}

// Long and huge numbers compare by value, quickly.
func TestNumbers(t *testing.T) {
	long := "1" + strings.Repeat("7", 250000)
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1", "1.0", 0}, {"1e2", "100", 0}, {"-0.5", "-5e-1", 0}, {"0.1", "0.10000000000000000001", -1},
		{long, long + "0e-1", 0}, {long, "1.8e250000", -1}, {long, "1.7e250000", 1}, {"-" + long, "-1.7e250000", -1},
		{"1e99910019", "1e911", 1}, {"1e-99910019", "0", 1}, {"0.000" + long, "1.7e-4", 1},
	} {
		if got := cmpNum(c.a, c.b); got != c.want {
			t.Errorf("cmpNum(%.20s, %.20s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	start := time.Now()
	s := mustCompile(t, `{"uniqueItems":true,"enum":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],"contains":{"const":1e911},"maxContains":0}`)
	valid(t, s, "["+long+",1e99910019,"+long+"]")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}
