package awsmodel

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
