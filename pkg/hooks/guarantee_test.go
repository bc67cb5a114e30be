package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The delivery guarantee under faults moto cannot produce (issue 9). Each
// test runs on moto's DynamoDB; Step Functions is faults.Tasks, which
// answers a closed task as AWS does (moto accepts it) and keeps the
// history the library settles closed tasks with. Crashes come from the
// faults injector.

// guaranteeClient is a client on a fresh moto table whose Step Functions
// calls go through inj to tasks.
func guaranteeClient(t *testing.T, inj *faults.Injector, tasks *faults.Tasks, optFns ...func(*hooks.Options)) (*hooks.Client, *dynamodb.Client, string) {
	t.Helper()
	moto := dynamodb.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()))
	c, db, table := newTestClient(t, &awscalls.Counter{}, append([]func(*hooks.Options){func(o *hooks.Options) {
		o.DynamoDB = inj.DynamoDB(moto)
		o.StepFunctions = inj.StepFunctions(tasks)
	}}, optFns...)...)
	return c, db, table
}

func mustAwait(t *testing.T, c *hooks.Client, token, task string) {
	t.Helper()
	if err := c.Await(context.Background(), hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: task}); err != nil {
		t.Fatalf("await %s: %v", task, err)
	}
}

func pending(t *testing.T, c *hooks.Client, token string) int64 {
	t.Helper()
	st, err := c.GetHook(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return st.Pending
}

// Item 1: an idempotent resume whose resumer died after I2 (the key and
// the delivery committed) and before SendTaskSuccess, retried at once with
// the same key, must deliver before it answers "applied". It used to
// answer at once and leave the delivery to a redrive 10 s later.
func TestReplayDeliversAtOnce(t *testing.T) {
	t.Parallel()
	for _, fault := range []string{"crash", "throttled"} {
		t.Run(fault, func(t *testing.T) {
			ctx := context.Background()
			inj, tasks := faults.New(), faults.NewTasks()
			c, _, _ := guaranteeClient(t, inj, tasks)
			token := "replay-" + suffix()
			mustAwait(t, c, token, "T1")
			p := json.RawMessage(`{"approved":true}`)
			switch fault {
			case "crash":
				inj.CrashAt(2, faults.After) // I1 GetItem, I2 TransactWriteItems, R2 SendTaskSuccess
				if crash := faults.Recover(func() { _, _ = c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k")) }); crash == nil || crash.Call.Op != "DynamoDB.TransactWriteItems" {
					t.Fatalf("crash %v, want one after I2: %v", crash, inj.Ops())
				}
			case "throttled":
				inj.FailWith(func(call faults.Call) error {
					if call.Op == "SFN.SendTaskSuccess" {
						return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
					}
					return nil
				})
				if _, err := c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k")); err == nil || hooks.ErrorFor(err).Status != 500 {
					t.Fatalf("resume with SendTaskSuccess throttled: %v, want a 500 (outcome unknown)", err)
				}
			}
			inj.Reset()
			if _, ok := tasks.Output("T1"); ok {
				t.Fatal("T1 completed before the retry: the fault did not hold the delivery back")
			}
			if _, err := c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k")); err != nil {
				t.Fatalf("retry with the key: %v", err)
			}
			if out, ok := tasks.Output("T1"); !ok || out != string(p) {
				t.Fatalf("after the retry answered applied, T1 has %q (%v): want the payload delivered", out, ok)
			}
			if n := pending(t, c, token); n != 0 {
				t.Errorf("pending %d, want 0", n)
			}
		})
	}
}

// Item 2: an await retried with the same task token finds its own
// hand-out of a stored payload in flight, and Step Functions says the task
// is over (it timed out meanwhile). The payload did not reach it, so it
// must stay for the next await; it used to be committed (deleted).
func TestRetriedAwaitOnClosedTaskKeepsPayload(t *testing.T) {
	t.Parallel()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "sametoken-" + suffix()
	storePayloads(t, c, token, `{"p":1}`)
	inj.CrashAt(3, faults.After) // A1 (fails: pending), A2 Query, A3 UpdateItem: hand-out written
	if crash := faults.Recover(func() { mustAwait(t, c, token, "T1") }); crash == nil {
		t.Fatalf("no crash: %v", inj.Ops())
	}
	tasks.Close("T1") // the task times out before its retry runs
	mustAwait(t, c, token, "T1")
	if n := pending(t, c, token); n != 1 {
		t.Fatalf("after the retried await of a closed task: %d pending, want the payload kept (1)", n)
	}
	mustAwait(t, c, token, "T2")
	if out, ok := tasks.Output("T2"); !ok || out != `{"p":1}` {
		t.Errorf("T2 got %q (%v), want the kept payload", out, ok)
	}
}

// Item 3: the SDK resends R1 after DynamoDB applied it (the answer was
// lost). The resend fails its condition on the record the first attempt
// wrote; that record is ours: the payload must be sent to the waiter, and
// not stored a second time.
func TestResentTakeWaiterIsRecognised(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stk := stacktest.RequireStack(t)
	tasks := faults.NewTasks()
	c, _, table := newTestClient(t, &awscalls.Counter{}, func(o *hooks.Options) { o.StepFunctions = tasks })
	token := "resent-" + suffix()
	mustAwait(t, c, token, "T1")

	var once sync.Once
	lose := &faults.LoseAnswer{Match: func(target string) bool {
		hit := false
		if strings.HasSuffix(target, ".UpdateItem") {
			once.Do(func() { hit = true })
		}
		return hit
	}}
	cfg := devstack.AWSConfig(stk.MotoURL.String())
	lose.Inner = cfg.HTTPClient
	if lose.Inner == nil {
		lose.Inner = awshttp.NewBuildableClient()
	}
	cfg.HTTPClient = lose
	resumer, err := hooks.New(cfg, func(o *hooks.Options) { o.TableName = table; o.StepFunctions = tasks })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resumer.ResumeHook(ctx, token, json.RawMessage(`{"p":1}`)); err != nil {
		t.Fatalf("resume whose R1 answer was lost and resent: %v", err)
	}
	if lose.Lost() != 1 {
		t.Fatalf("lost %d answers, want 1", lose.Lost())
	}
	if out, ok := tasks.Output("T1"); !ok || out != `{"p":1}` {
		t.Errorf("T1 got %q (%v), want the payload", out, ok)
	}
	if n := pending(t, c, token); n != 0 {
		t.Errorf("%d pending, want 0: the payload was stored as well as delivered", n)
	}
}

// Item 4: when the conflict cannot be reported to the awaiting task
// (SendTaskFailure throttled past the SDK's retries), the await must fail
// as an internal error, so that the invocation is retried; it used to
// match ErrConflict, which the handler answers as reported.
func TestUnreportedConflictIsRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "conflict-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	other := hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA + "-other"}, TaskToken: "TB"}
	inj.FailWith(func(call faults.Call) error {
		if call.Op == "SFN.SendTaskFailure" {
			return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
		}
		return nil
	})
	err := c.Await(ctx, other)
	if err == nil || errors.Is(err, hooks.ErrConflict) || hooks.ErrorFor(err).Status != 500 {
		t.Fatalf("await whose conflict could not be reported: %v, want a 500 that is not ErrConflict", err)
	}
	inj.Reset()
	var conflict *hooks.ConflictError
	if err := c.Await(ctx, other); !errors.As(err, &conflict) || conflict.ExecutionARN != execA {
		t.Fatalf("retried await: %v, want *ConflictError naming %s", err, execA)
	}
}

// Item 6: metadata and respondWith are capped, so the hook item with a
// payload in flight fits DynamoDB's 400 KB; a stored payload handed out by
// an await is named by the in-flight record, not copied into it.
func TestHookItemStaysSmall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, db, table := guaranteeClient(t, inj, tasks)
	token := "small-" + suffix()
	big := json.RawMessage(`"` + strings.Repeat("m", hooks.MaxHookDataBytes) + `"`)
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA, Metadata: big}); !errors.Is(err, hooks.ErrInvalidRequest) || !strings.Contains(err.Error(), "65536") {
		t.Fatalf("register with %d bytes of metadata: %v, want ErrInvalidRequest naming the limit", len(big), err)
	}
	if items := scanAll(t, db, table); len(items) != 0 {
		t.Fatalf("a refused register stored %d items", len(items))
	}
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	payload := `{"big":"` + strings.Repeat("p", 200_000) + `"}`
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(payload)); err != nil {
		t.Fatal(err)
	}
	inj.CrashAt(4, faults.After) // the await's hand-out (A3, after A1, A1b, A2) is written, then it dies
	if crash := faults.Recover(func() { mustAwait(t, c, token, "T1") }); crash == nil {
		t.Fatalf("no crash: %v", inj.Ops())
	}
	hook := getHookItem(t, db, table, token)
	f, ok := hook["inflight"].(*types.AttributeValueMemberM)
	if !ok {
		t.Fatalf("no hand-out in flight: %v", hook)
	}
	if _, copied := f.Value["payload"]; copied {
		t.Errorf("the hand-out copies the stored payload into the hook item")
	}
}

// Item 7: two awaits of one hook at once (Parallel branches, a duplicated
// invocation). The second must not take the payload the first is sending:
// each gets a distinct one.
func TestConcurrentAwaitsGetDistinctPayloads(t *testing.T) {
	t.Parallel()
	twoAwaits(t, "twoawaits-", 30*time.Second, false) // T1 is alive: never settle its hand-out
}

// twoAwaits stores P1 and P2, starts an await T1 whose SendTaskSuccess is
// held, then an await T2 (its client's HandOffWait is handOffWait), and
// lets T1 send only once T2 met T1's uncommitted hand-out: T2's A1 was
// refused (P1 is still pending) and T2 went round to A1 again instead of
// taking a stored payload, after settling the hand-out from the history
// first when settles. It requires T1 to get P1 and T2 to get P2, and
// checks that the meeting happened.
func twoAwaits(t *testing.T, prefix string, handOffWait time.Duration, settles bool) {
	t.Helper()
	ctx := context.Background()
	tasks := faults.NewTasks()
	inj1 := faults.New()
	c1, db, table := guaranteeClient(t, inj1, tasks)
	token := prefix + suffix()
	storePayloads(t, c1, token, `{"p":1}`, `{"p":2}`)
	sending, release := make(chan struct{}), make(chan struct{})
	inj1.FailWith(func(call faults.Call) error {
		if call.Op == "SFN.SendTaskSuccess" {
			close(sending)
			<-release
		}
		return nil
	})
	// T2's client goes through inj2, which tells when T2 has met the
	// hand-out and waits for its commit: an A1 that comes right after
	// T2's refused A1 (not the backlog's Query: P2 alone pending would
	// lead there), or, when it settles, right after its read of the
	// history (the task is open: T2 keeps waiting). The callback runs
	// before each call is made.
	inj2 := faults.New()
	met := make(chan struct{})
	var once sync.Once
	prev := ""
	inj2.FailWith(func(call faults.Call) error {
		waitsAgain := prev == "DynamoDB.UpdateItem"
		if settles {
			waitsAgain = prev == "SFN.GetExecutionHistory"
		}
		if call.Op == "DynamoDB.UpdateItem" && waitsAgain {
			once.Do(func() { close(met) })
		}
		prev = call.Op
		return nil
	})
	moto := dynamodb.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()))
	c2, err := hooks.New(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()), func(o *hooks.Options) {
		o.TableName = table
		o.DynamoDB = inj2.DynamoDB(moto)
		o.StepFunctions = inj2.StepFunctions(tasks)
		o.HandOffWait = handOffWait
	})
	if err != nil {
		t.Fatal(err)
	}
	await := func(c *hooks.Client, task string) error {
		return c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: task})
	}
	errs := make(chan error, 2)
	go func() { errs <- await(c1, "T1") }()
	select {
	case <-sending:
	case err := <-errs:
		t.Fatalf("T1 returned before it sent: %v (%v)", err, inj1.Ops())
	case <-time.After(30 * time.Second):
		t.Fatal("T1 never sent")
	}
	// What T2 is to meet: T1's hand-out of P1, uncommitted (it names the
	// stored payload by its key), with P1 and P2 pending. (Read without
	// c1: its injector is held by T1's send.)
	item := getHookItem(t, db, table, token)
	f, _ := item["inflight"].(*types.AttributeValueMemberM)
	w, _ := item["waiter"].(*types.AttributeValueMemberS)
	if f == nil || f.Value["key"] == nil || w == nil || w.Value != "T1" {
		t.Fatalf("while T1 sends: hook item %v, want T1's uncommitted hand-out in flight", item)
	}
	seq, _ := item["seq"].(*types.AttributeValueMemberN)
	dlv, _ := item["dlv"].(*types.AttributeValueMemberN)
	if seq == nil || dlv == nil || seq.Value != "2" || dlv.Value != "0" {
		t.Fatalf("while T1 sends: hook item %v, want seq 2, dlv 0 (P1 handed out, uncommitted; P2)", item)
	}
	go func() { errs <- await(c2, "T2") }()
	select {
	case <-met:
	case err := <-errs:
		close(release)
		t.Fatalf("an await returned before T2 met T1's hand-out: %v; T2's calls %v", err, inj2.Ops())
	case <-time.After(30 * time.Second):
		close(release)
		t.Fatalf("T2 did not meet T1's hand-out; its calls %v", inj2.Ops())
	}
	close(release)
	for range 2 {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("an await did not return")
		}
	}
	answers := inj2.Answers()
	var ccf *types.ConditionalCheckFailedException
	if len(answers) == 0 || answers[0].Op != "DynamoDB.UpdateItem" || !answers[0].Made || !errors.As(answers[0].Err, &ccf) {
		t.Errorf("T2's first call %+v, want its A1 refused on the pending payloads", answers)
	}
	if read := slices.Contains(inj2.Ops(), "SFN.GetExecutionHistory"); read != settles {
		t.Errorf("T2 read the history: %v, want %v; its calls %v", read, settles, inj2.Ops())
	}
	o1, _ := tasks.Output("T1")
	o2, _ := tasks.Output("T2")
	if o1 != `{"p":1}` || o2 != `{"p":2}` {
		t.Errorf("T1 got %q, T2 got %q; want P1 and P2, each once", o1, o2)
	}
}

// lostAnswerTasks completes the task on the first SendTaskSuccess, and on
// the first SendTaskFailure, and then answers each as the SDK's resend of
// it would: TaskTimedOut (window 3 of the old protocol: the answer of an
// applied call was lost and retried).
type lostAnswerTasks struct {
	*faults.Tasks
	successOnce, failureOnce sync.Once
}

func (l *lostAnswerTasks) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, o ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	l.successOnce.Do(func() { _, _ = l.Tasks.SendTaskSuccess(ctx, in, o...) }) // applied; the answer is lost
	return l.Tasks.SendTaskSuccess(ctx, in, o...)
}

func (l *lostAnswerTasks) SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, o ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	l.failureOnce.Do(func() { _, _ = l.Tasks.SendTaskFailure(ctx, in, o...) }) // applied; the answer is lost
	return l.Tasks.SendTaskFailure(ctx, in, o...)
}

// Item 8: a closed-task answer is settled from the execution history. When
// the task has the payload (an earlier attempt completed it), the payload
// is delivered, not requeued for a second delivery.
func TestClosedAnswerAfterAppliedSendIsSettled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, path := range []string{"resume", "await"} {
		t.Run(path, func(t *testing.T) {
			tasks := &lostAnswerTasks{Tasks: faults.NewTasks()}
			c, _, _ := newTestClient(t, &awscalls.Counter{}, func(o *hooks.Options) { o.StepFunctions = tasks })
			token := "settle-" + suffix()
			switch path {
			case "resume":
				mustAwait(t, c, token, "T1")
				if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":1}`)); err != nil {
					t.Fatal(err)
				}
			case "await":
				storePayloads(t, c, token, `{"p":1}`)
				mustAwait(t, c, token, "T1")
			}
			if tasks.HistoryReads() == 0 {
				t.Fatal("the closed-task answer was not settled from the history")
			}
			if n := pending(t, c, token); n != 0 {
				t.Fatalf("%d pending after a delivery that reached T1: it would be delivered twice", n)
			}
			mustAwait(t, c, token, "T2")
			if out, ok := tasks.Output("T2"); ok {
				t.Errorf("T2 got %q: the payload was delivered twice", out)
			}
		})
	}
}

// getHookItem reads the raw hook item of token.
func getHookItem(t *testing.T, db *dynamodb.Client, table, token string) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      &table,
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "HOOK#" + token}, "sk": &types.AttributeValueMemberS{Value: "HOOK"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// A committed hand-out of a stored payload keeps only {id, at} in the hook
// item until the next await. A later resume that finds it older than
// RedriveAfter must not send it again: there is no payload to send, and an
// empty one would be requeued and fail the next await (found by the chaos
// test, seed 4).
func TestCommittedHandOutIsNotRedriven(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks, func(o *hooks.Options) { o.RedriveAfter = 50 * time.Millisecond })
	token := "committed-" + suffix()
	storePayloads(t, c, token, `{"p":1}`)
	mustAwait(t, c, token, "T1") // hands out P1, sends it, commits
	time.Sleep(100 * time.Millisecond)
	inj.Reset()
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":2}`)); err != nil {
		t.Fatal(err)
	}
	for _, op := range inj.Ops() {
		if op == "SFN.SendTaskSuccess" {
			t.Fatalf("the resume sent something to the task of a committed hand-out: %v", inj.Ops())
		}
	}
	if n := pending(t, c, token); n != 1 {
		t.Fatalf("%d pending, want P2 alone", n)
	}
	mustAwait(t, c, token, "T2")
	if out, _ := tasks.Output("T2"); out != `{"p":2}` {
		t.Errorf("T2 got %q, want P2", out)
	}
}

// A closed-task answer whose end the history does not show yet (its events
// lag the answer: the task may have just succeeded with this very payload,
// sent by someone else) must not requeue the payload: the delivery stays
// in flight and the resume reports an unknown outcome. A requeue here
// delivered a payload twice in the crash tests under load.
func TestClosedAnswerBeforeHistoryIsNotRequeued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "lag-" + suffix()
	mustAwait(t, c, token, "T1")
	inj.FailWith(func(call faults.Call) error {
		if call.Op == "SFN.SendTaskSuccess" {
			return &sfntypes.TaskTimedOut{Message: aws.String("Task Timed Out")}
		}
		return nil
	})
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":1}`)); err == nil || hooks.ErrorFor(err).Status != 500 {
		t.Fatalf("resume whose closed task is not in the history: %v, want a 500 (outcome unknown)", err)
	}
	if n := pending(t, c, token); n != 0 {
		t.Fatalf("%d pending: the payload was requeued on a closed answer the history does not explain", n)
	}
}

// A hand-out older than HandOffWait whose task is still open (its await is
// slow, not dead: the history shows no end of the task) is waited for, not
// taken over: taking it over would deliver the payload twice when the slow
// await sends it.
func TestSlowHandOutIsNotTakenOver(t *testing.T) {
	t.Parallel()
	twoAwaits(t, "slowhandout-", 100*time.Millisecond, true) // stale long before T1 sends
}

// On AWS a plain write to an item that a transaction is writing at that
// moment fails with TransactionConflictException, which the SDK does not
// retry; on a hot hook an append (S1) or a commit (A5) holds the hook item
// often. moto serializes everything and never answers it (the
// internal/testbench/awsmodel benchmark found it). Resume, await and create retry it
// as contention.
func TestTransactionConflictIsRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	conflictOnce := func() {
		var once sync.Once
		inj.FailWith(func(call faults.Call) error {
			var err error
			if call.Op == "DynamoDB.UpdateItem" {
				once.Do(func() {
					err = &types.TransactionConflictException{Message: aws.String("Transaction is ongoing for the item")}
				})
			}
			return err
		})
	}
	token := "txconflict-" + suffix()
	conflictOnce()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatalf("create through a TransactionConflict: %v", err)
	}
	conflictOnce()
	mustAwait(t, c, token, "T1")
	conflictOnce()
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":1}`)); err != nil {
		t.Fatalf("resume through a TransactionConflict: %v", err)
	}
	if out, _ := tasks.Output("T1"); out != `{"p":1}` {
		t.Errorf("T1 got %q, want P1", out)
	}
}

// storePayloads registers token for execA and stores payloads, in order,
// for its next awaits.
func storePayloads(t *testing.T, c *hooks.Client, token string, payloads ...string) {
	t.Helper()
	if _, err := c.Register(context.Background(), hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	for _, p := range payloads {
		if _, err := c.ResumeHook(context.Background(), token, json.RawMessage(p)); err != nil {
			t.Fatal(err)
		}
	}
}
