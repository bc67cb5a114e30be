package sim

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// From the adversarial review of batch awaits (issue 25).

// TestBatchWindowBoundedUnderSkew: the window waits until the head's
// queue key time + BatchWindow, measured on the awaiting client's clock.
// A key written by a resumer whose clock runs ahead (here one hour) makes
// an await with batchWindowSeconds 1 and no context deadline (a library
// caller's context.Background) sleep for the skew, not for at most the
// window: the wait is now capped by in.BatchWindow too.
func TestBatchWindowBoundedUnderSkew(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		r.sf.Start(reviewExec)
		t1 := r.sf.NewTask("t1", reviewExec)
		// A client whose clock is one hour ahead (same rig, own Now).
		tp := &tap{n: map[string]int{}, rnd: skewRand(), prefix: "skew"}
		skewed, err := hooks.New(awsConfig(), func(o *hooks.Options) {
			o.TableName = "sim"
			o.DynamoDB = tapDB{t: tp, inner: r.db}
			o.StepFunctions = tapSFN{t: tp, inner: r.sf}
			o.KMS = unusedKMS{}
			o.Secrets = unusedSecrets{}
			o.Now = func() time.Time { return time.Now().Add(time.Hour) }
		})
		if err != nil {
			t.Fatal(err)
		}
		aw, _ := r.client("await1", nil)
		if _, err := aw.Register(context.Background(), hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}); err != nil {
			t.Fatal(err)
		}
		if _, err := skewed.ResumeHook(context.Background(), "approval-r", json.RawMessage(`{"p":1}`)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := aw.Await(context.Background(), hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "approval-r", ExecutionARN: reviewExec}, TaskToken: "t1", MaxBatch: 3, BatchWindow: time.Second}); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("T1 %s %q after %v", t1.State(), t1.Output, took)
		if took > 5*time.Second {
			t.Errorf("an await with batchWindowSeconds 1 waited %v before handing out", took)
		}
	})
}

func skewRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
