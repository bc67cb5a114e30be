package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Rejections (issue 13, item 1) on moto's DynamoDB, with Step Functions
// scripted by faults.Tasks: the closed-task answers and the TaskFailed
// history of a rejection are faults moto does not give (it accepts a
// closed task's token). The end-to-end path (a state machine that Catches
// the error) is e2e/reject_test.go, on the emulator.

// wantFailure requires task to have failed with errName and cause.
func wantFailure(t *testing.T, tasks *faults.Tasks, task, errName, cause string) {
	t.Helper()
	e, c, ok := tasks.Failure(task)
	if !ok || e != errName || c != cause {
		out, _ := tasks.Output(task)
		t.Fatalf("%s: failure (%q, %q, %v), output %q; want it failed with (%q, %q)", task, e, c, ok, out, errName, cause)
	}
}

// A rejection is queued in order with payloads: resume A, reject R,
// resume B → the awaits get A, fail with R, get B.
func TestRejectQueuedInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tasks := faults.NewTasks()
	c, _, _ := guaranteeClient(t, faults.New(), tasks)
	token := "reject-fifo-" + suffix()
	storePayloads(t, c, token, `{"p":"A"}`)
	if _, err := c.RejectHook(ctx, token, "Rejected", "no stock"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":"B"}`)); err != nil {
		t.Fatal(err)
	}
	if n := pending(t, c, token); n != 3 {
		t.Fatalf("%d pending, want 3 (A, R, B)", n)
	}
	mustAwait(t, c, token, "T1")
	mustAwait(t, c, token, "T2")
	mustAwait(t, c, token, "T3")
	if out, _ := tasks.Output("T1"); out != `{"p":"A"}` {
		t.Errorf("T1 got %q, want A", out)
	}
	wantFailure(t, tasks, "T2", "Rejected", "no stock")
	if out, _ := tasks.Output("T3"); out != `{"p":"B"}` {
		t.Errorf("T3 got %q, want B", out)
	}
	if n := pending(t, c, token); n != 0 {
		t.Errorf("%d pending after three awaits", n)
	}
}

// A rejection with a parked await fails it at once (R1 + SendTaskFailure),
// with an idempotency key a replay answers as the first time, and the
// same key for a payload is a mismatch.
func TestRejectParked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tasks := faults.NewTasks()
	c, _, _ := guaranteeClient(t, faults.New(), tasks)
	token := "reject-parked-" + suffix()
	mustAwait(t, c, token, "T1")
	for range 2 {
		if _, err := c.RejectHook(ctx, token, "Rejected", "by alice", hooks.WithIdempotencyKey("k")); err != nil {
			t.Fatal(err)
		}
	}
	wantFailure(t, tasks, "T1", "Rejected", "by alice")
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{}`), hooks.WithIdempotencyKey("k")); !errors.Is(err, hooks.ErrIdempotencyMismatch) {
		t.Fatalf("resume with a rejection's key: %v, want ErrIdempotencyMismatch", err)
	}
	mustAwait(t, c, token, "T2")
	if _, ok := tasks.Output("T2"); ok {
		t.Fatal("T2 got something: the rejection was delivered twice")
	}
	if _, _, ok := tasks.Failure("T2"); ok {
		t.Fatal("T2 failed: the rejection was delivered twice")
	}
}

// Step Functions' limits are checked before anything is stored: 400, no
// item written.
func TestRejectLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, db, table := guaranteeClient(t, faults.New(), faults.NewTasks())
	token := "reject-limits-" + suffix()
	storePayloads(t, c, token)
	before := len(scanAll(t, db, table))
	for name, in := range map[string][2]string{
		"no error":          {"", "x"},
		"error over 256":    {strings.Repeat("e", hooks.MaxRejectErrorLength+1), ""},
		"cause over 32768":  {"E", strings.Repeat("c", hooks.MaxRejectCauseLength+1)},
		"astral characters": {"E", strings.Repeat("😀", hooks.MaxRejectCauseLength/2+1)},
		"not UTF-8":         {"E\xff", ""},
	} {
		_, err := c.RejectHook(ctx, token, in[0], in[1])
		if !errors.Is(err, hooks.ErrInvalidPayload) || hooks.ErrorFor(err).Status != 400 {
			t.Errorf("%s: %v, want a 400 ErrInvalidPayload", name, err)
		}
	}
	if _, err := c.RejectHook(ctx, token, strings.Repeat("e", hooks.MaxRejectErrorLength), strings.Repeat("c", hooks.MaxRejectCauseLength)); err != nil {
		t.Fatalf("a rejection at the limits: %v", err)
	}
	if after := len(scanAll(t, db, table)); after != before+1 {
		t.Fatalf("%d items after the refused rejections and one accepted, want %d", after, before+1)
	}
}

// A rejection whose SendTaskFailure was applied but answered "closed" is
// settled from the history (TaskFailed with its error and cause) as
// delivered: not requeued, not failing a second await.
func TestRejectLostAnswerIsSettled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, path := range []string{"resume", "await"} {
		t.Run(path, func(t *testing.T) {
			tasks := &lostAnswerTasks{Tasks: faults.NewTasks()}
			c, _, _ := newTestClient(t, &awscalls.Counter{}, func(o *hooks.Options) { o.StepFunctions = tasks })
			token := "reject-lost-" + suffix()
			switch path {
			case "resume":
				mustAwait(t, c, token, "T1")
				if _, err := c.RejectHook(ctx, token, "Rejected", "lost"); err != nil {
					t.Fatal(err)
				}
			case "await":
				storePayloads(t, c, token)
				if _, err := c.RejectHook(ctx, token, "Rejected", "lost"); err != nil {
					t.Fatal(err)
				}
				mustAwait(t, c, token, "T1")
			}
			if tasks.HistoryReads() == 0 {
				t.Fatal("the closed-task answer was not settled from the history")
			}
			wantFailure(t, tasks.Tasks, "T1", "Rejected", "lost")
			if n := pending(t, c, token); n != 0 {
				t.Fatalf("%d pending after a rejection that reached T1", n)
			}
			mustAwait(t, c, token, "T2")
			if _, _, ok := tasks.Failure("T2"); ok {
				t.Fatal("T2 failed too: the rejection was delivered twice")
			}
		})
	}
}

// A rejection sent to a task that is already over (it timed out: the
// history shows TaskTimedOut, no TaskFailed with this error) is kept: it
// is requeued and fails the next await.
func TestRejectClosedTaskIsRequeued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tasks := faults.NewTasks()
	c, _, _ := guaranteeClient(t, faults.New(), tasks)
	token := "reject-closed-" + suffix()
	mustAwait(t, c, token, "T1")
	tasks.Close("T1")
	if _, err := c.RejectHook(ctx, token, "Rejected", "late"); err != nil {
		t.Fatalf("rejection to a timed-out await: %v (it must be kept, not refused)", err)
	}
	if n := pending(t, c, token); n != 1 {
		t.Fatalf("%d pending, want the rejection requeued", n)
	}
	mustAwait(t, c, token, "T2")
	wantFailure(t, tasks, "T2", "Rejected", "late")
}

// A SendTaskFailure throttled past the SDK's retries leaves the outcome
// unknown: the rejection stays in flight and a redrive sends it.
func TestRejectThrottledIsRedriven(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks, func(o *hooks.Options) { o.RedriveAfter = time.Nanosecond })
	token := "reject-throttled-" + suffix()
	mustAwait(t, c, token, "T1")
	inj.FailWith(func(call faults.Call) error {
		if call.Op == "SFN.SendTaskFailure" {
			return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
		}
		return nil
	})
	if _, err := c.RejectHook(ctx, token, "Rejected", "throttled"); err == nil {
		t.Fatal("rejection whose SendTaskFailure failed: acknowledged")
	}
	inj.FailWith(nil)
	// The next resume finds the record in flight and redrives it first.
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":2}`)); err != nil {
		t.Fatal(err)
	}
	wantFailure(t, tasks, "T1", "Rejected", "throttled")
	mustAwait(t, c, token, "T2")
	if out, _ := tasks.Output("T2"); out != `{"p":2}` {
		t.Fatalf("T2 got %q, want the payload after the rejection", out)
	}
}
