package devstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
)

func jsonEqual(t testing.TB, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("output %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return string(gb) == string(wb)
}

func TestStackDynamoDBThroughBridge(t *testing.T) {
	stk, _ := stacktest.Bridge(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(devstack.AWSConfig(stk.BridgeURL().String()))
	table := stacktest.UniqueName(t, "tbl")
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("create table through the bridge: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})

	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item:      map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}},
	}); err != nil {
		t.Fatalf("put item: %v", err)
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || len(got.Item) == 0 {
		t.Fatalf("get item: %v, %v", got, err)
	}
}

// echoTaskEvent is what the waitForTaskToken state passes to echo-task.
type echoTaskEvent struct {
	TaskToken string          `json:"taskToken"`
	Input     json.RawMessage `json:"input"`
}

func TestStackWaitForTaskToken(t *testing.T) {
	stk, _ := stacktest.Bridge(t)
	client := sfn.NewFromConfig(devstack.AWSConfig(stk.BridgeURL().String()))

	invoked := make(chan string, 1)
	stacktest.Function(t, "echo-task", devstack.NewHandler(func(ctx context.Context, ev echoTaskEvent) (string, error) {
		lc, _ := lambdacontext.FromContext(ctx)
		select {
		case invoked <- lc.InvokedFunctionArn:
		default: // invoked again: the first ARN is the one checked
		}
		// The token is registered before the function runs, so completing the task
		// before returning works, as on AWS.
		if _, err := client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{
			TaskToken: aws.String(ev.TaskToken),
			Output:    aws.String(string(ev.Input)),
		}); err != nil {
			return "", fmt.Errorf("send task success: %w", err)
		}
		return "sent", nil
	}))

	machine := stacktest.CreateStateMachine(t, client, `{
	  "StartAt": "Await",
	  "States": {
	    "Await": {
	      "Type": "Task",
	      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
	      "Parameters": {
	        "FunctionName": "echo-task",
	        "Payload": {"taskToken.$": "$$.Task.Token", "input.$": "$"}
	      },
	      "End": true
	    }
	  }
	}`)
	const input = `{"order": 42, "items": ["a", "b"], "nested": {"ok": true}}`
	exec := stacktest.StartExecution(t, client, machine, input)
	out := stacktest.WaitExecution(t, client, exec, 30*time.Second)
	if out.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: status %s, error %q cause %q", exec, out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	if !jsonEqual(t, aws.ToString(out.Output), input) {
		t.Errorf("output %s, want the input %s", aws.ToString(out.Output), input)
	}
	select {
	case got := <-invoked:
		if got != "arn:aws:lambda:us-east-1:123456789012:function:echo-task" {
			t.Errorf("InvokedFunctionArn %q", got)
		}
	default:
		t.Error("the execution succeeded, but echo-task was never invoked")
	}
}

func TestStackLambdaErrorCatch(t *testing.T) {
	stk, _ := stacktest.Bridge(t)
	client := sfn.NewFromConfig(devstack.AWSConfig(stk.BridgeURL().String()))
	stacktest.Function(t, "conflict-task", devstack.NewHandler(func(ctx context.Context, in json.RawMessage) (string, error) {
		return "", &HookConflictError{Execution: "exec-other"}
	}))

	for _, tc := range []struct {
		name         string
		functionName string
	}{
		{"plain name", "conflict-task"},
		// botocore escapes the ARN's colons in the Invoke path.
		{"full ARN", "arn:aws:lambda:us-east-1:123456789012:function:conflict-task"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			machine := stacktest.CreateStateMachine(t, client, fmt.Sprintf(`{
			  "StartAt": "Create",
			  "States": {
			    "Create": {
			      "Type": "Task",
			      "Resource": "arn:aws:states:::lambda:invoke",
			      "Parameters": {"FunctionName": %q, "Payload.$": "$"},
			      "Catch": [{"ErrorEquals": ["HookConflictError"], "ResultPath": "$.error", "Next": "Conflict"}],
			      "Next": "Created"
			    },
			    "Created": {"Type": "Pass", "Result": "created", "ResultPath": "$.path", "End": true},
			    "Conflict": {"Type": "Pass", "Result": "caught", "ResultPath": "$.path", "End": true}
			  }
			}`, tc.functionName))
			exec := stacktest.StartExecution(t, client, machine, `{"token": "approval-42"}`)
			out := stacktest.WaitExecution(t, client, exec, 30*time.Second)
			if out.Status != sfntypes.ExecutionStatusSucceeded {
				t.Fatalf("status %s, error %q cause %q", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
			}
			var got struct {
				Token string `json:"token"`
				Path  string `json:"path"`
				Error struct {
					Error string `json:"Error"`
					Cause string `json:"Cause"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &got); err != nil {
				t.Fatal(err)
			}
			if got.Path != "caught" || got.Error.Error != "HookConflictError" || got.Token != "approval-42" {
				t.Errorf("output %s: want the Catch path with Error HookConflictError", aws.ToString(out.Output))
			}
			var cause struct{ ErrorType, ErrorMessage string }
			if err := json.Unmarshal([]byte(got.Error.Cause), &cause); err != nil || cause.ErrorMessage != "hook held by exec-other" {
				t.Errorf("Cause %q (%v): want the Lambda error body", got.Error.Cause, err)
			}
		})
	}
}
