package approvallink

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// linkRecorder is a Linker that counts uses; the link protocol itself is
// tested on the emulator (e2e/link_test.go).
type linkRecorder struct {
	uses     int
	comment  string
	getCalls int
}

func (l *linkRecorder) GetLink(context.Context, string) (*hooks.LinkView, error) {
	l.getCalls++
	return &hooks.LinkView{Link: hooks.Link{Label: "Approve"}, Title: `<script>x</script>`}, nil
}

func (l *linkRecorder) UseLink(_ context.Context, _, comment string) (*hooks.Link, error) {
	l.uses++
	l.comment = comment
	return &hooks.Link{Label: "Approve"}, nil
}

func linkEvent(method, body string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"host": "api.example.test"}
	for k, v := range headers {
		h[k] = v
	}
	return events.APIGatewayV2HTTPRequest{
		RouteKey: method + " /links/{id}", RawPath: "/links/abc", Headers: h, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method}},
	}
}

func TestLinkRoutes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		method   string
		body     string
		headers  map[string]string
		status   int
		uses     int
		comment  string
		contains string
	}{
		{name: "page escapes metadata", method: "GET", status: 200, contains: "&lt;script&gt;x&lt;/script&gt;"},
		{name: "use", method: "POST", body: "comment=line+1%0D%0Aline+2", status: 200, uses: 1, comment: "line 1\nline 2", contains: "<h1>Done</h1>"},
		{name: "same origin", method: "POST", headers: map[string]string{"sec-fetch-site": "same-origin", "origin": "https://API.example.test"}, status: 200, uses: 1},
		{name: "no-referrer origin", method: "POST", headers: map[string]string{"origin": "null"}, status: 200, uses: 1},
		{name: "cross-site", method: "POST", headers: map[string]string{"sec-fetch-site": "cross-site"}, status: 403},
		{name: "other origin", method: "POST", headers: map[string]string{"origin": "https://evil.example"}, status: 403},
		{name: "bad form", method: "POST", body: "comment=%zz", status: 400},
		{name: "too large", method: "POST", body: "comment=" + strings.Repeat("x", MaxLinkFormBytes), status: 400},
		{name: "other method", method: "DELETE", status: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &linkRecorder{}
			h := New(rec, slog.New(slog.DiscardHandler))
			out, err := h.Handle(context.Background(), linkEvent(tc.method, tc.body, tc.headers))
			if err != nil {
				t.Fatal(err)
			}
			if out.StatusCode != tc.status || rec.uses != tc.uses || rec.comment != tc.comment {
				t.Fatalf("%q: status %d uses %d comment %q, want %d %d %q\n%s", tc.name, out.StatusCode, rec.uses, rec.comment, tc.status, tc.uses, tc.comment, out.Body)
			}
			if !strings.Contains(out.Body, tc.contains) {
				t.Errorf("%q: body lacks %q", tc.name, tc.contains)
			}
			if out.Headers["content-security-policy"] != LinkCSP || out.Headers["cache-control"] != "no-store" {
				t.Errorf("%q: headers %v", tc.name, out.Headers)
			}
			if tc.status == http.StatusMethodNotAllowed && out.Headers["allow"] != "GET, POST" {
				t.Errorf("405 without Allow: %v", out.Headers)
			}
		})
	}
	// The CSP's hash is the hash of the style the page carries.
	out, _ := New(&linkRecorder{}, slog.New(slog.DiscardHandler)).Handle(context.Background(), linkEvent("GET", "", nil))
	if !strings.Contains(out.Body, "<style>"+linkCSS+"</style>") {
		t.Errorf("the page's <style> is not linkCSS byte for byte, so the CSP hash would not match")
	}
}

// Every value from the hook or the link is escaped where the page shows
// it (text, not attributes): no markup of theirs reaches the page.
func TestLinkPageEscapes(t *testing.T) {
	d := pageData{Heading: `"><img src=x onerror=alert(1)>`, Description: `a & b <i>`, Form: true, Label: `<b>Go</b>'`,
		CommentAllowed: true, MaxComment: 1000, Expires: `<x>`}
	page := d.html()
	for _, raw := range []string{"<img", "<i>", "<b>", "<x>"} {
		if strings.Contains(page, raw) {
			t.Errorf("the page holds %q unescaped:\n%s", raw, page)
		}
	}
	for _, esc := range []string{"&lt;img src=x onerror=alert(1)&gt;", "a &amp; b &lt;i&gt;", "&lt;b&gt;Go&lt;/b&gt;&#39;"} {
		if !strings.Contains(page, esc) {
			t.Errorf("the page lacks %q:\n%s", esc, page)
		}
	}
	d = pageData{Heading: "Done", Message: `<script>x</script>`}
	if page := d.html(); strings.Contains(page, "<script>") || !strings.Contains(page, "<h1>Done</h1>") {
		t.Errorf("message page:\n%s", page)
	}
}

// As resume-webhook's: a link request that went around the distribution
// gets 403 and no AWS call (resumewebhook.TestEdgeSecret).
func TestLinkEdgeSecret(t *testing.T) {
	for _, tc := range []struct {
		sent   string
		status int
	}{{"s3cr3t", 200}, {"", http.StatusForbidden}, {"guess", http.StatusForbidden}} {
		rec := &linkRecorder{}
		h := New(rec, slog.New(slog.DiscardHandler))
		h.EdgeSecret = "s3cr3t"
		ev := linkEvent("GET", "", map[string]string{"x-sfnhooks-edge": tc.sent})
		if tc.sent == "" {
			delete(ev.Headers, "x-sfnhooks-edge")
		}
		out, _ := h.Handle(context.Background(), ev)
		if out.StatusCode != tc.status || (tc.status == http.StatusForbidden) != (rec.getCalls == 0) {
			t.Errorf("edge header %q: %d (read the link: %v), want %d", tc.sent, out.StatusCode, rec.getCalls > 0, tc.status)
		}
	}
}
