package sim

import (
	"context"
	"encoding/json"
	"os"
	"testing/synctest"

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
		if st.Pending == 0 && t3.Open() {
			t.Errorf("the keyed resume was acknowledged (\"applied\"), but its payload is neither pending nor delivered: pending %d, T3 open %v; T1 %s %q, T2 %s %q",
				st.Pending, t3.Open(), t1.State(), t1.Output, t2.State(), t2.Output)
		}
	})
}
