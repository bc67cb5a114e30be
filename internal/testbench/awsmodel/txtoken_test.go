package awsmodel

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// incr is a transaction that adds one to n of item pk/sk, under cond
// (none when empty), with the ClientRequestToken tok.
func incr(pk, cond, tok string) *dynamodb.TransactWriteItemsInput {
	u := &types.Update{
		TableName: aws.String(tbl), Key: key(pk, "s"),
		UpdateExpression:          aws.String("SET #n = if_not_exists(#n, :zero) + :one"),
		ExpressionAttributeNames:  map[string]string{"#n": "n"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": numv(0), ":one": numv(1)},
	}
	if cond != "" {
		u.ConditionExpression = aws.String(cond)
		u.ExpressionAttributeNames["#ok"] = "ok"
	}
	return &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String(tok), TransactItems: []types.TransactWriteItem{{Update: u}}}
}

// TestTransactClientRequestToken holds the model to DynamoDB's
// TransactWriteItems idempotency (API reference, ClientRequestToken): the
// same token with the same request within 10 minutes of the first one's
// completion succeeds without applying again; with another request it is
// IdempotentParameterMismatchException; after 10 minutes it is a new
// request. A canceled transaction is not remembered (nothing was applied;
// the API reference speaks of the request that completed, and AWS's
// answer to a resent canceled request is not documented: the model
// applies it as a new one). A token is 1 to 36 characters. moto ignores
// the token, so only the model can show this.
func TestTransactClientRequestToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d := NewDynamoDB(Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1})
		n := func(pk string) string {
			t.Helper()
			return numAttr(getItem(t, ctx, d, key(pk, "s")), "n")
		}
		tx := func(in *dynamodb.TransactWriteItemsInput) error {
			_, err := d.TransactWriteItems(ctx, in)
			return err
		}

		// Applied once, answered twice.
		if err := tx(incr("a", "", "tok-a")); err != nil {
			t.Fatal(err)
		}
		if err := tx(incr("a", "", "tok-a")); err != nil {
			t.Fatalf("the same request with the same token: %v, want success", err)
		}
		if got := n("a"); got != "1" {
			t.Fatalf("n = %s after a request sent twice with one token, want 1", got)
		}

		// The same token with another request.
		other := incr("a", "", "tok-a")
		other.TransactItems[0].Update.ExpressionAttributeValues[":one"] = numv(5)
		var mismatch *types.IdempotentParameterMismatchException
		if err := tx(other); !errors.As(err, &mismatch) {
			t.Fatalf("another request with a used token: %v, want IdempotentParameterMismatchException", err)
		}
		if got := n("a"); got != "1" {
			t.Fatalf("n = %s after a refused request, want 1", got)
		}

		// Ten minutes after, the token is new again.
		time.Sleep(10*time.Minute + time.Second)
		if err := tx(incr("a", "", "tok-a")); err != nil {
			t.Fatal(err)
		}
		if got := n("a"); got != "2" {
			t.Fatalf("n = %s after the token expired and the request was sent again, want 2", got)
		}

		// A canceled transaction is not remembered.
		if err := put(ctx, d, mkItem("b", "s", "ok", 0)); err != nil {
			t.Fatal(err)
		}
		var canceled *types.TransactionCanceledException
		if err := tx(incr("b", "#ok = :one", "tok-b")); !errors.As(err, &canceled) {
			t.Fatalf("a transaction whose condition fails: %v, want TransactionCanceledException", err)
		}
		if err := set(ctx, d, key("b", "s"), "ok", 1, ""); err != nil {
			t.Fatal(err)
		}
		if err := tx(incr("b", "#ok = :one", "tok-b")); err != nil {
			t.Fatalf("the canceled request sent again with its token once its condition holds: %v, want it applied", err)
		}
		if got := n("b"); got != "1" {
			t.Fatalf("n = %s, want 1", got)
		}

		// Length 1 to 36.
		for _, tok := range []string{"", strings.Repeat("x", 37)} {
			var api smithy.APIError
			if err := tx(incr("c", "", tok)); !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
				t.Errorf("token of %d characters: %v, want ValidationException", len(tok), err)
			}
		}
		if err := tx(incr("c", "", strings.Repeat("x", 36))); err != nil {
			t.Errorf("token of 36 characters: %v", err)
		}
	})
}

// TestTransactClientRequestTokenInProgress: the same token while the first
// request still holds its items (Config.TxHold) is
// TransactionInProgressException, and applies nothing.
func TestTransactClientRequestTokenInProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		d := NewDynamoDB(Config{Latency: 10 * time.Millisecond, TxHold: 100 * time.Millisecond, PartitionWCU: -1, PartitionRCU: -1})
		first := make(chan error, 1)
		go func() {
			_, err := d.TransactWriteItems(ctx, incr("a", "", "tok"))
			first <- err
		}()
		time.Sleep(50 * time.Millisecond) // the first one is applied and holds its item
		_, err := d.TransactWriteItems(ctx, incr("a", "", "tok"))
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		var inProgress *types.TransactionInProgressException
		if !errors.As(err, &inProgress) {
			t.Fatalf("the same token during the first request's hold: %v, want TransactionInProgressException", err)
		}
		if _, err := d.TransactWriteItems(ctx, incr("a", "", "tok")); err != nil {
			t.Fatalf("the same token after the first request completed: %v", err)
		}
		if got := numAttr(getItem(t, ctx, d, key("a", "s")), "n"); got != "1" {
			t.Fatalf("n = %s, want 1", got)
		}
	})
}
