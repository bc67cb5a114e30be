package sim

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// A late end event's DisposeExecution races a redrive: Step Functions says
// the execution ended (ABORTED), and the execution is redriven before the
// hook is deleted. What the redriven run did to the hook in between (a
// payload acknowledged to it, or its await parked) must not be deleted:
// the delete is conditioned on the hook being as it was read before
// Step Functions answered (docs/protocol.md, "DisposeExecution"). The
// interleaving (a redrive between two calls of one invocation) is a
// schedule moto cannot be made to produce; the model runs it.
func TestDisposeExecutionRacesRedrive(t *testing.T) {
	for _, tc := range []struct {
		name string
		// between runs after DescribeExecution answered ABORTED, before
		// the first DeleteItem; the redriven run's await is then T2.
		between func(t *testing.T, r *rig) *awsmodel.Task
	}{
		{"a resume acknowledged to the redriven run", func(t *testing.T, r *rig) *awsmodel.Task {
			rc, _ := r.client("resume", nil)
			if _, err := rc.ResumeHook(context.Background(), "approval-r", json.RawMessage(`{"p":"P"}`)); err != nil {
				t.Errorf("resume: %v", err)
			}
			return nil
		}},
		{"the redriven run's await parked", func(t *testing.T, r *rig) *awsmodel.Task {
			t2 := r.sf.NewTask("t2", reviewExec)
			aw, _ := r.client("await2", nil)
			mustAwait(t, aw, "t2")
			return t2
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig()
				ctx := context.Background()
				r.parkThenStop(t)
				time.Sleep(time.Second)
				var t2 *awsmodel.Task
				ev, _ := r.client("events", map[string]rfault{"DynamoDB.DeleteItem#1": {kind: None, between: func() {
					if err := r.sf.Redrive(reviewExec); err != nil {
						t.Errorf("redrive: %v", err)
					}
					t2 = tc.between(t, r)
				}}})
				n, err := ev.DisposeExecution(ctx, reviewExec)
				if err != nil || n != 0 {
					t.Errorf("DisposeExecution across a redrive: %d disposed, %v; want 0, nil", n, err)
				}
				if t2 == nil {
					t2 = r.sf.NewTask("t2", reviewExec)
					aw2, _ := r.client("await2", nil)
					mustAwait(t, aw2, "t2")
				} else {
					rc, _ := r.client("resume", nil)
					if _, err := rc.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"P"}`)); err != nil {
						t.Errorf("resume after the dispose: %v", err)
					}
				}
				if t2.State() != "SUCCEEDED" || t2.Output != `{"p":"P"}` {
					t.Errorf("the redriven run's await T2: %s %q (error %q), want SUCCEEDED with P: the late DisposeExecution deleted what the redriven run had",
						t2.State(), t2.Output, t2.Error)
				}
			})
		})
	}
}

// pendingRedrive answers DescribeExecution PENDING_REDRIVE: Step Functions
// accepted a redrive and the execution is about to run again. Neither moto
// nor the model has that status (their redrive is RUNNING at once), so
// this wrapper stands for it.
type pendingRedrive struct{ hooks.StepFunctionsAPI }

func (p pendingRedrive) DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, o ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	out, err := p.StepFunctionsAPI.DescribeExecution(ctx, in, o...)
	if err == nil {
		out.Status = sfntypes.ExecutionStatusPendingRedrive
	}
	return out, err
}

// An execution in PENDING_REDRIVE runs (again): a late end event does not
// dispose its hooks, and another execution's create does not take its
// token over.
func TestPendingRedriveRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.parkThenStop(t)
		c, err := hooks.New(awsConfig(), func(o *hooks.Options) {
			o.TableName = "sim"
			o.DynamoDB = r.db
			o.StepFunctions = pendingRedrive{r.sf}
			o.KMS = unusedKMS{}
			o.Secrets = unusedSecrets{}
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := c.DisposeExecution(ctx, reviewExec); err != nil || n != 0 {
			t.Errorf("DisposeExecution of an execution in PENDING_REDRIVE: %d disposed, %v; want 0, nil", n, err)
		}
		const other = reviewExec + "-other"
		r.sf.Start(other)
		_, err = c.Register(ctx, hooks.RegisterInput{Token: "approval-r", ExecutionARN: other})
		var conflict *hooks.ConflictError
		if !errors.As(err, &conflict) || conflict.ExecutionARN != reviewExec {
			t.Errorf("create by another execution of a token held by one in PENDING_REDRIVE: %v, want a ConflictError naming the holder", err)
		}
		if _, err := c.GetHook(ctx, "approval-r"); err != nil {
			t.Errorf("the hook of the execution in PENDING_REDRIVE: %v, want it kept", err)
		}
	})
}

// The take-over of an ended holder's token races a redrive of the holder
// the same way: Step Functions says the holder ended, the holder is
// redriven and a payload is acknowledged to its hook, then the take-over
// deletes. The delete is conditioned on the hook as the refused write
// returned it (before Step Functions answered): the take-over fails, the
// other execution gets its conflict, and the redriven run keeps its
// payload. The interleaving is a schedule moto cannot be made to produce.
func TestTakeOverRacesRedrive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig()
		ctx := context.Background()
		r.parkThenStop(t)
		time.Sleep(time.Second)
		const other = reviewExec + "-other"
		r.sf.Start(other)
		t9 := r.sf.NewTask("t9", other)
		c9, _ := r.client("await9", map[string]rfault{"DynamoDB.DeleteItem#1": {kind: None, between: func() {
			if err := r.sf.Redrive(reviewExec); err != nil {
				t.Errorf("redrive: %v", err)
			}
			rc, _ := r.client("resume", nil)
			if _, err := rc.ResumeHook(ctx, "approval-r", json.RawMessage(`{"p":"P"}`)); err != nil {
				t.Errorf("resume: %v", err)
			}
		}}})
		err := invoke(func() error {
			return c9.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "approval-r", ExecutionARN: other}, TaskToken: "t9"})
		})
		var conflict *hooks.ConflictError
		if !errors.As(err, &conflict) || t9.Error != hooks.ErrorNameConflict {
			t.Errorf("the other execution's await: %v, its task %s %q; want a ConflictError and %s (the holder was redriven)", err, t9.State(), t9.Error, hooks.ErrorNameConflict)
		}
		t2 := r.sf.NewTask("t2", reviewExec)
		aw2, _ := r.client("await2", nil)
		mustAwait(t, aw2, "t2")
		if t2.State() != "SUCCEEDED" || t2.Output != `{"p":"P"}` {
			t.Errorf("the redriven run's await T2: %s %q (error %q), want SUCCEEDED with P: the take-over deleted what the redriven run had",
				t2.State(), t2.Output, t2.Error)
		}
	})
}
