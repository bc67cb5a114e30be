package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Batch awaits run on moto's DynamoDB; Step Functions is the scripted
// faults.Tasks (these tests need task tokens without state machines, the
// outputs each task received, and closed-task answers and histories that
// moto does not give). e2e/batch_test.go runs a batch loop on moto's Step
// Functions.

func batchAwait(t *testing.T, c *hooks.Client, token, task string, maxBatch int) {
	t.Helper()
	in := hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: task, MaxBatch: maxBatch}
	if err := c.Await(context.Background(), in); err != nil {
		t.Fatalf("batch await %s: %v", task, err)
	}
}

// items decodes a batch await's output; it fails the test unless the
// output is {"items":[…]} within Step Functions' 256 KiB.
func items(t *testing.T, tasks *faults.Tasks, task string) []string {
	t.Helper()
	out, ok := tasks.Output(task)
	if !ok {
		t.Fatalf("%s received nothing", task)
	}
	if len(out) > hooks.MaxPayloadBytes {
		t.Fatalf("%s received %d bytes, over Step Functions' %d", task, len(out), hooks.MaxPayloadBytes)
	}
	var b struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil || b.Items == nil {
		t.Fatalf("%s received %.80q, not a batch", task, out)
	}
	var got []string
	for _, it := range b.Items {
		got = append(got, string(it))
	}
	return got
}

func msgItems(t *testing.T, db *dynamodb.Client, table string) int {
	t.Helper()
	n := 0
	for _, it := range scanAll(t, db, table) {
		if v, ok := it["sk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(v.Value, "MSG#") {
			n++
		}
	}
	return n
}

// TestBatchAwaitTakesStoredInOrder: a batch await gets up to maxBatch of
// the oldest stored payloads, in order, in one hand-out of five calls;
// the commit removes them all; the next batch takes the rest; a parked
// batch await is completed by a resume with a batch of one; an await
// without maxBatch still receives the payload itself.
func TestBatchAwaitTakesStoredInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, db, table := guaranteeClient(t, inj, tasks)
	token := "batch-" + suffix()
	storePayloads(t, c, token, `{"p":1}`, `{"p":2}`, `{"p":3}`, `{"p":4}`, `{"p":5}`)
	before := len(inj.Ops())
	batchAwait(t, c, token, "T1", 3)
	if got := items(t, tasks, "T1"); !slices.Equal(got, []string{`{"p":1}`, `{"p":2}`, `{"p":3}`}) {
		t.Fatalf("T1 got %v, want P1 P2 P3", got)
	}
	if ops := inj.Ops()[before:]; len(ops) != 6 {
		t.Errorf("a batch of 3 took %d calls (%v), want 6 (A1, A1b, A2, A3, A4, A5)", len(ops), ops)
	}
	if p := pending(t, c, token); p != 2 {
		t.Errorf("after the first batch: %d pending, want 2", p)
	}
	if n := msgItems(t, db, table); n != 2 {
		t.Errorf("after the first batch: %d stored payloads in the table, want 2 (the commit deletes all it delivered)", n)
	}
	batchAwait(t, c, token, "T2", 10)
	if got := items(t, tasks, "T2"); !slices.Equal(got, []string{`{"p":4}`, `{"p":5}`}) {
		t.Fatalf("T2 got %v, want P4 P5", got)
	}
	st, err := c.GetHook(ctx, token)
	if err != nil || st.Pending != 0 || st.Delivered != 5 {
		t.Fatalf("after two batches: %+v, %v; want 5 delivered, none pending", st, err)
	}
	// Nothing pending: the batch await parks, and a resume completes it at once.
	batchAwait(t, c, token, "T3", 10)
	if st, _ := c.GetHook(ctx, token); !st.Waiting {
		t.Fatalf("T3 is not parked: %+v", st)
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":6}`)); err != nil {
		t.Fatal(err)
	}
	if got := items(t, tasks, "T3"); !slices.Equal(got, []string{`{"p":6}`}) {
		t.Fatalf("T3 got %v, want a batch of P6 alone", got)
	}
	// The loop goes on without maxBatch: the payload itself again.
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":7}`)); err != nil {
		t.Fatal(err)
	}
	mustAwait(t, c, token, "T4")
	if out, _ := tasks.Output("T4"); out != `{"p":7}` {
		t.Errorf("an await without maxBatch got %q, want P7 itself", out)
	}
	mustAwait(t, c, token, "T5")
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":8}`)); err != nil {
		t.Fatal(err)
	}
	if out, _ := tasks.Output("T5"); out != `{"p":8}` {
		t.Errorf("a parked await without maxBatch (after batch awaits) got %q, want P8 itself", out)
	}
}

// TestBatchOfNinetyNine: maxBatch 100 takes 99 payloads (the commit is one
// transaction of the hook item and a delete per payload: 100 items), the
// next batch the hundredth.
func TestBatchOfNinetyNine(t *testing.T) {
	t.Parallel()
	inj, tasks := faults.New(), faults.NewTasks()
	c, db, table := guaranteeClient(t, inj, tasks)
	token := "batch99-" + suffix()
	var ps []string
	for i := range 100 {
		ps = append(ps, fmt.Sprintf(`{"p":%d}`, i))
	}
	storePayloads(t, c, token, ps...)
	batchAwait(t, c, token, "T1", 100)
	if got := items(t, tasks, "T1"); !slices.Equal(got, ps[:99]) {
		t.Fatalf("T1 got %d items (%.40v…), want the first 99 in order", len(got), got)
	}
	batchAwait(t, c, token, "T2", 100)
	if got := items(t, tasks, "T2"); !slices.Equal(got, ps[99:]) {
		t.Fatalf("T2 got %v, want the last one", got)
	}
	if p := pending(t, c, token); p != 0 {
		t.Errorf("%d pending, want 0", p)
	}
	if n := msgItems(t, db, table); n != 0 {
		t.Errorf("%d stored payloads left, want 0", n)
	}
}

// TestBatchEndsBeforeRejection: a batch ends before a rejection, which is
// delivered alone as the failure it is; the next batch goes on after it.
func TestBatchEndsBeforeRejection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "batchrej-" + suffix()
	storePayloads(t, c, token, `{"p":1}`, `{"p":2}`)
	if _, err := c.RejectHook(ctx, token, "Rejected", "no"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":3}`)); err != nil {
		t.Fatal(err)
	}
	batchAwait(t, c, token, "T1", 10)
	if got := items(t, tasks, "T1"); !slices.Equal(got, []string{`{"p":1}`, `{"p":2}`}) {
		t.Fatalf("T1 got %v, want P1 P2 (the batch ends before the rejection)", got)
	}
	batchAwait(t, c, token, "T2", 10)
	if name, cause, ok := tasks.Failure("T2"); !ok || name != "Rejected" || cause != "no" {
		t.Fatalf("T2: failure %q %q %v, want the rejection alone", name, cause, ok)
	}
	batchAwait(t, c, token, "T3", 10)
	if got := items(t, tasks, "T3"); !slices.Equal(got, []string{`{"p":3}`}) {
		t.Fatalf("T3 got %v, want P3", got)
	}
	// A parked batch await is failed by a rejection, as a single one is.
	batchAwait(t, c, token, "T4", 10)
	if _, err := c.RejectHook(ctx, token, "Rejected", "late"); err != nil {
		t.Fatal(err)
	}
	if name, cause, ok := tasks.Failure("T4"); !ok || name != "Rejected" || cause != "late" {
		t.Fatalf("T4: failure %q %q %v, want the rejection", name, cause, ok)
	}
}

// padded is a compact JSON payload of exactly size bytes.
func padded(size int) string {
	const frame = `{"x":""}`
	return `{"x":"` + strings.Repeat("a", size-len(frame)) + `"}`
}

// TestBatchFitsTheOutputLimit: a batch's output, envelope and commas
// included, is at most 256 KiB: two payloads that fill it exactly go
// together; one byte more and the second waits for the next batch.
func TestBatchFitsTheOutputLimit(t *testing.T) {
	t.Parallel()
	const frame = len(`{"items":[`) + len(`,`) + len(`]}`)
	a := 131000
	for _, tc := range []struct {
		name  string
		b     int
		first int // items in the first batch
	}{
		{"exactly 256 KiB", hooks.MaxPayloadBytes - frame - a, 2},
		{"one byte over", hooks.MaxPayloadBytes - frame - a + 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inj, tasks := faults.New(), faults.NewTasks()
			c, _, _ := guaranteeClient(t, inj, tasks)
			token := "batchsize-" + suffix()
			pa, pb := padded(a), padded(tc.b)
			storePayloads(t, c, token, pa, pb, `{"p":3}`)
			batchAwait(t, c, token, "T1", 10)
			got := items(t, tasks, "T1")
			if len(got) != tc.first || got[0] != pa {
				t.Fatalf("T1 got %d items, want %d starting with the first payload", len(got), tc.first)
			}
			batchAwait(t, c, token, "T2", 10)
			rest := items(t, tasks, "T2")
			all := append(got, rest...)
			if len(all) < 3 && tc.first == 1 {
				batchAwait(t, c, token, "T3", 10)
				all = append(all, items(t, tasks, "T3")...)
			}
			if !slices.Equal(all, []string{pa, pb, `{"p":3}`}) {
				t.Errorf("the batches carried %d payloads, want the three in order", len(all))
			}
		})
	}
}

// TestBatchItemTooLarge: a payload that fits Step Functions' output alone
// but not in {"items":[…]} is never sent to a batch await: the task fails
// with HookBatchItemTooLargeError and the payload stays pending (from the
// backlog, or requeued after a resume took a parked batch await), for an
// await without maxBatch.
func TestBatchItemTooLarge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "batchbig-" + suffix()
	big := padded(hooks.MaxBatchItemBytes + 1)
	storePayloads(t, c, token, big)
	batchAwait(t, c, token, "T1", 10)
	if name, _, ok := tasks.Failure("T1"); !ok || name != hooks.ErrorNameBatchItemTooLarge {
		t.Fatalf("T1: failure %q %v, want %s", name, ok, hooks.ErrorNameBatchItemTooLarge)
	}
	if p := pending(t, c, token); p != 1 {
		t.Fatalf("%d pending, want the payload kept", p)
	}
	mustAwait(t, c, token, "T2")
	if out, _ := tasks.Output("T2"); out != big {
		t.Fatalf("an await without maxBatch got %d bytes, want the payload (%d)", len(out), len(big))
	}
	// Parked: the resume is acknowledged, the batch await told, the payload kept.
	batchAwait(t, c, token, "T3", 10)
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(big)); err != nil {
		t.Fatalf("resume to a parked batch await: %v, want acknowledged", err)
	}
	if name, _, ok := tasks.Failure("T3"); !ok || name != hooks.ErrorNameBatchItemTooLarge {
		t.Fatalf("T3: failure %q %v, want %s", name, ok, hooks.ErrorNameBatchItemTooLarge)
	}
	mustAwait(t, c, token, "T4")
	if out, _ := tasks.Output("T4"); out != big {
		t.Fatalf("the next await got %d bytes, want the requeued payload", len(out))
	}
	// A payload of exactly MaxBatchItemBytes fits a batch of one.
	fit := padded(hooks.MaxBatchItemBytes)
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(fit)); err != nil {
		t.Fatal(err)
	}
	batchAwait(t, c, token, "T5", 10)
	if got := items(t, tasks, "T5"); len(got) != 1 || got[0] != fit {
		t.Fatalf("T5 got %d items, want the payload of %d bytes", len(got), len(fit))
	}
}

// TestBatchAwaitCrashes: a batch await dies at each of its calls (before
// and after), and Step Functions retries the task with a new token (or a
// Catch leads to a new await). The dead await's batch reached its task
// (died after the send) → the retried await settles it from the history,
// recognising the batch output, and commits it; otherwise the retried
// await hands the same payloads out again. Each payload is delivered
// exactly once, in order.
func TestBatchAwaitCrashes(t *testing.T) {
	for n := 1; n <= 5; n++ {
		for _, when := range []faults.When{faults.Before, faults.After} {
			t.Run(fmt.Sprintf("%s_%d", when, n), func(t *testing.T) {
				t.Parallel()
				inj, tasks := faults.New(), faults.NewTasks()
				c, _, _ := guaranteeClient(t, inj, tasks, func(o *hooks.Options) { o.RedriveAfter = 200 * time.Millisecond })
				token := "batchcrash-" + suffix()
				want := []string{`{"p":1}`, `{"p":2}`, `{"p":3}`, `{"p":4}`}
				storePayloads(t, c, token, want...)
				inj.CrashAt(n, when)
				reg := hooks.RegisterInput{Token: token, ExecutionARN: execA}
				crash := faults.Recover(func() {
					_ = c.Await(context.Background(), hooks.AwaitInput{RegisterInput: reg, TaskToken: "T1", MaxBatch: 3})
				})
				if crash == nil {
					t.Fatalf("no crash at call %d: %v", n, inj.Ops())
				}
				tasks.Fail("T1", "Lambda.Unknown") // no effect when T1 succeeded already
				var got []string
				if _, ok := tasks.Output("T1"); ok {
					got = append(got, items(t, tasks, "T1")...)
				}
				for i := 2; len(got) < len(want) && i < 6; i++ {
					task := fmt.Sprintf("T%d", i)
					batchAwait(t, c, token, task, 3)
					got = append(got, items(t, tasks, task)...)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s: the tasks received %v, want P1…P4 once each, in order", crash, got)
				}
				if p := pending(t, c, token); p != 0 {
					t.Errorf("%d pending at the end, want 0", p)
				}
			})
		}
	}
}

// TestBatchCommitConflict: the batch's commit meets a TransactionConflict
// (DynamoDB's, which moto never answers: injected) and is made again; the
// batch is committed once.
func TestBatchCommitConflict(t *testing.T) {
	t.Parallel()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "batchtx-" + suffix()
	storePayloads(t, c, token, `{"p":1}`, `{"p":2}`, `{"p":3}`)
	conflicts := 0
	inj.FailWith(func(call faults.Call) error {
		if call.Op == "DynamoDB.TransactWriteItems" && conflicts < 2 {
			conflicts++
			return &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"),
				CancellationReasons: []types.CancellationReason{{Code: aws.String("TransactionConflict")}, {Code: aws.String("None")}, {Code: aws.String("None")}}}
		}
		return nil
	})
	batchAwait(t, c, token, "T1", 2)
	if got := items(t, tasks, "T1"); !slices.Equal(got, []string{`{"p":1}`, `{"p":2}`}) {
		t.Fatalf("T1 got %v", got)
	}
	if conflicts != 2 {
		t.Fatalf("%d conflicts injected, want 2", conflicts)
	}
	if p := pending(t, c, token); p != 1 {
		t.Fatalf("%d pending after the commit, want 1", p)
	}
	batchAwait(t, c, token, "T2", 2)
	if got := items(t, tasks, "T2"); !slices.Equal(got, []string{`{"p":3}`}) {
		t.Fatalf("T2 got %v, want P3", got)
	}
}

// TestBatchWindow: with a window, an await that finds fewer payloads than
// maxBatch waits until the oldest is that old, and takes what arrived
// meanwhile; without one it takes what it finds at once.
func TestBatchWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "batchwin-" + suffix()
	storePayloads(t, c, token, `{"p":1}`)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: "T1",
			MaxBatch: 10, BatchWindow: 1500 * time.Millisecond})
	}()
	time.Sleep(300 * time.Millisecond)
	for _, p := range []string{`{"p":2}`, `{"p":3}`} {
		if _, err := c.ResumeHook(ctx, token, json.RawMessage(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("the await returned after %v, before its window", el)
	}
	if got := items(t, tasks, "T1"); !slices.Equal(got, []string{`{"p":1}`, `{"p":2}`, `{"p":3}`}) {
		t.Fatalf("T1 got %v, want the three payloads of the window", got)
	}
	for _, bad := range []hooks.AwaitInput{
		{MaxBatch: 101}, {MaxBatch: -1}, {BatchWindow: time.Second}, {MaxBatch: 2, BatchWindow: 11 * time.Second},
	} {
		bad.RegisterInput = hooks.RegisterInput{Token: token, ExecutionARN: execA}
		bad.TaskToken = "T9"
		if err := c.Await(ctx, bad); !errors.Is(err, hooks.ErrInvalidRequest) {
			t.Errorf("await maxBatch %d window %v: %v, want ErrInvalidRequest", bad.MaxBatch, bad.BatchWindow, err)
		}
	}
}

// TestBatchKeyedReplayConfirmsBatchOfOne: a keyed resume hands its payload
// to a parked batch await (a batch of one) and dies after the send; the
// next await drops the record; the keyed retry confirms the delivery
// against the first task's history, which shows {"items":[P]}, not P:
// applied, and P is not restored (no second delivery).
func TestBatchKeyedReplayConfirmsBatchOfOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "batchkey-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	batchAwait(t, c, token, "T1", 10)
	p := json.RawMessage(`{"p":1}`)
	inj.CrashAt(3, faults.After) // GetItem, TransactWriteItems, SendTaskSuccess: dies after the send
	if crash := faults.Recover(func() { _, _ = c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k1")) }); crash == nil {
		t.Fatalf("no crash: %v", inj.Ops())
	}
	if got := items(t, tasks, "T1"); !slices.Equal(got, []string{`{"p":1}`}) {
		t.Fatalf("T1 got %v", got)
	}
	batchAwait(t, c, token, "T2", 10) // drops T1's record (T1 told: answered closed)
	if _, err := c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k1")); err != nil {
		t.Fatalf("keyed retry: %v, want applied", err)
	}
	if out, ok := tasks.Output("T2"); ok {
		t.Fatalf("T2 received %s: the payload T1 got was put back and delivered again", out)
	}
	if st, err := c.GetHook(ctx, token); err != nil || st.Pending != 0 || !st.Waiting {
		t.Fatalf("after the retry: %+v, %v; want T2 parked, nothing pending", st, err)
	}
}
