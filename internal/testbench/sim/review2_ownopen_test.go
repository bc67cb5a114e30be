package sim

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Review 2 of A1b: ownOpen is set once per invocation and never reset.
// An await whose first backlog attempt loops (its A2 finds nothing: a
// concurrent await of the hook took and committed the head meanwhile) goes on
// to a second A1 that PARKS it (pending is 0 now). That A1's answer is
// lost; before the SDK's resend a resume completes T2, the loop's next
// await T3 parks and is completed, and a payload is stored. The resend is
// refused (pending), finds ownOpen already true, skips the heartbeat and
// hands the stored payload to the closed T2: M101 again.
//
// Schedule (one execution, two branches awaiting hook approval-r: T0 and
// T2, T2 then loops to T3, T4):
//  0. resume0 X stored (pending 1).
//  1. T2's A1 refused (pending) → A1b heartbeat: open → ownOpen = true.
//  2. Before T2's A2, T0's await takes X(resume0) (A1 refused, heartbeat,
//     A2, A3, A4, A5: dlv advances).
//  3. T2's A2 finds nothing stored → deliverBacklog returns false → loop.
//  4. T2's A1 again: applies (pending 0; T0's record is committed): T2
//     parked. Its answer is lost; meanwhile:
//     resume1 X → R1 completes T2 with X;
//     T3 tells T2 (closed) and parks; resume2 X completes T3;
//     resume3 X → stored (pending 1).
//  5. The SDK resends T2's A1: refused (pending) → backlog path, no
//     heartbeat (ownOpen) → A3 tells T3 (closed) and hands resume3's X to
//     T2 → SendTaskSuccess closed → history: T2's output is X → settled
//     delivered → committed.
//  6. T4 should receive resume3's X.
func review2OwnOpenStale(t *testing.T, maxBatch int) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.sf.Start(reviewExec)
		const x = `{"event":"tick"}`
		reg, _ := r.client("register", nil)
		if _, err := reg.Register(ctx, hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}); err != nil {
			t.Fatal(err)
		}
		r25Resume(t, r, "resume0", x)
		t0 := r.sf.NewTask("t0", reviewExec)
		t2 := r.sf.NewTask("t2", reviewExec)
		var t3 *awsmodel.Task
		ran := false
		aw2, tp := r.client("await2", map[string]rfault{
			"DynamoDB.Query#1": {kind: None, between: func() {
				aw0, _ := r.client("await0", nil)
				r25Await(t, aw0, "t0", maxBatch)
			}},
			"DynamoDB.UpdateItem#2": {kind: Lost, between: func() {
				ran = true
				r25Resume(t, r, "resume1", x)
				t3 = r.sf.NewTask("t3", reviewExec)
				aw3, _ := r.client("await3", nil)
				r25Await(t, aw3, "t3", maxBatch)
				r25Resume(t, r, "resume2", x)
				r25Resume(t, r, "resume3", x)
			}},
		})
		err := invoke(func() error {
			return aw2.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}, TaskToken: "t2", MaxBatch: maxBatch})
		})
		t.Logf("T2 invocation: %v; calls %v", err, tp.Calls)
		if !ran || t3 == nil {
			t.Fatalf("the interleaving did not run (calls %v)", tp.Calls)
		}
		t.Logf("T0: %s %q; T2: %s %q; T3: %s %q %s", t0.State(), t0.Output, t2.State(), t2.Output, t3.State(), t3.Output, t3.Error)
		st, _ := aw2.GetHook(ctx, "approval-r")
		t.Logf("after the stale resend: pending %d, delivered %d", st.Pending, st.Delivered)
		t4 := r.sf.NewTask("t4", reviewExec)
		aw4, _ := r.client("await4", nil)
		r25Await(t, aw4, "t4", maxBatch)
		if t4.Open() {
			st, _ := aw4.GetHook(ctx, "approval-r")
			t.Errorf("acknowledged payload lost: 4 resumes of %s acknowledged, 3 tasks completed (T0, T2, T3), T4 waits with %d pending, %d counted delivered",
				x, st.Pending, st.Delivered)
		} else {
			t.Logf("T4 got %q", t4.Output)
		}
	})
}

func TestReview2OwnOpenStaleSingle(t *testing.T) { review2OwnOpenStale(t, 0) }
func TestReview2OwnOpenStaleBatch(t *testing.T)  { review2OwnOpenStale(t, 3) }
