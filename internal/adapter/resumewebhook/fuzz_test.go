package resumewebhook

// Fuzz targets of resume-webhook's conversions: the API Gateway event into
// an *http.Request (Request), and the whole route — event → request →
// hooks.Client.ResumeWebhook's webhook payload — with a real client whose
// DynamoDB is a recorder that knows no hook. make fuzz runs them for a fixed
// budget; a plain go test runs their seeds.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/adapter/httpapi"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// FuzzRequest builds events field by field: a converted request has the
// event's method, path, query, headers, cookies and body (base64-decoded
// when flagged, byte for byte); a refused one is 400 InvalidPayload (a
// flagged body that does not decode) or the uniform 404.
func FuzzRequest(f *testing.F) {
	f.Add("POST", "/webhooks/wh-1", "a=1&a=2&b=x%20y", "abc.execute-api.us-east-1.amazonaws.com", "X-Multi", "1,2", "s=1", "{\"paid\":true}", false, false)
	f.Add("PUT", "/webhooks/wh-1", "", "", "host", "h.example", "", "\xff\x00\x01", true, false)
	f.Add("GET", "/webhooks/café", "q=%zz", "h", "", "", "a=1; b=2", "", false, false)
	f.Add("POST", "/webhooks/t", "", "h", "", "", "", "!!!", false, true)
	f.Add("BAD METHOD", "/webhooks/t", "", "h", "", "", "", "", false, false)
	f.Add("POST", "/webhooks/a b", "", "h", "", "", "", "", false, false)
	f.Fuzz(func(t *testing.T, method, rawPath, rawQuery, domain, name, value, cookie, body string, encode, flag bool) {
		ev := events.APIGatewayV2HTTPRequest{
			RawPath:         rawPath,
			RawQueryString:  rawQuery,
			Headers:         map[string]string{},
			RequestContext:  events.APIGatewayV2HTTPRequestContext{DomainName: domain, HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method}},
			Body:            body,
			IsBase64Encoded: flag,
		}
		if encode {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
		}
		if name != "" {
			ev.Headers[strings.ToLower(name)] = value
		}
		if cookie != "" {
			ev.Cookies = strings.Split(cookie, "; ")
		}
		want, bodyErr := httpapi.Body(&ev)
		r, err := Request(context.Background(), &ev)
		if err != nil {
			api := hooks.ErrorFor(err)
			switch {
			case bodyErr != nil && api.Code == hooks.CodeInvalidPayload && api.Status == http.StatusBadRequest:
			case bodyErr == nil && errors.Is(err, hooks.ErrHookNotFound):
			default:
				t.Fatalf("%s %q: error %v (%d %s), body error %v", method, rawPath, err, api.Status, api.Code, bodyErr)
			}
			checkErrorEvent(t, Response(hooks.ErrorResponse(err)), api.Status, api.Code)
			return
		}
		if bodyErr != nil {
			t.Fatalf("body %q flagged base64 does not decode (%v), yet converted", ev.Body, bodyErr)
		}
		got, _ := io.ReadAll(r.Body)
		if !bytes.Equal(got, want) {
			t.Fatalf("body %q, want %q", got, want)
		}
		if encode && string(got) != body {
			t.Fatalf("base64 body %q came out as %q", body, got)
		}
		if wantMethod := cmp.Or(method, http.MethodGet); r.Method != wantMethod {
			t.Fatalf("method %q, want %q", r.Method, wantMethod)
		}
		host := cmp.Or(domain, ev.Headers["host"])
		if r.URL.Scheme != "https" {
			t.Fatalf("scheme %q, want https", r.URL.Scheme)
		}
		// API Gateway's rawPath starts with '/', its domain name is a host
		// name, and its rawQueryString has no fragment.
		if strings.HasPrefix(rawPath, "/") && !strings.ContainsAny(rawQuery, "#?") && validHost(host) {
			if r.URL.Host != host || r.URL.RawQuery != rawQuery {
				t.Fatalf("URL %q: host %q query %q, want %q %q", r.URL, r.URL.Host, r.URL.RawQuery, host, rawQuery)
			}
			// An HTTP API sends rawPath percent-decoded: it is the path.
			if r.URL.Path != rawPath {
				t.Fatalf("URL %q: path %q, want %q", r.URL, r.URL.Path, rawPath)
			}
		}
		if name := strings.ToLower(name); name != "" && !(cookie != "" && name == "cookie") && !slices.Contains(r.Header.Values(name), value) {
			t.Fatalf("header %q: %q, want %q among them", name, r.Header.Values(name), value)
		}
		if cookie != "" && r.Header.Get("Cookie") != strings.Join(ev.Cookies, "; ") {
			t.Fatalf("Cookie %q, want %q", r.Header.Get("Cookie"), cookie)
		}
	})
}

// validHost reports whether h parses back as the host of a URL, and keeps
// its port (net/http drops an empty one: "h:" is "h").
func validHost(h string) bool {
	u, err := url.Parse("https://" + h + "/")
	return h != "" && !strings.HasSuffix(h, ":") && err == nil && u.Host == h
}

// checkErrorEvent requires status and the JSON body {"error": code,
// "message": …} in the event API Gateway answers with.
func checkErrorEvent(t *testing.T, out events.APIGatewayV2HTTPResponse, status int, code string) {
	t.Helper()
	var body map[string]string
	if out.StatusCode != status || out.Headers["content-type"] != "application/json" || out.IsBase64Encoded ||
		json.Unmarshal([]byte(out.Body), &body) != nil || len(body) != 2 || body["error"] != code || body["message"] == "" {
		t.Fatalf("answer %d %v %q, want %d application/json {\"error\":%q,\"message\":…}", out.StatusCode, out.Headers, out.Body, status, code)
	}
}

// unknownHooks is DynamoDB knowing no hook: the resume's first conditional
// write fails without an item. It keeps that write; any other call panics
// (the embedded interface is nil), which the fuzzer reports.
type unknownHooks struct {
	hooks.DynamoDBAPI
	calls int
	in    *dynamodb.UpdateItemInput
}

func (d *unknownHooks) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	d.calls++
	d.in = in
	return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
}

// payload is the webhook request the recorded write carried: the string
// attribute that decodes as one.
func (d *unknownHooks) payload(t *testing.T) *hooks.WebhookRequest {
	t.Helper()
	var found *hooks.WebhookRequest
	var walk func(types.AttributeValue)
	walk = func(av types.AttributeValue) {
		switch v := av.(type) {
		case *types.AttributeValueMemberM:
			for _, x := range v.Value {
				walk(x)
			}
		case *types.AttributeValueMemberS:
			var w hooks.WebhookRequest
			if json.Unmarshal([]byte(v.Value), &w) == nil && w.RequestID != "" {
				found = &w
			}
		}
	}
	for _, av := range d.in.ExpressionAttributeValues {
		walk(av)
	}
	if found == nil {
		t.Fatalf("the write %+v carries no webhook request", d.in.ExpressionAttributeValues)
	}
	return found
}

const fuzzLimit = 2048

// FuzzHandle feeds raw payload 2.0 events (seeded with testdata's) through
// the route: the real hooks.Client turns the request into the webhook
// payload, which reaches DynamoDB with the token from the path, the body
// byte for byte (text, or base64 when it is not UTF-8), the method, path,
// query and headers; the answer is the uniform 404 (no hook), 413 over the
// limit, or 400 for a flagged body that does not decode.
func FuzzHandle(f *testing.F) {
	raw, err := os.ReadFile("testdata/apigw-v2-webhook.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"rawPath":"/webhooks/t","requestContext":{"domainName":"h","http":{"method":"POST"}},"body":"hello"}`))
	f.Add([]byte(`{"rawPath":"/webhooks/t","requestContext":{"http":{"method":"POST"}},"headers":{"host":"h"},"body":"!!!","isBase64Encoded":true}`))
	f.Add([]byte(`{"rawPath":"/webhooks/a%2Fb","requestContext":{"http":{"method":"GET"}}}`))
	f.Add([]byte(`{"rawPath":"/webhooks/t","requestContext":{"domainName":"h","http":{"method":"PUT"}},"body":"` + strings.Repeat("a", fuzzLimit) + `"}`))
	notFound := Response(hooks.ErrorResponse(hooks.ErrHookNotFound))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ev events.APIGatewayV2HTTPRequest
		if json.Unmarshal(raw, &ev) != nil {
			return // not an event API Gateway sends
		}
		db := &unknownHooks{}
		c, err := hooks.New(aws.Config{}, func(o *hooks.Options) {
			o.TableName, o.DynamoDB, o.MaxPayloadBytes = "fuzz", db, fuzzLimit
			o.NewID = func() string { return "req-fuzz" }
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := New(c, slog.New(slog.DiscardHandler)).Handle(context.Background(), ev)
		if err != nil {
			t.Fatalf("invocation error %v; every outcome must be a response", err)
		}
		token, tokenErr := httpapi.Token(&ev, "webhooks")
		body, bodyErr := httpapi.Body(&ev)
		switch out.StatusCode {
		case http.StatusNotFound:
			if out.Body != notFound.Body || out.Headers["content-type"] != "application/json" {
				t.Fatalf("404 %v %q differs from the uniform %q", out.Headers, out.Body, notFound.Body)
			}
		case http.StatusBadRequest:
			checkErrorEvent(t, out, http.StatusBadRequest, hooks.CodeInvalidPayload)
			if bodyErr == nil {
				t.Fatalf("400 %q for a body that decodes", out.Body)
			}
		case http.StatusRequestEntityTooLarge:
			checkErrorEvent(t, out, http.StatusRequestEntityTooLarge, hooks.CodePayloadTooLarge)
			if !strings.Contains(out.Body, "2048") {
				t.Fatalf("413 %q does not name the limit", out.Body)
			}
		default:
			t.Fatalf("answer %d %q, want 404, 400 or 413", out.StatusCode, out.Body)
		}
		if db.calls == 0 {
			if out.StatusCode == http.StatusNotFound && tokenErr == nil && bodyErr == nil && ev.RequestContext.HTTP.Method != "" && validHost(cmp.Or(ev.RequestContext.DomainName, ev.Headers["host"])) && strings.HasPrefix(ev.RawPath, "/") {
				if _, err := Request(context.Background(), &ev); err == nil {
					t.Fatalf("a valid token %q and request answered 404 without asking DynamoDB", token)
				}
			}
			return
		}
		if db.calls != 1 || out.StatusCode != http.StatusNotFound || tokenErr != nil || bodyErr != nil {
			t.Fatalf("%d writes, answer %d, token error %v, body error %v", db.calls, out.StatusCode, tokenErr, bodyErr)
		}
		if pk, _ := db.in.Key["pk"].(*types.AttributeValueMemberS); pk == nil || pk.Value != "HOOK#"+token {
			t.Fatalf("write to %v, want the hook of %q", db.in.Key, token)
		}
		w := db.payload(t)
		got := []byte(w.Body)
		if w.IsBase64Encoded {
			if got, err = base64.StdEncoding.DecodeString(w.Body); err != nil {
				t.Fatalf("payload body %q flagged base64: %v", w.Body, err)
			}
		}
		if !bytes.Equal(got, body) || (len(body) > 0 && w.IsBase64Encoded == utf8.Valid(body)) {
			t.Fatalf("payload body %q (base64 %v), want %q", w.Body, w.IsBase64Encoded, body)
		}
		r, _ := Request(context.Background(), &ev)
		if w.Method != r.Method || w.Path != r.URL.EscapedPath() || w.RequestID != "req-fuzz" {
			t.Fatalf("payload %s %q id %q, want %s %q", w.Method, w.Path, w.RequestID, r.Method, r.URL.EscapedPath())
		}
		for k, v := range ev.Headers {
			if k == "cookie" && len(ev.Cookies) > 0 {
				continue // the cookies field is the Cookie header
			}
			if lk := strings.ToLower(k); slices.Contains(hooks.DefaultDroppedHeaders, lk) || hooks.CredentialHeader(lk) {
				continue // left out by the default header filter
			}
			if utf8.ValidString(v) && !slices.Contains(w.Headers[strings.ToLower(k)], v) && validHeader(k) {
				t.Fatalf("payload header %q: %q, want %q among them", k, w.Headers[strings.ToLower(k)], v)
			}
		}
	})
}

// validHeader reports whether k is a header name net/http keeps as a key
// (a token); others are kept verbatim by Header.Add as well, but may
// collide with another spelling.
func validHeader(k string) bool {
	return k != "" && !strings.ContainsFunc(k, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	})
}
