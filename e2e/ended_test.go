package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/adapter/hooktask"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Hooks of ended executions (issue 9, item 5), on the emulator: as on AWS
// (scripts/moto_server.py makes moto do so), a stopped execution is ABORTED
// at once, its history ends with ExecutionAborted and its task tokens answer
// TaskTimedOut. No EventBridge rule runs in the tests, so the hook outlives
// its execution as it does on AWS when the end-of-execution dispose is late
// or lost.

// stop stops the execution arn awaiting token, and checks it is ABORTED at
// once.
func (e *env) stop(arn, token string) {
	e.t.Helper()
	st, err := e.hooks.GetHook(context.Background(), token)
	if err != nil || !st.Waiting {
		e.t.Fatalf("stop: no await parked on %s: %+v %v", token, st, err)
	}
	if _, err := e.sfn.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: &arn}); err != nil {
		e.t.Fatal(err)
	}
	out, err := e.sfn.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil || out.Status != "ABORTED" {
		e.t.Fatalf("stopped execution: %v %v, want ABORTED at once", out, err)
	}
}

// A resume of a hook whose execution was stopped answers 404, as the seed
// does for a finished run, acknowledges nothing and disposes the hook.
func TestResumeAfterStopIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, keyed := range []bool{false, true} {
		order := "stop-" + randomSuffix()
		token := "approval-" + order
		arn := e.start("approval", map[string]string{"orderId": order})
		e.waiting(token)
		e.stop(arn, token)
		header := map[string]string{}
		if keyed {
			header["Idempotency-Key"] = "k-" + order
		}
		for attempt := range 2 { // the retry with the key must not replay "applied"
			r := e.post(token, `{"approved": true}`, header)
			if r.Status != http.StatusNotFound {
				t.Fatalf("keyed %v, attempt %d: resume of a stopped execution's hook: status %d body %s, want 404", keyed, attempt, r.Status, r.Body)
			}
			if code, _ := errorBody(t, r); code != hooks.CodeHookNotFound {
				t.Errorf("error %q, want %q", code, hooks.CodeHookNotFound)
			}
		}
		if items := e.items(token); len(items) != 0 {
			t.Errorf("keyed %v: %d items left for the token, want the hook disposed: %v", keyed, len(items), items)
		}
	}
}

// A hook left behind by an ended execution does not hold its token: the
// next execution that awaits it takes it over instead of failing with
// HookConflictError, and a create does the same.
func TestEndedHolderLosesToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	order := "held-" + randomSuffix()
	token := "approval-" + order
	first := e.start("approval", map[string]string{"orderId": order})
	e.waiting(token)
	e.stop(first, token)
	if st, err := e.hooks.GetHook(context.Background(), token); err != nil || st.ExecutionARN != first {
		t.Fatalf("the stopped execution's hook: %+v %v, want it still held by %s", st, err, first)
	}

	second := e.start("approval", map[string]string{"orderId": order})
	e.waitFor("the second execution's await", func() bool {
		st, err := e.hooks.GetHook(context.Background(), token)
		return err == nil && st.ExecutionARN == second && st.Waiting
	})
	r := e.post(token, `{"approved": true}`, nil)
	var hook hooks.Hook
	if err := json.Unmarshal([]byte(r.Body), &hook); err != nil || r.Status != http.StatusOK || hook.ExecutionARN != second {
		t.Fatalf("resume: status %d body %s, want 200 naming the second execution", r.Status, r.Body)
	}
	var out approvalOutput
	e.succeeded(second, &out)
	if out.Outcome != "approved" {
		t.Errorf("second execution: outcome %q, want approved", out.Outcome)
	}

	// Create (Register) takes over from an ended holder too; a running
	// holder still wins.
	third := e.start("approval", map[string]string{"orderId": "other-" + order})
	token3 := "approval-other-" + order
	e.waiting(token3)
	var conflict *hooks.ConflictError
	if _, err := e.hooks.Register(context.Background(), hooks.RegisterInput{Token: token3, ExecutionARN: first}); !errors.As(err, &conflict) || conflict.ExecutionARN != third {
		t.Fatalf("register over a running holder: %v, want *ConflictError naming %s", err, third)
	}
	e.stop(third, token3)
	h, err := e.hooks.Register(context.Background(), hooks.RegisterInput{Token: token3, ExecutionARN: second})
	if err != nil || h.ExecutionARN != second {
		t.Fatalf("register over an ended holder: %+v %v, want the token taken over", h, err)
	}
}

// endedPoller is what make dev runs for template.yaml's ExecutionEndedRule:
// a devstack.EndedPoller that watches e's state machines names and invokes
// the real hook-task handler with the execution-ended event. Tests call its
// Poll themselves, so that what it has seen is not left to timing.
func (e *env) endedPoller(names ...string) *devstack.EndedPoller {
	e.t.Helper()
	log := slog.New(slog.NewJSONHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p := &devstack.EndedPoller{SFN: e.sfn, Target: devstack.NewHandler(hooktask.New(e.hooks, log).Handle), Log: log}
	for _, n := range names {
		p.Watch(e.machine(n))
	}
	return p
}

// The hooks of an execution that ends are disposed by the end-of-execution
// event (on AWS the EventBridge rule, locally devstack.EndedPoller, which
// make dev runs), before anyone resumes them: the stopped execution's hook
// is gone from the table, and a resume answers 404 through the real
// resume-hook handler and stores nothing.
func TestEndedExecutionHooksDisposed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p := e.endedPoller("approval")
	order := "ended-" + randomSuffix()
	token := "approval-" + order
	arn := e.start("approval", map[string]string{"orderId": order})
	e.waiting(token)
	other := "left-" + order // a second hook of the execution, never awaited
	if _, err := e.hooks.Register(ctx, hooks.RegisterInput{Token: other, ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	p.Poll(ctx) // sees the execution running
	if n := len(e.items(token)); n != 1 {
		t.Fatalf("a running execution's hook: %d items, want it kept", n)
	}
	e.stop(arn, token)
	p.Poll(ctx) // sees it ended: the event disposes its hooks
	for _, tok := range []string{token, other} {
		if items := e.items(tok); len(items) != 0 {
			t.Errorf("%s: %d items after the execution-ended event, want none: %v", tok, len(items), items)
		}
	}
	r := e.post(token, `{"approved": true}`, nil)
	if code, _ := errorBody(t, r); r.Status != http.StatusNotFound || code != hooks.CodeHookNotFound {
		t.Errorf("resume after the end: %d %s, want 404 %s", r.Status, r.Body, hooks.CodeHookNotFound)
	}
	if n := e.itemCount(); n != 0 {
		t.Errorf("table holds %d items after the 404, want 0", n)
	}
}

// The event EndedPoller sends is the one Step Functions sends to
// EventBridge, and matches template.yaml's ExecutionEndedRule pattern.
func TestExecutionEndedEventShape(t *testing.T) {
	start, stop := time.UnixMilli(1700000000000), time.UnixMilli(1700000005000)
	ev := devstack.ExecutionEndedEvent(&sfn.DescribeExecutionOutput{
		ExecutionArn:    aws.String("arn:aws:states:us-east-1:123456789012:execution:m:e1"),
		StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:m"),
		Name:            aws.String("e1"), Status: "ABORTED", StartDate: &start, StopDate: &stop,
		Input: aws.String(`{"orderId":"42"}`),
	}, "us-east-1", "123456789012")
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Version    string   `json:"version"`
		DetailType string   `json:"detail-type"`
		Source     string   `json:"source"`
		Account    string   `json:"account"`
		Region     string   `json:"region"`
		Time       string   `json:"time"`
		Resources  []string `json:"resources"`
		Detail     map[string]any
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "0" || got.DetailType != "Step Functions Execution Status Change" || got.Source != "aws.states" ||
		got.Account != "123456789012" || got.Region != "us-east-1" || got.Time != "2023-11-14T22:13:25Z" ||
		len(got.Resources) != 1 || got.Resources[0] != "arn:aws:states:us-east-1:123456789012:execution:m:e1" {
		t.Errorf("event envelope: %s", raw)
	}
	for k, want := range map[string]any{
		"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:e1", "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
		"name": "e1", "status": "ABORTED", "startDate": 1700000000000.0, "stopDate": 1700000005000.0, "input": `{"orderId":"42"}`,
		"output": nil, "error": nil, "cause": nil,
	} {
		if v, ok := got.Detail[k]; !ok || v != want {
			t.Errorf("detail.%s = %v (present %v), want %v", k, v, ok, want)
		}
	}
}

// An execution-end event that arrives while the execution runs (a late
// event after a redrive: moto cannot redrive, so the event of a stop that
// did not happen stands for it; to hook-task both are an end event for a
// RUNNING execution) disposes nothing: hook-task asks Step Functions first,
// and the await still gets the payload.
func TestLateEndedEventForRunningExecution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	order := "late-" + randomSuffix()
	token := "approval-" + order
	arn := e.start("approval", map[string]string{"orderId": order})
	e.waiting(token)
	desc, err := e.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	desc.Status, desc.StopDate = "ABORTED", aws.Time(time.Now())
	raw, err := json.Marshal(devstack.ExecutionEndedEvent(desc, "us-east-1", "123456789012"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	out, err := devstack.NewHandler(hooktask.New(e.hooks, log).Handle).Invoke(ctx, raw)
	if err != nil {
		t.Fatalf("hook-task on the end event: %v", err)
	}
	var res hooktask.Result
	if err := json.Unmarshal(out, &res); err != nil || res.Disposed != 0 {
		t.Errorf("hook-task on an end event of a running execution: %s (%v), want 0 disposed", out, err)
	}
	if n := len(e.items(token)); n != 1 {
		t.Fatalf("the running execution's hook: %d items after the late end event, want it kept", n)
	}
	if r := e.post(token, `{"approved": true}`, nil); r.Status != http.StatusOK {
		t.Fatalf("resume after the late end event: %d %s, want 200", r.Status, r.Body)
	}
	if d := e.finish(arn); d.Status != "SUCCEEDED" {
		t.Errorf("execution: %s %s, want SUCCEEDED", d.Status, aws.ToString(d.Error))
	}
}
