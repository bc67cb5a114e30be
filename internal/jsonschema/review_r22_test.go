package jsonschema

import (
	"runtime"
	"strings"
	"testing"
	"time"
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

// The step budget (maxSteps, docs/limits.md: "work to validate one payload
// … 4 million schemas applied") counts schemas applied, not the work one
// keyword does. An enum of 30,000 numbers (60 KB, under the 64 KiB of hook
// data) applied to 150 items is 151 steps and 4.5 million big.Rat
// comparisons (several seconds); a 256 KiB payload has ~130,000 items: ~900
// times as long, far past the resume function's 29 s timeout.
func TestR22EnumWorkBounded(t *testing.T) {
	enum := strings.Repeat("0,", 30000) + "2"
	s := mustCompile(t, `{"items":{"enum":[`+enum+`]}}`)
	inst := "[" + strings.Repeat("1,", 149) + "1]"
	start := time.Now()
	valid(t, s, inst)
	if d := time.Since(start); d > time.Second {
		t.Errorf("a 300-byte payload took %v to validate against a 60 KB schema: the step budget does not count enum comparisons", d)
	}
}

// uniqueItems builds the canonical text of every item at every level, so a
// nested payload costs depth × size: 2,000 levels around a 200 KB string
// (a 204 KB payload, schema {"items":{"$ref":"#"},"uniqueItems":true})
// allocate about 1.4 GB and take seconds while applying 2,001 schemas.
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
	start := time.Now()
	s.Validate(v, 20)
	d := time.Since(start)
	runtime.ReadMemStats(&m1)
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 256<<20 || d > 2*time.Second {
		t.Errorf("validating a %d KB payload allocated %d MB and took %v (the resume function has 256 MB)", len(inst)>>10, alloc>>20, d)
	}
}

// Go's regexp runs patterns in time proportional to string length ×
// pattern size; nothing counts it. One 15-byte pattern on a 60 KB string
// takes ~0.5 s; a 64 KiB schema holds thousands of them (allOf), a payload
// 256 KiB of string.
func TestR22PatternWorkBounded(t *testing.T) {
	branches := strings.TrimSuffix(strings.Repeat(`{"pattern":"[a-z]{1000}x"},`, 8), ",")
	s := mustCompile(t, `{"allOf":[`+branches+`]}`)
	inst := `"` + strings.Repeat("a", 30000) + `"`
	start := time.Now()
	valid(t, s, inst)
	if d := time.Since(start); d > time.Second {
		t.Errorf("a 30 KB string against 8 patterns (a 230-byte schema) took %v", d)
	}
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
