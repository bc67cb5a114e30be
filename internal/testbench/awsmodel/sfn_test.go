package awsmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The Step Functions model as doc.go states it: task tokens complete once,
// executions run until they are ended, and the history lists their events
// as Step Functions serves them, which is what pkg/hooks settles a closed
// task from.

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
	if task.State() != TaskSucceeded || task.Open() {
		t.Errorf("task state %s, want %s", task.State(), TaskSucceeded)
	}
}

// describeEvent is a history event as "Id:Type(detail)<-PreviousEventId".
func describeEvent(ev sfntypes.HistoryEvent) string {
	s := fmt.Sprintf("%d:%s", ev.Id, ev.Type)
	switch {
	case ev.TaskScheduledEventDetails != nil:
		var p struct{ Payload struct{ TaskToken string } }
		_ = json.Unmarshal([]byte(aws.ToString(ev.TaskScheduledEventDetails.Parameters)), &p)
		s += "(" + p.Payload.TaskToken + ")"
	case ev.TaskSucceededEventDetails != nil:
		s += "(" + aws.ToString(ev.TaskSucceededEventDetails.Output) + ")"
	case ev.TaskFailedEventDetails != nil:
		s += "(" + aws.ToString(ev.TaskFailedEventDetails.Error) + ": " + aws.ToString(ev.TaskFailedEventDetails.Cause) + ")"
	case ev.TaskTimedOutEventDetails != nil:
		s += "(" + aws.ToString(ev.TaskTimedOutEventDetails.Error) + ")"
	case ev.ExecutionFailedEventDetails != nil:
		s += "(" + aws.ToString(ev.ExecutionFailedEventDetails.Error) + ": " + aws.ToString(ev.ExecutionFailedEventDetails.Cause) + ")"
	case ev.ExecutionRedrivenEventDetails != nil:
		s += fmt.Sprintf("(%d)", aws.ToInt32(ev.ExecutionRedrivenEventDetails.RedriveCount))
	}
	return fmt.Sprintf("%s<-%d", s, ev.PreviousEventId)
}

func history(t *testing.T, sf *StepFunctions, in *sfn.GetExecutionHistoryInput) (events []string, out *sfn.GetExecutionHistoryOutput) {
	t.Helper()
	out, err := sf.GetExecutionHistory(context.Background(), in)
	if err != nil {
		t.Fatalf("GetExecutionHistory: %v", err)
	}
	for _, ev := range out.Events {
		events = append(events, describeEvent(ev))
	}
	return events, out
}

// TestExecutionHistory: GetExecutionHistory serves the history as Step
// Functions does: ids from 1 in order, ExecutionStarted first; per task
// TaskScheduled (its parameters carry the token), TaskStarted and
// TaskSubmitted, then TaskSucceeded with the output or TaskFailed with the
// error and cause, each pointing back to the one before it in the task
// (TaskSucceeded → TaskSubmitted → TaskStarted → TaskScheduled, the chain
// pkg/hooks' scheduledBy follows); every event stamped with the time it
// happened; ReverseOrder newest first; another execution's tasks apart.
func TestExecutionHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sf := NewStepFunctions(-1)
		t0 := time.Now()
		sf.NewTask("T1", "E")
		time.Sleep(time.Second)
		sf.NewTask("T2", "E")
		sf.NewTask("X1", "other")
		time.Sleep(time.Second)
		if _, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T1"), Output: aws.String(`{"a":1}`)}); err != nil {
			t.Fatal(err)
		}
		if _, err := sf.SendTaskFailure(ctx, sfnFailure("T2", "Rejected", "no thanks")); err != nil {
			t.Fatal(err)
		}
		got, out := history(t, sf, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("E")})
		want := []string{
			"1:ExecutionStarted<-0",
			"2:TaskScheduled(T1)<-1", "3:TaskStarted<-2", "4:TaskSubmitted<-3",
			"5:TaskScheduled(T2)<-4", "6:TaskStarted<-5", "7:TaskSubmitted<-6",
			`8:TaskSucceeded({"a":1})<-4`,
			"9:TaskFailed(Rejected: no thanks)<-7",
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("history:\n got %v\nwant %v", got, want)
		}
		at := []time.Duration{0, 0, 0, 0, time.Second, time.Second, time.Second, 2 * time.Second, 2 * time.Second}
		for i, ev := range out.Events {
			if i < len(at) && !aws.ToTime(ev.Timestamp).Equal(t0.Add(at[i])) {
				t.Errorf("event %d at %v, want t0+%v", ev.Id, aws.ToTime(ev.Timestamp).Sub(t0), at[i])
			}
		}
		rev, _ := history(t, sf, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("E"), ReverseOrder: true})
		slices.Reverse(rev)
		if strings.Join(rev, " ") != strings.Join(want, " ") {
			t.Errorf("ReverseOrder: %v, want the same events newest first", rev)
		}
		other, _ := history(t, sf, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("other")})
		if want := "1:ExecutionStarted<-0 2:TaskScheduled(X1)<-1 3:TaskStarted<-2 4:TaskSubmitted<-3"; strings.Join(other, " ") != want {
			t.Errorf("the other execution: %v, want [%s]", other, want)
		}
		// Without execution data: no output, no parameters.
		_, bare := history(t, sf, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("E"), IncludeExecutionData: aws.Bool(false)})
		if d := bare.Events[7].TaskSucceededEventDetails; d == nil || d.Output != nil {
			t.Errorf("IncludeExecutionData false: TaskSucceeded details %+v, want no output", d)
		}
		if d := bare.Events[1].TaskScheduledEventDetails; d == nil || d.Parameters != nil {
			t.Errorf("IncludeExecutionData false: TaskScheduled details %+v, want no parameters", d)
		}
		if d := bare.Events[8].TaskFailedEventDetails; aws.ToString(d.Error) != "Rejected" {
			t.Errorf("IncludeExecutionData false: TaskFailed error %q, want it kept", aws.ToString(d.Error))
		}
	})
}

// TestExecutionLifecycle: executions start RUNNING and end ABORTED
// (Stop), FAILED (Fail), SUCCEEDED (Succeed) or TIMED_OUT
// (TimeOutExecution), each with its event; DescribeExecution says so
// (dates, error and cause, output, redrive count); the tasks still open
// are closed with the execution, with no event of their own, and their
// tokens answer TaskTimedOut (SendTaskSuccess, SendTaskFailure,
// SendTaskHeartbeat); a task reached on an ended execution is closed at
// once; Redrive runs a FAILED, ABORTED or TIMED_OUT execution again
// (ExecutionRedriven, RedriveCount + 1, ids going on), not a RUNNING or
// SUCCEEDED one.
func TestExecutionLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sf := NewStepFunctions(-1)
		t0 := time.Now()
		if err := sf.Start("E"); err != nil {
			t.Fatal(err)
		}
		var exists *sfntypes.ExecutionAlreadyExists
		if err := sf.Start("E"); !errors.As(err, &exists) {
			t.Errorf("Start of a known execution: %v, want ExecutionAlreadyExists", err)
		}
		task := sf.NewTask("T1", "E")
		time.Sleep(time.Minute)
		if err := sf.Stop("E"); err != nil {
			t.Fatal(err)
		}
		if task.Open() || task.State() != TaskCanceled {
			t.Errorf("task after Stop: %s, want %s", task.State(), TaskCanceled)
		}
		select {
		case <-task.Done:
		default:
			t.Error("Done is open after the execution ended")
		}
		var timedOut *sfntypes.TaskTimedOut
		if _, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T1"), Output: aws.String("{}")}); !errors.As(err, &timedOut) {
			t.Errorf("SendTaskSuccess after Stop: %v, want TaskTimedOut", err)
		}
		if _, err := sf.SendTaskFailure(ctx, sfnFailure("T1", "E", "c")); !errors.As(err, &timedOut) {
			t.Errorf("SendTaskFailure after Stop: %v, want TaskTimedOut", err)
		}
		if _, err := sf.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("T1")}); !errors.As(err, &timedOut) {
			t.Errorf("SendTaskHeartbeat after Stop: %v, want TaskTimedOut", err)
		}
		if err := sf.Stop("E"); !errors.Is(err, ErrNotRunning) {
			t.Errorf("Stop of an aborted execution: %v, want ErrNotRunning", err)
		}
		if late := sf.NewTask("T-late", "E"); late.Open() {
			t.Error("a task reached on an aborted execution is open")
		}
		d, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("E")})
		if err != nil || d.Status != sfntypes.ExecutionStatusAborted || !aws.ToTime(d.StopDate).Equal(t0.Add(time.Minute)) ||
			d.RedriveStatus != sfntypes.ExecutionRedriveStatusRedrivable {
			t.Errorf("DescribeExecution after Stop: %+v, %v; want ABORTED at t0+1m, redrivable", d, err)
		}

		if err := sf.Redrive("E"); err != nil {
			t.Fatal(err)
		}
		var notRedrivable *sfntypes.ExecutionNotRedrivable
		if err := sf.Redrive("E"); !errors.As(err, &notRedrivable) {
			t.Errorf("Redrive of a running execution: %v, want ExecutionNotRedrivable", err)
		}
		if _, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T1"), Output: aws.String("{}")}); !errors.As(err, &timedOut) {
			t.Errorf("the aborted task's token after Redrive: %v, want TaskTimedOut", err)
		}
		t2 := sf.NewTask("T2", "E")
		if _, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T2"), Output: aws.String(`{"ok":1}`)}); err != nil {
			t.Errorf("a task of the redriven execution: %v", err)
		}
		if t2.State() != TaskSucceeded {
			t.Errorf("T2: %s", t2.State())
		}
		if err := sf.Fail("E", "States.TaskFailed", "boom"); err != nil {
			t.Fatal(err)
		}
		d, _ = sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("E")})
		if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "States.TaskFailed" || aws.ToString(d.Cause) != "boom" || aws.ToInt32(d.RedriveCount) != 1 {
			t.Errorf("DescribeExecution after Fail: status %s error %q cause %q redrives %d", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), aws.ToInt32(d.RedriveCount))
		}
		if err := sf.Redrive("E"); err != nil {
			t.Fatal(err)
		}
		if err := sf.TimeOutExecution("E"); err != nil {
			t.Fatal(err)
		}
		if err := sf.Redrive("E"); err != nil {
			t.Fatal(err)
		}
		if err := sf.Succeed("E", `{"done":true}`); err != nil {
			t.Fatal(err)
		}
		if err := sf.Redrive("E"); !errors.As(err, &notRedrivable) {
			t.Errorf("Redrive of a succeeded execution: %v, want ExecutionNotRedrivable", err)
		}
		d, _ = sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("E")})
		if d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"done":true}` || aws.ToInt32(d.RedriveCount) != 3 {
			t.Errorf("DescribeExecution after Succeed: status %s output %q redrives %d", d.Status, aws.ToString(d.Output), aws.ToInt32(d.RedriveCount))
		}
		d, _ = sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("E"), IncludedData: sfntypes.IncludedDataMetadataOnly})
		if d.Output != nil {
			t.Errorf("METADATA_ONLY: output %q, want none", aws.ToString(d.Output))
		}
		got, _ := history(t, sf, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("E")})
		want := []string{
			"1:ExecutionStarted<-0",
			"2:TaskScheduled(T1)<-1", "3:TaskStarted<-2", "4:TaskSubmitted<-3",
			"5:ExecutionAborted<-4",
			"6:ExecutionRedriven(1)<-5",
			"7:TaskScheduled(T2)<-6", "8:TaskStarted<-7", "9:TaskSubmitted<-8", `10:TaskSucceeded({"ok":1})<-9`,
			"11:ExecutionFailed(States.TaskFailed: boom)<-10",
			"12:ExecutionRedriven(2)<-11",
			"13:ExecutionTimedOut<-12",
			"14:ExecutionRedriven(3)<-13",
			"15:ExecutionSucceeded<-14",
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("history:\n got %v\nwant %v", got, want)
		}
		if st, ok := sf.Status("E"); !ok || st != sfntypes.ExecutionStatusSucceeded {
			t.Errorf("Status = %s, %v", st, ok)
		}
		if _, ok := sf.Status("nope"); ok {
			t.Error("Status of an unknown execution: known")
		}
		var notExist *sfntypes.ExecutionDoesNotExist
		for name, err := range map[string]error{"Stop": sf.Stop("nope"), "Fail": sf.Fail("nope", "e", "c"), "Redrive": sf.Redrive("nope")} {
			if !errors.As(err, &notExist) {
				t.Errorf("%s of an unknown execution: %v, want ExecutionDoesNotExist", name, err)
			}
		}
	})
}

// TestStrictExecutions: with Strict an ARN the model never saw is
// ExecutionDoesNotExist for DescribeExecution and GetExecutionHistory;
// without, it is RUNNING with no events.
func TestStrictExecutions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, strict := range []bool{false, true} {
		sf := NewStepFunctions(-1)
		sf.Strict = strict
		d, derr := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("nope")})
		h, herr := sf.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("nope")})
		var notExist *sfntypes.ExecutionDoesNotExist
		if strict {
			if !errors.As(derr, &notExist) || !errors.As(herr, &notExist) {
				t.Errorf("Strict, unknown ARN: DescribeExecution %v, GetExecutionHistory %v; want ExecutionDoesNotExist", derr, herr)
			}
			continue
		}
		if derr != nil || d.Status != sfntypes.ExecutionStatusRunning || herr != nil || len(h.Events) != 0 {
			t.Errorf("unknown ARN: %v, %v, %v, %v; want RUNNING and no events", d, derr, h, herr)
		}
	}
}

// TestTaskTimeoutsAndHeartbeats: SendTaskHeartbeat on an open task
// succeeds and records the time; TimeOutTask closes it with a TaskTimedOut
// event (its error) pointing back to TaskSubmitted, after which every
// send answers TaskTimedOut; FailTask closes a task as a dead Lambda does
// (TaskFailed Lambda.Unknown); unknown tokens are InvalidToken.
func TestTaskTimeoutsAndHeartbeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sf := NewStepFunctions(-1)
		t1 := sf.NewTask("T1", "E")
		t2 := sf.NewTask("T2", "E")
		time.Sleep(3 * time.Second)
		beatAt := time.Now()
		if _, err := sf.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("T1")}); err != nil {
			t.Fatal(err)
		}
		if got := t1.LastHeartbeat(); !got.Equal(beatAt) {
			t.Errorf("LastHeartbeat = %v, want %v", got, beatAt)
		}
		if err := sf.TimeOutTask("T1", "States.HeartbeatTimeout"); err != nil {
			t.Fatal(err)
		}
		if t1.Open() || t1.State() != TaskTimedOut || t1.Error != "States.HeartbeatTimeout" {
			t.Errorf("T1 after TimeOutTask: %s %q", t1.State(), t1.Error)
		}
		var timedOut *sfntypes.TaskTimedOut
		var invalid *sfntypes.InvalidToken
		if _, err := sf.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("T1")}); !errors.As(err, &timedOut) {
			t.Errorf("heartbeat of a timed-out task: %v, want TaskTimedOut", err)
		}
		if _, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T1"), Output: aws.String("{}")}); !errors.As(err, &timedOut) {
			t.Errorf("SendTaskSuccess of a timed-out task: %v, want TaskTimedOut", err)
		}
		if err := sf.TimeOutTask("T1", "States.Timeout"); !errors.As(err, &timedOut) {
			t.Errorf("TimeOutTask of a closed task: %v, want TaskTimedOut", err)
		}
		if err := sf.FailTask("T2", "Lambda.Unknown", "The function died"); err != nil {
			t.Fatal(err)
		}
		if !t2.Failed || t2.Error != "Lambda.Unknown" || t2.State() != TaskFailed {
			t.Errorf("T2 after FailTask: %s failed %v %q", t2.State(), t2.Failed, t2.Error)
		}
		if _, err := sf.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("nope")}); !errors.As(err, &invalid) {
			t.Errorf("heartbeat of an unknown token: %v, want InvalidToken", err)
		}
		if err := sf.TimeOutTask("nope", "States.Timeout"); !errors.As(err, &invalid) {
			t.Errorf("TimeOutTask of an unknown token: %v, want InvalidToken", err)
		}
		got, _ := history(t, sf, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("E")})
		want := "1:ExecutionStarted<-0 2:TaskScheduled(T1)<-1 3:TaskStarted<-2 4:TaskSubmitted<-3 " +
			"5:TaskScheduled(T2)<-4 6:TaskStarted<-5 7:TaskSubmitted<-6 " +
			"8:TaskTimedOut(States.HeartbeatTimeout)<-4 9:TaskFailed(Lambda.Unknown: The function died)<-7"
		if strings.Join(got, " ") != want {
			t.Errorf("history:\n got %v\nwant %s", got, want)
		}
	})
}

// TestSendTaskValidation: SendTaskSuccess refuses an output that is not
// JSON (InvalidOutput) or longer than 262,144 bytes, SendTaskFailure an
// error over 256 characters or a cause over 32,768
// (ValidationException), as the API does; the task stays open.
func TestSendTaskValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sf := NewStepFunctions(-1)
	task := sf.NewTask("T", "E")
	var invalidOutput *sfntypes.InvalidOutput
	var validation *sfntypes.ValidationException
	if _, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T"), Output: aws.String("{not json")}); !errors.As(err, &invalidOutput) {
		t.Errorf("output not JSON: %v, want InvalidOutput", err)
	}
	long := `"` + strings.Repeat("x", hooks.MaxPayloadBytes-1) + `"`
	if _, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T"), Output: aws.String(long)}); !errors.As(err, &validation) {
		t.Errorf("output of %d bytes: %v, want ValidationException", len(long), err)
	}
	if _, err := sf.SendTaskFailure(ctx, sfnFailure("T", strings.Repeat("e", 257), "")); !errors.As(err, &validation) {
		t.Errorf("error of 257 characters: %v, want ValidationException", err)
	}
	if _, err := sf.SendTaskFailure(ctx, sfnFailure("T", "E", strings.Repeat("c", 32769))); !errors.As(err, &validation) {
		t.Errorf("cause of 32,769 characters: %v, want ValidationException", err)
	}
	if !task.Open() {
		t.Error("a refused send closed the task")
	}
	ok := `"` + strings.Repeat("x", hooks.MaxPayloadBytes-2) + `"`
	if _, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T"), Output: aws.String(ok)}); err != nil {
		t.Errorf("output of exactly %d bytes: %v", len(ok), err)
	}
}

// TestHistoryPages: a long history (Pad) comes in pages of MaxResults
// (default and at most 1000), forward or newest first, each NextToken
// leading to the next page until the last, which has none; the pages
// together are the whole history, each event once. A NextToken of
// another execution or order, or not one at all, is InvalidToken; a
// MaxResults over 1000 a ValidationException.
func TestHistoryPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sf := NewStepFunctions(-1)
	sf.NewTask("T1", "E")
	sf.Pad("E", 2496) // 2,500 events
	sf.Pad("F", 10)
	read := func(reverse bool, max int32) (ids []int64, pages int, tokens []string) {
		t.Helper()
		in := &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("E"), ReverseOrder: reverse, MaxResults: max}
		for {
			out, err := sf.GetExecutionHistory(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, ev := range out.Events {
				ids = append(ids, ev.Id)
			}
			if out.NextToken == nil {
				return ids, pages, tokens
			}
			if pages > 2500 {
				t.Fatalf("no last page after %d pages", pages)
			}
			tokens = append(tokens, *out.NextToken)
			in.NextToken = out.NextToken
		}
	}
	check := func(what string, ids []int64, pages, wantPages int, reverse bool) {
		t.Helper()
		if pages != wantPages || len(ids) != 2500 {
			t.Errorf("%s: %d events in %d pages, want 2500 in %d", what, len(ids), pages, wantPages)
			return
		}
		for i, id := range ids {
			want := int64(i + 1)
			if reverse {
				want = int64(2500 - i)
			}
			if id != want {
				t.Errorf("%s: event %d has id %d, want %d", what, i, id, want)
				return
			}
		}
	}
	ids, pages, tokens := read(false, 0)
	check("forward, default page", ids, pages, 3, false)
	rids, rpages, rtokens := read(true, 0)
	check("newest first, default page", rids, rpages, 3, true)
	ids, pages, _ = read(false, 7)
	check("forward, pages of 7", ids, pages, 358, false)

	var invalid *sfntypes.InvalidToken
	bad := map[string]*sfn.GetExecutionHistoryInput{
		"garbage":                {ExecutionArn: aws.String("E"), NextToken: aws.String("garbage!")},
		"another execution's":    {ExecutionArn: aws.String("F"), NextToken: aws.String(tokens[0])},
		"a newest-first token":   {ExecutionArn: aws.String("E"), NextToken: aws.String(rtokens[0])},
		"a forward token, again": {ExecutionArn: aws.String("E"), NextToken: aws.String(tokens[0]), ReverseOrder: true},
	}
	for name, in := range bad {
		if _, err := sf.GetExecutionHistory(ctx, in); !errors.As(err, &invalid) {
			t.Errorf("NextToken %s: %v, want InvalidToken", name, err)
		}
	}
	var validation *sfntypes.ValidationException
	if _, err := sf.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("E"), MaxResults: 1001}); !errors.As(err, &validation) {
		t.Errorf("MaxResults 1001: %v, want ValidationException", err)
	}
}

// TestHistoryLag: SetLag(exec, n) hides the newest n events of exec from
// GetExecutionHistory, also events that happen meanwhile, until
// SetLag(exec, 0); DescribeExecution and other executions do not lag.
func TestHistoryLag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sf := NewStepFunctions(-1)
	sf.NewTask("T1", "E") // events 1-4
	sf.NewTask("X", "F")
	sf.SetLag("E", 2)
	ids := func(exec string, reverse bool) string {
		t.Helper()
		out, err := sf.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(exec), ReverseOrder: reverse})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, ev := range out.Events {
			s = append(s, fmt.Sprint(ev.Id))
		}
		return strings.Join(s, ",")
	}
	if got := ids("E", false); got != "1,2" {
		t.Errorf("lag 2: %s, want 1,2", got)
	}
	if got := ids("E", true); got != "2,1" {
		t.Errorf("lag 2, newest first: %s, want 2,1", got)
	}
	if err := sf.TimeOutTask("T1", "States.Timeout"); err != nil { // event 5
		t.Fatal(err)
	}
	if got := ids("E", false); got != "1,2,3" {
		t.Errorf("lag 2 after a new event: %s, want 1,2,3", got)
	}
	if got := ids("F", false); got != "1,2,3,4" {
		t.Errorf("another execution: %s, want all of it", got)
	}
	if err := sf.Stop("E"); err != nil {
		t.Fatal(err)
	}
	if d, _ := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("E")}); d.Status != sfntypes.ExecutionStatusAborted {
		t.Errorf("DescribeExecution with a lagging history: %s, want ABORTED", d.Status)
	}
	sf.SetLag("E", 0)
	if got := ids("E", false); got != "1,2,3,4,5,6" {
		t.Errorf("lag cleared: %s, want 1…6", got)
	}
	if n := len(sf.History("E")); n != 6 {
		t.Errorf("History: %d events, want 6", n)
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

// hooksOn is a pkg/hooks client on a model with no latency, its Step
// Functions strict about executions.
func hooksOn(t *testing.T) (*hooks.Client, *DynamoDB, *StepFunctions) {
	t.Helper()
	d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1})
	sf := NewStepFunctions(-1)
	sf.Strict = true
	return modelClient(t, d, sf), d, sf
}

// TestHooksExecutionEnd: when an execution ends with an await parked, its
// task token is closed with it (Step Functions answers TaskTimedOut):
// pkg/hooks' heartbeat answers not waiting, and a resume learns from the
// history that the execution ended without the payload, so it disposes
// the hook and answers not found (nothing acknowledged). A token held by
// an ended execution is taken over by another execution's create, while a
// running holder's is a conflict (DescribeExecution).
func TestHooksExecutionEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _, sf := hooksOn(t)
	const other = modelExec + "-2"
	for _, e := range []string{modelExec, other} {
		if err := sf.Start(e); err != nil {
			t.Fatal(err)
		}
	}
	reg := hooks.RegisterInput{Token: "h", ExecutionARN: modelExec}
	if _, err := c.Register(ctx, reg); err != nil {
		t.Fatal(err)
	}
	task := sf.NewTask("T1", modelExec)
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Heartbeat(ctx, "h"); err != nil {
		t.Fatalf("heartbeat of the parked await: %v", err)
	}
	if task.LastHeartbeat().IsZero() {
		t.Error("the heartbeat did not reach the task")
	}
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: "h", ExecutionARN: other}); !errors.Is(err, hooks.ErrConflict) {
		t.Fatalf("create by another execution while the holder runs: %v, want ErrConflict", err)
	}
	if err := sf.Stop(modelExec); err != nil {
		t.Fatal(err)
	}
	if err := c.Heartbeat(ctx, "h"); !errors.Is(err, hooks.ErrNotWaiting) {
		t.Errorf("heartbeat after the execution ended: %v, want ErrNotWaiting", err)
	}
	if _, err := c.ResumeHook(ctx, "h", json.RawMessage(`{"late":1}`)); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Errorf("resume after the execution ended: %v, want ErrHookNotFound", err)
	}
	if _, err := c.GetHook(ctx, "h"); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Errorf("GetHook after that resume: %v, want the hook disposed", err)
	}
	for _, ev := range sf.History(modelExec) {
		if ev.Type == sfntypes.HistoryEventTypeTaskSucceeded {
			t.Errorf("the ended execution's history has %s", describeEvent(ev))
		}
	}

	// A hook left behind by an ended execution (no dispose ran): another
	// execution's create takes the token over.
	if err := sf.Start(modelExec + "-3"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: "left", ExecutionARN: modelExec + "-3"}); err != nil {
		t.Fatal(err)
	}
	if err := sf.Fail(modelExec+"-3", "States.TaskFailed", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: "left", ExecutionARN: other}); err != nil {
		t.Errorf("create of a token an ended execution holds: %v, want it taken over", err)
	}
	// And one whose holder Step Functions does not know (Strict):
	// ExecutionDoesNotExist is an ended execution too.
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: "ghost", ExecutionARN: modelExec + "-never-started"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: "ghost", ExecutionARN: other}); err != nil {
		t.Errorf("create of a token an unknown execution holds: %v, want it taken over", err)
	}
}

// timedOutAwait registers hook h, parks an await with task tt and times
// the task out (States.Timeout): the next resume's SendTaskSuccess
// answers TaskTimedOut and pkg/hooks settles it from the history.
func timedOutAwait(t *testing.T, c *hooks.Client, sf *StepFunctions, h, tt string) {
	t.Helper()
	ctx := context.Background()
	reg := hooks.RegisterInput{Token: h, ExecutionARN: modelExec}
	if _, err := c.Register(ctx, reg); err != nil {
		t.Fatal(err)
	}
	sf.NewTask(tt, modelExec)
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: tt}); err != nil {
		t.Fatal(err)
	}
	if err := sf.TimeOutTask(tt, "States.Timeout"); err != nil {
		t.Fatal(err)
	}
}

// TestHooksSettleLongHistory: settling a closed task reads the history
// newest first, page after page (NextToken), until it finds the task's
// TaskScheduled: with 2,500 events after it, three pages; the task ended
// without the payload, so the payload is kept for the next await.
func TestHooksSettleLongHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _, sf := hooksOn(t)
	if err := sf.Start(modelExec); err != nil {
		t.Fatal(err)
	}
	timedOutAwait(t, c, sf, "h", "T1")
	sf.Pad(modelExec, 2500)
	sf.Calls.Reset()
	if _, err := c.ResumeHook(ctx, "h", json.RawMessage(`{"p":1}`)); err != nil {
		t.Fatalf("resume to a task that timed out 2,500 events ago: %v", err)
	}
	if got := sf.Calls.String(); !strings.Contains(got, "SFN.GetExecutionHistory=3") {
		t.Errorf("calls %s, want three pages of history read", got)
	}
	st, err := c.GetHook(ctx, "h")
	if err != nil || st.Pending != 1 || st.Waiting {
		t.Errorf("after the settled resume: %+v, %v; want the payload pending", st, err)
	}
}

// TestHooksSettleLaggingHistory: Step Functions answered TaskTimedOut but
// the history does not show the task's end yet (SetLag): pkg/hooks reads
// it again for a moment (50 ms doubling, fake time here) and settles once
// the event shows; if it never shows, the resume fails with the outcome
// unknown rather than guessing, and nothing is acknowledged.
func TestHooksSettleLaggingHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c, _, sf := hooksOn(t)
		if err := sf.Start(modelExec); err != nil {
			t.Fatal(err)
		}
		timedOutAwait(t, c, sf, "h", "T1")
		sf.SetLag(modelExec, 1) // the TaskTimedOut event
		sf.Calls.Reset()
		done := make(chan error, 1)
		go func() {
			_, err := c.ResumeHook(ctx, "h", json.RawMessage(`{"p":1}`))
			done <- err
		}()
		time.Sleep(200 * time.Millisecond) // reads at 0, 50 and 150 ms saw no end
		sf.SetLag(modelExec, 0)
		if err := <-done; err != nil {
			t.Fatalf("resume once the history caught up: %v", err)
		}
		if got := sf.Calls.String(); !strings.Contains(got, "SFN.GetExecutionHistory=4") {
			t.Errorf("calls %s, want four reads of the history (0, 50, 150, 350 ms)", got)
		}
		if st, err := c.GetHook(ctx, "h"); err != nil || st.Pending != 1 {
			t.Errorf("after the settled resume: %+v, %v; want the payload pending", st, err)
		}

		// The end never shows: the resume gives up, unacknowledged.
		timedOutAwait(t, c, sf, "h2", "T2")
		sf.SetLag(modelExec, 1)
		start := time.Now()
		_, err := c.ResumeHook(ctx, "h2", json.RawMessage(`{"p":2}`))
		if err == nil {
			t.Fatal("resume with the task's end never in the history: acknowledged, want an error")
		}
		if el := time.Since(start); el < 3*time.Second {
			t.Errorf("gave up after %v, want pkg/hooks' whole settle window (3.15 s)", el)
		}
		sf.SetLag(modelExec, 0)
	})
}
