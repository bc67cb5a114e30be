package sim

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
)

// The first await of a hook: its A1 applies and the answer is lost; before
// the SDK's resend, a resume completes its task T2 and the execution's
// next await T3 parks (telling T2: closed). The resend is refused on T3;
// T2's await checks its own task first (closed) and returns: T3 is not
// told, the hook keeps waiting on T3. (TestReviewStaleAwaitResendSupersedesLiveAwait
// is the same with a previous await to tell first.) A lost answer whose
// resend meets a state changed in between is a fault moto cannot produce.
func TestStaleFirstAwaitResendKeepsLiveAwait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.sf.Start(reviewExec)
		t2 := r.sf.NewTask("t2", reviewExec)
		var t3 *awsmodel.Task
		aw2, _ := r.client("await2", map[string]rfault{"DynamoDB.UpdateItem#1": {kind: Lost, between: func() {
			rc, _ := r.client("resume1", nil)
			if _, err := rc.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"P1"}`)); err != nil {
				t.Errorf("resume P1: %v", err)
			}
			t3 = r.sf.NewTask("t3", reviewExec)
			aw3, _ := r.client("await3", nil)
			mustAwait(t, aw3, "t3")
		}}})
		mustAwait(t, aw2, "t2")
		if t2.State() != "SUCCEEDED" || t2.Output != `{"p":"P1"}` {
			t.Errorf("T2: %s %q, want SUCCEEDED with P1", t2.State(), t2.Output)
		}
		if t3 == nil {
			t.Fatal("the interleaving did not run")
		}
		if !t3.Open() {
			t.Fatalf("the live await T3 was closed by T2's stale await: %s %s %q", t3.State(), t3.Error, t3.Cause)
		}
		rc, _ := r.client("resume2", nil)
		if _, err := rc.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"P2"}`)); err != nil {
			t.Fatal(err)
		}
		if t3.State() != "SUCCEEDED" || t3.Output != `{"p":"P2"}` {
			t.Errorf("T3: %s %q, want SUCCEEDED with P2 (the hook must wait on T3, not on T2's dead token)", t3.State(), t3.Output)
		}
	})
}
