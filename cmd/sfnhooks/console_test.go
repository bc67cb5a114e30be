package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// recordingAPI answers every route with a fixed hook and records the calls
// that would reach the deployed API: the console's guards are what is
// tested here (the Chromium test drives the console against make dev's
// real stack).
type recordingAPI struct {
	calls  []string
	schema string
}

func (a *recordingAPI) rec(c string) { a.calls = append(a.calls, c) }
func (a *recordingAPI) Resume(_ context.Context, token string, _ []byte, _ string) ([]byte, error) {
	a.rec("resume " + token)
	return []byte(`{"token":"` + token + `"}`), nil
}
func (a *recordingAPI) Get(_ context.Context, token string) ([]byte, error) {
	a.rec("get " + token)
	s := ""
	if a.schema != "" {
		s = `,"schema":` + a.schema
	}
	return []byte(`{"token":"` + token + `"` + s + `}`), nil
}
func (a *recordingAPI) List(_ context.Context, q listQuery) ([]byte, error) {
	a.rec("list " + q.StateMachineARN)
	return []byte(`{"hooks":[]}`), nil
}
func (a *recordingAPI) Reject(_ context.Context, token, _, _, _ string) ([]byte, error) {
	a.rec("reject " + token)
	return []byte(`{}`), nil
}
func (a *recordingAPI) Heartbeat(context.Context, string) ([]byte, error) { return nil, nil }
func (a *recordingAPI) Dispose(_ context.Context, token, _, hookID string) ([]byte, error) {
	a.rec(strings.TrimSpace("dispose " + token + " " + hookID))
	return []byte(`{"disposed":true}`), nil
}

// The console answers only the page it served: a request without the
// launch key gets no page; a cross-site POST (another origin, no secret
// header, no session cookie, a form body, another Host: DNS rebinding) is
// refused with 403 and nothing reaches the API; the page's own call goes
// through. A payload that fails the hook's schema is refused by the
// console before the API is called.
func TestConsoleRefusesCrossSiteRequests(t *testing.T) {
	api := &recordingAPI{schema: `{"type":"object","required":["approved"]}`}
	srv := httptest.NewServer(nil)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	s := newConsoleServer(api, addr, "arn:aws:states:us-east-1:1:stateMachine:m")
	srv.Config.Handler = s
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// The page: only with the launch key.
	res, err := noRedirect.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || len(res.Cookies()) != 0 {
		t.Fatalf("page without the launch key: %d, cookies %v", res.StatusCode, res.Cookies())
	}
	res, err = noRedirect.Get(s.launchURL())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`const CSRF = "([0-9a-f]{64})"`).FindSubmatch(page)
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == consoleCookie {
			session = c
		}
	}
	if res.StatusCode != 200 || m == nil || session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("page with the launch key: %d, csrf %q, cookie %+v, CSP %q", res.StatusCode, m, session, res.Header.Get("Content-Security-Policy"))
	}
	csrf := string(m[1])

	post := func(host, origin, site, header, ctype string, cookie bool, body string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/api/hooks/approval-1/dispose", strings.NewReader(body))
		if host != "" {
			req.Host = host
		}
		for k, v := range map[string]string{"Origin": origin, "Sec-Fetch-Site": site, consoleHeader: header, "Content-Type": ctype} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		if cookie {
			req.AddCookie(session)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	const body = `{"executionArn":"arn:aws:states:us-east-1:1:execution:m:e","hookId":"h1"}`
	own := "http://" + addr
	for _, tc := range []struct {
		name                             string
		host, origin, site, header, ctyp string
		cookie                           bool
		body                             string
	}{
		{"another site's form post", "", "http://evil.example", "cross-site", "", "application/x-www-form-urlencoded", true, "executionArn=x"},
		{"another site's fetch with a guessed header", "", "http://evil.example", "cross-site", "guess", "application/json", true, body},
		{"another local port", "", "http://127.0.0.1:1", "same-site", csrf, "application/json", true, body},
		{"no secret header", "", own, "same-origin", "", "application/json", true, body},
		{"wrong secret header", "", own, "same-origin", strings.Repeat("0", 64), "application/json", true, body},
		{"no session cookie", "", own, "same-origin", csrf, "application/json", false, body},
		{"DNS rebinding (other Host)", "evil.example:" + strings.Split(addr, ":")[1], "", "", csrf, "application/json", true, body},
		{"form body from the page's origin", "", own, "same-origin", csrf, "text/plain", true, body},
	} {
		if got := post(tc.host, tc.origin, tc.site, tc.header, tc.ctyp, tc.cookie, tc.body); got != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tc.name, got)
		}
	}
	if len(api.calls) != 0 {
		t.Fatalf("refused requests reached the API: %v", api.calls)
	}
	if got := post("", own, "same-origin", csrf, "application/json", true, body); got != http.StatusOK || len(api.calls) != 1 || api.calls[0] != "dispose approval-1 h1" {
		t.Fatalf("the page's own dispose: %d, calls %v", got, api.calls)
	}

	// The schema is checked before anything is sent.
	api.calls = nil
	send := func(payload string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/api/hooks/"+url.PathEscape("approval-1")+"/resume", strings.NewReader(payload))
		req.Header.Set(consoleHeader, csrf)
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(session)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b)
	}
	if code, b := send(`{"approve":true}`); code != http.StatusUnprocessableEntity || !strings.Contains(b, "SchemaValidation") || !strings.Contains(b, "required") {
		t.Fatalf("payload failing the schema: %d %s", code, b)
	}
	if len(api.calls) != 1 || api.calls[0] != "get approval-1" {
		t.Fatalf("a payload failing the schema made the calls %v, want only the hook's GET", api.calls)
	}
	if code, b := send(`{"approved":true}`); code != http.StatusOK || api.calls[len(api.calls)-1] != "resume approval-1" {
		t.Fatalf("payload matching the schema: %d %s, calls %v", code, b, api.calls)
	}
}
