package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
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
		{"control character", "a\x00b", 1, nil, hooks.ErrInvalidToken},
		{"DEL", "a\x7fb", 1, nil, hooks.ErrInvalidToken},
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
// pending payload, and the dead waiter is forgotten. The next live await
// receives it, then the one after it.
func TestDeadWaiterRequeues(t *testing.T) {
	t.Parallel()
	// The tasks below are over and their execution runs on: AWS answers
	// TaskTimedOut, and the history shows no output (faults.Tasks; moto
	// would accept a closed task's token, and execA does not exist there).
	dead := faults.NewTasks()
	dead.Close("no-such-task-1")
	dead.Close("no-such-task-2")
	c, db, _, table := testClient(t, func(o *hooks.Options) { o.StepFunctions = dead })
	ctx := context.Background()
	token := "dead-waiter-" + suffix()
	await := func(c *hooks.Client, task string) {
		t.Helper()
		if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: task}); err != nil {
			t.Fatalf("await %s: %v", task, err)
		}
	}
	// stored requires the hook item without waiter or delivery in flight,
	// and exactly the payloads want stored, in this order.
	stored := func(when string, want ...string) {
		t.Helper()
		hook, msgs := hookItems(t, db, table, token)
		for _, attr := range []string{"waiter", "inflight"} {
			if _, ok := hook[attr]; ok {
				t.Errorf("%s: the hook item keeps %s: %v", when, attr, hook[attr])
			}
		}
		if !reflect.DeepEqual(msgs, want) {
			t.Errorf("%s: stored payloads %q, want %q", when, msgs, want)
		}
	}
	await(c, "no-such-task-1")
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
	stored("after requeue", `{"n":1}`, `{"n":2}`)
	// An await whose task is dead too leaves the payload where it was.
	await(c, "no-such-task-2")
	if st, err = c.GetHook(ctx, token); err != nil || st.Pending != 2 || st.Delivered != 0 {
		t.Fatalf("after a dead await: %+v %v, want 2 pending, 0 delivered", st, err)
	}
	stored("after a dead await", `{"n":1}`, `{"n":2}`)

	// Live awaits (Step Functions stood in: every task token is accepted)
	// receive the payloads in the order they were acknowledged.
	tasks := capturingSFN{outputs: make(chan string, 4)}
	live, err := hooks.New(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()), func(o *hooks.Options) {
		o.TableName = table
		o.StepFunctions = tasks
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`{"n":1}`, `{"n":2}`} {
		await(live, fmt.Sprintf("live-task-%d", i+1))
		select {
		case got := <-tasks.outputs:
			if got != want {
				t.Errorf("live await %d received %s, want %s", i+1, got, want)
			}
		default:
			t.Fatalf("live await %d received nothing, want %s", i+1, want)
		}
		if st, err = c.GetHook(ctx, token); err != nil || st.Pending != int64(1-i) || st.Delivered != int64(i+1) {
			t.Fatalf("after live await %d: %+v %v, want %d pending, %d delivered", i+1, st, err, 1-i, i+1)
		}
	}
	if _, msgs := hookItems(t, db, table, token); len(msgs) != 0 {
		t.Errorf("payloads %q still stored after both were delivered", msgs)
	}
	select {
	case got := <-tasks.outputs:
		t.Errorf("a live task received %s more", got)
	default:
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
	var want []string
	for i := range 30 { // more than one BatchWriteItem
		if _, err := c.ResumeHook(ctx, token, i); err != nil {
			t.Fatal(err)
		}
		want = append(want, strconv.Itoa(i))
	}
	// The 30 payloads are stored, so that their absence below is the
	// dispose's doing.
	if hook, msgs := hookItems(t, db, table, token); hook == nil || !reflect.DeepEqual(msgs, want) {
		t.Fatalf("before dispose: hook item found %v, stored payloads %q; want the hook and %q", hook != nil, msgs, want)
	}
	if n := len(scanAll(t, db, table)); n != 31 {
		t.Fatalf("before dispose: %d items, want 31 (the hook and its 30 payloads)", n)
	}
	var conflict *hooks.ConflictError
	if err := c.Dispose(ctx, token, "arn:other"); !errors.As(err, &conflict) || conflict.ExecutionARN != execA {
		t.Fatalf("dispose by another execution: %v, want *ConflictError naming %s", err, execA)
	}
	if _, msgs := hookItems(t, db, table, token); !reflect.DeepEqual(msgs, want) {
		t.Fatalf("after a refused dispose: stored payloads %q, want %q", msgs, want)
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

// DisposeHook with IfHookID disposes the hook the operator looked at and
// no other: once the execution has disposed it and created the token
// again, the new hook (its await parked, a payload stored) is answered
// with a *ConflictError naming it, and nothing changes.
func TestDisposeHookIfHookID(t *testing.T) {
	t.Parallel()
	c, db, _, table := testClient(t)
	ctx := context.Background()
	token := "dispose-id-" + suffix()
	old, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Dispose(ctx, token, execA); err != nil {
		t.Fatal(err)
	}
	// The workflow's next round: the same token again, a payload stored.
	cur0, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA})
	if err != nil {
		t.Fatal(err)
	}
	if cur0.HookID == old.HookID {
		t.Fatalf("re-created hook has the old hook id %s", old.HookID)
	}
	if _, err := c.ResumeHook(ctx, token, "stored"); err != nil {
		t.Fatal(err)
	}
	var conflict *hooks.ConflictError
	err = c.DisposeHook(ctx, token, execA, hooks.IfHookID(old.HookID))
	if !errors.As(err, &conflict) || conflict.HookID != cur0.HookID || conflict.ExecutionARN != execA || !errors.Is(err, hooks.ErrConflict) {
		t.Fatalf("dispose of the old hook id: %v, want *ConflictError naming hook %s", err, cur0.HookID)
	}
	if hook, msgs := hookItems(t, db, table, token); hook == nil || !reflect.DeepEqual(msgs, []string{`"stored"`}) {
		t.Fatalf("a refused dispose changed the new hook: item %v, stored %q", hook != nil, msgs)
	}
	// An await parked on a new hook (a task token Step Functions never
	// issued: telling it would fail the dispose) is not told either.
	token3 := "dispose-id3-" + suffix()
	old3, err := c.Register(ctx, hooks.RegisterInput{Token: token3, ExecutionARN: execA})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Dispose(ctx, token3, execA); err != nil {
		t.Fatal(err)
	}
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token3, ExecutionARN: execA}, TaskToken: "T-new"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DisposeHook(ctx, token3, execA, hooks.IfHookID(old3.HookID)); !errors.As(err, &conflict) {
		t.Fatalf("dispose of the old hook id, an await parked on the new: %v, want *ConflictError", err)
	}
	hook, _ := hookItems(t, db, table, token3)
	if w, _ := hook["waiter"].(*types.AttributeValueMemberS); w == nil || w.Value != "T-new" {
		t.Fatalf("a refused dispose touched the new hook's waiter: %v", hook["waiter"])
	}
	if err := c.DisposeHook(ctx, token, execA, hooks.IfHookID(strings.Repeat("x", 129))); !errors.Is(err, hooks.ErrInvalidRequest) {
		t.Errorf("a 129-byte hook id: %v, want ErrInvalidRequest", err)
	}
	// Named by its own id a hook is disposed, with what it stored (a
	// hook of its own: the one above has a made-up waiter to tell).
	token = "dispose-id2-" + suffix()
	cur, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, token, "kept"); err != nil {
		t.Fatal(err)
	}
	if err := c.DisposeHook(ctx, token, execA, hooks.IfHookID(cur.HookID)); err != nil {
		t.Fatalf("dispose by the current hook id: %v", err)
	}
	if hook, msgs := hookItems(t, db, table, token); hook != nil || len(msgs) != 0 {
		t.Errorf("after the dispose: hook item %v, stored %q; want neither", hook, msgs)
	}
	// Gone is success, whatever the id.
	if err := c.DisposeHook(ctx, token, execA, hooks.IfHookID(cur.HookID)); err != nil {
		t.Errorf("second dispose: %v, want nil", err)
	}
}

// hookItems reads the items of token as docs/protocol.md lays them out:
// the hook item (pk HOOK#<token>, sk HOOK; nil when absent) and the
// payloads stored for its current hookId (sk MSG#<hookId>#<seq>), in
// sequence order.
func hookItems(tb testing.TB, db *dynamodb.Client, table, token string) (hook map[string]types.AttributeValue, payloads []string) {
	tb.Helper()
	out, err := db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 &table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "HOOK#" + token}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		tb.Fatal(err)
	}
	str := func(item map[string]types.AttributeValue, k string) string {
		v, _ := item[k].(*types.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	for _, item := range out.Items { // sorted by sk: HOOK sorts before MSG#…
		switch sk := str(item, "sk"); {
		case sk == "HOOK":
			hook = item
		case strings.HasPrefix(sk, "MSG#"):
			if hook == nil || !strings.HasPrefix(sk, "MSG#"+str(hook, "hookId")+"#") {
				tb.Errorf("stored payload %s does not belong to the hook item %v", sk, hook)
			}
			payloads = append(payloads, str(item, "payload"))
		}
	}
	return hook, payloads
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
