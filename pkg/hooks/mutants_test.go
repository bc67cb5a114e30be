package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Tests written for mutants of make mutate (cmd/mutate) that no other test
// killed. Each names the mutant; Step Functions is faults.Tasks where the
// emulator cannot hold a task open with a send outstanding.

// TestResumeBesideUncommittedHandOut (mutant M4, R1 without
// attribute_not_exists(inflight)): an await's hand-out of the stored P1 is
// in flight and uncommitted (its SendTaskSuccess failed with an unknown
// outcome; the task is still open). A resume of P2 meanwhile must store P2
// behind P1, not take the waiter: taking it would send P2 to T1 ahead of
// P1 and overwrite the hand-out record, so P1 would never be delivered.
func TestResumeBesideUncommittedHandOut(t *testing.T) {
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "handout-" + suffix()
	storePayloads(t, c, token, `{"n":1}`)
	// T1 takes P1 (A3); its send (A4) fails with an unknown outcome.
	inj.FailWith(func(call faults.Call) error {
		if call.Op == "SFN.SendTaskSuccess" {
			return errors.New("connection reset")
		}
		return nil
	})
	err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: "T1"})
	if err == nil {
		t.Fatal("await T1 with its send failing: nil error")
	}
	inj.Reset()
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	if out, ok := tasks.Output("T1"); ok {
		t.Fatalf("T1 received %s from a resume while its hand-out of P1 was in flight; want P2 stored", out)
	}
	if got := pending(t, c, token); got != 2 {
		t.Fatalf("pending %d after P2, want 2 (P1 handed out, uncommitted, and P2)", got)
	}
	// The retried await T1 sends its own hand-out again: P1, then T2 gets P2.
	mustAwait(t, c, token, "T1")
	if out, _ := tasks.Output("T1"); out != `{"n":1}` {
		t.Fatalf("T1 received %q, want P1", out)
	}
	mustAwait(t, c, token, "T2")
	if out, _ := tasks.Output("T2"); out != `{"n":2}` {
		t.Fatalf("T2 received %q, want P2", out)
	}
	if got := pending(t, c, token); got != 0 {
		t.Fatalf("pending %d at the end, want 0", got)
	}
}

// TestAwaitParksBetweenR1AndS1 (mutant M5, S1 without the not-Waiting
// term): a resume finds the hook Idle (R1 fails), and an await parks before
// its S1. S1 must fail (invariant W: never store while an await is parked)
// and the resume go round to R1 and deliver to that await; a stored
// payload would wait beside a parked await that nothing wakes.
func TestAwaitParksBetweenR1AndS1(t *testing.T) {
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
	token := "parks-" + suffix()
	reg := hooks.RegisterInput{Token: token, ExecutionARN: execA}
	if _, err := c.Register(ctx, reg); err != nil {
		t.Fatal(err)
	}
	// Just before the resume's first TransactWriteItems (S1), T1 parks:
	// another client, not through the injector.
	var parkErr error
	parked := false
	inj.FailWith(func(call faults.Call) error {
		if call.Op == "DynamoDB.TransactWriteItems" && !parked {
			parked = true
			parkErr = other.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T1"})
		}
		return nil
	})
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	inj.Reset()
	if !parked || parkErr != nil {
		t.Fatalf("the await before S1: ran %v, error %v", parked, parkErr)
	}
	if out, ok := tasks.Output("T1"); !ok || out != `{"n":1}` {
		st, _ := c.GetHook(ctx, token)
		t.Fatalf("T1, parked before S1, received %q (%v), want P1; hook: waiting %v pending %d", out, ok, st.Waiting, st.Pending)
	}
	if got := pending(t, c, token); got != 0 {
		t.Fatalf("pending %d, want 0", got)
	}
}

// TestReplayConfirmsItsOwnPayload (written for mutant M17, settle ignoring
// the output): a keyed resume took the waiter T1 and its resumer died before
// sending; T1 timed out and T2 awaits. The retry with the key must find no
// TaskSucceeded with its payload in the history (T0's, with another
// payload, does not count) and deliver it to T2, not answer "applied".
// Since a replay confirms against its own task T1 only (issue 20, defect
// 5), T0's output is never looked at and M17 is killed in e2e.
func TestReplayConfirmsItsOwnPayload(t *testing.T) {
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "confirm-" + suffix()
	mustAwait(t, c, token, "T0")
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":0}`)); err != nil {
		t.Fatal(err)
	}
	mustAwait(t, c, token, "T1")
	p := json.RawMessage(`{"n":1}`)
	inj.CrashAt(2, faults.After) // I1 GetItem, I2 TransactWriteItems, R2 SendTaskSuccess
	if crash := faults.Recover(func() { _, _ = c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k")) }); crash == nil || crash.Call.Op != "DynamoDB.TransactWriteItems" {
		t.Fatalf("crash %v, want one after I2: %v", crash, inj.Ops())
	}
	inj.Reset()
	tasks.Close("T1") // timed out without the payload
	mustAwait(t, c, token, "T2")
	if _, err := c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k")); err != nil {
		t.Fatalf("retry with the key: %v", err)
	}
	if out, ok := tasks.Output("T2"); !ok || out != string(p) {
		t.Fatalf("after the retry answered applied, T2 has %q (%v): want the payload delivered", out, ok)
	}
}

// TestHandOutNotOverwritten (mutant M7, A3 without its hand-out term): two
// awaits of one hook at once. X read the hook (A1, A2) and is about to
// name the stored P1 as its hand-out (A3) when Y does the same and sends
// P1 to its task, then dies before its commit (A5). X's A3 must fail on
// Y's uncommitted hand-out; X then settles it from the history (TY has
// P1: committed) and parks. Overwriting it would send P1 to TX as well.
// Since invariant T (issue 20) A3 is also refused here by its told term
// (TY is neither X's task nor one X failed), so M7 alone no longer
// changes this test's outcome: the test holds both terms together.
func TestHandOutNotOverwritten(t *testing.T) {
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, table := guaranteeClient(t, inj, tasks, func(o *hooks.Options) { o.HandOffWait = 100 * time.Millisecond })
	injY := faults.New()
	y, err := hooks.New(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()), func(o *hooks.Options) {
		o.TableName = table
		o.DynamoDB = injY.DynamoDB(dynamodb.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String())))
		o.StepFunctions = injY.StepFunctions(tasks)
	})
	if err != nil {
		t.Fatal(err)
	}
	token := "overwrite-" + suffix()
	reg := hooks.RegisterInput{Token: token, ExecutionARN: execA}
	if _, err := c.Register(ctx, reg); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	var yCrash *faults.Crash
	inj.Reset()
	inj.FailWith(func(call faults.Call) error {
		// X's calls: A1 UpdateItem, A1b SendTaskHeartbeat, A2 Query, A3 UpdateItem.
		if call.N == 4 && call.Op == "DynamoDB.UpdateItem" {
			injY.CrashAt(5, faults.After) // Y: A1, A1b, A2, A3, A4 SendTaskSuccess, then dies
			yCrash = faults.Recover(func() { _ = y.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "TY"}) })
		}
		return nil
	})
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "TX"}); err != nil {
		t.Fatalf("await TX: %v", err)
	}
	inj.Reset()
	if yCrash == nil || yCrash.Call.Op != "SFN.SendTaskSuccess" {
		t.Fatalf("Y's await: crash %v, want one after its SendTaskSuccess (%v)", yCrash, injY.Ops())
	}
	if out, ok := tasks.Output("TY"); !ok || out != `{"n":1}` {
		t.Fatalf("TY received %q (%v), want P1", out, ok)
	}
	if out, ok := tasks.Output("TX"); ok {
		t.Fatalf("TX received %s as well: one payload handed to two awaits", out)
	}
	st, err := c.GetHook(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Waiting || st.Pending != 0 || st.Delivered != 1 {
		t.Fatalf("hook: waiting %v pending %d delivered %d, want TX parked, P1 delivered once", st.Waiting, st.Pending, st.Delivered)
	}
}

// TestResumeRedrivesStaleDelivery (mutant M11, resume without the
// redrive): a resume took the waiter T1 (R1) and died before sending. The
// next resume, once the record is older than RedriveAfter, must send P1
// to T1 before storing P2: nothing else would (the execution awaits again
// only after T1 closes).
func TestResumeRedrivesStaleDelivery(t *testing.T) {
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks, func(o *hooks.Options) { o.RedriveAfter = 50 * time.Millisecond })
	token := "redrive-" + suffix()
	mustAwait(t, c, token, "T1")
	inj.CrashAt(1, faults.After) // R1 UpdateItem, R2 SendTaskSuccess
	if crash := faults.Recover(func() { _, _ = c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)) }); crash == nil || crash.Call.Op != "DynamoDB.UpdateItem" {
		t.Fatalf("crash %v, want one after R1: %v", crash, inj.Ops())
	}
	inj.Reset()
	time.Sleep(100 * time.Millisecond)
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	if out, ok := tasks.Output("T1"); !ok || out != `{"n":1}` {
		t.Fatalf("T1 received %q (%v), want P1 redriven by the next resume", out, ok)
	}
	if got := pending(t, c, token); got != 1 {
		t.Fatalf("pending %d, want 1 (P2)", got)
	}
}

// TestHandOutCommittedOnce (mutant M8, A5 without its key term): await X
// sent P1 (A4) and is slow to commit; await Y finds the hand-out older
// than HandOffWait, settles it from the history (TX has P1) and commits
// it. X's own commit lands before Y's next A1 and must change nothing: a
// second commit of the record would count P1 delivered twice (dlv past
// seq), and Y could never park.
func TestHandOutCommittedOnce(t *testing.T) {
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, table := guaranteeClient(t, inj, tasks)
	injY := faults.New()
	y, err := hooks.New(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()), func(o *hooks.Options) {
		o.TableName = table
		o.DynamoDB = injY.DynamoDB(dynamodb.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String())))
		o.StepFunctions = injY.StepFunctions(tasks)
		o.HandOffWait = 50 * time.Millisecond
	})
	if err != nil {
		t.Fatal(err)
	}
	token := "commit-once-" + suffix()
	reg := hooks.RegisterInput{Token: token, ExecutionARN: execA}
	if _, err := c.Register(ctx, reg); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	atA5, goA5, xDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	inj.Reset()
	inj.FailWith(func(call faults.Call) error {
		// X's calls: A1 UpdateItem, A1b SendTaskHeartbeat, A2 Query, A3
		// UpdateItem, A4 SendTaskSuccess, A5 TransactWriteItems: X waits
		// before A5.
		if call.N == 6 && call.Op == "DynamoDB.TransactWriteItems" {
			close(atA5)
			<-goA5
		}
		return nil
	})
	go func() { xDone <- c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "TX"}) }()
	select {
	case <-atA5:
	case err := <-xDone:
		t.Fatalf("await TX ended before its commit: %v (%v)", err, inj.Ops())
	case <-time.After(10 * time.Second):
		t.Fatal("await TX did not reach its commit")
	}
	time.Sleep(100 * time.Millisecond) // the hand-out is older than Y's HandOffWait
	var xErr error
	xCommitted := false
	injY.FailWith(func(call faults.Call) error {
		// Y: A1 (fails), GetItem, GetExecutionHistory, commit, then A1
		// again: X's late commit lands just before it.
		if call.Op == "DynamoDB.UpdateItem" && call.N > 1 && !xCommitted {
			xCommitted = true
			close(goA5)
			xErr = <-xDone
		}
		return nil
	})
	yErr := y.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "TY"})
	if !xCommitted {
		close(goA5)
		<-xDone
		t.Fatalf("Y's await made no second A1, so X's commit could not come late: %v (%v)", yErr, injY.Ops())
	}
	inj.Reset()
	injY.Reset()
	if xErr != nil || yErr != nil {
		t.Fatalf("await TX: %v; await TY: %v", xErr, yErr)
	}
	if out, _ := tasks.Output("TX"); out != `{"n":1}` {
		t.Fatalf("TX received %q, want P1", out)
	}
	if out, ok := tasks.Output("TY"); ok {
		t.Fatalf("TY received %s, want it parked", out)
	}
	st, err := c.GetHook(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Waiting || st.Pending != 0 || st.Delivered != 1 {
		t.Fatalf("hook: waiting %v pending %d delivered %d, want TY parked and P1 counted once", st.Waiting, st.Pending, st.Delivered)
	}
}

// TestRequeueKeepsItsPlace (mutant M14, requeue at the end): P1 took the
// waiter T1 (R1), P2 was stored while P1 was in flight, then T1 answered
// closed (timed out). P1 goes back to its own place, ahead of P2.
func TestRequeueKeepsItsPlace(t *testing.T) {
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
	token := "requeue-place-" + suffix()
	mustAwait(t, c, token, "T1")
	tasks.Close("T1")
	var p2Err error
	inj.Reset()
	inj.FailWith(func(call faults.Call) error {
		// P1's R1 UpdateItem, then R2 SendTaskSuccess: P2 comes first.
		if call.N == 2 && call.Op == "SFN.SendTaskSuccess" {
			_, p2Err = other.ResumeHook(ctx, token, json.RawMessage(`{"n":2}`))
		}
		return nil
	})
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatalf("resume P1 to a closed task: %v, want it kept", err)
	}
	inj.Reset()
	if p2Err != nil {
		t.Fatalf("resume P2: %v", p2Err)
	}
	for i, want := range []string{`{"n":1}`, `{"n":2}`} {
		task := fmt.Sprintf("T%d", i+2)
		mustAwait(t, c, token, task)
		if out, _ := tasks.Output(task); out != want {
			t.Fatalf("%s received %q, want %s (acknowledgement order)", task, out, want)
		}
	}
}
