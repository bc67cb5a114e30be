package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// consoleSession opens the launch URL as the operator's browser does and
// returns the console, its server, the session cookie and the page secret.
func consoleSession(t *testing.T, api hooksAPI) (*consoleServer, *httptest.Server, *http.Cookie, string) {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	s := newConsoleServer(api, strings.TrimPrefix(srv.URL, "http://"), "arn:aws:states:us-east-1:1:stateMachine:m")
	srv.Config.Handler = s
	res, err := http.Get(s.launchURL())
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
	if m == nil || session == nil {
		t.Fatalf("launch: %d, no secret or cookie", res.StatusCode)
	}
	return s, srv, session, string(m[1])
}

// Cookies are not isolated by port (RFC 6265 §8.5): once the operator has
// opened the console, the browser sends the session cookie to every
// server on 127.0.0.1, whatever its port. Another local user's (or a
// compromised dev server's) listener on 127.0.0.1:OTHER that the operator
// visits receives it. With the cookie alone, no launch key, it fetches
// the console page from its own process (any Host header it likes), reads
// the per-process secret from it, and then has the console's /api/ with
// the operator's AWS credentials. docs/operators.md: "another local user
// who finds the port gets nothing". The page must need the launch key.
func TestReviewConsolePageNotServedForALeakedCookie(t *testing.T) {
	api := &recordingAPI{}
	s, srv, session, _ := consoleSession(t, api)
	// What the other listener does with the cookie it was sent.
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Header.Set("Cookie", consoleCookie+"="+session.Value)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	pageStatus := res.StatusCode
	m := regexp.MustCompile(`const CSRF = "([0-9a-f]{64})"`).FindSubmatch(page)
	if m == nil {
		return
	}
	req, _ = http.NewRequest("POST", srv.URL+"/api/hooks/approval-1/dispose", strings.NewReader(`{"executionArn":"arn:aws:states:us-east-1:1:execution:m:e"}`))
	req.Header.Set("Cookie", consoleCookie+"="+session.Value)
	req.Header.Set(consoleHeader, string(m[1]))
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	t.Fatalf("GET / with the session cookie and no launch key (%s) served the page and its secret (status %d); with them a dispose answered %d and reached the API: %v",
		s.addr, pageStatus, res.StatusCode, api.calls)
}

// The console acts on the hook the operator clicked: the page sends the
// token percent-encoded (encodeURIComponent) in one path segment, and the
// console must decode it once. It decodes it twice (r.URL.Path is already
// decoded, then url.PathUnescape), so a hook whose token holds '%'
// (ValidateToken allows it: "approval-50%off", "vict%69m") names another
// hook: the operator's resume, reject or dispose of row "vict%69m" goes
// to hook "victim".
func TestReviewConsoleActsOnTheClickedToken(t *testing.T) {
	api := &recordingAPI{}
	_, srv, session, csrf := consoleSession(t, api)
	for _, tok := range []string{"vict%69m", "50%25off"} {
		api.calls = nil
		// encodeURIComponent(tok), as console.html's call() builds the path.
		path := "/api/hooks/" + strings.ReplaceAll(url.QueryEscape(tok), "+", "%20") + "/reject"
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(`{"error":"No","cause":"operator"}`))
		req.AddCookie(session)
		req.Header.Set(consoleHeader, csrf)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if len(api.calls) != 1 || api.calls[0] != "reject "+tok {
			t.Errorf("reject of row %q (%s): %d %s, API calls %q; want one reject of %q", tok, path, res.StatusCode, body, api.calls, tok)
		}
	}
}
