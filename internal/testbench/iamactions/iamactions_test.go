package iamactions

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go/middleware"
)

func TestActions(t *testing.T) {
	put := types.TransactWriteItem{Put: &types.Put{}}
	update := types.TransactWriteItem{Update: &types.Update{}}
	del := types.TransactWriteItem{Delete: &types.Delete{}}
	check := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{}}
	tests := []struct {
		service, op string
		params      any
		want        []string
		wantErr     bool
	}{
		{service: "DynamoDB", op: "UpdateItem", params: &dynamodb.UpdateItemInput{}, want: []string{"dynamodb:UpdateItem"}},
		{service: "DynamoDB", op: "GetItem", want: []string{"dynamodb:GetItem"}},
		{service: "DynamoDB", op: "Query", params: &dynamodb.QueryInput{IndexName: aws.String("byExecution")}, want: []string{"dynamodb:Query"}},
		{service: "DynamoDB", op: "BatchWriteItem", params: &dynamodb.BatchWriteItemInput{}, want: []string{"dynamodb:BatchWriteItem"}},
		{service: "DynamoDB", op: "TransactWriteItems", params: &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{update, put}},
			want: []string{"dynamodb:PutItem", "dynamodb:UpdateItem"}},
		{service: "DynamoDB", op: "TransactWriteItems", params: &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{update, del}},
			want: []string{"dynamodb:DeleteItem", "dynamodb:UpdateItem"}},
		{service: "DynamoDB", op: "TransactWriteItems", params: &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put, put, check}},
			want: []string{"dynamodb:ConditionCheckItem", "dynamodb:PutItem"}},
		{service: "DynamoDB", op: "TransactGetItems", params: &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{{Get: &types.Get{}}}},
			want: []string{"dynamodb:GetItem"}},
		{service: "DynamoDB", op: "TransactWriteItems", params: &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{}}}, wantErr: true},
		{service: "DynamoDB", op: "TransactWriteItems", params: &dynamodb.PutItemInput{}, wantErr: true},
		{service: "DynamoDB", op: "ExecuteStatement", wantErr: true},
		{service: "SFN", op: "SendTaskSuccess", params: &sfn.SendTaskSuccessInput{}, want: []string{"states:SendTaskSuccess"}},
		{service: "SFN", op: "GetExecutionHistory", want: []string{"states:GetExecutionHistory"}},
		{service: "S3", op: "GetObject", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.service+"."+tc.op, func(t *testing.T) {
			got, err := Actions(tc.service, tc.op, tc.params)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Actions: %v, %v; want error %v", got, err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Actions = %q, want %q", got, tc.want)
			}
		})
	}
}

// emptyJSON answers every request 200 {}, as DynamoDB and Step Functions do
// for a call that returns nothing.
type emptyJSON struct{}

func (emptyJSON) Do(*http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:       io.NopCloser(strings.NewReader("{}")),
	}, nil
}

type fnKey struct{}

func TestRecorder(t *testing.T) {
	errUnknown := errors.New("library call on an unknown goroutine")
	rec := &Recorder{Attribute: func(ctx context.Context) (Caller, error) {
		switch fn, _ := ctx.Value(fnKey{}).(string); fn {
		case "?":
			return Caller{}, errUnknown
		default:
			return Caller{Function: fn, Via: "ctx"}, nil
		}
	}}
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
		HTTPClient:   emptyJSON{},
		APIOptions:   []func(*middleware.Stack) error{rec.Middleware},
	}
	db, tasks := dynamodb.NewFromConfig(cfg), sfn.NewFromConfig(cfg)
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}
	updateItem := func(ctx context.Context) error {
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("t"), Key: key})
		return err
	}
	getItem := func(ctx context.Context) error {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key})
		return err
	}
	transact := func(ctx context.Context) error {
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: aws.String("t"), Key: key, UpdateExpression: aws.String("SET a = :a")}},
			{Delete: &types.Delete{TableName: aws.String("t"), Key: key}},
		}})
		return err
	}
	sendTaskSuccess := func(ctx context.Context) error {
		_, err := tasks.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("t"), Output: aws.String("{}")})
		return err
	}
	calls := []struct {
		fn   string // "" = for no function, "?" = attribution fails
		call func(context.Context) error
	}{
		{"A", updateItem},
		{"A", updateItem},
		{"A", transact},
		{"B", sendTaskSuccess},
		{"", getItem},
		{"?", getItem},
	}
	for i, c := range calls {
		if err := c.call(context.WithValue(context.Background(), fnKey{}, c.fn)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}

	wantUsed := map[string][]string{
		"A": {"dynamodb:DeleteItem", "dynamodb:UpdateItem"},
		"B": {"states:SendTaskSuccess"},
	}
	if got := rec.Used(); !reflect.DeepEqual(got, wantUsed) {
		t.Errorf("Used = %q, want %q", got, wantUsed)
	}
	a := Caller{Function: "A", Via: "ctx"}
	wantUses := map[Use]int{
		{Caller: a, Action: "dynamodb:UpdateItem", Operation: "DynamoDB.UpdateItem"}:                                    2,
		{Caller: a, Action: "dynamodb:UpdateItem", Operation: "DynamoDB.TransactWriteItems"}:                            1,
		{Caller: a, Action: "dynamodb:DeleteItem", Operation: "DynamoDB.TransactWriteItems"}:                            1,
		{Caller: Caller{Function: "B", Via: "ctx"}, Action: "states:SendTaskSuccess", Operation: "SFN.SendTaskSuccess"}: 1,
	}
	if got := rec.Uses(); !reflect.DeepEqual(got, wantUses) {
		t.Errorf("Uses = %v, want %v", got, wantUses)
	}
	if err := rec.Err(); !errors.Is(err, errUnknown) || !strings.Contains(err.Error(), "DynamoDB.GetItem") {
		t.Errorf("Err = %v, want the unattributable GetItem", err)
	}
}
