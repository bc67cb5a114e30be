package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// maxHistoryPages bounds how much of an execution's history a settlement
// reads (pages of up to 1,000 events, newest first). A Standard
// execution's history holds at most 25,000 events (a Step Functions
// quota), so a settlement reads it to its first event unless pages come
// back far smaller than asked: the bound is a safety net, not a window.
// What it does not reach is taken as "not delivered": the payload is kept
// (a possible duplicate), never dropped. Settlements are rare (a closed
// task answer, a replayed key), so reading every page costs little.
const maxHistoryPages = 100

// taskOutcome is what an execution's history says about one task and the
// execution itself. It is only read on the rare paths (docs/protocol.md,
// "Settling a closed task"): Step Functions answered that a task is over,
// or a replayed idempotency key asks whether its payload arrived.
type taskOutcome struct {
	// Delivered: the task scheduled with the task token succeeded with the
	// payload as its output (for a rejection: failed with its error and
	// cause). Another task's identical output does not count.
	Delivered bool
	// Ended: the execution is over (succeeded, failed, timed out, aborted)
	// or no longer exists. Only the newest execution-status event counts:
	// a redriven execution (ExecutionRedriven after its ExecutionFailed)
	// runs again.
	Ended bool
	// Closed: the history shows how the task ended (succeeded, failed,
	// timed out), or that the execution ended after the task was
	// scheduled (the end closed it, also when the execution was redriven
	// since), or the task is not within the pages read (maxHistoryPages)
	// while older events remain: not found there is taken as ended without
	// the payload (kept: a possible duplicate, never a loss). Without it,
	// "the task is over" is not proven by the history yet (its events may
	// lag the answer that closed it).
	Closed bool
}

// settle reads executionARN's history to learn whether payload reached the
// task whose token is taskToken, and whether the execution still runs. One
// GetExecutionHistory call unless the history is longer than a page.
func (c *Client) settle(ctx context.Context, executionARN, taskToken, payload string) (taskOutcome, error) {
	return c.settleMatch(ctx, executionARN, taskToken, payload, exactly(payload))
}

// payloadMatch is how a payload is found in a history or among the stored
// payloads: by its whole text, or (prefix) by its beginning, text: a
// verified webhook delivery's retry differs from the first request in its
// headers (timestamp, signature) but begins with the same requestId
// (docs/protocol.md, "Verified webhooks").
type payloadMatch struct {
	text   string
	prefix bool
}

func exactly(payload string) payloadMatch { return payloadMatch{text: payload} }
func prefixed(p string) payloadMatch      { return payloadMatch{text: p, prefix: true} }

// settleMatch is settle with the payload found by match.
func (c *Client) settleMatch(ctx context.Context, executionARN, taskToken, payload string, match payloadMatch) (taskOutcome, error) {
	var out taskOutcome
	carries := carriedBy(payload)
	if match.prefix {
		carries = func(ev sfntypes.HistoryEvent) bool {
			d := ev.TaskSucceededEventDetails
			if ev.Type != sfntypes.HistoryEventTypeTaskSucceeded || d == nil {
				return false
			}
			out := compactJSON(aws.ToString(d.Output))
			// sent to a batch await, it is the only item of a batch
			return strings.HasPrefix(out, match.text) || strings.HasPrefix(out, batchOpen+match.text)
		}
	}
	events := map[int64]sfntypes.HistoryEvent{}
	var carried, closed []sfntypes.HistoryEvent // task ends that carry the payload slot; every task's end
	scheduled := int64(-1)                      // the TaskScheduled event of taskToken
	var status sfntypes.HistoryEvent            // the newest execution-status event read
	lastEnd := int64(-1)                        // the newest execution-end event read
	truncated := false                          // older events remain unread
	in := &sfn.GetExecutionHistoryInput{
		ExecutionArn:         &executionARN,
		ReverseOrder:         true,
		IncludeExecutionData: aws.Bool(true),
		MaxResults:           1000,
	}
	for page := 0; ; page++ {
		if page == maxHistoryPages {
			truncated = true
			break
		}
		res, err := c.sfn.GetExecutionHistory(ctx, in)
		if err != nil {
			var notExist *sfntypes.ExecutionDoesNotExist
			if errors.As(err, &notExist) {
				out.Ended = true
				return out, nil
			}
			return out, fmt.Errorf("read execution history: %w", err)
		}
		for _, ev := range res.Events {
			// The status is the newest execution-status event; ask for
			// newest first, but do not rely on the order (moto ignores
			// reverseOrder): compare event ids.
			if executionStatus(ev.Type) && ev.Id > status.Id {
				status = ev
			}
			if executionEnded(ev.Type) {
				lastEnd = max(lastEnd, ev.Id)
			}
			events[ev.Id] = ev
			switch ev.Type {
			case sfntypes.HistoryEventTypeTaskSucceeded, sfntypes.HistoryEventTypeTaskFailed:
				if carries(ev) {
					carried = append(carried, ev)
				}
				closed = append(closed, ev)
			case sfntypes.HistoryEventTypeTaskTimedOut,
				sfntypes.HistoryEventTypeTaskStartFailed, sfntypes.HistoryEventTypeTaskSubmitFailed:
				closed = append(closed, ev)
			case sfntypes.HistoryEventTypeTaskScheduled:
				// The newest TaskScheduled of the token: a task retried
				// with the same token (Retry of the await's invocation)
				// has one per attempt, and a send reaches the current one.
				if taskToken != "" && ev.TaskScheduledEventDetails != nil && ev.Id > scheduled &&
					containsString(aws.ToString(ev.TaskScheduledEventDetails.Parameters), taskToken) {
					scheduled = ev.Id
				}
			}
		}
		if scheduled >= 0 || res.NextToken == nil {
			break
		}
		in.NextToken = res.NextToken
	}
	out.Ended = executionEnded(status.Type)
	switch {
	case scheduled >= 0:
		out.Delivered = slices.ContainsFunc(carried, func(ev sfntypes.HistoryEvent) bool { return scheduledBy(events, ev) == scheduled })
		out.Closed = lastEnd > scheduled || slices.ContainsFunc(closed, func(ev sfntypes.HistoryEvent) bool { return scheduledBy(events, ev) == scheduled })
	case truncated:
		// Not within the pages read: taken as ended without the payload
		// (docs/protocol.md, "Delivery"): kept, never stuck.
		out.Closed = true
	}
	return out, nil
}

// carriedBy returns the test of a task's end event for "it ended with this
// payload slot": a TaskSucceeded whose output is the payload, or, for a
// rejection, a TaskFailed with its error and cause.
func carriedBy(slot string) func(sfntypes.HistoryEvent) bool {
	if r, ok := asRejection(slot); ok {
		return func(ev sfntypes.HistoryEvent) bool {
			d := ev.TaskFailedEventDetails
			return ev.Type == sfntypes.HistoryEventTypeTaskFailed && d != nil &&
				aws.ToString(d.Error) == r.Error && aws.ToString(d.Cause) == r.Cause
		}
	}
	want := compactJSON(slot)
	// A batch await receives a resume's payload (R1, a restore) as a batch
	// of one; its stored payloads as their envelope, which is then the slot.
	one := envelope([]string{want})
	return func(ev sfntypes.HistoryEvent) bool {
		d := ev.TaskSucceededEventDetails
		return ev.Type == sfntypes.HistoryEventTypeTaskSucceeded && d != nil && compactJSON(aws.ToString(d.Output)) == want ||
			ev.Type == sfntypes.HistoryEventTypeTaskSucceeded && d != nil && compactJSON(aws.ToString(d.Output)) == one
	}
}

// scheduledBy follows a task event's previousEventId chain (TaskSucceeded →
// TaskSubmitted → TaskStarted → TaskScheduled) to its TaskScheduled event.
func scheduledBy(events map[int64]sfntypes.HistoryEvent, ev sfntypes.HistoryEvent) int64 {
	for range 8 {
		prev, ok := events[ev.PreviousEventId]
		if !ok {
			return -1
		}
		if prev.Type == sfntypes.HistoryEventTypeTaskScheduled {
			return prev.Id
		}
		ev = prev
	}
	return -1
}

// executionStatus reports the events that set an execution's status: its
// start, a redrive, and its ends.
func executionStatus(t sfntypes.HistoryEventType) bool {
	return t == sfntypes.HistoryEventTypeExecutionStarted || t == sfntypes.HistoryEventTypeExecutionRedriven || executionEnded(t)
}

func executionEnded(t sfntypes.HistoryEventType) bool {
	switch t {
	case sfntypes.HistoryEventTypeExecutionSucceeded, sfntypes.HistoryEventTypeExecutionFailed,
		sfntypes.HistoryEventTypeExecutionAborted, sfntypes.HistoryEventTypeExecutionTimedOut:
		return true
	}
	return false
}

// containsString reports whether the JSON text doc holds s as a string
// value anywhere (the task token inside a TaskScheduled event's
// parameters: {"FunctionName": …, "Payload": {"taskToken": …}}).
func containsString(doc, s string) bool {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return v == s
		case map[string]any:
			for _, x := range v {
				if walk(x) {
					return true
				}
			}
		case []any:
			for _, x := range v {
				if walk(x) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

func compactJSON(s string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(s)) != nil {
		return s
	}
	return b.String()
}

// executionRunning asks Step Functions whether executionARN still runs.
// known is false when Step Functions cannot say (an ARN it does not
// accept, or an error): the caller then keeps what it has.
func (c *Client) executionRunning(ctx context.Context, executionARN string) (running, known bool) {
	running, err := c.describeRunning(ctx, executionARN)
	return running, err == nil
}

// describeRunning asks Step Functions (DescribeExecution) whether
// executionARN runs: RUNNING, or PENDING_REDRIVE (a redrive was accepted and
// the execution is about to run again: its hooks are still wanted). Every
// other status is an end, and so is an execution that does not exist. An
// error means Step Functions could not say.
func (c *Client) describeRunning(ctx context.Context, executionARN string) (bool, error) {
	// Metadata only: the status is all that is needed, and a state machine
	// encrypted with a customer managed key would otherwise require
	// kms:Decrypt of the caller for the input and output.
	out, err := c.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{
		ExecutionArn: &executionARN,
		IncludedData: sfntypes.IncludedDataMetadataOnly,
	})
	if err != nil {
		var notExist *sfntypes.ExecutionDoesNotExist
		if errors.As(err, &notExist) {
			return false, nil
		}
		return false, fmt.Errorf("describe execution: %w", err)
	}
	return out.Status == sfntypes.ExecutionStatusRunning || out.Status == sfntypes.ExecutionStatusPendingRedrive, nil
}
