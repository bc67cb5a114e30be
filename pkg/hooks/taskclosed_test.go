package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// TestTaskClosedAnswers: when SendTaskSuccess answers that the awaiting task
// is over (TaskTimedOut, TaskDoesNotExist, InvalidToken), the payload is
// kept as the oldest pending one and goes to the next await; once the hook
// is disposed (its execution ended), the token answers not found. Both
// delivery paths: a resume to a parked await, and an await taking a stored
// payload.
func TestTaskClosedAnswers(t *testing.T) {
	closedErrs := map[string]error{
		"TaskTimedOut":     &sfntypes.TaskTimedOut{Message: aws.String("Task Timed Out")},
		"TaskDoesNotExist": &sfntypes.TaskDoesNotExist{Message: aws.String("Task does not exist")},
		"InvalidToken":     &sfntypes.InvalidToken{Message: aws.String("Invalid token")},
	}
	for name, closed := range closedErrs {
		for _, path := range []string{"resume", "await"} {
			t.Run(name+"/"+path, func(t *testing.T) {
				ctx := context.Background()
				inj, rec := faults.New(), faults.NewTasks()
				c, _, _ := newTestClient(t, &awscalls.Counter{}, func(o *hooks.Options) { o.StepFunctions = inj.StepFunctions(rec) })
				token := "closed-" + suffix()
				reg := hooks.RegisterInput{Token: token, ExecutionARN: execA}
				if _, err := c.Register(ctx, reg); err != nil {
					t.Fatal(err)
				}
				// T1 ends (its history says it timed out) just before the
				// first SendTaskSuccess (to T1), which answers so with each
				// closed-task error: an await saw its own task open (A1b)
				// before it handed the payload out.
				sent := false
				inj.FailWith(func(call faults.Call) error {
					if call.Op == "SFN.SendTaskSuccess" && !sent {
						sent = true
						rec.Close("T1")
						return closed
					}
					return nil
				})
				p1 := json.RawMessage(`{"n":1}`)
				switch path {
				case "resume":
					if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T1"}); err != nil {
						t.Fatal(err)
					}
					if _, err := c.ResumeHook(ctx, token, p1); err != nil {
						t.Fatalf("resume to a closed task: %v, want nil (acknowledged and kept)", err)
					}
				case "await":
					if _, err := c.ResumeHook(ctx, token, p1); err != nil {
						t.Fatal(err)
					}
					if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T1"}); err != nil {
						t.Fatalf("await whose own task is closed: %v", err)
					}
				}
				if ops := inj.Ops(); !slices.Contains(ops, "SFN.SendTaskSuccess") {
					t.Fatalf("no SendTaskSuccess was tried: %v", ops)
				}
				st, err := c.GetHook(ctx, token)
				if err != nil {
					t.Fatal(err)
				}
				if st.Waiting || st.Pending != 1 || st.Delivered != 0 {
					t.Errorf("after %s: waiting %v pending %d delivered %d, want the payload pending and nobody waiting", name, st.Waiting, st.Pending, st.Delivered)
				}
				// The next await gets it.
				if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T2"}); err != nil {
					t.Fatal(err)
				}
				if out, ok := rec.Output("T2"); !ok || out != `{"n":1}` {
					t.Errorf("T2 received %q (%v), want the kept payload", out, ok)
				}
				if st, _ := c.GetHook(ctx, token); st.Pending != 0 || st.Delivered != 1 {
					t.Errorf("after the next await: pending %d delivered %d, want 0 and 1", st.Pending, st.Delivered)
				}
				// The execution ends: the hook is disposed and answers 404.
				if err := c.Dispose(ctx, token, execA); err != nil {
					t.Fatal(err)
				}
				if _, err := c.ResumeHook(ctx, token, p1); !errors.Is(err, hooks.ErrHookNotFound) || hooks.ErrorFor(err).Status != 404 {
					t.Errorf("resume after dispose: %v, want ErrHookNotFound (404)", err)
				}
			})
		}
	}
}

// TestCrashedAwaitRetriedWithNewToken: an await taking a stored payload dies
// at each of its AWS calls (before and after), and Step Functions retries
// the task with a new task token. (moto keeps the token across a Retry,
// which e2e/crash_test.go covers; a new token per attempt is covered here.)
// The retried await must get P1 unless the dead one had already delivered
// it (then the retried await gets P2: the dead one's hand-out is settled
// from the history and committed, not handed out again). The same holds when
// the next await is not a retry but a new state entry after a Catch: it too
// has a new token, and a protocol that presumed the hand-out consumed would
// lose P1 when the crash comes between the claim (A3) and the send (mutant
// M31 is killed at after_3).
func TestCrashedAwaitRetriedWithNewToken(t *testing.T) {
	for n := 1; n <= 5; n++ {
		for _, when := range []faults.When{faults.Before, faults.After} {
			t.Run(fmt.Sprintf("%s_%d", when, n), func(t *testing.T) {
				ctx := context.Background()
				inj, rec := faults.New(), faults.NewTasks()
				moto := dynamodb.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()))
				c, _, _ := newTestClient(t, &awscalls.Counter{}, func(o *hooks.Options) {
					o.DynamoDB = inj.DynamoDB(moto)
					o.StepFunctions = inj.StepFunctions(rec)
					o.RedriveAfter = 200 * time.Millisecond // how long T2 waits for T1's hand-out
				})
				token := "retried-" + suffix()
				reg := hooks.RegisterInput{Token: token, ExecutionARN: execA}
				storePayloads(t, c, token, `{"p":1}`, `{"p":2}`)
				inj.CrashAt(n, when)
				crash := faults.Recover(func() { _ = c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T1"}) })
				if crash == nil {
					t.Fatalf("no crash at call %d: %v", n, inj.Ops())
				}
				// Step Functions sees the invocation fail (Lambda.Unknown) and
				// retries the task with a new token: the attempt's end is in
				// the history, unless T1 was already completed.
				rec.Fail("T1", "Lambda.Unknown")
				if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T2"}); err != nil {
					t.Fatalf("retried await: %v", err)
				}
				t1, delivered1 := rec.Output("T1")
				t2, _ := rec.Output("T2")
				// No duplicate and no loss: P1 reached T1 (the crash came after
				// its SendTaskSuccess) and T2 gets P2, or T1 never got it and
				// T2 gets P1. The retried await settles the dead one's
				// hand-out from the execution history (docs/protocol.md).
				switch {
				case delivered1 && t1 == `{"p":1}` && t2 == `{"p":2}`:
				case !delivered1 && t2 == `{"p":1}`:
				default:
					t.Fatalf("%s: T1 got %q (%v), T2 got %q; want P1 once and then P2", crash, t1, delivered1, t2)
				}
				if t2 == `{"p":1}` {
					if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T3"}); err != nil {
						t.Fatal(err)
					}
					if t3, _ := rec.Output("T3"); t3 != `{"p":2}` {
						t.Errorf("next await got %q, want P2", t3)
					}
				}
				if st, err := c.GetHook(ctx, token); err != nil || st.Pending != 0 {
					t.Errorf("at the end: %+v, %v: want nothing pending", st, err)
				}
			})
		}
	}
}
