package jsonschema

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash"
	"math/big"
	"reflect"
	"strings"
	"unsafe"
)

// dec is a JSON number as sign × 0.digits × 10^exp, where digits has no
// leading or trailing zero ("" is zero, whatever its sign or exponent).
// Equal numbers have equal decs whatever their text (1, 1.0, 10e-1), so
// numbers are compared and hashed exactly, in time linear in their text.
//
// An exponent of maxExpDigits+1 digits or more (a number past 10^(10^1000)
// or, nonzero, under 10^-(10^1000)) is not kept: such a number is "huge"
// or "tiny" (far), and two of one kind and sign compare equal. No other
// number compares equal to one.
type dec struct {
	neg    bool
	digits string
	exp    *big.Int // nil when zero, huge or tiny
	far    int      // +1 huge, -1 tiny, 0 otherwise
}

const maxExpDigits = 1000

// parseDec reads JSON number s (valid by the JSON grammar, as Decode and
// Compile give it).
func parseDec(s string) dec {
	d := dec{neg: strings.HasPrefix(s, "-")}
	s = strings.TrimPrefix(s, "-")
	expText := ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s, expText = s[:i], s[i+1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	all := intPart + frac
	trimmed := strings.TrimLeft(all, "0")
	lead := len(all) - len(trimmed)
	d.digits = strings.TrimRight(trimmed, "0")
	if d.digits == "" {
		return dec{}
	}
	// value = 0.all × 10^(len(intPart) + e) = 0.digits × 10^(len(intPart) - lead + e)
	adj := int64(len(intPart) - lead)
	expNeg := strings.HasPrefix(expText, "-")
	expDigits := strings.TrimLeft(strings.TrimLeft(expText, "+-"), "0")
	// Huge or tiny by the exponent's value, not its text: 0.1e1000…0 is
	// 1e999…9. Past maxExpDigits+1 digits no adj (at most the length of a
	// payload) brings it under 10^maxExpDigits.
	if len(expDigits) > maxExpDigits+1 {
		d.far = 1
		if expNeg {
			d.far = -1
		}
		return d
	}
	e := new(big.Int)
	if expDigits != "" {
		e.SetString(expDigits, 10)
		if expNeg {
			e.Neg(e)
		}
	}
	e.Add(e, big.NewInt(adj))
	if len(expDigits) >= maxExpDigits-10 && len(new(big.Int).Abs(e).String()) > maxExpDigits {
		d.far = e.Sign() // |exp| ≥ 10^maxExpDigits
		return d
	}
	d.exp = e
	return d
}

func (d dec) sign() int {
	switch {
	case d.digits == "":
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// cmpMag compares |d| and |o|, both nonzero.
func (d dec) cmpMag(o dec) int {
	if d.far != o.far {
		return cmpInt(d.far, o.far)
	}
	if d.far != 0 {
		return 0
	}
	if c := d.exp.Cmp(o.exp); c != 0 {
		return c
	}
	// Same exponent: 0.d1 against 0.d2, with no trailing zeros, is their
	// order as text ("12" < "123", "45" < "5").
	return strings.Compare(d.digits, o.digits)
}

func cmpDec(a, b dec) int {
	sa, sb := a.sign(), b.sign()
	if sa != sb || sa == 0 {
		return cmpInt(sa, sb)
	}
	return sa * a.cmpMag(b)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpNum(a, b string) int { return cmpDec(parseDec(a), parseDec(b)) }

func isInteger(s string) bool {
	d := parseDec(s)
	switch {
	case d.digits == "" || d.far > 0:
		return true
	case d.far < 0:
		return false
	}
	return d.exp.Cmp(big.NewInt(int64(len(d.digits)))) >= 0
}

// divisor is a multipleOf value m > 0, ready for isMultiple: m = D × 10^s
// with D = 2^a × 5^b × odd, where odd has no factor 2 or 5.
type divisor struct {
	m    dec
	s    *big.Int // scale: exp - len(digits)
	a, b int64
	odd  *big.Int
}

func newDivisor(ms string) *divisor {
	m := parseDec(ms)
	dv := &divisor{m: m, odd: big.NewInt(1)}
	if m.digits == "" {
		return dv // 0: Compile refuses it
	}
	if m.far == 0 {
		dv.s = new(big.Int).Sub(m.exp, big.NewInt(int64(len(m.digits))))
	}
	D, _ := new(big.Int).SetString(m.digits, 10)
	dv.a = int64(D.TrailingZeroBits())
	D.Rsh(D, uint(dv.a))
	dv.b = removeFactor(D, 5)
	dv.odd = D
	return dv
}

// removeFactor divides f out of n as often as it goes, and says how often
// (by f^27 at a time while it can, so a number of n digits costs O(n²/27)).
func removeFactor(n *big.Int, f int64) int64 {
	var count int64
	big27 := new(big.Int).Exp(big.NewInt(f), big.NewInt(27), nil)
	q, r := new(big.Int), new(big.Int)
	for {
		q.QuoRem(n, big27, r)
		if r.Sign() != 0 {
			break
		}
		n.Set(q)
		count += 27
	}
	bf := big.NewInt(f)
	for {
		q.QuoRem(n, bf, r)
		if r.Sign() != 0 {
			return count
		}
		n.Set(q)
		count++
	}
}

// isMultiple reports whether n is an integer multiple of dv's m.
//
// With n = N × 10^sn and k = sn - s, n/m = N × 10^k / D. For k < 0 that
// needs 10 | N, which digits without a trailing zero never give. For
// k ≥ 0 it needs odd | N, 2^a | N × 2^k and 5^b | N × 5^k.
func isMultiple(d dec, dv *divisor) bool {
	if d.digits == "" {
		return true
	}
	m := dv.m
	switch {
	case m.far > 0 && d.far > 0:
		return false // past telling
	case m.far > 0 || d.far < 0:
		return false // |n| < |m|: no integer quotient but 0
	}
	N, _ := new(big.Int).SetString(d.digits, 10)
	if d.far > 0 || m.far < 0 {
		// k is beyond any power of 2 or 5 in D.
		return new(big.Int).Rem(N, dv.odd).Sign() == 0
	}
	k := new(big.Int).Sub(d.exp, big.NewInt(int64(len(d.digits))))
	k.Sub(k, dv.s)
	if k.Sign() < 0 {
		return false
	}
	if new(big.Int).Rem(N, dv.odd).Sign() != 0 {
		return false
	}
	if !k.IsInt64() {
		return true // k past any a or b
	}
	kk := k.Int64()
	if need := dv.a - kk; need > 0 && int64(N.TrailingZeroBits()) < need {
		return false
	}
	if need := dv.b - kk; need > 0 {
		p := new(big.Int).Exp(big.NewInt(5), big.NewInt(need), nil)
		if new(big.Int).Rem(N, p).Sign() != 0 {
			return false
		}
	}
	return true
}

// numberCost is the work, in steps, of reading a number of n digits into
// a big.Int (quadratic in n: 256,000 digits take about 0.2 s).
func numberCost(n int) int { return 1 + n*n/100_000 }

// digest is a value's SHA-256 over its canonical text: numbers by value,
// object keys in order. Equal JSON values have equal digests; anything
// else differs but with a SHA-256 collision.
type digest [sha256.Size]byte

// digester computes digests, each container's once (memo: a value of
// Decode is never changed, so its address names it), and counts the
// bytes it hashed.
type digester struct {
	memo   map[containerKey]digest
	hashed int
	h      hash.Hash
}

type containerKey struct {
	p unsafe.Pointer
	n int
}

func (g *digester) of(v any) digest {
	if g.h == nil {
		g.h = sha256.New()
		g.memo = map[containerKey]digest{}
	}
	var key containerKey
	switch x := v.(type) {
	case []any:
		if len(x) > 0 {
			key = containerKey{unsafe.Pointer(unsafe.SliceData(x)), len(x)}
		}
	case map[string]any:
		if len(x) > 0 {
			key = containerKey{reflect.ValueOf(x).UnsafePointer(), -1}
		}
	}
	if key.p != nil {
		if d, ok := g.memo[key]; ok {
			return d
		}
	}
	// Children first: the hasher is shared.
	var kids []digest
	var keys []string
	switch x := v.(type) {
	case []any:
		kids = make([]digest, len(x))
		for i, e := range x {
			kids[i] = g.of(e)
		}
	case map[string]any:
		keys = sortedKeys(x)
		kids = make([]digest, len(keys))
		for i, k := range keys {
			kids[i] = g.of(x[k])
		}
	}
	h := g.h
	h.Reset()
	var n [8]byte
	str := func(tag byte, s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write([]byte{tag})
		h.Write(n[:])
		h.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
		g.hashed += 9 + len(s)
	}
	switch x := v.(type) {
	case nil:
		str('z', "")
	case bool:
		if x {
			str('t', "")
		} else {
			str('f', "")
		}
	case string:
		str('s', x)
	case json.Number:
		d := parseDec(x.String())
		sign := "+"
		if d.neg {
			sign = "-"
		}
		switch {
		case d.digits == "":
			str('n', "0")
		case d.far > 0:
			str('n', sign+"huge") // all alike: see dec
		case d.far < 0:
			str('n', sign+"tiny")
		default:
			str('n', sign+d.digits+"e"+d.exp.String())
		}
	case []any:
		str('[', "")
		for _, k := range kids {
			h.Write(k[:])
		}
		g.hashed += len(kids) * sha256.Size
	case map[string]any:
		str('{', "")
		for i, k := range keys {
			str('k', k)
			h.Write(kids[i][:])
		}
		g.hashed += len(kids) * sha256.Size
	}
	var d digest
	h.Sum(d[:0])
	if key.p != nil {
		g.memo[key] = d
	}
	return d
}
