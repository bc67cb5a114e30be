package sim

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Review 25b: an await whose A1 loop waits HandOffWait for another
// await's uncommitted hand-out outlives its execution. The execution is
// stopped and its end event disposes the hook (DisposeExecution, done:
// the hook is gone, its waiter told). The waiting await's next A1
// (c: attribute_not_exists(pk) OR executionArn = :E) registers the token
// again for the ended execution, with its own closed task as waiter: a
// "zombie" hook, until its TTL.
//
// The zombie is not cosmetic. Two resumes of the token that overlap after
// the end event was handled: the first one's R1 takes the closed waiter,
// the second one's R1 is refused (a delivery in flight) and its S1 stores
// its payload: acknowledged (200). The first one's send answers closed,
// the history says the execution ended, and the hook is disposed with the
// second payload in it (the first resume answers 404). An acknowledged
// payload that no task ever receives, acknowledged after its execution's
// end was handled: the auditor's `lost` (a resume that began after the
// last excuse), and docs/protocol.md's "Resuming an unknown, disposed or
// ended hook is 404, nothing stored".
//
// Fails on the code of 0099494.

// zombieAfterEndEvent builds the zombie and returns a client.
func zombieAfterEndEvent(t *testing.T, r *rig) {
	t.Helper()
	ctx := context.Background()
	r.sf.Start(reviewExec)
	reg, _ := r.client("create", nil)
	if _, err := reg.Register(ctx, hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}); err != nil {
		t.Fatal(err)
	}
	r25Resume(t, r, "resume0", `{"p":0}`) // stored: pending 1
	// Branch 0's await T1 hands P0 out (A3) and dies before its send.
	r.sf.NewTask("t1", reviewExec)
	aw1, _ := r.client("await1", map[string]rfault{"DynamoDB.UpdateItem#2": {kind: Crash}})
	err := invoke(func() error {
		return aw1.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}, TaskToken: "t1"})
	})
	t.Logf("await t1 (dies after A3): %v", err)
	// Branch 1's await T2 finds the young hand-out and waits for it; before
	// its second A1 the execution is stopped and the end event handled.
	t2 := r.sf.NewTask("t2", reviewExec)
	ended := false
	aw2, tp2 := r.client("await2", map[string]rfault{"DynamoDB.UpdateItem#2": {kind: None, between: func() {
		if err := r.sf.Stop(reviewExec); err != nil {
			t.Fatal(err)
		}
		ev, _ := r.client("events", nil)
		n, err := ev.DisposeExecution(ctx, reviewExec)
		if err != nil || n != 1 {
			t.Fatalf("end event: disposed %d, %v", n, err)
		}
		if _, err := ev.GetHook(ctx, "approval-r"); !errors.Is(err, hooks.ErrHookNotFound) {
			t.Fatalf("after the end event the hook should be gone: %v", err)
		}
		ended = true
	}}})
	r25AwaitSingle(t, aw2, "t2")
	if !ended {
		t.Fatalf("the interleaving did not run: %v", tp2.Calls)
	}
	t.Logf("await t2 calls %v; T2 %s", tp2.Calls, t2.State())
}

func r25AwaitSingle(t *testing.T, c *hooks.Client, tok string) {
	t.Helper()
	if err := invoke(func() error {
		return c.Await(context.Background(), hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}, TaskToken: tok})
	}); err != nil {
		t.Fatalf("await %s: %v", tok, err)
	}
}

// TestReview25bZombieAfterEndEvent: after the end event was handled, the
// stale await must not leave a hook of the ended execution behind.
func TestReview25bZombieAfterEndEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		zombieAfterEndEvent(t, r)
		c, _ := r.client("get", nil)
		if h, err := c.GetHook(context.Background(), "approval-r"); err == nil {
			t.Errorf("the ended execution's hook is registered again after its end event was handled: waiting %v, execution %s (a zombie until its TTL)", h.Waiting, h.ExecutionARN)
		}
	})
}

// TestReview25bZombieAcknowledgesForEndedExecution: two overlapping
// resumes of the zombie: the second is acknowledged, then disposed with
// the hook.
func TestReview25bZombieAcknowledgesForEndedExecution(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		zombieAfterEndEvent(t, r)
		var errY error
		acked := false
		// resume X's R1 takes the zombie's closed waiter; resume Y runs
		// while X sends.
		rx, _ := r.client("resumeX", map[string]rfault{"SFN.SendTaskSuccess#1": {kind: None, between: func() {
			ry, _ := r.client("resumeY", nil)
			_, errY = ry.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"y"}`))
			acked = errY == nil
		}}})
		_, errX := rx.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"x"}`))
		t.Logf("resume X: %v; resume Y: %v", errX, errY)
		if acked {
			c, _ := r.client("get", nil)
			_, gerr := c.GetHook(ctx, "approval-r")
			t.Errorf("resume Y was acknowledged (200) for an execution that had ended and whose end event had been handled before Y began; no task will ever receive it (the hook now: %v)", gerr)
		}
	})
}
