package hooks_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The requeue of a payload whose task closed without it (docs/protocol.md,
// "Delivery"), under what moto cannot produce: two requeuers of one
// delivery (a keyed resume and its retry both answered TaskTimedOut), and
// DynamoDB's TransactionConflict. Step Functions is faults.Tasks; the
// interleavings are made with faults.Injector's hook before a call.

// sideClient is a client on table whose DynamoDB calls go through inj (nil:
// straight to moto) and whose Step Functions is tasks.
func sideClient(t *testing.T, table string, inj *faults.Injector, tasks *faults.Tasks) *hooks.Client {
	t.Helper()
	var db hooks.DynamoDBAPI = dynamodb.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()))
	if inj != nil {
		db = inj.DynamoDB(db)
	}
	c, err := hooks.New(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()), func(o *hooks.Options) {
		o.TableName = table
		o.DynamoDB = db
		o.StepFunctions = tasks
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// beforeNth runs fn (once) just before the n-th call of op through inj.
func beforeNth(inj *faults.Injector, op string, n int, fn func()) {
	var mu sync.Mutex
	seen := 0
	inj.FailWith(func(call faults.Call) error {
		if call.Op != op {
			return nil
		}
		mu.Lock()
		seen++
		hit := seen == n
		mu.Unlock()
		if hit {
			fn()
		}
		return nil
	})
}

// deliveries awaits the hook with fresh tasks until one is left waiting,
// and returns what they got, in order.
func deliveries(t *testing.T, c *hooks.Client, tasks *faults.Tasks, token, prefix string) []string {
	t.Helper()
	var got []string
	for i := 1; i <= 10; i++ {
		task := prefix + string(rune('0'+i))
		mustAwait(t, c, token, task)
		out, ok := tasks.Output(task)
		if !ok {
			return got
		}
		got = append(got, out)
	}
	t.Fatalf("more than 9 payloads delivered: %q", got)
	return nil
}

// TestRequeueTwice (issue 20, defect 4): two requeuers of the same
// delivery. A keyed resume took T1 (closed: timed out), and so did its
// retry's replay, which found the record still in flight; both are
// answered TaskTimedOut and both settle "task over". The payload must be
// stored once. It used to be stored again by the second requeuer, whose
// transaction was canceled ("a newer await replaced the record"), and was
// then delivered twice.
func TestRequeueTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// replaced: T2 parks (A1 clears the record) after both requeuers
		// settled T1 and before either requeues.
		replaced bool
		// delivered: T2 awaits after the retry requeued the payload and
		// before the first resume requeues it: T2 gets it (its stored
		// item is committed and deleted).
		delivered bool
	}{
		{"requeued", false, false},
		{"requeued-then-delivered", false, true},
		{"replaced", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inj, tasks := faults.New(), faults.NewTasks()
			c, _, table := guaranteeClient(t, inj, tasks)
			inj2 := faults.New()
			retry := sideClient(t, table, inj2, tasks)
			plain := sideClient(t, table, nil, tasks)
			token := "requeue2-" + suffix()
			mustAwait(t, c, token, "T1")
			tasks.Schedule("T1")
			tasks.Close("T1") // timed out: every send answers TaskTimedOut
			p := json.RawMessage(`{"p":1}`)
			var retryErr, awaitErr error
			retried, awaited := false, false
			if tc.replaced {
				// The retry's transactions: its S1 (canceled: the key is
				// used), then its requeue. Before that requeue, T2 parks.
				beforeNth(inj2, "DynamoDB.TransactWriteItems", 2, func() {
					awaited = true
					awaitErr = plain.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: "T2"})
				})
			}
			// The first resume's transactions: I2, then its requeue. Before
			// that requeue, the retry runs to its end.
			beforeNth(inj, "DynamoDB.TransactWriteItems", 2, func() {
				retried = true
				_, retryErr = retry.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k"))
				if tc.delivered {
					awaited = true
					awaitErr = plain.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: "T2"})
				}
			})
			if _, err := c.ResumeHook(ctx, token, p, hooks.WithIdempotencyKey("k")); err != nil {
				t.Fatalf("keyed resume to a closed task: %v, want nil (kept)", err)
			}
			inj.Reset()
			inj2.Reset()
			if !retried || retryErr != nil {
				t.Fatalf("the retry ran %v, error %v; want it answered applied", retried, retryErr)
			}
			if (tc.replaced || tc.delivered) && (!awaited || awaitErr != nil) {
				t.Fatalf("T2's await ran %v, error %v", awaited, awaitErr)
			}
			var got []string
			if out, ok := tasks.Output("T2"); ok {
				got = append(got, out)
			}
			got = append(got, deliveries(t, c, tasks, token, "U")...)
			if len(got) != 1 || got[0] != string(p) {
				t.Fatalf("the awaits after two requeues got %q, want P1 once", got)
			}
		})
	}
}

// TestRequeueTransactionConflict (issue 20, defect 4): the requeue's
// transaction is canceled by a TransactionConflict (another transaction,
// an append or a commit, held the hook item). It must be tried again, not
// taken for "a newer await replaced the record": that stored the payload
// anew beside the record still in flight, whose redrive then requeued it
// a second time (delivered twice).
func TestRequeueTransactionConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, db, table := guaranteeClient(t, inj, tasks, func(o *hooks.Options) { o.RedriveAfter = 50 * time.Millisecond })
	token := "requeueconflict-" + suffix()
	mustAwait(t, c, token, "T1")
	tasks.Schedule("T1")
	tasks.Close("T1")
	var once sync.Once
	inj.FailWith(func(call faults.Call) error {
		var err error
		if call.Op == "DynamoDB.TransactWriteItems" { // R1 is an UpdateItem: the first transaction is the requeue
			once.Do(func() {
				err = &types.TransactionCanceledException{
					Message: aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None, None]"),
					CancellationReasons: []types.CancellationReason{
						{Code: aws.String("TransactionConflict"), Message: aws.String("Transaction is ongoing for the item")},
						{Code: aws.String("None")}, {Code: aws.String("None")},
					},
				}
			})
		}
		return err
	})
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":1}`)); err != nil {
		t.Fatalf("resume to a closed task, requeue canceled by a conflict: %v, want nil (kept)", err)
	}
	inj.Reset()
	if _, ok := getHookItem(t, db, table, token)["inflight"]; ok {
		t.Errorf("the hook item still holds the delivery in flight after the requeue: the conflict was not retried")
	}
	time.Sleep(100 * time.Millisecond) // past RedriveAfter: a record left behind would be redriven now
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":2}`)); err != nil {
		t.Fatal(err)
	}
	got := deliveries(t, c, tasks, token, "U")
	if len(got) != 2 || got[0] != `{"p":1}` || got[1] != `{"p":2}` {
		t.Fatalf("the awaits got %q, want P1 then P2, once each", got)
	}
}
