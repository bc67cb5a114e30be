package hooks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// An await that passes its task's timeout (TimeoutSeconds and
// $$.State.EnteredTime) makes GetHook and the state=waiting listing tell
// the truth: waiting, with waitingUntil, until then; not waiting after,
// though the waiter is still on the item (a resume would find the task
// timed out and store its payload). A later await without a timeout
// clears the expiry.
func TestAwaitTimeoutEndsWaiting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newTestClock()
	c, db, table := guaranteeClient(t, faults.New(), faults.NewTasks(), func(o *hooks.Options) { o.Now = clock.Now })
	token := "waituntil-" + suffix()
	entered := clock.Now().Add(-2 * time.Second)
	in := hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: "T1",
		Timeout: 60 * time.Second, EnteredTime: entered}
	if err := c.Await(ctx, in); err != nil {
		t.Fatal(err)
	}
	want := entered.Add(60 * time.Second)
	check := func(what string, waiting bool, until time.Time) {
		t.Helper()
		st, err := c.GetHook(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		got := time.Time{}
		if st.WaitingUntil != nil {
			got = *st.WaitingUntil
		}
		if st.Waiting != waiting || !got.Equal(until) {
			t.Fatalf("%s: waiting %v until %v, want %v until %v", what, st.Waiting, got, waiting, until)
		}
		page, err := c.ListHooks(ctx, hooks.ListHooksInput{ExecutionARN: execA, State: hooks.StateWaiting})
		if err != nil {
			t.Fatal(err)
		}
		if listed := len(page.Hooks) == 1; listed != waiting {
			t.Fatalf("%s: listed as waiting %v (%d hooks), want %v", what, listed, len(page.Hooks), waiting)
		}
	}
	check("before the timeout", true, want)
	clock.Advance(57 * time.Second)
	check("a second before the timeout", true, want)
	clock.Advance(2 * time.Second)
	check("after the timeout", false, want)

	// The next await (a loop, or a retry) without a timeout: waiting, no expiry.
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: "T2"}); err != nil {
		t.Fatal(err)
	}
	check("an await without a timeout", true, time.Time{})

	// Bad inputs: refused before any write.
	before := len(scanAll(t, db, table))
	for _, bad := range []struct {
		name    string
		timeout time.Duration
		entered time.Time
	}{
		{"negative timeout", -time.Second, time.Time{}},
		{"over a year", 366 * 24 * time.Hour, time.Time{}},
		{"entered time without a timeout", 0, clock.Now()},
	} {
		err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "bad-" + suffix(), ExecutionARN: execA}, TaskToken: "T3",
			Timeout: bad.timeout, EnteredTime: bad.entered})
		if !errors.Is(err, hooks.ErrInvalidRequest) {
			t.Fatalf("%s: %v, want ErrInvalidRequest", bad.name, err)
		}
	}
	if after := len(scanAll(t, db, table)); after != before {
		t.Fatalf("%d items after refused awaits, want %d", after, before)
	}
}
