package jsonschema

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// Numbers are compared exactly (big.Rat) unless their exponent is so large
// that an exact value would cost too much; those are compared as 512-bit
// floats, where ±1e1000000 is ±Inf.
const maxExactExponent = 1000

func exponent(s string) (int, bool) {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return 0, true
	}
	e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
	var ne *strconv.NumError
	if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
		if strings.HasPrefix(s[i+1:], "-") {
			return math.MinInt, true
		}
		return math.MaxInt, true
	}
	return e, err == nil
}

func toRat(s string) (*big.Rat, bool) {
	if e, ok := exponent(s); !ok || e > maxExactExponent || e < -maxExactExponent || len(s) > 4*maxExactExponent {
		return nil, false
	}
	return new(big.Rat).SetString(s)
}

// toFloat parses JSON number s as a 512-bit float (about 154 significant
// digits), from at most its first 200 significant digits: a number of
// 250,000 digits parses as fast as a short one.
func toFloat(s string) *big.Float {
	if len(s) > 256 {
		s = truncated(s, 200)
	}
	f, _, err := big.ParseFloat(s, 10, 512, big.ToNearestEven)
	if err == nil {
		return f
	}
	neg := strings.HasPrefix(s, "-")
	if e, _ := exponent(s); e > 0 {
		return new(big.Float).SetInf(neg) // overflow
	}
	return new(big.Float) // underflow
}

// truncated rewrites JSON number s as "[-]0.DIGITSeEXP" with at most n
// significant digits (rounded toward zero).
func truncated(s string, n int) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, _ = exponent(s)
		s = s[:i]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	// value = 0.digits × 10^(exp + len(intPart) - leading zeros dropped)
	shift := len(intPart) - (len(intPart+frac) - len(digits))
	if digits == "" {
		return "0"
	}
	if len(digits) > n {
		digits = digits[:n]
	}
	e := exp + shift // saturating: an exponent past int is ±Inf or 0 anyway
	switch {
	case shift > 0 && e < exp:
		e = math.MaxInt
	case shift < 0 && e > exp:
		e = math.MinInt
	}
	out := "0." + digits + "e" + strconv.Itoa(e)
	if neg {
		out = "-" + out
	}
	return out
}

func cmpNum(a, b string) int {
	if ra, ok := toRat(a); ok {
		if rb, ok := toRat(b); ok {
			return ra.Cmp(rb)
		}
	}
	return toFloat(a).Cmp(toFloat(b))
}

func isInteger(s string) bool {
	if r, ok := toRat(s); ok {
		return r.IsInt()
	}
	f := toFloat(s)
	return !f.IsInf() && f.IsInt()
}

// isMultiple reports whether n is a multiple of m (m > 0).
func isMultiple(n, m string) bool {
	if rn, ok := toRat(n); ok {
		if rm, ok := toRat(m); ok {
			return new(big.Rat).Quo(rn, rm).IsInt()
		}
	}
	if e, _ := exponent(n); e < -maxExactExponent {
		return isZero(n) // non-zero and that small: no multiple of anything ≥ 1e-1000
	}
	fn, fm := toFloat(n), toFloat(m)
	if fn.IsInf() || fm.IsInf() {
		return false
	}
	return new(big.Float).SetPrec(512).Quo(fn, fm).IsInt()
}

// isZero reports whether JSON number s is 0 (its digits before the exponent).
func isZero(s string) bool {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	return strings.Trim(s, "-0.") == ""
}

// equal is JSON equality: numbers by value, objects regardless of order.
func equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && cmpNum(x.String(), y.String()) == 0
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}

// unique reports whether no two items are equal, in O(n log n): each item
// is reduced to a canonical text (numbers by value, keys sorted).
func unique(a []any) bool {
	seen := make(map[string]bool, len(a))
	var b strings.Builder
	for _, item := range a {
		b.Reset()
		canon(&b, item)
		k := b.String()
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

func canon(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		b.WriteString(strconv.Quote(x))
	case json.Number:
		b.WriteByte('n')
		if r, ok := toRat(x.String()); ok {
			b.WriteString(r.RatString())
		} else {
			b.WriteString(toFloat(x.String()).Text('p', 0)) // exact, and fast for any exponent
		}
	case []any:
		b.WriteByte('[')
		for _, e := range x {
			canon(b, e)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for _, k := range keys {
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			canon(b, x[k])
			b.WriteByte(',')
		}
		b.WriteByte('}')
	}
}
