package jsonschema

import (
	"runtime"
	"strings"
	"testing"
)

// Review r22b: defects of the rewritten number, pattern and budget code,
// each shown by a test that fails on the code as reviewed.

// dec keeps an exponent of up to 1000 digits exactly and calls a number
// whose exponent text is longer "huge" (or "tiny"), however the mantissa
// scales it: 0.1e1000…0 (10^1000 written with 1001 digits) is
// 10^(10^1000 - 1), exactly 1e999…9 (1000 nines), yet the first is "huge"
// and compares greater than the second. const, enum, maximum and
// uniqueItems answer wrongly; likewise 10e-1000…0 against 1e-999…9.
func TestR22bFarNumbersEqualAcrossForms(t *testing.T) {
	nines := strings.Repeat("9", 1000)
	big1, big2 := "0.1e1"+strings.Repeat("0", 1000), "1e"+nines
	tiny1, tiny2 := "10e-1"+strings.Repeat("0", 1000), "1e-"+nines
	for _, p := range [][2]string{{big1, big2}, {tiny1, tiny2}} {
		a, b := p[0], p[1]
		if c := cmpNum(a, b); c != 0 {
			t.Errorf("cmpNum(%.12s…, %.12s…) = %d, want 0 (the same number)", a, b, c)
		}
		for _, c := range []struct{ schema, inst string }{
			{`{"const":` + b + `}`, a},
			{`{"enum":[` + b + `]}`, a},
			{`{"maximum":` + b + `}`, a},
			{`{"minimum":` + b + `}`, a},
		} {
			if !valid(t, mustCompile(t, c.schema), c.inst) {
				t.Errorf("%.20s… against %.12s… (equal): invalid", c.schema, c.inst)
			}
		}
		if valid(t, mustCompile(t, `{"uniqueItems":true}`), "["+a+","+b+"]") {
			t.Errorf("[%.12s…, %.12s…] holds one number twice: uniqueItems passed", a, b)
		}
	}
}

// ecmaToRE2 writes ECMA's \s inside a class as a list ending in
// \x{feff}: a '-' after it, literal before (ECMA-262 Annex B and RE2 both
// read [\s-a] as whitespace, '-' or 'a'), now makes a range \x{feff}-a and
// the schema, which compiled before the rewrite, is refused.
func TestR22bPatternClassSpaceThenHyphen(t *testing.T) {
	doc, err := Decode(strings.NewReader(`{"pattern":"^[\\s-a]+$"}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(doc)
	if err != nil {
		t.Fatalf(`pattern ^[\s-a]+$ refused: %v`, err)
	}
	for _, inst := range []string{`"-"`, `"a"`, `" -a"`, `"\u00a0"`} {
		if !valid(t, s, inst) {
			t.Errorf(`%s does not match ^[\s-a]+$`, inst)
		}
	}
	if valid(t, s, `"b"`) {
		t.Error(`"b" matches ^[\s-a]+$`)
	}
}

// format "regex" (asserted in drafts 4 to 7) compiles the instance string
// with regexp.Compile, uncharged: a 7 KB string (a{1000} a thousand
// times) costs 1 step of the budget and allocates hundreds of MB (the
// resume function has 256 MB); an array of a few such strings in a 256 KiB
// payload is gigabytes.
func TestR22bFormatRegexWorkBounded(t *testing.T) {
	s := mustCompile(t, `{"$schema":"http://json-schema.org/draft-07/schema#","format":"regex"}`)
	inst := `"` + strings.Repeat("a{1000}", 1000) + `"`
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	ex, steps := exhausted(t, s, inst)
	runtime.ReadMemStats(&m1)
	if alloc := m1.TotalAlloc - m0.TotalAlloc; !ex && alloc > 32<<20 {
		t.Errorf("format regex on a %d KB string: %d steps charged, not exhausted, %d MB allocated", len(inst)>>10, steps, alloc>>20)
	}
}
