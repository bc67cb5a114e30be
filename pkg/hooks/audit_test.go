package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Tests for the five protocol bugs a test audit injected and no test
// caught (issue 20, section 3); each is a mutant of cmd/mutate (M60-M64).
// Step Functions is faults.Tasks: moto accepts a closed task's token
// (AWS answers TaskTimedOut) and cannot hold a task's end out of the
// history. Tasks are scheduled before their await runs, as on AWS
// (faults.Tasks.Schedule).

// awaitScheduled enters task's state (its TaskScheduled event is in the
// history) and parks its await on token.
func awaitScheduled(t *testing.T, c *hooks.Client, tasks *faults.Tasks, token, task string) {
	t.Helper()
	tasks.Schedule(task)
	mustAwait(t, c, token, task)
}

// TestClosedTaskSettledByItsOwnEnd (mutant M60, settle counting any
// task's TaskSucceeded with the same text): T0 received {"approved":true};
// T1 timed out, and a second, identical {"approved":true} sent to T1 is
// answered closed. T0's end is not T1's: the payload did not arrive, so it
// is kept for T2. Counting T0's output as T1's acknowledges it and loses it.
func TestClosedTaskSettledByItsOwnEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "ownend-" + suffix()
	approved := json.RawMessage(`{"approved":true}`)
	awaitScheduled(t, c, tasks, token, "T0")
	if _, err := c.ResumeHook(ctx, token, approved); err != nil {
		t.Fatal(err)
	}
	if out, _ := tasks.Output("T0"); out != string(approved) {
		t.Fatalf("T0 received %q, want %s", out, approved)
	}
	awaitScheduled(t, c, tasks, token, "T1")
	tasks.Close("T1") // timed out: its TaskTimedOut is in the history
	if _, err := c.ResumeHook(ctx, token, approved); err != nil {
		t.Fatalf("the second %s to a timed-out task: %v, want it acknowledged and kept", approved, err)
	}
	if n := pending(t, c, token); n != 1 {
		t.Fatalf("%d pending after the second %s reached no task, want 1 (kept for the next await)", n, approved)
	}
	awaitScheduled(t, c, tasks, token, "T2")
	if out, ok := tasks.Output("T2"); !ok || out != string(approved) {
		t.Fatalf("T2 received %q (%v), want the second %s", out, ok, approved)
	}
}

// TestKeyedRequeueKeepsItsPlace (mutant M61, a keyed resume's in-flight
// record without its queue position): as TestRequeueKeepsItsPlace, with
// P1 resumed with an idempotency key. P1 took the waiter T1 (I2), P2 was
// stored while P1 was in flight, then T1 answered closed: P1 goes back to
// the place it was acknowledged at, ahead of P2.
func TestKeyedRequeueKeepsItsPlace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, table := guaranteeClient(t, inj, tasks)
	other, err := hooks.New(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()), func(o *hooks.Options) {
		o.TableName = table
		o.StepFunctions = tasks
	})
	if err != nil {
		t.Fatal(err)
	}
	token := "keyed-place-" + suffix()
	awaitScheduled(t, c, tasks, token, "T1")
	tasks.Close("T1")
	var p2Err error
	p2 := false
	inj.Reset()
	inj.FailWith(func(call faults.Call) error {
		// P1's I1 GetItem, I2 TransactWriteItems, then R2 SendTaskSuccess:
		// P2 comes first (stored: P1's record is in flight).
		if call.Op == "SFN.SendTaskSuccess" && !p2 {
			p2 = true
			_, p2Err = other.ResumeHook(ctx, token, json.RawMessage(`{"n":2}`))
		}
		return nil
	})
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`), hooks.WithIdempotencyKey("k1")); err != nil {
		t.Fatalf("keyed resume P1 to a closed task: %v, want it kept", err)
	}
	inj.Reset()
	if !p2 || p2Err != nil {
		t.Fatalf("resume P2 while P1 was in flight: ran %v, %v (P1's calls %v)", p2, p2Err, inj.Ops())
	}
	for i, want := range []string{`{"n":1}`, `{"n":2}`} {
		task := fmt.Sprintf("T%d", i+2)
		awaitScheduled(t, c, tasks, token, task)
		if out, _ := tasks.Output(task); out != want {
			t.Fatalf("%s received %q, want %s (acknowledgement order)", task, out, want)
		}
	}
}

// TestKeyedReplayFindsItsStoredPayload (mutant M62, a keyed replay that
// stores again without looking among the stored payloads): a keyed resume
// took the waiter T1, whose task had timed out, so its payload was
// requeued (stored). Its retry with the key must find it stored and answer
// "applied" without storing it a second time; storing it again delivers it
// twice under one idempotency key.
func TestKeyedReplayFindsItsStoredPayload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "replay-stored-" + suffix()
	p := json.RawMessage(`{"n":1}`)
	awaitScheduled(t, c, tasks, token, "T1")
	tasks.Close("T1")
	if _, err := c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k")); err != nil {
		t.Fatalf("keyed resume to a timed-out task: %v, want it kept", err)
	}
	if n := pending(t, c, token); n != 1 {
		t.Fatalf("%d pending after the requeue, want 1", n)
	}
	if _, err := c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k")); err != nil {
		t.Fatalf("retry with the key: %v", err)
	}
	if n := pending(t, c, token); n != 1 {
		t.Fatalf("%d pending after the retry with the key, want 1: the payload is stored once", n)
	}
	awaitScheduled(t, c, tasks, token, "T2")
	awaitScheduled(t, c, tasks, token, "T3")
	if out, _ := tasks.Output("T2"); out != string(p) {
		t.Errorf("T2 received %q, want %s", out, p)
	}
	if out, ok := tasks.Output("T3"); ok {
		t.Errorf("T3 received %s: one idempotency key delivered twice", out)
	}
}

// TestLaggingEndOfThisTaskNotRequeued (mutant M63, "closed" decided by
// some task of the execution having ended): T0 ended (it received P0);
// T1 is scheduled and its send is answered closed while its end is not in
// the history yet (the history lags the answer: T1 may have just succeeded
// with this very payload, sent by someone else). T0's end says nothing
// about T1: the outcome is unknown and the record stays in flight, not
// requeued (a requeue could deliver P1 twice).
func TestLaggingEndOfThisTaskNotRequeued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, db, table := guaranteeClient(t, inj, tasks)
	token := "lagging-" + suffix()
	awaitScheduled(t, c, tasks, token, "T0")
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":0}`)); err != nil {
		t.Fatal(err)
	}
	awaitScheduled(t, c, tasks, token, "T1")
	inj.FailWith(func(call faults.Call) error {
		if call.Op == "SFN.SendTaskSuccess" {
			return &sfntypes.TaskTimedOut{Message: aws.String("Task Timed Out")}
		}
		return nil
	})
	_, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`))
	inj.Reset()
	if err == nil || hooks.ErrorFor(err).Status != 500 {
		t.Fatalf("resume whose closed task's end is not in the history (only T0's is): %v, want a 500 (outcome unknown)", err)
	}
	if n := pending(t, c, token); n != 0 {
		t.Fatalf("%d pending: P1 was requeued on another task's end", n)
	}
	f, _ := getHookItem(t, db, table, token)["inflight"].(*types.AttributeValueMemberM)
	if p, _ := f.Value["payload"].(*types.AttributeValueMemberS); p == nil || p.Value != `{"n":1}` {
		t.Fatalf("in flight: %v, want P1's record kept for a redrive", f)
	}
}

// TestRequeueKeepsThePendingCap (mutant M64, a requeue that moves dlv
// back but not lim): a hook with maxPending 2; P1 took the waiter T1,
// whose task had timed out, and was requeued. With P1 and P2 pending the
// hook is full: P3 is refused. Invariant L (lim = dlv + maxPending) holds
// after the requeue.
func TestRequeueKeepsThePendingCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, db, table := guaranteeClient(t, inj, tasks)
	token := "requeue-cap-" + suffix()
	tasks.Schedule("T1")
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA, MaxPending: 2}, TaskToken: "T1"}); err != nil {
		t.Fatal(err)
	}
	tasks.Close("T1")
	for _, p := range []string{`{"n":1}`, `{"n":2}`} {
		if _, err := c.ResumeHook(ctx, token, json.RawMessage(p)); err != nil {
			t.Fatalf("resume %s: %v", p, err)
		}
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":3}`)); !errors.Is(err, hooks.ErrTooManyPending) {
		t.Errorf("resume P3 with P1 (requeued) and P2 pending under maxPending 2: %v, want ErrTooManyPending", err)
	}
	if n := pending(t, c, token); n != 2 {
		t.Errorf("%d pending, want 2 (the cap)", n)
	}
	item := getHookItem(t, db, table, token)
	if lim, dlv := numAttr(item, "lim"), numAttr(item, "dlv"); lim != dlv+2 {
		t.Errorf("lim %d, dlv %d: want lim = dlv + maxPending (2)", lim, dlv)
	}
}

// numAttr is the number attribute name of item (-1 when absent).
func numAttr(item map[string]types.AttributeValue, name string) int64 {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return -1
	}
	var n int64
	if _, err := fmt.Sscan(v.Value, &n); err != nil {
		return -1
	}
	return n
}
