package sim

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// S1's transaction applies and its answer is lost; before the SDK resends
// it, an await takes the stored payload, sends it and commits (A5 deletes
// MSG#key). The resend must be answered as the applied first attempt (the
// same ClientRequestToken, within DynamoDB's 10 minutes): without a token
// its MSG put and its hook update both hold again, and the payload is
// stored a second time. The model is the only place this shows: moto
// ignores ClientRequestToken, and a lost answer is a fault (the rig's Lost:
// the call is made, then made again with the same input, as the SDK's
// retryer does).
func TestS1ResendAfterHandOutIsNotStoredAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.sf.Start(reviewExec)
		reg, _ := r.client("create", nil)
		if _, err := reg.Register(ctx, hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}); err != nil {
			t.Fatal(err)
		}
		t1 := r.sf.NewTask("t1", reviewExec)
		rc, _ := r.client("resume", map[string]rfault{"DynamoDB.TransactWriteItems#1": {kind: Lost, between: func() {
			aw, _ := r.client("await1", nil)
			mustAwait(t, aw, "t1")
		}}})
		if _, err := rc.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"P"}`)); err != nil {
			t.Fatalf("resume: %v", err)
		}
		if t1.Output != `{"p":"P"}` {
			t.Fatalf("T1 got %q (%s), want the payload", t1.Output, t1.State())
		}
		st, err := rc.GetHook(ctx, "approval-r")
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending != 0 {
			t.Errorf("%d pending after the payload was delivered to T1: the resend of S1 stored it again", st.Pending)
		}
	})
}

// S1's answer is lost and the SDK's resend comes after DynamoDB forgot the
// token (past 10 minutes; or an emulator that ignores tokens, as moto
// does): it is canceled on its own MSG put, whose random key no other
// write uses. That cancellation is the first attempt's success: the
// resume is acknowledged once, not stored again from R1.
func TestS1ResendPastTokenWindowIsApplied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.sf.Start(reviewExec)
		reg, _ := r.client("create", nil)
		if _, err := reg.Register(ctx, hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}); err != nil {
			t.Fatal(err)
		}
		rc, _ := r.client("resume", map[string]rfault{"DynamoDB.TransactWriteItems#1": {kind: Lost, between: func() {
			time.Sleep(11 * time.Minute)
		}}})
		if _, err := rc.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"P"}`)); err != nil {
			t.Fatalf("resume: %v", err)
		}
		st, err := rc.GetHook(ctx, "approval-r")
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending != 1 {
			t.Errorf("%d pending, want 1: the resend's cancellation on its own MSG put was taken for contention and the payload stored again", st.Pending)
		}
	})
}
