package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The review rig: the AWS model driven directly, one client per Lambda
// invocation, with a fault (and optional interleaving) on the n-th call
// of an operation. Run it inside synctest.Test so that the protocol's
// waits (RedriveAfter, HandOffWait, backoff) cost no real time.

type rig struct {
	db *awsmodel.DynamoDB
	sf *awsmodel.StepFunctions
}

func newRig() *rig {
	r := &rig{
		db: awsmodel.NewDynamoDB(awsmodel.Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1}),
		sf: awsmodel.NewStepFunctions(-1),
	}
	r.sf.Strict = true
	return r
}

// rfault is what happens to one call.
type rfault struct {
	kind Fault
	// between runs after the call applied and before the resend (Lost),
	// or before the call (None).
	between func()
}

// tap counts an invocation's calls per operation and applies its faults.
type tap struct {
	mu     sync.Mutex
	n      map[string]int
	rules  map[string]rfault // "DynamoDB.UpdateItem#2"
	Calls  []string
	rnd    *rand.Rand
	prefix string
}

func (r *rig) client(name string, rules map[string]rfault) (*hooks.Client, *tap) {
	t := &tap{n: map[string]int{}, rules: rules, rnd: rand.New(rand.NewPCG(hash64(name), 7)), prefix: name}
	c, err := hooks.New(awsConfig(), func(o *hooks.Options) {
		o.TableName = "sim"
		o.DynamoDB = tapDB{t: t, inner: r.db}
		o.StepFunctions = tapSFN{t: t, inner: r.sf}
		o.KMS = unusedKMS{}
		o.Secrets = unusedSecrets{}
		o.NewID = func() string { return fmt.Sprintf("%s-%016x", sanitize(name), t.rnd.Uint64()) }
		o.Jitter = func(d time.Duration) time.Duration { return time.Duration(t.rnd.Int64N(int64(d) + 1)) }
	})
	if err != nil {
		panic(err)
	}
	return c, t
}

// parkThenStop starts reviewExec, parks its await of task t1 on the hook
// and stops the execution (its end event not handled yet); it returns the
// await's client.
func (r *rig) parkThenStop(t *testing.T) *hooks.Client {
	t.Helper()
	r.sf.Start(reviewExec)
	r.sf.NewTask("t1", reviewExec)
	aw, _ := r.client("await1", nil)
	mustAwait(t, aw, "t1")
	if err := r.sf.Stop(reviewExec); err != nil {
		t.Fatal(err)
	}
	return aw
}

func tcall[T any](t *tap, op string, do func() (T, error)) (T, error) {
	var zero T
	t.mu.Lock()
	t.n[op]++
	key := fmt.Sprintf("%s#%d", op, t.n[op])
	f, ok := t.rules[key]
	t.Calls = append(t.Calls, key)
	t.mu.Unlock()
	if !ok {
		return do()
	}
	switch f.kind {
	case None:
		if f.between != nil {
			f.between()
		}
		return do()
	case Refused:
		return zero, &smithy.GenericAPIError{Code: "InternalServerError", Message: "review: refused", Fault: smithy.FaultServer}
	case Throttled:
		if op[:3] == "SFN" {
			return zero, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "review: throttled past the SDK's retries"}
		}
		return zero, &ddbtypes.ProvisionedThroughputExceededException{Message: aws.String("review: throttled")}
	case Conflict:
		if op == "DynamoDB.TransactWriteItems" {
			return zero, &ddbtypes.TransactionCanceledException{Message: aws.String("review: [TransactionConflict]"),
				CancellationReasons: []ddbtypes.CancellationReason{{Code: aws.String("TransactionConflict")}}}
		}
		return zero, &ddbtypes.TransactionConflictException{Message: aws.String("review: conflict")}
	case Lost:
		_, _ = do()
		if f.between != nil {
			f.between()
		}
		return do()
	case Crash:
		_, _ = do()
		panic(crashed{op: op})
	}
	return do()
}

// invoke runs fn as one Lambda invocation: a crash is an error.
func invoke(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(crashed); !ok {
				panic(r)
			}
			err = fmt.Errorf("crashed")
		}
	}()
	return fn()
}

type tapDB struct {
	t     *tap
	inner hooks.DynamoDBAPI
}

func (d tapDB) GetItem(ctx context.Context, p *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return tcall(d.t, "DynamoDB.GetItem", func() (*dynamodb.GetItemOutput, error) { return d.inner.GetItem(ctx, p, o...) })
}
func (d tapDB) PutItem(ctx context.Context, p *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return tcall(d.t, "DynamoDB.PutItem", func() (*dynamodb.PutItemOutput, error) { return d.inner.PutItem(ctx, p, o...) })
}
func (d tapDB) UpdateItem(ctx context.Context, p *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return tcall(d.t, "DynamoDB.UpdateItem", func() (*dynamodb.UpdateItemOutput, error) { return d.inner.UpdateItem(ctx, p, o...) })
}
func (d tapDB) DeleteItem(ctx context.Context, p *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return tcall(d.t, "DynamoDB.DeleteItem", func() (*dynamodb.DeleteItemOutput, error) { return d.inner.DeleteItem(ctx, p, o...) })
}
func (d tapDB) Query(ctx context.Context, p *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return tcall(d.t, "DynamoDB.Query", func() (*dynamodb.QueryOutput, error) { return d.inner.Query(ctx, p, o...) })
}
func (d tapDB) TransactWriteItems(ctx context.Context, p *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return tcall(d.t, "DynamoDB.TransactWriteItems", func() (*dynamodb.TransactWriteItemsOutput, error) { return d.inner.TransactWriteItems(ctx, p, o...) })
}
func (d tapDB) BatchWriteItem(ctx context.Context, p *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return tcall(d.t, "DynamoDB.BatchWriteItem", func() (*dynamodb.BatchWriteItemOutput, error) { return d.inner.BatchWriteItem(ctx, p, o...) })
}
func (d tapDB) BatchGetItem(ctx context.Context, p *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return tcall(d.t, "DynamoDB.BatchGetItem", func() (*dynamodb.BatchGetItemOutput, error) { return d.inner.BatchGetItem(ctx, p, o...) })
}

type tapSFN struct {
	t     *tap
	inner hooks.StepFunctionsAPI
}

func (s tapSFN) SendTaskSuccess(ctx context.Context, p *sfn.SendTaskSuccessInput, o ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	return tcall(s.t, "SFN.SendTaskSuccess", func() (*sfn.SendTaskSuccessOutput, error) { return s.inner.SendTaskSuccess(ctx, p, o...) })
}
func (s tapSFN) SendTaskFailure(ctx context.Context, p *sfn.SendTaskFailureInput, o ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	return tcall(s.t, "SFN.SendTaskFailure", func() (*sfn.SendTaskFailureOutput, error) { return s.inner.SendTaskFailure(ctx, p, o...) })
}
func (s tapSFN) SendTaskHeartbeat(ctx context.Context, p *sfn.SendTaskHeartbeatInput, o ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	return tcall(s.t, "SFN.SendTaskHeartbeat", func() (*sfn.SendTaskHeartbeatOutput, error) { return s.inner.SendTaskHeartbeat(ctx, p, o...) })
}
func (s tapSFN) DescribeExecution(ctx context.Context, p *sfn.DescribeExecutionInput, o ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	return tcall(s.t, "SFN.DescribeExecution", func() (*sfn.DescribeExecutionOutput, error) { return s.inner.DescribeExecution(ctx, p, o...) })
}
func (s tapSFN) GetExecutionHistory(ctx context.Context, p *sfn.GetExecutionHistoryInput, o ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	return tcall(s.t, "SFN.GetExecutionHistory", func() (*sfn.GetExecutionHistoryOutput, error) { return s.inner.GetExecutionHistory(ctx, p, o...) })
}
