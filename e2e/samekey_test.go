package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// awsTaskAnswers gives SendTaskSuccess AWS's answer for a task token that
// was already completed: TaskTimedOut ("Provided task does not exist
// anymore"). moto 5.2.5 accepts such a call silently while the execution
// runs (internal/testbench/devstack doc, (d)), so without this the emulator cannot
// show what a second completion does. The first call is delayed by
// slowFirst, as a slow network or Lambda may delay it.
type awsTaskAnswers struct {
	hooks.StepFunctionsAPI
	slowFirst time.Duration

	mu    sync.Mutex
	calls int
	done  map[string]bool
}

func (a *awsTaskAnswers) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, o ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	a.mu.Lock()
	a.calls++
	first := a.calls == 1
	a.mu.Unlock()
	if first {
		time.Sleep(a.slowFirst)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done[aws.ToString(in.TaskToken)] {
		return nil, &sfntypes.TaskTimedOut{Message: aws.String("Provided task does not exist anymore")}
	}
	out, err := a.StepFunctionsAPI.SendTaskSuccess(ctx, in, o...)
	if err == nil {
		a.done[aws.ToString(in.TaskToken)] = true
	}
	return out, err
}

// TestConcurrentSameKeyDeliversOnce: two resumes with the same idempotency
// key and payload, the second started while the first's SendTaskSuccess is
// still on its way. If the second replayed and resent the first's delivery
// at once, it would complete the task; the first would then get
// TaskTimedOut, take the task for one that never got the payload, and
// requeue it, so the next await would receive it again.
//
// Found by the stress test's design review (issue 5): the execution
// received [{"n":1} {"n":1}]. Now the replay sends the delivery at once
// (its resumer may have died), and whichever send loses gets a closed-task
// answer that is settled from the execution's history as delivered, so it
// is not requeued (docs/protocol.md, "Delivery").
func TestConcurrentSameKeyDeliversOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stk, _ := stacktest.Bridge(t)
	cfg := devstack.AWSConfig(stk.BridgeURL().String())
	tasks := &awsTaskAnswers{StepFunctionsAPI: sfn.NewFromConfig(cfg), slowFirst: time.Second, done: map[string]bool{}}
	resumer, err := hooks.New(cfg, func(o *hooks.Options) { o.TableName = e.table; o.StepFunctions = tasks })
	if err != nil {
		t.Fatal(err)
	}
	token := "samekey-" + randomSuffix()
	arn := e.start("collect", map[string]any{"token": token, "count": 2, "pauseSeconds": 0})
	e.waiting(token)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 300 * time.Millisecond)
			if _, err := resumer.ResumeHook(context.Background(), token, json.RawMessage(`{"n":1}`), hooks.WithIdempotencyKey("k1")); err != nil {
				t.Errorf("resume %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	// Not found when the execution already took its two payloads (the bug).
	if _, err := resumer.ResumeHook(context.Background(), token, json.RawMessage(`{"n":2}`)); err != nil && !errors.Is(err, hooks.ErrHookNotFound) {
		t.Fatal(err)
	}
	var out collectOutput
	e.succeeded(arn, &out)
	if len(out.Received) != 2 || string(out.Received[0]) != `{"n":1}` || string(out.Received[1]) != `{"n":2}` {
		t.Errorf("received %s, want [{\"n\":1} {\"n\":2}]: the key's payload was delivered more than once", out.Received)
	}
}
