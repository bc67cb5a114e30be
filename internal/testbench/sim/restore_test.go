package sim

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Review D2: a restore that hands a keyed resume's payload to a parked
// await writes the marker BACK#<id> naming the delivery it made (its id and
// task token), and whoever finds the marker finishes that delivery instead
// of taking the marker for proof that the payload arrived. The rig drives
// the model; the faults (a crash between two calls, a lost answer resent
// after DynamoDB forgot its token) are ones moto cannot produce.

// restoreRig is the state both tests start from: a keyed resume (key K)
// took T1 and died before its send; T1 timed out; the loop's next await
// parked T2. A replay of K now finds T1 ended without P and restores P into
// T2.
type restoreRig struct {
	*rig
	t1, t2 *awsmodel.Task
}

func newRestoreRig(t *testing.T) *restoreRig {
	t.Helper()
	r := &restoreRig{rig: newRig()}
	r.sf.Start(reviewExec)
	r.t1 = r.sf.NewTask("t1", reviewExec)
	aw, _ := r.client("await1", nil)
	mustAwait(t, aw, "t1")
	if err := r.resume("k0", map[string]rfault{"DynamoDB.TransactWriteItems#1": {kind: Crash}}); err == nil {
		t.Fatal("expected the crash after I2")
	}
	time.Sleep(time.Second)
	r.sf.TimeOutTask("t1", "States.Timeout")
	r.t2 = r.sf.NewTask("t2", reviewExec)
	aw2, _ := r.client("await2", nil)
	mustAwait(t, aw2, "t2")
	time.Sleep(time.Second)
	return r
}

func (r *restoreRig) resume(name string, rules map[string]rfault) error {
	c, _ := r.client(name, rules)
	return invoke(func() error {
		_, err := c.ResumeHook(context.Background(), "approval-r", json.RawMessage(`{"p":"K"}`), hooks.WithIdempotencyKey("K"))
		return err
	})
}

// The restore's transaction applies and its answer is lost; the SDK's
// resend comes after DynamoDB forgot the token (11 minutes) and is canceled
// on the marker the transaction itself wrote. The marker names the
// restore's own delivery, still in flight: it is sent, and T2 gets P.
func TestRestoreRecognisesItsOwnResend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRestoreRig(t)
		// Retry 1: I2 canceled (K used) → replay → T1 ended without P →
		// restore into T2: TransactWriteItems#2, answer lost.
		err := r.resume("k1", map[string]rfault{"DynamoDB.TransactWriteItems#2": {kind: Lost, between: func() {
			time.Sleep(11 * time.Minute)
		}}})
		if err != nil {
			t.Fatalf("retry 1: %v", err)
		}
		if r.t2.Output != `{"p":"K"}` {
			t.Errorf("retry 1 answered \"applied\", but T2 is %s with %q: the restore took its own marker for someone else's and sent nothing", r.t2.State(), r.t2.Output)
		}
	})
}

// Retry 1 restores P into T2 and dies before its send; T2 times out and the
// next await parks T3, dropping the restored record (T2 told: closed).
// Retry 2 finds the marker of T1's delivery naming T2's, gone; T2's history
// shows it ended without P, so P is restored again (marker BACK#<T2's
// delivery>) and T3 gets it.
func TestRestoreOfARestoredDeliveryThatDied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRestoreRig(t)
		if err := r.resume("k1", map[string]rfault{"DynamoDB.TransactWriteItems#2": {kind: Crash}}); err == nil {
			t.Fatal("expected retry 1 to crash after the restore's write")
		}
		time.Sleep(time.Second)
		r.sf.TimeOutTask("t2", "States.Timeout")
		t3 := r.sf.NewTask("t3", reviewExec)
		aw3, _ := r.client("await3", nil)
		mustAwait(t, aw3, "t3")
		time.Sleep(time.Second)
		if err := r.resume("k2", nil); err != nil {
			t.Fatalf("retry 2: %v", err)
		}
		if t3.Output != `{"p":"K"}` {
			st, _ := aw3.GetHook(context.Background(), "approval-r")
			t.Errorf("retry 2 answered \"applied\", but T3 is %s with %q (pending %d; T2 %s %q): the restored delivery that died was not restored again",
				t3.State(), t3.Output, st.Pending, r.t2.State(), r.t2.Output)
		}
	})
}

// The first attempt's send is slow: before it reaches Step Functions, T1
// times out, the next await parks T2, and a retry of K restores P into T2
// and dies before its send. The first attempt's send then answers closed
// (T1 ended without P), and its requeue is canceled on the marker of its
// own delivery, written by the retry's restore: the marker names T2's
// delivery, still in flight, which the requeuer sends. (Taking the marker
// for "requeued already" answered the first attempt "applied" with P in
// nobody's hands.)
func TestRequeueFollowsARestoreMarker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &restoreRig{rig: newRig()}
		r.sf.Start(reviewExec)
		r.t1 = r.sf.NewTask("t1", reviewExec)
		aw, _ := r.client("await1", nil)
		mustAwait(t, aw, "t1")
		err := r.resume("k0", map[string]rfault{"SFN.SendTaskSuccess#1": {kind: None, between: func() {
			time.Sleep(time.Second)
			r.sf.TimeOutTask("t1", "States.Timeout")
			r.t2 = r.sf.NewTask("t2", reviewExec)
			aw2, _ := r.client("await2", nil)
			mustAwait(t, aw2, "t2")
			time.Sleep(time.Second)
			if err := r.resume("k1", map[string]rfault{"DynamoDB.TransactWriteItems#2": {kind: Crash}}); err == nil {
				t.Error("expected the retry to crash after the restore's write")
			}
		}}})
		if err != nil {
			t.Fatalf("first attempt: %v", err)
		}
		if r.t2 == nil {
			t.Fatal("the interleaving did not run")
		}
		if r.t2.Output != `{"p":"K"}` {
			t.Errorf("the first attempt answered \"applied\", but T2 is %s with %q: its requeue took the restore's marker for a requeue", r.t2.State(), r.t2.Output)
		}
	})
}
