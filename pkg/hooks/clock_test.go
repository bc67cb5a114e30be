package hooks_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// testClock is a clock a test moves by hand (Options.Now), for the
// protocol's time-based rules: a link's life, the idempotency TTL, a held
// caller's deadline.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now().Truncate(time.Second)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// expireTTL does what DynamoDB's TTL does once the clock reads now (moto
// runs no TTL): every item whose expiresAt (epoch seconds) is before now
// is deleted. It returns how many it deleted.
func expireTTL(tb testing.TB, db *dynamodb.Client, table string, now time.Time) int {
	tb.Helper()
	deleted := 0
	for _, item := range scanAll(tb, db, table) {
		v, ok := item["expiresAt"].(*types.AttributeValueMemberN)
		if !ok {
			continue
		}
		at, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			tb.Fatalf("expiresAt %q: %v", v.Value, err)
		}
		if at >= now.Unix() {
			continue
		}
		key := map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]}
		if _, err := db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: &table, Key: key}); err != nil {
			tb.Fatal(err)
		}
		deleted++
	}
	return deleted
}
