package resumehook

// Fuzz targets of resume-hook's decoding: direct invocations and API
// Gateway events, with the hooks client replaced by a recorder (the library
// side, payload checks included, is fuzzed in pkg/hooks; the handler
// against the emulator is tested in e2e). make fuzz runs them for a fixed
// budget; a plain go test runs their seeds.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/sfnhooks/sfnhooks/internal/adapter/httpapi"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// recorder is a Resumer that keeps the call it got. Like hooks.Client, it
// refuses an invalid token (ErrInvalidToken) before anything else; it
// accepts every payload (payload checks are the library's, fuzzed there).
type recorder struct {
	calls   int
	method  string // "resume" or "get"
	token   string
	payload []byte
	opts    int
}

func (r *recorder) ResumeHook(_ context.Context, token string, payload any, opts ...hooks.ResumeOption) (*hooks.Hook, error) {
	r.calls++
	r.method, r.token, r.opts = "resume", token, len(opts)
	raw, ok := payload.(json.RawMessage)
	if !ok {
		return nil, errors.New("payload is not a json.RawMessage")
	}
	r.payload = bytes.Clone(raw)
	if err := hooks.ValidateToken(token); err != nil {
		return nil, err
	}
	return &hooks.Hook{Token: token, HookID: "h-1", ExecutionARN: "arn:exec", Kind: hooks.KindHook}, nil
}

func (r *recorder) GetHook(_ context.Context, token string, _ ...hooks.GetOption) (*hooks.HookStatus, error) {
	r.calls++
	r.method, r.token = "get", token
	if err := hooks.ValidateToken(token); err != nil {
		return nil, err
	}
	return &hooks.HookStatus{Hook: hooks.Hook{Token: token, HookID: "h-1", ExecutionARN: "arn:exec", Kind: hooks.KindHook}}, nil
}

func (r *recorder) RejectHook(_ context.Context, token, errorName, cause string, opts ...hooks.ResumeOption) (*hooks.Hook, error) {
	r.calls++
	r.method, r.token, r.opts = "reject", token, len(opts)
	r.payload = []byte(errorName + "\x00" + cause)
	if err := hooks.ValidateToken(token); err != nil {
		return nil, err
	}
	return &hooks.Hook{Token: token, HookID: "h-1", ExecutionARN: "arn:exec", Kind: hooks.KindHook}, nil
}

func (r *recorder) Heartbeat(_ context.Context, token string) error {
	r.calls++
	r.method, r.token = "heartbeat", token
	return hooks.ValidateToken(token)
}

func fuzzHandler() (*Handler, *recorder) {
	rec := &recorder{}
	return New(rec, slog.New(slog.DiscardHandler)), rec
}

// FuzzHandle feeds raw Lambda events to Handle: direct invocations
// {"token","payload","idempotencyKey"} and API Gateway payload 2.0 events
// (seeded from testdata/fuzz/FuzzHandle, which holds the e2e event).
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"token":"approval-order-42","payload":{"approved":true}}`,
		`{"token":"t","payload":null,"idempotencyKey":"k"}`,
		`{"token":"t","payload":1,"extra":true}`,
		`{"token":"t"}`,
		`{"token":"a/b","payload":1}`,
		`{"token":"","payload":1}`,
		`{"token":"t","payload":1} {"token":"u","payload":2}`,
		`{"action":"reject","token":"t","error":"Rejected","cause":"no"}`,
		`{"action":"reject","token":"t","error":"E","payload":1}`,
		`{"action":"heartbeat","token":"t"}`,
		`{"action":"heartbeat","token":"t","idempotencyKey":"k"}`,
		`{"action":"explode","token":"t"}`,
		`{"token":"t","payload":1}]`,
		`{"Token":"t","PAYLOAD":1}`,
		`{"token":"t","payload":[1,{"a":"\u00e9"}]}`,
		`null`, `[]`, `"x"`, ``,
		`{"requestContext":{"http":{"method":"POST"}},"rawPath":"/hooks/t","body":"1"}`,
		`{"requestContext":{"http":{"method":"POST"}},"rawPath":"/hooks/t","body":"MQ==","isBase64Encoded":true}`,
		`{"requestContext":{"http":{"method":"PUT"}},"rawPath":"/hooks/t"}`,
		`{"requestContext":{"http":{"method":"GET"}},"pathParameters":{"token":"t"}}`,
		`{"requestContext":{"http":{"method":"POST"}},"rawPath":"/hooks/t/reject","body":"{\"error\":\"E\",\"cause\":\"c\"}"}`,
		`{"requestContext":{"http":{"method":"POST"}},"rawPath":"/hooks/t/heartbeat"}`,
		`{"requestContext":{"http":{"method":"GET"}},"rawPath":"/hooks/t/heartbeat"}`,
		`{"requestContext":{"http":{"method":"POST"}},"rawPath":"/hooks/t/other"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, rec := fuzzHandler()
		out, err := h.Handle(context.Background(), json.RawMessage(raw))
		if httpapi.IsHTTPEvent(raw) {
			var ev events.APIGatewayV2HTTPRequest
			if uerr := json.Unmarshal(raw, &ev); uerr != nil {
				// Not an event API Gateway sends: the invocation fails.
				if err == nil {
					t.Fatalf("undecodable event %q answered %v", raw, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("event %q: invocation error %v; every HTTP outcome must be a response", raw, err)
			}
			resp, ok := out.(events.APIGatewayV2HTTPResponse)
			if !ok {
				t.Fatalf("event %q: answer %T, want a response", raw, out)
			}
			checkHTTP(t, &ev, resp, rec)
			return
		}
		checkDirect(t, raw, out, err, rec)
	})
}

// checkDirect: an accepted invocation is one JSON object of the documented
// fields, and the recorder got its token, payload and key unchanged; a
// refused one is a 4xx errorType with a message.
func checkDirect(t *testing.T, raw []byte, out any, err error, rec *recorder) {
	t.Helper()
	if err != nil {
		var ie messages.InvokeResponse_Error
		if !errors.As(err, &ie) || ie.Message == "" {
			t.Fatalf("%q: error %#v, want an InvokeResponse_Error with a message", raw, err)
		}
		allowed := map[string]bool{"InvalidRequestError": true, "InvalidPayloadError": true}
		if rec.calls == 1 {
			allowed = map[string]bool{"InvalidTokenError": true}
		}
		if !allowed[ie.Type] || rec.calls > 1 {
			t.Fatalf("%q: errorType %q after %d calls of the client", raw, ie.Type, rec.calls)
		}
		return
	}
	if !json.Valid(raw) {
		t.Fatalf("%q is not one JSON value, yet accepted", raw)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("%q is not a JSON object, yet accepted", raw)
	}
	for k := range fields {
		if !contains([]string{"token", "payload", "idempotencykey", "action", "error", "cause"}, strings.ToLower(k)) {
			t.Fatalf("%q: unknown field %q accepted", raw, k)
		}
	}
	var want DirectRequest
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("%q accepted, but json.Unmarshal refuses it: %v", raw, err)
	}
	if rec.calls != 1 || rec.token != want.Token || hooks.ValidateToken(rec.token) != nil {
		t.Fatalf("%q: %d calls, client got token %q, want %q (valid)", raw, rec.calls, rec.token, want.Token)
	}
	wantMethod := map[string]string{"": "resume", ActionResume: "resume", ActionReject: "reject", ActionHeartbeat: "heartbeat"}[want.Action]
	if rec.method != wantMethod {
		t.Fatalf("%q: client got %s, want %s", raw, rec.method, wantMethod)
	}
	if wantMethod == "heartbeat" {
		if _, ok := out.(HeartbeatAnswer); !ok {
			t.Fatalf("%q: answer %#v, want a HeartbeatAnswer", raw, out)
		}
		return
	}
	hook, ok := out.(*hooks.Hook)
	if !ok || hook == nil || hook.Token != want.Token {
		t.Fatalf("%q: answer %#v, want the hook", raw, out)
	}
	wantPayload := []byte(want.Payload)
	if wantMethod == "reject" {
		wantPayload = []byte(want.Error + "\x00" + want.Cause)
	} else if !json.Valid(rec.payload) {
		t.Fatalf("%q: client got payload %q, not JSON", raw, rec.payload)
	}
	if !bytes.Equal(rec.payload, wantPayload) {
		t.Fatalf("%q: client got payload %q, want %q", raw, rec.payload, wantPayload)
	}
	if wantOpts := min(len(want.IdempotencyKey), 1); rec.opts != wantOpts {
		t.Fatalf("%q: client got %d options, want %d", raw, rec.opts, wantOpts)
	}
}

// checkHTTP: every answer is 200 or a 4xx JSON error; a 200 means the
// client got a valid token and, on POST, the body exactly as sent
// (base64-decoded when flagged).
func checkHTTP(t *testing.T, ev *events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse, rec *recorder) {
	t.Helper()
	method := ev.RequestContext.HTTP.Method
	if resp.Headers["content-type"] != "application/json" {
		t.Fatalf("%s %q: content-type %q", method, ev.RawPath, resp.Headers["content-type"])
	}
	if isList(ev) {
		checkList(t, method, resp, rec)
		return
	}
	if resp.StatusCode != http.StatusOK {
		body := errorBody(t, method+" "+ev.RawPath, resp)
		_, action, _ := httpapi.TokenAndAction(ev, "hooks")
		want := map[int][]string{
			http.StatusBadRequest:       {hooks.CodeInvalidToken, hooks.CodeInvalidPayload},
			http.StatusMethodNotAllowed: {hooks.CodeMethodNotAllowed},
		}[resp.StatusCode]
		if resp.StatusCode == http.StatusBadRequest && method == http.MethodDelete && action == "" {
			want = append(want, hooks.CodeInvalidRequest)
		}
		if resp.StatusCode == http.StatusNotFound && action != "" && action != ActionReject && action != ActionHeartbeat {
			want = []string{hooks.CodeHookNotFound} // no such sub-route
		}
		if !contains(want, body["error"]) {
			t.Fatalf("%s %q: %d %q, want 400 InvalidToken/InvalidPayload, 404 for an unknown route or 405 MethodNotAllowed", method, ev.RawPath, resp.StatusCode, body["error"])
		}
		wantAllow := "GET, POST, DELETE"
		if action != "" {
			wantAllow = "POST"
		}
		if resp.StatusCode == http.StatusMethodNotAllowed && (resp.Headers["allow"] != wantAllow || (action == "" && method == "GET") || method == "POST") {
			t.Fatalf("%s: 405 with allow %q", method, resp.Headers["allow"])
		}
		if rec.calls != 0 {
			t.Fatalf("%s %q: refused with %d, yet the client was called", method, ev.RawPath, resp.StatusCode)
		}
		return
	}
	if rec.calls != 1 || hooks.ValidateToken(rec.token) != nil {
		t.Fatalf("%s %q: 200 after %d calls with token %q", method, ev.RawPath, rec.calls, rec.token)
	}
	switch {
	case rec.method == "heartbeat":
		if method != http.MethodPost || resp.Body != `{"waiting":true}` {
			t.Fatalf("%s heartbeat answered %q", method, resp.Body)
		}
		return
	case rec.method == "reject":
		body, err := httpapi.Body(ev)
		var rb RejectBody
		if method != http.MethodPost || err != nil || json.Unmarshal(body, &rb) != nil || string(rec.payload) != rb.Error+"\x00"+rb.Cause {
			t.Fatalf("%s reject: client got %q from body %q", method, rec.payload, body)
		}
	case method == http.MethodPost:
		body, err := httpapi.Body(ev)
		if rec.method != "resume" || err != nil || !bytes.Equal(body, rec.payload) {
			t.Fatalf("POST: client got %s payload %q, want the body %q (%v)", rec.method, rec.payload, body, err)
		}
		if want := min(len(ev.Headers["idempotency-key"]), 1); rec.opts != want {
			t.Fatalf("POST: client got %d options, want %d", rec.opts, want)
		}
	case method == http.MethodGet:
		if rec.method != "get" {
			t.Fatalf("GET: client got %s", rec.method)
		}
	default:
		t.Fatalf("%s answered 200", method)
	}
	var hook hooks.Hook
	if err := json.Unmarshal([]byte(resp.Body), &hook); err != nil || hook.Token != rec.token {
		t.Fatalf("200 body %q, want the hook of %q", resp.Body, rec.token)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// FuzzHandleHTTP builds POST/GET/other /hooks/{token} events field by field:
// a valid token percent-encoded into the path comes back unchanged, and a
// body base64-encoded by API Gateway reaches the client byte for byte.
func FuzzHandleHTTP(f *testing.F) {
	f.Add("POST", "approval-order-42", "", `{"approved":true}`, false, false, "")
	f.Add("POST", "café-42", "", "\xff\x00", false, true, "key-1")
	f.Add("POST", "t", "", "!!!", true, false, "")
	f.Add("POST", "t", "/hooks/a%2Fb", "1", false, false, "")
	f.Add("POST", "t", "/hooks/", "1", false, false, "")
	f.Add("POST", "", "", "1", false, false, "")
	f.Add("GET", "t", "/$default/hooks/t", "", false, false, "")
	f.Add("DELETE", "t", "", "", false, false, "")
	f.Add("post", "t", "", "1", false, false, "")
	f.Fuzz(func(t *testing.T, method, token, rawPath, body string, flag, encode bool, key string) {
		if rawPath == "" {
			rawPath = "/hooks/" + url.PathEscape(token)
		}
		ev := events.APIGatewayV2HTTPRequest{
			Version:         "2.0",
			RouteKey:        method + " /hooks/{token}",
			RawPath:         rawPath,
			Headers:         map[string]string{"content-type": "application/json"},
			PathParameters:  map[string]string{"token": token},
			RequestContext:  events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: rawPath}},
			Body:            body,
			IsBase64Encoded: flag,
		}
		if encode {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
		}
		if key != "" {
			ev.Headers["idempotency-key"] = key
		}
		h, rec := fuzzHandler()
		resp, err := h.HandleHTTP(context.Background(), ev)
		if err != nil {
			t.Fatalf("HandleHTTP: %v; every outcome must be a response", err)
		}
		checkHTTP(t, &ev, resp, rec)
		if resp.StatusCode != http.StatusOK {
			return
		}
		if rawPath == "/hooks/"+url.PathEscape(token) && rec.token != token {
			t.Fatalf("token %q in path %q reached the client as %q", token, rawPath, rec.token)
		}
		if encode && method == http.MethodPost && string(rec.payload) != body {
			t.Fatalf("base64 body %q reached the client as %q", body, rec.payload)
		}
	})
}

// checkList is checkHTTP for GET /hooks (list.go): only GET is served (405
// with Allow GET otherwise), a refusal calls nothing and answers
// {"error","message"}, and an answer is one ListHooks call.
func checkList(t *testing.T, method string, resp events.APIGatewayV2HTTPResponse, rec *recorder) {
	t.Helper()
	if resp.StatusCode == http.StatusOK {
		if method != http.MethodGet || rec.calls != 1 || rec.method != "list" {
			t.Fatalf("%s /hooks: 200 after %d calls (%s)", method, rec.calls, rec.method)
		}
		return
	}
	errorBody(t, method+" /hooks", resp)
	switch {
	case method != http.MethodGet:
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Headers["allow"] != http.MethodGet {
			t.Fatalf("%s /hooks: %d with allow %q, want 405 with allow GET", method, resp.StatusCode, resp.Headers["allow"])
		}
	case resp.StatusCode != http.StatusBadRequest:
		t.Fatalf("GET /hooks: %d %q, want 200 or 400", resp.StatusCode, resp.Body)
	}
	if rec.calls != 0 {
		t.Fatalf("%s /hooks: refused with %d, yet the client was called", method, resp.StatusCode)
	}
}

// errorBody decodes a refusal's body, which must be {"error","message"}
// with a message; what names the request in a failure.
func errorBody(t *testing.T, what string, resp events.APIGatewayV2HTTPResponse) map[string]string {
	t.Helper()
	var body map[string]string
	if json.Unmarshal([]byte(resp.Body), &body) != nil || len(body) != 2 || body["message"] == "" {
		t.Fatalf("%s: %d body %q, want {\"error\",\"message\"}", what, resp.StatusCode, resp.Body)
	}
	return body
}
