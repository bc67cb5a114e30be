package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// exampleTimeout is the examples' await timeout in these tests
// (${AwaitTimeoutSeconds}; a day in template.yaml).
const exampleTimeout = 3

// startTimeout starts an execution of example name whose awaits time out
// after exampleTimeout seconds.
func (e *env) startTimeout(name string, input any) string {
	e.t.Helper()
	in, _ := json.Marshal(input)
	out, err := e.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(e.machineTimeout(name, exampleTimeout)),
		Name:            aws.String(name + "-timeout-" + randomSuffix()),
		Input:           aws.String(string(in)),
	})
	if err != nil {
		e.t.Fatalf("start %s: %v", name, err)
	}
	return *out.ExecutionArn
}

// The approval example's await times out when nobody decides: while it
// waits, GET /hooks/{token} says waiting with waitingUntil (its state's
// entered time + the timeout); then Step Functions times the task out, the
// example's Catch on States.Timeout disposes the hook, and the execution
// succeeds with outcome "timed out". A resume after that is 404.
func TestApprovalExampleTimesOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	order := "timeout-" + randomSuffix()
	token := "approval-" + order
	started := time.Now()
	arn := e.startTimeout("approval", map[string]string{"orderId": order})
	e.waiting(token)

	r := e.request("GET", token, "", nil)
	var st hooks.HookStatus
	if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &st) != nil {
		t.Fatalf("GET while waiting: %d %s", r.Status, r.Body)
	}
	if !st.Waiting || st.WaitingUntil == nil {
		t.Fatalf("GET while waiting: %s, want waiting with waitingUntil", r.Body)
	}
	if d := st.WaitingUntil.Sub(started); d < (exampleTimeout-1)*time.Second || d > (exampleTimeout+5)*time.Second {
		t.Errorf("waitingUntil %v is %v after the start, want about %d s", st.WaitingUntil, d, exampleTimeout)
	}

	var out approvalOutput
	e.succeeded(arn, &out)
	if out.Outcome != "timed out" || len(out.Decision) != 0 {
		t.Errorf("output %+v, want outcome \"timed out\" and no decision", out)
	}
	if _, err := e.hooks.GetHook(context.Background(), token); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Errorf("the hook after the timeout: %v, want it disposed (ErrHookNotFound)", err)
	}
	if r := e.post(token, `{"approved": true}`, nil); r.Status != http.StatusNotFound {
		t.Errorf("resume after the timeout: %d %s, want 404", r.Status, r.Body)
	}
}

// The payment example's await times out when the provider never calls: the
// Catch disposes the webhook (its URL answers 404) and the execution
// succeeds with the checkout and outcome "timed out".
func TestPaymentExampleTimesOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	checkout := "co-timeout-" + randomSuffix()
	arn := e.startTimeout("payment", map[string]string{"checkoutId": checkout})
	token := e.webhookToken(arn)
	var out struct {
		CheckoutID string `json:"checkoutId"`
		Outcome    string `json:"outcome"`
	}
	e.succeeded(arn, &out)
	if out.CheckoutID != checkout || out.Outcome != "timed out" {
		t.Errorf("output %+v, want checkout %q and outcome \"timed out\"", out, checkout)
	}
	if _, err := e.hooks.GetHook(context.Background(), token); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Errorf("the webhook after the timeout: %v, want it disposed (ErrHookNotFound)", err)
	}
}

// An await action with a bad timeoutSeconds or enteredTime is refused with
// InvalidRequestError, a message that names the field, and nothing
// written; without them, or with good ones, it parks.
func TestAwaitTimeoutInputs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	exec := "arn:aws:states:us-east-1:" + account + ":execution:sm:timeout-inputs-" + randomSuffix()
	before := e.itemCount()
	for _, c := range []struct {
		name  string
		extra map[string]any
		field string
	}{
		{"negative timeout", map[string]any{"timeoutSeconds": -5}, "timeoutSeconds"},
		{"zero timeout", map[string]any{"timeoutSeconds": 0}, "timeoutSeconds"},
		{"over a year", map[string]any{"timeoutSeconds": 31536001}, "timeoutSeconds"},
		{"not RFC 3339", map[string]any{"timeoutSeconds": 60, "enteredTime": "06/12/2026 10:00"}, "enteredTime"},
		{"entered time alone", map[string]any{"enteredTime": "2026-12-06T10:00:00.123Z"}, "enteredTime"},
		{"a string timeout", map[string]any{"timeoutSeconds": "60"}, "timeoutSeconds"},
	} {
		req := map[string]any{"action": "await", "token": "bad-timeout-" + randomSuffix(), "executionArn": exec, "taskToken": "tt-" + randomSuffix()}
		for k, v := range c.extra {
			req[k] = v
		}
		_, err := e.hookTask(req)
		var ie messages.InvokeResponse_Error
		if !errors.As(err, &ie) || ie.Type != "InvalidRequestError" || !strings.Contains(ie.Message, c.field) {
			t.Errorf("%s: %v, want InvalidRequestError naming %s", c.name, err, c.field)
		}
	}
	if after := e.itemCount(); after != before {
		t.Errorf("%d items after the refused awaits, want %d: something was written", after, before)
	}
}
