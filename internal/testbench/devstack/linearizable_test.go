package devstack_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
)

// TestStackDynamoDBIsLinearizable holds the stack (scripts/moto_server.py) to
// what real DynamoDB guarantees and the hook protocol relies on: concurrent
// conditional writes to one item are serialized, and a canceled transaction
// undoes nothing but itself. Plain moto_server fails both (its threads share
// the backend without locks, and a canceled TransactWriteItems restores a copy
// of the table taken when it began).
func TestStackDynamoDBIsLinearizable(t *testing.T) {
	stk := stacktest.RequireStack(t)
	db := dynamodb.NewFromConfig(devstack.AWSConfig(stk.MotoURL.String()), noRetry)
	ctx := context.Background()
	table := createTable(t, db, false)
	const writers, rounds = 8, 25

	// Each writer increments a counter with optimistic concurrency (read,
	// then a write conditioned on the value read), and in between runs a
	// transaction that is always canceled. Every successful increment must
	// count: the final value equals the number of successes.
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]av{"pk": s("counter"), "v": n("0")}}); err != nil {
		t.Fatal(err)
	}
	var (
		mu        sync.Mutex
		successes int
		wg        sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]av{"pk": s("counter")}, ConsistentRead: aws.Bool(true)})
				if err != nil {
					t.Error(err)
					return
				}
				v, _ := strconv.Atoi(got.Item["v"].(*avN).Value)
				_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName:                 &table,
					Key:                       map[string]av{"pk": s("counter")},
					ConditionExpression:       aws.String("v = :old"),
					UpdateExpression:          aws.String("SET v = :new"),
					ExpressionAttributeValues: map[string]av{":old": n(strconv.Itoa(v)), ":new": n(strconv.Itoa(v + 1))},
				})
				var ccf *ddbtypes.ConditionalCheckFailedException
				switch {
				case err == nil:
					mu.Lock()
					successes++
					mu.Unlock()
				case !errors.As(err, &ccf):
					t.Error(err)
					return
				}
				own := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(r)
				_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
					{Put: &ddbtypes.Put{TableName: &table, Item: map[string]av{"pk": s(own)}}},
					{ConditionCheck: &ddbtypes.ConditionCheck{TableName: &table, Key: map[string]av{"pk": s("counter")}, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
				}})
				var tce *ddbtypes.TransactionCanceledException
				if !errors.As(err, &tce) {
					t.Errorf("transaction: %v, want TransactionCanceledException", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]av{"pk": s("counter")}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Item["v"].(*avN).Value; v != strconv.Itoa(successes) {
		t.Errorf("counter is %s after %d successful conditional increments: writes were lost or doubled", v, successes)
	}
	if successes == 0 {
		t.Error("no increment succeeded")
	}
	t.Logf("%d of %d conditional increments succeeded", successes, writers*rounds)
}
