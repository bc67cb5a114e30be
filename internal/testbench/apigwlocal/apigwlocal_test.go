package apigwlocal_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sfnhooks/sfnhooks/internal/testbench/apigwlocal"
)

func TestNewRequest(t *testing.T) {
	r := httptest.NewRequest("POST", "http://127.0.0.1:3000/hooks/a%2Fb%20c?x=1&x=2&y=%C3%A9", strings.NewReader(""))
	r.Header.Add("X-Multi", "one")
	r.Header.Add("X-Multi", "two")
	r.Header.Set("Cookie", "a=1; b=2")
	r.Header.Set("User-Agent", "curl/8")
	ev := apigwlocal.NewRequest(r, "POST /hooks/{token}", map[string]string{"token": "a/b c"}, []byte(`{"ok":true}`))

	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, "POST /hooks/{token}"},
		{"requestContext.routeKey", ev.RequestContext.RouteKey, "POST /hooks/{token}"},
		{"rawPath decoded, as an HTTP API sends it", ev.RawPath, "/hooks/a/b c"},
		{"http.path", ev.RequestContext.HTTP.Path, "/hooks/a/b c"},
		{"http.method", ev.RequestContext.HTTP.Method, "POST"},
		{"rawQueryString", ev.RawQueryString, "x=1&x=2&y=%C3%A9"},
		{"query joined", ev.QueryStringParameters, map[string]string{"x": "1,2", "y": "é"}},
		{"pathParameters", ev.PathParameters, map[string]string{"token": "a/b c"}},
		{"headers lower-cased and joined", ev.Headers["x-multi"], "one,two"},
		{"no cookie header", ev.Headers["cookie"], ""},
		{"cookies", ev.Cookies, []string{"a=1", "b=2"}},
		{"host header", ev.Headers["host"], "127.0.0.1:3000"},
		{"user agent", ev.RequestContext.HTTP.UserAgent, "curl/8"},
		{"stage", ev.RequestContext.Stage, "$default"},
		{"text body", ev.Body, `{"ok":true}`},
		{"not base64", ev.IsBase64Encoded, false},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if ev.RequestContext.RequestID == "" || ev.RequestContext.TimeEpoch == 0 {
		t.Errorf("requestContext: got %+v, want a request id and a time", ev.RequestContext)
	}

	bin := []byte{0xff, 0x00, 0xfe}
	ev = apigwlocal.NewRequest(httptest.NewRequest("PUT", "/webhooks/t", nil), "ANY /webhooks/{token}", nil, bin)
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString(bin) {
		t.Errorf("binary body: got %q (base64 %v), want base64 of %x", ev.Body, ev.IsBase64Encoded, bin)
	}
}

func TestDecodeResponse(t *testing.T) {
	for _, c := range []struct {
		name, out  string
		wantStatus int
		wantBody   string
		wantErr    bool
	}{
		{name: "response object", out: `{"statusCode":201,"body":"hi"}`, wantStatus: 201, wantBody: "hi"},
		{name: "plain JSON is a 200 body", out: `{"token":"t"}`, wantStatus: 200, wantBody: `{"token":"t"}`},
		{name: "string is a 200 body", out: `"x"`, wantStatus: 200, wantBody: `"x"`},
		{name: "not JSON", out: `nope`, wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := apigwlocal.DecodeResponse([]byte(c.out))
			if (err != nil) != c.wantErr {
				t.Fatalf("%q: err %v, want error %v", c.out, err, c.wantErr)
			}
			if err == nil && (resp.StatusCode != c.wantStatus || resp.Body != c.wantBody) {
				t.Errorf("%q: got %d %q, want %d %q", c.out, resp.StatusCode, resp.Body, c.wantStatus, c.wantBody)
			}
		})
	}
}

func TestWriteResponse(t *testing.T) {
	w := httptest.NewRecorder()
	err := apigwlocal.WriteResponse(w, events.APIGatewayV2HTTPResponse{
		StatusCode:        202,
		Headers:           map[string]string{"content-type": "application/octet-stream", "x-one": "1"},
		MultiValueHeaders: map[string][]string{"x-many": {"a", "b"}},
		Cookies:           []string{"s=1; HttpOnly", "t=2"},
		Body:              base64.StdEncoding.EncodeToString([]byte{1, 2, 3}),
		IsBase64Encoded:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"status", res.StatusCode, 202},
		{"body decoded", body, []byte{1, 2, 3}},
		{"content-type", res.Header.Get("Content-Type"), "application/octet-stream"},
		{"header", res.Header.Get("X-One"), "1"},
		{"multi-value header", res.Header.Values("X-Many"), []string{"a", "b"}},
		{"cookies", res.Header.Values("Set-Cookie"), []string{"s=1; HttpOnly", "t=2"}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if err := apigwlocal.WriteResponse(httptest.NewRecorder(), events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "!!", IsBase64Encoded: true}); err == nil {
		t.Error("bad base64 body: got no error")
	}
}

// echo answers with the event it got, as the body of a 200.
func echo(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	b, _ := json.Marshal(ev)
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: string(b)}, nil
}

func TestServer(t *testing.T) {
	fail := lambda.NewHandler(func(context.Context, json.RawMessage) (any, error) { return nil, errors.New("boom") })
	slow := lambda.NewHandler(func(ctx context.Context, _ json.RawMessage) (any, error) {
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond)
		return "late", nil
	})
	s, err := apigwlocal.New([]apigwlocal.Route{
		{Key: "POST /hooks/{token}", Function: lambda.NewHandler(echo), FunctionName: "echo"},
		{Key: "GET /hooks/{token}", Function: lambda.NewHandler(echo), FunctionName: "echo"},
		{Key: "ANY /webhooks/{token}", Function: lambda.NewHandler(echo), FunctionName: "echo"},
		{Key: "POST /fail", Function: fail, FunctionName: "fail"},
		{Key: "POST /slow", Function: slow, FunctionName: "slow"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Timeout = 50 * time.Millisecond
	srv := httptest.NewServer(s)
	defer srv.Close()

	for _, c := range []struct {
		method, path string
		wantStatus   int
		wantRoute    string
		wantToken    string
	}{
		{"POST", "/hooks/approval-42", 200, "POST /hooks/{token}", "approval-42"},
		{"GET", "/hooks/a%2Fb", 404, "", ""}, // decoded before routing: two segments
		{"GET", "/hooks/a%2F", 404, "", ""},
		{"GET", "/hooks/a%20b%25", 200, "GET /hooks/{token}", "a b%"},
		{"HEAD", "/hooks/x", 404, "", ""},
		{"PUT", "/hooks/x", 404, "", ""},
		{"DELETE", "/webhooks/w", 200, "ANY /webhooks/{token}", "w"},
		{"GET", "/elsewhere", 404, "", ""},
		{"POST", "/fail", 500, "", ""},
		{"POST", "/slow", 503, "", ""},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(`{}`))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.wantStatus {
			t.Errorf("%s %s: got %d %s, want %d", c.method, c.path, res.StatusCode, body, c.wantStatus)
			continue
		}
		if c.wantRoute == "" {
			continue
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		if ev.RouteKey != c.wantRoute || ev.PathParameters["token"] != c.wantToken || ev.RequestContext.HTTP.Method != c.method {
			t.Errorf("%s %s: got route %q token %q method %q, want %q %q %q", c.method, c.path,
				ev.RouteKey, ev.PathParameters["token"], ev.RequestContext.HTTP.Method, c.wantRoute, c.wantToken, c.method)
		}
	}
}
