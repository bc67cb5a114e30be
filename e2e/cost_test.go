package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The "Cost per operation" table of docs/protocol.md, measured on the
// emulator (issue 15, item 4). pkg/hooks' benchmarks count the same rows
// with a stand-in Step Functions; here every call is real: one client
// whose aws.Config carries awscalls.Middleware makes each measured
// operation, so DynamoDB and Step Functions calls are counted by the same
// middleware, and the task tokens are those of running executions. The
// executions' await state invokes a catcher function on the bridge that
// only hands the task token to the test, which then calls Await (or
// Dispose) itself with the counted client: an await's SendTaskSuccess is a
// real call that completes a real task, and each test checks that the
// execution then ended as the payload (or the failure) says.
//
// A number here that differs from the table is a finding: fix the code or
// the table, never this test's expectation alone.

// costMachine: one await of a task token, through the catcher; the
// execution's output is the delivered payload.
const costMachine = `{
  "StartAt": "Await",
  "States": {
    "Await": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {"FunctionName": "%s", "Payload": {"run.$": "$.run", "taskToken.$": "$$.Task.Token"}},
      "End": true
    }
  }
}`

type costEnv struct {
	*env
	t       *testing.T
	calls   *awscalls.Counter
	counted *hooks.Client // every measured operation goes through this client
	machine string
	mu      sync.Mutex
	tokens  map[string]chan string // run → the task token of its await
}

var costCtx = context.Background()

func newCostEnv(t *testing.T) *costEnv {
	t.Helper()
	e := newEnv(t)
	stk := stacktest.RequireStack(t)
	c := &costEnv{env: e, t: t, calls: &awscalls.Counter{}, tokens: map[string]chan string{}}
	cfg := devstack.AWSConfig(stk.BridgeURL().String())
	cfg.APIOptions = append(cfg.APIOptions, awscalls.Middleware(c.calls))
	var err error
	c.counted, err = hooks.New(cfg, func(o *hooks.Options) {
		o.TableName = e.table
		o.WebhookBaseURL = "https://hooks.example.test"
	})
	if err != nil {
		t.Fatal(err)
	}
	catcher := "cost-catcher-" + randomSuffix()
	stacktest.Function(t, catcher, devstack.NewHandler(func(_ context.Context, in struct {
		Run       string `json:"run"`
		TaskToken string `json:"taskToken"`
	}) (map[string]string, error) {
		c.tokenCh(in.Run) <- in.TaskToken
		return map[string]string{}, nil
	}))
	fnARN := "arn:aws:lambda:" + devstack.DefaultRegion + ":" + account + ":function:" + catcher
	c.machine = stacktest.CreateStateMachine(t, e.sfn, fmt.Sprintf(costMachine, fnARN))
	return c
}

func (c *costEnv) tokenCh(run string) chan string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.tokens[run]
	if !ok {
		ch = make(chan string, 4) // a retried invocation must not block the bridge
		c.tokens[run] = ch
	}
	return ch
}

// execution starts an execution and returns its ARN and the task token
// of its await, which waits for the token from then on.
func (c *costEnv) execution() (arn, taskToken string) {
	c.t.Helper()
	run := randomSuffix()
	arn = stacktest.StartExecution(c.t, c.sfn, c.machine, `{"run":"`+run+`"}`)
	select {
	case taskToken = <-c.tokenCh(run):
		return arn, taskToken
	case <-time.After(30 * time.Second):
		c.t.Fatalf("execution %s: its await was not invoked within 30 s", arn)
		return "", ""
	}
}

// measure runs op with the counter reset and requires exactly the calls
// in want ("Service.Operation" → count), printing the breakdown otherwise.
func (c *costEnv) measure(row string, want map[string]int, op func() error) {
	c.t.Helper()
	c.calls.Reset()
	if err := op(); err != nil {
		c.t.Fatalf("%s: %v (calls %s)", row, err, c.calls)
	}
	var parts []string
	total := 0
	for k, v := range want {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
		total += v
	}
	sort.Strings(parts)
	if got, w := c.calls.String(), strings.Join(parts, " "); got != w {
		c.t.Errorf("%s: %d AWS calls: %s; docs/protocol.md (Cost per operation): %d: %s", row, c.calls.Total(), got, total, w)
	} else {
		c.t.Logf("%s: %d: %s", row, total, got)
	}
}

// delivered requires the execution to succeed with payload as its output.
func (c *costEnv) delivered(arn, payload string) {
	c.t.Helper()
	out := c.finish(arn)
	if out.Status != "SUCCEEDED" || string(compact(c.t, aws.ToString(out.Output))) != payload {
		c.t.Errorf("execution %s: %s output %s (error %s), want SUCCEEDED with %s", arn, out.Status, aws.ToString(out.Output), aws.ToString(out.Error), payload)
	}
}

func (c *costEnv) register(token, arn string) {
	c.t.Helper()
	if _, err := c.hooks.Register(context.Background(), hooks.RegisterInput{Token: token, ExecutionARN: arn}); err != nil {
		c.t.Fatal(err)
	}
}

// store resumes token n times with nobody waiting, through the uncounted client.
func (c *costEnv) store(token string, n int) {
	c.t.Helper()
	for i := range n {
		if _, err := c.hooks.ResumeHook(context.Background(), token, map[string]int{"stored": i}); err != nil {
			c.t.Fatal(err)
		}
	}
}

func costAwait(token, arn, taskToken string) hooks.AwaitInput {
	return hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: arn}, TaskToken: taskToken}
}

const (
	opUpdate   = "DynamoDB.UpdateItem"
	opGet      = "DynamoDB.GetItem"
	opPut      = "DynamoDB.PutItem"
	opDelete   = "DynamoDB.DeleteItem"
	opTransact = "DynamoDB.TransactWriteItems"
	opBatch    = "DynamoDB.BatchWriteItem"
	opQuery    = "DynamoDB.Query"
	opSuccess  = "SFN.SendTaskSuccess"
	opFailure  = "SFN.SendTaskFailure"
	opBeat     = "SFN.SendTaskHeartbeat"
	opDescribe = "SFN.DescribeExecution"
	opBatchGet = "DynamoDB.BatchGetItem"
)

// The tests below assert each row of docs/protocol.md's "Cost per
// operation" table but the rare paths and the manual webhook (whose
// polling depends on the workflow's timing; e2e/webhook_test.go logs it).

func TestCostAwaitParksAndResumeParked(t *testing.T) {
	t.Parallel()
	c := newCostEnv(t)
	token := "cost-park-" + randomSuffix()
	arn, tt := c.execution()
	c.measure("await, nothing pending", map[string]int{opUpdate: 1}, func() error { return c.counted.Await(costCtx, costAwait(token, arn, tt)) })
	c.measure("resume, an await is parked", map[string]int{opUpdate: 1, opSuccess: 1}, func() error {
		_, err := c.counted.ResumeHook(costCtx, token, json.RawMessage(`{"n":1}`))
		return err
	})
	c.delivered(arn, `{"n":1}`)
}

// An await that supersedes a parked one (the other await's task is open):
// A1 refused, SendTaskHeartbeat of its own task (open), SendTaskFailure of
// the parked task, A1. The hook's execution is arn; the two task tokens
// are those of two running executions, which is all Step Functions sees.
func TestCostAwaitSupersedes(t *testing.T) {
	t.Parallel()
	c := newCostEnv(t)
	token := "cost-supersede-" + randomSuffix()
	arn1, tt1 := c.execution()
	arn2, tt2 := c.execution()
	if err := c.hooks.Await(costCtx, costAwait(token, arn1, tt1)); err != nil {
		t.Fatal(err)
	}
	c.measure("await, nothing pending, replaces a waiter not told", map[string]int{opUpdate: 2, opBeat: 1, opFailure: 1}, func() error {
		return c.counted.Await(costCtx, costAwait(token, arn1, tt2))
	})
	if _, err := c.hooks.ResumeHook(costCtx, token, json.RawMessage(`{"n":9}`)); err != nil {
		t.Fatal(err)
	}
	if out := c.finish(arn1); out.Status != "FAILED" || aws.ToString(out.Error) != hooks.ErrorNameSuperseded {
		t.Errorf("execution whose await was superseded: %s %s, want FAILED %s", out.Status, aws.ToString(out.Error), hooks.ErrorNameSuperseded)
	}
	c.delivered(arn2, `{"n":9}`)
}

// The execution-end event (DisposeExecution): no hook → the index query
// alone; hooks of a running execution → read, DescribeExecution, nothing
// deleted; of an ended one → read, DescribeExecution, each hook's dispose.
func TestCostDisposeExecution(t *testing.T) {
	t.Parallel()
	c := newCostEnv(t)
	arn, _ := c.execution()
	c.measure("execution-end event, no hook", map[string]int{opQuery: 1}, func() error {
		_, err := c.counted.DisposeExecution(costCtx, arn)
		return err
	})
	token := "cost-ended-" + randomSuffix()
	c.register(token, arn)
	c.measure("execution-end event, the execution runs", map[string]int{opQuery: 1, opBatchGet: 1, opDescribe: 1}, func() error {
		n, err := c.counted.DisposeExecution(costCtx, arn)
		if err == nil && n != 0 {
			err = fmt.Errorf("%d disposed, want 0", n)
		}
		return err
	})
	if _, err := c.sfn.StopExecution(costCtx, &sfn.StopExecutionInput{ExecutionArn: &arn}); err != nil {
		t.Fatal(err)
	}
	c.measure("execution-end event, one hook", map[string]int{opQuery: 1, opBatchGet: 1, opDescribe: 1, opDelete: 1}, func() error {
		n, err := c.counted.DisposeExecution(costCtx, arn)
		if err == nil && n != 1 {
			err = fmt.Errorf("%d disposed, want 1", n)
		}
		return err
	})
	if items := c.items(token); len(items) != 0 {
		t.Errorf("after the end event: %d items, want none", len(items))
	}
}

func TestCostResumeStoredAwaitPendingGet(t *testing.T) {
	t.Parallel()
	c := newCostEnv(t)
	token := "cost-stored-" + randomSuffix()
	arn, tt := c.execution()
	c.register(token, arn)
	c.measure("resume, nothing parked (stored)", map[string]int{opUpdate: 1, opTransact: 1}, func() error {
		_, err := c.counted.ResumeHook(costCtx, token, json.RawMessage(`{"n":2}`))
		return err
	})
	c.measure("get", map[string]int{opGet: 1}, func() error {
		st, err := c.counted.GetHook(costCtx, token)
		if err == nil && st.Pending != 1 {
			err = fmt.Errorf("GetHook: %d pending, want 1", st.Pending)
		}
		return err
	})
	c.measure("await, payload pending", map[string]int{opUpdate: 2, opBeat: 1, opQuery: 1, opSuccess: 1, opTransact: 1}, func() error {
		return c.counted.Await(costCtx, costAwait(token, arn, tt))
	})
	c.delivered(arn, `{"n":2}`)
}

func TestCostResumeIdempotent(t *testing.T) {
	t.Parallel()
	c := newCostEnv(t)
	token := "cost-idem-" + randomSuffix()
	arn, tt := c.execution()
	if err := c.hooks.Await(costCtx, costAwait(token, arn, tt)); err != nil {
		t.Fatal(err)
	}
	c.measure("resume with idempotency key, a waiter", map[string]int{opGet: 1, opTransact: 1, opSuccess: 1}, func() error {
		_, err := c.counted.ResumeHook(costCtx, token, json.RawMessage(`{"n":3}`), hooks.WithIdempotencyKey("k-"+token))
		return err
	})
	c.delivered(arn, `{"n":3}`)

	token = "cost-idem-stored-" + randomSuffix()
	arn, _ = c.execution()
	c.register(token, arn)
	c.measure("resume with idempotency key, no waiter", map[string]int{opGet: 1, opTransact: 1}, func() error {
		_, err := c.counted.ResumeHook(costCtx, token, json.RawMessage(`{"n":4}`), hooks.WithIdempotencyKey("k-"+token))
		return err
	})
}

func TestCostDispose(t *testing.T) {
	t.Parallel()
	c := newCostEnv(t)
	for _, pending := range []int{0, 25, 26} {
		token := fmt.Sprintf("cost-dispose-%d-%s", pending, randomSuffix())
		arn := "arn:aws:states:" + devstack.DefaultRegion + ":" + account + ":execution:cost:" + token
		c.register(token, arn)
		c.store(token, pending)
		want := map[string]int{opDelete: 1}
		if b := (pending + 24) / 25; b > 0 {
			want[opBatch] = b
			want[opQuery] = 1 // the stored payloads' keys (one page up to 1 MB)
		}
		c.measure(fmt.Sprintf("dispose, %d pending", pending), want, func() error { return c.counted.Dispose(costCtx, token, arn) })
		if items := c.items(token); len(items) != 0 {
			t.Errorf("dispose with %d pending left %d items", pending, len(items))
		}
	}

	token := "cost-dispose-parked-" + randomSuffix()
	arn, tt := c.execution()
	if err := c.hooks.Await(costCtx, costAwait(token, arn, tt)); err != nil {
		t.Fatal(err)
	}
	c.measure("dispose, an await parked", map[string]int{opDelete: 2, opFailure: 1}, func() error { return c.counted.Dispose(costCtx, token, arn) })
	if out := c.finish(arn); out.Status != "FAILED" || aws.ToString(out.Error) != hooks.ErrorNameDisposed {
		t.Errorf("execution whose await was disposed: %s %s, want FAILED %s", out.Status, aws.ToString(out.Error), hooks.ErrorNameDisposed)
	}
}

func TestCostWebhookStaticRespond(t *testing.T) {
	t.Parallel()
	c := newCostEnv(t)
	request := func(body string) *http.Request {
		return httptest.NewRequest(http.MethodPost, "https://hooks.example.test/webhooks/x", strings.NewReader(body))
	}
	arn, tt := c.execution()
	wh, err := c.hooks.CreateWebhook(costCtx, hooks.CreateWebhookInput{ExecutionARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.hooks.Await(costCtx, costAwait(wh.Token, arn, tt)); err != nil {
		t.Fatal(err)
	}
	c.measure("webhook request, static, an await parked", map[string]int{opUpdate: 1, opSuccess: 1}, func() error {
		resp, err := c.counted.ResumeWebhook(costCtx, wh.Token, request("parked"))
		if err == nil && resp.Status != http.StatusAccepted {
			err = fmt.Errorf("status %d, want 202", resp.Status)
		}
		return err
	})
	var got struct {
		Body string `json:"body"`
	}
	if out := c.finish(arn); out.Status != "SUCCEEDED" || json.Unmarshal([]byte(aws.ToString(out.Output)), &got) != nil || got.Body != "parked" {
		t.Errorf("webhook execution: %s output %s, want SUCCEEDED with the request", out.Status, aws.ToString(out.Output))
	}

	arn, _ = c.execution()
	wh, err = c.hooks.CreateWebhook(costCtx, hooks.CreateWebhookInput{ExecutionARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	c.measure("webhook request, static, stored", map[string]int{opUpdate: 1, opTransact: 1}, func() error {
		_, err := c.counted.ResumeWebhook(costCtx, wh.Token, request("stored"))
		return err
	})
	c.measure("respond", map[string]int{opTransact: 1}, func() error {
		return c.counted.Respond(costCtx, wh.Token, arn, "req-"+randomSuffix(), hooks.Response{Status: http.StatusOK, Body: []byte("ok")})
	})
}

// A verified webhook (docs/protocol.md, "Verified webhooks"): a signed
// request with a delivery id to a parked await costs the failed R1 that
// reads the configuration, the keyed write and SendTaskSuccess, plus
// GetSecretValue while the container's cache is cold.
func TestCostWebhookVerified(t *testing.T) {
	t.Parallel()
	c := newCostEnv(t)
	c.newPaymentSecret()
	arn, tt := c.execution()
	wh, err := c.hooks.CreateWebhook(costCtx, hooks.CreateWebhookInput{ExecutionARN: arn,
		Verify: &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: c.paymentSecretARN}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.hooks.Await(costCtx, costAwait(wh.Token, arn, tt)); err != nil {
		t.Fatal(err)
	}
	body := `{"signed":true}`
	signed := func(id string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "https://hooks.example.test/webhooks/x", strings.NewReader(body))
		for k, v := range c.signPayment(webhookCall{Body: []byte(body), DeliveryID: id}) {
			r.Header.Set(k, v)
		}
		return r
	}
	c.measure("webhook request, verified, cold secret cache", map[string]int{opUpdate: 1, opTransact: 1, opSuccess: 1, "Secrets Manager.GetSecretValue": 1}, func() error {
		resp, err := c.counted.ResumeWebhook(costCtx, wh.Token, signed("msg_1"))
		if err == nil && resp.Status != http.StatusAccepted {
			err = fmt.Errorf("status %d, want 202", resp.Status)
		}
		return err
	})
	var got struct {
		Body string `json:"body"`
	}
	if out := c.finish(arn); out.Status != "SUCCEEDED" || json.Unmarshal([]byte(aws.ToString(out.Output)), &got) != nil || got.Body != body {
		t.Errorf("webhook execution: %s output %s, want SUCCEEDED with the request", out.Status, aws.ToString(out.Output))
	}
	arn, _ = c.execution()
	wh, err = c.hooks.CreateWebhook(costCtx, hooks.CreateWebhookInput{ExecutionARN: arn,
		Verify: &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: c.paymentSecretARN}})
	if err != nil {
		t.Fatal(err)
	}
	c.measure("webhook request, verified, stored, warm cache", map[string]int{opUpdate: 1, opTransact: 1}, func() error {
		_, err := c.counted.ResumeWebhook(costCtx, wh.Token, signed("msg_2"))
		return err
	})
}

// The rows of the limits (issue 11): a resume refused by the pending cap
// (R1 only: its answer shows the hook full), a static webhook with a header
// filter (the gated R1 reads the filter, then as a resume), and a manual
// webhook's caller refused by the held-caller cap (the gated R1, then H1).
func TestCostLimits(t *testing.T) {
	t.Parallel()
	c := newCostEnv(t)
	arn, _ := c.execution()
	token := "cost-cap-" + randomSuffix()
	if _, err := c.hooks.Register(costCtx, hooks.RegisterInput{Token: token, ExecutionARN: arn, MaxPending: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.hooks.ResumeHook(costCtx, token, 1); err != nil {
		t.Fatal(err)
	}
	c.measure("resume refused by the pending cap", map[string]int{opUpdate: 1}, func() error {
		if _, err := c.counted.ResumeHook(costCtx, token, 2); !errors.Is(err, hooks.ErrTooManyPending) {
			return fmt.Errorf("%v, want ErrTooManyPending", err)
		}
		return nil
	})

	request := func(body string) *http.Request {
		return httptest.NewRequest(http.MethodPost, "https://hooks.example.test/webhooks/x", strings.NewReader(body))
	}
	filtered, err := c.hooks.CreateWebhook(costCtx, hooks.CreateWebhookInput{ExecutionARN: arn, Headers: &hooks.HeaderFilter{Drop: []string{"x-secret"}}})
	if err != nil {
		t.Fatal(err)
	}
	c.measure("webhook request, static with a header filter", map[string]int{opUpdate: 2, opTransact: 1}, func() error {
		_, err := c.counted.ResumeWebhook(costCtx, filtered.Token, request("stored"))
		return err
	})

	manual, err := c.hooks.CreateWebhook(costCtx, hooks.CreateWebhookInput{ExecutionARN: arn, MaxHeldCallers: 1,
		RespondWith: &hooks.RespondWith{Manual: true, Deadline: 20 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(costCtx, 3*time.Second)
		defer cancel()
		_, err := c.hooks.ResumeWebhook(ctx, manual.Token, request("held"))
		held <- err
	}()
	c.waitFor("one caller held", func() bool {
		st, err := c.hooks.GetHook(costCtx, manual.Token)
		return err == nil && st.Pending == 1
	})
	c.measure("webhook request refused by the held-caller cap", map[string]int{opUpdate: 2}, func() error {
		if _, err := c.counted.ResumeWebhook(costCtx, manual.Token, request("refused")); !errors.Is(err, hooks.ErrTooManyWaiting) {
			return fmt.Errorf("%v, want ErrTooManyWaiting", err)
		}
		return nil
	})
	<-held
}

func TestCostList(t *testing.T) {
	t.Parallel()
	c := newCostEnv(t)
	arn := "arn:aws:states:us-east-1:123456789012:execution:cost:list-" + randomSuffix()
	for i := range 3 {
		c.register(fmt.Sprintf("cost-list-%d-%s", i, randomSuffix()), arn)
	}
	c.measure("list (per page)", map[string]int{opQuery: 1, "DynamoDB.BatchGetItem": 1}, func() error {
		out, err := c.counted.ListHooks(costCtx, hooks.ListHooksInput{ExecutionARN: arn})
		if err == nil && len(out.Hooks) != 3 {
			err = fmt.Errorf("listed %d hooks, want 3", len(out.Hooks))
		}
		return err
	})
	c.measure("list, an empty page", map[string]int{opQuery: 1}, func() error {
		out, err := c.counted.ListHooks(costCtx, hooks.ListHooksInput{ExecutionARN: arn + "-none"})
		if err == nil && len(out.Hooks) != 0 {
			err = fmt.Errorf("listed %d hooks, want 0", len(out.Hooks))
		}
		return err
	})
}
