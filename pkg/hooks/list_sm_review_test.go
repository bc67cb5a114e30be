package hooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sfnhooks/sfnhooks/internal/adapter/httpapi"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// beforeBatchGet runs a function once, before the next BatchGetItem goes
// to moto: it puts other callers' writes between a listing's index Query
// and its read of the hook items, a moment moto gives no handle on.
type beforeBatchGet struct {
	hooks.DynamoDBAPI
	mu   sync.Mutex
	once func()
}

func (d *beforeBatchGet) BatchGetItem(ctx context.Context, p *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	d.mu.Lock()
	f := d.once
	d.once = nil
	d.mu.Unlock()
	if f != nil {
		f()
	}
	return d.DynamoDBAPI.BatchGetItem(ctx, p, o...)
}

// shardOf is the byStateMachine shard of a token (list_sm.go's shardOf).
func shardOf(token string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(token))
	return h.Sum32() % hooks.ListShards
}

// A token disposed and taken by another execution of the same state
// machine between a page's index Query and its BatchGetItem: the page
// reads the new incarnation through the old incarnation's index entry
// (same smShard, so the shard check passes) and lists it; the new
// incarnation's own index entry, later in the oldest-first order, is
// listed again on a later page. One hook (token and hookId) is listed
// twice in one listing. The interleaving is injected by a wrapper around
// moto's client (moto gives no pause between two calls of one page).
func TestReviewListStateMachineReusedTokenListedTwice(t *testing.T) {
	t.Parallel()
	base := time.Now()
	var mu sync.Mutex
	var tick int64
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		tick++
		return base.Add(time.Duration(tick) * time.Millisecond)
	}
	wrap := &beforeBatchGet{DynamoDBAPI: dynamodb.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()))}
	c, _, _, _ := testClient(t, func(o *hooks.Options) { o.Now = now; o.DynamoDB = wrap })
	ctx := context.Background()
	name := "reuse-" + suffix()
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:" + name
	exec1 := "arn:aws:states:us-east-1:123456789012:execution:" + name + ":one"
	exec2 := "arn:aws:states:us-east-1:123456789012:execution:" + name + ":two"
	target := name + "-target"
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: target, ExecutionARN: exec1}); err != nil {
		t.Fatal(err)
	}
	// Five more hooks, one in target's shard (so that shard is not read
	// to its end by page 1).
	sameShard := false
	for i := 0; i < 5 || !sameShard; i++ {
		tok := fmt.Sprintf("%s-%d", name, i)
		if shardOf(tok) == shardOf(target) {
			sameShard = true
		} else if i >= 5 {
			continue
		}
		if _, err := c.Register(ctx, hooks.RegisterInput{Token: tok, ExecutionARN: exec1}); err != nil {
			t.Fatal(err)
		}
	}
	// Page 1 (oldest first, 1 a page) finds target's entry; before its
	// items are read, target is disposed and registered by exec2.
	wrap.mu.Lock()
	wrap.once = func() {
		if err := c.Dispose(ctx, target, exec1); err != nil {
			t.Error(err)
		}
		if _, err := c.Register(ctx, hooks.RegisterInput{Token: target, ExecutionARN: exec2}); err != nil {
			t.Error(err)
		}
	}
	wrap.mu.Unlock()
	seen := map[string]int{}
	in := hooks.ListStateMachineHooksInput{StateMachineARN: sm, Order: hooks.OrderOldest, Limit: 1}
	for pages := 0; ; pages++ {
		out, err := c.ListStateMachineHooks(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range out.Hooks {
			seen[h.Token+" "+h.HookID]++
			t.Logf("page %d: %s %s", pages, h.Token, h.HookID)
		}
		if out.Cursor == "" {
			break
		}
		in.Cursor = out.Cursor
		if pages > 50 {
			t.Fatal("no end")
		}
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("hook %s (token, hookId) listed %d times in one listing", k, n)
		}
	}
}

// A page of 50 hooks whose metadata is at most MaxHookDataBytes must fit
// the resume-hook function's answer to API Gateway under Lambda's 6 MB
// response payload (list_sm.go: "50 keep a page under Lambda's 6 MB
// response"). The answer is httpapi.JSON's response event as the Lambda
// runtime serializes it: json.Marshal escapes '<' as \u003c in the body,
// and the body, a string, is escaped again in the event.
func TestReviewListStateMachinePageFitsLambdaResponse(t *testing.T) {
	t.Parallel()
	c, _, _, _ := testClient(t)
	ctx := context.Background()
	name := "big-" + suffix()
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:" + name
	exec := "arn:aws:states:us-east-1:123456789012:execution:" + name + ":one"
	// A JSON string of HTML, as a workflow might keep an approval's text.
	md := []byte(`"` + strings.Repeat("<", hooks.MaxHookDataBytes-2) + `"`)
	for i := range hooks.MaxStateMachineListLimit {
		if _, err := c.Register(ctx, hooks.RegisterInput{Token: fmt.Sprintf("%s-%02d", name, i), ExecutionARN: exec, Metadata: md}); err != nil {
			t.Fatal(err)
		}
	}
	const lambdaMax = 6 * 1024 * 1024
	fits := func(what string, page any) {
		t.Helper()
		resp := httpapi.JSON(200, page)
		b, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > lambdaMax {
			t.Fatalf("%s: a %d-byte Lambda response (status %d); Lambda's limit is %d bytes: the page is a 502", what, len(b), resp.StatusCode, lambdaMax)
		}
	}
	// Every hook is listed once, over pages that each fit.
	seen := map[string]bool{}
	in := hooks.ListStateMachineHooksInput{StateMachineARN: sm, Limit: hooks.MaxStateMachineListLimit}
	for pages := 1; ; pages++ {
		out, err := c.ListStateMachineHooks(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Hooks) == 0 {
			t.Fatalf("page %d is empty", pages)
		}
		fits(fmt.Sprintf("state machine page %d of %d hooks", pages, len(out.Hooks)), out)
		for _, h := range out.Hooks {
			if seen[h.Token] {
				t.Fatalf("%s listed twice", h.Token)
			}
			seen[h.Token] = true
		}
		if out.Cursor == "" {
			break
		}
		if in.Cursor = out.Cursor; pages > hooks.MaxStateMachineListLimit {
			t.Fatal("no end")
		}
	}
	if len(seen) != hooks.MaxStateMachineListLimit {
		t.Fatalf("listed %d hooks, want %d", len(seen), hooks.MaxStateMachineListLimit)
	}
	// The same for the execution's listing (ListHooks, 100 a page).
	clear(seen)
	lin := hooks.ListHooksInput{ExecutionARN: exec}
	for pages := 1; ; pages++ {
		out, err := c.ListHooks(ctx, lin)
		if err != nil {
			t.Fatal(err)
		}
		fits(fmt.Sprintf("execution page %d of %d hooks", pages, len(out.Hooks)), out)
		for _, h := range out.Hooks {
			if seen[h.Token] {
				t.Fatalf("%s listed twice by ListHooks", h.Token)
			}
			seen[h.Token] = true
		}
		if out.NextToken == "" {
			break
		}
		if lin.NextToken = out.NextToken; pages > hooks.MaxStateMachineListLimit {
			t.Fatal("no end")
		}
	}
	if len(seen) != hooks.MaxStateMachineListLimit {
		t.Fatalf("ListHooks listed %d hooks, want %d", len(seen), hooks.MaxStateMachineListLimit)
	}
}
