package hooks_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// ListStateMachineHooks on moto: 60 hooks of 3 executions (a clock that
// steps 1 ms a call, so ages differ) listed 7 and 2 a page, each once
// and in age order across the 16 shards; the tag and state filters list
// exactly their hooks; the page's calls are 16 Query + 1 BatchGetItem.
func TestListStateMachineHooksPages(t *testing.T) {
	t.Parallel()
	base := time.Now()
	var tick int64
	now := func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Millisecond) }
	c, _, calls, _ := testClient(t, func(o *hooks.Options) { o.Now = now })
	ctx := context.Background()
	name := "sm-" + suffix()
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:" + name
	var created []string
	state := map[string]hooks.State{}
	for i := range 60 {
		exec := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:%s:run-%d", name, i%3)
		tok := fmt.Sprintf("%s-%02d", name, i)
		in := hooks.RegisterInput{Token: tok, ExecutionARN: exec, Tags: []string{fmt.Sprintf("n:%d", i%4)}}
		var err error
		switch i % 5 {
		case 0:
			err = c.Await(ctx, hooks.AwaitInput{RegisterInput: in, TaskToken: "task-" + tok})
			state[tok] = hooks.StateWaiting
		case 1:
			if _, err = c.Register(ctx, in); err == nil {
				_, err = c.ResumeHook(ctx, tok, 1)
			}
			state[tok] = hooks.StatePending
		default:
			_, err = c.Register(ctx, in)
			state[tok] = hooks.StateIdle
		}
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, tok)
	}
	newest := slices.Clone(created)
	slices.Reverse(newest)

	listAll := func(in hooks.ListStateMachineHooksInput) []string {
		t.Helper()
		var got []string
		for pages := 0; ; pages++ {
			calls.Reset()
			out, err := c.ListStateMachineHooks(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if q, b := calls.Count("DynamoDB.Query"), calls.Count("DynamoDB.BatchGetItem"); pages == 0 && (q != hooks.ListShards || b > 1) {
				t.Fatalf("first page: %d Query, %d BatchGetItem; want %d and at most 1", q, b, hooks.ListShards)
			}
			if len(out.Hooks) > max(in.Limit, 1) {
				t.Fatalf("page of %d hooks, limit %d", len(out.Hooks), in.Limit)
			}
			for _, h := range out.Hooks {
				got = append(got, h.Token)
			}
			if out.Cursor == "" {
				return got
			}
			in.Cursor = out.Cursor
			if pages > 100 {
				t.Fatal("no end")
			}
		}
	}
	if got := listAll(hooks.ListStateMachineHooksInput{StateMachineARN: sm, Limit: 7}); !slices.Equal(got, newest) {
		t.Fatalf("newest first, 7 a page:\n got %v\nwant %v", got, newest)
	}
	// 2 a page: most shards hold more than a page (about 4 hooks each), so
	// a page is cut at the least advanced shard's last key read.
	if got := listAll(hooks.ListStateMachineHooksInput{StateMachineARN: sm, Limit: 2}); !slices.Equal(got, newest) {
		t.Fatalf("newest first, 2 a page:\n got %v\nwant %v", got, newest)
	}
	if got := listAll(hooks.ListStateMachineHooksInput{StateMachineARN: sm, Limit: 7, Order: hooks.OrderOldest}); !slices.Equal(got, created) {
		t.Fatalf("oldest first, 7 a page:\n got %v\nwant %v", got, created)
	}
	for _, st := range []hooks.State{hooks.StateWaiting, hooks.StatePending, hooks.StateIdle} {
		var want []string
		for _, tok := range newest {
			if state[tok] == st {
				want = append(want, tok)
			}
		}
		if got := listAll(hooks.ListStateMachineHooksInput{StateMachineARN: sm, Limit: 5, State: st}); !slices.Equal(got, want) {
			t.Errorf("state %s:\n got %v\nwant %v", st, got, want)
		}
	}
	var want []string
	for i, tok := range created {
		if i%4 == 2 {
			want = append([]string{tok}, want...)
		}
	}
	if got := listAll(hooks.ListStateMachineHooksInput{StateMachineARN: sm, Limit: 4, Tag: "n:2"}); !slices.Equal(got, want) {
		t.Errorf("tag n:2:\n got %v\nwant %v", got, want)
	}
}

// Tags: at most MaxTags of at most MaxTagBytes, key:value; refused before
// any call, naming the limit; the first create or await that gives tags
// keeps them.
func TestHookTags(t *testing.T) {
	t.Parallel()
	c, _, calls, _ := testClient(t)
	ctx := context.Background()
	exec := "arn:aws:states:us-east-1:123456789012:execution:tags:" + suffix()
	tok := "tags-" + suffix()
	many := make([]string, hooks.MaxTags+1)
	for i := range many {
		many[i] = fmt.Sprintf("k:%d", i)
	}
	calls.Reset()
	for _, tc := range []struct {
		tags []string
		want string
	}{
		{many, "11 tags"},
		{[]string{"k:" + strings.Repeat("v", hooks.MaxTagBytes-1)}, "129 bytes"},
		{[]string{"no-colon"}, "key:value"},
		{[]string{":v"}, "key:value"},
		{[]string{"k:\x00"}, "control"},
	} {
		_, err := c.Register(ctx, hooks.RegisterInput{Token: tok, ExecutionARN: exec, Tags: tc.tags})
		if !errors.Is(err, hooks.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("tags %.60q: %v, want ErrInvalidRequest naming %q", tc.tags, err, tc.want)
		}
	}
	if n := calls.Total(); n != 0 {
		t.Fatalf("refused tags made %d AWS calls", n)
	}
	full := make([]string, hooks.MaxTags)
	for i := range full {
		full[i] = fmt.Sprintf("k%d:%s", i, strings.Repeat("v", hooks.MaxTagBytes-4))
	}
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: tok, ExecutionARN: exec, Tags: append(full[:3:3], full[1])}); err != nil {
		t.Fatal(err)
	}
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: tok, ExecutionARN: exec, Tags: full}, TaskToken: "t1"}); err != nil {
		t.Fatal(err)
	}
	h, err := c.GetHook(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.Tags, full[:3]) {
		t.Fatalf("tags %v, want the create's three (deduplicated), not the await's", h.Tags)
	}
}

// A tag filter is applied by DynamoDB after a Query's Limit, so a shard can
// end its read (LastEvaluatedKey) before any tagged hook of its own while
// another shard's tagged hook is older: that page must stop at the first
// shard's frontier. Here a2 (tagged) hides behind a1 (newer, untagged) in
// one shard, and b1 (tagged, older than both) is in another: a page cut
// only at the limit lists b1 and its cursor then skips a2 for ever.
func TestListStateMachineHooksTagBehindFrontier(t *testing.T) {
	t.Parallel()
	base := time.Now()
	var tick int64
	now := func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Millisecond) }
	c, _, _, _ := testClient(t, func(o *hooks.Options) { o.Now = now })
	ctx := context.Background()
	name := "smf-" + suffix()
	sm := "arn:aws:states:us-east-1:123456789012:stateMachine:" + name
	exec := "arn:aws:states:us-east-1:123456789012:execution:" + name + ":run"
	// Tokens of two shards: a1 and a2 in one, b1 in another.
	byShard := map[int][]string{}
	for i := 0; len(byShard[hooks.ShardOf(name+"-0")]) < 2 || len(byShard) < 2; i++ {
		tok := fmt.Sprintf("%s-%d", name, i)
		byShard[hooks.ShardOf(tok)] = append(byShard[hooks.ShardOf(tok)], tok)
	}
	a := byShard[hooks.ShardOf(name+"-0")]
	a1, a2 := a[1], a[0]
	var b1 string
	for s, toks := range byShard {
		if s != hooks.ShardOf(a1) {
			b1 = toks[0]
			break
		}
	}
	for _, h := range []struct {
		tok  string
		tags []string
	}{{b1, []string{"t:x"}}, {a2, []string{"t:x"}}, {a1, []string{"t:y"}}} {
		if _, err := c.Register(ctx, hooks.RegisterInput{Token: h.tok, ExecutionARN: exec, Tags: h.tags}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	in := hooks.ListStateMachineHooksInput{StateMachineARN: sm, Limit: 1, Tag: "t:x"}
	for pages := 0; ; pages++ {
		out, err := c.ListStateMachineHooks(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range out.Hooks {
			got = append(got, h.Token)
		}
		if out.Cursor == "" {
			break
		}
		if in.Cursor = out.Cursor; pages > 20 {
			t.Fatal("no end")
		}
	}
	if want := []string{a2, b1}; !slices.Equal(got, want) {
		t.Fatalf("tag t:x, 1 a page: got %v, want %v (a1 %s untagged, newest)", got, want, a1)
	}
}
