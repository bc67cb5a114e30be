package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Bad HTTP input answers the documented 4xx with a JSON error and changes
// no item; a percent-encoded token is decoded once.
func TestHTTPBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	token := "café-" + randomSuffix() // arrives percent-encoded in the path
	if _, err := e.hooks.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: "arn:exec:http"}); err != nil {
		t.Fatal(err)
	}
	before := e.items(token)
	for _, tc := range []struct {
		name, method, rawPath, body string
		base64                      bool
		status                      int
		code                        string
	}{
		{"invalid JSON", "POST", "", `{"approved":`, false, 400, hooks.CodeInvalidPayload},
		{"empty body", "POST", "", ``, false, 400, hooks.CodeInvalidPayload},
		{"bad base64 flag", "POST", "", `!!!`, true, 400, hooks.CodeInvalidPayload},
		{"too large", "POST", "", `"` + strings.Repeat("x", hooks.MaxPayloadBytes) + `"`, false, 413, hooks.CodePayloadTooLarge},
		{"control character", "POST", "/hooks/a\x00b", `1`, false, 400, hooks.CodeInvalidToken},
		{"token too long", "POST", "/hooks/" + strings.Repeat("t", 300), `1`, false, 400, hooks.CodeInvalidToken},
		{"wrong method", "PATCH", "", ``, false, 405, hooks.CodeMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := e.event(tc.method, token, tc.body)
			if tc.rawPath != "" {
				ev.RawPath, ev.PathParameters = tc.rawPath, nil
			}
			ev.IsBase64Encoded = tc.base64
			r := e.send(ev)
			if r.Status != tc.status {
				t.Fatalf("%q: status %d body %s, want %d", tc.name, r.Status, r.Body, tc.status)
			}
			if code, _ := errorBody(t, r); code != tc.code {
				t.Errorf("%q: code %q, want %q", tc.name, code, tc.code)
			}
		})
	}
	if after := e.items(token); !reflect.DeepEqual(before, after) {
		t.Errorf("refused requests changed the table")
	}
	// The same token, percent-encoded, base64 body: accepted and stored.
	ev := e.event("POST", token, base64.StdEncoding.EncodeToString([]byte(`{"ok":true}`)))
	ev.IsBase64Encoded = true
	if r := e.send(ev); r.Status != http.StatusOK {
		t.Fatalf("valid base64 POST: %d %s", r.Status, r.Body)
	}
	if st, err := e.hooks.GetHook(ctx, token); err != nil || st.Pending != 1 {
		t.Fatalf("after a valid POST: %+v %v, want 1 pending", st, err)
	}
	r := e.request("GET", token, "", nil)
	var st hooks.HookStatus
	if err := json.Unmarshal([]byte(r.Body), &st); err != nil || r.Status != 200 || st.Pending != 1 || st.Token != token {
		t.Errorf("GET: %d %s, want 200 with pending 1", r.Status, r.Body)
	}
}

// Another Lambda invokes resume-hook directly through the Lambda Invoke API
// (here the bridge): it gets the hook, or an errorType it can branch on.
func TestDirectInvocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name := "resume-hook-" + e.funcName
	stk := stacktest.Function(t, name, e.resume)
	ctx := context.Background()
	token := "direct-" + randomSuffix()
	if _, err := e.hooks.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: "arn:exec:direct"}); err != nil {
		t.Fatal(err)
	}
	invoke := func(body string) (int, string, string) { return invokeDirect(t, stk, name, body) }
	status, fnErr, body := invoke(`{"token":"` + token + `","payload":{"n":1},"idempotencyKey":"k"}`)
	var hook hooks.Hook
	if status != 200 || fnErr != "" || json.Unmarshal([]byte(body), &hook) != nil || hook.Token != token {
		t.Fatalf("direct resume: %d %q %s, want the hook", status, fnErr, body)
	}
	for _, tc := range []struct{ name, body, errorType string }{
		{"unknown token", `{"token":"nobody-here","payload":1}`, "HookNotFoundError"},
		{"missing payload", `{"token":"` + token + `"}`, "InvalidPayloadError"},
		{"unknown field", `{"token":"` + token + `","payload":1,"extra":true}`, "InvalidRequestError"},
		{"key reused", `{"token":"` + token + `","payload":{"n":2},"idempotencyKey":"k"}`, "IdempotencyKeyMismatchError"},
	} {
		_, fnErr, body := invoke(tc.body)
		var got struct {
			ErrorType string `json:"errorType"`
		}
		if fnErr == "" || json.Unmarshal([]byte(body), &got) != nil || got.ErrorType != tc.errorType {
			t.Errorf("%q: function error %q body %s, want errorType %s", tc.name, fnErr, body, tc.errorType)
		}
	}
	if st, err := e.hooks.GetHook(ctx, token); err != nil || st.Pending != 1 {
		t.Errorf("after one good and four refused invocations: %+v %v, want 1 pending", st, err)
	}
}
