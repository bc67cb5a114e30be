package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/apigwlocal"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The bad-input tables of issue 5: POST/GET /hooks/{token}, ANY
// /webhooks/{token} and direct invocation of resume-hook, each case through
// the real handler on the emulator, with the whole table read before and
// after each case: a refused request writes nothing, and the few bad-looking
// requests a route accepts by design write exactly one payload.

// snapshot is every item of the env's table, keyed by pk and sk.
func (e *env) snapshot() map[string]map[string]dbtypes.AttributeValue {
	e.t.Helper()
	all := map[string]map[string]dbtypes.AttributeValue{}
	var start map[string]dbtypes.AttributeValue
	for {
		out, err := e.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &e.table, ConsistentRead: aws.Bool(true), ExclusiveStartKey: start})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, it := range out.Items {
			pk, _ := it["pk"].(*dbtypes.AttributeValueMemberS)
			sk, _ := it["sk"].(*dbtypes.AttributeValueMemberS)
			all[pk.Value+" "+sk.Value] = it
		}
		if start = out.LastEvaluatedKey; len(start) == 0 {
			return all
		}
	}
}

// stored returns the payloads stored for the next awaits of token (its MSG
// items), in key order.
func stored(snap map[string]map[string]dbtypes.AttributeValue, token string) []string {
	var out []string
	for key, it := range snap {
		if strings.HasPrefix(key, "HOOK#"+token+" MSG#") {
			p, _ := it["payload"].(*dbtypes.AttributeValueMemberS)
			if p != nil {
				out = append(out, p.Value)
			}
		}
	}
	return out
}

// checkWrites requires that nothing changed between before and after, or,
// when wrote, that exactly one payload was added to token's stored payloads
// (and, with an idempotency key, its record) and that it is the one
// returned.
func checkWrites(t *testing.T, name, token string, before, after map[string]map[string]dbtypes.AttributeValue, wrote bool) string {
	t.Helper()
	if !wrote {
		var changed []string
		for k, v := range after {
			if !reflect.DeepEqual(v, before[k]) {
				changed = append(changed, k)
			}
		}
		for k := range before {
			if _, ok := after[k]; !ok {
				changed = append(changed, k+" (deleted)")
			}
		}
		if len(changed) > 0 {
			t.Errorf("%q: a refused request changed the table: items %q", name, changed)
		}
		return ""
	}
	b, a := stored(before, token), stored(after, token)
	if len(a) != len(b)+1 {
		t.Fatalf("%q: %d stored payloads after, %d before; want one more", name, len(a), len(b))
	}
	for _, p := range a {
		if !containsString(b, p) {
			return p
		}
	}
	return a[len(a)-1] // the same payload twice
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestHooksRouteBadInput: POST and GET /hooks/{token} as API Gateway invokes
// resume-hook.
func TestHooksRouteBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	token := "bad-input-" + randomSuffix()
	if _, err := e.hooks.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: "arn:exec:bad-input"}); err != nil {
		t.Fatal(err)
	}
	huge := `"` + strings.Repeat("x", 1<<20) + `"`
	for _, tc := range []struct {
		name, method string
		rawPath      string // "" = /hooks/{token}
		body         string
		base64       bool
		header       map[string]string
		status       int
		code         string // error code; "" for a 200
		wrote        bool   // accepted by design: one payload stored
		payload      string // the payload stored, when wrote
	}{
		{name: "invalid JSON", method: "POST", body: `{"approved":`, status: 400, code: hooks.CodeInvalidPayload},
		{name: "two JSON values", method: "POST", body: `{"a":1} {"b":2}`, status: 400, code: hooks.CodeInvalidPayload},
		{name: "empty body", method: "POST", body: ``, status: 400, code: hooks.CodeInvalidPayload},
		{name: "white space only", method: "POST", body: " \n\t", status: 400, code: hooks.CodeInvalidPayload},
		{name: "JSON string not UTF-8", method: "POST", body: base64.StdEncoding.EncodeToString([]byte("\"\xff\"")), base64: true, status: 400, code: hooks.CodeInvalidPayload},
		{name: "invalid base64 flag", method: "POST", body: `{"a":1}`, base64: true, status: 400, code: hooks.CodeInvalidPayload},
		{name: "just over the limit", method: "POST", body: `"` + strings.Repeat("x", hooks.MaxPayloadBytes-1) + `"`, status: 413, code: hooks.CodePayloadTooLarge},
		{name: "huge body (1 MiB)", method: "POST", body: huge, status: 413, code: hooks.CodePayloadTooLarge},
		{name: "token too long", method: "POST", rawPath: "/hooks/" + strings.Repeat("t", hooks.MaxTokenLength+1), body: `1`, status: 400, code: hooks.CodeInvalidToken},
		// rawPath and pathParameters as an HTTP API sends them: percent-decoded.
		{name: "token with control character", method: "POST", rawPath: "/hooks/a\x07b", body: `1`, status: 400, code: hooks.CodeInvalidToken},
		{name: "token with NUL", method: "POST", rawPath: "/hooks/a\x00b", body: `1`, status: 400, code: hooks.CodeInvalidToken},
		{name: "unknown token with white space", method: "POST", rawPath: "/hooks/a b-" + randomSuffix(), body: `1`, status: 404, code: hooks.CodeHookNotFound},
		{name: "unknown token with %", method: "POST", rawPath: "/hooks/a%zz-" + randomSuffix(), body: `1`, status: 404, code: hooks.CodeHookNotFound},
		{name: "missing token", method: "POST", rawPath: "/hooks/", body: `1`, status: 400, code: hooks.CodeInvalidToken},
		{name: "missing token, GET", method: "GET", rawPath: "/hooks/", status: 400, code: hooks.CodeInvalidToken},
		{name: "token too long, GET", method: "GET", rawPath: "/hooks/" + strings.Repeat("t", hooks.MaxTokenLength+1), status: 400, code: hooks.CodeInvalidToken},
		{name: "wrong method PATCH", method: "PATCH", body: `{"approved":true}`, status: 405, code: hooks.CodeMethodNotAllowed},
		{name: "dispose without executionArn", method: "DELETE", status: 400, code: hooks.CodeInvalidRequest},
		{name: "wrong method PUT", method: "PUT", body: `{"approved":true}`, status: 405, code: hooks.CodeMethodNotAllowed},
		{name: "unknown token", method: "POST", rawPath: "/hooks/nobody-" + randomSuffix(), body: `1`, status: 404, code: hooks.CodeHookNotFound},
		{name: "Idempotency-Key too long", method: "POST", body: `1`, header: map[string]string{"Idempotency-Key": strings.Repeat("k", hooks.MaxIdempotencyKeyLength+1)}, status: 400, code: hooks.CodeInvalidPayload},
		// The body is the payload, any JSON value: there is no envelope
		// whose unknown fields could be refused.
		{name: "unknown fields", method: "POST", body: `{"approved": true, "unexpected": [1]}`, status: 200, wrote: true, payload: `{"approved":true,"unexpected":[1]}`},
		{name: "idempotency key, first", method: "POST", body: `{"n":1}`, header: map[string]string{"Idempotency-Key": "key-1"}, status: 200, wrote: true, payload: `{"n":1}`},
		{name: "idempotency key, same body again", method: "POST", body: `{ "n": 1 }`, header: map[string]string{"Idempotency-Key": "key-1"}, status: 200},
		{name: "idempotency key, another body", method: "POST", body: `{"n":2}`, header: map[string]string{"Idempotency-Key": "key-1"}, status: 422, code: hooks.CodeIdempotencyMismatch},
	} {
		before := e.snapshot()
		ev := e.event(tc.method, token, tc.body)
		if tc.rawPath != "" {
			tok, _ := strings.CutPrefix(tc.rawPath, "/hooks/")
			ev.RawPath, ev.RequestContext.HTTP.Path = tc.rawPath, tc.rawPath
			ev.PathParameters = map[string]string{"token": tok}
		}
		ev.IsBase64Encoded = tc.base64
		for k, v := range tc.header {
			ev.Headers[strings.ToLower(k)] = v
		}
		r := e.send(ev)
		if r.Status != tc.status {
			t.Errorf("%q: status %d body %.200s, want %d", tc.name, r.Status, r.Body, tc.status)
			continue
		}
		if tc.code != "" {
			code, msg := errorBody(t, r)
			if code != tc.code {
				t.Errorf("%q: code %q (%s), want %q", tc.name, code, msg, tc.code)
			}
			if tc.status == 413 && !strings.Contains(msg, "262144") {
				t.Errorf("%q: message %q does not name the limit", tc.name, msg)
			}
			if tc.status == 405 && r.Header["allow"] != "GET, POST, DELETE" {
				t.Errorf("%q: allow %q, want \"GET, POST, DELETE\"", tc.name, r.Header["allow"])
			}
		}
		if p := checkWrites(t, tc.name, token, before, e.snapshot(), tc.wrote); tc.wrote && p != tc.payload {
			t.Errorf("%q: stored %q, want %q", tc.name, p, tc.payload)
		}
	}

	// Behind the template's routes (POST and GET /hooks/{token}), API
	// Gateway itself answers what matches no route: 404 {"message":"Not
	// Found"}, and the function is not invoked.
	api, err := apigwlocal.New([]apigwlocal.Route{
		{Key: "POST /hooks/{token}", Function: e.resume, FunctionName: "resume-hook"},
		{Key: "GET /hooks/{token}", Function: e.resume, FunctionName: "resume-hook"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	for _, c := range []struct{ name, method, path string }{
		{"wrong method", "DELETE", "/hooks/" + token},
		{"missing token", "POST", "/hooks/"},
		{"token with a raw /", "POST", "/hooks/a/b"},
		{"token with an encoded /", "POST", "/hooks/a%2Fb"}, // decoded before routing: two segments
	} {
		before := e.snapshot()
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(`{"x":1}`))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || string(b) != `{"message":"Not Found"}` {
			t.Errorf("API Gateway, %s: %d %s, want 404 {\"message\":\"Not Found\"}", c.name, res.StatusCode, b)
		}
		checkWrites(t, "API Gateway, "+c.name, token, before, e.snapshot(), false)
	}
}

// TestWebhooksRouteBadInput: ANY /webhooks/{token}. The body is arbitrary
// bytes handed to the workflow, so "invalid JSON", an empty body, any
// method and a reused Idempotency-Key are accepted (202, stored); what
// names no webhook is the uniform 404; only an oversized or undecodable
// body is refused otherwise.
func TestWebhooksRouteBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	h, err := e.hooks.CreateWebhook(context.Background(), hooks.CreateWebhookInput{ExecutionARN: "arn:exec:bad-webhook"})
	if err != nil {
		t.Fatal(err)
	}
	uniform := hooks.ErrorResponse(hooks.ErrHookNotFound).Body
	for _, tc := range []struct {
		name   string
		call   webhookCall
		path   string // "" = /webhooks/{token}
		badB64 bool   // body flagged base64 that does not decode
		status int
		code   string
		wrote  bool
		body   string // the request body the workflow will receive, when wrote
	}{
		{name: "invalid JSON", call: webhookCall{Header: map[string]string{"Content-Type": "application/json"}, Body: []byte(`{"paid":`)}, status: 202, wrote: true, body: `{"paid":`},
		{name: "empty body", call: webhookCall{}, status: 202, wrote: true, body: ``},
		{name: "any method", call: webhookCall{Method: "DELETE", Body: []byte("x")}, status: 202, wrote: true, body: `x`},
		{name: "Idempotency-Key, first", call: webhookCall{Header: map[string]string{"Idempotency-Key": "k"}, Body: []byte(`{"n":1}`)}, status: 202, wrote: true, body: `{"n":1}`},
		{name: "Idempotency-Key reused, another body", call: webhookCall{Header: map[string]string{"Idempotency-Key": "k"}, Body: []byte(`{"n":2}`)}, status: 202, wrote: true, body: `{"n":2}`},
		{name: "invalid base64 flag", call: webhookCall{Body: []byte("!!!")}, badB64: true, status: 400, code: hooks.CodeInvalidPayload},
		{name: "huge body (1 MiB)", call: webhookCall{Body: bytes.Repeat([]byte("a"), 1<<20)}, status: 413, code: hooks.CodePayloadTooLarge},
		{name: "token too long", path: "/webhooks/" + strings.Repeat("t", hooks.MaxTokenLength+1), call: webhookCall{Body: []byte("x")}, status: 404, code: hooks.CodeHookNotFound},
		{name: "token with control character", path: "/webhooks/a%07b", call: webhookCall{Body: []byte("x")}, status: 404, code: hooks.CodeHookNotFound},
		{name: "token with /", path: "/webhooks/a%2Fb", call: webhookCall{Body: []byte("x")}, status: 404, code: hooks.CodeHookNotFound},
		{name: "missing token", path: "/webhooks/", call: webhookCall{Body: []byte("x")}, status: 404, code: hooks.CodeHookNotFound},
		{name: "unknown token", path: "/webhooks/nobody-" + randomSuffix(), call: webhookCall{Body: []byte("x")}, status: 404, code: hooks.CodeHookNotFound},
		{name: "method API Gateway never sends", call: webhookCall{Method: "NOT A METHOD", Body: []byte("x")}, status: 404, code: hooks.CodeHookNotFound},
	} {
		before := e.snapshot()
		ev := w.event(h.Token, tc.call)
		if tc.path != "" {
			tok, _ := strings.CutPrefix(tc.path, "/webhooks/")
			ev.RawPath, ev.RequestContext.HTTP.Path = tc.path, tc.path
			ev.PathParameters = map[string]string{"token": tok}
		}
		if tc.badB64 {
			ev.IsBase64Encoded = true
		}
		a := w.call(ev)
		if a.Err != nil {
			t.Fatalf("%q: %v", tc.name, a.Err)
		}
		if a.Status != tc.status {
			t.Errorf("%q: status %d body %.200s, want %d", tc.name, a.Status, a.Body, tc.status)
			continue
		}
		if tc.code != "" {
			code, msg := errorBody(t, httpResponse{Status: a.Status, Header: a.Header, Body: string(a.Body)})
			if code != tc.code {
				t.Errorf("%q: code %q (%s), want %q", tc.name, code, msg, tc.code)
			}
			if tc.status == 404 && !bytes.Equal(a.Body, uniform) {
				t.Errorf("%q: 404 body %s differs from the uniform %s", tc.name, a.Body, uniform)
			}
		} else if len(a.Body) != 0 {
			t.Errorf("%q: %d with body %q, want the default static answer (empty)", tc.name, a.Status, a.Body)
		}
		p := checkWrites(t, tc.name, h.Token, before, e.snapshot(), tc.wrote)
		if !tc.wrote {
			continue
		}
		var got hooks.WebhookRequest
		if err := json.Unmarshal([]byte(p), &got); err != nil || got.Body != tc.body || got.IsBase64Encoded ||
			got.Method != cmpOr(tc.call.Method, "POST") {
			t.Errorf("%q: stored %.300s (%v), want a %s request with body %q", tc.name, p, err, cmpOr(tc.call.Method, "POST"), tc.body)
		}
		if k := tc.call.Header["Idempotency-Key"]; k != "" && !reflect.DeepEqual(got.Headers["idempotency-key"], []string{k}) {
			t.Errorf("%q: stored headers %v, want idempotency-key %q passed to the workflow", tc.name, got.Headers, k)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestDirectInvocationBadInput: resume-hook invoked through the Lambda
// Invoke API (the bridge). A refused invocation is a function error whose
// errorType is the error code + "Error" (docs/resuming.md, "Direct Lambda invocation").
func TestDirectInvocationBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name := "resume-hook-bad-" + e.funcName
	stk := stacktest.Function(t, name, e.resume)
	token := "direct-bad-" + randomSuffix()
	if _, err := e.hooks.Register(context.Background(), hooks.RegisterInput{Token: token, ExecutionARN: "arn:exec:direct-bad"}); err != nil {
		t.Fatal(err)
	}
	ev := func(tok string, rest string) string {
		b, _ := json.Marshal(tok)
		return `{"token":` + string(b) + rest + `}`
	}
	for _, tc := range []struct {
		name, event string
		errorType   string // "" for success, "*" for any (not the handler's)
		wrote       bool
		payload     string
	}{
		{name: "missing token", event: `{"payload":1}`, errorType: "InvalidTokenError"},
		{name: "empty token", event: ev("", `,"payload":1`), errorType: "InvalidTokenError"},
		{name: "unknown token with /", event: ev("a/b", `,"payload":1`), errorType: "HookNotFoundError"},
		{name: "token with control character", event: ev("a\x07b", `,"payload":1`), errorType: "InvalidTokenError"},
		{name: "unknown token with white space", event: ev("a b", `,"payload":1`), errorType: "HookNotFoundError"},
		{name: "token too long", event: ev(strings.Repeat("t", hooks.MaxTokenLength+1), `,"payload":1`), errorType: "InvalidTokenError"},
		{name: "unknown token", event: ev("nobody-"+randomSuffix(), `,"payload":1`), errorType: "HookNotFoundError"},
		{name: "missing payload", event: ev(token, ``), errorType: "InvalidPayloadError"},
		{name: "empty event", event: ``, errorType: "InvalidPayloadError"}, // Lambda invokes with {}
		{name: "payload string not UTF-8", event: ev(token, ",\"payload\":\"\xff\""), errorType: "InvalidPayloadError"},
		{name: "huge payload (1 MiB)", event: ev(token, `,"payload":"`+strings.Repeat("x", 1<<20)+`"`), errorType: "PayloadTooLargeError"},
		{name: "unknown field", event: ev(token, `,"payload":1,"extra":true`), errorType: "InvalidRequestError"},
		{name: "base64 flag (no such field)", event: ev(token, `,"payload":"IQ==","isBase64Encoded":true`), errorType: "InvalidRequestError"},
		{name: "not an object", event: `[1]`, errorType: "InvalidRequestError"},
		// Not JSON: Lambda's Invoke API refuses it (InvalidRequestContentException)
		// before the function runs; aws-lambda-go, here, fails the same way.
		{name: "invalid JSON", event: `{"token":`, errorType: "*"},
		{name: "idempotency key, first", event: ev(token, `,"payload":{"n":1},"idempotencyKey":"k"`), wrote: true, payload: `{"n":1}`},
		{name: "idempotency key, same payload again", event: ev(token, `,"payload":{"n":1},"idempotencyKey":"k"`)},
		{name: "idempotency key, another payload", event: ev(token, `,"payload":{"n":2},"idempotencyKey":"k"`), errorType: "IdempotencyKeyMismatchError"},
	} {
		before := e.snapshot()
		status, fnErr, body := invokeDirect(t, stk, name, tc.event)
		if status != http.StatusOK {
			t.Errorf("%q: Invoke API status %d %s, want 200", tc.name, status, body)
			continue
		}
		if tc.errorType == "" {
			var hook hooks.Hook
			if fnErr != "" || json.Unmarshal([]byte(body), &hook) != nil || hook.Token != token {
				t.Errorf("%q: function error %q body %.200s, want the hook", tc.name, fnErr, body)
			}
		} else {
			var got struct{ ErrorType, ErrorMessage string }
			if fnErr == "" || json.Unmarshal([]byte(body), &got) != nil || (got.ErrorType != tc.errorType && tc.errorType != "*") || got.ErrorMessage == "" {
				t.Errorf("%q: function error %q body %.200s, want errorType %s with a message", tc.name, fnErr, body, tc.errorType)
			}
			if tc.errorType == "PayloadTooLargeError" && !strings.Contains(got.ErrorMessage, "262144") {
				t.Errorf("%q: message %q does not name the limit", tc.name, got.ErrorMessage)
			}
		}
		if p := checkWrites(t, tc.name, token, before, e.snapshot(), tc.wrote); tc.wrote && p != tc.payload {
			t.Errorf("%q: stored %q, want %q", tc.name, p, tc.payload)
		}
	}
}

// invokeDirect calls the Lambda Invoke API of the bridge for function name
// with event, and returns the status, X-Amz-Function-Error and body.
func invokeDirect(t *testing.T, stk devstack.Stack, name, event string) (int, string, string) {
	t.Helper()
	u := stk.BridgeURL().JoinPath("/2015-03-31/functions/" + name + "/invocations")
	resp, err := http.Post(u.String(), "application/json", strings.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), string(b)
}
