package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// TestFullHookResumeRedrives: a resume refused by the pending cap
// redrives the hook's dead delivery first, plain (resume) and keyed
// (resumeIdempotent, a new key on a full hook), so T1 gets its payload
// (TestReviewFullHookNeverRedrives is the plain case over two minutes).
// The throttled send stands for a fault moto cannot produce
// (SendTaskSuccess throttled past the SDK's retries).
func TestFullHookResumeRedrives(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
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
				time.Sleep(30 * time.Second)
				var opts []hooks.ResumeOption
				if keyed {
					opts = append(opts, hooks.WithIdempotencyKey("k"))
				}
				c, _ := r.client("full", nil)
				_, err := c.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"k"}`), opts...)
				if !errors.Is(err, hooks.ErrTooManyPending) {
					t.Errorf("resume on a full hook: %v, want ErrTooManyPending", err)
				}
				if t1.Open() {
					t.Errorf("T1 still waits 30 s after its delivery's send failed: the resume on the full hook answered 429 without redriving it")
				} else if t1.Output != `{"p":0}` {
					t.Errorf("T1 got %s %q, want the redriven {\"p\":0}", t1.State(), t1.Output)
				}
			})
		})
	}
}
