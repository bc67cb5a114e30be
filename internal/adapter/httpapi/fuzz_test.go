package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// FuzzToken: the token Token extracts from an event's path is always a
// valid token; a valid token, percent-encoded into the path (behind a stage
// prefix or not) or only in pathParameters, comes back unchanged; anything
// refused is a 400 InvalidToken with a JSON {"error","message"} body.
func FuzzToken(f *testing.F) {
	for _, s := range []struct{ rawPath, param string }{
		{"/hooks/approval-order-42", "approval-order-42"},
		{"/hooks/caf%C3%A9-1", "café-1"},
		{"/prod/hooks/t", "t"},
		{"/hooks/a%2Fb", "a/b"},
		{"/hooks/a%00b", "a\x00b"},
		{"/hooks/a%zz", ""},
		{"/hooks/", ""},
		{"", "from-params"},
		{"/hooks/a/b", ""},
		{"/hooks/hooks", "hooks"},
		{"/webhooks/x", "x"},
		{"/hooks/%E2%80%A8", "\u2028"},
		{"/hooks/a+b", "a+b"},
	} {
		f.Add(s.rawPath, s.param)
	}
	f.Fuzz(func(t *testing.T, rawPath, param string) {
		ev := &events.APIGatewayV2HTTPRequest{RawPath: rawPath}
		if param != "" {
			ev.PathParameters = map[string]string{"token": param}
		}
		checkToken(t, ev)

		valid := hooks.ValidateToken(param) == nil
		for _, p := range []string{"/hooks/" + url.PathEscape(param), "/$default/hooks/" + url.PathEscape(param), ""} {
			ev := &events.APIGatewayV2HTTPRequest{RawPath: p, PathParameters: map[string]string{"token": param}}
			tok, err := checkToken(t, ev)
			if valid && (err != nil || tok != param) {
				t.Fatalf("valid token %q in path %q: got %q, %v", param, p, tok, err)
			}
			if !valid && err == nil {
				t.Fatalf("invalid token %q in path %q accepted as %q", param, p, tok)
			}
		}
	})
}

// checkToken runs Token on ev and checks what holds for any event.
func checkToken(t *testing.T, ev *events.APIGatewayV2HTTPRequest) (string, error) {
	t.Helper()
	tok, err := Token(ev, "hooks")
	if err == nil {
		if verr := hooks.ValidateToken(tok); verr != nil {
			t.Fatalf("Token(%q, %v) = %q, which is not valid: %v", ev.RawPath, ev.PathParameters, tok, verr)
		}
		return tok, nil
	}
	if !errors.Is(err, hooks.ErrInvalidToken) {
		t.Fatalf("Token(%q, %v): %v, want ErrInvalidToken", ev.RawPath, ev.PathParameters, err)
	}
	checkErrorResponse(t, Error(err), http.StatusBadRequest, hooks.CodeInvalidToken)
	return "", err
}

// FuzzBody: a body flagged base64 comes back as the bytes that were
// encoded; an unflagged body comes back as is; a flagged body that does not
// decode is 400 InvalidPayload.
func FuzzBody(f *testing.F) {
	f.Add([]byte(`{"approved":true}`), "", false)
	f.Add([]byte{0xff, 0, 1}, "", true)
	f.Add([]byte(nil), "!!!", true)
	f.Add([]byte(nil), "eyJhIjoxfQ", true) // unpadded
	f.Add([]byte(nil), "eyJhIjoxfQ==\n", true)
	f.Fuzz(func(t *testing.T, data []byte, text string, flag bool) {
		// data, base64-encoded by API Gateway.
		got, err := Body(&events.APIGatewayV2HTTPRequest{Body: base64.StdEncoding.EncodeToString(data), IsBase64Encoded: true})
		if err != nil || string(got) != string(data) {
			t.Fatalf("base64 of %q: got %q, %v", data, got, err)
		}
		// text as sent, flagged or not.
		got, err = Body(&events.APIGatewayV2HTTPRequest{Body: text, IsBase64Encoded: flag})
		switch {
		case !flag && (err != nil || string(got) != text):
			t.Fatalf("text %q: got %q, %v", text, got, err)
		case flag && err == nil:
			if want, derr := base64.StdEncoding.DecodeString(text); derr != nil || string(want) != string(got) {
				t.Fatalf("base64 %q: got %q, want %q (%v)", text, got, want, derr)
			}
		case flag:
			if !errors.Is(err, hooks.ErrInvalidPayload) {
				t.Fatalf("base64 %q: %v, want ErrInvalidPayload", text, err)
			}
			checkErrorResponse(t, Error(err), http.StatusBadRequest, hooks.CodeInvalidPayload)
		}
	})
}

// checkErrorResponse requires status, JSON content type and the body
// {"error": code, "message": non-empty}.
func checkErrorResponse(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int, code string) {
	t.Helper()
	var body map[string]string
	if resp.StatusCode != status || resp.Headers["content-type"] != "application/json" ||
		json.Unmarshal([]byte(resp.Body), &body) != nil || len(body) != 2 || body["error"] != code || body["message"] == "" {
		t.Fatalf("error response %d %v %s, want %d application/json {\"error\":%q,\"message\":…}", resp.StatusCode, resp.Headers, resp.Body, status, code)
	}
}
