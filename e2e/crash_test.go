package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/sfnhooks/sfnhooks/internal/adapter/hooktask"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Crash injection (issue 5, reliability test 2). For every AWS call of
// resume (with and without an idempotency key, to a parked await and to the
// store), await (parking, and taking a stored payload), create and dispose,
// the process is made to die just before and just after that call. Then the
// recovery path of docs/protocol.md ("Crashes") runs for real: the caller
// retries the resume, or Step Functions retries the crashed hook-task
// invocation (the examples' Retry on Lambda.Unknown), and later resumes
// redrive what was left in flight. The execution's own output then says what
// each await received: every acknowledged payload exactly once and in order,
// except the duplicates docs/protocol.md admits.

// crashRedrive is RedriveAfter in these tests: short, so that a delivery a
// crashed resumer left in flight is redriven by the next resume.
const crashRedrive = 300 * time.Millisecond

type crashRun struct {
	*env                      // its t is the test's
	resumer  *faults.Injector // the clients of victim
	task     *faults.Injector // the clients of the hook-task function
	victim   *hooks.Client
	clean    *hooks.Client
	mu       sync.Mutex
	taskErrs []string // errors the hook-task function returned (not crashes)
	token    string
	execName string
	arn      string
	fillers  int
}

// newCrashRun prepares one run: a new hook token, the hook-task function on
// AWS clients behind an injector, and the name of the collect execution
// (awaits in a loop) that start will run. With register, the hook is
// registered for that execution first, so payloads can be stored before the
// execution starts (no race with its first await).
//
// faulty adjusts the AWS configuration of the injected clients (the
// victim's and the hook-task function's) to add faults on the wire.
func newCrashRun(t *testing.T, register bool, faulty ...func(victim, task *aws.Config)) *crashRun {
	t.Helper()
	e := newEnv(t)
	stk, bridge := stacktest.Bridge(t)
	cfg := devstack.AWSConfig(stk.BridgeURL().String())
	victimCfg, taskCfg := cfg.Copy(), cfg.Copy()
	for _, fn := range faulty {
		fn(&victimCfg, &taskCfg)
	}
	r := &crashRun{env: e, resumer: faults.New(), task: faults.New(), token: "crash-" + randomSuffix()}
	client := func(inj *faults.Injector) *hooks.Client {
		cfg := cfg
		switch inj {
		case r.resumer:
			cfg = victimCfg
		case r.task:
			cfg = taskCfg
		}
		c, err := hooks.New(cfg, func(o *hooks.Options) {
			o.TableName = e.table
			o.WebhookBaseURL = "https://hooks.example.test"
			o.RedriveAfter = crashRedrive
			if inj != nil {
				o.DynamoDB = inj.DynamoDB(dynamodb.NewFromConfig(cfg))
				o.StepFunctions = inj.StepFunctions(sfn.NewFromConfig(cfg))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	r.victim, r.clean = client(r.resumer), client(nil)

	// The hook-task function runs on the injected clients; a crash is what
	// Step Functions sees of a Lambda process that died: Lambda.Unknown.
	h := hooktask.New(client(r.task), slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	bridge.Remove(e.funcName)
	stacktest.Function(t, e.funcName, devstack.NewHandler(func(ctx context.Context, raw json.RawMessage) (res *hooktask.Result, err error) {
		before := len(r.task.Ops()) // calls of earlier invocations
		c := faults.Recover(func() { res, err = h.Handle(ctx, raw) })
		if c == nil {
			if err != nil {
				r.mu.Lock()
				r.taskErrs = append(r.taskErrs, err.Error())
				r.mu.Unlock()
			}
			return res, err
		}
		t.Logf("hook-task: %s", c)
		if sentSuccess(r.task.Ops(), before, c) {
			// The await completed its own task before it died. AWS closes a
			// task at SendTaskSuccess ("the task associated with the token
			// has already been closed"), so the failed invocation changes
			// nothing; moto would fail the task anyway, so the test answers
			// for the dead process as AWS would.
			return &hooktask.Result{}, nil
		}
		return nil, messages.InvokeResponse_Error{Type: "Lambda.Unknown", Message: "the function crashed: " + c.String()}
	}))

	r.execName = "collect-" + randomSuffix()
	r.arn = strings.Replace(e.machine("collect"), ":stateMachine:", ":execution:", 1) + ":" + r.execName
	if register {
		if _, err := r.clean.Register(context.Background(), hooks.RegisterInput{Token: r.token, ExecutionARN: r.arn}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// start starts the collect execution: count awaits, no pause.
func (r *crashRun) start(count int) {
	r.t.Helper()
	in, _ := json.Marshal(map[string]any{"token": r.token, "count": count, "pauseSeconds": 0})
	out, err := r.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(r.machine("collect")),
		Name:            &r.execName,
		Input:           aws.String(string(in)),
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if *out.ExecutionArn != r.arn {
		r.t.Fatalf("execution %s, want %s", *out.ExecutionArn, r.arn)
	}
}

func payload(name string) json.RawMessage { return json.RawMessage(`{"p":"` + name + `"}`) }

// resume resumes name with the clean client (no crash), with key unless empty.
func (r *crashRun) resume(name, key string) {
	r.t.Helper()
	if _, err := r.clean.ResumeHook(context.Background(), r.token, payload(name), idem(key)...); err != nil {
		r.t.Fatalf("resume %s: %v", name, err)
	}
}

// crashResume resumes name with the victim client, crashing at call n.
func (r *crashRun) crashResume(name, key string, n int, when faults.When) *faults.Crash {
	r.resumer.CrashAt(n, when)
	var err error
	c := faults.Recover(func() { _, err = r.victim.ResumeHook(context.Background(), r.token, payload(name), idem(key)...) })
	if c == nil && err != nil {
		r.t.Fatalf("resume %s: %v", name, err)
	}
	return c
}

// received sends fillers F1, F2, … (stored when no await is parked) until
// the execution ends, and returns what its awaits received, in order, up to
// the first filler. Fillers come after everything else and must arrive in
// order.
func (r *crashRun) received() []string {
	r.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		d, err := r.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &r.arn})
		if err != nil {
			r.t.Fatal(err)
		}
		if d.Status != "RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("execution still running after 60 s and %d fillers", r.fillers)
		}
		if st, err := r.clean.GetHook(ctx, r.token); err == nil && st.Pending == 0 {
			r.fillers++
			name := fmt.Sprintf("F%d", r.fillers)
			_, err := r.clean.ResumeHook(ctx, r.token, payload(name), hooks.WithIdempotencyKey("filler-"+name))
			if err != nil && !errors.Is(err, hooks.ErrHookNotFound) { // not found: the execution just ended
				r.t.Fatalf("resume %s: %v", name, err)
			}
		}
		time.Sleep(crashRedrive + 50*time.Millisecond)
	}
	var out collectOutput
	r.succeeded(r.arn, &out)
	var got []string
	for _, p := range out.Received {
		var v struct{ P string }
		if err := json.Unmarshal(p, &v); err != nil {
			r.t.Fatalf("received %s: %v", p, err)
		}
		got = append(got, v.P)
	}
	i := slices.IndexFunc(got, func(s string) bool { return strings.HasPrefix(s, "F") })
	if i < 0 {
		return got
	}
	for k, f := range got[i:] {
		if f != fmt.Sprintf("F%d", k+1) {
			r.t.Fatalf("received %v: after the first filler only fillers, in order", got)
		}
	}
	return got[:i]
}

// sentSuccess reports whether the calls of one invocation (ops[from:]) up
// to crash c (c's own call when it came after it) include a SendTaskSuccess.
func sentSuccess(ops []string, from int, c *faults.Crash) bool {
	n := c.Call.N - 1
	if c.When == faults.After {
		n++
	}
	n = min(n, len(ops))
	return from < n && slices.Contains(ops[from:n], "SFN.SendTaskSuccess")
}

// expect checks what the awaits received: want exactly, or, when a
// duplicate of dup is admitted, want with a second copy of dup after the
// first.
func (r *crashRun) expect(got, want []string, dup string) {
	r.t.Helper()
	if slices.Equal(got, want) {
		return
	}
	if first := slices.Index(got, dup); dup != "" && first >= 0 {
		if second := slices.Index(got[first+1:], dup); second >= 0 {
			rest := slices.Delete(slices.Clone(got), first+1+second, first+2+second)
			if slices.Equal(rest, want) {
				r.t.Logf("received %v: %s twice, admitted by docs/protocol.md", got, dup)
				return
			}
		}
	}
	r.t.Errorf("received %v, want %v (a duplicate of %q admitted: %v); calls of the crashed operation: %v / %v",
		got, want, dup, dup != "", r.resumer.Ops(), r.task.Ops())
}

// calls counts the AWS calls op makes through inj when nothing crashes.
func calls(t *testing.T, inj *faults.Injector, op func()) []string {
	inj.Reset() // restart the count
	op()
	ops := inj.Ops()
	if len(ops) == 0 {
		t.Fatal("the operation made no AWS call")
	}
	return ops
}

type crashPoint struct {
	n    int
	op   string
	when faults.When
}

func (p crashPoint) String() string { return fmt.Sprintf("%s_%d_%s", p.when, p.n, p.op) }

func points(ops []string) []crashPoint {
	var ps []crashPoint
	for i, op := range ops {
		for _, w := range []faults.When{faults.Before, faults.After} {
			ps = append(ps, crashPoint{n: i + 1, op: op, when: w})
		}
	}
	return ps
}

// TestCrashResume crashes a resume at each of its AWS calls; the caller
// then retries. With an idempotency key the retry carries the same key and
// the payload must arrive exactly once; without one (a naive caller) a
// duplicate is admitted once anything was written.
func TestCrashResume(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		key    bool
		parked bool // an await is parked when the resume comes (else it is stored)
	}{
		{"parked/key", true, true},
		{"parked/plain", false, true},
		{"stored/key", true, false},
		{"stored/plain", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := ""
			if tc.key {
				key = "k-P1"
			}
			// The calls of one such resume, counted on a run of its own.
			probe := newCrashRun(t, true)
			probe.setup(tc.parked)
			ops := calls(t, probe.resumer, func() {
				if _, err := probe.victim.ResumeHook(context.Background(), probe.token, payload("P1"), idem(key)...); err != nil {
					t.Fatal(err)
				}
			})
			probe.resume("P2", "")
			probe.startIf(!tc.parked, 2)
			probe.expect(probe.received(), []string{"P1", "P2"}, "")
			t.Logf("resume %s: %v", tc.name, ops)

			for _, p := range points(ops) {
				t.Run(p.String(), func(t *testing.T) {
					t.Parallel()
					r := newCrashRun(t, true)
					r.setup(tc.parked)
					if c := r.crashResume("P1", key, p.n, p.when); c == nil {
						t.Fatalf("no crash at %v; calls %v", p, r.resumer.Ops())
					}
					answers := r.resumer.Answers()
					// The caller saw no answer: it retries (after a pause, as
					// a client backs off).
					time.Sleep(crashRedrive + 50*time.Millisecond)
					r.resume("P1", key)
					r.resume("P2", "")
					r.startIf(!tc.parked, 3)
					// A plain retry may duplicate P1 only if the crashed
					// attempt wrote it (duplicateAdmitted).
					firstWrite := 2 // stored: R1 fails its condition, S1 writes
					if tc.parked {
						firstWrite = 1 // R1 takes the waiter
					}
					dup := ""
					if !tc.key && duplicateAdmitted(firstWrite, p.n, p.when) {
						dup = "P1"
					}
					if !tc.key {
						// The chaos test, which cannot know where the write
						// is, reads it from the answers: the same rule.
						want := 0
						if dup != "" {
							want = firstWrite
						}
						if got := acknowledgingWrite(answers); got != want {
							t.Errorf("acknowledgingWrite of %+v = %d, want %d", answers, got, want)
						}
					}
					r.expect(r.received(), []string{"P1", "P2"}, dup)
				})
			}
		})
	}
}

// duplicateAdmitted reports whether the retry of a plain (unkeyed) resume
// that crashed at call n (when) may deliver its payload a second time
// (docs/protocol.md, "One duplicate window", 1): only if the crashed
// attempt had made the write that acknowledges the payload, call
// firstWrite (R1 when it takes a parked await, S1 when it stores; 0: it
// made none). Before that call, or after an R1 that failed its condition,
// nothing was written and the payload must arrive exactly once.
func duplicateAdmitted(firstWrite, n int, when faults.When) bool {
	return firstWrite > 0 && (n > firstWrite || (n == firstWrite && when == faults.After))
}

// acknowledgingWrite is the call of a plain resume's attempt that wrote
// its payload, read from what the attempt's calls answered
// (faults.Injector.Answers): R1, its first call, when that UpdateItem
// succeeded (it took a parked await); else the first TransactWriteItems
// that succeeded (S1 stored it); 0 when the attempt made neither. A
// redrive of an older record between R1 and S1 may write with a
// TransactWriteItems (its requeue or commit), which is then taken for S1:
// that only admits a duplicate that cannot happen, never refuses one that
// can.
func acknowledgingWrite(answers []faults.Answer) int {
	if len(answers) == 0 {
		return 0
	}
	if r1 := answers[0]; r1.Op == "DynamoDB.UpdateItem" && r1.Made && r1.Err == nil {
		return r1.N
	}
	for _, a := range answers[1:] {
		if a.Op == "DynamoDB.TransactWriteItems" && a.Made && a.Err == nil {
			return a.N
		}
	}
	return 0
}

// setup brings the run to the state a resume under test finds: an await
// parked (the execution started), or the hook registered and idle (the
// execution not started yet; startIf starts it later).
func (r *crashRun) setup(parked bool) {
	r.t.Helper()
	if parked {
		r.start(3)
		r.waiting(r.token)
	}
}

func (r *crashRun) startIf(ok bool, count int) {
	r.t.Helper()
	if ok {
		r.start(count)
	}
}

func idem(key string) []hooks.ResumeOption {
	if key == "" {
		return nil
	}
	return []hooks.ResumeOption{hooks.WithIdempotencyKey(key)}
}

// TestCrashAwait crashes the hook-task function's await at each of its AWS
// calls: taking a stored payload (6 calls) and parking (1 call). Step
// Functions retries the invocation (Lambda.Unknown); moto keeps the task
// token across the retry (pkg/hooks TestCrashedAwaitRetriedWithNewToken
// gives each attempt a new one). Every payload must arrive exactly once, in
// order, wherever the crash comes: a crash after SendTaskSuccess and before
// the commit is settled from the history as delivered, not sent again.
func TestCrashAwait(t *testing.T) {
	t.Parallel()
	t.Run("stored", func(t *testing.T) {
		t.Parallel()
		for _, p := range points(awaitStoredOps) {
			t.Run(p.String(), func(t *testing.T) {
				t.Parallel()
				r := newCrashRun(t, true)
				r.resume("P1", "")
				r.resume("P2", "")
				r.task.CrashAt(createCalls+p.n, p.when) // the first await's calls
				r.start(3)
				got := r.received()
				if r.task.Armed() {
					t.Fatalf("the await made fewer calls than %d: %v", p.n, r.task.Ops())
				}
				r.expect(got, []string{"P1", "P2"}, "")
			})
		}
	})
	t.Run("parks", func(t *testing.T) {
		t.Parallel()
		for _, when := range []faults.When{faults.Before, faults.After} {
			t.Run(when.String(), func(t *testing.T) {
				t.Parallel()
				r := newCrashRun(t, true)
				r.task.CrashAt(createCalls+1, when) // the first await's A1
				r.start(2)
				r.waitFor("the retried await to park", func() bool {
					st, err := r.clean.GetHook(context.Background(), r.token)
					return err == nil && st.Waiting && !r.task.Armed()
				})
				r.resume("P1", "")
				r.resume("P2", "")
				r.expect(r.received(), []string{"P1", "P2"}, "")
			})
		}
	})
}

// createCalls is the number of AWS calls of the collect example's create,
// which comes before its first await.
const createCalls = 1

// awaitStoredOps are the AWS calls of an await that takes a stored payload
// (docs/protocol.md: A1 fails, A2, A3, A4, A5). TestCrashAwait checks the
// list against a real run.
var awaitStoredOps = []string{"DynamoDB.UpdateItem", "SFN.SendTaskHeartbeat", "DynamoDB.Query", "DynamoDB.UpdateItem", "SFN.SendTaskSuccess", "DynamoDB.TransactWriteItems"}

// TestAwaitStoredCalls pins awaitStoredOps to what an await does.
func TestAwaitStoredCalls(t *testing.T) {
	t.Parallel()
	r := newCrashRun(t, true)
	r.resume("P1", "")
	r.start(2)
	r.waitFor("the first await to take P1", func() bool {
		st, err := r.clean.GetHook(context.Background(), r.token)
		return err == nil && st.Delivered == 1
	})
	// The execution's create comes first, and the next await may have
	// begun already: compare the calls of the first await.
	if ops := r.task.Ops(); len(ops) < createCalls+len(awaitStoredOps) || !slices.Equal(ops[createCalls:createCalls+len(awaitStoredOps)], awaitStoredOps) {
		t.Errorf("an await taking a stored payload called %v, want %v", ops, awaitStoredOps)
	}
	r.resume("P2", "")
	r.expect(r.received(), []string{"P1", "P2"}, "")
}

// TestCrashCreateAndDispose crashes the create and the dispose of the hook
// at each of their calls; Step Functions retries them, and both are
// idempotent: the execution succeeds with its payloads, and the hook is gone
// at the end.
func TestCrashCreateAndDispose(t *testing.T) {
	t.Parallel()
	for _, p := range points([]string{"DynamoDB.UpdateItem"}) {
		t.Run("create/"+p.String(), func(t *testing.T) {
			t.Parallel()
			// The execution's first call is the create: arm before it starts.
			r := newCrashRun(t, false)
			r.task.CrashAt(p.n, p.when) // the execution's first call is the create
			r.start(1)
			r.waiting(r.token)
			r.resume("P1", "")
			r.expect(r.received(), []string{"P1"}, "")
			r.gone()
		})
	}
	for _, p := range points([]string{"DynamoDB.DeleteItem", "DynamoDB.BatchWriteItem"}) {
		t.Run("dispose/"+p.String(), func(t *testing.T) {
			t.Parallel()
			// One await, two payloads stored before it: the await takes P1
			// (its calls come first), then the dispose deletes the hook item
			// and P2.
			r := newCrashRun(t, true)
			r.resume("P1", "")
			r.resume("P2", "")
			r.task.CrashAt(createCalls+len(awaitStoredOps)+p.n, p.when)
			r.start(1)
			var out collectOutput
			r.succeeded(r.arn, &out)
			if r.task.Armed() {
				t.Fatalf("the await and dispose made fewer calls than %d: %v", len(awaitStoredOps)+p.n, r.task.Ops())
			}
			if len(out.Received) != 1 || !strings.Contains(string(out.Received[0]), "P1") {
				t.Errorf("received %s, want P1 only", out.Received)
			}
			r.gone()
		})
	}
}

// gone checks that the hook no longer exists.
func (r *crashRun) gone() {
	r.t.Helper()
	if _, err := r.clean.GetHook(context.Background(), r.token); !errors.Is(err, hooks.ErrHookNotFound) {
		r.t.Errorf("after the execution: GetHook = %v, want ErrHookNotFound", err)
	}
}

// TestThrottledCallsAreRetried throttles every AWS call of a resumer and of
// the hook-task function on the wire: each request's first two attempts get
// ProvisionedThroughputExceededException (DynamoDB) or ThrottlingException
// (Step Functions). The SDK's retryer absorbs them: every payload arrives
// once, in order. Throttling that outlasts the retryer surfaces as an error
// with nothing acknowledged, and the caller's retry with the same key
// delivers the payload once.
func TestThrottledCallsAreRetried(t *testing.T) {
	t.Parallel()
	resumer, task := &faults.Throttler{Attempts: 2}, &faults.Throttler{Attempts: 2}
	fastBackoff := func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 20 * time.Millisecond })
	}
	r := newCrashRun(t, true, func(victim, taskCfg *aws.Config) {
		resumer.Inner, task.Inner = awshttp.NewBuildableClient(), awshttp.NewBuildableClient()
		victim.HTTPClient, victim.Retryer = resumer, fastBackoff
		taskCfg.HTTPClient, taskCfg.Retryer = task, fastBackoff
	})
	ctx := context.Background()
	resume := func(name, key string) error {
		_, err := r.victim.ResumeHook(ctx, r.token, payload(name), idem(key)...)
		return err
	}
	if err := resume("P1", ""); err != nil { // stored
		t.Fatalf("resume P1: %v", err)
	}
	r.start(4)
	r.waiting(r.token)
	if err := resume("P2", ""); err != nil { // to the parked await
		t.Fatalf("resume P2: %v", err)
	}
	r.waiting(r.token)
	if err := resume("P3", "k-P3"); err != nil {
		t.Fatalf("resume P3: %v", err)
	}
	r.waiting(r.token)
	calls := len(r.resumer.Ops())
	if got := resumer.Throttled(); got != int64(2*calls) {
		t.Errorf("resumer: %d throttled answers for %d calls, want 2 per call", got, calls)
	}

	// Throttled beyond the retryer's 3 attempts: an error, nothing applied.
	resumer.Attempts = 3
	err := resume("P4", "k-P4")
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ProvisionedThroughputExceededException" || hooks.ErrorFor(err).Status != 500 {
		t.Fatalf("resume P4 throttled beyond retries: %v, want ProvisionedThroughputExceededException (500 InternalError)", err)
	}
	if st, err := r.clean.GetHook(ctx, r.token); err != nil || !st.Waiting || st.Pending != 0 {
		t.Fatalf("after the failed resume: %+v, %v: want the await still parked, nothing stored", st, err)
	}
	resumer.Attempts = 2
	if err := resume("P4", "k-P4"); err != nil {
		t.Fatalf("retry of P4: %v", err)
	}
	r.expect(r.received(), []string{"P1", "P2", "P3", "P4"}, "")
	if task.Throttled() < int64(2*len(r.task.Ops())) {
		t.Errorf("hook-task: %d throttled answers for %d calls, want 2 per call", task.Throttled(), len(r.task.Ops()))
	}
	t.Logf("throttled answers absorbed: resumer %d, hook-task %d", resumer.Throttled(), task.Throttled())
}

// TestCrashRespond crashes the payment example's respond task before and
// after its one AWS call (TransactWriteItems: the check that the execution
// holds the webhook, and the put of the response). Step Functions retries
// it; writing the same response again is idempotent, so the provider held
// by the manual webhook gets exactly the workflow's 200 OK, and the
// execution succeeds.
func TestCrashRespond(t *testing.T) {
	t.Parallel()
	for _, when := range []faults.When{faults.Before, faults.After} {
		t.Run(when.String(), func(t *testing.T) {
			t.Parallel()
			r := newCrashRun(t, false)
			w := r.webhookRoute()
			// The payment workflow's calls: createWebhook (1), the await
			// that parks (1), then the respond (1).
			r.task.CrashAt(3, when)
			arn := r.env.start("payment", map[string]string{"checkoutId": "c-" + randomSuffix()})
			token := r.webhookToken(arn)
			r.waiting(token)
			a := w.do(token, webhookCall{Header: map[string]string{"Content-Type": "application/json"}, Body: []byte(`{"paid": true, "amount": 4200}`)})
			if a.Status != 200 || string(a.Body) != "OK" {
				t.Errorf("provider got %d %q, want 200 OK", a.Status, a.Body)
			}
			var out struct {
				Payment json.RawMessage `json:"payment"`
			}
			r.succeeded(arn, &out)
			if r.task.Armed() || r.task.Ops()[2] != "DynamoDB.TransactWriteItems" {
				t.Fatalf("no crash at the respond: %v", r.task.Ops())
			}
			if string(out.Payment) != `{"paid":true,"amount":4200}` {
				t.Errorf("payment %s", out.Payment)
			}
			// The retried respond succeeded (the example's Catch of
			// ResponseAlreadySentError was not needed).
			r.mu.Lock()
			defer r.mu.Unlock()
			if len(r.taskErrs) > 0 {
				t.Errorf("the hook-task function failed: %v", r.taskErrs)
			}
		})
	}
}
