package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/testbench/apigwlocal"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Issue 13: reject, heartbeat and tokens, end to end on the emulator
// (real executions, the real resume-hook handler).

// action sends POST /hooks/{token}/<action> with body through the real
// resume-hook handler, as API Gateway does for that route.
func (e *env) action(token, action, body string) httpResponse {
	e.t.Helper()
	ev := e.event("POST", token, body)
	ev.RawPath += "/" + action
	ev.RequestContext.HTTP.Path = ev.RawPath
	ev.RouteKey = "POST /hooks/{token}/" + action
	ev.RequestContext.RouteKey = ev.RouteKey
	return e.send(ev)
}

type rejectOutput struct {
	First     json.RawMessage `json:"first"`
	Rejection struct {
		Error string `json:"Error"`
		Cause string `json:"Cause"`
	} `json:"rejection"`
	Outcome string `json:"outcome"`
}

// A rejection fails the await with its error name: the state machine
// catches it by name and ends in the Catch branch, whose input shows the
// error and cause. Resume A, then reject R once the second await is
// parked: A reaches the first await, R fails the second.
func TestRejectIsCaughtByName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := "reject-" + randomSuffix()
	arn := e.start("testdata/reject", map[string]string{"token": token})
	e.waiting(token)
	if r := e.post(token, `{"p":"A"}`, nil); r.Status != http.StatusOK {
		t.Fatalf("resume A: %d %s", r.Status, r.Body)
	}
	// The second await parks first, so the rejection is sent to it by
	// resume-hook (SendTaskFailure: e2e/iam_test.go needs one such call in
	// every run); TestRejectQueuedBeforeAwaitDirect has the queued case.
	e.waitFor("the second await", func() bool {
		st, err := e.hooks.GetHook(context.Background(), token)
		return err == nil && st.Waiting && st.Delivered == 1
	})
	r := e.action(token, "reject", `{"error":"OrderRejected","cause":"out of stock"}`)
	var hook hooks.Hook
	if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &hook) != nil || hook.Token != token || hook.ExecutionARN != arn {
		t.Fatalf("reject: %d %s, want 200 and the hook", r.Status, r.Body)
	}
	var out rejectOutput
	e.succeeded(arn, &out)
	if string(out.First) != `{"p":"A"}` || out.Outcome != "rejected" || out.Rejection.Error != "OrderRejected" || out.Rejection.Cause != "out of stock" {
		t.Fatalf("output %+v (first %s): want A first, then the Catch branch with OrderRejected / out of stock", out, out.First)
	}
}

// A rejection that arrives before the first await is queued and fails it;
// the direct invocation {"action":"reject"} is the same call.
func TestRejectQueuedBeforeAwaitDirect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name := "resume-hook-reject-" + e.funcName
	stk := stacktest.Function(t, name, e.resume)
	token := "reject-queued-" + randomSuffix()
	arn := e.start("testdata/reject", map[string]string{"token": token})
	e.waiting(token)
	// First await gets A; the rejection is sent or queued for the second.
	if st, fnErr, body := invokeDirect(t, stk, name, `{"token":"`+token+`","payload":{"p":"A"}}`); st != 200 || fnErr != "" {
		t.Fatalf("direct resume: %d %q %s", st, fnErr, body)
	}
	ev, _ := json.Marshal(map[string]string{"action": "reject", "token": token, "error": "OrderRejected", "cause": "by the direct invocation"})
	if st, fnErr, body := invokeDirect(t, stk, name, string(ev)); st != 200 || fnErr != "" || !strings.Contains(body, token) {
		t.Fatalf("direct reject: %d %q %s, want the hook", st, fnErr, body)
	}
	var out rejectOutput
	e.succeeded(arn, &out)
	if out.Outcome != "rejected" || out.Rejection.Error != "OrderRejected" || out.Rejection.Cause != "by the direct invocation" {
		t.Fatalf("output %+v, want the Catch branch", out)
	}

	// Step Functions' limits: 400 and nothing stored.
	other := "reject-limits-" + randomSuffix()
	if _, err := e.hooks.Register(context.Background(), hooks.RegisterInput{Token: other, ExecutionARN: "arn:exec:limits"}); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot()
	for _, body := range []string{
		`{"error":"` + strings.Repeat("e", 257) + `","cause":""}`,
		`{"error":"E","cause":"` + strings.Repeat("c", 32769) + `"}`,
		`{"cause":"no error name"}`,
		`{"error":"E","extra":1}`,
		`not json`,
	} {
		r := e.action(other, "reject", body)
		if code, _ := errorBody(t, r); r.Status != http.StatusBadRequest || code != hooks.CodeInvalidPayload {
			t.Errorf("reject %.60s: %d %s, want 400 InvalidPayload", body, r.Status, r.Body)
		}
	}
	checkWrites(t, "refused rejections", other, before, e.snapshot(), false)
	if r := e.action("nobody-"+randomSuffix(), "reject", `{"error":"E"}`); r.Status != http.StatusNotFound {
		t.Errorf("reject of an unknown token: %d %s, want 404", r.Status, r.Body)
	}
}

// moto honours HeartbeatSeconds (its interpreter waits on the task's
// heartbeat endpoint, and SendTaskHeartbeat notifies it), so this runs on
// the emulator: heartbeats every 500 ms keep a 3 s HeartbeatSeconds await
// alive for 4.5 s; when they stop, the execution fails with
// States.HeartbeatTimeout (moto names it States.Timeout; the stack's
// scripts/moto_server.py corrects that). A heartbeat with nothing parked
// answers 404. (moto also refuses heartbeats to a task without
// HeartbeatSeconds, which AWS accepts: there Heartbeat answers 404 on moto
// only.)
func TestHeartbeatKeepsAwaitAlive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	token := "heartbeat-" + randomSuffix()
	if r := e.action(token, "heartbeat", ""); r.Status != http.StatusNotFound {
		t.Fatalf("heartbeat of an unknown hook: %d %s, want 404", r.Status, r.Body)
	}
	// keepAlive starts an execution awaiting token and heartbeats it every
	// 500 ms for 4.5 s. A refused heartbeat sent more than 2.5 s after the
	// previous one may be a task that a loaded machine let time out
	// (HeartbeatSeconds 3): that run is over (false) and another is tried
	// with a new token; three such runs fail the test.
	keepAlive := func(token string) (string, bool) {
		arn := e.start("testdata/heartbeat", map[string]string{"token": token})
		e.waiting(token)
		// moto starts the task's heartbeat clock (and accepts heartbeats)
		// once the task's Lambda invocation has returned, not when it parks.
		stacktest.WaitTaskSubmitted(t, e.sfn, arn, 10*time.Second)
		last := time.Now()
		for end := time.Now().Add(4500 * time.Millisecond); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
			if r := e.action(token, "heartbeat", ""); r.Status != http.StatusOK || r.Body != `{"waiting":true}` {
				if gap := time.Since(last); gap > 2500*time.Millisecond {
					t.Logf("heartbeat answered %d after %v since the last one, near HeartbeatSeconds 3: too loaded to tell; another run", r.Status, gap.Round(time.Millisecond))
					return arn, false
				}
				t.Fatalf("heartbeat: %d %s, want 200", r.Status, r.Body)
			}
			last = time.Now()
		}
		return arn, true
	}
	arn, ok := keepAlive(token)
	for attempt := 1; !ok; attempt++ {
		if attempt == 3 {
			t.Fatal("three runs too loaded to keep a 500 ms heartbeat within HeartbeatSeconds 3")
		}
		token = "heartbeat-" + randomSuffix()
		arn, ok = keepAlive(token)
	}
	d, err := e.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil || d.Status != "RUNNING" {
		t.Fatalf("after 4.5 s of heartbeats (HeartbeatSeconds 3): %v %v, want RUNNING", d.Status, err)
	}
	if err := e.hooks.Heartbeat(ctx, token); err != nil {
		t.Fatalf("Heartbeat through the Go API: %v", err)
	}
	out := e.finish(arn)
	if out.Status != "FAILED" || aws.ToString(out.Error) != "States.HeartbeatTimeout" {
		t.Fatalf("after the heartbeats stopped: %s %s, want FAILED States.HeartbeatTimeout", out.Status, aws.ToString(out.Error))
	}
	// The hook is still there (no dispose ran), but nothing is parked: the
	// task timed out. 404 HookNotWaiting.
	r := e.action(token, "heartbeat", "")
	if code, _ := errorBody(t, r); r.Status != http.StatusNotFound || code != hooks.CodeHookNotWaiting {
		t.Fatalf("heartbeat after the timeout: %d %s, want 404 HookNotWaiting", r.Status, r.Body)
	}
}

// Tokens as the seed allows them: `approval-${orderId}` for an order id
// with a space and unicode, resumed over HTTP through the local API
// Gateway (which decodes the path as an HTTP API does); an order id with
// '/' cannot be reached over HTTP (404 from API Gateway: %2F is decoded
// before routing) and is resumed by the direct invocation; a control
// character is a 400.
func TestTokensAsTheSeedAllows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name := "resume-hook-tokens-" + e.funcName
	stk := stacktest.Function(t, name, e.resume)
	api, err := apigwlocal.New([]apigwlocal.Route{
		{Key: "POST /hooks/{token}", Function: e.resume, FunctionName: "resume-hook"},
		{Key: "GET /hooks/{token}", Function: e.resume, FunctionName: "resume-hook"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	post := func(token, body string) (int, string) {
		res, err := http.Post(srv.URL+"/hooks/"+url.PathEscape(token), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	sfx := randomSuffix()
	spaced := "order 42 café-" + sfx
	slashed := "order/42-" + sfx
	a1 := e.start("approval", map[string]string{"orderId": spaced})
	a2 := e.start("approval", map[string]string{"orderId": slashed})
	e.waiting("approval-" + spaced)
	e.waiting("approval-" + slashed)

	if st, body := post("approval-"+spaced, `{"approved":true}`); st != http.StatusOK || !strings.Contains(body, `"token":"approval-`+spaced+`"`) {
		t.Fatalf("POST /hooks/%s: %d %s, want 200 and the hook", url.PathEscape("approval-"+spaced), st, body)
	}
	var out approvalOutput
	e.succeeded(a1, &out)
	if out.Outcome != "approved" {
		t.Fatalf("order %q: outcome %q", spaced, out.Outcome)
	}

	before := e.snapshot()
	if st, body := post("approval-"+slashed, `{"approved":true}`); st != http.StatusNotFound || body != `{"message":"Not Found"}` {
		t.Fatalf("POST with an encoded '/': %d %s, want API Gateway's 404", st, body)
	}
	checkWrites(t, "encoded slash", "approval-"+slashed, before, e.snapshot(), false)
	ev, _ := json.Marshal(map[string]any{"token": "approval-" + slashed, "payload": map[string]bool{"approved": true}})
	if st, fnErr, body := invokeDirect(t, stk, name, string(ev)); st != 200 || fnErr != "" {
		t.Fatalf("direct resume of %q: %d %q %s", slashed, st, fnErr, body)
	}
	e.succeeded(a2, &out)
	if out.Outcome != "approved" {
		t.Fatalf("order %q: outcome %q", slashed, out.Outcome)
	}

	if st, body := post("approval-x\x01y", `{"approved":true}`); st != http.StatusBadRequest || !strings.Contains(body, hooks.CodeInvalidToken) {
		t.Fatalf("token with a control character: %d %s, want 400 InvalidToken", st, body)
	}
}

// A hook created with a JSON Schema (the await's "schema"): a resume whose
// payload fails it gets 422 {"error":"SchemaValidation","message",
// "details":[…]} and nothing is stored; a valid one resumes the execution.
func TestSchemaOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := "schema-" + randomSuffix()
	arn := e.start("testdata/schema", map[string]string{"token": token})
	e.waiting(token)
	before := e.snapshot()
	r := e.post(token, `{"approved":"yes","extra":1}`, map[string]string{"Idempotency-Key": "k1"})
	var body struct {
		Error   string                  `json:"error"`
		Message string                  `json:"message"`
		Details []hooks.SchemaViolation `json:"details"`
	}
	if r.Status != http.StatusUnprocessableEntity || json.Unmarshal([]byte(r.Body), &body) != nil || body.Error != hooks.CodeSchemaValidation ||
		body.Message == "" || len(body.Details) != 2 {
		t.Fatalf("invalid payload: %d %s, want 422 SchemaValidation with two details", r.Status, r.Body)
	}
	checkWrites(t, "invalid payload", token, before, e.snapshot(), false)
	if r := e.post(token, `{"approved":true,"by":"alice"}`, nil); r.Status != http.StatusOK {
		t.Fatalf("valid payload: %d %s", r.Status, r.Body)
	}
	var out struct {
		Decision map[string]any `json:"decision"`
	}
	e.succeeded(arn, &out)
	if out.Decision["by"] != "alice" {
		t.Fatalf("output %+v", out)
	}
}
