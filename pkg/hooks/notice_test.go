package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Issue 20, defects 1 to 3: a task token parked on a hook must end up
// completed or failed. A write that drops a waiter (an await's A1 or A3, a
// dispose) must have told it first, so that neither a repeated write (its
// answer lost and resent by the SDK, or the invocation retried after a
// crash) nor a delivery whose send failed leaves a task waiting for ever
// (docs/protocol.md, "Telling a dropped waiter").
//
// Step Functions is faults.Tasks: moto accepts a closed task's token
// silently, and these tests must see which tasks were completed or failed,
// and with what. moto never loses an answer: faults.LoseAnswer does, on the
// wire, so that the SDK's retryer resends the applied write. "Throttled past
// the SDK's retries" is the injector answering ThrottlingException, as the
// SDK does once its retries are spent.

// lossyClient is a client on table whose DynamoDB requests selected by
// match are applied and then lose their answer once (the SDK resends them).
func lossyClient(t *testing.T, table string, tasks *faults.Tasks, match func(target string) bool) (*hooks.Client, *faults.LoseAnswer) {
	t.Helper()
	cfg := devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String())
	lose := &faults.LoseAnswer{Inner: cfg.HTTPClient, Match: match}
	if lose.Inner == nil {
		lose.Inner = awshttp.NewBuildableClient()
	}
	cfg.HTTPClient = lose
	c, err := hooks.New(cfg, func(o *hooks.Options) { o.TableName = table; o.StepFunctions = tasks })
	if err != nil {
		t.Fatal(err)
	}
	return c, lose
}

func op(name string) func(target string) bool {
	return func(target string) bool { return strings.HasSuffix(target, "."+name) }
}

// wantFailed requires task to have been failed with errName.
func wantFailed(t *testing.T, tasks *faults.Tasks, task, errName string) {
	t.Helper()
	got, _, failed := tasks.Failure(task)
	if out, ok := tasks.Output(task); ok {
		t.Fatalf("%s completed with %s, want it failed with %s", task, out, errName)
	}
	if !failed {
		t.Fatalf("%s was neither completed nor failed: it would wait for ever (want %s)", task, errName)
	}
	if got != errName {
		t.Fatalf("%s failed with %s, want %s", task, got, errName)
	}
}

func awaitOf(token, task string) hooks.AwaitInput {
	return hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: task}
}

// Defect 1: a dispose whose DeleteItem was applied and repeated (its answer
// lost and resent by the SDK, or the dispose retried after its Lambda died)
// must still fail the await parked on the hook: the repeat finds no item.
func TestRepeatedDisposeFailsParkedAwait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("answer lost and resent", func(t *testing.T) {
		t.Parallel()
		inj, tasks := faults.New(), faults.NewTasks()
		c, _, table := guaranteeClient(t, inj, tasks)
		token := "dispose-lost-" + suffix()
		mustAwait(t, c, token, "T1")
		d, lose := lossyClient(t, table, tasks, op("DeleteItem"))
		if err := d.Dispose(ctx, token, execA); err != nil {
			t.Fatalf("dispose: %v", err)
		}
		if lose.Lost() == 0 {
			t.Fatal("no DeleteItem answer was lost: the fault did not happen")
		}
		wantFailed(t, tasks, "T1", hooks.ErrorNameDisposed)
		if _, err := c.GetHook(ctx, token); !errors.Is(err, hooks.ErrHookNotFound) {
			t.Fatalf("hook after dispose: %v, want ErrHookNotFound", err)
		}
	})
	t.Run("retried after a crash", func(t *testing.T) {
		t.Parallel()
		inj, tasks := faults.New(), faults.NewTasks()
		c, _, _ := guaranteeClient(t, inj, tasks)
		for n := 1; ; n++ {
			token := "dispose-crash-" + suffix()
			task := "T" + token
			mustAwait(t, c, token, task)
			inj.CrashAt(n, faults.After)
			crash := faults.Recover(func() { _ = c.Dispose(ctx, token, execA) })
			ops := inj.Ops()
			inj.Reset()
			if crash == nil {
				if n == 1 {
					t.Fatal("the dispose made no AWS call")
				}
				break // past the dispose's last call
			}
			if err := c.Dispose(ctx, token, execA); err != nil {
				t.Fatalf("dispose retried after a crash after %s: %v", crash, err)
			}
			t.Logf("crash after call %d of %v", n, ops)
			wantFailed(t, tasks, task, hooks.ErrorNameDisposed)
		}
	})
}

// Defect 2: an await A1 that replaced a parked await and is repeated (its
// answer lost and resent, or its invocation retried after a crash, with
// the same task token or a new one) must still fail the replaced await
// with HookAwaitSupersededError: the repeat's ALL_OLD names itself.
func TestRepeatedAwaitFailsSupersededWaiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("answer lost and resent", func(t *testing.T) {
		t.Parallel()
		inj, tasks := faults.New(), faults.NewTasks()
		c, _, table := guaranteeClient(t, inj, tasks)
		token := "await-lost-" + suffix()
		mustAwait(t, c, token, "T1")
		a, lose := lossyClient(t, table, tasks, op("UpdateItem"))
		if err := a.Await(ctx, awaitOf(token, "T2")); err != nil {
			t.Fatalf("await T2: %v", err)
		}
		if lose.Lost() == 0 {
			t.Fatal("no UpdateItem answer was lost: the fault did not happen")
		}
		wantFailed(t, tasks, "T1", hooks.ErrorNameSuperseded)
		if st, err := c.GetHook(ctx, token); err != nil || !st.Waiting {
			t.Fatalf("hook after await T2: %+v, %v; want T2 parked", st, err)
		}
	})
	for _, retry := range []string{"same token", "new token"} {
		t.Run("retried after a crash, "+retry, func(t *testing.T) {
			t.Parallel()
			inj, tasks := faults.New(), faults.NewTasks()
			c, _, _ := guaranteeClient(t, inj, tasks)
			for n := 1; ; n++ {
				token := "await-crash-" + suffix()
				t1, t2 := "T1"+token, "T2"+token
				mustAwait(t, c, token, t1)
				inj.CrashAt(n, faults.After)
				crash := faults.Recover(func() { _ = c.Await(ctx, awaitOf(token, t2)) })
				ops := inj.Ops()
				inj.Reset()
				if crash == nil {
					if n == 1 {
						t.Fatal("the await made no AWS call")
					}
					break
				}
				again := t2
				if retry == "new token" {
					again = "T3" + token // Step Functions' Retry may start the task with a new token
				}
				if err := c.Await(ctx, awaitOf(token, again)); err != nil {
					t.Fatalf("await retried after a crash after %s: %v", crash, err)
				}
				t.Logf("crash after call %d of %v", n, ops)
				wantFailed(t, tasks, t1, hooks.ErrorNameSuperseded)
			}
		})
	}
}

// unsentDelivery parks T1 on a new hook and resumes it with p while
// SendTaskSuccess is throttled past the SDK's retries: R1 is applied (T1's
// delivery is in flight), the send is not, and the resume answers 500.
func unsentDelivery(t *testing.T, c *hooks.Client, inj *faults.Injector, tasks *faults.Tasks, token, p string, opts ...hooks.ResumeOption) {
	t.Helper()
	mustAwait(t, c, token, "T1")
	inj.FailWith(func(call faults.Call) error {
		if call.Op == "SFN.SendTaskSuccess" {
			return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
		}
		return nil
	})
	_, err := c.ResumeHook(context.Background(), token, json.RawMessage(p), opts...)
	inj.Reset()
	if err == nil || hooks.ErrorFor(err).Status != 500 {
		t.Fatalf("resume with SendTaskSuccess throttled: %v, want a 500 (outcome unknown)", err)
	}
	if _, ok := tasks.Output("T1"); ok {
		t.Fatal("T1 completed: the throttled send went through")
	}
	if _, _, ok := tasks.Failure("T1"); ok {
		t.Fatal("T1 failed before the test began")
	}
}

// Defect 3: a delivery left unsent (R1 applied, SendTaskSuccess throttled
// past the SDK's retries) is dropped by a second, concurrent await of the
// hook (Parallel or Map branches: its A1 or A3 replaces the record) or by a
// dispose. The task it names must be failed, not left waiting for ever.
func TestUnsentDeliveryIsNotOrphaned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, c *hooks.Client, inj *faults.Injector, tasks *faults.Tasks, token string)
	}{
		{"a concurrent await parks (A1)", func(t *testing.T, c *hooks.Client, inj *faults.Injector, tasks *faults.Tasks, token string) {
			unsentDelivery(t, c, inj, tasks, token, `{"p":1}`)
			mustAwait(t, c, token, "T2")
			wantFailed(t, tasks, "T1", hooks.ErrorNameSuperseded)
			if st, err := c.GetHook(ctx, token); err != nil || !st.Waiting || st.Pending != 0 {
				t.Fatalf("hook: %+v, %v; want T2 parked, nothing pending", st, err)
			}
		}},
		{"a concurrent await takes a stored payload (A3)", func(t *testing.T, c *hooks.Client, inj *faults.Injector, tasks *faults.Tasks, token string) {
			unsentDelivery(t, c, inj, tasks, token, `{"p":1}`)
			if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":2}`)); err != nil {
				t.Fatal(err)
			}
			mustAwait(t, c, token, "T2")
			if out, _ := tasks.Output("T2"); out != `{"p":2}` {
				t.Fatalf("T2 got %q, want P2", out)
			}
			wantFailed(t, tasks, "T1", hooks.ErrorNameSuperseded)
		}},
		{"dispose", func(t *testing.T, c *hooks.Client, inj *faults.Injector, tasks *faults.Tasks, token string) {
			unsentDelivery(t, c, inj, tasks, token, `{"p":1}`)
			if err := c.Dispose(ctx, token, execA); err != nil {
				t.Fatal(err)
			}
			wantFailed(t, tasks, "T1", hooks.ErrorNameDisposed)
		}},
		{"a keyed resume retried after a concurrent await", func(t *testing.T, c *hooks.Client, inj *faults.Injector, tasks *faults.Tasks, token string) {
			// The payload was acknowledged to nobody (500), and its retry
			// with the key still delivers it once: to T2.
			key := hooks.WithIdempotencyKey("k")
			unsentDelivery(t, c, inj, tasks, token, `{"p":1}`, key)
			mustAwait(t, c, token, "T2")
			if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"p":1}`), key); err != nil {
				t.Fatalf("retry with the key: %v", err)
			}
			if out, _ := tasks.Output("T2"); out != `{"p":1}` {
				t.Fatalf("T2 got %q, want P1", out)
			}
			wantFailed(t, tasks, "T1", hooks.ErrorNameSuperseded)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inj, tasks := faults.New(), faults.NewTasks()
			c, _, _ := guaranteeClient(t, inj, tasks)
			tc.run(t, c, inj, tasks, "unsent-"+suffix())
		})
	}
}
