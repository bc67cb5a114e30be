package awsmodel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Listings with churn between pages on the model (DynamoDB's
// LastEvaluatedKey on a full page, and moto's): uneven shards (most hooks
// in few shards), limits 1 to 3, both orders, with and without a tag
// filter; between two pages hooks are created, disposed, and tokens
// disposed and taken again by another execution of the state machine.
// Every hook that lives through the whole listing and carries the tag is
// listed exactly once; no hook (token, hookId) is listed twice; a hook
// disposed before a page began is not on it.
func TestReviewListStateMachineChurn(t *testing.T) {
	for seed := range uint64(40) {
		for _, full := range []bool{false, true} {
			t.Run(fmt.Sprintf("seed%d-full%v", seed, full), func(t *testing.T) { reviewChurn(t, seed, full) })
		}
	}
}

func reviewChurn(t *testing.T, seed uint64, full bool) {
	r := rand.New(rand.NewPCG(seed, 7))
	db := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1, KeyOnFullPage: full})
	sf := NewStepFunctions(-1)
	var tick atomic.Int64
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c, err := hooks.New(aws.Config{Region: "us-east-1"}, func(o *hooks.Options) {
		o.TableName = table
		o.DynamoDB = db
		o.StepFunctions = sf
		o.Now = func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Microsecond) }
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exec := func(i int) string {
		return fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:orders:run-%d", i)
	}
	type live struct {
		exec string
		tag  string
	}
	hs := map[string]live{} // token → its execution and tag now
	n := 0
	create := func() string {
		n++
		tok := fmt.Sprintf("t-%d", n)
		// Uneven: 3 in 4 tokens are drawn until one lands in shards 0-1.
		if r.IntN(4) > 0 {
			for k := 0; shardOfTok(tok) > 1; k++ {
				tok = fmt.Sprintf("t-%d-%d", n, k)
			}
		}
		tag := fmt.Sprintf("k:%d", r.IntN(3))
		e := exec(r.IntN(3))
		if _, err := c.Register(ctx, hooks.RegisterInput{Token: tok, ExecutionARN: e, Tags: []string{tag}}); err != nil {
			t.Fatal(err)
		}
		hs[tok] = live{e, tag}
		return tok
	}
	for range 20 + r.IntN(30) {
		create()
	}
	order := []hooks.Order{hooks.OrderNewest, hooks.OrderOldest}[r.IntN(2)]
	tag := ""
	if r.IntN(2) == 0 {
		tag = "k:1"
	}
	in := hooks.ListStateMachineHooksInput{StateMachineARN: listSM, Order: order, Tag: tag, Limit: 1 + r.IntN(3)}
	initial := map[string]live{}
	for k, v := range hs {
		initial[k] = v
	}
	touched := map[string]bool{} // disposed or retaken during the listing
	seen := map[string]int{}
	listed := map[string]int{}
	for pages := 0; ; pages++ {
		out, err := c.ListStateMachineHooks(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range out.Hooks {
			seen[h.Token+" "+h.HookID]++
			listed[h.Token]++
			if _, ok := hs[h.Token]; !ok {
				t.Errorf("%s listed after it was disposed", h.Token)
			}
		}
		if out.Cursor == "" {
			break
		}
		in.Cursor = out.Cursor
		if pages > 1000 {
			t.Fatal("no end")
		}
		// Churn.
		for range r.IntN(4) {
			switch r.IntN(3) {
			case 0:
				create()
			case 1, 2:
				for tok, l := range hs {
					if err := c.Dispose(ctx, tok, l.exec); err != nil {
						t.Fatal(err)
					}
					delete(hs, tok)
					touched[tok] = true
					if r.IntN(2) == 0 { // taken again by another execution
						e := exec(3 + r.IntN(3))
						if _, err := c.Register(ctx, hooks.RegisterInput{Token: tok, ExecutionARN: e, Tags: []string{l.tag}}); err != nil {
							t.Fatal(err)
						}
						hs[tok] = live{e, l.tag}
					}
					break
				}
			}
		}
	}
	for k, v := range seen {
		if v > 1 {
			t.Errorf("hook %s listed %d times", k, v)
		}
	}
	for tok, l := range initial {
		if touched[tok] || (tag != "" && l.tag != tag) {
			continue
		}
		if listed[tok] != 1 {
			t.Errorf("%s (lived through the listing, order %s, tag %q, limit %d) listed %d times", tok, order, tag, in.Limit, listed[tok])
		}
	}
}

func shardOfTok(tok string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(tok); i++ {
		h ^= uint32(tok[i])
		h *= 16777619
	}
	return h % hooks.ListShards
}
