package awsmodel

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// StepFunctions models executions and their task tokens as Step Functions
// has them. An execution is RUNNING from Start (or its first NewTask)
// until Stop, Fail, Succeed or TimeOutExecution end it; Redrive runs it
// again. A task completes once: a later SendTaskSuccess, SendTaskFailure
// or SendTaskHeartbeat answers TaskTimedOut, an unknown token
// InvalidToken; a task still open when its execution ends is closed with
// it. Each execution keeps a history as GetExecutionHistory serves it
// (ids from 1, ExecutionStarted first, pages, ReverseOrder), which Pad
// lengthens and SetLag makes lag. API quotas are not modelled. It
// implements hooks.StepFunctionsAPI; the other methods are the
// simulator's controls (no latency, not counted as calls).
type StepFunctions struct {
	// Latency is the round trip of one call (half before the service
	// acts, half after); negative: none at all, no timer.
	Latency time.Duration
	Calls   *awscalls.Counter
	// Strict answers an execution ARN the model never saw (no Start,
	// NewTask, Pad) with ExecutionDoesNotExist in DescribeExecution and
	// GetExecutionHistory; otherwise it is RUNNING with an empty history.
	// Set it before use.
	Strict bool

	mu    sync.Mutex
	tasks map[string]*Task
	execs map[string]*execution
	lags  map[string]int
}

var _ hooks.StepFunctionsAPI = (*StepFunctions)(nil)

// ErrNotRunning: the execution a control method would end is not RUNNING.
var ErrNotRunning = errors.New("awsmodel: the execution is not running")

// TaskState says how a task stands.
type TaskState string

// The states of a task.
const (
	TaskOpen      TaskState = "OPEN"
	TaskSucceeded TaskState = "SUCCEEDED" // SendTaskSuccess
	TaskFailed    TaskState = "FAILED"    // SendTaskFailure, or FailTask
	TaskTimedOut  TaskState = "TIMED_OUT" // TimeOutTask
	TaskCanceled  TaskState = "CANCELED"  // its execution left RUNNING while it was open
)

// Task is one task token of an execution: a Task state
// (lambda:invoke.waitForTaskToken) that was reached.
type Task struct {
	Token, Execution string
	// Done is closed when the task closes, whichever way (State says
	// which). Output, or Failed with Error and Cause, say how it
	// completed; a timed-out task has Error (States.Timeout, …). Read them
	// once Done is closed.
	Done         chan struct{}
	Output       string
	Failed       bool
	Error, Cause string

	mu        *sync.Mutex // the model's
	state     TaskState
	heartbeat time.Time
	submitted int64 // its TaskSubmitted event
}

// State returns how the task stands now.
func (t *Task) State() TaskState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

// Open reports whether the task still waits for its token.
func (t *Task) Open() bool { return t.State() == TaskOpen }

// LastHeartbeat returns when SendTaskHeartbeat last reached the open task
// (zero: never).
func (t *Task) LastHeartbeat() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.heartbeat
}

type execution struct {
	arn          string
	status       sfntypes.ExecutionStatus
	events       []event
	tasks        []*Task
	start, stop  time.Time
	redriveCount int32
	redriveDate  time.Time
	output       string // SUCCEEDED
	errName      string // FAILED, TIMED_OUT, ABORTED
	cause        string
}

// event is one history event, kept as data and turned into an
// sfntypes.HistoryEvent at each read (callers never share the model's).
type event struct {
	id, prev int64
	at       time.Time
	typ      sfntypes.HistoryEventType
	token    string // TaskScheduled: its parameters carry it
	output   string
	errName  string
	cause    string
	count    int32 // ExecutionRedriven: the redrive count
}

const (
	taskResource     = "invoke.waitForTaskToken"
	taskResourceType = "lambda"
	padState         = "Pad"
)

// NewStepFunctions returns a model with per-call latency (0: 5ms;
// negative: none).
func NewStepFunctions(latency time.Duration) *StepFunctions {
	if latency == 0 {
		latency = 5 * time.Millisecond
	}
	return &StepFunctions{Latency: latency, Calls: &awscalls.Counter{},
		tasks: map[string]*Task{}, execs: map[string]*execution{}, lags: map[string]int{}}
}

// call runs one API call: half the latency, the call under the lock, the
// other half.
func (s *StepFunctions) call(ctx context.Context, op string, do func(now time.Time) error) error {
	s.Calls.Inc("SFN." + op)
	if err := sleep(ctx, s.Latency/2); err != nil {
		return err
	}
	s.mu.Lock()
	err := do(time.Now())
	s.mu.Unlock()
	if e := sleep(ctx, s.Latency/2); e != nil {
		return e
	}
	return err
}

// add appends an event to e's history: its id follows the last one, prev
// defaults to the last one.
func (e *execution) add(ev event) int64 {
	ev.id = int64(len(e.events)) + 1
	if ev.prev == 0 {
		ev.prev = ev.id - 1
	}
	e.events = append(e.events, ev)
	return ev.id
}

// started registers arn RUNNING with its ExecutionStarted event (under
// s.mu).
func (s *StepFunctions) started(arn string, now time.Time) *execution {
	e := &execution{arn: arn, status: sfntypes.ExecutionStatusRunning, start: now}
	e.add(event{at: now, typ: sfntypes.HistoryEventTypeExecutionStarted, output: "{}"})
	s.execs[arn] = e
	return e
}

// exec returns the execution arn, registered RUNNING if unknown (under
// s.mu).
func (s *StepFunctions) exec(arn string, now time.Time) *execution {
	if e := s.execs[arn]; e != nil {
		return e
	}
	return s.started(arn, now)
}

func notExist(arn string) error {
	return &sfntypes.ExecutionDoesNotExist{Message: aws.String("Execution Does Not Exist: '" + arn + "'")}
}

// Start starts execution arn (StartExecution): RUNNING, its history
// ExecutionStarted. An ARN the model knows already is
// ExecutionAlreadyExists.
func (s *StepFunctions) Start(arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.execs[arn] != nil {
		return &sfntypes.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists: '" + arn + "'")}
	}
	s.started(arn, time.Now())
	return nil
}

// end moves a RUNNING execution to status with its closing event, and
// closes its open tasks (TaskCanceled: their tokens answer TaskTimedOut
// from then on, and the history gets no event for them, as Step
// Functions does).
func (s *StepFunctions) end(arn string, status sfntypes.ExecutionStatus, ev event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.execs[arn]
	switch {
	case e == nil:
		return notExist(arn)
	case e.status != sfntypes.ExecutionStatusRunning:
		return fmt.Errorf("%w: %s is %s", ErrNotRunning, arn, e.status)
	}
	now := time.Now()
	ev.at = now
	e.add(ev)
	e.status, e.stop = status, now
	e.output, e.errName, e.cause = ev.output, ev.errName, ev.cause
	for _, t := range e.tasks {
		if t.state == TaskOpen {
			t.state = TaskCanceled
			close(t.Done)
		}
	}
	return nil
}

// Stop aborts a RUNNING execution (StopExecution): ABORTED,
// ExecutionAborted. Unknown: ExecutionDoesNotExist; not running:
// ErrNotRunning.
func (s *StepFunctions) Stop(arn string) error {
	return s.end(arn, sfntypes.ExecutionStatusAborted, event{typ: sfntypes.HistoryEventTypeExecutionAborted})
}

// Fail fails a RUNNING execution with errName and cause (a state failed
// uncaught): FAILED, ExecutionFailed.
func (s *StepFunctions) Fail(arn, errName, cause string) error {
	return s.end(arn, sfntypes.ExecutionStatusFailed, event{typ: sfntypes.HistoryEventTypeExecutionFailed, errName: errName, cause: cause})
}

// Succeed ends a RUNNING execution with output: SUCCEEDED,
// ExecutionSucceeded.
func (s *StepFunctions) Succeed(arn, output string) error {
	return s.end(arn, sfntypes.ExecutionStatusSucceeded, event{typ: sfntypes.HistoryEventTypeExecutionSucceeded, output: output})
}

// TimeOutExecution ends a RUNNING execution past its TimeoutSeconds:
// TIMED_OUT, ExecutionTimedOut (error States.Timeout).
func (s *StepFunctions) TimeOutExecution(arn string) error {
	return s.end(arn, sfntypes.ExecutionStatusTimedOut, event{typ: sfntypes.HistoryEventTypeExecutionTimedOut, errName: "States.Timeout"})
}

// Redrive runs a FAILED, ABORTED or TIMED_OUT execution again
// (RedriveExecution): RUNNING, ExecutionRedriven, RedriveCount + 1. Event
// ids go on from the last one; the tasks closed by its end stay closed
// (a redriven Task state gets a new token: NewTask). Unknown:
// ExecutionDoesNotExist; RUNNING or SUCCEEDED: ExecutionNotRedrivable.
func (s *StepFunctions) Redrive(arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.execs[arn]
	if e == nil {
		return notExist(arn)
	}
	switch e.status {
	case sfntypes.ExecutionStatusFailed, sfntypes.ExecutionStatusAborted, sfntypes.ExecutionStatusTimedOut:
	default:
		return &sfntypes.ExecutionNotRedrivable{Message: aws.String("Execution is " + string(e.status) + ": it cannot be redriven")}
	}
	now := time.Now()
	e.redriveCount++
	e.add(event{at: now, typ: sfntypes.HistoryEventTypeExecutionRedriven, count: e.redriveCount})
	e.status, e.stop, e.redriveDate = sfntypes.ExecutionStatusRunning, time.Time{}, now
	e.output, e.errName, e.cause = "", "", ""
	return nil
}

// Status returns the status of execution arn, and false if the model
// never saw it.
func (s *StepFunctions) Status(arn string) (sfntypes.ExecutionStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.execs[arn]; e != nil {
		return e.status, true
	}
	return "", false
}

// NewTask opens a task of execution exec (a Task state reached), which it
// registers RUNNING if unknown. The history gets TaskScheduled (its
// parameters carry the token), TaskStarted and TaskSubmitted (the Lambda
// was invoked and answered), each pointing back to the one before. On an
// execution that is not RUNNING no task can start: the task returned is
// already closed (TaskCanceled) and its token answers TaskTimedOut.
func (s *StepFunctions) NewTask(token, exec string) *Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	e := s.exec(exec, now)
	t := &Task{Token: token, Execution: exec, Done: make(chan struct{}), mu: &s.mu, state: TaskOpen}
	s.tasks[token] = t
	if e.status != sfntypes.ExecutionStatusRunning {
		t.state = TaskCanceled
		close(t.Done)
		return t
	}
	e.tasks = append(e.tasks, t)
	sched := e.add(event{at: now, typ: sfntypes.HistoryEventTypeTaskScheduled, token: token})
	started := e.add(event{at: now, prev: sched, typ: sfntypes.HistoryEventTypeTaskStarted})
	t.submitted = e.add(event{at: now, prev: started, typ: sfntypes.HistoryEventTypeTaskSubmitted, output: `{"StatusCode":200}`})
	return t
}

// closeTask closes the open task of token with its closing event (under
// s.mu): InvalidToken for an unknown token, TaskTimedOut for a closed one.
func (s *StepFunctions) closeTask(token string, state TaskState, ev event, now time.Time) error {
	t := s.tasks[token]
	switch {
	case t == nil:
		return &sfntypes.InvalidToken{Message: aws.String("Invalid Token")}
	case t.state != TaskOpen:
		return &sfntypes.TaskTimedOut{Message: aws.String("Task Timed Out")}
	}
	t.state = state
	switch state {
	case TaskSucceeded:
		t.Output = ev.output
	case TaskFailed:
		t.Failed, t.Error, t.Cause = true, ev.errName, ev.cause
	case TaskTimedOut:
		t.Error, t.Cause = ev.errName, ev.cause
	}
	ev.at, ev.prev = now, t.submitted
	s.execs[t.Execution].add(ev)
	close(t.Done)
	return nil
}

// TimeOutTask closes an open task as Step Functions does when its
// TimeoutSeconds or HeartbeatSeconds pass: a TaskTimedOut event with
// errName ("States.Timeout" or "States.HeartbeatTimeout"); its token
// answers TaskTimedOut from then on. Errors as SendTaskSuccess's:
// InvalidToken, TaskTimedOut (closed already).
func (s *StepFunctions) TimeOutTask(token, errName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeTask(token, TaskTimedOut, event{typ: sfntypes.HistoryEventTypeTaskTimedOut, errName: errName}, time.Now())
}

// FailTask closes an open task as a failed Lambda invocation does (the
// function died: errName "Lambda.Unknown", …): a TaskFailed event with
// errName and cause. Errors as TimeOutTask's.
func (s *StepFunctions) FailTask(token, errName, cause string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeTask(token, TaskFailed, event{typ: sfntypes.HistoryEventTypeTaskFailed, errName: errName, cause: cause}, time.Now())
}

// Pad appends n filler events (PassStateEntered, PassStateExited, …) to
// the history of exec (registered RUNNING if unknown), to make histories
// long.
func (s *StepFunctions) Pad(exec string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	e := s.exec(exec, now)
	for i := range n {
		typ := sfntypes.HistoryEventTypePassStateEntered
		if i%2 == 1 {
			typ = sfntypes.HistoryEventTypePassStateExited
		}
		e.add(event{at: now, typ: typ})
	}
}

// SetLag makes GetExecutionHistory of exec leave out its newest n events
// (they happened; the read lags), whatever events come meanwhile, until
// SetLag(exec, 0). DescribeExecution does not lag.
func (s *StepFunctions) SetLag(exec string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		delete(s.lags, exec)
		return
	}
	s.lags[exec] = n
}

// History returns the whole history of exec as GetExecutionHistory would
// with IncludeExecutionData and no lag, oldest first (nil: unknown).
func (s *StepFunctions) History(exec string) []sfntypes.HistoryEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.execs[exec]
	if e == nil {
		return nil
	}
	out := make([]sfntypes.HistoryEvent, len(e.events))
	for i := range e.events {
		out[i] = e.events[i].history(true)
	}
	return out
}

// SendTaskSuccess implements hooks.StepFunctionsAPI. The output must be
// JSON (else InvalidOutput) of at most 262,144 bytes (else
// ValidationException), as the API requires.
func (s *StepFunctions) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	out := aws.ToString(in.Output)
	err := s.call(ctx, "SendTaskSuccess", func(now time.Time) error {
		switch {
		case len(out) > hooks.MaxPayloadBytes:
			return sfnValidation(fmt.Sprintf("output: length %d, at most %d", len(out), hooks.MaxPayloadBytes))
		case !json.Valid([]byte(out)):
			return &sfntypes.InvalidOutput{Message: aws.String("Invalid Output: not JSON")}
		}
		return s.closeTask(aws.ToString(in.TaskToken), TaskSucceeded, event{typ: sfntypes.HistoryEventTypeTaskSucceeded, output: out}, now)
	})
	if err != nil {
		return nil, err
	}
	return &sfn.SendTaskSuccessOutput{}, nil
}

// SendTaskFailure implements hooks.StepFunctionsAPI. Error is at most
// 256 characters and Cause 32,768 (else ValidationException).
func (s *StepFunctions) SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	errName, cause := aws.ToString(in.Error), aws.ToString(in.Cause)
	err := s.call(ctx, "SendTaskFailure", func(now time.Time) error {
		if len(errName) > 256 || len(cause) > 32768 {
			return sfnValidation("error: at most 256 characters; cause: at most 32768")
		}
		return s.closeTask(aws.ToString(in.TaskToken), TaskFailed, event{typ: sfntypes.HistoryEventTypeTaskFailed, errName: errName, cause: cause}, now)
	})
	if err != nil {
		return nil, err
	}
	return &sfn.SendTaskFailureOutput{}, nil
}

func sfnValidation(msg string) error {
	return &sfntypes.ValidationException{Message: aws.String(msg)}
}

// SendTaskHeartbeat implements hooks.StepFunctionsAPI: an open task
// records the time (Task.LastHeartbeat); a closed one, or one whose
// execution ended, answers TaskTimedOut; an unknown token InvalidToken.
// The model times nothing out by itself: TimeOutTask does.
func (s *StepFunctions) SendTaskHeartbeat(ctx context.Context, in *sfn.SendTaskHeartbeatInput, _ ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	err := s.call(ctx, "SendTaskHeartbeat", func(now time.Time) error {
		t := s.tasks[aws.ToString(in.TaskToken)]
		switch {
		case t == nil:
			return &sfntypes.InvalidToken{Message: aws.String("Invalid Token")}
		case t.state != TaskOpen:
			return &sfntypes.TaskTimedOut{Message: aws.String("Task Timed Out")}
		}
		t.heartbeat = now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sfn.SendTaskHeartbeatOutput{}, nil
}

// DescribeExecution implements hooks.StepFunctionsAPI: the execution's
// status, dates, redrive count, and its output (SUCCEEDED) or error and
// cause; IncludedData METADATA_ONLY leaves out input and output. An
// unknown ARN is RUNNING, or with Strict ExecutionDoesNotExist.
func (s *StepFunctions) DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	arn := aws.ToString(in.ExecutionArn)
	out := &sfn.DescribeExecutionOutput{ExecutionArn: in.ExecutionArn, Status: sfntypes.ExecutionStatusRunning}
	err := s.call(ctx, "DescribeExecution", func(time.Time) error {
		e := s.execs[arn]
		if e == nil {
			if s.Strict {
				return notExist(arn)
			}
			return nil
		}
		data := in.IncludedData != sfntypes.IncludedDataMetadataOnly
		out.Status, out.StartDate = e.status, aws.Time(e.start)
		out.Name = aws.String(arn[strings.LastIndex(arn, ":")+1:])
		if i := strings.Index(arn, ":execution:"); i >= 0 {
			if sm, _, ok := strings.Cut(arn[i+len(":execution:"):], ":"); ok {
				out.StateMachineArn = aws.String(arn[:i] + ":stateMachine:" + sm)
			}
		}
		if data {
			out.Input = aws.String("{}")
		}
		out.RedriveCount = aws.Int32(e.redriveCount)
		if !e.redriveDate.IsZero() {
			out.RedriveDate = aws.Time(e.redriveDate)
		}
		out.RedriveStatus = sfntypes.ExecutionRedriveStatusNotRedrivable
		switch e.status {
		case sfntypes.ExecutionStatusRunning:
			return nil
		case sfntypes.ExecutionStatusSucceeded:
			if data {
				out.Output = aws.String(e.output)
			}
		default:
			out.RedriveStatus = sfntypes.ExecutionRedriveStatusRedrivable
			if e.errName != "" {
				out.Error = aws.String(e.errName)
			}
			if e.cause != "" {
				out.Cause = aws.String(e.cause)
			}
		}
		out.StopDate = aws.Time(e.stop)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// historyToken is GetExecutionHistory's NextToken: the execution, the
// order, and the id of the next event to serve.
type historyToken struct {
	Exec    string `json:"e"`
	Reverse bool   `json:"r"`
	Next    int64  `json:"n"`
}

func invalidToken(msg string) error {
	return &sfntypes.InvalidToken{Message: aws.String("Invalid NextToken: " + msg)}
}

// GetExecutionHistory implements hooks.StepFunctionsAPI: the events of
// the execution (less the newest SetLag ones), oldest first or with
// ReverseOrder newest first, MaxResults a page (default and at most 1000;
// else ValidationException), NextToken set while events remain; a
// NextToken this method did not return for the same execution and order
// is InvalidToken. IncludeExecutionData false leaves out inputs, outputs
// and task parameters. An unknown ARN has no events, or with Strict is
// ExecutionDoesNotExist.
func (s *StepFunctions) GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput, _ ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	arn := aws.ToString(in.ExecutionArn)
	out := &sfn.GetExecutionHistoryOutput{Events: []sfntypes.HistoryEvent{}}
	err := s.call(ctx, "GetExecutionHistory", func(time.Time) error {
		limit := int64(in.MaxResults)
		switch {
		case limit == 0:
			limit = 1000
		case limit < 0 || limit > 1000:
			return sfnValidation(fmt.Sprintf("maxResults %d: want 0 to 1000", limit))
		}
		e := s.execs[arn]
		if e == nil {
			if s.Strict {
				return notExist(arn)
			}
			if in.NextToken != nil {
				return invalidToken("no such listing")
			}
			return nil
		}
		visible := int64(max(0, len(e.events)-s.lags[arn]))
		// next is the id of the first event to serve; step the direction.
		next, step := int64(1), int64(1)
		if in.ReverseOrder {
			next, step = visible, -1
		}
		if tok := aws.ToString(in.NextToken); tok != "" {
			var ht historyToken
			b, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil || json.Unmarshal(b, &ht) != nil || ht.Exec != arn || ht.Reverse != in.ReverseOrder ||
				ht.Next < 1 || ht.Next > int64(len(e.events)) {
				return invalidToken("not one this listing returned")
			}
			next = ht.Next
		}
		data := in.IncludeExecutionData == nil || *in.IncludeExecutionData
		for n := int64(0); n < limit && next >= 1 && next <= visible; n, next = n+1, next+step {
			out.Events = append(out.Events, e.events[next-1].history(data))
		}
		if next >= 1 && next <= visible {
			b, _ := json.Marshal(historyToken{Exec: arn, Reverse: in.ReverseOrder, Next: next})
			out.NextToken = aws.String(base64.RawURLEncoding.EncodeToString(b))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// history is the event as GetExecutionHistory serves it; data false
// leaves out inputs, outputs and task parameters (IncludeExecutionData).
func (ev *event) history(data bool) sfntypes.HistoryEvent {
	h := sfntypes.HistoryEvent{Id: ev.id, PreviousEventId: ev.prev, Timestamp: aws.Time(ev.at), Type: ev.typ}
	text := func(s string) *string {
		if !data {
			return nil
		}
		return aws.String(s)
	}
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return aws.String(s)
	}
	res, resType := aws.String(taskResource), aws.String(taskResourceType)
	switch ev.typ {
	case sfntypes.HistoryEventTypeExecutionStarted:
		h.ExecutionStartedEventDetails = &sfntypes.ExecutionStartedEventDetails{Input: text(ev.output)}
	case sfntypes.HistoryEventTypeExecutionSucceeded:
		h.ExecutionSucceededEventDetails = &sfntypes.ExecutionSucceededEventDetails{Output: text(ev.output)}
	case sfntypes.HistoryEventTypeExecutionFailed:
		h.ExecutionFailedEventDetails = &sfntypes.ExecutionFailedEventDetails{Error: opt(ev.errName), Cause: opt(ev.cause)}
	case sfntypes.HistoryEventTypeExecutionAborted:
		h.ExecutionAbortedEventDetails = &sfntypes.ExecutionAbortedEventDetails{}
	case sfntypes.HistoryEventTypeExecutionTimedOut:
		h.ExecutionTimedOutEventDetails = &sfntypes.ExecutionTimedOutEventDetails{Error: opt(ev.errName)}
	case sfntypes.HistoryEventTypeExecutionRedriven:
		h.ExecutionRedrivenEventDetails = &sfntypes.ExecutionRedrivenEventDetails{RedriveCount: aws.Int32(ev.count)}
	case sfntypes.HistoryEventTypeTaskScheduled:
		params, _ := json.Marshal(map[string]any{"FunctionName": "hook-task", "Payload": map[string]string{"taskToken": ev.token}})
		h.TaskScheduledEventDetails = &sfntypes.TaskScheduledEventDetails{Resource: res, ResourceType: resType,
			Region: aws.String("us-east-1"), Parameters: text(string(params))}
	case sfntypes.HistoryEventTypeTaskStarted:
		h.TaskStartedEventDetails = &sfntypes.TaskStartedEventDetails{Resource: res, ResourceType: resType}
	case sfntypes.HistoryEventTypeTaskSubmitted:
		h.TaskSubmittedEventDetails = &sfntypes.TaskSubmittedEventDetails{Resource: res, ResourceType: resType, Output: text(ev.output)}
	case sfntypes.HistoryEventTypeTaskSucceeded:
		h.TaskSucceededEventDetails = &sfntypes.TaskSucceededEventDetails{Resource: res, ResourceType: resType, Output: text(ev.output)}
	case sfntypes.HistoryEventTypeTaskFailed:
		h.TaskFailedEventDetails = &sfntypes.TaskFailedEventDetails{Resource: res, ResourceType: resType, Error: aws.String(ev.errName), Cause: aws.String(ev.cause)}
	case sfntypes.HistoryEventTypeTaskTimedOut:
		h.TaskTimedOutEventDetails = &sfntypes.TaskTimedOutEventDetails{Resource: res, ResourceType: resType, Error: opt(ev.errName), Cause: opt(ev.cause)}
	case sfntypes.HistoryEventTypePassStateEntered:
		h.StateEnteredEventDetails = &sfntypes.StateEnteredEventDetails{Name: aws.String(padState), Input: text("{}")}
	case sfntypes.HistoryEventTypePassStateExited:
		h.StateExitedEventDetails = &sfntypes.StateExitedEventDetails{Name: aws.String(padState), Output: text("{}")}
	}
	return h
}
