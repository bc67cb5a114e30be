package hooks_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

func suffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// testClient returns a Client on a fresh table in moto (talking to moto
// directly: these tests run no state machine, so they need no bridge), the
// DynamoDB client, and a counter of the client's AWS calls. optFns adjust
// the client's options.
func testClient(tb testing.TB, optFns ...func(*hooks.Options)) (*hooks.Client, *dynamodb.Client, *awscalls.Counter, string) {
	tb.Helper()
	calls := &awscalls.Counter{}
	c, db, table := newTestClient(tb, calls, optFns...)
	return c, db, calls, table
}

// newTestClient is testClient counting into calls.
func newTestClient(tb testing.TB, calls *awscalls.Counter, optFns ...func(*hooks.Options)) (*hooks.Client, *dynamodb.Client, string) {
	tb.Helper()
	stk := stacktest.RequireStack(tb)
	cfg := devstack.AWSConfig(stk.MotoURL.String())
	db := dynamodb.NewFromConfig(cfg)
	table := "sfnhooks-test-" + suffix()
	ctx := context.Background()
	if _, err := db.CreateTable(ctx, hooks.TableDefinition(table)); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	tb.Cleanup(func() { _, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table}) })
	counted := cfg.Copy()
	counted.APIOptions = append(counted.APIOptions, awscalls.Middleware(calls))
	c, err := hooks.New(counted, append([]func(*hooks.Options){func(o *hooks.Options) { o.TableName = table }}, optFns...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return c, db, table
}

// scanAll returns every item of the table.
func scanAll(tb testing.TB, db *dynamodb.Client, table string) []map[string]types.AttributeValue {
	tb.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)})
	if err != nil {
		tb.Fatal(err)
	}
	return out.Items
}
