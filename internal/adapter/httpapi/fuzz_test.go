package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfnhooks/sfnhooks/internal/adapter/httpapi"
	"github.com/sfnhooks/sfnhooks/internal/testbench/apigwlocal"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// FuzzToken checks properties of Token rather than its verdicts one by one:
//   - what it returns is a token the library accepts, and what it refuses
//     is a 400 InvalidToken with a JSON {"error","message"} body (any event);
//   - it decodes nothing (API Gateway decoded the path once already): a
//     token in pathParameters, or alone in a decoded rawPath, comes back
//     byte for byte, behind a stage prefix too;
//   - through HTTP: a request to /hooks/<percent-encoded token>, written and
//     parsed as HTTP/1.1 and turned into an event by the local API Gateway
//     (apigwlocal, which decodes the path before routing as an HTTP API
//     does), is answered with the token exactly when the library accepts it
//     and it has no '/'; a token with '/' matches no route (404).
func FuzzToken(f *testing.F) {
	for _, s := range []struct{ rawPath, param string }{
		{"/hooks/approval-order-42", "approval-order-42"},
		{"/hooks/café-1", "café-1"},
		{"/prod/hooks/t", "t"},
		{"/hooks/a/b", "a/b"},
		{"/hooks/a\x00b", "a\x00b"},
		{"/hooks/a%zz", "a%zz"},
		{"/hooks/", ""},
		{"", "from-params"},
		{"/hooks/hooks", "hooks"},
		{"/webhooks/x", "x"},
		{"/hooks/\u2028", "\u2028"},
		{"/hooks/a+b", "a+b"},
		{"/hooks/%25", "%25"},
		{"/hooks/..", ".."},
		{"/hooks/approval order 42", "approval order 42"},
	} {
		f.Add(s.rawPath, s.param)
	}
	route := tokenRoute(f)
	f.Fuzz(func(t *testing.T, rawPath, param string) {
		ev := &events.APIGatewayV2HTTPRequest{RawPath: rawPath}
		if param != "" {
			ev.PathParameters = map[string]string{"token": param}
		}
		_, _ = checkToken(t, ev)

		direct, directErr := checkToken(t, &events.APIGatewayV2HTTPRequest{PathParameters: map[string]string{"token": param}})
		if directErr == nil && direct != param {
			t.Fatalf("pathParameters token %q came back as %q", param, direct)
		}
		if (directErr == nil) != (hooks.ValidateToken(param) == nil) {
			t.Fatalf("pathParameters token %q: %v, library: %v", param, directErr, hooks.ValidateToken(param))
		}
		if !strings.Contains(param, "/") {
			for _, p := range []string{"/hooks/" + param, "/$default/hooks/" + param} {
				tok, err := checkToken(t, &events.APIGatewayV2HTTPRequest{RawPath: p})
				if (err == nil) != (directErr == nil) || tok != direct {
					t.Fatalf("token %q: rawPath %q gives %q, %v; pathParameters %q, %v", param, p, tok, err, direct, directErr)
				}
			}
		}

		if param == "" || param == "." || param == ".." {
			return // no request can name these: no segment, or a dot segment (see knownUnroutable in pkg/hooks)
		}
		if !utf8.ValidString(param) {
			return // the event is JSON: invalid UTF-8 arrives as U+FFFD, another (valid) token
		}
		status, body := route(param)
		switch {
		case strings.Contains(param, "/"):
			if status != http.StatusNotFound {
				t.Fatalf("token %q with '/' over HTTP: %d %q, want API Gateway's 404", param, status, body)
			}
		case directErr == nil && (status != http.StatusOK || body != param):
			t.Fatalf("token %q over HTTP: %d %q, want 200 and the token", param, status, body)
		case directErr != nil && status == http.StatusOK:
			t.Fatalf("token %q, refused from the event, accepted over HTTP as %q", param, body)
		}
	})
}

// tokenRoute serves POST /hooks/{token} through the local API Gateway with a
// function that answers the token Token extracts (200, JSON string) or its
// error. It returns a function that sends a request for a token, as an
// HTTP client would, and returns the status and the token answered.
func tokenRoute(tb testing.TB) func(token string) (int, string) {
	tb.Helper()
	fn := lambda.NewHandler(func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		tok, err := httpapi.Token(&ev, "hooks")
		if err != nil {
			return httpapi.Error(err), nil
		}
		return httpapi.JSON(http.StatusOK, tok), nil
	})
	api, err := apigwlocal.New([]apigwlocal.Route{{Key: "POST /hooks/{token}", Function: fn, FunctionName: "token"}}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return func(token string) (int, string) {
		u := "https://abcdef1234.execute-api.us-east-1.amazonaws.com/hooks/" + url.PathEscape(token)
		req, err := http.NewRequest(http.MethodPost, u, strings.NewReader("{}"))
		if err != nil {
			tb.Fatalf("request to %q: %v", u, err)
		}
		var wire bytes.Buffer
		if err := req.Write(&wire); err != nil {
			tb.Fatalf("write request to %q: %v", u, err)
		}
		got, err := http.ReadRequest(bufio.NewReader(&wire))
		if err != nil {
			tb.Fatalf("request to %q does not parse: %v", u, err)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, got)
		var tok string
		if rec.Code == http.StatusOK {
			if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
				tb.Fatalf("200 body %q: %v", rec.Body, err)
			}
		}
		return rec.Code, tok
	}
}

// checkToken runs Token on ev and checks what holds for any event.
func checkToken(t *testing.T, ev *events.APIGatewayV2HTTPRequest) (string, error) {
	t.Helper()
	tok, err := httpapi.Token(ev, "hooks")
	if err == nil {
		if verr := hooks.ValidateToken(tok); verr != nil {
			t.Fatalf("Token(%q, %v) = %q, which is not valid: %v", ev.RawPath, ev.PathParameters, tok, verr)
		}
		return tok, nil
	}
	if !errors.Is(err, hooks.ErrInvalidToken) {
		t.Fatalf("Token(%q, %v): %v, want ErrInvalidToken", ev.RawPath, ev.PathParameters, err)
	}
	checkErrorResponse(t, httpapi.Error(err), http.StatusBadRequest, hooks.CodeInvalidToken)
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
		got, err := httpapi.Body(&events.APIGatewayV2HTTPRequest{Body: base64.StdEncoding.EncodeToString(data), IsBase64Encoded: true})
		if err != nil || string(got) != string(data) {
			t.Fatalf("base64 of %q: got %q, %v", data, got, err)
		}
		// text as sent, flagged or not.
		got, err = httpapi.Body(&events.APIGatewayV2HTTPRequest{Body: text, IsBase64Encoded: flag})
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
			checkErrorResponse(t, httpapi.Error(err), http.StatusBadRequest, hooks.CodeInvalidPayload)
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
