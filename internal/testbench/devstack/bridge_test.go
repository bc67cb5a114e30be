package devstack_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
)

// echoContext answers with its input and the Lambda context it ran with.
type echoOutput struct {
	Input      json.RawMessage `json:"input"`
	RequestID  string          `json:"requestId"`
	InvokedARN string          `json:"invokedArn"`
	Deadline   bool            `json:"deadline"`
}

func echoContext(ctx context.Context, in json.RawMessage) (echoOutput, error) {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return echoOutput{}, errors.New("no lambda context")
	}
	_, hasDeadline := ctx.Deadline()
	return echoOutput{Input: in, RequestID: lc.AwsRequestID, InvokedARN: lc.InvokedFunctionArn, Deadline: hasDeadline}, nil
}

// HookConflictError stands for a typed error of the library.
type HookConflictError struct{ Execution string }

func (e *HookConflictError) Error() string { return "hook held by " + e.Execution }

type valueError struct{}

func (valueError) Error() string { return "value error" }

func newBridge(t *testing.T, upstream string, functions map[string]lambda.Handler) *httptest.Server {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	b := devstack.NewBridge(u, functions, nil)
	srv := httptest.NewServer(b)
	t.Cleanup(func() {
		srv.Close()
		b.Close()
	})
	return srv
}

func post(t *testing.T, rawURL string, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestBridgeInvokeNames(t *testing.T) {
	srv := newBridge(t, "http://127.0.0.1:1", map[string]lambda.Handler{
		"echo-task": devstack.NewHandler(echoContext),
	})
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:echo-task"
	for _, tc := range []struct {
		name    string
		path    string // after /2015-03-31/functions/
		auth    string
		wantARN string
	}{
		{name: "plain name", path: "echo-task", wantARN: arn},
		{name: "name with qualifier", path: "echo-task:live", wantARN: arn + ":live"},
		{name: "qualifier parameter", path: "echo-task/invocations?Qualifier=7", wantARN: arn + ":7"},
		{name: "partial ARN", path: "123456789012:function:echo-task", wantARN: arn},
		{name: "full ARN", path: arn, wantARN: arn},
		{name: "full ARN escaped", path: url.PathEscape(arn), wantARN: arn},
		{name: "full ARN all escaped", path: strings.ReplaceAll(arn, ":", "%3A"), wantARN: arn},
		{name: "full ARN with qualifier", path: arn + ":%24LATEST", wantARN: arn + ":$LATEST"},
		{name: "other region in ARN", path: "arn:aws:lambda:eu-west-1:111122223333:function:echo-task",
			wantARN: "arn:aws:lambda:eu-west-1:111122223333:function:echo-task"},
		{name: "region from SigV4 scope", path: "echo-task",
			auth:    "AWS4-HMAC-SHA256 Credential=ak/20260101/eu-central-1/lambda/aws4_request, SignedHeaders=host, Signature=x",
			wantARN: "arn:aws:lambda:eu-central-1:123456789012:function:echo-task"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := srv.URL + "/2015-03-31/functions/" + tc.path
			if !strings.Contains(tc.path, "/invocations") {
				target += "/invocations"
			}
			h := http.Header{}
			if tc.auth != "" {
				h.Set("Authorization", tc.auth)
			}
			resp, body := post(t, target, h, `{"k":[1,2]}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%q: status %d, want 200; body %s", tc.path, resp.StatusCode, body)
			}
			if got := resp.Header.Get("X-Amz-Executed-Version"); got != "$LATEST" {
				t.Errorf("%q: X-Amz-Executed-Version %q, want $LATEST", tc.path, got)
			}
			if got := resp.Header.Get("X-Amz-Function-Error"); got != "" {
				t.Errorf("%q: X-Amz-Function-Error %q, want none", tc.path, got)
			}
			var out echoOutput
			if err := json.Unmarshal([]byte(body), &out); err != nil {
				t.Fatalf("%q: body %s: %v", tc.path, body, err)
			}
			if string(out.Input) != `{"k":[1,2]}` {
				t.Errorf("%q: handler got %s, want the request body", tc.path, out.Input)
			}
			if out.InvokedARN != tc.wantARN {
				t.Errorf("%q: InvokedFunctionArn %q, want %q", tc.path, out.InvokedARN, tc.wantARN)
			}
			if len(out.RequestID) != 36 || out.RequestID != resp.Header.Get("X-Amzn-RequestId") {
				t.Errorf("%q: AwsRequestID %q, X-Amzn-RequestId %q: want the same UUID", tc.path, out.RequestID, resp.Header.Get("X-Amzn-RequestId"))
			}
			if !out.Deadline {
				t.Errorf("%q: handler context has no deadline", tc.path)
			}
		})
	}
}

func TestBridgeRequestIDsDiffer(t *testing.T) {
	srv := newBridge(t, "http://127.0.0.1:1", map[string]lambda.Handler{"echo": devstack.NewHandler(echoContext)})
	seen := map[string]bool{}
	for range 5 {
		_, body := post(t, srv.URL+"/2015-03-31/functions/echo/invocations", nil, `{}`)
		var out echoOutput
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		if seen[out.RequestID] {
			t.Fatalf("request id %q repeated", out.RequestID)
		}
		seen[out.RequestID] = true
	}
}

func TestBridgeHandlerErrors(t *testing.T) {
	for _, tc := range []struct {
		name        string
		err         error
		panicWith   any
		wantType    string
		wantMessage string
	}{
		{name: "errors.New", err: errors.New("boom"), wantType: "errorString", wantMessage: "boom"},
		{name: "typed pointer error", err: &HookConflictError{Execution: "exec-1"},
			wantType: "HookConflictError", wantMessage: "hook held by exec-1"},
		{name: "typed value error", err: valueError{}, wantType: "valueError", wantMessage: "value error"},
		{name: "wrapped typed error", err: fmt.Errorf("create: %w", &HookConflictError{Execution: "e"}),
			wantType: "wrapError", wantMessage: "create: hook held by e"},
		{name: "InvokeResponse_Error", err: messages.InvokeResponse_Error{Type: "HookConflictError", Message: "held"},
			wantType: "HookConflictError", wantMessage: "held"},
		{name: "wrapped InvokeResponse_Error",
			err:      fmt.Errorf("ctx: %w", messages.InvokeResponse_Error{Type: "HookNotFoundError", Message: "gone"}),
			wantType: "HookNotFoundError", wantMessage: "gone"},
		{name: "panic string", panicWith: "kaputt", wantType: "string", wantMessage: "kaputt"},
		{name: "panic error", panicWith: &HookConflictError{Execution: "p"}, wantType: "HookConflictError", wantMessage: "hook held by p"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := func(context.Context, json.RawMessage) (string, error) {
				if tc.panicWith != nil {
					panic(tc.panicWith)
				}
				return "", tc.err
			}
			for _, h := range []struct {
				kind string
				h    lambda.Handler
			}{{"lambda.NewHandler", lambda.NewHandler(fn)}, {"devstack.NewHandler", devstack.NewHandler(fn)}} {
				srv := newBridge(t, "http://127.0.0.1:1", map[string]lambda.Handler{"fails": h.h})
				resp, body := post(t, srv.URL+"/2015-03-31/functions/fails/invocations", nil, `{}`)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: status %d, want 200", h.kind, resp.StatusCode)
				}
				if got := resp.Header.Get("X-Amz-Function-Error"); got != "Unhandled" {
					t.Errorf("%s: X-Amz-Function-Error %q, want Unhandled", h.kind, got)
				}
				var got struct {
					Type    string `json:"errorType"`
					Message string `json:"errorMessage"`
				}
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatalf("%s: body %s: %v", h.kind, body, err)
				}
				if got.Type != tc.wantType || got.Message != tc.wantMessage {
					t.Errorf("%s: got %s, want errorType %q errorMessage %q", h.kind, body, tc.wantType, tc.wantMessage)
				}
			}
		})
	}
}

func TestErrorResponseMatchesRuntime(t *testing.T) {
	// The runtime's rule (aws-lambda-go lambda/errors.go) for errors it sees unwrapped.
	for _, tc := range []struct {
		err      error
		wantType string
	}{
		{errors.New("x"), "errorString"},
		{fmt.Errorf("x: %w", errors.New("y")), "wrapError"},
		{errors.Join(errors.New("a"), errors.New("b")), "joinError"},
		{&HookConflictError{}, "HookConflictError"},
		{context.DeadlineExceeded, "deadlineExceededError"},
		{messages.InvokeResponse_Error{Type: "Custom"}, "Custom"},
	} {
		if got := devstack.ErrorResponse(tc.err).Type; got != tc.wantType {
			t.Errorf("%#v: errorType %q, want %q", tc.err, got, tc.wantType)
		}
	}
}

func TestBridgeUnknownAndInvalidFunctions(t *testing.T) {
	srv := newBridge(t, "http://127.0.0.1:1", map[string]lambda.Handler{"echo": devstack.NewHandler(echoContext)})
	for _, tc := range []struct {
		path       string
		wantStatus int
		wantType   string
		wantMsg    string
	}{
		{"nope", http.StatusNotFound, "ResourceNotFoundException",
			"Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"},
		{"arn:aws:lambda:us-east-1:123456789012:function:nope:live", http.StatusNotFound, "ResourceNotFoundException",
			"Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope:live"},
		{"bad%20name", http.StatusBadRequest, "ValidationException", ""},
		{"arn:aws:s3:::bucket", http.StatusBadRequest, "ValidationException", ""},
	} {
		resp, body := post(t, srv.URL+"/2015-03-31/functions/"+tc.path+"/invocations", nil, `{}`)
		if resp.StatusCode != tc.wantStatus {
			t.Errorf("%q: status %d, want %d (%s)", tc.path, resp.StatusCode, tc.wantStatus, body)
		}
		if got := resp.Header.Get("X-Amzn-ErrorType"); got != tc.wantType {
			t.Errorf("%q: X-Amzn-ErrorType %q, want %q", tc.path, got, tc.wantType)
		}
		var got struct{ Type, Message string }
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%q: body %s: %v", tc.path, body, err)
		}
		if got.Type != "User" || (tc.wantMsg != "" && got.Message != tc.wantMsg) {
			t.Errorf("%q: body %s, want Type User, Message %q", tc.path, body, tc.wantMsg)
		}
	}
}

func TestBridgeInvocationTypes(t *testing.T) {
	ran := make(chan string, 1)
	release := make(chan struct{})
	srv := newBridge(t, "http://127.0.0.1:1", map[string]lambda.Handler{
		"bg": devstack.NewHandler(func(ctx context.Context, in string) error {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case ran <- in:
			default: // run twice: the test reads the first
			}
			return nil
		}),
	})
	// Release the handler before the bridge closes, also when the test fails
	// first (cleanups run last in, first out).
	releaseOnce := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseOnce)
	invoke := srv.URL + "/2015-03-31/functions/bg/invocations"

	resp, _ := post(t, invoke, http.Header{"X-Amz-Invocation-Type": {"DryRun"}}, `"dry"`)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("DryRun: status %d, want 204", resp.StatusCode)
	}

	// Event answers 202 before the handler returns.
	resp, _ = post(t, invoke, http.Header{"X-Amz-Invocation-Type": {"Event"}}, `"async"`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("Event: status %d, want 202", resp.StatusCode)
	}
	releaseOnce()
	select {
	case got := <-ran:
		if got != "async" {
			t.Errorf("Event: handler got %q, want %q", got, "async")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Event: handler did not run")
	}

	resp, body := post(t, invoke, http.Header{"X-Amz-Invocation-Type": {"Sometimes"}}, `"x"`)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad InvocationType: status %d, want 400 (%s)", resp.StatusCode, body)
	}

	resp, body = post(t, invoke, http.Header{"X-Amz-Invocation-Type": {"Event"}}, `"`+strings.Repeat("x", 1<<20)+`"`)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("Event over 1 MiB: status %d, want 413 (%s)", resp.StatusCode, body)
	}
}

func TestBridgeNilOutput(t *testing.T) {
	srv := newBridge(t, "http://127.0.0.1:1", map[string]lambda.Handler{
		"void": lambda.NewHandler(func(context.Context) error { return nil }),
	})
	resp, body := post(t, srv.URL+"/2015-03-31/functions/void/invocations", nil, ``)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != "null" {
		t.Errorf("status %d body %q, want 200 null", resp.StatusCode, body)
	}
}

// TestBridgeConcurrentInvocations checks that outputs are not mixed up between
// concurrent invocations, for both kinds of handlers. lambda.NewHandler's output
// aliases a pooled buffer; the bridge must not let a concurrent invocation reuse it
// before the output is written.
func TestBridgeConcurrentInvocations(t *testing.T) {
	echo := func(_ context.Context, in string) (string, error) { return in, nil }
	for _, tc := range []struct {
		name string
		h    lambda.Handler
	}{
		{"lambda.NewHandler", lambda.NewHandler(echo)},
		{"devstack.NewHandler", devstack.NewHandler(echo)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := url.Parse("http://127.0.0.1:1")
			b := devstack.NewBridge(u, map[string]lambda.Handler{"echo": tc.h}, nil)
			defer b.Close()
			var wg sync.WaitGroup
			errs := make(chan error, 32)
			for g := range 32 {
				wg.Go(func() {
					for i := range 1000 {
						want := fmt.Sprintf("%q", strings.Repeat(string(rune('a'+g%26)), 40+g)+fmt.Sprint(i))
						req := httptest.NewRequest(http.MethodPost, "/2015-03-31/functions/echo/invocations", strings.NewReader(want))
						rec := httptest.NewRecorder()
						b.ServeHTTP(rec, req)
						if got := strings.TrimSpace(rec.Body.String()); got != want {
							errs <- fmt.Errorf("got %s, want %s", got, want)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func TestBridgeHandleAndRemove(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1")
	b := devstack.NewBridge(u, nil, nil)
	defer b.Close()
	if err := b.Handle("late", devstack.NewHandler(echoContext)); err != nil {
		t.Fatal(err)
	}
	if err := b.Handle("late", devstack.NewHandler(echoContext)); err == nil {
		t.Error("second Handle of the same name: no error")
	}
	if err := b.Handle("no/slash", devstack.NewHandler(echoContext)); err == nil {
		t.Error("Handle of an invalid name: no error")
	}
	srv := httptest.NewServer(b)
	defer srv.Close()
	if resp, body := post(t, srv.URL+"/2015-03-31/functions/late/invocations", nil, `{}`); resp.StatusCode != http.StatusOK {
		t.Errorf("registered function: status %d (%s)", resp.StatusCode, body)
	}
	b.Remove("late")
	if resp, _ := post(t, srv.URL+"/2015-03-31/functions/late/invocations", nil, `{}`); resp.StatusCode != http.StatusNotFound {
		t.Errorf("removed function: status %d, want 404", resp.StatusCode)
	}
}

func TestBridgeProxiesEverythingElse(t *testing.T) {
	type seen struct {
		method, path, rawPath, query, host, target, body string
	}
	got := make(chan seen, 16)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select { // never block: an extra request shows as got not empty at the end
		case got <- seen{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Host, r.Header.Get("X-Amz-Target"), string(body)}:
		default:
		}
		w.Header().Set("X-Upstream", "moto")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "from upstream")
	}))
	defer upstream.Close()
	srv := newBridge(t, upstream.URL, map[string]lambda.Handler{"echo": devstack.NewHandler(echoContext)})

	for _, tc := range []struct {
		method, path, target, body string
	}{
		{http.MethodPost, "/", "DynamoDB_20120810.CreateTable", `{"TableName":"t"}`},
		{http.MethodPost, "/", "AWSStepFunctions.StartExecution", `{}`},
		{http.MethodGet, "/2015-03-31/functions/echo/invocations", "", ""},          // not POST
		{http.MethodPost, "/2015-03-31/functions", "", `{"FunctionName":"f"}`},      // CreateFunction
		{http.MethodPost, "/2015-03-31/functions/echo/configuration", "", `{}`},     // not Invoke
		{http.MethodPost, "/moto-api/config?x=1&y=%2F", "", `{"stepfunctions":{}}`}, // moto's own API
		{http.MethodDelete, "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af", "", ""},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		req.Host = "localhost:27000"
		if tc.target != "" {
			req.Header.Set("X-Amz-Target", tc.target)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTeapot || string(body) != "from upstream" || resp.Header.Get("X-Upstream") != "moto" {
			t.Errorf("%s %s: got %d %q, want upstream's answer", tc.method, tc.path, resp.StatusCode, body)
		}
		var s seen
		select {
		case s = <-got:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s %s: upstream got no request", tc.method, tc.path)
		}
		u, _ := url.Parse(tc.path)
		if s.method != tc.method || s.path != u.Path || s.rawPath != u.RawPath || s.query != u.RawQuery {
			t.Errorf("%s %s: upstream saw %s %s (raw %q) ?%s", tc.method, tc.path, s.method, s.path, s.rawPath, s.query)
		}
		if s.host != "localhost:27000" || s.target != tc.target || s.body != tc.body {
			t.Errorf("%s %s: upstream saw Host %q target %q body %q", tc.method, tc.path, s.host, s.target, s.body)
		}
	}
	if n := len(got); n != 0 {
		t.Errorf("upstream got %d requests more than were sent", n)
	}
}

func TestBridgeProxyStreams(t *testing.T) {
	next := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-next:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "second\n")
	}))
	defer upstream.Close()
	// Before upstream.Close, which waits for the handler: also when the
	// test fails before it sends the second line.
	nextOnce := sync.OnceFunc(func() { close(next) })
	defer nextOnce()
	srv := newBridge(t, upstream.URL, nil)
	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v: the bridge did not stream", line, err)
	}
	nextOnce()
	if line, _ = r.ReadString('\n'); line != "second\n" {
		t.Errorf("second line %q", line)
	}
}

func TestBridgeUpstreamDown(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	srv := newBridge(t, deadURL, nil)
	resp, body := post(t, srv.URL+"/", http.Header{"X-Amz-Target": {"DynamoDB_20120810.ListTables"}}, `{}`)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "scripts/stack.sh up") {
		t.Errorf("status %d body %s, want 502 that says how to start the stack", resp.StatusCode, body)
	}
}

func TestListenBridge(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "up")
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	b := devstack.NewBridge(u, nil, nil)
	srv, ln, err := devstack.ListenBridge("127.0.0.1:0", b)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = srv.Shutdown(context.Background())
		_ = b.Close()
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "up" {
		t.Errorf("proxied body %q, want %q", body, "up")
	}

	_, _, err = devstack.ListenBridge(ln.Addr().String(), b)
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("second ListenBridge on %s: %v, want an 'already in use' error wrapping EADDRINUSE", ln.Addr(), err)
	}
}
