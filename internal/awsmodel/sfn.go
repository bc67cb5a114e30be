package awsmodel

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// StepFunctions models task tokens: a task completes once (a later
// SendTaskSuccess or SendTaskFailure is TaskTimedOut, an unknown token
// InvalidToken), every execution is RUNNING, and an execution's history
// lists its tasks' scheduled and closing events only. API quotas are not
// modelled. It implements hooks.StepFunctionsAPI.
type StepFunctions struct {
	Latency time.Duration
	Calls   *awscalls.Counter

	mu    sync.Mutex
	tasks map[string]*Task
	execs map[string][]*Task
}

var _ hooks.StepFunctionsAPI = (*StepFunctions)(nil)

// Task is one task token of an execution.
type Task struct {
	Token, Execution string
	// Done is closed when the task completes; Output, or Failed with
	// Error and Cause, say how.
	Done         chan struct{}
	Output       string
	Failed       bool
	Error, Cause string
	at           time.Time
}

// NewStepFunctions returns a model with per-call latency (0: 5ms).
func NewStepFunctions(latency time.Duration) *StepFunctions {
	if latency == 0 {
		latency = 5 * time.Millisecond
	}
	return &StepFunctions{Latency: latency, Calls: &awscalls.Counter{}, tasks: map[string]*Task{}, execs: map[string][]*Task{}}
}

// NewTask opens a task of execution exec (a Task state reached).
func (s *StepFunctions) NewTask(token, exec string) *Task {
	t := &Task{Token: token, Execution: exec, Done: make(chan struct{}), at: time.Now()}
	s.mu.Lock()
	s.tasks[token] = t
	s.execs[exec] = append(s.execs[exec], t)
	s.mu.Unlock()
	return t
}

func (s *StepFunctions) close(ctx context.Context, op, token string, output string, failed bool, errName, cause string) error {
	s.Calls.Inc("SFN." + op)
	if err := sleep(ctx, s.Latency/2); err != nil {
		return err
	}
	s.mu.Lock()
	t := s.tasks[token]
	var err error
	switch {
	case t == nil:
		err = &sfntypes.InvalidToken{Message: aws.String("Invalid Token")}
	default:
		select {
		case <-t.Done:
			err = &sfntypes.TaskTimedOut{Message: aws.String("Task Timed Out")}
		default:
			t.Output, t.Failed, t.Error, t.Cause = output, failed, errName, cause
			close(t.Done)
		}
	}
	s.mu.Unlock()
	if e := sleep(ctx, s.Latency/2); e != nil {
		return e
	}
	return err
}

// SendTaskSuccess implements hooks.StepFunctionsAPI.
func (s *StepFunctions) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	if err := s.close(ctx, "SendTaskSuccess", aws.ToString(in.TaskToken), aws.ToString(in.Output), false, "", ""); err != nil {
		return nil, err
	}
	return &sfn.SendTaskSuccessOutput{}, nil
}

// SendTaskFailure implements hooks.StepFunctionsAPI.
func (s *StepFunctions) SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	if err := s.close(ctx, "SendTaskFailure", aws.ToString(in.TaskToken), "", true, aws.ToString(in.Error), aws.ToString(in.Cause)); err != nil {
		return nil, err
	}
	return &sfn.SendTaskFailureOutput{}, nil
}

// SendTaskHeartbeat implements hooks.StepFunctionsAPI: accepted (the
// model does not time tasks out; heartbeats are not on the paths it
// measures).
func (s *StepFunctions) SendTaskHeartbeat(ctx context.Context, _ *sfn.SendTaskHeartbeatInput, _ ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	s.Calls.Inc("SFN.SendTaskHeartbeat")
	if err := sleep(ctx, s.Latency); err != nil {
		return nil, err
	}
	return &sfn.SendTaskHeartbeatOutput{}, nil
}

// DescribeExecution implements hooks.StepFunctionsAPI: always RUNNING.
func (s *StepFunctions) DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	s.Calls.Inc("SFN.DescribeExecution")
	if err := sleep(ctx, s.Latency); err != nil {
		return nil, err
	}
	return &sfn.DescribeExecutionOutput{ExecutionArn: in.ExecutionArn, Status: sfntypes.ExecutionStatusRunning}, nil
}

// GetExecutionHistory implements hooks.StepFunctionsAPI: for each task,
// TaskScheduled then, once closed, TaskSucceeded or TaskFailed; one page,
// ReverseOrder honoured.
func (s *StepFunctions) GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput, _ ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	s.Calls.Inc("SFN.GetExecutionHistory")
	if err := sleep(ctx, s.Latency); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var evs []sfntypes.HistoryEvent
	id := int64(0)
	for _, t := range s.execs[aws.ToString(in.ExecutionArn)] {
		id++
		evs = append(evs, sfntypes.HistoryEvent{Id: id, Timestamp: aws.Time(t.at), Type: sfntypes.HistoryEventTypeTaskScheduled,
			TaskScheduledEventDetails: &sfntypes.TaskScheduledEventDetails{Resource: aws.String("invoke.waitForTaskToken"), ResourceType: aws.String("lambda"),
				Parameters: aws.String(`{"Payload":{"taskToken":"` + t.Token + `"}}`), Region: aws.String("us-east-1")}})
		select {
		case <-t.Done:
			id++
			ev := sfntypes.HistoryEvent{Id: id, PreviousEventId: id - 1, Timestamp: aws.Time(t.at), Type: sfntypes.HistoryEventTypeTaskSucceeded,
				TaskSucceededEventDetails: &sfntypes.TaskSucceededEventDetails{Output: aws.String(t.Output), Resource: aws.String("invoke.waitForTaskToken"), ResourceType: aws.String("lambda")}}
			if t.Failed {
				ev.Type, ev.TaskSucceededEventDetails = sfntypes.HistoryEventTypeTaskFailed, nil
				ev.TaskFailedEventDetails = &sfntypes.TaskFailedEventDetails{Error: aws.String(t.Error), Cause: aws.String(t.Cause),
					Resource: aws.String("invoke.waitForTaskToken"), ResourceType: aws.String("lambda")}
			}
			evs = append(evs, ev)
		default:
		}
	}
	if in.ReverseOrder {
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
	}
	return &sfn.GetExecutionHistoryOutput{Events: evs}, nil
}
