package sim

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Review 2 of A1b: ownOpen, once true, survives the await's later loop
// iterations (backoff, waiting for another await's hand-out for up to
// HandOffWait + ContentionTimeout). A task that times out (its Task
// state's TimeoutSeconds) meanwhile is not checked again: its await goes
// on to A3 and fails the execution's live await, the harm A1b was added
// to prevent ("the waiter A3 tells would be the execution's live await").
//
// Schedule (one execution; branches T0 and T2 await hook approval-r; T2's
// state catches States.Timeout and loops to T4):
//  0. resume0 {"p":0} stored (pending 1).
//  1. T2's A1 refused (pending) → A1b heartbeat: open → ownOpen = true.
//  2. Before T2's A2, T0 takes {"p":0} and commits it; T2's A2 finds
//     nothing → again from A1.
//  3. Before that A1: T2 times out (States.Timeout); the workflow's next
//     await T4 parks; resume2's R1 takes T4 and its send is throttled past
//     the SDK's retries (not acknowledged; the record awaits a redrive);
//     resume3 {"p":3} is stored behind it.
//  4. T2's A1 refused (pending) → backlog path without a heartbeat → A3
//     refused on invariant T (T4's delivery not known) → T2's await fails
//     T4, which is open, with HookAwaitSupersededError, then hands
//     {"p":3} to the timed-out T2.
func TestReview2TimedOutAwaitSupersedesLiveAwait(t *testing.T) {
	for _, mb := range []int{0, 3} {
		t.Run(map[int]string{0: "single", 3: "batch"}[mb], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig()
				ctx := context.Background()
				r.sf.Start(reviewExec)
				reg, _ := r.client("register", nil)
				if _, err := reg.Register(ctx, hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}); err != nil {
					t.Fatal(err)
				}
				r25Resume(t, r, "resume0", `{"p":0}`)
				r.sf.NewTask("t0", reviewExec)
				t2 := r.sf.NewTask("t2", reviewExec)
				var t4 *awsmodel.Task
				aw2, tp := r.client("await2", map[string]rfault{
					"DynamoDB.Query#1": {kind: None, between: func() {
						aw0, _ := r.client("await0", nil)
						r25Await(t, aw0, "t0", mb)
					}},
					"DynamoDB.UpdateItem#2": {kind: None, between: func() {
						if err := r.sf.TimeOutTask("t2", "States.Timeout"); err != nil {
							t.Fatal(err)
						}
						t4 = r.sf.NewTask("t4", reviewExec)
						aw4, _ := r.client("await4", nil)
						r25Await(t, aw4, "t4", mb)
						rc, _ := r.client("resume2", map[string]rfault{"SFN.SendTaskSuccess#1": {kind: Throttled}})
						_, err := rc.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":2}`))
						t.Logf("resume2 (send throttled): %v", err)
						r25Resume(t, r, "resume3", `{"p":3}`)
					}},
				})
				err := invoke(func() error {
					return aw2.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}, TaskToken: "t2", MaxBatch: mb, Timeout: 0})
				})
				t.Logf("T2 invocation: %v; calls %v; T2 %s", err, tp.Calls, t2.State())
				if t4 == nil {
					t.Fatal("the interleaving did not run")
				}
				if !t4.Open() {
					t.Errorf("the live await T4 was failed by the await of T2, whose task had timed out after its one heartbeat: %s %s %q",
						t4.State(), aws.ToString(&t4.Error), t4.Cause)
				}
			})
		})
	}
}
