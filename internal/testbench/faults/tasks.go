package faults

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Tasks is a scripted Step Functions for the task-token answers moto does
// not give: on AWS a task completes once, and every later SendTaskSuccess
// answers TaskTimedOut, as does a task that timed out (moto accepts a
// closed task's token while the execution runs). It keeps the history of
// one execution the way GetExecutionHistory shows it (TaskScheduled with
// the task token in its parameters, then TaskSucceeded with the output,
// TaskFailed with the error and cause, or TaskTimedOut), so the library's settlement of closed tasks can be
// tested. Tests of behaviour run against the emulator; use this only for
// these faults, and say so in the test.
//
// On AWS a task's TaskScheduled and TaskStarted events are in the history
// from the moment its state is entered, before the awaiting Lambda runs:
// a task can be scheduled with its end not in the history yet (it is
// open, or its end lags). Schedule writes them so; a task not scheduled
// by the test gets them when it ends, just before its end event.
type Tasks struct {
	mu         sync.Mutex
	done       map[string]string // task token → output it succeeded with
	closed     map[string]bool   // tasks over without an output
	failed     map[string]string // task token → error name
	causes     map[string]string // task token → cause of its failure
	heartbeats map[string]int    // task token → heartbeats received
	ended      bool
	events     []sfntypes.HistoryEvent
	sched      map[string]int64 // task token → its TaskScheduled event id
	history    int              // GetExecutionHistory calls
}

// NewTasks returns a Tasks with every task open and the execution running.
func NewTasks() *Tasks {
	return &Tasks{done: map[string]string{}, closed: map[string]bool{}, failed: map[string]string{}, causes: map[string]string{}, heartbeats: map[string]int{}, sched: map[string]int64{}}
}

func (t *Tasks) event(typ sfntypes.HistoryEventType, prev int64, fn func(*sfntypes.HistoryEvent)) int64 {
	ev := sfntypes.HistoryEvent{Id: int64(len(t.events) + 1), PreviousEventId: prev, Type: typ}
	if fn != nil {
		fn(&ev)
	}
	t.events = append(t.events, ev)
	return ev.Id
}

// Schedule enters token's task: its TaskScheduled and TaskStarted events
// are in the history from now on, with no end until it completes, fails or
// is closed (as on AWS, where the events come before the await runs). A
// task already scheduled is left as it is.
func (t *Tasks) Schedule(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.schedule(token)
}

// schedule records the TaskScheduled event of token (once).
func (t *Tasks) schedule(token string) int64 {
	if id, ok := t.sched[token]; ok {
		return id
	}
	params, _ := json.Marshal(map[string]any{"FunctionName": "hook-task", "Payload": map[string]string{"action": "await", "taskToken": token}})
	id := t.event(sfntypes.HistoryEventTypeTaskScheduled, 0, func(ev *sfntypes.HistoryEvent) {
		ev.TaskScheduledEventDetails = &sfntypes.TaskScheduledEventDetails{Parameters: aws.String(string(params)), Resource: aws.String("invoke.waitForTaskToken"), ResourceType: aws.String("lambda")}
	})
	id = t.event(sfntypes.HistoryEventTypeTaskStarted, id, nil)
	t.sched[token] = id - 1
	return id - 1
}

func (t *Tasks) over(token string) bool {
	_, done := t.done[token]
	_, failed := t.failed[token]
	return done || failed || t.closed[token] || t.ended
}

// SendTaskSuccess completes an open task and records its output.
func (t *Tasks) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	token := aws.ToString(in.TaskToken)
	if t.over(token) {
		return nil, &sfntypes.TaskTimedOut{Message: aws.String("Provided task does not exist anymore")}
	}
	t.done[token] = aws.ToString(in.Output)
	started := t.schedule(token) + 1
	t.event(sfntypes.HistoryEventTypeTaskSucceeded, started, func(ev *sfntypes.HistoryEvent) {
		ev.TaskSucceededEventDetails = &sfntypes.TaskSucceededEventDetails{Output: in.Output, Resource: aws.String("invoke.waitForTaskToken"), ResourceType: aws.String("lambda")}
	})
	return &sfn.SendTaskSuccessOutput{}, nil
}

// SendTaskFailure fails an open task.
func (t *Tasks) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	token := aws.ToString(in.TaskToken)
	if t.over(token) {
		return nil, &sfntypes.TaskTimedOut{Message: aws.String("Provided task does not exist anymore")}
	}
	t.failed[token] = aws.ToString(in.Error)
	t.causes[token] = aws.ToString(in.Cause)
	started := t.schedule(token) + 1
	t.event(sfntypes.HistoryEventTypeTaskFailed, started, func(ev *sfntypes.HistoryEvent) {
		ev.TaskFailedEventDetails = &sfntypes.TaskFailedEventDetails{Error: in.Error, Cause: in.Cause, Resource: aws.String("invoke.waitForTaskToken"), ResourceType: aws.String("lambda")}
	})
	return &sfn.SendTaskFailureOutput{}, nil
}

// SendTaskHeartbeat answers as AWS does: accepted while the task is open,
// TaskTimedOut once it is over.
func (t *Tasks) SendTaskHeartbeat(_ context.Context, in *sfn.SendTaskHeartbeatInput, _ ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.over(aws.ToString(in.TaskToken)) {
		return nil, &sfntypes.TaskTimedOut{Message: aws.String("Provided task does not exist anymore")}
	}
	t.heartbeats[aws.ToString(in.TaskToken)]++
	return &sfn.SendTaskHeartbeatOutput{}, nil
}

// Failure returns the error and cause token's task failed with.
func (t *Tasks) Failure(token string) (errName, cause string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	errName, ok = t.failed[token]
	return errName, t.causes[token], ok
}

// Heartbeats counts the heartbeats token's task received.
func (t *Tasks) Heartbeats(token string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.heartbeats[token]
}

// DescribeExecution answers RUNNING until End, then ABORTED.
func (t *Tasks) DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	status := sfntypes.ExecutionStatusRunning
	if t.ended {
		status = sfntypes.ExecutionStatusAborted
	}
	return &sfn.DescribeExecutionOutput{Status: status}, nil
}

// GetExecutionHistory returns the recorded events in pages of
// MaxResults (1,000 when 0 or more, as on AWS), oldest first or, with
// ReverseOrder, newest first. The NextToken names the last event returned,
// so a page read after new events were written goes on where the last one
// ended.
func (t *Tasks) GetExecutionHistory(_ context.Context, in *sfn.GetExecutionHistoryInput, _ ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.history++
	evs := slices.Clone(t.events)
	if in.ReverseOrder {
		slices.Reverse(evs)
	}
	if in.NextToken != nil {
		last, err := strconv.ParseInt(*in.NextToken, 10, 64)
		i := slices.IndexFunc(evs, func(ev sfntypes.HistoryEvent) bool { return ev.Id == last })
		if err != nil || i < 0 {
			return nil, &sfntypes.InvalidToken{Message: aws.String("invalid next token (faults.Tasks)")}
		}
		evs = evs[i+1:]
	}
	size := int(in.MaxResults)
	if size <= 0 || size > 1000 {
		size = 1000
	}
	out := &sfn.GetExecutionHistoryOutput{Events: evs}
	if len(evs) > size {
		out.Events = evs[:size]
		out.NextToken = aws.String(strconv.FormatInt(evs[size-1].Id, 10))
	}
	return out, nil
}

// Close ends token's task without an output, as a timeout does.
func (t *Tasks) Close(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.over(token) {
		return
	}
	t.closed[token] = true
	started := t.schedule(token) + 1
	t.event(sfntypes.HistoryEventTypeTaskTimedOut, started, nil)
}

// End ends the execution (StopExecution): every task is over.
func (t *Tasks) End() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.ended {
		t.ended = true
		t.event(sfntypes.HistoryEventTypeExecutionAborted, int64(len(t.events)), nil)
	}
}

// Output returns what token's task succeeded with.
func (t *Tasks) Output(token string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out, ok := t.done[token]
	return out, ok
}

// HistoryReads counts GetExecutionHistory calls.
func (t *Tasks) HistoryReads() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.history
}

// Fail ends token's task with an error, as Step Functions does when the
// task's Lambda invocation fails (Lambda.Unknown for a crash) before a
// Retry runs the task again with a new token.
func (t *Tasks) Fail(token, errName string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.over(token) {
		return
	}
	t.failed[token] = errName
	started := t.schedule(token) + 1
	t.event(sfntypes.HistoryEventTypeTaskFailed, started, nil)
}

// Redrive runs an ended execution again (RedriveExecution): it is RUNNING,
// and its history shows ExecutionRedriven after the end. The tasks the
// history shows scheduled and open when it ended stay over (the end closed
// them, with no event of their own); tasks not seen before are new tasks
// of the redriven run. Schedule the tasks open at the end first.
func (t *Tasks) Redrive() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.ended {
		return
	}
	for token := range t.sched {
		t.closed[token] = true
	}
	t.ended = false
	t.event(sfntypes.HistoryEventTypeExecutionRedriven, int64(len(t.events)), nil)
}

// Pad appends n events of other states (a loop of Pass states), so the
// events of the tasks before them lie that much further back in a history
// read newest first: GetExecutionHistory returns pages of MaxResults
// events (1,000 when not given), and a reader that stops after some pages
// does not reach them.
func (t *Tasks) Pad(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range n {
		typ := sfntypes.HistoryEventTypePassStateEntered
		if i%2 == 1 {
			typ = sfntypes.HistoryEventTypePassStateExited
		}
		t.event(typ, int64(len(t.events)), nil)
	}
}
