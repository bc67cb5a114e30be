package awsmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The model's own semantics, as doc.go states them: what moto cannot show
// (it serializes every request, has no latency and no limits). Timing
// tests assert lower bounds only (a call takes at least its latency, a
// held write waits at least until the commit); where a check must run
// inside a window (a transaction's hold, a second of burst), the window
// is measured, and a trial that a loaded machine pushed outside it is run
// again with a longer window instead of failing.

const tbl = "t"

func mkItem(pk, sk string, attrs ...any) map[string]types.AttributeValue {
	it := key(pk, sk)
	for i := 0; i < len(attrs); i += 2 {
		switch v := attrs[i+1].(type) {
		case string:
			it[attrs[i].(string)] = str(v)
		case int:
			it[attrs[i].(string)] = numv(int64(v))
		}
	}
	return it
}

// sized returns an item of n bytes as the model counts them (names plus
// values).
func sized(pk, sk string, n int) map[string]types.AttributeValue {
	it := mkItem(pk, sk)
	it["blob"] = str(strings.Repeat("x", n-size(it)-len("blob")))
	return it
}

func put(ctx context.Context, d *DynamoDB, it map[string]types.AttributeValue) error {
	_, err := d.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl), Item: it})
	return err
}

func set(ctx context.Context, d *DynamoDB, k map[string]types.AttributeValue, attr string, v int, cond string) error {
	in := &dynamodb.UpdateItemInput{TableName: aws.String(tbl), Key: k,
		UpdateExpression:          aws.String("SET #a = :v"),
		ExpressionAttributeNames:  map[string]string{"#a": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": numv(int64(v))}}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	_, err := d.UpdateItem(ctx, in)
	return err
}

func getItem(t *testing.T, ctx context.Context, d *DynamoDB, k map[string]types.AttributeValue) map[string]types.AttributeValue {
	t.Helper()
	out, err := d.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: k})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	return out.Item
}

func numAttr(it map[string]types.AttributeValue, name string) string {
	if n, ok := it[name].(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return "absent"
}

// txSet is a transaction that updates k with SET attr = v, and puts
// extra (another item) when not nil.
func txSet(k map[string]types.AttributeValue, attr string, v int, extra map[string]types.AttributeValue) *dynamodb.TransactWriteItemsInput {
	in := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(tbl), Key: k,
		UpdateExpression:          aws.String("SET #a = :v"),
		ExpressionAttributeNames:  map[string]string{"#a": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": numv(int64(v))},
	}}}}
	if extra != nil {
		in.TransactItems = append(in.TransactItems, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(tbl), Item: extra}})
	}
	return in
}

// heldUntil returns the end of the transaction hold on an item (zero:
// not held now).
func heldUntil(d *DynamoDB, pk, sk string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p := d.parts[pk]; p != nil {
		if it := p.items[sk]; it != nil && time.Now().Before(it.txUntil) {
			return it.txUntil
		}
	}
	return time.Time{}
}

// txUntil returns the end of the latest transaction hold on an item.
func txUntil(d *DynamoDB, pk, sk string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p := d.parts[pk]; p != nil && p.items[sk] != nil {
		return p.items[sk].txUntil
	}
	return time.Time{}
}

// startTx runs tx in the background and returns once the model holds the
// item pk/sk for it, with the end of the hold and the transaction's result.
func startTx(t *testing.T, ctx context.Context, d *DynamoDB, tx *dynamodb.TransactWriteItemsInput, pk, sk string) (time.Time, <-chan error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := d.TransactWriteItems(ctx, tx)
		done <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Microsecond) {
		if until := heldUntil(d, pk, sk); !until.IsZero() {
			return until, done
		}
		select {
		case err := <-done:
			t.Fatalf("the transaction ended (%v) before its hold was seen", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the transaction never held its item")
		}
	}
}

func conflicts(d *DynamoDB) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Conflicts
}

func throttledCount(d *DynamoDB) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Throttled
}

// transactionConflict is pkg/hooks' transactionConflict (awserr.go): what
// its loops retry as contention.
func transactionConflict(err error) bool {
	var tce *types.TransactionConflictException
	return errors.As(err, &tce)
}

func reasonCodes(err error) ([]string, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, false
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	return codes, true
}

// trials runs trial with a window that doubles, from first, until a trial
// is conclusive (it ran its in-window checks inside the window), at most
// five times.
func trials(t *testing.T, first time.Duration, trial func(t *testing.T, window time.Duration) bool) {
	t.Helper()
	w := first
	for range 5 {
		if trial(t, w) || t.Failed() {
			return
		}
		t.Logf("inconclusive: the machine was too slow for a window of %v; again", w)
		w *= 2
	}
	t.Fatalf("no conclusive trial up to a window of %v", w/2)
}

// TestTransactionHold: during a transaction's hold (Config.TxHold) a
// single write on a held item fails with TransactionConflictException,
// the exception pkg/hooks retries, and changes nothing; another
// transaction touching it is canceled with CancellationReasons
// "TransactionConflict" (and "None" for its other items); reads see the
// item as it was; writes to other items go through. The transaction
// answers after its commit, and then all of these succeed.
func TestTransactionHold(t *testing.T) {
	t.Parallel()
	trials(t, 300*time.Millisecond, func(t *testing.T, hold time.Duration) bool {
		ctx := context.Background()
		d := NewDynamoDB(Config{Latency: 100 * time.Microsecond, TxHold: hold, PartitionWCU: -1, PartitionRCU: -1})
		x := key("p", "x")
		if err := put(ctx, d, mkItem("p", "x", "v", 0)); err != nil {
			t.Fatal(err)
		}
		until, txDone := startTx(t, ctx, d, txSet(x, "v", 1, mkItem("p", "z")), "p", "x")

		seen := numAttr(getItem(t, ctx, d, x), "v")
		writeErr := set(ctx, d, x, "w", 1, "")
		freeErr := put(ctx, d, mkItem("p", "free", "v", 1))
		if !time.Now().Before(until) {
			return false
		}
		_, txErr := d.TransactWriteItems(ctx, txSet(x, "v", 2, mkItem("p", "y")))
		if txErr == nil {
			// It went through. When it acted, its hold on y began.
			if acted := txUntil(d, "p", "y").Add(-hold); acted.Before(until) {
				t.Errorf("a transaction on the held item went through %v before the commit, want it canceled", until.Sub(acted))
			} else {
				return false // it came after the hold
			}
		}

		if seen != "0" {
			t.Errorf("read during the hold: v = %s, want 0 (the transaction's write is not visible before its commit)", seen)
		}
		if !transactionConflict(writeErr) {
			t.Errorf("single write on a held item: %v, want TransactionConflictException (what pkg/hooks' transactionConflict recognises)", writeErr)
		}
		if codes, ok := reasonCodes(txErr); txErr != nil && (!ok || strings.Join(codes, ",") != "TransactionConflict,None") {
			t.Errorf("transaction on a held item: %v (codes %v), want TransactionCanceledException with reasons [TransactionConflict None]", txErr, codes)
		}
		if freeErr != nil {
			t.Errorf("write on an item that is not held: %v", freeErr)
		}
		if err := <-txDone; err != nil {
			t.Fatalf("the holding transaction: %v", err)
		}
		if now := time.Now(); now.Before(until) {
			t.Errorf("the transaction answered %v before its commit", until.Sub(now))
		}

		// After the hold: committed, and the item is free again.
		it := getItem(t, ctx, d, x)
		if numAttr(it, "v") != "1" || numAttr(it, "w") != "absent" {
			t.Errorf("after the hold: %v, want v = 1 and no w (the conflicting write changed nothing)", it)
		}
		if getItem(t, ctx, d, key("p", "y")) != nil {
			t.Error("the canceled transaction wrote its other item")
		}
		if getItem(t, ctx, d, key("p", "z")) == nil {
			t.Error("the committed transaction did not write its other item")
		}
		if err := set(ctx, d, x, "w", 1, "#a = :v OR attribute_not_exists(#a)"); err != nil {
			t.Errorf("single write after the hold: %v", err)
		}
		if _, err := d.TransactWriteItems(ctx, txSet(x, "v", 3, nil)); err != nil {
			t.Errorf("transaction after the hold: %v", err)
		}
		if n := conflicts(d); n != 2 {
			t.Errorf("Conflicts = %d, want 2", n)
		}
		return true
	})
}

// TestTransactionHoldWritesWait: with Config.WritesWait a single write on
// a held item waits for the commit, then applies on top of it (its
// condition sees the committed item); a transaction is still canceled.
func TestTransactionHoldWritesWait(t *testing.T) {
	t.Parallel()
	trials(t, 300*time.Millisecond, func(t *testing.T, hold time.Duration) bool {
		ctx := context.Background()
		d := NewDynamoDB(Config{Latency: 100 * time.Microsecond, TxHold: hold, WritesWait: true, PartitionWCU: -1, PartitionRCU: -1})
		x := key("p", "x")
		if err := put(ctx, d, mkItem("p", "x")); err != nil {
			t.Fatal(err)
		}
		until, txDone := startTx(t, ctx, d, txSet(x, "a", 1, nil), "p", "x")
		_, txErr := d.TransactWriteItems(ctx, txSet(x, "a", 2, nil))
		issued := time.Now()
		_, writeErr := d.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(tbl), Key: x,
			ConditionExpression:       aws.String("attribute_exists(#a)"), // true only once the transaction committed
			UpdateExpression:          aws.String("SET #b = :one"),
			ExpressionAttributeNames:  map[string]string{"#a": "a", "#b": "b"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": numv(1)}})
		returned := time.Now()
		if !issued.Before(until.Add(-hold / 2)) {
			return false // the write may have arrived after the hold
		}
		if codes, ok := reasonCodes(txErr); !ok || strings.Join(codes, ",") != "TransactionConflict" {
			t.Errorf("transaction on a held item with WritesWait: %v (codes %v), want canceled with [TransactionConflict]", txErr, codes)
		}
		if writeErr != nil {
			t.Errorf("single write on a held item with WritesWait: %v, want it to wait and succeed", writeErr)
		}
		if returned.Before(until) {
			t.Errorf("the single write returned %v before the commit: it did not wait", until.Sub(returned))
		}
		if err := <-txDone; err != nil {
			t.Fatal(err)
		}
		it := getItem(t, ctx, d, x)
		if numAttr(it, "b") != "1" || numAttr(it, "a") == "absent" {
			t.Errorf("after the hold: %v, want the transaction's a and the waiting write's b", it)
		}
		if n := conflicts(d); n != 1 {
			t.Errorf("Conflicts = %d, want 1 (the transaction; a waiting write is not a conflict)", n)
		}
		return true
	})
}

// TestHooksRetryModelConflict: pkg/hooks takes the model's
// TransactionConflictException for contention and retries: an await whose
// first write lands on a held hook item still parks.
func TestHooksRetryModelConflict(t *testing.T) {
	t.Parallel()
	trials(t, 300*time.Millisecond, func(t *testing.T, hold time.Duration) bool {
		ctx := context.Background()
		d := NewDynamoDB(Config{Latency: 100 * time.Microsecond, TxHold: hold, PartitionWCU: -1, PartitionRCU: -1})
		sf := NewStepFunctions(100 * time.Microsecond)
		c := modelClient(t, d, sf)
		reg := hooks.RegisterInput{Token: "h", ExecutionARN: modelExec}
		if _, err := c.Register(ctx, reg); err != nil {
			t.Fatal(err)
		}
		// A transaction holds the hook item (as an append, S1, does).
		until, txDone := startTx(t, ctx, d, txSet(key("HOOK#h", "HOOK"), "other", 1, nil), "HOOK#h", "HOOK")
		task := sf.NewTask("T1", modelExec)
		err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T1"})
		if conflicts(d) == 0 && !time.Now().Before(until) {
			return false // the await came after the hold
		}
		<-txDone
		if err != nil {
			t.Fatalf("await on a held hook item: %v, want it retried through the TransactionConflict", err)
		}
		if conflicts(d) == 0 {
			t.Fatal("the await met no TransactionConflict")
		}
		if _, err := c.ResumeHook(ctx, "h", json.RawMessage(`{"ok":1}`)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-task.Done:
		case <-time.After(10 * time.Second):
			t.Fatal("the parked await got nothing")
		}
		if task.Output != `{"ok":1}` {
			t.Errorf("task output %q", task.Output)
		}
		return true
	})
}

// TestPartitionThrottling: a partition takes PartitionWCU write units in a
// burst (one second's worth), then answers
// ProvisionedThroughputExceededException (no SDK retries); another
// partition is unaffected; the bucket refills with time.
func TestPartitionThrottling(t *testing.T) {
	t.Parallel()
	const rate = 10
	trials(t, time.Second/rate, func(t *testing.T, _ time.Duration) bool {
		ctx := context.Background()
		d := NewDynamoDB(Config{Latency: time.Microsecond, PartitionWCU: rate, PartitionRCU: -1})
		start := time.Now()
		ok := 0
		var err error
		for i := 0; i < 2*rate && err == nil; i++ {
			if err = put(ctx, d, mkItem("hot", fmt.Sprint(i))); err == nil {
				ok++
			}
		}
		otherErr := put(ctx, d, mkItem("cold", "0"))
		// A write unit comes back every 1/rate s: a slower loop than that
		// may see one more success.
		if time.Since(start) >= time.Second/rate {
			return false
		}
		var pt *types.ProvisionedThroughputExceededException
		if !errors.As(err, &pt) {
			t.Fatalf("write %d on a partition past %d WCU: %v, want ProvisionedThroughputExceededException", ok+1, rate, err)
		}
		if ok != rate {
			t.Errorf("%d writes went through before the throttle, want %d (one second of burst)", ok, rate)
		}
		if otherErr != nil {
			t.Errorf("write on another partition: %v, want it unaffected", otherErr)
		}
		if n := throttledCount(d); n != 1 {
			t.Errorf("Throttled = %d, want 1", n)
		}
		// Reads have their own bucket (unlimited here).
		if _, err := d.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: key("hot", "0")}); err != nil {
			t.Errorf("read on a write-throttled partition: %v", err)
		}
		// 2.5 units at least after 250ms.
		time.Sleep(250 * time.Millisecond)
		for i := range 2 {
			if err := put(ctx, d, mkItem("hot", fmt.Sprint("later", i))); err != nil {
				t.Errorf("write %d after 250ms: %v, want the bucket refilled", i+1, err)
			}
		}
		return true
	})
}

// TestBucket: a token bucket holds one second of its rate, full at first,
// refills in proportion to the time passed, and a negative rate never
// throttles.
func TestBucket(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b bucket
	steps := []struct {
		at   time.Duration
		n    float64
		want bool
	}{
		{0, 10, true},                      // full at first: 10
		{0, 1, false},                      // empty
		{100 * time.Millisecond, 1, true},  // 1 back after 0.1 s
		{100 * time.Millisecond, 1, false}, // and no more
		{10 * time.Second, 10, true},       // full again, but only one second's worth
		{10 * time.Second, 1, false},
		{10*time.Second + 250*time.Millisecond, 2.5, true},
	}
	for _, s := range steps {
		if got := b.take(s.n, 10, t0.Add(s.at)); got != s.want {
			t.Errorf("at %v, take %v of a 10/s bucket: %v, want %v", s.at, s.n, got, s.want)
		}
	}
	var u bucket
	for i := range 100 {
		if !u.take(1e6, -1, t0.Add(time.Duration(i))) {
			t.Fatal("a negative rate throttled")
		}
	}
}

// TestTransactionCost: a transaction costs twice the WCU of its writes.
// With 3 WCU/s: a one-item transaction takes 2 of the 3 units; a second
// one (2 more) is throttled while a single write (1) still goes through.
func TestTransactionCost(t *testing.T) {
	t.Parallel()
	const rate = 3
	trials(t, time.Second/rate, func(t *testing.T, _ time.Duration) bool {
		ctx := context.Background()
		d := NewDynamoDB(Config{Latency: time.Microsecond, PartitionWCU: rate, PartitionRCU: -1})
		start := time.Now()
		_, err1 := d.TransactWriteItems(ctx, txSet(key("p", "a"), "v", 1, nil))
		_, err2 := d.TransactWriteItems(ctx, txSet(key("p", "b"), "v", 1, nil))
		err3 := put(ctx, d, mkItem("p", "c"))
		err4 := put(ctx, d, mkItem("p", "d"))
		if time.Since(start) >= time.Second/rate/2 {
			return false
		}
		var pt *types.ProvisionedThroughputExceededException
		if err1 != nil {
			t.Errorf("first transaction (2 of %d units): %v", rate, err1)
		}
		if !errors.As(err2, &pt) {
			t.Errorf("second transaction (2 more units, 1 left): %v, want ProvisionedThroughputExceededException", err2)
		}
		if err3 != nil {
			t.Errorf("single write (the last unit): %v", err3)
		}
		if !errors.As(err4, &pt) {
			t.Errorf("single write past the burst: %v, want ProvisionedThroughputExceededException", err4)
		}
		return true
	})
}

// TestWriteCostBySize: a write costs one WCU per KB begun of the larger of
// the item before and after it (DynamoDB's rule), at least one: a new 3 KB
// item costs 3, replacing it with a small item costs 3 too; a 1,024-byte
// item costs 1.
func TestWriteCostBySize(t *testing.T) {
	t.Parallel()
	const rate = 6
	trials(t, time.Second/rate, func(t *testing.T, _ time.Duration) bool {
		ctx := context.Background()
		d := NewDynamoDB(Config{Latency: time.Microsecond, PartitionWCU: rate, PartitionRCU: -1})
		big := sized("p", "big", 3*1024-1)
		if got := wcu(big); got != 3 {
			t.Errorf("wcu of a %d-byte item = %v, want 3", size(big), got)
		}
		if got := wcu(sized("p", "kb", 1024)); got != 1 {
			t.Errorf("wcu of a 1,024-byte item = %v, want 1", got)
		}
		start := time.Now()
		errNew := put(ctx, d, big)                    // 3 of 6
		errReplace := put(ctx, d, mkItem("p", "big")) // 3 more (the larger, before): 0 left
		errSmall := put(ctx, d, mkItem("p", "small"))
		if time.Since(start) >= time.Second/rate/2 {
			return false
		}
		if errNew != nil || errReplace != nil {
			t.Fatalf("new 3 KB item: %v; replacing it: %v", errNew, errReplace)
		}
		var pt *types.ProvisionedThroughputExceededException
		if !errors.As(errSmall, &pt) {
			t.Errorf("a write after 6 units (a 3 KB put and its replacement): %v, want ProvisionedThroughputExceededException", errSmall)
		}
		return true
	})
}

// TestSingleWritesAtomic: concurrent conditional increments of one item
// are each applied once.
func TestSingleWritesAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewDynamoDB(Config{Latency: time.Nanosecond, PartitionWCU: -1, PartitionRCU: -1})
	const workers, each = 8, 250
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := d.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(tbl), Key: key("p", "n"),
					UpdateExpression:          aws.String("SET #n = if_not_exists(#n, :zero) + :one"),
					ExpressionAttributeNames:  map[string]string{"#n": "n"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":zero": numv(0), ":one": numv(1)}})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := numAttr(getItem(t, ctx, d, key("p", "n")), "n"); got != fmt.Sprint(workers*each) {
		t.Errorf("n = %s after %d increments", got, workers*each)
	}
}

// TestLatency: a call takes at least the configured latency; a
// transaction answers no earlier than its commit (TxHold).
func TestLatency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewDynamoDB(Config{Latency: 20 * time.Millisecond, TxHold: 60 * time.Millisecond, PartitionWCU: -1, PartitionRCU: -1})
	start := time.Now()
	if err := put(ctx, d, mkItem("p", "a")); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Errorf("PutItem took %v, want at least the latency 20ms", el)
	}
	start = time.Now()
	if _, err := d.TransactWriteItems(ctx, txSet(key("p", "a"), "v", 1, nil)); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 70*time.Millisecond {
		t.Errorf("TransactWriteItems took %v, want at least half the latency and the hold (70ms)", el)
	}
	if got := numAttr(getItem(t, ctx, d, key("p", "a")), "v"); got != "1" {
		t.Errorf("after the transaction answered: v = %s, want its write visible", got)
	}
}

// TestQueryOrderAndPages: Query reads the partition in sort-key order,
// backwards with ScanIndexForward false, a page of Limit items with its
// LastEvaluatedKey, from ExclusiveStartKey.
func TestQueryOrderAndPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewDynamoDB(Config{Latency: time.Microsecond, PartitionWCU: -1, PartitionRCU: -1})
	for _, sk := range []string{"M#2", "M#1", "X", "M#3", "A"} {
		if err := put(ctx, d, mkItem("p", sk)); err != nil {
			t.Fatal(err)
		}
	}
	q := func(forward bool, limit int32, start map[string]types.AttributeValue) (sks []string, last string) {
		t.Helper()
		in := &dynamodb.QueryInput{TableName: aws.String(tbl),
			KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :m)"),
			ExpressionAttributeNames:  map[string]string{"#pk": "pk", "#sk": "sk"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("p"), ":m": str("M#")},
			ScanIndexForward:          aws.Bool(forward), ExclusiveStartKey: start}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		out, err := d.Query(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			sks = append(sks, it["sk"].(*types.AttributeValueMemberS).Value)
		}
		if out.LastEvaluatedKey != nil {
			last = out.LastEvaluatedKey["sk"].(*types.AttributeValueMemberS).Value
		}
		return sks, last
	}
	check := func(what string, sks []string, last string, want []string, wantLast string) {
		t.Helper()
		if strings.Join(sks, ",") != strings.Join(want, ",") || last != wantLast {
			t.Errorf("%s: %v (last %q), want %v (last %q)", what, sks, last, want, wantLast)
		}
	}
	sks, last := q(true, 0, nil)
	check("forward", sks, last, []string{"M#1", "M#2", "M#3"}, "")
	sks, last = q(false, 2, nil)
	check("backward, limit 2", sks, last, []string{"M#3", "M#2"}, "M#2")
	sks, last = q(false, 2, key("p", last))
	check("backward, next page", sks, last, []string{"M#1"}, "")
	sks, last = q(true, 3, key("p", "M#1"))
	check("forward from M#1", sks, last, []string{"M#2", "M#3"}, "")
}

// modelExec is the execution of the hooks the model tests register.
const modelExec = "arn:aws:states:us-east-1:123456789012:execution:sm:e"

// modelClient is a pkg/hooks client on the model's two services.
func modelClient(t *testing.T, d *DynamoDB, sf *StepFunctions) *hooks.Client {
	t.Helper()
	c, err := hooks.New(aws.Config{Region: "us-east-1"}, func(o *hooks.Options) {
		o.TableName = tbl
		o.DynamoDB = d
		o.StepFunctions = sf
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestItemSize: size follows DynamoDB's rules ("Item sizes and formats"):
// names and values in UTF-8 bytes; a number 1 byte per two significant
// digits (leading and trailing zeros trimmed) plus 1; a boolean or null
// 1; a set its members; a list or map 3 bytes plus 1 per element plus the
// elements.
func TestItemSize(t *testing.T) {
	t.Parallel()
	m := func(kv ...any) *types.AttributeValueMemberM {
		v := map[string]types.AttributeValue{}
		for i := 0; i < len(kv); i += 2 {
			v[kv[i].(string)] = kv[i+1].(types.AttributeValue)
		}
		return &types.AttributeValueMemberM{Value: v}
	}
	cases := []struct {
		name string
		v    types.AttributeValue
		want int // size of the item {"ab": v}
	}{
		{"string", str("héllo"), 2 + 6},
		{"empty string", str(""), 2},
		{"binary", &types.AttributeValueMemberB{Value: []byte{0, 1, 2}}, 2 + 3},
		{"number 1", &types.AttributeValueMemberN{Value: "1"}, 2 + 2},
		{"number 12", &types.AttributeValueMemberN{Value: "12"}, 2 + 2},
		{"number 123", &types.AttributeValueMemberN{Value: "123"}, 2 + 3},
		{"number with zeros trimmed", &types.AttributeValueMemberN{Value: "-0012300.0e5"}, 2 + 3},
		{"number zero", &types.AttributeValueMemberN{Value: "0"}, 2 + 1},
		{"bool", &types.AttributeValueMemberBOOL{Value: true}, 2 + 1},
		{"null", &types.AttributeValueMemberNULL{Value: true}, 2 + 1},
		{"string set", &types.AttributeValueMemberSS{Value: []string{"a", "bc"}}, 2 + 3},
		{"number set", &types.AttributeValueMemberNS{Value: []string{"1", "123"}}, 2 + 2 + 3},
		{"empty map", m(), 2 + 3},
		{"map", m("x", str("yz")), 2 + 3 + 1 + 1 + 2},
		{"list", &types.AttributeValueMemberL{Value: []types.AttributeValue{str("a"), &types.AttributeValueMemberBOOL{}}}, 2 + 3 + (1 + 1) + (1 + 1)},
		{"nested", m("x", m("y", str("z"))), 2 + 3 + 1 + 1 + (3 + 1 + 1 + 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := size(map[string]types.AttributeValue{"ab": c.v}); got != c.want {
				t.Errorf("size = %d, want %d", got, c.want)
			}
		})
	}
}

// validationMessage returns the message of a ValidationException ("" for
// any other answer).
func validationMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" {
		return ae.ErrorMessage()
	}
	return ""
}

// TestItemSizeLimit: a write whose item would be larger than 400 KB
// (409,600 bytes) fails with ValidationException "Item size has exceeded
// the maximum allowed size" and changes nothing: PutItem, UpdateItem, and
// a transaction (all of it refused). An item of exactly the limit is
// stored; MaxItemBytes reports the largest item ever stored.
func TestItemSizeLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1})
	const exceeded = "Item size has exceeded the maximum allowed size"
	if err := put(ctx, d, sized("p", "max", ItemSizeLimit)); err != nil {
		t.Fatalf("an item of exactly %d bytes: %v", ItemSizeLimit, err)
	}
	if got := d.MaxItemBytes(); got != ItemSizeLimit {
		t.Errorf("MaxItemBytes = %d, want %d", got, ItemSizeLimit)
	}
	if err := put(ctx, d, mkItem("p", "a", "v", 1)); err != nil {
		t.Fatal(err)
	}
	if err := put(ctx, d, sized("p", "a", ItemSizeLimit+1)); !strings.Contains(validationMessage(err), exceeded) {
		t.Errorf("PutItem of %d bytes: %v, want ValidationException %q", ItemSizeLimit+1, err, exceeded)
	}
	_, err := d.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(tbl), Key: key("p", "a"),
		UpdateExpression:          aws.String("SET #b = :b"),
		ExpressionAttributeNames:  map[string]string{"#b": "blob"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":b": str(strings.Repeat("x", ItemSizeLimit))}})
	if validationMessage(err) == "" || !strings.Contains(validationMessage(err), "maximum allowed size") {
		t.Errorf("UpdateItem past the limit: %v, want ValidationException", err)
	}
	_, err = d.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(tbl), Item: mkItem("p", "small")}},
		{Put: &types.Put{TableName: aws.String(tbl), Item: sized("p", "big", ItemSizeLimit+1)}},
	}})
	if !strings.Contains(validationMessage(err), "maximum allowed size") {
		t.Errorf("transaction with an item past the limit: %v, want ValidationException", err)
	}
	if it := getItem(t, ctx, d, key("p", "a")); numAttr(it, "v") != "1" || it["blob"] != nil {
		t.Errorf("after the refused writes: %v, want the item unchanged", it)
	}
	for _, sk := range []string{"small", "big"} {
		if it := getItem(t, ctx, d, key("p", sk)); it != nil {
			t.Errorf("the refused transaction wrote %s", sk)
		}
	}
	if got := d.MaxItemBytes(); got != ItemSizeLimit {
		t.Errorf("MaxItemBytes after refused writes = %d, want %d", got, ItemSizeLimit)
	}

	// TxSizeCancels: as DynamoDB documents it, the transaction is canceled
	// with a ValidationError reason for that item.
	dc := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1, TxSizeCancels: true})
	_, err = dc.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(tbl), Item: mkItem("p", "small")}},
		{Put: &types.Put{TableName: aws.String(tbl), Item: sized("p", "big", ItemSizeLimit+1)}},
	}})
	if codes, ok := reasonCodes(err); !ok || strings.Join(codes, ",") != "None,ValidationError" {
		t.Errorf("with TxSizeCancels: %v (codes %v), want TransactionCanceledException [None ValidationError]", err, codes)
	}
}

// TestHooksItemSizes: pkg/hooks keeps its items under DynamoDB's limit
// when every input is at its own limit (metadata MaxHookDataBytes, a
// payload of MaxPayloadBytes delivered at once, stored, and under an
// idempotency key), as docs/protocol.md claims ("Size"); and a hook item
// that is already large (written by hand here: pkg/hooks' own checks keep
// it from growing so) refuses the resume whose in-flight record would pass
// the limit: ResumeHook fails with the ValidationException, nothing is
// acknowledged, and the await stays parked.
func TestHooksItemSizes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1})
	sf := NewStepFunctions(-1)
	c := modelClient(t, d, sf)
	jsonOf := func(n int) json.RawMessage { // a JSON object of n bytes
		return json.RawMessage(`{"x":"` + strings.Repeat("a", n-len(`{"x":""}`)) + `"}`)
	}
	reg := hooks.RegisterInput{Token: "big", ExecutionARN: modelExec, Metadata: jsonOf(hooks.MaxHookDataBytes)}
	if _, err := c.Register(ctx, reg); err != nil {
		t.Fatal(err)
	}
	task := sf.NewTask("T1", modelExec)
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T1"}); err != nil {
		t.Fatal(err)
	}
	payload := jsonOf(hooks.MaxPayloadBytes)
	if _, err := c.ResumeHook(ctx, "big", payload); err != nil {
		t.Fatalf("a payload of MaxPayloadBytes to a parked await: %v", err)
	}
	if task.Output != string(payload) {
		t.Fatalf("the await got %d bytes, want the %d-byte payload", len(task.Output), len(payload))
	}
	if _, err := c.ResumeHook(ctx, "big", payload); err != nil {
		t.Fatalf("a payload of MaxPayloadBytes stored: %v", err)
	}
	if _, err := c.ResumeHook(ctx, "big", payload, hooks.WithIdempotencyKey("k")); err != nil {
		t.Fatalf("a payload of MaxPayloadBytes with a key: %v", err)
	}
	if got := d.MaxItemBytes(); got < hooks.MaxPayloadBytes || got > ItemSizeLimit {
		t.Errorf("largest item pkg/hooks wrote: %d bytes, want between the payload (%d) and DynamoDB's limit (%d)", got, hooks.MaxPayloadBytes, ItemSizeLimit)
	}
	t.Logf("largest item with every input at its limit: %d bytes", d.MaxItemBytes())

	// A large hook item (200,000 bytes of an attribute pkg/hooks does not
	// know), an await parked on it, and a resume of 256 KiB.
	reg2 := hooks.RegisterInput{Token: "fat", ExecutionARN: modelExec}
	if _, err := c.Register(ctx, reg2); err != nil {
		t.Fatal(err)
	}
	_, err := d.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(tbl), Key: key("HOOK#fat", "HOOK"),
		UpdateExpression:          aws.String("SET #junk = :j"),
		ExpressionAttributeNames:  map[string]string{"#junk": "junk"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":j": str(strings.Repeat("j", 200_000))}})
	if err != nil {
		t.Fatal(err)
	}
	t2 := sf.NewTask("T2", modelExec)
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg2, TaskToken: "T2"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ResumeHook(ctx, "fat", payload)
	if !strings.Contains(validationMessage(err), "maximum allowed size") {
		t.Fatalf("a resume whose in-flight record passes the limit: %v, want the ValidationException", err)
	}
	select {
	case <-t2.Done:
		t.Error("the refused resume reached the task")
	default:
	}
	st, err := c.GetHook(ctx, "fat")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Waiting || st.Pending != 0 || st.Delivered != 0 {
		t.Errorf("after the refused resume: waiting %v pending %d delivered %d, want the await still parked and nothing acknowledged", st.Waiting, st.Pending, st.Delivered)
	}
	if _, err := c.ResumeHook(ctx, "fat", json.RawMessage(`{"small":1}`)); err != nil {
		t.Fatalf("a small resume after the refusal: %v", err)
	}
	if t2.Output != `{"small":1}` {
		t.Errorf("the await got %q, want the small payload", t2.Output)
	}
}

func putReq(it map[string]types.AttributeValue) types.WriteRequest {
	return types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
}

func delReq(k map[string]types.AttributeValue) types.WriteRequest {
	return types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
}

func batchWrite(ctx context.Context, d *DynamoDB, reqs ...types.WriteRequest) (*dynamodb.BatchWriteItemOutput, error) {
	return d.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{tbl: reqs}})
}

// TestBatchWriteItem: puts and deletes (no conditions) are applied and
// UnprocessedItems is empty; the whole batch is refused with
// ValidationException, nothing written, for more than 25 requests, two
// requests on one key, a request that is neither a put nor a delete, or
// an item past ItemSizeLimit.
func TestBatchWriteItem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1})
	for _, sk := range []string{"a", "b"} {
		if err := put(ctx, d, mkItem("p", sk, "v", 1)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := batchWrite(ctx, d, delReq(key("p", "a")), putReq(mkItem("p", "b", "v", 2)), putReq(mkItem("q", "c", "v", 3)), delReq(key("p", "none")))
	if err != nil {
		t.Fatalf("BatchWriteItem: %v", err)
	}
	if out.UnprocessedItems == nil || len(out.UnprocessedItems) != 0 {
		t.Errorf("UnprocessedItems = %v, want empty", out.UnprocessedItems)
	}
	if it := getItem(t, ctx, d, key("p", "a")); it != nil {
		t.Errorf("deleted item still there: %v", it)
	}
	if got := numAttr(getItem(t, ctx, d, key("p", "b")), "v"); got != "2" {
		t.Errorf("replaced item: v = %s, want 2", got)
	}
	if got := numAttr(getItem(t, ctx, d, key("q", "c")), "v"); got != "3" {
		t.Errorf("new item: v = %s, want 3", got)
	}

	var many []types.WriteRequest
	for i := range 26 {
		many = append(many, putReq(mkItem("m", fmt.Sprint(i))))
	}
	refused := []struct {
		name string
		reqs []types.WriteRequest
	}{
		{"26 requests", many},
		{"two requests on one key", []types.WriteRequest{putReq(mkItem("r", "1")), delReq(key("r", "1"))}},
		{"an empty request", []types.WriteRequest{putReq(mkItem("r", "1")), {}}},
		{"an item past the limit", []types.WriteRequest{putReq(mkItem("r", "1")), putReq(sized("r", "2", ItemSizeLimit+1))}},
		{"an item past the limit before a delete", []types.WriteRequest{putReq(sized("r", "3", ItemSizeLimit+1)), delReq(key("p", "b"))}},
	}
	for _, c := range refused {
		if _, err := batchWrite(ctx, d, c.reqs...); validationMessage(err) == "" {
			t.Errorf("%s: %v, want ValidationException", c.name, err)
		}
	}
	for _, k := range []map[string]types.AttributeValue{key("m", "0"), key("r", "1"), key("r", "2")} {
		if it := getItem(t, ctx, d, k); it != nil {
			t.Errorf("a refused batch wrote %v", it)
		}
	}
	if getItem(t, ctx, d, key("p", "b")) == nil {
		t.Error("a refused batch deleted p/b")
	}
}

// TestBatchWriteItemUnprocessed: a request on an item a transaction holds,
// or on a partition without write units, comes back in UnprocessedItems
// (the others are applied); when no request could be applied for lack of
// units the batch fails with ProvisionedThroughputExceededException.
func TestBatchWriteItemUnprocessed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d := NewDynamoDB(Config{Latency: -1, TxHold: time.Second, PartitionWCU: 2, PartitionRCU: -1})
		if err := put(ctx, d, mkItem("hot", "0")); err != nil { // 1 of hot's 2 units
			t.Fatal(err)
		}
		txDone := make(chan error, 1)
		go func() {
			_, err := d.TransactWriteItems(ctx, txSet(key("held", "x"), "v", 1, nil))
			txDone <- err
		}()
		defer func() { <-txDone }()
		synctest.Wait() // the transaction holds held/x for a second
		out, err := batchWrite(ctx, d, putReq(mkItem("held", "x")), putReq(mkItem("hot", "1")), putReq(mkItem("hot", "2")), putReq(mkItem("cold", "1")))
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, r := range out.UnprocessedItems[tbl] {
			left = append(left, itemKeyOf(r.PutRequest.Item))
		}
		if want := "held / x,hot / 2"; strings.Join(left, ",") != want {
			t.Errorf("unprocessed %v, want [%s]", left, want)
		}
		if getItem(t, ctx, d, key("hot", "1")) == nil || getItem(t, ctx, d, key("cold", "1")) == nil {
			t.Error("the requests that could be applied were not")
		}
		_, err = batchWrite(ctx, d, putReq(mkItem("hot", "3")))
		var pt *types.ProvisionedThroughputExceededException
		if !errors.As(err, &pt) {
			t.Errorf("a batch of which nothing could be paid: %v, want ProvisionedThroughputExceededException", err)
		}
	})
}

// TestBatchGetItem: the items of the keys asked (strongly consistent),
// keyed by table name, projected with names; keys of absent items are
// left out; more than 100 keys, or a key twice, is a ValidationException;
// a key whose partition has no read units left comes back in
// UnprocessedKeys.
func TestBatchGetItem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: 1})
	for _, it := range []map[string]types.AttributeValue{mkItem("p", "a", "v", 1, "w", 2), mkItem("q", "b", "v", 3)} {
		if err := put(ctx, d, it); err != nil {
			t.Fatal(err)
		}
	}
	out, err := d.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{tbl: {
		Keys:                     []map[string]types.AttributeValue{key("p", "a"), key("r", "none"), key("q", "b")},
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#pk, #sk, #v"),
		ExpressionAttributeNames: map[string]string{"#pk": "pk", "#sk": "sk", "#v": "v"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range out.Responses[tbl] {
		got = append(got, fmt.Sprintf("%s v=%s w=%s", itemKeyOf(it), numAttr(it, "v"), numAttr(it, "w")))
	}
	if want := "p / a v=1 w=absent,q / b v=3 w=absent"; strings.Join(got, ",") != want {
		t.Errorf("responses %v, want [%s]", got, want)
	}
	if len(out.UnprocessedKeys) != 0 {
		t.Errorf("UnprocessedKeys = %v, want none", out.UnprocessedKeys)
	}
	// Partition p has spent its one read unit: p/a is unprocessed, q/b
	// too (it spent its unit as well), so the call is throttled.
	_, err = d.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{tbl: {
		Keys: []map[string]types.AttributeValue{key("p", "a"), key("q", "b")}}}})
	var pt *types.ProvisionedThroughputExceededException
	if !errors.As(err, &pt) {
		t.Errorf("a batch of which nothing could be read: %v, want ProvisionedThroughputExceededException", err)
	}
	out, err = d.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{tbl: {
		Keys: []map[string]types.AttributeValue{key("p", "a"), key("fresh", "x")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if u := out.UnprocessedKeys[tbl].Keys; len(u) != 1 || itemKeyOf(u[0]) != "p / a" {
		t.Errorf("UnprocessedKeys = %v, want p/a", out.UnprocessedKeys)
	}

	var many []map[string]types.AttributeValue
	for i := range 101 {
		many = append(many, key("m", fmt.Sprint(i)))
	}
	for name, keys := range map[string][]map[string]types.AttributeValue{
		"101 keys":         many,
		"a key twice":      {key("q", "b"), key("q", "b")},
		"a key without sk": {{"pk": str("q")}},
	} {
		_, err := d.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{tbl: {Keys: keys}}})
		if validationMessage(err) == "" {
			t.Errorf("%s: %v, want ValidationException", name, err)
		}
	}
}

// TestHooksDisposeOnModel: pkg/hooks' Dispose deletes the hook and its
// stored payloads (BatchWriteItem, in batches of 25), and a parked await
// is failed; GetHook then answers not found.
func TestHooksDisposeOnModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1})
	sf := NewStepFunctions(-1)
	c := modelClient(t, d, sf)
	reg := hooks.RegisterInput{Token: "h", ExecutionARN: modelExec}
	if _, err := c.Register(ctx, reg); err != nil {
		t.Fatal(err)
	}
	for i := range 30 { // two batches
		if _, err := c.ResumeHook(ctx, "h", json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Dispose(ctx, "h", modelExec); err != nil {
		t.Fatalf("Dispose: %v", err)
	}
	if _, err := c.GetHook(ctx, "h"); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Errorf("GetHook after Dispose: %v, want ErrHookNotFound", err)
	}
	out, err := d.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tbl),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": "pk"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("HOOK#h")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Items {
		if sk := it["sk"].(*types.AttributeValueMemberS).Value; strings.HasPrefix(sk, "MSG#") || sk == "HOOK" {
			t.Errorf("after Dispose the partition still holds %s", sk)
		}
	}
	if n := d.Calls.String(); !strings.Contains(n, "DynamoDB.BatchWriteItem=2") {
		t.Errorf("calls %s, want two BatchWriteItem (30 payloads, 25 a batch)", n)
	}

	// A parked await is failed with HookDisposedError.
	if _, err := c.Register(ctx, reg); err != nil {
		t.Fatal(err)
	}
	task := sf.NewTask("T1", modelExec)
	if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "T1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Dispose(ctx, "h", modelExec); err != nil {
		t.Fatal(err)
	}
	select {
	case <-task.Done:
		if !task.Failed || task.Error != hooks.ErrorNameDisposed {
			t.Errorf("the parked await: failed %v error %q, want %s", task.Failed, task.Error, hooks.ErrorNameDisposed)
		}
	default:
		t.Error("the parked await is still open after Dispose")
	}
}

// indexQuery is a Query of the byExecution index as pkg/hooks sends it.
func indexQuery(exec string, limit int32, start map[string]types.AttributeValue) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String(hooks.IndexByExecution),
		KeyConditionExpression:    aws.String("#executionArn = :exec"),
		ExpressionAttributeNames:  map[string]string{"#executionArn": "executionArn"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":exec": str(exec)},
		ExclusiveStartKey:         start}
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	return in
}

// TestQueryByExecution: the byExecution index holds the items that carry
// executionArn (S), projected KEYS_ONLY (pk, sk, executionArn), in (pk,
// sk) order; Limit and ExclusiveStartKey page it, LastEvaluatedKey
// (executionArn, pk, sk) is set when an item follows (with
// KeyOnFullPage: whenever Limit items were read, as DynamoDB does). A
// strongly consistent read, a sort key condition or another index is a
// ValidationException.
func TestQueryByExecution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, fullPage := range []bool{false, true} {
		d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1, KeyOnFullPage: fullPage})
		for _, it := range []map[string]types.AttributeValue{
			mkItem("HOOK#c", "HOOK", "executionArn", "E", "seq", 1),
			mkItem("HOOK#a", "HOOK", "executionArn", "E", "seq", 2),
			mkItem("HOOK#b", "HOOK", "executionArn", "F"),
			mkItem("HOOK#a", "MSG#1", "payload", "{}"), // no executionArn: not in the index
			mkItem("HOOK#b2", "HOOK", "executionArn", "E"),
		} {
			if err := put(ctx, d, it); err != nil {
				t.Fatal(err)
			}
		}
		// executionArn as a number is not an index key of type S.
		if err := put(ctx, d, mkItem("HOOK#n", "HOOK", "executionArn", 7)); err != nil {
			t.Fatal(err)
		}
		page := func(limit int32, start map[string]types.AttributeValue) (keys []string, lek map[string]types.AttributeValue) {
			t.Helper()
			out, err := d.Query(ctx, indexQuery("E", limit, start))
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range out.Items {
				if len(it) != 3 || it["executionArn"] == nil {
					t.Errorf("index item %v, want exactly pk, sk and executionArn (KEYS_ONLY)", it)
				}
				keys = append(keys, itemKeyOf(it))
			}
			return keys, out.LastEvaluatedKey
		}
		all, lek := page(0, nil)
		if want := "HOOK#a / HOOK,HOOK#b2 / HOOK,HOOK#c / HOOK"; strings.Join(all, ",") != want || lek != nil {
			t.Errorf("fullPage %v: all of E: %v (last %v), want [%s] and no LastEvaluatedKey", fullPage, all, lek, want)
		}
		p1, lek := page(2, nil)
		if strings.Join(p1, ",") != "HOOK#a / HOOK,HOOK#b2 / HOOK" || lek == nil {
			t.Fatalf("fullPage %v: first page of 2: %v (last %v)", fullPage, p1, lek)
		}
		if got := canonItem(lek); !reflect.DeepEqual(got, canonItem(mkItem("HOOK#b2", "HOOK", "executionArn", "E"))) {
			t.Errorf("LastEvaluatedKey %v, want executionArn, pk and sk of HOOK#b2", got)
		}
		p2, lek := page(2, lek)
		if strings.Join(p2, ",") != "HOOK#c / HOOK" || lek != nil {
			t.Errorf("fullPage %v: second page: %v (last %v), want [HOOK#c / HOOK] and no LastEvaluatedKey", fullPage, p2, lek)
		}
		_, lek = page(3, nil)
		if fullPage != (lek != nil) {
			t.Errorf("a page of exactly the 3 items left: LastEvaluatedKey %v, want one only with KeyOnFullPage (%v)", lek, fullPage)
		}
		if lek != nil {
			if rest, last := page(3, lek); len(rest) != 0 || last != nil {
				t.Errorf("the page after a full last page: %v (last %v), want empty and no key", rest, last)
			}
		}
	}

	d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1})
	bad := map[string]*dynamodb.QueryInput{}
	in := indexQuery("E", 0, nil)
	in.ConsistentRead = aws.Bool(true)
	bad["consistent read"] = in
	in = indexQuery("E", 0, nil)
	in.IndexName = aws.String("byOther")
	bad["unknown index"] = in
	in = indexQuery("E", 0, nil)
	in.KeyConditionExpression = aws.String("#executionArn = :exec AND begins_with(#pk, :p)")
	in.ExpressionAttributeNames["#pk"] = "pk"
	in.ExpressionAttributeValues[":p"] = str("HOOK#")
	bad["sort key condition"] = in
	in = indexQuery("E", 0, nil)
	in.KeyConditionExpression = aws.String("#pk = :exec")
	in.ExpressionAttributeNames = map[string]string{"#pk": "pk"}
	bad["table key on the index"] = in
	for name, in := range bad {
		if _, err := d.Query(ctx, in); validationMessage(err) == "" {
			t.Errorf("%s: %v, want ValidationException", name, err)
		}
	}
}

// TestHooksListAndDisposeExecution: pkg/hooks' ListHooks pages through an
// execution's hooks on the model (Query of byExecution, BatchGetItem),
// with its state filters, also when the last page is full and DynamoDB
// answers one more, empty page; DisposeExecution disposes every hook of
// the execution and none of another.
func TestHooksListAndDisposeExecution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const other = modelExec + "-other"
	for _, fullPage := range []bool{false, true} {
		d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1, KeyOnFullPage: fullPage})
		sf := NewStepFunctions(-1)
		c := modelClient(t, d, sf)
		for i := range 6 {
			if _, err := c.Register(ctx, hooks.RegisterInput{Token: fmt.Sprintf("h%d", i), ExecutionARN: modelExec}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.Register(ctx, hooks.RegisterInput{Token: "o", ExecutionARN: other}); err != nil {
			t.Fatal(err)
		}
		sf.NewTask("T", modelExec)
		if err := c.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: "h1", ExecutionARN: modelExec}, TaskToken: "T"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ResumeHook(ctx, "h4", json.RawMessage(`{"p":1}`)); err != nil {
			t.Fatal(err)
		}
		list := func(state hooks.State) (tokens []string, pages int) {
			t.Helper()
			in := hooks.ListHooksInput{ExecutionARN: modelExec, State: state, Limit: 2}
			for {
				out, err := c.ListHooks(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, h := range out.Hooks {
					tokens = append(tokens, h.Token)
				}
				if out.NextToken == "" {
					return tokens, pages
				}
				in.NextToken = out.NextToken
			}
		}
		wantPages := 3
		if fullPage {
			wantPages = 4 // 6 hooks, pages of 2: the third is full, a fourth is empty
		}
		if got, pages := list(""); strings.Join(got, ",") != "h0,h1,h2,h3,h4,h5" || pages != wantPages {
			t.Errorf("fullPage %v: ListHooks: %v in %d pages, want h0…h5 in %d", fullPage, got, pages, wantPages)
		}
		if got, _ := list(hooks.StateWaiting); strings.Join(got, ",") != "h1" {
			t.Errorf("fullPage %v: waiting: %v, want [h1]", fullPage, got)
		}
		if got, _ := list(hooks.StatePending); strings.Join(got, ",") != "h4" {
			t.Errorf("fullPage %v: pending: %v, want [h4]", fullPage, got)
		}
		// DisposeExecution disposes the hooks of an execution that ended.
		if err := sf.Stop(modelExec); err != nil {
			t.Fatal(err)
		}
		n, err := c.DisposeExecution(ctx, modelExec)
		if err != nil || n != 6 {
			t.Errorf("fullPage %v: DisposeExecution: %d, %v; want 6 disposed", fullPage, n, err)
		}
		if got, _ := list(""); len(got) != 0 {
			t.Errorf("fullPage %v: after DisposeExecution: %v listed", fullPage, got)
		}
		if _, err := c.GetHook(ctx, "o"); err != nil {
			t.Errorf("fullPage %v: the other execution's hook: %v", fullPage, err)
		}
	}
}

// TestExpireTTL: ExpireTTL deletes every item whose expiresAt (N, epoch
// seconds) is at or before now, as DynamoDB's TTL sweep does, and returns
// their keys in key order; items without a numeric expiresAt, with one
// still ahead, with one more than five years past (DynamoDB's TTL skips
// those), or held by a transaction stay. Items returns a deep copy of the
// table in key order.
func TestExpireTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d := NewDynamoDB(Config{Latency: -1, TxHold: time.Second, PartitionWCU: -1, PartitionRCU: -1})
		now := time.Unix(1_000_000_000, 0)
		sixYears := int(now.Add(-6 * 365 * 24 * time.Hour).Unix())
		for _, it := range []map[string]types.AttributeValue{
			mkItem("b", "1", "expiresAt", 999_999_999),
			mkItem("a", "2", "expiresAt", 1_000_000_000),
			mkItem("a", "1", "expiresAt", 1_000_000_001),
			mkItem("c", "1"),
			mkItem("c", "2", "expiresAt", "999"),
			mkItem("c", "3", "expiresAt", sixYears),
			mkItem("h", "1", "expiresAt", 999_999_000),
		} {
			if err := put(ctx, d, it); err != nil {
				t.Fatal(err)
			}
		}
		d.mu.Lock()
		d.parts["a"].items["2"].attrs["expiresAt"] = &types.AttributeValueMemberN{Value: "999999999.5"}
		d.mu.Unlock()
		txDone := make(chan error, 1)
		go func() {
			_, err := d.TransactWriteItems(ctx, txSet(key("h", "2"), "expiresAt", 999_999_990, nil))
			txDone <- err
		}()
		synctest.Wait() // h/2 is held for a second

		var got []string
		for _, k := range d.ExpireTTL(now) {
			got = append(got, k.PK+"/"+k.SK)
		}
		if want := "a/2,b/1,h/1"; strings.Join(got, ",") != want {
			t.Errorf("ExpireTTL deleted %v, want [%s]", got, want)
		}
		if again := d.ExpireTTL(now); len(again) != 0 {
			t.Errorf("a second sweep deleted %v", again)
		}
		var keys []string
		items := d.Items()
		for _, it := range items {
			keys = append(keys, itemKeyOf(it))
		}
		if want := "a / 1,c / 1,c / 2,c / 3"; strings.Join(keys, ",") != want {
			t.Errorf("Items: %v, want [%s] (h/2 is not written before its commit)", keys, want)
		}
		items[0]["pk"] = str("changed")
		if it := getItem(t, ctx, d, key("a", "1")); it == nil {
			t.Error("changing the snapshot changed the model")
		}

		if err := <-txDone; err != nil {
			t.Fatal(err)
		}
		if got := d.ExpireTTL(now); len(got) != 1 || got[0] != (Key{PK: "h", SK: "2"}) {
			t.Errorf("after the commit: ExpireTTL deleted %v, want h/2", got)
		}
	})
}

// TestHooksTTL: pkg/hooks' items expire as their expiresAt says: an
// idempotency key is forgotten after IdempotencyTTL (the same key with
// another payload, refused before, is then a new resume), and a hook
// nobody disposed disappears with its stored payloads after HookTTL (a
// resume is then ErrHookNotFound).
func TestHooksTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1})
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	c, err := hooks.New(aws.Config{Region: "us-east-1"}, func(o *hooks.Options) {
		o.TableName, o.DynamoDB, o.StepFunctions = tbl, d, NewStepFunctions(-1)
		o.Now = func() time.Time { return clock }
		o.HookTTL, o.IdempotencyTTL = 48*time.Hour, time.Hour
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: "h", ExecutionARN: modelExec}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, "h", json.RawMessage(`{"p":1}`), hooks.WithIdempotencyKey("k")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, "h", json.RawMessage(`{"p":2}`), hooks.WithIdempotencyKey("k")); !errors.Is(err, hooks.ErrIdempotencyMismatch) {
		t.Fatalf("key k with another payload: %v, want ErrIdempotencyMismatch", err)
	}
	clock = t0.Add(2 * time.Hour)
	deleted := d.ExpireTTL(clock)
	if len(deleted) != 1 || !strings.HasPrefix(deleted[0].SK, "IDEM#") {
		t.Fatalf("sweep after IdempotencyTTL deleted %v, want the idempotency record only", deleted)
	}
	if _, err := c.ResumeHook(ctx, "h", json.RawMessage(`{"p":2}`), hooks.WithIdempotencyKey("k")); err != nil {
		t.Fatalf("key k after it expired: %v, want a new resume", err)
	}
	if st, err := c.GetHook(ctx, "h"); err != nil || st.Pending != 2 {
		t.Fatalf("GetHook: %+v, %v; want 2 pending", st, err)
	}
	clock = t0.Add(49 * time.Hour)
	if deleted := d.ExpireTTL(clock); len(deleted) != 4 {
		t.Errorf("sweep after HookTTL deleted %v, want the hook, its 2 payloads and the new record", deleted)
	}
	if items := d.Items(); len(items) != 0 {
		t.Errorf("after the sweeps the table holds %d items", len(items))
	}
	if _, err := c.ResumeHook(ctx, "h", json.RawMessage(`{"p":3}`)); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Errorf("resume of an expired hook: %v, want ErrHookNotFound", err)
	}
}
