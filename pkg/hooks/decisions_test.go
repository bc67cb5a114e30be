package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Tests for decision points of the protocol that no mutant covered
// (issue 20, section 3: mutants M65-M89 of cmd/mutate); each names the
// mutant it kills. Step Functions is faults.Tasks where moto cannot give
// AWS's answer (a closed task's token, a lost answer, a history that lags
// or is longer than a page); crashes and interleavings come from the
// faults injector.

// sideClient is another process on the same table: its own clients,
// through inj when not nil.
func sideClientSF(t *testing.T, table string, inj *faults.Injector, sf hooks.StepFunctionsAPI, optFns ...func(*hooks.Options)) *hooks.Client {
	t.Helper()
	cfg := devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String())
	c, err := hooks.New(cfg, append([]func(*hooks.Options){func(o *hooks.Options) {
		o.TableName = table
		o.StepFunctions = sf
		if inj != nil {
			o.DynamoDB = inj.DynamoDB(dynamodb.NewFromConfig(cfg))
			o.StepFunctions = inj.StepFunctions(sf)
		}
	}}, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSupersededWaiterIsFailed (mutant M65): a second await of the same
// execution with another task token replaces the parked one; the replaced
// task is failed with HookAwaitSupersededError at once, and the next
// payload goes to the new await.
func TestSupersededWaiterIsFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "superseded-" + suffix()
	awaitScheduled(t, c, tasks, token, "T1")
	awaitScheduled(t, c, tasks, token, "T2")
	if name, _, ok := tasks.Failure("T1"); !ok || name != hooks.ErrorNameSuperseded {
		t.Fatalf("T1 after T2 replaced it: failed %v with %q, want %s", ok, name, hooks.ErrorNameSuperseded)
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	if out, _ := tasks.Output("T2"); out != `{"n":1}` {
		t.Fatalf("T2 received %q, want P1", out)
	}
}

// TestRetriedAwaitResendsItsDelivery (mutants M66 and M67): a resume took
// the waiter T1 (R1) and died before sending. Step Functions then retries
// T1's await invocation with the same token (a Lambda that timed out after
// parking). The retried await finds its own delivery in flight: A1 must
// refuse it (NOT (waiter = T1 AND inflight)) and the await send it
// (resendOwn). Parking again would drop the record: P1, acknowledged to
// nobody but in flight to T1, would never arrive.
func TestRetriedAwaitResendsItsDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, _ := guaranteeClient(t, inj, tasks)
	token := "resend-own-" + suffix()
	awaitScheduled(t, c, tasks, token, "T1")
	inj.CrashAt(1, faults.After) // R1 UpdateItem, R2 SendTaskSuccess
	if crash := faults.Recover(func() { _, _ = c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)) }); crash == nil || crash.Call.Op != "DynamoDB.UpdateItem" {
		t.Fatalf("crash %v, want one after R1: %v", crash, inj.Ops())
	}
	inj.Reset()
	mustAwait(t, c, token, "T1") // the retried invocation
	if out, ok := tasks.Output("T1"); !ok || out != `{"n":1}` {
		t.Fatalf("T1 received %q (%v) from its retried await, want P1 (in flight to it)", out, ok)
	}
	if !slices.Contains(inj.Ops(), "SFN.SendTaskSuccess") {
		t.Fatalf("the retried await sent nothing: %v", inj.Ops())
	}
}

// TestHandOutOfDeliveredPayloadRefused (mutant M69, A3 without dlv = :d):
// two awaits of one hook at once. X read the hook (A1) and the oldest
// stored payload P1 (A2); before X names it as its hand-out (A3), Y takes
// P1, sends it to TY and commits it. X's A3 must fail on the moved dlv:
// P1 is delivered and its item gone, and TX must not get it as well.
func TestHandOutOfDeliveredPayloadRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, table := guaranteeClient(t, inj, tasks)
	y := sideClientSF(t, table, nil, tasks)
	token := "a3-dlv-" + suffix()
	reg := hooks.RegisterInput{Token: token, ExecutionARN: execA}
	storePayloads(t, c, token, `{"n":1}`)
	var yErr error
	yRan := false
	inj.Reset()
	inj.FailWith(func(call faults.Call) error {
		// X: A1 UpdateItem (refused: P1 pending), A1b SendTaskHeartbeat,
		// A2 Query, A3 UpdateItem.
		if call.N == 4 && call.Op == "DynamoDB.UpdateItem" {
			yRan = true
			yErr = y.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "TY"})
		}
		return nil
	})
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "TX"}); err != nil {
		t.Fatalf("await TX: %v", err)
	}
	ops := inj.Ops()
	inj.Reset()
	if !yRan || yErr != nil {
		t.Fatalf("Y's await before X's A3: ran %v, %v (X's calls %v)", yRan, yErr, ops)
	}
	if out, _ := tasks.Output("TY"); out != `{"n":1}` {
		t.Fatalf("TY received %q, want P1", out)
	}
	if out, ok := tasks.Output("TX"); ok {
		t.Fatalf("TX received %s as well: P1 delivered twice", out)
	}
	st, err := c.GetHook(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Waiting || st.Pending != 0 || st.Delivered != 1 {
		t.Fatalf("hook: waiting %v pending %d delivered %d, want TX parked and P1 delivered once", st.Waiting, st.Pending, st.Delivered)
	}
}

// laggingTasks is lostAnswerTasks (a send applied, its answer lost, the
// SDK's resend answered closed) whose history lags: the first reads after
// lagAfter leave out the events written since.
type laggingTasks struct {
	*lostAnswerTasks
	mu       sync.Mutex
	lagReads int   // reads still to lag
	lagAfter int64 // the newest event id they show
}

func (l *laggingTasks) GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput, o ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	out, err := l.lostAnswerTasks.GetExecutionHistory(ctx, in, o...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && l.lagReads > 0 {
		l.lagReads--
		out.Events = slices.DeleteFunc(slices.Clone(out.Events), func(ev sfntypes.HistoryEvent) bool { return ev.Id > l.lagAfter })
	}
	return out, err
}

// newestEvent is the id of the newest event of tasks' history.
func newestEvent(t *testing.T, tasks *faults.Tasks) int64 {
	t.Helper()
	out, err := tasks.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ReverseOrder: true, MaxResults: 1})
	if err != nil || len(out.Events) == 0 {
		t.Fatalf("history: %v %v", out, err)
	}
	return out.Events[0].Id
}

// TestSettleWaitsForALaggingHistory (mutant M71, no settle-lag loop): the
// answer of R2's SendTaskSuccess was lost and the SDK's resend answered
// closed; the first read of the history does not show T1's success yet.
// The history is read again a moment later, shows it, and the resume is
// answered as delivered: not an unknown outcome (500) for a payload that
// arrived.
func TestSettleWaitsForALaggingHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := faults.NewTasks()
	tasks := &laggingTasks{lostAnswerTasks: &lostAnswerTasks{Tasks: base}}
	c, _, _ := newTestClient(t, &awscalls.Counter{}, func(o *hooks.Options) { o.StepFunctions = tasks })
	token := "lagging-history-" + suffix()
	base.Schedule("T1")
	mustAwait(t, c, token, "T1")
	tasks.mu.Lock()
	tasks.lagReads, tasks.lagAfter = 1, newestEvent(t, base)
	tasks.mu.Unlock()
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatalf("resume whose closed answer's history lags one read: %v, want it delivered", err)
	}
	if out, _ := base.Output("T1"); out != `{"n":1}` {
		t.Fatalf("T1 received %q, want P1", out)
	}
	if reads := base.HistoryReads(); reads < 3 { // newestEvent's, the lagging one, the one that shows it
		t.Fatalf("%d history reads, want the lagging one read again", reads)
	}
	if n := pending(t, c, token); n != 0 {
		t.Fatalf("%d pending after P1 reached T1, want 0", n)
	}
}

// TestLateReleaseKeepsNewerHandOut (mutant M73, release unconditioned):
// await X handed out the stored P1 to TX, whose task had timed out; the
// send answers closed and X will release its hand-out (P1 stays stored).
// Before X's release, await Y settles X's stale hand-out (TX closed),
// takes P1 over and sends it to TY, and is about to commit. X's late
// release must leave Y's hand-out alone: removing it makes Y's commit
// fail, and P1, delivered to TY, stays pending for a second delivery.
func TestLateReleaseKeepsNewerHandOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, table := guaranteeClient(t, inj, tasks)
	injY := faults.New()
	y := sideClientSF(t, table, injY, tasks, func(o *hooks.Options) { o.HandOffWait = time.Nanosecond }) // settles a stale hand-out at once
	token := "late-release-" + suffix()
	reg := hooks.RegisterInput{Token: token, ExecutionARN: execA}
	storePayloads(t, c, token, `{"n":1}`)
	tasks.Schedule("TX") // times out after its await saw it open (A1b), before the send
	tasks.Schedule("TY")
	atA5, goA5, yDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	injY.FailWith(func(call faults.Call) error {
		if call.Op == "DynamoDB.TransactWriteItems" { // Y's A5
			close(atA5)
			<-goA5
		}
		return nil
	})
	yRan := false
	inj.Reset()
	inj.FailWith(func(call faults.Call) error {
		// X: A1 (refused), A1b SendTaskHeartbeat (open), A2 Query, A3
		// UpdateItem, A4 SendTaskSuccess (closed), GetExecutionHistory,
		// then the release, an UpdateItem.
		if call.Op == "DynamoDB.UpdateItem" && call.N == 4 {
			tasks.Close("TX") // timed out before its await sends
		}
		if call.Op == "DynamoDB.UpdateItem" && call.N > 4 && !yRan {
			yRan = true
			go func() { yDone <- y.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "TY"}) }()
			select {
			case <-atA5:
			case err := <-yDone:
				yDone <- err
			case <-time.After(30 * time.Second):
			}
		}
		return nil
	})
	xErr := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "TX"})
	xOps := inj.Ops()
	inj.Reset()
	if !yRan {
		t.Fatalf("X made no release after its closed send: %v (%v)", xOps, xErr)
	}
	close(goA5)
	if err := <-yDone; err != nil || xErr != nil {
		t.Fatalf("await TX: %v; await TY: %v (X's calls %v, Y's %v)", xErr, err, xOps, injY.Ops())
	}
	if out, _ := tasks.Output("TY"); out != `{"n":1}` {
		t.Fatalf("TY received %q, want P1 (taken over from TX); Y's calls %v", out, injY.Ops())
	}
	if n := pending(t, c, token); n != 0 {
		t.Fatalf("%d pending after P1 reached TY: it would be delivered again", n)
	}
	mustAwait(t, c, token, "T3")
	if out, ok := tasks.Output("T3"); ok {
		t.Fatalf("T3 received %s: P1 delivered twice", out)
	}
}

// TestRedriveOnlyStaleUnsentRecords (mutants M75 and M76, the redrive
// guards): a resume that finds a delivery in flight sends it again only
// when it is older than RedriveAfter and not known delivered. A fresh
// record (its sender may be sending now) and a record a redrive already
// delivered are left alone: the stored resume makes its two calls.
func TestRedriveOnlyStaleUnsentRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stored := []string{"DynamoDB.UpdateItem", "DynamoDB.TransactWriteItems"} // R1 (refused), S1
	t.Run("fresh", func(t *testing.T) {
		t.Parallel()
		inj, tasks := faults.New(), faults.NewTasks()
		c, _, _ := guaranteeClient(t, inj, tasks)
		token := "redrive-fresh-" + suffix()
		awaitScheduled(t, c, tasks, token, "T1")
		if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)); err != nil {
			t.Fatal(err)
		}
		inj.Reset() // P1's record stays in flight until the next await
		if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":2}`)); err != nil {
			t.Fatal(err)
		}
		if ops := inj.Ops(); !slices.Equal(ops, stored) {
			t.Fatalf("a resume behind a fresh delivery made %v, want %v (stored, nothing sent again)", ops, stored)
		}
	})
	t.Run("redriven", func(t *testing.T) {
		t.Parallel()
		inj, tasks := faults.New(), faults.NewTasks()
		c, _, _ := guaranteeClient(t, inj, tasks, func(o *hooks.Options) { o.RedriveAfter = 50 * time.Millisecond })
		token := "redrive-sent-" + suffix()
		awaitScheduled(t, c, tasks, token, "T1")
		inj.CrashAt(1, faults.After) // R1 of P1, then the resumer dies
		if crash := faults.Recover(func() { _, _ = c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)) }); crash == nil {
			t.Fatalf("no crash after R1: %v", inj.Ops())
		}
		inj.Reset()
		time.Sleep(100 * time.Millisecond)
		if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":2}`)); err != nil { // redrives P1, stores P2
			t.Fatal(err)
		}
		if out, _ := tasks.Output("T1"); out != `{"n":1}` {
			t.Fatalf("T1 received %q, want P1 redriven", out)
		}
		time.Sleep(100 * time.Millisecond)
		inj.Reset()
		if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":3}`)); err != nil {
			t.Fatal(err)
		}
		if ops := inj.Ops(); !slices.Equal(ops, stored) {
			t.Fatalf("a resume behind a record already redriven and delivered made %v, want %v", ops, stored)
		}
	})
}

// TestSettleReadsOlderPages (mutant M78, one page of history): T1 was
// scheduled more than a page of events (1,000) ago; R2's answer was lost
// and its resend answered closed. T1's success is on the first page (newest
// first), its TaskScheduled on the second: the settlement reads on and
// finds P1 delivered.
func TestSettleReadsOlderPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := faults.NewTasks()
	tasks := &lostAnswerTasks{Tasks: base}
	c, _, _ := newTestClient(t, &awscalls.Counter{}, func(o *hooks.Options) { o.StepFunctions = tasks })
	token := "pages-" + suffix()
	base.Schedule("T1")
	mustAwait(t, c, token, "T1")
	for i := range 400 { // other branches' tasks: 3 events each
		other := fmt.Sprintf("B%d", i)
		base.Schedule(other)
		base.Fail(other, "States.BranchFailed")
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatalf("resume whose task was scheduled %d events before the end of the history: %v, want it delivered", 1200, err)
	}
	if out, _ := base.Output("T1"); out != `{"n":1}` {
		t.Fatalf("T1 received %q, want P1", out)
	}
	if n := pending(t, c, token); n != 0 {
		t.Fatalf("%d pending after P1 reached T1, want 0", n)
	}
}

// TestKeyedResumeFollowsANewWaiter (mutant M79, I2 without waiter = :w):
// a keyed resume read the waiter T1 (I1); before its write (I2) a new
// await T2 of the execution replaced T1 (which is failed as superseded).
// I2 must fail and the resume go round to the new waiter: taking it while
// sending to T1 fails T1's closed send, requeues the payload and removes
// T2's waiter, which then waits for nothing.
func TestKeyedResumeFollowsANewWaiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, _, table := guaranteeClient(t, inj, tasks)
	other := sideClientSF(t, table, nil, tasks)
	token := "i2-waiter-" + suffix()
	reg := hooks.RegisterInput{Token: token, ExecutionARN: execA}
	awaitScheduled(t, c, tasks, token, "T1")
	tasks.Schedule("T2")
	var parkErr error
	parked := false
	inj.Reset()
	inj.FailWith(func(call faults.Call) error {
		// I1 GetItem, then I2 TransactWriteItems: T2 parks first.
		if call.Op == "DynamoDB.TransactWriteItems" && !parked {
			parked = true
			parkErr = other.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T2"})
		}
		return nil
	})
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`), hooks.WithIdempotencyKey("k")); err != nil {
		t.Fatalf("keyed resume: %v", err)
	}
	inj.Reset()
	if !parked || parkErr != nil {
		t.Fatalf("T2's await before I2: ran %v, %v", parked, parkErr)
	}
	if out, ok := tasks.Output("T2"); !ok || out != `{"n":1}` {
		st, _ := c.GetHook(ctx, token)
		t.Fatalf("T2 received %q (%v), want P1; hook %+v", out, ok, st)
	}
}

// afterLinkRead calls after once a GetItem of a link item has answered:
// between a use's read (L0) and its claim (L1), which builds its
// condition from the clock after that read.
type afterLinkRead struct {
	hooks.DynamoDBAPI
	mu    sync.Mutex
	after func()
}

func (a *afterLinkRead) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := a.DynamoDBAPI.GetItem(ctx, in, o...)
	pk, _ := in.Key["pk"].(*types.AttributeValueMemberS)
	a.mu.Lock()
	fn := a.after
	if pk != nil && strings.HasPrefix(pk.Value, "LINK#") {
		a.after = nil
	} else {
		fn = nil
	}
	a.mu.Unlock()
	if fn != nil {
		fn()
	}
	return out, err
}

// linkClient is a client on a fresh moto table whose clock the test
// moves: jump(n, d) moves it d forward once n more readings of it were
// taken. reads.after is run once after the next read of a link item.
func linkClient(t *testing.T, tasks *faults.Tasks) (c *hooks.Client, table string, reads *afterLinkRead, jump func(n int, d time.Duration)) {
	t.Helper()
	var mu sync.Mutex
	now := time.Now()
	var pendingJump time.Duration
	readings := -1 // no jump armed
	reads = &afterLinkRead{DynamoDBAPI: dynamodb.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()))}
	c, _, table = newTestClient(t, &awscalls.Counter{}, func(o *hooks.Options) {
		o.DynamoDB = reads
		o.StepFunctions = tasks
		o.Now = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			if readings == 0 {
				now, readings = now.Add(pendingJump), -1
			}
			if readings > 0 {
				readings--
			}
			return now
		}
	})
	return c, table, reads, func(n int, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		readings, pendingJump = n, d
	}
}

// TestLinkClaimDecides (mutants M82 and M83, L1's expiry and state
// terms): L0's read only picks an early answer; L1's conditions decide.
// A link that expires between L0 and L1, or that a concurrent POST uses
// between them, is refused (410) and resumes nothing.
func TestLinkClaimDecides(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		between func(t *testing.T, c, side *hooks.Client, link *hooks.Link, jump func(int, time.Duration))
		reason  string
	}{
		{"expires", func(t *testing.T, _, _ *hooks.Client, _ *hooks.Link, jump func(int, time.Duration)) {
			// L0's expiry check reads the clock once more; L1 (claimLink)
			// reads it after the link's life is over.
			jump(1, 2*time.Hour)
		}, hooks.LinkGoneExpired},
		{"used meanwhile", func(t *testing.T, _, side *hooks.Client, link *hooks.Link, _ func(int, time.Duration)) {
			if _, err := side.UseLink(ctx, link.ID, ""); err != nil {
				t.Errorf("the concurrent use: %v", err)
			}
		}, hooks.LinkGoneUsed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tasks := faults.NewTasks()
			c, table, reads, jump := linkClient(t, tasks)
			side := sideClientSF(t, table, nil, tasks)
			token := "link-l1-" + suffix()
			awaitScheduled(t, c, tasks, token, "T1")
			link, err := c.CreateLink(ctx, hooks.CreateLinkInput{Token: token, ExecutionARN: execA, Payload: map[string]any{"approved": true}, Expiry: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			ran := false
			reads.mu.Lock()
			reads.after = func() { // L0 answered; L1 comes next
				ran = true
				tc.between(t, c, side, link, jump)
			}
			reads.mu.Unlock()
			_, err = c.UseLink(ctx, link.ID, "")
			var gone *hooks.LinkGoneError
			if !ran || !errors.As(err, &gone) || gone.Reason != tc.reason {
				t.Fatalf("use of a link that %s between L0 and L1 (ran %v): %v, want LinkGoneError %q", tc.name, ran, err, tc.reason)
			}
			want := 0
			if tc.name == "used meanwhile" {
				want = 1 // the concurrent use's
			}
			st, err := c.GetHook(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			if st.Delivered+st.Pending != int64(want) {
				t.Fatalf("hook: delivered %d pending %d, want %d resume(s) in all", st.Delivered, st.Pending, want)
			}
		})
	}
}

// TestStoppedExecutionDisposesHook (mutants M72 and M77): the execution
// was stopped (StopExecution: ExecutionAborted ends its history, every
// task is over) while T1 waited. A resume takes the waiter, its send is
// answered closed, and the history says the execution is over: the hook
// is disposed and the resume answered "not found" (nothing acknowledged);
// a later resume is not stored for an execution that will never await.
func TestStoppedExecutionDisposesHook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	c, db, table := guaranteeClient(t, inj, tasks)
	token := "stopped-" + suffix()
	awaitScheduled(t, c, tasks, token, "T1")
	tasks.End()
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Fatalf("resume to the await of a stopped execution: %v, want ErrHookNotFound", err)
	}
	if st, err := c.GetHook(ctx, token); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Fatalf("the hook of the stopped execution: %+v, %v; want it disposed (ErrHookNotFound)", st, err)
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":2}`)); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Fatalf("a later resume: %v, want ErrHookNotFound", err)
	}
	if items := scanAll(t, db, table); len(items) != 0 {
		t.Fatalf("%d items left for the stopped execution's hook, want none: %v", len(items), items)
	}
}
