package awsmodel

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The Step Functions model as doc.go states it: task tokens complete once,
// executions are RUNNING, the history lists each task's TaskScheduled and
// TaskSucceeded/TaskFailed, which is what pkg/hooks settles a closed task
// from.

// TestTaskCompletesOnce: a task token completes once; a later
// SendTaskSuccess or SendTaskFailure answers TaskTimedOut, an unknown
// token InvalidToken, both of which pkg/hooks takes for a closed task
// (taskClosed, pkg/hooks/awserr.go).
func TestTaskCompletesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sf := NewStepFunctions(time.Microsecond)
	task := sf.NewTask("T1", "E")
	if _, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T1"), Output: aws.String(`{"a":1}`)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-task.Done:
	default:
		t.Fatal("the task is not done after SendTaskSuccess")
	}
	_, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T1"), Output: aws.String(`{"a":2}`)})
	var to *sfntypes.TaskTimedOut
	if !errors.As(err, &to) {
		t.Errorf("second SendTaskSuccess: %v, want TaskTimedOut (a closed task for pkg/hooks)", err)
	}
	_, err = sf.SendTaskFailure(ctx, sfnFailure("T1", "E", "c"))
	if !errors.As(err, &to) {
		t.Errorf("SendTaskFailure after success: %v, want TaskTimedOut", err)
	}
	if task.Output != `{"a":1}` || task.Failed {
		t.Errorf("task output %q failed %v, want the first completion's", task.Output, task.Failed)
	}
	_, err = sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("nope"), Output: aws.String(`{}`)})
	var inv *sfntypes.InvalidToken
	if !errors.As(err, &inv) {
		t.Errorf("unknown token: %v, want InvalidToken (a closed task for pkg/hooks)", err)
	}
	out, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("E")})
	if err != nil || out.Status != sfntypes.ExecutionStatusRunning {
		t.Errorf("DescribeExecution: %v, %v; want RUNNING", out, err)
	}
}

// TestExecutionHistory: GetExecutionHistory lists, per task, TaskScheduled
// (its parameters carry the token) then, once closed, TaskSucceeded with
// the output or TaskFailed with the error and cause, each pointing back
// to its TaskScheduled; ReverseOrder reverses the list.
func TestExecutionHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sf := NewStepFunctions(time.Microsecond)
	sf.NewTask("T1", "E")
	sf.NewTask("T2", "E")
	sf.NewTask("T3", "E")
	sf.NewTask("X1", "other")
	if _, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T1"), Output: aws.String(`{"a":1}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sf.SendTaskFailure(ctx, sfnFailure("T2", "Rejected", "no thanks")); err != nil {
		t.Fatal(err)
	}
	out, err := sf.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("E")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	byID := map[int64]sfntypes.HistoryEvent{}
	for _, ev := range out.Events {
		byID[ev.Id] = ev
	}
	for _, ev := range out.Events {
		s := string(ev.Type)
		switch ev.Type {
		case sfntypes.HistoryEventTypeTaskScheduled:
			var p struct{ Payload struct{ TaskToken string } }
			_ = json.Unmarshal([]byte(aws.ToString(ev.TaskScheduledEventDetails.Parameters)), &p)
			s += "(" + p.Payload.TaskToken + ")"
		case sfntypes.HistoryEventTypeTaskSucceeded:
			s += "(" + aws.ToString(ev.TaskSucceededEventDetails.Output) + ")"
		case sfntypes.HistoryEventTypeTaskFailed:
			s += "(" + aws.ToString(ev.TaskFailedEventDetails.Error) + ": " + aws.ToString(ev.TaskFailedEventDetails.Cause) + ")"
		}
		if ev.Type != sfntypes.HistoryEventTypeTaskScheduled {
			prev := byID[ev.PreviousEventId]
			if prev.Type != sfntypes.HistoryEventTypeTaskScheduled {
				t.Errorf("event %d (%s) points back to %d (%s), want its TaskScheduled", ev.Id, ev.Type, ev.PreviousEventId, prev.Type)
			}
		}
		got = append(got, s)
	}
	want := []string{
		"TaskScheduled(T1)", `TaskSucceeded({"a":1})`,
		"TaskScheduled(T2)", "TaskFailed(Rejected: no thanks)",
		"TaskScheduled(T3)",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("history:\n got %v\nwant %v", got, want)
	}
	rev, err := sf.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("E"), ReverseOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rev.Events) != len(out.Events) || rev.Events[0].Id != out.Events[len(out.Events)-1].Id {
		t.Errorf("ReverseOrder: %d events, first id %d; want the same events newest first", len(rev.Events), rev.Events[0].Id)
	}
}

// TestHooksSettleClosedTaskOnModel: pkg/hooks, on the model alone, settles
// a resume to a task that ended without it from the model's history
// (TaskTimedOut, then TaskFailed in the history): the payload is kept for
// the next await. A rejection delivered by SendTaskFailure is found in the
// history by its error and cause.
func TestHooksSettleClosedTaskOnModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewDynamoDB(Config{Latency: 100 * time.Microsecond, PartitionWCU: -1, PartitionRCU: -1})
	sf := NewStepFunctions(100 * time.Microsecond)
	c := modelClient(t, d, sf)
	reg := hooks.RegisterInput{Token: "h", ExecutionARN: modelExec}
	await := func(tt string) *Task {
		t.Helper()
		task := sf.NewTask(tt, modelExec)
		if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: tt}); err != nil {
			t.Fatal(err)
		}
		return task
	}
	await("T1")
	if _, err := sf.SendTaskFailure(ctx, sfnFailure("T1", "States.Timeout", "")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, "h", json.RawMessage(`{"p":1}`)); err != nil {
		t.Fatalf("resume to a closed task: %v, want it acknowledged and kept", err)
	}
	st, err := c.GetHook(ctx, "h")
	if err != nil {
		t.Fatal(err)
	}
	if st.Waiting || st.Pending != 1 {
		t.Fatalf("after a resume to a closed task: waiting %v pending %d, want the payload pending", st.Waiting, st.Pending)
	}
	if t2 := await("T2"); t2.Output != `{"p":1}` {
		t.Errorf("next await got %q, want the kept payload", t2.Output)
	}
	// A rejection to a parked await, resent with the same key after its
	// task failed with it: the replay finds it in the history (error and
	// cause) and answers as the first time, without storing it again.
	t3 := await("T3")
	if _, err := c.RejectHook(ctx, "h", "Rejected", "no", hooks.WithIdempotencyKey("r")); err != nil {
		t.Fatal(err)
	}
	if !t3.Failed || t3.Error != "Rejected" || t3.Cause != "no" {
		t.Fatalf("T3: failed %v error %q cause %q", t3.Failed, t3.Error, t3.Cause)
	}
	await("T4") // takes the record for consumed
	if _, err := c.RejectHook(ctx, "h", "Rejected", "no", hooks.WithIdempotencyKey("r")); err != nil {
		t.Fatal(err)
	}
	if st, err := c.GetHook(ctx, "h"); err != nil || st.Pending != 0 || !st.Waiting {
		t.Errorf("after the replayed rejection: %+v, %v; want nothing pending and T4 waiting", st, err)
	}
}

func sfnFailure(token, errName, cause string) *sfn.SendTaskFailureInput {
	return &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String(errName), Cause: aws.String(cause)}
}
