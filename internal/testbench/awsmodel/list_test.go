package awsmodel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

const listSM = "arn:aws:states:us-east-1:123456789012:stateMachine:orders"

// listFixture is 10,000 hooks across 100 executions of one state machine on
// the model: hook j of execution e is created at its own millisecond, tagged
// customer:c<j%20>; j%10 == 0 has an await parked (waiting), j%10 == 1 a
// payload stored (pending), the others are idle.
type listFixture struct {
	db    *DynamoDB
	calls *awscalls.Counter
	c     *hooks.Client
}

func newListFixture(t *testing.T, executions, perExecution int) *listFixture {
	t.Helper()
	db := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1})
	sf := NewStepFunctions(-1)
	var tick atomic.Int64
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	calls := &awscalls.Counter{}
	c, err := hooks.New(aws.Config{Region: "us-east-1"}, func(o *hooks.Options) {
		o.TableName = table
		o.DynamoDB = countedDB{db, calls}
		o.StepFunctions = countedSFN{sf, calls}
		o.Now = func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Millisecond) }
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, executions)
	for e := range executions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exec := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:orders:run-%03d", e)
			for j := range perExecution {
				in := hooks.RegisterInput{Token: fmt.Sprintf("h-%03d-%03d", e, j), ExecutionARN: exec, Tags: []string{fmt.Sprintf("customer:c%02d", j%20)}}
				var err error
				switch j % 10 {
				case 0:
					err = c.Await(ctx, hooks.AwaitInput{RegisterInput: in, TaskToken: fmt.Sprintf("task-%03d-%03d", e, j)})
				case 1:
					if _, err = c.Register(ctx, in); err == nil {
						_, err = c.ResumeHook(ctx, in.Token, map[string]any{"n": j})
					}
				default:
					_, err = c.Register(ctx, in)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return &listFixture{db: db, calls: calls, c: c}
}

// pageStats is what listing every page of one query cost.
type pageStats struct {
	pages, hooks                int
	indexRCU, tableRCU, maxRCU  float64
	queries, batchGets, maxCall int
}

func (s pageStats) String() string {
	return fmt.Sprintf("%d hooks in %d pages; per page: %.1f RCU (index %.1f, table %.1f), max %.1f; %d calls (%d Query, %d BatchGetItem), max %d",
		s.hooks, s.pages, (s.indexRCU+s.tableRCU)/float64(s.pages), s.indexRCU/float64(s.pages), s.tableRCU/float64(s.pages), s.maxRCU,
		(s.queries+s.batchGets)/s.pages, s.queries, s.batchGets, s.maxCall)
}

// listAll lists every page of in and checks each against the page before.
func (f *listFixture) listAll(t *testing.T, in hooks.ListStateMachineHooksInput) ([]hooks.HookStatus, pageStats) {
	t.Helper()
	var all []hooks.HookStatus
	var st pageStats
	for {
		ir0, _ := f.db.Consumed(hooks.IndexByStateMachine)
		tr0, _ := f.db.Consumed("")
		q0, b0 := f.calls.Count("DynamoDB.Query"), f.db.Calls.Count("DynamoDB.BatchGetItem")
		page, err := f.c.ListStateMachineHooks(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		ir1, _ := f.db.Consumed(hooks.IndexByStateMachine)
		tr1, _ := f.db.Consumed("")
		q1, b1 := f.calls.Count("DynamoDB.Query"), f.db.Calls.Count("DynamoDB.BatchGetItem")
		st.pages++
		st.indexRCU += ir1 - ir0
		st.tableRCU += tr1 - tr0
		st.maxRCU = max(st.maxRCU, ir1-ir0+tr1-tr0)
		st.queries += int(q1 - q0)
		st.batchGets += int(b1 - b0)
		st.maxCall = max(st.maxCall, int(q1-q0+b1-b0))
		if l := max(in.Limit, 1); len(page.Hooks) > l {
			t.Fatalf("page %d holds %d hooks, limit %d", st.pages, len(page.Hooks), l)
		}
		all = append(all, page.Hooks...)
		if page.Cursor == "" {
			break
		}
		in.Cursor = page.Cursor
		if st.pages > 100_000 {
			t.Fatal("no end")
		}
	}
	st.hooks = len(all)
	return all, st
}

// checkOrder fails unless hooks are in strict age order (newest: each
// created after the next) with no hook twice.
func checkOrder(t *testing.T, hs []hooks.HookStatus, newest bool) {
	t.Helper()
	seen := map[string]bool{}
	for i, h := range hs {
		if seen[h.Token] {
			t.Fatalf("hook %s listed twice", h.Token)
		}
		seen[h.Token] = true
		if i == 0 {
			continue
		}
		prev := hs[i-1].CreatedAt
		if newest && !h.CreatedAt.Before(prev) || !newest && !h.CreatedAt.After(prev) {
			t.Fatalf("entry %d (%s, %v) out of order after %s (%v)", i, h.Token, h.CreatedAt, hs[i-1].Token, prev)
		}
	}
}

// TestListStateMachineAtScale lists 10,000 hooks of 100 executions of one
// state machine by age, by tag, by state and by both, a page at a time, and
// reports what a page costs (capacity units and calls). Every hook is listed
// once, in order, and each filter lists exactly the hooks it names.
func TestListStateMachineAtScale(t *testing.T) {
	t.Parallel()
	// make test lists 1,000 hooks across 25 executions; make scale the
	// 10,000 across 100 that docs/performance.md reports (40 s on 2 cores).
	executions, perExecution := 25, 40 // a multiple of 20: the tags repeat every 20 hooks
	if os.Getenv("SFNHOOKS_LIST_SCALE") != "" {
		executions, perExecution = 100, 100
	}
	f := newListFixture(t, executions, perExecution)
	total := executions * perExecution

	for _, order := range []hooks.Order{hooks.OrderNewest, hooks.OrderOldest} {
		all, st := f.listAll(t, hooks.ListStateMachineHooksInput{StateMachineARN: listSM, Order: order, Limit: 50})
		t.Logf("all, %s first, limit 50: %v", order, st)
		if len(all) != total || st.pages != total/50 {
			t.Fatalf("%s: listed %d hooks in %d pages, want %d in %d", order, len(all), st.pages, total, total/50)
		}
		checkOrder(t, all, order == hooks.OrderNewest)
		if order == hooks.OrderNewest && all[0].Token != fmt.Sprintf("h-%03d-%03d", executions-1, perExecution-1) && all[0].CreatedAt.Before(all[total-1].CreatedAt) {
			t.Fatalf("newest first starts with %s", all[0].Token)
		}
	}

	tagged, st := f.listAll(t, hooks.ListStateMachineHooksInput{StateMachineARN: listSM, Tag: "customer:c03", Limit: 50})
	t.Logf("tag customer:c03 (1 in 20), limit 50: %v", st)
	if len(tagged) != total/20 {
		t.Fatalf("tag: listed %d hooks, want %d", len(tagged), total/20)
	}
	checkOrder(t, tagged, true)
	for _, h := range tagged {
		if len(h.Tags) != 1 || h.Tags[0] != "customer:c03" {
			t.Fatalf("tag filter listed %s with tags %v", h.Token, h.Tags)
		}
	}

	for _, tc := range []struct {
		state hooks.State
		tag   string
		want  int
		ok    func(hooks.HookStatus) bool
	}{
		{hooks.StateWaiting, "", total / 10, func(h hooks.HookStatus) bool { return h.Waiting && h.Pending == 0 }},
		{hooks.StatePending, "", total / 10, func(h hooks.HookStatus) bool { return !h.Waiting && h.Pending == 1 }},
		{hooks.StateIdle, "", total * 8 / 10, func(h hooks.HookStatus) bool { return !h.Waiting && h.Pending == 0 }},
		// customer:c10 is on j%20 == 10: j%10 == 0, every one waiting.
		{hooks.StateWaiting, "customer:c10", total / 20, func(h hooks.HookStatus) bool { return h.Waiting }},
		// customer:c03 has no waiting hook: every page is empty.
		{hooks.StateWaiting, "customer:c03", 0, nil},
	} {
		got, st := f.listAll(t, hooks.ListStateMachineHooksInput{StateMachineARN: listSM, State: tc.state, Tag: tc.tag, Limit: 50})
		t.Logf("state %s tag %q, limit 50: %v", tc.state, tc.tag, st)
		if len(got) != tc.want {
			t.Fatalf("state %s tag %q: listed %d, want %d", tc.state, tc.tag, len(got), tc.want)
		}
		checkOrder(t, got, true)
		for _, h := range got {
			if !tc.ok(h) {
				t.Fatalf("state %s listed %s: waiting %v pending %d", tc.state, h.Token, h.Waiting, h.Pending)
			}
		}
	}

	// A cursor belongs to its listing.
	page, err := f.c.ListStateMachineHooks(context.Background(), hooks.ListStateMachineHooksInput{StateMachineARN: listSM, Limit: 10})
	if err != nil || page.Cursor == "" {
		t.Fatalf("first page: %v, cursor %q", err, page.Cursor)
	}
	_, err = f.c.ListStateMachineHooks(context.Background(), hooks.ListStateMachineHooksInput{StateMachineARN: listSM, Tag: "customer:c01", Cursor: page.Cursor})
	if !errors.Is(err, hooks.ErrInvalidRequest) {
		t.Fatalf("another listing's cursor: %v, want ErrInvalidRequest", err)
	}
}

// TestStateMachineIndexHotPartition is why the byStateMachine index is
// sharded (hooks.ListShards). A burst of 10,000 hook creates of one state
// machine (a Distributed Map whose children each create a hook) writes one
// index entry each. Keyed on the state machine alone, every entry goes to
// one index partition, whose 1,000 WCU/s (one second of burst) cannot take
// them: DynamoDB throttles the table writes themselves, so creates fail
// with ProvisionedThroughputExceeded. Spread over ListShards partitions by
// a hash of the token, the same burst is taken. The unsharded index is
// written as the library would write it but with smShard the state
// machine's ARN alone.
func TestStateMachineIndexHotPartition(t *testing.T) {
	t.Parallel()
	const burst = 10_000
	run := func(sharded bool) (throttled int64, took time.Duration) {
		db := NewDynamoDB(Config{Latency: -1})
		c, err := hooks.New(aws.Config{Region: "us-east-1"}, func(o *hooks.Options) {
			o.TableName = table
			o.DynamoDB = db
			o.StepFunctions = NewStepFunctions(-1)
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		start := time.Now()
		var wg sync.WaitGroup
		var refused atomic.Int64
		for w := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < burst; i += 50 {
					tok := fmt.Sprintf("burst-%05d", i)
					exec := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:orders/map-1:child-%05d", i)
					var err error
					if sharded {
						_, err = c.Register(ctx, hooks.RegisterInput{Token: tok, ExecutionARN: exec})
					} else {
						_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
							TableName:                 aws.String(table),
							Key:                       map[string]types.AttributeValue{"pk": str("HOOK#" + tok), "sk": str("HOOK")},
							UpdateExpression:          aws.String("SET smShard = :sm, smSort = :so, executionArn = :e"),
							ExpressionAttributeValues: map[string]types.AttributeValue{":sm": str(listSM), ":so": str(fmt.Sprintf("%016x#%s", i, tok)), ":e": str(exec)},
						})
					}
					var pt *types.ProvisionedThroughputExceededException
					if errors.As(err, &pt) {
						refused.Add(1)
					} else if err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		return refused.Load(), time.Since(start)
	}
	one, tookOne := run(false)
	sharded, tookSharded := run(true)
	t.Logf("burst of %d creates of one state machine: index on the state machine alone: %d refused (throttled) in %v; sharded %d ways: %d refused in %v",
		burst, one, tookOne.Round(time.Millisecond), hooks.ListShards, sharded, tookSharded.Round(time.Millisecond))
	if tookOne < time.Second && one == 0 {
		t.Errorf("one partition took %d index writes in %v without a throttle: the model charges no index writes", burst, tookOne)
	}
	if sharded != 0 {
		t.Errorf("sharded %d ways: %d creates throttled, want 0", hooks.ListShards, sharded)
	}
}

// TestIndexWriteCharges: the byStateMachine index is written when a hook is
// created and deleted and when its tags are set, not by resumes and
// awaits.
func TestIndexWriteCharges(t *testing.T) {
	t.Parallel()
	db := NewDynamoDB(Config{Latency: -1})
	c, err := hooks.New(aws.Config{Region: "us-east-1"}, func(o *hooks.Options) {
		o.TableName = table
		o.DynamoDB = db
		o.StepFunctions = NewStepFunctions(-1)
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exec := "arn:aws:states:us-east-1:123456789012:execution:orders:charges"
	w := func() float64 { _, w := db.Consumed(hooks.IndexByStateMachine); return w }
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: "charge-1", ExecutionARN: exec}); err != nil {
		t.Fatal(err)
	}
	if got := w(); got != 1 {
		t.Fatalf("create: %v index WCU, want 1", got)
	}
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "charge-1", ExecutionARN: exec, Tags: []string{"customer:acme"}}, TaskToken: "t1"}); err != nil {
		t.Fatal(err)
	}
	if got := w(); got != 3 {
		t.Fatalf("await that tags: %v index WCU in all, want 3 (the entry deleted and put again)", got)
	}
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "charge-1", ExecutionARN: exec, Tags: []string{"customer:other"}}, TaskToken: "t1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: "charge-2", ExecutionARN: exec}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, "charge-2", map[string]any{"ok": true}); err != nil { // stored: no waiter
		t.Fatal(err)
	}
	if got := w(); got != 4 {
		t.Fatalf("await again, create another, resume it: %v index WCU in all, want 4 (the create's)", got)
	}
	h, err := c.GetHook(ctx, "charge-1")
	if err != nil || len(h.Tags) != 1 || h.Tags[0] != "customer:acme" {
		t.Fatalf("tags %v (%v), want the first await's [customer:acme]", h, err)
	}
	if err := c.Dispose(ctx, "charge-1", exec); err != nil {
		t.Fatal(err)
	}
	if got := w(); got != 5 {
		t.Fatalf("dispose: %v index WCU in all, want 5", got)
	}
}
