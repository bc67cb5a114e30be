package hooks_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Resumes with an idempotency key under faults moto cannot produce (a
// crash between two calls, a task closed under a send): DynamoDB is moto,
// Step Functions is faults.Tasks, crashes come from faults.Injector.

// TestKeyedResumeRedrives (issue 20, defect 6): a resume took the waiter
// T1 (R1) and died before its send. A keyed resume that comes after
// RedriveAfter must send the record to T1, as a plain resume does
// (docs/protocol.md, crash table: "any resume after RedriveAfter sends
// it"); it used to store its own payload beside it, and T1 never got P1.
func TestKeyedResumeRedrives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks, func(o *hooks.Options) { o.RedriveAfter = 50 * time.Millisecond })
	token := "keyedredrive-" + suffix()
	mustAwait(t, c, token, "T1")
	inj.CrashAt(1, faults.After) // R1 applied, the resumer dies before R2
	if crash := faults.Recover(func() { _, _ = c.ResumeHook(ctx, token, json.RawMessage(`{"p":1}`)) }); crash == nil || crash.Call.Op != "DynamoDB.UpdateItem" {
		t.Fatalf("crash %v, want one after R1: %v", crash, inj.Ops())
	}
	time.Sleep(100 * time.Millisecond) // past RedriveAfter
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":2}`), hooks.WithIdempotencyKey("k2")); err != nil {
		t.Fatal(err)
	}
	if out, ok := tasks.Output("T1"); !ok || out != `{"p":1}` {
		t.Fatalf("T1 got %q (%v) after a keyed resume past RedriveAfter, want P1 (redriven)", out, ok)
	}
	if n := pending(t, c, token); n != 1 {
		t.Fatalf("%d pending, want P2 (1)", n)
	}
	mustAwait(t, c, token, "T2")
	if out, _ := tasks.Output("T2"); out != `{"p":2}` {
		t.Errorf("T2 got %q, want P2", out)
	}
}

// TestReplayConfirmsAgainstItsTask (issue 20, defect 5): a keyed resume
// took the waiter T1 and its resumer died before the send; T1 timed out
// and the next await T2 cleared the record (presumed consumed). The retry
// with the key must confirm the payload against T1, the task it was handed
// to: another task's identical output in the history, or an identical
// payload stored by another resume, is not this one. It used to answer
// "applied" on either, while its payload reached no task and was stored
// nowhere: lost.
func TestReplayConfirmsAgainstItsTask(t *testing.T) {
	t.Parallel()
	p := json.RawMessage(`{"approved":true}`)
	for _, other := range []string{"identical-output", "identical-stored"} {
		t.Run(other, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			inj, tasks := faults.New(), faults.NewTasks()
			c, _, _ := guaranteeClient(t, inj, tasks)
			token := "confirmtask-" + suffix()
			if other == "identical-output" {
				mustAwait(t, c, token, "T0")
				if _, err := c.ResumeHook(ctx, token, p); err != nil { // T0 succeeds with the same text
					t.Fatal(err)
				}
			}
			mustAwait(t, c, token, "T1")
			inj.CrashAt(2, faults.After) // I1 GetItem, I2 TransactWriteItems: dies before R2
			if crash := faults.Recover(func() { _, _ = c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k")) }); crash == nil || crash.Call.Op != "DynamoDB.TransactWriteItems" {
				t.Fatalf("crash %v, want one after I2: %v", crash, inj.Ops())
			}
			inj.Reset()
			tasks.Close("T1") // timed out without the payload
			mustAwait(t, c, token, "T2")
			want := 1
			if other == "identical-stored" {
				// T2 gets another payload; then the same text as ours is
				// stored by another resume.
				if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"q":1}`)); err != nil {
					t.Fatal(err)
				}
				if _, err := c.ResumeHook(ctx, token, p); err != nil {
					t.Fatal(err)
				}
				want = 2
			}
			if _, err := c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k")); err != nil {
				t.Fatalf("retry with the key: %v", err)
			}
			var got []string
			if out, ok := tasks.Output("T2"); ok && out == string(p) {
				got = append(got, out)
			}
			for _, out := range deliveries(t, c, tasks, token, "U") {
				if out == string(p) {
					got = append(got, out)
				}
			}
			if len(got) != want {
				t.Fatalf("%s: the awaits after the retry got the payload %d times, want %d (the keyed one delivered, once)", other, len(got), want)
			}
		})
	}
}
