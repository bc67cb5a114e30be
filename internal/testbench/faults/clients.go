package faults

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// DynamoDB wraps inner so that its calls go through the injector.
func (in *Injector) DynamoDB(inner hooks.DynamoDBAPI) hooks.DynamoDBAPI {
	return &dynamoDB{in: in, inner: inner}
}

// StepFunctions wraps inner so that its calls go through the injector.
func (in *Injector) StepFunctions(inner hooks.StepFunctionsAPI) hooks.StepFunctionsAPI {
	return &stepFunctions{in: in, inner: inner}
}

type dynamoDB struct {
	in    *Injector
	inner hooks.DynamoDBAPI
}

func (d *dynamoDB) GetItem(ctx context.Context, p *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return do(d.in, "DynamoDB.GetItem", func() (*dynamodb.GetItemOutput, error) { return d.inner.GetItem(ctx, p, o...) })
}

func (d *dynamoDB) PutItem(ctx context.Context, p *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return do(d.in, "DynamoDB.PutItem", func() (*dynamodb.PutItemOutput, error) { return d.inner.PutItem(ctx, p, o...) })
}

func (d *dynamoDB) UpdateItem(ctx context.Context, p *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return do(d.in, "DynamoDB.UpdateItem", func() (*dynamodb.UpdateItemOutput, error) { return d.inner.UpdateItem(ctx, p, o...) })
}

func (d *dynamoDB) DeleteItem(ctx context.Context, p *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return do(d.in, "DynamoDB.DeleteItem", func() (*dynamodb.DeleteItemOutput, error) { return d.inner.DeleteItem(ctx, p, o...) })
}

func (d *dynamoDB) Query(ctx context.Context, p *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return do(d.in, "DynamoDB.Query", func() (*dynamodb.QueryOutput, error) { return d.inner.Query(ctx, p, o...) })
}

func (d *dynamoDB) TransactWriteItems(ctx context.Context, p *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return do(d.in, "DynamoDB.TransactWriteItems", func() (*dynamodb.TransactWriteItemsOutput, error) { return d.inner.TransactWriteItems(ctx, p, o...) })
}

func (d *dynamoDB) BatchWriteItem(ctx context.Context, p *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return do(d.in, "DynamoDB.BatchWriteItem", func() (*dynamodb.BatchWriteItemOutput, error) { return d.inner.BatchWriteItem(ctx, p, o...) })
}

func (d *dynamoDB) BatchGetItem(ctx context.Context, p *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return do(d.in, "DynamoDB.BatchGetItem", func() (*dynamodb.BatchGetItemOutput, error) { return d.inner.BatchGetItem(ctx, p, o...) })
}

type stepFunctions struct {
	in    *Injector
	inner hooks.StepFunctionsAPI
}

func (s *stepFunctions) SendTaskSuccess(ctx context.Context, p *sfn.SendTaskSuccessInput, o ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	return do(s.in, "SFN.SendTaskSuccess", func() (*sfn.SendTaskSuccessOutput, error) { return s.inner.SendTaskSuccess(ctx, p, o...) })
}

func (s *stepFunctions) SendTaskFailure(ctx context.Context, p *sfn.SendTaskFailureInput, o ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	return do(s.in, "SFN.SendTaskFailure", func() (*sfn.SendTaskFailureOutput, error) { return s.inner.SendTaskFailure(ctx, p, o...) })
}

func (s *stepFunctions) SendTaskHeartbeat(ctx context.Context, p *sfn.SendTaskHeartbeatInput, o ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	return do(s.in, "SFN.SendTaskHeartbeat", func() (*sfn.SendTaskHeartbeatOutput, error) { return s.inner.SendTaskHeartbeat(ctx, p, o...) })
}

func (s *stepFunctions) DescribeExecution(ctx context.Context, p *sfn.DescribeExecutionInput, o ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	return do(s.in, "SFN.DescribeExecution", func() (*sfn.DescribeExecutionOutput, error) { return s.inner.DescribeExecution(ctx, p, o...) })
}

func (s *stepFunctions) GetExecutionHistory(ctx context.Context, p *sfn.GetExecutionHistoryInput, o ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	return do(s.in, "SFN.GetExecutionHistory", func() (*sfn.GetExecutionHistoryOutput, error) { return s.inner.GetExecutionHistory(ctx, p, o...) })
}
