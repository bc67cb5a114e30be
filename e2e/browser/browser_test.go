//go:build browser

// Package browser drives headless Chromium (Debian's chromium package)
// through an approval link served by make dev's stack: make test-browser
// (scripts/chromium.sh installs the browser when it is missing). The build
// tag keeps chromedp out of make test.
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const root = "../.."

// devServer runs cmd/sfnhooks-dev (make dev) on a free port, with the
// stack ports of the environment, until the test ends; it returns the API
// URL.
func devServer(t *testing.T, artifacts string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sfnhooks-dev")
	build := exec.Command("go", "build", "-o", bin, "./cmd/sfnhooks-dev")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the dev server: %v\n%s", err, out)
	}
	addr := os.Getenv("SFNHOOKS_DEV_ADDR")
	if addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	logf, err := os.Create(filepath.Join(artifacts, "dev.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-root", root, "-addr", addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT) // stops what it started (the stack too)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logf.Close()
	})
	api := "http://" + addr
	// A clean clone installs moto first: allow for it.
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the dev server exited: %v (log: %s)", err, logf.Name())
		default:
		}
		if resp, err := http.Get(api + "/dev/executions/approval-links/latest"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				return api
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dev server did not come up (log: %s)", logf.Name())
		}
	}
}

// execution is what GET /dev/executions/approval-links/{name} answers.
type execution struct {
	Name   string          `json:"name"`
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
	Sent   *struct {
		Approve string `json:"approve"`
		Reject  string `json:"reject"`
	} `json:"sent"`
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %d %s: %v", url, resp.StatusCode, b, err)
	}
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// browser starts headless Chromium with the flags that work on a closed
// network and a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("SFNHOOKS_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no Chromium at %s (make test-browser installs it: scripts/chromium.sh): %v", path, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 760),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute) // a loaded machine (the console test) needs more than 2
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context, file string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", file, len(png))
}

// A person approves from the emailed link: the page shows the hook's title
// and the button, pressing it resumes the execution with the link's
// payload (and the comment typed), the used link then answers 410. A mail
// scanner's plain GET resumes nothing.
func TestApprovalLinkInBrowser(t *testing.T) {
	artifacts, err := filepath.Abs(filepath.Join(root, ".state", "browser"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	api := devServer(t, artifacts)

	order := fmt.Sprintf("b%d", time.Now().UnixNano()%1e9)
	var started execution
	resp, err := http.Post(api+"/dev/executions/approval-links", "application/json", strings.NewReader(`{"orderId":"`+order+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(resp.Body).Decode(&started); err != nil || resp.StatusCode != 200 {
		t.Fatalf("start: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	status := api + "/dev/executions/approval-links/" + started.Name
	var ex execution
	waitFor(t, "the links to be sent", func() bool { getJSON(t, status, &ex); return ex.Sent != nil })
	hookURL := api + "/hooks/approval-links-" + order
	var hook struct {
		Waiting   bool  `json:"waiting"`
		Pending   int64 `json:"pending"`
		Delivered int64 `json:"delivered"`
	}
	waitFor(t, "the execution to await the hook", func() bool { return getJSON(t, hookURL, &hook) == 200 && hook.Waiting })

	// A mail scanner fetches both links: each gets the page, nothing is resumed.
	for _, u := range []string{ex.Sent.Approve, ex.Sent.Reject} {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (compatible; MailScanner/1.0)")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "<form method=\"post\">") {
			t.Fatalf("scanner GET %s: %d %s", u, resp.StatusCode, body)
		}
	}
	if getJSON(t, hookURL, &hook); !hook.Waiting || hook.Pending != 0 || hook.Delivered != 0 {
		t.Fatalf("after the scanner's GETs: %+v, want still waiting with nothing stored or delivered", hook)
	}
	if getJSON(t, status, &ex); ex.Status != "RUNNING" {
		t.Fatalf("after the scanner's GETs the execution is %s", ex.Status)
	}

	ctx := browser(t)
	page, err := chromedp.Run(ctx, chromedp.NavigateResponse(ex.Sent.Approve))
	if err != nil {
		t.Fatalf("open the link: %v", err)
	}
	if page.Status != 200 {
		t.Errorf("link page: status %d, want 200", page.Status)
	}
	must(t, chromedp.Do(ctx, chromedp.WaitVisible(`button[type=submit]`)))
	screenshot(t, ctx, filepath.Join(artifacts, "link-page.png"))
	title := run(t, ctx, chromedp.Text(`h1`))
	button := run(t, ctx, chromedp.Text(`button[type=submit]`))
	if title != "Approve order "+order+"?" || button != "Approve" {
		t.Fatalf("page: title %q button %q", title, button)
	}
	// The inline style is allowed by its hash in the CSP: it applied.
	if c := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("button")).backgroundColor`)); c != "rgb(11, 87, 208)" {
		t.Errorf("button background %q: the page's style did not apply (CSP hash?)", c)
	}

	const comment = "Approved from the browser test"
	// By keyboard: type the comment, Tab to the button, Enter.
	must(t, chromedp.Do(ctx, chromedp.SendKeys(`#comment`, comment), chromedp.KeyEvent(kb.Tab)))
	if f := run(t, ctx, chromedp.Evaluate[string](`document.activeElement.tagName + " " + document.activeElement.type`)); f != "BUTTON submit" {
		t.Fatalf("Tab from the comment focused %q, want the button", f)
	}
	screenshot(t, ctx, filepath.Join(artifacts, "link-focused.png"))
	clicked, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(kb.Enter))
	if err != nil {
		t.Fatalf("press the button: %v", err)
	}
	if clicked.Status != 200 {
		t.Errorf("after the click: status %d, want 200", clicked.Status)
	}
	screenshot(t, ctx, filepath.Join(artifacts, "link-done.png"))
	if h1, text := run(t, ctx, chromedp.Text(`h1`)), run(t, ctx, chromedp.Text(`main`)); h1 != "Done" || !strings.Contains(text, "Approve") {
		t.Errorf("done page: %q / %q", h1, text)
	}

	waitFor(t, "the execution to end", func() bool { getJSON(t, status, &ex); return ex.Status != "RUNNING" })
	var out struct {
		Decision map[string]any `json:"decision"`
		Outcome  string         `json:"outcome"`
	}
	if err := json.Unmarshal(ex.Output, &out); err != nil || ex.Status != "SUCCEEDED" {
		t.Fatalf("execution: %s %s (%v)", ex.Status, ex.Output, err)
	}
	if out.Outcome != "approved" || out.Decision["approved"] != true || out.Decision["comment"] != comment || len(out.Decision) != 2 {
		t.Fatalf("execution output: %s, want the preset payload {approved: true} with the comment", ex.Output)
	}

	// The used link, and its retired sibling, answer 410.
	for _, tc := range []struct{ url, file, text string }{
		{ex.Sent.Approve, "link-used.png", "already used"},
		{ex.Sent.Reject, "link-retired.png", "Another link for the same request"},
	} {
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(tc.url))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 410 {
			t.Errorf("%s: status %d, want 410", tc.url, resp.Status)
		}
		screenshot(t, ctx, filepath.Join(artifacts, tc.file))
		h1, text := run(t, ctx, chromedp.Text(`h1`)), run(t, ctx, chromedp.Text(`main`))
		if h1 != "This link can no longer be used" || !strings.Contains(text, tc.text) {
			t.Errorf("%s: page %q / %q, want %q", tc.url, h1, text, tc.text)
		}
		if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("form, button").length`)); n != 0 {
			t.Errorf("%s: a gone link's page has %d forms or buttons", tc.url, n)
		}
	}
}
