package awsmodel

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The expression subset pkg/hooks sends (and no more): conditions with
// AND/OR/NOT, parentheses, = and <>, attribute_exists,
// attribute_not_exists and begins_with over document paths (#a.#b);
// updates with SET (value, a + b, a - b, where a and b may each be
// if_not_exists(path, v)) and
// REMOVE of top-level or nested attributes, clauses in any order.

type exprCtx struct {
	names  map[string]string
	values map[string]types.AttributeValue
	toks   []string
	pos    int
}

func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case strings.ContainsRune("(),.=+-", rune(c)):
			toks = append(toks, string(c))
			i++
		case c == '<' || c == '>':
			if i+1 < len(s) && (s[i+1] == '=' || s[i+1] == '>') {
				toks = append(toks, s[i:i+2])
				i += 2
			} else {
				toks = append(toks, string(c))
				i++
			}
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n(),.=+-<>", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

func (x *exprCtx) peek() string {
	if x.pos < len(x.toks) {
		return x.toks[x.pos]
	}
	return ""
}

func (x *exprCtx) next() string { t := x.peek(); x.pos++; return t }

func (x *exprCtx) expect(t string) {
	if got := x.next(); got != t {
		panic(fmt.Errorf("expected %q, got %q", t, got))
	}
}

// path parses name(.name)* into attribute names.
func (x *exprCtx) path() []string {
	var p []string
	for {
		t := x.next()
		if strings.HasPrefix(t, "#") {
			n, ok := x.names[t]
			if !ok {
				panic(fmt.Errorf("undefined name %s", t))
			}
			t = n
		}
		p = append(p, t)
		if x.peek() != "." {
			return p
		}
		x.next()
	}
}

func get(item map[string]types.AttributeValue, p []string) types.AttributeValue {
	var cur types.AttributeValue = &types.AttributeValueMemberM{Value: item}
	for _, n := range p {
		m, ok := cur.(*types.AttributeValueMemberM)
		if !ok {
			return nil
		}
		if cur, ok = m.Value[n]; !ok {
			return nil
		}
	}
	return cur
}

// operand is a :value or a path (nil when the path is absent).
func (x *exprCtx) operand(item map[string]types.AttributeValue) types.AttributeValue {
	if t := x.peek(); strings.HasPrefix(t, ":") {
		x.next()
		v, ok := x.values[t]
		if !ok {
			panic(fmt.Errorf("undefined value %s", t))
		}
		return v
	}
	return get(item, x.path())
}

func equal(a, b types.AttributeValue) bool {
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		b, ok := b.(*types.AttributeValueMemberS)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberN:
		b, ok := b.(*types.AttributeValueMemberN)
		return ok && cmpN(a.Value, b.Value) == 0
	case *types.AttributeValueMemberBOOL:
		b, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberB:
		b, ok := b.(*types.AttributeValueMemberB)
		return ok && string(a.Value) == string(b.Value)
	}
	return false
}

func num(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(fmt.Errorf("not a number: %q", s))
	}
	return r
}

func cmpN(a, b string) int { return num(a).Cmp(num(b)) }

// cond evaluates a condition expression on item (nil: no item).
func (x *exprCtx) cond(item map[string]types.AttributeValue) bool {
	v := x.and(item)
	for x.peek() == "OR" {
		x.next()
		w := x.and(item)
		v = v || w
	}
	return v
}

func (x *exprCtx) and(item map[string]types.AttributeValue) bool {
	v := x.not(item)
	for x.peek() == "AND" {
		x.next()
		w := x.not(item)
		v = v && w
	}
	return v
}

func (x *exprCtx) not(item map[string]types.AttributeValue) bool {
	if x.peek() == "NOT" {
		x.next()
		return !x.not(item)
	}
	return x.primary(item)
}

func (x *exprCtx) primary(item map[string]types.AttributeValue) bool {
	switch t := x.peek(); t {
	case "(":
		x.next()
		v := x.cond(item)
		x.expect(")")
		return v
	case "attribute_exists", "attribute_not_exists":
		x.next()
		x.expect("(")
		v := get(item, x.path()) != nil
		x.expect(")")
		return v == (t == "attribute_exists")
	case "begins_with":
		x.next()
		x.expect("(")
		a := x.operand(item)
		x.expect(",")
		b := x.operand(item)
		x.expect(")")
		as, ok1 := a.(*types.AttributeValueMemberS)
		bs, ok2 := b.(*types.AttributeValueMemberS)
		return ok1 && ok2 && strings.HasPrefix(as.Value, bs.Value)
	case "contains":
		// contains(path, :v): a string holding :v, or a string set with
		// the element :v.
		x.next()
		x.expect("(")
		a := x.operand(item)
		x.expect(",")
		b := x.operand(item)
		x.expect(")")
		bs, ok := b.(*types.AttributeValueMemberS)
		if !ok {
			return false
		}
		switch a := a.(type) {
		case *types.AttributeValueMemberS:
			return strings.Contains(a.Value, bs.Value)
		case *types.AttributeValueMemberSS:
			return slices.Contains(a.Value, bs.Value)
		}
		return false
	}
	a := x.operand(item)
	op := x.next()
	b := x.operand(item)
	switch op {
	case "=":
		return a != nil && b != nil && equal(a, b)
	case "<>":
		// The negation of =: a missing attribute is not equal to anything
		// (DynamoDB; moto agrees when one side is missing).
		return a == nil || b == nil || !equal(a, b)
	}
	an, ok1 := a.(*types.AttributeValueMemberN)
	bn, ok2 := b.(*types.AttributeValueMemberN)
	if !ok1 || !ok2 {
		return false
	}
	c := cmpN(an.Value, bn.Value)
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	panic(fmt.Errorf("unsupported operator %q", op))
}

// evalCond evaluates expr on item; an empty expression holds.
func evalCond(expr string, names map[string]string, values map[string]types.AttributeValue, item map[string]types.AttributeValue) (ok bool, err error) {
	if expr == "" {
		return true, nil
	}
	defer recoverTo(&err)
	x := &exprCtx{names: names, values: values, toks: tokenize(expr)}
	ok = x.cond(item)
	if x.pos != len(x.toks) {
		return false, fmt.Errorf("trailing %q in %q", x.peek(), expr)
	}
	return ok, nil
}

func recoverTo(err *error) {
	if r := recover(); r != nil {
		e, ok := r.(error)
		if !ok {
			e = fmt.Errorf("%v", r)
		}
		*err = validation(e.Error())
	}
}

// applyUpdate applies an update expression to a deep copy of item and
// returns it.
func applyUpdate(expr string, names map[string]string, values map[string]types.AttributeValue, item map[string]types.AttributeValue) (out map[string]types.AttributeValue, err error) {
	defer recoverTo(&err)
	old := item
	out = deepCopy(item)
	x := &exprCtx{names: names, values: values, toks: tokenize(expr)}
	for x.pos < len(x.toks) {
		switch kw := x.next(); kw {
		case "SET":
			for {
				p := x.path()
				x.expect("=")
				v := x.value(old)
				setPath(out, p, v)
				if x.peek() != "," {
					break
				}
				x.next()
			}
		case "REMOVE":
			for {
				removePath(out, x.path())
				if x.peek() != "," {
					break
				}
				x.next()
			}
		default:
			panic(fmt.Errorf("unsupported update clause %q", kw))
		}
	}
	return out, nil
}

func (x *exprCtx) value(item map[string]types.AttributeValue) types.AttributeValue {
	a := x.term(item)
	if op := x.peek(); op == "+" || op == "-" {
		x.next()
		b := x.term(item)
		an, ok1 := a.(*types.AttributeValueMemberN)
		bn, ok2 := b.(*types.AttributeValueMemberN)
		if !ok1 || !ok2 {
			panic(fmt.Errorf("arithmetic on a missing or non-number operand"))
		}
		r := num(an.Value)
		if op == "+" {
			r.Add(r, num(bn.Value))
		} else {
			r.Sub(r, num(bn.Value))
		}
		return &types.AttributeValueMemberN{Value: r.RatString()}
	}
	if a == nil {
		panic(fmt.Errorf("the provided expression refers to an attribute that does not exist in the item"))
	}
	return a
}

// term is an operand or if_not_exists(path, v): either side of a + b.
func (x *exprCtx) term(item map[string]types.AttributeValue) types.AttributeValue {
	if x.peek() != "if_not_exists" {
		return x.operand(item)
	}
	x.next()
	x.expect("(")
	cur := get(item, x.path())
	x.expect(",")
	dflt := x.operand(item)
	x.expect(")")
	if cur == nil {
		return dflt
	}
	return cur
}

func setPath(item map[string]types.AttributeValue, p []string, v types.AttributeValue) {
	m := item
	for _, n := range p[:len(p)-1] {
		child, ok := m[n].(*types.AttributeValueMemberM)
		if !ok {
			panic(fmt.Errorf("the document path provided in the update expression is invalid for update"))
		}
		m = child.Value
	}
	m[p[len(p)-1]] = v
}

func removePath(item map[string]types.AttributeValue, p []string) {
	m := item
	for _, n := range p[:len(p)-1] {
		child, ok := m[n].(*types.AttributeValueMemberM)
		if !ok {
			return
		}
		m = child.Value
	}
	delete(m, p[len(p)-1])
}

// project returns a copy of item with only the attributes of a
// ProjectionExpression ("#a, #b.#c"; an empty one keeps them all). A nested
// path keeps its enclosing maps, holding only what the paths name.
func project(expr string, names map[string]string, item map[string]types.AttributeValue) (out map[string]types.AttributeValue, err error) {
	if expr == "" {
		return deepCopy(item), nil
	}
	defer recoverTo(&err)
	out = map[string]types.AttributeValue{}
	x := &exprCtx{names: names, toks: tokenize(expr)}
	for {
		p := x.path()
		if v := get(item, p); v != nil {
			m := out
			for _, n := range p[:len(p)-1] {
				child, ok := m[n].(*types.AttributeValueMemberM)
				if !ok {
					child = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
					m[n] = child
				}
				m = child.Value
			}
			if mv, ok := v.(*types.AttributeValueMemberM); ok {
				v = &types.AttributeValueMemberM{Value: deepCopy(mv.Value)}
			}
			m[p[len(p)-1]] = v
		}
		if x.peek() != "," {
			break
		}
		x.next()
	}
	if x.pos != len(x.toks) {
		panic(fmt.Errorf("trailing %q in %q", x.peek(), expr))
	}
	return out, nil
}

// deepCopy copies an item all the way down (maps, lists, sets, bytes), so
// nothing the caller holds aliases the model's items.
func deepCopy(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	if item == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(item))
	for k, v := range item {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v types.AttributeValue) types.AttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: deepCopy(v.Value)}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = copyValue(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: append([]byte(nil), v.Value...)}
	case *types.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: append([]string(nil), v.Value...)}
	case *types.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: append([]string(nil), v.Value...)}
	case *types.AttributeValueMemberBS:
		bs := make([][]byte, len(v.Value))
		for i, b := range v.Value {
			bs[i] = append([]byte(nil), b...)
		}
		return &types.AttributeValueMemberBS{Value: bs}
	}
	return v // S, N, BOOL, NULL: immutable values
}

// size is DynamoDB's item size ("Item sizes and formats"): each
// attribute's name (UTF-8 bytes) plus its value's size.
func size(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

// valueSize is a value's size: a string or binary its length; a number 1
// byte per two significant digits plus 1; a boolean or null 1; a set its
// members; a list or map 3 bytes plus 1 per element plus the elements (a
// map's names too).
func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numSize(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// numSize is a number's size: its significant digits (sign, point,
// exponent, leading and trailing zeros left out), 1 byte per two, plus 1.
func numSize(s string) int {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.NewReplacer("-", "", "+", "", ".", "").Replace(s)
	s = strings.Trim(s, "0")
	return (len(s)+1)/2 + 1
}
