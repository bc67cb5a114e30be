package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/adapter/hooktask"
	"github.com/sfnhooks/sfnhooks/internal/adapter/resumehook"
	"github.com/sfnhooks/sfnhooks/internal/emf"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// limitsASL creates a hook or webhook with the limits and header filter
// of its input ($.action create or createWebhook), pauses $.pauseSeconds
// (resumes meanwhile are stored), awaits one payload and ends with it as
// $.request.
const limitsASL = `{
  "StartAt": "Create",
  "States": {
    "Create": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {
        "FunctionName": "${HookTaskFunctionArn}",
        "Payload": {
          "action.$": "$.action",
          "token.$": "$.token",
          "executionArn.$": "$$.Execution.Id",
          "respondWith.$": "$.respondWith",
          "maxPending.$": "$.maxPending",
          "maxHeldCallers.$": "$.maxHeldCallers",
          "headers.$": "$.headers"
        }
      },
      "ResultSelector": {"token.$": "$.Payload.token"},
      "ResultPath": "$.hook",
      "Next": "Pause"
    },
    "Pause": {"Type": "Wait", "SecondsPath": "$.pauseSeconds", "Next": "Await"},
    "Await": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {
        "FunctionName": "${HookTaskFunctionArn}",
        "Payload": {
          "action": "await",
          "token.$": "$.hook.token",
          "executionArn.$": "$$.Execution.Id",
          "taskToken.$": "$$.Task.Token"
        }
      },
      "ResultPath": "$.request",
      "End": true
    }
  }
}`

// limitsInput is the input of limitsASL.
type limitsInput struct {
	Action         string              `json:"action"`
	Token          string              `json:"token"`
	RespondWith    any                 `json:"respondWith"`
	MaxPending     int                 `json:"maxPending"`
	MaxHeldCallers int                 `json:"maxHeldCallers"`
	Headers        *hooks.HeaderFilter `json:"headers"`
	PauseSeconds   int                 `json:"pauseSeconds"`
}

// startLimits starts limitsASL with in.
func (e *env) startLimits(in limitsInput) string {
	e.t.Helper()
	arn, ok := e.machines["limits"]
	if !ok {
		fnARN := "arn:aws:lambda:" + devstack.DefaultRegion + ":" + account + ":function:" + e.funcName
		out, err := e.sfn.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
			Name:       aws.String("limits-" + e.funcName),
			Definition: aws.String(strings.ReplaceAll(limitsASL, "${HookTaskFunctionArn}", fnARN)),
			RoleArn:    aws.String("arn:aws:iam::" + account + ":role/sfnhooks-example"),
		})
		if err != nil {
			e.t.Fatal(err)
		}
		arn = *out.StateMachineArn
		e.machines["limits"] = arn
	}
	raw, _ := json.Marshal(in)
	out, err := e.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(arn), Name: aws.String("limits-" + randomSuffix()), Input: aws.String(string(raw)),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return *out.ExecutionArn
}

// hookItem reads the hook item of token (nil: none).
func (e *env) hookItem(token string) map[string]dbtypes.AttributeValue {
	e.t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      &e.table,
		Key:            map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: "HOOK#" + token}, "sk": &dbtypes.AttributeValueMemberS{Value: "HOOK"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Item
}

func num(item map[string]dbtypes.AttributeValue, attr string) int64 {
	v, _ := item[attr].(*dbtypes.AttributeValueMemberN)
	if v == nil {
		return -1
	}
	i, _ := strconv.ParseInt(v.Value, 10, 64)
	return i
}

// stored counts the payloads token stores.
func (e *env) stored(token string) int {
	n := 0
	for _, it := range e.items(token) {
		if sk, _ := it["sk"].(*dbtypes.AttributeValueMemberS); sk != nil && strings.HasPrefix(sk.Value, "MSG#") {
			n++
		}
	}
	return n
}

// metricsRoute is the real resume-hook handler with a client whose metrics
// go, in embedded metric format, to buf.
func (e *env) metricsRoute(buf *syncBuffer) lambda.Handler {
	e.t.Helper()
	stk := stacktest.RequireStack(e.t)
	client, err := hooks.New(devstack.AWSConfig(stk.MotoURL.String()), func(o *hooks.Options) {
		o.TableName = e.table
		o.Metrics = emf.New(buf, "resume-hook").Metric
	})
	if err != nil {
		e.t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return devstack.NewHandler(resumehook.New(client, log).Handle)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (e *env) sendTo(h lambda.Handler, method, token, body string) httpResponse {
	e.t.Helper()
	saved := e.resume
	e.resume = h
	defer func() { e.resume = saved }()
	return e.send(e.event(method, token, body))
}

// pendingCapASL creates a hook with $.maxPending, then parks on a second
// hook, the gate ($.gate), until the test resumes it, and then awaits one
// payload of the first and ends with it as $.request. The gate holds the
// execution for exactly as long as the test needs (a Wait state of a few
// seconds raced the test on a loaded machine).
const pendingCapASL = `{
  "StartAt": "Create",
  "States": {
    "Create": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {
        "FunctionName": "${HookTaskFunctionArn}",
        "Payload": {"action": "create", "token.$": "$.token", "executionArn.$": "$$.Execution.Id", "maxPending.$": "$.maxPending"}
      },
      "ResultPath": null,
      "Next": "Gate"
    },
    "Gate": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {
        "FunctionName": "${HookTaskFunctionArn}",
        "Payload": {"action": "await", "token.$": "$.gate", "executionArn.$": "$$.Execution.Id", "taskToken.$": "$$.Task.Token"}
      },
      "ResultPath": null,
      "Next": "Await"
    },
    "Await": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {
        "FunctionName": "${HookTaskFunctionArn}",
        "Payload": {"action": "await", "token.$": "$.token", "executionArn.$": "$$.Execution.Id", "taskToken.$": "$$.Task.Token"}
      },
      "ResultPath": "$.request",
      "End": true
    }
  }
}`

// The pending cap (issue 11, item 1): a hook created with maxPending 3
// stores three resumes; the fourth is answered 429 TooManyPending with
// Retry-After, and nothing is stored or counted. The await takes one
// payload, which frees a slot: the next resume is accepted. Through the
// real resume-hook handler, whose metrics (EMF lines) count what it did.
//
// The execution is held on a gate hook while the hook fills (its await is
// parked: observed with GetHook), and goes on to its await only when the
// test resumes the gate, so no await can take a payload before the cap is
// checked, however slow the machine.
func TestPendingCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var metrics syncBuffer
	route := e.metricsRoute(&metrics)
	token, gate := "capped-"+randomSuffix(), "gate-"+randomSuffix()
	fnARN := "arn:aws:lambda:" + devstack.DefaultRegion + ":" + account + ":function:" + e.funcName
	sm, err := e.sfn.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name:       aws.String("pendingcap-" + e.funcName),
		Definition: aws.String(strings.ReplaceAll(pendingCapASL, "${HookTaskFunctionArn}", fnARN)),
		RoleArn:    aws.String("arn:aws:iam::" + account + ":role/sfnhooks-example"),
	})
	if err != nil {
		t.Fatal(err)
	}
	input, _ := json.Marshal(map[string]any{"token": token, "gate": gate, "maxPending": 3})
	exec, err := e.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: sm.StateMachineArn, Name: aws.String("pendingcap-" + randomSuffix()), Input: aws.String(string(input)),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(exec.ExecutionArn)
	e.waiting(gate) // the hook is created, and the execution holds before its await
	for i := 1; i <= 3; i++ {
		if r := e.sendTo(route, "POST", token, `{"n":`+strconv.Itoa(i)+`}`); r.Status != http.StatusOK {
			t.Fatalf("resume %d: %d %s, want 200", i, r.Status, r.Body)
		}
	}
	before := e.items(token)
	r := e.sendTo(route, "POST", token, `{"n":4}`)
	if r.Status != http.StatusTooManyRequests || r.Header["retry-after"] != strconv.Itoa(hooks.RetryAfterSeconds) {
		t.Fatalf("4th resume: %d %v %s, want 429 with retry-after %d", r.Status, r.Header, r.Body, hooks.RetryAfterSeconds)
	}
	if code, _ := errorBody(t, r); code != hooks.CodeTooManyPending {
		t.Errorf("code %q, want %q", code, hooks.CodeTooManyPending)
	}
	if after := e.items(token); !equalItems(before, after) {
		t.Errorf("a refused resume changed the table:\nbefore %s\nafter  %s", showItems(before), showItems(after))
	}
	if r := e.post(gate, `{}`, nil); r.Status != http.StatusOK {
		t.Fatalf("resume the gate: %d %s, want 200", r.Status, r.Body)
	}
	var out struct {
		Request json.RawMessage `json:"request"`
	}
	e.succeeded(arn, &out)
	if string(out.Request) != `{"n":1}` {
		t.Errorf("await received %s, want the first payload {\"n\":1}", out.Request)
	}
	item := e.hookItem(token)
	if seq, dlv, lim := num(item, "seq"), num(item, "dlv"), num(item, "lim"); seq != 3 || dlv != 1 || lim != dlv+3 {
		t.Errorf("after the await: seq %d dlv %d lim %d, want 3, 1, 4 (lim = dlv + maxPending); hook item %s", seq, dlv, lim, showItem(item))
	}
	if r := e.sendTo(route, "POST", token, `{"n":5}`); r.Status != http.StatusOK {
		t.Fatalf("resume after the await freed a slot: %d %s, want 200", r.Status, r.Body)
	}
	if n := e.stored(token); n != 3 {
		t.Errorf("%d payloads stored, want 3 (n 2, 3 and 5): %s", n, showItems(e.items(token)))
	}
	if r := e.sendTo(route, "POST", "unknown-"+randomSuffix(), `{}`); r.Status != http.StatusNotFound {
		t.Errorf("unknown token: %d, want 404", r.Status)
	}
	counts := checkEMF(t, metrics.String(), "resume-hook")
	want := map[string]float64{"ResumesAcknowledged": 4, "Stored": 4, "TooManyRequests": 1, "NotFound": 1}
	for name, v := range want {
		if counts[name] != v {
			t.Errorf("metric %s = %v, want %v (all: %v)", name, counts[name], v, counts)
		}
	}
}

// checkEMF parses each line as CloudWatch embedded metric format and
// returns the sum of each metric: a line must have _aws.Timestamp, one
// CloudWatchMetrics directive (namespace sfnhooks, dimension set
// [Function], each metric with a name and unit) and top-level members for
// the dimension and for each metric (a number).
func checkEMF(t *testing.T, out, function string) map[string]float64 {
	t.Helper()
	sums := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("EMF line %q is not a JSON object: %v", sc.Text(), err)
		}
		var meta struct {
			Timestamp         int64 `json:"Timestamp"`
			CloudWatchMetrics []struct {
				Namespace  string     `json:"Namespace"`
				Dimensions [][]string `json:"Dimensions"`
				Metrics    []struct{ Name, Unit string }
			} `json:"CloudWatchMetrics"`
		}
		if err := json.Unmarshal(line["_aws"], &meta); err != nil || meta.Timestamp <= 0 || len(meta.CloudWatchMetrics) != 1 {
			t.Fatalf("EMF line %q: _aws %+v (%v), want a Timestamp and one CloudWatchMetrics directive", sc.Text(), meta, err)
		}
		d := meta.CloudWatchMetrics[0]
		if d.Namespace != emf.Namespace || len(d.Dimensions) != 1 || len(d.Dimensions[0]) != 1 || d.Dimensions[0][0] != "Function" || len(d.Metrics) == 0 {
			t.Fatalf("EMF line %q: directive %+v", sc.Text(), d)
		}
		var fn string
		if json.Unmarshal(line["Function"], &fn) != nil || fn != function {
			t.Errorf("EMF line %q: Function dimension %q, want %s", sc.Text(), line["Function"], function)
		}
		for _, m := range d.Metrics {
			var v float64
			if m.Name == "" || m.Unit == "" || json.Unmarshal(line[m.Name], &v) != nil {
				t.Fatalf("EMF line %q: metric %+v has no name, unit or numeric value", sc.Text(), m)
			}
			sums[m.Name] += v
		}
	}
	return sums
}

func equalItems(a, b []map[string]dbtypes.AttributeValue) bool {
	return showItems(a) == showItems(b)
}

// showItems prints items readably, one per line (attribute values, not
// the SDK's pointers).
func showItems(items []map[string]dbtypes.AttributeValue) string {
	var lines []string
	for _, it := range items {
		lines = append(lines, "\n  "+showItem(it))
	}
	return "[" + strings.Join(lines, "") + "]"
}

// showItem prints an item as {name=value …}, names sorted; numbers bare,
// strings quoted, maps and lists as their elements.
func showItem(item map[string]dbtypes.AttributeValue) string {
	return showAV(&dbtypes.AttributeValueMemberM{Value: item})
}

func showAV(av dbtypes.AttributeValue) string {
	switch v := av.(type) {
	case *dbtypes.AttributeValueMemberS:
		return strconv.Quote(v.Value)
	case *dbtypes.AttributeValueMemberN:
		return v.Value
	case *dbtypes.AttributeValueMemberBOOL:
		return strconv.FormatBool(v.Value)
	case *dbtypes.AttributeValueMemberNULL:
		return "null"
	case *dbtypes.AttributeValueMemberB:
		return fmt.Sprintf("b%q", v.Value)
	case *dbtypes.AttributeValueMemberL:
		var parts []string
		for _, x := range v.Value {
			parts = append(parts, showAV(x))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case *dbtypes.AttributeValueMemberM:
		names := slices.Sorted(maps.Keys(v.Value))
		var parts []string
		for _, k := range names {
			parts = append(parts, k+"="+showAV(v.Value[k]))
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return fmt.Sprintf("%T", av)
}

// The held-caller cap (issue 11, item 1): a manual webhook with
// maxHeldCallers 2 holds two callers; a third is answered 429
// TooManyWaiting with Retry-After at once, and its request is not stored.
// When the two time out (504) the count is back to 0. Counts leaked by
// killed Lambdas (written here: held 2, two holders whose time has passed)
// are removed by the next caller instead of refusing it.
func TestHeldCallersCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	arn := e.startLimits(limitsInput{Action: "createWebhook", RespondWith: map[string]any{"mode": "manual", "deadlineMs": 2500}, MaxHeldCallers: 2, PauseSeconds: 20})
	token := e.webhookToken(arn)
	if item := e.hookItem(token); num(item, "maxHeld") != 2 {
		t.Fatalf("webhook item %v, want maxHeld 2", item)
	}
	answers := make(chan webhookAnswer, 2)
	for i := range 2 {
		ev := w.event(token, webhookCall{Body: []byte(`{"held":` + strconv.Itoa(i) + `}`)})
		go func() { answers <- w.call(ev) }()
	}
	e.waitFor("two callers held", func() bool { return num(e.hookItem(token), "held") == 2 })
	third := w.do(token, webhookCall{Body: []byte(`{"held":3}`)})
	if third.Status != http.StatusTooManyRequests || third.Header["retry-after"] != strconv.Itoa(hooks.RetryAfterSeconds) {
		t.Fatalf("third caller: %d %v %q, want 429 with retry-after", third.Status, third.Header, third.Body)
	}
	if code, _ := errorBody(t, httpResponse{Status: third.Status, Header: third.Header, Body: string(third.Body)}); code != hooks.CodeTooManyWaiting {
		t.Errorf("code %q, want %q", code, hooks.CodeTooManyWaiting)
	}
	for range 2 {
		if a := <-answers; a.Err != nil || a.Status != http.StatusGatewayTimeout {
			t.Errorf("held caller: %d %v, want 504 after the deadline", a.Status, a.Err)
		}
	}
	item := e.hookItem(token)
	if held, seq := num(item, "held"), num(item, "seq"); held != 0 || seq != 2 || e.stored(token) != 2 {
		t.Errorf("after the callers left: held %d, seq %d, %d stored; want 0, 2, 2 (the refused one not stored)", held, seq, e.stored(token))
	}

	// A Lambda killed while holding leaves its entry and count: simulate two.
	past := &dbtypes.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(-time.Second).UnixMilli(), 10)}
	_, err := e.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:        &e.table,
		Key:              map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: "HOOK#" + token}, "sk": &dbtypes.AttributeValueMemberS{Value: "HOOK"}},
		UpdateExpression: aws.String("SET held = :two, holders = :leaked"),
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{
			":two":    &dbtypes.AttributeValueMemberN{Value: "2"},
			":leaked": &dbtypes.AttributeValueMemberM{Value: map[string]dbtypes.AttributeValue{"killed-1": past, "killed-2": past}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := w.do(token, webhookCall{Body: []byte(`{"after":"leak"}`)}); a.Status != http.StatusGatewayTimeout {
		t.Errorf("caller after a leaked count: %d %q, want it held (then 504), not refused", a.Status, a.Body)
	}
	item = e.hookItem(token)
	if holders, _ := item["holders"].(*dbtypes.AttributeValueMemberM); num(item, "held") != 0 || holders == nil || len(holders.Value) != 0 {
		t.Errorf("held %d, holders %v after the leaked entries were removed and the caller left, want none", num(item, "held"), item["holders"])
	}
}

// Header hygiene (issue 11, item 2): by default authorization,
// proxy-authorization and cookie (header and cookies list) do not reach the
// workflow; a webhook that keeps authorization and drops x-secret gets
// exactly that.
func TestWebhookHeaderFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	call := webhookCall{
		Header:  map[string]string{"Authorization": "Bearer s3cr3t", "Proxy-Authorization": "Basic eA==", "X-Secret": "x", "X-Kept": "k"},
		Cookies: []string{"c=x", "c=y", "d=z"},
		Body:    []byte(`{}`),
	}
	type output struct {
		Request hooks.WebhookRequest `json:"request"`
	}
	for name, tc := range map[string]struct {
		filter      *hooks.HeaderFilter
		keep, drop  []string
		keepCookies bool
	}{
		"default":                           {nil, []string{"x-kept"}, []string{"authorization", "proxy-authorization", "cookie", "x-secret"}, false}, // x-secret names a credential (issue 21)
		"keep x-secret":                     {&hooks.HeaderFilter{Keep: []string{"X-Secret"}}, []string{"x-secret", "x-kept"}, []string{"authorization"}, false},
		"keep authorization, drop x-secret": {&hooks.HeaderFilter{Keep: []string{"AUTHORIZATION"}, Drop: []string{"X-Secret"}}, []string{"authorization", "x-kept"}, []string{"proxy-authorization", "cookie", "x-secret"}, false},
		"keep cookie":                       {&hooks.HeaderFilter{Keep: []string{"Cookie"}}, []string{"cookie"}, []string{"authorization"}, true},
	} {
		arn := e.startLimits(limitsInput{Action: "createWebhook", Headers: tc.filter})
		token := e.webhookToken(arn)
		e.waiting(token)
		if a := w.do(token, call); a.Status != http.StatusAccepted {
			t.Fatalf("%s: %d %q, want 202", name, a.Status, a.Body)
		}
		var out output
		e.succeeded(arn, &out)
		for _, h := range tc.keep {
			if len(out.Request.Headers[h]) == 0 {
				t.Errorf("%s: header %s missing from %v", name, h, out.Request.Headers)
			}
		}
		for _, h := range tc.drop {
			if _, ok := out.Request.Headers[h]; ok {
				t.Errorf("%s: header %s reached the workflow: %v", name, h, out.Request.Headers)
			}
		}
		wantCookies := map[string][]string{}
		if tc.keepCookies {
			wantCookies = map[string][]string{"c": {"x", "y"}, "d": {"z"}}
		}
		if !reflect.DeepEqual(out.Request.Cookies, wantCookies) {
			t.Errorf("%s: cookies %v, want %v", name, out.Request.Cookies, wantCookies)
		}
	}
}

// A caller-chosen webhook token under 128 bits is refused by the hook-task
// function (WeakWebhookTokenError, nothing created); 22 URL-safe
// characters are accepted.
func TestWeakWebhookTokenRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	log := slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	h := hooktask.New(e.hooks, log)
	for _, token := range []string{"payment-42", "abcdefghijklmnopqrstu", "abcdefghijklmnopqrstu.v"} {
		raw, _ := json.Marshal(map[string]string{"action": "createWebhook", "token": token, "executionArn": "arn:exec:weak"})
		_, err := h.Handle(context.Background(), raw)
		var ie messages.InvokeResponse_Error
		if !errors.As(err, &ie) || ie.Type != "WeakWebhookTokenError" {
			t.Errorf("token %q: %v, want WeakWebhookTokenError", token, err)
		}
	}
	if n := e.itemCount(); n != 0 {
		t.Errorf("%d items after refused creations, want 0", n)
	}
	strong := "abcdefghijklmnopqrs_-9"
	raw, _ := json.Marshal(map[string]string{"action": "createWebhook", "token": strong, "executionArn": "arn:exec:weak"})
	if res, err := h.Handle(context.Background(), raw); err != nil || res.Token != strong {
		t.Errorf("22-character token: %+v %v, want created", res, err)
	}
}

// Routes do one thing (issue 11, item 3): POST and GET /hooks/{token},
// its reject and heartbeat, and the direct invocation answer a webhook's token exactly as that token
// once unknown, and nothing is delivered or stored.
func TestHooksRouteRefusesWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	arn := e.startLimits(limitsInput{Action: "createWebhook", PauseSeconds: 0})
	token := e.webhookToken(arn)
	e.waiting(token)
	before := e.items(token)
	post := e.post(token, `{"forged":true}`, nil)
	get := e.request("GET", token, "", nil)
	reject := e.action(token, "reject", `{"error":"Forged"}`)
	heartbeat := e.action(token, "heartbeat", "")
	direct, _ := json.Marshal(map[string]any{"token": token, "payload": map[string]bool{"forged": true}})
	_, derr := e.resume.Invoke(context.Background(), direct)
	if post.Status != http.StatusNotFound || get.Status != http.StatusNotFound {
		t.Fatalf("webhook token on /hooks: POST %d %s, GET %d %s; want 404", post.Status, post.Body, get.Status, get.Body)
	}
	if derr == nil || !strings.Contains(derr.Error(), "hook not found") {
		t.Errorf("direct invocation with a webhook token: %v, want HookNotFound", derr)
	}
	if after := e.items(token); !equalItems(before, after) {
		t.Errorf("/hooks changed the webhook:\nbefore %v\nafter  %v", before, after)
	}
	// The same token, unknown: the same answers, byte for byte.
	if err := e.hooks.Dispose(context.Background(), token, arn); err != nil {
		t.Fatal(err)
	}
	post2 := e.post(token, `{"forged":true}`, nil)
	get2 := e.request("GET", token, "", nil)
	if post2.Status != post.Status || post2.Body != post.Body || get2.Status != get.Status || get2.Body != get.Body {
		t.Errorf("webhook token answered POST %d %s, GET %d %s; unknown token POST %d %s, GET %d %s: want identical",
			post.Status, post.Body, get.Status, get.Body, post2.Status, post2.Body, get2.Status, get2.Body)
	}
	reject2 := e.action(token, "reject", `{"error":"Forged"}`)
	heartbeat2 := e.action(token, "heartbeat", "")
	if reject.Status != http.StatusNotFound || reject.Body != reject2.Body || reject.Status != reject2.Status ||
		heartbeat.Status != http.StatusNotFound || heartbeat.Body != heartbeat2.Body || heartbeat.Status != heartbeat2.Status {
		t.Errorf("webhook token answered reject %d %s, heartbeat %d %s; unknown token %d %s, %d %s: want the same 404s",
			reject.Status, reject.Body, heartbeat.Status, heartbeat.Body, reject2.Status, reject2.Body, heartbeat2.Status, heartbeat2.Body)
	}
	if out := e.finish(arn); out.Status == "SUCCEEDED" {
		t.Errorf("the execution succeeded with %s: a forged resume reached it", aws.ToString(out.Output))
	}
}

// The payment example survives bad input (issue 11, item 8): a GET, a HEAD,
// a POST whose body is not JSON and one that claims JSON but is not are
// each answered 400 by the workflow (through respond), which awaits again;
// the valid POST that follows is the payment, answered 200, and the
// execution's output holds it.
func TestPaymentSurvivesBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	checkout := "c-" + randomSuffix()
	arn := e.start("payment", map[string]string{"checkoutId": checkout})
	token := e.webhookToken(arn)
	for _, tc := range []struct {
		name string
		call webhookCall
	}{
		{"GET", webhookCall{Method: "GET"}},
		{"HEAD", webhookCall{Method: "HEAD"}},
		{"POST text/plain", webhookCall{Header: map[string]string{"Content-Type": "text/plain"}, Body: []byte("hello")}},
		{"POST not JSON, said JSON", webhookCall{Header: map[string]string{"Content-Type": "application/json"}, Body: []byte("{oops")}},
		{"POST JSON, no content type", webhookCall{Body: []byte(`{"paid": true}`)}},
	} {
		name, c := tc.name, tc.call
		e.waiting(token)
		a := w.do(token, c)
		if a.Status != http.StatusBadRequest || !strings.Contains(string(a.Body), "BadRequest") {
			t.Fatalf("%s: got %d %q, want the workflow's 400", name, a.Status, a.Body)
		}
	}
	e.waiting(token)
	a := w.do(token, webhookCall{Header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, Body: []byte(`{"paid": true, "amount": 4200}`)})
	if a.Status != http.StatusOK || string(a.Body) != "OK" {
		t.Fatalf("payment: got %d %q, want 200 OK", a.Status, a.Body)
	}
	e.paymentPaid(arn, checkout)
}

// The resume-webhook handler's metrics (EMF lines): a manual webhook's
// caller held until its 1 s deadline reports WebhookHoldTime of at least
// that, in milliseconds, besides the acknowledged, stored request.
func TestWebhookHoldTimeMetric(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var metrics syncBuffer
	w := e.webhookRoute(func(o *hooks.Options) { o.Metrics = emf.New(&metrics, "resume-webhook").Metric })
	arn := e.startLimits(limitsInput{Action: "createWebhook", RespondWith: map[string]any{"mode": "manual", "deadlineMs": 1000}, PauseSeconds: 5})
	token := e.webhookToken(arn)
	if a := w.do(token, webhookCall{Body: []byte(`{}`)}); a.Status != http.StatusGatewayTimeout {
		t.Fatalf("got %d %q, want 504", a.Status, a.Body)
	}
	counts := checkEMF(t, metrics.String(), "resume-webhook")
	if counts["ResumesAcknowledged"] != 1 || counts["Stored"] != 1 || counts["WebhookHoldTime"] < 1000 {
		t.Errorf("metrics %v, want 1 acknowledged, 1 stored, WebhookHoldTime >= 1000 ms", counts)
	}
	if !strings.Contains(metrics.String(), `{"Name":"WebhookHoldTime","Unit":"Milliseconds"}`) {
		t.Errorf("no WebhookHoldTime in Milliseconds among %s", metrics.String())
	}
}
