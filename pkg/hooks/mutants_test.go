package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sfnhooks/sfnhooks/internal/devstack"
	"github.com/sfnhooks/sfnhooks/internal/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/faults"
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
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
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
