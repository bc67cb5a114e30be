package jsonschema

import (
	"net/netip"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// formatCheck returns the check of a format asserted in drafts 4, 6 and 7,
// nil for a format it does not know (which then always passes).
func formatCheck(name string) func(string) bool {
	switch name {
	case "date-time":
		return isDateTime
	case "date":
		return isDate
	case "time":
		return isTime
	case "email":
		return func(s string) bool { return isEmail(s, false) }
	case "idn-email":
		return func(s string) bool { return isEmail(s, true) }
	case "hostname":
		return func(s string) bool { return isHostname(s, false) }
	case "idn-hostname":
		return func(s string) bool { return isHostname(s, true) }
	case "ipv4":
		return isIPv4
	case "ipv6":
		return isIPv6
	case "uri":
		return func(s string) bool { return isURI(s, true, false) }
	case "uri-reference":
		return func(s string) bool { return isURI(s, false, false) }
	case "iri":
		return func(s string) bool { return isURI(s, true, true) }
	case "iri-reference":
		return func(s string) bool { return isURI(s, false, true) }
	case "uri-template":
		return isURITemplate
	case "json-pointer":
		return isJSONPointer
	case "relative-json-pointer":
		return isRelativeJSONPointer
	case "regex":
		// Parsed, not compiled: a program is what costs (a{1000} a
		// thousand times is a million instructions), and parsing finds
		// every error compiling would.
		return func(s string) bool { _, err := syntax.Parse(ecmaToRE2(s), syntax.Perl); return err == nil }
	}
	return nil
}

func digits(s string, n int) (int, bool) {
	if len(s) != n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

// isDate: RFC 3339 full-date.
func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, ok1 := digits(s[:4], 4)
	m, ok2 := digits(s[5:7], 2)
	d, ok3 := digits(s[8:], 2)
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// isTime: RFC 3339 full-time (a time offset is required); a leap second
// only at 23:59:60 UTC.
func isTime(s string) bool {
	if len(s) < 9 || s[2] != ':' || s[5] != ':' {
		return false
	}
	h, ok1 := digits(s[:2], 2)
	m, ok2 := digits(s[3:5], 2)
	sec, ok3 := digits(s[6:8], 2)
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 60 {
		return false
	}
	rest := s[8:]
	if strings.HasPrefix(rest, ".") {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return false
		}
		rest = rest[i:]
	}
	offMin := 0
	switch {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3], 2)
		om, ok2 := digits(rest[4:], 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return false
		}
		offMin = oh*60 + om
		if rest[0] == '+' {
			offMin = -offMin
		}
	default:
		return false
	}
	if sec == 60 {
		utc := ((h*60+m+offMin)%(24*60) + 24*60) % (24 * 60)
		return utc == 23*60+59
	}
	return true
}

func isDateTime(s string) bool {
	if len(s) < 11 || (s[10] != 'T' && s[10] != 't') {
		return false
	}
	return isDate(s[:10]) && isTime(s[11:])
}

func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return false
		}
		n, ok := digits(p, len(p))
		if !ok || n > 255 {
			return false
		}
	}
	return true
}

func isIPv6(s string) bool {
	if strings.ContainsAny(s, "%[] \t\n") {
		return false
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}

// isHostname: RFC 1123 labels (letters, digits, hyphens, not at either end,
// 1–63 long, 253 in all); idn allows non-ASCII letters and digits too.
func isHostname(s string, idn bool) bool {
	if idn {
		s = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".").Replace(s)
	}
	s = strings.TrimSuffix(s, ".")
	size := func(s string) int { return len(s) } // an A-label's limits, in bytes; a U-label's, loosely, in characters
	if idn {
		size = utf8.RuneCountInString
	}
	if s == "" || size(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || size(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			switch {
			case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-'):
			case idn && r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)):
			case idn && strings.ContainsRune("\u00b7\u0375\u05f3\u05f4\u30fb\u200c\u200d\u06fd\u06fe\u0f0b\u3007", r): // IDNA's exceptions, allowed
			default:
				return false
			}
		}
	}
	return true
}

func isEmail(s string, idn bool) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if strings.HasPrefix(local, `"`) && strings.HasSuffix(local, `"`) && len(local) >= 2 {
		// a quoted local part: any printable character
	} else {
		if len(local) > 64 || local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
			return false
		}
		for _, r := range local {
			if r >= utf8.RuneSelf {
				if !idn {
					return false
				}
				continue
			}
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)) {
				return false
			}
		}
	}
	if strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]") {
		lit := domain[1 : len(domain)-1]
		if v6, ok := strings.CutPrefix(lit, "IPv6:"); ok {
			return isIPv6(v6)
		}
		return isIPv4(lit)
	}
	return isHostname(domain, idn)
}

// isURI checks RFC 3986 (or, iri, RFC 3987) syntax: the characters, the
// percent-escapes, the scheme, an authority's port and brackets.
func isURI(s string, absolute, iri bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			if !iri {
				return false
			}
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-._~:/?#[]@!$&'()*+,;=", c) >= 0:
		default:
			return false
		}
	}
	rest := s
	if i := strings.IndexAny(s, ":/?#"); i > 0 && s[i] == ':' {
		scheme := s[:i]
		if !(scheme[0] >= 'a' && scheme[0] <= 'z' || scheme[0] >= 'A' && scheme[0] <= 'Z') {
			return false
		}
		for _, c := range scheme {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
				return false
			}
		}
		rest = s[i+1:]
	} else if absolute {
		return false
	} else if i == 0 && s[0] == ':' {
		return false
	} else if i > 0 && s[i] != ':' && strings.Contains(s[:i], ":") {
		return false
	}
	if frag := strings.IndexByte(rest, '#'); frag >= 0 {
		if strings.ContainsRune(rest[frag+1:], '#') {
			return false
		}
		rest = rest[:frag]
	}
	if auth, ok := strings.CutPrefix(rest, "//"); ok {
		if j := strings.IndexAny(auth, "/?"); j >= 0 {
			auth = auth[:j]
		}
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			if strings.ContainsAny(auth[:at], "[]@") {
				return false
			}
			auth = auth[at+1:]
		}
		host, port := auth, ""
		if strings.HasPrefix(auth, "[") {
			end := strings.IndexByte(auth, ']')
			if end < 0 || !isIPv6(auth[1:end]) && !strings.HasPrefix(auth[1:end], "v") && !strings.HasPrefix(auth[1:end], "V") {
				return false
			}
			host, port = auth[:end+1], auth[end+1:]
			if port != "" && port[0] != ':' {
				return false
			}
		} else if c := strings.LastIndexByte(auth, ':'); c >= 0 {
			host, port = auth[:c], auth[c:]
		}
		if !strings.HasPrefix(host, "[") && strings.ContainsAny(host, "[]:") {
			return false
		}
		if port != "" {
			if _, err := strconv.Atoi(port[1:]); err != nil && port != ":" {
				return false
			}
		}
		rest = ""
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q]
	}
	return !strings.ContainsAny(rest, "[]")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// isURITemplate checks RFC 6570 syntax: literals, and expressions of an
// optional operator and comma-separated variables, each with an optional
// prefix (":1" to ":9999") or explode ("*") modifier.
func isURITemplate(s string) bool {
	for len(s) > 0 {
		open := strings.IndexByte(s, '{')
		lit := s
		if open >= 0 {
			lit = s[:open]
		}
		for _, r := range lit {
			if r < 0x21 || r == 0x7f || strings.ContainsRune("\"<>\\^`|}", r) {
				return false
			}
		}
		if open < 0 {
			return true
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 || !isTemplateExpr(s[open+1:open+end]) {
			return false
		}
		s = s[open+end+1:]
	}
	return true
}

func isTemplateExpr(e string) bool {
	if e != "" && strings.ContainsRune("+#./;?&", rune(e[0])) {
		e = e[1:]
	}
	if e == "" {
		return false
	}
	for _, spec := range strings.Split(e, ",") {
		name, mod := spec, ""
		if i := strings.IndexAny(spec, ":*"); i >= 0 {
			name, mod = spec[:i], spec[i:]
		}
		if name == "" || name[0] == '.' || name[len(name)-1] == '.' || strings.Contains(name, "..") {
			return false
		}
		for i := 0; i < len(name); i++ {
			c := name[i]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.':
			case c == '%' && i+2 < len(name) && isHex(name[i+1]) && isHex(name[i+2]):
				i += 2
			default:
				return false
			}
		}
		switch {
		case mod == "" || mod == "*":
		case mod[0] == ':':
			n := mod[1:]
			if n == "" || len(n) > 4 || n[0] == '0' {
				return false
			}
			if _, ok := digits(n, len(n)); !ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func isJSONPointer(s string) bool {
	if s == "" {
		return true
	}
	if s[0] != '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '~' && (i+1 >= len(s) || s[i+1] != '0' && s[i+1] != '1') {
			return false
		}
	}
	return true
}

func isRelativeJSONPointer(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || (i > 1 && s[0] == '0') {
		return false
	}
	rest := s[i:]
	return rest == "#" || isJSONPointer(rest)
}
