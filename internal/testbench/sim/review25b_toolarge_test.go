package sim

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Review 25b, change 0099494: a payload too large for a batch, sent to a
// parked batch await, fails the task with HookBatchItemTooLargeError; a
// closed answer is now settled from the history. These schedules hold the
// settlement to "task over → requeue" whenever the execution runs (they
// pass on 0099494).

// bigPayload is over MaxBatchItemBytes and within MaxPayloadBytes.
func bigPayload() string {
	p := `{"p":"` + strings.Repeat("x", hooks.MaxBatchItemBytes) + `"}`
	if len(p) <= hooks.MaxBatchItemBytes || len(p) > hooks.MaxPayloadBytes {
		panic("size")
	}
	return p
}

func r25bParkBatch(t *testing.T, r *rig, tok string) *awsmodel.Task {
	t.Helper()
	task := r.sf.NewTask(tok, reviewExec)
	aw, _ := r.client("await-"+tok, nil)
	r25Await(t, aw, tok, 3)
	return task
}

// TestReview25bTooLargeLostAnswer: the SendTaskFailure applies, its answer
// is lost, the SDK's resend is answered closed; the history shows the task
// FAILED with HookBatchItemTooLargeError: task over, requeued,
// acknowledged, and the next (single) await gets it.
func TestReview25bTooLargeLostAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		r.sf.Start(reviewExec)
		t1 := r25bParkBatch(t, r, "t1")
		big := bigPayload()
		rc, _ := r.client("resume", map[string]rfault{"SFN.SendTaskFailure#1": {kind: Lost}})
		if _, err := rc.ResumeHook(context.Background(), "approval-r", json.RawMessage(big)); err != nil {
			t.Fatalf("resume: %v", err)
		}
		if t1.Error != hooks.ErrorNameBatchItemTooLarge {
			t.Errorf("T1: %s %q", t1.State(), t1.Error)
		}
		t2 := r.sf.NewTask("t2", reviewExec)
		aw2, _ := r.client("await-t2", nil)
		r25AwaitSingle(t, aw2, "t2")
		if t2.Output != big {
			t.Errorf("T2 (single) should get the acknowledged payload: %s, %d bytes", t2.State(), len(t2.Output))
		}
	})
}

// TestReview25bTooLargeLostAnswerNextAwaitFirst: as above, and the
// workflow's catch awaits again without maxBatch (T2) before the resend:
// T2's A1 tells T1 and drops the record; the requeue finds it replaced and
// restores the payload into T2.
func TestReview25bTooLargeLostAnswerNextAwaitFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		r.sf.Start(reviewExec)
		r25bParkBatch(t, r, "t1")
		big := bigPayload()
		var t2 *awsmodel.Task
		rc, _ := r.client("resume", map[string]rfault{"SFN.SendTaskFailure#1": {kind: Lost, between: func() {
			t2 = r.sf.NewTask("t2", reviewExec)
			aw2, _ := r.client("await-t2", nil)
			r25AwaitSingle(t, aw2, "t2")
		}}})
		if _, err := rc.ResumeHook(context.Background(), "approval-r", json.RawMessage(big)); err != nil {
			t.Fatalf("resume: %v", err)
		}
		if t2.Output != big {
			t.Errorf("T2 (single) should get the acknowledged payload: %s, %d bytes", t2.State(), len(t2.Output))
		}
	})
}

// TestReview25bTooLargeLaggingHistoryKeyed: as the lost answer, but the
// history lags (T1's TaskFailed not shown): the resume's outcome is
// unknown (an error, not "task over"); the keyed retry, once the next
// await parked, confirms against T1 (failed without it) and restores it
// into T2.
func TestReview25bTooLargeLaggingHistoryKeyed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.sf.Start(reviewExec)
		r25bParkBatch(t, r, "t1")
		big := bigPayload()
		rc, _ := r.client("resume", map[string]rfault{"SFN.SendTaskFailure#1": {kind: Lost, between: func() { r.sf.SetLag(reviewExec, 1) }}})
		_, err := rc.ResumeHook(ctx, "approval-r", json.RawMessage(big), hooks.WithIdempotencyKey("k"))
		t.Logf("first attempt (history lags): %v", err)
		r.sf.SetLag(reviewExec, 0)
		t2 := r.sf.NewTask("t2", reviewExec)
		aw2, _ := r.client("await-t2", nil)
		r25AwaitSingle(t, aw2, "t2")
		rc2, _ := r.client("resume-retry", nil)
		if _, err := rc2.ResumeHook(ctx, "approval-r", json.RawMessage(big), hooks.WithIdempotencyKey("k")); err != nil {
			t.Fatalf("keyed retry: %v", err)
		}
		if t2.Output != big {
			t.Errorf("T2 should get the keyed payload: %s, %d bytes", t2.State(), len(t2.Output))
		}
	})
}

// TestReview25bTooLargeRedriven: T1 closed by the execution's failure;
// the execution is redriven before its end event; the resume's R1 takes
// T1 (still the waiter), SendTaskFailure answers closed, and the history
// (ExecutionRedriven newest) says the execution runs: task over,
// requeued, acknowledged, and the redriven run's await gets it.
func TestReview25bTooLargeRedriven(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		r.sf.Start(reviewExec)
		r25bParkBatch(t, r, "t1")
		if err := r.sf.Fail(reviewExec, "States.TaskFailed", "x"); err != nil {
			t.Fatal(err)
		}
		if err := r.sf.Redrive(reviewExec); err != nil {
			t.Fatal(err)
		}
		big := bigPayload()
		rc, _ := r.client("resume", nil)
		if _, err := rc.ResumeHook(context.Background(), "approval-r", json.RawMessage(big)); err != nil {
			t.Fatalf("resume after the redrive: %v", err)
		}
		t2 := r.sf.NewTask("t2", reviewExec)
		aw2, _ := r.client("await-t2", nil)
		r25AwaitSingle(t, aw2, "t2")
		if t2.Output != big {
			t.Errorf("T2 should get it: %s, %d bytes", t2.State(), len(t2.Output))
		}
	})
}
