package hooks

// Fuzz targets of the input checks every resume path goes through before
// any AWS call: token validation, payload encoding, and the conversion of an
// HTTP request into the webhook payload. They need no AWS (the client is
// never asked to call it). make fuzz runs them for a fixed budget; a plain
// go test runs their seeds.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// fuzzLimit is the payload limit of the fuzzed client: small, so that the
// fuzzer reaches the over-the-limit branches.
const fuzzLimit = 2048

// fuzzClient is a Client that makes no AWS call in what the fuzz targets use.
func fuzzClient(t testing.TB) *Client {
	t.Helper()
	c, err := newClient(Options{TableName: "fuzz", MaxPayloadBytes: fuzzLimit, NewID: func() string { return "req-fuzz" }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkAPIError requires that err maps to a 4xx with one of codes and a
// JSON {"error","message"} body.
func checkAPIError(t *testing.T, err error, codes ...string) *APIError {
	t.Helper()
	api := ErrorFor(err)
	if api.Status < 400 || api.Status > 499 {
		t.Fatalf("error %v maps to status %d, want a 4xx", err, api.Status)
	}
	ok := false
	for _, c := range codes {
		ok = ok || api.Code == c
	}
	if !ok {
		t.Fatalf("error %v maps to code %q, want one of %v", err, api.Code, codes)
	}
	resp := ErrorResponse(err)
	var body map[string]string
	if json.Unmarshal(resp.Body, &body) != nil || len(body) != 2 || body["error"] != api.Code || body["message"] == "" {
		t.Fatalf("error body %q, want {\"error\":%q,\"message\":…}", resp.Body, api.Code)
	}
	if resp.Status != api.Status || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("error response %d %v, want %d application/json", resp.Status, resp.Header, api.Status)
	}
	return api
}

// FuzzValidateToken holds ValidateToken to the README's rule: 1–256 bytes
// of UTF-8 without '/', white space or control characters; a valid token
// survives the path encoding of the HTTP routes.
func FuzzValidateToken(f *testing.F) {
	for _, s := range []string{
		"approval-order-42", "café-42", "wh-Zm9vYmFyYmF6cXV4", "", "a/b", "a b", "a\x00b", "a\tb", "\u00a0",
		"a\u2028b", "\u0085", "\xff", "x%2Fy", "%", "?#&=+", strings.Repeat("t", MaxTokenLength), strings.Repeat("t", MaxTokenLength+1),
		strings.Repeat("é", MaxTokenLength/2), strings.Repeat("é", MaxTokenLength/2) + "x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		err := ValidateToken(token)
		valid := len(token) >= 1 && len(token) <= MaxTokenLength && utf8.ValidString(token) &&
			!strings.ContainsFunc(token, func(r rune) bool { return r == '/' || unicode.IsControl(r) || unicode.IsSpace(r) })
		if (err == nil) != valid {
			t.Fatalf("ValidateToken(%q) = %v, want valid %v", token, err, valid)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("ValidateToken(%q) = %v, want ErrInvalidToken", token, err)
			}
			if api := checkAPIError(t, err, CodeInvalidToken); api.Status != http.StatusBadRequest {
				t.Fatalf("ValidateToken(%q): status %d, want 400", token, api.Status)
			}
			return
		}
		esc := url.PathEscape(token)
		if strings.Contains(esc, "/") {
			t.Fatalf("token %q escapes to %q: more than one path segment", token, esc)
		}
		if back, err := url.PathUnescape(esc); err != nil || back != token {
			t.Fatalf("token %q escaped %q unescapes to %q (%v)", token, esc, back, err)
		}
	})
}

// FuzzEncodePayload: a payload that is accepted is compact UTF-8 JSON text
// within the limit, the same JSON value as the input; anything else is 400
// InvalidPayload or 413 PayloadTooLarge.
func FuzzEncodePayload(f *testing.F) {
	for _, s := range []string{
		`{"approved":true}`, ` { "a" : [1, 2.5e3, "x", null] } `, `null`, `"x"`, `0`, ``, `  `, `{`, `{"a":1} {"b":2}`,
		`{"a":1}x`, `"\u00e9"`, "\"\xff\"", "\"\xc3\"", `"\ud800"`, "\"\u2028\"", `{"a":1,"a":2}`, `[` + strings.Repeat(`1,`, 1000) + `1]`,
		`"` + strings.Repeat("x", fuzzLimit-2) + `"`, `"` + strings.Repeat("x", fuzzLimit-1) + `"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c := fuzzClient(t)
		p, err := c.encodePayload(json.RawMessage(raw))
		if err != nil {
			api := checkAPIError(t, err, CodeInvalidPayload, CodePayloadTooLarge)
			if api.Code == CodePayloadTooLarge {
				var tl *PayloadTooLargeError
				if !errors.As(err, &tl) || tl.Limit != fuzzLimit || tl.Size <= fuzzLimit || !strings.Contains(api.Message, "2048") {
					t.Fatalf("%q: %v, want a PayloadTooLargeError over the limit %d, naming it", raw, err, fuzzLimit)
				}
				if !json.Valid(raw) {
					t.Fatalf("%q is not JSON, yet refused as too large", raw)
				}
			} else if json.Valid(raw) && utf8.Valid(raw) {
				t.Fatalf("%q is UTF-8 JSON, yet refused: %v", raw, err)
			}
			return
		}
		if !json.Valid([]byte(p)) || !utf8.ValidString(p) {
			t.Fatalf("%q accepted as %q, which is not UTF-8 JSON text", raw, p)
		}
		if len(p) > fuzzLimit {
			t.Fatalf("%q accepted as %d bytes, over the limit %d", raw, len(p), fuzzLimit)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(p)); err != nil || buf.String() != p {
			t.Fatalf("%q accepted as %q, which is not compact", raw, p)
		}
		if a, b := decodeValue(t, raw), decodeValue(t, []byte(p)); !reflect.DeepEqual(a, b) {
			t.Fatalf("%q accepted as %q, another value: %#v vs %#v", raw, p, a, b)
		}
	})
}

// decodeValue decodes one JSON value, keeping numbers as written.
func decodeValue(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

// FuzzWebhookRequest feeds raw HTTP/1.1 requests, as net/http parses them,
// to the conversion into the webhook payload: the body survives (text, or
// base64 when it is not UTF-8) through the JSON payload byte for byte; the
// method, path, query and headers are the request's; an oversized or
// unreadable body is 413 or 400.
func FuzzWebhookRequest(f *testing.F) {
	for _, s := range []string{
		"POST /webhooks/wh-1?a=1&a=2&b=x%20y HTTP/1.1\r\nHost: api.example.test\r\nContent-Type: application/json\r\nContent-Length: 11\r\nCookie: s=1; s=2; t=3\r\nX-Multi: a\r\nx-multi: b\r\n\r\n{\"paid\":1}\n",
		"PUT /webhooks/wh-1 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n\xff\x00\x01\x02",
		"GET /webhooks/wh-1 HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: https\r\n\r\n",
		"POST http://other.example/webhooks/a%2Fb HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST /w HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"POST /w HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nshort",
		"POST /w HTTP/1.1\r\nHost: h\r\nContent-Length: 4096\r\n\r\n" + strings.Repeat("a", 4096),
		"POST /w HTTP/1.1\r\nHost: h\r\nContent-Length: 1600\r\n\r\n" + strings.Repeat("\xff", 1600),
		"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
		"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		parse := func() *http.Request {
			r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
			if err != nil {
				return nil
			}
			return r
		}
		r := parse()
		if r == nil {
			return // not a request net/http would hand to a handler
		}
		want, readErr := io.ReadAll(io.LimitReader(r.Body, fuzzLimit+1))
		r = parse()
		c := fuzzClient(t)
		req, err := c.newWebhookRequest(r)
		if err != nil {
			api := checkAPIError(t, err, CodeInvalidPayload, CodePayloadTooLarge)
			if api.Code == CodeInvalidPayload && readErr == nil {
				t.Fatalf("readable body refused: %v", err)
			}
			if api.Code == CodePayloadTooLarge && readErr == nil && len(want) <= fuzzLimit && r.ContentLength <= fuzzLimit {
				t.Fatalf("body of %d bytes (Content-Length %d) refused as too large: %v", len(want), r.ContentLength, err)
			}
			return
		}
		if readErr != nil || len(want) > fuzzLimit {
			t.Fatalf("body of %d bytes (read error %v) accepted", len(want), readErr)
		}
		checkBody(t, "request", req.Body, req.IsBase64Encoded, want)
		if req.Method != r.Method || req.RequestID != "req-fuzz" || req.Path != r.URL.EscapedPath() {
			t.Fatalf("method %q id %q path %q, want %q req-fuzz %q", req.Method, req.RequestID, req.Path, r.Method, r.URL.EscapedPath())
		}
		// net/http's server refuses a Host that is no URL authority (API
		// Gateway's domain name always is one), and a request target has no
		// '#' (RFC 9112), though net/http's parser lets one through.
		if h, err := url.Parse("http://" + r.Host + "/"); err == nil && h.Host == r.Host && !strings.Contains(r.RequestURI, "#") {
			u, err := url.Parse(req.URL)
			if err != nil || !u.IsAbs() || u.RawQuery != r.URL.RawQuery || (strings.HasPrefix(req.Path, "/") && u.EscapedPath() != req.Path) {
				t.Fatalf("url %q (%v): want absolute, path %q, query %q", req.URL, err, req.Path, r.URL.RawQuery)
			}
		}
		if !reflect.DeepEqual(req.Query, map[string][]string(r.URL.Query())) {
			t.Fatalf("query %v, want %v", req.Query, r.URL.Query())
		}
		n := 0
		for k, vs := range req.Headers {
			if k != strings.ToLower(k) {
				t.Fatalf("header name %q is not lower case", k)
			}
			n += len(vs)
		}
		m := 0
		for _, vs := range r.Header {
			m += len(vs)
		}
		if _, ok := r.Header["Host"]; !ok && r.Host != "" {
			m++
		}
		if n != m {
			t.Fatalf("%d header values, want %d", n, m)
		}

		// The payload as the workflow receives it.
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("marshal %+v: %v", req, err)
		}
		p, err := c.encodePayload(json.RawMessage(b))
		if err != nil {
			checkAPIError(t, err, CodePayloadTooLarge)
			return
		}
		var got WebhookRequest
		if err := json.Unmarshal([]byte(p), &got); err != nil {
			t.Fatalf("payload %q: %v", p, err)
		}
		checkBody(t, "payload", got.Body, got.IsBase64Encoded, want)
		if got.RequestID != req.RequestID || got.Path != req.Path {
			t.Fatalf("payload id %q path %q, want %q %q", got.RequestID, got.Path, req.RequestID, req.Path)
		}
	})
}

// checkBody requires that body (base64 when isBase64) is want, and that it
// is text exactly when want is UTF-8.
func checkBody(t *testing.T, what, body string, isBase64 bool, want []byte) {
	t.Helper()
	got := []byte(body)
	if isBase64 {
		var err error
		if got, err = base64.StdEncoding.DecodeString(body); err != nil {
			t.Fatalf("%s body %q is flagged base64 but does not decode: %v", what, body, err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s body %q (base64 %v) is %q, want %q", what, body, isBase64, got, want)
	}
	if isBase64 == utf8.Valid(want) && len(want) > 0 {
		t.Fatalf("%s body %q: base64 %v for a body whose UTF-8 validity is %v", what, body, isBase64, utf8.Valid(want))
	}
}
