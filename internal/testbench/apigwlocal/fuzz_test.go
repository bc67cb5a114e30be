package apigwlocal_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sfnhooks/sfnhooks/internal/adapter/resumewebhook"
	"github.com/sfnhooks/sfnhooks/internal/testbench/apigwlocal"
)

// FuzzNewRequest feeds raw HTTP/1.1 requests, as net/http parses them, to
// NewRequest: the event's body is the request's byte for byte (text, or
// base64 when it is not UTF-8) also after the event's JSON round trip;
// rawPath is the decoded path and rawQueryString as received; header names are lower case,
// cookies are in the cookies field only. The event converted back into a
// request (resume-webhook's Request) has the method, path, query and body
// of the original.
func FuzzNewRequest(f *testing.F) {
	for _, s := range []string{
		"POST /hooks/a%2Fb%20c?x=1&x=2&y=%C3%A9 HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nContent-Type: application/json\r\nContent-Length: 11\r\nCookie: a=1; b=2\r\nX-Multi: one\r\nX-Multi: two\r\n\r\n{\"ok\":true}",
		"PUT /webhooks/t HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n\xff\x00\xfe",
		"GET /hooks/t HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.7\r\nCookie: ;;  c=3 ;\r\n\r\n",
		"POST /webhooks/t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"DELETE http://other/hooks/x?q HTTP/1.1\r\nHost: h:80\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil || !isASCII(r.RequestURI) {
			return // RFC 9112: a request target is ASCII (net/http lets other bytes through)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // the server would have answered 400 before the route
		}
		r.RemoteAddr = "203.0.113.9:4711"
		ev := apigwlocal.NewRequest(r, "ANY /webhooks/{token}", map[string]string{"token": "t"}, body)
		checkEventBody(t, "event", ev.Body, ev.IsBase64Encoded, body)
		if ev.RawPath != r.URL.Path || ev.RawQueryString != r.URL.RawQuery || ev.RequestContext.HTTP.Method != r.Method {
			t.Fatalf("rawPath %q query %q method %q, want %q %q %q", ev.RawPath, ev.RawQueryString, ev.RequestContext.HTTP.Method, r.URL.Path, r.URL.RawQuery, r.Method)
		}
		for k := range ev.Headers {
			if k != strings.ToLower(k) || k == "cookie" {
				t.Fatalf("header %q in the event", k)
			}
		}
		if _, sent := r.Header["Content-Length"]; !sent && len(body) > 0 && ev.Headers["content-length"] != strconv.Itoa(len(body)) {
			t.Fatalf("content-length %q for %d bytes", ev.Headers["content-length"], len(body))
		}
		for _, c := range ev.Cookies {
			if c == "" || c != strings.TrimSpace(c) || strings.Contains(c, ";") {
				t.Fatalf("cookie %q in %q", c, ev.Cookies)
			}
		}

		// The event as the function reads it.
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("marshal event: %v", err)
		}
		var back events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal event %s: %v", b, err)
		}
		checkEventBody(t, "event after JSON", back.Body, back.IsBase64Encoded, body)
		// JSON carries text: bytes of a decoded path or query that are not
		// UTF-8 (%80) reach the function as U+FFFD, whatever sends the event.
		wantPath, wantQuery := jsonText(ev.RawPath), jsonText(ev.RawQueryString)
		if back.RawPath != wantPath || back.RawQueryString != wantQuery {
			t.Fatalf("after JSON: rawPath %q query %q, want %q %q", back.RawPath, back.RawQueryString, wantPath, wantQuery)
		}

		// And back into a request, as resume-webhook makes it.
		rr, err := resumewebhook.Request(context.Background(), &back)
		if err != nil {
			return // a method or path no webhook has: resume-webhook answers 404
		}
		got, _ := io.ReadAll(rr.Body)
		if !bytes.Equal(got, body) || rr.Method != r.Method {
			t.Fatalf("back to a request: %s body %q, want %s %q", rr.Method, got, r.Method, body)
		}
		// API Gateway's rawPath starts with '/', its domain name is a host
		// name, and its rawQueryString has no fragment.
		host := cmp.Or(back.RequestContext.DomainName, back.Headers["host"])
		u, err := url.Parse("https://" + host + "/")
		if strings.HasPrefix(ev.RawPath, "/") && !strings.ContainsAny(ev.RawQueryString, "#?") &&
			host != "" && !strings.HasSuffix(host, ":") && err == nil && u.Host == host &&
			(rr.URL.Path != back.RawPath || rr.URL.RawQuery != r.URL.RawQuery) {
			t.Fatalf("back to a request: path %q query %q, want %q %q", rr.URL.Path, rr.URL.RawQuery, back.RawPath, r.URL.RawQuery)
		}
	})
}

func checkEventBody(t *testing.T, what, got string, isBase64 bool, want []byte) {
	t.Helper()
	b := []byte(got)
	if isBase64 {
		var err error
		if b, err = base64.StdEncoding.DecodeString(got); err != nil {
			t.Fatalf("%s body %q is flagged base64 but does not decode: %v", what, got, err)
		}
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("%s body %q (base64 %v) is %q, want %q", what, got, isBase64, b, want)
	}
}

// FuzzDecodeResponse: a function's output is decoded as API Gateway does
// (an object with statusCode is the response, other JSON a 200 body, the
// rest an error), and WriteResponse writes exactly the decoded response, or
// nothing when it refuses it.
func FuzzDecodeResponse(f *testing.F) {
	for _, s := range []string{
		`{"statusCode":201,"headers":{"content-type":"text/plain"},"body":"hi"}`,
		`{"statusCode":200,"body":"/wAB","isBase64Encoded":true,"cookies":["a=1; Path=/"]}`,
		`{"statusCode":200,"body":"!!!","isBase64Encoded":true}`,
		`{"statusCode":700}`, `{"statusCode":"200"}`, `{"statusCode":404,"multiValueHeaders":{"x-a":["1","2"]}}`,
		`{"token":"t"}`, `"x"`, `null`, `[1,2]`, `nope`, ``, `{"statusCode":200} trailing`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		resp, err := apigwlocal.DecodeResponse(out)
		var probe map[string]json.RawMessage
		isResponse := false
		if json.Unmarshal(out, &probe) == nil {
			_, isResponse = probe["statusCode"]
		}
		switch {
		case err != nil:
			var want events.APIGatewayV2HTTPResponse
			if json.Valid(out) && (!isResponse || json.Unmarshal(out, &want) == nil) {
				t.Fatalf("%q refused: %v", out, err)
			}
			return
		case !json.Valid(out):
			t.Fatalf("%q is not JSON, yet decoded as %+v", out, resp)
		case isResponse:
			var want events.APIGatewayV2HTTPResponse
			if json.Unmarshal(out, &want) != nil || !reflect.DeepEqual(resp, want) {
				t.Fatalf("%q decoded as %+v, want %+v", out, resp, want)
			}
		default:
			if resp.StatusCode != http.StatusOK || resp.Body != string(out) || resp.Headers["content-type"] != "application/json" || resp.IsBase64Encoded {
				t.Fatalf("%q decoded as %+v, want a 200 JSON body", out, resp)
			}
		}

		rec := httptest.NewRecorder()
		werr := apigwlocal.WriteResponse(rec, resp)
		body := []byte(resp.Body)
		var berr error
		if resp.IsBase64Encoded {
			body, berr = base64.StdEncoding.DecodeString(resp.Body)
		}
		valid := berr == nil && resp.StatusCode >= 100 && resp.StatusCode <= 599
		if !valid {
			if werr == nil || rec.Body.Len() != 0 || len(rec.Header()) != 0 {
				t.Fatalf("%+v: WriteResponse error %v, and %q and %v were written; want an error and nothing written", resp, werr, rec.Body.Bytes(), rec.Header())
			}
			return
		}
		// net/http takes 1xx for interim answers, and refuses a body with
		// 204 and 304 (API Gateway's own treatment of these is not modelled).
		if resp.StatusCode < 200 || (len(body) > 0 && (resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified)) {
			return
		}
		if werr != nil {
			t.Fatalf("%+v: WriteResponse error %v", resp, werr)
		}
		if rec.Code != resp.StatusCode || !bytes.Equal(rec.Body.Bytes(), body) || rec.Header().Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Fatalf("%+v written as %d %v %q", resp, rec.Code, rec.Header(), rec.Body.Bytes())
		}
		if len(rec.Header().Values("Set-Cookie")) < len(resp.Cookies) {
			t.Fatalf("cookies %q written as %q", resp.Cookies, rec.Header().Values("Set-Cookie"))
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// jsonText is s as encoding/json carries it: each byte that is not part of
// valid UTF-8 becomes U+FFFD.
func jsonText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
