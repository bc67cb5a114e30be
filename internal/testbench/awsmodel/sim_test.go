package awsmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// What a deterministic simulator needs from the model: it runs inside a
// testing/synctest bubble, where time only moves when every goroutine
// waits, so these tests measure the model's sleeps exactly.

// TestNoLatency: Config.Latency < 0 means no sleep at all, and no
// transaction hold: a transaction's write is visible, and its item free,
// the moment it answers. The default (0) still costs 5ms a call.
func TestNoLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1})
		start := time.Now()
		if err := put(ctx, d, mkItem("p", "a", "v", 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.TransactWriteItems(ctx, txSet(key("p", "a"), "v", 1, mkItem("p", "b"))); err != nil {
			t.Fatal(err)
		}
		if err := set(ctx, d, key("p", "a"), "w", 1, ""); err != nil {
			t.Errorf("a write right after the transaction: %v, want the item free (no hold)", err)
		}
		if got := numAttr(getItem(t, ctx, d, key("p", "a")), "v"); got != "1" {
			t.Errorf("after the transaction answered: v = %s, want 1", got)
		}
		if el := time.Since(start); el != 0 {
			t.Errorf("five calls with Latency < 0 took %v of fake time, want 0", el)
		}

		def := NewDynamoDB(Config{PartitionWCU: -1, PartitionRCU: -1})
		start = time.Now()
		if err := put(ctx, def, mkItem("p", "a")); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el != 5*time.Millisecond {
			t.Errorf("a call with the default latency took %v, want 5ms", el)
		}
	})
}

// TestRetryJitterSeeded: with Config.Rand the SDK retries' backoff is
// drawn from it, so two runs with the same seed take the same (fake) time,
// and the global source is not touched.
func TestRetryJitterSeeded(t *testing.T) {
	run := func(seed uint64) (el time.Duration) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			d := NewDynamoDB(Config{Latency: -1, PartitionWCU: 1, PartitionRCU: -1, SDKRetries: true, Rand: rand.New(rand.NewPCG(seed, 0))})
			if err := put(ctx, d, mkItem("p", "a")); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			// The bucket is empty: throttled, retried after rand·2 s,
			// by which time it holds a unit again only if rand·2 ≥ 1.
			err := put(ctx, d, mkItem("p", "b"))
			var pt *types.ProvisionedThroughputExceededException
			if err != nil && !errors.As(err, &pt) {
				t.Fatal(err)
			}
			el = time.Since(start)
		})
		return el
	}
	a, b, c := run(1), run(1), run(2)
	if a != b {
		t.Errorf("same seed: %v then %v, want the same backoff", a, b)
	}
	if a == 0 {
		t.Error("a throttled write with SDK retries took no time: no backoff")
	}
	if a == c {
		t.Logf("seeds 1 and 2 drew the same backoff %v (possible, unlikely)", a)
	}
}

// TestTransactThrottleDeterministic: a transaction over two partitions,
// one of which cannot pay, is throttled and charges neither, whatever
// order the model visits them in.
func TestTransactThrottleDeterministic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		for range 20 {
			d := NewDynamoDB(Config{Latency: -1, PartitionWCU: 2, PartitionRCU: -1})
			// b can pay 2, a cannot (2 units, 1 spent).
			if err := put(ctx, d, mkItem("a", "0")); err != nil {
				t.Fatal(err)
			}
			_, err := d.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: aws.String(tbl), Item: mkItem("b", "1")}},
				{Put: &types.Put{TableName: aws.String(tbl), Item: mkItem("a", "1")}},
			}})
			var pt *types.ProvisionedThroughputExceededException
			if !errors.As(err, &pt) {
				t.Fatalf("transaction: %v, want throttled (partition a has 1 unit, needs 2)", err)
			}
			// No partition was charged: b keeps its 2 units.
			if err := put(ctx, d, mkItem("b", "2")); err != nil {
				t.Fatalf("b after the throttled transaction: %v, want its units untouched", err)
			}
			if err := put(ctx, d, mkItem("b", "3")); err != nil {
				t.Fatalf("b's second unit after the throttled transaction: %v", err)
			}
		}
	})
}

// TestNoLatencyStepFunctions: NewStepFunctions with a negative latency
// sleeps nowhere; the default costs 5ms a call.
func TestNoLatencyStepFunctions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		for _, c := range []struct {
			latency, want time.Duration
		}{{-1, 0}, {0, 4 * 5 * time.Millisecond}} {
			sf := NewStepFunctions(c.latency)
			sf.NewTask("T1", "E")
			start := time.Now()
			if _, err := sf.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("T1")}); err != nil {
				t.Fatal(err)
			}
			if _, err := sf.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("T1"), Output: aws.String("{}")}); err != nil {
				t.Fatal(err)
			}
			if _, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("E")}); err != nil {
				t.Fatal(err)
			}
			if _, err := sf.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String("E")}); err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el != c.want {
				t.Errorf("latency %v: four calls took %v of fake time, want %v", c.latency, el, c.want)
			}
		}
	})
}

// TestDeterministic: the same calls on a fresh model in a fresh bubble
// give the same answers, table and histories, byte for byte: nothing
// depends on map order or the real clock. The run goes through every
// path a simulator takes: writes, transactions, batches, the index,
// throttling with seeded SDK retries, TTL, execution ends and redrives,
// padded and lagging histories.
func TestDeterministic(t *testing.T) {
	run := func() (dump string) {
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			d := NewDynamoDB(Config{Latency: time.Millisecond, PartitionWCU: 8, PartitionRCU: -1, SDKRetries: true, Rand: rand.New(rand.NewPCG(7, 7))})
			sf := NewStepFunctions(time.Millisecond)
			sf.Strict = true
			ids := 0
			c, err := hooks.New(aws.Config{Region: "us-east-1"}, func(o *hooks.Options) {
				o.TableName, o.DynamoDB, o.StepFunctions = tbl, d, sf
				o.NewID = func() string { ids++; return fmt.Sprintf("id-%019d", ids) }
				o.HookTTL, o.IdempotencyTTL = time.Hour, time.Minute
			})
			if err != nil {
				t.Fatal(err)
			}
			var answers []any
			note := func(what string, v any, err error) {
				b, jerr := json.Marshal(v)
				if jerr != nil {
					t.Fatalf("%s: %v", what, jerr)
				}
				answers = append(answers, fmt.Sprintf("%s: %s %v", what, b, err))
			}
			execs := []string{modelExec + "-a", modelExec + "-b"}
			for _, e := range execs {
				note("start", e, sf.Start(e))
			}
			for i := range 8 {
				e := execs[i%2]
				tok := fmt.Sprintf("h%d", i)
				_, err := c.Register(ctx, hooks.RegisterInput{Token: tok, ExecutionARN: e})
				note("register", tok, err)
				if i%3 == 0 {
					sf.NewTask("T"+tok, e)
					note("await", tok, c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: tok, ExecutionARN: e}, TaskToken: "T" + tok}))
				}
				for j := range 4 {
					h, err := c.ResumeHook(ctx, tok, json.RawMessage(fmt.Sprintf(`{"j":%d}`, j)), hooks.WithIdempotencyKey(fmt.Sprint(i, j)))
					note("resume", h != nil, err)
				}
			}
			// A parked await whose task times out, far back in a long
			// history that lags, then catches up.
			reg := hooks.RegisterInput{Token: "slow", ExecutionARN: execs[1]}
			_, err = c.Register(ctx, reg)
			note("register slow", nil, err)
			sf.NewTask("Tslow", execs[1])
			note("await slow", nil, c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "Tslow"}))
			note("timeout", "Tslow", sf.TimeOutTask("Tslow", "States.Timeout"))
			sf.Pad(execs[1], 1500)
			sf.SetLag(execs[1], 1600)
			h, err := c.ResumeHook(ctx, "slow", json.RawMessage(`{"late":1}`))
			note("resume slow, lagging", h != nil, err)
			sf.SetLag(execs[1], 0)
			h, err = c.ResumeHook(ctx, "slow", json.RawMessage(`{"late":2}`))
			note("resume slow", h != nil, err)
			note("stop", execs[0], sf.Stop(execs[0]))
			h, err = c.ResumeHook(ctx, "h0", json.RawMessage(`{"after":1}`))
			note("resume h0", h != nil, err)
			l, err := c.ListHooks(ctx, hooks.ListHooksInput{ExecutionARN: execs[1], Limit: 2})
			note("list", l, err)
			n, err := c.DisposeExecution(ctx, execs[0])
			note("dispose execution", n, err)
			note("redrive", execs[0], sf.Redrive(execs[0]))
			time.Sleep(2 * time.Minute)
			note("ttl", d.ExpireTTL(time.Now()), nil)
			var items []any
			for _, it := range d.Items() {
				items = append(items, canonItem(it))
			}
			note("items", items, nil)
			note("max item", d.MaxItemBytes(), nil)
			for _, e := range execs {
				note("history", sf.History(e), nil)
			}
			note("calls", d.Calls.String()+" "+sf.Calls.String(), nil)
			note("throttled", d.Throttled, nil)
			b, err := json.Marshal(answers)
			if err != nil {
				t.Fatal(err)
			}
			dump = string(b)
		})
		return dump
	}
	a, b := run(), run()
	if a != b {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("two runs differ at byte %d:\n…%s\n…%s", i, a[max(0, i-200):min(len(a), i+200)], b[max(0, i-200):min(len(b), i+200)])
			}
		}
		t.Fatalf("two runs differ in length: %d, %d", len(a), len(b))
	}
	for _, want := range []string{`"throttled: `, "SFN.GetExecutionHistory=", `"resume slow: true \u003cnil\u003e"`} {
		if !strings.Contains(a, want) {
			t.Errorf("the run never reached %s", want)
		}
	}
	if strings.Contains(a, `"throttled: 0 `) {
		t.Error("the run was never throttled: the seeded retries were not exercised")
	}
}
