package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// list sends GET /hooks?<query> through the real resume-hook handler.
func (e *env) list(query map[string]string) (httpResponse, hooks.ListHooksOutput) {
	e.t.Helper()
	ev := e.event("GET", "unused", "")
	ev.RawPath, ev.RequestContext.HTTP.Path, ev.PathParameters = "/hooks", "/hooks", nil
	ev.RouteKey, ev.RequestContext.RouteKey = "GET /hooks", "GET /hooks"
	ev.QueryStringParameters = query
	r := e.send(ev)
	var out hooks.ListHooksOutput
	if r.Status == http.StatusOK {
		if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
			e.t.Fatalf("GET /hooks: body %s: %v", r.Body, err)
		}
	}
	return r, out
}

// GET /hooks lists an execution's hooks through the byExecution index,
// filtered by state, page by page; bad parameters answer 400 InvalidRequest.
func TestListHooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	order := "list-" + randomSuffix()
	waitingTok := "approval-" + order
	arn := e.start("approval", map[string]string{"orderId": order})
	e.waiting(waitingTok) // a real await parked on it
	pendingTok, idleTok := "pending-"+order, "idle-"+order
	for _, tok := range []string{pendingTok, idleTok} {
		if _, err := e.hooks.Register(ctx, hooks.RegisterInput{Token: tok, ExecutionARN: arn, Metadata: json.RawMessage(`{"k":"` + tok + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.hooks.ResumeHook(ctx, pendingTok, map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	wh, err := e.hooks.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.hooks.Register(ctx, hooks.RegisterInput{Token: "elsewhere-" + order, ExecutionARN: arn + "-other"}); err != nil {
		t.Fatal(err)
	}

	tokens := func(out hooks.ListHooksOutput) []string {
		var ts []string
		for _, h := range out.Hooks {
			ts = append(ts, h.Token)
		}
		slices.Sort(ts)
		return ts
	}
	all := []string{waitingTok, idleTok, pendingTok, wh.Token}
	slices.Sort(all)
	for _, tc := range []struct {
		name, state string
		want        []string
	}{
		{"all", "", all},
		{"waiting", "waiting", []string{waitingTok}},
		{"pending", "pending", []string{pendingTok}},
	} {
		q := map[string]string{"executionArn": arn}
		if tc.state != "" {
			q["state"] = tc.state
		}
		r, out := e.list(q)
		if r.Status != http.StatusOK || !slices.Equal(tokens(out), tc.want) || out.NextToken != "" {
			t.Errorf("%q: %d %v next %q, want %v", tc.name, r.Status, tokens(out), out.NextToken, tc.want)
		}
		for _, h := range out.Hooks {
			switch h.Token {
			case wh.Token:
				if h.Kind != hooks.KindWebhook || h.URL != wh.URL || h.URL == "" {
					t.Errorf("webhook entry %+v, want kind webhook and url %q", h, wh.URL)
				}
			case pendingTok:
				if h.Pending != 1 || h.Waiting || string(h.Metadata) != `{"k":"`+pendingTok+`"}` {
					t.Errorf("pending entry %+v, want pending 1 with its metadata", h)
				}
			case waitingTok:
				if !h.Waiting || h.Pending != 0 || h.ExecutionARN != arn {
					t.Errorf("waiting entry %+v", h)
				}
			}
		}
	}

	// One hook a page: every hook exactly once, then no NextToken.
	var paged []string
	next := ""
	for page := 0; ; page++ {
		if page > len(all)+1 {
			t.Fatalf("more than %d pages", page)
		}
		q := map[string]string{"executionArn": arn, "limit": "1"}
		if next != "" {
			q["nextToken"] = next
		}
		r, out := e.list(q)
		if r.Status != http.StatusOK || len(out.Hooks) > 1 {
			t.Fatalf("page %d: %d %s", page, r.Status, r.Body)
		}
		paged = append(paged, tokens(out)...)
		if next = out.NextToken; next == "" {
			break
		}
	}
	slices.Sort(paged)
	if !slices.Equal(paged, all) {
		t.Errorf("pages listed %v, want %v", paged, all)
	}
	_, first := e.list(map[string]string{"executionArn": arn, "limit": "1"})

	for _, tc := range []struct {
		name  string
		query map[string]string
	}{
		{"no execution", map[string]string{"state": "waiting"}},
		{"unknown state", map[string]string{"executionArn": arn, "state": "asleep"}},
		{"limit zero", map[string]string{"executionArn": arn, "limit": "0"}},
		{"limit too large", map[string]string{"executionArn": arn, "limit": strconv.Itoa(hooks.MaxListLimit + 1)}},
		{"limit not a number", map[string]string{"executionArn": arn, "limit": "ten"}},
		{"garbled nextToken", map[string]string{"executionArn": arn, "nextToken": "!!not-a-token"}},
		{"another execution's nextToken", map[string]string{"executionArn": arn + "-other", "nextToken": first.NextToken}},
	} {
		r, _ := e.list(tc.query)
		if code, _ := errorBody(t, r); r.Status != http.StatusBadRequest || code != hooks.CodeInvalidRequest {
			t.Errorf("%q: %d %s, want 400 %s", tc.name, r.Status, r.Body, hooks.CodeInvalidRequest)
		}
	}

	// A disposed hook is no longer listed; the execution's approval ends it.
	if err := e.hooks.Dispose(ctx, idleTok, arn); err != nil {
		t.Fatal(err)
	}
	if _, out := e.list(map[string]string{"executionArn": arn}); slices.Contains(tokens(out), idleTok) || len(out.Hooks) != 3 {
		t.Errorf("after dispose: %v, want 3 hooks without %s", tokens(out), idleTok)
	}
	if r := e.post(waitingTok, `{"approved": true}`, nil); r.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	e.finish(arn)
}
