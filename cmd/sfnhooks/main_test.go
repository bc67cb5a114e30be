package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/adapter/hooktask"
	"github.com/sfnhooks/sfnhooks/internal/adapter/resumehook"
	"github.com/sfnhooks/sfnhooks/internal/testbench/apigwlocal"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// cli runs the command line args and returns its exit status, stdout and
// stderr.
func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// localAPI serves the API Gateway routes of the resume-hook function, with
// the real handler, on loopback (what make dev serves), for a table of its
// own on the emulator, and returns its URL and the library client.
func localAPI(t *testing.T) (string, *hooks.Client, *sfn.Client, string) {
	t.Helper()
	stk, _ := stacktest.Bridge(t)
	ctx := context.Background()
	cfg := devstack.AWSConfig(stk.BridgeURL().String())
	var r [6]byte
	_, _ = rand.Read(r[:])
	suffix := hex.EncodeToString(r[:])
	table := "sfnhooks-cli-" + suffix
	db := dynamodb.NewFromConfig(cfg)
	if _, err := db.CreateTable(ctx, hooks.TableDefinition(table)); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() { _, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table}) })
	client, err := hooks.New(cfg, func(o *hooks.Options) { o.TableName = table })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	fn := "hook-task-cli-" + suffix
	stacktest.Function(t, fn, devstack.NewHandler(hooktask.New(client, log).Handle))
	h := devstack.NewHandler(resumehook.New(client, log).Handle)
	var routes []apigwlocal.Route
	for _, k := range []string{"POST /hooks/{token}", "GET /hooks/{token}", "GET /hooks", "POST /hooks/{token}/reject", "POST /hooks/{token}/heartbeat"} {
		routes = append(routes, apigwlocal.Route{Key: k, Function: h, FunctionName: "resume-hook"})
	}
	api, err := apigwlocal.New(routes, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv.URL, client, sfn.NewFromConfig(cfg), "arn:aws:lambda:" + devstack.DefaultRegion + ":" + devstack.DefaultAccountID + ":function:" + fn
}

// The CLI against the real resume-hook handler on loopback and a real
// execution of the approval example: list finds the waiting hook, get
// shows it, resume completes the execution; failures exit with the
// documented status and the API's error code.
func TestCLI(t *testing.T) {
	endpoint, client, sf, fnARN := localAPI(t)
	ctx := context.Background()
	token, arn := startApproval(t, client, sf, fnARN)
	order := strings.TrimPrefix(token, "approval-")
	ep := "--endpoint=" + endpoint

	code, out, stderr := cli(t, "", "list", "--execution", arn, ep)
	if code != exitOK || !strings.Contains(out, token) || !strings.Contains(out, "true") {
		t.Fatalf("list: %d %q %q, want the waiting hook", code, out, stderr)
	}
	code, out, _ = cli(t, "", "--json", ep, "list", "--execution", arn, "--state", "pending")
	if code != exitOK || strings.TrimSpace(out) != `{"hooks":[]}` {
		t.Errorf("list --state pending --json: %d %q, want no hooks", code, out)
	}
	code, out, _ = cli(t, "", "get", token, ep, "--json")
	var st hooks.HookStatus
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || !st.Waiting || st.ExecutionARN != arn {
		t.Fatalf("get --json: %d %q, want the waiting hook of %s", code, out, arn)
	}
	// The example's await gives its timeout: get says until when it waits.
	if code, out, _ = cli(t, "", "get", token, ep); code != exitOK || st.WaitingUntil == nil ||
		!strings.Contains(out, "waiting until") || !strings.Contains(out, st.WaitingUntil.Format("2006-01-02T15:04:05")) {
		t.Errorf("get: %d %q, want waiting until %v", code, out, st.WaitingUntil)
	}

	// Refusals change nothing: each exits with its status.
	big := `"` + strings.Repeat("x", hooks.MaxPayloadBytes) + `"`
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		errIn string // in stderr
	}{
		{"no command", nil, exitUsage, "usage"},
		{"unknown command", []string{"frob", ep}, exitUsage, "unknown command"},
		{"no token", []string{"resume", "--data", "1", ep}, exitUsage, "argument"},
		{"no data", []string{"resume", token, ep}, exitUsage, "--data"},
		{"bad JSON", []string{"resume", token, "--data", "{nope", ep}, exitUsage, hooks.CodeInvalidPayload},
		{"bad token", []string{"get", strings.Repeat("t", 300), ep}, exitUsage, hooks.CodeInvalidToken},
		{"unknown hook", []string{"resume", "no-such-" + order, "--data", "1", ep}, exitNotFound, hooks.CodeHookNotFound},
		{"too large", []string{"resume", token, "--data", big, ep}, exitTooLarge, hooks.CodePayloadTooLarge},
		{"list without execution", []string{"list", ep}, exitUsage, "--execution"},
		{"list bad state", []string{"list", "--execution", arn, "--state", "asleep", ep}, exitUsage, hooks.CodeInvalidRequest},
		{"no endpoint", []string{"get", token, "--endpoint="}, exitUsage, envEndpoint},
		{"missing file", []string{"resume", token, "--data", "@/no/such/file", ep}, exitUsage, "no such file"},
		{"token with /", []string{"get", "a/b", ep}, exitUsage, "'/'"},
		{"token with ?", []string{"resume", token + "?x", "--data", "1", ep}, exitUsage, "'?'"},
	} {
		code, _, stderr := cli(t, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.errIn) {
			t.Errorf("%q: exit %d stderr %q, want %d mentioning %q", tc.name, code, stderr, tc.code, tc.errIn)
		}
	}
	if st, err := client.GetHook(ctx, token); err != nil || !st.Waiting || st.Pending != 0 || st.Delivered != 0 {
		t.Fatalf("after the refusals: %+v %v, want the hook untouched", st, err)
	}

	// The payload from a file (@file), with an idempotency key.
	file := filepath.Join(t.TempDir(), "decision.json")
	if err := os.WriteFile(file, []byte(`{"approved": true, "comment": "from the CLI"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = cli(t, "", "resume", token, "--data", "@"+file, "--idempotency-key", "k-"+order, ep)
	if code != exitOK || !strings.Contains(out, "resumed "+token) {
		t.Fatalf("resume: %d %q %q", code, out, stderr)
	}
	// The same key again: applied once, answered the same; another payload: 4.
	if code, _, stderr := cli(t, "", "resume", token, "--data", "@"+file, "--idempotency-key", "k-"+order, ep); code != exitOK {
		t.Errorf("keyed retry: %d %q, want 0", code, stderr)
	}
	code, out, stderr = cli(t, `{"approved": false}`, "resume", token, "--data", "@-", "--idempotency-key", "k-"+order, ep, "--json")
	var e struct{ Error string }
	if code != exitConflict || !strings.Contains(stderr, hooks.CodeIdempotencyMismatch) || json.Unmarshal([]byte(out), &e) != nil || e.Error != hooks.CodeIdempotencyMismatch {
		t.Errorf("same key, other payload: %d %q %q, want 4 and the JSON error on stdout", code, out, stderr)
	}

	desc := stacktest.WaitExecution(t, sf, arn, 30*time.Second)
	var got struct {
		Outcome  string `json:"outcome"`
		Decision struct {
			Comment string `json:"comment"`
		} `json:"decision"`
	}
	if desc.Status != "SUCCEEDED" || json.Unmarshal([]byte(aws.ToString(desc.Output)), &got) != nil ||
		got.Outcome != "approved" || got.Decision.Comment != "from the CLI" {
		t.Errorf("execution: %s %s, want SUCCEEDED, approved from the CLI", desc.Status, aws.ToString(desc.Output))
	}
	if code, _, _ := cli(t, "", "get", token, ep); code != exitNotFound {
		t.Errorf("get after the execution disposed its hook: %d, want %d", code, exitNotFound)
	}
}

// startApproval starts an execution of the approval example (its hook-task
// function is fnARN) and waits until it awaits its hook; it returns the
// hook's token and the execution.
func startApproval(t *testing.T, client *hooks.Client, sf *sfn.Client, fnARN string) (token, arn string) {
	t.Helper()
	def, err := os.ReadFile(filepath.Join("..", "..", "examples", "approval.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	return startAwait(t, client, sf, strings.NewReplacer("${HookTaskFunctionArn}", fnARN, "${AwaitTimeoutSeconds}", "86400").Replace(string(def)))
}

// heartbeatASL awaits hook approval-$.orderId with HeartbeatSeconds (moto
// accepts SendTaskHeartbeat only for a task that has them) and catches
// OrderRejected by name.
const heartbeatASL = `{"StartAt": "Await", "States": {"Await": {
  "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
  "Parameters": {"FunctionName": "%s", "Payload": {"action": "await", "token.$": "States.Format('approval-{}', $.orderId)",
    "executionArn.$": "$$.Execution.Id", "taskToken.$": "$$.Task.Token"}},
  "HeartbeatSeconds": 30,
  "Catch": [{"ErrorEquals": ["OrderRejected"], "ResultPath": "$.rejection", "Next": "Rejected"}],
  "End": true},
 "Rejected": {"Type": "Pass", "End": true}}}`

// startAwait starts an execution of the state machine asl, which awaits
// hook approval-$.orderId, and waits until it is parked there; it returns
// the hook's token and the execution.
func startAwait(t *testing.T, client *hooks.Client, sf *sfn.Client, asl string) (token, arn string) {
	t.Helper()
	machine := stacktest.CreateStateMachine(t, sf, asl)
	var r [4]byte
	_, _ = rand.Read(r[:])
	order := "cli-" + hex.EncodeToString(r[:])
	token = "approval-" + order
	arn = stacktest.StartExecution(t, sf, machine, `{"orderId":"`+order+`"}`)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, err := client.GetHook(context.Background(), token); err == nil && st.Waiting {
			return token, arn
		}
		if time.Now().After(deadline) {
			t.Fatal("the execution never awaited its hook")
		}
	}
}

// reject and heartbeat through the CLI: a heartbeat reaches the parked
// await (exit 0), the rejection fails the execution with its error and
// cause (caught by name), applied once for its key; afterwards a heartbeat
// exits 3.
func TestCLIRejectHeartbeat(t *testing.T) {
	endpoint, client, sf, fnARN := localAPI(t)
	token, arn := startAwait(t, client, sf, fmt.Sprintf(heartbeatASL, fnARN))
	ep := "--endpoint=" + endpoint
	if code, _, stderr := cli(t, "", "heartbeat", "no-such-"+token, ep); code != exitNotFound || !strings.Contains(stderr, hooks.CodeHookNotFound) {
		t.Errorf("heartbeat of an unknown hook: %d %q, want %d", code, stderr, exitNotFound)
	}
	// moto accepts heartbeats once the task's Lambda invocation returned.
	stacktest.WaitTaskSubmitted(t, sf, arn, 10*time.Second)
	if code, out, stderr := cli(t, "", "heartbeat", token, ep); code != exitOK || !strings.Contains(out, "heartbeat sent") {
		t.Fatalf("heartbeat: %d %q %q", code, out, stderr)
	}
	if code, out, _ := cli(t, "", "heartbeat", token, ep, "--json"); code != exitOK || strings.TrimSpace(out) != `{"waiting":true}` {
		t.Errorf("heartbeat --json: %d %q", code, out)
	}
	if code, _, stderr := cli(t, "", "reject", token, ep); code != exitUsage || !strings.Contains(stderr, "--error") {
		t.Errorf("reject without --error: %d %q, want %d", code, stderr, exitUsage)
	}
	if code, _, stderr := cli(t, "", "reject", token, "--error", strings.Repeat("E", 300), ep); code != exitUsage || !strings.Contains(stderr, hooks.CodeInvalidPayload) {
		t.Errorf("reject with a 300-character error: %d %q, want %d", code, stderr, exitUsage)
	}
	args := []string{"reject", token, "--error", "OrderRejected", "--cause", "out of stock", "--idempotency-key", "r-" + token, ep}
	code, out, stderr := cli(t, "", args...)
	if code != exitOK || !strings.Contains(out, "rejected "+token+" with OrderRejected") {
		t.Fatalf("reject: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := cli(t, "", args...); code != exitOK {
		t.Errorf("reject retried with its key: %d %q, want 0", code, stderr)
	}
	desc := stacktest.WaitExecution(t, sf, arn, 30*time.Second)
	var got struct {
		Rejection struct{ Error, Cause string } `json:"rejection"`
	}
	if desc.Status != "SUCCEEDED" || json.Unmarshal([]byte(aws.ToString(desc.Output)), &got) != nil ||
		got.Rejection.Error != "OrderRejected" || got.Rejection.Cause != "out of stock" {
		t.Errorf("execution: %s %s, want SUCCEEDED through the Catch of OrderRejected / out of stock", desc.Status, aws.ToString(desc.Output))
	}
	if code, _, _ := cli(t, "", "heartbeat", token, ep); code != exitNotFound {
		t.Errorf("heartbeat after the rejection: %d, want %d", code, exitNotFound)
	}
}

// exitCode covers every status class the table in the README names.
func TestExitCode(t *testing.T) {
	for status, want := range map[int]int{200: 0, 204: 0, 400: 2, 401: 6, 403: 6, 404: 3, 405: 2, 409: 4, 413: 5, 422: 4,
		429: 7, 500: 1, 502: 1, 503: 7, 504: 7} {
		if got := exitCode(status); got != want {
			t.Errorf("exitCode(%d) = %d, want %d", status, got, want)
		}
	}
}

// Requests to a non-loopback endpoint (and with --sign) carry a SigV4
// signature for execute-api made with the caller's credentials: the server
// here signs the request it received again with the same credentials and
// time, and requires the same Authorization header.
func TestSignsRequests(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	var seen, bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		seen = append(seen, r.Method+" "+r.URL.RequestURI())
		when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		body := new(bytes.Buffer)
		_, _ = body.ReadFrom(r.Body)
		bodies = append(bodies, body.String())
		again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body.Bytes()))
		for k, v := range r.Header {
			if k != "Authorization" && k != "X-Amz-Date" && k != "User-Agent" && k != "Accept-Encoding" && k != "Content-Length" {
				again.Header[k] = v
			}
		}
		hash := r.Header.Get("X-Amz-Content-Sha256")
		if hash == "" {
			hash = sha256Hex(body.Bytes())
		}
		_ = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"},
			again, hash, "execute-api", "eu-west-3", when)
		if err != nil || !strings.Contains(auth, "Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-3/execute-api/aws4_request") ||
			auth != again.Header.Get("Authorization") {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"Forbidden"}`))
			return
		}
		_, _ = w.Write([]byte(`{"token":"t","kind":"hook","executionArn":"arn:x","waiting":true}`))
	}))
	defer srv.Close()
	if code, out, stderr := cli(t, "", "resume", "t", "--data", `{"ok":true}`, "--endpoint", srv.URL, "--sign"); code != exitOK || !strings.Contains(out, "resumed t") {
		t.Fatalf("signed resume: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := cli(t, "", "get", "t", "--endpoint", srv.URL, "--sign"); code != exitOK {
		t.Fatalf("signed get: %d %q", code, stderr)
	}
	if code, _, stderr := cli(t, "", "reject", "t", "--error", "OrderRejected", "--cause", "out of stock", "--endpoint", srv.URL, "--sign"); code != exitOK ||
		seen[len(seen)-1] != "POST /hooks/t/reject" || bodies[len(bodies)-1] != `{"cause":"out of stock","error":"OrderRejected"}` {
		t.Fatalf("signed reject: %d %q: sent %s %s", code, stderr, seen[len(seen)-1], bodies[len(bodies)-1])
	}
	// Unsigned (loopback without --sign): the server refuses it, exit 6.
	if code, _, stderr := cli(t, "", "get", "t", "--endpoint", srv.URL); code != exitDenied || !strings.Contains(stderr, "403") {
		t.Errorf("unsigned get: %d %q, want %d", code, stderr, exitDenied)
	}
	if len(seen) != 4 {
		t.Errorf("server saw %v", seen)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// `sfnhooks version` and `sfnhooks --version` print the version the build
// set (internal/version; "dev" in tests), exit 0, and need no endpoint.
func TestVersion(t *testing.T) {
	t.Setenv(envEndpoint, "")
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
		if code != exitOK || out.String() != "sfnhooks dev\n" {
			t.Fatalf("%q: exit %d, stdout %q, stderr %q; want 0 and %q", args, code, out.String(), errOut.String(), "sfnhooks dev\n")
		}
	}
}
