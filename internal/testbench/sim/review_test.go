package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing/synctest"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
	"testing"
	"time"
)

// Adversarial review: hand-written plans, each of which must run clean.
// Each one fails on the code it was written against (see the comment of
// each case for the defect it shows).
var reviewScenarios = []struct {
	name string
	seed uint64
	plan Plan
}{
	{
		// S1's TransactWriteItems applied, its answer lost, and the SDK's
		// resend canceled on the MSG put (the first attempt's item): the
		// resume takes the cancellation for contention, goes again from R1
		// and stores (or hands out) the payload a second time.
		name: "S1 lost answer stores twice", seed: 1,
		plan: Plan{Execs: []ExecPlan{{Name: "E1", Hook: "approval-1", Branches: 1, Retries: 3}},
			Actions: []Action{
				{ID: 1, At: 2 * time.Second, Kind: ActResume, Text: `{"p":"r1"}`},
				{ID: 2, At: 2 * time.Second, Kind: ActResume, Text: `{"p":"r2"}`},
			},
			Faults: []FaultRule{{Actor: "act02", Call: 2, Fault: Lost}}},
	},
	{
		// A keyed resume's first attempt dies after I2 (its task T1 never
		// gets P); T1 times out and the next await parks T2. The retry finds
		// T1 ended without P and restores P into T2's waiter with the BACK#
		// marker; it dies right after that write. The record it wrote is
		// named by no idempotency record, so the next retry finds the marker
		// and answers "applied" without sending; T2 times out, the next await
		// drops the record: an acknowledged payload is lost.
		name: "restore into a waiter dies before its send", seed: 1,
		plan: Plan{Execs: []ExecPlan{{Name: "E1", Hook: "approval-1", Branches: 1, TimeoutSec: 1, Retries: 3}},
			Actions: []Action{
				{ID: 1, At: 500 * time.Millisecond, Kind: ActKeyed, Key: "k1", Text: `{"p":"k1"}`},
			},
			Faults: []FaultRule{{Actor: "act01", Call: 2, Fault: Crash}, {Actor: "act01.retry1", Call: 7, Fault: Crash}}},
	},
	{
		// R2's answer is lost and the SDK's resend is answered TaskTimedOut
		// (closed: the first send completed the task). The history has grown
		// by more than 10 pages since the task was scheduled (a Parallel
		// sibling, a Map), so the settlement does not find the task and takes
		// it as ended without P: requeued, and the next await gets P again.
		name: "a long history turns a delivered payload into a duplicate", seed: 1,
		plan: Plan{Execs: []ExecPlan{{Name: "E1", Hook: "approval-1", Branches: 1, Retries: 3}},
			Actions: []Action{
				{ID: 1, At: 1 * time.Second, Kind: ActPad, N: 11500},
				{ID: 2, At: 2 * time.Second, Kind: ActResume, Text: `{"p":"r2"}`},
			},
			Faults: []FaultRule{{Actor: "act02", Call: 2, Fault: Lost}}},
	},
}

func TestReviewScenarios(t *testing.T) {
	for _, sc := range reviewScenarios {
		t.Run(sc.name, func(t *testing.T) {
			p := sc.plan
			r := Simulate(t, Config{Seed: sc.seed, Plan: &p})
			for _, f := range r.Findings {
				t.Errorf("seed %d: %s", sc.seed, f)
			}
			if r.Steps < 10 || os.Getenv("REVIEW_TRACE") != "" {
				for _, l := range r.Trace {
					t.Log(l)
				}
			}
		})
	}
}

const reviewExec = "arn:aws:states:us-east-1:123456789012:execution:sim:R1"

func mustAwait(t *testing.T, c *hooks.Client, tok string) {
	t.Helper()
	if err := invoke(func() error {
		return c.Await(context.Background(), hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}, TaskToken: tok})
	}); err != nil {
		t.Fatalf("await %s: %v", tok, err)
	}
}

// A keyed resume's retry restores its payload into the parked await T2 (the
// first attempt died after I2; its task T1 timed out and the next await
// dropped the record). The retry dies after the restore's write, before
// the send. The in-flight record it wrote is named by no idempotency
// record: the next retry finds the BACK# marker and answers "applied"
// without sending. When T2 times out, the next await tells it (closed) and
// drops the record: the acknowledged payload is gone.
func TestReviewRestoreDiesBeforeSend(t *testing.T) {
	for name, fault := range map[string]map[string]rfault{
		"crash after the restore's write": {"DynamoDB.TransactWriteItems#2": {kind: Crash}},
		"the restore's send throttled":    {"SFN.SendTaskSuccess#1": {kind: Throttled}},
	} {
		t.Run(name, func(t *testing.T) { restoreDiesBeforeSend(t, fault) })
	}
}

func restoreDiesBeforeSend(t *testing.T, retry1 map[string]rfault) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.sf.Start(reviewExec)
		t1 := r.sf.NewTask("t1", reviewExec)
		aw, _ := r.client("await1", nil)
		mustAwait(t, aw, "t1")

		resume := func(name string, rules map[string]rfault) error {
			c, _ := r.client(name, rules)
			return invoke(func() error {
				_, err := c.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"K"}`), hooks.WithIdempotencyKey("K"))
				return err
			})
		}
		// 1st attempt: I1, I2 (takes T1), dies before R2.
		if err := resume("k0", map[string]rfault{"DynamoDB.TransactWriteItems#1": {kind: Crash}}); err == nil {
			t.Fatal("expected the crash")
		}
		time.Sleep(time.Second)
		r.sf.TimeOutTask("t1", "States.Timeout")
		// The loop's next await parks T2 (T1 told: closed).
		t2 := r.sf.NewTask("t2", reviewExec)
		aw2, _ := r.client("await2", nil)
		mustAwait(t, aw2, "t2")
		// Retry 1: replay, T1 ended without P → restore into T2; dies
		// after the restore's transaction (its 2nd TransactWriteItems).
		time.Sleep(time.Second)
		if err := resume("k1", retry1); err == nil {
			t.Fatal("expected retry 1 to fail")
		}
		// Retry 2: answered "applied".
		time.Sleep(time.Second)
		if err := resume("k2", nil); err != nil {
			t.Fatalf("retry 2: %v", err)
		}
		// T2 times out (its TimeoutSeconds); the loop awaits again.
		time.Sleep(time.Second)
		r.sf.TimeOutTask("t2", "States.Timeout")
		t3 := r.sf.NewTask("t3", reviewExec)
		aw3, _ := r.client("await3", nil)
		mustAwait(t, aw3, "t3")

		st, err := aw3.GetHook(ctx, "approval-r")
		if err != nil {
			t.Fatal(err)
		}
		// Acknowledged: delivered once (retry 2 may send the restored
		// delivery to T2 before T2 times out) or pending.
		got := 0
		for _, tk := range []*awsmodel.Task{t1, t2, t3} {
			if tk.Output == `{"p":"K"}` {
				got++
			}
		}
		if got+int(st.Pending) != 1 {
			t.Errorf("the keyed resume was acknowledged (\"applied\"), but its payload is delivered %d times and pending %d times, want once in all: T1 %s %q, T2 %s %q, T3 %s %q",
				got, st.Pending, t1.State(), t1.Output, t2.State(), t2.Output, t3.State(), t3.Output)
		}
	})
}

// The EventBridge rule's DisposeExecution for an execution's stop arrives
// after the execution was redriven (EventBridge delivers asynchronously,
// and a failed target invocation is retried for hours): it disposes the
// hooks of a RUNNING execution. A payload acknowledged to the redriven run
// (requeued into the hook after its old task's closed answer) is deleted,
// and the redriven run's await then waits for it for ever.
func TestReviewStaleDisposeExecutionAfterRedrive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		// Parked, then stopped; its end event is on its way to hook-task.
		r.parkThenStop(t)
		time.Sleep(time.Second)
		// Redriven before the event was handled.
		if err := r.sf.Redrive(reviewExec); err != nil {
			t.Fatal(err)
		}
		// A resume meanwhile: T1 answers closed, the history shows the
		// execution running (redriven): requeued, acknowledged.
		rc, _ := r.client("resume", nil)
		if _, err := rc.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"P"}`)); err != nil {
			t.Fatalf("resume: %v", err)
		}
		// The stop's event is handled now.
		ev, _ := r.client("events", nil)
		n, err := ev.DisposeExecution(ctx, reviewExec)
		t.Logf("DisposeExecution of the running (redriven) execution disposed %d hooks (err %v)", n, err)
		// The redriven run's await.
		t2 := r.sf.NewTask("t2", reviewExec)
		aw2, _ := r.client("await2", nil)
		mustAwait(t, aw2, "t2")
		if t2.Open() {
			st, _ := aw2.GetHook(ctx, "approval-r")
			t.Errorf("acknowledged payload lost: the execution is %v, its await T2 is open with %d pending (a stale end event disposed the running execution's hook)",
				status(r, reviewExec), st.Pending)
		}
	})
}

func status(r *rig, arn string) string {
	s, _ := r.sf.Status(arn)
	return string(s)
}

// An await's A1 applies and its answer is lost; before the SDK's resend, a
// resume completes the await's task T2 (waitForTaskToken: the task closes on
// SendTaskSuccess while the invocation still runs) and the loop's next
// await T3 parks (telling T2: closed). The resend of T2's A1 is refused
// (T3 not told), and T2's await fails T3 with HookAwaitSupersededError and
// parks T2 (a closed task) in its place: the workflow's only live await is
// failed by a stale one, and the hook waits on a dead token.
func TestReviewStaleAwaitResendSupersedesLiveAwait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.sf.Start(reviewExec)
		r.sf.NewTask("t1", reviewExec)
		aw1, _ := r.client("await1", nil)
		mustAwait(t, aw1, "t1")
		rc0, _ := r.client("resume0", nil)
		if _, err := rc0.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"P0"}`)); err != nil {
			t.Fatal(err)
		}
		t2 := r.sf.NewTask("t2", reviewExec)
		var t3 *awsmodel.Task
		aw2, _ := r.client("await2", map[string]rfault{"DynamoDB.UpdateItem#2": {kind: Lost, between: func() {
			rc, _ := r.client("resume1", nil)
			if _, err := rc.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"P1"}`)); err != nil {
				t.Errorf("resume P1: %v", err)
			}
			t3 = r.sf.NewTask("t3", reviewExec)
			aw3, _ := r.client("await3", nil)
			mustAwait(t, aw3, "t3")
		}}})
		// T2's A1: #1 is refused on invariant T (T1's delivery is not
		// marked), then T1 is told (closed), then #2 applies: its answer is lost.
		mustAwait(t, aw2, "t2")
		t.Logf("T2 %s %q", t2.State(), t2.Output)
		if t3 == nil {
			t.Fatal("the interleaving did not run")
		}
		if !t3.Open() {
			t.Errorf("the live await T3 was closed by T2's stale await: %s %s %q", t3.State(), t3.Error, t3.Cause)
		}
	})
}

// A resume's send fails after R1 (throttled past the SDK's retries: the
// caller gets an error; or its Lambda dies): the parked await T1 has an
// unsent record. The crash table says "any resume after RedriveAfter sends
// it". But resumes store behind the record until the pending cap is
// reached, and from then on every resume is answered 429 from R1's
// returned item before it redrives anything: T1 waits for ever, and so do
// the payloads behind it.
func TestReviewFullHookNeverRedrives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.sf.Start(reviewExec)
		t1 := r.sf.NewTask("t1", reviewExec)
		aw, _ := r.client("await1", nil)
		if err := aw.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec, MaxPending: 2}, TaskToken: "t1"}); err != nil {
			t.Fatal(err)
		}
		c0, _ := r.client("resume0", map[string]rfault{"SFN.SendTaskSuccess#1": {kind: Throttled}})
		if _, err := c0.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":0}`)); err == nil {
			t.Fatal("expected the throttled send to fail")
		}
		for i := 1; i <= 2; i++ {
			time.Sleep(time.Second)
			c, _ := r.client(fmt.Sprintf("resume%d", i), nil)
			if _, err := c.ResumeHook(ctx, "approval-r", json.RawMessage(fmt.Sprintf(`{"p":%d}`, i))); err != nil {
				t.Fatalf("resume %d: %v", i, err)
			}
		}
		// Long after RedriveAfter, resumes keep coming (and keep being refused).
		for i := 3; i <= 6; i++ {
			time.Sleep(30 * time.Second)
			c, _ := r.client(fmt.Sprintf("resume%d", i), nil)
			_, err := c.ResumeHook(ctx, "approval-r", json.RawMessage(fmt.Sprintf(`{"p":%d}`, i)))
			t.Logf("resume %d at +%ds: %v", i, 2+30*(i-2), err)
		}
		if t1.Open() {
			st, _ := aw.GetHook(ctx, "approval-r")
			t.Errorf("T1 still waits 2 minutes after its delivery's send failed, with %d payloads pending behind it: resumes on a full hook answer 429 and never redrive", st.Pending)
		}
	})
}

// Seeds a campaign (SFNHOOKS_SIM_SEEDS=1500 SFNHOOKS_SIM_SEED=700001) found;
// each must run clean. 700147: a link's send throttled, then a history
// past 10 pages: the link's payload received twice (duplicate,
// link-twice). 700840 and 700898: a manual webhook whose workflow disposes
// while an await is between its refused A1 and its retry: the await
// re-creates the token after the dispose (stuck; 700898 also lost).
func TestReviewCampaignSeeds(t *testing.T) {
	for _, seed := range []uint64{700147, 700840, 700898} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := Simulate(t, Config{Seed: seed})
			for _, f := range r.Findings {
				t.Errorf("seed %d: %s", seed, f)
			}
		})
	}
}
