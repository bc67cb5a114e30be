package jsonschema

import (
	"runtime"
	"strings"
	"testing"
)

// Review r22: defects of the in-house validator, each shown by a test that
// fails on the code as reviewed.

// A number longer than 4,000 characters is compared as a 512-bit float of
// its first 200 digits (value.go, toRat/toFloat), so 1.000…0001 (a 256 KiB
// payload may hold it) is taken for 1: it passes "type":"integer",
// "maximum":1, "const":1, "enum":[1] and "multipleOf":1, and uniqueItems
// calls it a duplicate of 1.000…0002. JSON Schema compares numbers by value.
func TestR22LongNumbersComparedByValue(t *testing.T) {
	justOver1 := "1." + strings.Repeat("0", 4001) + "1" // 1 + 1e-4002
	for _, c := range []struct {
		schema, inst string
		want         bool
	}{
		{`{"type":"integer"}`, justOver1, false},
		{`{"maximum":1}`, justOver1, false},
		{`{"const":1}`, justOver1, false},
		{`{"enum":[1]}`, justOver1, false},
		{`{"uniqueItems":true}`, "[" + justOver1 + ",1." + strings.Repeat("0", 4001) + "2]", true},
		{`{"multipleOf":1}`, justOver1, false},
	} {
		if got := valid(t, mustCompile(t, c.schema), c.inst); got != c.want {
			t.Errorf("%s against 1.000…0001 (%d chars): valid=%v, want %v", c.schema, len(justOver1), got, c.want)
		}
	}
}

// isMultiple assumes a divisor of at least 1e-1000 ("no multiple of
// anything ≥ 1e-1000") but Compile accepts any positive multipleOf:
// 1e-1999 is 10 × 1e-2000, and is refused.
func TestR22MultipleOfTinyDivisor(t *testing.T) {
	s := mustCompile(t, `{"multipleOf":1e-2000}`)
	for _, inst := range []string{`1e-1999`, `2e-2000`, `3e-1500`} {
		if !valid(t, s, inst) {
			t.Errorf("%s is a multiple of 1e-2000 but is refused", inst)
		}
	}
}

// Compile's result must not depend on map iteration order: a schema
// accepted when a hook is created (normalizeSchema) must compile again
// when the hook is resumed (checkSchema, "the stored schema …": a 500).
// Here property "a" references a resource whose $id is indexed only when
// property "b"'s reference into an unknown keyword is compiled; compileInto
// ranges over "properties" in Go's random map order.
func TestR22CompileDeterministic(t *testing.T) {
	const schema = `{"properties":{` +
		`"a":{"$ref":"https://x.test/lib"},` +
		`"b":{"$ref":"#/x-lib/t"}},` +
		`"x-lib":{"t":{"$id":"https://x.test/lib","type":"integer"}}}`
	ok, failed := 0, 0
	var lastErr error
	for i := 0; i < 200; i++ {
		doc, err := Decode(strings.NewReader(schema))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Compile(doc); err != nil {
			failed++
			lastErr = err
		} else {
			ok++
		}
	}
	if ok > 0 && failed > 0 {
		t.Errorf("the same schema compiled %d times and was refused %d times (%v)", ok, failed, lastErr)
	}
}

// exhausted reports whether validating inst against s ran out of the
// work budget (maxSteps), and the steps it charged.
func exhausted(t *testing.T, s *Schema, inst string) (bool, int) {
	t.Helper()
	doc, err := Decode(strings.NewReader(inst))
	if err != nil {
		t.Fatal(err)
	}
	v := &validator{max: 20}
	v.validate(s.root, doc, nil, nil)
	return v.exhausted, v.steps
}

// An enum's cost does not grow with its size: an enum of 30,000 numbers
// (60 KB, under the 64 KiB of hook data) applied to 150 items used to be
// 4.5 million big.Rat comparisons (seconds; a 256 KiB payload ~900 times
// that), with 151 steps charged. Members are now looked up by digest.
func TestR22EnumWorkBounded(t *testing.T) {
	enum := strings.Repeat("0,", 30000) + "2"
	s := mustCompile(t, `{"items":{"enum":[`+enum+`]}}`)
	inst := "[" + strings.Repeat("2,", 149) + "1]"
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if valid(t, s, inst) {
		t.Error("1 is no member of the enum")
	}
	runtime.ReadMemStats(&m1)
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 1<<20 {
		t.Errorf("checking 150 items against a 30,000-member enum allocated %d KB (one comparison per member?)", alloc>>10)
	}
	if !valid(t, s, "["+strings.Repeat("2,", 149)+"2.0]") {
		t.Error("2.0 is a member of the enum (2)")
	}
}

// uniqueItems hashes each container once: 2,000 levels around a 200 KB
// string (a 204 KB payload, schema {"items":{"$ref":"#"},"uniqueItems":
// true}) used to build the canonical text of every level (1.4 GB).
func TestR22UniqueItemsNestedWorkBounded(t *testing.T) {
	s := mustCompile(t, `{"items":{"$ref":"#"},"uniqueItems":true}`)
	const depth = 2000
	inst := strings.Repeat("[", depth) + `"` + strings.Repeat("x", 200000) + `"` + strings.Repeat("]", depth)
	v, err := Decode(strings.NewReader(inst))
	if err != nil {
		t.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	ok, _ := s.Validate(v, 20)
	runtime.ReadMemStats(&m1)
	if !ok {
		t.Error("a nested array of one item each is unique at every level")
	}
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 16<<20 {
		t.Errorf("validating a %d KB payload allocated %d MB (the resume function has 256 MB)", len(inst)>>10, alloc>>20)
	}
	if !valid(t, s, `[[1,2],[2,1]]`) || valid(t, s, `[[1,{"a":2}],[1.0,{"a":2e0}]]`) {
		t.Error("uniqueItems by digest: wrong answer")
	}
}

// A pattern's matching is charged by the input's length times the size of
// its program: 8 patterns of 2,000 instructions on a 30 KB string (a 230
// byte schema; 0.3 s a match) exhaust the budget and the payload is
// refused; an ordinary pattern on a long string is not.
func TestR22PatternWorkBounded(t *testing.T) {
	branches := strings.TrimSuffix(strings.Repeat(`{"pattern":"[a-z]{1000}x"},`, 8), ",")
	s := mustCompile(t, `{"allOf":[`+branches+`]}`)
	inst := `"` + strings.Repeat("a", 30000) + `"`
	if ex, steps := exhausted(t, s, inst); !ex {
		t.Errorf("8 patterns of 2,000 instructions on a 30 KB string: %d steps charged, not exhausted", steps)
	}
	ok, viol := s.Validate(mustDecode(t, inst), 20)
	if ok || len(viol) != 1 || viol[0] != (Violation{}) {
		t.Errorf("an exhausted budget answered %v %v, want refused with one empty violation", ok, viol)
	}
	plain := mustCompile(t, `{"pattern":"^[a-z]+$"}`)
	if ex, steps := exhausted(t, plain, `"`+strings.Repeat("a", 250000)+`"`); ex || steps > 100000 {
		t.Errorf("^[a-z]+$ on 250 KB: exhausted %v, %d steps", ex, steps)
	}
}

func mustDecode(t *testing.T, inst string) any {
	t.Helper()
	v, err := Decode(strings.NewReader(inst))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The reference-loop check keys on (target, instance location), but
// propertyNames applies its schema to each property name at the object's
// own location: a $ref reached again through propertyNames is taken for
// a loop and fails, though the instance (now a string) differs. The name
// "a" is a string, which the definition allows (propertyNames does not
// apply to strings): {"a":1} is valid.
func TestR22PropertyNamesRefIsNoLoop(t *testing.T) {
	s := mustCompile(t, `{"$defs":{"x":{"type":["object","string"],"propertyNames":{"$ref":"#/$defs/x"}}},"$ref":"#/$defs/x"}`)
	if !valid(t, s, `{"a":1}`) {
		t.Error(`{"a":1} refused: a $ref through propertyNames was taken for a reference loop`)
	}
}

// ECMA-262's \s (what JSON Schema's "pattern" is defined on) matches
// U+000B, U+00A0, U+2029 and the Space_Separator class; Go's RE2 \s is
// [\t\n\f\r ] only. A schema that forbids whitespace with \S lets a
// no-break space through. Nothing in the docs says patterns are RE2.
func TestR22PatternWhitespaceIsECMA(t *testing.T) {
	s := mustCompile(t, `{"pattern":"^\\S+$"}`)
	for _, inst := range []string{`"a\u00a0b"`, `"a\u000bb"`, `"a\u2003b"`} {
		if valid(t, s, inst) {
			t.Errorf(`%s matches ^\S+$: Go's \s is not ECMA-262's`, inst)
		}
	}
}

// Numbers past the exponents kept (dec: huge and tiny) as multipleOf and
// against it: answered, never a panic.
func TestMultipleOfFarNumbers(t *testing.T) {
	huge, tiny := "1e"+strings.Repeat("9", 1001), "3e-"+strings.Repeat("9", 1001)
	for _, c := range []struct {
		m, n string
		want bool
	}{
		{tiny, "3", true}, {tiny, "7", false}, {tiny, "0", true}, {tiny, huge, false}, {tiny, "3" + huge[1:], true}, {tiny, tiny, false},
		{huge, "5", false}, {huge, huge, false}, {"3", huge, false}, {"1", huge, true}, {"0.5", "-" + huge, true},
		{"2", tiny, false}, {"1.5", "4.5", true}, {"1.5", "35", false}, {"0.0001", "0.0075", true},
		{"0.123456789", "1e308", false}, {"1e-2000", "1e-1999", true}, {"4e-3", "1.2e-2", true}, {"4e-3", "1.3e-2", false},
	} {
		if got := valid(t, mustCompile(t, `{"multipleOf":`+c.m+`}`), c.n); got != c.want {
			t.Errorf("%.12s multipleOf %.12s: %v, want %v", c.n, c.m, got, c.want)
		}
	}
}
