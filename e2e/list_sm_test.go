package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// listSM sends GET /hooks?<query> (a state machine's listing) through the
// real resume-hook handler.
func (e *env) listSM(query map[string]string) (httpResponse, hooks.ListStateMachineHooksOutput) {
	e.t.Helper()
	ev := e.event("GET", "unused", "")
	ev.RawPath, ev.RequestContext.HTTP.Path, ev.PathParameters = "/hooks", "/hooks", nil
	ev.RouteKey, ev.RequestContext.RouteKey = "GET /hooks", "GET /hooks"
	ev.QueryStringParameters = query
	r := e.send(ev)
	var out hooks.ListStateMachineHooksOutput
	if r.Status == http.StatusOK {
		if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
			e.t.Fatalf("GET /hooks: body %s: %v", r.Body, err)
		}
	}
	return r, out
}

// listSMAll follows the cursor to the end and returns the tokens in order.
func (e *env) listSMAll(query map[string]string) []string {
	e.t.Helper()
	var toks []string
	for pages := 0; ; pages++ {
		r, out := e.listSM(query)
		if r.Status != http.StatusOK {
			e.t.Fatalf("GET /hooks %v: %d %s", query, r.Status, r.Body)
		}
		for _, h := range out.Hooks {
			toks = append(toks, h.Token)
		}
		if out.Cursor == "" {
			return toks
		}
		query = mapsWith(query, "cursor", out.Cursor)
		if pages > 100 {
			e.t.Fatal("no end")
		}
	}
}

func mapsWith(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		if a != k {
			out[a] = b
		}
	}
	return out
}

// GET /hooks?stateMachineArn=… lists the hooks of every execution of a
// state machine on moto through the byStateMachine index (moto answers the
// sharded Query, its sort key range and the tag filter): by age both ways,
// by tag, by state, page by page; DELETE /hooks/{token}?executionArn=
// disposes one; bad parameters answer 400 InvalidRequest. A hook of a real
// execution of the approval state machine is listed under that machine.
func TestListStateMachineHooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	name := "listsm-" + randomSuffix()
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:" + name
	var created []string // creation order
	for x := range 3 {
		exec := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:%s:run-%d", name, x)
		for j := range 4 {
			tok := fmt.Sprintf("%s-%d-%d", name, x, j)
			in := hooks.RegisterInput{Token: tok, ExecutionARN: exec, Tags: []string{fmt.Sprintf("customer:c%d", j%2), "run:" + fmt.Sprint(x)},
				Metadata: json.RawMessage(`{"n":` + fmt.Sprint(j) + `}`)}
			var err error
			switch j {
			case 0: // waiting: an await parked (no Step Functions call for a first await)
				err = e.hooks.Await(ctx, hooks.AwaitInput{RegisterInput: in, TaskToken: "task-" + tok})
			case 1: // pending: a payload stored
				if _, err = e.hooks.Register(ctx, in); err == nil {
					_, err = e.hooks.ResumeHook(ctx, tok, map[string]int{"n": 1})
				}
			default:
				_, err = e.hooks.Register(ctx, in)
			}
			if err != nil {
				t.Fatal(err)
			}
			created = append(created, tok)
		}
	}
	newest := slices.Clone(created)
	slices.Reverse(newest)

	if got := e.listSMAll(map[string]string{"stateMachineArn": sm, "limit": "5"}); !slices.Equal(got, newest) {
		t.Fatalf("newest first, 5 a page:\n got %v\nwant %v", got, newest)
	}
	if got := e.listSMAll(map[string]string{"stateMachineArn": sm, "limit": "4", "order": "oldest"}); !slices.Equal(got, created) {
		t.Fatalf("oldest first, 4 a page:\n got %v\nwant %v", got, created)
	}
	pick := func(keep func(x, j int) bool) []string {
		var out []string
		for _, tok := range newest {
			var x, j int
			fmt.Sscanf(tok[len(name)+1:], "%d-%d", &x, &j)
			if keep(x, j) {
				out = append(out, tok)
			}
		}
		return out
	}
	for _, tc := range []struct {
		query map[string]string
		want  []string
	}{
		{map[string]string{"tag": "customer:c1"}, pick(func(_, j int) bool { return j%2 == 1 })},
		{map[string]string{"tag": "run:2", "limit": "1"}, pick(func(x, _ int) bool { return x == 2 })},
		{map[string]string{"state": "waiting"}, pick(func(_, j int) bool { return j == 0 })},
		{map[string]string{"state": "pending", "limit": "2"}, pick(func(_, j int) bool { return j == 1 })},
		{map[string]string{"state": "idle"}, pick(func(_, j int) bool { return j >= 2 })},
		{map[string]string{"state": "waiting", "tag": "customer:c1"}, nil},
		{map[string]string{"state": "pending", "tag": "run:0"}, []string{name + "-0-1"}},
	} {
		q := mapsWith(tc.query, "stateMachineArn", sm)
		if got := e.listSMAll(q); !slices.Equal(got, tc.want) {
			t.Errorf("%v:\n got %v\nwant %v", tc.query, got, tc.want)
		}
	}

	// An entry carries what the console shows.
	_, page := e.listSM(map[string]string{"stateMachineArn": sm, "state": "pending", "tag": "run:0"})
	if len(page.Hooks) != 1 {
		t.Fatalf("pending run:0: %+v", page.Hooks)
	}
	h := page.Hooks[0]
	if h.Pending != 1 || h.Waiting || !slices.Equal(h.Tags, []string{"customer:c1", "run:0"}) || string(h.Metadata) != `{"n":1}` || h.CreatedAt.IsZero() ||
		h.ExecutionARN != "arn:aws:states:us-east-1:123456789012:execution:"+name+":run-0" {
		t.Fatalf("entry %+v", h)
	}

	// DELETE /hooks/{token}?executionArn= disposes the hook: no longer listed.
	gone := name + "-1-3"
	del := e.event("DELETE", gone, "")
	if r := e.send(del); r.Status != http.StatusBadRequest {
		t.Fatalf("DELETE without executionArn: %d %s, want 400", r.Status, r.Body)
	}
	// Named with an execution that does not hold it: 409, nothing deleted.
	del.QueryStringParameters = map[string]string{"executionArn": "arn:aws:states:us-east-1:123456789012:execution:" + name + ":run-0"}
	if r := e.send(del); r.Status != http.StatusConflict || !jsonHas(r.Body, "HookConflict") {
		t.Fatalf("DELETE by another execution: %d %s, want 409 HookConflict", r.Status, r.Body)
	}
	if got := e.listSMAll(map[string]string{"stateMachineArn": sm}); !slices.Contains(got, gone) {
		t.Fatalf("a refused DELETE removed %s: %v", gone, got)
	}
	run1 := "arn:aws:states:us-east-1:123456789012:execution:" + name + ":run-1"
	// Named by a hook id that is not the token's hook now (the execution
	// disposed it and created the token again since the operator looked):
	// 409, nothing deleted.
	del.QueryStringParameters = map[string]string{"executionArn": run1, "hookId": "00000000000000000000000000000000"}
	if r := e.send(del); r.Status != http.StatusConflict || !jsonHas(r.Body, "HookConflict") || !strings.Contains(r.Body, "is now hook") {
		t.Fatalf("DELETE of another hook id: %d %s, want 409 HookConflict", r.Status, r.Body)
	}
	if got := e.listSMAll(map[string]string{"stateMachineArn": sm}); !slices.Contains(got, gone) {
		t.Fatalf("a DELETE of another hook id removed %s: %v", gone, got)
	}
	// By its own id (from GET /hooks/{token}), it is disposed.
	get := e.send(e.event("GET", gone, ""))
	var st struct {
		HookID string `json:"hookId"`
	}
	if err := json.Unmarshal([]byte(get.Body), &st); err != nil || st.HookID == "" {
		t.Fatalf("GET %s: %d %s", gone, get.Status, get.Body)
	}
	del.QueryStringParameters = map[string]string{"executionArn": run1, "hookId": st.HookID}
	if r := e.send(del); r.Status != http.StatusOK || r.Body != `{"disposed":true}` {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	if got := e.listSMAll(map[string]string{"stateMachineArn": sm}); slices.Contains(got, gone) || len(got) != len(created)-1 {
		t.Fatalf("after the dispose: %v", got)
	}

	// Bad parameters.
	_, first := e.listSM(map[string]string{"stateMachineArn": sm, "limit": "2"})
	for _, q := range []map[string]string{
		{"stateMachineArn": "arn:aws:states:us-east-1:123456789012:execution:" + name + ":run-0"},
		{"stateMachineArn": sm, "state": "asleep"},
		{"stateMachineArn": sm, "order": "random"},
		{"stateMachineArn": sm, "tag": "no-colon"},
		{"stateMachineArn": sm, "limit": "51"},
		{"stateMachineArn": sm, "executionArn": "arn:aws:states:us-east-1:123456789012:execution:" + name + ":run-0"},
		{"stateMachineArn": sm, "tag": "customer:c1", "cursor": first.Cursor},
	} {
		if r, _ := e.listSM(q); r.Status != http.StatusBadRequest || !jsonHas(r.Body, "InvalidRequest") {
			t.Errorf("%v: %d %s, want 400 InvalidRequest", q, r.Status, r.Body)
		}
	}

	// A real execution's hook is listed under its state machine.
	order := "listsm-" + randomSuffix()
	arn := e.start("approval", map[string]string{"orderId": order})
	e.waiting("approval-" + order)
	found := false
	for _, tok := range e.listSMAll(map[string]string{"stateMachineArn": e.machine("approval"), "state": "waiting", "limit": "50"}) {
		found = found || tok == "approval-"+order
	}
	if !found {
		t.Fatalf("the approval hook of %s is not listed under %s", arn, e.machine("approval"))
	}
}

func jsonHas(body, code string) bool {
	var v struct {
		Error string `json:"error"`
	}
	return json.Unmarshal([]byte(body), &v) == nil && v.Error == code
}
