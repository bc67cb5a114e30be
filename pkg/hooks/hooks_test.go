package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

const execA = "arn:aws:states:us-east-1:123456789012:execution:m:a"

// Bad input is refused before anything is written.
func TestResumeRefusesBadInput(t *testing.T) {
	t.Parallel()
	c, db, calls, table := testClient(t)
	ctx := context.Background()
	token := "bad-input-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	before := scanAll(t, db, table)
	big := `"` + strings.Repeat("x", hooks.MaxPayloadBytes) + `"`
	for _, tc := range []struct {
		name    string
		token   string
		payload any
		opts    []hooks.ResumeOption
		want    error
	}{
		{"invalid JSON", token, json.RawMessage(`{"a":`), nil, hooks.ErrInvalidPayload},
		{"empty body", token, json.RawMessage(``), nil, hooks.ErrInvalidPayload},
		{"two values", token, json.RawMessage(`1 2`), nil, hooks.ErrInvalidPayload},
		{"unmarshalable", token, func() {}, nil, hooks.ErrInvalidPayload},
		{"over 256 KiB", token, json.RawMessage(big), nil, hooks.ErrPayloadTooLarge},
		{"empty token", "", 1, nil, hooks.ErrInvalidToken},
		{"slash in token", "a/b", 1, nil, hooks.ErrInvalidToken},
		{"control character", "a\x00b", 1, nil, hooks.ErrInvalidToken},
		{"space", "a b", 1, nil, hooks.ErrInvalidToken},
		{"token too long", strings.Repeat("t", hooks.MaxTokenLength+1), 1, nil, hooks.ErrInvalidToken},
		{"idempotency key too long", token, 1, []hooks.ResumeOption{hooks.WithIdempotencyKey(strings.Repeat("k", 300))}, hooks.ErrInvalidPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Reset()
			_, err := c.ResumeHook(ctx, tc.token, tc.payload, tc.opts...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("%q: got %v, want %v", tc.name, err, tc.want)
			}
			if n := calls.Total(); n != 0 {
				t.Errorf("%q: made %d AWS calls (%s), want 0", tc.name, n, calls)
			}
		})
	}
	var tooLarge *hooks.PayloadTooLargeError
	_, err := c.ResumeHook(ctx, token, json.RawMessage(big))
	if !errors.As(err, &tooLarge) || tooLarge.Limit != hooks.MaxPayloadBytes || !strings.Contains(err.Error(), "262144") {
		t.Errorf("too large: %v, want *PayloadTooLargeError naming the 262144-byte limit", err)
	}
	if after := scanAll(t, db, table); !reflect.DeepEqual(before, after) {
		t.Errorf("refused resumes changed the table")
	}
}

// A payload whose waiter's task is over (Step Functions answers
// InvalidToken / TaskTimedOut) is not lost: it is requeued as the oldest
// pending payload, and the dead waiter is forgotten.
func TestDeadWaiterRequeues(t *testing.T) {
	t.Parallel()
	c, _, _, _ := testClient(t)
	ctx := context.Background()
	token := "dead-waiter-" + suffix()
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: "no-such-task-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, token, map[string]int{"n": 1}); err != nil {
		t.Fatalf("resume to a dead waiter: %v, want the payload stored", err)
	}
	if _, err := c.ResumeHook(ctx, token, map[string]int{"n": 2}); err != nil {
		t.Fatal(err)
	}
	st, err := c.GetHook(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if st.Waiting || st.Pending != 2 || st.Delivered != 0 {
		t.Fatalf("after requeue: waiting=%v pending=%d delivered=%d, want false 2 0", st.Waiting, st.Pending, st.Delivered)
	}
	// An await whose task is dead too leaves the payload where it was.
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: "no-such-task-2"}); err != nil {
		t.Fatal(err)
	}
	if st, err = c.GetHook(ctx, token); err != nil || st.Pending != 2 || st.Delivered != 0 {
		t.Fatalf("after a dead await: %+v %v, want 2 pending, 0 delivered", st, err)
	}
}

// Dispose frees the token, deletes stored payloads, and is idempotent; a
// hook of another execution is not disposed.
func TestDispose(t *testing.T) {
	t.Parallel()
	c, db, _, table := testClient(t)
	ctx := context.Background()
	token := "dispose-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	for i := range 30 { // more than one BatchWriteItem
		if _, err := c.ResumeHook(ctx, token, i); err != nil {
			t.Fatal(err)
		}
	}
	var conflict *hooks.ConflictError
	if err := c.Dispose(ctx, token, "arn:other"); !errors.As(err, &conflict) || conflict.ExecutionARN != execA {
		t.Fatalf("dispose by another execution: %v, want *ConflictError naming %s", err, execA)
	}
	if err := c.Dispose(ctx, token, execA); err != nil {
		t.Fatal(err)
	}
	if items := scanAll(t, db, table); len(items) != 0 {
		t.Errorf("%d items left after dispose, want 0", len(items))
	}
	if err := c.Dispose(ctx, token, execA); err != nil {
		t.Errorf("second dispose: %v, want nil", err)
	}
	if _, err := c.ResumeHook(ctx, token, 1); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Errorf("resume after dispose: %v, want ErrHookNotFound", err)
	}
}

// DisposeExecution disposes every hook of the execution and no other.
func TestDisposeExecution(t *testing.T) {
	t.Parallel()
	c, _, _, _ := testClient(t)
	ctx := context.Background()
	mine := []string{"x1-" + suffix(), "x2-" + suffix(), "x3-" + suffix()}
	other := "y-" + suffix()
	for _, tok := range mine {
		if _, err := c.Register(ctx, hooks.RegisterInput{Token: tok, ExecutionARN: execA}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: other, ExecutionARN: "arn:other"}); err != nil {
		t.Fatal(err)
	}
	n, err := c.DisposeExecution(ctx, execA)
	if err != nil || n != len(mine) {
		t.Fatalf("DisposeExecution: %d, %v; want %d, nil", n, err, len(mine))
	}
	for _, tok := range mine {
		if _, err := c.GetHook(ctx, tok); !errors.Is(err, hooks.ErrHookNotFound) {
			t.Errorf("%s after DisposeExecution: %v, want ErrHookNotFound", tok, err)
		}
	}
	if _, err := c.GetHook(ctx, other); err != nil {
		t.Errorf("another execution's hook: %v, want it kept", err)
	}
}

// Metadata must be JSON in UTF-8 (DynamoDB strings are UTF-8; the SDK would
// replace other bytes): anything else is refused and nothing is written.
func TestRegisterRefusesBadMetadata(t *testing.T) {
	t.Parallel()
	c, db, _, table := testClient(t)
	for _, md := range []string{`{"a":`, "{\"a\":\"\xff\"}"} {
		_, err := c.Register(context.Background(), hooks.RegisterInput{Token: "md-" + suffix(), ExecutionARN: execA, Metadata: json.RawMessage(md)})
		if !errors.Is(err, hooks.ErrInvalidRequest) {
			t.Errorf("metadata %q: %v, want ErrInvalidRequest", md, err)
		}
	}
	if items := scanAll(t, db, table); len(items) != 0 {
		t.Errorf("%d items stored, want 0", len(items))
	}
}
