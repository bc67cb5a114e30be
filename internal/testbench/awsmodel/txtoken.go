package awsmodel

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TransactWriteItems idempotency (ClientRequestToken, DynamoDB API
// reference): a request whose token a transaction that applied used within
// the last TokenWindow is answered success without being applied again, if
// it is the same request; another request with that token is
// IdempotentParameterMismatchException; while the first still holds its
// items, TransactionInProgressException. Canceled, throttled or refused
// transactions applied nothing and are not remembered.

// TokenWindow is how long DynamoDB remembers a ClientRequestToken after the
// transaction that used it completed.
const TokenWindow = 10 * time.Minute

// maxTokenLen is the longest ClientRequestToken DynamoDB accepts (1 to 36
// characters).
const maxTokenLen = 36

// usedToken is a transaction that applied with a ClientRequestToken.
type usedToken struct {
	token string
	sum   [sha256.Size]byte // the request, as fingerprint computes it
	done  time.Time         // its commit (the end of its hold)
}

// tokens is the model's memory of the tokens of applied transactions, in
// the order they completed (under DynamoDB.mu).
type tokens struct {
	by    map[string]*usedToken
	order []*usedToken
}

// forget drops the tokens whose window is over at now.
func (ts *tokens) forget(now time.Time) {
	i := 0
	for i < len(ts.order) && !now.Before(ts.order[i].done.Add(TokenWindow)) {
		if ts.by[ts.order[i].token] == ts.order[i] {
			delete(ts.by, ts.order[i].token)
		}
		i++
	}
	ts.order = ts.order[i:]
}

// check answers a request with token tok and fingerprint sum: done is true
// when it was applied already (answer success, apply nothing); err is its
// refusal.
func (ts *tokens) check(tok string, sum [sha256.Size]byte, now time.Time) (done bool, err error) {
	if len(tok) < 1 || len(tok) > maxTokenLen {
		return false, validation(fmt.Sprintf("1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length between 1 and %d", maxTokenLen))
	}
	ts.forget(now)
	u := ts.by[tok]
	switch {
	case u == nil:
		return false, nil
	case u.sum != sum:
		return false, &types.IdempotentParameterMismatchException{Message: aws.String("Request has a ClientRequestToken that was already used with different parameters")}
	case now.Before(u.done):
		return false, &types.TransactionInProgressException{Message: aws.String("The transaction with the given request token is already in progress.")}
	}
	return true, nil
}

// remember records that the transaction with token tok applied and
// completes at done.
func (ts *tokens) remember(tok string, sum [sha256.Size]byte, done time.Time) {
	if ts.by == nil {
		ts.by = map[string]*usedToken{}
	}
	u := &usedToken{token: tok, sum: sum, done: done}
	ts.by[tok] = u
	// Completion times only grow (the clock under the lock, one hold).
	ts.order = append(ts.order, u)
}

// fingerprint is a digest of everything in a TransactWriteItems request
// but its token: two requests are "the same" when their digests are.
func fingerprint(in *dynamodb.TransactWriteItemsInput) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "rcc=%s;icm=%s;n=%d;", in.ReturnConsumedCapacity, in.ReturnItemCollectionMetrics, len(in.TransactItems))
	for _, ti := range in.TransactItems {
		switch {
		case ti.Put != nil:
			p := ti.Put
			writeOp(h, "put", p.TableName, p.Item, p.ConditionExpression, nil, p.ExpressionAttributeNames, p.ExpressionAttributeValues, p.ReturnValuesOnConditionCheckFailure)
		case ti.Update != nil:
			u := ti.Update
			writeOp(h, "update", u.TableName, u.Key, u.ConditionExpression, u.UpdateExpression, u.ExpressionAttributeNames, u.ExpressionAttributeValues, u.ReturnValuesOnConditionCheckFailure)
		case ti.Delete != nil:
			x := ti.Delete
			writeOp(h, "delete", x.TableName, x.Key, x.ConditionExpression, nil, x.ExpressionAttributeNames, x.ExpressionAttributeValues, x.ReturnValuesOnConditionCheckFailure)
		case ti.ConditionCheck != nil:
			x := ti.ConditionCheck
			writeOp(h, "check", x.TableName, x.Key, x.ConditionExpression, nil, x.ExpressionAttributeNames, x.ExpressionAttributeValues, x.ReturnValuesOnConditionCheckFailure)
		default:
			fmt.Fprint(h, "empty;")
		}
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

func writeOp(h hash.Hash, op string, table *string, item map[string]types.AttributeValue, cond, upd *string,
	names map[string]string, values map[string]types.AttributeValue, rv types.ReturnValuesOnConditionCheckFailure) {
	fmt.Fprintf(h, "%s;%q;%q;%q;%q;", op, aws.ToString(table), aws.ToString(cond), aws.ToString(upd), rv)
	writeMap(h, item)
	for _, k := range slices.Sorted(maps.Keys(names)) {
		fmt.Fprintf(h, "%q=%q,", k, names[k])
	}
	fmt.Fprint(h, ";")
	writeMap(h, values)
}

func writeMap(h hash.Hash, m map[string]types.AttributeValue) {
	fmt.Fprint(h, "{")
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(h, "%q:", k)
		writeValue(h, m[k])
		fmt.Fprint(h, ",")
	}
	fmt.Fprint(h, "}")
}

// writeValue writes an attribute value with its type, so that "1" (S)
// and 1 (N) differ.
func writeValue(h hash.Hash, v types.AttributeValue) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		fmt.Fprintf(h, "S%q", v.Value)
	case *types.AttributeValueMemberN:
		fmt.Fprintf(h, "N%q", v.Value)
	case *types.AttributeValueMemberB:
		fmt.Fprintf(h, "B%x", v.Value)
	case *types.AttributeValueMemberBOOL:
		fmt.Fprintf(h, "BOOL%v", v.Value)
	case *types.AttributeValueMemberNULL:
		fmt.Fprintf(h, "NULL%v", v.Value)
	case *types.AttributeValueMemberM:
		fmt.Fprint(h, "M")
		writeMap(h, v.Value)
	case *types.AttributeValueMemberL:
		fmt.Fprint(h, "L[")
		for _, e := range v.Value {
			writeValue(h, e)
			fmt.Fprint(h, ",")
		}
		fmt.Fprint(h, "]")
	case *types.AttributeValueMemberSS:
		fmt.Fprintf(h, "SS%q", v.Value)
	case *types.AttributeValueMemberNS:
		fmt.Fprintf(h, "NS%q", v.Value)
	case *types.AttributeValueMemberBS:
		fmt.Fprintf(h, "BS%x", v.Value)
	default:
		fmt.Fprintf(h, "?%T", v)
	}
}
