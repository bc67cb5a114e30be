// Package stacktest connects tests to the offline AWS stack of scripts/stack.sh:
// moto on loopback, and the Lambda bridge that runs the test's Go handlers when a
// state machine invokes them.
//
//	func TestApproval(t *testing.T) {
//		stk := stacktest.RequireStack(t)        // fails without the stack (skips with -short)
//		stacktest.Function(t, "approve", devstack.NewHandler(h.Handle))
//		cfg := devstack.AWSConfig(stk.BridgeURL().String())
//		…create a state machine that invokes "approve", start it…
//		out := stacktest.WaitExecution(t, sfn.NewFromConfig(cfg), arn, 30*time.Second)
//	}
//
// moto sends every Lambda call to one port, so one bridge serves a machine: the
// first test of a process that needs it takes an exclusive lock
// (os.TempDir()/sfnhooks-bridge-<port>.lock), binds the bridge port, and keeps both
// until the process exits. Test processes of other packages wait for the lock
// (`go test ./...` runs packages in parallel), so their stack tests run one package
// after the other. Inside a process, tests share the bridge: give functions names
// unique to the test when tests run in parallel.
package stacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
)

const (
	// EnvRequireStack says what a test that needs the stack does when moto does
	// not answer: 1, true or yes (any case) make it fail, with or without
	// -short; 0, false or no make it skip. Unset or empty: it fails, unless
	// the test binary runs with -short (then it skips), or CI is set, which
	// counts as 1. Any other value is a mistake and fails the test.
	EnvRequireStack = "SFNHOOKS_REQUIRE_STACK"
	// EnvBridgeLog sets the level of the shared bridge's log on stderr: debug, info,
	// warn (the default) or error.
	EnvBridgeLog = "SFNHOOKS_BRIDGE_LOG"

	lockTimeout = 5 * time.Minute
)

// Policy is what a test that needs the stack does when the stack is missing.
type Policy int

const (
	// FailUnlessShort fails the test, or skips it when go test runs with
	// -short: the default, so that a plain go test never passes by skipping
	// the protocol's tests.
	FailUnlessShort Policy = iota
	// Fail fails the test (EnvRequireStack true, or CI set).
	Fail
	// Skip skips the test (EnvRequireStack false).
	Skip
)

// parseBool reads a yes/no setting: 1, true, yes / 0, false, no, in any case
// and with surrounding white space; set is false for an empty value.
func parseBool(v string) (val, set bool, err error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return false, false, nil
	case "1", "true", "yes":
		return true, true, nil
	case "0", "false", "no":
		return false, true, nil
	}
	return false, true, fmt.Errorf("%q is neither 1/true/yes nor 0/false/no", v)
}

// MissingPolicy reads EnvRequireStack and CI. An invalid EnvRequireStack
// returns Fail and an error saying so.
func MissingPolicy() (Policy, error) {
	req, set, err := parseBool(os.Getenv(EnvRequireStack))
	switch {
	case err != nil:
		return Fail, fmt.Errorf("%s=%w", EnvRequireStack, err)
	case set && req:
		return Fail, nil
	case set:
		return Skip, nil
	}
	if ci, set, err := parseBool(os.Getenv("CI")); set && (ci || err != nil) {
		return Fail, nil // any CI value but a false one
	}
	return FailUnlessShort, nil
}

// Required reports whether tests must fail, not skip, when the stack is
// missing, even with -short.
func Required() bool {
	p, _ := MissingPolicy()
	return p == Fail
}

// mustFail reports whether a test fails (rather than skips) when the stack
// is missing, under policy p, with go test's -short flag short.
func mustFail(p Policy, short bool) bool {
	switch p {
	case Fail:
		return true
	case Skip:
		return false
	}
	return !short
}

// RequireStack returns the stack located by the environment (devstack.StackFromEnv)
// once moto answers there, with Step Functions execution switched on. When moto
// does not answer it fails the test, or skips it, as MissingPolicy says; the
// message says how to start the stack.
func RequireStack(t testing.TB) devstack.Stack {
	t.Helper()
	return requireStack(t, testing.Short())
}

func requireStack(t testing.TB, short bool) devstack.Stack {
	t.Helper()
	stk, err := devstack.StackFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	// Generous: a loaded machine (2 cores, parallel tests) can keep moto's
	// one Python process busy for seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := stk.Ping(ctx); err != nil {
		missing(t, fmt.Sprintf("the AWS stack is not running: %v", err), short)
	}
	if err := stk.EnableStepFunctionsExecution(ctx); err != nil {
		t.Fatal(err)
	}
	return stk
}

// missing fails or skips t, whose stack is missing, with msg and how to go on.
func missing(t testing.TB, msg string, short bool) {
	t.Helper()
	const how = "start it with scripts/stack.sh up, or run make test (which starts and stops it)"
	p, err := MissingPolicy()
	switch {
	case err != nil:
		t.Fatalf("%s; %s (and %v)", msg, how, err)
	case !mustFail(p, short):
		t.Skipf("%s; %s (skipped: %s)", msg, how, map[Policy]string{
			Skip: EnvRequireStack + " is false", FailUnlessShort: "-short"}[p])
	case p == Fail:
		t.Fatalf("%s; %s (the stack is required: CI or %s=1 is set)", msg, how, EnvRequireStack)
	default:
		t.Fatalf("%s; %s (go test -short, or %s=0, skips such tests instead)", msg, how, EnvRequireStack)
	}
}

var shared struct {
	mu     sync.Mutex
	bridge *devstack.Bridge
	// lock is referenced here so that the garbage collector does not close the
	// file, which would release the lock.
	lock *os.File
}

// Bridge returns the process's Lambda bridge on the stack's bridge address,
// starting it on first use (see the package doc for the lock it takes). It calls
// RequireStack first.
func Bridge(t testing.TB) (devstack.Stack, *devstack.Bridge) {
	t.Helper()
	stk := RequireStack(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.bridge != nil {
		return stk, shared.bridge
	}

	_, port, _ := net.SplitHostPort(stk.BridgeAddr)
	lockPath := filepath.Join(os.TempDir(), "sfnhooks-bridge-"+port+".lock")
	// The lock file stays open, and locked, until the process exits.
	if shared.lock == nil {
		lock, err := lockFile(lockPath, lockTimeout, func() {
			t.Logf("waiting for another test process to release the bridge (%s)", lockPath)
		})
		if err != nil {
			t.Fatalf("stacktest: bridge %s: %v", stk.BridgeAddr, err)
		}
		shared.lock = lock
	}

	b := devstack.NewBridge(stk.MotoURL, nil, bridgeLogger())
	// The previous holder of the lock may still be closing its listener.
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, _, err = devstack.ListenBridge(stk.BridgeAddr, b); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("stacktest: %v", err)
	}
	shared.bridge = b
	return stk, b
}

// Function registers h on the process's bridge as the function name for the
// duration of the test, and returns the stack.
func Function(t testing.TB, name string, h lambda.Handler) devstack.Stack {
	t.Helper()
	stk, b := Bridge(t)
	if err := b.Handle(name, h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Remove(name) })
	return stk
}

// Setenv points the AWS SDK's environment configuration (config.LoadDefaultConfig)
// at the bridge for the duration of the test: AWS_ENDPOINT_URL, region us-east-1,
// static credentials, no profile or shared files.
func Setenv(t testing.TB, stk devstack.Stack) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":                    stk.BridgeURL().String(),
		"AWS_ENDPOINT_URL_DYNAMODB":           "",
		"AWS_ENDPOINT_URL_SFN":                "",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
		"AWS_REGION":                          stk.Region,
		"AWS_DEFAULT_REGION":                  stk.Region,
		"AWS_ACCESS_KEY_ID":                   "test",
		"AWS_SECRET_ACCESS_KEY":               "test",
		"AWS_SESSION_TOKEN":                   "",
		"AWS_PROFILE":                         "",
		"AWS_CONFIG_FILE":                     os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE":         os.DevNull,
	} {
		t.Setenv(k, v)
	}
}

// WaitExecution polls the execution until it is no longer running, and fails the
// test if that takes longer than timeout.
func WaitExecution(t testing.TB, api devstack.DescribeExecutionAPI, executionARN string, timeout time.Duration) *sfn.DescribeExecutionOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := devstack.WaitExecution(ctx, api, executionARN, devstack.DefaultPollInterval)
	if err != nil {
		t.Fatalf("execution %s: %v", executionARN, err)
	}
	return out
}

// RoleARN is a well-formed role for state machines: moto does not check it.
const RoleARN = "arn:aws:iam::123456789012:role/sfn"

var nonName = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// UniqueName returns prefix-<test name>-<random>, at most 64 characters of
// letters, digits and hyphens: a name for an AWS resource (table, state machine,
// execution, Lambda function) that no other test, and no earlier run against the
// same moto, uses.
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	base := strings.Trim(nonName.ReplaceAllString(t.Name(), "-"), "-")
	if max := 64 - len(prefix) - 10; len(base) > max {
		base = base[:max]
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	return prefix + "-" + base + "-" + hex.EncodeToString(r[:])
}

// CreateStateMachine creates a STANDARD state machine from an ASL document under a
// unique name, deletes it when the test ends, and returns its ARN.
func CreateStateMachine(t testing.TB, client *sfn.Client, asl string) string {
	t.Helper()
	if !json.Valid([]byte(asl)) {
		t.Fatalf("invalid ASL JSON: %s", asl)
	}
	out, err := client.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name:       aws.String(UniqueName(t, "sm")),
		Definition: aws.String(asl),
		RoleArn:    aws.String(RoleARN),
	})
	if err != nil {
		t.Fatalf("create state machine: %v", err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteStateMachine(context.Background(), &sfn.DeleteStateMachineInput{StateMachineArn: out.StateMachineArn})
	})
	return aws.ToString(out.StateMachineArn)
}

// StartExecution starts an execution under a unique name and returns its ARN.
// Always name executions on moto 5.2.5: it names an unnamed one "None", so a second
// unnamed StartExecution on the same machine fails with ExecutionAlreadyExists (or,
// while the first runs with the same input, returns the first).
func StartExecution(t testing.TB, client *sfn.Client, machineARN, input string) string {
	t.Helper()
	out, err := client.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(machineARN),
		Name:            aws.String(UniqueName(t, "x")),
		Input:           aws.String(input),
	})
	if err != nil {
		t.Fatalf("start execution: %v", err)
	}
	return aws.ToString(out.ExecutionArn)
}

func bridgeLogger() *slog.Logger {
	level := slog.LevelWarn
	switch strings.ToLower(os.Getenv(EnvBridgeLog)) {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "error":
		level = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// WaitTaskSubmitted waits until the newest task of execution arn has been
// submitted (its Lambda invocation returned: TaskSubmitted is the newest
// task event). moto starts a waitForTaskToken task's heartbeat clock (and
// accepts its heartbeats) only then; tests that heartbeat wait for this
// first.
func WaitTaskSubmitted(tb testing.TB, client *sfn.Client, arn string, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := client.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, MaxResults: 1000})
		if err != nil {
			tb.Fatalf("history of %s: %v", arn, err)
		}
		var last sfntypes.HistoryEventType
		for _, ev := range out.Events {
			switch ev.Type {
			case sfntypes.HistoryEventTypeTaskScheduled, sfntypes.HistoryEventTypeTaskStarted, sfntypes.HistoryEventTypeTaskSubmitted:
				last = ev.Type
			}
		}
		if last == sfntypes.HistoryEventTypeTaskSubmitted {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("execution %s: no submitted task after %s (newest task event %q)", arn, timeout, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
