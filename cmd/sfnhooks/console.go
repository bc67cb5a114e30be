package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The console (sfnhooks console; docs/operators.md) is one page served
// from the binary: console.html, with its script and style inline, no
// framework, nothing fetched at run time. The page calls the console's own
// /api/ routes, which call the deployed API with the operator's
// credentials (SigV4, as every command does) or make dev's endpoint.
//
//go:embed console.html
var consoleHTML string

var consolePage = template.Must(template.New("console").Parse(consoleHTML))

// Names of the console's request guards (consoleServer.guard).
const (
	consoleHeader = "X-Sfnhooks-Console" // the page's per-process secret, on every /api/ call
	consoleCookie = "sfnhooks_console"   // HttpOnly, SameSite=Strict: set when the launch URL is opened
)

// consoleServer serves the console. It holds the operator's credentials
// (through api), so every /api/ call must come from the page it served:
//
//   - the Host header must be this listener's loopback address (a DNS
//     rebinding page has another host name);
//   - the launch key (in the URL the command prints) must be given once
//     to get the page: another local user who finds the port gets nothing;
//   - an /api/ call carries the session cookie (SameSite=Strict, so no
//     other site's page sends it) and the header X-Sfnhooks-Console with
//     the secret written into the page (a custom header: another origin
//     would need a CORS preflight, which is never answered, and cannot
//     read the page to learn the secret);
//   - Origin, when sent, must be this origin; Sec-Fetch-Site, when sent,
//     must be same-origin; state-changing calls must be POST with a JSON
//     body (a plain HTML form cannot send application/json).
type consoleServer struct {
	api                      hooksAPI
	addr                     string // host:port the listener has
	launch, session, csrf    string
	stateMachine, consoleURL string
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newConsoleServer(api hooksAPI, addr, stateMachine string) *consoleServer {
	return &consoleServer{api: api, addr: addr, launch: randomHex(16), session: randomHex(32), csrf: randomHex(32), stateMachine: stateMachine}
}

// launchURL is the URL the operator opens.
func (s *consoleServer) launchURL() string {
	return "http://" + s.addr + "/?key=" + s.launch
}

func runConsole(ctx context.Context, api hooksAPI, o *opts, _ []string, _ io.Reader, stdout io.Writer) error {
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return usageErr("--listen %q: want host:port", o.listen)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usageErr("--listen %q: the console serves on loopback only (it holds your AWS credentials)", o.listen)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	s := newConsoleServer(api, ln.Addr().String(), o.stateMachine)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "sfnhooks console: open %s\n(loopback only; stop with Ctrl-C)\n", s.launchURL())
	if f, ok := stdout.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// consoleError answers {"error","message"} as the API does.
func consoleError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "message": msg})
}

func (s *consoleServer) sameOrigin(origin string) bool {
	return origin == "http://"+s.addr || (strings.HasPrefix(s.addr, "127.0.0.1:") && origin == "http://localhost:"+strings.TrimPrefix(s.addr, "127.0.0.1:"))
}

// hostOK: the Host header names this listener (127.0.0.1:PORT or
// localhost:PORT), never another name that resolves here.
func (s *consoleServer) hostOK(host string) bool {
	return s.sameOrigin("http://" + host)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// guard refuses an /api/ call that is not the page's own (see
// consoleServer); it answers 403 and reports false.
func (s *consoleServer) guard(w http.ResponseWriter, r *http.Request) bool {
	refuse := func(why string) bool {
		consoleError(w, http.StatusForbidden, "Forbidden", "the console refuses this request: "+why)
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && !s.sameOrigin(o) {
		return refuse("cross-origin (" + o + ")")
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return refuse("Sec-Fetch-Site " + site)
	}
	c, err := r.Cookie(consoleCookie)
	if err != nil || !equal(c.Value, s.session) {
		return refuse("no console session (open the URL the console printed)")
	}
	if !equal(r.Header.Get(consoleHeader), s.csrf) {
		return refuse("the " + consoleHeader + " header is missing or wrong")
	}
	if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return refuse("a POST must be application/json")
	}
	return true
}

func (s *consoleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	if !s.hostOK(r.Host) {
		consoleError(w, http.StatusForbidden, "Forbidden", "the console answers only at "+s.addr)
		return
	}
	switch {
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		s.page(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/"):
		if s.guard(w, r) {
			s.serveAPI(w, r)
		}
	default:
		consoleError(w, http.StatusNotFound, "NotFound", "no such page")
	}
}

// page serves the console to the holder of the launch key only, and
// starts the session. The session cookie alone is not enough: cookies are
// not isolated by port, so the browser also sends it to any other server
// on 127.0.0.1, which must not get the page's secret with it.
func (s *consoleServer) page(w http.ResponseWriter, r *http.Request) {
	if !equal(r.URL.Query().Get("key"), s.launch) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintln(w, "Open the URL that sfnhooks console printed (it carries the launch key).")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: s.session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	_ = consolePage.Execute(w, map[string]string{"CSRF": s.csrf, "StateMachine": s.stateMachine})
}

// serveAPI serves the page's calls:
//
//	GET  /api/hooks?stateMachineArn=&state=&tag=&order=&cursor=&limit=  a page of GET /hooks
//	GET  /api/hooks/{token}                 GET /hooks/{token} (with the schema)
//	POST /api/hooks/{token}/resume          body: the payload; checked against the hook's schema first
//	POST /api/hooks/{token}/reject          body: {"error","cause"}
//	POST /api/hooks/{token}/dispose         body: {"executionArn","hookId"}
func (s *consoleServer) serveAPI(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// The escaped path: the token is percent-decoded once, below (r.URL.Path
	// is decoded already; decoding it again turns row "vict%69m" into hook
	// "victim").
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/api/hooks")
	var (
		out []byte
		err error
	)
	switch {
	case rest == "" && r.Method == http.MethodGet:
		q := r.URL.Query()
		lq := listQuery{StateMachineARN: q.Get("stateMachineArn"), State: q.Get("state"), Tag: q.Get("tag"), Order: q.Get("order"), Cursor: q.Get("cursor")}
		if lq.StateMachineARN == "" {
			consoleError(w, http.StatusBadRequest, hooks.CodeInvalidRequest, "stateMachineArn is required")
			return
		}
		if l := q.Get("limit"); l != "" {
			_, _ = fmt.Sscanf(l, "%d", &lq.Limit)
		}
		out, err = s.api.List(ctx, lq)
	case strings.HasPrefix(rest, "/"):
		token, action, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
		if token, err = url.PathUnescape(token); err != nil || token == "" {
			consoleError(w, http.StatusBadRequest, hooks.CodeInvalidToken, "bad token in the path")
			return
		}
		var body []byte
		if r.Method == http.MethodPost {
			if body, err = io.ReadAll(io.LimitReader(r.Body, hooks.MaxPayloadBytes+1024)); err != nil {
				consoleError(w, http.StatusBadRequest, hooks.CodeInvalidPayload, err.Error())
				return
			}
		}
		switch {
		case action == "" && r.Method == http.MethodGet:
			out, err = s.api.Get(ctx, token)
		case action == "resume" && r.Method == http.MethodPost:
			if !s.schemaOK(ctx, w, token, body) {
				return
			}
			out, err = s.api.Resume(ctx, token, body, "")
		case action == "reject" && r.Method == http.MethodPost:
			var rb struct{ Error, Cause string }
			if json.Unmarshal(body, &rb) != nil || rb.Error == "" {
				consoleError(w, http.StatusBadRequest, hooks.CodeInvalidRequest, "an error name is required")
				return
			}
			out, err = s.api.Reject(ctx, token, rb.Error, rb.Cause, "")
		case action == "dispose" && r.Method == http.MethodPost:
			var db struct {
				ExecutionARN string `json:"executionArn"`
				HookID       string `json:"hookId"` // the hook shown: not one created again since
			}
			if json.Unmarshal(body, &db) != nil || db.ExecutionARN == "" {
				consoleError(w, http.StatusBadRequest, hooks.CodeInvalidRequest, "executionArn is required")
				return
			}
			out, err = s.api.Dispose(ctx, token, db.ExecutionARN, db.HookID)
		default:
			consoleError(w, http.StatusNotFound, "NotFound", "no such console call")
			return
		}
	default:
		consoleError(w, http.StatusNotFound, "NotFound", "no such console call")
		return
	}
	if ae, ok := errors.AsType[*apiError](err); ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ae.Status)
		if json.Valid(ae.Body) {
			_, _ = w.Write(ae.Body)
		} else {
			_ = json.NewEncoder(w).Encode(map[string]string{"error": http.StatusText(ae.Status), "message": strings.TrimSpace(string(ae.Body))})
		}
		return
	}
	if err != nil {
		consoleError(w, http.StatusBadGateway, "Unreachable", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(bytes.TrimSpace(out))
}

// schemaOK checks a resume's payload against the hook's schema (read with
// GET /hooks/{token}) before anything is sent, with the library's own
// validator: a mismatch is answered 422 SchemaValidation with the failed
// keywords, and nothing reaches the API.
func (s *consoleServer) schemaOK(ctx context.Context, w http.ResponseWriter, token string, payload []byte) bool {
	if !json.Valid(payload) {
		consoleError(w, http.StatusBadRequest, hooks.CodeInvalidPayload, "the payload is not JSON")
		return false
	}
	raw, err := s.api.Get(ctx, token)
	if err != nil {
		return true // let the resume answer (404, …)
	}
	var h struct {
		Schema json.RawMessage `json:"schema"`
	}
	if json.Unmarshal(raw, &h) != nil || len(h.Schema) == 0 {
		return true
	}
	err = hooks.ValidateSchema(h.Schema, payload)
	var sv *hooks.SchemaValidationError
	switch {
	case err == nil:
		return true
	case errors.As(err, &sv):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": hooks.CodeSchemaValidation, "message": "the payload does not match the hook's schema (checked by the console; nothing was sent)", "details": sv.Details})
	default:
		consoleError(w, http.StatusBadRequest, hooks.CodeInvalidPayload, err.Error())
	}
	return false
}
