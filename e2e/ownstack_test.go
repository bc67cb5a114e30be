package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/adapter/hooktask"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// ownStackMachine creates examples/own-stack/order-approval.asl.json (the state
// machine the README tells users to copy) with its 24-hour timeout set to
// timeout seconds, ${HookTaskFunctionArn} bound to e's function.
func (e *env) ownStackMachine(timeout string) string {
	e.t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "examples", "own-stack", "order-approval.asl.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	def := strings.ReplaceAll(string(raw), "86400", timeout)
	if !awaitTakesTimeout() {
		// This hook-task does not know the await's timeoutSeconds and
		// enteredTime (it refuses unknown fields): run the rest as is.
		var m struct {
			States map[string]map[string]any `json:"States"`
		}
		var whole map[string]any
		if err := json.Unmarshal([]byte(def), &m); err != nil {
			e.t.Fatal(err)
		}
		_ = json.Unmarshal([]byte(def), &whole)
		for _, st := range m.States {
			if p, ok := st["Parameters"].(map[string]any); ok {
				if pl, ok := p["Payload"].(map[string]any); ok && pl["action"] == "await" {
					delete(pl, "timeoutSeconds")
					delete(pl, "enteredTime.$")
				}
			}
		}
		whole["States"] = m.States
		b, err := json.Marshal(whole)
		if err != nil {
			e.t.Fatal(err)
		}
		def = string(b)
		e.t.Log("hook-task has no await timeoutSeconds: the definition runs without it")
	}
	fnARN := "arn:aws:lambda:" + devstack.DefaultRegion + ":" + account + ":function:" + e.funcName
	out, err := e.sfn.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name:       aws.String("own-approval-" + timeout + "-" + e.funcName),
		Definition: aws.String(strings.ReplaceAll(def, "${HookTaskFunctionArn}", fnARN)),
		RoleArn:    aws.String("arn:aws:iam::" + account + ":role/own-stack"),
	})
	if err != nil {
		e.t.Fatalf("create the own-stack state machine: %v", err)
	}
	return aws.ToString(out.StateMachineArn)
}

// awaitTakesTimeout reports whether hook-task's request has the await's
// timeoutSeconds field.
func awaitTakesTimeout() bool {
	rt := reflect.TypeFor[hooktask.Request]()
	for i := range rt.NumField() {
		if name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); name == "timeoutSeconds" {
			return true
		}
	}
	return false
}

func (e *env) startOwn(machine, orderID string) string {
	e.t.Helper()
	out, err := e.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(machine),
		Name:            aws.String("own-" + randomSuffix()),
		Input:           aws.String(`{"orderId":"` + orderID + `"}`),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.ExecutionArn)
}

// The copy-me state machine of the README: an approval resumed over the
// HTTP route ends "approved" and leaves no hook behind; one nobody answers
// times out, is disposed all the same, and ends "timed-out".
func TestOwnStackApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("approved", func(t *testing.T) {
		order := "own-" + randomSuffix()
		token := "approval-" + order
		arn := e.startOwn(e.ownStackMachine("86400"), order)
		e.waiting(token)
		if awaitTakesTimeout() {
			// The await passed its timeout: GET says until when it waits.
			if r := e.request("GET", token, "", nil); r.Status != 200 || !strings.Contains(r.Body, `"waitingUntil"`) {
				t.Errorf("GET /hooks/%s: %d %s, want the hook with waitingUntil", token, r.Status, r.Body)
			}
		}
		if r := e.post(token, `{"approved": true}`, nil); r.Status != 200 {
			t.Fatalf("POST /hooks/%s: %d %s", token, r.Status, r.Body)
		}
		var out struct {
			Outcome  string `json:"outcome"`
			Decision struct {
				Approved bool `json:"approved"`
			} `json:"decision"`
		}
		e.succeeded(arn, &out)
		if out.Outcome != "approved" || !out.Decision.Approved {
			t.Errorf("output %+v, want outcome approved with the decision", out)
		}
		if _, err := e.hooks.GetHook(context.Background(), token); !errors.Is(err, hooks.ErrHookNotFound) {
			t.Errorf("after the execution: GetHook %v, want ErrHookNotFound (disposed)", err)
		}
	})

	t.Run("timed out", func(t *testing.T) {
		order := "own-" + randomSuffix()
		token := "approval-" + order
		arn := e.startOwn(e.ownStackMachine("2"), order)
		var out struct {
			Outcome string          `json:"outcome"`
			Timeout json.RawMessage `json:"timeout"`
		}
		e.succeeded(arn, &out)
		if out.Outcome != "timed-out" || !strings.Contains(string(out.Timeout), "States.Timeout") {
			t.Errorf("output %+v, want outcome timed-out with the States.Timeout error", out)
		}
		if _, err := e.hooks.GetHook(context.Background(), token); !errors.Is(err, hooks.ErrHookNotFound) {
			t.Errorf("after the timeout: GetHook %v, want ErrHookNotFound (disposed)", err)
		}
	})
}
