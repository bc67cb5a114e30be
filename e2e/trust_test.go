package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// hook-task is the trust boundary (issue 21): every action that names a
// token acts for the execution the request names, and only on hooks that
// execution holds. Through the real hook-task handler: without executionArn
// each action is refused (InvalidRequestError); naming another execution,
// link, respond and dispose are refused (HookConflictError) and write
// nothing. Before, a link was minted without executionArn (a public resume
// of another execution's hook with any payload) and respond answered any
// execution's held caller.
func TestHookTaskActionsTiedToExecution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stk := stacktest.RequireStack(t)
	ctx := context.Background()
	owner := "arn:aws:states:us-east-1:" + account + ":execution:m:owner-" + randomSuffix()
	other := "arn:aws:states:us-east-1:" + account + ":execution:m:other-" + randomSuffix()
	token := "tied-" + randomSuffix()
	if _, err := e.hooks.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: owner}); err != nil {
		t.Fatal(err)
	}
	wh, err := e.hooks.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: owner, RespondWith: &hooks.RespondWith{Manual: true}})
	if err != nil {
		t.Fatal(err)
	}
	before := e.itemCount()
	exec := func(arn string) string {
		if arn == "" {
			return ""
		}
		return `,"executionArn":"` + arn + `"`
	}
	for _, tc := range []struct {
		action, event string
	}{
		{"create", `{"action":"create","token":"` + token + `"%s}`},
		{"createWebhook", `{"action":"createWebhook"%s}`},
		{"await", `{"action":"await","token":"` + token + `","taskToken":"tt"%s}`},
		{"link", `{"action":"link","token":"` + token + `","payload":{"approved":true}%s}`},
		{"respond", `{"action":"respond","token":"` + wh.Token + `","requestId":"req-1","response":{"status":200,"body":"forged"}%s}`},
		{"dispose", `{"action":"dispose","token":"` + token + `"%s}`},
		{"open", `{"action":"open","token":"` + token + `","envelope":{"sfnhooks":"sealed"}%s}`},
	} {
		for _, who := range []string{"", other} {
			if who == other && (tc.action == "create" || tc.action == "createWebhook" || tc.action == "await" || tc.action == "open") {
				continue // create and await of another execution's token: HookConflictError (protocol tests); open: the envelope's context
			}
			want := "HookConflictError"
			if who == "" {
				want = "InvalidRequestError"
			}
			_, fnErr, body := invokeDirect(t, stk, e.funcName, fmt.Sprintf(tc.event, exec(who)))
			var got struct{ ErrorType, ErrorMessage string }
			if fnErr == "" || json.Unmarshal([]byte(body), &got) != nil || got.ErrorType != want {
				t.Errorf("%s with executionArn %q: function error %q body %s, want errorType %s", tc.action, who, fnErr, body, want)
			}
		}
	}
	if after := e.itemCount(); after != before {
		t.Errorf("the refused actions changed the table: %d items, then %d", before, after)
	}
	if st, err := e.hooks.GetHook(ctx, token); err != nil || st.ExecutionARN != owner {
		t.Errorf("the owner's hook after the refused actions: %+v %v", st, err)
	}
	// The owner itself may do all of it.
	for _, ev := range []string{
		`{"action":"link","token":"` + token + `","payload":{"approved":true},"executionArn":"` + owner + `"}`,
		`{"action":"respond","token":"` + wh.Token + `","requestId":"req-1","response":{"status":200,"body":"ok"},"executionArn":"` + owner + `"}`,
		`{"action":"dispose","token":"` + token + `","executionArn":"` + owner + `"}`,
	} {
		if _, fnErr, body := invokeDirect(t, stk, e.funcName, ev); fnErr != "" {
			t.Errorf("%s: %s %s, want success for the owner", ev, fnErr, body)
		}
	}
}
