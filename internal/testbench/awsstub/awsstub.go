// Package awsstub answers the AWS calls of the fast paths of pkg/hooks in
// memory, so that benchmarks measure the library and the handlers without
// the network. These are not fakes of the services: each stub answers one
// call the way the service answers it in one known state; anything else
// panics. Tests of behaviour run against the emulator (scripts/stack.sh).
package awsstub

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// ParkedHook answers UpdateItem with Item, as DynamoDB answers the resume's
// conditional write (R1, ReturnValues ALL_NEW) on a hook with an await
// parked. Other calls panic.
type ParkedHook struct {
	hooks.DynamoDBAPI // nil
	Item              map[string]types.AttributeValue
}

// UpdateItem implements hooks.DynamoDBAPI.
func (d ParkedHook) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{Attributes: d.Item}, nil
}

// NewParkedHook is a ParkedHook for token, of kind ("hook" or "webhook"),
// with the webhook's respondWith JSON when respond is not empty.
func NewParkedHook(token, kind, respond string) ParkedHook {
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	num := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	item := map[string]types.AttributeValue{
		"pk": str("HOOK#" + token), "sk": str("HOOK"), "token": str(token),
		"hookId": str("hid"), "executionArn": str("arn:aws:states:us-east-1:123456789012:execution:m:e"),
		"kind": str(kind), "createdAt": str("2026-11-26T00:00:00Z"), "seq": num("8"), "dlv": num("8"),
		"waiter": str("AQCEAAAAKgAAAAMAAAAAAAAAAVmLE3Ay"), "expiresAt": num("1830000000"),
		"inflight": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"id": str("fid"), "payload": str("{}"), "at": num("1790000000000"),
		}},
	}
	if respond != "" {
		item["respond"] = str(respond)
	}
	return ParkedHook{Item: item}
}

// AcceptingSFN completes any task token, counting its calls in Calls (when
// not nil) as the SDK middleware would.
type AcceptingSFN struct{ Calls *awscalls.Counter }

// SendTaskSuccess implements hooks.StepFunctionsAPI.
func (s AcceptingSFN) SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	if s.Calls != nil {
		s.Calls.Inc("SFN.SendTaskSuccess")
	}
	return &sfn.SendTaskSuccessOutput{}, nil
}

// SendTaskFailure implements hooks.StepFunctionsAPI.
func (s AcceptingSFN) SendTaskFailure(context.Context, *sfn.SendTaskFailureInput, ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	if s.Calls != nil {
		s.Calls.Inc("SFN.SendTaskFailure")
	}
	return &sfn.SendTaskFailureOutput{}, nil
}

// SendTaskHeartbeat implements hooks.StepFunctionsAPI.
func (s AcceptingSFN) SendTaskHeartbeat(context.Context, *sfn.SendTaskHeartbeatInput, ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	if s.Calls != nil {
		s.Calls.Inc("SFN.SendTaskHeartbeat")
	}
	return &sfn.SendTaskHeartbeatOutput{}, nil
}

// ParkedClient is a hooks.Client whose AWS calls are answered by
// NewParkedHook(token, kind, respond) and AcceptingSFN: every resume of
// token takes the fast path without the network.
func ParkedClient(token, kind, respond string) (*hooks.Client, error) {
	return hooks.New(aws.Config{}, func(o *hooks.Options) {
		o.TableName = "awsstub"
		o.DynamoDB = NewParkedHook(token, kind, respond)
		o.StepFunctions = AcceptingSFN{}
	})
}

// DescribeExecution implements hooks.StepFunctionsAPI: every execution runs.
func (s AcceptingSFN) DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	if s.Calls != nil {
		s.Calls.Inc("SFN.DescribeExecution")
	}
	return &sfn.DescribeExecutionOutput{Status: sfntypes.ExecutionStatusRunning}, nil
}

// GetExecutionHistory implements hooks.StepFunctionsAPI. Only a closed
// task calls it, which never happens on the paths these stubs serve.
func (s AcceptingSFN) GetExecutionHistory(context.Context, *sfn.GetExecutionHistoryInput, ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	panic("awsstub: GetExecutionHistory is not on a fast path")
}
