package devstack

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// ExecutionsAPI is the part of the Step Functions client EndedPoller uses.
type ExecutionsAPI interface {
	ListStateMachines(context.Context, *sfn.ListStateMachinesInput, ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error)
	ListExecutions(context.Context, *sfn.ListExecutionsInput, ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

var _ ExecutionsAPI = (*sfn.Client)(nil)

// Fields of the EventBridge event Step Functions emits when an execution
// changes status (template.yaml's ExecutionEndedRule matches them).
const (
	ExecutionStatusChangeSource     = "aws.states"
	ExecutionStatusChangeDetailType = "Step Functions Execution Status Change"
)

// ExecutionStatusChange is the detail of a "Step Functions Execution Status
// Change" event, as Step Functions sends it to EventBridge (dates in epoch
// milliseconds; error and cause null unless the execution failed).
type ExecutionStatusChange struct {
	ExecutionARN    string          `json:"executionArn"`
	StateMachineARN string          `json:"stateMachineArn"`
	Name            string          `json:"name"`
	Status          string          `json:"status"`
	StartDate       int64           `json:"startDate"`
	StopDate        *int64          `json:"stopDate"`
	Input           *string         `json:"input"`
	InputDetails    json.RawMessage `json:"inputDetails"`
	Output          *string         `json:"output"`
	OutputDetails   json.RawMessage `json:"outputDetails"`
	Error           *string         `json:"error"`
	Cause           *string         `json:"cause"`
}

// ExecutionEndedEvent is the EventBridge event for the execution out
// describes, shaped as Step Functions sends it.
func ExecutionEndedEvent(out *sfn.DescribeExecutionOutput, region, account string) events.CloudWatchEvent {
	ms := func(t *time.Time) int64 {
		if t == nil {
			return 0
		}
		return t.UnixMilli()
	}
	d := ExecutionStatusChange{
		ExecutionARN:    aws.ToString(out.ExecutionArn),
		StateMachineARN: aws.ToString(out.StateMachineArn),
		Name:            aws.ToString(out.Name),
		Status:          string(out.Status),
		StartDate:       ms(out.StartDate),
		Input:           out.Input,
		InputDetails:    json.RawMessage(`{"included":true}`),
		Output:          out.Output,
		OutputDetails:   json.RawMessage(`{"included":true}`),
		Error:           out.Error,
		Cause:           out.Cause,
	}
	if out.StopDate != nil {
		stop := ms(out.StopDate)
		d.StopDate = &stop
	}
	detail, _ := json.Marshal(d)
	when := time.Now().UTC()
	if out.StopDate != nil {
		when = out.StopDate.UTC()
	}
	return events.CloudWatchEvent{
		Version:    "0",
		ID:         newEventID(),
		DetailType: ExecutionStatusChangeDetailType,
		Source:     ExecutionStatusChangeSource,
		AccountID:  account,
		Time:       when,
		Region:     region,
		Resources:  []string{d.ExecutionARN},
		Detail:     detail,
	}
}

// EndedPoller does locally what template.yaml's ExecutionEndedRule does on
// AWS: when an execution of a watched state machine ends (SUCCEEDED,
// FAILED, TIMED_OUT, ABORTED), it invokes Target (the real hook-task
// handler) with the "Step Functions Execution Status Change" event, which
// disposes the execution's hooks. moto emits no EventBridge events, so it
// polls: each Interval, one ListExecutions (status RUNNING) per watched
// state machine, and one DescribeExecution for each execution it saw
// running that is no longer listed. An execution that starts and ends
// within one interval is never seen running and gets no event; its hooks
// are then left to what covers a lost event on AWS (a resume answers 404
// and disposes, a create or await takes the token over, TTL). A failed
// invocation is tried again at the next poll, as EventBridge retries.
//
// With All set it follows every state machine of the account (the stack's
// and a user's own, as an account-wide DisposeScope does on AWS): each
// round also lists the state machines (ListStateMachines), so one created
// after the poller started is followed from its next round.
type EndedPoller struct {
	SFN      ExecutionsAPI
	Target   lambda.Handler
	All      bool
	Interval time.Duration // default 1 s
	Region   string        // default DefaultRegion
	Account  string        // default DefaultAccountID
	Log      *slog.Logger  // default: discard

	mu       sync.Mutex
	machines []string
	running  map[string]bool // executions seen RUNNING and not yet reported
}

// Watch adds a state machine whose executions the poller follows.
func (p *EndedPoller) Watch(stateMachineARN string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.machines, stateMachineARN) {
		p.machines = append(p.machines, stateMachineARN)
	}
}

// Run polls until ctx ends.
func (p *EndedPoller) Run(ctx context.Context) {
	interval := p.Interval
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll runs one round: it lists the running executions of each watched
// state machine, and reports each execution it saw running before that has
// ended since.
func (p *EndedPoller) Poll(ctx context.Context) {
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p.mu.Lock()
	machines := slices.Clone(p.machines)
	if p.running == nil {
		p.running = map[string]bool{}
	}
	known := make(map[string]bool, len(p.running))
	for arn := range p.running {
		known[arn] = true
	}
	p.mu.Unlock()

	if p.All {
		all, err := p.listMachines(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "ended-poller: list state machines", slog.Any("err", err))
			}
			return
		}
		for _, m := range all {
			if !slices.Contains(machines, m) {
				machines = append(machines, m)
			}
		}
	}
	listed := map[string]bool{}
	for _, m := range machines {
		arns, err := p.listRunning(ctx, m)
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "ended-poller: list executions", slog.String("stateMachineArn", m), slog.Any("err", err))
			}
			return // nothing is concluded from a partial listing
		}
		for _, arn := range arns {
			listed[arn] = true
		}
	}
	p.mu.Lock()
	for arn := range listed {
		p.running[arn] = true
	}
	p.mu.Unlock()

	for arn := range known {
		if listed[arn] {
			continue
		}
		out, err := p.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if _, gone := errors.AsType[*types.ExecutionDoesNotExist](err); gone {
			p.forget(arn) // its state machine was deleted: nothing will end it
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				log.WarnContext(ctx, "ended-poller: describe execution", slog.String("executionArn", arn), slog.Any("err", err))
			}
			continue
		}
		if out.Status == types.ExecutionStatusRunning || out.Status == types.ExecutionStatusPendingRedrive {
			continue
		}
		res, err := p.report(ctx, out)
		if err != nil {
			log.WarnContext(ctx, "ended-poller: hook-task failed; retried at the next poll", slog.String("executionArn", arn), slog.Any("err", err))
			continue
		}
		log.InfoContext(ctx, "ended-poller: execution ended, hook-task invoked", slog.String("executionArn", arn),
			slog.String("status", string(out.Status)), slog.String("result", string(res)))
		p.forget(arn)
	}
}

func (p *EndedPoller) forget(arn string) {
	p.mu.Lock()
	delete(p.running, arn)
	p.mu.Unlock()
}

func (p *EndedPoller) listMachines(ctx context.Context) ([]string, error) {
	var arns []string
	pages := sfn.NewListStateMachinesPaginator(p.SFN, &sfn.ListStateMachinesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range page.StateMachines {
			arns = append(arns, aws.ToString(m.StateMachineArn))
		}
	}
	return arns, nil
}

func (p *EndedPoller) listRunning(ctx context.Context, machine string) ([]string, error) {
	var arns []string
	pages := sfn.NewListExecutionsPaginator(p.SFN, &sfn.ListExecutionsInput{
		StateMachineArn: aws.String(machine),
		StatusFilter:    types.ExecutionStatusRunning,
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Executions {
			if e.Status == types.ExecutionStatusRunning {
				arns = append(arns, aws.ToString(e.ExecutionArn))
			}
		}
	}
	return arns, nil
}

// report invokes Target with the event, as EventBridge invokes the rule's
// target (asynchronously on AWS; a function error means a retry).
func (p *EndedPoller) report(ctx context.Context, out *sfn.DescribeExecutionOutput) ([]byte, error) {
	region, account := p.Region, p.Account
	if region == "" {
		region = DefaultRegion
	}
	if account == "" {
		account = DefaultAccountID
	}
	ev, err := json.Marshal(ExecutionEndedEvent(out, region, account))
	if err != nil {
		return nil, err
	}
	res, err := p.Target.Invoke(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("invoke hook-task: %w", err)
	}
	return res, nil
}

func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
