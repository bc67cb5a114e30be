package resumewebhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sfnhooks/sfnhooks/internal/adapter/httpapi"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// recorder answers resp (or err) and keeps what it was asked.
type recorder struct {
	resp  *hooks.Response
	err   error
	token string
	req   *http.Request
	body  []byte
}

func (r *recorder) ResumeWebhook(_ context.Context, token string, req *http.Request) (*hooks.Response, error) {
	r.token, r.req = token, req
	r.body, _ = io.ReadAll(req.Body)
	return r.resp, r.err
}

func event(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile("testdata/apigw-v2-webhook.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestHandleTranslatesRequestAndResponse(t *testing.T) {
	rec := &recorder{resp: &hooks.Response{
		Status: 200,
		Header: http.Header{"X-Multi": {"a", "b"}, "Set-Cookie": {"s=1", "t=2"}, "Content-Type": {"application/octet-stream"}},
		Body:   []byte{0xff, 0x00, 0x01},
	}}
	h := New(rec, slog.New(slog.DiscardHandler))
	out, err := h.Handle(context.Background(), event(t))
	if err != nil {
		t.Fatal(err)
	}
	if rec.token != "wh-Zm9vYmFyYmF6cXV4" || rec.req.Method != "PUT" ||
		rec.req.URL.String() != "https://abcdef1234.execute-api.us-east-1.amazonaws.com/webhooks/wh-Zm9vYmFyYmF6cXV4?a=1&a=2&b=x%20y" {
		t.Errorf("request: token %q, %s %s", rec.token, rec.req.Method, rec.req.URL)
	}
	if !bytes.Equal(rec.body, []byte{0xff, 0x00, 0x01, 0x02}) {
		t.Errorf("body %x, want ff000102 (base64-decoded)", rec.body)
	}
	if got := rec.req.Header.Get("Cookie"); got != "session=abc; session=def" {
		t.Errorf("Cookie %q, want the cookies field joined", got)
	}
	want := events.APIGatewayV2HTTPResponse{
		StatusCode:      200,
		Headers:         map[string]string{"x-multi": "a, b", "content-type": "application/octet-stream"},
		Cookies:         []string{"s=1", "t=2"},
		Body:            "/wAB",
		IsBase64Encoded: true,
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("response %+v, want %+v", out, want)
	}
}

func TestHandleErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		path   string
		status int
		code   string
	}{
		{"not found", hooks.ErrHookNotFound, "", http.StatusNotFound, hooks.CodeHookNotFound},
		{"invalid token is not found", nil, "/webhooks/a\x07b", http.StatusNotFound, hooks.CodeHookNotFound},
		{"too large", &hooks.PayloadTooLargeError{Size: 300000, Limit: hooks.MaxPayloadBytes}, "", http.StatusRequestEntityTooLarge, hooks.CodePayloadTooLarge},
		{"timeout", &hooks.NoResponseError{RequestID: "r1"}, "", http.StatusGatewayTimeout, hooks.CodeResponseTimeout},
		{"gone", &hooks.NoResponseError{RequestID: "r1", Gone: true}, "", http.StatusBadGateway, hooks.CodeWebhookGone},
		{"internal", errors.New("boom"), "", http.StatusInternalServerError, hooks.CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := event(t)
			if tc.path != "" {
				ev.RawPath = tc.path // decoded, as an HTTP API sends it
				ev.PathParameters = map[string]string{"token": strings.TrimPrefix(tc.path, "/webhooks/")}
			}
			out, err := New(&recorder{err: tc.err}, slog.New(slog.DiscardHandler)).Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			var body hooks.APIError
			if json.Unmarshal([]byte(out.Body), &body) != nil || out.StatusCode != tc.status || body.Code != tc.code || out.Headers["content-type"] != "application/json" {
				t.Errorf("%q: got %d %v %s, want %d %s", tc.name, out.StatusCode, out.Headers, out.Body, tc.status, tc.code)
			}
		})
	}
}

// Behind the template's per-client limits (PublicEdgeRateLimit: CloudFront
// and WAF), CloudFront adds the header HeaderEdge with the stack's secret:
// a request without it went around the distribution (and its per-client
// rate limit) to the API's own URL, and is refused 403 before any AWS call.
// The header never reaches the workflow.
func TestEdgeSecret(t *testing.T) {
	for _, tc := range []struct {
		name, secret, sent string
		status             int
	}{
		{"no edge: anything goes", "", "", 200},
		{"through the distribution", "s3cr3t", "s3cr3t", 200},
		{"around it", "s3cr3t", "", http.StatusForbidden},
		{"a wrong secret", "s3cr3t", "guess", http.StatusForbidden},
	} {
		rec := &recorder{resp: &hooks.Response{Status: 200}}
		h := New(rec, slog.New(slog.DiscardHandler))
		h.EdgeSecret = tc.secret
		ev := event(t)
		if tc.sent != "" {
			ev.Headers[httpapi.HeaderEdge] = tc.sent
		}
		out, err := h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode != tc.status || (tc.status == http.StatusForbidden) != (rec.req == nil) {
			t.Errorf("%q: %d (resumed: %v), want %d", tc.name, out.StatusCode, rec.req != nil, tc.status)
		}
		if rec.req != nil && rec.req.Header.Get(httpapi.HeaderEdge) != "" {
			t.Errorf("%q: the workflow would receive the edge secret", tc.name)
		}
	}
}
