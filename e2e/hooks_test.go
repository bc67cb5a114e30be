package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

type approvalOutput struct {
	OrderID  string          `json:"orderId"`
	Decision json.RawMessage `json:"decision"`
	Outcome  string          `json:"outcome"`
}

type collectOutput struct {
	Received []json.RawMessage `json:"received"`
}

func errorBody(t *testing.T, r httpResponse) (code, message string) {
	t.Helper()
	var body struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil || body.Error == "" || body.Message == "" {
		t.Fatalf("error body %q is not {\"error\",\"message\"}: %v", r.Body, err)
	}
	if r.Header["content-type"] != "application/json" {
		t.Errorf("content-type %q, want application/json", r.Header["content-type"])
	}
	return body.Error, body.Message
}

// (a) await, then resume: the execution succeeds with the payload, and the
// resume took the two-call fast path.
func TestApprovalAwaitThenResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	order := "a-" + randomSuffix()
	token := "approval-" + order
	arn := e.start("approval", map[string]string{"orderId": order})
	e.waiting(token)

	e.calls.Reset()
	r := e.post(token, `{"approved": true, "by": "alice"}`, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("resume: status %d body %s", r.Status, r.Body)
	}
	if got := e.calls.Total(); got != 2 {
		t.Errorf("resume with a parked await made %d AWS calls (%s), want 2", got, e.calls)
	}
	var hook hooks.Hook
	if err := json.Unmarshal([]byte(r.Body), &hook); err != nil {
		t.Fatal(err)
	}
	if hook.Token != token || hook.ExecutionARN != arn || hook.HookID == "" || hook.Kind != hooks.KindHook {
		t.Errorf("resume answered %+v, want token %q execution %q", hook, token, arn)
	}

	var out approvalOutput
	e.succeeded(arn, &out)
	if out.Outcome != "approved" || string(out.Decision) != `{"approved":true,"by":"alice"}` {
		t.Errorf("output %+v, want the payload as decision and outcome approved", out)
	}
	// The execution disposed its hook: the token is free and unknown again.
	if r := e.post(token, `{"approved": false}`, nil); r.Status != http.StatusNotFound {
		t.Errorf("resume after dispose: status %d, want 404", r.Status)
	}
}

// (b) a resume that arrives before the first await is stored and delivered
// at the await.
func TestResumeBeforeAwaitIsStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := "early-" + randomSuffix()
	const pause = 3 * time.Second
	start := time.Now() // the execution's Wait ends no earlier than start+pause
	arn := e.start("collect", map[string]any{"token": token, "count": 1, "pauseSeconds": int(pause / time.Second)})
	e.waitFor("the hook to be created", func() bool {
		_, err := e.hooks.GetHook(context.Background(), token)
		return err == nil
	})
	if r := e.post(token, `{"n": 1}`, nil); r.Status != http.StatusOK {
		t.Fatalf("resume: status %d body %s", r.Status, r.Body)
	}
	st, err := e.hooks.GetHook(context.Background(), token)
	inPause := time.Since(start) < pause
	switch {
	case err == nil && !st.Waiting && st.Pending == 1: // stored, not delivered yet
	case inPause:
		t.Fatalf("after an early resume: %+v, %v; want the hook not waiting, 1 pending (the execution is still in its Wait state)", st, err)
	default: // not evidence: a loaded machine got here after the Wait state
		t.Logf("inconclusive: the hook was read back %s after the start, past the workflow's %s pause (%+v, %v); checking the delivery only", time.Since(start), pause, st, err)
	}
	var out collectOutput
	e.succeeded(arn, &out)
	if len(out.Received) != 1 || string(out.Received[0]) != `{"n":1}` {
		t.Errorf("received %s, want [{\"n\":1}]", out.Received)
	}
}

// (c) a loop awaiting the same hook three times receives three payloads, in
// the order they were acknowledged, whether each found the await parked or not.
func TestLoopReceivesPayloadsInOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := "loop-" + randomSuffix()
	arn := e.start("collect", map[string]any{"token": token, "count": 3, "pauseSeconds": 0})
	e.waiting(token)
	for i := 1; i <= 3; i++ {
		if r := e.post(token, fmt.Sprintf(`{"n": %d}`, i), nil); r.Status != http.StatusOK {
			t.Fatalf("resume %d: status %d body %s", i, r.Status, r.Body)
		}
	}
	var out collectOutput
	e.succeeded(arn, &out)
	var got []string
	for _, p := range out.Received {
		got = append(got, string(p))
	}
	want := []string{`{"n":1}`, `{"n":2}`, `{"n":3}`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("received %v, want %v", got, want)
	}
}

// (d) a second execution awaiting a token that a live execution holds fails
// with HookConflictError (caught by the state machine); the holder is not
// disturbed.
func TestConflictingExecutionFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	order := "d-" + randomSuffix()
	token := "approval-" + order
	first := e.start("approval", map[string]string{"orderId": order})
	e.waiting(token)

	second := e.start("approval", map[string]string{"orderId": order})
	out := e.finish(second)
	if out.Status != "FAILED" || aws.ToString(out.Error) != hooks.ErrorNameConflict {
		t.Fatalf("second execution: status %s error %q, want FAILED %q", out.Status, aws.ToString(out.Error), hooks.ErrorNameConflict)
	}

	r := e.post(token, `{"approved": false}`, nil)
	var hook hooks.Hook
	if err := json.Unmarshal([]byte(r.Body), &hook); err != nil || r.Status != http.StatusOK || hook.ExecutionARN != first {
		t.Fatalf("resume: status %d body %s, want 200 naming the first execution", r.Status, r.Body)
	}
	var res approvalOutput
	e.succeeded(first, &res)
	if res.Outcome != "rejected" {
		t.Errorf("first execution outcome %q, want rejected", res.Outcome)
	}
}

// The conflict error from Register names the holding execution.
func TestRegisterConflictNamesHolder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	token := "held-" + randomSuffix()
	if _, err := e.hooks.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: "arn:exec:one"}); err != nil {
		t.Fatal(err)
	}
	again, err := e.hooks.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: "arn:exec:one"})
	if err != nil {
		t.Fatalf("same execution registering again: %v, want the hook", err)
	}
	_, err = e.hooks.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: "arn:exec:two"})
	var conflict *hooks.ConflictError
	if !errors.As(err, &conflict) || conflict.ExecutionARN != "arn:exec:one" || !errors.Is(err, hooks.ErrConflict) {
		t.Fatalf("other execution registering: %v, want *ConflictError naming arn:exec:one", err)
	}
	if st, err := e.hooks.GetHook(ctx, token); err != nil || st.HookID != again.HookID || st.ExecutionARN != "arn:exec:one" {
		t.Errorf("after the refused registration: %+v %v, want the first hook unchanged", st, err)
	}
}

// (e) resuming an unknown token answers 404 with a JSON error and writes
// nothing.
func TestUnknownTokenIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := "nobody-" + randomSuffix()
	for _, method := range []string{"POST", "GET"} {
		r := e.request(method, token, `{"approved": true}`, map[string]string{"Idempotency-Key": "k1"})
		if r.Status != http.StatusNotFound {
			t.Fatalf("%s unknown token: status %d body %s, want 404", method, r.Status, r.Body)
		}
		if code, _ := errorBody(t, r); code != hooks.CodeHookNotFound {
			t.Errorf("%s error code %q, want %q", method, code, hooks.CodeHookNotFound)
		}
	}
	if n := e.itemCount(); n != 0 {
		t.Errorf("table holds %d items after 404s, want 0", n)
	}
}

// (f) an idempotency key: the same key and payload are applied once and
// answered alike; the same key with another payload is refused with 422 and
// changes nothing.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := "idem-" + randomSuffix()
	arn := e.start("collect", map[string]any{"token": token, "count": 2, "pauseSeconds": 0})
	e.waiting(token)
	key := map[string]string{"Idempotency-Key": "order-42-approval"}

	first := e.post(token, `{"n": 1}`, key)
	replay := e.post(token, `{ "n" : 1 }`, key) // same JSON value, other spacing
	if first.Status != http.StatusOK || replay.Status != http.StatusOK || first.Body != replay.Body {
		t.Fatalf("first %d %s / replay %d %s, want two identical 200s", first.Status, first.Body, replay.Status, replay.Body)
	}
	before := e.items(token)
	mismatch := e.post(token, `{"n": 99}`, key)
	if mismatch.Status != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other payload: status %d body %s, want 422", mismatch.Status, mismatch.Body)
	}
	if code, _ := errorBody(t, mismatch); code != hooks.CodeIdempotencyMismatch {
		t.Errorf("error code %q, want %q", code, hooks.CodeIdempotencyMismatch)
	}
	if after := e.items(token); !reflect.DeepEqual(before, after) {
		t.Errorf("the refused resume changed the table:\nbefore %v\nafter  %v", before, after)
	}
	if r := e.post(token, `{"n": 2}`, nil); r.Status != http.StatusOK {
		t.Fatalf("second payload: %d %s", r.Status, r.Body)
	}
	var out collectOutput
	e.succeeded(arn, &out)
	if len(out.Received) != 2 || string(out.Received[0]) != `{"n":1}` || string(out.Received[1]) != `{"n":2}` {
		t.Errorf("received %s, want [{\"n\":1} {\"n\":2}]: the replay must not be delivered again", out.Received)
	}
}

// (g) a token is free again once the execution that held it disposed it.
func TestTokenReusedAfterDispose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	order := "g-" + randomSuffix()
	token := "approval-" + order

	first := e.start("approval", map[string]string{"orderId": order})
	e.waiting(token)
	firstHook, err := e.hooks.GetHook(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.post(token, `{"approved": true}`, nil); r.Status != http.StatusOK {
		t.Fatalf("resume first: %d %s", r.Status, r.Body)
	}
	var out approvalOutput
	e.succeeded(first, &out)
	if r := e.post(token, `{"approved": true}`, nil); r.Status != http.StatusNotFound {
		t.Fatalf("resume between executions: %d %s, want 404", r.Status, r.Body)
	}

	second := e.start("approval", map[string]string{"orderId": order})
	e.waiting(token)
	st, err := e.hooks.GetHook(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if st.ExecutionARN != second || st.HookID == firstHook.HookID {
		t.Errorf("reused token: execution %s hookId %s, want %s and a new hook id", st.ExecutionARN, st.HookID, second)
	}
	// The first hook, resumed by value, is gone even though its token lives.
	if _, err := e.hooks.Resume(context.Background(), &firstHook.Hook, map[string]bool{"approved": true}); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Errorf("Resume(old hook): %v, want ErrHookNotFound", err)
	}
	if r := e.post(token, `{"approved": false}`, nil); r.Status != http.StatusOK {
		t.Fatalf("resume second: %d %s", r.Status, r.Body)
	}
	e.succeeded(second, &out)
	if out.Outcome != "rejected" {
		t.Errorf("second execution outcome %q, want rejected", out.Outcome)
	}
}
