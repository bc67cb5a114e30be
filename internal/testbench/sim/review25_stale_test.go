package sim

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Review 25: a stale await of a closed task (the SDK's resend of its A1
// after a lost answer) that finds payloads pending goes to the backlog
// path (deliverBatch / deliverBacklog) without checking that its own task
// is still open (the A1 "default" branch does, await.go; the backlog
// branch does not). It hands a stored payload out to its closed task;
// the send answers closed and the hand-out is settled from the history by
// the output TEXT of that task. The task's real output (an earlier
// payload with the same text) matches, so the stored payload is
// committed (deleted, dlv advanced) without ever reaching a task.

func r25Await(t *testing.T, c *hooks.Client, tok string, maxBatch int) {
	t.Helper()
	if err := invoke(func() error {
		return c.Await(context.Background(), hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}, TaskToken: tok, MaxBatch: maxBatch})
	}); err != nil {
		t.Fatalf("await %s: %v", tok, err)
	}
}

func r25Resume(t *testing.T, r *rig, name, payload string) {
	t.Helper()
	rc, _ := r.client(name, nil)
	if _, err := rc.ResumeHook(context.Background(), "approval-r", json.RawMessage(payload)); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

// staleResendLosesTwin runs the schedule with batch awaits (maxBatch > 0)
// or single awaits (maxBatch 0):
//
//  1. T2's A1 applies (T2 parked); its answer is lost.
//  2. resume1 X → R1 completes T2 with X (batch: {"items":[X]}).
//  3. T3 (the loop's next await) tells T2 (closed) and parks.
//  4. resume2 X → R1 completes T3 with X (fast path: record not marked).
//  5. resume3 X → stored (the record is in flight): acknowledged, pending 1.
//  6. The SDK resends T2's A1: refused (pending) → backlog path → A3 tells
//     T3 (closed) and hands resume3's X out to T2 → SendTaskSuccess(T2)
//     answers closed → settled: T2's history output equals the hand-out's
//     output → "delivered" → committed.
//  7. T4 (the loop's next await) should receive resume3's X.
func staleResendLosesTwin(t *testing.T, maxBatch int) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.sf.Start(reviewExec)
		t2 := r.sf.NewTask("t2", reviewExec)
		var t3 *awsmodel.Task
		const x = `{"event":"tick"}`
		aw2, _ := r.client("await2", map[string]rfault{"DynamoDB.UpdateItem#1": {kind: Lost, between: func() {
			r25Resume(t, r, "resume1", x)
			t3 = r.sf.NewTask("t3", reviewExec)
			aw3, _ := r.client("await3", nil)
			r25Await(t, aw3, "t3", maxBatch)
			r25Resume(t, r, "resume2", x)
			r25Resume(t, r, "resume3", x)
		}}})
		r25Await(t, aw2, "t2", maxBatch)
		if t3 == nil {
			t.Fatal("the interleaving did not run")
		}
		t.Logf("T2: %s %q; T3: %s %q %s", t2.State(), t2.Output, t3.State(), t3.Output, t3.Error)
		st, err := aw2.GetHook(ctx, "approval-r")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("after the stale resend: pending %d, delivered %d", st.Pending, st.Delivered)
		t4 := r.sf.NewTask("t4", reviewExec)
		aw4, _ := r.client("await4", nil)
		r25Await(t, aw4, "t4", maxBatch)
		if t4.Open() {
			st, _ := aw4.GetHook(ctx, "approval-r")
			t.Errorf("acknowledged payload lost: resume3's %s was acknowledged (stored), no task received it, and the loop's next await T4 waits with %d pending, %d counted delivered (3 resumes, 2 tasks completed)",
				x, st.Pending, st.Delivered)
		} else {
			t.Logf("T4 got %q", t4.Output)
		}
	})
}

// TestReview25StaleBatchResendCommitsUndeliveredTwin: batch awaits.
func TestReview25StaleBatchResendCommitsUndeliveredTwin(t *testing.T) {
	staleResendLosesTwin(t, 3)
}

// TestReview25StaleSingleResendCommitsUndeliveredTwin: the same with single
// awaits (the flaw is in the shared backlog path, not only the batch one).
func TestReview25StaleSingleResendCommitsUndeliveredTwin(t *testing.T) {
	staleResendLosesTwin(t, 0)
}

// TestReview25StaleBatchResendSupersedesLiveAwait: the same stale resend,
// but T3 is live: resume2's R1 took T3 and its send has not been made yet
// (its resumer is slow or died; the record will be redriven), and resume3
// stored a payload behind it. The stale await's A3 (backlog path) fails
// T3, the workflow's live await, with HookAwaitSupersededError, for T2, a
// task that is over. The A1 branch guards against exactly this with a
// heartbeat of its own task (TestReviewStaleAwaitResendSupersedesLiveAwait);
// the A3 branch has no such guard.
func TestReview25StaleBatchResendSupersedesLiveAwait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		r.sf.Start(reviewExec)
		t2 := r.sf.NewTask("t2", reviewExec)
		var t3 *awsmodel.Task
		aw2, _ := r.client("await2", map[string]rfault{"DynamoDB.UpdateItem#1": {kind: Lost, between: func() {
			r25Resume(t, r, "resume1", `{"p":1}`)
			t3 = r.sf.NewTask("t3", reviewExec)
			aw3, _ := r.client("await3", nil)
			r25Await(t, aw3, "t3", 3)
			// resume2's R1 applies; its send is throttled past the SDK's
			// retries (the caller gets an error: not acknowledged; the
			// record stays for a redrive).
			rc, _ := r.client("resume2", map[string]rfault{"SFN.SendTaskSuccess#1": {kind: Throttled}})
			_, err := rc.ResumeHook(context.Background(), "approval-r", json.RawMessage(`{"p":2}`))
			t.Logf("resume2 (send throttled): %v", err)
			r25Resume(t, r, "resume3", `{"p":3}`)
		}}})
		r25Await(t, aw2, "t2", 3)
		if t3 == nil {
			t.Fatal("the interleaving did not run")
		}
		t.Logf("T2: %s %q", t2.State(), t2.Output)
		if !t3.Open() {
			t.Errorf("the live await T3 was closed by T2's stale await (T2's task was over): %s %s %q", t3.State(), t3.Error, t3.Cause)
		}
	})
}

// TestReview25StaleHandOffSettledByNextAwait: as
// TestReview25StaleBatchResendCommitsUndeliveredTwin, but the stale
// invocation dies right after its A3 (before A4): the loop's next await T4
// finds the uncommitted hand-out to T2, waits HandOffWait and settles it
// from T2's history (settleHandOff): T2's own output, an earlier payload
// with the same text, is taken for this hand-out's delivery, and the
// stored payload is committed without reaching any task.
func TestReview25StaleHandOffSettledByNextAwait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.sf.Start(reviewExec)
		t2 := r.sf.NewTask("t2", reviewExec)
		const x = `{"event":"tick"}`
		aw2, tp := r.client("await2", map[string]rfault{
			"DynamoDB.UpdateItem#1": {kind: Lost, between: func() {
				r25Resume(t, r, "resume1", x)
				r.sf.NewTask("t3", reviewExec)
				aw3, _ := r.client("await3", nil)
				r25Await(t, aw3, "t3", 3)
				r25Resume(t, r, "resume2", x)
				r25Resume(t, r, "resume3", x)
			}},
			"DynamoDB.UpdateItem#3": {kind: Crash}, // A3 again after telling T3: applies, then the invocation dies
		})
		err := invoke(func() error {
			return aw2.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}, TaskToken: "t2", MaxBatch: 3})
		})
		t.Logf("stale T2 invocation: %v; calls %v; T2 %s %q", err, tp.Calls, t2.State(), t2.Output)
		t4 := r.sf.NewTask("t4", reviewExec)
		aw4, _ := r.client("await4", nil)
		r25Await(t, aw4, "t4", 3)
		if t4.Open() {
			st, _ := aw4.GetHook(ctx, "approval-r")
			t.Errorf("acknowledged payload lost: resume3's %s (stored) was committed as delivered to T2 by the next await's settlement; T4 waits with %d pending, %d counted delivered",
				x, st.Pending, st.Delivered)
		} else {
			t.Logf("T4 got %q", t4.Output)
		}
	})
}
