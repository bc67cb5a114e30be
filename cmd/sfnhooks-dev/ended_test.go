package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// make dev disposes the hooks of every execution that ends on its stack,
// not only the examples': one of a state machine given with -asl (started
// through the dev route), and one of a state machine created in moto by
// hand after make dev started. Each creates a hook and ends without
// disposing it.
func TestDevDisposesEveryEndedExecution(t *testing.T) {
	api := devServer(t, "testdata/mine.asl.json")
	stk := stacktest.RequireStack(t)
	ctx := context.Background()
	sf := sfn.NewFromConfig(devstack.AWSConfig(stk.MotoURL.String()))
	client, err := hooks.New(devstack.AWSConfig(stk.MotoURL.String()), func(o *hooks.Options) { o.TableName = tableName })
	if err != nil {
		t.Fatal(err)
	}
	id := strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")

	// -asl: created with the hook-task ARN substituted, started by the dev route.
	status, body := call(t, "POST", api+"/dev/executions/mine", `{"id":"asl-`+id+`"}`)
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("start the -asl state machine: %d %s", status, body)
	}
	// By hand, after make dev started: no example, not given with -asl.
	def, err := os.ReadFile("testdata/mine.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	hookTaskARN := "arn:aws:lambda:" + devstack.DefaultRegion + ":" + devstack.DefaultAccountID + ":function:" + hookTaskName
	sm, err := sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String("by-hand-" + id),
		Definition: aws.String(strings.ReplaceAll(string(def), "${HookTaskFunctionArn}", hookTaskARN)),
		RoleArn:    aws.String("arn:aws:iam::" + devstack.DefaultAccountID + ":role/by-hand"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"id":"hand-` + id + `"}`)}); err != nil {
		t.Fatal(err)
	}

	// Both at once: each hook lives about 3 s (its Wait state).
	tokens := []string{"mine-asl-" + id, "mine-hand-" + id}
	created, disposed := map[string]bool{}, map[string]bool{}
	for deadline := time.Now().Add(40 * time.Second); len(disposed) < len(tokens); time.Sleep(100 * time.Millisecond) {
		for _, token := range tokens {
			_, err := client.GetHook(ctx, token)
			switch {
			case err == nil:
				created[token] = true
			case errors.Is(err, hooks.ErrHookNotFound) && created[token]:
				disposed[token] = true // created, then disposed when its execution ended
			case !errors.Is(err, hooks.ErrHookNotFound):
				t.Fatal(err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("40 s after the executions started: created %v, disposed %v; want both of %q created and disposed", created, disposed, tokens)
		}
	}
	var st struct {
		Status string `json:"status"`
	}
	if status, body = call(t, "GET", api+"/dev/executions/mine/latest", ""); json.Unmarshal(body, &st) != nil || st.Status != "SUCCEEDED" {
		t.Errorf("the -asl execution: %d %s, want SUCCEEDED", status, body)
	}
}

// make dev substitutes the examples' ${AwaitTimeoutSeconds} (here from
// SFNHOOKS_AWAIT_TIMEOUT_SECONDS): the approval example's await times out,
// its Catch disposes the hook, and the execution says so.
func TestDevExampleTimeout(t *testing.T) {
	t.Setenv("SFNHOOKS_AWAIT_TIMEOUT_SECONDS", "2")
	api := devServer(t)
	order := "timeout-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	status, body := call(t, "POST", api+"/dev/executions/approval", `{"orderId":"`+order+`"}`)
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("start: %d %s", status, body)
	}
	var out struct {
		Status string `json:"status"`
		Output struct {
			Outcome string `json:"outcome"`
		} `json:"output"`
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		status, body = call(t, "GET", api+"/dev/executions/approval/latest", "")
		if json.Unmarshal(body, &out) == nil && out.Status != "RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the approval execution still runs 30 s after a 2 s timeout: %d %s", status, body)
		}
	}
	if out.Status != "SUCCEEDED" || out.Output.Outcome != "timed out" {
		t.Fatalf("the approval execution: %s, want SUCCEEDED with outcome \"timed out\"", body)
	}
	if status, body = call(t, "GET", api+"/hooks/approval-"+order, ""); status != http.StatusNotFound {
		t.Errorf("the hook after the timeout: %d %s, want 404 (disposed)", status, body)
	}
}
