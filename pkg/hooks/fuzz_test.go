package hooks

// Fuzz targets of the input checks every resume path goes through before
// any AWS call: token validation, payload encoding, and the conversion of an
// HTTP request into the webhook payload. They need no AWS (the client is
// never asked to call it). make fuzz runs them for a fixed budget; a plain
// go test runs their seeds.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// tokenExamples are tokens with the verdict docs/resuming.md's rule gives them
// (1–256 bytes of UTF-8 without '/', white space or control characters):
// examples of the rule, checked by TestValidateTokenExamples, and seeds of
// FuzzValidateToken, whose oracle does not restate the rule.
var tokenExamples = []struct {
	token string
	valid bool
}{
	{"approval-order-42", true}, {"café-42", true}, {"wh-Zm9vYmFyYmF6cXV4", true}, {"x%2Fy", true}, {"%", true},
	{"?#&=+", true}, {strings.Repeat("t", MaxTokenLength), true}, {strings.Repeat("é", MaxTokenLength/2), true},
	{".", false}, {"..", false}, {"...", true}, {"a.b", true},
	// Issue 13: any UTF-8 without control characters (Cc): '/', spaces and
	// other separators are allowed.
	{"a/b", true}, {"a b", true}, {"\u00a0", true}, {"a\u2028b", true}, {"approval-order 42 café", true},
	{"", false}, {"a\x00b", false}, {"a\tb", false}, {"a\x7fb", false}, {"\u0085", false}, {"a\x1bb", false}, {"\xff", false}, {"a\xc3", false}, {strings.Repeat("t", MaxTokenLength+1), false},
	{strings.Repeat("é", MaxTokenLength/2) + "x", false},
}

func TestValidateTokenExamples(t *testing.T) {
	for _, ex := range tokenExamples {
		if err := ValidateToken(ex.token); (err == nil) != ex.valid {
			t.Errorf("ValidateToken(%q) = %v, want valid %v", ex.token, err, ex.valid)
		}
	}
}

// wireRecorder is the HTTP client of wireClient's AWS clients: it records
// the JSON body of each request and answers none, so every AWS call fails
// once recorded.
type wireRecorder struct {
	mu   sync.Mutex
	reqs [][]byte
}

func (w *wireRecorder) Do(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reqs = append(w.reqs, b)
	return nil, errors.New("wireRecorder: no AWS here")
}

func (w *wireRecorder) take() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.reqs
	w.reqs = nil
	return r
}

// wireClient is a Client built by New, as an application builds it, whose
// AWS requests go to a wireRecorder instead of the network (no retries).
func wireClient(tb testing.TB) (*Client, *wireRecorder) {
	tb.Helper()
	rec := &wireRecorder{}
	cfg := aws.Config{
		Region:     "us-east-1",
		HTTPClient: rec,
		Retryer:    func() aws.Retryer { return aws.NopRetryer{} },
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "fuzz", SecretAccessKey: "fuzz"}, nil
		}),
	}
	c, err := New(cfg, func(o *Options) { o.TableName = "fuzz"; o.WebhookBaseURL = "https://api.example.test/prod" })
	if err != nil {
		tb.Fatal(err)
	}
	return c, rec
}

// FuzzValidateToken checks what the token rule is for, not the rule again
// (tokenExamples hold examples of the rule itself):
//   - a refused token is ErrInvalidToken, a 400 InvalidToken, and no
//     operation that takes a token sends a single AWS request for it:
//     nothing is read, written or stored under it (the webhook route
//     answers the bare ErrHookNotFound);
//   - an accepted token reaches DynamoDB unchanged: every request of a
//     resume keys the item HOOK#<token>, byte for byte through the SDK's
//     JSON, within DynamoDB's 2048-byte partition key;
//   - an accepted token survives the HTTP path: the webhook URL the client
//     hands out, sent as an HTTP/1.1 request and routed by net/http's
//     ServeMux as any Go server would, names the token as one path segment.
func FuzzValidateToken(f *testing.F) {
	for _, ex := range tokenExamples {
		f.Add(ex.token)
	}
	c, rec := wireClient(f)
	ctx := context.Background()
	const exec = "arn:aws:states:us-east-1:123456789012:execution:m:fuzz"
	f.Fuzz(func(t *testing.T, token string) {
		rec.take()
		err := ValidateToken(token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("ValidateToken(%q) = %v, want ErrInvalidToken", token, err)
			}
			if api := checkAPIError(t, err, CodeInvalidToken); api.Status != http.StatusBadRequest {
				t.Fatalf("ValidateToken(%q): status %d, want 400", token, api.Status)
			}
			ops := map[string]func() error{
				"ResumeHook": func() error { _, err := c.ResumeHook(ctx, token, 1); return err },
				"ResumeHook with a key": func() error {
					_, err := c.ResumeHook(ctx, token, 1, WithIdempotencyKey("k"))
					return err
				},
				"GetHook":  func() error { _, err := c.GetHook(ctx, token); return err },
				"Register": func() error { _, err := c.Register(ctx, RegisterInput{Token: token, ExecutionARN: exec}); return err },
				"Await": func() error {
					return c.Await(ctx, AwaitInput{RegisterInput: RegisterInput{Token: token, ExecutionARN: exec}, TaskToken: "task"})
				},
				"Dispose": func() error { return c.Dispose(ctx, token, exec) },
				"Respond": func() error { return c.Respond(ctx, token, exec, "req-1", Response{Status: 200}) },
			}
			if token != "" { // an empty token asks CreateWebhook for a new one
				ops["CreateWebhook"] = func() error {
					_, err := c.CreateWebhook(ctx, CreateWebhookInput{Token: token, ExecutionARN: exec})
					return err
				}
			}
			for name, op := range ops {
				if err := op(); !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("%s(%q): %v, want ErrInvalidToken", name, token, err)
				}
				if reqs := rec.take(); len(reqs) != 0 {
					t.Fatalf("%s(%q) refused the token but sent %d AWS requests: %s", name, token, len(reqs), reqs[0])
				}
			}
			_, err := c.ResumeWebhook(ctx, token, httptest.NewRequest("POST", "/webhooks/x", strings.NewReader("{}")))
			if err != ErrHookNotFound {
				t.Fatalf("ResumeWebhook(%q): %v, want the bare ErrHookNotFound", token, err)
			}
			if reqs := rec.take(); len(reqs) != 0 {
				t.Fatalf("ResumeWebhook(%q) sent %d AWS requests for a refused token", token, len(reqs))
			}
			return
		}

		// Accepted: on the wire to DynamoDB.
		if _, err := c.ResumeHook(ctx, token, 1); err == nil || errors.Is(err, ErrInvalidToken) {
			t.Fatalf("ResumeHook(%q) with no AWS: %v, want the AWS error", token, err)
		}
		reqs := rec.take()
		if len(reqs) == 0 {
			t.Fatalf("ResumeHook(%q) sent no AWS request", token)
		}
		pk := "HOOK#" + token
		if len(pk) > 2048 {
			t.Fatalf("token of %d bytes: partition key over DynamoDB's 2048 bytes", len(token))
		}
		for _, body := range reqs {
			var in struct {
				Key struct {
					PK struct{ S string } `json:"pk"`
				}
			}
			if err := json.Unmarshal(body, &in); err != nil || in.Key.PK.S != pk {
				t.Fatalf("ResumeHook(%q) sent key %q (%v), want %q: %s", token, in.Key.PK.S, err, pk, body)
			}
		}

		// Accepted: through HTTP, from the URL handed out to the server's route.
		u := c.WebhookURL(token)
		if strings.Contains(token, "/") {
			// docs/resuming.md, "Tokens in URLs": API Gateway HTTP APIs decode %2F before
			// routing, so no {token} route carries such a token (the Go API
			// and the direct invocation do). The URL still names it as one
			// escaped segment, which a URL-preserving front (a Lambda
			// function URL, a REST API) routes as it is.
			if want := "/webhooks/" + url.PathEscape(token); !strings.HasSuffix(u, want) || strings.Count(u[strings.LastIndex(u, "/webhooks/"):], "/") != 2 {
				t.Fatalf("token %q: URL %q, want it to end in the one segment %q", token, u, want)
			}
			return
		}
		req, err := http.NewRequest("POST", u, nil)
		if err != nil {
			t.Fatalf("token %q: webhook URL %q: %v", token, u, err)
		}
		var wire bytes.Buffer
		if err := req.Write(&wire); err != nil {
			t.Fatalf("token %q: write request to %q: %v", token, u, err)
		}
		got, err := http.ReadRequest(bufio.NewReader(&wire))
		if err != nil {
			t.Fatalf("token %q: request to %q does not parse: %v\n%s", token, u, err, wire.Bytes())
		}
		routed, matched := "", false
		mux := http.NewServeMux()
		mux.HandleFunc("POST /prod/webhooks/{token}", func(_ http.ResponseWriter, r *http.Request) {
			routed, matched = r.PathValue("token"), true
		})
		mux.ServeHTTP(httptest.NewRecorder(), got)
		if !matched || routed != token {
			t.Fatalf("token %q: URL %q routed to token %q (matched %v)", token, u, routed, matched)
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
		req, _, err := c.newWebhookRequest(r)
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
