// Package e2e runs the example state machines of examples/ for real in the
// offline AWS stack (moto's Step Functions executes them; its Lambda calls
// reach our handlers through the bridge) and resumes them through the real
// resume-hook handler.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/adapter/hooktask"
	"github.com/sfnhooks/sfnhooks/internal/adapter/resumehook"
	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

const account = "123456789012"

// env is one test's private slice of the stack: its own table, its own
// hook-task function name on the bridge, its own state machines.
type env struct {
	t *testing.T
	// calls counts the AWS calls of the resume-hook handler (e.resume) only:
	// its client is its own, so the calls that executions make through the
	// hook-task function meanwhile are not counted.
	calls    *awscalls.Counter
	db       *dynamodb.Client
	sfn      *sfn.Client
	hooks    *hooks.Client
	table    string
	resume   lambda.Handler
	machines map[string]string
	funcName string
	// paymentSecret is the signing secret (Standard Webhooks, whsec_…) of
	// the env's payment example, and paymentSecretARN its ARN in moto,
	// created with the machine (machine).
	paymentSecret, paymentSecretARN string
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newEnv(t *testing.T) *env {
	t.Helper()
	stk, _ := stacktest.Bridge(t) // AWS calls go through the bridge
	ctx := context.Background()
	e := &env{t: t, calls: &awscalls.Counter{}, machines: map[string]string{}}
	suffix := randomSuffix()
	e.table = "sfnhooks-e2e-" + suffix
	e.funcName = "hook-task-" + suffix

	cfg := devstack.AWSConfig(stk.BridgeURL().String())
	e.db = dynamodb.NewFromConfig(cfg)
	e.sfn = sfn.NewFromConfig(cfg)
	if _, err := e.db.CreateTable(ctx, hooks.TableDefinition(e.table)); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := e.db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               &e.table,
		TimeToLiveSpecification: &dbtypes.TimeToLiveSpecification{AttributeName: aws.String(hooks.TTLAttribute), Enabled: aws.Bool(true)},
	}); err != nil {
		t.Fatalf("enable TTL: %v", err)
	}
	t.Cleanup(func() { _, _ = e.db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &e.table}) })

	newClient := func(cfg aws.Config) *hooks.Client {
		c, err := hooks.New(cfg, func(o *hooks.Options) {
			o.TableName = e.table
			o.WebhookBaseURL = "https://hooks.example.test"
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	e.hooks = newClient(cfg)
	counted := cfg.Copy()
	counted.APIOptions = append(counted.APIOptions, awscalls.Middleware(e.calls))
	log := slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stacktest.Function(t, e.funcName, devstack.NewHandler(hooktask.New(e.hooks, log).Handle))
	e.resume = devstack.NewHandler(resumehook.New(newClient(counted), log).Handle)
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// defaultAwaitTimeout is template.yaml's AwaitTimeoutSeconds default: the
// examples' awaits time out after a day.
const defaultAwaitTimeout = "86400"

// bindExample substitutes an example's placeholders as template.yaml's
// DefinitionSubstitutions do: pairs (old, new, …) first, then
// ${AwaitTimeoutSeconds} with defaultAwaitTimeout unless pairs set it.
func bindExample(def string, pairs ...string) string {
	return strings.NewReplacer(append(pairs, "${AwaitTimeoutSeconds}", defaultAwaitTimeout)...).Replace(def)
}

// machine creates the example state machine examples/<name>.asl.json once
// per env, with ${HookTaskFunctionArn} bound to this env's function.
func (e *env) machine(name string) string {
	e.t.Helper()
	return e.machineTimeout(name, 0)
}

// machineTimeout is machine with the awaits' timeout (${AwaitTimeoutSeconds})
// set to seconds (0: the default, a day), as a separate state machine.
func (e *env) machineTimeout(name string, seconds int) string {
	e.t.Helper()
	key, timeout := name, defaultAwaitTimeout
	if seconds > 0 {
		timeout = strconv.Itoa(seconds)
		key = name + "-t" + timeout
	}
	if arn, ok := e.machines[key]; ok {
		return arn
	}
	file := filepath.Join("..", "examples", name+".asl.json")
	if strings.HasPrefix(name, "testdata/") {
		file = name + ".asl.json" // a test's own state machine (e2e/testdata)
	}
	def, err := os.ReadFile(file)
	if err != nil {
		e.t.Fatal(err)
	}
	fnARN := "arn:aws:lambda:" + devstack.DefaultRegion + ":" + account + ":function:" + e.funcName
	if strings.Contains(string(def), "${PaymentWebhookSecretArn}") && e.paymentSecretARN == "" {
		e.newPaymentSecret()
	}
	out, err := e.sfn.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name:       aws.String(filepath.Base(key) + "-" + e.funcName),
		Definition: aws.String(bindExample(string(def), "${HookTaskFunctionArn}", fnARN, "${PaymentWebhookSecretArn}", e.paymentSecretARN, "${AwaitTimeoutSeconds}", timeout)),
		RoleArn:    aws.String("arn:aws:iam::" + account + ":role/sfnhooks-example"),
	})
	if err != nil {
		e.t.Fatalf("create state machine %s: %v", name, err)
	}
	e.machines[key] = *out.StateMachineArn
	return *out.StateMachineArn
}

// start starts an execution of the example machine name with input.
func (e *env) start(name string, input any) string {
	e.t.Helper()
	in, _ := json.Marshal(input)
	out, err := e.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(e.machine(name)),
		Name:            aws.String(filepath.Base(name) + "-" + randomSuffix()),
		Input:           aws.String(string(in)),
	})
	if err != nil {
		e.t.Fatalf("start %s: %v", name, err)
	}
	return *out.ExecutionArn
}

// finish waits for the execution to end and returns its description.
func (e *env) finish(arn string) *sfn.DescribeExecutionOutput {
	e.t.Helper()
	return stacktest.WaitExecution(e.t, e.sfn, arn, 60*time.Second)
}

// succeeded waits for the execution, requires SUCCEEDED, and decodes its
// output into v.
func (e *env) succeeded(arn string, v any) {
	e.t.Helper()
	e.succeededWithin(arn, v, 60*time.Second)
}

// succeededWithin is succeeded with its own wait for the execution's end.
func (e *env) succeededWithin(arn string, v any, wait time.Duration) {
	e.t.Helper()
	out := stacktest.WaitExecution(e.t, e.sfn, arn, wait)
	if out.Status != "SUCCEEDED" {
		e.t.Fatalf("execution %s: status %s, error %s, cause %s", arn, out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	if err := json.Unmarshal(compact(e.t, aws.ToString(out.Output)), v); err != nil {
		e.t.Fatalf("execution output %q: %v", aws.ToString(out.Output), err)
	}
}

// paymentPaid waits for an execution of the payment example to succeed and
// checks its output: the checkout it was started for, and the provider's
// body {"paid":true,"amount":4200} as the payment.
func (e *env) paymentPaid(arn, checkout string) {
	e.t.Helper()
	var out struct {
		CheckoutID string          `json:"checkoutId"`
		Payment    json.RawMessage `json:"payment"`
	}
	e.succeeded(arn, &out)
	if out.CheckoutID != checkout || string(out.Payment) != `{"paid":true,"amount":4200}` {
		e.t.Errorf("output %+v, want checkout %q and the provider's body as payment", out, checkout)
	}
}

// waitFor polls cond every 20 ms until it is true, failing after 30 s.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	e.t.Fatalf("timed out waiting for %s", what)
}

// waiting waits until an await is parked on token.
func (e *env) waiting(token string) {
	e.t.Helper()
	e.waitFor("an await parked on "+token, func() bool {
		st, err := e.hooks.GetHook(context.Background(), token)
		return err == nil && st.Waiting
	})
}

// httpResponse is what API Gateway would send back.
type httpResponse struct {
	Status int
	Header map[string]string
	Body   string
}

// post sends POST /hooks/{escaped token} with body through the real
// resume-hook handler as an API Gateway HTTP API (payload 2.0) event.
func (e *env) post(token, body string, header map[string]string) httpResponse {
	return e.request("POST", token, body, header)
}

func (e *env) request(method, token, body string, header map[string]string) httpResponse {
	e.t.Helper()
	ev := e.event(method, token, body)
	for k, v := range header {
		ev.Headers[strings.ToLower(k)] = v
	}
	return e.send(ev)
}

// event is the testdata payload 2.0 event for method /hooks/{token}.
func (e *env) event(method, token, body string) events.APIGatewayV2HTTPRequest {
	e.t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "apigw-v2-post-hook.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		e.t.Fatal(err)
	}
	path := "/hooks/" + token // an HTTP API sends the path percent-decoded
	ev.RawPath, ev.RequestContext.HTTP.Path = path, path
	ev.RequestContext.HTTP.Method = method
	ev.RouteKey = method + " /hooks/{token}"
	ev.RequestContext.RouteKey = ev.RouteKey
	ev.PathParameters = map[string]string{"token": token}
	ev.Body = body
	return ev
}

// send passes ev to the real resume-hook handler, as API Gateway does.
func (e *env) send(ev events.APIGatewayV2HTTPRequest) httpResponse {
	e.t.Helper()
	in, _ := json.Marshal(ev)
	out, err := e.resume.Invoke(context.Background(), in)
	if err != nil {
		e.t.Fatalf("resume-hook invocation failed: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		e.t.Fatalf("resume-hook answer %s: %v", out, err)
	}
	return httpResponse{Status: resp.StatusCode, Header: resp.Headers, Body: resp.Body}
}

// items returns every item of the table whose pk is HOOK#token.
func (e *env) items(token string) []map[string]dbtypes.AttributeValue {
	e.t.Helper()
	out, err := e.db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 &e.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":pk": &dbtypes.AttributeValueMemberS{Value: "HOOK#" + token}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Items
}

// itemCount is the number of items in the table.
func (e *env) itemCount() int32 {
	e.t.Helper()
	out, err := e.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &e.table, Select: dbtypes.SelectCount, ConsistentRead: aws.Bool(true)})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Count
}

// compact returns the JSON text s without insignificant white space, so
// payloads compare byte for byte however the emulator re-serialized them.
func compact(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		t.Fatalf("not JSON: %q: %v", s, err)
	}
	return buf.Bytes()
}
