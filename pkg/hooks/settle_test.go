package hooks_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Settling a closed task or a stale hand-out from the execution history
// (docs/protocol.md, "Delivery"), on histories moto cannot produce: a
// redriven execution, and histories longer than the pages the library
// reads. Step Functions is faults.Tasks (extended for these tests with
// Schedule, Redrive, Pad and paged GetExecutionHistory); DynamoDB is moto.

// TestRedrivenExecutionIsNotEnded (issue 20, defect 11): an execution that
// failed and was redriven runs again; its history holds an
// ExecutionAborted (or Failed, TimedOut) event followed by
// ExecutionRedriven. The task that was open when it ended is over without
// the payload: the payload must be kept for the redriven run's next await,
// not taken for "the execution is over" (the hook disposed, a stored
// payload deleted, the resume answered 404).
func TestRedrivenExecutionIsNotEnded(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"resume", "handout"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			inj, tasks := faults.New(), faults.NewTasks()
			c, _, _ := guaranteeClient(t, inj, tasks, func(o *hooks.Options) { o.HandOffWait = 100 * time.Millisecond })
			token := "redriven-" + suffix()
			switch path {
			case "resume":
				mustAwait(t, c, token, "T1")
			case "handout":
				storePayloads(t, c, token, `{"p":1}`)
				inj.CrashAt(4, faults.After) // A1 (fails: pending), A1b heartbeat, A2 Query, A3 hand-out written; dies before the send
				if crash := faults.Recover(func() { mustAwait(t, c, token, "T1") }); crash == nil || crash.Call.Op != "DynamoDB.UpdateItem" {
					t.Fatalf("crash %v, want one after A3: %v", crash, inj.Ops())
				}
			}
			tasks.Schedule("T1") // T1 was running when the execution ended
			tasks.End()
			tasks.Redrive()
			if path == "resume" {
				if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":1}`)); err != nil {
					t.Fatalf("resume of a redriven execution's hook whose waiter the end closed: %v, want nil (acknowledged and kept)", err)
				}
			}
			mustAwait(t, c, token, "T2")
			if out, ok := tasks.Output("T2"); !ok || out != `{"p":1}` {
				t.Fatalf("the redriven run's await T2 got %q (%v), want P1", out, ok)
			}
			if n := pending(t, c, token); n != 0 {
				t.Errorf("%d pending at the end, want 0", n)
			}
		})
	}
}

// TestLongHistoryNotFoundIsNotDelivered (issue 20, defect 10): the task a
// payload went to lies further back in the history than the pages the
// library reads (100 pages of 1,000; Step Functions caps a history at
// 25,000 events, so the fake serves more than AWS would, to reach the
// bound that is left as a safety net). Not found there is "not
// delivered": the payload is kept (a possible duplicate, never a loss),
// neither refused with ContentionError nor left in flight for ever. Both
// paths: a stale hand-out settled by the next await (its await died
// between A3 and A4), and a send answered "task closed".
func TestLongHistoryNotFoundIsNotDelivered(t *testing.T) {
	t.Parallel()
	const beyond = 100_001 // events after the task's: more than 100 pages of 1,000
	t.Run("handout", func(t *testing.T) {
		t.Parallel()
		inj, tasks := faults.New(), faults.NewTasks()
		c, _, _ := guaranteeClient(t, inj, tasks, func(o *hooks.Options) {
			o.HandOffWait = 100 * time.Millisecond
			o.ContentionTimeout = 2 * time.Second
		})
		token := "longhist-handout-" + suffix()
		storePayloads(t, c, token, `{"p":1}`)
		inj.CrashAt(4, faults.After) // A1, A1b, A2, A3 written; the await dies before A4
		if crash := faults.Recover(func() { mustAwait(t, c, token, "T1") }); crash == nil || crash.Call.Op != "DynamoDB.UpdateItem" {
			t.Fatalf("crash %v, want one after A3: %v", crash, inj.Ops())
		}
		tasks.Schedule("T1")
		tasks.Fail("T1", "Lambda.Unknown")
		tasks.Pad(beyond)
		mustAwait(t, c, token, "T2")
		if out, ok := tasks.Output("T2"); !ok || out != `{"p":1}` {
			t.Fatalf("T2 got %q (%v), want P1", out, ok)
		}
		if n := pending(t, c, token); n != 0 {
			t.Errorf("%d pending at the end, want 0", n)
		}
	})
	t.Run("send", func(t *testing.T) {
		t.Parallel()
		inj, tasks := faults.New(), faults.NewTasks()
		c, _, _ := guaranteeClient(t, inj, tasks)
		token := "longhist-send-" + suffix()
		mustAwait(t, c, token, "T1")
		tasks.Schedule("T1")
		tasks.Close("T1") // timed out
		tasks.Pad(beyond)
		if _, err := c.ResumeHook(context.Background(), token, json.RawMessage(`{"p":1}`)); err != nil {
			t.Fatalf("resume to a closed task beyond the pages read: %v, want nil (kept)", err)
		}
		if n := pending(t, c, token); n != 1 {
			t.Fatalf("%d pending after the resume, want P1 kept (1)", n)
		}
		mustAwait(t, c, token, "T2")
		if out, ok := tasks.Output("T2"); !ok || out != `{"p":1}` {
			t.Fatalf("T2 got %q (%v), want P1", out, ok)
		}
	})
}
