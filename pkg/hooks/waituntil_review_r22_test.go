package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Review r22. An await's enteredTime is any RFC 3339 time: 9999-12-01
// plus a timeout of a year (MaxAwaitTimeout) is accepted, and the hook's
// waitingUntil falls in the year 10000, which encoding/json cannot write
// (time.Time.MarshalJSON: year outside of range [0,9999]). GET
// /hooks/{token} then fails, and so does every listing page that holds
// the hook (ListHooks, ListStateMachineHooks: one execution's await breaks
// the state machine's listing). Either Await refuses it or the status must
// encode.
func TestR22WaitingUntilPastYear9999(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _, _ := guaranteeClient(t, faults.New(), faults.NewTasks())
	token := "wu-y10k-" + suffix()
	entered := time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC)
	err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: "T1",
		Timeout: hooks.MaxAwaitTimeout, EnteredTime: entered})
	if errors.Is(err, hooks.ErrInvalidRequest) {
		if _, gerr := c.GetHook(ctx, token); !errors.Is(gerr, hooks.ErrHookNotFound) {
			t.Errorf("a refused await registered the hook: %v", gerr)
		}
		return // refused before any call: fine
	}
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.GetHook(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(st); err != nil {
		t.Errorf("GET /hooks/{token} cannot encode the hook's status: %v", err)
	}
	page, err := c.ListHooks(ctx, hooks.ListHooksInput{ExecutionARN: execA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(page); err != nil {
		t.Errorf("the execution's listing cannot be encoded: %v", err)
	}
}

// Review r22. An await that gave timeoutSeconds and an enteredTime whose
// sum is at or before 1970 stores waitUntil ≤ 0, which status reads as
// "no timeout given": GET reports waiting: true and no waitingUntil,
// though by what the await said its task timed out long ago (README:
// with timeoutSeconds and enteredTime GET reports waitingUntil and
// "waiting": false once it has passed). Await accepts the input.
func TestR22WaitingUntilBeforeEpoch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _, _ := guaranteeClient(t, faults.New(), faults.NewTasks())
	token := "wu-1969-" + suffix()
	entered := time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)
	err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: "T1",
		Timeout: 60 * time.Second, EnteredTime: entered})
	if errors.Is(err, hooks.ErrInvalidRequest) {
		return // refused: fine
	}
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.GetHook(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if st.Waiting || st.WaitingUntil == nil {
		t.Errorf("await with timeout 60 s entered %v: GET says waiting=%v waitingUntil=%v, want false and %v", entered, st.Waiting, st.WaitingUntil, entered.Add(time.Minute))
	}
}
