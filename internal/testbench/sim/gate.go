package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Fault is what the simulator does to one AWS call.
type Fault int

const (
	// None: the call is made and answered.
	None Fault = iota
	// Refused: the call fails before it applies (a 5xx the SDK's retries
	// did not outlast).
	Refused
	// Throttled: throttled past the SDK's retries; nothing applied.
	Throttled
	// Conflict: DynamoDB's TransactionConflict (a write or transaction on
	// an item a transaction holds); nothing applied. DynamoDB calls only.
	Conflict
	// Lost: the call applies, its answer is lost, and the SDK resends it
	// (later, after other actors' calls): the caller sees the resend's answer.
	Lost
	// Crash: the call applies, then the Lambda dies before it sees the answer.
	Crash
)

var faultNames = [...]string{"none", "refused", "throttled", "conflict", "lost", "crash"}

func (f Fault) String() string {
	if int(f) < len(faultNames) {
		return faultNames[f]
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// crashed is the panic value of an injected crash: it abandons the
// actor's operation at that point, as a killed Lambda would.
type crashed struct{ op string }

// errShutdown answers the calls still waiting when a run ends.
var errShutdown = &smithy.GenericAPIError{Code: "SimulationOver", Message: "the simulation ended"}

// call runs one AWS call of actor a under the scheduler: it waits for its
// turn, then applies the fault the scheduler chose.
func call[T any](a *actor, op string, do func() (T, error)) (T, error) {
	var zero T
	f, ok := a.w.gate(a, op)
	if !ok {
		return zero, errShutdown
	}
	switch f {
	case Refused:
		return zero, &smithy.GenericAPIError{Code: "InternalServerError", Message: "simulated: refused before it applied", Fault: smithy.FaultServer}
	case Throttled:
		if op[:3] == "SFN" {
			return zero, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "simulated: throttled past the SDK's retries"}
		}
		return zero, &ddbtypes.ProvisionedThroughputExceededException{Message: aws.String("simulated: throttled past the SDK's retries")}
	case Conflict:
		if op == "DynamoDB.TransactWriteItems" {
			return zero, &ddbtypes.TransactionCanceledException{Message: aws.String("simulated: Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]"),
				CancellationReasons: []ddbtypes.CancellationReason{{Code: aws.String("TransactionConflict"), Message: aws.String("Transaction is ongoing for the item")}}}
		}
		return zero, &ddbtypes.TransactionConflictException{Message: aws.String("simulated: Transaction is ongoing for the item")}
	case Lost:
		_, _ = do()
		a.w.aud.items(op)
		// The SDK resends after its timeout and backoff: other actors (and
		// Step Functions) move on meanwhile.
		if !sleepCtx(a.w.ctx, time.Duration(a.rnd.IntN(2000))*time.Millisecond) {
			return zero, errShutdown
		}
		if _, ok := a.w.gate(a, op+" (resend)"); !ok {
			return zero, errShutdown
		}
		return checked(a, op, do)
	case Crash:
		_, _ = do()
		a.w.aud.items(op)
		panic(crashed{op: op})
	}
	return checked(a, op, do)
}

// checked makes the call and checks the protocol's item invariants after it.
func checked[T any](a *actor, op string, do func() (T, error)) (T, error) {
	out, err := do()
	a.w.aud.items(op)
	return out, err
}

// simDynamoDB passes an actor's DynamoDB calls through the scheduler.
type simDynamoDB struct {
	a     *actor
	inner hooks.DynamoDBAPI
}

var _ hooks.DynamoDBAPI = simDynamoDB{}

func (d simDynamoDB) GetItem(ctx context.Context, p *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return call(d.a, "DynamoDB.GetItem", func() (*dynamodb.GetItemOutput, error) { return d.inner.GetItem(ctx, p, o...) })
}

func (d simDynamoDB) PutItem(ctx context.Context, p *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return call(d.a, "DynamoDB.PutItem", func() (*dynamodb.PutItemOutput, error) { return d.inner.PutItem(ctx, p, o...) })
}

func (d simDynamoDB) UpdateItem(ctx context.Context, p *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return call(d.a, "DynamoDB.UpdateItem", func() (*dynamodb.UpdateItemOutput, error) { return d.inner.UpdateItem(ctx, p, o...) })
}

func (d simDynamoDB) DeleteItem(ctx context.Context, p *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return call(d.a, "DynamoDB.DeleteItem", func() (*dynamodb.DeleteItemOutput, error) { return d.inner.DeleteItem(ctx, p, o...) })
}

func (d simDynamoDB) Query(ctx context.Context, p *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return call(d.a, "DynamoDB.Query", func() (*dynamodb.QueryOutput, error) { return d.inner.Query(ctx, p, o...) })
}

func (d simDynamoDB) TransactWriteItems(ctx context.Context, p *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return call(d.a, "DynamoDB.TransactWriteItems", func() (*dynamodb.TransactWriteItemsOutput, error) { return d.inner.TransactWriteItems(ctx, p, o...) })
}

func (d simDynamoDB) BatchWriteItem(ctx context.Context, p *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return call(d.a, "DynamoDB.BatchWriteItem", func() (*dynamodb.BatchWriteItemOutput, error) { return d.inner.BatchWriteItem(ctx, p, o...) })
}

func (d simDynamoDB) BatchGetItem(ctx context.Context, p *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return call(d.a, "DynamoDB.BatchGetItem", func() (*dynamodb.BatchGetItemOutput, error) { return d.inner.BatchGetItem(ctx, p, o...) })
}

// simSFN passes an actor's Step Functions calls through the scheduler.
type simSFN struct {
	a     *actor
	inner hooks.StepFunctionsAPI
}

var _ hooks.StepFunctionsAPI = simSFN{}

func (s simSFN) SendTaskSuccess(ctx context.Context, p *sfn.SendTaskSuccessInput, o ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	return call(s.a, "SFN.SendTaskSuccess", func() (*sfn.SendTaskSuccessOutput, error) { return s.inner.SendTaskSuccess(ctx, p, o...) })
}

func (s simSFN) SendTaskFailure(ctx context.Context, p *sfn.SendTaskFailureInput, o ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	return call(s.a, "SFN.SendTaskFailure", func() (*sfn.SendTaskFailureOutput, error) { return s.inner.SendTaskFailure(ctx, p, o...) })
}

func (s simSFN) SendTaskHeartbeat(ctx context.Context, p *sfn.SendTaskHeartbeatInput, o ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	return call(s.a, "SFN.SendTaskHeartbeat", func() (*sfn.SendTaskHeartbeatOutput, error) { return s.inner.SendTaskHeartbeat(ctx, p, o...) })
}

func (s simSFN) DescribeExecution(ctx context.Context, p *sfn.DescribeExecutionInput, o ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	return call(s.a, "SFN.DescribeExecution", func() (*sfn.DescribeExecutionOutput, error) { return s.inner.DescribeExecution(ctx, p, o...) })
}

func (s simSFN) GetExecutionHistory(ctx context.Context, p *sfn.GetExecutionHistoryInput, o ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	return call(s.a, "SFN.GetExecutionHistory", func() (*sfn.GetExecutionHistoryOutput, error) { return s.inner.GetExecutionHistory(ctx, p, o...) })
}

// isSizeError reports DynamoDB's refusal of an item over 400 KB.
func isSizeError(err error) bool {
	var ae smithy.APIError
	return err != nil && asAPI(err, &ae) && ae.ErrorCode() == "ValidationException" && contains(ae.ErrorMessage(), "Item size")
}

var _ = sfntypes.TaskTimedOut{}
